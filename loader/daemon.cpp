// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The pbxwalld main loop: start-up (adopting pins and attachments), reloads, ban expiry.
#include "daemon.hpp"

#include "ban_state.hpp"
#include "dataplane.hpp"
#include "names.hpp"
#include "policy_build.hpp"
#include "state.hpp"
#include "stats.hpp"

#include <bpf/libbpf.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>
#include <utility>

namespace pbxwall::loader {

namespace {

unsigned ifindexOf(const std::string& name) { return if_nametoindex(name.c_str()); }

// Config + pbxwallctl state -> a new policy generation. Caller holds the pin lock.
void applyPolicy(MapSet& maps, const config::Config& cfg, const CtlState& state)
{
    std::vector<std::string> notes;
    SlotsHeld held; // the counter slots of the policy in force: interfaces keep theirs
    std::map<__u8, unsigned> owners;
    for (const auto& r : PolicyStore(maps).ifaces()) {
        held[r.ifindex] = r.entry.slot;
        owners[r.entry.slot] = r.ifindex;
    }
    PolicyImage img = buildPolicyImage(cfg, state, ifindexOf, &notes, &held);
    for (const auto& n : notes)
        spdlog::warn("{}", n);
    PolicyStore(maps).install(img);
    // A slot given to another interface than the one that held it starts from zero: its
    // counters were the other's (and stay so until given away: `stats` shows them as slotN).
    for (const auto& r : img.ifaces)
        if (const auto it = owners.find(r.entry.slot); r.entry.slot != 0 && (it == owners.end() || it->second != r.ifindex)) {
            try {
                clearSlotCounters(maps.statsFd, r.entry.slot);
            } catch (const std::exception& e) { // the policy is in force: not a reason to fail
                spdlog::warn("counter slot {}: the earlier interface's counts could not be cleared: {}", r.entry.slot,
                             e.what());
            }
        }
    spdlog::info("policy installed: generation {}, {} zone entries ({} from pbxwallctl), {} services, "
                 "unlisted ports {}",
                 maps.activeGen(), img.addrs.size(), state.zones.size(), cfg.services.size(),
                 cfg.unlisted == PW_UNLISTED_PASS ? "pass" : "drop");
}

// The host tables are fitted to their entries (pw_host_shrink) unless a program that predates
// that uses the maps: an earlier pbxwalld's, adopted after an upgrade, would read them whole.
// Called under the pin lock before the policy is installed (start and reload).
void checkHostShrink(MapSet& maps, const config::Config& cfg)
{
    const std::vector<std::string> older = olderProgramsUsingMaps(cfg.pinDir);
    PolicyStore(maps).allowHostShrink(older.empty());
    if (!older.empty())
        spdlog::warn("{} predate(s) this pbxwalld: the host tables stay at their full [limits] size (lookups in "
                     "a list much smaller than that cost more); run pbxwalld --detach and start it again to "
                     "load the new programs",
                     fmt::join(older, ", "));
}

// Events of the data plane (bans it set, bans it could not set), drained from pw_events.
class EventLog {
public:
    EventLog(int ringFd, MapSet& maps) : rb_(ring_buffer__new(ringFd, &EventLog::onEvent, this, nullptr)), maps_(maps)
    {
        if (!rb_)
            throwErrno(errno, "open the " PW_MAP_NAME_EVENTS " ring buffer");
    }
    ~EventLog() { ring_buffer__free(rb_); }
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    int fd() const { return ring_buffer__epoll_fd(rb_); }

    // Logs every pending event, one line each, and records new bans in state_dir so that they
    // survive a reboot like the ones pbxwallctl sets.
    void drain(const config::Config& cfg)
    {
        bans_.clear();
        ring_buffer__consume(rb_);
        if (bans_.empty())
            return;
        {
            PinLock lock(cfg.pinDir);
            // The bans as they are now, not as the events told them: events wait in the ring
            // while pbxwalld is stopped, and pbxwallctl may have lifted a ban (it then left the
            // state file too) or made it permanent meanwhile. One entry per address, and one
            // pass over the state file's bans (a flood of bans must not cost events x bans).
            std::map<Addr, CtlBan> fresh;
            for (const auto& b : bans_) {
                pw_ban_key key{};
                std::memcpy(key.addr, b.addr.bytes.data(), 16);
                if (const auto cur = maps_.bans.lookup(key))
                    fresh[b.addr] = {b.addr, monotonicNsToUnix(cur->expires_ns), monotonicNsToUnix(cur->created_ns),
                                     cur->cause, cur->prefix};
            }
            std::vector<CtlBan> bans = CtlState::loadBans(cfg.stateDir);
            std::erase_if(bans, [&](const CtlBan& old) { return fresh.contains(old.addr); });
            for (const auto& [addr, b] : fresh)
                bans.push_back(b);
            CtlState::saveBans(cfg.stateDir, bans);
        }
        cachePending_ = true;
    }

