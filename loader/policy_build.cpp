// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Config + pbxwallctl state -> PolicyImage. Where both name an entry, pbxwallctl wins.
#include "policy_build.hpp"

#include <bpf/libbpf.h>

#include <algorithm>
#include <map>
#include <optional>

namespace pbxwall {

void setResponsive(pw_policy& p, const config::Sip& sip)
{
    constexpr uint64_t kSecond = 1000000000ULL;
    const uint64_t period = static_cast<uint64_t>(sip.period) * kSecond;
    p.responsive = sip.responsive;
    p.v6_prefix = static_cast<__u8>(sip.ipv6Prefix);
    p.burst = sip.burst;
    p.ban_after = sip.banAfter;
    p.interval_ns = period / std::max<uint32_t>(sip.rate, 1);
    p.known_interval_ns = period / std::max<uint32_t>(sip.knownRate, 1);
    p.ban_ns = static_cast<uint64_t>(sip.banSeconds) * kSecond;
    p.ban_window_ns = static_cast<uint64_t>(sip.banWindow) * kSecond;
    p.known_ns = static_cast<uint64_t>(sip.knownSeconds) * kSecond;
    // A registered phone sends in bursts (a call set-up, a re-INVITE): allow one second's
    // worth of its rate back to back.
    p.known_burst = std::max<uint32_t>(sip.burst, sip.knownRate / std::max<uint32_t>(sip.period, 1));
    p.max_failures = sip.maxFailures;
    p.challenge_allowance = sip.challengeAllowance;
    // pw_newsrc is per CPU: each CPU gets its share of the aggregate budget.
    const int cpus = std::max(libbpf_num_possible_cpus(), 1);
    p.newsrc_interval_ns = kSecond * static_cast<uint64_t>(cpus) / std::max<uint32_t>(sip.newSourcesPerSecond, 1);
}

PolicyImage buildPolicyImage(const config::Config& cfg, const CtlState& state, const IfindexResolver& ifindexOf,
                             std::vector<std::string>* notes)
{
    PolicyImage img;
    img.settings.unlisted = static_cast<__u8>(cfg.unlisted);
    img.settings.echo_zones = cfg.echoZones;

    for (size_t i = 0; i < cfg.services.size(); ++i) {
        const auto& svc = cfg.services[i];
        pw_port port{};
        port.service = static_cast<__u8>(i + 1);
        port.zones = svc.zones;
        if (svc.name == "sip")
            img.settings.sip_service = port.service;
        for (const auto& r : svc.tcp)
            for (unsigned p = r.lo; p <= r.hi; ++p)
                img.tcp[p] = port;
        for (const auto& r : svc.udp)
            for (unsigned p = r.lo; p <= r.hi; ++p)
                img.udp[p] = port;
    }

    for (const auto& r : cfg.sip.trapPorts)
        for (unsigned p = r.lo; p <= r.hi; ++p) {
            img.tcp[p].flags |= PW_PORT_TRAP;
            img.udp[p].flags |= PW_PORT_TRAP;
        }
    setResponsive(img.settings, cfg.sip);

    std::map<Cidr, std::pair<std::optional<pw_zone>, std::optional<pw_zone>>> addrs;
    for (const auto& z : cfg.zones)
        addrs[z.cidr].first = z.zone;
    for (const auto& z : state.zones)
        addrs[z.cidr].second = z.zone;
    for (const auto& [cidr, zones] : addrs)
        img.addrs[cidr] = makeZoneEntry(zones.first, zones.second);

    // Interfaces: config order first, then interfaces only pbxwallctl names.
    std::vector<std::string> names;
    std::map<std::string, std::pair<std::optional<pw_zone>, std::optional<pw_zone>>> ifaces;
    for (const auto& i : cfg.interfaces) {
        names.push_back(i.name);
        ifaces[i.name].first = i.zone;
    }
    for (const auto& i : state.ifaces) {
        if (!ifaces.count(i.name))
            names.push_back(i.name);
        ifaces[i.name].second = i.zone;
    }
    __u8 slot = 1;
    for (const auto& name : names) {
        if (slot >= PW_IFACE_SLOTS) {
            if (notes)
                notes->push_back("interface " + name + ": no counter slot left, counted with unnamed interfaces");
        }
        unsigned ifindex = ifindexOf(name);
        __u8 s = slot < PW_IFACE_SLOTS ? slot : 0;
        ++slot;
        if (ifindex == 0) {
            if (notes)
                notes->push_back("interface " + name + " does not exist (yet): not filtered until a reload finds it");
            continue;
        }
        if (ifindex >= PW_IFINDEX_LIMIT) {
            if (notes)
                notes->push_back("interface " + name + " has ifindex " + std::to_string(ifindex) +
                                 ", above the supported " + std::to_string(PW_IFINDEX_LIMIT - 1));
            continue;
        }
        const auto& [cfgZone, ctlZone] = ifaces[name];
        img.ifaces.push_back({ifindex, makeZoneEntry(cfgZone, ctlZone, s)});
    }
    return img;
}

} // namespace pbxwall
