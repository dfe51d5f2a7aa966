// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwallctl ban list|add|del: timed bans of an address or of an IPv6 prefix of the length [sip]
// ipv6_prefix names, keyed by address (a prefix by its first). The data plane compares
// expires_ns with CLOCK_MONOTONIC; the state file keeps Unix times so bans survive a reboot.
#include "commands.hpp"
#include "output.hpp"

#include "names.hpp"

#include <net/if.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <memory>

namespace pbxwall::ctl {

namespace {

constexpr uint64_t kNsPerSec = 1000000000ULL;
constexpr uint64_t kDefaultTtl = 3600;
constexpr uint64_t kMaxTtl = 100ULL * 365 * 86400; // keeps expires_ns far from overflow

pw_ban_key banKey(const Addr& a)
{
    pw_ban_key k{};
    std::memcpy(k.addr, a.bytes.data(), sizeof(k.addr));
    return k;
}

Addr banAddr(const pw_ban_key& k)
{
    Addr a;
    std::memcpy(a.bytes.data(), k.addr, sizeof(k.addr));
    return a;
}

bool expired(const pw_ban& b, uint64_t nowNs) { return b.expires_ns != 0 && b.expires_ns <= nowNs; }

uint64_t remainingSeconds(const pw_ban& b, uint64_t nowNs)
{
    return (b.expires_ns - nowNs + kNsPerSec - 1) / kNsPerSec; // rounded up: a fresh 3600 s ban shows 3600
}

std::string causeName(unsigned cause)
{
    const auto n = banCauseName(cause);
    return n.empty() ? "cause_" + std::to_string(cause) : std::string(n);
}

nlohmann::ordered_json banJson(const Addr& a, const pw_ban& b, uint64_t nowNs)
{
    nlohmann::ordered_json j{{"addr", banText(a, b.prefix)}, {"cause", causeName(b.cause)}};
    j["remaining"] = b.expires_ns ? nlohmann::ordered_json(remainingSeconds(b, nowNs)) : nlohmann::ordered_json();
    j["expires"] = b.expires_ns ? nlohmann::ordered_json(monotonicNsToUnix(b.expires_ns)) : nlohmann::ordered_json();
    j["created"] = monotonicNsToUnix(b.created_ns);
    return j;
}

uint64_t parseTtl(const std::string& text)
{
    const std::string bad = "ban add: invalid --ttl \"" + text + "\": expected seconds, 0.." + std::to_string(kMaxTtl) +
                            " (0 = never expires)";
    if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos)
        usageError(bad);
    const uint64_t ttl = std::stoull(text);
    if (ttl > kMaxTtl)
        usageError(bad);
    return ttl;
}

// An address no zone rule names takes the zone of the interface its packets arrive on, and
// trusted sources are never banned: the ban does not apply on interfaces whose zone is trusted.
// Returns what to tell the administrator about that, or "".
std::string trustedByInterface(Context& ctx, const Addr& a)
{
    if (ctx.policy().match(a))
        return "";
    std::string names;
    for (const auto& r : ctx.policy().ifaces()) {
        if (r.entry.zone != PW_ZONE_TRUSTED)
            continue;
        char buf[IF_NAMESIZE] = {};
        names += (names.empty() ? "" : ", ") +
                 std::string(if_indextoname(r.ifindex, buf) ? buf : "ifindex " + std::to_string(r.ifindex));
    }
    if (names.empty())
        return "";
    return a.str() + " is in no zone entry, so its packets arriving on " + names +
           " (zone trusted) take that zone and still pass: trusted sources are never banned";
}

// A prefix ban holds the internet-zone sources in it only (the others are banned by address):
// the zone entries of another zone that overlap the prefix, and the interfaces whose zone is not
// internet (their unnamed sources take it), named in a note; "" when there are none.
std::string prefixBanNote(Context& ctx, const Addr& first, uint8_t prefix)
{
    const Cidr ban{first, prefix};
    std::vector<std::string> named;
    for (const auto& z : ctx.policy().zones())
        if (!z.cidr.isV4() && z.entry.zone != PW_ZONE_INTERNET &&
            (ban.contains(z.cidr.addr) || z.cidr.contains(first)))
            named.push_back(z.cidr.str() + " (zone " + zoneLabel(z.entry.zone) + ")");
    for (const auto& r : ctx.policy().ifaces()) {
        if (r.entry.zone == PW_ZONE_INTERNET || r.entry.zone == PW_ZONE_NONE)
            continue;
        char buf[IF_NAMESIZE] = {};
        named.push_back("the unnamed sources on " +
                        std::string(if_indextoname(r.ifindex, buf) ? buf : "ifindex " + std::to_string(r.ifindex)) +
                        " (zone " + zoneLabel(r.entry.zone) + ")");
    }
    if (named.empty())
        return "";
    std::string list;
    for (size_t i = 0; i < named.size() && i < 3; ++i)
        list += (i ? ", " : "") + named[i];
    if (named.size() > 3)
        list += " and " + std::to_string(named.size() - 3) + " more";
    return "a prefix ban holds the internet-zone sources in it only; " + list +
           " are judged by their zone (ban such an address by itself)";
}

// The ban a `ban add|del` argument names: an address, or an IPv6 prefix of the length IPv6
// sources are banned by. prefix: as pw_ban's.
struct BanTarget {
    Addr addr;
    uint8_t prefix = 0;
    std::string str() const { return banText(addr, prefix); }
};

BanTarget banTarget(Context& ctx, const std::string& command, const std::string& text)
{
    const Cidr c = parseCidrArg(command, text);
    if (c.isHost())
        return {c.addr, 0};
    if (c.isV4())
        usageError(command + ": " + text + " is a prefix: bans name an address or an IPv6 prefix");
    if (c.addr.isLinkLocal6() && command == "ban add") // one an older build made can still be lifted
        usageError(command + ": " + text + " is a link-local prefix: link-local sources are banned by address "
                   "(every neighbour on the link, the router among them, shares fe80::/64)");
    ctx.lockExclusive(); // the length read here holds until the ban is written (a reload waits)
    const unsigned len = banPrefix6(ctx);
    if (c.len != len)
        usageError(command + ": " + text + " is a prefix: bans name an address" +
                   (len < 128 ? " or an IPv6 /" + std::to_string(len) + " (the [sip] ipv6_prefix in force)"
                              : " ([sip] ipv6_prefix = 128 bans IPv6 sources by address)"));
    return {c.addr, c.len};
}

void listBans(Context& ctx)
{
    const uint64_t now = monotonicNowNs();
    std::vector<std::pair<Addr, pw_ban>> bans;
    for (const auto& [k, b] : ctx.maps().bans.entries())
        if (!expired(b, now))
            bans.emplace_back(banAddr(k), b);
    std::sort(bans.begin(), bans.end(), [](const auto& x, const auto& y) { return x.first < y.first; });

    if (ctx.json()) {
        printJsonArray(ctx, "bans", bans.size(), [&](size_t i) { return banJson(bans[i].first, bans[i].second, now); });
        return;
    }
    Table t({"ADDRESS/PREFIX", "CAUSE", "REMAINING", "CREATED"}, {false, false, true, false});
    for (const auto& [a, b] : bans)
        t.add({banText(a, b.prefix), causeName(b.cause), b.expires_ns ? std::to_string(remainingSeconds(b, now)) : "never",
               localTime(monotonicNsToUnix(b.created_ns))});
    t.print(std::cout);
}

void addBan(Context& ctx, const BanTarget& t, uint64_t ttl)
{
    ctx.lockExclusive();
    MapSet& maps = ctx.maps();
    const Addr& a = t.addr;
    if (auto e = ctx.policy().match(a); !t.prefix && e && e->zone == PW_ZONE_TRUSTED)
        failure("refusing to ban " + a.str() + ": it is in the trusted zone (" + ruleOf(ctx, a) + ")");
    CtlState& state = ctx.state();

    const pw_ban_key key = banKey(a);
    const auto old = maps.bans.lookup(key);
    if (old && old->prefix && !t.prefix) // one key: the exact ban would narrow the prefix's
        failure("ban add: " + a.str() + " is the first address of the banned prefix " + banText(a, old->prefix) +
                ": it is banned already");
    if (!old) {
        const auto all = maps.bans.entries();
        const __u32 capacity = maps.bansCapacity();
        if (all.size() >= capacity) {
            const uint64_t now = monotonicNowNs();
            const auto stale = std::count_if(all.begin(), all.end(), [&](const auto& kv) { return expired(kv.second, now); });
            failure("ban add: the ban table is full (" + std::to_string(all.size()) + " of " + std::to_string(capacity) +
                    " entries, " + std::to_string(stale) + " expired awaiting cleanup): raise [limits] bans in the " +
                    "config or remove bans with ban del");
        }
    }

    const uint64_t now = monotonicNowNs();
    const int64_t nowUnix = unixNow();
    pw_ban ban{};
    ban.expires_ns = ttl ? now + ttl * kNsPerSec : 0;
    ban.created_ns = now;
    ban.cause = PW_BAN_MANUAL;
    ban.prefix = t.prefix;
    maps.bans.update(key, ban);

    // Expired bans are dropped from the state file while we rewrite it anyway.
    std::erase_if(state.bans, [&](const CtlBan& b) { return b.addr == a || (b.expiresUnix && b.expiresUnix <= nowUnix); });
    state.bans.push_back({a, ttl ? nowUnix + static_cast<int64_t>(ttl) : 0, nowUnix, PW_BAN_MANUAL, t.prefix});
    const auto undo = [&] {
        if (old)
            maps.bans.update(key, *old);
        else
            maps.bans.erase(key);
    };
    // The ban cache holds the new ban (or its new, shorter end): the ban is in force only then,
    // so before the save, and the map change is undone when it fails.
    undoIfThrows([&] { ctx.policy().refreshBanFilter(); }, undo);
    ctx.commit([&] {
        undo();
        ctx.policy().refreshBanFilter();
    });
    const std::string note = t.prefix ? prefixBanNote(ctx, a, t.prefix) : trustedByInterface(ctx, a);

    if (ctx.json()) {
        nlohmann::ordered_json j{{"banned", banJson(a, ban, now)}};
        if (!note.empty())
            j["note"] = note;
        printJson(ctx, j);
        return;
    }
    if (ttl)
        std::cout << "banned " << t.str() << " for " << ttl << " s (until " << localTime(nowUnix + static_cast<int64_t>(ttl))
                  << ")\n";
    else
        std::cout << "banned " << t.str() << " with no expiry (until ban del)\n";
    if (!note.empty())
        std::cerr << "pbxwallctl: note: " << note << "\n";
}

// The banned prefix that holds the IPv6 address of `ban del ADDR` ("2001:db8:7:9::/64"), or "".
std::string coveringBan(Context& ctx, const BanTarget& t)
{
    const unsigned len = banPrefix6(ctx);
    if (t.prefix || t.addr.isV4() || len >= 128)
        return "";
    const Addr net = masked(t.addr, len);
    const auto b = ctx.maps().bans.lookup(banKey(net));
    if (!b || !b->prefix || expired(*b, monotonicNowNs()))
        return "";
    return banText(net, b->prefix);
}

void delBan(Context& ctx, const BanTarget& t)
{
    ctx.lockExclusive();
    MapSet& maps = ctx.maps();
    CtlState& state = ctx.state();
    const Addr& a = t.addr;
    const pw_ban_key key = banKey(a);
    auto old = maps.bans.lookup(key);
    if (old && old->prefix != t.prefix) // the key names the other ban: not the one asked for
        failure("ban del: " + t.str() + " is not banned, " + banText(a, old->prefix) + " is");
    const auto before = state.bans.size();
    std::erase_if(state.bans, [&](const CtlBan& b) { return b.addr == a && b.prefix == t.prefix; });
    if (!old && state.bans.size() == before) {
        const std::string p = coveringBan(ctx, t);
        failure("ban del: " + t.str() + " is not banned" +
                (p.empty() ? "" : ", but its prefix " + p + " is (ban del " + p + ")"));
    }
    if (old) {
        maps.bans.erase(key);
        // The ban cache forgets it: the source passes from then on. Before the save, as for ban add.
        undoIfThrows([&] { ctx.policy().refreshBanFilter(); }, [&] { maps.bans.update(key, *old); });
    }
    ctx.commit([&] {
        if (old) {
            maps.bans.update(key, *old);
            ctx.policy().refreshBanFilter();
        }
    });

    // An address lifted while its prefix stays banned still drops: say so.
    const std::string p = coveringBan(ctx, t);
    const std::string note = p.empty() ? "" : t.str() + " still drops unless known: its prefix " + p + " is banned (ban del " + p + ")";
    if (ctx.json()) {
        nlohmann::ordered_json j{{"unbanned", {{"addr", t.str()}}}};
        if (!note.empty())
            j["note"] = note;
        printJson(ctx, j);
        return;
    }
    std::cout << "unbanned " << t.str() << '\n';
    if (!note.empty())
        std::cerr << "pbxwallctl: note: " << note << "\n";
}

} // namespace

