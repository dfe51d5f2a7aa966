// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Self-test of the packet builder: lengths, ethertype and next-header chains, checksums and the
// malformation hooks, checked by a small decoder written here independently of the builder.
#include "packet_builder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

using pbxwall::test::MacAddress;
using pbxwall::test::Packet;
using pbxwall::test::TcpFlags;

namespace {

using Bytes = std::vector<uint8_t>;

const std::string kSip = "OPTIONS sip:100@x SIP/2.0\r\n\r\n";

uint16_t rd16(const Bytes& b, size_t off) {
    return static_cast<uint16_t>(b.at(off) << 8 | b.at(off + 1));
}

uint32_t rd32(const Bytes& b, size_t off) {
    return static_cast<uint32_t>(rd16(b, off)) << 16 | rd16(b, off + 2);
}

// One's-complement sum (RFC 1071), folded: a region that includes a correct checksum sums
// to 0xffff.
uint32_t addBytes(uint32_t acc, const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        acc += i % 2 == 0 ? static_cast<uint32_t>(p[i]) << 8 : p[i];
    return acc;
}

uint16_t fold(uint32_t acc) {
    while (acc > 0xffff)
        acc = (acc >> 16) + (acc & 0xffff);
    return static_cast<uint16_t>(acc);
}

bool ipv4HeaderValid(const Bytes& b, size_t l3) {
    return fold(addBytes(0, b.data() + l3, (b.at(l3) & 0x0fu) * 4u)) == 0xffff;
}

// L4 checksum over [l4, end) with the pseudo-header bytes laid out from the IP header at l3
// (RFC 768 for IPv4, RFC 8200 8.1 for IPv6).
bool l4ChecksumValid(const Bytes& b, size_t l3, size_t l4, uint8_t proto, size_t end) {
    const auto len = static_cast<uint32_t>(end - l4);
    auto byte = [len](int shift) { return static_cast<uint8_t>(len >> shift); };
    const bool v4 = b.at(l3) >> 4 == 4;
    const auto addr = b.begin() + static_cast<std::ptrdiff_t>(l3 + (v4 ? 12 : 8));
    Bytes pseudo(addr, addr + (v4 ? 8 : 32));
    if (v4)
        pseudo.insert(pseudo.end(), {0, proto, byte(8), byte(0)});
    else
        pseudo.insert(pseudo.end(), {byte(24), byte(16), byte(8), byte(0), 0, 0, 0, proto});
    const uint32_t acc = addBytes(0, pseudo.data(), pseudo.size());
    return fold(addBytes(acc, b.data() + l4, len)) == 0xffff;
}

struct L2View {
    size_t l3 = 0;
    uint16_t ethertype = 0;
    std::vector<uint16_t> tpids;
    std::vector<uint16_t> vids;
};

L2View walkL2(const Bytes& b) {
    L2View v;
    size_t off = 12;
    uint16_t type = rd16(b, off);
    while (type == 0x8100 || type == 0x88a8) {
        v.tpids.push_back(type);
        v.vids.push_back(rd16(b, off + 2) & 0x0fff);
        off += 4;
        type = rd16(b, off);
    }
    v.ethertype = type;
    v.l3 = off + 2;
    return v;
}

struct V6View {
    std::vector<uint8_t> chain;  // next-header values, IPv6 header first
    size_t l4 = 0;
};

V6View walkIpv6(const Bytes& b, size_t l3) {
    V6View v;
    uint8_t nh = b.at(l3 + 6);
    size_t off = l3 + 40;
    v.chain.push_back(nh);
    while (nh == 0 || nh == 43 || nh == 44 || nh == 60) {
        const uint8_t next = b.at(off);
        off += nh == 44 ? 8 : (b.at(off + 1) + 1u) * 8u;
        nh = next;
        v.chain.push_back(nh);
    }
    v.l4 = off;
    return v;
}

}  // namespace

