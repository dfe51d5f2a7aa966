// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The host tables' probing rules (the same as pw_host4_zone()/pw_host6_zone() in
// bpf/pbxwall.bpf.c) and their mapping into this process.
#include "host_table.hpp"

#include "map.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace pbxwall {
namespace {

// The key of an address in each layout, its hash, and the slot compare.
struct Key4 {
    __u32 addr;
};
struct Key6 {
    __u64 hi, lo;
};

Key4 keyOf(Host4, const Addr& a)
{
    if (!a.isV4())
        throw std::invalid_argument(a.str() + " is not an IPv4 address");
    Key4 k;
    std::memcpy(&k.addr, a.bytes.data() + 12, 4);
    return k;
}

Key6 keyOf(Host6, const Addr& a)
{
    if (a.isV4())
        throw std::invalid_argument(a.str() + " is not an IPv6 address");
    Key6 k;
    std::memcpy(&k.hi, a.bytes.data(), 8);
    std::memcpy(&k.lo, a.bytes.data() + 8, 8);
    return k;
}

__u64 hashOf(const Key4& k) { return pw_host4_hash(k.addr); }
__u64 hashOf(const Key6& k) { return pw_host_hash(k.hi, k.lo); }

bool sameKey(const pw_host4_bucket& b, unsigned s, const Key4& k) { return b.addr[s] == k.addr; }
bool sameKey(const pw_host6_bucket& b, unsigned s, const Key6& k) { return b.addr[s][0] == k.hi && b.addr[s][1] == k.lo; }

void setKey(pw_host4_bucket& b, unsigned s, const Key4& k) { b.addr[s] = k.addr; }
void setKey(pw_host6_bucket& b, unsigned s, const Key6& k)
{
    b.addr[s][0] = k.hi;
    b.addr[s][1] = k.lo;
}

void clearKey(pw_host4_bucket& b, unsigned s) { b.addr[s] = 0; }
void clearKey(pw_host6_bucket& b, unsigned s) { b.addr[s][0] = b.addr[s][1] = 0; }

Addr addrAt(const pw_host4_bucket& b, unsigned s)
{
    Addr a;
    a.bytes[10] = a.bytes[11] = 0xff;
    std::memcpy(a.bytes.data() + 12, &b.addr[s], 4);
    return a;
}

Addr addrAt(const pw_host6_bucket& b, unsigned s)
{
    Addr a;
    std::memcpy(a.bytes.data(), &b.addr[s][0], 8);
    std::memcpy(a.bytes.data() + 8, &b.addr[s][1], 8);
    return a;
}

template <typename B>
bool used(const B& b, unsigned s)
{
    return b.flags & (1U << s);
}

template <typename B>
HostEntry entryAt(const B& b, unsigned s)
{
    const __u8 m = b.meta[s];
    return {b.zone[s], static_cast<__u8>(m & 3), static_cast<__u8>((m >> 2) & 7), static_cast<__u8>(m >> 5)};
}

template <typename B>
void setEntry(B& b, unsigned s, const HostEntry& e)
{
    b.zone[s] = e.zone;
    b.meta[s] = PW_HOST_META(e.origin, e.cfgZone, e.ctlZone);
}

// The i-th bucket probed from hash h, as the data plane computes it (32-bit arithmetic).
size_t probe(__u64 h, __u32 i, size_t mask) { return static_cast<__u32>(h + i) & mask; }

// Bucket and slot of a key, if the half holds it.
template <typename T, typename K>
std::optional<std::pair<size_t, unsigned>> locate(hosttab::ConstHalf<T> t, const K& k)
{
    if (t.empty())
        return std::nullopt;
    const __u64 h = hashOf(k);
    for (__u32 i = 0; i < PW_HOST_PROBES; ++i) {
        const size_t bi = probe(h, i, t.size() - 1);
        const auto& b = t[bi];
        for (unsigned s = 0; s < T::kSlots; ++s)
            if (used(b, s) && sameKey(b, s, k))
                return std::make_pair(bi, s);
        if (!(b.flags & PW_HOST_PASSED))
            return std::nullopt;
    }
    return std::nullopt;
}

} // namespace

