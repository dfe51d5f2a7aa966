// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Packet builder implementation: header templates at append time, then lengths, chains and
// RFC 1071 checksums at bytes(), then the malformation edits.
#include "packet_builder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace pbxwall::test {
namespace {

constexpr uint16_t kEthertypeIpv4 = 0x0800;
constexpr uint16_t kEthertypeIpv6 = 0x86dd;
constexpr uint16_t kEthertypeVlan = 0x8100;
constexpr uint16_t kEthertypeQinQ = 0x88a8;
constexpr uint16_t kEthertypePppoeSession = 0x8864;
constexpr uint16_t kPppIpv4 = 0x0021;  // RFC 1332
constexpr uint16_t kPppIpv6 = 0x0057;  // RFC 5072
constexpr uint8_t kProtoIcmp4 = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmp6 = 58;
constexpr uint8_t kProtoNoNext = 59;  // IPv6-NoNxt; also used after IPv4 when nothing follows
constexpr size_t kEthHeaderLen = 14;
constexpr size_t kIpv4HeaderLen = 20;
constexpr size_t kIpv6HeaderLen = 40;
constexpr size_t kTcpHeaderLen = 20;
constexpr size_t kMaxOptionsLen = 40;  // 4-bit IHL / data offset: 60-byte header at most
constexpr uint16_t kIpv4FlagDf = 0x4000;
constexpr uint16_t kIpv4FlagMf = 0x2000;

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
    b[off] = static_cast<uint8_t>(v >> 8);
    b[off + 1] = static_cast<uint8_t>(v);
}

void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
    put16(b, off, static_cast<uint16_t>(v >> 16));
    put16(b, off + 2, static_cast<uint16_t>(v));
}

uint16_t get16(const std::vector<uint8_t>& b, size_t off) {
    return static_cast<uint16_t>(b[off] << 8 | b[off + 1]);
}

// RFC 1071: sum of big-endian 16-bit words; an odd trailing byte is the high half of a word.
uint32_t sumWords(const uint8_t* data, size_t len, uint32_t acc = 0) {
    for (size_t i = 0; i + 1 < len; i += 2)
        acc += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
    if (len % 2 != 0)
        acc += static_cast<uint32_t>(data[len - 1] << 8);
    return acc;
}

uint16_t finishChecksum(uint32_t acc) {
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<uint16_t>(~acc);
}

// Writes the checksum of [at, at + len) (plus a pseudo-header sum) into the field at at+field.
void storeChecksum(std::vector<uint8_t>& frame, size_t at, size_t len, size_t field,
                   uint32_t pseudo) {
    put16(frame, at + field, 0);
    put16(frame, at + field, finishChecksum(sumWords(frame.data() + at, len, pseudo)));
}

std::vector<uint8_t> parseAddress(int family, std::string_view text) {
    const std::string s(text);  // inet_pton needs a NUL-terminated string
    std::vector<uint8_t> out(family == AF_INET ? 4 : 16);
    if (inet_pton(family, s.c_str(), out.data()) != 1)
        throw std::invalid_argument(std::string("packet builder: bad ") +
                                    (family == AF_INET ? "IPv4" : "IPv6") + " address '" + s + "'");
    return out;
}

MacAddress parseMac(std::string_view text) {
    const std::string s(text);
    unsigned v[6];
    char tail = 0;
    if (s.size() != 17 || std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1],
                                      &v[2], &v[3], &v[4], &v[5], &tail) != 6)
        throw std::invalid_argument("packet builder: bad MAC address '" + s + "'");
    MacAddress mac{};
    for (size_t i = 0; i < mac.size(); ++i)
        mac[i] = static_cast<uint8_t>(v[i]);
    return mac;
}

std::vector<uint8_t> padOptions(std::vector<uint8_t> options, const char* what) {
    options.resize((options.size() + 3) / 4 * 4, 0);  // 0 = End of Option List
    if (options.size() > kMaxOptionsLen)
        throw std::invalid_argument(std::string("packet builder: ") + what + " over 40 bytes");
    return options;
}

