// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// What the [sip] fixtures share (fixtures_sip.cpp, fixtures_rate.cpp): the [sip] config with small
// numbers, SIP frames from a source, the expected record of a SIP verdict, budget keys.
#pragma once

#include "fixtures.hpp"

#include <cstring>
#include <string>
#include <string_view>

namespace pbxwall::bpftest::sipfx {

using test::Packet;

inline constexpr uint64_t kBanSeconds = 60;
inline constexpr unsigned kBanAfter = 3;
inline constexpr unsigned kBurst = 1;

inline constexpr const char* kOptions = "OPTIONS sip:100@198.18.0.1 SIP/2.0\r\n"
                                        "Via: SIP/2.0/UDP 198.18.9.9:5060;branch=z9hG4bK776asdhds\r\n"
                                        "Max-Forwards: 70\r\n"
                                        "From: <sip:scanner@198.18.9.9>;tag=1928301774\r\n"
                                        "To: <sip:100@198.18.0.1>\r\n"
                                        "Call-ID: a84b4c76e66710\r\n"
                                        "CSeq: 1 OPTIONS\r\n"
                                        "Content-Length: 0\r\n\r\n";

// The pw_rate key of a source under ipv6_prefix = 64.
inline std::string budgetKey64(Family f, Peer p)
{
    if (f == Family::V4)
        return p.v4;
    pw_ban_key k = addrKey(p.v6);
    std::memset(k.addr + 8, 0, 8);
    Addr a;
    std::memcpy(a.bytes.data(), k.addr, 16);
    return a.str();
}

inline constexpr uint16_t kSipPort = 5060;
inline constexpr uint16_t kTrapPort = 5080;

struct SipKnobs {
    bool responsive = true;
    unsigned knownRate = 100;
    unsigned ipv6Prefix = 64;
    unsigned newSourcesPerSecond = 1000000;
};

// The part of the SIP fixtures' configs before [sip]: internet by default (lo), a trusted, a
// local, an other and a reject network; the service sip on UDP and TCP 5060 for every zone but
// reject.
inline constexpr const char* kSipNetworks = R"(
unlisted_ports = "drop"

[[interface]]
name = "lo"
zone = "internet"

[zones]
trusted = ["198.18.1.0/24", "2001:db8:1::/48"]
local = ["198.18.2.0/24", "2001:db8:2::/48"]
other = ["198.18.4.0/24", "2001:db8:4::/48"]
reject = ["198.18.3.0/24", "2001:db8:3::/48"]

[services.sip]
udp = ["5060"]
tcp = ["5060"]
zones = ["trusted", "local", "other", "internet"]
)";

// kSipNetworks and a [sip] table with small numbers: 2 packets a minute, burst 1 (so 2 back to
// back), banned for 60 s after 3 drops.
inline std::string sipConfig(const SipKnobs& k = {})
{
    return std::string(kSipNetworks) + R"(
[sip]
responsive = )" + std::string(k.responsive ? "true" : "false") +
        "\nrate = 2\nperiod = 60\nburst = " + std::to_string(kBurst) +
        "\nknown_rate = " + std::to_string(k.knownRate) + "\nban_after = " + std::to_string(kBanAfter) +
        "\nban_window = 600\nban_seconds = " + std::to_string(kBanSeconds) +
        "\nipv6_prefix = " + std::to_string(k.ipv6Prefix) +
        "\nnew_sources_per_second = " + std::to_string(k.newSourcesPerSecond) + "\ntrap_ports = [\"5080\"]\n";
}

inline Packet sipUdp(Family f, Peer src, std::string_view payload = kOptions)
{
    return ip(f, src, kHost).udp(5060, kSipPort).sip(payload);
}

inline Fixture expect(std::string name, Packet p, pw_reason reason, pw_zone zone = PW_ZONE_INTERNET)
{
    return {std::move(name), std::move(p), kLo, PW_REASON_IS_DROP(reason) ? XDP_DROP : XDP_PASS, reason, zone};
}

inline bool hasRateKey(Harness& h, std::string_view key)
{
    return h.maps().rate.lookup(addrKey(key)).has_value();
}

} // namespace pbxwall::bpftest::sipfx
