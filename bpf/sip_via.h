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

/* The bytes of `at` (a bit per byte, as pw_zero_bytes gives) in the eight bytes x, x2 the eight
 * after them: does one start a maddr? A ';' a maddr parameter (pw_via_maddr), an 'm' chan_sip's
 * "maddr=" (its check_via takes the string anywhere in the top Via: a strstr, lower case). Only
 * a ';' that 'm', 'M' or a byte up to ' ' follows, and an 'm' that an 'a' follows, so that an
 * 'm' marked is followed by a byte not marked: six at most (";ma;ma;m"). A phone's Via has
 * none. A global function, verified once. */
__noinline int pw_via_semis(__u64 x, __u64 x2, __u64 at)
{
	for (__u32 k = 0; k < 6; k++) {
		if (!at)
			break;
		__u32 j = pw_byte_index(at & -at) & 7;
		__u64 y = j < 7 ? (x >> ((j + 1) * 8)) | (x2 << ((7 - j) * 8)) : x2; /* the eight bytes after it */

		if (((x >> (j * 8)) & 0xff) == ';' ? pw_via_maddr(y) : (y & 0xffffffffffULL) == 0x3d72646461ULL /* "addr=" */)
			return 1;
		at &= at - 1;
	}
	return 0;
}

/* One step of pw_via_line_ok: x, the eight bytes at offset o of the Via's value, and x2, the
 * eight after them. Every byte of x is judged at once, by masks: the line's end (a '\n' that no
 * white space follows), the ':', '[' and ']' before it (two more bytes each in pjsip's answer,
 * counted by a multiply; of two brackets the later, the higher in the mask, decides whether a
 * '[' is left open), and a ';' or an 'm' that may start a maddr. *sums holds the extra bytes so far (bits
 * 0-15), an open '[' (bit 16) and the budget (from bit 20). Returns PW_VIA_ON when the line
 * goes on past x, else whether it ends well: within budget bytes, without a maddr, no '['
 * left open. */
#define PW_VIA_ON 2
static __always_inline int pw_via_step(__u64 x, __u64 x2, __u32 o, volatile __u32 *sums)
{
	__u32 st = *sums, extra = st & 0xffff, budget = st >> 20;

	if (o + extra >= budget)
		return 0; /* too long: its end (or a maddr) may lie past what egress reads */
	if (!x)
		return 0; /* past the datagram's end, or NUL bytes */
	__u64 y = (x >> 8) | (x2 << 56); /* each byte's next one */
	__u64 end = pw_lf_bytes(x) & ~(pw_zero_bytes(y ^ (PW_ONES * ' ')) | pw_zero_bytes(y ^ (PW_ONES * '\t')));
	__u64 before = (end & -end) - 1; /* the bytes before the line's end: all when it is not here */
	__u64 lb = pw_zero_bytes(x ^ (PW_ONES * '[')) & before, rb = pw_zero_bytes(x ^ (PW_ONES * ']')) & before;
	__u64 ev = lb | rb | (pw_zero_bytes(x ^ (PW_ONES * ':')) & before);
	__u64 semi = pw_zero_bytes(x ^ (PW_ONES * ';')) & before &
		     (pw_zero_bytes((y | PW_ONES * 0x20) ^ (PW_ONES * 'm')) | ~(((y & PW_LOW7) + PW_ONES * (0x7f - ' ')) | y | PW_LOW7));
	__u64 ma = pw_zero_bytes(x ^ (PW_ONES * 'm')) & pw_zero_bytes(y ^ (PW_ONES * 'a')) & before;
	__u32 open = ((st >> 16) & !(lb | rb)) | (lb > rb);

	extra += (((ev >> 7) * PW_ONES) >> 56) * 2;
	if ((semi | ma) && pw_via_semis(x, x2, semi | ma))
		return 0;
	if (end)
		return !open && o + pw_byte_index(end & -end) + extra < budget; /* the line ends */
	*sums = (st & ~0x1ffffU) | extra | open << 16;
	return PW_VIA_ON;
}

