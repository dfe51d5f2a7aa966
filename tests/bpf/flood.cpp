// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The scale test of [sip]: a million SIP datagrams from distinct spoofed sources against tables
// at their production sizes. Bans and known sources are plain hashes, never LRU, so the flood
// cannot evict them; the new-source gate bounds how much pw_rate state it creates.
#include "fixtures.hpp"
#include "sip_support.hpp"

#include "state.hpp"
#include "stats.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace pbxwall::bpftest {

using test::Packet;

namespace {

using namespace std::chrono_literals;

constexpr const char* kRegister = "REGISTER sip:198.18.0.1 SIP/2.0\r\n"
                                  "Via: SIP/2.0/UDP 100.64.0.1:5060;branch=z9hG4bK-flood\r\n"
                                  "From: <sip:100@198.18.0.1>;tag=1\r\n"
                                  "To: <sip:100@198.18.0.1>\r\n"
                                  "Call-ID: flood\r\n"
                                  "CSeq: 1 REGISTER\r\n"
                                  "Content-Length: 0\r\n\r\n";

// The SIP fixtures' networks and services, with [sip] at its defaults (new_sources_per_second
// = 500).
const std::string kFloodConfig = sipfx::kSipNetworks;

constexpr unsigned kBans = 500;
constexpr unsigned kKnown = 500;
constexpr unsigned kFloodV4 = 800000;
constexpr unsigned kFloodV6 = 200000;
constexpr size_t kIpv4Src = 14 + 12; // frame offset of the IPv4 source address
constexpr size_t kIpv6Src = 14 + 8;  // frame offset of the IPv6 source address

// Ban i and known source i: half IPv4 (198.19.0.0/16), half IPv6, all internet zone.
std::string banAddr(unsigned i)
{
    return i % 2 ? "2001:db8:ba::" + std::to_string(i) : "198.19." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1);
}
std::string knownAddr(unsigned i)
{
    return i % 2 ? "2001:db8:c0::" + std::to_string(i)
                 : "198.19." + std::to_string(100 + i / 200) + "." + std::to_string(i % 200 + 1);
}

uint64_t packetsOf(const std::vector<CounterRow>& rows, pw_reason reason)
{
    uint64_t n = 0;
    for (const auto& r : rows)
        if (r.reason == static_cast<unsigned>(reason))
            n += r.packets;
    return n;
}

} // namespace

