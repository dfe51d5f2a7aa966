// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pinnedLayoutDifference on maps the kernel made: the key and value types it keeps for a map
// (what pbxwalld and pbxwallctl read back from a pinned map) against this build's object.
// The maps are created here with the BTF another build would have loaded: this build's types,
// plus a pw_fail whose two counts swapped places (the same size, another layout).
#include "btf_layout.hpp"
#include "pbxwall.skel.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <memory>

namespace pbxwall::bpftest {

namespace {

struct Fd {
    int fd;
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

} // namespace

TEST_CASE("a pinned map's kernel BTF is compared with this build's types", "[bpf][abi]")
{
    libbpf_set_print(nullptr);
    std::unique_ptr<pbxwall_bpf, void (*)(pbxwall_bpf*)> skel(pbxwall_bpf::open(), pbxwall_bpf::destroy);
    REQUIRE(skel);
    const btf* ours = bpf_object__btf(skel->obj);
    const bpf_map* fails = skel->maps.pw_fails;
    REQUIRE((ours && bpf_map__btf_key_type_id(fails) && bpf_map__btf_value_type_id(fails)));

    // Another build's BTF: a filler type (so that every id moves), all of ours, and a pw_fail
    // with `challenges` before `failures`.
    std::unique_ptr<btf, void (*)(btf*)> other(btf__new_empty(), btf__free);
    btf__add_int(other.get(), "filler", 1, 0);
    const int first = btf__add_btf(other.get(), ours);
    REQUIRE(first > 1);
    const auto shifted = [&](__u32 id) { return id - 1 + static_cast<__u32>(first); };
    const int u32 = btf__add_int(other.get(), "__u32", 4, 0);
    const int u64 = btf__add_int(other.get(), "__u64", 8, 0);
    const int u8 = btf__add_int(other.get(), "__u8", 1, 0);
    const int addr = btf__add_array(other.get(), u32, u8, 16);
    const int swapped = btf__add_struct(other.get(), "pw_fail", 48);
    btf__add_field(other.get(), "from_ns", u64, 0, 0);
    btf__add_field(other.get(), "challenges", u32, 64, 0);
    btf__add_field(other.get(), "failures", u32, 96, 0);
    btf__add_field(other.get(), "struck_ns", u64, 128, 0);
    btf__add_field(other.get(), "top", addr, 192, 0);
    btf__add_field(other.get(), "top_count", u32, 320, 0);
    btf__add_field(other.get(), "pad", u32, 352, 0);
    REQUIRE(swapped > 0);
    REQUIRE(btf__load_into_kernel(other.get()) == 0);
    const int btfFd = btf__fd(other.get());

    const auto create = [&](__u32 keyId, __u32 valueId) {
        LIBBPF_OPTS(bpf_map_create_opts, o);
        if (keyId || valueId) {
            o.btf_fd = static_cast<__u32>(btfFd);
            o.btf_key_type_id = keyId;
            o.btf_value_type_id = valueId;
        }
        return Fd{bpf_map_create(BPF_MAP_TYPE_HASH, "pw_fails", bpf_map__key_size(fails),
                                 bpf_map__value_size(fails), 16, &o)};
    };

    SECTION("this build's layout, under other ids: no difference")
    {
        Fd same = create(shifted(bpf_map__btf_key_type_id(fails)), shifted(bpf_map__btf_value_type_id(fails)));
        REQUIRE(same.fd >= 0);
        CHECK(pbxwall::pinnedLayoutDifference(same.fd, skel->obj, fails).empty());
    }
    SECTION("the two counts swapped: the value's difference, named")
    {
        Fd moved = create(shifted(bpf_map__btf_key_type_id(fails)), static_cast<__u32>(swapped));
        REQUIRE(moved.fd >= 0);
        CHECK(pbxwall::pinnedLayoutDifference(moved.fd, skel->obj, fails) ==
              "value pw_fail.challenges: at bit 64 there, 96 here");
    }
    SECTION("a map without BTF types cannot be told: no difference claimed")
    {
        Fd bare = create(0, 0);
        REQUIRE(bare.fd >= 0);
        CHECK(pbxwall::pinnedLayoutDifference(bare.fd, skel->obj, fails).empty());
    }
}

} // namespace pbxwall::bpftest
