// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for SIP as it is carried: CRLF keepalives (and a message hidden behind a CRLF), the
// TCP rule of responsive mode (only SYNs are charged; the answer to a connection the PBX opened
// is a reply), and fragments (the first fragment's guard verdict holds for the rest). Every
// verdict checks that exactly one counter moved.
#include "fixtures.hpp"
#include "sip_guards_support.hpp"

#include <catch2/catch.hpp>
#include <linux/pkt_cls.h>

#include <chrono>
#include <cstring>
#include <string>
#include <utility>

namespace pbxwall::bpftest {

using test::Packet;
using test::TcpFlags;
using namespace guardfx;

TEST_CASE("CRLF keepalives are CR and LF only: a message after CRLF is malformed_sip", "[bpf][sip][guards]")
{
    // A SIP stack strips CRLFs before a message and reads it: taken for a keepalive, such a
    // datagram skipped every content guard (toll fraud, scanners, anonymous calls).
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig());
    h.addKnown(addrOf(f, kNet), std::chrono::seconds(600)); // a registered remote phone

    for (const char* keepalive : {"\r\n", "\r\n\r\n"})
        checkVerdict(h, expect(named(f, "keepalive of " + std::to_string(std::strlen(keepalive)) + " bytes"),
                               sipUdp(f, kNet, keepalive), PW_REASON_SIP_KNOWN));
    // A short keepalive in a frame padded to the Ethernet minimum (the padding is not in the UDP length).
    checkVerdict(h, expect(named(f, "keepalive with Ethernet padding"), sipUdp(f, kNet, "\r\n\r\n").padTo(90),
                           PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "CRLF, then a call abroad"), sipUdp(f, kNet, "\r\n" + invite("sip:+44207@pbx")),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "CRLFCRLF, then a call abroad"),
                           sipUdp(f, kNet, "\r\n\r\n" + invite("sip:0044207@pbx")), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "CRLF, then a scanner"),
                           sipUdp(f, kNet, "\r\n" + request("OPTIONS sip:100@pbx SIP/2.0", "User-Agent: friendly-scanner\r\n")),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "CRLF, then a NUL"), sipUdp(f, kNet, std::string("\r\n\0", 3)), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "CRLF, then LF"), sipUdp(f, kNet, "\r\n\n"), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "three CRLFs"), sipUdp(f, kNet, "\r\n\r\n\r\n"), PW_REASON_MALFORMED_SIP));
    // The UDP length is the datagram: what follows it in the IP packet is dropped by the kernel
    // before any socket sees it, so a keepalive with bytes after its UDP length is a keepalive.
    checkVerdict(h, expect(named(f, "a UDP length that ends after the CRLF"),
                           sipUdp(f, kNet, "\r\n" + invite("sip:+44207@pbx")).setUdpLength(8 + 2), PW_REASON_SIP_KNOWN));
    CHECK_FALSE(h.banOf(addrOf(f, kNet)));
}

// RFC 5626 4.4.2: over UDP, a SIP outbound flow is kept alive with STUN Binding requests to the
// SIP port. They pass like CRLF keepalives; anything else that starts with a zero byte is not SIP.
TEST_CASE("STUN Binding requests are keepalives too; other binary data is malformed_sip", "[bpf][sip][guards]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig());
    h.addKnown(addrOf(f, kNet), std::chrono::seconds(600)); // a registered remote phone
    // Type 0x0001 (Binding request), attribute length, magic cookie, 12-byte transaction id.
    const auto stun = [](uint16_t type, std::string attrs, uint32_t cookie = 0x2112A442) {
        std::string m{static_cast<char>(type >> 8), static_cast<char>(type & 0xff),
                      static_cast<char>(attrs.size() >> 8), static_cast<char>(attrs.size() & 0xff),
                      static_cast<char>(cookie >> 24), static_cast<char>(cookie >> 16 & 0xff),
                      static_cast<char>(cookie >> 8 & 0xff), static_cast<char>(cookie & 0xff)};
        return m + "0123456789ab" + attrs;
    };
    const std::string fingerprint("\x80\x28\x00\x04\x12\x34\x56\x78", 8);

    checkVerdict(h, expect(named(f, "a Binding request"), sipUdp(f, kNet, stun(0x0001, "")), PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "a Binding request with a FINGERPRINT"), sipUdp(f, kNet, stun(0x0001, fingerprint)),
                           PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "a Binding request padded to the Ethernet minimum"),
                           sipUdp(f, kNet, stun(0x0001, "")).padTo(90), PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "a Binding response"), sipUdp(f, kNet, stun(0x0101, "")), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "no magic cookie (RFC 3489)"), sipUdp(f, kNet, stun(0x0001, "", 0x01020304)),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "a length that is not the rest of the datagram"),
                           sipUdp(f, kNet, stun(0x0001, fingerprint) + "INVITE sip:+44207@pbx SIP/2.0\r\n\r\n"),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "a length not in whole words"), sipUdp(f, kNet, stun(0x0001, "abc")),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "more than 64 bytes of attributes"), sipUdp(f, kNet, stun(0x0001, std::string(68, 'a'))),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "a short binary datagram"), sipUdp(f, kNet, std::string("\0\x01\0\0", 4)),
                           PW_REASON_MALFORMED_SIP));
    // From an unknown source it is what a CRLF keepalive is: no reason to make it a budget.
    checkVerdict(h, expect(named(f, "a Binding request from an unknown source"), sipUdp(f, kNet3, stun(0x0001, "")),
                           PW_REASON_NEW_SOURCE_LIMITED));
    CHECK_FALSE(h.banOf(addrOf(f, kNet)));
}

