/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* SIP at XDP ingress, run by the pw_xdp_sip stage: responsive-mode budgets (GCRA) in pw_rate
 * and the new-source gate; the SIP guards are in sip_guards.h. Included by pbxwall.bpf.c after
 * its maps and struct pw_ctx: the maps live there. */
#ifndef PBXWALL_SIP_H
#define PBXWALL_SIP_H

/* GCRA: one unit per interval, `burst` more back to back. Returns 1 when it conforms and
 * charges it. */
static __always_inline int pw_gcra(__u64 *tat, __u64 now, __u64 interval, __u32 burst)
{
	__u64 t = *tat > now ? *tat : now;

	if (t - now > (__u64)burst * interval)
		return 0;
	*tat = t + interval;
	return 1;
}

/* The budget key: IPv4 per address, IPv6 per prefix of the configured length (a link-local
 * address per address: pw_v6_key_bits). */
static __always_inline void pw_budget_key(struct pw_ctx *c, const struct pw_policy *pol, struct pw_ban_key *k)
{
	union pw_addr a = c->m.src;

	if (c->m.family == 6)
		pw_mask6(&a, pw_v6_key_bits(&a, pol->v6_prefix));
	__builtin_memcpy(k->addr, a.b, 16);
}

#define PW_COARSE_TICK_NS 10000000ULL /* a jiffy at HZ=100, the longest */

/* pw_rate_limit_span of the longest interval a policy can have: [sip] period 86400 s at a rate
 * of 1 (in lane units: a day). */
#define PW_RATE_SPAN_MAX ((__u32)((86400ULL * 1000000000ULL) >> PW_RATE_LIMIT_SHIFT) + 2)

/* Where a budget key lives in pw_rate (pbxwall_abi.h): its two buckets of PW_RATE_WAYS slots
 * (their tags share a line) and its tag. */
struct pw_rate_ref {
	__u32 base[2]; /* the first slot of each bucket */
	__u32 tag;
	__u32 check;   /* the lanes' check bits (pw_rate_check) */
	__u32 slot;    /* the slot found, when one is */
	__u32 over;    /* 1: a lane proved the key over its budget (no slot was read) */
};

static __always_inline void pw_rate_ref_of(const struct pw_gen_state *g, const struct pw_ban_key *k,
					   struct pw_rate_ref *ref)
{
	__u64 h = pw_host_hash(*(const __u64 *)k->addr, *(const __u64 *)(k->addr + 8));

	ref->base[0] = pw_rate_bucket(h, g->rate_mask, 0);
	ref->base[1] = pw_rate_bucket(h, g->rate_mask, 1);
	ref->tag = (__u32)(h >> 48) | 1;
	ref->check = pw_rate_check(h);
	ref->slot = 0;
	ref->over = 0;
}

/* The limit lane of slot i (pbxwall_abi.h), in the region after the tags. */
static __always_inline __u32 *pw_rate_lane_of(const struct pw_gen_state *g, __u32 i)
{
	__u32 idx = pw_rate_lane_entry(g->rate_mask + 1, i);
	__u8 *line = bpf_map_lookup_elem(&pw_rate, &idx);

	return line ? (__u32 *)(line + (i & (PW_RATE_LANES_PER_BLOCK - 1)) * 4) : NULL;
}

/* Writes slot i's lane for a budget whose tat_ns is now tat. */
static __always_inline void pw_rate_set_lane(const struct pw_gen_state *g, __u32 i, __u32 check, __u64 tat,
					     __u64 interval, __u32 burst)
{
	__u64 allowance = (__u64)burst * interval;
	__u32 *l = pw_rate_lane_of(g, i);

	if (l)
		*l = pw_rate_lane(check, tat > allowance ? tat - allowance : 0);
}

/* The tag line of a bucket: the tags of its group of PW_RATE_BUCKETS_PER_BLOCK buckets, one
 * 16-bit lane per slot. */
static __always_inline __u8 *pw_rate_tag_line(const struct pw_gen_state *g, __u32 base)
{
	__u32 i = g->rate_mask + 1 + base / PW_RATE_TAGS_PER_BLOCK;

	return bpf_map_lookup_elem(&pw_rate, &i);
}

