// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for pw_rate, the budget cache of unknown sources (pbxwall_abi.h): two buckets per key,
// the limit lanes that tell a source over its budget without its slot, the eviction of the least
// recently used budget, and the e2e bench's flood at production size.
#include "fixtures.hpp"
#include "sip_support.hpp"

#include "policy.hpp"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace pbxwall::bpftest {

using namespace sipfx;

namespace {

// A [sip] table where one packet is a source's whole budget for a day (as in the e2e bench):
// every packet after a source's first is rate limited while its budget lasts.
std::string dayBudgetConfig()
{
    std::string toml = sipConfig();
    toml.replace(toml.find("rate = 2\nperiod = 60"), 20, "rate = 1\nperiod = 86400");
    toml.replace(toml.find("burst = 1"), 9, "burst = 0");
    toml.replace(toml.find("ban_after = 3"), 13, "ban_after = 0");
    return toml;
}

// pw_host_hash of a budget key, as the data plane works it out for pw_rate.
__u64 keyHash(const pw_ban_key& k)
{
    __u64 hi, lo;
    std::memcpy(&hi, k.addr, 8);
    std::memcpy(&lo, k.addr + 8, 8);
    return pw_host_hash(hi, lo);
}

// The first pw_rate bucket of a budget key (pbxwall_abi.h).
__u32 firstBucket(const pw_ban_key& k, __u32 rateMask)
{
    return pw_rate_bucket(keyHash(k), rateMask, 0);
}

// Internet source n of the rate fixtures, as text: 198.18.100.0 on, for n < kInternetSources.
constexpr __u32 kInternetSources = (1U << 17) - 100 * 256;
std::string internetSource(__u32 n)
{
    const __u32 v = ((198U << 24) | (18U << 16) | (100U << 8)) + n;
    return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." + std::to_string((v >> 8) & 255) +
           "." + std::to_string(v & 255);
}

// Nine internet sources whose keys share both pw_rate buckets, in the order found; the ninth
// one for which `ninth(its hash)` holds. Empty when the range holds none.
std::vector<std::string> nineSharingBuckets(__u32 rateMask, const std::function<bool(__u64)>& ninth = {})
{
    std::map<std::pair<__u32, __u32>, std::vector<std::string>> byBuckets;
    for (__u32 n = 0; n < kInternetSources; ++n) {
        const std::string text = internetSource(n);
        const __u64 hash = keyHash(addrKey(text));
        auto& same = byBuckets[{pw_rate_bucket(hash, rateMask, 0), pw_rate_bucket(hash, rateMask, 1)}];
        if (same.size() == 8 && (!ninth || ninth(hash))) {
            same.push_back(text);
            return same;
        }
        if (same.size() < 8)
            same.push_back(text);
    }
    return {};
}

} // namespace

// pw_rate gives a key two buckets: five sources whose first buckets are the same all keep their
// budgets (with one bucket per key, the fifth would take the first one's slot, and the first's
// next packet would pass on a new budget).
TEST_CASE("five budgets whose first bucket is the same are all kept", "[bpf][sip][rate]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(dayBudgetConfig());
    const __u32 mask = h.maps().gen.lookup(0).value().rate_mask;
    // Internet sources (198.18.100.0 on, 2001:db8:100:N::1, each IPv6 one its own /64 budget)
    // until five share a first bucket.
    std::map<__u32, std::vector<std::string>> byBucket;
    std::vector<std::string> five;
    for (unsigned n = 1; five.empty() && n < 60000; ++n) {
        const std::string a = f == Family::V4
                                  ? "198.18." + std::to_string(100 + n / 250) + "." + std::to_string(n % 250 + 1)
                                  : "2001:db8:100:" + std::to_string(n) + "::1";
        auto& same = byBucket[firstBucket(addrKey(budgetKey64(f, Peer{a.c_str(), a.c_str()})), mask)];
        same.push_back(a);
        if (same.size() == 5)
            five = same;
    }
    REQUIRE(five.size() == 5);
    for (const auto& a : five)
        checkVerdict(h, expect(named(f, "first packet: a budget"), sipUdp(f, Peer{a.c_str(), a.c_str()}),
                               PW_REASON_SIP_RESPONSIVE));
    for (int round = 0; round < 2; ++round)
        for (const auto& a : five)
            checkVerdict(h, expect(named(f, "next packets: over that budget"), sipUdp(f, Peer{a.c_str(), a.c_str()}),
                                   PW_REASON_RATE_LIMITED));
    for (const auto& a : five)
        CHECK(hasRateKey(h, budgetKey64(f, Peer{a.c_str(), a.c_str()})));
}