TEST_CASE("IPv4/UDP defaults, lengths and checksums", "[packet_builder]") {
    Packet p;
    p.eth().ipv4("198.18.0.1", "198.19.0.1").udp(40000, 5060).payload(kSip);
    const Bytes b = p.bytes();
    INFO(p.hex());
    REQUIRE(b.size() == 14 + 20 + 8 + kSip.size());
    CHECK(Bytes(b.begin(), b.begin() + 6) == Bytes{2, 0, 0, 0, 0, 2});
    CHECK(Bytes(b.begin() + 6, b.begin() + 12) == Bytes{2, 0, 0, 0, 0, 1});
    CHECK(rd16(b, 12) == 0x0800);
    CHECK(p.l3Offset() == 14);
    CHECK(p.l4Offset() == 34);
    CHECK(b[14] == 0x45);
    CHECK(rd16(b, 16) == 20 + 8 + kSip.size());
    CHECK(rd16(b, 18) == 0x1234);
    CHECK(rd16(b, 20) == 0);  // no DF, no fragment
    CHECK(b[22] == 64);
    CHECK(b[23] == 17);
    CHECK(rd32(b, 26) == 0xc6120001);
    CHECK(rd32(b, 30) == 0xc6130001);
    CHECK(ipv4HeaderValid(b, 14));
    CHECK(rd16(b, 34) == 40000);
    CHECK(rd16(b, 36) == 5060);
    CHECK(rd16(b, 38) == 8 + kSip.size());
    CHECK(rd16(b, 40) == 0xa679);  // computed separately with Python's struct module
    CHECK(l4ChecksumValid(b, 14, 34, 17, b.size()));
    CHECK(std::string(b.begin() + 42, b.end()) == kSip);
    CHECK(p.bytes() == b);  // bytes() is repeatable
}