/* The tags of a bucket in its tag line (slot base + w in lane w). */
static __always_inline __u64 *pw_rate_tags(__u8 *line, __u32 base)
{
	return (__u64 *)(line + (base & (PW_RATE_TAGS_PER_BLOCK - PW_RATE_WAYS)) * 2);
}

static __always_inline struct pw_rate *pw_rate_slot_if(__u32 i, const struct pw_ban_key *k)
{
	struct pw_rate *r = bpf_map_lookup_elem(&pw_rate, &i);

	if (r && r->used && *(__u64 *)r->addr == *(const __u64 *)k->addr &&
	    *(__u64 *)(r->addr + 8) == *(const __u64 *)(k->addr + 8))
		return r;
	return NULL;
}

/* The budget of key k among the slots at base whose tags are t, or NULL: a slot is read only
 * where its tag matches. With span (pw_rate_limit_span, in lane units) not 0, a matching slot's
 * lane is read first: one whose check matches and whose limit is 1 to span units after now_c
 * proves the key over its budget, sets ref->over and reads no slot. */
static __always_inline struct pw_rate *pw_rate_in(const struct pw_gen_state *g, const struct pw_ban_key *k,
						  __u32 base, __u64 t, struct pw_rate_ref *ref, __u32 now_c, __u32 span)
{
	struct pw_rate *r = NULL;

#pragma unroll
	for (__u32 w = 0; w < PW_RATE_WAYS; w++) {
		if (r || ref->over || ((t >> (16 * w)) & 0xffff) != ref->tag)
			continue;
		if (span) {
			__u32 *l = pw_rate_lane_of(g, base + w);
			__u32 v = l ? *l : 0;

			if ((v >> 24) == ref->check && ((v - now_c) & PW_RATE_LIMIT_MASK) - 1 < span) {
				ref->over = 1;
				continue;
			}
		}
		r = pw_rate_slot_if(base + w, k);
		if (r)
			ref->slot = base + w;
	}
	return r;
}

/* The high bit of each 16-bit lane of x that is 0, exactly (no borrow crosses lanes). */
static __always_inline __u64 pw_zero_tags(__u64 x)
{
	const __u64 low15 = 0x7fff7fff7fff7fffULL;

	return ~(((x & low15) + low15) | x | low15);
}

/* The way (0-3) of the lowest lane that pw_zero_tags marked: that bit moved to bit 0 of its
 * lane, times a constant whose top lane then reads the way; 0 when none is. */
static __always_inline __u32 pw_tag_way(__u64 z)
{
	return ((((z & -z) >> 15) * 0x0000000100020003ULL) >> 48) & (PW_RATE_WAYS - 1);
}

/* Does the lane of the key's first slot whose tag is the key's (bucket 0's ways, then bucket
 * 1's: the slot pw_rate_in reads first) prove the key over its budget? Chosen without a branch
 * on which slot that is: with rotating sources the way is random, and a branch on it
 * mispredicts about as often as not. L0 and L1 are the two buckets' lane lines, t0 and t1 their
 * tags. A 0 only means "look further": pw_rate_in then judges as if this was never asked. */
static __always_inline int pw_rate_first_lane_over(const struct pw_rate_ref *ref, const __u8 *L0, const __u8 *L1,
						   __u64 t0, __u64 t1, __u32 now_c, __u32 span)
{
	__u64 tags = (__u64)ref->tag * 0x0001000100010001ULL;
	__u64 z0 = pw_zero_tags(t0 ^ tags), z1 = pw_zero_tags(t1 ^ tags);
	/* A bucket's four lanes are in one line (its first slot is a multiple of four). */
	__u32 v0 = *(const __u32 *)(L0 + ((ref->base[0] & (PW_RATE_LANES_PER_BLOCK - PW_RATE_WAYS)) + pw_tag_way(z0)) * 4);
	__u32 v1 = *(const __u32 *)(L1 + ((ref->base[1] & (PW_RATE_LANES_PER_BLOCK - PW_RATE_WAYS)) + pw_tag_way(z1)) * 4);
	__u32 in0 = -(__u32)((z0 | -z0) >> 63); /* all ones when bucket 0 has a match */
	__u32 v = (v0 & in0) | (v1 & ~in0);

	return (z0 | z1) && (v >> 24) == ref->check && ((v - now_c) & PW_RATE_LIMIT_MASK) - 1 < span;
}

