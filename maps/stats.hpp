// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Reading the verdict counters: pw_stats summed over CPUs, one row per (slot, zone, reason).
#pragma once

#include "pbxwall_abi.h"

#include <cstdint>
#include <vector>

namespace pbxwall {

struct CounterRow {
    unsigned slot = 0;
    unsigned zone = 0;
    unsigned reason = 0;
    uint64_t packets = 0;
    uint64_t bytes = 0;
};

inline constexpr __u32 statsIndex(unsigned slot, unsigned zone, unsigned reason)
{
    return (slot * PW_ZONE__COUNT + zone) * PW_REASON_SLOTS + reason;
}

// Every counter that moved (packets > 0), in index order.
std::vector<CounterRow> readCounters(int statsFd);

// Zeroes every counter of a slot (on every CPU): for a slot given to another interface, whose
// counters must not start from the previous one's.
void clearSlotCounters(int statsFd, unsigned slot);

} // namespace pbxwall
