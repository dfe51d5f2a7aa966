// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// bpffs, pins, map creation/adoption and XDP/TC attachment for pbxwalld.
#include "dataplane.hpp"

#include "ban_state.hpp"
#include "ban_table.hpp"
#include "btf_layout.hpp"
#include "known_table.hpp"

#include "pbxwall.skel.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <xdp/libxdp.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace pbxwall::loader {

namespace {

// pbxwall's TC egress filter: fixed handle and priority, so a restart replaces it in place.
constexpr __u32 kTcHandle = 0x5057;
constexpr __u32 kTcPriority = 0x5057;
constexpr const char* kBpffs = "/sys/fs/bpf";

std::string trimmed(const char* fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

// Set while libxdp probes for its dispatcher and while empty TC hooks are queried: the
// failures libbpf reports then are expected and handled, so they are debug messages.
thread_local bool gExpectFailures = false;

class ExpectFailures {
public:
    ExpectFailures() { gExpectFailures = true; }
    ~ExpectFailures() { gExpectFailures = false; }
};

int libbpfLog(enum libbpf_print_level level, const char* fmt, va_list ap)
{
    std::string msg = trimmed(fmt, ap);
    if (gExpectFailures && level == LIBBPF_WARN)
        level = LIBBPF_INFO;
    switch (level) {
    case LIBBPF_WARN: spdlog::warn("libbpf: {}", msg); break;
    case LIBBPF_INFO: spdlog::debug("libbpf: {}", msg); break;
    default: spdlog::trace("libbpf: {}", msg); break;
    }
    return 0;
}

int libxdpLog(enum libxdp_print_level level, const char* fmt, va_list ap)
{
    std::string msg = trimmed(fmt, ap);
    switch (level) {
    case LIBXDP_WARN: spdlog::info("libxdp: {}", msg); break;
    case LIBXDP_INFO: spdlog::debug("libxdp: {}", msg); break;
    default: spdlog::trace("libxdp: {}", msg); break;
    }
    return 0;
}

void mkdirs(const std::string& path)
{
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec)
        throw std::system_error(ec, "create " + path);
    if (::chmod(path.c_str(), 0700) != 0)
        throwErrno(errno, "chmod 0700 " + path);
}

// The map ids a program uses.
std::vector<unsigned> progMapIds(int progFd)
{
    // As many ids as the program uses: the kernel reports the count when asked for none.
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(progFd, &info, &len) != 0)
        return {};
    std::vector<__u32> ids(info.nr_map_ids);
    if (ids.empty())
        return {};
    bpf_prog_info again{};
    len = sizeof(again);
    again.nr_map_ids = static_cast<__u32>(ids.size());
    again.map_ids = reinterpret_cast<__u64>(ids.data());
    if (bpf_obj_get_info_by_fd(progFd, &again, &len) != 0)
        return {};
    return {ids.begin(), ids.begin() + std::min<size_t>(again.nr_map_ids, ids.size())};
}

bool usesMap(int progFd, unsigned mapId)
{
    auto ids = progMapIds(progFd);
    return mapId && std::find(ids.begin(), ids.end(), mapId) != ids.end();
}

struct Found {
    XdpProgramPtr prog;
    xdp_attach_mode mode = XDP_MODE_UNSPEC;
};

// pbxwall's XDP program on ifindex, recognised by name and by using our pinned pw_gen. With
// other given, the id of a program of that name that uses another pw_gen (a pbxwalld of
// another pin_dir attached it) is stored there, 0 when there is none.
std::optional<Found> findOurXdp(unsigned ifindex, unsigned genMapId, unsigned* other = nullptr)
{
    if (other)
        *other = 0;
    xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(static_cast<int>(ifindex));
    if (!mp || libxdp_get_error(mp))
        return std::nullopt;
    std::vector<xdp_program*> candidates;
    if (xdp_multiprog__is_legacy(mp)) {
        if (auto* p = xdp_multiprog__main_prog(mp))
            candidates.push_back(p);
    } else {
        for (auto* p = xdp_multiprog__next_prog(nullptr, mp); p; p = xdp_multiprog__next_prog(p, mp))
            candidates.push_back(p);
    }
    std::optional<Found> found;
    for (auto* p : candidates) {
        if (std::strcmp(xdp_program__name(p), PW_PROG_NAME_XDP) != 0)
            continue;
        if (usesMap(xdp_program__fd(p), genMapId)) {
            found = Found{XdpProgramPtr(xdp_program__clone(p, 0)), xdp_multiprog__attach_mode(mp)};
            break;
        }
        if (other)
            *other = xdp_program__id(p);
    }
    xdp_multiprog__close(mp);
    if (found && (!found->prog || libxdp_get_error(found->prog.get())))
        return std::nullopt;
    return found;
}

