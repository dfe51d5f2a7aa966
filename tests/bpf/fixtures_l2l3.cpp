// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for verdict steps 1-3: non-IP frames, VLAN tags, PPPoE, malformed headers, martian sources.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

namespace pbxwall::bpftest {

using test::Packet;
using test::TcpFlags;

namespace {

constexpr const char* kSip = "OPTIONS sip:100@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.9.9\r\nCSeq: 1 OPTIONS\r\n\r\n";

Fixture malformed(const std::string& name, Packet p, unsigned ifindex = kLo)
{
    return {name, std::move(p), ifindex, XDP_DROP, PW_REASON_MALFORMED, PW_ZONE_NONE};
}

// The frame p with PPP protocol-field compression (RFC 1661 6.5) in its PPPoE header at
// pppoeAt: the protocol's first byte, 0x00, left out. The kernel's ppp_input() restores it on a
// PPPoE session whatever was negotiated, and hands IPv4 or IPv6 to the stack.
Packet pppCompressed(const Packet& p, size_t pppoeAt)
{
    std::vector<uint8_t> b = p.bytes();
    b.erase(b.begin() + static_cast<std::ptrdiff_t>(pppoeAt + 6));
    const unsigned len = (b[pppoeAt + 4] << 8 | b[pppoeAt + 5]) - 1;
    b[pppoeAt + 4] = static_cast<uint8_t>(len >> 8);
    b[pppoeAt + 5] = static_cast<uint8_t>(len);
    return Packet().payload(std::move(b));
}

Fixture martian(const std::string& name, Packet p)
{
    return {name, std::move(p), kLo, XDP_DROP, PW_REASON_MARTIAN, PW_ZONE_NONE};
}

} // namespace

std::vector<Fixture> l2Fixtures()
{
    const std::vector<uint8_t> arp(28, 0);
    std::vector<Fixture> t = {
        {"ARP passes unjudged", Packet().eth().ethertype(0x0806).payload(arp), kLo, XDP_PASS, PW_REASON_NON_IP,
         PW_ZONE_NONE},
        {"ARP on an unnamed interface counts on slot 0", Packet().eth().ethertype(0x0806).payload(arp), kUnnamed,
         XDP_PASS, PW_REASON_NON_IP, PW_ZONE_NONE},
        {"LLDP passes unjudged", Packet().eth().ethertype(0x88cc).payload(std::vector<uint8_t>(32, 0x02)), kLo,
         XDP_PASS, PW_REASON_NON_IP, PW_ZONE_NONE},
        {"ARP inside an 802.1Q tag is still non-IP", Packet().eth().vlan(10).ethertype(0x0806).payload(arp), kLo,
         XDP_PASS, PW_REASON_NON_IP, PW_ZONE_NONE},
        {"802.1Q tag cut off after the Ethernet header", Packet().eth().ethertype(0x8100), kLo, XDP_DROP,
         PW_REASON_MALFORMED, PW_ZONE_NONE},
        {"802.1Q tag cut off half way", Packet().eth().ethertype(0x8100).payload({0x00, 0x0a}), kLo, XDP_DROP,
         PW_REASON_MALFORMED, PW_ZONE_NONE},
        // PPPoE: the link's own control traffic is not IP; the session header cut off is malformed.
        {"PPPoE discovery passes unjudged", Packet().eth().ethertype(0x8863).payload(std::vector<uint8_t>(20, 0x11)),
         kLo, XDP_PASS, PW_REASON_NON_IP, PW_ZONE_NONE},
        {"PPPoE session: LCP passes unjudged", Packet().eth().pppoe(7).pppProtocol(0xc021).payload(arp), kLo,
         XDP_PASS, PW_REASON_NON_IP, PW_ZONE_NONE},
        {"PPPoE session: IPCP passes unjudged", Packet().eth().pppoe(7).pppProtocol(0x8021).payload(arp), kLo,
         XDP_PASS, PW_REASON_NON_IP, PW_ZONE_NONE},
        // Network-layer protocols other than IPv4/IPv6 may carry IP that cannot be read: dropped.
        {"PPPoE session: multilink is malformed", Packet().eth().pppoe(7).pppProtocol(0x003d).payload(arp), kLo,
         XDP_DROP, PW_REASON_MALFORMED, PW_ZONE_NONE},
        {"PPPoE session: Van Jacobson compressed TCP/IP is malformed",
         Packet().eth().pppoe(7).pppProtocol(0x002d).payload(arp), kLo, XDP_DROP, PW_REASON_MALFORMED, PW_ZONE_NONE},
        {"PPPoE session: a compressed datagram is malformed", Packet().eth().pppoe(7).pppProtocol(0x00fd).payload(arp),
         kLo, XDP_DROP, PW_REASON_MALFORMED, PW_ZONE_NONE},
        {"PPPoE session: a compressed datagram with its protocol field compressed is malformed",
         Packet().eth().pppoe(7).pppProtocol(0xfd45).payload(arp), kLo, XDP_DROP, PW_REASON_MALFORMED, PW_ZONE_NONE},
        {"PPPoE session header cut off before the PPP protocol",
         Packet().eth().ethertype(0x8864).payload({0x11, 0x00, 0x00, 0x07, 0x00, 0x20, 0x00}), kLo, XDP_DROP,
         PW_REASON_MALFORMED, PW_ZONE_NONE},
    };
    for (Family f : kFamilies) {
        t.push_back({named(f, "802.1Q: SIP from the internet passes as service"),
                     ip(f, kNet, kHost, Packet().eth().vlan(100)).udp(40000, 5060).sip(kSip), kLo, XDP_PASS,
                     PW_REASON_SERVICE, PW_ZONE_INTERNET});
        t.push_back({named(f, "802.1Q: a rejected source is still dropped"),
                     ip(f, kReject, kHost, Packet().eth().vlan(100)).udp(40000, 5060).sip(kSip), kLo, XDP_DROP,
                     PW_REASON_REJECT, PW_ZONE_REJECT});
        t.push_back({named(f, "802.1ad QinQ (2 tags): SIP from the internet passes as service"),
                     ip(f, kNet, kHost, Packet().eth().qinq(100).vlan(200)).udp(40000, 5060).sip(kSip), kLo, XDP_PASS,
                     PW_REASON_SERVICE, PW_ZONE_INTERNET});
        t.push_back({named(f, "802.1ad QinQ (2 tags): a rejected source is still dropped"),
                     ip(f, kReject, kHost, Packet().eth().qinq(100).vlan(200)).udp(40000, 5060).sip(kSip), kLo,
                     XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});
        t.push_back({named(f, "802.1ad QinQ (2 tags): ssh from the internet is denied"),
                     ip(f, kNet, kHost, Packet().eth().qinq(100).vlan(200)).tcp(40000, 22), kLo, XDP_DROP,
                     PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
        // The Ethernet interface under a PPPoE link (often behind a VLAN tag) carries the same IP.
        t.push_back({named(f, "PPPoE: SIP from the internet passes as service"),
                     ip(f, kNet, kHost, Packet().eth().pppoe(7)).udp(40000, 5060).sip(kSip), kLo, XDP_PASS,
                     PW_REASON_SERVICE, PW_ZONE_INTERNET});
        t.push_back({named(f, "PPPoE: a rejected source is dropped"),
                     ip(f, kReject, kHost, Packet().eth().pppoe(7)).udp(40000, 5060).sip(kSip), kLo, XDP_DROP,
                     PW_REASON_REJECT, PW_ZONE_REJECT});
        t.push_back({named(f, "PPPoE behind 802.1Q: ssh from the internet is denied"),
                     ip(f, kNet, kHost, Packet().eth().vlan(7).pppoe(7)).tcp(40000, 22), kLo, XDP_DROP,
                     PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
        t.push_back({named(f, "PPPoE with another version and code: still judged (the kernel does not check them)"),
                     ip(f, kReject, kHost, Packet().eth().pppoe(7)).udp(40000, 5060).patch(14, {0x22, 0x09}), kLo,
                     XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});
        // A one-byte PPP protocol (0x21 or 0x57): not the two bytes pppd sends on PPPoE, but the
        // kernel takes it, so it must not pass as non-IP with whatever it carries.
        t.push_back(malformed(named(f, "PPPoE, protocol field compressed: a rejected source's SIP"),
                              pppCompressed(ip(f, kReject, kHost, Packet().eth().pppoe(7)).udp(40000, 5060).sip(kSip), 14)));
        t.push_back(malformed(named(f, "PPPoE behind 802.1Q, protocol field compressed: ssh from the internet"),
                              pppCompressed(ip(f, kNet, kHost, Packet().eth().vlan(7).pppoe(7)).tcp(40000, 22), 18)));
        t.push_back(malformed(named(f, "PPPoE: IP header cut off"),
                              ip(f, kNet, kHost, Packet().eth().pppoe(7)).udp(40000, 5060).truncate(14 + 8 + 12)));
        t.push_back(malformed(named(f, "three VLAN tags are malformed"),
                              ip(f, kTrusted, kHost, Packet().eth().qinq(100).vlan(200).vlan(300)).udp(40000, 5060)));
        t.push_back(malformed(named(f, "three 802.1Q tags are malformed"),
                              ip(f, kNet, kHost, Packet().eth().vlan(1).vlan(2).vlan(3)).udp(40000, 5060)));
    }
    return t;
}

std::vector<Fixture> malformedFixtures()
{
    std::vector<Fixture> t = {
        malformed("IPv4: 14-byte frame with the IPv4 ethertype", Packet().eth().ethertype(0x0800)),
        malformed("IPv6: 14-byte frame with the IPv6 ethertype", Packet().eth().ethertype(0x86dd)),
        malformed("IPv4: 14-byte frame on an unnamed interface counts on slot 0", Packet().eth().ethertype(0x0800),
                  kUnnamed),
        malformed("IPv4: header cut at 19 bytes", ip(Family::V4, kNet, kHost).udp(40000, 5060).truncate(14 + 19)),
        malformed("IPv6: header cut at 39 bytes", ip(Family::V6, kNet, kHost).udp(40000, 5060).truncate(14 + 39)),
        malformed("IPv4: IHL 4", ip(Family::V4, kNet, kHost).udp(40000, 5060).setIpv4Ihl(4)),
        malformed("IPv4: IHL 0", ip(Family::V4, kNet, kHost).udp(40000, 5060).setIpv4Ihl(0)),
        malformed("IPv4: IHL beyond the total length", ip(Family::V4, kNet, kHost).udp(40000, 5060).setIpv4Ihl(15)),
        malformed("IPv4 ethertype carrying version 6", ip(Family::V4, kNet, kHost).udp(40000, 5060).setIpVersion(6)),
        malformed("IPv6 ethertype carrying version 4", ip(Family::V6, kNet, kHost).udp(40000, 5060).setIpVersion(4)),
        malformed("IPv4: total length beyond the frame",
                  ip(Family::V4, kNet, kHost).udp(40000, 5060).sip(kSip).setIpv4TotalLength(400)),
        malformed("IPv4: total length below IHL * 4",
                  ip(Family::V4, kNet, kHost).udp(40000, 5060).setIpv4TotalLength(19)),
        malformed("IPv6: payload length beyond the frame",
                  ip(Family::V6, kNet, kHost).udp(40000, 5060).sip(kSip).setIpv6PayloadLength(400)),
        // Lengths consistent with the cut, so the L4 check is what fails.
        malformed("IPv4: UDP header cut to 4 bytes",
                  ip(Family::V4, kNet, kHost).udp(40000, 5060).setIpv4TotalLength(24).truncate(14 + 24)),
        malformed("IPv4: UDP header of 4 bytes, Ethernet padding behind it",
                  ip(Family::V4, kNet, kHost).udp(40000, 5060).setIpv4TotalLength(24).padTo(60)),
        malformed("IPv6: UDP header cut to 4 bytes",
                  ip(Family::V6, kNet, kHost).udp(40000, 5060).setIpv6PayloadLength(4).truncate(14 + 44)),
        malformed("IPv4: TCP header cut to 12 bytes",
                  ip(Family::V4, kNet, kHost).tcp(40000, 5060).setIpv4TotalLength(32).truncate(14 + 32)),
        malformed("IPv4: TCP header of 12 bytes, Ethernet padding behind it",
                  ip(Family::V4, kNet, kHost).tcp(40000, 5060).setIpv4TotalLength(32).padTo(60)),
        malformed("IPv6: TCP header cut to 12 bytes",
                  ip(Family::V6, kNet, kHost).tcp(40000, 5060).setIpv6PayloadLength(12).truncate(14 + 52)),
        malformed("IPv4: ICMP header cut to 4 bytes",
                  ip(Family::V4, kNet, kHost).icmp4(3, 4).setIpv4TotalLength(24).truncate(14 + 24)),
        malformed("IPv6: ICMPv6 header cut to 4 bytes",
                  ip(Family::V6, kNet, kHost).icmp6(2, 0).setIpv6PayloadLength(4).truncate(14 + 44)),
        malformed("IPv6: a hop-by-hop header announced but cut off", ip(Family::V6, kNet, kHost).ipProto(0)),
    };
    for (Family f : kFamilies) {
        t.push_back(malformed(named(f, "UDP length beyond the IP payload"),
                              ip(f, kNet, kHost).udp(40000, 5060).sip(kSip).setUdpLength(300)));
        t.push_back(malformed(named(f, "UDP length 7"), ip(f, kNet, kHost).udp(40000, 5060).sip(kSip).setUdpLength(7)));
        t.push_back(malformed(named(f, "TCP data offset 4"), ip(f, kNet, kHost).tcp(40000, 5060).setTcpDataOffset(4)));
        t.push_back(malformed(named(f, "TCP data offset beyond the payload"),
                              ip(f, kNet, kHost).tcp(40000, 5060).payload({1, 2, 3, 4}).setTcpDataOffset(15)));
    }
    // Valid options and padding: the packet is judged as usual.
    const std::vector<uint8_t> routerAlert = {0x94, 0x04, 0x00, 0x00};
    t.push_back({"IPv4: options (router alert) are fine: SIP passes",
                 ip(Family::V4, kNet, kHost).ipv4Options(routerAlert).udp(40000, 5060).sip(kSip), kLo, XDP_PASS,
                 PW_REASON_SERVICE, PW_ZONE_INTERNET});
    t.push_back({"IPv4: 40 bytes of options: ports are read behind them",
                 ip(Family::V4, kNet, kHost).ipv4Options(std::vector<uint8_t>(40, 0x01)).tcp(40000, 22), kLo, XDP_DROP,
                 PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
    t.push_back({"IPv4: Ethernet padding after a short UDP packet is fine",
                 ip(Family::V4, kNet, kHost).udp(40000, 5060).padTo(60), kLo, XDP_PASS, PW_REASON_SERVICE,
                 PW_ZONE_INTERNET});
    t.push_back({"IPv4: Ethernet padding after a short TCP packet is fine",
                 ip(Family::V4, kNet, kHost).tcp(40000, 5061).padTo(60), kLo, XDP_PASS, PW_REASON_SERVICE,
                 PW_ZONE_INTERNET});
    t.push_back({"IPv6: trailing bytes after the payload are fine",
                 ip(Family::V6, kNet, kHost).udp(40000, 5060).padTo(96), kLo, XDP_PASS, PW_REASON_SERVICE,
                 PW_ZONE_INTERNET});
    t.push_back({"TCP with options (MSS) passes",
                 ip(Family::V4, kNet, kHost).tcp(40000, 5060).tcpOptions({2, 4, 5, 0xb4}), kLo, XDP_PASS,
                 PW_REASON_SERVICE, PW_ZONE_INTERNET});

    // IPv6 extension headers: at most PW_IPV6_EXT_MAX (6).
    Packet six = ip(Family::V6, kNet, kHost).hopByHop().destOpts().routing().destOpts().routing().destOpts();
    t.push_back({"IPv6: 6 extension headers are fine: SIP passes", Packet(six).udp(40000, 5060).sip(kSip), kLo,
                 XDP_PASS, PW_REASON_SERVICE, PW_ZONE_INTERNET});
    t.push_back({"IPv6: 6 extension headers, ssh from the internet is denied", Packet(six).tcp(40000, 22), kLo,
                 XDP_DROP, PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
    t.push_back(
        malformed("IPv6: 7 extension headers are malformed", Packet(six).destOpts().udp(40000, 5060).sip(kSip)));
    t.push_back(malformed("IPv6: 7 extension headers ending in a fragment header",
                          Packet(six).ipv6Fragment(5, 0, true).udp(40000, 5060)));
    // An AH header (RFC 4302) is (length + 2) * 4 bytes, every other extension header
    // (length + 1) * 8: the length of the header being skipped decides, not the next one's.
    // Built from 8-byte layers whose bytes are patched: AH of 16 bytes (length 2), after the
    // IPv6 header, then after a 16-byte hop-by-hop header (length 1).
    const size_t l3 = ip(Family::V6, kNet, kHost).l3Offset();
    for (const bool tcp : {false, true}) {
        Packet ah = ip(Family::V6, kNet, kHost).destOpts().destOpts();
        Packet hopAh = ip(Family::V6, kNet, kHost).hopByHop().destOpts().destOpts().destOpts();
        for (Packet* p : {&ah, &hopAh}) {
            if (tcp)
                p->tcp(40000, 22);
            else
                p->udp(40000, 5060).sip(kSip);
        }
        ah.patch(l3 + 6, {51}).patch(l3 + 40, {tcp ? uint8_t{6} : uint8_t{17}, 2});
        hopAh.patch(l3 + 40, {51, 1}).patch(l3 + 56, {tcp ? uint8_t{6} : uint8_t{17}, 2});
        const int action = tcp ? XDP_DROP : XDP_PASS;
        const pw_reason reason = tcp ? PW_REASON_SERVICE_DENIED : PW_REASON_SERVICE;
        t.push_back({std::string("IPv6: AH, then ") + (tcp ? "ssh: denied" : "SIP: passes"), ah, kLo, action,
                     reason, PW_ZONE_INTERNET});
        t.push_back({std::string("IPv6: hop-by-hop, AH, then ") + (tcp ? "ssh: denied" : "SIP: passes"), hopAh, kLo,
                     action, reason, PW_ZONE_INTERNET});
    }
    Packet past = ip(Family::V6, kNet, kHost).hopByHop().udp(40000, 5060);
    past.patch(past.l3Offset() + 40 + 1, {10}); // hop-by-hop length 88 bytes: past the payload
    t.push_back(malformed("IPv6: extension header running past the payload", past));
    Packet pastPadded = ip(Family::V6, kNet, kHost).destOpts().udp(40000, 5060).padTo(200);
    pastPadded.patch(pastPadded.l3Offset() + 40 + 1, {2}); // 24 bytes: inside the frame, past the payload
    t.push_back(malformed("IPv6: extension header past the payload into the Ethernet padding", pastPadded));
    return t;
}

std::vector<Fixture> martianFixtures()
{
    std::vector<Fixture> t = {
        martian("IPv4: loopback source 127.0.0.1", Packet().eth().ipv4("127.0.0.1", kHost.v4).udp(40000, 5060)),
        martian("IPv4: multicast source 224.0.0.1", Packet().eth().ipv4("224.0.0.1", kHost.v4).udp(40000, 5060)),
        martian("IPv4: broadcast source 255.255.255.255",
                Packet().eth().ipv4("255.255.255.255", kHost.v4).udp(40000, 5060)),
        martian("IPv4: unspecified source 0.0.0.0", Packet().eth().ipv4("0.0.0.0", kHost.v4).udp(40000, 5060)),
        martian("IPv4: 0.0.0.0 to port 67 over TCP is no DHCP",
                Packet().eth().ipv4("0.0.0.0", "255.255.255.255").tcp(68, 67)),
        martian("IPv4: 0.0.0.0 from port 67 to 68 is no DHCP client",
                Packet().eth().ipv4("0.0.0.0", "255.255.255.255").udp(67, 68)),
        martian("IPv4: martian ICMP", Packet().eth().ipv4("127.0.0.1", kHost.v4).icmp4(3, 4)),
        martian("IPv6: loopback source ::1", Packet().eth().ipv6("::1", kHost.v6).udp(40000, 5060)),
        martian("IPv6: multicast source ff02::1", Packet().eth().ipv6("ff02::1", kHost.v6).udp(40000, 5060)),
        martian("IPv6: IPv4-mapped source ::ffff:198.18.5.5",
                Packet().eth().ipv6("::ffff:198.18.5.5", kHost.v6).udp(40000, 5060)),
        martian("IPv6: IPv4-mapped source of a trusted IPv4 address",
                Packet().eth().ipv6("::ffff:198.18.1.10", kHost.v6).udp(40000, 5060)),
        martian("IPv6: unspecified source ::", Packet().eth().ipv6("::", kHost.v6).udp(40000, 5060)),
        martian("IPv6: unspecified source :: sending an echo request",
                Packet().eth().ipv6("::", kHost.v6).icmp6(128, 0)),
        martian("IPv6: unspecified source :: sending a neighbour advertisement",
                Packet().eth().ipv6("::", "ff02::1").icmp6(136, 0).ttl(255)),
        {"IPv4: DHCP discover 0.0.0.0:68 -> 255.255.255.255:67 is no martian (unlisted drop)",
         Packet().eth().ipv4("0.0.0.0", "255.255.255.255").udp(68, 67).payload(std::vector<uint8_t>(240, 0)), kLo,
         XDP_DROP, PW_REASON_UNLISTED_DROP, PW_ZONE_INTERNET},
        {"IPv6: :: neighbour solicitation with hop limit 255 (DAD) passes",
         Packet().eth().ipv6("::", "ff02::1").icmp6(135, 0).ttl(255).payload(std::vector<uint8_t>(16, 0)), kLo,
         XDP_PASS, PW_REASON_ICMP, PW_ZONE_INTERNET},
        {"IPv6: :: neighbour solicitation with hop limit 64 is no martian but denied",
         Packet().eth().ipv6("::", "ff02::1").icmp6(135, 0).ttl(64).payload(std::vector<uint8_t>(16, 0)), kLo, XDP_DROP,
         PW_REASON_ICMP_DENIED, PW_ZONE_INTERNET},
        {"IPv6: :: MLDv2 report passes", Packet().eth().ipv6("::", "ff02::1").icmp6(143, 0).ttl(1), kLo, XDP_PASS,
         PW_REASON_ICMP, PW_ZONE_INTERNET},
    };
    return t;
}

std::vector<Fixture> martianPassFixtures()
{
    return {
        {"IPv4: DHCP discover 0.0.0.0:68 -> 255.255.255.255:67 is no martian (unlisted pass)",
         Packet().eth().ipv4("0.0.0.0", "255.255.255.255").udp(68, 67).payload(std::vector<uint8_t>(240, 0)), kLo,
         XDP_PASS, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET},
        martian("IPv4: 127.0.0.1 stays martian under unlisted pass",
                Packet().eth().ipv4("127.0.0.1", kHost.v4).udp(40000, 20001)),
    };
}

TEST_CASE("non-IP frames, VLAN tags and PPPoE", "[bpf][l2]")
{
    const Fixture f = GENERATE(Catch::Generators::from_range(l2Fixtures()));
    checkFixture(f);
}

TEST_CASE("malformed headers drop as malformed, valid options and padding do not", "[bpf][malformed]")
{
    const Fixture f = GENERATE(Catch::Generators::from_range(malformedFixtures()));
    checkFixture(f);
}

TEST_CASE("martian sources", "[bpf][martian]")
{
    const Fixture f = GENERATE(Catch::Generators::from_range(martianFixtures()));
    checkFixture(f);
}

TEST_CASE("martian sources under unlisted_ports = pass", "[bpf][martian]")
{
    const Fixture f = GENERATE(Catch::Generators::from_range(martianPassFixtures()));
    checkFixture(f, kBasePass);
}

} // namespace pbxwall::bpftest