/* The first look at the top Via line, its value at packet offset voff (pw_via_fast's): 1 when
 * it surely ends well (as pw_via_line_ok judges), else PW_VIA_ON. Sure when its
 * end lies e bytes in with 3 * e < budget (even were every byte a ':' it would count less than
 * budget), and before its end there is no '[' or ']', no ';' that may start a maddr (one
 * that 'm', 'M' or a byte up to ' ' follows), no "ma" (chan_sip's "maddr=" may lie anywhere
 * in it) and no CR that no line feed follows (pw_via_checks). A phone's Via over IPv4 is sure:
 * most of its words show none of ';', '[', ']', 'm' and the bytes below ' ' ('\n', '\r'), found
 * by one sum a byte value or class (two operations
 * each, not pw_zero_bytes' five), and the sums are the exact masks of a word of ASCII bytes;
 * a word with bytes past ASCII is not sure. No ':' is counted. */
static __always_inline int pw_via_look(struct xdp_md *ctx, __u32 voff, __u32 budget)
{
	if (voff > PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN + 16 || budget > PW_VIA_LINE)
		return PW_VIA_ON;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *v = data + pw_pkt_off(voff);

	for (__u32 o = 0; o < PW_VIA_LINE / 3; o += 8) {
		__u8 *p = v + o;

		if ((void *)(p + 16) > data_end)
			return PW_VIA_ON;
		__u64 x = *(__u64 *)p, x2 = *(__u64 *)(p + 8);

		/* ((x ^ c) + 0x7f..) clears the high bit of each byte that is c, when x is ASCII;
		 * ((x & 0x7f..) + 0x60..) each byte's whose low seven bits are below ' ' (a line
		 * end, a CR, a tab), with no carry. */
		__u64 tctl = (x & PW_LOW7) + PW_ONES * 0x60, ts = (x ^ (PW_ONES * ';')) + PW_LOW7;
		__u64 tb = ((x ^ (PW_ONES * '[')) + PW_LOW7) & ((x ^ (PW_ONES * ']')) + PW_LOW7);
		__u64 tm = (x ^ (PW_ONES * 'm')) + PW_LOW7;

		if (!x)
			return PW_VIA_ON;
		if ((tctl & ts & tb & tm & ~PW_LOW7) == ~PW_LOW7)
			continue; /* none of them (a byte past ASCII clears its own bit in ts or tm) */
		if (x & ~PW_LOW7)
			return PW_VIA_ON; /* bytes past ASCII: not sure */
		__u64 tl = (x ^ (PW_ONES * '\n')) + PW_LOW7, tc = (x ^ (PW_ONES * '\r')) + PW_LOW7;
		__u64 lf = ~tl & ~PW_LOW7, semi = ~ts & ~PW_LOW7, br = ~tb & ~PW_LOW7, ma = ~tm & ~PW_LOW7;
		__u64 y = (x >> 8) | (x2 << 56); /* each byte's next one */
		__u64 end = lf & ~(pw_zero_bytes(y ^ (PW_ONES * ' ')) | pw_zero_bytes(y ^ (PW_ONES * '\t')));
		__u64 before = (end & -end) - 1; /* the bytes before the line's end: all when it is not here */

		semi &= pw_zero_bytes((y | PW_ONES * 0x20) ^ (PW_ONES * 'm')) | ~(((y & PW_LOW7) + PW_ONES * (0x7f - ' ')) | y | PW_LOW7);
		ma &= pw_zero_bytes(y ^ (PW_ONES * 'a'));
		__u64 bare = ~tc & ~PW_LOW7 & ~pw_zero_bytes(y ^ (PW_ONES * '\n')); /* a CR no line feed follows */

		if ((semi | br | ma | bare) & before)
			return PW_VIA_ON;
		if (end)
			return 3 * (o + pw_byte_index(end & -end)) < budget ? 1 : PW_VIA_ON;
	}
	return PW_VIA_ON;
}

