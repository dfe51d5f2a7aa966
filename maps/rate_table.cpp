// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "rate_table.hpp"

#include <cstring>
#include <stdexcept>

namespace pbxwall {

RateTable::RateTable(int fd, const std::string& name) : slots_(fd, sizeof(pw_rate), name)
{
    const __u32 n = slots();
    if (n < 2 || (n & (n - 1)) || pw_rate_entries(n) != 2 * slots_.blocksPerHalf())
        throw std::runtime_error(name + ": " + std::to_string(2 * slots_.blocksPerHalf()) +
                                 " entries, not a power of two of slots and their tags");
}

std::vector<pw_ban_key> RateTable::keys() const
{
    std::vector<pw_ban_key> out;
    const pw_rate* t = table();
    for (__u32 i = 0; t && i < slots(); ++i) {
        const volatile pw_rate& r = t[i]; // the data plane writes it meanwhile
        if (!r.used)
            continue;
        pw_ban_key k{};
        for (size_t b = 0; b < sizeof(k.addr); ++b)
            k.addr[b] = r.addr[b];
        out.push_back(k);
    }
    return out;
}

std::optional<__u32> RateTable::slotOf(const pw_ban_key& key) const
{
    const pw_rate* t = table();
    if (!t)
        return std::nullopt;
    __u64 hi, lo;
    std::memcpy(&hi, key.addr, 8);
    std::memcpy(&lo, key.addr + 8, 8);
    const __u64 h = pw_host_hash(hi, lo);
    for (__u32 which = 0; which < 2; ++which) {
        const __u32 base = pw_rate_bucket(h, mask(), which);
        for (__u32 i = base; i < base + PW_RATE_WAYS; ++i) {
            pw_rate r;
            std::memcpy(&r, &t[i], sizeof(r));
            if (r.used && std::memcmp(r.addr, key.addr, sizeof(key.addr)) == 0)
                return i;
        }
    }
    return std::nullopt;
}

std::optional<pw_rate> RateTable::lookup(const pw_ban_key& key) const
{
    const auto i = slotOf(key);
    if (!i)
        return std::nullopt;
    pw_rate r;
    std::memcpy(&r, &table()[*i], sizeof(r));
    return r;
}

__u32 RateTable::lane(__u32 slot) const
{
    const pw_rate* t = table();
    if (!t || slot >= slots())
        return 0;
    const auto* line = reinterpret_cast<const __u32*>(t + pw_rate_lane_entry(slots(), slot));
    return __atomic_load_n(&line[slot % PW_RATE_LANES_PER_BLOCK], __ATOMIC_RELAXED);
}

} // namespace pbxwall
