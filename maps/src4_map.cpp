// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "src4_map.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace pbxwall {

Src4Map::Src4Map(int fd)
{
    if (fd < 0)
        return;
    words_ = MappedHalves(fd, sizeof(__u64), PW_MAP_NAME_SRC4);
    if (words_.blocksPerHalf() != PW_SRC4_WORDS)
        throw std::runtime_error(PW_MAP_NAME_SRC4 " has " + std::to_string(words_.blocksPerHalf()) +
                                 " words per half, this version " + std::to_string(PW_SRC4_WORDS) +
                                 ": run pbxwalld --detach, then start it again");
}

void Src4Map::mark(__u32 half, __u32 addr)
{
    if (__u64* w = words(half))
        __atomic_fetch_or(&w[pw_src4_word(addr)], pw_src4_bit(addr), __ATOMIC_SEQ_CST);
}

void Src4Map::markRange(__u32 half, __u32 addr, __u32 count)
{
    __u64* w = words(half);
    if (!w)
        return;
    __u32 first = addr >> 8; // the /24's number
    const __u64 end = static_cast<__u64>(first) + count;
    while (first < end) {
        const __u32 bit = first & 63;
        const __u64 n = std::min<__u64>(64 - bit, end - first);
        const __u64 mask = n == 64 ? ~0ULL : ((1ULL << n) - 1) << bit;
        __atomic_fetch_or(&w[first >> 6], mask, __ATOMIC_SEQ_CST);
        first += static_cast<__u32>(n);
    }
}

void Src4Map::markKey(__u32 half, const pw_ban_key& key)
{
    Addr a;
    std::memcpy(a.bytes.data(), key.addr, sizeof(key.addr));
    if (!a.isV4())
        return;
    __u32 raw;
    std::memcpy(&raw, key.addr + 12, 4);
    mark(half, ntohl(raw));
}

void Src4Map::clearHalf(__u32 half)
{
    __u64* w = words(half);
    if (!w)
        return;
    for (__u32 i = 0; i < PW_SRC4_WORDS; ++i)
        __atomic_store_n(&w[i], 0, __ATOMIC_SEQ_CST);
}

void Src4Map::markHosts(__u32 half, std::span<const pw_host4_bucket> hosts)
{
    for (const auto& b : hosts)
        for (unsigned s = 0; s < PW_HOST4_SLOTS; ++s)
            if (b.flags & (1U << s))
                mark(half, ntohl(b.addr[s]));
}

void Src4Map::markNets(__u32 half, net4::ConstHalf t)
{
    // Level 0 holds the /16s, the chunks below it the /20s, then the /24s; a deeper chunk
    // lies inside one /24. An entry that is not 0 (no zone) marks all it covers.
    const auto entry = [&](__u32 i) -> __u32 {
        const size_t blk = i >> 4;
        return blk < t.size() ? t[blk].e[i & 15] : 0;
    };
    const auto below = [](__u32 e, __u32 i) { return PW_NET4_TOP + ((e & ~PW_NET4_CHUNK) << 4) + i; };
    for (__u32 top = 0; top < PW_NET4_TOP; ++top) {
        const __u32 e16 = entry(top);
        if (!e16)
            continue;
        const __u32 a16 = top << 16;
        if (!(e16 & PW_NET4_CHUNK)) {
            markRange(half, a16, 256);
            continue;
        }
        for (__u32 i = 0; i < 16; ++i) {
            const __u32 e20 = entry(below(e16, i));
            if (!e20)
                continue;
            const __u32 a20 = a16 | (i << 12);
            if (!(e20 & PW_NET4_CHUNK)) {
                markRange(half, a20, 16);
                continue;
            }
            for (__u32 j = 0; j < 16; ++j)
                if (entry(below(e20, j)))
                    mark(half, a20 | (j << 8));
        }
    }
}

bool Src4Map::holds(__u32 half, __u32 addr) const
{
    const __u64* w = words(half);
    return !w || (__atomic_load_n(&w[pw_src4_word(addr)], __ATOMIC_SEQ_CST) & pw_src4_bit(addr));
}

} // namespace pbxwall
