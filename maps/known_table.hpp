// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pw_known with its Bloom filter pw_knownbits (pbxwall_abi.h): every known source written from
// userspace also sets its filter bit, in both halves, so that the data plane never rules out a
// registered phone; the filter is rebuilt whole, in the half the data plane does not read.
#pragma once

#include "addr_filter.hpp"
#include "map.hpp"
#include "pbxwall_abi.h"

#include <string>
#include <vector>

namespace pbxwall {

class KnownTable : public TypedMap<pw_ban_key, pw_known> {
public:
    KnownTable() = default;
    KnownTable(int fd, int bitsFd);

    // As TypedMap's, plus the filter bits (set after the entry is in the table).
    void update(const pw_ban_key& key, const pw_known& value, __u64 flags = BPF_ANY);
    void updateMany(const std::vector<pw_ban_key>& keys, const std::vector<pw_known>& values);

    int bitsFd() const { return bits_.fd(); }
    __u32 bitMask() const { return bits_.mask(); }
    // Clears half `half` of the filter (the half the data plane does not read), then sets the
    // bits of the entries in the table: the caller flips pw_gen_state.known_half to it. A source
    // the data plane makes known meanwhile is in the table before it sets its bit: a bit set
    // before the clear belongs to an entry the walk after the clear finds, one set after the
    // clear stays.
    void rebuildHalf(__u32 half);

    // The entries that have not expired, written to state_dir/known (CtlState::saveKnown): a
    // reboot empties the pinned table, and the PBX's phones do not register again until their
    // refresh. Returns how many.
    size_t saveState(const std::string& stateDir) const;
    // The entries of state_dir/known that have not expired, into an empty table (a start whose
    // pins are new): those that expire last first, at most `capacity`, each for at most
    // `maxSeconds` (a clock set late at boot must not make one known for years). Sets *skipped
    // to the live entries left out for want of room; the file's broken lines are skipped and
    // named in *broken.
    size_t replayState(const std::string& stateDir, size_t capacity, uint64_t maxSeconds, size_t* skipped,
                       std::vector<std::string>* broken);

private:
    AddrFilter bits_;
};

} // namespace pbxwall