namespace hosttab {

template <typename T>
std::optional<HostEntry> find(ConstHalf<T> t, const Addr& a)
{
    if (auto at = locate<T>(t, keyOf(T{}, a)))
        return entryAt(t[at->first], at->second);
    return std::nullopt;
}

template <typename T>
bool put(Half<T> t, const Addr& a, const HostEntry& e)
{
    const auto k = keyOf(T{}, a);
    if (auto at = locate<T>(ConstHalf<T>(t), k)) {
        setEntry(t[at->first], at->second, e);
        return false;
    }
    if (t.empty())
        throw std::runtime_error(std::string(T::kMapName) + " has no buckets");
    const __u64 h = hashOf(k);
    const size_t mask = t.size() - 1;
    for (__u32 i = 0; i < PW_HOST_PROBES; ++i) {
        auto& b = t[probe(h, i, mask)];
        for (unsigned s = 0; s < T::kSlots; ++s) {
            if (used(b, s))
                continue;
            for (__u32 j = 0; j < i; ++j) // the full buckets passed on the way
                t[probe(h, j, mask)].flags |= PW_HOST_PASSED;
            setKey(b, s, k);
            setEntry(b, s, e);
            b.flags |= 1U << s;
            return true;
        }
    }
    throw std::runtime_error(std::string(T::kMapName) + " is too crowded around " + a.str() + " (" +
                             std::to_string(PW_HOST_PROBES) + " full buckets in a row): raise [limits] hosts");
}

template <typename T>
bool erase(Half<T> t, const Addr& a)
{
    auto at = locate<T>(ConstHalf<T>(t), keyOf(T{}, a));
    if (!at)
        return false;
    auto& b = t[at->first];
    b.flags &= ~(1U << at->second);
    clearKey(b, at->second);
    setEntry(b, at->second, HostEntry{});
    return true;
}

template <typename T>
void forEach(ConstHalf<T> t, const std::function<void(const Addr&, const HostEntry&)>& fn)
{
    for (const auto& b : t)
        for (unsigned s = 0; s < T::kSlots; ++s)
            if (used(b, s))
                fn(addrAt(b, s), entryAt(b, s));
}

template <typename T>
size_t count(ConstHalf<T> t)
{
    size_t n = 0;
    for (const auto& b : t)
        n += static_cast<size_t>(__builtin_popcount(b.flags & ((1U << T::kSlots) - 1)));
    return n;
}

template <typename T>
void rehash(ConstHalf<T> from, Half<T> to)
{
    std::fill(to.begin(), to.end(), typename T::Bucket{});
    forEach<T>(from, [&](const Addr& a, const HostEntry& e) { put<T>(to, a, e); });
}

#define PW_HOSTTAB_INSTANTIATE(T)                                                               \
    template std::optional<HostEntry> find<T>(ConstHalf<T>, const Addr&);                       \
    template bool put<T>(Half<T>, const Addr&, const HostEntry&);                               \
    template bool erase<T>(Half<T>, const Addr&);                                               \
    template void forEach<T>(ConstHalf<T>, const std::function<void(const Addr&, const HostEntry&)>&); \
    template size_t count<T>(ConstHalf<T>);                                                     \
    template void rehash<T>(ConstHalf<T>, Half<T>);
PW_HOSTTAB_INSTANTIATE(Host4)
PW_HOSTTAB_INSTANTIATE(Host6)
#undef PW_HOSTTAB_INSTANTIATE

} // namespace hosttab

template <typename T>
HostTable<T>::HostTable(int fd) : map_(fd, sizeof(typename T::Bucket), T::kMapName)
{
    const __u32 b = map_.blocksPerHalf();
    if (b & (b - 1))
        throw std::runtime_error(std::string(T::kMapName) + " has " + std::to_string(b) +
                                 " buckets per half, not a power of two: run pbxwalld --detach, then start it again");
}

template <typename T>
__u32 HostTable<T>::capacity() const
{
    const __u64 slots = static_cast<__u64>(buckets()) * T::kSlots;
    return static_cast<__u32>(T::kSlots == PW_HOST4_SLOTS ? slots * 4 / 5 : slots * 2 / 3);
}

template <typename T>
hosttab::Half<T> HostTable<T>::half(__u32 h) const
{
    auto* base = static_cast<typename T::Bucket*>(map_.half(h));
    if (!base)
        return {};
    return {base, buckets()};
}

template <typename T>
hosttab::Half<T> HostTable<T>::half(__u32 h, __u32 shrink) const
{
    auto whole = half(h);
    return whole.first(shrink < 32 ? whole.size() >> shrink : 0);
}

template class HostTable<Host4>;
template class HostTable<Host6>;

} // namespace pbxwall
