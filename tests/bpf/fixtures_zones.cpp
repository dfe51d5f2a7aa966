// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for verdict steps 4-6: zones by longest prefix or interface, pbxwallctl entries over
// config entries, policy generation flips, and timed bans.
#include "fixtures.hpp"

#include "host_table.hpp"
#include "policy.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>
#include <cstring>

namespace pbxwall::bpftest {

using test::Packet;
using test::TcpFlags;

namespace {

using namespace std::chrono_literals;

constexpr const char* kSip = "REGISTER sip:pbx SIP/2.0\r\n\r\n";

// A config that moves 198.18.9.0/24 and 2001:db8:9::/48 (kNet) to reject and makes the trusted
// prefixes plain local: the second generation of the flip test.
const std::string kFlipped = R"(
unlisted_ports = "pass"

[[interface]]
name = "lo"
zone = "internet"

[zones]
local = ["198.18.1.0/24", "2001:db8:1::/48"]
reject = ["198.18.9.0/24", "2001:db8:9::/48"]

# Named "voip", not "sip": these fixtures test the plain service rules; the service named
# "sip" gets responsive mode, which fixtures_sip.cpp covers.
[services.voip]
udp = ["5060"]
tcp = ["5060-5061"]
zones = ["local", "internet"]

[services.ssh]
tcp = ["22"]
zones = ["local"]
)";

enum class BanKind { Active, Expired, Forever, None };

struct BanFixture {
    Fixture f;
    Family family;
    Peer banned;
    BanKind kind;
};

} // namespace

std::vector<Fixture> zoneFixtures()
{
    std::vector<Fixture> t;
    for (Family f : kFamilies) {
        t.push_back({named(f, "trusted source passes on an unlisted port"), ip(f, kTrusted, kHost).udp(40000, 20001),
                     kLo, XDP_PASS, PW_REASON_TRUSTED, PW_ZONE_TRUSTED});
        t.push_back({named(f, "trusted source passes to ssh"), ip(f, kTrusted, kHost).tcp(40000, 22), kLo, XDP_PASS,
                     PW_REASON_TRUSTED, PW_ZONE_TRUSTED});
        t.push_back({named(f, "trusted source passes with GRE"),
                     ip(f, kTrusted, kHost).ipProto(47).payload({0, 0, 8, 0}), kLo, XDP_PASS, PW_REASON_TRUSTED,
                     PW_ZONE_TRUSTED});
        t.push_back({named(f, "trusted source on an unnamed interface counts on slot 0"),
                     ip(f, kTrusted, kHost).udp(40000, 20001), kUnnamed, XDP_PASS, PW_REASON_TRUSTED, PW_ZONE_TRUSTED});
        t.push_back({named(f, "reject source drops even to SIP"), ip(f, kReject, kHost).udp(40000, 5060).sip(kSip), kLo,
                     XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});
        t.push_back({named(f, "reject source drops on an unnamed interface"), ip(f, kReject, kHost).tcp(40000, 5061),
                     kUnnamed, XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});
        t.push_back({named(f, "reject host inside the trusted prefix is rejected"),
                     ip(f, kRejectHost, kHost).udp(40000, 20001), kLo, XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});
        t.push_back({named(f, "trusted host inside the reject prefix passes"),
                     ip(f, kTrustedHost, kHost).udp(40000, 20001), kLo, XDP_PASS, PW_REASON_TRUSTED, PW_ZONE_TRUSTED});
        t.push_back({named(f, "local source reaches ssh"), ip(f, kLocal, kHost).tcp(40000, 22), kLo, XDP_PASS,
                     PW_REASON_SERVICE, PW_ZONE_LOCAL});
        t.push_back({named(f, "local source on an unlisted port drops"), ip(f, kLocal, kHost).udp(40000, 20001), kLo,
                     XDP_DROP, PW_REASON_UNLISTED_DROP, PW_ZONE_LOCAL});
        t.push_back({named(f, "unknown source takes the interface zone (lo: internet, slot 1)"),
                     ip(f, kNet, kHost).udp(40000, 5060).sip(kSip), kLo, XDP_PASS, PW_REASON_SERVICE,
                     PW_ZONE_INTERNET});
        t.push_back({named(f, "unknown source on an unnamed interface: internet, slot 0"),
                     ip(f, kNet, kHost).udp(40000, 5060).sip(kSip), kUnnamed, XDP_PASS, PW_REASON_SERVICE,
                     PW_ZONE_INTERNET});
        t.push_back({named(f, "unknown source to ssh on an unnamed interface is denied"),
                     ip(f, kNet, kHost).tcp(40000, 22), kUnnamed, XDP_DROP, PW_REASON_SERVICE_DENIED,
                     PW_ZONE_INTERNET});
    }
    return t;
}

