// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// A one-hash Bloom filter of addresses in two halves of an mmapable array of 64-bit words
// (pw_banbits, pw_knownbits: pbxwall_abi.h): bit pw_host_hash(address) & mask() of a half. The
// data plane reads one half; writers set an address's bit in both, after its entry is in the
// table the filter stands for; rebuilds clear the other half, refill it and flip.
#pragma once

#include "mapped_array.hpp"
#include "pbxwall_abi.h"

namespace pbxwall {

class AddrFilter {
public:
    AddrFilter() = default;
    // fd < 0: no filter (mask() 0, every call does nothing).
    AddrFilter(int fd, const char* name);

    static __u64 hashOf(const pw_ban_key& key);

    int fd() const { return words_.fd(); }
    // Bits per half - 1 (pw_gen_state's banbit_mask, knownbit_mask); 0 without a filter.
    __u32 mask() const { return words_.blocksPerHalf() ? words_.blocksPerHalf() * 64 - 1 : 0; }
    __u32 wordsPerHalf() const { return words_.blocksPerHalf(); }
    // Atomic: the data plane sets bits of the same words concurrently.
    void set(const pw_ban_key& key, __u32 half);
    void setBoth(const pw_ban_key& key)
    {
        set(key, 0);
        set(key, 1);
    }
    // Returns false without a filter.
    bool clearHalf(__u32 half);

private:
    MappedHalves words_;
};

} // namespace pbxwall