/* The top Via line, its value (from the end of its name) at packet offset voff: does it end
 * within budget bytes (':', '[' and ']' counting three), with no maddr (a parameter, or chan_sip's
 * "maddr=" anywhere) and no '[' left open (pjsip reads a bracketed host up to its ']', across line ends: a maddr on the next
 * line would be the top Via's)? A folded line goes on. Eight bytes a step (pw_via_step), with
 * no call in the loop and no step waiting for the bytes of the one before (only the sums go
 * from step to step). Returns PW_VIA_ON when the datagram's last 16 bytes were reached: then
 * pw_via_tail judges them, from ul->via_rest. A global function, verified once. The sums go
 * through map memory, and each step reads through a pointer of its own: else the verifier
 * would check every step once for every sum, and every length checked, that the paths into
 * it could have. */
__noinline int pw_via_line_ok(struct xdp_md *ctx, struct pw_uf_lines *ul, __u32 voff, __u32 budget)
{
	if (!ctx || !ul || voff > PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN + 16 || budget > PW_VIA_LINE)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	volatile __u32 *sums = &ul->via_sums;
	__u8 *v = data + pw_pkt_off(voff);

	*sums = budget << 20;
	for (__u32 o = 0; o <= PW_VIA_LINE; o += 8) {
		__u8 *p = v + o;

		if ((void *)(p + 16) > data_end) {
			ul->via_rest = o;
			return PW_VIA_ON;
		}
		int r = pw_via_step(*(__u64 *)p, *(__u64 *)(p + 8), o, sums);

		if (r != PW_VIA_ON)
			return r;
	}
	return 0; /* too long */
}

/* The end of pw_via_line_ok: the datagram's last 15 bytes or less, from ul->via_rest bytes
 * into the Via's value, copied (zero past the datagram's end) and judged in one or two steps.
 * A global function of its own, called after pw_via_line_ok: nested, its stack would put the
 * call chain past the kernel's 512 bytes. */
__noinline int pw_via_tail(struct xdp_md *ctx, struct pw_uf_lines *ul, __u32 voff)
{
	if (!ctx || !ul || voff > PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN + 16)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	volatile __u32 *sums = &ul->via_sums;
	__u32 o = ul->via_rest;

	if (o > PW_VIA_LINE)
		return 0;
	__u8 *t = data + pw_pkt_off(voff + o);
	__u64 *w = ul->via_tail;
	__u32 rest = (void *)(t + 8) <= data_end ? 8 : 0;

	if ((void *)(t + rest + 4) <= data_end)
		rest += 4;
	if ((void *)(t + rest + 2) <= data_end)
		rest += 2;
	if ((void *)(t + rest + 1) <= data_end)
		rest += 1;
	ul->via_rest = rest; /* through map memory: the verifier checks one length, not sixteen */
	rest = *(volatile __u32 *)&ul->via_rest & 15;
	w[0] = 0;
	w[1] = 0;
	if (!rest || bpf_xdp_load_bytes(ctx, pw_pkt_off(voff + o), w, rest))
		return 0; /* the datagram ends inside the Via: no empty line */
	int r = pw_via_step(w[0], w[1], o, sums);

	return r == PW_VIA_ON ? pw_via_step(w[1], 0, o + 8, sums) == 1 : r;
}

/* The word at packet offset woff, before the top Via, holds an '&': is every '&' of it inside
 * the quoted display name of a From or To header (JAIN-SIP clients write them before the Via;
 * `From: "R&D" <sip:...>`)? pjsip ends a header at an '&' after a value it parsed, but reads a
 * quoted string to its closing quote, '\' escaping the next byte. So: the line of the word's
 * first '&' (it starts within 128 bytes before it, after the Request-URI at packet offset from)
 * starts with From, To, f or t (any case), SP or HT, a ':', SP or HT, and a '"', and between
 * that quote and the word's last '&' there is no '"', '\', CR or line feed. Anything else
 * (a '"' inside an unquoted name, or in a host, or in another header) is not taken for a
 * quote. A global function, verified once: words before the top Via rarely hold an '&'. */