// Every change of a budget's tat_ns rewrites its lane (pbxwall_abi.h): a lane that fell behind
// would only send lookups on to the slot, so the lanes are read back and compared.
TEST_CASE("a budget's lane follows its tat", "[bpf][sip][rate]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    const bool day = GENERATE(false, true); // rate 2 a minute, burst 1; or 1 a day, burst 0
    Harness h(day ? dayBudgetConfig() : sipConfig());
    const pw_policy pol = PolicyStore(h.maps()).settings();
    const std::vector<std::string> sources = f == Family::V4
                                                 ? std::vector<std::string>{"198.18.100.1", "198.18.100.2", "198.18.101.3"}
                                                 : std::vector<std::string>{"2001:db8:100:1::1", "2001:db8:100:2::1", "2001:db8:101:3::1"};
    for (int round = 0; round < 3; ++round)
        for (size_t n = 0; n < sources.size(); ++n) {
            const std::string& a = sources[n];
            if (round > 0 && n == 0)
                continue; // one source sends once: its lane keeps the first budget's limit
            h.action(sipUdp(f, Peer{a.c_str(), a.c_str()}).bytes());
            const pw_ban_key k = addrKey(budgetKey64(f, Peer{a.c_str(), a.c_str()}));
            const auto slot = h.maps().rate.slotOf(k);
            REQUIRE(slot);
            const pw_rate r = h.maps().rate.lookup(k).value();
            const __u64 allowance = static_cast<__u64>(pol.burst) * pol.interval_ns;
            INFO(a << " round " << round);
            CHECK(h.maps().rate.lane(*slot) ==
                  pw_rate_lane(pw_rate_check(keyHash(k)), r.tat_ns > allowance ? r.tat_ns - allowance : 0));
        }
}

