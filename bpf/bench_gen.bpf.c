// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The end-to-end benchmark's programs (scripts/bench.sh --e2e, tests/bench/pw_e2e.cpp):
 *
 *   pwg_gen   the traffic generator. Run with BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES
 *             inside the sender's namespace: each repetition takes the next IPv4 source from
 *             pwg_sources (the list the receivers block), writes it and a fresh header checksum
 *             into the frame, and redirects the frame into the sender-side veth, whose peer's
 *             NAPI then handles it like a frame from a wire.
 *   pwg_fan   the generator where the kernel refuses live frames: attached natively to one end
 *             of a relay veth pair in the sender's namespace, into whose other end pw_e2e sends
 *             one frame at a time from a packet socket. It redirects each frame to every entry
 *             of pwg_fanout (BPF_F_BROADCAST), all of them the sender-side veth of the receiver
 *             under test, so that one frame sent becomes PWG_FANOUT frames received.
 *   pwg_stamp the devmap program of those entries: writes the next source into each copy, as
 *             pwg_gen does. The receiver gets XDP frames, as from live frames (no socket
 *             buffers), whose sources rotate through the list.
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

/* The next source and a fresh header checksum into the frame; 0 when it is not IPv4. */
static __always_inline int pwg_stamp_frame(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 k = pwg_next++ % pwg_count;
	__u32 *src = bpf_map_lookup_elem(&pwg_sources, &k);

	if (!src || (void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
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
	return 1;
}

SEC("xdp")
int pwg_gen(struct xdp_md *ctx)
{
	return pwg_stamp_frame(ctx) ? bpf_redirect(pwg_ifindex, 0) : XDP_ABORTED;
}

#define PWG_FANOUT 64 /* copies of each frame sent to the relay */

/* Every entry: the receiver's sender-side veth, with pwg_stamp (pw_e2e fills it per flood). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, PWG_FANOUT);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} pwg_fanout SEC(".maps");

SEC("xdp")
int pwg_fan(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_redirect_map(&pwg_fanout, 0, BPF_F_BROADCAST);
}

SEC("xdp/devmap")
int pwg_stamp(struct xdp_md *ctx)
{
	return pwg_stamp_frame(ctx) ? XDP_PASS : XDP_DROP;
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