__noinline int pw_amp_ok(struct xdp_md *ctx, struct pw_uf_lines *ul, __u32 woff, __u32 from)
{
	if (!ctx || !ul)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data + pw_pkt_off(woff);

	if ((void *)(p + 8) > data_end)
		return 0;
	__u64 amps = pw_zero_bytes(*(__u64 *)p ^ (PW_ONES * '&'));

	if (!amps)
		return 1;
	__u32 first = woff + (pw_byte_index(amps & -amps) & 7), last = woff + (pw_byte_index(pw_top_byte(amps)) & 7);
	__u32 start = 0; /* the line's start, 0 until found */

	/* Back from the first '&', eight bytes at a time, to the line feed before it. */
	for (__u32 k = 1; k <= 16; k++) {
		__u32 at = first >= from + 8 * k ? first - 8 * k : from, below = first - at;
		__u8 *q = data + pw_pkt_off(at);

		/* at > first never holds (from <= woff); told, the verifier checks 1k fewer states. */
		if (at > first || (void *)(q + 8) > data_end)
			return 0;
		__u64 lf = pw_lf_bytes(*(__u64 *)q);

		if (below < 8)
			lf &= (1ULL << (below * 8)) - 1; /* the bytes before the '&' */
		if (lf) {
			start = at + (pw_byte_index(pw_top_byte(lf)) & 7) + 1;
			break;
		}
		if (at == from)
			return 0; /* the request line */
	}
	/* Through map memory: one verifier state on, not one per way out of the loop. */
	ul->amp_at = start;
	start = *(volatile __u32 *)&ul->amp_at;
	if (!start)
		return 0; /* its line starts more than 128 bytes before it */
	__u8 *h = data + pw_pkt_off(start);

	if ((void *)(h + 16) > data_end)
		return 0;
	__u64 lc = *(__u64 *)h | (PW_ONES * 0x20);
	__u32 n = (lc & 0xffffffff) == 0x6d6f7266 /* "from" */ ? 4 : (lc & 0xffff) == 0x6f74 /* "to" */ ? 2 :
		  ((lc & 0xff) == 'f' || (lc & 0xff) == 't') ? 1 : 0;

	if (!n)
		return 0;
	/* After the name, in eight bytes: white space, ':', white space, '"'. */
	__u64 y = *(__u64 *)(h + (n & 7));
	__u64 solid = ~(pw_zero_bytes(y ^ (PW_ONES * ' ')) | pw_zero_bytes(y ^ (PW_ONES * '\t'))) & ~PW_LOW7; /* not SP or HT */
	__u64 c1 = solid & -solid, rest = solid & ~(c1 | (c1 - 1)), c2 = rest & -rest;

	if (!c2 || !(pw_zero_bytes(y ^ (PW_ONES * ':')) & c1) || !(pw_zero_bytes(y ^ (PW_ONES * '"')) & c2))
		return 0;
	__u32 quote = start + n + (pw_byte_index(c2) & 7);

	ul->amp_at = quote;
	quote = *(volatile __u32 *)&ul->amp_at;
	if (quote >= first)
		return 0;
	/* From the byte after the quote up to the last '&': no '"', '\', CR or line feed. */
	for (__u32 k = 0; k < 18; k++) {
		__u32 at = quote + 1 + 8 * k;

		if (at >= last)
			return 1;
		__u8 *q = data + pw_pkt_off(at);

		if ((void *)(q + 8) > data_end)
			return 0;
		__u64 x = *(__u64 *)q, left = last - at;
		__u64 bad = pw_zero_bytes(x ^ (PW_ONES * '"')) | pw_zero_bytes(x ^ (PW_ONES * '\\')) |
			    pw_zero_bytes(x ^ (PW_ONES * '\r')) | pw_lf_bytes(x);

		if (left < 8)
			bad &= (1ULL << (left * 8)) - 1;
		if (bad)
			return 0;
	}
	return 0;
}

