// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "known_table.hpp"

#include <cstring>

namespace pbxwall {

KnownTable::KnownTable(int fd, int bitsFd) : TypedMap(fd, PW_MAP_NAME_KNOWN)
{
    if (bitsFd >= 0)
        bits_ = MappedHalves(bitsFd, sizeof(__u64), PW_MAP_NAME_KNOWNBITS);
}

void KnownTable::setBit(const pw_ban_key& key, __u32 half)
{
    auto* words = static_cast<__u64*>(bits_.half(half));
    if (!words)
        return;
    __u64 hi, lo;
    std::memcpy(&hi, key.addr, 8);
    std::memcpy(&lo, key.addr + 8, 8);
    const __u64 h = pw_host_hash(hi, lo) & bitMask();
    // Atomic: the data plane sets bits of the same word concurrently.
    __atomic_fetch_or(&words[h >> 6], 1ULL << (h & 63), __ATOMIC_SEQ_CST);
}

void KnownTable::update(const pw_ban_key& key, const pw_known& value, __u64 flags)
{
    TypedMap::update(key, value, flags);
    setBit(key, 0);
    setBit(key, 1);
}

void KnownTable::updateMany(const std::vector<pw_ban_key>& keys, const std::vector<pw_known>& values)
{
    TypedMap::updateMany(keys, values);
    for (const auto& k : keys) {
        setBit(k, 0);
        setBit(k, 1);
    }
}

void KnownTable::rebuildHalf(__u32 half)
{
    auto* words = static_cast<__u64*>(bits_.half(half));
    if (!words)
        return;
    for (__u32 i = 0; i < bits_.blocksPerHalf(); ++i)
        __atomic_store_n(&words[i], 0, __ATOMIC_SEQ_CST);
    for (const auto& [k, v] : entries()) // a syscall per entry: ordered after the clear
        setBit(k, half);
}

} // namespace pbxwall
