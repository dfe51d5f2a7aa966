// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for verdict step 7: the ICMP the network needs passes, echo requests follow the
// zone's setting ([icmp] echo = trusted, local), echo replies need the host's own request.
#include "fixtures.hpp"

#include <catch2/catch.hpp>
#include <linux/pkt_cls.h>

#include <chrono>

namespace pbxwall::bpftest {

using test::Packet;

namespace {

using namespace std::chrono_literals;

// What an ICMP error quotes: the start of the offending datagram.
const std::vector<uint8_t> kQuote(28, 0x45);

Fixture icmpOk(const std::string& name, Packet p, pw_zone zone = PW_ZONE_INTERNET)
{
    return {name, std::move(p), kLo, XDP_PASS, PW_REASON_ICMP, zone};
}

Fixture icmpDenied(const std::string& name, Packet p, pw_zone zone = PW_ZONE_INTERNET, unsigned ifindex = kLo)
{
    return {name, std::move(p), ifindex, XDP_DROP, PW_REASON_ICMP_DENIED, zone};
}

// An IPv6 neighbour/router discovery message from a link-local source.
Packet nd(uint8_t type, uint8_t hopLimit)
{
    return Packet().eth().ipv6("fe80::1", "ff02::1").icmp6(type, 0).ttl(hopLimit).payload(std::vector<uint8_t>(16, 0));
}

} // namespace

std::vector<Fixture> icmpFixtures()
{
    const Family v4 = Family::V4;
    const Family v6 = Family::V6;
    std::vector<Fixture> t = {
        icmpOk("IPv4: destination unreachable / fragmentation needed (3/4) passes",
               ip(v4, kNet, kHost).icmp4(3, 4).payload(kQuote)),
        icmpOk("IPv4: port unreachable (3/3) passes", ip(v4, kNet, kHost).icmp4(3, 3).payload(kQuote)),
        icmpOk("IPv4: time exceeded (11) passes", ip(v4, kNet, kHost).icmp4(11, 0).payload(kQuote)),
        icmpOk("IPv4: parameter problem (12) passes", ip(v4, kNet, kHost).icmp4(12, 0).payload(kQuote)),
        icmpDenied("IPv4: redirect (5) is denied", ip(v4, kNet, kHost).icmp4(5, 1).payload(kQuote)),
        icmpDenied("IPv4: timestamp request (13) is denied", ip(v4, kNet, kHost).icmp4(13, 0)),
        icmpDenied("IPv4: router solicitation (10) is denied", ip(v4, kNet, kHost).icmp4(10, 0)),

        icmpOk("IPv6: packet too big (2) passes", ip(v6, kNet, kHost).icmp6(2, 0).payload(kQuote)),
        icmpOk("IPv6: destination unreachable (1) passes", ip(v6, kNet, kHost).icmp6(1, 4).payload(kQuote)),
        icmpOk("IPv6: time exceeded (3) passes", ip(v6, kNet, kHost).icmp6(3, 0).payload(kQuote)),
        icmpOk("IPv6: parameter problem (4) passes", ip(v6, kNet, kHost).icmp6(4, 1).payload(kQuote)),
        icmpOk("IPv6: router solicitation (133), hop limit 255, passes", nd(133, 255)),
        icmpOk("IPv6: router advertisement (134), hop limit 255, passes", nd(134, 255)),
        icmpOk("IPv6: neighbour solicitation (135), hop limit 255, passes", nd(135, 255)),
        icmpOk("IPv6: neighbour advertisement (136), hop limit 255, passes", nd(136, 255)),
        icmpDenied("IPv6: router advertisement with hop limit 64 is denied", nd(134, 64)),
        icmpDenied("IPv6: neighbour solicitation with hop limit 64 is denied", nd(135, 64)),
        icmpDenied("IPv6: neighbour advertisement with hop limit 64 is denied", nd(136, 64)),
        icmpDenied("IPv6: neighbour solicitation with hop limit 254 is denied", nd(135, 254)),
        icmpDenied("IPv6: redirect (137), even with hop limit 255, is denied", nd(137, 255)),
        icmpOk("IPv6: MLDv2 report (143) passes", Packet().eth().ipv6("fe80::1", "ff02::1").icmp6(143, 0).ttl(1)),
        icmpOk("IPv6: MLD query (130) passes",
               Packet().eth().ipv6("fe80::1", "ff02::1").icmp6(130, 0).ttl(1).payload(std::vector<uint8_t>(16, 0))),
        icmpOk("IPv6: MLDv1 report (131) passes",
               Packet().eth().ipv6("fe80::1", "ff02::1").icmp6(131, 0).ttl(1).payload(std::vector<uint8_t>(16, 0))),
        icmpDenied("IPv6: unknown type 200 is denied", ip(v6, kNet, kHost).icmp6(200, 0)),
        // The other family's ICMP is no ICMP to any host: a protocol without ports, which
        // follows unlisted_ports (drop here), whatever its type says.
        {"IPv4: protocol 58 (ICMPv6 unreachable) is a protocol without ports",
         ip(v4, kNet, kHost).ipProto(58).payload({1, 0, 0, 0, 0, 0, 0, 0}), kLo, XDP_DROP, PW_REASON_UNLISTED_DROP,
         PW_ZONE_INTERNET},
        {"IPv4: protocol 58 (neighbour advertisement, TTL 255) is a protocol without ports",
         ip(v4, kNet, kHost).ipProto(58).ttl(255).payload({136, 0, 0, 0, 0, 0, 0, 0}), kLo, XDP_DROP,
         PW_REASON_UNLISTED_DROP, PW_ZONE_INTERNET},
        {"IPv6: next header 1 (ICMP unreachable) is a protocol without ports",
         ip(v6, kNet, kHost).ipProto(1).payload({3, 3, 0, 0, 0, 0, 0, 0}), kLo, XDP_DROP, PW_REASON_UNLISTED_DROP,
         PW_ZONE_INTERNET},
    };
    for (Family f : kFamilies) {
        t.push_back(icmpDenied(named(f, "echo request from the internet is denied"),
                               icmp(ip(f, kNet, kHost), f, icmpEchoRequest(f))));
        t.push_back(icmpDenied(named(f, "echo request on an unnamed interface is denied (slot 0)"),
                               icmp(ip(f, kNet, kHost), f, icmpEchoRequest(f)), PW_ZONE_INTERNET, kUnnamed));
        t.push_back(icmpOk(named(f, "echo request from local passes"),
                           icmp(ip(f, kLocal, kHost), f, icmpEchoRequest(f)), PW_ZONE_LOCAL));
        t.push_back({named(f, "echo request from trusted passes as trusted"),
                     icmp(ip(f, kTrusted, kHost), f, icmpEchoRequest(f)), kLo, XDP_PASS, PW_REASON_TRUSTED,
                     PW_ZONE_TRUSTED});
        t.push_back(icmpDenied(named(f, "echo reply without the host's request is denied"),
                               icmp(ip(f, kNet, kHost), f, icmpEchoReply(f))));
        t.push_back(icmpDenied(named(f, "echo reply to local without a request is denied"),
                               icmp(ip(f, kLocal, kHost), f, icmpEchoReply(f)), PW_ZONE_LOCAL));
        t.push_back({named(f, "ICMP error from a reject source drops as reject"),
                     icmp(ip(f, kReject, kHost), f, f == Family::V4 ? 3 : 2).payload(kQuote), kLo, XDP_DROP,
                     PW_REASON_REJECT, PW_ZONE_REJECT});
        t.push_back({named(f, "echo request from a reject source drops as reject"),
                     icmp(ip(f, kReject, kHost), f, icmpEchoRequest(f)), kLo, XDP_DROP, PW_REASON_REJECT,
                     PW_ZONE_REJECT});
    }
    return t;
}

TEST_CASE("ICMP and ICMPv6 types", "[bpf][icmp]")
{
    const Fixture f = GENERATE(Catch::Generators::from_range(icmpFixtures()));
    checkFixture(f);
}

TEST_CASE("ICMP from a banned source drops as banned", "[bpf][icmp][bans]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h;
    h.ban(f == Family::V4 ? kNet.v4 : kNet.v6, 600s);
    checkVerdict(h,
                 {named(f, "banned: an ICMP error"),
                  icmp(ip(f, kNet, kHost), f, f == Family::V4 ? 3 : 2).payload(kQuote), kLo, XDP_DROP, PW_REASON_BANNED,
                  PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "banned: an echo request"), icmp(ip(f, kNet, kHost), f, icmpEchoRequest(f)), kLo, XDP_DROP,
                  PW_REASON_BANNED, PW_ZONE_INTERNET});
    if (f == Family::V6)
        checkVerdict(
            h,
            {"banned: neighbour solicitation",
             Packet().eth().ipv6(kNet.v6, kHost.v6).icmp6(135, 0).ttl(255).payload(std::vector<uint8_t>(16, 0)), kLo,
             XDP_DROP, PW_REASON_BANNED, PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "not banned: another source's ICMP error"),
                  icmp(ip(f, kNet2, kHost), f, f == Family::V4 ? 11 : 3).payload(kQuote), kLo, XDP_PASS, PW_REASON_ICMP,
                  PW_ZONE_INTERNET});
}

