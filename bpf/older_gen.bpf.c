// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Test only (tests/netns/restart.sh): a stand-in for a pbxwall XDP program built before
 * pw_gen_state.host_shrink. It uses a map named pw_gen whose value ends in `pad` where
 * host_shrink is now; loaded against the pinned pw_gen, it is an older program that uses
 * pbxwalld's maps, and pbxwalld must then keep every host-table half whole. Never attached.
 * Loaded with its maps pinned instead, it stands for another build's maps: its pw_gen is a
 * layout pbxwalld accepts (padding given a use), its pw_fails one it must refuse (the same
 * sizes, the two counts in the other order). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct pw_gen_state {
	__u32 active, hosts, host4_mask, host6_mask, nets4_blocks, ban_half, banbit_mask, rate_mask;
	__u32 known_half, knownbit_mask, src4_built;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_gen_state);
} pw_gen SEC(".maps");

struct pw_ban_key {
	__u8 addr[16];
};

struct pw_fail {
	__u64 from_ns;
	__u32 challenges, failures;
	__u64 struck_ns;
	__u8 top[16];
	__u32 top_count, pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16);
	__type(key, struct pw_ban_key);
	__type(value, struct pw_fail);
} pw_fails SEC(".maps");

SEC("xdp")
int pw_older_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct pw_gen_state *g = bpf_map_lookup_elem(&pw_gen, &zero);

	(void)ctx;
	return g && g->hosts > 1 ? XDP_DROP : XDP_PASS;
}
