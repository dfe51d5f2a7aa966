// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The host tables' probing rules on plain memory (the kernel side is covered by the BPF
// fixtures, which install policies through the same code and judge packets with it).
#include "host_table.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

using namespace pbxwall;

namespace {

Addr v4(uint32_t hostOrder) { return Addr::fromV4(htonl(hostOrder)); }

Addr v6(uint64_t low)
{
    Addr a = parseAddr("2001:db8::");
    for (int i = 0; i < 8; ++i)
        a.bytes[15 - i] = static_cast<uint8_t>(low >> (8 * i));
    return a;
}

HostEntry zone(__u8 z, __u8 origin = PW_ORIGIN_CTL) { return {z, origin, 0, origin & PW_ORIGIN_CTL ? z : __u8{0}}; }

// Checks a table against a model: every entry found with its value, nothing else counted.
template <typename T>
void requireSame(hosttab::ConstHalf<T> t, const std::map<Addr, HostEntry>& model)
{
    REQUIRE(hosttab::count<T>(t) == model.size());
    for (const auto& [a, e] : model) {
        auto got = hosttab::find<T>(t, a);
        REQUIRE(got);
        REQUIRE(*got == e);
    }
    size_t seen = 0;
    hosttab::forEach<T>(t, [&](const Addr& a, const HostEntry& e) {
        auto it = model.find(a);
        REQUIRE(it != model.end());
        REQUIRE(it->second == e);
        ++seen;
    });
    REQUIRE(seen == model.size());
}

} // namespace

TEST_CASE("the IPv4 table adds, replaces, finds and erases like a map", "[hosttab]")
{
    std::vector<pw_host4_bucket> mem(pw_host_buckets(5000, PW_HOST4_SLOTS));
    hosttab::Half<Host4> t(mem);
    std::map<Addr, HostEntry> model;
    std::mt19937 rng(7);
    for (uint32_t i = 0; i < 5000; ++i) {
        Addr a = v4(0xC6120000U + (rng() & 0x1ffffU)); // 198.18.0.0/15: repeats happen
        HostEntry e = zone(static_cast<__u8>(1 + i % 5));
        REQUIRE(hosttab::put<Host4>(t, a, e) == !model.count(a));
        model[a] = e;
    }
    requireSame<Host4>(t, model);
    // Erase every other entry; the rest must stay reachable past the freed slots.
    size_t n = 0;
    for (auto it = model.begin(); it != model.end();) {
        if (n++ % 2) {
            REQUIRE(hosttab::erase<Host4>(t, it->first));
            REQUIRE_FALSE(hosttab::erase<Host4>(t, it->first));
            it = model.erase(it);
        } else {
            ++it;
        }
    }
    requireSame<Host4>(t, model);
    REQUIRE_FALSE(hosttab::find<Host4>(t, v4(0x0A000001)));
}

TEST_CASE("a full table: every entry up to the capacity fits and is found", "[hosttab]")
{
    const uint32_t want = 100000;
    std::vector<pw_host4_bucket> mem(pw_host_buckets(want, PW_HOST4_SLOTS));
    hosttab::Half<Host4> t(mem);
    const size_t capacity = mem.size() * PW_HOST4_SLOTS * 4 / 5;
    REQUIRE(capacity >= want);
    std::map<Addr, HostEntry> model;
    for (uint32_t k = 0; model.size() < capacity; ++k) { // 10.0.0.0/8, scattered, 80% full
        Addr a = v4((10U << 24) | ((k * 2654435761U) & 0xffffffU));
        hosttab::put<Host4>(t, a, zone(PW_ZONE_REJECT));
        model[a] = zone(PW_ZONE_REJECT);
    }
    requireSame<Host4>(t, model);
}

TEST_CASE("an insertion passes full buckets and marks them; lookups follow the marks", "[hosttab]")
{
    std::vector<pw_host4_bucket> mem(16);
    hosttab::Half<Host4> t(mem);
    // Fill one bucket's worth of addresses that share a home bucket, plus more.
    std::vector<Addr> same;
    const auto home = [&](const Addr& a) {
        uint32_t raw;
        std::memcpy(&raw, a.bytes.data() + 12, 4);
        return pw_host4_hash(raw) & 15;
    };
    for (uint32_t k = 1; same.size() < PW_HOST4_SLOTS + 3; ++k)
        if (home(v4(k)) == home(v4(1)))
            same.push_back(v4(k));
    for (const Addr& a : same)
        REQUIRE(hosttab::put<Host4>(t, a, zone(PW_ZONE_REJECT)));
    REQUIRE(mem[home(same[0])].flags & PW_HOST_PASSED);
    for (const Addr& a : same)
        REQUIRE(hosttab::find<Host4>(t, a));
    // Freeing a slot in the home bucket keeps the overflowed entries reachable.
    REQUIRE(hosttab::erase<Host4>(t, same[0]));
    for (size_t i = 1; i < same.size(); ++i)
        REQUIRE(hosttab::find<Host4>(t, same[i]));
    REQUIRE_FALSE(hosttab::find<Host4>(t, same[0]));
}