TEST_CASE("a flood of spoofed SIP sources evicts no ban and no known source", "[bpf][sip][flood]")
{
    CpuPin pin; // one CPU, as one receive queue would have it
    Harness h(kFloodConfig, Programs::Ingress,
              {{PW_MAP_NAME_BANS, PW_DEFAULT_BANS}, {PW_MAP_NAME_KNOWN, PW_DEFAULT_KNOWN},
               {PW_MAP_NAME_KNOWNBITS, 2 * pw_banbit_words(PW_DEFAULT_KNOWN)}, {PW_MAP_NAME_RATE, pw_rate_entries(PW_DEFAULT_RATE)}});

    const uint64_t now = monotonicNowNs();
    std::vector<pw_ban_key> banKeys, knownKeys;
    std::vector<pw_ban> banValues;
    std::vector<pw_known> knownValues;
    for (unsigned i = 0; i < kBans; ++i) {
        banKeys.push_back(addrKey(banAddr(i)));
        banValues.push_back(pw_ban{i % 5 ? now + 3600 * 1000000000ULL : 0, now, PW_BAN_MANUAL, 0, {}});
    }
    for (unsigned i = 0; i < kKnown; ++i) {
        knownKeys.push_back(addrKey(knownAddr(i)));
        pw_known k{};
        k.expires_ns = now + 3600 * 1000000000ULL;
        k.created_ns = now;
        knownValues.push_back(k);
    }
    h.maps().bans.updateMany(banKeys, banValues);
    h.maps().known.updateMany(knownKeys, knownValues);
    REQUIRE(h.maps().bans.keys().size() == kBans);
    REQUIRE(h.maps().known.keys().size() == kKnown);

    // One frame per family; only the source address changes between runs. Nothing in the
    // data plane reads the IPv4 header checksum, so it is left as it is.
    std::vector<uint8_t> v4 = Packet().eth().ipv4("100.64.0.0", kHost.v4).udp(5060, 5060).sip(kRegister).bytes();
    std::vector<uint8_t> v6 = Packet().eth().ipv6("2001:db8:8000::1", kHost.v6).udp(5060, 5060).sip(kRegister).bytes();

    xdp_md ctx{};
    ctx.ingress_ifindex = kLo;
    const auto runOne = [&](std::vector<uint8_t>& frame) {
        ctx.data_end = static_cast<__u32>(frame.size());
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
        if (bpf_prog_test_run_opts(h.xdpFd(), &opts) != 0)
            throwErrno(errno, "test run " PW_PROG_NAME_XDP);
        return static_cast<int>(opts.retval);
    };

    const auto before = h.counters();
    uint64_t passed = 0, dropped = 0, other = 0;
    const auto start = std::chrono::steady_clock::now();
    for (unsigned i = 0; i < kFloodV4 + kFloodV6; ++i) {
        int action;
        if (i % 5 == 4 && i / 5 < kFloodV6) {
            // 2001:db8:8000::/33: each source in a /64 of its own, so each is a new budget.
            const uint32_t n = htonl(0x80000000u | (i / 5));
            std::memcpy(&v6[kIpv6Src + 4], &n, 4);
            action = runOne(v6);
        } else {
            // 100.64.0.0/10: distinct addresses (the benchmarking /15 is too small for a million).
            const uint32_t a = htonl(0x64400000u + i);
            std::memcpy(&v4[kIpv4Src], &a, 4);
            action = runOne(v4);
        }
        if (action == XDP_PASS)
            ++passed;
        else if (action == XDP_DROP)
            ++dropped;
        else
            ++other;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // Counter deltas: the flood counters only moved in slot 1, zone internet.
    std::vector<CounterRow> delta = h.counters();
    for (auto& r : delta)
        for (const auto& b : before)
            if (b.slot == r.slot && b.zone == r.zone && b.reason == r.reason)
                r.packets -= b.packets;
    const uint64_t created = packetsOf(delta, PW_REASON_SIP_RESPONSIVE);
    const uint64_t refused = packetsOf(delta, PW_REASON_NEW_SOURCE_LIMITED);
    const size_t rateEntries = h.maps().rate.keys().size();
    const uint64_t total = kFloodV4 + kFloodV6;

    WARN("flood: " << total << " SIP datagrams from distinct sources (" << kFloodV4 << " IPv4, " << kFloodV6
                   << " IPv6) in " << seconds << " s (" << static_cast<uint64_t>(total / seconds) << " runs/s): "
                   << created << " got a pw_rate entry (" << rateEntries << " entries now), " << refused
                   << " refused as new_source_limited; " << passed << " passed, " << dropped << " dropped");

    CHECK(other == 0);
    CHECK(passed == created);
    CHECK(dropped == refused);
    CHECK(created + refused == total);
    CHECK(rateEntries == created); // nothing was evicted: the gate kept the table far from full
    // new_sources_per_second = 500 for all CPUs together (one budget, whichever CPU runs the
    // program), plus the one tick of the coarse clock the gate tolerates.
    CHECK(static_cast<double>(created) <= seconds * 500 + 10);
    CHECK(refused >= total * 95 / 100);
    CHECK(seconds < 60);

    // Every ban and every known source survived.
    CHECK(h.maps().bans.keys().size() == kBans);
    CHECK(h.maps().known.keys().size() == kKnown);
    unsigned bansKept = 0, knownKept = 0;
    for (unsigned i = 0; i < kBans; ++i) {
        const auto b = h.maps().bans.lookup(banKeys[i]);
        bansKept += b && b->expires_ns == banValues[i].expires_ns;
    }
    for (unsigned i = 0; i < kKnown; ++i) {
        const auto k = h.maps().known.lookup(knownKeys[i]);
        knownKept += k && k->expires_ns == knownValues[i].expires_ns;
    }
    CHECK(bansKept == kBans);
    CHECK(knownKept == kKnown);

    // And they still work, right after the flood (the gate's budget is spent).
    const Peer bannedV4{"198.19.0.1", "2001:db8:ba::1"}; // bans 0 and 1
    const Peer bannedV6{"198.19.0.3", "2001:db8:ba::1"};
    const Peer knownV4{"198.19.100.1", "2001:db8:c0::1"}; // known 0 and 1
    for (Family f : kFamilies) {
        checkVerdict(h, {named(f, "after the flood: trusted passes"), ip(f, kTrusted, kHost).udp(5060, 5060).sip(kRegister),
                         kLo, XDP_PASS, PW_REASON_TRUSTED, PW_ZONE_TRUSTED});
        checkVerdict(h, {named(f, "after the flood: a known source passes"),
                         ip(f, knownV4, kHost).udp(5060, 5060).sip(kRegister), kLo, XDP_PASS, PW_REASON_SIP_KNOWN,
                         PW_ZONE_INTERNET});
        checkVerdict(h, {named(f, "after the flood: a banned source drops"),
                         ip(f, f == Family::V4 ? bannedV4 : bannedV6, kHost).udp(5060, 5060).sip(kRegister), kLo,
                         XDP_DROP, PW_REASON_BANNED, PW_ZONE_INTERNET});
    }
    // The gate recovers: after a few of its intervals a new source gets state again.
    std::this_thread::sleep_for(50ms);
    checkVerdict(h, {"after the flood: a new source gets state again",
                     Packet().eth().ipv4("100.127.255.254", kHost.v4).udp(5060, 5060).sip(kRegister), kLo, XDP_PASS,
                     PW_REASON_SIP_RESPONSIVE, PW_ZONE_INTERNET});
}

} // namespace pbxwall::bpftest
