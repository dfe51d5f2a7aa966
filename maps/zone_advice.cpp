// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "zone_advice.hpp"

#include "names.hpp"

#include <array>
#include <string_view>

namespace pbxwall {

std::optional<std::string> wideEntry(const Cidr& c, pw_zone zone)
{
  const bool v4 = c.isV4();
  // A martian block (224.0.0.0/4 in a bogon list) is as wide, but no packet matches it.
  if (zone == PW_ZONE_INTERNET || c.familyLen() >= (v4 ? kWideV4Len : kWideV6Len) || martianEntry(c))
    return std::nullopt;
  std::string what;
  switch (zone) {
  case PW_ZONE_TRUSTED:
    what = " (never filtered nor banned)";
    break;
  case PW_ZONE_REJECT:
    what = " (every packet dropped)";
    break;
  default:
    what = " (that zone's services and dialling rights, not the internet's)";
    break;
  }
  return c.str() + " is wider than an " + (v4 ? "IPv4 /8" : "IPv6 /16") +
         ": every source in it that no longer entry names gets zone " + std::string(zoneName(zone)) + what;
}

std::optional<std::string> martianEntry(const Cidr& c)
{
  // What pw_is_martian drops whatever the packet (bpf/pbxwall.bpf.c). Parsed once: a blocklist
  // of a million lines asks for each.
  struct Space {
    Cidr cidr;
    std::string_view name;
  };
  static const std::array<Space, 6> kMartian = {{{parseCidr("127.0.0.0/8"), "loopback"},
                                                 {parseCidr("224.0.0.0/4"), "multicast"},
                                                 {parseCidr("255.255.255.255"), "broadcast"},
                                                 {parseCidr("0.0.0.0/8"), "0.0.0.0/8"},
                                                 {parseCidr("ff00::/8"), "multicast"},
                                                 {parseCidr("::1"), "loopback"}}};
  for (const Space& s : kMartian) {
    // 0.0.0.0 itself is a DHCP client's source before it has an address: not martian then.
    if (c.len >= s.cidr.len && s.cidr.contains(c.addr) && c.addr != Addr::fromV4(0))
      return c.str() + " lies in " + std::string(s.name) +
             " space: the data plane drops such sources (reason martian) before it looks up a zone, so no "
             "packet matches this entry";
  }
  return std::nullopt;
}

} // namespace pbxwall
