// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwallctl known list|add|del: the sources the PBX accepted (a registered phone), which get
// the higher SIP ceiling in responsive mode. The data plane compares expires_ns with
// CLOCK_MONOTONIC. The live entries are written to state_dir/known after each change (and by
// pbxwalld every minute), for the start after a reboot to replay.
#include "commands.hpp"
#include "output.hpp"

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

namespace pbxwall::ctl {

namespace {

constexpr uint64_t kNsPerSec = 1000000000ULL;
constexpr uint64_t kDefaultTtl = 3600;
constexpr uint64_t kMaxTtl = 604800; // a week, as [sip] known_seconds: known is not trusted

pw_ban_key knownKey(const Addr& a)
{
    pw_ban_key k{};
    std::memcpy(k.addr, a.bytes.data(), sizeof(k.addr));
    return k;
}

Addr knownAddr(const pw_ban_key& k)
{
    Addr a;
    std::memcpy(a.bytes.data(), k.addr, sizeof(k.addr));
    return a;
}

// state_dir/known after a change: what pbxwalld replays after a reboot (its own sweep writes it
// every minute too). A failure is a warning: the change is in force, and the file is pbxwalld's
// to write again within the minute.
void saveKnownState(Context& ctx)
{
    try {
        ctx.maps().known.saveState(ctx.stateDir());
    } catch (const std::exception& e) {
        std::cerr << "pbxwallctl: warning: save " << ctx.stateDir() << "/known: " << e.what()
                  << " (pbxwalld writes it again within a minute)\n";
    }
}

// As the data plane sees it: known while now < expires_ns (an entry without expiry is not known).
bool expired(const pw_known& k, uint64_t nowNs) { return k.expires_ns <= nowNs; }

uint64_t remainingSeconds(const pw_known& k, uint64_t nowNs)
{
    return (k.expires_ns - nowNs + kNsPerSec - 1) / kNsPerSec; // rounded up: a fresh 3600 s entry shows 3600
}

nlohmann::ordered_json knownJson(const Addr& a, const pw_known& k, uint64_t nowNs)
{
    return {{"addr", a.str()},
            {"remaining", remainingSeconds(k, nowNs)},
            {"expires", monotonicNsToUnix(k.expires_ns)},
            {"created", monotonicNsToUnix(k.created_ns)}};
}

uint64_t parseTtl(const std::string& text)
{
    const std::string bad = "known add: invalid --ttl \"" + text + "\": expected seconds, 1.." + std::to_string(kMaxTtl) +
                            " (known sources always expire)";
    if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos)
        usageError(bad);
    const uint64_t ttl = std::stoull(text);
    if (ttl == 0 || ttl > kMaxTtl)
        usageError(bad);
    return ttl;
}

void listKnown(Context& ctx)
{
    const uint64_t now = monotonicNowNs();
    std::vector<std::pair<Addr, pw_known>> known;
    for (const auto& [k, v] : ctx.maps().known.entries())
        if (!expired(v, now))
            known.emplace_back(knownAddr(k), v);
    std::sort(known.begin(), known.end(), [](const auto& x, const auto& y) { return x.first < y.first; });

    if (ctx.json()) {
        printJsonArray(ctx, "known", known.size(),
                       [&](size_t i) { return knownJson(known[i].first, known[i].second, now); });
        return;
    }
    Table t({"ADDRESS", "REMAINING", "CREATED"}, {false, true, false});
    for (const auto& [a, v] : known)
        t.add({a.str(), std::to_string(remainingSeconds(v, now)), localTime(monotonicNsToUnix(v.created_ns))});
    t.print(std::cout);
}

void addKnown(Context& ctx, const Addr& a, uint64_t ttl)
{
    ctx.lockExclusive();
    MapSet& maps = ctx.maps();
    if (auto e = ctx.policy().match(a); e && e->zone == PW_ZONE_REJECT)
        failure("refusing to make " + a.str() + " known: it is in the reject zone (" + ruleOf(ctx, a) + ")");
    const pw_ban_key key = knownKey(a);
    const uint64_t nowNs = monotonicNowNs();
    const auto inForce = [&](const std::optional<pw_ban>& b) { return b && (b->expires_ns == 0 || b->expires_ns > nowNs); };
    if (auto b = maps.bans.lookup(key); inForce(b) && !b->prefix)
        failure("known add: " + a.str() + " is banned: unban it first");
    // The data plane bans IPv6 internet sources by [sip] ipv6_prefix, and spares the known
    // addresses of a banned prefix (its registered phones): so does a known entry made here.
    // The prefix's ban is kept under its first address, which is such an address too.
    std::string inBannedPrefix;
    if (!a.isV4() && !a.isLinkLocal6()) {
        const unsigned len = banPrefix6(ctx);
        const Addr net = masked(a, len);
        if (auto b = len < 128 ? maps.bans.lookup(knownKey(net)) : std::nullopt; inForce(b) && b->prefix)
            inBannedPrefix = banText(net, b->prefix);
    }

    if (!maps.known.lookup(key)) {
        const auto all = maps.known.entries();
        const __u32 capacity = maps.knownCapacity();
        if (all.size() >= capacity) {
            const uint64_t now = monotonicNowNs();
            const auto stale = std::count_if(all.begin(), all.end(), [&](const auto& kv) { return expired(kv.second, now); });
            failure("known add: the known table is full (" + std::to_string(all.size()) + " of " +
                    std::to_string(capacity) + " entries, " + std::to_string(stale) +
                    " expired awaiting cleanup): remove entries with known del");
        }
    }

    const uint64_t now = monotonicNowNs();
    pw_known known{};
    known.expires_ns = now + ttl * kNsPerSec;
    known.created_ns = now;
    maps.known.update(key, known);
    ctx.markCommitted(); // in force (its state file is pbxwalld's too: saveKnownState only warns)
    saveKnownState(ctx);

    const std::string note = inBannedPrefix.empty()
                                 ? ""
                                 : a.str() + " is in the banned prefix " + inBannedPrefix +
                                       ": while known it passes that ban, as a registered phone does; the rest of "
                                       "the prefix stays banned";
    if (ctx.json()) {
        nlohmann::ordered_json j{{"added", knownJson(a, known, now)}};
        if (!note.empty())
            j["note"] = note;
        printJson(ctx, j);
        return;
    }
    std::cout << a.str() << " is known for " << ttl << " s (until " << localTime(unixNow() + static_cast<int64_t>(ttl))
              << ")\n";
    if (!note.empty())
        std::cerr << "pbxwallctl: note: " << note << "\n";
}

void delKnown(Context& ctx, const Addr& a)
{
    ctx.lockExclusive();
    MapSet& maps = ctx.maps();
    if (!maps.known.erase(knownKey(a)))
        failure("known del: " + a.str() + " is not known");
    ctx.markCommitted(); // not known any more, whatever follows fails
    ctx.policy().refreshKnownFilter(); // its filter bit goes too
    saveKnownState(ctx); // a reboot must not bring it back

    if (ctx.json()) {
        printJson(ctx, {{"deleted", {{"addr", a.str()}}}});
        return;
    }
    std::cout << a.str() << " is no longer known\n";
}

} // namespace

