/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Timed bans at XDP ingress: the ban table pw_bans, its Bloom filter pw_banbits and its cache
 * pw_bancache (layouts in pbxwall_abi.h), the lookup a packet makes and the bans the data plane
 * sets. Included by pbxwall.bpf.c after pw_gen, pw_events and struct pw_ctx. */
#ifndef PBXWALL_BANS_H
#define PBXWALL_BANS_H

/* Timed bans. A plain hash, never LRU: a flood of new sources cannot evict a ban. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_DEFAULT_BANS);
	__type(key, struct pw_ban_key);
	__type(value, struct pw_ban);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_bans SEC(".maps");

/* Bloom filter of the banned addresses, two halves (pbxwall_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * (PW_DEFAULT_BANS / 4)); /* 2 * pw_banbit_words(); set from [limits] */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_banbits SEC(".maps");

/* The bans as plain arrays in front of pw_bans, two halves (pbxwall_abi.h). Read only here. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * 2 * (PW_DEFAULT_BANS / 4)); /* 2 * pw_bancache_buckets(); set from [limits] */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pw_bancache_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_bancache SEC(".maps");

static __always_inline __u64 pw_ban_hash(const struct pw_gen_state *g, const union pw_addr *a)
{
	return pw_host_hash(a->d[0], a->d[1]) & g->banbit_mask;
}

/* The word and bit of hash h (masked with mask, the filter's bits per half - 1) in half `half`
 * of an address filter: pw_banbits or pw_knownbits (pbxwall_abi.h). */
static __always_inline __u64 *pw_filter_word(void *filter, __u32 mask, __u32 half, __u64 h, __u64 *bit)
{
	__u32 idx = (half & 1) * ((mask + 1) >> 6) + (__u32)(h >> 6);

	*bit = 1ULL << (h & 63);
	return bpf_map_lookup_elem(filter, &idx);
}

/* Sets bit h in both halves of an address filter (a writer, after its entry is in the table). */
static __always_inline void pw_filter_set(void *filter, __u32 mask, __u64 h)
{
	__u64 bit, *w;

	w = pw_filter_word(filter, mask, 0, h, &bit);
	if (w)
		__sync_fetch_and_or(w, bit);
	w = pw_filter_word(filter, mask, 1, h, &bit);
	if (w)
		__sync_fetch_and_or(w, bit);
}

/* The filter word and bit of a ban hash (pw_ban_hash) in half `half`. */
static __always_inline __u64 *pw_banbit(const struct pw_gen_state *g, __u32 half, __u64 h, __u64 *bit)
{
	return pw_filter_word(&pw_banbits, g->banbit_mask, half, h, bit);
}

/* The ban-cache bucket of a ban hash in half `half`. */
static __always_inline struct pw_bancache_bucket *pw_bancache_of(const struct pw_gen_state *g, __u32 half, __u64 h)
{
	__u32 idx = (half & 1) * ((g->banbit_mask + 1) >> 5) + (__u32)(h >> 5);

	return bpf_map_lookup_elem(&pw_bancache, &idx);
}

/* The source's ban hash (pw_ban_hash), worked out once per packet before the source is
 * classified, with the loads of its filter word and, behind a set bit, its ban-cache bucket
 * started: the branch is predicted, so where bans are common the CPU issues the bucket's load
 * while the filter word is still on its way, and both overlap with the classification that
 * comes next instead of following it; where bans are rare it spends nothing on the bucket.
 * Only the hash is kept (a plain number: the verifier carries one state through the
 * classification, not one per way here). */
static __always_inline __u64 pw_ban_hash_ahead(const struct pw_gen_state *g, const union pw_addr *a)
{
	__u32 half = g->ban_half;
	__u64 h = pw_ban_hash(g, a), bit, *w;

	if (!g->banbit_mask) /* never set up */
		return h;
	w = pw_banbit(g, half, h, &bit);
	if (w && (*w & bit)) {
		struct pw_bancache_bucket *cb = pw_bancache_of(g, half, h);

		if (cb)
			(void)*(volatile __u32 *)&cb->until[0];
	}
	return h;
}