// A lane judges only the key whose tag and check it carries: a source that shares its buckets and
// its 16-bit tag with one over its budget still gets a budget of its own.
TEST_CASE("a lane over its budget does not judge a source that shares only its tag", "[bpf][sip][rate]")
{
    Harness h(dayBudgetConfig());
    const __u32 mask = h.maps().gen.lookup(0).value().rate_mask;
    std::map<std::tuple<__u32, __u32, __u32>, std::pair<std::string, __u32>> seen;
    std::string a, b;
    for (__u32 n = 0; a.empty() && n < kInternetSources; ++n) {
        const std::string text = internetSource(n);
        const __u64 hash = keyHash(addrKey(text));
        const auto key = std::make_tuple(pw_rate_bucket(hash, mask, 0), pw_rate_bucket(hash, mask, 1),
                                         static_cast<__u32>(hash >> 48) | 1);
        const auto it = seen.find(key);
        if (it != seen.end() && it->second.second != pw_rate_check(hash)) {
            a = it->second.first;
            b = text;
        }
        seen.emplace(key, std::make_pair(text, pw_rate_check(hash)));
    }
    REQUIRE_FALSE(a.empty());
    INFO(a << " and " << b);
    const Peer pa{a.c_str(), a.c_str()}, pb{b.c_str(), b.c_str()};
    checkVerdict(h, expect("the first source: a budget", sipUdp(Family::V4, pa), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect("the first source: over it", sipUdp(Family::V4, pa), PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect("the second source: a budget of its own", sipUdp(Family::V4, pb), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect("the second source: over it", sipUdp(Family::V4, pb), PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect("the first source: still over", sipUdp(Family::V4, pa), PW_REASON_RATE_LIMITED));
}

// A lane proves its key over its budget only while its limit is ahead of now: in now's own unit
// the key may conform again, so the lookup goes on to the slot, which decides. The budget is
// moved back to now by hand (its slot's tat_ns and its lane), at least 100 ms from the lane
// unit's next boundary so that the data plane's clock is still in the same unit.
TEST_CASE("a lane whose limit is in now's own unit sends the lookup on to the slot", "[bpf][sip][rate]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(dayBudgetConfig());
    const std::string a = f == Family::V4 ? "198.18.100.7" : "2001:db8:100:7::1";
    const Peer p{a.c_str(), a.c_str()};
    checkVerdict(h, expect(named(f, "a budget"), sipUdp(f, p), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "over it for a day"), sipUdp(f, p), PW_REASON_RATE_LIMITED));
    const pw_ban_key k = addrKey(budgetKey64(f, p));
    const __u32 slot = h.maps().rate.slotOf(k).value();
    const int fd = h.maps().rate.fd();
    constexpr __u64 kMs = 1000000;
    __u64 now = 0;
    for (int attempt = 0; attempt < 10; ++attempt) {
        now = coarseNow() - 20 * kMs;
        if ((now >> PW_RATE_LIMIT_SHIFT) == ((now + 120 * kMs) >> PW_RATE_LIMIT_SHIFT))
            break;
        now = 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(130));
    }
    REQUIRE(now != 0);
    pw_rate r{};
    REQUIRE(bpf_map_lookup_elem(fd, &slot, &r) == 0);
    r.tat_ns = now; // burst 0: the limit is tat_ns itself
    REQUIRE(bpf_map_update_elem(fd, &slot, &r, BPF_ANY) == 0);
    const __u32 line = pw_rate_lane_entry(h.maps().rate.slots(), slot);
    std::array<__u32, PW_RATE_LANES_PER_BLOCK> lanes{};
    static_assert(sizeof(lanes) == sizeof(pw_rate));
    REQUIRE(bpf_map_lookup_elem(fd, &line, lanes.data()) == 0);
    lanes[slot % PW_RATE_LANES_PER_BLOCK] = pw_rate_lane(pw_rate_check(keyHash(k)), now);
    REQUIRE(bpf_map_update_elem(fd, &line, lanes.data(), BPF_ANY) == 0);
    checkVerdict(h, expect(named(f, "its limit is now: the slot says it conforms"), sipUdp(f, p),
                           PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "then over it again"), sipUdp(f, p), PW_REASON_RATE_LIMITED));
}

// Rate strikes count within ban_window from the first: a window another CPU started a tick ahead
// of this CPU's copy of the clock is the current one, not one that ended 2^64 ns ago (which
// restarted the count and put the ban off).
TEST_CASE("rate strikes in a window stamped ahead of the clock still ban", "[bpf][sip][rate][bans]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig()); // rate 2 a minute, burst 1, ban_after 3
    const std::string a = f == Family::V4 ? "198.18.100.9" : "2001:db8:100:9::1";
    const Peer p{a.c_str(), a.c_str()};
    checkVerdict(h, expect(named(f, "a budget"), sipUdp(f, p), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "its burst"), sipUdp(f, p), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "a first strike"), sipUdp(f, p), PW_REASON_RATE_LIMITED));
    const __u32 slot = h.maps().rate.slotOf(addrKey(budgetKey64(f, p))).value();
    const int fd = h.maps().rate.fd();
    pw_rate r{};
    REQUIRE(bpf_map_lookup_elem(fd, &slot, &r) == 0);
    REQUIRE(r.strikes == 1);
    r.strikes_from_ns = coarseNow() + 1000000000ULL; // ahead, so that it still is when the run comes
    REQUIRE(bpf_map_update_elem(fd, &slot, &r, BPF_ANY) == 0);
    checkVerdict(h, expect(named(f, "a second strike"), sipUdp(f, p), PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect(named(f, "the third bans"), sipUdp(f, p), PW_REASON_RATE_LIMITED));
    REQUIRE(h.banOf(a));
    CHECK(h.banOf(a)->cause == PW_BAN_RATE_LIMIT);
}

// With both of its buckets full, a new budget replaces the least recently used slot of one of
// them: the one whose lane holds the earliest limit (the sources here start a third of a second
// apart, more than a lane's unit).
TEST_CASE("a new budget in two full buckets replaces the least recently used", "[bpf][sip][rate]")
{
    Harness h(dayBudgetConfig());
    const __u32 mask = h.maps().gen.lookup(0).value().rate_mask;
    const std::vector<std::string> nine = nineSharingBuckets(mask);
    REQUIRE(nine.size() == 9);
    std::map<std::string, __u32> slotOf;
    for (size_t n = 0; n < 8; ++n) {
        if (n)
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const Peer p{nine[n].c_str(), nine[n].c_str()};
        checkVerdict(h, expect("a budget for " + nine[n], sipUdp(Family::V4, p), PW_REASON_SIP_RESPONSIVE));
        slotOf[nine[n]] = h.maps().rate.slotOf(addrKey(nine[n])).value();
    }
    const Peer last{nine[8].c_str(), nine[8].c_str()};
    checkVerdict(h, expect("a budget for the ninth", sipUdp(Family::V4, last), PW_REASON_SIP_RESPONSIVE));
    const __u32 taken = h.maps().rate.slotOf(addrKey(nine[8])).value();
    // The replaced source is the first of those that shared the ninth's bucket.
    std::string replaced;
    for (size_t n = 0; n < 8 && replaced.empty(); ++n)
        if ((slotOf[nine[n]] & ~(PW_RATE_WAYS - 1)) == (taken & ~(PW_RATE_WAYS - 1)))
            replaced = nine[n];
    INFO("replaced " << replaced);
    CHECK(slotOf[replaced] == taken);
    for (size_t n = 0; n < 8; ++n)
        CHECK(h.maps().rate.slotOf(addrKey(nine[n])).has_value() == (nine[n] != replaced));
}

