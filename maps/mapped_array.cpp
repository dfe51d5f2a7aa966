// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "mapped_array.hpp"

#include "map.hpp"

#include <bpf/bpf.h>
#include <sys/mman.h>

#include <stdexcept>

namespace pbxwall {

struct MappedHalves::Mapping {
    void* addr = MAP_FAILED;
    size_t len = 0;
    ~Mapping()
    {
        if (addr != MAP_FAILED)
            munmap(addr, len);
    }
};

MappedHalves::MappedHalves(int fd, size_t blockSize, const std::string& what) : fd_(fd), blockSize_(blockSize)
{
    bpf_map_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
        throwErrno(errno, "inspect " + what);
    if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != blockSize || !(info.map_flags & BPF_F_MMAPABLE) ||
        info.max_entries < 2 || info.max_entries % 2)
        throw std::runtime_error(what + " is not the table this version expects (map type " + std::to_string(info.type) +
                                 ", value size " + std::to_string(info.value_size) + ", " +
                                 std::to_string(info.max_entries) +
                                 " entries): run pbxwalld --detach, then start it again");
    half_ = info.max_entries / 2;
    map_ = std::make_shared<Mapping>();
    map_->len = static_cast<size_t>(info.max_entries) * blockSize;
    map_->addr = mmap(nullptr, map_->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map_->addr == MAP_FAILED)
        throwErrno(errno, "map " + what + " into memory");
}

void* MappedHalves::half(__u32 h) const
{
    if (!map_)
        return nullptr;
    return static_cast<char*>(map_->addr) + static_cast<size_t>(h & 1) * half_ * blockSize_;
}

} // namespace pbxwall
