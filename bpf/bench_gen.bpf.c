// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The end-to-end benchmark's programs (scripts/bench.sh --e2e, tests/bench/pw_e2e.cpp):
 *
 *   pwg_gen   the traffic generator. Run with BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES
 *             inside the sender's namespace: each repetition takes the next IPv4 source from
 *             pwg_sources (the list the receivers block), writes it and a fresh header checksum
 *             into the frame, and redirects the frame into the sender-side veth, whose peer's
 *             NAPI then handles it like a frame from a wire.
 *   pwg_drop  the floor: a bare XDP_DROP attached natively to a receiving veth.
 *   pwg_read  a bare drop that first reads the frame's headers (EtherType, IPv4 source, UDP
 *             destination port: the frame's first cache line, as every filter must): shows
 *             what reading the packet costs the receiver, apart from any filter's own work.
 *
 * Live frames come from a page pool and keep what a previous run wrote into them, so the
 * generator writes every field it changes from scratch (the checksum is not updated
 * incrementally). The UDP checksum of the frame is 0 (none, valid for IPv4). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Sources in network byte order; max_entries is set to the list's length before loading. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pwg_sources SEC(".maps");

const volatile __u32 pwg_count = 1; /* entries in pwg_sources */
__u32 pwg_ifindex;                  /* where frames go: the sender-side veth (changed between floods) */
__u64 pwg_next;                     /* the next source; the generator runs on one CPU */

SEC("xdp")
int pwg_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 k = pwg_next++ % pwg_count;
	__u32 *src = bpf_map_lookup_elem(&pwg_sources, &k);

	if (!src || (void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_ABORTED;
	ip->saddr = *src;
	ip->check = 0;
	/* The 20-byte header (the frame is built with IHL 5) as ten 16-bit words. */
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = (__u16)~sum;
	return bpf_redirect(pwg_ifindex, 0);
}

SEC("xdp")
int pwg_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

SEC("xdp")
int pwg_read(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u16 *ports = (void *)(ip + 1);

	if ((void *)(ports + 2) > data_end)
		return XDP_ABORTED;
	/* Never true for the flood: the reads cannot be left out, and the verdict stays a drop. */
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->saddr == 0 || ports[1] == 0)
		return XDP_ABORTED;
	return XDP_DROP;
}
