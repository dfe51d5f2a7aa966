// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Sums the per-CPU verdict counters.
#include "stats.hpp"

#include "map.hpp"

namespace pbxwall {

std::vector<CounterRow> readCounters(int statsFd)
{
    std::vector<CounterRow> rows;
    for (unsigned slot = 0; slot < PW_IFACE_SLOTS; ++slot)
        for (unsigned zone = 0; zone < PW_ZONE__COUNT; ++zone)
            for (unsigned reason = 0; reason < PW_REASON_SLOTS; ++reason) {
                CounterRow r{slot, zone, reason, 0, 0};
                for (const auto& c : lookupPercpu<pw_counter>(statsFd, statsIndex(slot, zone, reason), PW_MAP_NAME_STATS)) {
                    r.packets += c.packets;
                    r.bytes += c.bytes;
                }
                if (r.packets)
                    rows.push_back(r);
            }
    return rows;
}

} // namespace pbxwall