uint16_t fragmentOffsetWords(uint16_t offsetBytes) {
    if (offsetBytes % 8 != 0)
        throw std::invalid_argument("packet builder: fragment offset " +
                                    std::to_string(offsetBytes) + " is not a multiple of 8");
    return static_cast<uint16_t>(offsetBytes / 8);
}

uint16_t checkedLength(size_t len, const char* what) {
    if (len > 0xffff)
        throw std::length_error(std::string("packet builder: ") + what + " over 65535");
    return static_cast<uint16_t>(len);
}

}  // namespace

Packet& Packet::append(Kind kind, std::vector<uint8_t> header) {
    layers_.push_back(Layer{kind, std::move(header), std::nullopt});
    return *this;
}

size_t Packet::lastOf(std::initializer_list<Kind> kinds, const char* what) const {
    for (size_t i = layers_.size(); i-- > 0;)
        if (std::find(kinds.begin(), kinds.end(), layers_[i].kind) != kinds.end())
            return i;
    throw std::logic_error(std::string("packet builder: no ") + what + " layer");
}

Packet& Packet::addEdit(EditKind kind, size_t layer, uint16_t value) {
    edits_.push_back(Edit{kind, layer, 0, value, {}});
    return *this;
}

Packet& Packet::eth() { return eth(kDefaultSrcMac, kDefaultDstMac); }

Packet& Packet::eth(const MacAddress& src, const MacAddress& dst) {
    std::vector<uint8_t> h(kEthHeaderLen, 0);
    std::copy(dst.begin(), dst.end(), h.begin());
    std::copy(src.begin(), src.end(), h.begin() + 6);
    return append(Kind::Ethernet, std::move(h));
}

Packet& Packet::eth(std::string_view src, std::string_view dst) {
    return eth(parseMac(src), parseMac(dst));
}

// A tag is modelled as TCI + inner type; its TPID is the type field of the layer before it.
Packet& Packet::vlan(uint16_t vid, uint8_t pcp) {
    if (vid > 0x0fff || pcp > 7)
        throw std::invalid_argument("packet builder: VLAN id > 4095 or PCP > 7");
    std::vector<uint8_t> h(4, 0);
    put16(h, 0, static_cast<uint16_t>(pcp << 13 | vid));
    return append(Kind::Vlan, std::move(h));
}

Packet& Packet::qinq(uint16_t vid, uint8_t pcp) {
    vlan(vid, pcp);
    layers_.back().kind = Kind::QinQ;
    return *this;
}

Packet& Packet::ethertype(uint16_t type) {
    layers_[lastOf({Kind::Ethernet, Kind::Vlan, Kind::QinQ}, "Ethernet")].nextType = type;
    return *this;
}

// Version 1, type 1, code 0 (session data); length and PPP protocol are filled by bytes().
Packet& Packet::pppoe(uint16_t session) {
    std::vector<uint8_t> h(8, 0);
    h[0] = 0x11;
    put16(h, 2, session);
    return append(Kind::Pppoe, std::move(h));
}

Packet& Packet::pppProtocol(uint16_t proto) {
    layers_[lastOf({Kind::Pppoe}, "PPPoE")].nextType = proto;
    return *this;
}

Packet& Packet::ipv4(std::string_view src, std::string_view dst) {
    std::vector<uint8_t> h(kIpv4HeaderLen, 0);
    put16(h, 4, kDefaultIpv4Id);
    h[8] = kDefaultTtl;
    const auto s = parseAddress(AF_INET, src);
    const auto d = parseAddress(AF_INET, dst);
    std::copy(s.begin(), s.end(), h.begin() + 12);
    std::copy(d.begin(), d.end(), h.begin() + 16);
    return append(Kind::Ipv4, std::move(h));
}

Packet& Packet::ipv4Options(std::vector<uint8_t> options) {
    auto& h = layers_[lastOf({Kind::Ipv4}, "IPv4")].header;
    const auto padded = padOptions(std::move(options), "IPv4 options");
    h.resize(kIpv4HeaderLen);
    h.insert(h.end(), padded.begin(), padded.end());
    return *this;
}

