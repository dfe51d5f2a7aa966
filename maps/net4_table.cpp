// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Building the IPv4 prefix table (the reading side is pw_net4_zone() in bpf/pbxwall.bpf.c).
#include "net4_table.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace pbxwall {
namespace net4 {
namespace {

constexpr __u32 kTopBlocks = PW_NET4_TOP / 16;

class Builder {
public:
    explicit Builder(Half t) : t_(t), chunks_(chunksOf(t.size())) {}

    __u32& top(__u32 i) { return t_[i >> 4].e[i & 15]; }
    __u32* chunk(__u32 c) { return t_[kTopBlocks + c].e; }

    // The chunk below entry e, made (holding e's zone 16 times) when e is a zone.
    __u32* below(__u32& e)
    {
        if (!(e & PW_NET4_CHUNK)) {
            if (used_ == chunks_)
                throw std::runtime_error("the IPv4 prefixes need more than the " + std::to_string(chunks_) +
                                         " chunks of the prefix table (" PW_MAP_NAME_NETS "4): raise [limits] nets");
            __u32* c = chunk(used_);
            std::fill(c, c + 16, e);
            e = PW_NET4_CHUNK | used_++;
        }
        return chunk(e & ~PW_NET4_CHUNK);
    }

    // Longer prefixes come later and overwrite what shorter ones wrote: leaf pushing.
    void add(const Prefix& p)
    {
        if (p.len <= 16) {
            const __u32 first = p.addr >> 16, n = 1U << (16 - p.len);
            for (__u32 i = 0; i < n; ++i)
                setAll(top(first + i), p.zone);
            return;
        }
        __u32* e = &top(p.addr >> 16);
        int bits = 16; // address bits consumed above the next chunk
        for (;;) {
            __u32* c = below(*e);
            const __u32 nibble = (p.addr >> (28 - bits)) & 15;
            bits += 4;
            if (p.len <= bits) {
                const __u32 n = 1U << (bits - p.len);
                for (__u32 i = 0; i < n; ++i)
                    setAll(c[nibble + i], p.zone);
                return;
            }
            e = &c[nibble];
        }
    }

private:
    // A zone for everything below e (in order of lengths, e cannot hold a chunk yet; if it does,
    // the chunk's entries take the zone).
    void setAll(__u32& e, __u8 zone)
    {
        if (!(e & PW_NET4_CHUNK)) {
            e = zone;
            return;
        }
        __u32* c = chunk(e & ~PW_NET4_CHUNK);
        for (int i = 0; i < 16; ++i)
            setAll(c[i], zone);
    }

    Half t_;
    __u32 chunks_;
    __u32 used_ = 0;
};

} // namespace

void build(Half t, std::vector<Prefix> prefixes)
{
    if (t.size() < kTopBlocks)
        throw std::runtime_error(PW_MAP_NAME_NETS "4 is smaller than its top level");
    std::stable_sort(prefixes.begin(), prefixes.end(), [](const Prefix& a, const Prefix& b) { return a.len < b.len; });
    std::fill(t.begin(), t.begin() + kTopBlocks, pw_net4_block{});
    Builder b(t);
    for (const Prefix& p : prefixes) {
        if (p.len > 32 || (p.len < 32 && (p.addr & (~0U >> p.len))) )
            throw std::invalid_argument("not an IPv4 prefix");
        b.add(p);
    }
}

__u8 lookup(ConstHalf t, __u32 addr)
{
    if (t.size() < kTopBlocks)
        return PW_ZONE_NONE;
    const auto entry = [&](__u32 i) -> __u32 {
        const size_t blk = i >> 4;
        return blk < t.size() ? t[blk].e[i & 15] : 0;
    };
    __u32 e = entry(addr >> 16);
    for (int level = 0; level < 4; ++level) {
        if (!(e & PW_NET4_CHUNK))
            return static_cast<__u8>(e & 0xff);
        e = entry(PW_NET4_TOP + ((e & ~PW_NET4_CHUNK) << 4) + ((addr >> (12 - 4 * level)) & 15));
    }
    return e & PW_NET4_CHUNK ? __u8{PW_ZONE_NONE} : static_cast<__u8>(e & 0xff);
}

} // namespace net4

Net4Table::Net4Table(int fd) : map_(fd, sizeof(pw_net4_block), PW_MAP_NAME_NETS4) {}

net4::Half Net4Table::half(__u32 h) const
{
    auto* base = static_cast<pw_net4_block*>(map_.half(h));
    if (!base)
        return {};
    return {base, map_.blocksPerHalf()};
}

} // namespace pbxwall
