// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pw_bans with its Bloom filter pw_banbits (pbxwall_abi.h): every ban written from userspace
// also sets its filter bit, in both halves, so that the data plane never skips a ban.
#pragma once

#include "map.hpp"
#include "mapped_array.hpp"
#include "pbxwall_abi.h"

#include <vector>

namespace pbxwall {

class BanTable : public TypedMap<pw_ban_key, pw_ban> {
public:
    BanTable() = default;
    BanTable(int fd, int bitsFd);

    // As TypedMap's, plus the filter bits (set after the ban is in the table).
    void update(const pw_ban_key& key, const pw_ban& value, __u64 flags = BPF_ANY);
    void updateMany(const std::vector<pw_ban_key>& keys, const std::vector<pw_ban>& values);

    int bitsFd() const { return bits_.fd(); }
    __u32 bitMask() const { return bits_.blocksPerHalf() ? bits_.blocksPerHalf() * 64 - 1 : 0; }
    // Sets the bits of every ban in the table, in both halves (start-up: pins of an earlier
    // run, or bans the data plane set while the filter had no size yet).
    void resyncBits();
    // Clears half `half` (the one the data plane does not read), then sets the bits of the bans
    // in the table: the caller flips pw_gen_state.ban_half to it. A ban the data plane adds
    // meanwhile sets its own bit after the clear.
    void rebuildBits(__u32 half);

private:
    void setBit(const pw_ban_key& key, __u32 half);
    MappedHalves bits_;
};

} // namespace pbxwall
