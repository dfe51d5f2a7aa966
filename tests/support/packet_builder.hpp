// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fluent builder for the crafted frames that BPF_PROG_TEST_RUN fixtures feed to the XDP program.
// Layers are appended in order; bytes() fills ethertypes, next-header chains, lengths and
// checksums.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pbxwall::test {

// TCP header flag bits (RFC 9293 3.1, RFC 3168 for ECE/CWR); combine with `|`.
enum class TcpFlags : uint8_t {
    None = 0x00,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    Ece = 0x40,
    Cwr = 0x80,
};

constexpr TcpFlags operator|(TcpFlags a, TcpFlags b) noexcept {
    return static_cast<TcpFlags>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b));
}

constexpr TcpFlags operator&(TcpFlags a, TcpFlags b) noexcept {
    return static_cast<TcpFlags>(static_cast<uint8_t>(a) & static_cast<uint8_t>(b));
}

using MacAddress = std::array<uint8_t, 6>;

// A frame under construction. Builder calls return *this; setters that name a layer
// ("last IPv4", "last TCP", ...) act on the most recently appended one and throw
// std::logic_error if there is none. Bad addresses and out-of-range arguments throw
// std::invalid_argument. bytes() is const and can be called any number of times.
class Packet {
public:
    static constexpr MacAddress kDefaultSrcMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    static constexpr MacAddress kDefaultDstMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    static constexpr uint16_t kDefaultIpv4Id = 0x1234;
    static constexpr uint8_t kDefaultTtl = 64;

    // --- L2 -----------------------------------------------------------------------------
    Packet& eth();                                              // default MACs
    Packet& eth(const MacAddress& src, const MacAddress& dst);
    Packet& eth(std::string_view src, std::string_view dst);    // "aa:bb:cc:dd:ee:ff"
    Packet& vlan(uint16_t vid, uint8_t pcp = 0);                // 802.1Q tag, TPID 0x8100
    Packet& qinq(uint16_t vid, uint8_t pcp = 0);                // 802.1ad tag, TPID 0x88a8
    Packet& ethertype(uint16_t type);   // force the type field of the last Ethernet header/tag
    Packet& pppoe(uint16_t session);    // RFC 2516 session header + PPP protocol (from the next layer)
    Packet& pppProtocol(uint16_t proto);  // force the PPP protocol of the last PPPoE header

    // --- IPv4 ---------------------------------------------------------------------------
    Packet& ipv4(std::string_view src, std::string_view dst);  // IHL 5, TTL 64, id 0x1234, no DF
    Packet& ipv4Options(std::vector<uint8_t> options);         // zero-padded to 4 bytes, max 40
    Packet& ipv4Fragment(uint16_t id, uint16_t offsetBytes, bool moreFragments);
    Packet& dontFragment(bool set = true);
    Packet& ttl(uint8_t ttl);           // last IPv4 TTL or IPv6 hop limit
    Packet& ipProto(uint8_t proto);     // force the protocol/next header of the last L3 header

    // --- IPv6 ---------------------------------------------------------------------------
    Packet& ipv6(std::string_view src, std::string_view dst);  // hop limit 64, TC 0, flow 0
    Packet& hopByHop();                 // 8 bytes: next header, length 0, PadN(4)
    Packet& destOpts();                 // 8 bytes: next header, length 0, PadN(4)
    Packet& routing();                  // 8 bytes: type 0, segments left 0, no addresses
    Packet& ipv6Fragment(uint32_t id, uint16_t offsetBytes, bool moreFragments);

    // --- L4 -----------------------------------------------------------------------------
    Packet& udp(uint16_t sport, uint16_t dport);
    Packet& tcp(uint16_t sport, uint16_t dport, TcpFlags flags = TcpFlags::Syn);  // seq 1
    Packet& tcpOptions(std::vector<uint8_t> options);          // zero-padded to 4 bytes, max 40
    Packet& icmp4(uint8_t type, uint8_t code);  // echo (8/0): id 1, seq 1
    Packet& icmp6(uint8_t type, uint8_t code);  // echo (128/129): id 1, seq 1
    Packet& icmpEcho(uint16_t id, uint16_t seq);  // bytes 4..7 of the last ICMP header

