// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Classification of a source address by the exact host tables and the IPv4 prefix table
 * (layouts in pbxwall_abi.h): array maps only, so every lookup is inlined by the verifier.
 * Included by pbxwall.bpf.c after its own maps (pw_gen). */
#ifndef PBXWALL_CLASSIFY_H
#define PBXWALL_CLASSIFY_H

/* Zones of single hosts (/32, /128): exact match first, the bulk of large blocklists.
 * Open-addressing tables of cache-line buckets, two halves each (pbxwall_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * (PW_DEFAULT_HOSTS / 8)); /* 2 * pw_host_buckets(); set from [limits] */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pw_host4_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_hosts4 SEC(".maps");

/* Two summary words per bucket of pw_hosts4, same halves (pbxwall_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * 2 * (PW_DEFAULT_HOSTS / 8)); /* 2 * pw_hosts4's; set with it */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_hostbits4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * (PW_DEFAULT_HOSTS6 / 2));
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pw_host6_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_hosts6 SEC(".maps");

/* Zones of IPv4 prefixes: a multibit trie of cache-line chunks (pbxwall_abi.h), two halves. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * (PW_NET4_TOP / 16 + 2 * PW_DEFAULT_NETS + 64)); /* set from [limits] */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pw_net4_block);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_nets4 SEC(".maps");

/* One bit per IPv4 /24 that holds a zone entry or a ban, two halves (pbxwall_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * PW_SRC4_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_src4 SEC(".maps");

/* The word of half `half` of pw_src4 that holds the /24 of addr (host order). */
static __always_inline __u64 *pw_src4_word_of(__u32 half, __u32 addr)
{
	__u32 idx = (half & 1) * PW_SRC4_WORDS + pw_src4_word(addr);

	return bpf_map_lookup_elem(&pw_src4, &idx);
}

/* Is the source (m->family from the parse) an IPv4 address whose /24 holds no zone entry and no
 * ban? Then its zone is the interface's and it is not banned. 0 until the summary is built. */
static __always_inline int pw_src4_unlisted(const struct pw_gen_state *g, const struct pw_meta *m)
{
	__u32 addr = bpf_ntohl(m->src.w[3]);
	__u64 *w;

	if (m->family != 4 || !g->src4_built)
		return 0;
	w = pw_src4_word_of(g->ban_half, addr);
	return w && !(*w & pw_src4_bit(addr));
}

/* The half of the host and prefix tables a packet reads, from pw_gen's `active` (read once per
 * packet, with the generation: pw_gen_word) or, as a build before the copy there wrote it,
 * `hosts`; handed to every zone lookup, so that all of them read one half even when a flip
 * lands in the middle (pbxwalld waits for the programs that started before a flip to end
 * before it writes the other half again). */
static __always_inline __u32 pw_hosts_half(const struct pw_gen_state *g, __u32 active)
{
	return pw_gen_hosts_half(active, *(volatile const __u32 *)&g->hosts);
}

/* pw_gen's `active`, read once per packet: the generation and the host half come from it. */
static __always_inline __u32 pw_gen_word(const struct pw_gen_state *g)
{
	return *(volatile const __u32 *)&g->active;
}

/* Where a lookup in half `half` of a host table reads: its first bucket's index in the map and
 * the mask of the buckets it uses (pw_host_shrink). The half's shrink byte is written before
 * the flip to that half, and read after `hosts`. */
struct pw_host_view {
	__u32 base;
	__u32 mask;
};
static __always_inline struct pw_host_view pw_host_view_of(const struct pw_gen_state *g, __u32 half, __u32 v6)
{
	struct pw_host_view v;
	__u32 whole = v6 ? g->host6_mask : g->host4_mask;

	v.mask = whole >> pw_host_shrink(*(volatile const __u32 *)&g->host_shrink, v6, half);
	v.base = half * (whole + 1);
	return v;
}

/* The summary word of an IPv4 address whose hash is h, in the half of pw_hostbits4 that goes
 * with v (two words per bucket). */
static __always_inline __u64 *pw_hostbits4_of(struct pw_host_view v, __u64 h)
{
	__u32 idx = 2 * v.base + pw_hostbit4_word(h, v.mask);

	return bpf_map_lookup_elem(&pw_hostbits4, &idx);
}

/* Index in pw_nets4 of the block that holds entry i of half `half`. */
static __always_inline __u32 pw_net4_idx(const struct pw_gen_state *g, __u32 half, __u32 i)
{
	return half * g->nets4_blocks + (i >> 4);
}

/* The zone of an exact address in the host tables, or PW_ZONE_NONE. Array lookups are
 * inlined by the verifier: no helper call, one cache line per bucket probed. */