Packet& Packet::ipv4Fragment(uint16_t id, uint16_t offsetBytes, bool moreFragments) {
    auto& h = layers_[lastOf({Kind::Ipv4}, "IPv4")].header;
    const uint16_t words = fragmentOffsetWords(offsetBytes);
    put16(h, 4, id);
    put16(h, 6, static_cast<uint16_t>((get16(h, 6) & kIpv4FlagDf) |
                                      (moreFragments ? kIpv4FlagMf : 0) | words));
    return *this;
}

Packet& Packet::dontFragment(bool set) {
    auto& h = layers_[lastOf({Kind::Ipv4}, "IPv4")].header;
    const uint16_t rest = get16(h, 6) & static_cast<uint16_t>(~kIpv4FlagDf);
    put16(h, 6, static_cast<uint16_t>(rest | (set ? kIpv4FlagDf : 0)));
    return *this;
}

Packet& Packet::ttl(uint8_t ttl) {
    auto& l = layers_[lastOf({Kind::Ipv4, Kind::Ipv6}, "IP")];
    l.header[l.kind == Kind::Ipv4 ? 8 : 7] = ttl;
    return *this;
}

Packet& Packet::ipProto(uint8_t proto) {
    const auto kinds = {Kind::Ipv4, Kind::Ipv6, Kind::HopByHop, Kind::Routing, Kind::Fragment6,
                        Kind::DestOpts};
    layers_[lastOf(kinds, "IP")].nextType = proto;
    return *this;
}

Packet& Packet::ipv6(std::string_view src, std::string_view dst) {
    std::vector<uint8_t> h(kIpv6HeaderLen, 0);
    h[0] = 0x60;
    h[7] = kDefaultTtl;
    const auto s = parseAddress(AF_INET6, src);
    const auto d = parseAddress(AF_INET6, dst);
    std::copy(s.begin(), s.end(), h.begin() + 8);
    std::copy(d.begin(), d.end(), h.begin() + 24);
    return append(Kind::Ipv6, std::move(h));
}

// RFC 8200 4.2/4.3: the options area holds one PadN option so the header is 8 bytes.
Packet& Packet::hopByHop() { return append(Kind::HopByHop, {0, 0, 1, 4, 0, 0, 0, 0}); }
Packet& Packet::destOpts() { return append(Kind::DestOpts, {0, 0, 1, 4, 0, 0, 0, 0}); }
Packet& Packet::routing() { return append(Kind::Routing, {0, 0, 0, 0, 0, 0, 0, 0}); }

Packet& Packet::ipv6Fragment(uint32_t id, uint16_t offsetBytes, bool moreFragments) {
    std::vector<uint8_t> h(8, 0);
    put16(h, 2, static_cast<uint16_t>(fragmentOffsetWords(offsetBytes) << 3 |
                                      (moreFragments ? 1 : 0)));
    put32(h, 4, id);
    return append(Kind::Fragment6, std::move(h));
}

Packet& Packet::udp(uint16_t sport, uint16_t dport) {
    std::vector<uint8_t> h(8, 0);
    put16(h, 0, sport);
    put16(h, 2, dport);
    return append(Kind::Udp, std::move(h));
}

Packet& Packet::tcp(uint16_t sport, uint16_t dport, TcpFlags flags) {
    std::vector<uint8_t> h(kTcpHeaderLen, 0);
    put16(h, 0, sport);
    put16(h, 2, dport);
    put32(h, 4, 1);                                                  // sequence number
    put32(h, 8, (flags & TcpFlags::Ack) != TcpFlags::None ? 1 : 0);  // ack number
    h[13] = static_cast<uint8_t>(flags);
    put16(h, 14, 65535);  // window
    return append(Kind::Tcp, std::move(h));
}

Packet& Packet::tcpOptions(std::vector<uint8_t> options) {
    auto& h = layers_[lastOf({Kind::Tcp}, "TCP")].header;
    const auto padded = padOptions(std::move(options), "TCP options");
    h.resize(kTcpHeaderLen);
    h.insert(h.end(), padded.begin(), padded.end());
    return *this;
}

