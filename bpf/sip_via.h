/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Via check of requests from sources whose failed authentications count, and the checks
 * that follow the header scan (pw_hdr_checks).
 * Included by sip_guards.h after struct pw_uf_lines. */
#ifndef PBXWALL_SIP_VIA_H
#define PBXWALL_SIP_VIA_H

/* How far the top Via's line feed may lie from the Request-URI's start (PW_VIA_BUDGET), and
 * how long the Via line itself may be (PW_VIA_LINE), its ':', '[' and ']' counting three bytes
 * each. The egress program reads an answer's first 1,024 bytes (PW_SIP_SCAN; it judges a line
 * that starts up to 1,007 bytes in). A PBX answers with a status line of up to ~45 bytes, then
 * the top Via with `received` and `rport` (up to ~60 bytes for an IPv6 source): pjsip puts the
 * Vias first and prints a Via parameter's ':', '[' and ']' escaped (three bytes each: 45 + 360
 * + 60 bytes at most), Kamailio copies the request's From, To, Call-ID and CSeq in their order,
 * ahead of the Via when the request had them there (JAIN-SIP clients such as Android's and
 * Jitsi's do: 45 + 800 + 60 at most). A phone's request line and Via take 100-200 bytes, and
 * with From, To, Call-ID and CSeq before the Via up to 500 (IPv6, long names and domains). */
#define PW_VIA_BUDGET 800
#define PW_VIA_LINE 360

/* After a ';' of a Via, the eight bytes y that follow it: is the parameter a maddr ("maddr",
 * any case, then '=', ';', ',' or white space)? Three or more bytes of white space after the
 * ';' count as one too: a phone writes none, and a parameter folded onto the next line
 * hides from a reader that does not unfold it (the egress program unfolds none). */
static __always_inline int pw_via_maddr(__u64 y)
{
	__u32 m = !pw_sws_bit(y & 0xff) ? 0 : !pw_sws_bit((y >> 8) & 0xff) ? 1 : !pw_sws_bit((y >> 16) & 0xff) ? 2 : 3;

	if (m == 3)
		return 1;
	__u64 name = (y >> (m * 8)) | 0x2020202020ULL; /* lower case: 'M' | 0x20 is 'm', and so on */
	__u8 after = y >> ((m + 5) * 8);

	return (name & 0xffffffffffULL) == 0x726464616dULL /* "maddr" */ &&
	       (after == '=' || after == ';' || after == ',' || pw_sws_bit(after));
}

/* The top Via line, its value (from the end of its name) at packet offset voff: does it end
 * (its '\n', which no white space follows: a folded line goes on) within budget bytes (':',
 * '[' and ']' counting three), with no maddr parameter and no '[' left open (pjsip reads a
 * bracketed host up to its ']', across line ends: a maddr on the next line would be the top
 * Via's)? Eight bytes per step, and a step per '\n', ';', ':', '[' or ']' in them.
 * The offset, with the open bracket (PW_VIA_OPEN) and the extra bytes counted (from bit 16),
 * goes through map memory (*slot) at every step: one verifier state per step, not one per
 * offset (with the offset exact, the verifier gave up past a million instructions). A global
 * function, verified once. */
#define PW_VIA_OPEN 0x8000
__noinline int pw_via_line_ok(struct xdp_md *ctx, struct pw_uf_lines *ul, __u32 voff, __u32 budget)
{
	if (!ctx || !ul || voff > PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN + 16 || budget > PW_VIA_LINE)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	volatile __u32 *slot = &ul->via_step;
	__u8 *v = data + pw_pkt_off(voff);

	*slot = 0;
	for (__u32 step = 0; step < PW_VIA_LINE / 8 + 16; step++) {
		__u32 st = *slot, o = st & (PW_VIA_OPEN - 1), extra = st >> 16;

		if (o + extra >= budget)
			return 0; /* too long: its end (or a maddr) may lie past what egress reads */
		__u8 *p = v + o;
		__u64 x, x2;

		if ((void *)(p + 16) <= data_end) {
			x = *(__u64 *)p;
			x2 = *(__u64 *)(p + 8);
		} else {
			/* The datagram's last 15 bytes or less, copied: zero past its end. */
			__u64 w[2] = {};
			__u32 rest = (void *)(p + 8) <= data_end ? 8 : 0;

			if ((void *)(p + rest + 4) <= data_end)
				rest += 4;
			if ((void *)(p + rest + 2) <= data_end)
				rest += 2;
			if ((void *)(p + rest + 1) <= data_end)
				rest += 1;
			*slot = rest;
			rest = *slot & 15;
			if (!rest || bpf_xdp_load_bytes(ctx, pw_pkt_off(voff) + o, w, rest))
				return 0; /* the datagram ends inside the Via: no empty line */
			x = w[0];
			x2 = w[1];
		}
		if (!x)
			return 0; /* past the datagram's end, or NUL bytes */
		__u64 ev = pw_lf_bytes(x) | pw_zero_bytes(x ^ (PW_ONES * ';')) | pw_zero_bytes(x ^ (PW_ONES * ':')) |
			   pw_zero_bytes(x ^ (PW_ONES * '[')) | pw_zero_bytes(x ^ (PW_ONES * ']'));

		if (!ev) {
			*slot = st + 8;
			continue;
		}
		__u32 j = pw_byte_index(ev & -ev) & 7;
		__u64 y = j < 7 ? (x >> ((j + 1) * 8)) | (x2 << ((7 - j) * 8)) : x2; /* the eight bytes after it */
		__u8 c = x >> (j * 8);

		if (c == '\n') {
			__u8 next = y & 0xff;

			if (next != ' ' && next != '\t')
				return !(st & PW_VIA_OPEN) && o + j + extra < budget; /* the line ends */
		} else if (c == ';') {
			if (pw_via_maddr(y))
				return 0;
		} else {
			/* ':', '[' or ']': three bytes in pjsip's answer; '[' opens a host, ']' closes it.
			 * Without branches: each one would double the verifier's paths through the step. */
			__u32 dl = c ^ '[', dr = c ^ ']';
			__u32 lb = ((dl | (0 - dl)) >> 31) ^ 1, rb = ((dr | (0 - dr)) >> 31) ^ 1;

			st = ((st & ~(rb * PW_VIA_OPEN)) | (lb * PW_VIA_OPEN)) + (2 << 16);
		}
		*slot = st + j + 1;
	}
	return 0;
}

