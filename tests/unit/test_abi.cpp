// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The ABI check: every map in the BPF object has the name, key and value sizes that
// maps/pbxwall_abi.h promises the C++ side. Opens the object without loading it (no root).
#include "map_set.hpp"
#include "pbxwall.skel.h"

#include <bpf/btf.h>
#include <catch2/catch.hpp>

#include <memory>

namespace {

struct Expect {
    const char* name;
    size_t key;
    size_t value;
    __u32 maxEntries; // 0: set from the config at load time
};

} // namespace

TEST_CASE("the BPF object's maps match pbxwall_abi.h", "[abi]")
{
    libbpf_set_print(nullptr);
    std::unique_ptr<pbxwall_bpf, void (*)(pbxwall_bpf*)> skel(pbxwall_bpf::open(), pbxwall_bpf::destroy);
    REQUIRE(skel);

    const Expect expected[] = {
        {PW_MAP_NAME_GEN, sizeof(__u32), sizeof(pw_gen_state), 1},
        {PW_MAP_NAME_POLICY, sizeof(__u32), sizeof(pw_policy), PW_GENERATIONS},
        {PW_MAP_NAME_PORTS, sizeof(__u32), sizeof(pw_port), PW_PORTS_ENTRIES},
        {PW_MAP_NAME_IFACES, sizeof(__u32), sizeof(pw_zone_entry), PW_GENERATIONS * PW_IFINDEX_LIMIT},
        {PW_MAP_NAME_HOSTS4, sizeof(__u32), sizeof(pw_host4_bucket), 0},
        {PW_MAP_NAME_HOSTBITS4, sizeof(__u32), sizeof(__u64), 0},
        {PW_MAP_NAME_HOSTS6, sizeof(__u32), sizeof(pw_host6_bucket), 0},
        {PW_MAP_NAME_NETS4, sizeof(__u32), sizeof(pw_net4_block), 0},
        {PW_MAP_NAME_BANBITS, sizeof(__u32), sizeof(__u64), 0},
        {PW_MAP_NAME_KNOWNBITS, sizeof(__u32), sizeof(__u64), 0},
        {PW_MAP_NAME_BANCACHE, sizeof(__u32), sizeof(pw_bancache_bucket), 0},
        {PW_MAP_NAME_SRC4, sizeof(__u32), sizeof(__u64), 2 * PW_SRC4_WORDS},
        {PW_MAP_NAME_NETS, sizeof(pw_net_key), sizeof(pw_zone_entry), 0},
        {PW_MAP_NAME_BANS, sizeof(pw_ban_key), sizeof(pw_ban), 0},
        {PW_MAP_NAME_FLOWS, sizeof(pw_flow_key), sizeof(pw_flow), 0},
        {PW_MAP_NAME_FRAGS, sizeof(pw_frag_key), sizeof(pw_frag), 0},
        {PW_MAP_NAME_STATS, sizeof(__u32), sizeof(pw_counter), PW_STATS_ENTRIES},
        {PW_MAP_NAME_KNOWN, sizeof(pw_ban_key), sizeof(pw_known), 0},
        {PW_MAP_NAME_RATE, sizeof(__u32), sizeof(pw_rate), 0},
        {PW_MAP_NAME_NEWSRC, sizeof(__u32), sizeof(pw_newsrc), 1},
        {PW_MAP_NAME_EVENTS, 0, 0, PW_EVENTS_BYTES},
        {PW_MAP_NAME_FAILS, sizeof(pw_ban_key), sizeof(pw_fail), 0},
        {PW_MAP_NAME_SIPRULES, sizeof(__u32), sizeof(pw_sip_rules), PW_GENERATIONS},
        {PW_MAP_NAME_STAGES, sizeof(__u32), sizeof(__u32), PW_STAGE__COUNT},
        {PW_MAP_NAME_HANDOFF, sizeof(__u32), PW_HANDOFF_BYTES, 1},
    };
    REQUIRE(std::size(expected) == pbxwall::pinnedMapNames().size());
    for (const auto& e : expected) {
        INFO(e.name);
        bpf_map* m = bpf_object__find_map_by_name(skel->obj, e.name);
        REQUIRE(m);
        CHECK(bpf_map__key_size(m) == e.key);
        CHECK(bpf_map__value_size(m) == e.value);
        if (e.maxEntries)
            CHECK(bpf_map__max_entries(m) == e.maxEntries);
    }
    CHECK(bpf_object__find_program_by_name(skel->obj, PW_PROG_NAME_XDP));
    CHECK(bpf_object__find_program_by_name(skel->obj, PW_PROG_NAME_EGRESS));
    CHECK(bpf_object__find_program_by_name(skel->obj, PW_PROG_NAME_SIP));
}

// pbxwalld keeps the host tables whole while a program that predates pw_gen_state.host_shrink
// uses the maps: it tells by the program's BTF.
TEST_CASE("a program's BTF tells whether it reads host_shrink", "[abi]")
{
    libbpf_set_print(nullptr);
    std::unique_ptr<pbxwall_bpf, void (*)(pbxwall_bpf*)> skel(pbxwall_bpf::open(), pbxwall_bpf::destroy);
    REQUIRE(skel);
    CHECK(pbxwall::btfReadsHostShrink(bpf_object__btf(skel->obj)));

    // An older layout: pw_gen_state with `pad` where host_shrink is now.
    const auto build = [](const char* last) {
        btf* b = btf__new_empty();
        const int u32 = btf__add_int(b, "__u32", 4, 0);
        const int st = btf__add_struct(b, "pw_gen_state", 8);
        btf__add_field(b, "src4_built", u32, 0, 0);
        btf__add_field(b, last, u32, 32, 0);
        return st > 0 ? b : nullptr;
    };
    std::unique_ptr<btf, void (*)(btf*)> older(build("pad"), btf__free), newer(build("host_shrink"), btf__free);
    REQUIRE(older);
    REQUIRE(newer);
    CHECK_FALSE(pbxwall::btfReadsHostShrink(older.get()));
    CHECK(pbxwall::btfReadsHostShrink(newer.get()));
    CHECK_FALSE(pbxwall::btfReadsHostShrink(nullptr));
    std::unique_ptr<btf, void (*)(btf*)> none(btf__new_empty(), btf__free);
    CHECK_FALSE(pbxwall::btfReadsHostShrink(none.get())); // no pw_gen_state at all
}