    // Puts the bans the data plane set into the ban cache (until then pw_bans answers for them):
    // at most once a second, so that a burst of bans costs one rebuild, not one each.
    void refreshCache(const config::Config& cfg)
    {
        const uint64_t now = monotonicNowNs();
        if (!cachePending_ || now - lastRefresh_ < 1000000000ULL)
            return;
        PinLock lock(cfg.pinDir);
        const size_t overflow = PolicyStore(maps_).refreshBanFilter();
        if (overflow)
            spdlog::debug("ban cache: {} bans left to the ban table (full buckets)", overflow);
        cachePending_ = false;
        lastRefresh_ = now;
    }
    bool cachePending() const { return cachePending_; }

private:
    static int onEvent(void* self, void* data, size_t size)
    {
        if (size < sizeof(pw_event))
            return 0;
        pw_event ev{};
        std::memcpy(&ev, data, sizeof(ev));
        Addr a;
        std::memcpy(a.bytes.data(), ev.addr, 16);
        const auto seconds = ev.duration_ns / 1000000000ULL;
        if (ev.type == PW_EVENT_BAN) {
            spdlog::warn("pbxwall ban: addr={} cause={} seconds={}", banText(a, ev.prefix), banCauseName(ev.cause),
                         seconds);
            const int64_t now = unixNow();
            static_cast<EventLog*>(self)->bans_.push_back(
                {a, now + static_cast<int64_t>(seconds), now, ev.cause, ev.prefix});
        } else if (ev.type == PW_EVENT_BAN_FULL) {
            spdlog::error("pbxwall ban-failed: addr={} cause={} error=\"the ban table is full: raise [limits] bans\"",
                          banText(a, ev.prefix), banCauseName(ev.cause));
        } else if (ev.type == PW_EVENT_KNOWN) {
            spdlog::info("pbxwall known: addr={} seconds={}", a.str(), seconds);
        } else if (ev.type == PW_EVENT_KNOWN_FULL) {
            spdlog::error("pbxwall known-failed: addr={} error=\"the known table is full: raise [limits] known\"",
                          a.str());
        }
        return 0;
    }

