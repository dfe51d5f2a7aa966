// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Benchmark harness programs (never attached to an interface): a bare XDP drop, the floor
 * every pbxwall figure is compared with, and a front program that rewrites the IPv4 source
 * of each BPF_PROG_TEST_RUN repetition before tail-calling the program under test, so that
 * map lookups meet cold caches as real traffic would. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct pwb_rotation {
	__u32 count;  /* sources to rotate through; 0: leave the packet alone */
	__u32 offset; /* index of the first source */
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pwb_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pwb_rotation);
} pwb_rot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pwb_iter SEC(".maps");

/* Source number k -> 10.x.y.z for k < 2^24, a bijection that scatters neighbours; from 2^24
 * on, one address in each /24 of 100.64.0.0/10 in turn (the reject prefixes' sources: 16,384
 * /24s, apart from every 10/8 source). No packet with these sources leaves a test run. */
static __always_inline __u32 pwb_source(__u32 k)
{
	__u32 low = (10U << 24) | ((k * 2654435761U) & 0xffffffU);
	__u32 high = 0x64400000U | (((k - (1U << 24)) & 0x3fffU) << 8) | 1;
	__u32 mask = -(__u32)(k >> 24 != 0);

	return (low & ~mask) | (high & mask);
}

SEC("xdp")
int pwb_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

SEC("xdp")
int pwb_front(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u32 zero = 0;
	struct pwb_rotation *rot = bpf_map_lookup_elem(&pwb_rot, &zero);
	__u32 *iter = bpf_map_lookup_elem(&pwb_iter, &zero);

	/* The same work for every row, rotating or not (a row that skipped it would look a few ns
	 * cheaper than it is, as the floor rotates): without a count, the source written back is
	 * its own. */
	if (rot && iter && (void *)(ip + 1) <= data_end) {
		__u32 count = rot->count;
		__u32 k = rot->offset + (*iter)++ % (count + (count == 0)); /* a division either way */
		__u32 old = ip->saddr;
		__u32 keep = -(__u32)(count == 0);
		__u32 new = (bpf_htonl(pwb_source(k)) & ~keep) | (old & keep);
		/* keep the header checksum right (RFC 1624) even though pbxwall does not check it */
		__u32 sum = (__u16)~ip->check + (__u16)~old + (__u16)~(old >> 16) + (__u16)new + (__u16)(new >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		ip->check = (__u16)~sum;
		ip->saddr = new;
	}
	bpf_tail_call(ctx, &pwb_target, 0);
	return XDP_ABORTED; /* the tail call failed: shows as a wrong verdict */
}
