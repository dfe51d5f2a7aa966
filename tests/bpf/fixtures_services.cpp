// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for verdict steps 8-9: services by destination port and zone, unlisted ports,
// DHCP, and replies to the flows the host opened (recorded by pw_tc_egress).
#include "fixtures.hpp"

#include <catch2/catch.hpp>
#include <linux/pkt_cls.h>

namespace pbxwall::bpftest {

using test::Packet;
using test::TcpFlags;

namespace {

constexpr const char* kInvite = "INVITE sip:100@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.9.9\r\n\r\n";
const std::vector<uint8_t> kRtp = {0x80, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78};
constexpr auto kSynAck = TcpFlags::Syn | TcpFlags::Ack;

Fixture unlistedDrop(const std::string& name, Packet p, pw_zone zone = PW_ZONE_INTERNET)
{
    return {name, std::move(p), kLo, XDP_DROP, PW_REASON_UNLISTED_DROP, zone};
}

// The IP header with the GRE protocol number and a GRE header: no ports.
Packet gre(Family f, Peer src) { return ip(f, src, kHost).ipProto(47).payload({0, 0, 0x08, 0x00}); }

} // namespace

std::vector<Fixture> serviceFixtures()
{
    std::vector<Fixture> t;
    for (Family f : kFamilies) {
        t.push_back({named(f, "SIP over UDP from the internet passes"), ip(f, kNet, kHost).udp(5060, 5060).sip(kInvite),
                     kLo, XDP_PASS, PW_REASON_SERVICE, PW_ZONE_INTERNET});
        t.push_back({named(f, "SIP over TCP 5060 from the internet passes"), ip(f, kNet, kHost).tcp(40000, 5060), kLo,
                     XDP_PASS, PW_REASON_SERVICE, PW_ZONE_INTERNET});
        t.push_back({named(f, "SIP over TLS (TCP 5061) from the internet passes"), ip(f, kNet, kHost).tcp(40000, 5061),
                     kLo, XDP_PASS, PW_REASON_SERVICE, PW_ZONE_INTERNET});
        t.push_back({named(f, "SIP from local passes"), ip(f, kLocal, kHost).udp(5060, 5060).sip(kInvite), kLo,
                     XDP_PASS, PW_REASON_SERVICE, PW_ZONE_LOCAL});
        t.push_back(
            unlistedDrop(named(f, "TCP 5062, next to the SIP range, is unlisted"), ip(f, kNet, kHost).tcp(1, 5062)));
        t.push_back(unlistedDrop(named(f, "UDP 5061 is unlisted (TLS is TCP only)"), ip(f, kNet, kHost).udp(1, 5061)));
        t.push_back({named(f, "RTP (UDP 10000) from the internet is denied"),
                     ip(f, kNet, kHost).udp(30000, 10000).payload(kRtp), kLo, XDP_DROP, PW_REASON_SERVICE_DENIED,
                     PW_ZONE_INTERNET});
        t.push_back({named(f, "RTP (UDP 20000, end of range) from the internet is denied"),
                     ip(f, kNet, kHost).udp(30000, 20000).payload(kRtp), kLo, XDP_DROP, PW_REASON_SERVICE_DENIED,
                     PW_ZONE_INTERNET});
        t.push_back({named(f, "RTP (UDP 10000) from local passes"),
                     ip(f, kLocal, kHost).udp(30000, 10000).payload(kRtp), kLo, XDP_PASS, PW_REASON_SERVICE,
                     PW_ZONE_LOCAL});
        t.push_back({named(f, "RTP (UDP 20000) from local passes"),
                     ip(f, kLocal, kHost).udp(30000, 20000).payload(kRtp), kLo, XDP_PASS, PW_REASON_SERVICE,
                     PW_ZONE_LOCAL});
        t.push_back(unlistedDrop(named(f, "UDP 9999, below the RTP range, is unlisted"),
                                 ip(f, kLocal, kHost).udp(30000, 9999), PW_ZONE_LOCAL));
        t.push_back(unlistedDrop(named(f, "TCP 10000 is unlisted (RTP is UDP only)"),
                                 ip(f, kLocal, kHost).tcp(1, 10000), PW_ZONE_LOCAL));
        t.push_back({named(f, "ssh from the internet is denied"), ip(f, kNet, kHost).tcp(40000, 22), kLo, XDP_DROP,
                     PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
        t.push_back({named(f, "ssh from local passes"), ip(f, kLocal, kHost).tcp(40000, 22), kLo, XDP_PASS,
                     PW_REASON_SERVICE, PW_ZONE_LOCAL});
        t.push_back({named(f, "ssh from the internet on an unnamed interface is denied (slot 0)"),
                     ip(f, kNet, kHost).tcp(40000, 22), kUnnamed, XDP_DROP, PW_REASON_SERVICE_DENIED,
                     PW_ZONE_INTERNET});
        t.push_back(unlistedDrop(named(f, "UDP 20001 is unlisted"), ip(f, kNet, kHost).udp(40000, 20001)));
        t.push_back(unlistedDrop(named(f, "TCP 20001 is unlisted"), ip(f, kNet, kHost).tcp(40000, 20001)));
        t.push_back(unlistedDrop(named(f, "GRE (no ports) follows the unlisted policy"), gre(f, kNet)));
        t.push_back(
            unlistedDrop(named(f, "GRE from local follows the unlisted policy"), gre(f, kLocal), PW_ZONE_LOCAL));
        t.push_back(
            unlistedDrop(named(f, "unsolicited TCP SYN-ACK drops"), ip(f, kNet, kHost).tcp(443, 40001, kSynAck)));
        t.push_back(unlistedDrop(named(f, "unsolicited DNS answer drops"), ip(f, kNet, kHost).udp(53, 40000)));
    }
    t.push_back({"IPv4: DHCP server to client (67 -> 68) passes",
                 Packet().eth().ipv4("198.18.9.1", "255.255.255.255").udp(67, 68).payload(std::vector<uint8_t>(240, 0)),
                 kLo, XDP_PASS, PW_REASON_DHCP, PW_ZONE_INTERNET});
    t.push_back({"IPv4: DHCP server to the host's address passes", ip(Family::V4, kNet, kHost).udp(67, 68), kLo,
                 XDP_PASS, PW_REASON_DHCP, PW_ZONE_INTERNET});
    t.push_back({"IPv6: DHCPv6 server to client (547 -> 546) passes",
                 Packet().eth().ipv6(kNet.v6, "fe80::1").udp(547, 546).payload({7, 0, 0, 1}), kLo, XDP_PASS,
                 PW_REASON_DHCP, PW_ZONE_INTERNET});
    t.push_back(unlistedDrop("IPv4: 67 -> 68 over TCP is no DHCP", ip(Family::V4, kNet, kHost).tcp(67, 68)));
    t.push_back(
        unlistedDrop("IPv4: 547 -> 546 is DHCPv6's pair, not DHCP's", ip(Family::V4, kNet, kHost).udp(547, 546)));
    t.push_back(unlistedDrop("IPv6: 67 -> 68 is DHCP's pair, not DHCPv6's", ip(Family::V6, kNet, kHost).udp(67, 68)));
    t.push_back(unlistedDrop("IPv4: client to server (68 -> 67) is unlisted", ip(Family::V4, kNet, kHost).udp(68, 67)));
    return t;
}

std::vector<Fixture> servicePassFixtures()
{
    std::vector<Fixture> t;
    for (Family f : kFamilies) {
        t.push_back({named(f, "unlisted pass: UDP 20001 passes"), ip(f, kNet, kHost).udp(40000, 20001), kLo, XDP_PASS,
                     PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET});
        t.push_back({named(f, "unlisted pass: TCP 20001 passes"), ip(f, kNet, kHost).tcp(40000, 20001), kLo, XDP_PASS,
                     PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET});
        t.push_back({named(f, "unlisted pass: GRE passes"), gre(f, kNet), kLo, XDP_PASS, PW_REASON_UNLISTED_PASS,
                     PW_ZONE_INTERNET});
        t.push_back({named(f, "unlisted pass: DHCP answers count as unlisted"), ip(f, kNet, kHost).udp(67, 68), kLo,
                     XDP_PASS, PW_REASON_UNLISTED_PASS, PW_ZONE_INTERNET});
        t.push_back({named(f, "unlisted pass: SIP is still a service"), ip(f, kNet, kHost).udp(5060, 5060).sip(kInvite),
                     kLo, XDP_PASS, PW_REASON_SERVICE, PW_ZONE_INTERNET});
        t.push_back({named(f, "unlisted pass: RTP from the internet is still denied"),
                     ip(f, kNet, kHost).udp(30000, 10000).payload(kRtp), kLo, XDP_DROP, PW_REASON_SERVICE_DENIED,
                     PW_ZONE_INTERNET});
        t.push_back({named(f, "unlisted pass: ssh from the internet is still denied"), ip(f, kNet, kHost).tcp(1, 22),
                     kLo, XDP_DROP, PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
        t.push_back({named(f, "unlisted pass: reject still drops"), ip(f, kReject, kHost).udp(40000, 20001), kLo,
                     XDP_DROP, PW_REASON_REJECT, PW_ZONE_REJECT});
    }
    return t;
}

TEST_CASE("services, unlisted ports and DHCP (unlisted_ports = drop)", "[bpf][services]")
{
    const Fixture f = GENERATE(Catch::Generators::from_range(serviceFixtures()));
    checkFixture(f);
}

TEST_CASE("services and unlisted ports (unlisted_ports = pass)", "[bpf][services]")
{
    const Fixture f = GENERATE(Catch::Generators::from_range(servicePassFixtures()));
    checkFixture(f, kBasePass);
}

TEST_CASE("a service closed to the internet: the host's own traffic from its port gets its answer", "[bpf][replies]")
{
    // NTP queries go from port 123 to 123, an IAX2 trunk from 4569 to 4569: the service on the
    // host's port is closed to the internet, so only the host's own flow lets the answer in.
    // Here the rtp service (10000-20000: trusted, local, other) stands for it; so does RTP the
    // PBX sends to a peer of a call (symmetric RTP comes back from the port it was sent to).
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(kBaseDrop, Programs::IngressAndEgress);
    const Packet answer = ip(f, kNet, kHost).udp(10000, 10000).payload({0x24, 0x01});

    checkVerdict(h, {named(f, "an internet peer to the closed service"), answer, kLo, XDP_DROP,
                     PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
    CHECK(h.runEgress(ip(f, kHost, kNet).udp(10000, 10000).payload({0x23, 0x00}).bytes()) == TC_ACT_OK);
    CHECK(h.maps().flows.keys().size() == 1);
    checkVerdict(h, {named(f, "the same peer answering the host"), answer, kLo, XDP_PASS, PW_REASON_REPLY,
                     PW_ZONE_INTERNET});
    checkVerdict(h, {named(f, "another internet peer"), ip(f, kNet2, kHost).udp(10000, 10000), kLo, XDP_DROP,
                     PW_REASON_SERVICE_DENIED, PW_ZONE_INTERNET});
    // A service open to the internet answers whoever asks: no flow for its answers.
    CHECK(h.runEgress(ip(f, kHost, kNet2).udp(5060, 5062).payload("SIP/2.0 200 OK\r\n\r\n").bytes()) == TC_ACT_OK);
    CHECK(h.maps().flows.keys().size() == 1);
}

TEST_CASE("a UDP reply passes after the host's query", "[bpf][replies]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(kBaseDrop, Programs::IngressAndEgress);
    const Packet answer = ip(f, kNet, kHost).udp(53, 40000).payload({0x12, 0x34, 0x81, 0x80});

    checkVerdict(
        h, {named(f, "answer before the query"), answer, kLo, XDP_DROP, PW_REASON_UNLISTED_DROP, PW_ZONE_INTERNET});
    CHECK(h.runEgress(ip(f, kHost, kNet).udp(40000, 53).payload({0x12, 0x34, 0x01, 0x00}).bytes()) == TC_ACT_OK);
    CHECK(h.maps().flows.keys().size() == 1);
    checkVerdict(h, {named(f, "answer to the host's query"), answer, kLo, XDP_PASS, PW_REASON_REPLY, PW_ZONE_INTERNET});
    // Stamped ahead of the ingress CPU's copy of the clock (the egress program reads the clock
    // itself, and a copy taken just after a tick lags until the next): a fresh flow, not one
    // that wrapped into "2^64 ns ago". A second ahead, so that it still is when the run comes.
    for (const pw_flow_key& k : h.maps().flows.keys())
        h.maps().flows.update(k, pw_flow{coarseNow() + 1000000000ULL});
    checkVerdict(h, {named(f, "answer to a query stamped ahead of the clock"), answer, kLo, XDP_PASS,
                     PW_REASON_REPLY, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "answer on an unnamed interface (slot 0)"), answer, kUnnamed, XDP_PASS, PW_REASON_REPLY,
                  PW_ZONE_INTERNET});
    // Under a PPPoE link both directions carry the session header: egress must see the flow too.
    const Packet pppoeAnswer = ip(f, kNet, kHost, Packet().eth().pppoe(7)).udp(53, 40002);
    checkVerdict(h, {named(f, "PPPoE: answer before the query"), pppoeAnswer, kLo, XDP_DROP, PW_REASON_UNLISTED_DROP,
                     PW_ZONE_INTERNET});
    CHECK(h.runEgress(ip(f, kHost, kNet, Packet().eth().pppoe(7)).udp(40002, 53).bytes()) == TC_ACT_OK);
    checkVerdict(h, {named(f, "PPPoE: answer to the host's query"), pppoeAnswer, kLo, XDP_PASS, PW_REASON_REPLY,
                     PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "answer from another server port"), ip(f, kNet, kHost).udp(54, 40000), kLo, XDP_DROP,
                  PW_REASON_UNLISTED_DROP, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "answer to another host port"), ip(f, kNet, kHost).udp(53, 40001), kLo, XDP_DROP,
                  PW_REASON_UNLISTED_DROP, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "answer from another server"), ip(f, kNet2, kHost).udp(53, 40000), kLo, XDP_DROP,
                  PW_REASON_UNLISTED_DROP, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "TCP on the same ports is another flow"), ip(f, kNet, kHost).tcp(53, 40000, kSynAck), kLo,
                  XDP_DROP, PW_REASON_UNLISTED_DROP, PW_ZONE_INTERNET});
}

TEST_CASE("a TCP SYN-ACK passes after the host's SYN", "[bpf][replies]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(kBaseDrop, Programs::IngressAndEgress);
    const Packet synAck = ip(f, kNet, kHost).tcp(443, 40001, kSynAck);

    checkVerdict(
        h, {named(f, "SYN-ACK before the SYN"), synAck, kLo, XDP_DROP, PW_REASON_UNLISTED_DROP, PW_ZONE_INTERNET});
    // An egress ACK or SYN-ACK (the host answering someone) does not open a flow.
    CHECK(h.runEgress(ip(f, kHost, kNet).tcp(40001, 443, TcpFlags::Ack).bytes()) == TC_ACT_OK);
    CHECK(h.runEgress(ip(f, kHost, kNet).tcp(40001, 443, kSynAck).bytes()) == TC_ACT_OK);
    CHECK(h.maps().flows.keys().empty());
    checkVerdict(h,
                 {named(f, "SYN-ACK after an egress ACK only"), synAck, kLo, XDP_DROP, PW_REASON_UNLISTED_DROP,
                  PW_ZONE_INTERNET});

    CHECK(h.runEgress(ip(f, kHost, kNet).tcp(40001, 443, TcpFlags::Syn).bytes()) == TC_ACT_OK);
    checkVerdict(h, {named(f, "SYN-ACK to the host's SYN"), synAck, kLo, XDP_PASS, PW_REASON_REPLY, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "data on the flow"),
                  ip(f, kNet, kHost).tcp(443, 40001, TcpFlags::Ack | TcpFlags::Psh).payload({'h', 'i'}), kLo, XDP_PASS,
                  PW_REASON_REPLY, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "unsolicited SYN-ACK from elsewhere"), ip(f, kNet2, kHost).tcp(443, 40001, kSynAck), kLo,
                  XDP_DROP, PW_REASON_UNLISTED_DROP, PW_ZONE_INTERNET});
}

TEST_CASE("egress from the port of a service open to the internet opens no flow", "[bpf][replies]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(kBaseDrop, Programs::IngressAndEgress);

    // The PBX answering on its SIP port (open to the internet: it answers whoever asks) is not
    // a flow it opened.
    CHECK(h.runEgress(ip(f, kHost, kNet).udp(5060, 5070).sip("SIP/2.0 200 OK\r\n\r\n").bytes()) == TC_ACT_OK);
    CHECK(h.maps().flows.keys().empty());
    // The same from an unlisted port opens one and the answer passes.
    CHECK(h.runEgress(ip(f, kHost, kNet).udp(40000, 30000).payload(kRtp).bytes()) == TC_ACT_OK);
    CHECK(h.maps().flows.keys().size() == 1);
    checkVerdict(h,
                 {named(f, "answer to an unlisted source port"), ip(f, kNet, kHost).udp(30000, 40000).payload(kRtp),
                  kLo, XDP_PASS, PW_REASON_REPLY, PW_ZONE_INTERNET});
}

} // namespace pbxwall::bpftest
