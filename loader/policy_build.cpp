// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Config + pbxwallctl state -> PolicyImage. Where both name an entry, pbxwallctl wins.
#include "policy_build.hpp"

#include <bpf/libbpf.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <random>

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
    // pw_newsrc is one budget for all CPUs.
    p.newsrc_interval_ns = kSecond / std::max<uint32_t>(sip.newSourcesPerSecond, 1);
}

namespace {

// How often three bytes turn up in clean User-Agent and From values: "sip", "<si", "ip:" and
// "tag" are in nearly every From, digits and dots in every address, "ip-" in phones' agents
// ("Yealink SIP-T46S").
int gramNoise(std::string_view g)
{
    static const std::string_view kCommon[] = {"sip", "ip:", "ips", "ip-", "<si", "\"<s", "tag", "ag=", "g=", "@", ":", "<",
                                               ">", ";", "=", "\""};
    int noise = 0;
    for (std::string_view c : kCommon)
        if (g.find(c) != std::string_view::npos)
            noise += 10;
    if (std::all_of(g.begin(), g.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) || ch == '.'; }))
        noise += 5;
    return noise;
}

} // namespace

// The offset of the four bytes of a signature least likely in clean values.
size_t quietGram(std::string_view text)
{
    std::string lower(text);
    for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t best = 0;
    int bestNoise = 1 << 30;
    for (size_t at = 0; at + 4 <= lower.size(); ++at) {
        const int noise = gramNoise(std::string_view(lower).substr(at, 3)) + gramNoise(std::string_view(lower).substr(at + 1, 3));
        if (noise < bestNoise) {
            best = at;
            bestNoise = noise;
        }
    }
    return best;
}

pw_sip_rules makeSipRules(const config::Sip& sip)
{
    pw_sip_rules r{};
    auto addSig = [&r](const std::string& text, __u8 where) {
        if (r.sig_count >= PW_SIG_MAX || text.size() < PW_SIG_MIN_LEN || text.size() > PW_SIG_LEN)
            return; // the config check refuses these
        pw_sig& s = r.sigs[r.sig_count++];
        for (size_t i = 0; i < text.size(); ++i)
            s.text[i] = static_cast<__u8>(std::tolower(static_cast<unsigned char>(text[i])));
        s.len = static_cast<__u8>(text.size());
        s.where = where;
        // The data plane hashes three bytes at every second position of a value: an occurrence
        // meets a tested position at its byte gram or gram + 1.
        s.gram = static_cast<__u8>(quietGram(text));
        for (int at = s.gram; at < s.gram + 2; ++at) {
            const __u32 w = s.text[at] | s.text[at + 1] << 8 | static_cast<__u32>(s.text[at + 2]) << 16;
            const __u32 h = PW_SIG_HASH(w);
            r.filter[h / 64] |= 1ULL << (h % 64);
        }
    };
    for (const auto& ua : sip.userAgents)
        addSig(ua, PW_SIG_USER_AGENT);
    for (const auto& from : sip.fromPatterns)
        addSig(from, PW_SIG_FROM);
    r.scanner_ban = sip.scannerBan;
    // A new key per build: values the data plane found clean under other rules are searched again.
    std::random_device rd;
    do
        r.clean_key = rd();
    while (r.clean_key == 0);
    for (const auto& prefix : sip.tollPrefixes) {
        if (r.toll_count >= PW_TOLL_MAX || prefix.empty() || prefix.size() > PW_TOLL_LEN)
            continue;
        __u64 v = 0, mask = 0;
        for (size_t i = 0; i < prefix.size(); ++i) {
            v |= static_cast<__u64>(static_cast<unsigned char>(prefix[i])) << (8 * i);
            mask |= 0xffULL << (8 * i);
        }
        r.toll[r.toll_count] = v;
        r.toll_mask[r.toll_count] = mask;
        ++r.toll_count;
    }
    r.dial_out_zones = sip.dialOutZones;
    return r;
}