void addBanCommands(CLI::App& app, Context& ctx)
{
    auto* ban = app.add_subcommand("ban", "Timed bans of addresses and IPv6 prefixes");
    ban->require_subcommand(1);
    struct Opts {
        std::string addr;
        std::string ttl = std::to_string(kDefaultTtl);
    };
    auto o = std::make_shared<Opts>();

    ban->add_subcommand("list", "List the bans in force")->callback([&ctx] {
        ctx.action = [](Context& c) { listBans(c); };
    });

    auto* add = ban->add_subcommand("add", "Ban an address (refused for trusted addresses) or an IPv6 prefix");
    add->add_option("addr", o->addr, "IPv4 or IPv6 address, or an IPv6 prefix of [sip] ipv6_prefix bits")
        ->required()
        ->type_name("ADDR|PREFIX");
    add->add_option("--ttl", o->ttl, "Seconds until the ban expires; 0 = never (default 3600)")
        ->type_name("SECONDS");
    add->callback([&ctx, o] {
        ctx.action = [o](Context& c) {
            // Every argument before the maps open (a prefix's length is checked against them):
            // the address's form, then --ttl.
            parseCidrArg("ban add", o->addr);
            const auto ttl = parseTtl(o->ttl);
            addBan(c, banTarget(c, "ban add", o->addr), ttl);
        };
    });

    auto* del = ban->add_subcommand("del", "Lift the ban of an address or an IPv6 prefix");
    del->add_option("addr", o->addr, "The address or prefix, as ban list shows it")->required()->type_name("ADDR|PREFIX");
    del->callback([&ctx, o] {
        ctx.action = [o](Context& c) { delBan(c, banTarget(c, "ban del", o->addr)); };
    });
}

} // namespace pbxwall::ctl