bpf_tc_hook egressHook(unsigned ifindex)
{
    bpf_tc_hook hook{};
    hook.sz = sizeof(hook);
    hook.ifindex = static_cast<int>(ifindex);
    hook.attach_point = BPF_TC_EGRESS;
    return hook;
}

bpf_tc_opts tcOpts(int progFd)
{
    bpf_tc_opts o{};
    o.sz = sizeof(o);
    o.prog_fd = progFd;
    o.handle = kTcHandle;
    o.priority = kTcPriority;
    return o;
}

// The id of the program in pbxwall's egress filter slot, 0 when the slot is empty.
unsigned tcEgressProgId(unsigned ifindex)
{
    auto hook = egressHook(ifindex);
    auto q = tcOpts(0);
    ExpectFailures quiet;
    if (bpf_tc_query(&hook, &q) != 0)
        return 0;
    return q.prog_id;
}

bool tcProgUsesMap(unsigned progId, unsigned mapId)
{
    if (!progId)
        return false;
    UniqueFd fd(bpf_prog_get_fd_by_id(progId));
    return fd && usesMap(fd.get(), mapId);
}

void sizeMaps(::pbxwall_bpf* skel, const config::Limits& l)
{
    bpf_map__set_max_entries(skel->maps.pw_hosts4, 2 * pw_host_buckets(l.hosts, PW_HOST4_SLOTS));
    bpf_map__set_max_entries(skel->maps.pw_hostbits4, 2 * 2 * pw_host_buckets(l.hosts, PW_HOST4_SLOTS));
    bpf_map__set_max_entries(skel->maps.pw_hosts6, 2 * pw_host_buckets(l.hosts6, PW_HOST6_SLOTS));
    bpf_map__set_max_entries(skel->maps.pw_nets, 2 * l.nets);
    bpf_map__set_max_entries(skel->maps.pw_nets4, 2 * (PW_NET4_TOP / 16 + pw_net4_chunks(l.nets)));
    bpf_map__set_max_entries(skel->maps.pw_bans, l.bans);
    bpf_map__set_max_entries(skel->maps.pw_banbits, 2 * pw_banbit_words(l.bans));
    bpf_map__set_max_entries(skel->maps.pw_bancache, 2 * pw_bancache_buckets(l.bans));
    bpf_map__set_max_entries(skel->maps.pw_flows, l.flows);
    bpf_map__set_max_entries(skel->maps.pw_frags, l.frags);
    bpf_map__set_max_entries(skel->maps.pw_known, l.known);
    bpf_map__set_max_entries(skel->maps.pw_knownbits, 2 * pw_banbit_words(l.known));
    bpf_map__set_max_entries(skel->maps.pw_rate, pw_rate_entries(pw_rate_slots(l.rate)));
    bpf_map__set_max_entries(skel->maps.pw_fails, l.fails);
}

