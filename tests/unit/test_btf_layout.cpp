// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// btfLayoutDifference: what makes a pinned map's key or value another layout than this
// build's. The types are built with libbpf's BTF writer, as another build's would read from
// the kernel; no root needed.
#include "btf_layout.hpp"
#include "pbxwall.skel.h"

#include <bpf/btf.h>
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

namespace {

using BtfPtr = std::unique_ptr<btf, void (*)(btf*)>;

struct Field {
    const char* name;
    int bits;      // 32 or 64: an unsigned integer of that width; 0: the nested struct
    int bitfield;  // 0: a whole integer
};

// A BTF holding `struct pw_fail`-like {fields} (offsets packed in order, as the compiler
// would for these widths), behind a typedef when asked; returns the struct's (or typedef's)
// id through `id`. A nested struct is {u32 a; u32 b[arrayLen]}, or {u32 a; u64 b} (innerB64).
BtfPtr build(const std::vector<Field>& fields, int& id, bool typedefd = false, int arrayLen = 2, bool innerB64 = false)
{
    BtfPtr b(btf__new_empty(), btf__free);
    const int u32 = btf__add_int(b.get(), "__u32", 4, 0);
    const int u64 = btf__add_int(b.get(), "unsigned long long", 8, 0);
    const int arr = btf__add_array(b.get(), u32, u32, arrayLen);
    const int inner = btf__add_struct(b.get(), "pw_inner", 4 + 4 * arrayLen);
    btf__add_field(b.get(), "a", u32, 0, 0);
    btf__add_field(b.get(), "b", innerB64 ? u64 : arr, 32, 0);
    unsigned off = 0;
    for (const auto& f : fields)
        off += f.bits == 64 ? 64 : f.bits == 32 ? 32 : 32 + 32 * arrayLen;
    const int st = btf__add_struct(b.get(), "pw_fail", off / 8);
    off = 0;
    for (const auto& f : fields) {
        const int type = f.bits == 64 ? u64 : f.bits == 32 ? u32 : inner;
        btf__add_field(b.get(), f.name, type, off, f.bitfield);
        off += f.bits == 64 ? 64 : f.bits == 32 ? 32 : 32 + 32 * arrayLen;
    }
    id = typedefd ? btf__add_typedef(b.get(), "pw_fail_t", btf__add_const(b.get(), st)) : st;
    return b;
}

std::string diff(const std::vector<Field>& ours, const std::vector<Field>& theirs, bool typedefd = false,
                 int ourArray = 2, int theirArray = 2, bool theirB64 = false)
{
    int a = 0;
    int b = 0;
    BtfPtr x = build(ours, a, false, ourArray);
    BtfPtr y = build(theirs, b, typedefd, theirArray, theirB64);
    REQUIRE((a > 0 && b > 0));
    return pbxwall::btfLayoutDifference(x.get(), static_cast<__u32>(a), y.get(), static_cast<__u32>(b));
}

const std::vector<Field> kFail = {{"from_ns", 64, 0}, {"failures", 32, 0}, {"challenges", 32, 0}};

} // namespace

TEST_CASE("the same layout is no difference, through typedefs and qualifiers", "[abi][btf]")
{
    CHECK(diff(kFail, kFail).empty());
    CHECK(diff(kFail, kFail, true).empty());
    const std::vector<Field> nested = {{"from_ns", 64, 0}, {"inner", 0, 0}};
    CHECK(diff(nested, nested).empty());
}

TEST_CASE("members that swap places, move or change width are differences", "[abi][btf]")
{
    const std::string swapped = diff(kFail, {{"from_ns", 64, 0}, {"challenges", 32, 0}, {"failures", 32, 0}});
    CHECK(swapped == "pw_fail.challenges: at bit 64 there, 96 here");
    CHECK_FALSE(diff(kFail, {{"failures", 32, 0}, {"challenges", 32, 0}, {"from_ns", 64, 0}}).empty());
    // The same total size, another cut: a u64 where two u32 were.
    CHECK(diff({{"a", 32, 0}, {"b", 32, 0}, {"c", 64, 0}}, {{"a", 64, 0}, {"b", 32, 0}, {"c", 32, 0}}) ==
          "pw_fail.a: an integer of 64 bits there, 32 here");
    CHECK(diff(kFail, {{"from_ns", 64, 0}, {"failures", 32, 16}, {"challenges", 32, 0}}) ==
          "pw_fail.failures: a bit field of 16 bits there, 0 here");
    CHECK(diff(kFail, {{"from_ns", 64, 0}, {"failures", 32, 0}}) == "pw_fail: 12 bytes there, 16 here");
}

