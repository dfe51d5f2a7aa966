/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* SIP at XDP ingress: responsive-mode budgets (GCRA), the new-source gate, the SIP guards.
 * Included by pbxwall.bpf.c after its maps and struct pw_ctx: the maps live there. */
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

/* The budget key: IPv4 per address, IPv6 per prefix of the configured length. */
static __always_inline void pw_budget_key(struct pw_ctx *c, const struct pw_policy *pol, struct pw_ban_key *k)
{
	union pw_addr a = c->m.src;
	__u32 bits = pol->v6_prefix;

	if (c->m.family == 6 && bits < 128) {
		if (bits <= 64) {
			a.d[1] = 0;
			a.d[0] &= bits ? bpf_cpu_to_be64(~0ULL << (64 - bits)) : 0;
		} else {
			a.d[1] &= bpf_cpu_to_be64(~0ULL << (128 - bits));
		}
	}
	__builtin_memcpy(k->addr, a.b, 16);
}

#define PW_COARSE_TICK_NS 10000000ULL /* a jiffy at HZ=100, the longest */

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
	/* The coarse clock moves in jiffies (1-10 ms): tolerate one, or a CPU could never create
	 * more than one new source per jiffy, whatever new_sources_per_second says. */
	__u64 interval = pol->newsrc_interval_ns;
	return pw_gcra(&ns->tat_ns, now, interval, interval ? PW_COARSE_TICK_NS / interval : 0);
}

/* Responsive mode: SIP from an internet-zone source. Known sources get the higher ceiling;
 * unknown ones the small budget, or nothing when responsive mode is off. A source that keeps
 * exceeding its budget is banned. */
/* A global function: the verifier checks it once, not once per parser path that reaches it.
 * Its pointer arguments may be NULL to the verifier, and pointers inside *c are plain numbers
 * here, so the policy is looked up again. */
__noinline __u32 pw_judge_responsive(struct xdp_md *ctx, struct pw_ctx *c)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pw_ban_key k;
	struct pw_known *kn;
	struct pw_rate *r;
	__u64 now = bpf_ktime_get_coarse_ns();

	if (!c)
		return PW_REASON_MALFORMED;
	__u32 gen = c->gen & 1;
	const struct pw_policy *pol = bpf_map_lookup_elem(&pw_policy, &gen);

	if (!pol)
		return PW_REASON_MALFORMED;

	__u64 interval = pol->interval_ns;
	__u32 burst = pol->burst;

	__builtin_memcpy(k.addr, c->m.src.b, 16);
	kn = bpf_map_lookup_elem(&pw_known, &k);
	if (kn && now < kn->expires_ns) {
		/* Its own budget: the debt of the small unknown budget does not follow it. */
		if (pw_gcra(&kn->tat_ns, now, pol->known_interval_ns, pol->known_burst))
			return PW_REASON_SIP_KNOWN;
		return PW_REASON_RATE_LIMITED;
	}
	if (!pol->responsive)
		return PW_REASON_NOT_WHITELISTED;

	pw_budget_key(c, pol, &k);
	r = bpf_map_lookup_elem(&pw_rate, &k);
	if (!r) {
		struct pw_rate nr = { .tat_ns = now + interval };

		if (!pw_new_source_allowed(c, pol, data, data_end, now))
			return PW_REASON_NEW_SOURCE_LIMITED;
		bpf_map_update_elem(&pw_rate, &k, &nr, BPF_NOEXIST);
		return PW_REASON_SIP_RESPONSIVE;
	}
	if (pw_gcra(&r->tat_ns, now, interval, burst))
		return PW_REASON_SIP_RESPONSIVE;

	if (now - r->strikes_from_ns > pol->ban_window_ns) {
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

/* SIP guards on a UDP datagram to a SIP port from a source that is not trusted (first buffer
 * only, fixed offsets, no loop). A request must start "METHOD sip:", "sips:" or "tel:"
 * (RFC 3261 25.1), a response "SIP/2.0 NNN"; CRLF keepalives (RFC 5626) pass. An INVITE from
 * a source that is not known is an anonymous call. Returns 0 or a drop reason. A global
 * function: the verifier checks it once. */
__noinline __u32 pw_sip_guard(struct xdp_md *ctx, struct pw_ctx *c)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (!c)
		return PW_REASON_MALFORMED;
	__u32 off = c->m.l4_off + sizeof(struct udphdr);

	if (off > PW_MAX_HDR_OFF) /* verifier: bound the variable offset */
		return PW_REASON_MALFORMED;
	__u8 *p = data + off;

	if ((void *)(p + 2) > data_end)
		return PW_REASON_MALFORMED_SIP; /* empty or a lone byte */
	if (p[0] == '\r' && p[1] == '\n')
		return 0; /* keepalive */
	if ((void *)(p + 16) > data_end)
		return PW_REASON_MALFORMED_SIP; /* too short for any request or status line */
	if (p[0] == 'S' && p[1] == 'I' && p[2] == 'P' && p[3] == '/' && p[4] == '2' && p[5] == '.' &&
	    p[6] == '0' && p[7] == ' ' && p[8] >= '1' && p[8] <= '6')
		return 0;

	/* The method token: letters, then one space; at most 9 letters (SUBSCRIBE). */
	__u32 n = 0;
	for (; n < 10; n++) { /* verifier: bounded; n + 5 < 16 stays in the checked window */
		__u8 ch = p[n] | 0x20;

		if (ch < 'a' || ch > 'z')
			break;
	}
	if (n == 0 || n > 9 || p[n] != ' ')
		return PW_REASON_MALFORMED_SIP;
	__u8 *u = p + n + 1;
	int uri = (pw_lc(u[0], 's') && pw_lc(u[1], 'i') && pw_lc(u[2], 'p') &&
		   (u[3] == ':' || (pw_lc(u[3], 's') && u[4] == ':'))) ||
		  (pw_lc(u[0], 't') && pw_lc(u[1], 'e') && pw_lc(u[2], 'l') && u[3] == ':');
	if (!uri)
		return PW_REASON_MALFORMED_SIP;

	if (n == 6 && pw_lc(p[0], 'i') && pw_lc(p[1], 'n') && pw_lc(p[2], 'v') && pw_lc(p[3], 'i') &&
	    pw_lc(p[4], 't') && pw_lc(p[5], 'e')) {
		struct pw_ban_key k;
		struct pw_known *kn;

		__builtin_memcpy(k.addr, c->m.src.b, 16);
		kn = bpf_map_lookup_elem(&pw_known, &k);
		if (!kn || bpf_ktime_get_coarse_ns() >= kn->expires_ns)
			return PW_REASON_ANONYMOUS_INVITE;
	}
	return 0;
}

#endif /* PBXWALL_SIP_H */
