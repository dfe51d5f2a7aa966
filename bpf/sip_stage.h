/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The SIP stage: the XDP program pw_xdp_sip, entered from pw_xdp_main by a tail call through
 * pw_stages with the packet's state in pw_handoff. Included by pbxwall.bpf.c after sip.h and
 * sip_guards.h. */
#ifndef PBXWALL_SIP_STAGE_H
#define PBXWALL_SIP_STAGE_H

/* A guard's drop, and the ban it asks for. */
static __always_inline __u32 pw_guard_verdict(struct pw_ctx *c, __u32 reason)
{
	if (reason & PW_GUARD_BAN)
		pw_ban_source(c, c->policy, PW_BAN_SCANNER, pw_now());
	return reason & (PW_GUARD_BAN - 1);
}

/* The SIP stage, entered from pw_xdp_main for SIP to the service named "sip" from a source
 * that is neither trusted nor banned and whose zone the service allows. Cheap checks first, so
 * that what is dropped anyway never costs a header scan: for internet sources the budget of
 * responsive mode (rate_limited, new_source_limited, not_whitelisted; a source over its
 * budget drops with its payload unread, and a new source's first line is read before its
 * state is made); over UDP the first line (malformed_sip); then over UDP the content guards
 * (scanner, toll_fraud, anonymous_invite). */
static __always_inline __u32 pw_judge_sip(struct xdp_md *ctx, struct pw_ctx *c)
{
	__u32 reason = PW_REASON_SERVICE, known = PW_KNOWN_UNSEEN, guard, zero = 0;
	struct pw_uf_lines *ul = bpf_map_lookup_elem(&pw_uflines, &zero);
	int udp = c->m.proto == IPPROTO_UDP;

	if (!ul)
		return PW_REASON_MALFORMED;
	ul->first = PW_FIRST_UNREAD;
	if (c->zone == PW_ZONE_INTERNET) {
		reason = pw_judge_responsive(ctx, c, &known, udp ? ul : NULL);
		if (PW_REASON_IS_DROP(reason))
			return reason;
	}
	/* Opaque, the budget's verdict and the known flag let what follows be checked once, not
	 * once per way through the budget. */
	reason = pw_opaque(reason);
	known = pw_opaque(known);
	/* Answers are refused from internet sources that are not known (pw_sip_first_line). Worked
	 * out without a branch: one on `known` would have the verifier check the content guards
	 * once per way (+75k instructions). */
	__u32 kx = known ^ PW_KNOWN_YES, zx = (__u32)c->zone ^ PW_ZONE_INTERNET;
	__u32 no_answers = ((kx | (0 - kx)) >> 31) & (((zx | (0 - zx)) >> 31) ^ 1);

	if (udp && *(volatile __u32 *)&ul->first == PW_FIRST_UNREAD && (guard = pw_sip_first_line(ctx, c, ul, no_answers)))
		return guard;
	__u32 first = *(volatile __u32 *)&ul->first;

	if (first != PW_FIRST_REQUEST && first != PW_FIRST_INVITE)
		return reason;
	guard = pw_sip_content(ctx, c, ul, known);
	if (guard)
		return pw_guard_verdict(c, guard);
	return reason;
}

SEC("xdp")
int pw_xdp_sip(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct pw_handoff *h = bpf_map_lookup_elem(&pw_handoff, &zero);
	struct pw_ctx c;

	if (!h)
		return XDP_DROP; /* verifier: index 0 of a per-CPU array always exists */
	c.m = h->m;
	c.gen = h->gen & 1;
	c.len = h->len;
	c.slot = h->slot;
	c.zone = h->zone;
	c.policy = bpf_map_lookup_elem(&pw_policy, &c.gen);
	if (!c.policy)
		return pw_verdict(&c, PW_REASON_NO_STAGE);
	return pw_verdict(&c, pw_judge_sip(ctx, &c));
}

#endif /* PBXWALL_SIP_STAGE_H */
