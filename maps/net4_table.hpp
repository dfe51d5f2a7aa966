// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The IPv4 prefix table pw_nets4 from userspace: a multibit trie with leaf pushing that the
// data plane reads in 1 to 5 inlined array accesses (layout in pbxwall_abi.h). It is derived
// data: PolicyStore rebuilds the inactive half from the prefixes (kept with their origin in the
// LPM trie pw_nets) on every change, then flips.
#pragma once

#include "addr.hpp"
#include "mapped_array.hpp"
#include "pbxwall_abi.h"

#include <span>
#include <utility>
#include <vector>

namespace pbxwall {

namespace net4 {

using Half = std::span<pw_net4_block>;
using ConstHalf = std::span<const pw_net4_block>;

struct Prefix {
    __u32 addr = 0; // host order, host bits zero
    __u8 len = 0;   // 0..32
    __u8 zone = 0;
};

// Writes the whole half from the prefixes (any order; the longest prefix that holds an
// address decides its zone). Throws std::runtime_error when the half has too few chunks.
void build(Half t, std::vector<Prefix> prefixes);
// The zone the data plane would find for addr (host order); PW_ZONE_NONE when no prefix
// holds it.
__u8 lookup(ConstHalf t, __u32 addr);
// Chunks a half of `blocks` blocks holds.
inline __u32 chunksOf(size_t blocks) { return blocks > PW_NET4_TOP / 16 ? static_cast<__u32>(blocks - PW_NET4_TOP / 16) : 0; }

} // namespace net4

// pw_nets4 mapped into this process.
class Net4Table {
public:
    Net4Table() = default;
    explicit Net4Table(int fd);
    int fd() const { return map_.fd(); }
    __u32 blocksPerHalf() const { return map_.blocksPerHalf(); }
    net4::Half half(__u32 h) const;

private:
    MappedHalves map_;
};

} // namespace pbxwall