TEST_CASE("zones by longest prefix and by interface", "[bpf][zones]")
{
    const Fixture f = GENERATE(Catch::Generators::from_range(zoneFixtures()));
    checkFixture(f);
}

TEST_CASE("the interface's zone applies to sources no prefix names", "[bpf][zones]")
{
    const Family fam = GENERATE(Family::V4, Family::V6);
    std::string toml = kBaseDrop;
    const std::string from = "zone = \"internet\"";
    toml.replace(toml.find(from), from.size(), "zone = \"local\"");
    Harness h(toml);
    checkVerdict(h,
                 {named(fam, "lo is local: unknown source reaches ssh"), ip(fam, kNet, kHost).tcp(40000, 22), kLo,
                  XDP_PASS, PW_REASON_SERVICE, PW_ZONE_LOCAL});
    checkVerdict(h,
                 {named(fam, "lo is local: echo requests pass"), icmp(ip(fam, kNet, kHost), fam, icmpEchoRequest(fam)),
                  kLo, XDP_PASS, PW_REASON_ICMP, PW_ZONE_LOCAL});
    checkVerdict(h,
                 {named(fam, "an unnamed interface is still internet"), ip(fam, kNet, kHost).tcp(40000, 22), kUnnamed,
                  XDP_DROP, PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(fam, "a prefix still beats the interface"), ip(fam, kReject, kHost).tcp(40000, 22), kLo,
                  XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});
}