/* No bare CR, no '[' left open on its line, and no '&' but in a From or To's quoted display
 * name (pw_amp_ok) from the Request-URI at packet offset moff up to packet offset to: pw_bare_cr
 * stops at each word with an '&' and goes on after pw_amp_ok judged it (four such words at
 * most: a JAIN-SIP client's From and To, each with a name of two). */
static __always_inline int pw_before_via_ok(struct xdp_md *ctx, struct pw_uf_lines *ul, __u32 moff, __u32 to)
{
	__u32 from = moff, amp = 1;

	for (__u32 i = 0; i < 5; i++) {
		int r = pw_bare_cr(ctx, from, to, amp);

		if (r < PW_CR_AMP)
			return !r;
		__u32 w = (__u32)r >> 8;

		if (i == 4 || !pw_amp_ok(ctx, ul, w, moff))
			return 0;
		from = w; /* the same word again, for its CRs and '[', its '&' judged */
		amp = (w + 1) << 1 | 1;
	}
	return 0;
}

/* Is none of the first `upto` lines the header scan listed a Replaces header? pjsip reads its
 * value up to the first ';', across line ends: before the top Via, the lines up to one (the
 * top Via among them) are not the lines the scan sees. (With the Via checked, the scan lists
 * the lines that start with R too.) A global function, verified once. */
__noinline int pw_no_replaces(struct xdp_md *ctx, struct pw_uf_lines *ul, __u32 upto)
{
	if (!ctx || !ul)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	for (__u32 k = 0; k < PW_UF_LINES; k++) {
		if (k >= upto)
			break;
		__u8 *q = data + pw_pkt_off(ul->off[k]);

		if ((void *)(q + 9) > data_end)
			break;
		if ((*(__u64 *)q | (PW_ONES * 0x20)) == 0x736563616c706572ULL /* "replaces" */ &&
		    (pw_sws_bit(q[8]) || q[8] == ':'))
			return 0;
	}
	return 1;
}

/* A header line's first four bytes raw: the length of its name when it is a Via line ("Via" or
 * "v", any case, then white space, ':' or a line end: a folded name, which pjsip reads on the
 * next line, and so does pw_via_line_ok), else 0. */
static __always_inline __u32 pw_via_name(__u32 raw)
{
	__u32 name = raw | 0x20202020; /* lower case, for the letters */
	__u32 len = (name & 0xffffff) == 0x616976 /* "via" */ ? 3 : (name & 0xff) == 'v' ? 1 : 0;
	__u8 after = raw >> (len * 8);

	return len && (pw_sws_bit(after) || after == ':') ? len : 0;
}

/* Does the request line whose Request-URI starts at packet offset moff end in " SIP/2.0" and
 * its line end? Asked where the Via is checked (requests from sources whose failures count):
 * Kamailio copies the request's version token into its answers ("sip/2.0 401": its sanity
 * check reads only what follows the '/'), and egress takes status lines that start "SIP/2.0 "
 * only, so a guesser's challenges and 403s would count against nobody. RFC 3261 7.1: a client
 * MUST send it in upper case. The Request-URI ends at its first space (it holds none), looked
 * for eight bytes at a time within PW_VIA_FAST bytes: a longer one, or another ending, is
 * refused. A global function, verified once (inline: +135k verifier instructions). */
#define PW_VIA_FAST 512 /* the Via's value starts so many bytes after the Request-URI at most */
__noinline int pw_version_ok(struct xdp_md *ctx, __u32 moff)
{
	if (!ctx || moff > PW_MAX_HDR_OFF + 16)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	for (__u32 o = 0; o < PW_VIA_FAST; o += 8) {
		__u8 *q = data + pw_pkt_off(moff + o);

		if ((void *)(q + 8) > data_end)
			return 0;
		__u64 sp = pw_zero_bytes(*(__u64 *)q ^ (PW_ONES * ' '));

		if (!sp)
			continue;
		__u8 *v = data + pw_pkt_off(moff + o + pw_byte_index(sp & -sp) + 1);

		if ((void *)(v + 9) > data_end)
			return 0;
		__u64 x = *(__u64 *)v;

		return (x == 0x0d302e322f504953ULL && v[8] == '\n') || x == 0x0a302e322f504953ULL; /* "SIP/2.0\r" "SIP/2.0\n" */
	}
	return 0;
}