TEST_CASE("IPv4 header checksum matches a published example", "[packet_builder]") {
    // 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7 (the Wikipedia IPv4 checksum example)
    Packet p;
    p.ipv4("192.168.0.1", "192.168.0.199").ipv4Fragment(0, 0, false).dontFragment();
    p.udp(1, 2).payload(Bytes(0x73 - 28, 0));
    const Bytes b = p.bytes();
    const Bytes expected{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                         0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    CHECK(Bytes(b.begin(), b.begin() + 20) == expected);
    CHECK(p.l3Offset() == 0);
}

TEST_CASE("VLAN and QinQ tags stack in order", "[packet_builder]") {
    Packet p;
    p.eth().qinq(200).vlan(100, 5).vlan(7).ipv4("198.18.0.1", "198.19.0.1").udp(1, 5060);
    const Bytes b = p.bytes();
    const L2View v = walkL2(b);
    CHECK(v.tpids == std::vector<uint16_t>{0x88a8, 0x8100, 0x8100});
    CHECK(v.vids == std::vector<uint16_t>{200, 100, 7});
    CHECK(b[18] >> 5 == 5);  // PCP of the second tag
    CHECK(v.ethertype == 0x0800);
    CHECK(v.l3 == 26);
    CHECK(p.l3Offset() == 26);
    CHECK(p.l4Offset() == 46);
    CHECK(rd16(b, 28) == 28);
    CHECK(ipv4HeaderValid(b, 26));
    CHECK(l4ChecksumValid(b, 26, 46, 17, b.size()));

    Packet v6;
    v6.eth().vlan(10).ipv6("2001:db8::1", "2001:db8::2").udp(5060, 5060);
    const Bytes b6 = v6.bytes();
    CHECK(walkL2(b6).ethertype == 0x86dd);
    CHECK(v6.l3Offset() == 18);
}

TEST_CASE("PPPoE session frames: header, length and PPP protocol", "[packet_builder]") {
    Packet p;
    p.eth().vlan(7).pppoe(0x1234).ipv4("198.18.0.1", "198.19.0.1").udp(1, 5060).payload(kSip);
    const Bytes b = p.bytes();
    INFO(p.hex());
    CHECK(rd16(b, 16) == 0x8864);      // the tag's inner type: PPPoE session stage
    CHECK(b[18] == 0x11);              // version 1, type 1
    CHECK(b[19] == 0);                 // code 0: session data
    CHECK(rd16(b, 20) == 0x1234);      // session id
    CHECK(rd16(b, 22) == b.size() - 24);  // everything after the 6-byte header
    CHECK(rd16(b, 24) == 0x0021);      // PPP protocol: IPv4
    CHECK(p.l3Offset() == 26);
    CHECK(p.l4Offset() == 46);
    CHECK(ipv4HeaderValid(b, 26));
    CHECK(l4ChecksumValid(b, 26, 46, 17, b.size()));

    Packet v6;
    v6.eth().pppoe(1).ipv6("2001:db8::1", "2001:db8::2").udp(5060, 5060);
    const Bytes b6 = v6.bytes();
    CHECK(rd16(b6, 12) == 0x8864);
    CHECK(rd16(b6, 20) == 0x0057);     // PPP protocol: IPv6
    CHECK(v6.l3Offset() == 22);

    Packet lcp;
    lcp.eth().pppoe(1).pppProtocol(0xc021).payload({1, 1, 0, 4});
    const Bytes bl = lcp.bytes();
    CHECK(rd16(bl, 18) == 6);          // PPP protocol and 4 bytes of LCP
    CHECK(rd16(bl, 20) == 0xc021);
    CHECK_THROWS_AS(Packet().eth().pppProtocol(0x21), std::logic_error);
}

TEST_CASE("raw ethertype frames: ARP, LLDP, padding", "[packet_builder]") {
    const Bytes arp{0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 198, 18, 0, 1,
                    0, 0, 0, 0, 0, 0, 198, 18, 0, 2};
    Packet p;
    p.eth("02:aa:bb:cc:dd:ee", "ff:ff:ff:ff:ff:ff").ethertype(0x0806).payload(arp).padTo(60);
    const Bytes b = p.bytes();
    REQUIRE(b.size() == 60);
    CHECK(Bytes(b.begin(), b.begin() + 6) == Bytes(6, 0xff));
    CHECK(Bytes(b.begin() + 6, b.begin() + 12) == Bytes{2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee});
    CHECK(rd16(b, 12) == 0x0806);
    CHECK(Bytes(b.begin() + 14, b.begin() + 42) == arp);
    CHECK(Bytes(b.begin() + 42, b.end()) == Bytes(18, 0));
    CHECK(p.l3Offset() == 14);
    CHECK(p.l4Offset() == 14);

    Packet lldp;
    lldp.eth(MacAddress{2, 0, 0, 0, 0, 9}, MacAddress{0x01, 0x80, 0xc2, 0, 0, 0x0e})
        .vlan(5)
        .ethertype(0x88cc)
        .payload({0x02, 0x07, 0x04});
    const Bytes l = lldp.bytes();
    CHECK(rd16(l, 12) == 0x8100);
    CHECK(rd16(l, 16) == 0x88cc);
    CHECK(l.size() == 21);
}

TEST_CASE("IPv4 options are padded to 4 bytes and set IHL", "[packet_builder]") {
    Packet p;
    p.eth().ipv4("198.18.0.1", "198.19.0.1").ipv4Options({0x94, 0x04, 0x00}).ttl(1);
    p.udp(5060, 5060).payload(kSip);
    const Bytes b = p.bytes();
    CHECK(b[14] == 0x46);
    CHECK(b[22] == 1);
    CHECK(Bytes(b.begin() + 34, b.begin() + 38) == Bytes{0x94, 0x04, 0x00, 0x00});
    CHECK(rd16(b, 16) == 24 + 8 + kSip.size());
    CHECK(ipv4HeaderValid(b, 14));
    CHECK(p.l4Offset() == 38);
    CHECK(rd16(b, 38) == 5060);
    CHECK(l4ChecksumValid(b, 14, 38, 17, b.size()));
    CHECK_THROWS_AS(Packet().ipv4("1.1.1.1", "2.2.2.2").ipv4Options(Bytes(41, 1)),
                    std::invalid_argument);
}

TEST_CASE("IPv4 fragments carry id, offset and MF; lengths as sent", "[packet_builder]") {
    Packet first;
    first.eth().ipv4("198.18.0.1", "198.19.0.1").ipv4Fragment(0xbeef, 0, true);
    first.udp(5060, 5060).payload(Bytes(1472, 'a'));
    const Bytes b = first.bytes();
    CHECK(rd16(b, 18) == 0xbeef);
    CHECK(rd16(b, 20) == 0x2000);
    CHECK(rd16(b, 16) == 1500);
    CHECK(rd16(b, 38) == 1480);
    CHECK(ipv4HeaderValid(b, 14));

    Packet later;
    later.eth().ipv4("198.18.0.1", "198.19.0.1").ipv4Fragment(0xbeef, 1480, false).dontFragment();
    later.ipProto(17).payload(Bytes(100, 'b'));
    const Bytes c = later.bytes();
    CHECK(rd16(c, 20) == (0x4000 | 185));
    CHECK(c[23] == 17);
    CHECK(rd16(c, 16) == 120);
    CHECK(ipv4HeaderValid(c, 14));
    CHECK(later.l4Offset() == 34);
    CHECK_THROWS_AS(Packet().ipv4("1.1.1.1", "2.2.2.2").ipv4Fragment(1, 12, true),
                    std::invalid_argument);

    Packet none;
    none.eth().ipv4("198.18.0.1", "198.19.0.1");
    CHECK(none.bytes()[23] == 59);
}

TEST_CASE("TCP flags, data offset, options and checksums", "[packet_builder]") {
    Packet syn;
    syn.eth().ipv4("198.18.0.1", "198.19.0.1").tcp(40000, 5061);
    const Bytes s = syn.bytes();
    CHECK(s[23] == 6);
    CHECK(s.size() == 54);
    CHECK(s[46] >> 4 == 5);
    CHECK(s[47] == 0x02);
    CHECK(l4ChecksumValid(s, 14, 34, 6, s.size()));

    Packet synAck;
    synAck.eth().ipv6("2001:db8::1", "2001:db8::2").tcp(5061, 40000, TcpFlags::Syn | TcpFlags::Ack);
    synAck.tcpOptions({0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03}).payload("x");
    const Bytes a = synAck.bytes();
    const size_t l4 = synAck.l4Offset();
    CHECK(l4 == 54);
    CHECK(a[20] == 6);
    CHECK(rd16(a, 18) == 28 + 1);
    CHECK(a[l4 + 12] >> 4 == 7);
    CHECK(a[l4 + 13] == 0x12);
    CHECK(rd32(a, l4 + 8) == 1);  // ack number set because ACK is set
    CHECK(Bytes(a.begin() + 74, a.begin() + 82) == Bytes{2, 4, 5, 0xb4, 1, 3, 3, 0});
    CHECK(l4ChecksumValid(a, 14, l4, 6, a.size()));
}

TEST_CASE("ICMPv4 echo", "[packet_builder]") {
    Packet p;
    p.eth().ipv4("198.18.0.1", "198.19.0.1").icmp4(8, 0).payload("ping!");
    const Bytes b = p.bytes();
    CHECK(b[23] == 1);
    CHECK(rd16(b, 16) == 20 + 8 + 5);
    CHECK(rd32(b, 38) == 0x00010001);
    CHECK(fold(addBytes(0, b.data() + 34, b.size() - 34)) == 0xffff);

    Packet q;
    q.eth().ipv4("198.18.0.1", "198.19.0.1").icmp4(8, 0).icmpEcho(0x1234, 7);
    const Bytes c = q.bytes();
    CHECK(rd32(c, 38) == 0x12340007);
    CHECK(fold(addBytes(0, c.data() + 34, c.size() - 34)) == 0xffff);

    Packet unreach;
    unreach.eth().ipv4("198.18.0.1", "198.19.0.1").icmp4(3, 3);
    CHECK(rd32(unreach.bytes(), 38) == 0);
}

TEST_CASE("IPv6 UDP lengths, hop limit and checksum", "[packet_builder]") {
    Packet p;
    p.eth().ipv6("2001:db8::1", "2001:db8::5060").udp(5060, 5060).payload(kSip);
    const Bytes b = p.bytes();
    CHECK(rd16(b, 12) == 0x86dd);
    CHECK(b[14] >> 4 == 6);
    CHECK(rd16(b, 18) == 8 + kSip.size());
    CHECK(b[20] == 17);
    CHECK(b[21] == 64);
    CHECK(b[22] == 0x20);
    CHECK(b[53] == 0x60);
    CHECK(p.l4Offset() == 54);
    CHECK(rd16(b, 58) == 8 + kSip.size());
    CHECK(l4ChecksumValid(b, 14, 54, 17, b.size()));
    p.ttl(255);
    CHECK(p.bytes()[21] == 255);
}

TEST_CASE("a computed UDP checksum of 0 is sent as 0xffff", "[packet_builder]") {
    for (const bool v6 : {false, true}) {
        auto build = [v6](uint16_t word) {
            Packet p;
            p.eth();
            if (v6)
                p.ipv6("2001:db8::1", "2001:db8::2");
            else
                p.ipv4("198.18.0.1", "198.19.0.1");
            p.udp(1000, 2000).payload(Bytes{static_cast<uint8_t>(word >> 8),
                                            static_cast<uint8_t>(word)});
            return p;
        };
        const Packet zero = build(0);
        const size_t csum = zero.l4Offset() + 6;
        // With a zero payload word the checksum is ~S; adding that word makes the sum 0xffff.
        const Packet p = build(rd16(zero.bytes(), csum));
        const Bytes b = p.bytes();
        INFO(p.hex());
        CHECK(rd16(b, csum) == 0xffff);
        CHECK(l4ChecksumValid(b, 14, p.l4Offset(), 17, b.size()));
    }
}

TEST_CASE("IPv6 extension headers chain to L4 or to No Next Header", "[packet_builder]") {
    Packet p;
    p.eth().ipv6("2001:db8::1", "2001:db8::2").hopByHop().routing().destOpts();
    p.ipv6Fragment(0xdeadbeef, 0, true).udp(5060, 5060).payload(kSip);
    const Bytes b = p.bytes();
    const V6View v = walkIpv6(b, 14);
    CHECK(v.chain == std::vector<uint8_t>{0, 43, 60, 44, 17});
    CHECK(v.l4 == 54 + 32);
    CHECK(p.l4Offset() == v.l4);
    CHECK(rd16(b, 18) == 32 + 8 + kSip.size());
    CHECK(Bytes(b.begin() + 56, b.begin() + 62) == Bytes{1, 4, 0, 0, 0, 0});  // PadN
    CHECK(Bytes(b.begin() + 62, b.begin() + 70) == Bytes{60, 0, 0, 0, 0, 0, 0, 0});  // routing
    CHECK(rd16(b, 80) == 1);  // offset 0, M set
    CHECK(rd32(b, 82) == 0xdeadbeef);
    CHECK(rd16(b, v.l4 + 4) == 8 + kSip.size());
    CHECK(l4ChecksumValid(b, 14, v.l4, 17, b.size()));

    Packet later;
    later.eth().ipv6("2001:db8::1", "2001:db8::2").ipv6Fragment(7, 1448, false).ipProto(17);
    later.payload(Bytes(64, 'z'));
    const Bytes c = later.bytes();
    CHECK(walkIpv6(c, 14).chain == std::vector<uint8_t>{44, 17});
    CHECK(rd16(c, 56) == 1448);  // 181 << 3, M clear
    CHECK(rd16(c, 18) == 8 + 64);

    Packet bare;
    bare.eth().ipv6("::1", "::2").destOpts();
    const Bytes d = bare.bytes();
    CHECK(walkIpv6(d, 14).chain == std::vector<uint8_t>{60, 59});
    CHECK(rd16(d, 18) == 8);
    CHECK(bare.l4Offset() == d.size());
}

TEST_CASE("ICMPv6 neighbour solicitation and echo", "[packet_builder]") {
    const Bytes target{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    Packet ns;
    ns.eth().ipv6("2001:db8::1", "ff02::1:ff00:2").ttl(255).icmp6(135, 0).payload(target);
    const Bytes b = ns.bytes();
    CHECK(b[20] == 58);
    CHECK(b[21] == 255);
    CHECK(rd16(b, 18) == 24);
    CHECK(b[54] == 135);
    CHECK(rd32(b, 58) == 0);
    CHECK(l4ChecksumValid(b, 14, 54, 58, b.size()));

    Packet echo;
    echo.eth().ipv6("2001:db8::1", "2001:db8::2").icmp6(128, 0).payload("abc");
    const Bytes e = echo.bytes();
    CHECK(rd32(e, 58) == 0x00010001);
    CHECK(l4ChecksumValid(e, 14, 54, 58, e.size()));
}

TEST_CASE("padTo is Ethernet padding, not counted in IP or UDP lengths", "[packet_builder]") {
    Packet p;
    p.eth().ipv4("198.18.0.1", "198.19.0.1").udp(1, 2).payload("hi").padTo(60);
    const Bytes b = p.bytes();
    REQUIRE(b.size() == 60);
    CHECK(rd16(b, 16) == 30);
    CHECK(rd16(b, 38) == 10);
    CHECK(l4ChecksumValid(b, 14, 34, 17, 44));
    CHECK(Packet(p).padTo(10).bytes().size() == 44);  // never shortens
}

TEST_CASE("malformation hooks change only their field", "[packet_builder]") {
    auto base = [] {
        Packet p;
        p.eth().ipv4("198.18.0.1", "198.19.0.1").udp(40000, 5060).payload(kSip);
        return p;
    };
    const Bytes good = base().bytes();
    // True if b differs from good only at the offsets in allowed (over their common length).
    auto onlyChanged = [&good](const Bytes& b, std::vector<size_t> allowed) {
        for (size_t i = 0; i < std::min(b.size(), good.size()); ++i)
            if (b[i] != good[i] && std::find(allowed.begin(), allowed.end(), i) == allowed.end())
                return false;
        return true;
    };

    SECTION("truncate") {
        const Bytes b = base().truncate(40).bytes();
        CHECK(b.size() == 40);
        CHECK(onlyChanged(b, {}));
        CHECK_THROWS_AS(base().truncate(good.size() + 1).bytes(), std::out_of_range);
    }
    SECTION("setIpv4Ihl keeps the header checksum valid") {
        const Bytes b = base().setIpv4Ihl(4).bytes();
        CHECK(b[14] == 0x44);
        CHECK(ipv4HeaderValid(b, 14) == false);  // the verifier now reads only 16 bytes
        CHECK(fold(addBytes(0, b.data() + 14, 20)) == 0xffff);
        CHECK(onlyChanged(b, {14, 24, 25}));  // version/IHL, checksum
    }
    SECTION("setIpv4TotalLength") {
        const Bytes b = base().setIpv4TotalLength(9999).bytes();
        CHECK(rd16(b, 16) == 9999);
        CHECK(ipv4HeaderValid(b, 14));
        CHECK(onlyChanged(b, {16, 17, 24, 25}));
    }
    SECTION("setIpVersion") {
        const Bytes b = base().setIpVersion(6).bytes();
        CHECK(b[14] == 0x65);
        CHECK(fold(addBytes(0, b.data() + 14, 20)) == 0xffff);
        Packet v6;
        v6.eth().ipv6("::1", "::2").udp(1, 2).setIpVersion(4);
        CHECK(v6.bytes()[14] == 0x40);
    }
    SECTION("setIpv6PayloadLength") {
        Packet p;
        p.eth().ipv6("::1", "::2").udp(1, 2).setIpv6PayloadLength(0xffff);
        CHECK(rd16(p.bytes(), 18) == 0xffff);
    }
    SECTION("setUdpLength") {
        const Bytes b = base().setUdpLength(7).bytes();
        CHECK(rd16(b, 38) == 7);
        CHECK(onlyChanged(b, {38, 39}));
    }
    SECTION("setTcpDataOffset") {
        Packet p;
        p.eth().ipv4("198.18.0.1", "198.19.0.1").tcp(1, 2, TcpFlags::Ack).setTcpDataOffset(4);
        const Bytes b = p.bytes();
        CHECK(b[46] == 0x40);
        CHECK(b[47] == 0x10);
    }
    SECTION("patch, and setters applied before truncate whatever the call order") {
        const Bytes b = base().truncate(41).patch(0, {0xaa}).setUdpLength(3).bytes();
        CHECK(b.size() == 41);
        CHECK(b[0] == 0xaa);
        CHECK(rd16(b, 38) == 3);
        CHECK_THROWS_AS(base().patch(good.size() - 1, {1, 2}).bytes(), std::out_of_range);
    }
    SECTION("setters need their layer") {
        Packet p;
        p.eth();
        CHECK_THROWS_AS(p.setIpv4Ihl(5), std::logic_error);
        CHECK_THROWS_AS(p.setUdpLength(5), std::logic_error);
        CHECK_THROWS_AS(p.icmpEcho(1, 1), std::logic_error);
        CHECK_THROWS_AS(p.setTcpDataOffset(16), std::invalid_argument);
    }
}

TEST_CASE("bad addresses and arguments throw std::invalid_argument", "[packet_builder]") {
    CHECK_THROWS_AS(Packet().ipv4("198.18.0.256", "198.19.0.1"), std::invalid_argument);
    CHECK_THROWS_AS(Packet().ipv4("2001:db8::1", "198.19.0.1"), std::invalid_argument);
    CHECK_THROWS_AS(Packet().ipv6("198.18.0.1", "2001:db8::1"), std::invalid_argument);
    CHECK_THROWS_AS(Packet().ipv6("2001:db8:::1", "::1"), std::invalid_argument);
    CHECK_THROWS_AS(Packet().eth("02:00:00:00:00", "02:00:00:00:00:01"), std::invalid_argument);
    CHECK_THROWS_AS(Packet().eth("02:00:00:00:00:0g", "02:00:00:00:00:01"), std::invalid_argument);
    CHECK_THROWS_AS(Packet().eth().vlan(4096), std::invalid_argument);
    CHECK_THROWS_AS(Packet().ipv6("::1", "::2").ipv6Fragment(1, 7, false), std::invalid_argument);
    CHECK_THROWS_AS(Packet().ipv4("1.1.1.1", "2.2.2.2").tcp(1, 2).tcpOptions(Bytes(44, 1)),
                    std::invalid_argument);
    CHECK_THROWS_AS(Packet().udp(1, 2).bytes(), std::logic_error);  // no pseudo-header
}

TEST_CASE("hex dump for INFO()", "[packet_builder]") {
    Packet p;
    p.eth().ethertype(0x0806).payload({0xde, 0xad});
    CHECK(p.hex() == "0000: 02 00 00 00 00 02 02 00 00 00 00 01 08 06 de ad");
    p.payload("!");
    CHECK(p.hex() == "0000: 02 00 00 00 00 02 02 00 00 00 00 01 08 06 de ad\n0010: 21");
}

TEST_CASE("packets copy into const fixture tables", "[packet_builder]") {
    struct Fixture {
        const char* name;
        Packet packet;
    };
    const Fixture fixtures[] = {
        {"sip", Packet().eth().ipv4("192.0.2.66", "198.51.100.10").udp(5060, 5060).sip(kSip)},
        {"short", Packet().eth().ipv4("192.0.2.66", "198.51.100.10").truncate(20)},
    };
    CHECK(fixtures[0].packet.bytes().size() == 42 + kSip.size());
    CHECK(fixtures[1].packet.bytes().size() == 20);
}