TEST_CASE("a pbxwallctl zone entry overrides the config entry for the same CIDR", "[bpf][zones]")
{
    const Family fam = GENERATE(Family::V4, Family::V6);
    Harness h;
    const bool v4 = fam == Family::V4;

    checkVerdict(h,
                 {named(fam, "before: trusted prefix"), ip(fam, kTrusted, kHost).udp(40000, 20001), kLo, XDP_PASS,
                  PW_REASON_TRUSTED, PW_ZONE_TRUSTED});
    h.setCtlZone(v4 ? "198.18.1.0/24" : "2001:db8:1::/48", PW_ZONE_REJECT);
    const auto e = PolicyStore(h.maps()).zone(parseCidr(v4 ? "198.18.1.0/24" : "2001:db8:1::/48"));
    REQUIRE(e);
    CHECK(e->origin == (PW_ORIGIN_CONFIG | PW_ORIGIN_CTL));
    CHECK(e->cfg_zone == PW_ZONE_TRUSTED);
    checkVerdict(h,
                 {named(fam, "after: the ctl zone (reject) wins"), ip(fam, kTrusted, kHost).udp(40000, 20001), kLo,
                  XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});
    // The host entries inside the prefix are untouched.
    checkVerdict(h,
                 {named(fam, "after: the reject host entry still decides"), ip(fam, kRejectHost, kHost).tcp(1, 22), kLo,
                  XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});

    // A host entry: the config says trusted, pbxwallctl says local.
    h.setCtlZone(v4 ? kTrustedHost.v4 : kTrustedHost.v6, PW_ZONE_LOCAL);
    checkVerdict(h,
                 {named(fam, "ctl host entry: local reaches ssh"), ip(fam, kTrustedHost, kHost).tcp(40000, 22), kLo,
                  XDP_PASS, PW_REASON_SERVICE, PW_ZONE_LOCAL});
    checkVerdict(h,
                 {named(fam, "ctl host entry: local no longer passes unlisted ports"),
                  ip(fam, kTrustedHost, kHost).udp(40000, 20001), kLo, XDP_DROP, PW_REASON_UNLISTED_DROP,
                  PW_ZONE_LOCAL});

    // A prefix only pbxwallctl names.
    checkVerdict(h,
                 {named(fam, "before: unknown source to ssh"), ip(fam, kNet, kHost).tcp(40000, 22), kLo, XDP_DROP,
                  PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
    h.setCtlZone(v4 ? "198.18.9.0/24" : "2001:db8:9::/48", PW_ZONE_LOCAL);
    checkVerdict(h,
                 {named(fam, "after: ctl-only prefix makes it local"), ip(fam, kNet, kHost).tcp(40000, 22), kLo,
                  XDP_PASS, PW_REASON_SERVICE, PW_ZONE_LOCAL});
}

TEST_CASE("an IPv6 prefix never covers IPv4 sources, in the data plane and in pbxwallctl's view", "[bpf][zones]")
{
    // IPv4 is stored as ::ffff:0:0/96 in the 128-bit tables, inside ::/0. The data plane judges
    // IPv4 by pw_nets4 alone, so trusted = ["::/0"] trusts all IPv6 and no IPv4; pbxwallctl's
    // checks (ban add refuses a trusted address) must see the same.
    Harness h;
    h.setCtlZone("::/0", PW_ZONE_TRUSTED);
    checkVerdict(h, {"IPv6: an internet source under ::/0 is trusted", ip(Family::V6, kNet, kHost).tcp(40000, 22), kLo,
                     XDP_PASS, PW_REASON_TRUSTED, PW_ZONE_TRUSTED});
    checkVerdict(h, {"IPv4: an internet source is not", ip(Family::V4, kNet, kHost).tcp(40000, 22), kLo, XDP_DROP,
                     PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
    const PolicyStore store(h.maps());
    CHECK_FALSE(store.match(parseAddr(kNet.v4)));
    const auto r6 = store.rule(parseAddr(kNet.v6));
    REQUIRE(r6);
    CHECK(r6->first.str() == "::/0");
    CHECK(r6->second.zone == PW_ZONE_TRUSTED);
    // An IPv4 prefix still answers for its addresses, the longest first.
    const auto r4 = store.rule(parseAddr(kTrusted.v4));
    REQUIRE(r4);
    CHECK(r4->first.str() == "198.18.1.0/24");
    CHECK(r4->second.zone == PW_ZONE_TRUSTED);
}

TEST_CASE("a policy generation flip changes the verdict", "[bpf][zones]")
{
    const Family fam = GENERATE(Family::V4, Family::V6);
    Harness h;
    const __u32 first = h.maps().activeGen();

    const Fixture netSip{named(fam, "gen A: unknown source, SIP passes"),
                         ip(fam, kNet, kHost).udp(40000, 5060),
                         kLo,
                         XDP_PASS,
                         PW_REASON_SERVICE,
                         PW_ZONE_INTERNET};
    const Fixture trustedSsh{named(fam, "gen A: trusted source passes"),
                             ip(fam, kTrusted, kHost).tcp(40000, 22),
                             kLo,
                             XDP_PASS,
                             PW_REASON_TRUSTED,
                             PW_ZONE_TRUSTED};
    const Fixture unlisted{named(fam, "gen A: unlisted port drops"),
                           ip(fam, kNet3, kHost).udp(40000, 20001),
                           kLo,
                           XDP_DROP,
                           PW_REASON_UNLISTED_DROP,
                           PW_ZONE_INTERNET};
    checkVerdict(h, netSip);
    checkVerdict(h, trustedSsh);
    checkVerdict(h, unlisted);

    h.install(kFlipped);
    CHECK(h.maps().activeGen() == (first ^ 1));
    checkVerdict(h,
                 {named(fam, "gen B: the same source is now rejected"), ip(fam, kNet, kHost).udp(40000, 5060), kLo,
                  XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});
    checkVerdict(h,
                 {named(fam, "gen B: the formerly trusted source is local"), ip(fam, kTrusted, kHost).tcp(40000, 22),
                  kLo, XDP_PASS, PW_REASON_SERVICE, PW_ZONE_LOCAL});
    checkVerdict(h,
                 {named(fam, "gen B: unlisted ports pass"), ip(fam, kNet3, kHost).udp(40000, 20001), kLo, XDP_PASS,
                  PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(fam, "gen B: the formerly local source is internet, rtp unlisted"),
                  ip(fam, kLocal, kHost).udp(40000, 10000), kLo, XDP_PASS, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET});

    h.install(kBaseDrop); // and back: the other generation again
    CHECK(h.maps().activeGen() == first);
    checkVerdict(h, netSip);
    checkVerdict(h, trustedSsh);
    checkVerdict(h, unlisted);
}

TEST_CASE("timed bans", "[bpf][bans]")
{
    std::vector<BanFixture> table;
    for (Family f : kFamilies) {
        table.push_back({{named(f, "active ban on an internet source drops"), ip(f, kNet, kHost).udp(40000, 5060), kLo,
                          XDP_DROP, PW_REASON_BANNED, PW_ZONE_INTERNET},
                         f,
                         kNet,
                         BanKind::Active});
        table.push_back({{named(f, "active ban counts on slot 0 on an unnamed interface"),
                          ip(f, kNet, kHost).tcp(40000, 5061), kUnnamed, XDP_DROP, PW_REASON_BANNED, PW_ZONE_INTERNET},
                         f,
                         kNet,
                         BanKind::Active});
        table.push_back({{named(f, "expired ban has no effect"), ip(f, kNet, kHost).udp(40000, 5060), kLo, XDP_PASS,
                          PW_REASON_SERVICE, PW_ZONE_INTERNET},
                         f,
                         kNet,
                         BanKind::Expired});
        table.push_back({{named(f, "permanent ban (expires 0) drops"), ip(f, kNet, kHost).udp(40000, 5060), kLo,
                          XDP_DROP, PW_REASON_BANNED, PW_ZONE_INTERNET},
                         f,
                         kNet,
                         BanKind::Forever});
        table.push_back({{named(f, "ban on a trusted address: trusted wins"), ip(f, kTrusted, kHost).udp(40000, 5060),
                          kLo, XDP_PASS, PW_REASON_TRUSTED, PW_ZONE_TRUSTED},
                         f,
                         kTrusted,
                         BanKind::Active});
        table.push_back({{named(f, "ban on a local address drops"), ip(f, kLocal, kHost).tcp(40000, 22), kLo, XDP_DROP,
                          PW_REASON_BANNED, PW_ZONE_LOCAL},
                         f,
                         kLocal,
                         BanKind::Forever});
        table.push_back({{named(f, "ban on a reject address: reject comes first"), ip(f, kReject, kHost).udp(1, 5060),
                          kLo, XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT},
                         f,
                         kReject,
                         BanKind::Active});
        table.push_back({{named(f, "a ban on another address does not matter"), ip(f, kNet, kHost).udp(40000, 5060),
                          kLo, XDP_PASS, PW_REASON_SERVICE, PW_ZONE_INTERNET},
                         f,
                         kNet2,
                         BanKind::Forever});
        table.push_back({{named(f, "banned source, unlisted port: banned, not unlisted"),
                          ip(f, kNet, kHost).udp(40000, 20001), kLo, XDP_DROP, PW_REASON_BANNED, PW_ZONE_INTERNET},
                         f,
                         kNet,
                         BanKind::Active});
    }
    const BanFixture b = GENERATE_COPY(Catch::Generators::from_range(table));
    Harness h;
    const char* addr = b.family == Family::V4 ? b.banned.v4 : b.banned.v6;
    switch (b.kind) {
    case BanKind::Active: h.ban(addr, 3600s); break;
    case BanKind::Expired: h.banExpired(addr); break;
    case BanKind::Forever: h.banForever(addr); break;
    case BanKind::None: break;
    }
    checkVerdict(h, b.f);
}

TEST_CASE("lifting a ban lets the source through again", "[bpf][bans]")
{
    Harness h;
    h.banForever(kNet.v4);
    checkVerdict(
        h, {"banned", ip(Family::V4, kNet, kHost).udp(40000, 5060), kLo, XDP_DROP, PW_REASON_BANNED, PW_ZONE_INTERNET});
    pw_ban_key key{};
    const Addr a = parseAddr(kNet.v4);
    std::copy(a.bytes.begin(), a.bytes.end(), key.addr);
    REQUIRE(h.maps().bans.erase(key));
    checkVerdict(h,
                 {"ban lifted", ip(Family::V4, kNet, kHost).udp(40000, 5060), kLo, XDP_PASS, PW_REASON_SERVICE,
                  PW_ZONE_INTERNET});
}

// The ban filter (pw_banbits) in front of pw_bans: rebuilding it drops the bits of lifted bans
// and keeps every ban still in the table, including one the data plane sets after the rebuild.
TEST_CASE("the ban filter forgets lifted bans and never hides a ban", "[bpf][bans]")
{
    const Family fam = GENERATE(Family::V4, Family::V6);
    const bool v4 = fam == Family::V4;
    Harness h;
    PolicyStore store(h.maps());
    const auto key = [](const char* text) {
        pw_ban_key k{};
        const Addr a = parseAddr(text);
        std::copy(a.bytes.begin(), a.bytes.end(), k.addr);
        return k;
    };
    const auto bitSet = [&](const char* text, __u32 half) {
        const pw_ban_key k = key(text);
        __u64 hi, lo;
        std::memcpy(&hi, k.addr, 8);
        std::memcpy(&lo, k.addr + 8, 8);
        const __u64 bit = pw_host_hash(hi, lo) & h.maps().bans.bitMask();
        const __u32 words = (h.maps().bans.bitMask() + 1) / 64;
        __u64 word = 0;
        const __u32 idx = half * words + static_cast<__u32>(bit >> 6);
        REQUIRE(bpf_map_lookup_elem(h.maps().bans.bitsFd(), &idx, &word) == 0);
        return (word >> (bit & 63)) & 1;
    };
    const char* lifted = v4 ? kNet.v4 : kNet.v6;
    const char* kept = v4 ? kNet2.v4 : kNet2.v6;
    h.banForever(lifted);
    h.banForever(kept);
    REQUIRE(bitSet(lifted, 0));
    REQUIRE(bitSet(lifted, 1));
    REQUIRE(h.maps().bans.erase(key(lifted)));
    const __u32 before = h.maps().gen.lookup(0)->ban_half;
    store.refreshBanFilter();
    const __u32 now = h.maps().gen.lookup(0)->ban_half;
    REQUIRE(now == (before ^ 1));
    CHECK(bitSet(kept, now));
    CHECK(h.action(ip(fam, {kept, kept}, kHost).udp(40000, 5060).bytes()) == XDP_DROP);
    CHECK(h.action(ip(fam, {lifted, lifted}, kHost).udp(40000, 5060).bytes()) == XDP_PASS);
    // A ban added after the rebuild is seen at once, and a policy flip (which rebuilds the
    // filter with the /24 summary) keeps every ban.
    h.ban(lifted, 3600s);
    CHECK(h.action(ip(fam, {lifted, lifted}, kHost).udp(40000, 5060).bytes()) == XDP_DROP);
    h.install(kBaseDrop);
    CHECK(h.maps().gen.lookup(0)->ban_half == (now ^ 1));
    CHECK(bitSet(kept, now ^ 1));
    CHECK(bitSet(lifted, now ^ 1));
    CHECK(h.action(ip(fam, {kept, kept}, kHost).udp(40000, 5060).bytes()) == XDP_DROP);
    CHECK(h.action(ip(fam, {lifted, lifted}, kHost).udp(40000, 5060).bytes()) == XDP_DROP);
}

// The ban cache (pw_bancache) answers for the bans it holds; pw_bans answers for the others (a
// full bucket, a ban set since the last rebuild, an entry the cache holds as expired), so the
// cache never changes a verdict: it only makes it cheaper.
TEST_CASE("the ban cache holds the bans of its last rebuild and pw_bans the rest", "[bpf][bans]")
{
    const Family fam = GENERATE(Family::V4, Family::V6);
    Harness h;
    PolicyStore store(h.maps());
    const auto addrOf = [&](unsigned n) {
        char text[64];
        if (fam == Family::V4)
            std::snprintf(text, sizeof(text), "198.19.%u.%u", n / 250, 1 + n % 250);
        else
            std::snprintf(text, sizeof(text), "2001:db8:64::%x", n + 1);
        return std::string(text);
    };
    const auto bucketOf = [&](const std::string& text) {
        const pw_ban_key k = addrKey(text);
        __u64 hi, lo;
        std::memcpy(&hi, k.addr, 8);
        std::memcpy(&lo, k.addr + 8, 8);
        return static_cast<__u32>((pw_host_hash(hi, lo) & h.maps().bans.bitMask()) >> 5);
    };
    const auto bucket = [&](__u32 idx) {
        const __u32 half = h.maps().gen.lookup(0)->ban_half & 1;
        const __u32 key = half * ((h.maps().bans.bitMask() + 1) >> 5) + idx;
        pw_bancache_bucket b{};
        REQUIRE(bpf_map_lookup_elem(h.maps().bans.cacheFd(), &key, &b) == 0);
        return std::pair{key, b};
    };
    const auto holds = [&](const std::string& text) {
        const pw_ban_key k = addrKey(text);
        const auto [key, b] = bucket(bucketOf(text));
        for (int w = 0; w < PW_BANCACHE_WAYS; ++w)
            if (b.until[w] && std::memcmp(b.addr[w], k.addr, 16) == 0)
                return true;
        return false;
    };
    const auto verdict = [&](const std::string& text) {
        return h.action(ip(fam, {text.c_str(), text.c_str()}, kHost).udp(40000, 5060).bytes());
    };

    // Four addresses of one bucket (three ways): the fourth overflows to pw_bans.
    std::vector<std::string> same;
    const std::string first = addrOf(0);
    same.push_back(first);
    for (unsigned n = 1; same.size() < 4 && n < 60000; ++n)
        if (bucketOf(addrOf(n)) == bucketOf(first))
            same.push_back(addrOf(n));
    REQUIRE(same.size() == 4);
    for (const auto& a : same)
        h.banForever(a);
    const std::string timed = addrOf(60001), expired = addrOf(60002);
    h.ban(timed, 3600s);
    h.banExpired(expired);
    CHECK(store.refreshBanFilter() == 1);
    int held = 0;
    for (const auto& a : same) {
        held += holds(a);
        checkVerdict(h, {"banned, cache or table", ip(fam, {a.c_str(), a.c_str()}, kHost).udp(40000, 5060), kLo,
                         XDP_DROP, PW_REASON_BANNED, PW_ZONE_INTERNET});
    }
    CHECK(held == 3);
    CHECK(holds(timed));
    CHECK(verdict(timed) == XDP_DROP);
    CHECK_FALSE(holds(expired)); // an ended ban takes no room
    CHECK(verdict(expired) == XDP_PASS);

    // The cache is what answers: a ban taken out of pw_bans alone still drops until the
    // rebuild that pbxwallctl ban del makes, and passes after it.
    const std::string cached = holds(same[0]) ? same[0] : same[1];
    REQUIRE(h.maps().bans.erase(addrKey(cached)));
    CHECK(verdict(cached) == XDP_DROP);
    store.refreshBanFilter();
    CHECK_FALSE(holds(cached));
    CHECK(verdict(cached) == XDP_PASS);

    // An entry the cache holds as expired sends the source on to pw_bans, which may hold a
    // newer ban; with none there, the source passes.
    auto [key, b] = bucket(bucketOf(timed));
    const pw_ban_key tk = addrKey(timed);
    for (int w = 0; w < PW_BANCACHE_WAYS; ++w)
        if (std::memcmp(b.addr[w], tk.addr, 16) == 0)
            b.until[w] = 1; // ended long ago
    REQUIRE(bpf_map_update_elem(h.maps().bans.cacheFd(), &key, &b, BPF_ANY) == 0);
    CHECK(verdict(timed) == XDP_DROP); // pw_bans: banned for another hour
    REQUIRE(h.maps().bans.erase(addrKey(timed)));
    CHECK(verdict(timed) == XDP_PASS);

    // A ban set after the rebuild (here as the data plane sets one: table and filter bits) is
    // not in the cache, and drops at once.
    const std::string fresh = addrOf(60003);
    h.ban(fresh, 3600s);
    CHECK_FALSE(holds(fresh));
    CHECK(verdict(fresh) == XDP_DROP);
}

} // namespace pbxwall::bpftest

namespace pbxwall::bpftest {

// The host tables as the data plane reads them: small tables filled to their capacity, so that
// entries overflow into later buckets, then edited the way pbxwallctl does (copy the active
// half, edit, flip), with every verdict checked after each step.
TEST_CASE("host tables filled to capacity, then edited", "[bpf][zones]")
{
    const Family fam = GENERATE(Family::V4, Family::V6);
    const bool v4 = fam == Family::V4;
    Harness h(kBaseDrop, Programs::Ingress, {{PW_MAP_NAME_HOSTS4, 2 * 16}, {PW_MAP_NAME_HOSTS6, 2 * 16}});
    PolicyStore store(h.maps());
    const size_t capacity = v4 ? h.maps().hosts4.capacity() : h.maps().hosts6.capacity();
    REQUIRE(capacity == (v4 ? 128u : 32u));
    const auto [base4, base6] = store.hostCounts(); // kBaseDrop's own host entries
    const size_t room = capacity - (v4 ? base4 : base6);

    std::vector<std::string> addrs;
    for (size_t i = 0; i < room; ++i)
        addrs.push_back(v4 ? "198.18.200." + std::to_string(i + 1) : "2001:db8:200::" + std::to_string(i + 1));
    std::vector<ZoneRecord> records;
    for (const auto& a : addrs)
        records.push_back({parseCidr(a), makeZoneEntry(std::nullopt, PW_ZONE_REJECT)});
    store.setZones(records);

    const auto verdict = [&](const std::string& src) {
        const Peer p{src.c_str(), src.c_str()};
        return h.action(ip(fam, p, kHost).udp(40000, 5060).bytes());
    };
    for (const auto& a : addrs) {
        CAPTURE(a);
        REQUIRE(verdict(a) == XDP_DROP);
    }
    const std::string outside = v4 ? "198.18.201.1" : "2001:db8:201::1";
    REQUIRE(verdict(outside) == XDP_PASS);

    // Full: one more is refused, and the running policy is unchanged.
    REQUIRE_THROWS_WITH(store.setZone(parseCidr(outside), makeZoneEntry(std::nullopt, PW_ZONE_REJECT)),
                        Catch::Contains("host table would hold"));
    REQUIRE(verdict(outside) == XDP_PASS);
    REQUIRE(verdict(addrs.back()) == XDP_DROP);

    // Erase every other entry: those pass, the rest (some behind freed slots) still drop.
    const __u32 halfBefore = h.maps().gen.lookup(0)->hosts;
    for (size_t i = 0; i < addrs.size(); i += 2)
        store.eraseZone(parseCidr(addrs[i]));
    CHECK(h.maps().gen.lookup(0)->hosts != halfBefore); // edits flip halves
    for (size_t i = 0; i < addrs.size(); ++i) {
        CAPTURE(addrs[i]);
        REQUIRE(verdict(addrs[i]) == (i % 2 ? XDP_DROP : XDP_PASS));
    }
    // A reload rebuilds the tables from the config alone (no state dir in the harness).
    h.install(kBaseDrop);
    for (const auto& a : addrs)
        REQUIRE(verdict(a) == XDP_PASS);
}

} // namespace pbxwall::bpftest

namespace pbxwall::bpftest {

// The summary of the IPv4 host table (pw_hostbits4): a source whose bit is clear is in no host
// entry, and the data plane then skips the buckets. So every writer of a half rebuilds its
// summary before the flip; an entry written behind the summary's back is not seen at all.
TEST_CASE("the IPv4 host summary rules out sources in no host entry", "[bpf][zones]")
{
    Harness h;
    PolicyStore store(h.maps());
    // The active half's buckets: the table is fitted to its entries (pw_host_shrink).
    const auto activeShrink = [&] {
        const pw_gen_state g = *h.maps().gen.lookup(0);
        return pw_host_shrink(g.host_shrink, 0, g.hosts);
    };
    const auto summaryBit = [&](const std::string& text) {
        const Addr a = parseAddr(text);
        __u32 raw;
        std::memcpy(&raw, a.bytes.data() + 12, 4);
        const __u64 hash = pw_host4_hash(raw);
        const __u32 half = h.maps().gen.lookup(0)->hosts & 1;
        const __u32 mask = h.maps().hosts4.mask() >> activeShrink();
        const auto* words = static_cast<const __u64*>(h.maps().hostbits4.half(half));
        return (words[pw_hostbit4_word(hash, mask)] & pw_hostbit4_bit(hash)) != 0;
    };
    const auto verdict = [&](const std::string& src) {
        const Peer p{src.c_str(), src.c_str()};
        return h.action(ip(Family::V4, p, kHost).udp(40000, 5060).bytes());
    };
    std::vector<ZoneRecord> records;
    std::vector<std::string> listed;
    for (int i = 1; i <= 40; ++i) {
        listed.push_back("198.18.210." + std::to_string(i));
        records.push_back({parseCidr(listed.back()), makeZoneEntry(std::nullopt, PW_ZONE_REJECT)});
    }
    store.setZones(records);
    for (const auto& a : listed) {
        CAPTURE(a);
        CHECK(summaryBit(a));
        CHECK(verdict(a) == XDP_DROP);
    }
    // Few unlisted sources get past the summary (40 entries fitted into 16 buckets of 128 bits).
    int past = 0;
    std::string hidden;
    for (int i = 1; i <= 250; ++i) {
        const std::string a = "198.18.220." + std::to_string(i);
        if (summaryBit(a))
            ++past;
        else if (hidden.empty())
            hidden = a;
    }
    CHECK(past < 25);
    REQUIRE_FALSE(hidden.empty());
    // Written into the active half without its summary bit: the data plane never looks.
    const __u32 active = h.maps().gen.lookup(0)->hosts & 1;
    REQUIRE(hosttab::put<Host4>(h.maps().hosts4.half(active, activeShrink()), parseAddr(hidden),
                                HostEntry{PW_ZONE_REJECT, PW_ORIGIN_CTL, 0, PW_ZONE_REJECT}));
    CHECK(verdict(hidden) == XDP_PASS);
    // Through PolicyStore, which rebuilds the summary: seen.
    store.setZone(parseCidr(hidden), makeZoneEntry(std::nullopt, PW_ZONE_REJECT));
    CHECK(summaryBit(hidden));
    CHECK(verdict(hidden) == XDP_DROP);
    store.eraseZone(parseCidr(hidden));
    CHECK(verdict(hidden) == XDP_PASS);
    // A reload builds its half's summary too.
    h.install(kBaseDrop);
    CHECK(verdict(listed.front()) == XDP_PASS);
}

} // namespace pbxwall::bpftest

namespace pbxwall::bpftest {

// IPv4 prefixes of many lengths, nested, set by pbxwallctl-style edits: the data plane's
// multibit trie must give every address the zone of its longest prefix (the counter row that
// moves names the zone), and an erased prefix must hand its addresses back to the next one.
TEST_CASE("nested IPv4 prefixes of every stride decide by the longest", "[bpf][zones]")
{
    Harness h;
    PolicyStore store(h.maps());
    const std::vector<std::pair<std::string, pw_zone>> prefixes = {
        {"198.16.0.0/14", PW_ZONE_LOCAL},   {"198.18.0.0/17", PW_ZONE_OTHER},   {"198.18.64.0/20", PW_ZONE_REJECT},
        {"198.18.66.0/23", PW_ZONE_LOCAL},  {"198.18.67.0/26", PW_ZONE_OTHER},  {"198.18.67.44/30", PW_ZONE_REJECT},
        {"198.18.67.45/32", PW_ZONE_LOCAL}, {"198.18.200.0/21", PW_ZONE_OTHER},
    };
    std::vector<ZoneRecord> records;
    for (const auto& [c, z] : prefixes)
        records.push_back({parseCidr(c), makeZoneEntry(std::nullopt, z)});
    store.setZones(records);

    const auto zoneOf = [&](const char* src) {
        const Peer p{src, src};
        const Outcome o = h.run(ip(Family::V4, p, kHost).udp(40000, 20001).bytes());
        REQUIRE(o.moved.size() == 1);
        return o.moved[0].zone;
    };
    CHECK(zoneOf("198.17.1.1") == PW_ZONE_LOCAL);    // /14 only
    CHECK(zoneOf("198.18.20.1") == PW_ZONE_OTHER);   // /17 (198.18.1-3.0/24 are the base config's)
    CHECK(zoneOf("198.18.65.1") == PW_ZONE_REJECT);  // /20
    CHECK(zoneOf("198.18.66.200") == PW_ZONE_LOCAL); // /23
    CHECK(zoneOf("198.18.67.1") == PW_ZONE_OTHER);   // /26
    CHECK(zoneOf("198.18.67.64") == PW_ZONE_LOCAL);  // /23 again, past the /26
    CHECK(zoneOf("198.18.67.44") == PW_ZONE_REJECT); // /30
    CHECK(zoneOf("198.18.67.47") == PW_ZONE_REJECT); // /30, last address
    CHECK(zoneOf("198.18.67.45") == PW_ZONE_LOCAL);  // host entry (host table)
    CHECK(zoneOf("198.18.128.1") == PW_ZONE_LOCAL);  // outside the /17, inside the /14
    CHECK(zoneOf("198.18.207.255") == PW_ZONE_OTHER); // /21, last address
    CHECK(zoneOf("198.18.208.0") == PW_ZONE_LOCAL);  // just past it

    store.eraseZone(parseCidr("198.18.64.0/20"));
    CHECK(zoneOf("198.18.65.1") == PW_ZONE_OTHER);   // back to the /17
    CHECK(zoneOf("198.18.67.44") == PW_ZONE_REJECT); // longer prefixes stay
    store.eraseZone(parseCidr("198.16.0.0/14"));
    CHECK(zoneOf("198.17.1.1") == PW_ZONE_INTERNET); // the interface's zone
    CHECK(store.zone(parseCidr("198.18.67.0/26")).has_value());
}

} // namespace pbxwall::bpftest