    ring_buffer* rb_;
    MapSet& maps_;
    std::vector<CtlBan> bans_;
    bool cachePending_ = false;
    uint64_t lastRefresh_ = 0;
};

// Devices (by ifindex) whose attach failed: the link watch does not try them again at every
// link change (each try applies the whole policy again); a reload does, and a device made
// again has another index.
std::set<unsigned> attachFailed;

// Attaches every interface of the config that exists and may take the program (an interface
// the config check would refuse, one that appeared later, is not), each device once (a second
// name of one, an altname, is not attached again). A failure leaves the others to be attached:
// returns the names of those that are not filtered, after an error line for each.

std::vector<std::string> attachAll(const config::Config& cfg)
{
    attachFailed.clear();
    Attacher attacher(cfg);
    std::vector<std::string> failed;
    std::map<unsigned, std::string> seen; // ifindex -> the config's first name for it
    for (const auto& iface : cfg.interfaces) {
        const unsigned ifindex = ifindexOf(iface.name);
        if (!ifindex) {
            // Attached when it appears (the link watch), or by a reload.
            spdlog::warn("{}: interface does not exist (yet): not filtered until it appears", iface.name);
            continue;
        }
        if (const auto [it, first] = seen.emplace(ifindex, iface.name); !first) {
            spdlog::error("{}: is the device listed as {} (index {}, by another of its names): judged with {}'s "
                          "zone; name each device once",
                          iface.name, it->second, ifindex, it->second);
            continue;
        }
        try {
            auto a = attacher.attach(iface);
            spdlog::info("{}: {} XDP program id {} ({} mode), TC egress in place", a.ifname,
                         a.adopted ? "adopted attached" : "attached", a.progId, a.mode);
        } catch (const std::exception& e) {
            spdlog::error("{}: not attached: {}", iface.name, e.what());
            failed.push_back(iface.name);
            attachFailed.insert(ifindex);
        }
    }
    return failed;
}

// Link changes of this network namespace (rtnetlink, RTMGRP_LINK): so that an interface the
// config names is filtered as soon as it appears (a VLAN, bond or bridge device that the network
// configuration makes after pbxwalld started at boot), not only from the next reload.
UniqueFd openLinkWatch()
{
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
    if (!fd)
        throwErrno(errno, "open a netlink socket for link changes");
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
        throwErrno(errno, "listen to link changes");
    return fd;
}

// Does an interface the config names exist without pbxwall's XDP program (new, made again
// with another index, or one whose attach failed before)?
bool configuredLinkUnfiltered(const config::Config& cfg)
{
    static std::set<unsigned> refused; // devices the log has named: once each, not at every link change
    const unsigned genId = pinnedMapId(cfg.pinDir, PW_MAP_NAME_GEN);
    bool unfiltered = false;
    for (const auto& i : cfg.interfaces) {
        const unsigned ifindex = ifindexOf(i.name);
        if (!ifindex || ifindex >= PW_IFINDEX_LIMIT || attachFailed.contains(ifindex) || xdpAttached(ifindex, genId))
            continue;
        if (std::string why = config::interfaceRefusal(i.name); !why.empty()) {
            if (refused.insert(ifindex).second)
                spdlog::error("{}: not attached: {}", i.name, why);
            continue;
        }
        unfiltered = true;
    }
    return unfiltered;
}

// Reads what the link watch has; true when a link appeared or changed and an interface the
// config names is unfiltered (configuredLinkUnfiltered). On a lost message (ENOBUFS), looks
// all the same.
bool configuredLinkAppeared(int fd, const config::Config& cfg)
{
    bool look = false;
    alignas(nlmsghdr) char buf[16384];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == ENOBUFS)
                look = true;
            if (errno == EINTR || errno == ENOBUFS)
                continue;
            break; // EAGAIN: all read
        }
        int left = static_cast<int>(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
            if (h->nlmsg_type == RTM_NEWLINK)
                look = true;
    }
    return look && configuredLinkUnfiltered(cfg);
}

// The policy in force, applied again (a new interface gets its zone entry and counter slot),
// then every configured interface attached (the others keep their programs).
void attachAppeared(MapSet& maps, const config::Config& cfg)
{
    spdlog::info("a configured interface is there without its program: applying the policy again");
    {
        PinLock lock(cfg.pinDir);
        applyPolicy(maps, cfg, CtlState::load(cfg.stateDir));
    }
    const std::vector<std::string> failed = attachAll(cfg);
    if (!failed.empty())
        spdlog::error("{} interface(s) are not filtered: {}", failed.size(), fmt::join(failed, ", "));
}

// A state_dir without its files while the pinned policy holds entries pbxwallctl made: the
// state directory moved (or was emptied) since an earlier pbxwalld made the maps. Starting
// would drop those entries from the policy without a word; refused instead.
void checkStateOfPins(MapSet& maps, const config::Config& cfg)
{
    struct stat st{};
    if (::stat((cfg.stateDir + "/zones").c_str(), &st) == 0 || ::stat((cfg.stateDir + "/ifaces").c_str(), &st) == 0)
        return;
    PolicyStore store(maps);
    size_t made = 0;
    for (const auto& z : store.zones())
        made += (z.entry.origin & PW_ORIGIN_CTL) != 0;
    for (const auto& i : store.ifaces())
        made += (i.entry.origin & PW_ORIGIN_CTL) != 0;
    if (made)
        throw std::runtime_error("the pinned policy in " + cfg.pinDir + " holds " + std::to_string(made) +
                                 " entries pbxwallctl made, but state_dir " + cfg.stateDir +
                                 " has no zones or ifaces file to keep them: if state_dir moved, move its files "
                                 "there; to start without those entries, run pbxwalld --detach first");
}

