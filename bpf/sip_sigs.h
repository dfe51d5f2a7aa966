/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Scanner signatures in a SIP header value, at XDP ingress: word helpers for packet bytes, the
 * hashed three-byte filter probed four positions at a time, the full comparison on a filter hit
 * (pw_sig_at), and the per-CPU cache of values found clean (pw_sigclean). Included by
 * sip_guards.h, whose header scan finds the values. */
#ifndef PBXWALL_SIP_SIGS_H
#define PBXWALL_SIP_SIGS_H

#define PW_SIP_HDR_SCAN 1536   /* bytes of a request searched for header lines: the first buffer */
#define PW_SIG_VALUE_SCAN 128  /* bytes of a User-Agent or From value searched for signatures */
#define PW_PKT_OFF_MASK 8191   /* every offset these functions take is below it */

/* off & PW_PKT_OFF_MASK in a way the compiler cannot drop: the verifier must see the bound on
 * the very register that is added to the packet pointer. */
static __always_inline __u64 pw_pkt_off(__u32 off)
{
	__u64 o = off;

	asm volatile("%0 &= 8191" : "+r"(o));
	return o;
}

/* The index (0..7) of the byte whose high bit is the one bit set in `bit`: that bit moved to
 * bit 0 of its byte, times a constant whose top byte then reads the index. */
static __always_inline __u32 pw_byte_index(__u64 bit)
{
	return ((bit >> 7) * 0x0001020304050607ULL) >> 56;
}

/* Byte k (0..15) of sixteen bytes held as two little-endian words. */
static __always_inline __u8 pw_byte16(__u64 w0, __u64 w1, __u32 k)
{
	return (k < 8 ? w0 >> (k * 8) : w1 >> ((k & 7) * 8)) & 0xff;
}

/* ASCII lower case of eight bytes at once: 'A'..'Z' get 0x20, every other byte is kept. */
static __always_inline __u64 pw_lower8(__u64 x)
{
	__u64 h = x & 0x7f7f7f7f7f7f7f7fULL;
	__u64 ge_a = h + 0x3f3f3f3f3f3f3f3fULL; /* bit 7 set where h >= 'A' */
	__u64 gt_z = h + 0x2525252525252525ULL; /* bit 7 set where h > 'Z' */

	return x | (((ge_a ^ gt_z) & ~x & 0x8080808080808080ULL) >> 2);
}

/* Bytes 8w..8w+7 of a signature of length len, as a mask over a little-endian word. */
static __always_inline __u64 pw_sig_mask(__u32 len, __u32 w)
{
	if (len >= 8 * w + 8)
		return ~0ULL;
	if (len <= 8 * w)
		return 0;
	return (1ULL << ((len - 8 * w) * 8)) - 1;
}

/* The window pw_sig_at compares, per CPU: on the stack it would push the deepest call chain
 * of the XDP program past the 512 bytes the verifier allows. */
#define PW_SIG_WINDOW (2 * PW_SIG_LEN)
struct pw_sig_window {
	__u8 b[PW_SIG_WINDOW + 8];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_sig_window);
} pw_sigbuf SEC(".maps");

/* The filter bit of the three bytes at packet offset pos is set: does a signature of the
 * header kind `where` hold them at its bytes gram..gram+2 or gram+1..gram+3? Copies the
 * PW_SIG_WINDOW bytes around pos once (bytes past the datagram stay 0 and match nothing) and
 * compares each signature eight bytes at a time. Runs only on a filter hit. A global
 * function: the verifier checks it once. */