/* The budget of key k, or NULL (*ref then says where a new one would go, or that a lane proved
 * the key over its budget: see pw_rate_in for span): its first bucket, then its second, whose
 * tags are in the same line. With span, the two buckets' lane lines are asked for before the
 * tag line, so that their misses overlap, and the first matching slot's lane is judged without
 * a branch (pw_rate_first_lane_over): a source over its budget, from 100,000 rotating ones,
 * costs 15-35 ns less so (micro bench, 2026-12-05). Array reads, inlined: no helper call. */
static __always_inline struct pw_rate *pw_rate_find(const struct pw_gen_state *g, const struct pw_ban_key *k,
						    struct pw_rate_ref *ref, __u64 now, __u32 span)
{
	pw_rate_ref_of(g, k, ref);
	__u8 *L0 = NULL, *L1 = NULL;

	if (span) {
		__u32 i0 = pw_rate_lane_entry(g->rate_mask + 1, ref->base[0]);
		__u32 i1 = pw_rate_lane_entry(g->rate_mask + 1, ref->base[1]);

		L0 = bpf_map_lookup_elem(&pw_rate, &i0);
		L1 = bpf_map_lookup_elem(&pw_rate, &i1);
		if (L0 && L1) /* loads whose values wait for nothing: the lines come in meanwhile */
			asm volatile("" ::"r"(*(volatile __u32 *)L0), "r"(*(volatile __u32 *)L1));
	}
	__u8 *line = pw_rate_tag_line(g, ref->base[0]);
	__u32 now_c = (__u32)(now >> PW_RATE_LIMIT_SHIFT);
	struct pw_rate *r;

	if (!line)
		return NULL;
	__u64 t0 = *pw_rate_tags(line, ref->base[0]), t1 = *pw_rate_tags(line, ref->base[1]);

	if (L0 && L1 && pw_rate_first_lane_over(ref, L0, L1, t0, t1, now_c, span)) {
		ref->over = 1;
		return NULL;
	}
	r = pw_rate_in(g, k, ref->base[0], t0, ref, now_c, span);
	if (!r && !ref->over)
		r = pw_rate_in(g, k, ref->base[1], t1, ref, now_c, span);
	return r;
}

/* Empty lanes (tag 0) of a bucket's tag word. */
static __always_inline __u32 pw_rate_free(__u64 t)
{
	__u32 n = 0;

#pragma unroll
	for (__u32 w = 0; w < PW_RATE_WAYS; w++)
		n += !((t >> (16 * w)) & 0xffff);
	return n;
}

/* A new budget for key k whose tat_ns is tat: an empty slot of the bucket with more of them (the
 * first on a tie), else the slot used least recently (the earliest limit in its lane) of one of
 * the two. Another CPU may take the same slot at the same time: the last writer keeps it, the
 * other budget starts again (a reset budget is all a lost entry costs). */