Packet& Packet::icmp4(uint8_t type, uint8_t code) {
    append(Kind::Icmp4, {type, code, 0, 0, 0, 0, 0, 0});
    return type == 8 || type == 0 ? icmpEcho(1, 1) : *this;
}

Packet& Packet::icmp6(uint8_t type, uint8_t code) {
    append(Kind::Icmp6, {type, code, 0, 0, 0, 0, 0, 0});
    return type == 128 || type == 129 ? icmpEcho(1, 1) : *this;
}

Packet& Packet::icmpEcho(uint16_t id, uint16_t seq) {
    auto& h = layers_[lastOf({Kind::Icmp4, Kind::Icmp6}, "ICMP")].header;
    put16(h, 4, id);
    put16(h, 6, seq);
    return *this;
}

Packet& Packet::payload(std::vector<uint8_t> data) {
    return append(Kind::Payload, std::move(data));
}

Packet& Packet::payload(std::string_view data) {
    return payload(std::vector<uint8_t>(data.begin(), data.end()));
}

Packet& Packet::payload(std::initializer_list<uint8_t> data) {
    return payload(std::vector<uint8_t>(data));
}

Packet& Packet::setIpv4Ihl(uint8_t ihl) {
    if (ihl > 15)
        throw std::invalid_argument("packet builder: IHL is a 4-bit field");
    return addEdit(EditKind::Ipv4Ihl, lastOf({Kind::Ipv4}, "IPv4"), ihl);
}

Packet& Packet::setIpv4TotalLength(uint16_t len) {
    return addEdit(EditKind::Ipv4TotalLength, lastOf({Kind::Ipv4}, "IPv4"), len);
}

Packet& Packet::setIpv6PayloadLength(uint16_t len) {
    return addEdit(EditKind::Ipv6PayloadLength, lastOf({Kind::Ipv6}, "IPv6"), len);
}

Packet& Packet::setUdpLength(uint16_t len) {
    return addEdit(EditKind::UdpLength, lastOf({Kind::Udp}, "UDP"), len);
}

Packet& Packet::setTcpDataOffset(uint8_t words) {
    if (words > 15)
        throw std::invalid_argument("packet builder: TCP data offset is a 4-bit field");
    return addEdit(EditKind::TcpDataOffset, lastOf({Kind::Tcp}, "TCP"), words);
}

Packet& Packet::setIpVersion(uint8_t version) {
    if (version > 15)
        throw std::invalid_argument("packet builder: IP version is a 4-bit field");
    return addEdit(EditKind::IpVersion, lastOf({Kind::Ipv4, Kind::Ipv6}, "IP"), version);
}

Packet& Packet::patch(size_t offset, std::vector<uint8_t> data) {
    edits_.push_back(Edit{EditKind::Patch, 0, offset, 0, std::move(data)});
    return *this;
}

std::vector<uint8_t> Packet::bytes() const {
    std::vector<uint8_t> frame;
    std::vector<size_t> offsets(layers_.size());
    for (size_t i = 0; i < layers_.size(); ++i) {
        offsets[i] = frame.size();
        frame.insert(frame.end(), layers_[i].header.begin(), layers_[i].header.end());
    }
    const size_t contentEnd = frame.size();
    // Innermost first, so an outer checksum covers finished inner headers (tunnels).
    for (size_t i = layers_.size(); i-- > 0;)
        finalizeLayer(frame, offsets, i, contentEnd);
    if (padTo_ && frame.size() < *padTo_)
        frame.resize(*padTo_, 0);
    for (const auto& edit : edits_)
        applyEdit(frame, offsets, edit);
    if (truncate_) {
        if (*truncate_ > frame.size())
            throw std::out_of_range("packet builder: truncate(" + std::to_string(*truncate_) +
                                    ") beyond a " + std::to_string(frame.size()) + "-byte frame");
        frame.resize(*truncate_);
    }
    return frame;
}