/* Is the source under an active ban of its own address? The filter rules most sources out; the
 * cache answers for the bans it holds (never prefix bans); pw_bans for the rest. h: the
 * source's pw_ban_hash under the same g. */
static __always_inline int pw_is_banned(const struct pw_gen_state *g, __u64 h, struct pw_ctx *c)
{
	struct pw_ban_key bk;
	struct pw_ban *b;
	__u64 bit, *w;

	if (g->banbit_mask) { /* 0: never set up, go to the table */
		__u32 half = g->ban_half;

		w = pw_banbit(g, half, h, &bit);
		if (w && !(*w & bit))
			return 0;
		struct pw_bancache_bucket *cb = pw_bancache_of(g, half, h);

		if (cb) {
			for (int i = 0; i < PW_BANCACHE_WAYS; i++) {
				if (cb->addr[i][0] != c->m.src.d[0] || cb->addr[i][1] != c->m.src.d[1] || !cb->until[i])
					continue;
				if (cb->until[i] == PW_BANCACHE_FOREVER ||
				    (pw_now() >> PW_BANCACHE_SHIFT) < cb->until[i])
					return 1;
				break; /* expired here: pw_bans may hold a newer ban */
			}
		}
	}
	__builtin_memcpy(bk.addr, c->m.src.b, 16);
	b = bpf_map_lookup_elem(&pw_bans, &bk);
	/* A prefix ban whose key is this address is no ban of the address: pw_is_prefix_banned
	 * judges it, sparing a known source. */
	if (!b || b->prefix)
		return 0;
	return b->expires_ns == 0 || pw_now() < b->expires_ns;
}

/* Sets an address's filter bit, and for IPv4 its /24's bit in pw_src4, in both halves (after
 * the ban is in pw_bans). */
static __always_inline void pw_banbits_set(const union pw_addr *a)
{
	__u32 zero = 0;
	const struct pw_gen_state *g = bpf_map_lookup_elem(&pw_gen, &zero);

	if (!g)
		return;
	pw_filter_set(&pw_banbits, g->banbit_mask, pw_ban_hash(g, a));
	if (a->d[0] == 0 && a->w[2] == bpf_htonl(0xffff)) { /* IPv4-mapped: its /24 in pw_src4 */
		__u32 addr = bpf_ntohl(a->w[3]);

		for (__u32 half = 0; half < 2; half++) {
			__u64 *w = pw_src4_word_of(half, addr);

			if (w)
				__sync_fetch_and_or(w, pw_src4_bit(addr));
		}
	}
}

/* An IPv6 address masked to its first `bits` bits (48..127; 128 and more: unchanged). */
static __always_inline void pw_mask6(union pw_addr *a, __u32 bits)
{
	if (bits >= 128)
		return;
	if (bits <= 64) {
		a->d[1] = 0;
		a->d[0] &= bits ? bpf_cpu_to_be64(~0ULL << (64 - bits)) : 0;
	} else {
		a->d[1] &= bpf_cpu_to_be64(~0ULL << (128 - bits));
	}
}

static __always_inline int pw_is_v4mapped(const union pw_addr *a)
{
	return a->d[0] == 0 && a->w[2] == bpf_htonl(0xffff);
}

/* The prefix length an IPv6 address's per-prefix state is kept by: v6_prefix, or 128 for a
 * link-local address (fe80::/10), since every neighbour on the link, the router among them,
 * shares fe80::/64. Worked out without a branch. */
static __always_inline __u32 pw_v6_key_bits(const union pw_addr *a, __u32 v6_prefix)
{
	__u32 x = (a->w[0] & bpf_htonl(0xffc00000)) ^ bpf_htonl(0xfe800000);
	__u32 not_ll = (x | (0 - x)) >> 31;

	return 128 - not_ll * (128 - v6_prefix);
}

