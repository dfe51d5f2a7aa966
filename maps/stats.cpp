// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Sums the per-CPU verdict counters.
#include "stats.hpp"

#include "map.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <string>

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

void clearSlotCounters(int statsFd, unsigned slot)
{
    const int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0)
        throwErrno(ncpu, "count possible CPUs");
    const std::vector<pw_counter> zeros(static_cast<size_t>(ncpu));
    for (unsigned zone = 0; zone < PW_ZONE__COUNT; ++zone)
        for (unsigned reason = 0; reason < PW_REASON_SLOTS; ++reason) {
            const __u32 index = statsIndex(slot, zone, reason);
            if (bpf_map_update_elem(statsFd, &index, zeros.data(), BPF_ANY) != 0)
                throwErrno(errno, "clear " + std::string(PW_MAP_NAME_STATS) + " slot " + std::to_string(slot));
        }
}

} // namespace pbxwall
