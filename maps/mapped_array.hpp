// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// A BPF array map created with BPF_F_MMAPABLE, mapped into this process as two halves of
// fixed-size blocks (the host and IPv4 prefix tables: the data plane reads one half, userspace
// writes the other and flips). Copyable: copies share the mapping.
#pragma once

#include <linux/types.h>

#include <memory>
#include <span>
#include <string>

namespace pbxwall {

class MappedHalves {
public:
    MappedHalves() = default;
    // Maps fd after checking it is an mmapable array of blockSize-byte values with an even
    // number of entries; `what` names the map in errors.
    MappedHalves(int fd, size_t blockSize, const std::string& what);

    int fd() const { return fd_; }
    __u32 blocksPerHalf() const { return half_; }
    void* half(__u32 h) const; // nullptr when not mapped

private:
    struct Mapping;
    std::shared_ptr<Mapping> map_;
    int fd_ = -1;
    size_t blockSize_ = 0;
    __u32 half_ = 0;
};

} // namespace pbxwall
