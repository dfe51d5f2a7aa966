// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// What the egress fixtures share (fixtures_egress_sip.cpp, fixtures_egress_v6.cpp): their config,
// the PBX's answers to a peer, and whether a peer is known.
#pragma once

#include "addr.hpp"
#include "fixtures.hpp"

#include <cstring>
#include <string>

namespace pbxwall::bpftest::egressfx {

using test::Packet;

// Failures ban at 3 (after an allowance of 2 challenges), for 60 s.
inline const std::string kConfig = R"(
unlisted_ports = "drop"

[[interface]]
name = "lo"
zone = "internet"

[zones]
trusted = ["198.18.1.0/24", "2001:db8:1::/48"]

[services.sip]
udp = ["5060"]
zones = ["trusted", "local", "other", "internet"]

[sip]
rate = 2
burst = 0
max_failures = 3
challenge_allowance = 2
ban_seconds = 60
)";

// The PBX (kHost, port 5060) answering a peer.
inline Packet answer(Family f, Peer peer, const std::string& text, uint16_t sport = 5060)
{
    return ip(f, kHost, peer).udp(sport, 5060).sip(text);
}

// An answer with one binding (a 200 to REGISTER lists them all, RFC 3261 10.3).
inline std::string response(const std::string& status, const std::string& cseq)
{
    return "SIP/2.0 " + status + "\r\nVia: SIP/2.0/UDP 198.18.9.9:5060;branch=z9hG4bK1\r\nFrom: <sip:100@pbx>;tag=1\r\n"
           "To: <sip:100@pbx>;tag=2\r\nCall-ID: abc@198.18.9.9\r\n" + cseq +
           "\r\nContact: <sip:100@198.18.9.9:5060>\r\nContent-Length: 0\r\n\r\n";
}

// Is the peer's address in the known table?
inline bool known(Harness& h, Family f, Peer p)
{
    pw_ban_key k{};
    const Addr a = parseAddr(f == Family::V4 ? p.v4 : p.v6);
    std::memcpy(k.addr, a.bytes.data(), 16);
    return h.maps().known.lookup(k).has_value();
}

// A 200 to REGISTER with expiryLines (an Expires header, Contact parameters) before its end.
inline std::string registered(const std::string& expiryLines)
{
    return "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.9.9:5060;branch=z9hG4bK1\r\nFrom: <sip:2001@pbx>;tag=1\r\n"
           "To: <sip:2001@pbx>;tag=2\r\nCall-ID: reg1@198.18.9.9\r\nCSeq: 7 REGISTER\r\n"
           "Contact: <sip:2001@198.18.9.9:5060>\r\n" +
           expiryLines + "Content-Length: 0\r\n\r\n";
}

} // namespace pbxwall::bpftest::egressfx