// The default budget (10 a minute, burst 5: a new budget's limit is 24 s before now), and nine
// sources sharing both buckets, the last of which replaces a slot of the first bucket (bit 1 of
// its tag 0: pbxwall_abi.h), where the first source, a TCP connection, goes with its SYN.
struct ConnBuckets {
    Harness h;
    std::vector<std::string> nine;
    __u32 connSlot = 0;
    __u32 base = 0; // the connection's bucket

    ConnBuckets() : h(config())
    {
        const __u32 mask = h.maps().gen.lookup(0).value().rate_mask;
        nine = nineSharingBuckets(mask, [](__u64 hash) { return !((((hash >> 48) | 1) >> 1) & 1); });
        REQUIRE(nine.size() == 9);
        checkVerdict(h, expect("the connection's SYN gets a budget", tcp(test::TcpFlags::Syn), PW_REASON_SIP_RESPONSIVE));
        connSlot = h.maps().rate.slotOf(addrKey(nine[0])).value();
        base = pw_rate_bucket(keyHash(addrKey(nine[0])), mask, 0);
        REQUIRE(connSlot < base + PW_RATE_WAYS);
    }
    static std::string config()
    {
        std::string toml = sipConfig();
        toml.replace(toml.find("rate = 2\nperiod = 60"), 20, "rate = 10\nperiod = 60");
        toml.replace(toml.find("burst = 1"), 9, "burst = 5");
        return toml;
    }
    test::Packet tcp(test::TcpFlags flags) const
    {
        const Peer conn{nine[0].c_str(), nine[0].c_str()};
        return ip(Family::V4, conn, kHost).tcp(40000, 5060, flags);
    }
    void budgetFor(size_t n)
    {
        const Peer p{nine[n].c_str(), nine[n].c_str()};
        checkVerdict(h, expect("a budget for " + nine[n], sipUdp(Family::V4, p), PW_REASON_SIP_RESPONSIVE));
    }
    // Now, in lane units.
    static __u32 nowUnits()
    {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return static_cast<__u32>((static_cast<__u64>(ts.tv_sec) * 1000000000ULL + ts.tv_nsec) >> PW_RATE_LIMIT_SHIFT);
    }
    // Writes `limit` into the lanes of the connection's bucket whose slot `which` takes.
    template <typename Which>
    void setLimits(Which which, __u32 limit)
    {
        const int fd = h.maps().rate.fd();
        const __u32 line = pw_rate_lane_entry(h.maps().rate.slots(), base);
        std::array<__u32, PW_RATE_LANES_PER_BLOCK> lanes{};
        REQUIRE(bpf_map_lookup_elem(fd, &line, lanes.data()) == 0);
        for (__u32 s = base; s < base + PW_RATE_WAYS; ++s)
            if (which(s)) {
                __u32& l = lanes[s % PW_RATE_LANES_PER_BLOCK];
                l = (l & ~PW_RATE_LIMIT_MASK) | (limit & PW_RATE_LIMIT_MASK);
            }
        REQUIRE(bpf_map_update_elem(fd, &line, lanes.data(), BPF_ANY) == 0);
    }
};

