// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// What the fixtures of the SIP guards share (fixtures_sip_guards.cpp, fixtures_sip_transport.cpp):
// the config with an open new-source gate, plausible requests, and the expectation helper.
#pragma once

#include "fixtures.hpp"
#include "sip_support.hpp"

#include <deque>
#include <string>
#include <utility>

namespace pbxwall::bpftest::guardfx {

using test::Packet;

inline constexpr uint16_t kSipPort = 5060;

// kSipNetworks, then [sip] with the budget and whatever keys the case adds. The new-source gate
// is wide open: the cases send a new source in most runs, hundreds in a row, and the default
// rate would refuse some of them (new_source_limited, before any guard) on a quick enough host.
inline std::string guardConfig(const std::string& sipKeys = "", const std::string& budget = "rate = 100\nburst = 100\n")
{
    return std::string(sipfx::kSipNetworks) + R"(
[sip]
period = 60
ban_seconds = 60
new_sources_per_second = 1000000
)" + budget + sipKeys;
}

inline const char* addrOf(Family f, Peer p) { return f == Family::V4 ? p.v4 : p.v6; }

// A distinct internet source per case: 198.18.NET.N / 2001:db8:NET:N::1, its text kept in `keep`
// (a deque: adding to it never moves the strings the peers point into).
inline Peer numberedSource(unsigned net, unsigned n, std::deque<std::string>& keep)
{
    keep.push_back("198.18." + std::to_string(net) + "." + std::to_string(n));
    keep.push_back("2001:db8:" + std::to_string(net) + ":" + std::to_string(n) + "::1"); // its own /64
    return Peer{keep[keep.size() - 2].c_str(), keep.back().c_str()};
}

// A plausible request: request line, the usual headers (From in the given form), then the
// extra header lines, the empty line and an optional body.
inline std::string request(const std::string& requestLine, const std::string& extra = "",
                    const std::string& from = "From: \"Alice\" <sip:2001@pbx.example>;tag=a73kszlfl", const std::string& body = "")
{
    return requestLine + "\r\n"
           "Via: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-524287-1---f0a7e9\r\n"
           "Max-Forwards: 70\r\n" +
           from + "\r\n"
           "To: <sip:2001@pbx.example>\r\n"
           "Call-ID: 9f1c2a77d3b04e1@198.18.9.9\r\n"
           "CSeq: 1 " + requestLine.substr(0, requestLine.find(' ')) + "\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

inline std::string options(const std::string& extra = "", const std::string& from = "From: <sip:2001@pbx.example>;tag=1")
{
    return request("OPTIONS sip:2001@198.18.0.1 SIP/2.0", extra, from);
}

inline std::string invite(const std::string& uri, const std::string& extra = "")
{
    return request("INVITE " + uri + " SIP/2.0", extra);
}

inline Packet sipUdp(Family f, Peer src, const std::string& payload)
{
    return ip(f, src, kHost).udp(5062, kSipPort).sip(payload);
}

// A datagram's first fragment (more fragments follow) from src to the SIP port.
inline Packet firstFragment(Family f, Peer src, uint16_t id, const std::string& text)
{
    Packet p = ip(f, src, kHost);
    if (f == Family::V4)
        p.ipv4Fragment(id, 0, true);
    else
        p.ipv6Fragment(id, 0, true);
    return p.udp(5062, kSipPort).sip(text);
}

inline Fixture expect(std::string name, Packet p, pw_reason reason, pw_zone zone = PW_ZONE_INTERNET)
{
    return {std::move(name), std::move(p), kLo, PW_REASON_IS_DROP(reason) ? XDP_DROP : XDP_PASS, reason, zone};
}

} // namespace pbxwall::bpftest::guardfx