static __always_inline void pw_rate_insert(const struct pw_gen_state *g, const struct pw_ban_key *k,
					   const struct pw_rate_ref *ref, __u64 tat, __u64 now, __u64 interval,
					   __u32 burst)
{
	__u8 *line = pw_rate_tag_line(g, ref->base[0]);

	if (!line)
		return;
	__u64 *tags0 = pw_rate_tags(line, ref->base[0]), *tags1 = pw_rate_tags(line, ref->base[1]);
	__u64 t0 = *tags0, t1 = *tags1;
	__u32 f0 = pw_rate_free(t0), f1 = pw_rate_free(t1);
	/* The bucket: the one with more room; both full, one by a bit of the tag, whose least
	 * recently used slot is replaced (its four lanes are in one line: under churn every new
	 * budget reads it, and no slot line). */
	__u32 b = (f0 | f1) ? f1 > f0 : (ref->tag >> 1) & 1;
	/* Scalar arithmetic, not an index into ref's array: the verifier takes no variable offset
	 * on the stack pointer. */
	__u32 base = ref->base[0] ^ ((ref->base[0] ^ ref->base[1]) & (0 - b));
	__u64 *tags = b ? tags1 : tags0, t = b ? t1 : t0;
	__u32 way = PW_RATE_WAYS;

	if (f0 | f1) {
#pragma unroll
		for (__u32 w = 0; w < PW_RATE_WAYS; w++)
			if (way == PW_RATE_WAYS && !((t >> (16 * w)) & 0xffff))
				way = w;
	} else {
		/* The limits' ages before now, as 24-bit numbers offset by the farthest a limit can
		 * be ahead of now under any policy (a key over its budget: recent, the youngest). A
		 * lane is written only when its key sends: offset by 2^23, one silent for 26 days
		 * wrapped round to young, and a live budget went first; now only one silent for 51
		 * days does. Offset by this policy's span (until 2026-12-06), a lane written under a
		 * longer interval (before a reload that raised rate) read as the oldest: a source
		 * over its budget got a fresh one first. */
		__u32 now_c = (__u32)(now >> PW_RATE_LIMIT_SHIFT), oldest = 0;

#pragma unroll
		for (__u32 w = 0; w < PW_RATE_WAYS; w++) {
			__u32 *l = pw_rate_lane_of(g, base + w);
			__u32 age = l ? ((now_c - *l + PW_RATE_SPAN_MAX) & PW_RATE_LIMIT_MASK) + 1 : 0;

			if (age > oldest) {
				oldest = age;
				way = w;
			}
		}
	}
	__u32 i = base + (way & (PW_RATE_WAYS - 1));
	struct pw_rate *v = bpf_map_lookup_elem(&pw_rate, &i);

	if (!v)
		return;
	v->used = 0;
	__builtin_memcpy(v->addr, k->addr, 16);
	v->tat_ns = tat;
	v->strikes_from_ns = 0;
	v->strikes = 0;
	v->used = 1;
	pw_rate_set_lane(g, i, ref->check, tat, interval, burst);
	__u32 sh = 16 * (way & (PW_RATE_WAYS - 1));

	*tags = (t & ~(0xffffULL << sh)) | (__u64)ref->tag << sh;
}

/* Can state be created for a new unknown source? Only for what may start a SIP dialogue (a
 * UDP datagram that begins like a request, a TCP SYN) and within the aggregate budget. */
static __always_inline int pw_new_source_allowed(struct pw_ctx *c, const struct pw_policy *pol, void *data,
						  void *data_end, __u64 now)
{
	__u32 zero = 0;
	struct pw_newsrc *ns;

	if (c->m.proto == IPPROTO_TCP) {
		if ((c->m.tcp_flags & (PW_TCP_SYN | PW_TCP_ACK)) != PW_TCP_SYN)
			return 0;
	} else {
		__u32 off = c->m.l4_off;
		__u8 *p;

		if (off > PW_MAX_HDR_OFF) /* verifier: bound the variable offset */
			return 0;
		p = data + off + sizeof(struct udphdr);
		if ((void *)(p + 1) > data_end)
			return 0;
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))) /* a method token */
			return 0;
	}
	ns = bpf_map_lookup_elem(&pw_newsrc, &zero);
	if (!ns)
		return 0;
	/* One budget for all CPUs, as new_sources_per_second promises: a per-CPU share would be
	 * all a single-queue NIC's CPU gets. The coarse clock moves in jiffies (1-10 ms), and a
	 * CPU's copy may be a tick behind another's: tolerate one. Only an admission writes (a
	 * closed gate reads the line, so a flood does not bounce it between CPUs); one that loses
	 * the race to another CPU is refused, as if the other had come first. */
	__u64 interval = pol->newsrc_interval_ns, tat = *(volatile __u64 *)&ns->tat_ns;
	__u64 t = tat > now ? tat : now;

	if (t - now > PW_COARSE_TICK_NS)
		return 0;
	return __sync_val_compare_and_swap(&ns->tat_ns, tat, t + interval) == tat;
}