// An open TCP connection's segments are not charged, but they keep its budget in use: with its
// buckets full, a new budget replaces another source's, not the connection's (whose lane would
// otherwise hold the earliest limit, its SYN's, and whose next segment, not a SYN, would then be
// dropped as a new source's). The segments move its lane to now: it outlives budgets created
// up to (burst - 1) intervals after its last segment (24 s by default).
TEST_CASE("an open TCP connection's budget is not the first one replaced", "[bpf][sip][rate]")
{
    ConnBuckets c;
    for (size_t n = 1; n < 8; ++n) { // a third of a second apart: more than a lane's unit
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        c.budgetFor(n);
    }
    checkVerdict(c.h, expect("the connection's segments pass uncharged", c.tcp(test::TcpFlags::Ack | test::TcpFlags::Psh),
                             PW_REASON_SIP_RESPONSIVE));
    c.budgetFor(8);
    CHECK(c.h.maps().rate.slotOf(addrKey(c.nine[0])) == c.connSlot);
    checkVerdict(c.h, expect("the connection goes on", c.tcp(test::TcpFlags::Ack), PW_REASON_SIP_RESPONSIVE));
}

// A lane is written only when its key sends: budgets silent for 26 days (2^23 lane units) and
// more are older than a live one, whose slot must not go first (with the ages offset by 2^23
// they wrapped round to young, and an open TCP connection lost its budget, its segments then
// dropping at the gate).
TEST_CASE("budgets silent for weeks are replaced before a live one", "[bpf][sip][rate]")
{
    ConnBuckets c;
    for (size_t n = 1; n < 8; ++n)
        c.budgetFor(n);
    // The connection's bucket mates: last heard of 2^23 + 100 units (26 days) ago.
    c.setLimits([&](__u32 s) { return s != c.connSlot; }, ConnBuckets::nowUnits() - (1U << 23) - 100);
    c.budgetFor(8);
    CHECK(c.h.maps().rate.slotOf(addrKey(c.nine[0])) == c.connSlot);
    checkVerdict(c.h, expect("the connection goes on", c.tcp(test::TcpFlags::Ack), PW_REASON_SIP_RESPONSIVE));
}

// A budget over its limit under a longer interval (before a reload that raised rate or
// shortened period) has its limit up to that interval ahead of now: it is among the youngest,
// not the oldest (with the ages offset by the policy's own span, a lane an hour ahead under a
// six-second interval wrapped round to the oldest, and the source got a fresh budget first).
TEST_CASE("a budget over an hour's limit is not the first replaced under a shorter interval", "[bpf][sip][rate]")
{
    ConnBuckets c; // 10 a minute: an interval of 6 s
    for (size_t n = 1; n < 8; ++n)
        c.budgetFor(n);
    const __u32 hourAhead = static_cast<__u32>((3600ULL * 1000000000ULL) >> PW_RATE_LIMIT_SHIFT);
    c.setLimits([&](__u32 s) { return s == c.connSlot; }, ConnBuckets::nowUnits() + hourAhead);
    c.budgetFor(8);
    CHECK(c.h.maps().rate.slotOf(addrKey(c.nine[0])) == c.connSlot);
}

// The e2e bench's flood at the production size of pw_rate: 100,000 sources in turn, each over
// its budget after its first packet. Once every source has a budget, hardly any passes again:
// with one bucket per key about 7% did, every round; with two whose tags share a line, a few
// sources of a group of eight buckets with more than 32 keys' worth of choices (0-4 a round here).
TEST_CASE("100,000 sources in turn keep their budgets in a production-sized pw_rate", "[bpf][sip][rate]")
{
    CpuPin pin; // one CPU, as one receive queue would have it
    Harness h(dayBudgetConfig(), Programs::Ingress, {{PW_MAP_NAME_RATE, pw_rate_entries(PW_DEFAULT_RATE)}});
    constexpr unsigned kSources = 100000;
    std::vector<std::vector<uint8_t>> frames;
    frames.reserve(kSources);
    for (unsigned n = 0; n < kSources; ++n) {
        const std::string a = internetSource(n); // 198.18.100.0 - 198.19.234.159
        frames.push_back(sipUdp(Family::V4, Peer{a.c_str(), a.c_str()}).bytes());
    }
    const auto passes = [&] {
        unsigned n = 0;
        for (const auto& fr : frames)
            n += h.action(fr) == XDP_PASS;
        return n;
    };
    // Each source passes once, on the budget its first packet gets; the new-source gate may hold
    // some back for a round (this loop can inject more than new_sources_per_second).
    constexpr unsigned kFew = kSources / 10000; // 0.01%
    unsigned total = 0;
    for (int round = 0; round < 20 && total < kSources; ++round)
        total += passes();
    CHECK(total >= kSources);
    CHECK(total <= kSources + kFew);
    CHECK(passes() <= kFew);
    CHECK(passes() <= kFew);
    CHECK(h.maps().rate.keys().size() >= kSources - kFew);
}

} // namespace pbxwall::bpftest