PolicyImage buildPolicyImage(const config::Config& cfg, const CtlState& state, const IfindexResolver& ifindexOf,
                             std::vector<std::string>* notes, const SlotsHeld* slotsHeld)
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
    img.sipRules = makeSipRules(cfg.sip);

    // Config entries and pbxwallctl's, sorted by CIDR (stably: for a CIDR named twice by one
    // source the later line wins), merged, and appended to img.addrs in order: a state dir of a
    // million entries costs a sort, not a million tree searches.
    struct Named {
        Cidr cidr;
        bool ctl;
        pw_zone zone;
    };
    std::vector<Named> named;
    named.reserve(cfg.zones.size() + state.zones.size());
    for (const auto& z : cfg.zones)
        named.push_back({z.cidr, false, z.zone});
    for (const auto& z : state.zones)
        named.push_back({z.cidr, true, z.zone});
    std::stable_sort(named.begin(), named.end(), [](const Named& a, const Named& b) { return a.cidr < b.cidr; });
    for (size_t i = 0, j = 0; i < named.size(); i = j) {
        std::optional<pw_zone> cfgZone, ctlZone;
        for (j = i; j < named.size() && named[j].cidr == named[i].cidr; ++j)
            (named[j].ctl ? ctlZone : cfgZone) = named[j].zone;
        img.addrs.emplace_hint(img.addrs.end(), named[i].cidr, makeZoneEntry(cfgZone, ctlZone));
    }

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
    // Counter slots: an interface keeps the slot it holds (its counters go on across reloads
    // and restarts); the others take the lowest free ones.
    std::vector<std::pair<const std::string*, unsigned>> present; // name, ifindex
    for (const auto& name : names) {
        const unsigned ifindex = ifindexOf(name);
        if (ifindex == 0) {
            if (notes)
                notes->push_back("interface " + name + " does not exist (yet): not filtered until it appears");
            continue;
        }
        if (ifindex >= PW_IFINDEX_LIMIT) {
            if (notes)
                notes->push_back("interface " + name + " has ifindex " + std::to_string(ifindex) +
                                 ", above the supported " + std::to_string(PW_IFINDEX_LIMIT - 1));
            continue;
        }
        if (const auto dup = std::find_if(present.begin(), present.end(), [&](const auto& p) { return p.second == ifindex; });
            dup != present.end()) {
            // One device by two of its names (an altname; the config check refuses it when both
            // exist at load, not when the device appears later): the first name's zone holds.
            // A pbxwallctl zone recorded under the other name is the device's all the same.
            auto& first = ifaces[*dup->first];
            const auto& other = ifaces[name];
            if (!first.second && other.second)
                first.second = other.second;
            else if (notes)
                notes->push_back("interface " + name + " is the device named " + *dup->first + " (index " +
                                 std::to_string(ifindex) + "): judged with " + *dup->first + "'s zone");
            continue;
        }
        present.emplace_back(&name, ifindex);
    }
    std::vector<__u8> slots(present.size(), 0);
    bool used[PW_IFACE_SLOTS] = {true}; // slot 0: the interfaces no entry names
    for (size_t i = 0; i < present.size() && slotsHeld; ++i)
        if (const auto it = slotsHeld->find(present[i].second);
            it != slotsHeld->end() && it->second > 0 && it->second < PW_IFACE_SLOTS && !used[it->second]) {
            slots[i] = it->second;
            used[it->second] = true;
        }
    for (size_t i = 0; i < present.size(); ++i) {
        if (slots[i] == 0) {
            for (__u8 s = 1; s < PW_IFACE_SLOTS && slots[i] == 0; ++s)
                if (!used[s]) {
                    slots[i] = s;
                    used[s] = true;
                }
            if (slots[i] == 0 && notes)
                notes->push_back("interface " + *present[i].first +
                                 ": no counter slot left, counted with unnamed interfaces");
        }
        const auto& [cfgZone, ctlZone] = ifaces[*present[i].first];
        img.ifaces.push_back({present[i].second, makeZoneEntry(cfgZone, ctlZone, slots[i])});
    }
    return img;
}

} // namespace pbxwall
