// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The IPv4 prefix table (multibit trie with leaf pushing) against a brute-force longest-prefix
// match, on plain memory. The BPF fixtures check that the data plane reads it the same way.
#include "net4_table.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <stdexcept>
#include <vector>

using namespace pbxwall;

namespace {

__u32 mask(__u8 len) { return len ? ~0U << (32 - len) : 0; }

__u8 bruteForce(const std::vector<net4::Prefix>& ps, __u32 addr)
{
    int best = -1;
    __u8 zone = PW_ZONE_NONE;
    for (const auto& p : ps)
        if ((addr & mask(p.len)) == p.addr && p.len >= best) { // a repeated prefix: the last one, as in build()
            best = p.len;
            zone = p.zone;
        }
    return zone;
}

std::vector<pw_net4_block> table(__u32 chunks) { return std::vector<pw_net4_block>(PW_NET4_TOP / 16 + chunks); }

} // namespace

TEST_CASE("IPv4 prefix table: longest prefix wins at every length", "[net4]")
{
    // Nested prefixes of every length 0..31 around one address, each with its own zone.
    const __u32 a = 0xC6120A0BU; // 198.18.10.11
    std::vector<net4::Prefix> ps;
    for (__u8 len = 0; len < 32; ++len)
        ps.push_back({a & mask(len), len, static_cast<__u8>(1 + len % 5)});
    auto mem = table(64);
    net4::build(mem, ps);
    for (__u8 len = 0; len <= 32; ++len) {
        // An address that shares exactly `len` leading bits with a.
        const __u32 probe = len == 32 ? a : a ^ (1U << (31 - len));
        CAPTURE(len);
        REQUIRE(net4::lookup(mem, probe) == bruteForce(ps, probe));
    }
}

TEST_CASE("IPv4 prefix table: random prefix sets match a brute-force search", "[net4]")
{
    std::mt19937 rng(11);
    for (int round = 0; round < 20; ++round) {
        std::vector<net4::Prefix> ps;
        const int n = 1 + static_cast<int>(rng() % 300);
        for (int i = 0; i < n; ++i) {
            const __u8 len = static_cast<__u8>(8 + rng() % 24); // /8../31
            // Mostly inside 198.18.0.0/15 so that prefixes nest and overlap.
            const __u32 base = rng() % 4 ? 0xC6120000U | (rng() & 0x1ffffU) : static_cast<__u32>(rng());
            ps.push_back({base & mask(len), len, static_cast<__u8>(1 + rng() % 5)});
        }
        auto mem = table(pw_net4_chunks(static_cast<__u32>(ps.size())));
        net4::build(mem, ps);
        for (int k = 0; k < 3000; ++k) {
            const __u32 probe = rng() % 2 ? 0xC6120000U | (rng() & 0x1ffffU) : static_cast<__u32>(rng());
            CAPTURE(round, probe);
            REQUIRE(net4::lookup(mem, probe) == bruteForce(ps, probe));
        }
        for (const auto& p : ps) // the first and last address of every prefix
            for (__u32 probe : {p.addr, p.addr | ~mask(p.len)})
                REQUIRE(net4::lookup(mem, probe) == bruteForce(ps, probe));
    }
}

TEST_CASE("IPv4 prefix table: a rebuild forgets what is no longer listed", "[net4]")
{
    auto mem = table(16);
    net4::build(mem, {{0xC6120000U, 24, PW_ZONE_REJECT}, {0xC6120080U, 25, PW_ZONE_TRUSTED}});
    REQUIRE(net4::lookup(mem, 0xC6120081U) == PW_ZONE_TRUSTED);
    REQUIRE(net4::lookup(mem, 0xC6120001U) == PW_ZONE_REJECT);
    net4::build(mem, {{0xC6130000U, 16, PW_ZONE_LOCAL}});
    REQUIRE(net4::lookup(mem, 0xC6120081U) == PW_ZONE_NONE);
    REQUIRE(net4::lookup(mem, 0xC6130505U) == PW_ZONE_LOCAL);
    net4::build(mem, {});
    REQUIRE(net4::lookup(mem, 0xC6130505U) == PW_ZONE_NONE);
}

TEST_CASE("IPv4 prefix table: too few chunks is an error, bad prefixes are refused", "[net4]")
{
    auto mem = table(3);
    // Three /24s in three /16s need 6 chunks.
    REQUIRE_THROWS_WITH(net4::build(mem, {{0x0A000000U, 24, 5}, {0x0A010000U, 24, 5}, {0x0A020000U, 24, 5}}),
                        Catch::Contains("raise [limits] nets"));
    REQUIRE_THROWS_AS(net4::build(mem, {{0x0A000001U, 24, 5}}), std::invalid_argument); // host bits set
    REQUIRE(pw_net4_chunks(65536) == 2 * 65536 + 64);
}
