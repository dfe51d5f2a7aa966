// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for [sip]: per-source SIP budgets of unknown internet sources (responsive mode),
// known sources, the new-source gate, a missing SIP stage (the bans: fixtures_sip_bans.cpp).
// Stateful: each case runs a sequence of frames
// through one harness and checks every verdict (action, reason, exactly one counter moved).
#include "fixtures.hpp"
#include "sip_support.hpp"
#include "sip_fixture_support.hpp"

#include "policy.hpp"
#include "state.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <unistd.h>

namespace pbxwall::bpftest {

using test::Packet;
using test::TcpFlags;
using namespace sipfx;
using namespace sipcommon;
using namespace std::chrono_literals;

TEST_CASE("a known source passes as sip_known beyond the unknown budget; an expired one is unknown",
          "[bpf][sip][known]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    // known_rate 6000 a minute: one packet every 10 ms. Frames 40 ms apart always conform.
    Harness h(sipConfig({.knownRate = 6000}));
    h.addKnown(addrOf(f, kPhone), 3600s);
    h.addKnownExpired(addrOf(f, kRoamer));

    constexpr unsigned kSent = 10; // five times what an unknown source may send
    for (unsigned i = 0; i < kSent; ++i) {
        checkVerdict(h, expect(named(f, "known source #" + std::to_string(i + 1)), sipUdp(f, kPhone),
                               PW_REASON_SIP_KNOWN));
        const pw_reason unknown = i < kBurst + 1              ? PW_REASON_SIP_RESPONSIVE
                                  : i < kBurst + 1 + kBanAfter ? PW_REASON_RATE_LIMITED
                                                               : PW_REASON_BANNED;
        checkVerdict(h, expect(named(f, "unknown source, same pace #" + std::to_string(i + 1)), sipUdp(f, kScanner),
                               unknown));
        std::this_thread::sleep_for(40ms);
    }
    // Its budget is its own, in pw_known: no pw_rate entry, no debt shared with its /64.
    CHECK_FALSE(hasRateKey(h, budgetKey64(f, kPhone)));
    CHECK(h.maps().known.lookup(addrKey(addrOf(f, kPhone))).value().tat_ns != 0);
    CHECK_FALSE(h.banOf(addrOf(f, kPhone)).has_value());

    // The known ceiling still holds back to back: a known source may send one second's worth
    // of known_rate (100) on top of the first packet, then its drops begin (each 10 ms of the
    // loop refill one).
    h.addKnown(addrOf(f, kScanner3), 3600s);
    checkVerdict(h, expect(named(f, "known, back to back #1"), sipUdp(f, kScanner3), PW_REASON_SIP_KNOWN));
    unsigned passed = 1;
    while (passed < 1000 && h.action(sipUdp(f, kScanner3).bytes()) == XDP_PASS)
        ++passed;
    CHECK(passed >= 6000 / 60 + 1);
    CHECK(passed < 1000);

    for (unsigned i = 0; i < kBurst + 1; ++i)
        checkVerdict(h, expect(named(f, "expired known source is unknown"), sipUdp(f, kRoamer),
                               PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "expired known source: over the unknown budget"), sipUdp(f, kRoamer),
                           PW_REASON_RATE_LIMITED));
}

