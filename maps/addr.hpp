// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Addresses, CIDR prefixes and port ranges as the maps store them: every address is 16 bytes,
// IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d). Parsers throw std::invalid_argument, one line each.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pbxwall {

// Prefix length of the IPv4-mapped block ::ffff:0:0/96; an IPv4 /N is /(96 + N) here.
inline constexpr uint8_t kV4MappedLen = 96;
inline constexpr uint8_t kAddrBits = 128;

struct Addr {
  std::array<uint8_t, 16> bytes{};

  bool isV4() const; // inside ::ffff:0:0/96
  // Inside fe80::/10: every neighbour on the link shares fe80::/64, so the data plane keeps
  // such a source's bans, budget and failure count per address (pw_v6_key_bits).
  bool isLinkLocal6() const { return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80; }
  std::string str() const; // dotted quad for IPv4, RFC 5952 text for IPv6
  static Addr fromV4(uint32_t netOrder); // address as in struct iphdr (network byte order)

  auto operator<=>(const Addr&) const = default;
};

// IPv4 dotted quad or IPv6 text. IPv4-mapped IPv6 text (::ffff:1.2.3.4) is refused: write 1.2.3.4.
Addr parseAddr(std::string_view text);

struct Cidr {
  Addr addr;       // host bits are zero
  uint8_t len = 0; // prefix length in the 128-bit space: an IPv4 /24 is 120

  bool isV4() const;
  bool isHost() const { return len == kAddrBits; }
  uint8_t familyLen() const; // 24 for an IPv4 /24, 48 for an IPv6 /48
  std::string str() const;   // "198.18.0.0/24", "2001:db8::/32"; a host has no "/32" or "/128"
  bool contains(const Addr& a) const;

  auto operator<=>(const Cidr&) const = default;
};

// "1.2.3.4" (host), "1.2.3.0/24", "2001:db8::/32", "2001:db8::1" (host). Host bits must be zero.
Cidr parseCidr(std::string_view text);

// a with all but its first len bits (of 128) cleared.
Addr masked(const Addr& a, unsigned len);

// A ban (pw_ban): of one address (prefix 0), or of an IPv6 prefix of kBanPrefixMin..127 bits
// (the [sip] ipv6_prefix the data plane bans IPv6 sources by), whose first address is the key.
inline constexpr uint8_t kBanPrefixMin = 48;
// "198.18.0.1", "2001:db8::1", "2001:db8:1:2::/64".
std::string banText(const Addr& a, uint8_t prefix);
// s in double quotes, for a message: bytes outside printable ASCII as \xNN, so that the message
// stays on one line and shows what no address holds (a byte-order mark, a look-alike). With
// keepUtf8, bytes from 0x80 up are kept (text that is UTF-8, as the config file's strings):
// control characters and DEL are still escaped.
std::string inQuotes(std::string_view s, bool keepUtf8 = false);
// The key of a ban (address a, prefix as pw_ban's) once IPv6 sources are banned by /len: itself
// for one address or a prefix of that length; the wider prefix holding it when len is shorter;
// nothing when len is longer (128 included), as which part of the prefix offended is not known,
// and nothing for a link-local prefix (such sources are banned by address only).
std::optional<Addr> refitBan(const Addr& a, uint8_t prefix, unsigned len);

struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 0;

  std::string str() const; // "5060" or "10000-20000"
  auto operator<=>(const PortRange&) const = default;
};

// "5060" or "10000-20000": ports 1..65535, lo <= hi, no spaces.
PortRange parsePortRange(std::string_view text);

} // namespace pbxwall
