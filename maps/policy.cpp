// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Generation switch and run-time edits of the policy maps.
#include "policy.hpp"

#include <cstring>
#include <stdexcept>

namespace pbxwall {

pw_zone_entry makeZoneEntry(std::optional<pw_zone> cfgZone, std::optional<pw_zone> ctlZone, __u8 slot)
{
    pw_zone_entry e{};
    if (cfgZone) {
        e.origin |= PW_ORIGIN_CONFIG;
        e.cfg_zone = *cfgZone;
        e.zone = *cfgZone;
    }
    if (ctlZone) {
        e.origin |= PW_ORIGIN_CTL;
        e.ctl_zone = *ctlZone;
        e.zone = *ctlZone;
    }
    e.slot = slot;
    return e;
}

pw_host_key hostKey(__u32 gen, const Addr& a)
{
    pw_host_key k{};
    k.gen = gen;
    std::memcpy(k.addr, a.bytes.data(), 16);
    return k;
}

pw_net_key netKey(__u32 gen, const Cidr& c)
{
    pw_net_key k{};
    k.prefixlen = PW_NET_GEN_BITS + c.len;
    k.gen = gen;
    std::memcpy(k.addr, c.addr.bytes.data(), 16);
    return k;
}

namespace {

Addr addrOf(const __u8 (&raw)[16])
{
    Addr a;
    std::memcpy(a.bytes.data(), raw, 16);
    return a;
}

__u32 ifaceIndex(__u32 gen, __u32 ifindex) { return gen * PW_IFINDEX_LIMIT + ifindex; }

// Whether the trie stores this very prefix. A lookup answers the longest match (10.0.0.0/8 for
// 10.20.0.0/16), so it cannot tell; get_next_key can: for a key the trie does not hold the
// kernel returns its leftmost key, for a key it holds the one after it, or ENOENT for the last
// (kernel/bpf/lpm_trie.c, trie_get_next_key).
bool netStored(int fd, const pw_net_key& key)
{
    pw_net_key first{}, next{};
    if (bpf_map_get_next_key(fd, nullptr, &first) != 0) {
        if (errno != ENOENT)
            throwErrno(errno, "iterate " PW_MAP_NAME_NETS);
        return false; // empty trie
    }
    if (bpf_map_get_next_key(fd, &key, &next) != 0) {
        if (errno != ENOENT)
            throwErrno(errno, "iterate " PW_MAP_NAME_NETS);
        return true; // the last key
    }
    return std::memcmp(&next, &first, sizeof(next)) != 0;
}

} // namespace

void PolicyStore::clearGeneration(__u32 gen)
{
    std::vector<pw_host_key> hk;
    for (const auto& [k, v] : maps_.hosts.entries())
        if (k.gen == gen)
            hk.push_back(k);
    maps_.hosts.eraseMany(hk);
    std::vector<pw_net_key> nk;
    for (const auto& k : maps_.nets.keys())
        if (k.gen == gen)
            nk.push_back(k);
    maps_.nets.eraseMany(nk);
    std::vector<__u32> idx(PW_IFINDEX_LIMIT);
    for (__u32 i = 0; i < PW_IFINDEX_LIMIT; ++i)
        idx[i] = ifaceIndex(gen, i);
    maps_.ifaces.updateMany(idx, std::vector<pw_zone_entry>(PW_IFINDEX_LIMIT));
}

void PolicyStore::install(const PolicyImage& img)
{
    const __u32 cur = maps_.activeGen();
    const __u32 next = cur ^ 1;

    size_t hosts = 0, nets = 0;
    for (const auto& [cidr, e] : img.addrs)
        (cidr.isHost() ? hosts : nets)++;
    if (hosts > maps_.hostsCapacity())
        throw std::runtime_error("policy names " + std::to_string(hosts) + " host entries, [limits] hosts allows " +
                                 std::to_string(maps_.hostsCapacity()));
    if (nets > maps_.netsCapacity())
        throw std::runtime_error("policy names " + std::to_string(nets) + " prefix entries, [limits] nets allows " +
                                 std::to_string(maps_.netsCapacity()));
    for (const auto& i : img.ifaces)
        if (i.ifindex == 0 || i.ifindex >= PW_IFINDEX_LIMIT)
            throw std::runtime_error("interface index " + std::to_string(i.ifindex) + " is out of range");

    // Build the next generation completely; the data plane does not look at it yet.
    clearGeneration(next);
    std::vector<pw_host_key> hk;
    std::vector<pw_zone_entry> hv;
    hk.reserve(hosts);
    hv.reserve(hosts);
    for (const auto& [cidr, e] : img.addrs) {
        if (cidr.isHost()) {
            hk.push_back(hostKey(next, cidr.addr));
            hv.push_back(e);
        } else {
            maps_.nets.update(netKey(next, cidr), e);
        }
    }
    maps_.hosts.updateMany(hk, hv);

    for (const auto& i : img.ifaces)
        maps_.ifaces.update(ifaceIndex(next, i.ifindex), i.entry);

    std::vector<__u32> pk(2 * 65536);
    std::vector<pw_port> pv(2 * 65536);
    for (__u32 port = 0; port < 65536; ++port) {
        pk[port] = ((next * PW_L4__COUNT + PW_L4_TCP) << 16) | port;
        pv[port] = img.tcp[port];
        pk[65536 + port] = ((next * PW_L4__COUNT + PW_L4_UDP) << 16) | port;
        pv[65536 + port] = img.udp[port];
    }
    maps_.ports.updateMany(pk, pv);

    pw_policy settings = img.settings;
    settings.has_nets = nets > 0;
    settings.host_count = static_cast<__u32>(hosts);
    settings.net_count = static_cast<__u32>(nets);
    maps_.policy.update(next, settings);
    maps_.siprules.update(next, img.sipRules);

    // The switch: one array write that every later packet sees whole.
    maps_.gen.update(0, pw_gen_state{next, 0});

    clearGeneration(cur);
}

std::vector<ZoneRecord> PolicyStore::zones() const
{
    const __u32 gen = maps_.activeGen();
    std::vector<ZoneRecord> out;
    for (const auto& [k, e] : maps_.hosts.entries())
        if (k.gen == gen)
            out.push_back({Cidr{addrOf(k.addr), kAddrBits}, e});
    for (const auto& [k, e] : maps_.nets.entries())
        if (k.gen == gen)
            out.push_back({Cidr{addrOf(k.addr), static_cast<uint8_t>(k.prefixlen - PW_NET_GEN_BITS)}, e});
    return out;
}

std::optional<pw_zone_entry> PolicyStore::zone(const Cidr& cidr) const
{
    const __u32 gen = maps_.activeGen();
    if (cidr.isHost())
        return maps_.hosts.lookup(hostKey(gen, cidr.addr));
    const pw_net_key key = netKey(gen, cidr);
    if (!netStored(maps_.nets.fd(), key))
        return std::nullopt;
    return maps_.nets.lookup(key);
}

size_t PolicyStore::hostCount() const { return settings().host_count; }

size_t PolicyStore::netCount() const { return settings().net_count; }

std::optional<pw_zone_entry> PolicyStore::match(const Addr& a) const
{
    const __u32 gen = maps_.activeGen();
    if (auto e = maps_.hosts.lookup(hostKey(gen, a)))
        return e;
    return maps_.nets.lookup(netKey(gen, Cidr{a, kAddrBits})); // the trie answers the longest match
}

void PolicyStore::setZones(const std::vector<ZoneRecord>& records)
{
    const __u32 gen = maps_.activeGen();
    pw_policy s = settings();
    std::vector<pw_host_key> hk;
    std::vector<pw_zone_entry> hv;
    size_t newHosts = 0, newNets = 0;
    for (const auto& r : records) {
        if (r.cidr.isHost()) {
            hk.push_back(hostKey(gen, r.cidr.addr));
            hv.push_back(r.entry);
            newHosts += !maps_.hosts.lookup(hk.back());
        } else {
            newNets += !netStored(maps_.nets.fd(), netKey(gen, r.cidr));
        }
    }
    if (s.host_count + newHosts > maps_.hostsCapacity())
        throw std::runtime_error("the host table would hold " + std::to_string(s.host_count + newHosts) +
                                 " entries, [limits] hosts allows " + std::to_string(maps_.hostsCapacity()));
    if (s.net_count + newNets > maps_.netsCapacity())
        throw std::runtime_error("the prefix table would hold " + std::to_string(s.net_count + newNets) +
                                 " entries, [limits] nets allows " + std::to_string(maps_.netsCapacity()));
    maps_.hosts.updateMany(hk, hv);
    for (const auto& r : records)
        if (!r.cidr.isHost())
            maps_.nets.update(netKey(gen, r.cidr), r.entry);
    // Entries first, then the flag: the trie is never skipped while it is in use.
    s.host_count += static_cast<__u32>(newHosts);
    s.net_count += static_cast<__u32>(newNets);
    s.has_nets = s.has_nets || newNets > 0 || s.net_count > 0;
    maps_.policy.update(gen, s);
}

void PolicyStore::setZone(const Cidr& cidr, const pw_zone_entry& entry) { setZones({{cidr, entry}}); }

void PolicyStore::eraseZone(const Cidr& cidr)
{
    const __u32 gen = maps_.activeGen();
    pw_policy s = settings();
    if (cidr.isHost()) {
        if (maps_.hosts.erase(hostKey(gen, cidr.addr)) && s.host_count)
            s.host_count--;
    } else if (maps_.nets.erase(netKey(gen, cidr)) && s.net_count) {
        s.net_count--;
    }
    maps_.policy.update(gen, s);
}

std::vector<IfaceRecord> PolicyStore::ifaces() const
{
    const __u32 start = ifaceIndex(maps_.activeGen(), 0);
    std::vector<IfaceRecord> out;
    auto values = maps_.ifaces.lookupRange(start, PW_IFINDEX_LIMIT);
    for (__u32 i = 1; i < PW_IFINDEX_LIMIT; ++i)
        if (values[i].zone != PW_ZONE_NONE)
            out.push_back({i, values[i]});
    return out;
}

void PolicyStore::setIface(__u32 ifindex, const pw_zone_entry& entry)
{
    if (ifindex == 0 || ifindex >= PW_IFINDEX_LIMIT)
        throw std::runtime_error("interface index " + std::to_string(ifindex) + " is out of range");
    maps_.ifaces.update(ifaceIndex(maps_.activeGen(), ifindex), entry);
}

__u8 PolicyStore::freeIfaceSlot() const
{
    bool used[PW_IFACE_SLOTS] = {};
    for (const auto& r : ifaces())
        if (r.entry.slot < PW_IFACE_SLOTS)
            used[r.entry.slot] = true;
    for (__u8 s = 1; s < PW_IFACE_SLOTS; ++s)
        if (!used[s])
            return s;
    return 0;
}

pw_policy PolicyStore::settings() const
{
    auto s = maps_.policy.lookup(maps_.activeGen());
    return s ? *s : pw_policy{};
}

} // namespace pbxwall
