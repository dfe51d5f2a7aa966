// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "addr_filter.hpp"

#include <cstring>

namespace pbxwall {

AddrFilter::AddrFilter(int fd, const char* name)
{
    if (fd >= 0)
        words_ = MappedHalves(fd, sizeof(__u64), name);
}

__u64 AddrFilter::hashOf(const pw_ban_key& key)
{
    __u64 hi, lo;
    std::memcpy(&hi, key.addr, 8);
    std::memcpy(&lo, key.addr + 8, 8);
    return pw_host_hash(hi, lo);
}

void AddrFilter::set(const pw_ban_key& key, __u32 half)
{
    auto* words = static_cast<__u64*>(words_.half(half));
    if (!words)
        return;
    const __u64 h = hashOf(key) & mask();
    __atomic_fetch_or(&words[h >> 6], 1ULL << (h & 63), __ATOMIC_SEQ_CST);
}

bool AddrFilter::clearHalf(__u32 half)
{
    auto* words = static_cast<__u64*>(words_.half(half));
    if (!words)
        return false;
    for (__u32 i = 0; i < words_.blocksPerHalf(); ++i)
        __atomic_store_n(&words[i], 0, __ATOMIC_SEQ_CST);
    return true;
}

} // namespace pbxwall
