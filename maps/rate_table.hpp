// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pw_rate, the per-source SIP budgets: a four-way set-associative cache of 64-byte slots in an
// mmapable array map that the data plane reads and writes inline (pbxwall_abi.h). Userspace
// only reads it (listing, tests) and sizes it; it never reads the tags.
// Layout: the slots, their 16-bit tags, their 32-bit limit lanes.
#pragma once

#include "mapped_array.hpp"
#include "pbxwall_abi.h"

#include <optional>
#include <string>
#include <vector>

namespace pbxwall {

class RateTable {
public:
    RateTable() = default;
    RateTable(int fd, const std::string& name);

    int fd() const { return slots_.fd(); }
    // Slots (entries less the tag and limit regions: pw_rate_entries()).
    __u32 slots() const
    {
        return static_cast<__u32>(2ULL * slots_.blocksPerHalf() * PW_RATE_TAGS_PER_BLOCK /
                                  (PW_RATE_TAGS_PER_BLOCK + 1 + PW_RATE_TAGS_PER_BLOCK / PW_RATE_LANES_PER_BLOCK));
    }
    __u32 mask() const { return slots() ? slots() - 1 : 0; } // pw_gen_state.rate_mask

    // The keys of the budgets held, and one budget by key.
    std::vector<pw_ban_key> keys() const;
    std::optional<pw_rate> lookup(const pw_ban_key& key) const;
    // The limit lane of a slot (tests: it must follow the slot's tat_ns).
    __u32 lane(__u32 slot) const;
    // The slot that holds key, if any.
    std::optional<__u32> slotOf(const pw_ban_key& key) const;

private:
    const pw_rate* table() const { return static_cast<const pw_rate*>(slots_.half(0)); }
    MappedHalves slots_; // the two halves are simply the two ends of one table here
};

} // namespace pbxwall
