// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Pin/state dir resolution, the pin directory lock, opening and checking the pinned maps,
// argument parsing with exit codes, and saving the pbxwallctl state with rollback.
#include "common.hpp"

#include "btf_layout.hpp"
#include "config.hpp"
#include "names.hpp"
#include "pbxwall.skel.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <system_error>
#include <thread>

namespace pbxwall::ctl {

namespace {

constexpr auto kLockWait = std::chrono::seconds(60);
constexpr auto kLockPoll = std::chrono::milliseconds(100);

std::string zoneChoices()
{
    std::string out;
    for (unsigned z = PW_ZONE_NONE + 1; z < PW_ZONE__COUNT; ++z)
        out += (out.empty() ? "" : ", ") + std::string(zoneName(z));
    return out;
}

[[noreturn]] void missingPinDir(const std::string& dir)
{
    failure("pin dir " + dir + " does not exist: is pbxwalld running with pin_dir = " + dir + "?");
}

bool isPermission(int err) { return err == EACCES || err == EPERM; }

// Key and value sizes this binary was built for, and the entry count of fixed-size arrays
// (0: set by the config). A mismatch means pbxwalld and pbxwallctl come from different
// versions; reading such a map would overrun our buffers, so we stop.
struct Layout {
    int fd;
    const char* name;
    __u32 keySize;
    __u32 valueSize;
    __u32 entries;
};

void checkLayouts(const MapSet& m)
{
    const Layout layouts[] = {
        {m.gen.fd(), PW_MAP_NAME_GEN, sizeof(__u32), sizeof(pw_gen_state), 1},
        {m.policy.fd(), PW_MAP_NAME_POLICY, sizeof(__u32), sizeof(pw_policy), PW_GENERATIONS},
        {m.ports.fd(), PW_MAP_NAME_PORTS, sizeof(__u32), sizeof(pw_port), PW_PORTS_ENTRIES},
        {m.ifaces.fd(), PW_MAP_NAME_IFACES, sizeof(__u32), sizeof(pw_zone_entry), PW_GENERATIONS * PW_IFINDEX_LIMIT},
        {m.hosts4.fd(), PW_MAP_NAME_HOSTS4, sizeof(__u32), sizeof(pw_host4_bucket), 0},
        {m.hostbits4.fd(), PW_MAP_NAME_HOSTBITS4, sizeof(__u32), sizeof(__u64), 0},
        {m.hosts6.fd(), PW_MAP_NAME_HOSTS6, sizeof(__u32), sizeof(pw_host6_bucket), 0},
        {m.nets4.fd(), PW_MAP_NAME_NETS4, sizeof(__u32), sizeof(pw_net4_block), 0},
        {m.bans.bitsFd(), PW_MAP_NAME_BANBITS, sizeof(__u32), sizeof(__u64), 0},
        {m.bans.cacheFd(), PW_MAP_NAME_BANCACHE, sizeof(__u32), sizeof(pw_bancache_bucket), 0},
        {m.src4.fd(), PW_MAP_NAME_SRC4, sizeof(__u32), sizeof(__u64), 2 * PW_SRC4_WORDS},
        {m.nets.fd(), PW_MAP_NAME_NETS, sizeof(pw_net_key), sizeof(pw_zone_entry), 0},
        {m.bans.fd(), PW_MAP_NAME_BANS, sizeof(pw_ban_key), sizeof(pw_ban), 0},
        {m.flows.fd(), PW_MAP_NAME_FLOWS, sizeof(pw_flow_key), sizeof(pw_flow), 0},
        {m.frags.fd(), PW_MAP_NAME_FRAGS, sizeof(pw_frag_key), sizeof(pw_frag), 0},
        {m.statsFd, PW_MAP_NAME_STATS, sizeof(__u32), sizeof(pw_counter), PW_STATS_ENTRIES},
        {m.known.fd(), PW_MAP_NAME_KNOWN, sizeof(pw_ban_key), sizeof(pw_known), 0},
        {m.known.bitsFd(), PW_MAP_NAME_KNOWNBITS, sizeof(__u32), sizeof(__u64), 0},
        {m.rate.fd(), PW_MAP_NAME_RATE, sizeof(__u32), sizeof(pw_rate), 0},
        {m.fails.fd(), PW_MAP_NAME_FAILS, sizeof(pw_ban_key), sizeof(pw_fail), 0},
        {m.newsrcFd, PW_MAP_NAME_NEWSRC, sizeof(__u32), sizeof(pw_newsrc), 1},
    };
    for (const auto& l : layouts) {
        bpf_map_info info{};
        __u32 len = sizeof(info);
        if (bpf_obj_get_info_by_fd(l.fd, &info, &len) != 0)
            throwErrno(errno, std::string("inspect ") + l.name);
        if (info.key_size != l.keySize || info.value_size != l.valueSize || (l.entries && info.max_entries != l.entries))
            failure(std::string("pinned map ") + l.name + " has key/value sizes " + std::to_string(info.key_size) + "/" +
                    std::to_string(info.value_size) + " and " + std::to_string(info.max_entries) +
                    " entries, this pbxwallctl expects " + std::to_string(l.keySize) + "/" +
                    std::to_string(l.valueSize) + ": pbxwallctl and pbxwalld come from different versions");
    }

    // The same sizes can still hold another layout (fields that swapped places or changed
    // meaning): compare each map's key and value types, as this build's object has them.
    std::unique_ptr<pbxwall_bpf, void (*)(pbxwall_bpf*)> skel(pbxwall_bpf::open(), pbxwall_bpf::destroy);
    if (!skel)
        return; // cannot happen short of memory: the size checks above still hold
    for (const auto& l : layouts) {
        const bpf_map* ours = bpf_object__find_map_by_name(skel->obj, l.name);
        if (!ours)
            continue;
        if (std::string d = pinnedLayoutDifference(l.fd, skel->obj, ours); !d.empty())
            failure(std::string("pinned map ") + l.name + " has another layout than this pbxwallctl's (" + d +
                    "): pbxwallctl and pbxwalld come from different versions");
    }
}

} // namespace

void usageError(const std::string& message) { throw CtlError(kExitUsage, message); }

void failure(const std::string& message) { throw CtlError(kExitFailure, message); }

void permissionDenied()
{
    failure("permission denied: pbxwall's maps and state are root-only (run as root)");
}

Cidr parseCidrArg(const std::string& command, const std::string& text)
{
    try {
        return parseCidr(text);
    } catch (const std::invalid_argument& e) {
        usageError(command + ": " + e.what());
    }
}

Addr parseAddrArg(const std::string& command, const std::string& text)
{
    try {
        return parseAddr(text);
    } catch (const std::invalid_argument& e) {
        usageError(command + ": " + e.what());
    }
}

pw_zone parseZoneArg(const std::string& command, const std::string& text)
{
    if (auto z = zoneFromName(text))
        return *z;
    usageError(command + ": unknown zone \"" + text + "\" (zones: " + zoneChoices() + ")");
}

void Context::resolveDirs()
{
    if (resolved_)
        return;
    resolved_ = true;
    pinDir_ = opt.pinDir;
    stateDir_ = opt.stateDir;
    const bool explicitConfig = !opt.configPath.empty();
    // A --config given is checked even when both directories are given too (docs/cli.md).
    if (!pinDir_.empty() && !stateDir_.empty() && !explicitConfig)
        return;

    const std::string path = explicitConfig ? opt.configPath : kDefaultConfig;
    struct stat st{};
    if (explicitConfig || ::stat(path.c_str(), &st) == 0) {
        auto r = config::loadFile(path, config::LoadOptions{false});
        if (r.ok()) {
            configUsed_ = path;
            if (pinDir_.empty())
                pinDir_ = r.config->pinDir;
            if (stateDir_.empty())
                stateDir_ = r.config->stateDir;
        } else {
            std::string message = path + ": has errors";
            for (const auto& d : r.diagnostics) {
                if (d.warning)
                    continue;
                message = d.file;
                if (d.line)
                    message += ":" + std::to_string(d.line) + (d.column ? ":" + std::to_string(d.column) : "");
                message += ": " + d.message;
                break;
            }
            if (explicitConfig)
                usageError(message);
            // Reads go on with the defaults (pbxwallctl stays usable while the file is being
            // edited); a change is refused (lockExclusive), as it could land in a state_dir
            // that the file names elsewhere and be lost at the next reload.
            brokenDefault_ = message;
        }
    }
    if (pinDir_.empty())
        pinDir_ = PW_PIN_DIR;
    if (stateDir_.empty())
        stateDir_ = PW_STATE_DIR;
}

const std::string& Context::pinDir()
{
    resolveDirs();
    return pinDir_;
}

const std::string& Context::stateDir()
{
    resolveDirs();
    return stateDir_;
}

std::optional<std::string> Context::configUsed()
{
    resolveDirs();
    return configUsed_;
}

void Context::checkPinDir()
{
    const std::string& dir = pinDir();
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno == ENOENT)
            missingPinDir(dir);
        if (isPermission(errno))
            permissionDenied();
        throwErrno(errno, "pin dir " + dir);
    }
    if (!S_ISDIR(st.st_mode))
        failure("pin dir " + dir + " is not a directory");
}