/* The Via check's common case (a phone's request), which pw_sip_headers makes first, inline
 * (pw_hdr_checks makes three calls: itself, the Via read and pw_bare_cr): the top Via is among
 * the first eight lines the header scan listed, with no line that starts with R before it,
 * its value starts within PW_VIA_FAST bytes of the Request-URI, its first look (pw_via_look)
 * is sure, and from the Request-URI up to it there is no '&', no '[', no byte past ASCII and
 * no CR that no line feed follows. 1 then: the request passes the Via check (and pw_hdr_checks
 * is called only for its CSeq, if that is checked). 0 sends it to pw_hdr_checks, which judges
 * it exactly (pw_via_checks): so this can only pass what that passes. Inline: a call and its
 * return cost ~6 ns here (the return thunk of the host's SRSO mitigation), 3% of the hot
 * REGISTER, while inline it costs the verifier ~5k instructions more. */
static __always_inline int pw_via_fast(struct xdp_md *ctx, struct pw_uf_lines *ul)
{
	if (!ctx || !ul)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 n = ul->n, moff = ul->uri_off, off = 0, len = 0;

	for (__u32 k = 0; k < 8; k++) {
		if (k >= n)
			return 0;
		off = ul->off[k];
		__u8 *q = data + pw_pkt_off(off);

		if ((void *)(q + 4) > data_end || (q[0] | 0x20) == 'r')
			return 0; /* a Replaces, maybe (pw_no_replaces) */
		len = pw_via_name(*(__u32 *)q);
		if (len)
			break;
	}
	if (!len)
		return 0;
	/* Through map memory: one verifier state on, not one per name length. */
	ul->amp_at = off + len;
	__u32 voff = *(volatile __u32 *)&ul->amp_at, used = voff - moff, left = PW_VIA_BUDGET - used;

	if (voff <= moff || used >= PW_VIA_FAST || pw_via_look(ctx, voff, left < PW_VIA_LINE ? left : PW_VIA_LINE) != 1)
		return 0;
	/* From the Request-URI to the Via's value (its last word may reach past), eight bytes at a
	 * time: ((w ^ c) + 0x7f..) clears the high bit of each byte that is c, exactly in an
	 * ASCII word; a word with bytes past ASCII goes to pw_hdr_checks. */
	__u8 *b = data + pw_pkt_off(moff);

	for (__u32 o = 0; o < PW_VIA_FAST; o += 8) {
		if (o >= used)
			return 1;
		__u8 *q = b + o;

		if ((void *)(q + 9) > data_end)
			return 0;
		__u64 w = *(__u64 *)q, tc = (w ^ (PW_ONES * '\r')) + PW_LOW7;
		__u64 ta = ((w ^ (PW_ONES * '&')) + PW_LOW7) & ((w ^ (PW_ONES * '[')) + PW_LOW7);

		if ((~ta | (~tc & ~pw_lf_bytes((w >> 8) | ((__u64)q[8] << 56)))) & ~PW_LOW7)
			return 0; /* an '&', a '[', a bare CR, or a byte past ASCII (its own bit in ta) */
	}
	return 0; /* not reached: used < PW_VIA_FAST */
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
	 * with V or R when the Via is checked): "Via" or "v", then white space, ':' or a line end
	 * (a folded name: pjsip reads the header on the next line, and so does pw_via_line_ok). */
	for (__u32 k = 0; k < PW_UF_LINES; k++) {
		if (k >= n)
			break;
		__u32 off = ul->off[k];

		if (off > PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN)
			return 0;
		__u8 *q = data + pw_pkt_off(off);

		if ((void *)(q + 4) > data_end)
			break; /* no header here: the datagram's end */
		__u32 len = pw_via_name(*(__u32 *)q);

		if (!len)
			continue;
		/* The budget runs from the Request-URI: a PBX may copy the headers before the Via into
		 * its answer ahead of it (Kamailio does). */
		__u32 used = off + len - moff, left = PW_VIA_BUDGET - used;

		if (used >= PW_VIA_BUDGET)
			return 0;
		__u32 voff = off + len, budget = left < PW_VIA_LINE ? left : PW_VIA_LINE;
		int via = pw_via_line_ok(ctx, ul, voff, budget);

		if (via == PW_VIA_ON)
			via = pw_via_tail(ctx, ul, voff);
		/* No bare CR in the Via line either (nor in what follows it within PW_VIA_LINE
		 * bytes): chan_sip, with its default `pedantic`, deletes every CR before it reads
		 * the Via, and "m\raddr=" is then a maddr to it. */
		return via == 1 && !pw_bare_cr(ctx, voff, voff + PW_VIA_LINE + 1, 0) && (!k || pw_no_replaces(ctx, ul, k)) &&
		       pw_before_via_ok(ctx, ul, moff, off);
	}
	/* No Via line read. Pointers compared, not lengths: the verifier takes no packet pointer
	 * back from a length worked out of ctx->data. */
	if (ul->first_frag || data + pw_pkt_off(moff) + PW_SIP_HDR_SCAN < data_end)
		return 0;
	return pw_no_replaces(ctx, ul, n) && pw_before_via_ok(ctx, ul, moff, PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN);
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
 * that is not known), pw_via_checks, and for such a request that pw_sip_headers marked
 * (dlg_look), pw_sip_relayable; a source of another zone than internet (known is then
 * PW_KNOWN_UNSEEN) that fails them is looked up: known after all, it passes. Returns a
 * PW_HDRS_* verdict. A request other than REGISTER that fails pw_sip_relayable alone passes
 * from a peer the PBX sent a request to (pw_dialog_flow: a trunk it registers with, a SIP
 * address it called: that call's BYE, a NOTIFY of its subscription). ul is the caller's pw_uflines
 * entry: no stack here (the call chain through pw_cseq_ok is at the kernel's 512 bytes), and
 * what must outlive a call goes through it. */
__noinline int pw_hdr_checks(struct xdp_md *ctx, struct pw_uf_lines *ul, const struct pw_meta *m, __u32 known)
{
	if (!ctx || !m || !ul)
		return PW_HDRS_BAD_CSEQ;
	__u32 moff = ul->uri_off;

	ul->dialog = 0;
	if (ul->cseq_check) {
		int cseq = pw_cseq_ok(ctx);

		if (cseq != PW_CSEQ_OK)
			return cseq == PW_CSEQ_UNSEEN ? PW_HDRS_NO_CSEQ : PW_HDRS_BAD_CSEQ;
		if (!pw_crlf_fast(ctx, moff, PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN) &&
		    pw_bare_cr(ctx, moff, PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN, 0))
			return PW_HDRS_BAD_CSEQ;
	}
	/* The request line starts with the method and a space before the URI. The offsets read
	 * again: kept in a register across pw_via_checks, the URI's cost this frame the stack its
	 * call chain lacks. */
	if ((!ul->via_check || pw_via_checks(ctx, ul)) &&
	    (!ul->dlg_look || !(ul->dialog = pw_sip_relayable(ctx, *(volatile __u32 *)&ul->uri_off -
									 *(volatile __u32 *)&ul->method_len - 1))))
		return PW_HDRS_CLEAN;
	if (known == PW_KNOWN_UNSEEN && pw_known_src(&m->src))
		return PW_HDRS_CLEAN;
	return *(volatile __u32 *)&ul->dialog && !*(volatile __u32 *)&ul->reg && pw_dialog_flow(m) ? PW_HDRS_CLEAN
											     : PW_HDRS_BAD_VIA;
}

#endif /* PBXWALL_SIP_VIA_H */
