// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "known_table.hpp"

namespace pbxwall {

KnownTable::KnownTable(int fd, int bitsFd) : TypedMap(fd, PW_MAP_NAME_KNOWN), bits_(bitsFd, PW_MAP_NAME_KNOWNBITS) {}

void KnownTable::update(const pw_ban_key& key, const pw_known& value, __u64 flags)
{
    TypedMap::update(key, value, flags);
    bits_.setBoth(key);
}

void KnownTable::updateMany(const std::vector<pw_ban_key>& keys, const std::vector<pw_known>& values)
{
    TypedMap::updateMany(keys, values);
    for (const auto& k : keys)
        bits_.setBoth(k);
}

void KnownTable::rebuildHalf(__u32 half)
{
    if (!bits_.clearHalf(half))
        return;
    for (const auto& [k, v] : entries()) // a syscall per entry: ordered after the clear
        bits_.set(k, half);
}

} // namespace pbxwall