// A pinned map from an earlier run must have the layout and the sizes this build and the
// config ask for; libbpf would only say "parameter mismatch", so say which map differs and
// what to do.
void checkPinnedSizes(::pbxwall_bpf* skel, const std::string& pinDir, const config::Limits& l)
{
    bpf_map* m;
    bpf_object__for_each_map(m, skel->obj)
    {
        if (!bpf_map__pin_path(m))
            continue; // not pinned: made afresh by every load
        UniqueFd fd(bpf_obj_get(bpf_map__pin_path(m)));
        if (!fd)
            continue;
        bpf_map_info info{};
        __u32 len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
            continue; // libbpf's own check reports it
        if (info.type != bpf_map__type(m) || info.key_size != bpf_map__key_size(m) ||
            info.value_size != bpf_map__value_size(m))
            throw std::runtime_error(std::string("pinned map ") + bpf_map__pin_path(m) + " has keys of " +
                                     std::to_string(info.key_size) + " and values of " +
                                     std::to_string(info.value_size) + " bytes, but this pbxwalld needs " +
                                     std::to_string(bpf_map__key_size(m)) + " and " +
                                     std::to_string(bpf_map__value_size(m)) +
                                     " (another pbxwall build made it): run pbxwalld --detach first (this drops the "
                                     "counters and flow state; ctl changes are replayed from state_dir)");
        if (std::string d = pinnedLayoutDifference(fd.get(), skel->obj, m); !d.empty())
            throw std::runtime_error(std::string("pinned map ") + bpf_map__pin_path(m) +
                                     " has another layout than this pbxwalld's (" + d +
                                     "): another pbxwall build made it; run pbxwalld --detach first (this drops the "
                                     "counters and flow state; ctl changes are replayed from state_dir)");
    }

    // Each map sized by [limits] (sizeMaps), with the setting that sizes it.
    const std::pair<bpf_map*, std::string> sized[] = {
        {skel->maps.pw_hosts4, "hosts = " + std::to_string(l.hosts)},
        {skel->maps.pw_hostbits4, "hosts = " + std::to_string(l.hosts)},
        {skel->maps.pw_hosts6, "hosts6 = " + std::to_string(l.hosts6)},
        {skel->maps.pw_nets, "nets = " + std::to_string(l.nets)},
        {skel->maps.pw_nets4, "nets = " + std::to_string(l.nets)},
        {skel->maps.pw_bans, "bans = " + std::to_string(l.bans)},
        {skel->maps.pw_banbits, "bans = " + std::to_string(l.bans)},
        {skel->maps.pw_bancache, "bans = " + std::to_string(l.bans)},
        {skel->maps.pw_known, "known = " + std::to_string(l.known)},
        {skel->maps.pw_knownbits, "known = " + std::to_string(l.known)},
        {skel->maps.pw_flows, "flows = " + std::to_string(l.flows)},
        {skel->maps.pw_frags, "frags = " + std::to_string(l.frags)},
        {skel->maps.pw_rate, "rate = " + std::to_string(l.rate)},
        {skel->maps.pw_fails, "fails = " + std::to_string(l.fails)},
    };
    for (const auto& [m, setting] : sized) {
        std::string path = pinDir + "/" + bpf_map__name(m);
        UniqueFd fd(bpf_obj_get(path.c_str()));
        if (!fd)
            continue;
        bpf_map_info info{};
        __u32 len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 && info.max_entries != bpf_map__max_entries(m))
            throw std::runtime_error("pinned map " + path + " has " + std::to_string(info.max_entries) +
                                     " entries but [limits] " + setting + " makes it " +
                                     std::to_string(bpf_map__max_entries(m)) +
                                     ": restore the old limit, or run pbxwalld --detach first (this drops the "
                                     "counters and flow state; ctl changes are replayed from state_dir)");
    }
}

SkelPtr openSkeleton(const config::Config& cfg)
{
    LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = cfg.pinDir.c_str());
    SkelPtr skel(::pbxwall_bpf::open(&oo));
    if (!skel)
        throwErrno(errno, "open the pbxwall BPF object");
    sizeMaps(skel.get(), cfg.limits);
    checkPinnedSizes(skel.get(), cfg.pinDir, cfg.limits);
    return skel;
}

const char* modeName(xdp_attach_mode m)
{
    switch (m) {
    case XDP_MODE_NATIVE: return "native";
    case XDP_MODE_SKB: return "generic";
    case XDP_MODE_HW: return "offload";
    default: return "unknown";
    }
}

std::string xdpError(int err)
{
    char buf[256];
    libxdp_strerror(err, buf, sizeof(buf));
    return buf;
}

} // namespace

void SkelDeleter::operator()(::pbxwall_bpf* s) const noexcept { ::pbxwall_bpf::destroy(s); }
void XdpProgramDeleter::operator()(xdp_program* p) const noexcept { xdp_program__close(p); }

