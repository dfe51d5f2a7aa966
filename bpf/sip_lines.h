/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Where a SIP stack's reading of a request's lines parts from the header scan's (sip_guards.h,
 * whose lines start after a line feed): the bare-CR check of requests whose CSeq is checked.
 * Included by sip_guards.h. */
#ifndef PBXWALL_SIP_LINES_H
#define PBXWALL_SIP_LINES_H

/* The highest byte of m (high bits only) whose high bit is set, as that bit; 0 for none. */
static __always_inline __u64 pw_top_byte(__u64 m)
{
	m |= m >> 8;
	m |= m >> 16;
	m |= m >> 32;
	return m & ~(m >> 8);
}

/* The word at packet offset woff, before the top Via, holds an '&' or a '[': is it harmless?
 * (An '&' is pw_amp_ok's.) A '[' must be closed
 * by a ']' on its line: pjsip reads a bracketed host up to its ']' across line ends (a
 * Contact "<sip:a@[x" swallows the lines up to a "]" and the first Via among them with it,
 * so that pjsip's top Via is a later one, which may carry a maddr). The last '[' of the word
 * is followed to its line's end, 128 bytes at most (an IPv6 host takes 47); an earlier one
 * shares its line. A global function, verified once: words before the top Via rarely hold
 * either. */
__noinline int pw_open_ok(struct xdp_md *ctx, __u32 woff)
{
	if (!ctx)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data + pw_pkt_off(woff);

	if ((void *)(p + 8) > data_end)
		return 0;
	__u64 x = *(__u64 *)p;
	__u64 lb = pw_zero_bytes(x ^ (PW_ONES * '[')), lf = pw_lf_bytes(x);

	if (!lb)
		return 1;
	__u64 last = pw_top_byte(lb), from = ~((last << 1) - 1); /* the bytes after it */

	if (lf & (last - 1) & ~((lb & -lb) - 1))
		return 0; /* a line ends between two of them */
	__u64 rb = pw_zero_bytes(x ^ (PW_ONES * ']')) & from;

	lf &= from;
	for (__u32 k = 1; k <= 16; k++) {
		if (rb | lf)
			return rb && (!lf || (rb & -rb) < (lf & -lf)); /* the lowest of each */
		__u8 *q = data + pw_pkt_off(woff + 8 * k);

		if ((void *)(q + 8) > data_end)
			return 0;
		x = *(__u64 *)q;
		rb = pw_zero_bytes(x ^ (PW_ONES * ']'));
		lf = pw_lf_bytes(x);
	}
	return 0;
}

/* One word w of pw_crlf_fast, with xp and y, the eight bytes before and after each of its
 * bytes: 0 when it holds no CR that starts a line or lacks its line feed, 1 when it holds the
 * empty line with no bare CR before it, 2 when not sure (a bare CR, a byte past ASCII). */
static __always_inline int pw_crlf_word(__u64 xp, __u64 w, __u64 y)
{
	__u64 cr = ~((w ^ (PW_ONES * '\r')) + PW_LOW7) & ~PW_LOW7;
	__u64 ends = cr & ~((xp ^ (PW_ONES * '\n')) + PW_LOW7), bare = cr & ((y ^ (PW_ONES * '\n')) + PW_LOW7);

	if ((xp | w | y) & ~PW_LOW7)
		return 2; /* bytes past ASCII: their sums may carry */
	if (ends)
		return bare & ((ends & -ends) - 1) ? 2 : 1; /* the CRs before the empty line */
	return bare ? 2 : 0;
}

/* pw_bare_cr's common case first, for a header read without amp: 1 when it surely holds no
 * bare CR, else 0 (pw_bare_cr then judges). Sixteen bytes a step, two words, each with the
 * byte before it and the byte after it, all ASCII, by sums ((x ^ c) + 0x7f.. clears the high
 * bit of each ASCII byte that is c: two operations a byte value, where pw_zero_bytes takes
 * five) and one test for the pair; the first CR that starts a line (the empty line) ends the
 * header, and no CR before it may lack its line feed. The datagram's last bytes: a word, then
 * the last ten bytes as one more (the bytes it shares with words before were judged, and
 * held nothing), and a CR that ends the datagram is not sure. Not sure either for a datagram
 * longer than `to` or shorter than the request line, a byte past ASCII, or a bare CR
 * (pw_bare_cr says so again). A global function, verified once: in pw_bare_cr its loop cost
 * the verifier 14k instructions. */