TEST_CASE("responsive = false: only known sources reach SIP from the internet", "[bpf][sip][known]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig({.responsive = false}));
    h.addKnown(addrOf(f, kPhone), 3600s);
    h.addKnownExpired(addrOf(f, kRoamer));

    for (unsigned i = 0; i < kBanAfter + 2; ++i) {
        checkVerdict(h, expect(named(f, "unknown internet source over UDP"), sipUdp(f, kScanner),
                               PW_REASON_NOT_WHITELISTED));
        checkVerdict(h, expect(named(f, "unknown internet source over TCP"), sipTcp(f, kScanner),
                               PW_REASON_NOT_WHITELISTED));
    }
    checkVerdict(h, expect(named(f, "expired known source"), sipUdp(f, kRoamer), PW_REASON_NOT_WHITELISTED));
    CHECK(h.maps().rate.keys().empty());
    CHECK(h.maps().bans.keys().empty()); // not_whitelisted never bans

    checkVerdict(h, expect(named(f, "known source over UDP"), sipUdp(f, kPhone), PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "known source over TCP"), sipTcp(f, kPhone), PW_REASON_SIP_KNOWN));
    for (unsigned i = 0; i < 2 * (kBurst + 1); ++i) {
        checkVerdict(h, expect(named(f, "local source"), sipUdp(f, kLocal), PW_REASON_SERVICE, PW_ZONE_LOCAL));
        checkVerdict(h, expect(named(f, "other-zone source"), sipTcp(f, kOther), PW_REASON_SERVICE, PW_ZONE_OTHER));
        checkVerdict(h, expect(named(f, "trusted source"), sipUdp(f, kTrusted), PW_REASON_TRUSTED, PW_ZONE_TRUSTED));
    }
    CHECK(h.maps().rate.keys().empty()); // known sources budget in pw_known
    CHECK(h.events().empty());
}

// pw_knownbits in front of pw_known: the data plane asks the table only behind a set bit, so
// every writer sets its entries' bits; a rebuild keeps the bits of what the table holds and
// drops the rest. With responsive = false the verdict says whether a source counts as known.
TEST_CASE("the known filter rules out what it does not hold; a rebuild keeps every entry of pw_known",
          "[bpf][sip][known]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig({.responsive = false}));
    const auto genState = [&] { return h.maps().gen.lookup(0).value(); };
    REQUIRE(genState().knownbit_mask != 0); // the filter is on

    h.addKnown(addrOf(f, kPhone), 3600s); // pbxwallctl's way: the entry, then its bits
    checkVerdict(h, expect(named(f, "known source"), sipUdp(f, kPhone), PW_REASON_SIP_KNOWN));
    const __u32 half = genState().known_half;
    PolicyStore(h.maps()).refreshKnownFilter();
    CHECK(genState().known_half == (half ^ 1));
    checkVerdict(h, expect(named(f, "known source, after a rebuild"), sipUdp(f, kPhone), PW_REASON_SIP_KNOWN));

    // An entry written without its bits (no writer does this) is ruled out: the filter answers.
    pw_known kn{};
    kn.expires_ns = monotonicNowNs() + 3600ULL * 1000000000ULL;
    h.maps().known.TypedMap::update(addrKey(addrOf(f, kRoamer)), kn);
    checkVerdict(h, expect(named(f, "an entry without its bit"), sipUdp(f, kRoamer), PW_REASON_NOT_WHITELISTED));
    PolicyStore(h.maps()).refreshKnownFilter(); // rebuilt from the table: it gets its bit
    checkVerdict(h, expect(named(f, "that entry after a rebuild"), sipUdp(f, kRoamer), PW_REASON_SIP_KNOWN));

    // Forgotten (pbxwallctl known del): gone from the table, then from the filter.
    REQUIRE(h.maps().known.erase(addrKey(addrOf(f, kPhone))));
    PolicyStore(h.maps()).refreshKnownFilter();
    checkVerdict(h, expect(named(f, "a forgotten source"), sipUdp(f, kPhone), PW_REASON_NOT_WHITELISTED));
    checkVerdict(h, expect(named(f, "the other known source"), sipUdp(f, kRoamer), PW_REASON_SIP_KNOWN));
}

