// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Zone entries that parse, but that an administrator may not mean: one that puts a large part
// of the internet in a zone other than internet, and one that no packet can match. pbxwallctl
// refuses the first without --force and notes the second; the config check warns of both.
#pragma once

#include "addr.hpp"
#include "pbxwall_abi.h"

#include <optional>
#include <string>

namespace pbxwall {

// The widest prefixes taken without a second thought in a zone other than internet: an IPv4
// /8, an IPv6 /16. A wider one names a large part of the internet (0.0.0.0/0 all of IPv4).
inline constexpr uint8_t kWideV4Len = 8;
inline constexpr uint8_t kWideV6Len = 16;

// c in zone names a large part of the internet: what that does, for a message ("0.0.0.0/0 is
// wider than an IPv4 /8: every source in it that no longer entry names gets zone trusted
// (never filtered nor banned)"). Nothing for a narrower prefix, zone internet, or martian space
// (martianEntry).
std::optional<std::string> wideEntry(const Cidr& c, pw_zone zone);

// Every address of c is a martian source (loopback, multicast, broadcast, 0.0.0.0/8 but
// 0.0.0.0 itself, ::1), which the data plane drops (reason martian) before it looks up a zone:
// why no packet matches the entry. Nothing when some address of c can be a packet's source.
std::optional<std::string> martianEntry(const Cidr& c);

} // namespace pbxwall
