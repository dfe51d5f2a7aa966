// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The host tables pw_hosts4 and pw_hosts6 from userspace: the open-addressing hash tables of
// single addresses that the data plane reads (layout and probing rules in pbxwall_abi.h).
// Their array maps are BPF_F_MMAPABLE and mapped here, so a table of a million entries is
// built with memory writes, not syscalls. Only the half the data plane does not read is ever
// written (PolicyStore flips halves).
#pragma once

#include "addr.hpp"
#include "mapped_array.hpp"
#include "pbxwall_abi.h"

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace pbxwall {

// What a host slot says: the zone the data plane uses and where it comes from.
struct HostEntry {
    __u8 zone = 0;
    __u8 origin = 0;
    __u8 cfgZone = 0;
    __u8 ctlZone = 0;
    bool operator==(const HostEntry&) const = default;
};

// The two bucket layouts, and how an address becomes their key.
struct Host4 {
    using Bucket = pw_host4_bucket;
    static constexpr unsigned kSlots = PW_HOST4_SLOTS;
    static constexpr const char* kMapName = PW_MAP_NAME_HOSTS4;
};
struct Host6 {
    using Bucket = pw_host6_bucket;
    static constexpr unsigned kSlots = PW_HOST6_SLOTS;
    static constexpr const char* kMapName = PW_MAP_NAME_HOSTS6;
};

// Operations on one half of a table (a power of two of buckets). They are the data plane's
// lookup rules written in C++, and need no kernel (unit-tested alone). Addresses of the other
// family are refused with std::invalid_argument.
namespace hosttab {

template <typename T>
using Half = std::span<typename T::Bucket>;
template <typename T>
using ConstHalf = std::span<const typename T::Bucket>;

template <typename T>
std::optional<HostEntry> find(ConstHalf<T> t, const Addr& a);
// Adds a, or replaces its entry; true when a was added. Throws std::runtime_error, leaving t
// unchanged, when PW_HOST_PROBES buckets from a's own are all full (far beyond the capacity).
template <typename T>
bool put(Half<T> t, const Addr& a, const HostEntry& e);
// Removes a; false when it was not there. The PW_HOST_PASSED marks stay until the half is
// rebuilt (they only make some lookups read one bucket more).
template <typename T>
bool erase(Half<T> t, const Addr& a);
template <typename T>
void forEach(ConstHalf<T> t, const std::function<void(const Addr&, const HostEntry&)>& fn);
template <typename T>
size_t count(ConstHalf<T> t);
// Empties to, then puts every entry of from into it (to may be of another size). Throws
// std::runtime_error as put does, when to is too small for them.
template <typename T>
void rehash(ConstHalf<T> from, Half<T> to);

} // namespace hosttab

// One host table mapped into this process. Copyable: copies share the mapping.
template <typename T>
class HostTable {
public:
    HostTable() = default;
    // Maps the table behind fd (an array of T::Bucket created with BPF_F_MMAPABLE).
    explicit HostTable(int fd);

    int fd() const { return map_.fd(); }
    __u32 buckets() const { return map_.blocksPerHalf(); } // per half
    __u32 mask() const { return buckets() ? buckets() - 1 : 0; }
    // Entries per half: 80% (IPv4) or 2/3 (IPv6) of the slots.
    __u32 capacity() const;
    hosttab::Half<T> half(__u32 h) const;
    // The first buckets() >> shrink buckets of half h: what a half halved shrink times uses
    // (pw_host_shrink).
    hosttab::Half<T> half(__u32 h, __u32 shrink) const;

private:
    MappedHalves map_;
};

using Host4Table = HostTable<Host4>;
using Host6Table = HostTable<Host6>;

} // namespace pbxwall