/* Is the source known? For pw_sip_content's anonymous-call rule. */
enum { PW_KNOWN_NO = 0, PW_KNOWN_YES = 1, PW_KNOWN_UNSEEN = 2 /* not looked up yet */ };

/* An address's bit in pw_knownbits (as pw_ban_hash for pw_banbits). */
static __always_inline __u64 pw_known_hash(const struct pw_gen_state *g, const union pw_addr *a)
{
	return pw_host_hash(a->d[0], a->d[1]) & g->knownbit_mask;
}

/* The pw_known entry of an address, unless the filter rules it out first: an unknown source
 * costs a bit read, not a helper call into the hash. */
static __always_inline struct pw_known *pw_known_of(const struct pw_gen_state *g, const union pw_addr *a)
{
	struct pw_ban_key k;
	__u64 bit, *w;

	if (g->knownbit_mask) { /* 0: never set up, the table answers */
		w = pw_filter_word(&pw_knownbits, g->knownbit_mask, g->known_half, pw_known_hash(g, a), &bit);
		if (w && !(*w & bit))
			return NULL;
	}
	__builtin_memcpy(k.addr, a->b, 16);
	return bpf_map_lookup_elem(&pw_known, &k);
}

/* Sets an address's known-filter bit in both halves (after its entry is in pw_known). */
static __always_inline void pw_knownbits_set(const union pw_addr *a)
{
	__u32 zero = 0;
	const struct pw_gen_state *g = bpf_map_lookup_elem(&pw_gen, &zero);

	if (g && g->knownbit_mask)
		pw_filter_set(&pw_knownbits, g->knownbit_mask, pw_known_hash(g, a));
}

enum { PW_NOT_KNOWN = 0, PW_KNOWN_WITHIN = 1, PW_KNOWN_OVER = 2 };

/* A known source against its own budget (the debt of the small unknown budget does not follow
 * it): PW_KNOWN_WITHIN or PW_KNOWN_OVER; PW_NOT_KNOWN for a source that is not known. */
static __always_inline __u32 pw_judge_known(const struct pw_gen_state *g, struct pw_ctx *c, __u64 now, int charge)
{
	struct pw_known *kn = pw_known_of(g, &c->m.src);

	if (!kn || now >= kn->expires_ns)
		return PW_NOT_KNOWN;
	if (!charge || pw_gcra(&kn->tat_ns, now, c->policy->known_interval_ns, c->policy->known_burst))
		return PW_KNOWN_WITHIN;
	return PW_KNOWN_OVER;
}

/* Is the address known now (a live pw_known entry)? PW_KNOWN_YES or PW_KNOWN_NO. */
static __always_inline __u32 pw_known_now(const union pw_addr *a, __u64 now)
{
	__u32 zero = 0;
	const struct pw_gen_state *g = bpf_map_lookup_elem(&pw_gen, &zero);
	struct pw_known *kn = g ? pw_known_of(g, a) : NULL;

	return kn && now < kn->expires_ns ? PW_KNOWN_YES : PW_KNOWN_NO;
}

/* The bans the data plane sets itself for a probe (a scanner's User-Agent, a trap port) or
 * failed authentications spare a source that is known now: a registered phone, or an office
 * of them behind one NAT address. One forged datagram with its address, or a neighbour
 * failing behind the same NAT, would otherwise cut them all off for ban_seconds. What set it
 * off still drops, and a known source stays under its own budget. */
static __always_inline void pw_ban_unless_known(const union pw_addr *a, const struct pw_policy *pol, __u32 zone,
						__u32 cause, __u64 now)
{
	if (pw_known_now(a, now) != PW_KNOWN_YES)
		pw_ban_addr(a, pol, zone, cause, now, 0);
}