TEST_CASE("TCP SIP: only connection attempts are charged to the budget", "[bpf][sip][tcp]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig("", "rate = 2\nburst = 1\n"));
    auto tcp = [&](Peer src, TcpFlags flags) { return ip(f, src, kHost).tcp(40000, kSipPort, flags); };

    checkVerdict(h, expect(named(f, "SYN #1"), tcp(kNet, TcpFlags::Syn), PW_REASON_SIP_RESPONSIVE));
    for (int i = 0; i < 50; ++i) {
        const Outcome o = h.run(tcp(kNet, TcpFlags::Ack).bytes());
        REQUIRE(o.action == XDP_PASS);
    }
    checkVerdict(h, expect(named(f, "segments of the connection pass uncharged"), tcp(kNet, TcpFlags::Ack),
                           PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "SYN #2 (the burst)"), tcp(kNet, TcpFlags::Syn), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "SYN #3 is over the budget"), tcp(kNet, TcpFlags::Syn), PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect(named(f, "the budget is shared with UDP"), sipUdp(f, kNet, options()),
                           PW_REASON_RATE_LIMITED));
    checkVerdict(h, expect(named(f, "established segments still pass"), tcp(kNet, TcpFlags::Ack),
                           PW_REASON_SIP_RESPONSIVE));

    checkVerdict(h, expect(named(f, "no state: an ACK is refused by the gate"), tcp(kNet3, TcpFlags::Ack),
                           PW_REASON_NEW_SOURCE_LIMITED));

    h.install(guardConfig("responsive = false\n"));
    checkVerdict(h, expect(named(f, "responsive off: a SYN"), tcp(kNet2, TcpFlags::Syn), PW_REASON_NOT_WHITELISTED));
    checkVerdict(h, expect(named(f, "responsive off: any segment"), tcp(kNet2, TcpFlags::Ack),
                           PW_REASON_NOT_WHITELISTED));
    h.addKnown(addrOf(f, kNet2), std::chrono::seconds(60));
    checkVerdict(h, expect(named(f, "known: a SYN"), tcp(kNet2, TcpFlags::Syn), PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "known: a segment"), tcp(kNet2, TcpFlags::Ack), PW_REASON_SIP_KNOWN));
}

TEST_CASE("TCP SIP: the answer to a connection the PBX opened from its SIP port is a reply", "[bpf][sip][tcp]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig(), Programs::IngressAndEgress);
    const Packet synAck = ip(f, kNet, kHost).tcp(5061, kSipPort, TcpFlags::Syn | TcpFlags::Ack);

    checkVerdict(h, expect(named(f, "a SYN-ACK out of the blue"), synAck, PW_REASON_NEW_SOURCE_LIMITED));
    // The PBX connects from its SIP port (as Kamailio does with tcp_reuse_port).
    CHECK(h.runEgress(ip(f, kHost, kNet).tcp(kSipPort, 5061, TcpFlags::Syn).bytes()) == TC_ACT_OK);
    checkVerdict(h, expect(named(f, "the peer's SYN-ACK"), synAck, PW_REASON_REPLY));
    checkVerdict(h, expect(named(f, "and its later segments"), ip(f, kNet, kHost).tcp(5061, kSipPort, TcpFlags::Ack),
                           PW_REASON_REPLY));
    checkVerdict(h, expect(named(f, "the same from another port of the peer"),
                           ip(f, kNet, kHost).tcp(5062, kSipPort, TcpFlags::Ack), PW_REASON_NEW_SOURCE_LIMITED));
    CHECK(h.maps().rate.keys().empty());

    h.install(guardConfig("responsive = false\n"));
    checkVerdict(h, expect(named(f, "responsive off: still a reply"), synAck, PW_REASON_REPLY));
    checkVerdict(h, expect(named(f, "responsive off: another peer"), ip(f, kNet2, kHost).tcp(5061, kSipPort, TcpFlags::Ack),
                           PW_REASON_NOT_WHITELISTED));
}

TEST_CASE("fragments carrying SIP: the first fragment's guard verdict holds for the rest", "[bpf][sip][guards][frag]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig());
    const std::string body = options("User-Agent: friendly-scanner\r\n");
    // A datagram from src in two fragments: the first carries the request, the later 200 bytes.
    const auto fragments = [&](Peer src, uint16_t id) {
        Packet first = ip(f, src, kHost);
        Packet later = ip(f, src, kHost);
        if (f == Family::V4) {
            first.ipv4Fragment(id, 0, true);
            later.ipv4Fragment(id, 1480, false).ipProto(17);
        } else {
            first.ipv6Fragment(id, 0, true);
            later.ipv6Fragment(id, 1448, false).ipProto(17);
        }
        first.udp(5062, kSipPort).sip(body);
        later.payload(std::string(200, 'x'));
        return std::pair{first, later};
    };
    const auto [first, later] = fragments(kNet, 0x77);
    checkVerdict(h, expect(named(f, "first fragment with a scanner's agent"), first, PW_REASON_SCANNER));
    checkVerdict(h, expect(named(f, "the later fragment: the source is banned now"), later, PW_REASON_BANNED));

    // Without a ban, the later fragment gets the first one's reason.
    h.install(guardConfig("scanner_ban = false\n"));
    const auto [first2, later2] = fragments(kNet3, 0x78); // kNet2 shares kNet's banned /64
    checkVerdict(h, expect(named(f, "first fragment, no ban"), first2, PW_REASON_SCANNER));
    checkVerdict(h, expect(named(f, "later fragment follows it"), later2, PW_REASON_SCANNER));
}

} // namespace pbxwall::bpftest