__noinline int pw_sig_at(struct xdp_md *ctx, __u32 pos, __u32 gen, __u32 where)
{
	const struct pw_sip_rules *r = bpf_map_lookup_elem(&pw_siprules, &gen);
	__u32 zero = 0;
	struct pw_sig_window *win = bpf_map_lookup_elem(&pw_sigbuf, &zero);

	if (!ctx || !r || !win)
		return 0;
	__u64 len = (__u64)ctx->data_end - ctx->data; /* 64-bit all along: one register to bound */
	__u32 start = pos >= PW_SIG_LEN ? pos - PW_SIG_LEN : 0;

	if (start >= len)
		return 0;
	len -= start;
	if (len > PW_SIG_WINDOW)
		len = PW_SIG_WINDOW;
	__builtin_memset(win->b, 0, sizeof(win->b));
	if (len < 1 || bpf_xdp_load_bytes(ctx, start, win->b, len))
		return 0;
	__u32 at = pos - start; /* pos in the window: 0..PW_SIG_LEN */

	for (__u32 s = 0; s < PW_SIG_MAX; s++) {
		if (s >= r->sig_count)
			break;
		const struct pw_sig *sg = &r->sigs[s];
		const __u64 *t = (const __u64 *)sg->text;
		__u32 n = sg->len;

		if (!(sg->where & where) || n < PW_SIG_MIN_LEN || n > PW_SIG_LEN)
			continue;
		for (__u32 d = 0; d < 2; d++) {
			__u32 o = at - sg->gram - d; /* where the signature would start in the window */

			if (o > PW_SIG_LEN) /* before the window (wrapped) or past it */
				continue;
			const __u8 *b = win->b + (o & (2 * PW_SIG_LEN - 1));
			__u64 w0 = pw_lower8(*(const __u64 *)b), w1 = pw_lower8(*(const __u64 *)(b + 8));
			__u64 w2 = pw_lower8(*(const __u64 *)(b + 16)), w3 = pw_lower8(*(const __u64 *)(b + 24));

			if (!(((w0 ^ t[0]) & pw_sig_mask(n, 0)) | ((w1 ^ t[1]) & pw_sig_mask(n, 1)) |
			      ((w2 ^ t[2]) & pw_sig_mask(n, 2)) | ((w3 ^ t[3]) & pw_sig_mask(n, 3))))
				return 1;
		}
	}
	return 0;
}

/* The filter's word for the three bytes at the bottom of x (their case bits already set),
 * shifted so that bit 0 is the three bytes' bit: PW_SIG_HASH's. */
static __always_inline __u64 pw_sig_probe(const struct pw_sip_rules *r, __u64 x)
{
	__u32 fh = ((__u32)x & 0xffffffU) * PW_SIG_HASH_MUL >> 20;

	return r->filter[fh >> 6] >> (fh & 63);
}

/* The positions pos, pos + 2, ... of a value whose bytes from pos on are n, fewer than nine
 * of them before the datagram's end: one at a time. A global function (the verifier checks
 * it once): it runs at most once per value, on a datagram that ends within it. */
__noinline int pw_sig_tail(struct xdp_md *ctx, __u32 pos, __u32 n, __u32 gen, __u32 where)
{
	const struct pw_sip_rules *r = bpf_map_lookup_elem(&pw_siprules, &gen);

	if (!ctx || !r || pos > PW_PKT_OFF_MASK)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data + pw_pkt_off(pos);

	for (__u32 o = 0; o < 8; o += 2) {
		__u8 *v = p + o;

		if (o + 3 > n || (void *)(v + 3) > data_end)
			break;
		if ((pw_sig_probe(r, v[0] | v[1] << 8 | v[2] << 16 | 0x202020U) & 1) && pw_sig_at(ctx, pos + o, gen, where))
			return 1;
	}
	return 0;
}

/* pw_sig_at for the positions pos + 2d whose bit d is set in hits (d = 0..3). */
__noinline int pw_sig_at4(struct xdp_md *ctx, __u32 pos, __u32 hits, __u32 gen, __u32 where)
{
	for (__u32 d = 0; d < 4; d++)
		if (((hits >> d) & 1) && pw_sig_at(ctx, pos + 2 * d, gen, where))
			return 1;
	return 0;
}

#define PW_ONES 0x0101010101010101ULL
#define PW_LOW7 0x7f7f7f7f7f7f7f7fULL

/* The high bit of every byte of x that is zero, exactly (no false positives from borrows). */
static __always_inline __u64 pw_zero_bytes(__u64 x)
{
	return ~(((x & PW_LOW7) + PW_LOW7) | x | PW_LOW7);
}

/* White space, or a line end: what may follow a ';' in a Via (RFC 3261 25.1: SEMI is SWS ";"
 * SWS, and SWS may fold the line), or end a method's name. A bit test: one branch, one
 * verifier path (sip_via.h, sip_egress.h). */
static __always_inline int pw_sws_bit(__u8 ch)
{
	return ch <= ' ' && ((1ULL << ch) & (1ULL << ' ' | 1ULL << '\t' | 1ULL << '\r' | 1ULL << '\n'));
}

/* The high bit of every byte of w that is a '\n', exactly. */
static __always_inline __u64 pw_lf_bytes(__u64 w)
{
	return pw_zero_bytes(w ^ (PW_ONES * '\n'));
}

/* One step of pw_sig_value's hash of a value: eight more bytes into h. */
static __always_inline __u64 pw_value_mix(__u64 h, __u64 x)
{
	h = (h ^ x) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 32);
}

/* Values found clean, per CPU (pbxwall_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_SIGCLEAN_ENTRIES);
	__type(key, __u32);
	__type(value, struct pw_sigclean);
} pw_sigclean SEC(".maps");

/* Does the header value at packet offset voff (first PW_SIG_VALUE_SCAN bytes, up to its line
 * end) hold a signature of kind `where`? */
