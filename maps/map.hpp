// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Typed access to BPF maps: an owning fd, TypedMap<K, V> over an fd, and per-CPU reads.
// libbpf 1.x returns -errno; errors become std::system_error once, here.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace pbxwall {

[[noreturn]] inline void throwErrno(int err, const std::string& what)
{
    throw std::system_error(err < 0 ? -err : err, std::generic_category(), what);
}

// Owns a file descriptor; move-only.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept
    {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~UniqueFd() { reset(); }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void reset()
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

// A map seen through its key and value types. Borrows the fd; the owner keeps it open.
template <typename K, typename V>
class TypedMap {
public:
    TypedMap() = default;
    TypedMap(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

    int fd() const { return fd_; }
    const std::string& name() const { return name_; }

    std::optional<V> lookup(const K& key) const
    {
        V value{};
        if (bpf_map_lookup_elem(fd_, &key, &value) == 0)
            return value;
        if (errno != ENOENT)
            throwErrno(errno, "read " + name_);
        return std::nullopt;
    }

    void update(const K& key, const V& value, __u64 flags = BPF_ANY)
    {
        if (bpf_map_update_elem(fd_, &key, &value, flags) != 0) {
            int err = errno;
            if (err == E2BIG || err == ENOMEM || err == ENOSPC)
                throwErrno(err, name_ + " is full: raise its size in [limits] of the config");
            throwErrno(err, "write " + name_);
        }
    }

    // Returns false when the key was not there.
    bool erase(const K& key)
    {
        if (bpf_map_delete_elem(fd_, &key) == 0)
            return true;
        if (errno != ENOENT)
            throwErrno(errno, "delete from " + name_);
        return false;
    }

    // Every key, in map order. Hash maps: keys deleted meanwhile may be skipped.
    std::vector<K> keys() const
    {
        std::vector<K> out;
        K key{};
        K next{};
        const void* prev = nullptr;
        while (bpf_map_get_next_key(fd_, prev, &next) == 0) {
            out.push_back(next);
            key = next;
            prev = &key;
        }
        if (errno != ENOENT)
            throwErrno(errno, "iterate " + name_);
        return out;
    }

    // Every entry, read with BPF_MAP_LOOKUP_BATCH where the map supports it (hash maps),
    // else key by key (LPM tries).
    std::vector<std::pair<K, V>> entries() const
    {
        std::vector<std::pair<K, V>> out;
        constexpr __u32 kChunk = 8192;
        std::vector<K> keys(kChunk);
        std::vector<V> values(kChunk);
        K in{};
        K next{};
        bool first = true;
        for (;;) {
            __u32 n = kChunk;
            DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
            int rc = bpf_map_lookup_batch(fd_, first ? nullptr : &in, &next, keys.data(), values.data(), &n, &opts);
            int err = rc ? errno : 0;
            if (rc && err != ENOENT) {
                if (first && (err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP))
                    break; // no batch support: fall back below
                throwErrno(err, "read " + name_);
            }
            for (__u32 i = 0; i < n; ++i)
                out.emplace_back(keys[i], values[i]);
            if (err == ENOENT)
                return out;
            in = next;
            first = false;
        }
        for (const auto& k : this->keys())
            if (auto v = lookup(k))
                out.emplace_back(k, *v);
        return out;
    }

    // Deletes many keys (BPF_MAP_DELETE_BATCH, else one by one); missing keys are fine.
    void eraseMany(const std::vector<K>& keys)
    {
        size_t done = 0;
        while (done < keys.size()) {
            __u32 count = static_cast<__u32>(std::min<size_t>(keys.size() - done, 65536));
            DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
            if (bpf_map_delete_batch(fd_, &keys[done], &count, &opts) != 0) {
                for (size_t i = done + count; i < keys.size(); ++i)
                    erase(keys[i]);
                return;
            }
            done += count;
        }
    }

    // Writes many entries with BPF_MAP_UPDATE_BATCH (falls back to single updates).
    void updateMany(const std::vector<K>& keys, const std::vector<V>& values)
    {
        size_t done = 0;
        while (done < keys.size()) {
            __u32 count = static_cast<__u32>(std::min<size_t>(keys.size() - done, 65536));
            DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = 0, .flags = 0);
            if (bpf_map_update_batch(fd_, &keys[done], &values[done], &count, &opts) != 0) {
                if (errno == EINVAL || errno == ENOTSUPP || errno == EOPNOTSUPP) {
                    for (; done < keys.size(); ++done)
                        update(keys[done], values[done]);
                    return;
                }
                done += count;
                update(keys[done], values[done]); // reports the failing entry's error
                continue;
            }
            done += count;
        }
    }

    // Array maps: the values of keys [first, first + count), read with BPF_MAP_LOOKUP_BATCH
    // (which starts after its in_batch key) or, where that is missing, one by one.
    std::vector<V> lookupRange(__u32 first, __u32 count) const
    {
        static_assert(std::is_same_v<K, __u32>, "array maps only");
        std::vector<__u32> keys(count);
        std::vector<V> values(count);
        __u32 n = count;
        __u32 in = first - 1;
        __u32 out = 0;
        DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
        int rc = bpf_map_lookup_batch(fd_, first ? &in : nullptr, &out, keys.data(), values.data(), &n, &opts);
        if ((rc == 0 || errno == ENOENT) && n == count && keys.front() == first)
            return values;
        for (__u32 i = 0; i < count; ++i)
            values[i] = lookup(first + i).value_or(V{});
        return values;
    }

private:
    static constexpr int ENOTSUPP = 524; // kernel-internal, returned by some batch ops
    int fd_ = -1;
    std::string name_;
};

// Per-CPU array values: one V per possible CPU (V must be a multiple of 8 bytes).
template <typename V>
std::vector<V> lookupPercpu(int fd, __u32 index, const std::string& name)
{
    static_assert(sizeof(V) % 8 == 0, "per-CPU values are padded to 8 bytes");
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0)
        throwErrno(ncpu, "count possible CPUs");
    std::vector<V> values(static_cast<size_t>(ncpu));
    if (bpf_map_lookup_elem(fd, &index, values.data()) != 0)
        throwErrno(errno, "read " + name);
    return values;
}

} // namespace pbxwall