void routeLibraryLogs()
{
    libbpf_set_print(libbpfLog);
    libxdp_set_print(libxdpLog);
}

void preparePinDir(const std::string& pinDir)
{
    struct statfs fs{};
    if (::statfs(kBpffs, &fs) != 0 || fs.f_type != BPF_FS_MAGIC) {
        ::mkdir(kBpffs, 0700);
        if (::mount("bpf", kBpffs, "bpf", 0, "mode=0700") != 0)
            throwErrno(errno, std::string("mount bpffs on ") + kBpffs);
        spdlog::info("mounted bpffs on {}", kBpffs);
    }
    mkdirs(pinDir);
}

PinLock::PinLock(const std::string& pinDir) : fd_(::open(pinDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC))
{
    if (!fd_)
        throwErrno(errno, "open " + pinDir);
    if (::flock(fd_.get(), LOCK_EX) != 0)
        throwErrno(errno, "lock " + pinDir);
}

Maps Maps::open(const config::Config& cfg)
{
    Maps m;
    m.skel_ = openSkeleton(cfg);
    // Maps only; the SIP stage is loaded too, because libbpf fills the pinned pw_stages with it
    // as the object loads (with the same code, and pw_handoff shared through its pin).
    bpf_program__set_autoload(m.skel_->progs.pw_xdp_main, false);
    bpf_program__set_autoload(m.skel_->progs.pw_tc_egress, false);
    if (int err = ::pbxwall_bpf::load(m.skel_.get()))
        throwErrno(err, "create or adopt the maps pinned in " + cfg.pinDir);
    m.set_ = MapSet::fromObject(m.skel_->obj);
    return m;
}

Attacher::Attacher(const config::Config& cfg) : cfg_(cfg), genMapId_(pinnedMapId(cfg.pinDir, PW_MAP_NAME_GEN))
{
    if (!genMapId_)
        throw std::runtime_error("maps are not pinned in " + cfg.pinDir);
}

Attacher::~Attacher() = default;

void Attacher::loadPrograms()
{
    if (skel_)
        return;
    // libxdp loads the object on the first attach (as a dispatcher component where the kernel
    // allows freplace, else as a plain XDP program); the TC program is loaded with it.
    skel_ = openSkeleton(cfg_);
    DECLARE_LIBXDP_OPTS(xdp_program_opts, xo, .obj = skel_->obj, .prog_name = PW_PROG_NAME_XDP);
    program_.reset(xdp_program__create(&xo));
    if (int err = libxdp_get_error(program_.get())) {
        program_.release();
        throw std::runtime_error("prepare the XDP program: " + xdpError(err));
    }
}