void Context::lock(int how)
{
    if (lockFd_ && (lockHow_ == LOCK_EX || lockHow_ == how))
        return;
    checkPinDir();
    if (!lockFd_) {
        lockFd_ = UniqueFd(::open(pinDir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!lockFd_) {
            if (isPermission(errno))
                permissionDenied();
            if (errno == ENOENT)
                missingPinDir(pinDir());
            throwErrno(errno, "open pin dir " + pinDir());
        }
    }
    // Bounded wait: a hung holder must not hang the operator's shell forever.
    const auto deadline = std::chrono::steady_clock::now() + kLockWait;
    bool told = false;
    while (::flock(lockFd_.get(), how | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            throwErrno(errno, "lock pin dir " + pinDir());
        if (!told) {
            note("waiting for the lock on " + pinDir() + " (pbxwalld is reloading, or another pbxwallctl is running)");
            told = true;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            failure("lock pin dir " + pinDir() + ": still held by another process after " +
                    std::to_string(kLockWait.count()) + " s");
        std::this_thread::sleep_for(kLockPoll);
    }
    lockHow_ = how;
}

void Context::lockExclusive()
{
    resolveDirs();
    if (!brokenDefault_.empty())
        failure("refusing to change anything: " + brokenDefault_ +
                " (pbxwallctl takes pin_dir and state_dir from that file; fix it, or give --config, or --pin-dir "
                "and --state-dir)");
    lock(LOCK_EX);
    // From the first map write to the saved state, a change must not stop halfway: Ctrl-C, a
    // closed SSH session or a timeout would leave the maps changed and the state file not,
    // and the change would vanish (or a deleted entry come back) at the next reload. Those
    // signals are held until the command has ended (and then end nothing: it has).
    sigset_t hold;
    sigemptyset(&hold);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        sigaddset(&hold, s);
    sigprocmask(SIG_BLOCK, &hold, nullptr);
}

void Context::lockShared() { lock(LOCK_SH); }

MapSet& Context::maps()
{
    if (maps_)
        return *maps_;
    checkPinDir();
    for (const auto& name : pinnedMapNames()) {
        const std::string path = pinDir() + "/" + name;
        struct stat st{};
        if (::stat(path.c_str(), &st) != 0) {
            if (isPermission(errno))
                permissionDenied();
            if (errno == ENOENT)
                failure("pin dir " + pinDir() + " has no " + name + " map: is pbxwalld running with pin_dir = " +
                        pinDir() + "?");
            throwErrno(errno, "open " + path);
        }
    }
    try {
        maps_ = std::make_unique<MapSet>(MapSet::openPinned(pinDir()));
    } catch (const std::system_error& e) {
        if (isPermission(e.code().value()))
            permissionDenied();
        throw;
    }
    checkLayouts(*maps_);
    return *maps_;
}

PolicyStore& Context::policy()
{
    if (!policy_)
        policy_ = std::make_unique<PolicyStore>(maps());
    return *policy_;
}

CtlState& Context::state()
{
    if (!state_) {
        try {
            state_ = std::make_unique<CtlState>(CtlState::load(stateDir()));
        } catch (const std::system_error& e) {
            if (isPermission(e.code().value()))
                permissionDenied();
            throw;
        } catch (const std::exception& e) {
            failure(std::string("pbxwallctl state is broken: ") + e.what());
        }
    }
    return *state_;
}

namespace {

// Fails with message, after undo (best effort), saying whether the maps were put back.
[[noreturn]] void failUndone(std::string message, const std::function<void()>& undo)
{
    try {
        undo();
        message += "; the maps were left unchanged";
    } catch (const std::exception& u) {
        message += std::string("; undoing the map change failed too: ") + u.what();
    }
    failure(message);
}

} // namespace

void Context::commit(const std::function<void()>& rollback)
{
    try {
        state().save(stateDir());
    } catch (const std::exception& e) {
        std::string message = std::string("save state in ") + stateDir() + ": " + e.what();
        if (auto* se = dynamic_cast<const std::system_error*>(&e); se && isPermission(se->code().value()))
            message = std::string("save state: ") + e.what() + " (pbxwall's state is root-only: run as root)";
        failUndone(message, rollback);
    }
    committed_ = true;
}

void undoIfThrows(const std::function<void()>& step, const std::function<void()>& undo)
{
    try {
        step();
    } catch (const std::exception& e) {
        failUndone(e.what(), undo);
    }
}

void Context::note(const std::string& message) const
{
    if (!json())
        std::cerr << "pbxwallctl: note: " << message << '\n';
}

std::string ruleOf(Context& ctx, const Addr& a)
{
    const auto r = ctx.policy().rule(a);
    if (!r)
        return "no rule found";
    const std::string by = (r->second.origin & PW_ORIGIN_CTL) ? "pbxwallctl" : "the config file";
    return r->first.str() + ", set by " + by;
}

unsigned banPrefix6(Context& ctx)
{
    MapSet& maps = ctx.maps();
    const auto pol = maps.policy.lookup(maps.activeGen());
    return pol && pol->v6_prefix ? pol->v6_prefix : 128;
}

} // namespace pbxwall::ctl
