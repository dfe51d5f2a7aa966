// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Parsing and printing of addresses, CIDR prefixes and port ranges (inet_pton / inet_ntop based),
// with one-line error messages that name the offending input.
#include "addr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace pbxwall {

namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};


[[noreturn]] void fail(std::string message)
{
  throw std::invalid_argument(std::move(message));
}

// inet_pton without the IPv4-mapped check; throws on bad text.
Addr parseAddrAnyForm(std::string_view text)
{
  if (text.empty())
    fail("empty address");
  if (text.size() > INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos)
    fail("invalid address " + inQuotes(text));
  const std::string s(text);
  Addr a;
  if (s.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1)
      fail("invalid address " + inQuotes(text));
    return a;
  }
  uint32_t v4 = 0;
  if (inet_pton(AF_INET, s.c_str(), &v4) != 1)
    fail("invalid address " + inQuotes(text));
  return Addr::fromV4(v4);
}

bool allDigits(std::string_view s)
{
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Leading decimal digits of s, as a value capped at 'cap + 1' to avoid overflow.
unsigned long digitsValue(std::string_view s, unsigned long cap)
{
  unsigned long v = 0;
  for (char c : s) {
    v = v * 10 + static_cast<unsigned long>(c - '0');
    if (v > cap)
      return cap + 1;
  }
  return v;
}


} // namespace

std::string inQuotes(std::string_view s, bool keepUtf8)
{
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    // Keep messages on one line whatever the input holds, and show what no address holds (a
    // byte-order mark, a look-alike character).
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || (u > 0x7f && !keepUtf8)) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

bool Addr::isV4() const
{
  return std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), bytes.begin());
}

std::string Addr::str() const
{
  char buf[INET6_ADDRSTRLEN] = {};
  if (isV4()) {
    inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof(buf));
    return buf;
  }
  inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  std::string out = buf;
  // glibc prints the deprecated IPv4-compatible form (::1.2.3.4); RFC 5952 wants hex words.
  if (out.find('.') != std::string::npos) {
    const unsigned w6 = (bytes[12] << 8) | bytes[13];
    const unsigned w7 = (bytes[14] << 8) | bytes[15];
    std::snprintf(buf, sizeof(buf), "::%x:%x", w6, w7);
    out = buf;
  }
  return out;
}

Addr Addr::fromV4(uint32_t netOrder)
{
  Addr a;
  std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), a.bytes.begin());
  std::memcpy(a.bytes.data() + 12, &netOrder, sizeof(netOrder));
  return a;
}

Addr parseAddr(std::string_view text)
{
  const Addr a = parseAddrAnyForm(text);
  if (a.isV4() && text.find(':') != std::string_view::npos)
    fail(inQuotes(text) + " is an IPv4-mapped IPv6 address: write " + a.str() + " instead");
  return a;
}

bool Cidr::isV4() const
{
  return addr.isV4() && len >= kV4MappedLen;
}

uint8_t Cidr::familyLen() const
{
  return isV4() ? static_cast<uint8_t>(len - kV4MappedLen) : len;
}

std::string Cidr::str() const
{
  std::string out;
  if (isV4() || !addr.isV4()) {
    out = addr.str();
  } else {
    // An IPv6 prefix shorter than /96 whose address happens to look IPv4-mapped: print as IPv6.
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, addr.bytes.data(), buf, sizeof(buf));
    out = buf;
  }
  if (!isHost())
    out += "/" + std::to_string(familyLen());
  return out;
}

Addr masked(const Addr& a, unsigned len)
{
  Addr out = a;
  for (unsigned i = 0; i < out.bytes.size(); ++i) {
    const unsigned bitStart = i * 8;
    if (bitStart >= len) {
      out.bytes[i] = 0;
    } else if (len - bitStart < 8) {
      out.bytes[i] &= static_cast<uint8_t>(0xff00U >> (len - bitStart));
    }
  }
  return out;
}

std::string banText(const Addr& a, uint8_t prefix)
{
  return prefix ? Cidr{a, prefix}.str() : a.str();
}