Attachment Attacher::attach(const config::Interface& iface)
{
    Attachment a;
    a.ifname = iface.name;
    a.ifindex = if_nametoindex(iface.name.c_str());
    if (!a.ifindex)
        throw std::runtime_error("interface " + iface.name + " does not exist");
    // The config check refuses these; a device that appeared later (the link watch) was not
    // checked then.
    if (std::string why = config::interfaceRefusal(iface.name); !why.empty())
        throw std::runtime_error(why);

    unsigned other = 0;
    auto found = findOurXdp(a.ifindex, genMapId_, &other);
    if (!found && other)
        // Another pbxwalld's program (another pin_dir, or pins deleted under it) would go on
        // judging with its own maps beside ours, or block our attach.
        throw std::runtime_error("the pbxwall XDP program of another pin_dir (program id " + std::to_string(other) +
                                 ") is attached to " + iface.name +
                                 ": run pbxwalld --detach with the config that attached it (or, if its pins are "
                                 "gone, xdp-loader unload " + iface.name + " --all), then start again");
    if (found) {
        a.adopted = true;
        a.mode = modeName(found->mode);
        const bool wantNative = iface.mode == config::XdpMode::Native;
        const bool wantGeneric = iface.mode == config::XdpMode::Generic;
        if ((wantNative && found->mode != XDP_MODE_NATIVE) || (wantGeneric && found->mode != XDP_MODE_SKB))
            spdlog::warn("{}: the attached program runs in {} mode but xdp_mode is {}: kept as is; run pbxwalld "
                         "--detach and start again to change the mode",
                         iface.name, a.mode, config::xdpModeName(iface.mode));
        a.progId = xdp_program__id(found->prog.get());
    } else {
        loadPrograms();
        std::vector<xdp_attach_mode> modes;
        if (iface.mode != config::XdpMode::Generic)
            modes.push_back(XDP_MODE_NATIVE);
        if (iface.mode != config::XdpMode::Native)
            modes.push_back(XDP_MODE_SKB);
        int err = 0;
        for (auto mode : modes) {
            {
                ExpectFailures quiet;
                err = xdp_program__attach(program_.get(), static_cast<int>(a.ifindex), mode, 0);
            }
            if (err == 0) {
                a.mode = modeName(mode);
                break;
            }
            if (mode == XDP_MODE_NATIVE && modes.size() > 1)
                spdlog::warn("{}: native XDP failed ({}), trying generic XDP (slower)", iface.name, xdpError(err));
        }
        if (err)
            throw std::runtime_error("attach XDP to " + iface.name + ": " + xdpError(err));
        a.progId = xdp_program__id(program_.get());
    }

    // TC egress: keep ours if it is there, else (re)place it.
    unsigned tcId = tcEgressProgId(a.ifindex);
    if (!tcProgUsesMap(tcId, genMapId_)) {
        loadPrograms();
        int tcFd = bpf_program__fd(skel_->progs.pw_tc_egress);
        if (tcFd < 0) {
            // Every XDP attachment so far was adopted: libxdp has not loaded skel_, and a later
            // interface's fresh attach needs it unloaded (libxdp sets its attach target before
            // loading it). The TC program comes from an object of its own.
            if (!tcSkel_) {
                tcSkel_ = openSkeleton(cfg_);
                bpf_program__set_autoload(tcSkel_->progs.pw_xdp_main, false);
                if (int err = ::pbxwall_bpf::load(tcSkel_.get()))
                    throwErrno(err, "load the TC egress program");
            }
            tcFd = bpf_program__fd(tcSkel_->progs.pw_tc_egress);
        }
        auto hook = egressHook(a.ifindex);
        int err;
        {
            ExpectFailures quiet; // "exclusivity flag on" when the qdisc exists
            err = bpf_tc_hook_create(&hook);
        }
        if (err && err != -EEXIST)
            throwErrno(err, "create the clsact qdisc on " + iface.name);
        auto o = tcOpts(tcFd);
        o.flags = BPF_TC_F_REPLACE;
        if ((err = bpf_tc_attach(&hook, &o)))
            throwErrno(err, "attach TC egress to " + iface.name);
    }
    return a;
}

namespace {

// Does the program's BTF name pw_gen_state.host_shrink (btfReadsHostShrink)? False when the
// program has no BTF.
bool programReadsHostShrink(int progFd)
{
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(progFd, &info, &len) != 0 || !info.btf_id)
        return false;
    std::unique_ptr<btf, void (*)(btf*)> b(btf__load_from_kernel_by_id(info.btf_id), btf__free);
    return b && !libbpf_get_error(b.get()) && btfReadsHostShrink(b.get());
}

} // namespace

std::vector<std::string> olderProgramsUsingMaps(const std::string& pinDir)
{
    std::vector<std::string> out;
    const unsigned genMapId = pinnedMapId(pinDir, PW_MAP_NAME_GEN);
    if (!genMapId)
        return out;
    __u32 id = 0;
    for (;;) {
        if (bpf_prog_get_next_id(id, &id) != 0) {
            // Not being able to list the programs is no proof that none is older.
            if (errno != ENOENT)
                out.push_back(std::string("the loaded programs (they cannot be listed: ") + strerror(errno) + ")");
            break;
        }
        UniqueFd fd(bpf_prog_get_fd_by_id(id));
        if (!fd) {
            if (errno != ENOENT) // gone meanwhile is fine; unreadable is not
                out.push_back("program " + std::to_string(id) + " (cannot be read: " + strerror(errno) + ")");
            continue;
        }
        if (!usesMap(fd.get(), genMapId) || programReadsHostShrink(fd.get()))
            continue;
        bpf_prog_info info{};
        __u32 len = sizeof(info);
        bpf_obj_get_info_by_fd(fd.get(), &info, &len);
        out.push_back("program " + std::to_string(id) + " (" + info.name + ")");
    }
    return out;
}