void Packet::finalizeLayer(std::vector<uint8_t>& frame, const std::vector<size_t>& offsets,
                           size_t index, size_t contentEnd) const {
    const Layer& layer = layers_[index];
    const size_t at = offsets[index];
    const size_t hdrLen = layer.header.size();
    const size_t length = contentEnd - at;  // this header and everything after it

    uint16_t nextEthertype = 0;
    uint16_t nextPpp = 0;
    uint8_t nextProto = kProtoNoNext;
    switch (index + 1 < layers_.size() ? layers_[index + 1].kind : Kind::Payload) {
    case Kind::Vlan: nextEthertype = kEthertypeVlan; break;
    case Kind::QinQ: nextEthertype = kEthertypeQinQ; break;
    case Kind::Pppoe: nextEthertype = kEthertypePppoeSession; break;
    case Kind::Ipv4: nextEthertype = kEthertypeIpv4; nextPpp = kPppIpv4; nextProto = 4; break;
    case Kind::Ipv6: nextEthertype = kEthertypeIpv6; nextPpp = kPppIpv6; nextProto = 41; break;
    case Kind::HopByHop: nextProto = 0; break;
    case Kind::Routing: nextProto = 43; break;
    case Kind::Fragment6: nextProto = 44; break;
    case Kind::DestOpts: nextProto = 60; break;
    case Kind::Udp: nextProto = kProtoUdp; break;
    case Kind::Tcp: nextProto = kProtoTcp; break;
    case Kind::Icmp4: nextProto = kProtoIcmp4; break;
    case Kind::Icmp6: nextProto = kProtoIcmp6; break;
    case Kind::Ethernet: case Kind::Payload: break;
    }
    if (layer.nextType) {
        nextEthertype = *layer.nextType;
        nextPpp = *layer.nextType;
        nextProto = static_cast<uint8_t>(*layer.nextType);
    }

    switch (layer.kind) {
    case Kind::Ethernet:
    case Kind::Vlan:
    case Kind::QinQ:
        put16(frame, at + hdrLen - 2, nextEthertype);
        break;
    case Kind::Pppoe:  // the length counts what follows the 6-byte PPPoE header, PPP protocol included
        put16(frame, at + 4, checkedLength(length - 6, "PPPoE length"));
        put16(frame, at + 6, nextPpp);
        break;
    case Kind::Ipv4:
        frame[at] = static_cast<uint8_t>(0x40 | hdrLen / 4);
        put16(frame, at + 2, checkedLength(length, "IPv4 total length"));
        frame[at + 9] = nextProto;
        storeChecksum(frame, at, hdrLen, 10, 0);
        break;
    case Kind::Ipv6:
        put16(frame, at + 4, checkedLength(length - kIpv6HeaderLen, "IPv6 payload length"));
        frame[at + 6] = nextProto;
        break;
    case Kind::HopByHop:
    case Kind::Routing:
    case Kind::Fragment6:
    case Kind::DestOpts:
        frame[at] = nextProto;
        break;
    case Kind::Udp:
        put16(frame, at + 4, checkedLength(length, "UDP length"));
        storeChecksum(frame, at, length, 6,
                      pseudoHeaderSum(frame, offsets, index, kProtoUdp, length));
        if (get16(frame, at + 6) == 0)
            put16(frame, at + 6, 0xffff);  // RFC 768: 0 means "no checksum", send all ones
        break;
    case Kind::Tcp:
        frame[at + 12] = static_cast<uint8_t>(hdrLen / 4 << 4);
        storeChecksum(frame, at, length, 16,
                      pseudoHeaderSum(frame, offsets, index, kProtoTcp, length));
        break;
    case Kind::Icmp4:
        storeChecksum(frame, at, length, 2, 0);  // RFC 792: no pseudo-header
        break;
    case Kind::Icmp6:
        storeChecksum(frame, at, length, 2,
                      pseudoHeaderSum(frame, offsets, index, kProtoIcmp6, length));
        break;
    case Kind::Payload:
        break;
    }
}