/* Will the answer to the request be credited to its source? The egress program credits an
 * answer to nobody when its top Via has a maddr (the PBX sends a UDP answer there, RFC 3261
 * 18.2.2, not to the source) or does not end within the bytes it reads, or when it has no Via:
 * a password guesser could so have its challenges and 403s counted against nobody. So the
 * request's top Via (its first Via line, read by pw_via_line_ok) must end within the budget,
 * without a maddr or an open '[', and pjsip must take the same line for the top Via: no bare
 * CR or '&' before it (pjsip ends a line at a bare CR, and a header at an '&' after a value,
 * and reads a header after either that the header scan never sees). A request with no Via line
 * in what was read must have been read whole (not past the scan, not a first fragment), with
 * no bare CR or '&' at all: else its top Via may be one the scan did not see. */
static __always_inline int pw_via_checks(struct xdp_md *ctx, struct pw_uf_lines *ul)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 n = ul->n, moff = ul->uri_off;

	if (n > PW_UF_LINES)
		return 0;
	/* The first Via line among those the header scan listed (it lists the lines that start
	 * with V when the Via is checked): "Via" or "v", then white space, ':' or a line end (a
	 * folded name: pjsip reads the header on the next line, and so does pw_via_line_ok). */
	for (__u32 k = 0; k < PW_UF_LINES; k++) {
		if (k >= n)
			break;
		__u32 off = ul->off[k];

		if (off > PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN)
			return 0;
		__u8 *q = data + pw_pkt_off(off);

		if ((void *)(q + 4) > data_end)
			break; /* no header here: the datagram's end */
		__u32 raw = *(__u32 *)q, name = raw | 0x20202020; /* lower case, for the letters */
		__u32 len = (name & 0xffffff) == 0x616976 /* "via" */ ? 3 : (name & 0xff) == 'v' ? 1 : 0;
		__u8 after = raw >> (len * 8);

		if (!len || !(pw_sws_bit(after) || after == ':'))
			continue;
		/* The budget runs from the Request-URI: a PBX may copy the headers before the Via into
		 * its answer ahead of it (Kamailio does). */
		__u32 used = off + len - moff, left = PW_VIA_BUDGET - used;

		return used < PW_VIA_BUDGET && pw_via_line_ok(ctx, ul, off + len, left < PW_VIA_LINE ? left : PW_VIA_LINE) &&
		       !pw_bare_cr(ctx, moff, off, 1);
	}
	/* No Via line read. Pointers compared, not lengths: the verifier takes no packet pointer
	 * back from a length worked out of ctx->data. */
	if (ul->first_frag || data + pw_pkt_off(moff) + PW_SIP_HDR_SCAN < data_end)
		return 0;
	return !pw_bare_cr(ctx, moff, PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN, 1);
}

/* Is the address known now? A global function: its lookup's key takes stack space that
 * pw_hdr_checks, between pw_xdp_sip and pw_cseq_ok, has none of. */
__noinline int pw_known_src(const union pw_addr *a)
{
	return a && pw_known_now(a, pw_now()) == PW_KNOWN_YES;
}

/* The checks that follow the header scan for some requests, in one global function (verified
 * once, and one call after the scan's many ways out): with the CSeq checked (pw_sip_first_line:
 * requests other than INVITE and REGISTER), exactly one CSeq that names the method
 * (pw_cseq_ok); with the Via checked (pw_sip_content: a request other than INVITE from a source
 * that is not known), pw_via_checks, and a source of another zone than internet (known is then
 * PW_KNOWN_UNSEEN) whose Via fails them is looked up: known after all, it passes. Returns a
 * PW_HDRS_* verdict. ul is the caller's pw_uflines entry: no stack here (the call chain
 * through pw_cseq_ok is at the kernel's 512 bytes). */
__noinline int pw_hdr_checks(struct xdp_md *ctx, struct pw_uf_lines *ul, const union pw_addr *src, __u32 known)
{
	if (!ctx || !src || !ul)
		return PW_HDRS_BAD_CSEQ;
	__u32 moff = ul->uri_off;

	if (ul->cseq_check) {
		int cseq = pw_cseq_ok(ctx);

		if (cseq != PW_CSEQ_OK)
			return cseq == PW_CSEQ_UNSEEN ? PW_HDRS_NO_CSEQ : PW_HDRS_BAD_CSEQ;
		if (pw_bare_cr(ctx, moff, PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN, 0))
			return PW_HDRS_BAD_CSEQ;
	}
	if (!ul->via_check || pw_via_checks(ctx, ul))
		return PW_HDRS_CLEAN;
	return known == PW_KNOWN_UNSEEN && pw_known_src(src) ? PW_HDRS_CLEAN : PW_HDRS_BAD_VIA;
}

#endif /* PBXWALL_SIP_VIA_H */