TEST_CASE("SIP from local, other and trusted sources is never budgeted", "[bpf][sip]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig());
    for (unsigned i = 0; i < 2 * kBanAfter + kBurst + 1; ++i) {
        checkVerdict(h, expect(named(f, "local over UDP"), sipUdp(f, kLocal), PW_REASON_SERVICE, PW_ZONE_LOCAL));
        checkVerdict(h, expect(named(f, "local over TCP"), sipTcp(f, kLocal, TcpFlags::Ack), PW_REASON_SERVICE,
                               PW_ZONE_LOCAL));
        checkVerdict(h, expect(named(f, "local keepalive"), sipUdp(f, kLocal, kKeepalive), PW_REASON_SERVICE,
                               PW_ZONE_LOCAL));
        checkVerdict(h, expect(named(f, "other over UDP"), sipUdp(f, kOther), PW_REASON_SERVICE, PW_ZONE_OTHER));
        checkVerdict(h, expect(named(f, "trusted over UDP"), sipUdp(f, kTrusted), PW_REASON_TRUSTED, PW_ZONE_TRUSTED));
    }
    CHECK(h.maps().rate.keys().empty());
    CHECK(h.maps().bans.keys().empty());
    CHECK(h.events().empty());
}

TEST_CASE("the new-source gate: only what may start a SIP dialogue creates state", "[bpf][sip][newsrc]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig());

    checkVerdict(h, expect(named(f, "CRLF keepalive from an unknown source"), sipUdp(f, kScanner, kKeepalive),
                           PW_REASON_NEW_SOURCE_LIMITED));
    // Not SIP at all: a new source's first line is read before state is made for it.
    checkVerdict(h, expect(named(f, "binary UDP payload"), ip(f, kScanner, kHost).udp(5060, kSipPort).payload({0x00, 0x01, 0x02, 0x03}),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "UDP payload starting with a digit"),
                           sipUdp(f, kScanner, "200 OK\r\n\r\n"), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "empty UDP payload"), ip(f, kScanner, kHost).udp(5060, kSipPort),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "TCP ACK without state"), sipTcp(f, kScanner, TcpFlags::Ack),
                           PW_REASON_NEW_SOURCE_LIMITED));
    checkVerdict(h, expect(named(f, "TCP SYN-ACK without state"), sipTcp(f, kScanner, TcpFlags::Syn | TcpFlags::Ack),
                           PW_REASON_NEW_SOURCE_LIMITED));
    checkVerdict(h, expect(named(f, "TCP RST without state"), sipTcp(f, kScanner, TcpFlags::Rst),
                           PW_REASON_NEW_SOURCE_LIMITED));
    CHECK(h.maps().rate.keys().empty());
    CHECK(h.maps().bans.keys().empty());

    checkVerdict(h, expect(named(f, "TCP SYN creates state"), sipTcp(f, kScanner), PW_REASON_SIP_RESPONSIVE));
    CHECK(h.maps().rate.keys().size() == 1);
    checkVerdict(h, expect(named(f, "then a TCP ACK passes, not charged"), sipTcp(f, kScanner, TcpFlags::Ack),
                           PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "a keepalive takes the burst"), sipUdp(f, kScanner, kKeepalive),
                           PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "and the next one is over the budget"), sipUdp(f, kScanner, kKeepalive),
                           PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect(named(f, "TCP segments of the admitted connection still pass"),
                           sipTcp(f, kScanner, TcpFlags::Ack), PW_REASON_SIP_RESPONSIVE));

    checkVerdict(h, expect(named(f, "a request creates state"), sipUdp(f, kScanner2), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "then a keepalive is budgeted"), sipUdp(f, kScanner2, kKeepalive),
                           PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "a lower-case method token is a request too"),
                           sipUdp(f, kScanner3, "options sip:100@198.18.0.1 SIP/2.0\r\nCSeq: 1 options\r\n\r\n"),
                           PW_REASON_SIP_RESPONSIVE));
    CHECK(h.maps().rate.keys().size() == 3);
}