void addKnownCommands(CLI::App& app, Context& ctx)
{
    auto* known = app.add_subcommand("known", "Known sources (registered phones): the higher SIP ceiling");
    known->require_subcommand(1);
    struct Opts {
        std::string addr;
        std::string ttl = std::to_string(kDefaultTtl);
    };
    auto o = std::make_shared<Opts>();

    known->add_subcommand("list", "List the known sources that have not expired")->callback([&ctx] {
        ctx.action = [](Context& c) { listKnown(c); };
    });

    auto* add = known->add_subcommand("add", "Make an address known (refused for rejected or banned addresses)");
    add->add_option("addr", o->addr, "IPv4 or IPv6 address")->required()->type_name("ADDR");
    add->add_option("--ttl", o->ttl, "Seconds until the address is no longer known, 1..604800 (default 3600)")
        ->type_name("SECONDS");
    add->callback([&ctx, o] {
        ctx.action = [o](Context& c) {
            const Addr a = parseAddrArg("known add", o->addr);
            addKnown(c, a, parseTtl(o->ttl));
        };
    });

    auto* del = known->add_subcommand("del", "Forget a known address");
    del->add_option("addr", o->addr, "IPv4 or IPv6 address")->required()->type_name("ADDR");
    del->callback([&ctx, o] {
        ctx.action = [o](Context& c) { delKnown(c, parseAddrArg("known del", o->addr)); };
    });
}

} // namespace pbxwall::ctl