/* Is the IPv6 source under a ban of its prefix (k: its address masked to v6_prefix, whose
 * filter bit is set)? Only a ban whose own prefix holds the source (one of another length may
 * share the key for a moment: pbxwalld refits them when ipv6_prefix changes), and not when the
 * source itself is known. A function of its own, verified once: only sources whose prefix's
 * filter bit is set call it. */
__noinline int pw_prefix_banned(const struct pw_ban_key *k, const union pw_addr *src)
{
	struct pw_ban *b;
	union pw_addr in, key;
	__u64 now;

	if (!k || !src)
		return 0;
	b = bpf_map_lookup_elem(&pw_bans, k);
	if (!b || !b->prefix)
		return 0;
	in = *src;
	pw_mask6(&in, b->prefix);
	__builtin_memcpy(key.b, k->addr, 16);
	if (in.d[0] != key.d[0] || in.d[1] != key.d[1])
		return 0;
	now = pw_now();
	if (b->expires_ns && now >= b->expires_ns)
		return 0;
	return pw_known_now(src, now) != PW_KNOWN_YES;
}

/* The prefix ban check of an IPv6 source that no exact ban holds: its prefix's filter bit,
 * inline, and pw_prefix_banned behind a set bit. Internet sources only: a `local` or `other`
 * host is counted and banned by address, and an internet neighbour's ban of its /64 must not
 * take it along. */
static __always_inline int pw_is_prefix_banned(const struct pw_gen_state *g, struct pw_ctx *c)
{
	struct pw_ban_key k;
	union pw_addr a = c->m.src;
	/* 128 and more for another zone: (zone ^ internet) + 255 reaches 256 unless they are
	 * equal (no branch that splits the verifier's states). */
	__u32 bits = pw_v6_key_bits(&a, c->policy->v6_prefix) |
		     ((((__u32)c->zone ^ PW_ZONE_INTERNET) + 255) >> 8) << 7;
	__u64 bit, *w;

	if (c->m.family != 6 || bits >= 128)
		return 0;
	pw_mask6(&a, bits);
	if (g->banbit_mask) {
		w = pw_banbit(g, g->ban_half, pw_ban_hash(g, &a), &bit);
		if (w && !(*w & bit))
			return 0;
	}
	__builtin_memcpy(k.addr, a.b, 16);
	return pw_prefix_banned(&k, &c->m.src);
}

/* Is there a live UDP flow to this peer (pw_tc_egress recorded a request the PBX sent it from
 * the SIP port: an INVITE to a SIP address, a REGISTER to a trunk)? A global function, verified
 * once: asked only on paths that would drop. */
__noinline int pw_udp_flow(const struct pw_meta *m)
{
	return m && m->proto == IPPROTO_UDP && pw_flow_reply(m, PW_FLOW_TIMEOUT_UDP_NS);
}

/* The same within two hours of the PBX's last request to the peer, whatever its method: may
 * the peer's request inside a dialog pass (pw_sip_in_dialog, pw_hdr_checks)? A call the PBX made
 * to a SIP address lasts longer than the 180 s in which the peer's answers are replies, and the
 * peer's BYE, hold or session refresh must still reach the PBX. */
#define PW_FLOW_DIALOG_NS (7200ULL * 1000000000ULL)
__noinline int pw_dialog_flow(const struct pw_meta *m)
{
	return m && m->proto == IPPROTO_UDP && pw_flow_reply(m, PW_FLOW_DIALOG_NS);
}

#include "sip_guards.h"

/* A TCP segment (not a SYN) to the SIP port that the budget would drop: the answer to a
 * connection the PBX itself opened from its SIP port (Kamailio's tcp_reuse_port, say) is a
 * reply. Asked only on those drops: a flow lookup, never on a path that passes. */
static __always_inline int pw_tcp_reply(struct pw_ctx *c)
{
	return c->m.proto == IPPROTO_TCP && (c->m.tcp_flags & (PW_TCP_SYN | PW_TCP_ACK)) != PW_TCP_SYN &&
	       pw_is_reply(c);
}

/* Does the UDP datagram begin with "SIP/2.0 " (an answer) and hold `need` bytes (8 or more)?
 * Sets *payload to its start when it does. */