TEST_CASE("the new-source gate: new_sources_per_second = 1", "[bpf][sip][newsrc]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    CpuPin pin;
    Harness h(sipConfig({.newSourcesPerSecond = 1}));
    // One a second lets the next new source in a second later: a run slowed down that long
    // would see the gate open. One an hour keeps the case off the clock.
    pw_policy pol = h.maps().policy.lookup(h.maps().activeGen()).value();
    REQUIRE(pol.newsrc_interval_ns >= 1000000000ULL);
    pol.newsrc_interval_ns = 3600ULL * 1000000000ULL;
    h.maps().policy.update(h.maps().activeGen(), pol);

    checkVerdict(h, expect(named(f, "the first new source passes"), sipUdp(f, kScanner), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "a second new source in the same second"), sipUdp(f, kScanner2),
                           PW_REASON_NEW_SOURCE_LIMITED));
    checkVerdict(h, expect(named(f, "a new source over TCP"), sipTcp(f, kScanner3), PW_REASON_NEW_SOURCE_LIMITED));
    checkVerdict(h, expect(named(f, "the source with state still passes"), sipUdp(f, kScanner),
                           PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "and is still budgeted"), sipUdp(f, kScanner), PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect(named(f, "local sources are not gated"), sipUdp(f, kLocal), PW_REASON_SERVICE,
                           PW_ZONE_LOCAL));
    CHECK(h.maps().rate.keys().size() == 1);

    // A known source (a registered phone) is no new unknown source: its budget lives in
    // pw_known, the gate never applies to it.
    h.addKnown(addrOf(f, kPhone), 3600s);
    checkVerdict(h, expect(named(f, "a known source without state is not gated"), sipUdp(f, kPhone),
                           PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "not even with a keepalive"), sipUdp(f, kPhone, kKeepalive), PW_REASON_SIP_KNOWN));
    CHECK(h.maps().rate.keys().size() == 1);
    checkVerdict(h, expect(named(f, "the gate is still closed for unknown sources"), sipUdp(f, kScanner4),
                           PW_REASON_NEW_SOURCE_LIMITED));

    // One budget for all CPUs: on every other CPU too (with a budget per CPU, a NIC whose
    // packets all reach one CPU would get that CPU's share of new_sources_per_second).
    cpu_set_t online;
    CPU_ZERO(&online);
    REQUIRE(sched_getaffinity(0, sizeof(online), &online) == 0); // CpuPin: this CPU only
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int others = 0;
    for (int cpu = 0; cpu < cpus && cpu < CPU_SETSIZE; ++cpu) {
        if (cpu == pin.cpu())
            continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(0, sizeof(one), &one) != 0)
            continue;
        ++others;
        checkVerdict(h, expect(named(f, "the gate is closed on CPU " + std::to_string(cpu) + " too"), sipUdp(f, kScanner4),
                               PW_REASON_NEW_SOURCE_LIMITED));
    }
    REQUIRE(sched_setaffinity(0, sizeof(online), &online) == 0);
    if (others == 0)
        WARN("one CPU online: the gate's sharing between CPUs is not exercised");
}

TEST_CASE("the new-source gate: back-to-back new sources within new_sources_per_second", "[bpf][sip][newsrc]")
{
    // 1000000 a second is one per microsecond: 200 new sources back to back take far less
    // than a tick of the coarse clock, which the gate tolerates, and must all get a budget.
    // pw_rate is a four-way cache: with 65,536 slots none of these 200 addresses shares a
    // bucket with four others.
    Harness h(sipConfig(), Programs::Ingress, {{PW_MAP_NAME_RATE, pw_rate_entries(65536)}});
    const uint64_t interval = h.maps().policy.lookup(h.maps().activeGen()).value().newsrc_interval_ns;
    REQUIRE(interval == 1000000000ULL / 1000000);
    const unsigned kSources = 200;
    unsigned passed = 0;
    for (unsigned i = 0; i < kSources; ++i) {
        const std::string src = "198.18.100." + std::to_string(i + 1);
        passed += h.action(sipUdpFrom(src.c_str()).bytes()) == XDP_PASS;
    }
    CHECK(passed == kSources);
    CHECK(h.maps().rate.keys().size() == passed);
}