std::optional<Addr> refitBan(const Addr& a, uint8_t prefix, unsigned len)
{
  if (!prefix)
    return a;
  if (a.isLinkLocal6())
    return std::nullopt;
  if (prefix == len)
    return a;
  if (len < prefix)
    return masked(a, len);
  return std::nullopt;
}

bool Cidr::contains(const Addr& a) const
{
  return masked(a, len) == masked(addr, len);
}

Cidr parseCidr(std::string_view text)
{
  if (text.empty())
    fail("empty CIDR");
  const size_t slash = text.find('/');
  const std::string_view addrText = text.substr(0, slash);

  Addr a;
  try {
    a = parseAddrAnyForm(addrText);
  } catch (const std::invalid_argument& e) {
    if (slash == std::string_view::npos)
      throw;
    fail(std::string(e.what()) + " in " + inQuotes(text));
  }
  const bool v6Text = addrText.find(':') != std::string_view::npos;
  const bool v4 = !v6Text;

  unsigned len = kAddrBits;
  if (slash != std::string_view::npos) {
    const std::string_view lenText = text.substr(slash + 1);
    if (lenText.empty())
      fail("missing prefix length after '/' in " + inQuotes(text));
    size_t digits = 0;
    while (digits < lenText.size() && lenText[digits] >= '0' && lenText[digits] <= '9')
      ++digits;
    if (digits == 0)
      fail("invalid prefix length " + inQuotes(lenText) + " in " + inQuotes(text));
    if (digits < lenText.size())
      fail("trailing characters " + inQuotes(lenText.substr(digits)) + " in " + inQuotes(text));
    const unsigned maxLen = v4 ? 32 : 128;
    const unsigned long value = digitsValue(lenText, maxLen);
    if (value > maxLen)
      fail("prefix length " + std::string(lenText) + " out of range 0.." + std::to_string(maxLen) +
           " in " + inQuotes(text));
    len = static_cast<unsigned>(value) + (v4 ? kV4MappedLen : 0);
  }

  Cidr c{a, static_cast<uint8_t>(len)};
  if (v6Text && a.isV4()) {
    // Refuse ::ffff:a.b.c.d: one spelling per prefix, and IPv4 rules are written as IPv4.
    if (len >= kV4MappedLen)
      fail(inQuotes(text) + " is an IPv4-mapped IPv6 " + (c.isHost() ? "address" : "prefix") + ": write " +
           Cidr{masked(a, len), c.len}.str() + " instead");
  }
  const Addr net = masked(a, len);
  if (net != a)
    fail(inQuotes(text) + " has host bits set (did you mean " + Cidr{net, c.len}.str() + "?)");
  return c;
}

std::string PortRange::str() const
{
  if (lo == hi)
    return std::to_string(lo);
  return std::to_string(lo) + "-" + std::to_string(hi);
}

PortRange parsePortRange(std::string_view text)
{
  if (text.empty())
    fail("empty port range");
  if (text.find_first_of(" \t\r\n") != std::string_view::npos)
    fail("invalid port range " + inQuotes(text) + ": spaces are not allowed");

  const size_t dash = text.find('-');
  const std::string_view loText = text.substr(0, dash);
  const std::string_view hiText = dash == std::string_view::npos ? loText : text.substr(dash + 1);

  auto port = [&](std::string_view p) -> uint16_t {
    if (!allDigits(p))
      fail("invalid port range " + inQuotes(text) + ": expected PORT or LOW-HIGH, ports 1..65535");
    const unsigned long v = digitsValue(p, 65535);
    if (v == 0)
      fail("invalid port range " + inQuotes(text) + ": port 0 is not allowed");
    if (v > 65535)
      fail("invalid port range " + inQuotes(text) + ": port " + std::string(p) + " out of range 1..65535");
    return static_cast<uint16_t>(v);
  };
  const PortRange r{port(loText), port(hiText)};
  if (r.lo > r.hi)
    fail("invalid port range " + inQuotes(text) + ": low port is above high port");
  return r;
}

} // namespace pbxwall