/* pw_source_key's prefix length for an address (hi, lo: its two halves as loaded), or 0 for a
 * key of the address itself. A global function: verified once, not once per way into each of
 * its callers (the TC egress program calls it twice per answer; ingress, once per ban). */
__noinline __u32 pw_source_bits(__u64 hi, __u64 lo, __u32 zone, __u32 v6_prefix)
{
	union pw_addr a = { .d = { hi, lo } };
	__u32 bits = pw_v6_key_bits(&a, v6_prefix);

	if (zone != PW_ZONE_INTERNET || pw_is_v4mapped(&a) || bits >= 128)
		return 0;
	return bits;
}

/* The key of a source's state that an internet source's IPv6 address keeps per prefix (its
 * ban, its failure count; its budget is pw_budget_key): the address masked to v6_prefix, and
 * the prefix's length; for any other source (IPv4, a link-local address, or a zone the config
 * names: an office's LAN /64 must not go with one of its devices) the address itself, and 0. */
static __always_inline __u8 pw_source_key(const union pw_addr *a, const struct pw_policy *pol, __u32 zone,
					  union pw_addr *key)
{
	__u32 bits = pw_source_bits(a->d[0], a->d[1], zone, pol->v6_prefix);

	*key = *a;
	if (bits)
		pw_mask6(key, bits);
	return bits;
}

/* Bans a source of zone `zone` for the policy's ban time and reports it: by its pw_source_key
 * (an internet source's IPv6 prefix, else its address), or with `exact` by its address. A full
 * ban table is reported too: never silent. */
static __always_inline void pw_ban_addr(const union pw_addr *a, const struct pw_policy *pol, __u32 zone, __u32 cause,
					__u64 now, __u32 exact)
{
	struct pw_ban_key bk;
	struct pw_ban b = { .expires_ns = now + pol->ban_ns, .created_ns = now, .cause = cause };
	union pw_addr key;
	struct pw_event *ev;
	long err;

	b.prefix = exact ? 0 : pw_source_key(a, pol, zone, &key);
	if (exact)
		key = *a;
	__builtin_memcpy(bk.addr, key.b, 16);
	/* A ban in force of the same kind (the same prefix length) under the same key is never
	 * shortened: an administrator's ban for good, say, when the PBX answers with failures
	 * requests that came in before it. One that lasts at least as long stays as it is, and its
	 * source is banned already: nothing to report. (A ban of another length under the same key,
	 * an exact ban of a prefix's first address, is replaced as before: one entry cannot hold
	 * both.) */
	struct pw_ban *old = bpf_map_lookup_elem(&pw_bans, &bk);

	if (old && old->prefix == b.prefix &&
	    (old->expires_ns == 0 || (now < old->expires_ns && old->expires_ns >= b.expires_ns)))
		return;
	/* Nor is a prefix ban in force replaced by an exact ban of its first address: the address
	 * is banned already, and the prefix would be let go. */
	if (old && exact && old->prefix && (old->expires_ns == 0 || now < old->expires_ns))
		return;
	err = bpf_map_update_elem(&pw_bans, &bk, &b, BPF_ANY);
	pw_banbits_set(&key);
	ev = bpf_ringbuf_reserve(&pw_events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->ts_ns = now;
	__builtin_memcpy(ev->addr, key.b, 16);
	ev->type = err ? PW_EVENT_BAN_FULL : PW_EVENT_BAN;
	ev->prefix = b.prefix;
	ev->pad = 0;
	ev->cause = cause;
	ev->duration_ns = pol->ban_ns;
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline void pw_ban_source(struct pw_ctx *c, const struct pw_policy *pol, __u32 cause,
					  __u64 now)
{
	pw_ban_addr(&c->m.src, pol, c->zone, cause, now, 0);
}

#endif /* PBXWALL_BANS_H */