TEST_CASE("an echo reply passes after the host's echo request", "[bpf][icmp][replies]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(kBaseDrop, Programs::IngressAndEgress);

    auto reply = [&](Peer from, uint16_t id) { return icmp(ip(f, from, kHost), f, icmpEchoReply(f)).icmpEcho(id, 7); };
    checkVerdict(h,
                 {named(f, "reply before any request"), reply(kNet, 0x4242), kLo, XDP_DROP, PW_REASON_ICMP_DENIED,
                  PW_ZONE_INTERNET});

    const Packet request = icmp(ip(f, kHost, kNet), f, icmpEchoRequest(f)).icmpEcho(0x4242, 7);
    CHECK(h.runEgress(request.bytes()) == TC_ACT_OK);

    checkVerdict(h,
                 {named(f, "reply to the host's request"), reply(kNet, 0x4242), kLo, XDP_PASS, PW_REASON_REPLY,
                  PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "reply with another identifier"), reply(kNet, 0x4243), kLo, XDP_DROP, PW_REASON_ICMP_DENIED,
                  PW_ZONE_INTERNET});
    checkVerdict(h,
                 {named(f, "reply from a peer the host did not ping"), reply(kNet2, 0x4242), kLo, XDP_DROP,
                  PW_REASON_ICMP_DENIED, PW_ZONE_INTERNET});
    // The request records a flow, not a licence for the peer's own echo requests.
    checkVerdict(h,
                 {named(f, "the peer's echo request is still denied"),
                  icmp(ip(f, kNet, kHost), f, icmpEchoRequest(f)).icmpEcho(0x4242, 7), kLo, XDP_DROP,
                  PW_REASON_ICMP_DENIED, PW_ZONE_INTERNET});
}

} // namespace pbxwall::bpftest
