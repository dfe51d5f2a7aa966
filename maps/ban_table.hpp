// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pw_bans with its Bloom filter pw_banbits and its cache pw_bancache (pbxwall_abi.h): every ban
// written from userspace also sets its filter bit, in both halves, so that the data plane never
// skips a ban; the cache is rebuilt whole, in the half the data plane does not read.
#pragma once

#include "addr_filter.hpp"
#include "map.hpp"
#include "mapped_array.hpp"
#include "src4_map.hpp"
#include "pbxwall_abi.h"

#include <vector>

namespace pbxwall {

class BanTable : public TypedMap<pw_ban_key, pw_ban> {
public:
    BanTable() = default;
    // src4: pw_src4, whose /24 bits the bans set too (a copy shares the mapping).
    BanTable(int fd, int bitsFd, int cacheFd, Src4Map src4 = {});

    // As TypedMap's, plus the filter bits and the /24 bits (set after the ban is in the table).
    void update(const pw_ban_key& key, const pw_ban& value, __u64 flags = BPF_ANY);
    void updateMany(const std::vector<pw_ban_key>& keys, const std::vector<pw_ban>& values);

    int bitsFd() const { return bits_.fd(); }
    int cacheFd() const { return cache_.fd(); }
    __u32 bitMask() const { return bits_.mask(); }
    // Clears half `half` of the filter and of the cache (the half the data plane does not read),
    // then fills both from the bans in the table, and marks their /24s in half `half` of pw_src4
    // (which the caller has cleared and filled from the zones): the caller flips
    // pw_gen_state.ban_half to it.
    // A ban the data plane adds meanwhile sets its own bit after the clear (the cache may miss
    // it: pw_bans answers until the next rebuild). Returns the bans the cache could not hold
    // (their bucket was full).
    size_t rebuildHalf(__u32 half);
    // Bans half `half` of the cache holds that have not ended at nowNs (CLOCK_MONOTONIC).
    size_t cachedCount(__u32 half, __u64 nowNs) const;

private:
    AddrFilter bits_;
    MappedHalves cache_;
    Src4Map src4_;
};

} // namespace pbxwall