// RFC 768/793 (IPv4) and RFC 8200 8.1 (IPv6) pseudo-headers, from the nearest IP header
// before the L4 header. Segments-left is always 0 here, so the IPv6 destination is final.
uint32_t Packet::pseudoHeaderSum(const std::vector<uint8_t>& frame,
                                 const std::vector<size_t>& offsets, size_t l4Index,
                                 uint8_t proto, size_t l4Length) const {
    const auto len = static_cast<uint32_t>(l4Length);
    for (size_t i = l4Index; i-- > 0;) {
        if (layers_[i].kind == Kind::Ipv4)
            return sumWords(frame.data() + offsets[i] + 12, 8) + proto + (len & 0xffff);
        if (layers_[i].kind == Kind::Ipv6)
            return sumWords(frame.data() + offsets[i] + 8, 32) + proto + (len >> 16) +
                   (len & 0xffff);
    }
    throw std::logic_error("packet builder: TCP/UDP/ICMPv6 needs an IP header before it");
}

void Packet::applyEdit(std::vector<uint8_t>& frame, const std::vector<size_t>& offsets,
                       const Edit& edit) const {
    if (edit.kind == EditKind::Patch) {
        if (edit.offset > frame.size() || edit.data.size() > frame.size() - edit.offset)
            throw std::out_of_range("packet builder: patch at " + std::to_string(edit.offset) +
                                    " beyond a " + std::to_string(frame.size()) + "-byte frame");
        std::copy(edit.data.begin(), edit.data.end(),
                  frame.begin() + static_cast<std::ptrdiff_t>(edit.offset));
        return;
    }
    const size_t at = offsets[edit.layer];
    const Layer& layer = layers_[edit.layer];
    const auto v = static_cast<uint8_t>(edit.value);
    bool refreshIpv4 = false;
    switch (edit.kind) {
    case EditKind::Ipv4Ihl:
        frame[at] = static_cast<uint8_t>((frame[at] & 0xf0) | v);
        refreshIpv4 = true;
        break;
    case EditKind::Ipv4TotalLength:
        put16(frame, at + 2, edit.value);
        refreshIpv4 = true;
        break;
    case EditKind::IpVersion:
        frame[at] = static_cast<uint8_t>(v << 4 | (frame[at] & 0x0f));
        refreshIpv4 = layer.kind == Kind::Ipv4;
        break;
    case EditKind::Ipv6PayloadLength:
    case EditKind::UdpLength:
        put16(frame, at + 4, edit.value);
        break;
    case EditKind::TcpDataOffset:
        frame[at + 12] = static_cast<uint8_t>(v << 4 | (frame[at + 12] & 0x0f));
        break;
    case EditKind::Patch:
        break;  // handled above
    }
    // Keep the header checksum right over the header as built, so the edited field is the
    // only defect the program under test sees (use patch() for a bad checksum).
    if (refreshIpv4)
        storeChecksum(frame, at, layer.header.size(), 10, 0);
}

std::string Packet::hex() const {
    const auto frame = bytes();
    std::string out;
    char buf[32];  // room for any size_t offset
    for (size_t i = 0; i < frame.size(); ++i) {
        if (i % 16 == 0) {
            std::snprintf(buf, sizeof(buf), "%s%04zx:", i == 0 ? "" : "\n", i);
            out += buf;
        }
        std::snprintf(buf, sizeof(buf), " %02x", frame[i]);
        out += buf;
    }
    return out;
}

size_t Packet::l3Offset() const { return leadingHeaderBytes(false); }
size_t Packet::l4Offset() const { return leadingHeaderBytes(true); }

// Bytes in the leading run of L2 headers, plus the L3 headers after them if withL3.
// Relies on the order of Kind: L2 kinds first, then IPv4/IPv6 and the extension headers.
size_t Packet::leadingHeaderBytes(bool withL3) const {
    size_t off = 0;
    bool inL3 = false;
    for (const auto& l : layers_) {
        const bool l3 = l.kind >= Kind::Ipv4 && l.kind <= Kind::DestOpts;
        inL3 = inL3 || l3;
        if (inL3 ? !(withL3 && l3) : l.kind > Kind::Pppoe)
            break;
        off += l.header.size();
    }
    return off;
}

}  // namespace pbxwall::test
