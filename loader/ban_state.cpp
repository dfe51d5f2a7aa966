// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwalld's side of the bans and known sources: replay, refit to ipv6_prefix, sweeps.
#include "ban_state.hpp"

#include "addr.hpp"
#include "dataplane.hpp"
#include "names.hpp"
#include "policy.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <system_error>

namespace pbxwall::loader {

namespace {

// The prefix bans a change of ipv6_prefix to len widens (refitBan), at their new keys; bans
// widened into one prefix merge (the later end wins). Each refitted key goes into *old, and
// *lifted counts those lifted (a longer len, or link-local).
std::map<Addr, pw_ban> widenedBans(MapSet& maps, unsigned len, std::vector<pw_ban_key>* old, size_t* lifted)
{
    auto later = [](uint64_t a, uint64_t b) { return !a || !b ? 0 : std::max(a, b); }; // 0: never ends
    std::map<Addr, pw_ban> widened;
    for (const auto& [k, b] : maps.bans.entries()) {
        Addr a;
        std::memcpy(a.bytes.data(), k.addr, 16);
        // A link-local prefix ban (from a build before link-local sources were banned by
        // address) bans nothing now: it goes too, whatever its length.
        if (!b.prefix || (b.prefix == len && !a.isLinkLocal6()))
            continue;
        if (old)
            old->push_back(k);
        if (const auto to = refitBan(a, b.prefix, len)) {
            pw_ban w = b;
            w.prefix = static_cast<uint8_t>(len);
            if (const auto it = widened.find(*to); it != widened.end())
                w.expires_ns = later(w.expires_ns, it->second.expires_ns);
            widened[*to] = w;
        } else if (lifted) {
            if (a.isLinkLocal6())
                spdlog::warn("ban of {} lifted: link-local sources are banned by address", banText(a, b.prefix));
            else
                spdlog::warn("ban of {} lifted: IPv6 sources are banned by /{} now", banText(a, b.prefix), len);
            ++*lifted;
        }
    }
    return widened;
}

} // namespace

// Bans recorded in state_dir that are missing from the map (after a reboot) come back with
// their remaining time; expired ones are dropped. Those that end last first (permanent ones
// before all): a table made smaller than the bans in force keeps those, and the start goes on
// with the rest logged, not failed (the filter would stay off the PBX until [limits] grew).
void replayBans(MapSet& maps, const CtlState& state)
{
    std::vector<const CtlBan*> missing;
    for (const auto& b : state.bans) {
        if (b.expiresUnix && b.expiresUnix <= unixNow())
            continue;
        pw_ban_key key{};
        std::memcpy(key.addr, b.addr.bytes.data(), 16);
        if (!maps.bans.lookup(key))
            missing.push_back(&b);
    }
    const auto ends = [](const CtlBan* b) { return b->expiresUnix ? b->expiresUnix : INT64_MAX; };
    std::stable_sort(missing.begin(), missing.end(), [&](const CtlBan* a, const CtlBan* b) { return ends(a) > ends(b); });
    size_t restored = 0;
    for (const CtlBan* b : missing) {
        pw_ban_key key{};
        std::memcpy(key.addr, b->addr.bytes.data(), 16);
        pw_ban ban{};
        ban.expires_ns = unixToMonotonicNs(b->expiresUnix);
        ban.created_ns = pastUnixToMonotonicNs(b->createdUnix);
        ban.cause = b->cause;
        ban.prefix = b->prefix;
        try {
            maps.bans.update(key, ban);
        } catch (const std::system_error& e) {
            if (e.code().value() != E2BIG && e.code().value() != ENOMEM && e.code().value() != ENOSPC)
                throw;
            spdlog::error("{} of the bans in {} not restored: pw_bans is full (raise [limits] bans); "
                          "those that end last were kept",
                          missing.size() - restored, "state_dir/bans");
            break;
        }
        ++restored;
    }
    if (restored)
        spdlog::info("restored {} bans from the state directory", restored);
}

// Before a policy with another ipv6_prefix is installed: the widened bans (widenedBans) are
// written beside the old ones, so that the data plane finds a ban whichever length it judges
// by, through the flip (pw_prefix_banned compares a ban by its own length; install() rebuilds
// the ban filter with their bits). A widened key that is also an old one's (the prefix's first
// /64) bans that /64 either way. refitPrefixBans then lifts the old ones. A widened ban that
// finds no room in a full table is left to it (written after the old ones go). Returns what
// to put back (undoBans) if the install fails.
BanUndo widenAhead(MapSet& maps, unsigned len)
{
    BanUndo undo;
    for (const auto& [to, ban] : widenedBans(maps, len, nullptr, nullptr)) {
        pw_ban_key key{};
        std::memcpy(key.addr, to.bytes.data(), 16);
        const auto cur = maps.bans.lookup(key);
        if (cur && cur->prefix == len)
            continue; // refitted before: refitPrefixBans merges the ends
        try {
            maps.bans.update(key, ban);
        } catch (const std::exception&) {
            break; // the table is full
        }
        undo.emplace_back(key, cur);
    }
    return undo;
}

void undoBans(MapSet& maps, const BanUndo& undo)
{
    for (const auto& [key, before] : undo) {
        if (before)
            maps.bans.update(key, *before);
        else
            maps.bans.erase(key);
    }
}

// IPv6 prefix bans follow [sip] ipv6_prefix (refitBan): after a change, each one of another
// length is widened to the new length (bans widened into one prefix merge: the later end wins)
// or lifted. The new policy is already in force, and widenAhead wrote the widened bans before
// it was; the old ones go first here, so that a widened one that found no room then finds it
// now (for the few milliseconds before it is written, its prefix passes). A ban of one address at a widened
// prefix's key gives way to the prefix's ban (logged). The state file's prefix bans are then
// rewritten from the map, which also records bans whose events are still waiting in the ring;
// so is a state file that still holds prefix bans of another length (its save failed after
// an earlier refit). Under the pin lock; returns whether the map changed, and the caller then
// rebuilds the ban filter.
bool refitPrefixBans(MapSet& maps, const config::Config& cfg)
{
    const unsigned len = cfg.sip.ipv6Prefix;
    auto later = [](uint64_t a, uint64_t b) { return !a || !b ? 0 : std::max(a, b); }; // 0: never ends
    std::vector<pw_ban_key> old;
    size_t lifted = 0;
    const auto refits = [&](const Addr& a, uint8_t prefix) { return prefix && (prefix != len || a.isLinkLocal6()); };
    const std::map<Addr, pw_ban> widened = widenedBans(maps, len, &old, &lifted);
    const std::vector<CtlBan> saved = CtlState::loadBans(cfg.stateDir);
    const bool staleFile =
        std::any_of(saved.begin(), saved.end(), [&](const CtlBan& b) { return refits(b.addr, b.prefix); });
    if (old.empty() && !staleFile)
        return false;
    for (const auto& k : old)
        maps.bans.erase(k);
    for (auto [to, ban] : widened) {
        pw_ban_key key{};
        std::memcpy(key.addr, to.bytes.data(), 16);
        if (const auto cur = maps.bans.lookup(key); cur && cur->prefix == len) // one refitted before
            ban.expires_ns = later(ban.expires_ns, cur->expires_ns);
        else if (cur && !cur->prefix)
            spdlog::warn("ban of {} replaced by the ban of {}", to.str(), banText(to, ban.prefix));
        maps.bans.update(key, ban);
    }
    if (!old.empty())
        spdlog::info("IPv6 prefix bans refitted to /{}: {} widened into {}, {} lifted", len, old.size() - lifted,
                     widened.size(), lifted);
    else
        spdlog::info("IPv6 prefix bans: the state file's are rewritten at /{}, as the map holds them", len);
    std::map<Addr, CtlBan> bans; // one per key
    for (const CtlBan& b : saved)
        if (!b.prefix)
            bans[b.addr] = b;
    for (const auto& [k, b] : maps.bans.entries()) {
        if (!b.prefix)
            continue;
        Addr a;
        std::memcpy(a.bytes.data(), k.addr, 16);
        bans[a] = {a, monotonicNsToUnix(b.expires_ns), monotonicNsToUnix(b.created_ns), b.cause, b.prefix};
    }
    std::vector<CtlBan> list;
    for (const auto& [a, b] : bans)
        list.push_back(b);
    CtlState::saveBans(cfg.stateDir, list);
    return !old.empty();
}

// Brings `bans` (the state file's) up to the bans in force in the map: appends those it lacks,
// and takes the map's entry for one the map holds longer (the data plane lengthened it, and the
// event that told was lost). Returns how many it appended or changed.
static size_t addBansInForce(const BanTable& map, std::vector<CtlBan>& bans, uint64_t now)
{
    std::map<Addr, size_t> recorded;
    for (size_t i = 0; i < bans.size(); ++i)
        recorded.emplace(bans[i].addr, i);
    size_t added = 0;
    for (const auto& [k, b] : map.entries()) {
        Addr a;
        std::memcpy(a.bytes.data(), k.addr, 16);
        if (b.expires_ns && b.expires_ns <= now)
            continue;
        const CtlBan inForce{a, monotonicNsToUnix(b.expires_ns), monotonicNsToUnix(b.created_ns), b.cause, b.prefix};
        const auto it = recorded.find(a);
        if (it == recorded.end()) {
            bans.push_back(inForce);
            ++added;
            continue;
        }
        // Seconds apart at least: the two clocks' offset is worked out at each conversion.
        CtlBan& file = bans[it->second];
        if (file.expiresUnix && (!inForce.expiresUnix || inForce.expiresUnix > file.expiresUnix + 1)) {
            file = inForce;
            ++added;
        }
    }
    return added;
}

size_t keepBansInForce(const BanTable& map, const std::string& stateDir)
{
    std::vector<CtlBan> bans = CtlState::loadBans(stateDir);
    const size_t added = addBansInForce(map, bans, monotonicNowNs());
    if (added)
        CtlState::saveBans(stateDir, bans);
    return added;
}

// Deletes expired bans from the map and from the state file.
void sweepBans(MapSet& maps, const config::Config& cfg)
{
    // pbxwallctl reads, changes and saves the state under this lock: read it under it too, or a
    // save below would overwrite a pbxwallctl change committed in between (a lost update).
    PinLock lock(cfg.pinDir);
    const uint64_t now = monotonicNowNs();
    std::vector<pw_ban_key> expired;
    for (const auto& [k, b] : maps.bans.entries())
        if (b.expires_ns && b.expires_ns <= now)
            expired.push_back(k);
    std::vector<CtlBan> bans = CtlState::loadBans(cfg.stateDir);
    const size_t before = bans.size();
    std::erase_if(bans, [](const CtlBan& b) { return b.expiresUnix && b.expiresUnix <= unixNow(); });
    // Bans the data plane set reach the state file through their events; one whose event was
    // lost (the ring full, a save that failed, an event left in the ring at a stop) is
    // recorded here, so that it survives a reboot all the same.
    const size_t missed = addBansInForce(maps.bans, bans, now);

    // The ban filter forgets lifted and expired bans here: after expiries, and once a minute
    // for bans pbxwallctl lifted (a stale bit only costs a pw_bans lookup). The minute counts
    // from the first sweep, as the start rebuilt the filter (bans the data plane sets meanwhile
    // reach the cache through the event log's refreshCache).
    static uint64_t lastRefresh = now;
    const bool refresh = !expired.empty() || now - lastRefresh > 60000000000ULL;
    for (const auto& k : expired) {
        // Read again just before the delete: the data plane may have banned the source anew
        // since the walk (a walk of a large table takes milliseconds; this leaves microseconds).
        const auto cur = maps.bans.lookup(k);
        if (!cur || !cur->expires_ns || cur->expires_ns > now)
            continue;
        Addr a;
        std::memcpy(a.bytes.data(), k.addr, 16);
        spdlog::info("ban expired: {}", banText(a, cur->prefix));
        maps.bans.erase(k);
    }
    if (refresh) {
        PolicyStore(maps).refreshBanFilter();
        lastRefresh = now;
    }
    if (before != bans.size() || missed)
        CtlState::saveBans(cfg.stateDir, bans);
    if (missed)
        spdlog::warn("{} bans in force were missing from {}/bans, or ended earlier there (their events were "
                     "lost): recorded now",
                     missed, cfg.stateDir);
}

// Deletes expired known sources: pw_known is a plain hash (a flood must not evict a registered
// phone), so nothing else frees the room of a phone that stopped registering. Then rebuilds the
// known filter, which forgets them (and the entries pbxwallctl known del removed), and writes the
// live entries to state_dir/known for a reboot.
void sweepKnown(MapSet& maps, const config::Config& cfg)
{
    const uint64_t now = monotonicNowNs();
    std::vector<pw_ban_key> expired;
    for (const auto& [k, kn] : maps.known.entries())
        if (kn.expires_ns <= now)
            expired.push_back(k);
    // Under the pin lock (pbxwallctl known add waits), each entry read again right before its
    // delete: the PBX may have accepted a registration since the walk, and the egress program
    // then moved the entry's expiry in place. The window left is one lookup and one delete.
    PinLock lock(cfg.pinDir);
    size_t deleted = 0;
    for (const auto& k : expired) {
        const auto cur = maps.known.lookup(k);
        if (cur && cur->expires_ns <= now && maps.known.erase(k))
            ++deleted;
    }
    if (deleted)
        spdlog::debug("{} known sources expired", deleted);
    PolicyStore(maps).refreshKnownFilter();
    // What a reboot would otherwise lose (the pins go with it): the phones the PBX keeps
    // registered would be unknown until their refresh, up to an hour or two.
    maps.known.saveState(cfg.stateDir);
}

// At a start into an empty pw_known (new pins: a reboot, pbxwalld --detach), the live entries of
// state_dir/known: the PBX kept its registrations, and its phones do not register again before
// their refresh.
void replayKnown(MapSet& maps, const config::Config& cfg)
{
    // A broken file (or line) does not stop the start: the phones register again at their
    // refresh.
    try {
        // Each for at most known_seconds and the grace, or a week (the most known add
        // gives), whichever is longer.
        const uint64_t most = std::max<uint64_t>(cfg.sip.knownSeconds + 30, 604800);
        size_t skipped = 0;
        std::vector<std::string> broken;
        pw_ban_key first{};
        if (bpf_map_get_next_key(maps.known.fd(), nullptr, &first) != 0) // an empty table
            if (const size_t n =
                    maps.known.replayState(cfg.stateDir, maps.knownCapacity(), most, &skipped, &broken))
                spdlog::info("{} known source(s) replayed from {}/known", n, cfg.stateDir);
        for (const auto& b : broken)
            spdlog::error("known source not replayed: {}", b);
        if (skipped)
            spdlog::warn("{} known source(s) of {}/known left out: [limits] known is full (they are known "
                         "again at their next registration)",
                         skipped, cfg.stateDir);
    } catch (const std::exception& e) {
        spdlog::error("known sources not replayed: {}", e.what());
    }
}

} // namespace pbxwall::loader
