// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for the host tables' size: a half uses as many buckets as its entries need
// (pw_host_shrink), grows and shrinks with every edit and reload, and stays whole while a
// program that predates the field may use the maps (PW_HOST_SHRINK_ON clear).
#include "fixtures.hpp"

#include "host_table.hpp"
#include "policy.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace pbxwall::bpftest {

namespace {

constexpr __u32 kBuckets4 = 4096, kBuckets6 = 1024; // per half

std::string v4At(size_t i) { return "198.19." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1); }
std::string v6At(size_t i) { return "2001:db8:300::" + std::to_string(i + 1); }

ZoneRecord rejectOf(const std::string& a) { return {parseCidr(a), makeZoneEntry(std::nullopt, PW_ZONE_REJECT)}; }

// How often the active half of each table is halved, as pw_gen_state says.
std::pair<__u32, __u32> activeShrink(Harness& h)
{
    const pw_gen_state g = *h.maps().gen.lookup(0);
    return {pw_host_shrink(g.host_shrink, 0, g.hosts), pw_host_shrink(g.host_shrink, 1, g.hosts)};
}

// The halving that fits n entries into the buckets [limits] would give them.
__u32 expectedShrink(__u32 buckets, size_t n, unsigned slots)
{
    const __u32 want = pw_host_buckets(static_cast<__u32>(n), slots);
    __u32 s = 0;
    while ((buckets >> (s + 1)) >= want)
        ++s;
    return s;
}

} // namespace

TEST_CASE("host tables use the buckets their entries need, through edits and reloads", "[bpf][zones]")
{
    Harness h(kBaseDrop, Programs::Ingress, {{PW_MAP_NAME_HOSTS4, 2 * kBuckets4}, {PW_MAP_NAME_HOSTS6, 2 * kBuckets6}});
    const auto verdict = [&](Family f, const std::string& src) {
        const Peer p{src.c_str(), src.c_str()};
        return h.action(ip(f, p, kHost).udp(40000, 5060).bytes());
    };
    const auto [base4, base6] = PolicyStore(h.maps()).hostCounts();
    const auto expect = [&](size_t n4, size_t n6) {
        return std::pair{expectedShrink(kBuckets4, base4 + n4, PW_HOST4_SLOTS),
                         expectedShrink(kBuckets6, base6 + n6, PW_HOST6_SLOTS)};
    };
    // kBaseDrop alone: the smallest tables (16 buckets).
    REQUIRE(activeShrink(h) == std::pair{8u, 6u});

    std::vector<ZoneRecord> records;
    for (size_t i = 0; i < 50; ++i)
        records.push_back(rejectOf(v4At(i)));
    for (size_t i = 0; i < 20; ++i)
        records.push_back(rejectOf(v6At(i)));
    PolicyStore(h.maps()).setZones(records);
    CHECK(activeShrink(h) == expect(50, 20));
    for (size_t i = 0; i < 50; ++i)
        REQUIRE(verdict(Family::V4, v4At(i)) == XDP_DROP);
    for (size_t i = 0; i < 20; ++i)
        REQUIRE(verdict(Family::V6, v6At(i)) == XDP_DROP);
    CHECK(verdict(Family::V4, v4At(60)) == XDP_PASS);
    CHECK(verdict(Family::V6, v6At(60)) == XDP_PASS);

    // Grown: 12,000 IPv4 entries need 2,048 buckets (half of the half); 600 IPv6 ones 512.
    records.clear();
    for (size_t i = 50; i < 12000; ++i)
        records.push_back(rejectOf(v4At(i)));
    for (size_t i = 20; i < 600; ++i)
        records.push_back(rejectOf(v6At(i)));
    PolicyStore(h.maps()).setZones(records);
    REQUIRE(activeShrink(h) == expect(12000, 600));
    CHECK(activeShrink(h).first == 1);
    for (size_t i = 0; i < 12000; ++i) {
        CAPTURE(v4At(i));
        REQUIRE(verdict(Family::V4, v4At(i)) == XDP_DROP);
    }
    for (size_t i = 0; i < 600; ++i)
        REQUIRE(verdict(Family::V6, v6At(i)) == XDP_DROP);
    CHECK(verdict(Family::V4, v4At(12001)) == XDP_PASS);
    CHECK(PolicyStore(h.maps()).hostCounts() == std::pair{base4 + 12000, base6 + 600});

    // Shrunk again: all but ten of each erased at once.
    std::vector<Cidr> gone;
    for (size_t i = 10; i < 12000; ++i)
        gone.push_back(parseCidr(v4At(i)));
    for (size_t i = 10; i < 600; ++i)
        gone.push_back(parseCidr(v6At(i)));
    PolicyStore(h.maps()).eraseZones(gone);
    CHECK(activeShrink(h) == expect(10, 10));
    for (size_t i = 0; i < 200; ++i) {
        CAPTURE(v4At(i));
        REQUIRE(verdict(Family::V4, v4At(i)) == (i < 10 ? XDP_DROP : XDP_PASS));
        REQUIRE(verdict(Family::V6, v6At(i)) == (i < 10 ? XDP_DROP : XDP_PASS));
    }

    // With shrinking off (an older program attached), the next edit leaves its half whole.
    PolicyStore(h.maps()).allowHostShrink(false);
    PolicyStore(h.maps()).setZone(parseCidr(v4At(10)), makeZoneEntry(std::nullopt, PW_ZONE_REJECT));
    CHECK(activeShrink(h) == std::pair{0u, 0u});
    for (size_t i = 0; i < 20; ++i)
        REQUIRE(verdict(Family::V4, v4At(i)) == (i <= 10 ? XDP_DROP : XDP_PASS));
    REQUIRE(verdict(Family::V6, v6At(0)) == XDP_DROP);
    // A reload rebuilds from the config alone (no state dir in the harness), whole too...
    h.install(kBaseDrop);
    CHECK(activeShrink(h) == std::pair{0u, 0u});
    CHECK(verdict(Family::V4, v4At(0)) == XDP_PASS);
    // ...and fitted again once shrinking is back on.
    PolicyStore(h.maps()).allowHostShrink(true);
    h.install(kBaseDrop);
    CHECK(activeShrink(h) == std::pair{8u, 6u});
}

} // namespace pbxwall::bpftest

