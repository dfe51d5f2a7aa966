// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pw_src4 from userspace (layout in pbxwall_abi.h): one bit per IPv4 /24 that holds a zone entry
// or a ban, in two halves flipped with the ban filter. Bits are set atomically: the data plane
// sets the bits of the bans it writes in both halves, concurrently with a rebuild.
#pragma once

#include "addr.hpp"
#include "mapped_array.hpp"
#include "net4_table.hpp"
#include "pbxwall_abi.h"

#include <span>

namespace pbxwall {

class Src4Map {
public:
    Src4Map() = default;
    // fd < 0: no summary (every call does nothing, holds() is true).
    explicit Src4Map(int fd);

    int fd() const { return words_.fd(); }
    bool mapped() const { return words_.half(0) != nullptr; }

    // addr: an IPv4 address in host order.
    void mark(__u32 half, __u32 addr);
    // `count` /24s from the one of addr on (addr's low 8 bits ignored).
    void markRange(__u32 half, __u32 addr, __u32 count);
    // Marks an IPv4-mapped address's /24; IPv6 addresses have no summary.
    void markKey(__u32 half, const pw_ban_key& key);
    void markKeyBoth(const pw_ban_key& key)
    {
        markKey(0, key);
        markKey(1, key);
    }
    void clearHalf(__u32 half);
    // Every /24 that holds an entry of a half of pw_hosts4 or of pw_nets4.
    void markHosts(__u32 half, std::span<const pw_host4_bucket> hosts);
    void markNets(__u32 half, net4::ConstHalf nets);
    // Is addr's /24 marked (or is there no summary)?
    bool holds(__u32 half, __u32 addr) const;

private:
    __u64* words(__u32 half) const { return static_cast<__u64*>(words_.half(half)); }

    MappedHalves words_;
};

} // namespace pbxwall
