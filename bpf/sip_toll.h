/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The toll-fraud guard: the dial string of a Request-URI's user part against the configured
 * international prefixes. Included by sip_guards.h, which runs it on INVITEs from zones not
 * allowed to dial out. */
#ifndef PBXWALL_SIP_TOLL_H
#define PBXWALL_SIP_TOLL_H

#define PW_TOLL_SCAN 96 /* bytes of a Request-URI user part parsed for toll fraud */

static __always_inline int pw_hex(__u8 ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Parser state of pw_sip_toll, kept in a per-CPU map so that the verifier does not explore
 * every combination of its values per character. */
struct pw_toll_state {
	__u64 acc;  /* the first PW_TOLL_LEN dial characters, first in the low byte */
	__u32 n;    /* characters in acc */
	__u32 skip; /* bytes of a %XX escape still to skip */
	__u32 stop; /* past a ';': parameters, not dial characters */
	__u32 tel;  /* a tel: URI: the number ends at ';' or the end of the URI */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_toll_state);
} pw_tollbuf SEC(".maps");

/* Toll fraud: does the Request-URI at packet offset off ("sip:", "sips:", "tel:" or "urn:",
 * checked by the caller) dial one of the configured prefixes? The user part is what comes
 * before an '@' (a "tel:" URI's number: before a ';' or the end); it is percent-unescaped, and
 * visual separators (RFC 3966: - . ( ), and spaces) are ignored. What cannot be parsed within
 * PW_TOLL_SCAN bytes counts as a match (fail closed), and so does a user part holding a '"', a
 * '<' or an escaped '%'. A URI without a user part dials nothing.
 * Returns 1: drop. A global function: verified once. */
__noinline int pw_sip_toll(struct xdp_md *ctx, __u32 off, __u32 gen)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct pw_sip_rules *r = bpf_map_lookup_elem(&pw_siprules, &gen);
	__u32 zero = 0, i;
	/* volatile: the compiler must not keep the state in registers either. */
	volatile struct pw_toll_state *st = bpf_map_lookup_elem(&pw_tollbuf, &zero);

	if (!ctx || !r || !st || off > PW_MAX_HDR_OFF + 16)
		return 1;
	__u8 *u = data + pw_pkt_off(off);

	if ((void *)(u + 5) > data_end)
		return 1;
	/* "urn:" (RFC 5031: urn:service:sos, an emergency call) has no user part, and dials no
	 * number; but one written with an '@' has one to a PBX that parses it as a SIP URI's
	 * (Kamailio does): it is judged as a "sip:" URI's. */
	st->tel = pw_lc(u[0], 't');
	u += !st->tel && u[3] != ':' ? 5 : 4; /* "sips:" : "sip:", "tel:" or "urn:" */
	st->acc = 0;
	st->n = 0;
	st->skip = 0;
	st->stop = 0;
	for (i = 0; i < PW_TOLL_SCAN; i++) {
		__u8 *b = u + i;

		if ((void *)(b + 3) > data_end)
			return 1; /* the URI runs off the datagram */
		if (st->skip) {
			st->skip--;
			continue;
		}
		__u8 ch = b[0];

		if (ch == '@') {
			if (st->tel)
				return 1;
			break; /* the end of the user part */
		}
		/* The Request-URI ends at a space (RFC 3261 25.1: SP, then the version); a '>' is no
		 * end there, and a PBX may take what comes before it for the user part. Nor is a CR
		 * or LF (a control character: fail closed, below): pjsip reads a user part on past a
		 * CR to the next '@' ("sip:0044...\r[@]:5060 SIP/2.0" dials 0044...). */
		if (ch == ' ') {
			if (!st->tel)
				return 0; /* no '@': a URI without a user part */
			break;
		}
		if (ch == ';') {
			st->stop = 1; /* parameters */
			continue;
		}
		if (ch == '%') {
			int hi = pw_hex(b[1]), lo = pw_hex(b[2]);

			if (hi < 0 || lo < 0)
				return 1; /* a broken escape */
			ch = (__u8)(hi << 4 | lo);
			st->skip = 2;
		}
		if (ch == ' ' || ch == '-' || ch == '.' || ch == '(' || ch == ')')
			continue; /* visual separators */
		/* Control or 8-bit characters in a dial string; and three that RFC 3261 does not
		 * allow in a user part, each read by some PBX as the start of another number:
		 * FreeSWITCH dials what follows a double quote (escaped or not: "%220044..." dials
		 * 0044...); chan_sip routes what lies between a '<' and the next '>' of the
		 * Request-URI ("sip:<sip:0044...@pbx>"); and with `pedantic` (its default) it
		 * decodes the user part a second time when the first decoding names no extension,
		 * so that an escaped '%' ("%2530" is "%30", then "0") hides a prefix. */
		if (ch < ' ' || ch >= 0x7f || ch == '"' || ch == '<' || ch == '%')
			return 1;
		if (!st->stop && st->n < PW_TOLL_LEN) {
			st->acc |= (__u64)pw_lower(ch) << ((st->n & 7) * 8);
			st->n++;
		}
	}
	if (i == PW_TOLL_SCAN)
		return 1; /* no end within the bound */
	__u64 acc = st->acc;

	for (__u32 t = 0; t < PW_TOLL_MAX; t++) {
		if (t >= r->toll_count)
			break;
		if ((acc & r->toll_mask[t]) == r->toll[t])
			return 1;
	}
	return 0;
}

#endif /* PBXWALL_SIP_TOLL_H */