TEST_CASE("a table with no room refuses an insertion and is left unchanged", "[hosttab]")
{
    std::vector<pw_host4_bucket> mem(16);
    hosttab::Half<Host4> t(mem);
    uint32_t k = 1;
    try {
        for (;; ++k)
            hosttab::put<Host4>(t, v4(k), zone(PW_ZONE_REJECT));
    } catch (const std::runtime_error& e) {
        REQUIRE(std::string(e.what()).find("too crowded") != std::string::npos);
    }
    REQUIRE(hosttab::count<Host4>(t) == 16 * PW_HOST4_SLOTS);
    REQUIRE_FALSE(hosttab::find<Host4>(t, v4(k)));
    REQUIRE(hosttab::find<Host4>(t, v4(k - 1)));
}

TEST_CASE("the IPv6 table holds 16-byte keys and keeps the families apart", "[hosttab]")
{
    std::vector<pw_host6_bucket> mem(pw_host_buckets(3000, PW_HOST6_SLOTS));
    hosttab::Half<Host6> t(mem);
    std::map<Addr, HostEntry> model;
    for (uint64_t i = 0; i < 3000; ++i) {
        Addr a = v6(i * 0x10001ULL);
        HostEntry e{PW_ZONE_TRUSTED, PW_ORIGIN_CONFIG | PW_ORIGIN_CTL, PW_ZONE_REJECT, PW_ZONE_TRUSTED};
        hosttab::put<Host6>(t, a, e);
        model[a] = e;
    }
    requireSame<Host6>(t, model); // origin, config and ctl zones survive the meta byte
    // Differences in either half of the address are different keys.
    REQUIRE_FALSE(hosttab::find<Host6>(t, parseAddr("2001:db9::1")));
    REQUIRE_FALSE(hosttab::find<Host6>(t, parseAddr("2001:db8::1:0:0:1")));
    REQUIRE_THROWS_AS(hosttab::put<Host6>(t, v4(1), zone(1)), std::invalid_argument);
    std::vector<pw_host4_bucket> mem4(16);
    REQUIRE_THROWS_AS(hosttab::find<Host4>(hosttab::ConstHalf<Host4>(mem4), v6(1)), std::invalid_argument);
}

TEST_CASE("host table sizes: a power of two with room for the limit", "[hosttab]")
{
    for (uint32_t limit : {1U, 16U, 100U, 1000U, 65536U, 1000000U, 1048576U, 16777216U}) {
        const uint32_t b4 = pw_host_buckets(limit, PW_HOST4_SLOTS), b6 = pw_host_buckets(limit, PW_HOST6_SLOTS);
        CAPTURE(limit);
        REQUIRE((b4 & (b4 - 1)) == 0);
        REQUIRE((b6 & (b6 - 1)) == 0);
        REQUIRE(uint64_t{b4} * PW_HOST4_SLOTS * 4 / 5 >= limit);
        REQUIRE(uint64_t{b6} * PW_HOST6_SLOTS * 2 / 3 >= limit);
    }
    REQUIRE(pw_host_buckets(1048576, PW_HOST4_SLOTS) == 131072); // 8 MiB per half
}

// What a fitted half is built with (PolicyStore): the entries of one half placed anew into a
// half of another size, and the other size's lookups find every one of them.
TEST_CASE("rehash places a half's entries into a smaller or larger half", "[hosttab]")
{
    std::vector<pw_host4_bucket> big(1024);
    std::map<Addr, HostEntry> model;
    std::mt19937 rng(7);
    for (int i = 0; i < 500; ++i) {
        const Addr a = v4(rng());
        const HostEntry e = zone(i % 2 ? PW_ZONE_REJECT : PW_ZONE_TRUSTED);
        hosttab::put<Host4>(hosttab::Half<Host4>(big), a, e);
        model[a] = e;
    }
    std::vector<pw_host4_bucket> small(64), larger(4096, pw_host4_bucket{{1}, {}, {}, 1}); // stale entries
    hosttab::rehash<Host4>(hosttab::ConstHalf<Host4>(big), hosttab::Half<Host4>(small));
    requireSame<Host4>(small, model);
    hosttab::rehash<Host4>(hosttab::ConstHalf<Host4>(small), hosttab::Half<Host4>(larger));
    requireSame<Host4>(larger, model); // what was in the target before is gone
    // A target too small for them: refused, as put refuses.
    std::vector<pw_host4_bucket> tiny(16);
    REQUIRE_THROWS_WITH(hosttab::rehash<Host4>(hosttab::ConstHalf<Host4>(big), hosttab::Half<Host4>(tiny)),
                        Catch::Contains("too crowded"));
}

