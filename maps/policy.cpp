// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Generation switch and run-time edits of the policy maps.
#include "policy.hpp"

#include <arpa/inet.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>

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

HostEntry hostEntry(const pw_zone_entry& e) { return {e.zone, e.origin, e.cfg_zone, e.ctl_zone}; }

pw_zone_entry zoneEntry(const HostEntry& h)
{
    pw_zone_entry e{};
    e.zone = h.zone;
    e.origin = h.origin;
    e.cfg_zone = h.cfgZone;
    e.ctl_zone = h.ctlZone;
    return e;
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

// Returns once every XDP and TC program run that began before the call has ended, so that the
// half or generation a flip of pw_gen left can be written again: a packet reads pw_gen once and
// then the tables it names. The programs run inside RCU read-side sections (softirq, not
// preemptible), and MEMBARRIER_CMD_GLOBAL waits for an RCU grace period: milliseconds, or tens
// of microseconds where grace periods are expedited (as on this project's test machine); with
// one CPU online no program can be running meanwhile, and it returns at once. Kernels with
// nohz_full refuse it; a program run lasts microseconds, so a pause of 20 ms stands in there.
void waitForProgramRuns()
{
    if (::syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
}


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

pw_gen_state PolicyStore::genState() const { return maps_.gen.lookup(0).value_or(pw_gen_state{}); }

hosttab::Half<Host4> PolicyStore::hosts4Half(__u32 half) const
{
    return maps_.hosts4.half(half, pw_host_shrink(hostShrink(), 0, half));
}

hosttab::Half<Host6> PolicyStore::hosts6Half(__u32 half) const
{
    return maps_.hosts6.half(half, pw_host_shrink(hostShrink(), 1, half));
}

__u32 PolicyStore::hostShrink() const
{
    if (!hostShrink_)
        hostShrink_ = genState().host_shrink;
    return *hostShrink_;
}

void PolicyStore::setHostShrink(__u32 half, __u32 shrink4, __u32 shrink6)
{
    pw_gen_state g = genState();
    const unsigned b4 = 8 * (half & 1), b6 = 8 * (2 + (half & 1));
    g.host_shrink &= ~((31U << b4) | (31U << b6));
    g.host_shrink |= ((shrink4 & 31) << b4) | ((shrink6 & 31) << b6);
    maps_.gen.update(0, g);
    hostShrink_ = g.host_shrink;
}

void PolicyStore::allowHostShrink(bool allow)
{
    pw_gen_state g = genState();
    g.host_shrink = allow ? g.host_shrink | PW_HOST_SHRINK_ON : g.host_shrink & ~PW_HOST_SHRINK_ON;
    maps_.gen.update(0, g);
    hostShrink_ = g.host_shrink;
}

namespace {

// How many times table t's halves may be halved to hold n entries: down to the buckets
// pw_host_buckets gives n (what [limits] hosts = n would make the whole half).
template <typename T>
__u32 shrinkFor(const HostTable<T>& t, size_t n)
{
    const __u32 want = pw_host_buckets(static_cast<__u32>(std::min<size_t>(n, UINT32_MAX)), T::kSlots);
    __u32 s = 0;
    while (s < 27 && (t.buckets() >> (s + 1)) >= want)
        ++s;
    return s;
}

// The entries of `from` (a view of any half, half `to` itself too) into the first
// buckets() >> s buckets of half `to`, the rest of which is cleared. Crowded at that size (far
// from the usual): the next size up. Returns the s used.
template <typename T>
__u32 placeHalf(const HostTable<T>& t, hosttab::ConstHalf<T> from, __u32 to, __u32 s)
{
    const auto whole = t.half(to);
    for (;; --s) {
        std::vector<typename T::Bucket> fit(t.buckets() >> s);
        try {
            hosttab::rehash<T>(from, fit);
        } catch (const std::runtime_error&) {
            if (s == 0)
                throw;
            continue;
        }
        std::fill(whole.begin(), whole.end(), typename T::Bucket{});
        std::copy(fit.begin(), fit.end(), whole.begin());
        return s;
    }
}

// Half `to` of t as a copy of half `from` (its first buckets() >> from_s buckets), in
// buckets() >> to_s buckets: a plain copy at the same size, else the entries placed anew.
template <typename T>
__u32 copyHalf(const HostTable<T>& t, __u32 from, __u32 fromShrink, __u32 to, __u32 toShrink)
{
    const auto src = t.half(from, fromShrink);
    if (fromShrink == toShrink) {
        std::copy(src.begin(), src.end(), t.half(to).begin());
        return toShrink;
    }
    return placeHalf<T>(t, src, to, toShrink);
}

} // namespace

__u32 PolicyStore::shrinkFor4(size_t n) const
{
    return (hostShrink() & PW_HOST_SHRINK_ON) ? shrinkFor(maps_.hosts4, n) : 0;
}

__u32 PolicyStore::shrinkFor6(size_t n) const
{
    return (hostShrink() & PW_HOST_SHRINK_ON) ? shrinkFor(maps_.hosts6, n) : 0;
}

void PolicyStore::fitHosts(__u32 half)
{
    const __u32 have4 = pw_host_shrink(hostShrink(), 0, half), have6 = pw_host_shrink(hostShrink(), 1, half);
    __u32 s4 = shrinkFor4(hosttab::count<Host4>(hosts4Half(half)));
    __u32 s6 = shrinkFor6(hosttab::count<Host6>(hosts6Half(half)));
    if (s4 == have4 && s6 == have6)
        return;
    if (s4 != have4)
        s4 = placeHalf<Host4>(maps_.hosts4, hosts4Half(half), half, s4);
    if (s6 != have6)
        s6 = placeHalf<Host6>(maps_.hosts6, hosts6Half(half), half, s6);
    setHostShrink(half, s4, s6);
}

std::optional<HostEntry> PolicyStore::findHost(__u32 half, const Addr& a) const
{
    return a.isV4() ? hosttab::find<Host4>(hosts4Half(half), a) : hosttab::find<Host6>(hosts6Half(half), a);
}

bool PolicyStore::putHost(__u32 half, const Addr& a, const HostEntry& e)
{
    for (;;) {
        try {
            return a.isV4() ? hosttab::put<Host4>(hosts4Half(half), a, e) : hosttab::put<Host6>(hosts6Half(half), a, e);
        } catch (const std::runtime_error&) {
            // Crowded at a fitted size (PW_HOST_PROBES full buckets in a row: rare, but a given
            // list meets it every time): the half one size up, then again. Whole, it is the
            // limit's own answer.
            const __u32 s4 = pw_host_shrink(hostShrink(), 0, half), s6 = pw_host_shrink(hostShrink(), 1, half);
            if (a.isV4() ? s4 == 0 : s6 == 0)
                throw;
            if (a.isV4())
                setHostShrink(half, placeHalf<Host4>(maps_.hosts4, hosts4Half(half), half, s4 - 1), s6);
            else
                setHostShrink(half, s4, placeHalf<Host6>(maps_.hosts6, hosts6Half(half), half, s6 - 1));
        }
    }
}

bool PolicyStore::eraseHost(__u32 half, const Addr& a)
{
    return a.isV4() ? hosttab::erase<Host4>(hosts4Half(half), a) : hosttab::erase<Host6>(hosts6Half(half), a);
}

void PolicyStore::buildHostSummary(__u32 half)
{
    auto* words = static_cast<__u64*>(maps_.hostbits4.half(half));
    const auto buckets = hosts4Half(half);
    const __u32 mask = static_cast<__u32>(buckets.size()) - 1;
    std::fill(words, words + maps_.hostbits4.blocksPerHalf(), 0);
    for (const auto& b : buckets)
        for (unsigned s = 0; s < PW_HOST4_SLOTS; ++s)
            if (b.flags & (1U << s)) {
                const __u64 h = pw_host4_hash(b.addr[s]);
                words[pw_hostbit4_word(h, mask)] |= pw_hostbit4_bit(h);
            }
}

void PolicyStore::flip(__u32 active, __u32 hosts)
{
    const pw_gen_state g = genState();
    maps_.gen.update(0, pw_gen_state{pw_gen_active(active, hosts), hosts & 1, maps_.hosts4.mask(), maps_.hosts6.mask(),
                                     maps_.nets4.blocksPerHalf(), g.ban_half & 1, maps_.bans.bitMask(),
                                     maps_.rate.mask(), g.known_half & 1, maps_.known.bitMask(), g.src4_built,
                                     g.host_shrink});
    waitForProgramRuns();
}

size_t PolicyStore::refreshBanFilter()
{
    return refreshBans({genState().hosts & 1});
}

size_t PolicyStore::refreshBans(std::initializer_list<__u32> zoneHalves)
{
    const pw_gen_state g = genState();
    const __u32 next = (g.ban_half & 1) ^ 1;
    // The summary's zones first, then the bans (rebuildHalf marks them after this clear: a ban
    // the data plane sets meanwhile marks both halves itself).
    maps_.src4.clearHalf(next);
    for (const __u32 h : zoneHalves) {
        maps_.src4.markHosts(next, hosts4Half(h));
        maps_.src4.markNets(next, maps_.nets4.half(h));
    }
    const size_t overflow = maps_.bans.rebuildHalf(next);
    pw_gen_state n = g;
    n.ban_half = next;
    n.banbit_mask = maps_.bans.bitMask();
    n.src4_built = maps_.src4.mapped() && n.banbit_mask; // without a ban filter, bans are not marked
    maps_.gen.update(0, n);
    waitForProgramRuns();
    return overflow;
}

void PolicyStore::refreshKnownFilter()
{
    const pw_gen_state g = genState();
    const __u32 next = (g.known_half & 1) ^ 1;
    maps_.known.rebuildHalf(next);
    pw_gen_state n = g;
    n.known_half = next;
    n.knownbit_mask = maps_.known.bitMask();
    maps_.gen.update(0, n);
    waitForProgramRuns();
}

void PolicyStore::editTables(const std::function<void(__u32 half)>& edit, size_t add4, size_t add6)
{
    const pw_gen_state g = genState();
    const __u32 from = g.hosts & 1, to = from ^ 1;
    // The copy gets the size its entries may reach (those there and those added), edited in
    // place, then fitted to what is left.
    const auto [n4, n6] = hostCounts();
    const __u32 shrink = hostShrink();
    const __u32 s4 = copyHalf<Host4>(maps_.hosts4, from, pw_host_shrink(shrink, 0, from), to, shrinkFor4(n4 + add4));
    const __u32 s6 = copyHalf<Host6>(maps_.hosts6, from, pw_host_shrink(shrink, 1, from), to, shrinkFor6(n6 + add6));
    setHostShrink(to, s4, s6);
    auto n4from = maps_.nets4.half(from), n4to = maps_.nets4.half(to);
    std::copy(n4from.begin(), n4from.end(), n4to.begin());
    edit(to); // may throw: the data plane still reads `from`
    fitHosts(to);
    buildHostSummary(to);
    refreshBans({from, to});
    flip(g.active, to);
}

net4::Prefix PolicyStore::prefix4(const Cidr& c, __u8 zone)
{
    __u32 raw;
    std::memcpy(&raw, c.addr.bytes.data() + 12, 4);
    return {ntohl(raw), c.familyLen(), zone};
}

std::map<Cidr, __u8> PolicyStore::activeNets4() const
{
    const __u32 gen = maps_.activeGen();
    std::map<Cidr, __u8> out;
    for (const auto& [k, e] : maps_.nets.entries()) {
        const Cidr c{addrOf(k.addr), static_cast<uint8_t>(k.prefixlen - PW_NET_GEN_BITS)};
        if (k.gen == gen && c.isV4())
            out[c] = e.zone;
    }
    return out;
}

void PolicyStore::buildNets4(__u32 half, const std::map<Cidr, __u8>& prefixes)
{
    std::vector<net4::Prefix> p;
    p.reserve(prefixes.size());
    for (const auto& [c, zone] : prefixes)
        p.push_back(prefix4(c, zone));
    net4::build(maps_.nets4.half(half), std::move(p));
}

std::pair<size_t, size_t> PolicyStore::hostCounts() const
{
    const __u32 half = genState().hosts;
    return {hosttab::count<Host4>(hosts4Half(half)), hosttab::count<Host6>(hosts6Half(half))};
}

void PolicyStore::clearGeneration(__u32 gen)
{
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
    const pw_gen_state g = genState();
    const __u32 cur = g.active & 1;
    const __u32 next = cur ^ 1;
    const __u32 nextHosts = (g.hosts & 1) ^ 1;

    size_t hosts4 = 0, hosts6 = 0, nets = 0;
    for (const auto& [cidr, e] : img.addrs)
        (cidr.isHost() ? (cidr.isV4() ? hosts4 : hosts6) : nets)++;
    const size_t hosts = hosts4 + hosts6;
    if (hosts4 > maps_.hosts4.capacity())
        throw std::runtime_error("policy names " + std::to_string(hosts4) + " IPv4 host entries, [limits] hosts allows " +
                                 std::to_string(maps_.hosts4.capacity()));
    if (hosts6 > maps_.hosts6.capacity())
        throw std::runtime_error("policy names " + std::to_string(hosts6) + " IPv6 host entries, [limits] hosts6 allows " +
                                 std::to_string(maps_.hosts6.capacity()));
    if (nets > maps_.netsCapacity())
        throw std::runtime_error("policy names " + std::to_string(nets) + " prefix entries, [limits] nets allows " +
                                 std::to_string(maps_.netsCapacity()));
    for (const auto& i : img.ifaces)
        if (i.ifindex == 0 || i.ifindex >= PW_IFINDEX_LIMIT)
            throw std::runtime_error("interface index " + std::to_string(i.ifindex) + " is out of range");

    // Build the next generation completely; the data plane does not look at it yet.
    // The host halves get the size their entries need (pw_host_shrink).
    setHostShrink(nextHosts, shrinkFor4(hosts4), shrinkFor6(hosts6));
    auto h4 = maps_.hosts4.half(nextHosts);
    auto h6 = maps_.hosts6.half(nextHosts);
    std::fill(h4.begin(), h4.end(), pw_host4_bucket{});
    std::fill(h6.begin(), h6.end(), pw_host6_bucket{});
    std::map<Cidr, __u8> nets4;
    for (const auto& [cidr, e] : img.addrs) {
        if (cidr.isHost())
            putHost(nextHosts, cidr.addr, hostEntry(e));
        else if (cidr.isV4())
            nets4[cidr] = e.zone;
    }
    fitHosts(nextHosts);
    buildNets4(nextHosts, nets4);
    buildHostSummary(nextHosts);
    refreshBans({g.hosts & 1, nextHosts});
    clearGeneration(next);
    for (const auto& [cidr, e] : img.addrs)
        if (!cidr.isHost())
            maps_.nets.update(netKey(next, cidr), e);

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

    // The switch: one array write that every later packet sees whole. The old host half is
    // left as it is: it is cleared when it is next built.
    flip(next, nextHosts);

    clearGeneration(cur);
}

std::vector<ZoneRecord> PolicyStore::zones() const
{
    const __u32 gen = maps_.activeGen();
    std::vector<ZoneRecord> out;
    const __u32 half = genState().hosts;
    auto add = [&](const Addr& a, const HostEntry& h) { out.push_back({Cidr{a, kAddrBits}, zoneEntry(h)}); };
    hosttab::forEach<Host4>(hosts4Half(half), add);
    hosttab::forEach<Host6>(hosts6Half(half), add);
    for (const auto& [k, e] : maps_.nets.entries())
        if (k.gen == gen)
            out.push_back({Cidr{addrOf(k.addr), static_cast<uint8_t>(k.prefixlen - PW_NET_GEN_BITS)}, e});
    return out;
}

std::optional<pw_zone_entry> PolicyStore::zone(const Cidr& cidr) const
{
    const __u32 gen = maps_.activeGen();
    if (cidr.isHost()) {
        auto h = findHost(genState().hosts, cidr.addr);
        return h ? std::optional(zoneEntry(*h)) : std::nullopt;
    }
    const pw_net_key key = netKey(gen, cidr);
    if (!netStored(maps_.nets.fd(), key))
        return std::nullopt;
    return maps_.nets.lookup(key);
}

size_t PolicyStore::hostCount() const { return settings().host_count; }

size_t PolicyStore::netCount() const { return settings().net_count; }

std::optional<std::pair<Cidr, pw_zone_entry>> PolicyStore::rule(const Addr& a) const
{
    if (auto h = findHost(genState().hosts, a))
        return std::pair{Cidr{a, kAddrBits}, zoneEntry(*h)};
    // The trie's own longest match would let ::/0 answer for an IPv4 address, which the data
    // plane (pw_nets4 for IPv4) never does: the family is checked here.
    const __u32 gen = maps_.activeGen();
    std::optional<std::pair<Cidr, pw_zone_entry>> best;
    for (const auto& [k, e] : maps_.nets.entries()) {
        if (k.gen != gen)
            continue;
        const Cidr c{addrOf(k.addr), static_cast<uint8_t>(k.prefixlen - PW_NET_GEN_BITS)};
        if (c.isV4() == a.isV4() && c.contains(a) && (!best || c.len > best->first.len))
            best = std::pair{c, e};
    }
    return best;
}

std::optional<pw_zone_entry> PolicyStore::match(const Addr& a) const
{
    if (auto r = rule(a))
        return r->second;
    return std::nullopt;
}

void PolicyStore::setZones(const std::vector<ZoneRecord>& records)
{
    const __u32 gen = maps_.activeGen();
    pw_policy s = settings();
    const __u32 live = genState().hosts;
    std::vector<Addr> added; // sorted and deduplicated below: a million std::set nodes cost seconds
    size_t newNets = 0;
    for (const auto& r : records) {
        if (r.cidr.isHost()) {
            if (!findHost(live, r.cidr.addr))
                added.push_back(r.cidr.addr);
        } else {
            newNets += !netStored(maps_.nets.fd(), netKey(gen, r.cidr));
        }
    }
    std::sort(added.begin(), added.end());
    added.erase(std::unique(added.begin(), added.end()), added.end());
    const size_t newHosts = added.size();
    const size_t new4 = static_cast<size_t>(std::count_if(added.begin(), added.end(), [](const Addr& a) { return a.isV4(); }));
    if (newHosts) {
        const auto [have4, have6] = hostCounts();
        if (have4 + new4 > maps_.hosts4.capacity())
            throw std::runtime_error("the IPv4 host table would hold " + std::to_string(have4 + new4) +
                                     " entries, [limits] hosts allows " + std::to_string(maps_.hosts4.capacity()));
        if (have6 + newHosts - new4 > maps_.hosts6.capacity())
            throw std::runtime_error("the IPv6 host table would hold " + std::to_string(have6 + newHosts - new4) +
                                     " entries, [limits] hosts6 allows " + std::to_string(maps_.hosts6.capacity()));
    }
    if (s.net_count + newNets > maps_.netsCapacity())
        throw std::runtime_error("the prefix table would hold " + std::to_string(s.net_count + newNets) +
                                 " entries, [limits] nets allows " + std::to_string(maps_.netsCapacity()));
    // The IPv4 prefixes after the change, for the prefix table.
    std::optional<std::map<Cidr, __u8>> nets4;
    for (const auto& r : records)
        if (!r.cidr.isHost() && r.cidr.isV4()) {
            if (!nets4)
                nets4 = activeNets4();
            (*nets4)[r.cidr] = r.entry.zone;
        }
    editTables([&](__u32 half) {
        for (const auto& r : records)
            if (r.cidr.isHost())
                putHost(half, r.cidr.addr, hostEntry(r.entry));
        if (nets4)
            buildNets4(half, *nets4);
        // Last, once nothing can be refused: IPv6 sources see these now, IPv4 ones at the flip.
        for (const auto& r : records)
            if (!r.cidr.isHost())
                maps_.nets.update(netKey(gen, r.cidr), r.entry);
    }, new4, newHosts - new4);
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
        bool erased = false;
        if (findHost(genState().hosts, cidr.addr))
            editTables([&](__u32 half) { erased = eraseHost(half, cidr.addr); });
        if (erased && s.host_count)
            s.host_count--;
    } else if (cidr.isV4()) {
        auto nets4 = activeNets4();
        if (nets4.erase(cidr)) {
            editTables([&](__u32 half) {
                buildNets4(half, nets4);
                maps_.nets.erase(netKey(gen, cidr));
            });
            if (s.net_count)
                s.net_count--;
        }
    } else if (maps_.nets.erase(netKey(gen, cidr)) && s.net_count) {
        s.net_count--;
    }
    maps_.policy.update(gen, s);
}

void PolicyStore::eraseZones(const std::vector<Cidr>& cidrs)
{
    const __u32 gen = maps_.activeGen();
    pw_policy s = settings();
    const __u32 live = genState().hosts;
    std::vector<Addr> hosts;
    std::vector<pw_net_key> nets;
    std::optional<std::map<Cidr, __u8>> nets4; // the IPv4 prefixes left, when one goes
    for (const auto& c : cidrs) {
        if (c.isHost()) {
            if (findHost(live, c.addr))
                hosts.push_back(c.addr);
        } else if (netStored(maps_.nets.fd(), netKey(gen, c))) {
            nets.push_back(netKey(gen, c));
            if (c.isV4()) {
                if (!nets4)
                    nets4 = activeNets4();
                nets4->erase(c);
            }
        }
    }
    std::sort(nets.begin(), nets.end(), [](const pw_net_key& a, const pw_net_key& b) { return std::memcmp(&a, &b, sizeof(a)) < 0; });
    nets.erase(std::unique(nets.begin(), nets.end(), [](const pw_net_key& a, const pw_net_key& b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }),
               nets.end());
    size_t erased = 0;
    if (!hosts.empty() || nets4)
        editTables([&](__u32 half) {
            for (const auto& a : hosts)
                erased += eraseHost(half, a); // a duplicate is erased once
            if (nets4)
                buildNets4(half, *nets4);
            maps_.nets.eraseMany(nets); // last: IPv6 sources see it now, IPv4 ones at the flip
        });
    else
        maps_.nets.eraseMany(nets);
    s.host_count -= static_cast<__u32>(std::min<size_t>(erased, s.host_count));
    s.net_count -= static_cast<__u32>(std::min<size_t>(nets.size(), s.net_count));
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