unsigned pinnedMapId(const std::string& pinDir, const std::string& name)
{
    std::string path = pinDir + "/" + name;
    UniqueFd fd(bpf_obj_get(path.c_str()));
    if (!fd)
        return 0;
    bpf_map_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
        return 0;
    return info.id;
}

bool xdpAttached(unsigned ifindex, unsigned genMapId) { return findOurXdp(ifindex, genMapId).has_value(); }

bool detachInterface(unsigned ifindex, unsigned genMapId, bool* failed)
{
    bool any = false;
    char name[IF_NAMESIZE] = "?";
    if_indextoname(ifindex, name);
    if (auto found = findOurXdp(ifindex, genMapId)) {
        int err = xdp_program__detach(found->prog.get(), static_cast<int>(ifindex), found->mode, 0);
        if (err) {
            spdlog::error("{}: detach XDP: {}", name, xdpError(err));
            if (failed)
                *failed = true;
        }
        any = err == 0;
    }
    if (tcProgUsesMap(tcEgressProgId(ifindex), genMapId)) {
        auto hook = egressHook(ifindex);
        auto o = tcOpts(0);
        if (int err = bpf_tc_detach(&hook, &o)) {
            spdlog::error("{}: detach TC egress: {}", name, std::strerror(-err));
            if (failed)
                *failed = true;
        }
        any = true;
    }
    return any;
}

std::vector<std::string> detachAll(const std::string& pinDir, const std::string& stateDir)
{
    // Not under a running pbxwalld: it would go on with its maps unpinned and nothing attached,
    // and report itself active. Its instance lock tells (taken, never waited for).
    const std::string lockPath = stateDir + "/pbxwalld.lock";
    if (UniqueFd lock(::open(lockPath.c_str(), O_RDWR | O_CLOEXEC)); lock && ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
        throw std::runtime_error("a pbxwalld is running with state_dir " + stateDir +
                                 ": stop it first (systemctl stop pbxwalld), then --detach");
    std::vector<std::string> detached;
    bool failed = false;
    const unsigned genId = pinnedMapId(pinDir, PW_MAP_NAME_GEN);
    if (genId) {
        struct if_nameindex* all = ::if_nameindex();
        for (struct if_nameindex* i = all; i && i->if_index; ++i)
            if (detachInterface(i->if_index, genId, &failed))
                detached.emplace_back(i->if_name);
        if_freenameindex(all);
    }
    if (failed) // a program left attached keeps its maps: the next start adopts them
        throw std::runtime_error("not every program could be detached (see above): the pins in " + pinDir +
                                 " are kept");
    // The known sources the data plane made or refreshed since pbxwalld stopped, and the bans
    // it set meanwhile: the next start (new pins) replays what the state files hold. A failure
    // is a warning: the phones register again at their refresh, and the pins are going anyway.
    if (UniqueFd known(bpf_obj_get((pinDir + "/" PW_MAP_NAME_KNOWN).c_str())); known) {
        try {
            PinLock lock(pinDir);
            const size_t n = KnownTable(known.get(), -1).saveState(stateDir);
            spdlog::info("{} known source(s) kept in {}/known", n, stateDir);
        } catch (const std::exception& e) {
            spdlog::warn("known sources not kept: {}", e.what());
        }
    }
    if (UniqueFd bans(bpf_obj_get((pinDir + "/" PW_MAP_NAME_BANS).c_str())); bans) {
        try {
            PinLock lock(pinDir);
            if (const size_t n = keepBansInForce(BanTable(bans.get(), -1, -1), stateDir))
                spdlog::info("{} ban(s) the data plane set or lengthened since pbxwalld stopped kept in {}/bans", n, stateDir);
        } catch (const std::exception& e) {
            spdlog::error("bans the data plane set since pbxwalld stopped not kept: {}", e.what());
        }
    }
    for (const auto& name : pinnedMapNames())
        ::unlink((pinDir + "/" + name).c_str());
    ::rmdir(pinDir.c_str());
    return detached;
}

} // namespace pbxwall::loader