namespace pbxwall::bpftest {

// A list that the whole half holds but its fitted size cannot: 480 IPv4 addresses whose home
// bucket is the same in a 64-bucket half (what 480 entries are fitted to). Linear probing
// then meets PW_HOST_PROBES full buckets in a row; the half grows until they fit, by
// an edit and by a reload alike, and every one of them is found.
TEST_CASE("a list crowded at its fitted size grows the half until it fits", "[bpf][zones]")
{
    Harness h(kBaseDrop, Programs::Ingress, {{PW_MAP_NAME_HOSTS4, 2 * kBuckets4}});
    std::vector<std::string> crowded;
    for (__u32 k = 1; crowded.size() < 480 && k < 65536; ++k) {
        const __u32 addr = htonl((198U << 24) | (19U << 16) | k); // 198.19.0.0/16
        if ((pw_host4_hash(addr) & 63) == 0)
            crowded.push_back("198.19." + std::to_string(k >> 8) + "." + std::to_string(k & 255));
    }
    REQUIRE(crowded.size() == 480);
    const auto [base4, base6] = PolicyStore(h.maps()).hostCounts();
    const __u32 fitted = expectedShrink(kBuckets4, base4 + 480, PW_HOST4_SLOTS);
    REQUIRE((kBuckets4 >> fitted) == 64); // the size these entries would get
    std::vector<ZoneRecord> records;
    for (const auto& a : crowded)
        records.push_back(rejectOf(a));
    PolicyStore(h.maps()).setZones(records);
    const __u32 grown = activeShrink(h).first;
    CHECK(grown < fitted);
    const auto verdict = [&](const std::string& src) {
        const Peer p{src.c_str(), src.c_str()};
        return h.action(ip(Family::V4, p, kHost).udp(40000, 5060).bytes());
    };
    for (const auto& a : crowded) {
        CAPTURE(a);
        REQUIRE(verdict(a) == XDP_DROP);
    }
    // A second edit keeps a size that holds them (the fit after it tries 64 buckets again).
    PolicyStore(h.maps()).setZone(parseCidr("198.18.77.1"), makeZoneEntry(std::nullopt, PW_ZONE_REJECT));
    CHECK(activeShrink(h).first < fitted);
    CHECK(verdict(crowded.front()) == XDP_DROP);
    CHECK(verdict(crowded.back()) == XDP_DROP);
    CHECK(verdict("198.18.77.1") == XDP_DROP);
}

} // namespace pbxwall::bpftest