TEST_CASE("a missing SIP stage drops untrusted SIP (no_stage), never passes it unjudged", "[bpf][sip]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig());
    // Empty pw_stages, found among the maps pw_xdp_main uses.
    __u32 ids[64] = {};
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    info.nr_map_ids = 64;
    info.map_ids = reinterpret_cast<__u64>(ids);
    REQUIRE(bpf_obj_get_info_by_fd(h.xdpFd(), &info, &len) == 0);
    int stages = -1;
    for (__u32 i = 0; i < std::min<__u32>(info.nr_map_ids, 64) && stages < 0; ++i) {
        int fd = bpf_map_get_fd_by_id(ids[i]);
        bpf_map_info mi{};
        __u32 ml = sizeof(mi);
        if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &mi, &ml) == 0 && std::string(mi.name) == PW_MAP_NAME_STAGES)
            stages = fd;
        else if (fd >= 0)
            close(fd);
    }
    REQUIRE(stages >= 0);
    checkVerdict(h, expect(named(f, "with the stage: an unknown source's request"), sipUdp(f, kScanner), PW_REASON_SIP_RESPONSIVE));
    const __u32 slot = PW_STAGE_SIP;
    REQUIRE(bpf_map_delete_elem(stages, &slot) == 0);
    close(stages);
    checkVerdict(h, expect(named(f, "without it: an unknown source's request"), sipUdp(f, kScanner2), PW_REASON_NO_STAGE));
    checkVerdict(h, expect(named(f, "without it: a local source's request"), sipUdp(f, kLocal, "OPTIONS sip:100@pbx SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"),
                           PW_REASON_NO_STAGE, PW_ZONE_LOCAL));
    checkVerdict(h, expect(named(f, "without it: a trusted source is never judged by the stage"), sipUdp(f, kTrusted),
                           PW_REASON_TRUSTED, PW_ZONE_TRUSTED));
}

// For internet sources the budget comes before the first line: over its budget, a source's
// datagrams drop as rate_limited unread (the flood path reads no payload); within it, a
// malformed datagram is charged, then dropped as malformed_sip; a new source's first line is
// read before any state is made for it.
TEST_CASE("the budget comes before the first line: over it, a source's datagrams drop unread", "[bpf][sip][guards]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig());
    const std::string garbage = "hello there, this is not SIP\r\n";

    checkVerdict(h, expect(named(f, "a new source's malformed datagram"), sipUdp(f, kScanner, garbage),
                           PW_REASON_MALFORMED_SIP));
    CHECK(h.maps().rate.keys().empty());
    checkVerdict(h, expect(named(f, "its first request makes its budget"), sipUdp(f, kScanner), PW_REASON_SIP_RESPONSIVE));
    for (unsigned i = 0; i < kBurst; ++i)
        checkVerdict(h, expect(named(f, "a malformed datagram within the budget is charged #" + std::to_string(i + 1)),
                               sipUdp(f, kScanner, garbage), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "so the next request is over the budget"), sipUdp(f, kScanner),
                           PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect(named(f, "over the budget, a malformed datagram is rate_limited"), sipUdp(f, kScanner, garbage),
                           PW_REASON_RATE_LIMITED));
    static_assert(kBanAfter == 3, "the third drop over the budget bans");
    checkVerdict(h, expect(named(f, "an empty one too, and it bans"), ip(f, kScanner, kHost).udp(5060, kSipPort),
                           PW_REASON_RATE_LIMITED));
    checkDataPlaneBan(h, addrOf(f, kScanner), PW_BAN_RATE_LIMIT);
    checkVerdict(h, expect(named(f, "then the source is banned"), sipUdp(f, kScanner, garbage), PW_REASON_BANNED));
    CHECK(h.maps().rate.keys().size() == 1);
}