static __always_inline int pw_sig_value(struct xdp_md *ctx, __u32 voff, __u32 where, __u32 gen,
					const struct pw_sip_rules *r)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (voff > PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN + 16)
		return 0;
	__u8 *val = data + pw_pkt_off(voff);
	__u32 len = PW_SIG_VALUE_SCAN, key = r->clean_key;
	/* A hash of the value's bytes up to its end, keyed with the rules' key, for pw_sigclean. */
	__u64 h = ((__u64)key * 0x9e3779b97f4a7c15ULL) ^ where;
	int cacheable = 1;

	/* The value's end: its '\n' (a bare '\r' ends nothing: more is searched, never less),
	 * eight bytes at a time. */
	for (__u32 w = 0; w < PW_SIG_VALUE_SCAN / 8; w++) {
		__u8 *e = val + w * 8;

		if ((void *)(e + 8) > data_end) {
			/* 64-bit: the verifier takes no 32-bit arithmetic on packet pointers. */
			__u64 rest = (void *)data_end > (void *)e ? (__u64)data_end - (__u64)e : 0;

			asm volatile("" : "+r"(rest));
			len = w * 8 + (__u32)rest;
			cacheable = 0; /* runs into the datagram's end: searched every time */
			break;
		}
		__u64 x = *(__u64 *)e;
		__u64 m = pw_lf_bytes(x);

		if (m) {
			__u32 j = pw_byte_index(m & -m);

			len = w * 8 + j;
			h = pw_value_mix(h, x & ((1ULL << ((j & 7) * 8)) - 1)); /* the bytes before the end */
			break;
		}
		h = pw_value_mix(h, x);
	}
	h = (h ^ len) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	/* Found clean before under these rules: nothing to search. User-Agent values take one half
	 * of the entries and From values the other, so that a request's two values never take each
	 * other's entry (they did for 1 request in 256, searched again every time). */
	__u32 idx = ((__u32)(h >> 56) & (PW_SIGCLEAN_ENTRIES / 2 - 1)) |
		    (where == PW_SIG_FROM ? PW_SIGCLEAN_ENTRIES / 2 : 0);
	struct pw_sigclean *ce = bpf_map_lookup_elem(&pw_sigclean, &idx);
	__u32 ckey = cacheable ? key : 0; /* 0: neither looked up nor kept */

	if (!ce)
		return 0; /* verifier: an index of a per-CPU array always exists */
	if (ckey && ce->key == ckey && ce->hash == h)
		return 0;
	/* Kept in the entry until the search ends: a number the verifier does not split the
	 * search by. */
	*(volatile __u32 *)&ce->pending = ckey;
	/* Three bytes at every second position: the filter holds each signature's bytes gram..gram+2
	 * and gram+1..gram+3, so every occurrence puts one of them on a tested position;
	 * pw_sig_at works out where the signature would start. Four positions per eight bytes, with
	 * one test for the four (a position whose three bytes run past the value is left out on
	 * a hit); within nine bytes of the datagram's end, one at a time (pw_sig_tail). */
	for (__u32 k = 0, i = 0; k < PW_SIG_VALUE_SCAN / 8; k++, i += 8) {
		__u8 *v = val + i;

		if (i + 3 > len)
			break;
		if ((void *)(v + 9) > data_end) {
			if (pw_sig_tail(ctx, voff + i, len - i, gen, where))
				return 1;
			break;
		}
		__u64 x = *(__u64 *)v | (PW_ONES * 0x20), y = *(__u64 *)(v + 1) | (PW_ONES * 0x20);
		__u64 h0 = pw_sig_probe(r, x), h1 = pw_sig_probe(r, x >> 16), h2 = pw_sig_probe(r, x >> 32),
		      h3 = pw_sig_probe(r, y >> 40);

		if (!((h0 | h1 | h2 | h3) & 1))
			continue;
		__u32 hits = (h0 & 1) | (h1 & 1) << 1 | (h2 & 1) << 2 | (h3 & 1) << 3;

		if (i + 9 > len) /* the value's last positions: (len - i - 3) / 2 + 1 of them */
			hits &= (1U << (((len - i - 3) >> 1) + 1)) - 1;
		if (hits && pw_sig_at4(ctx, voff + i, hits, gen, where))
			return 1;
	}
	/* Searched whole, no signature: clean under these rules (key 0 keeps nothing). */
	ce->key = *(volatile __u32 *)&ce->pending;
	ce->hash = h;
	return 0;
}

#endif /* PBXWALL_SIP_SIGS_H */