TEST_CASE("a difference inside a nested struct or array is found and named", "[abi][btf]")
{
    const std::vector<Field> nested = {{"from_ns", 64, 0}, {"inner", 0, 0}};
    // Another array length changes the outer size, which is found first.
    CHECK(diff(nested, nested, false, 2, 3) == "pw_fail: 24 bytes there, 20 here");
    // The same sizes, another type at the same place inside.
    CHECK(diff(nested, nested, false, 2, 2, true) == "pw_fail.inner.b: an integer there, an array here");
}

TEST_CASE("padding may be given a use; a used member may not become padding", "[abi][btf]")
{
    const std::vector<Field> older = {{"from_ns", 64, 0}, {"failures", 32, 0}, {"pad", 32, 0}};
    CHECK(diff(kFail, older).empty()); // an older build's pad is our challenges
    CHECK(diff(kFail, {{"from_ns", 64, 0}, {"failures", 32, 0}, {"reserved1", 32, 0}}).empty());
    CHECK(diff(older, kFail) == "pw_fail: member `challenges` there is not here");
    // A member there that is not padding cannot become another here, at its place or beside.
    CHECK(diff({{"from_ns", 64, 0}, {"failures", 32, 0}, {"extra", 32, 0}}, kFail) ==
          "pw_fail: member `challenges` there is not here");
    CHECK(diff({{"from_ns", 64, 0}, {"failures", 32, 0}, {"challenges", 32, 0}, {"more", 32, 0}},
               {{"from_ns", 64, 0}, {"failures", 32, 0}, {"challenges", 32, 0}, {"spare", 32, 0}}) ==
          "pw_fail: member `spare` there is not here");
}

TEST_CASE("padding may be split as a new use needs (pw_ban's pad became prefix and pad[3])", "[abi][btf]")
{
    // There: {u64 expires_ns; u64 created_ns; u32 cause; u32 pad;}. Here: the pad's first byte
    // is prefix, the other three pad[3]. Both 24 bytes; the old pad was always 0.
    const auto build = [](bool split, int& id) {
        BtfPtr b(btf__new_empty(), btf__free);
        const int u8 = btf__add_int(b.get(), "__u8", 1, 0);
        const int u32 = btf__add_int(b.get(), "__u32", 4, 0);
        const int u64 = btf__add_int(b.get(), "__u64", 8, 0);
        const int pad3 = btf__add_array(b.get(), u32, u8, 3);
        id = btf__add_struct(b.get(), "pw_ban", 24);
        btf__add_field(b.get(), "expires_ns", u64, 0, 0);
        btf__add_field(b.get(), "created_ns", u64, 64, 0);
        btf__add_field(b.get(), "cause", u32, 128, 0);
        if (split) {
            btf__add_field(b.get(), "prefix", u8, 160, 0);
            btf__add_field(b.get(), "pad", pad3, 168, 0);
        } else {
            btf__add_field(b.get(), "pad", u32, 160, 0);
        }
        return b;
    };
    int older = 0, newer = 0;
    BtfPtr o = build(false, older), n = build(true, newer);
    CHECK(pbxwall::btfLayoutDifference(n.get(), static_cast<__u32>(newer), o.get(), static_cast<__u32>(older)).empty());
    // The other way, a downgrade: the older build would ignore prefix.
    CHECK(pbxwall::btfLayoutDifference(o.get(), static_cast<__u32>(older), n.get(), static_cast<__u32>(newer)) ==
          "pw_ban: member `prefix` there is not here");
}

TEST_CASE("every map type of this build's object matches itself, and a copy of itself", "[abi][btf]")
{
    libbpf_set_print(nullptr);
    std::unique_ptr<pbxwall_bpf, void (*)(pbxwall_bpf*)> skel(pbxwall_bpf::open(), pbxwall_bpf::destroy);
    REQUIRE(skel);
    const btf* ours = bpf_object__btf(skel->obj);
    REQUIRE(ours);
    // The same types in another BTF, behind one more type (what the kernel hands back for a
    // pinned map has other ids and other string offsets).
    BtfPtr copy(btf__new_empty(), btf__free);
    btf__add_int(copy.get(), "filler", 1, 0);
    const int first = btf__add_btf(copy.get(), ours);
    REQUIRE(first > 1);
    bpf_map* m;
    int typed = 0;
    bpf_object__for_each_map(m, skel->obj)
    {
        if (bpf_map__is_internal(m))
            continue; // .rodata and .bss: never pinned
        INFO(bpf_map__name(m));
        for (__u32 id : {bpf_map__btf_key_type_id(m), bpf_map__btf_value_type_id(m)}) {
            if (!id)
                continue;
            ++typed;
            CHECK(pbxwall::btfLayoutDifference(ours, id, ours, id).empty());
            CHECK(pbxwall::btfLayoutDifference(ours, id, copy.get(), id - 1 + static_cast<__u32>(first)).empty());
        }
    }
    CHECK(typed >= 20); // nearly every map has typed keys and values
}