static __always_inline int pw_udp_answer_at(void *data, void *data_end, const struct pw_meta *m, __u32 need,
					    __u8 **payload)
{
	if (m->proto != IPPROTO_UDP || m->l4_off > PW_MAX_HDR_OFF)
		return 0;
	__u8 *p = data + pw_pkt_off(m->l4_off + sizeof(struct udphdr));

	*payload = p;
	return (void *)(p + need) <= data_end && *(__u64 *)p == 0x20302e322f504953ULL; /* "SIP/2.0 " */
}

/* Is the UDP datagram an answer? It judges nothing: guard 1 (pw_sip_first_line, with
 * no_answers) has passed the answer first, as a reply to a flow and not one a proxy would
 * forward. */
static __always_inline int pw_udp_is_answer(void *data, void *data_end, const struct pw_meta *m)
{
	__u8 *p;

	return pw_udp_answer_at(data, data_end, m, 8, &p);
}

/* A UDP datagram to the SIP port that the budget would drop: an answer ("SIP/2.0 ") to a request
 * the PBX sent this peer is a reply (PW_UDP_ANSWER_REPLY), neither charged nor struck. Else a call's
 * answers and retransmissions used up the peer's budget, the next call's answers dropped and
 * its strikes banned it. One a proxy would forward to another Via (pw_answer_relayed) is
 * refused, not struck (PW_UDP_ANSWER_REFUSED): its source address may be forged, and a trunk's
 * must not be banned for it. 0 for anything else. The flow lookup is pw_udp_flow's, a global
 * function: inline at both places here it cost 15k verifier instructions. */
enum { PW_UDP_ANSWER_NONE = 0, PW_UDP_ANSWER_REPLY = 1, PW_UDP_ANSWER_REFUSED = 2 };
static __always_inline int pw_udp_answer_reply(struct xdp_md *ctx, const struct pw_meta *m, struct pw_uf_lines *ul)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	/* "SIP/2.0 " and a status class, in 16 bytes at least, as guard 1 reads a status line:
	 * a reply skips that guard (below). */
	__u8 *p;

	if (!pw_udp_answer_at(data, data_end, m, 16, &p) || p[8] < '1' || p[8] > '6')
		return 0;
	__u32 off = m->l4_off + sizeof(struct udphdr);
	if (!pw_udp_flow(m))
		return PW_UDP_ANSWER_NONE;
	if (pw_answer_relayed(ctx, off, pw_answer_peer(&m->src)))
		return PW_UDP_ANSWER_REFUSED;
	/* Judged as guard 1 would judge it (pw_sip_first_line): not searched and read again there. */
	if (ul)
		ul->first = PW_FIRST_OTHER;
	return PW_UDP_ANSWER_REPLY;
}

/* Responsive mode: SIP from an internet-zone source. Known sources get the higher ceiling;
 * unknown ones the small budget, or nothing when responsive mode is off. A source that keeps
 * exceeding its budget is banned. Sets *known (PW_KNOWN_NO or PW_KNOWN_YES). The budget comes
 * before the first line: a source over its budget drops whatever its datagram holds, unread.
 * With ul (UDP), a new source's first line is judged before state is made for it. */