__noinline int pw_crlf_fast(struct xdp_md *ctx, __u32 from, __u32 to)
{
	if (!ctx)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = (__u64)data_end - (__u64)data;
	__u32 o = from - 1; /* the byte before the pair */
	__u8 *b = data;
	__u32 k = 0;
	int r;

	if (len > to || len < (__u64)from + 10)
		return 0;
	for (; k < PW_SIP_HDR_SCAN / 16 + 2; k++, o += 16) {
		b = data + pw_pkt_off(o);
		if ((void *)(b + 18) > data_end)
			break;
		__u64 xp = *(__u64 *)b, w = *(__u64 *)(b + 1), y = *(__u64 *)(b + 2);
		__u64 xp2 = *(__u64 *)(b + 8), w2 = *(__u64 *)(b + 9), y2 = *(__u64 *)(b + 10);
		__u64 cr = ~((w ^ (PW_ONES * '\r')) + PW_LOW7), cr2 = ~((w2 ^ (PW_ONES * '\r')) + PW_LOW7);
		__u64 ly = (y ^ (PW_ONES * '\n')) + PW_LOW7, ly2 = (y2 ^ (PW_ONES * '\n')) + PW_LOW7;
		__u64 lp = ~((xp ^ (PW_ONES * '\n')) + PW_LOW7), lp2 = ~((xp2 ^ (PW_ONES * '\n')) + PW_LOW7);

		/* A CR that starts a line or lacks its line feed, or a byte past ASCII, in either. */
		if (!((xp | w | y | xp2 | w2 | y2 | (cr & (lp | ly)) | (cr2 & (lp2 | ly2))) & ~PW_LOW7))
			continue;
		r = pw_crlf_word(xp, w, y);
		if (!r)
			r = pw_crlf_word(xp2, w2, y2);
		return r == 1;
	}
	if (k >= PW_SIP_HDR_SCAN / 16 + 2)
		return 0; /* not read to the datagram's end */
	if ((void *)(b + 10) <= data_end) {
		r = pw_crlf_word(*(__u64 *)b, *(__u64 *)(b + 1), *(__u64 *)(b + 2));
		if (r)
			return r == 1;
	}
	b = data + pw_pkt_off(len - 10);
	if ((void *)(b + 10) > data_end)
		return 0;
	r = pw_crlf_word(*(__u64 *)b, *(__u64 *)(b + 1), *(__u64 *)(b + 2));
	if (r)
		return r == 1;
	return b[9] != '\r'; /* a CR that ends the datagram lacks its line feed */
}

/* Is there a bare CR (one no '\n' follows) in the header of the request whose Request-URI is
 * at packet offset from? pjsip ends a line there, and reads a header after it that the header
 * scan, which starts lines after a '\n', never sees: a second CSeq there ("X-A: b\rCSeq: 1
 * REGISTER"), the last one and so the one its answer copies, would make an OPTIONS answered
 * unchallenged a registration to the egress program. The header ends at a CR that starts a
 * line (the empty line, as pjsip takes it too); a header of bare line feeds is read to the
 * datagram's end, its body too. Eight bytes at a time, each word with the byte before it and
 * the byte after it; run for requests whose CSeq is checked, once they passed the check: the
 * header scan stays as it is (a note of where it ended cost the INVITE's guards 5 ns, or the
 * verifier 28k instructions). Read up to packet offset `to` at most (the Via check reads
 * the part before the first Via line). With amp's bit 0 a '[' its line does not close counts
 * as a bare CR does, and a word at packet offset amp >> 1 or later that holds an '&' ends the
 * read: PW_CR_AMP | the word's offset << 8 is returned, for pw_amp_ok (the caller's: called
 * from here, its stack would put the call chain past the kernel's 512 bytes). A global
 * function, verified once. */
#define PW_CR_AMP 2
__noinline int pw_bare_cr(struct xdp_md *ctx, __u32 from, __u32 to, __u32 amp)
{
	if (!ctx)
		return 1;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 o = from - 1; /* the byte before the word */

	for (__u32 k = 0; k < PW_SIP_HDR_SCAN / 8 + 4; k++, o += 8) {
		if (o + 1 >= to)
			return 0; /* read up to `to` (its word may go past it: a CR there counts too) */
		__u8 *b = data + pw_pkt_off(o);

		if ((void *)(b + 10) > data_end)
			break;
		__u64 w = *(__u64 *)(b + 1), cr = pw_zero_bytes(w ^ (PW_ONES * '\r'));
		/* With amp, an '&' counts too: pjsip ends a header at one after a value it parsed
		 * (Max-Forwards, CSeq...) and reads a header after it, but not inside a quoted
		 * display name (pw_amp_ok); so does a '[' left open on its line (pw_open_ok). The
		 * masks without a branch: each would double the verifier's paths. */
		__u64 amps = pw_zero_bytes(w ^ (PW_ONES * '&')) & -(__u64)((((amp >> 1) - o - 2) >> 31) & amp & 1);
		__u64 open = pw_zero_bytes(w ^ (PW_ONES * '[')) & -(__u64)(amp & 1);

		if (!(cr | amps | open))
			continue;
		if (amps)
			return PW_CR_AMP | (o + 1) << 8; /* the caller asks pw_amp_ok */
		if (open && !pw_open_ok(ctx, o + 1))
			return 1;
		__u64 ends = cr & pw_zero_bytes(*(__u64 *)b ^ (PW_ONES * '\n'));
		__u64 bare = cr & ~pw_zero_bytes(*(__u64 *)(b + 2) ^ (PW_ONES * '\n'));

		if (ends)
			return (bare & ((ends & -ends) - 1)) != 0; /* the CRs before the empty line */
		if (bare)
			return 1;
	}
	/* The datagram's last bytes, one at a time (one verifier state: the offset through
	 * pw_opaque): a CR that ends it is bare too. */
	o = pw_opaque(o);
	__u8 *b = data + pw_pkt_off(o);

	for (__u32 j = 1; j < 10; j++) {
		if ((void *)(b + j + 1) > data_end)
			return 0;
		if ((amp & 1) && (b[j] == '&' || b[j] == '['))
			return 1;
		if (b[j] != '\r')
			continue;
		if (b[j - 1] == '\n')
			return 0; /* the empty line */
		if ((void *)(b + j + 2) > data_end || b[j + 1] != '\n')
			return 1;
	}
	return 0;
}

#endif /* PBXWALL_SIP_LINES_H */