TEST_CASE("SIP guards: malformed datagrams and anonymous INVITEs", "[bpf][sip][guards]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(sipConfig());
    const std::string invite = "INVITE sip:2001@198.18.0.1 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n";

    // Anonymous calls: an INVITE from an unknown source, whatever the case of the method.
    checkVerdict(h, expect(named(f, "INVITE from an unknown internet source"), sipUdp(f, kScanner, invite),
                           PW_REASON_ANONYMOUS_INVITE));
    checkVerdict(h, expect(named(f, "lower-case invite"), sipUdp(f, kScanner, "invite sip:100@pbx SIP/2.0\r\n\r\n"),
                           PW_REASON_ANONYMOUS_INVITE));
    // The budget comes before the content rules: a third INVITE from the same source is over
    // its budget (2 back to back), and rate_limited never costs a header scan.
    checkVerdict(h, expect(named(f, "a third INVITE is over the budget first"), sipUdp(f, kScanner, invite),
                           PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect(named(f, "INVITE to a tel: URI"), sipUdp(f, kScanner2, "INVITE tel:2001 SIP/2.0\r\n\r\n"),
                           PW_REASON_ANONYMOUS_INVITE));
    checkVerdict(h, expect(named(f, "INVITE from an unknown local-zone source"), sipUdp(f, kLocal, invite),
                           PW_REASON_ANONYMOUS_INVITE, PW_ZONE_LOCAL));
    // Known and trusted sources call.
    h.addKnown(addrOf(f, kNet2), std::chrono::seconds(60));
    checkVerdict(h, expect(named(f, "INVITE from a known source"), sipUdp(f, kNet2, invite), PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "INVITE from a trusted source"), sipUdp(f, kTrusted, invite), PW_REASON_TRUSTED,
                           PW_ZONE_TRUSTED));

    // Malformed: not a request line, not a status line.
    checkVerdict(h, expect(named(f, "text that is not SIP"), sipUdp(f, kNet3, "hello there, this is not SIP\r\n"),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "method without a SIP URI"), sipUdp(f, kNet3, "OPTIONS http://x/ SIP/2.0\r\n\r\n"),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "a lone byte"), sipUdp(f, kNet3, "x"), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "malformed from the local zone too"), sipUdp(f, kLocal, "\x01\x02garbage-garbage-garbage"),
                           PW_REASON_MALFORMED_SIP, PW_ZONE_LOCAL));
    // Well-formed: requests with sips: URIs pass the guards (then the budget). A response
    // passes from a known internet source, and from the other zones; from an unknown internet
    // source it answers nothing the PBX sent, and a stateless proxy would forward it from the
    // SIP port to the address its second Via names (a forged 200 to REGISTER: its sender
    // known; forged 403s: another address banned).
    checkVerdict(h, expect(named(f, "a response from an unknown source"), sipUdp(f, kNet3, "SIP/2.0 180 Ringing\r\n\r\n"),
                           PW_REASON_NOT_WHITELISTED));
    checkVerdict(h, expect(named(f, "a forged 200 to REGISTER from an unknown source"),
                           sipUdp(f, kScanner3, "SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\n\r\n"), PW_REASON_NOT_WHITELISTED));
    checkVerdict(h, expect(named(f, "a response from a known source"), sipUdp(f, kNet2, "SIP/2.0 200 OK\r\n\r\n"),
                           PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "a response from the local zone"), sipUdp(f, kLocal, "SIP/2.0 486 Busy Here\r\n\r\n"),
                           PW_REASON_SERVICE, PW_ZONE_LOCAL));
    checkVerdict(h, expect(named(f, "a response from a trusted source"), sipUdp(f, kTrusted, "SIP/2.0 200 OK\r\n\r\n"),
                           PW_REASON_TRUSTED, PW_ZONE_TRUSTED));
    checkVerdict(h, expect(named(f, "REGISTER to a sips: URI from local"),
                           sipUdp(f, kLocal, "REGISTER sips:pbx.example SIP/2.0\r\n\r\n"), PW_REASON_SERVICE,
                           PW_ZONE_LOCAL));
}

} // namespace pbxwall::bpftest