// SIGHUP: a complete new policy, or nothing at all.
void reload(config::Config& cfg, MapSet& maps)
{
    spdlog::info("reloading {}", cfg.path);
    auto result = config::loadFile(cfg.path);
    for (const auto& d : result.diagnostics)
        (d.warning ? spdlog::warn("{}", d.str()) : spdlog::error("{}", d.str()));
    if (!result.ok()) {
        spdlog::error("reload refused: the running policy is kept");
        return;
    }
    config::Config next = std::move(*result.config);
    if (const std::string change = config::layoutChange(cfg, next); !change.empty()) {
        spdlog::error("reload refused: {} changes only with a restart (after pbxwalld --detach for [limits]); "
                      "the running policy is kept",
                      change);
        return;
    }
    std::vector<std::string> problems; // after the new policy is in force
    {
        PinLock lock(next.pinDir);
        const BanUndo ahead = widenAhead(maps, next.sip.ipv6Prefix);
        try {
            checkHostShrink(maps, next);
            applyPolicy(maps, next, CtlState::load(next.stateDir));
        } catch (...) {
            undoBans(maps, ahead); // the running policy is kept, and its bans as they were
            throw;
        }
        // The new policy is in force from here on: what fails below is reported as such, not
        // as "the running policy is kept".
        // Every reload: after a change of ipv6_prefix, and after a refit whose save failed.
        bool refilter = next.sip.ipv6Prefix != cfg.sip.ipv6Prefix;
        try {
            refilter = refitPrefixBans(maps, next) || refilter;
        } catch (const std::exception& e) {
            refilter = true;
            problems.push_back(std::string("refitting the IPv6 prefix bans failed (") + e.what() + ")");
        }
        try {
            if (refilter)
                PolicyStore(maps).refreshBanFilter(); // whatever the refit wrote is enforced
        } catch (const std::exception& e) {
            problems.push_back(std::string("rebuilding the ban filter failed (") + e.what() + ")");
        }
    }
    const config::Config old = std::exchange(cfg, std::move(next));
    std::set<unsigned> keep; // by device: a name the config no longer uses may be another of its names
    for (const auto& i : cfg.interfaces)
        keep.insert(ifindexOf(i.name));
    try {
        const unsigned genId = pinnedMapId(cfg.pinDir, PW_MAP_NAME_GEN);
        for (const auto& i : old.interfaces)
            if (const unsigned ifindex = ifindexOf(i.name); ifindex && !keep.count(ifindex) && detachInterface(ifindex, genId))
                spdlog::info("{}: detached (no longer in the config)", i.name);
    } catch (const std::exception& e) {
        spdlog::error("detaching the interfaces no longer in the config: {}", e.what());
    }
    const std::vector<std::string> failed = attachAll(cfg);
    if (!failed.empty())
        problems.push_back(fmt::format("{} interface(s) are not filtered: {}", failed.size(), fmt::join(failed, ", ")));
    if (problems.empty())
        spdlog::info("reload complete");
    else
        spdlog::error("reload complete: the new policy is installed, but {} (fix the cause and reload)",
                      fmt::join(problems, "; "));
}

} // namespace