static __always_inline __u8 pw_host4_zone(const struct pw_gen_state *g, __u32 half, __u32 addr)
{
	__u64 h = pw_host4_hash(addr);
	struct pw_host_view v = pw_host_view_of(g, half, 0);
	__u64 *sum = pw_hostbits4_of(v, h);

	if (sum && !(*sum & pw_hostbit4_bit(h)))
		return PW_ZONE_NONE; /* no entry has this address's bit in its home bucket */

#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < PW_HOST_PROBES; i++) {
		__u32 idx = v.base + ((__u32)(h + i) & v.mask);
		const struct pw_host4_bucket *b = bpf_map_lookup_elem(&pw_hosts4, &idx);
		__u64 zone = 0;

		if (!b)
			return PW_ZONE_NONE;
		/* Branch-free: a slot's zone counts when its key matches and it is in use (keys are
		 * unique, so at most one does). Few branches keep the verifier's work small. */
#pragma unroll
		for (__u32 s = 0; s < PW_HOST4_SLOTS; s++) {
			__u64 hit = (((__u64)(b->addr[s] ^ addr) - 1) >> 63) & (b->flags >> s);

			zone |= b->zone[s] & (0 - (hit & 1));
		}
		if (zone)
			return zone;
		if (!(b->flags & PW_HOST_PASSED))
			return PW_ZONE_NONE;
	}
	return PW_ZONE_NONE;
}

static __always_inline __u8 pw_host6_zone(const struct pw_gen_state *g, __u32 half, __u64 hi, __u64 lo)
{
	__u64 h = pw_host_hash(hi, lo);
	struct pw_host_view v = pw_host_view_of(g, half, 1);

#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < PW_HOST_PROBES; i++) {
		__u32 idx = v.base + ((__u32)(h + i) & v.mask);
		const struct pw_host6_bucket *b = bpf_map_lookup_elem(&pw_hosts6, &idx);
		__u64 zone = 0;

		if (!b)
			return PW_ZONE_NONE;
#pragma unroll
		for (__u32 s = 0; s < PW_HOST6_SLOTS; s++) {
			__u64 x = (b->addr[s][0] ^ hi) | (b->addr[s][1] ^ lo);
			__u64 hit = (~((x | (0 - x)) >> 63)) & (b->flags >> s); /* bit 0: x == 0, in use */

			zone |= b->zone[s] & (0 - (hit & 1));
		}
		if (zone)
			return zone;
		if (!(b->flags & PW_HOST_PASSED))
			return PW_ZONE_NONE;
	}
	return PW_ZONE_NONE;
}

/* The zone of the longest IPv4 prefix that holds addr (host order), or PW_ZONE_NONE: level 0
 * is indexed by the /16, every chunk below it by the next 4 bits. */
static __always_inline __u8 pw_net4_zone(const struct pw_gen_state *g, __u32 half, __u32 addr)
{
	__u32 i = addr >> 16; /* entry of the half */
	__u32 shift = 16;

#pragma clang loop unroll(disable)
	for (int level = 0; level < 5; level++) {
		__u32 idx = pw_net4_idx(g, half, i);
		const struct pw_net4_block *b = bpf_map_lookup_elem(&pw_nets4, &idx);
		__u32 e;

		if (!b)
			return PW_ZONE_NONE;
		e = b->e[i & 15];
		if (!(e & PW_NET4_CHUNK))
			return e & 0xff;
		shift -= 4;
		i = PW_NET4_TOP + ((e & ~PW_NET4_CHUNK) << 4) + ((addr >> (shift & 31)) & 15);
	}
	return PW_ZONE_NONE;
}

#define PW_ADDR_V4 0x100 /* pw_addr_zone(): the address is IPv4 */

/* The zone of an address from the exact host tables, then (IPv4) the prefix table, with
 * PW_ADDR_V4 for an IPv4 address; IPv6 prefixes are left to the caller. g: pw_gen's state.
 * Inlined: a BPF-to-BPF call costs ~23 ns on machines whose returns go through a mitigation
 * thunk (SRSO), more than a hot lookup itself; the SIP stage's deep code lives in another
 * program (pw_xdp_sip). */
static __always_inline __u32 pw_addr_zone_in(const struct pw_gen_state *g, __u32 half, __u64 hi, __u64 lo)
{
	__u32 v4 = lo >> 32, z;

	if (hi != 0 || (__u32)lo != bpf_htonl(0xffff)) /* not IPv4-mapped: an IPv6 packet */
		return pw_host6_zone(g, half, hi, lo);
	z = pw_host4_zone(g, half, v4);
	if (z == PW_ZONE_NONE)
		z = pw_net4_zone(g, half, bpf_ntohl(v4));
	return z | PW_ADDR_V4;
}

/* pw_addr_zone_in for the host half that `active` (pw_gen_word, read by the caller with its
 * generation) names: a function of its own, for the TC egress program, whose per-packet cost
 * matters less than its verification. */
__noinline __u32 pw_addr_zone_fn(__u64 hi, __u64 lo, __u32 active)
{
	__u32 zero = 0;
	const struct pw_gen_state *g = bpf_map_lookup_elem(&pw_gen, &zero);

	if (!g)
		return PW_ZONE_NONE;
	return pw_addr_zone_in(g, pw_hosts_half(g, active), hi, lo);
}

#endif /* PBXWALL_CLASSIFY_H */
