// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for verdict step 10: a first fragment is judged on its L4 header and its reason is
// remembered; later fragments (no L4 header) take that reason, or drop as orphans.
#include "fixtures.hpp"

#include <catch2/catch.hpp>


#include <chrono>
#include <cstring>
#include <thread>

namespace pbxwall::bpftest {

using test::Packet;

namespace {

constexpr uint8_t kUdp = 17;
constexpr uint8_t kTcp = 6;

// The first fragment of a UDP datagram of 8 + 16 + 32 bytes: its UDP length names the whole.
Packet firstUdp(Family f, Peer src, uint32_t id, uint16_t dport)
{
    Packet p = ip(f, src, kHost);
    if (f == Family::V4)
        p.ipv4Fragment(static_cast<uint16_t>(id), 0, true);
    else
        p.ipv6Fragment(id, 0, true);
    return p.udp(40000, dport).payload(std::vector<uint8_t>(16, 0xaa)).setUdpLength(8 + 16 + 32);
}

// A later fragment at byte offset `offset` of the same datagram: no L4 header.
Packet later(Family f, Peer src, uint32_t id, uint16_t offset = 24, bool more = false, uint8_t proto = kUdp)
{
    Packet p = ip(f, src, kHost);
    if (f == Family::V4)
        p.ipv4Fragment(static_cast<uint16_t>(id), offset, more);
    else
        p.ipv6Fragment(id, offset, more);
    return p.ipProto(proto).payload(std::vector<uint8_t>(more ? 16 : 32, 0xbb));
}

// A first fragment of protocol proto whose payload is only `bytes` long.
Packet shortFirst(Family f, uint32_t id, uint8_t proto, size_t bytes)
{
    Packet p = ip(f, kNet, kHost);
    if (f == Family::V4)
        p.ipv4Fragment(static_cast<uint16_t>(id), 0, true);
    else
        p.ipv6Fragment(id, 0, true);
    return p.ipProto(proto).payload(std::vector<uint8_t>(bytes, 0x13));
}

} // namespace

std::vector<Fixture> fragmentFixtures()
{
    std::vector<Fixture> t;
    for (Family f : kFamilies) {
        t.push_back({named(f, "later fragment with no first is an orphan"), later(f, kNet, 0x51), kLo, XDP_DROP,
                     PW_REASON_FRAGMENT_ORPHAN, PW_ZONE_INTERNET});
        t.push_back({named(f, "orphan on an unnamed interface counts on slot 0"), later(f, kNet, 0x51), kUnnamed,
                     XDP_DROP, PW_REASON_FRAGMENT_ORPHAN, PW_ZONE_INTERNET});
        t.push_back({named(f, "later fragment from trusted passes with no first"), later(f, kTrusted, 0x52), kLo,
                     XDP_PASS, PW_REASON_TRUSTED, PW_ZONE_TRUSTED});
        t.push_back({named(f, "later fragment from reject drops as reject"), later(f, kReject, 0x53), kLo, XDP_DROP,
                     PW_REASON_REJECT, PW_ZONE_REJECT});
        t.push_back({named(f, "later fragment from the reject host in the trusted prefix"), later(f, kRejectHost, 0x53),
                     kLo, XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});
        t.push_back({named(f, "first fragment too short for the UDP header is malformed"), shortFirst(f, 0x54, kUdp, 4),
                     kLo, XDP_DROP, PW_REASON_MALFORMED, PW_ZONE_NONE});
        t.push_back({named(f, "first fragment too short for the TCP header is malformed"),
                     shortFirst(f, 0x55, kTcp, 16), kLo, XDP_DROP, PW_REASON_MALFORMED, PW_ZONE_NONE});
        t.push_back({named(f, "first fragment of a trusted source passes"), firstUdp(f, kTrusted, 0x56, 20001), kLo,
                     XDP_PASS, PW_REASON_TRUSTED, PW_ZONE_TRUSTED});
    }
    t.push_back({"IPv4: later fragment from a martian source", later(Family::V4, {"127.0.0.1", ""}, 0x57), kLo,
                 XDP_DROP, PW_REASON_MARTIAN, PW_ZONE_NONE});
    t.push_back({"IPv6: later fragment from a martian source", later(Family::V6, {"", "ff02::1"}, 0x57), kLo, XDP_DROP,
                 PW_REASON_MARTIAN, PW_ZONE_NONE});
    t.push_back({"IPv6: later fragment header running past the payload",
                 Packet(later(Family::V6, kNet, 0x58)).setIpv6PayloadLength(4), kLo, XDP_DROP, PW_REASON_MALFORMED,
                 PW_ZONE_NONE});
    return t;
}

TEST_CASE("fragments without a remembered first fragment", "[bpf][frag]")
{
    const Fixture f = GENERATE(Catch::Generators::from_range(fragmentFixtures()));
    checkFixture(f);
}

// The data plane reads the coarse clock through a per-CPU copy bound to the tick it was read in
// (pw_now): the time it records must be CLOCK_MONOTONIC_COARSE's, tick after tick, not a copy
// that stopped moving. A first fragment's record holds that time.
TEST_CASE("the data plane's clock is the coarse monotonic clock, tick after tick", "[bpf][frag][clock]")
{
    Harness h(kBasePass);
    CpuPin pin;
    constexpr uint64_t kTick = 10000000; // the longest tick (HZ=100): the copy may lag by one
    uint64_t previous = 0;
    for (uint32_t i = 0; i < 4; ++i) {
        const uint32_t id = 0x70 + i;
        const uint64_t before = coarseNow();
        REQUIRE(h.action(firstUdp(Family::V4, kNet, id, 20001).bytes()) == XDP_PASS);
        const uint64_t after = coarseNow();
        pw_frag_key k{};
        std::memcpy(k.src, addrKey(kNet.v4).addr, 16);
        std::memcpy(k.dst, addrKey(kHost.v4).addr, 16);
        k.id = id;
        k.proto = kUdp;
        const auto rec = h.maps().frags.lookup(k);
        REQUIRE(rec);
        INFO("run " << i << ": before " << before << ", recorded " << rec->seen_ns << ", after " << after);
        CHECK(rec->seen_ns + kTick >= before);
        CHECK(rec->seen_ns <= after);
        CHECK(rec->seen_ns > previous); // 30 ms later: the clock moved on
        previous = rec->seen_ns;
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
}

TEST_CASE("later fragments take the first fragment's verdict", "[bpf][frag]")
{
    struct Case {
        const char* what;
        uint16_t dport;
        int action;
        pw_reason reason;
    };
    const Case c = GENERATE(Case{"SIP", 5060, XDP_PASS, PW_REASON_SERVICE},
                            Case{"RTP", 10000, XDP_DROP, PW_REASON_SERVICE_DENIED},
                            Case{"an unlisted port", 20001, XDP_DROP, PW_REASON_UNLISTED_DROP});
    const Family f = GENERATE(Family::V4, Family::V6);
    const std::string to = std::string(" to ") + c.what + " from the internet";
    constexpr uint32_t kId = 0x7a7a;
    Harness h;

    checkVerdict(
        h,
        {named(f, "first fragment" + to), firstUdp(f, kNet, kId, c.dport), kLo, c.action, c.reason, PW_ZONE_INTERNET});
    checkVerdict(
        h,
        {named(f, "middle fragment" + to), later(f, kNet, kId, 24, true), kLo, c.action, c.reason, PW_ZONE_INTERNET});
    checkVerdict(
        h, {named(f, "last fragment" + to), later(f, kNet, kId, 40, false), kLo, c.action, c.reason, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "last fragment again (a retransmission)" + to), later(f, kNet, kId, 40, false), kLo,
                  c.action, c.reason, PW_ZONE_INTERNET});
    // The first fragment remembered by a CPU whose copy of the clock was ahead of this one's (a
    // copy taken just after a tick lags until the next; a second ahead here, so that it still
    // is when the run comes): still the first fragment's verdict, not an orphan.
    for (const pw_frag_key& k : h.maps().frags.keys()) {
        pw_frag rec = h.maps().frags.lookup(k).value();
        rec.seen_ns = coarseNow() + 1000000000ULL;
        h.maps().frags.update(k, rec);
    }
    checkVerdict(h,
                 {named(f, "last fragment, the first stamped ahead of the clock" + to), later(f, kNet, kId, 40, false), kLo,
                  c.action, c.reason, PW_ZONE_INTERNET});
    // The key is (source, destination, id), and IPv4's protocol: change any part and it is an
    // orphan. IPv6 fragments of one datagram may name different next headers; only the first
    // fragment's counts (RFC 8200 4.5), as in the kernel's reassembly.
    checkVerdict(
        h,
        {named(f, "another id"), later(f, kNet, kId + 1), kLo, XDP_DROP, PW_REASON_FRAGMENT_ORPHAN, PW_ZONE_INTERNET});
    checkVerdict(
        h,
        {named(f, "another source"), later(f, kNet2, kId), kLo, XDP_DROP, PW_REASON_FRAGMENT_ORPHAN, PW_ZONE_INTERNET});
    if (f == Family::V4)
        checkVerdict(h,
                     {named(f, "another protocol"), later(f, kNet, kId, 24, false, kTcp), kLo, XDP_DROP,
                      PW_REASON_FRAGMENT_ORPHAN, PW_ZONE_INTERNET});
    else
        checkVerdict(h,
                     {named(f, "another next header: the same datagram"), later(f, kNet, kId, 24, false, kTcp), kLo,
                      c.action, c.reason, PW_ZONE_INTERNET});
    Packet otherDst
        = f == Family::V4 ? Packet().eth().ipv4(kNet.v4, "198.18.0.2") : Packet().eth().ipv6(kNet.v6, "2001:db8::2");
    if (f == Family::V4)
        otherDst.ipv4Fragment(kId, 24, false);
    else
        otherDst.ipv6Fragment(kId, 24, false);
    checkVerdict(h,
                 {named(f, "another destination"), otherDst.ipProto(kUdp).payload({1, 2, 3, 4, 5, 6, 7, 8}), kLo,
                  XDP_DROP, PW_REASON_FRAGMENT_ORPHAN, PW_ZONE_INTERNET});
}

TEST_CASE("IPv6: headers after the fragment header do not split first and later fragments", "[bpf][frag]")
{
    // RFC 8200 4.5: every fragment's header names the first header of the fragmentable part,
    // here a Destination Options header (for the final destination) before the UDP header; a
    // later fragment that names another is still of the same datagram (only the first
    // fragment's next header counts, and the kernel reassembles it so).
    Harness h;
    const Packet first = ip(Family::V6, kNet, kHost)
                             .ipv6Fragment(0x600d, 0, true)
                             .destOpts()
                             .udp(40000, 5060)
                             .payload(std::vector<uint8_t>(16, 0xaa))
                             .setUdpLength(8 + 16 + 32);
    checkVerdict(
        h,
        {"first fragment: destination options, then SIP", first, kLo, XDP_PASS, PW_REASON_SERVICE, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {"later fragment: next header is destination options", later(Family::V6, kNet, 0x600d, 32, false, 60),
                  kLo, XDP_PASS, PW_REASON_SERVICE, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {"later fragment naming UDP instead: the same datagram", later(Family::V6, kNet, 0x600d, 32, false),
                  kLo, XDP_PASS, PW_REASON_SERVICE, PW_ZONE_INTERNET});
}

TEST_CASE("a ban after the first fragment drops the later ones", "[bpf][frag][bans]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h;
    checkVerdict(h,
                 {named(f, "first fragment to SIP"), firstUdp(f, kNet, 0x99, 5060), kLo, XDP_PASS, PW_REASON_SERVICE,
                  PW_ZONE_INTERNET});
    h.banForever(f == Family::V4 ? kNet.v4 : kNet.v6);
    checkVerdict(h,
                 {named(f, "later fragment of a now banned source"), later(f, kNet, 0x99), kLo, XDP_DROP,
                  PW_REASON_BANNED, PW_ZONE_INTERNET});
}

TEST_CASE("ICMP and TCP first fragments are judged on their headers too", "[bpf][frag]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h;

    Packet echo = ip(f, kNet, kHost);
    if (f == Family::V4)
        echo.ipv4Fragment(0x31, 0, true);
    else
        echo.ipv6Fragment(0x31, 0, true);
    echo = icmp(echo, f, icmpEchoRequest(f)).payload(std::vector<uint8_t>(32, 0x61));
    checkVerdict(
        h,
        {named(f, "first fragment of an echo request"), echo, kLo, XDP_DROP, PW_REASON_ICMP_DENIED, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "its later fragment"), later(f, kNet, 0x31, 40, false, f == Family::V4 ? 1 : 58), kLo,
                  XDP_DROP, PW_REASON_ICMP_DENIED, PW_ZONE_INTERNET});

    Packet syn = ip(f, kLocal, kHost);
    if (f == Family::V4)
        syn.ipv4Fragment(0x32, 0, true);
    else
        syn.ipv6Fragment(0x32, 0, true);
    syn.tcp(40000, 22).payload(std::vector<uint8_t>(16, 0x62));
    checkVerdict(h,
                 {named(f, "first fragment of ssh from local"), syn, kLo, XDP_PASS, PW_REASON_SERVICE, PW_ZONE_LOCAL});
    checkVerdict(h,
                 {named(f, "its later fragment"), later(f, kLocal, 0x32, 40, false, kTcp), kLo, XDP_PASS,
                  PW_REASON_SERVICE, PW_ZONE_LOCAL});
}

TEST_CASE("fragments of trusted sources are not remembered", "[bpf][frag]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h;
    checkVerdict(h,
                 {named(f, "first fragment from trusted"), firstUdp(f, kTrusted, 0x41, 20001), kLo, XDP_PASS,
                  PW_REASON_TRUSTED, PW_ZONE_TRUSTED});
    CHECK(h.maps().frags.keys().empty());
    checkVerdict(h,
                 {named(f, "later fragment from trusted"), later(f, kTrusted, 0x41), kLo, XDP_PASS, PW_REASON_TRUSTED,
                  PW_ZONE_TRUSTED});
}

} // namespace pbxwall::bpftest