int runDaemon(config::Config cfg)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0)
        throwErrno(errno, "block signals");
    UniqueFd sfd(signalfd(-1, &mask, SFD_CLOEXEC));
    if (!sfd)
        throwErrno(errno, "signalfd");

    // One pbxwalld per state directory: a second one would fight over the same policy.
    prepareStateDir(cfg.stateDir);
    const std::string lockPath = cfg.stateDir + "/pbxwalld.lock";
    UniqueFd instance(::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!instance)
        throwErrno(errno, "open " + lockPath);
    if (::flock(instance.get(), LOCK_EX | LOCK_NB) != 0)
        throw std::runtime_error("another pbxwalld is running with state_dir " + cfg.stateDir);

    // Opened before the first attach: an interface that appears while pbxwalld starts queues
    // its event, read in the first poll below.
    const UniqueFd links = openLinkWatch();
    preparePinDir(cfg.pinDir);
    Maps maps = [&] {
        PinLock lock(cfg.pinDir);
        Maps m = Maps::open(cfg);
        CtlState state = CtlState::load(cfg.stateDir);
        checkStateOfPins(m.set(), cfg);
        // The adopted program judges by the pinned policy until the flip.
        const BanUndo ahead = widenAhead(m.set(), cfg.sip.ipv6Prefix);
        try {
            checkHostShrink(m.set(), cfg);
            applyPolicy(m.set(), cfg, state);
        } catch (...) {
            undoBans(m.set(), ahead); // a refused start leaves the running policy's bans as they were
            throw;
        }
        replayBans(m.set(), state);
        // ipv6_prefix may have changed while pbxwalld was stopped. The map is refitted before
        // the state file is saved: a failed save (a full or read-only /var) is logged, as at a
        // reload, and the next reload or start writes the file again (it still holds bans of
        // the old length); failing the start here would leave the PBX unfiltered.
        try {
            refitPrefixBans(m.set(), cfg);
        } catch (const std::exception& e) {
            spdlog::error("refitting the IPv6 prefix bans failed ({}); the bans in force are kept", e.what());
        }
        // Bans pinned by an earlier run or replayed above get their filter bits and a place in
        // the ban cache: the rebuilt half is complete, and the data plane reads it from now on.
        PolicyStore(m.set()).refreshBanFilter();
        // Known sources: pinned by an earlier run, or after a reboot (new pins) those the state
        // file kept, as the PBX keeps its registrations; they get their filter bits the same way.
        replayKnown(m.set(), cfg);
        PolicyStore(m.set()).refreshKnownFilter();
        return m;
    }();
    // The policy is complete before the first packet meets the program. An interface that
    // cannot take it does not stop the others, nor the daemon: devices that appear later (the
    // link watch) and the bans and events still need it.
    if (const auto failed = attachAll(cfg); !failed.empty())
        spdlog::error("{} interface(s) are not filtered: {} (fix the cause and reload)", failed.size(),
                      fmt::join(failed, ", "));
    spdlog::info("pbxwalld running (pin_dir {}, state_dir {})", cfg.pinDir, cfg.stateDir);

    EventLog events(maps.set().eventsFd, maps.set());
    uint64_t lastSweep = monotonicNowNs();
    unsigned sweeps = 0;
    for (;;) {
        pollfd p[3] = {{sfd.get(), POLLIN, 0}, {events.fd(), POLLIN, 0}, {links.get(), POLLIN, 0}};
        int n = poll(p, 3, events.cachePending() ? 1000 : 5000);
        if (n < 0 && errno != EINTR)
            throwErrno(errno, "poll");
        if (n > 0 && (p[2].revents & POLLIN)) {
            try {
                if (configuredLinkAppeared(links.get(), cfg))
                    attachAppeared(maps.set(), cfg);
            } catch (const std::exception& e) {
                spdlog::error("attaching a configured interface that appeared: {}", e.what());
            }
        }
        if (n > 0 && (p[1].revents & POLLIN)) {
            try {
                events.drain(cfg);
            } catch (const std::exception& e) {
                spdlog::error("data plane events: {}", e.what());
            }
        }
        try {
            events.refreshCache(cfg);
        } catch (const std::exception& e) {
            spdlog::error("ban cache: {}", e.what());
        }
        if (n > 0 && (p[0].revents & POLLIN)) {
            signalfd_siginfo si{};
            if (read(sfd.get(), &si, sizeof(si)) != sizeof(si))
                continue;
            if (si.ssi_signo == SIGHUP) {
                try {
                    reload(cfg, maps.set());
                } catch (const std::exception& e) {
                    spdlog::error("reload failed: {}; the running policy is kept", e.what());
                }
                continue;
            }
            try { // the pins stay; a reboot or --detach after this would lose what the last sweep did not write
                PinLock lock(cfg.pinDir);
                maps.set().known.saveState(cfg.stateDir);
                if (const size_t n = keepBansInForce(maps.set().bans, cfg.stateDir))
                    spdlog::info("{} ban(s) in force recorded in {}/bans", n, cfg.stateDir);
            } catch (const std::exception& e) {
                spdlog::error("known sources and bans: {}", e.what());
            }
            spdlog::info("{}: exiting, the filter stays attached and enforcing", strsignal(si.ssi_signo));
            return 0;
        }
        if (monotonicNowNs() - lastSweep < 5000000000ULL)
            continue;
        lastSweep = monotonicNowNs();
        try {
            sweepBans(maps.set(), cfg);
        } catch (const std::exception& e) {
            spdlog::error("ban expiry: {}", e.what());
        }
        if (++sweeps % 12 == 1) { // the first sweep, then every minute: a known source lives for minutes
            try {
                sweepKnown(maps.set(), cfg);
            } catch (const std::exception& e) {
                spdlog::error("known expiry: {}", e.what());
            }
        }
    }
}

} // namespace pbxwall::loader
