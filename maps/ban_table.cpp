// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "ban_table.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <utility>

namespace pbxwall {

BanTable::BanTable(int fd, int bitsFd, int cacheFd, Src4Map src4)
    : TypedMap(fd, PW_MAP_NAME_BANS), bits_(bitsFd, PW_MAP_NAME_BANBITS), src4_(std::move(src4))
{
    if (cacheFd >= 0)
        cache_ = MappedHalves(cacheFd, sizeof(pw_bancache_bucket), PW_MAP_NAME_BANCACHE);
    if (bits_.wordsPerHalf() && cache_.blocksPerHalf() != 2 * bits_.wordsPerHalf())
        throw std::runtime_error(PW_MAP_NAME_BANCACHE " has " + std::to_string(cache_.blocksPerHalf()) +
                                 " buckets per half, " PW_MAP_NAME_BANBITS " " +
                                 std::to_string(bits_.wordsPerHalf()) +
                                 " words: they must be sized together (run pbxwalld --detach, then start it again)");
}

void BanTable::update(const pw_ban_key& key, const pw_ban& value, __u64 flags)
{
    TypedMap::update(key, value, flags);
    bits_.setBoth(key);
    src4_.markKeyBoth(key);
}

void BanTable::updateMany(const std::vector<pw_ban_key>& keys, const std::vector<pw_ban>& values)
{
    TypedMap::updateMany(keys, values);
    for (const auto& k : keys) {
        bits_.setBoth(k);
        src4_.markKeyBoth(k);
    }
}

size_t BanTable::rebuildHalf(__u32 half)
{
    if (!bits_.clearHalf(half))
        return 0;
    auto* buckets = static_cast<pw_bancache_bucket*>(cache_.half(half));
    if (buckets)
        std::memset(buckets, 0, sizeof(pw_bancache_bucket) * cache_.blocksPerHalf());
    size_t overflow = 0;
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const __u64 now = static_cast<__u64>(ts.tv_sec) * 1000000000ULL + static_cast<__u64>(ts.tv_nsec);
    for (const auto& [k, b] : entries()) { // after the clear: a syscall, so ordered after it
        bits_.set(k, half);
        src4_.markKey(half, k);
        if (!buckets || (b.expires_ns && b.expires_ns <= now) || b.prefix)
            continue; // an ended ban takes no room in the cache; a prefix ban has no place there
                      // (the cache answers for addresses: pw_is_banned)
        pw_bancache_bucket& bucket = buckets[(AddrFilter::hashOf(k) & bitMask()) >> 5];
        const __u64 until = b.expires_ns ? b.expires_ns >> PW_BANCACHE_SHIFT : PW_BANCACHE_FOREVER;
        if (until == 0 || (b.expires_ns && until >= PW_BANCACHE_FOREVER))
            continue; // ends within the first second of uptime, or in 146 years: pw_bans judges it
        int way = 0;
        while (way < PW_BANCACHE_WAYS && bucket.until[way])
            ++way;
        if (way == PW_BANCACHE_WAYS) {
            ++overflow;
            continue;
        }
        std::memcpy(bucket.addr[way], k.addr, 16);
        bucket.until[way] = static_cast<__u32>(until);
    }
    return overflow;
}

size_t BanTable::cachedCount(__u32 half, __u64 nowNs) const
{
    const auto* buckets = static_cast<const pw_bancache_bucket*>(cache_.half(half));
    if (!buckets)
        return 0;
    const __u64 now = nowNs >> PW_BANCACHE_SHIFT;
    size_t n = 0;
    for (__u32 i = 0; i < cache_.blocksPerHalf(); ++i)
        for (int w = 0; w < PW_BANCACHE_WAYS; ++w)
            n += buckets[i].until[w] == PW_BANCACHE_FOREVER || now < buckets[i].until[w];
    return n;
}

} // namespace pbxwall