static __always_inline __u32 pw_judge_responsive(struct xdp_md *ctx, struct pw_ctx *c, __u32 *known,
						 struct pw_uf_lines *ul)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pw_ban_key k;
	struct pw_rate *r;
	__u64 now = pw_now();
	const struct pw_policy *pol = c->policy;

	__u64 interval = pol->interval_ns;
	__u32 burst = pol->burst;
	/* TCP (and TLS): the content is not read; only connection attempts are charged. */
	int charge = c->m.proto != IPPROTO_TCP || (c->m.tcp_flags & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN;

	__u32 zero = 0;
	const struct pw_gen_state *g = bpf_map_lookup_elem(&pw_gen, &zero);
	struct pw_rate_ref ref;

	if (!g)
		return PW_REASON_MALFORMED; /* verifier: index 0 of an array always exists */
	/* Opaque: the ways through the known filter and pw_known reach the budget as one verifier
	 * state, not one each. */
	__u32 kv = pw_opaque(pw_judge_known(g, c, now, charge));

	*known = PW_KNOWN_NO;
	if (kv != PW_NOT_KNOWN) {
		*known = PW_KNOWN_YES;
		return kv == PW_KNOWN_WITHIN ? PW_REASON_SIP_KNOWN : PW_REASON_RATE_LIMITED;
	}
	/* Replies pass whatever the mode, as conntrack's would: over TCP, and over UDP an answer
	 * from a peer the PBX sent a request, guard 1's way (pw_udp_answer_reply). */
	if (!pol->responsive)
		return pw_tcp_reply(c) || pw_udp_answer_reply(ctx, &c->m, ul) == PW_UDP_ANSWER_REPLY
			       ? PW_REASON_REPLY
			       : PW_REASON_NOT_WHITELISTED;
	pw_budget_key(c, pol, &k);
	/* Without bans for rate, nothing but the verdict is left to do for a key over its budget:
	 * its lane may tell, without its slot. */
	r = pw_rate_find(g, &k, &ref, now, charge && !pol->ban_after ? pw_rate_limit_span(interval) : 0);
	if (ref.over)
		return pw_udp_answer_reply(ctx, &c->m, ul) == PW_UDP_ANSWER_REPLY ? PW_REASON_REPLY : PW_REASON_RATE_LIMITED;
	if (!r) {
		__u32 first = ul ? pw_sip_first_line(ctx, c, ul, 1) : 0;

		if (first)
			return first;
		/* Past the gate, a reply passes without state, as past a budget: over TCP, and an
		 * answer over UDP, which guard 1 has just passed (a reply to a flow, and not one a
		 * proxy would forward). Else, while a spoofed flood holds the gate shut, a peer the
		 * PBX called had its answers dropped, and the call failed. */
		if (!pw_new_source_allowed(c, pol, data, data_end, now))
			return pw_tcp_reply(c) || (ul && pw_udp_is_answer(data, data_end, &c->m)) ? PW_REASON_REPLY
												: PW_REASON_NEW_SOURCE_LIMITED;
		pw_rate_insert(g, &k, &ref, now + interval, now, interval, burst);
		return PW_REASON_SIP_RESPONSIVE;
	}
	if (!charge) {
		/* A segment after an admitted SYN: not charged, but the budget is in use. The cache
		 * replaces the slot whose lane holds the earliest limit, and the lane moves only when
		 * tat_ns does: an open connection's budget would be the first a flood of new sources
		 * pushed out, and its next segment would then meet the new-source rules (not a SYN:
		 * dropped). Its lane moves up to now (as if tat_ns were now plus the burst's allowance),
		 * which proves nothing over budget (a limit ahead of now is kept); the slot keeps the
		 * budget's tat_ns. */
		__u64 in_use = now + (__u64)burst * interval;

		pw_rate_set_lane(g, ref.slot, ref.check, r->tat_ns > in_use ? r->tat_ns : in_use, interval, burst);
		return PW_REASON_SIP_RESPONSIVE;
	}
	if (pw_gcra(&r->tat_ns, now, interval, burst)) {
		pw_rate_set_lane(g, ref.slot, ref.check, r->tat_ns, interval, burst);
		return PW_REASON_SIP_RESPONSIVE;
	}
	int answer = pw_udp_answer_reply(ctx, &c->m, ul);

	if (answer)
		return answer == PW_UDP_ANSWER_REPLY ? PW_REASON_REPLY : PW_REASON_RATE_LIMITED;

	if (pw_since(now, r->strikes_from_ns) > (__s64)pol->ban_window_ns) {
		r->strikes_from_ns = now;
		r->strikes = 0;
	}
	r->strikes++;
	if (pol->ban_after && r->strikes >= pol->ban_after) {
		r->strikes = 0;
		pw_ban_source(c, pol, PW_BAN_RATE_LIMIT, now);
	}
	return PW_REASON_RATE_LIMITED;
}

#endif /* PBXWALL_SIP_H */