    // --- data ---------------------------------------------------------------------------
    Packet& payload(std::string_view data);
    Packet& payload(std::vector<uint8_t> data);
    Packet& payload(std::initializer_list<uint8_t> data);  // so payload({0, 1}) is not ambiguous
    Packet& sip(std::string_view message) { return payload(message); }  // for SIP fixtures
    // Zero bytes after everything (Ethernet padding), not counted in IP/UDP lengths.
    Packet& padTo(size_t frameLen) { padTo_ = frameLen; return *this; }

    // --- malformations: applied after finalization, in call order; truncate() last -----
    // Cut the frame; bytes() throws std::out_of_range if the frame is shorter than frameLen.
    Packet& truncate(size_t frameLen) { truncate_ = frameLen; return *this; }
    Packet& setIpv4Ihl(uint8_t ihl);        // IPv4 setters re-fix the header checksum
    Packet& setIpv4TotalLength(uint16_t len);
    Packet& setIpv6PayloadLength(uint16_t len);
    Packet& setUdpLength(uint16_t len);
    Packet& setTcpDataOffset(uint8_t words);
    Packet& setIpVersion(uint8_t version);  // last IPv4 or IPv6 header
    Packet& patch(size_t offset, std::vector<uint8_t> data);  // raw overwrite; nothing re-fixed

    // --- output -------------------------------------------------------------------------
    std::vector<uint8_t> bytes() const;
    std::string hex() const;    // offset-prefixed dump, 16 bytes a line, for INFO()
    size_t l3Offset() const;    // first byte after the Ethernet header and tags
    size_t l4Offset() const;    // first byte after the IP header and IPv6 extension headers

private:
    enum class Kind : uint8_t {  // order matters: see leadingHeaderBytes()
        Ethernet, Vlan, QinQ, Pppoe,
        Ipv4, Ipv6, HopByHop, Routing, Fragment6, DestOpts,
        Udp, Tcp, Icmp4, Icmp6,
        Payload,
    };
    struct Layer {
        Kind kind;
        std::vector<uint8_t> header;        // fields not filled by bytes() are set here
        std::optional<uint16_t> nextType;   // forced ethertype or protocol number
    };
    enum class EditKind : uint8_t {
        Ipv4Ihl, Ipv4TotalLength, Ipv6PayloadLength, UdpLength, TcpDataOffset, IpVersion, Patch,
    };
    struct Edit {
        EditKind kind;
        size_t layer = 0;                   // index into layers_ (unused by Patch)
        size_t offset = 0;                  // frame offset (Patch only)
        uint16_t value = 0;
        std::vector<uint8_t> data;          // Patch only
    };

    Packet& append(Kind kind, std::vector<uint8_t> header);
    size_t lastOf(std::initializer_list<Kind> kinds, const char* what) const;
    Packet& addEdit(EditKind kind, size_t layer, uint16_t value);
    void finalizeLayer(std::vector<uint8_t>& frame, const std::vector<size_t>& offsets,
                       size_t index, size_t contentEnd) const;
    uint32_t pseudoHeaderSum(const std::vector<uint8_t>& frame,
                             const std::vector<size_t>& offsets, size_t l4Index,
                             uint8_t proto, size_t l4Length) const;
    void applyEdit(std::vector<uint8_t>& frame, const std::vector<size_t>& offsets,
                   const Edit& edit) const;
    size_t leadingHeaderBytes(bool withL3) const;

    std::vector<Layer> layers_;
    std::vector<Edit> edits_;
    std::optional<size_t> padTo_;
    std::optional<size_t> truncate_;
};

}  // namespace pbxwall::test
