// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// What the [sip] fixtures share (fixtures_sip.cpp, fixtures_sip_bans.cpp): their sources, frames
// from them, and the checks of a ban the data plane set and of its pw_events record.
#pragma once

#include "fixtures.hpp"
#include "sip_support.hpp"
#include "state.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <string>
#include <string_view>

namespace pbxwall::bpftest::sipcommon {

using test::Packet;
using test::TcpFlags;
using namespace sipfx;

inline constexpr uint64_t kSecondNs = 1000000000ULL;
inline constexpr const char* kKeepalive = "\r\n\r\n"; // RFC 5626 double-CRLF keepalive

// Internet-zone sources (no [zones] entry: lo's zone), each IPv6 one in a /64 of its own, and
// one source of the other zone.
inline constexpr Peer kScanner{"198.18.9.9", "2001:db8:9::9"};
inline constexpr Peer kScanner2{"198.18.9.81", "2001:db8:9:81::81"};
inline constexpr Peer kScanner3{"198.18.10.5", "2001:db8:a::5"};
inline constexpr Peer kScanner4{"198.18.10.6", "2001:db8:b::6"};
inline constexpr Peer kPhone{"198.18.20.1", "2001:db8:20::1"};  // a registered phone (pw_known)
inline constexpr Peer kRoamer{"198.18.21.2", "2001:db8:21::2"}; // known once, expired since
inline constexpr Peer kOther{"198.18.4.10", "2001:db8:4::10"};  // other zone

inline const char* addrOf(Family f, Peer p) { return f == Family::V4 ? p.v4 : p.v6; }

inline Packet sipTcp(Family f, Peer src, TcpFlags flags = TcpFlags::Syn)
{
    return ip(f, src, kHost).tcp(40000, kSipPort, flags);
}

// A frame from a single address (text), for addresses that are no Peer.
inline Packet sipUdpFrom(const char* src)
{
    Packet p = Packet().eth();
    if (std::string_view(src).find(':') != std::string_view::npos)
        p.ipv6(src, kHost.v6);
    else
        p.ipv4(src, kHost.v4);
    return p.udp(5060, kSipPort).sip(kOptions);
}

// The ban the data plane set on addr: cause, and about ban_seconds from now.
// An internet source's IPv6 ban is of its /64 (ipv6_prefix); any other, of its address.
inline bool byPrefix(std::string_view addr, pw_zone zone)
{
    return zone == PW_ZONE_INTERNET && addr.find(':') != std::string_view::npos;
}

inline void checkDataPlaneBan(Harness& h, std::string_view addr, pw_ban_cause cause, pw_zone zone = PW_ZONE_INTERNET)
{
    INFO("ban of " << addr);
    const auto b = h.banOf(addr);
    REQUIRE(b.has_value());
    CHECK(b->cause == static_cast<__u32>(cause));
    CHECK(b->prefix == (byPrefix(addr, zone) ? 64 : 0));
    CHECK(b->expires_ns - b->created_ns == kBanSeconds * kSecondNs);
    const uint64_t now = monotonicNowNs();
    // The data plane's clock is the coarse monotonic clock: a tick behind at most.
    CHECK(b->created_ns <= now);
    CHECK(now - b->created_ns < kSecondNs);
    CHECK(b->expires_ns > now + (kBanSeconds - 2) * kSecondNs);
    CHECK(b->expires_ns <= now + kBanSeconds * kSecondNs);
}

// Exactly one pw_events record since the last read: type and cause for addr.
inline void checkOneEvent(Harness& h, std::string_view addr, pw_event_type type, pw_ban_cause cause,
                   pw_zone zone = PW_ZONE_INTERNET)
{
    INFO("event for " << addr);
    const auto evs = h.events();
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].type == static_cast<__u32>(type));
    CHECK(evs[0].cause == static_cast<__u32>(cause));
    CHECK(evs[0].duration_ns == kBanSeconds * kSecondNs);
    // An internet source's IPv6 ban is of its /64 (ipv6_prefix), named by its first address.
    const Addr a = parseAddr(addr);
    const Addr key = byPrefix(addr, zone) ? masked(a, 64) : a;
    CHECK(std::memcmp(evs[0].addr, key.bytes.data(), 16) == 0);
    CHECK(evs[0].prefix == (byPrefix(addr, zone) ? 64 : 0));
    const uint64_t now = monotonicNowNs();
    CHECK(evs[0].ts_ns <= now);
    CHECK(now - evs[0].ts_ns < kSecondNs);
}

} // namespace pbxwall::bpftest::sipcommon
