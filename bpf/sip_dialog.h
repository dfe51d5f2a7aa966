/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Whether a request is inside a dialog, as a PBX reads its headers: the To tag and Route lines
 * of pw_dlg_read's byte scan. An INVITE in a dialog passes the toll guard and the anonymous-call
 * rule from a known source or a peer the PBX called (pw_sip_in_dialog); another request that a
 * proxy may take for one and relay on its Route drops from sources that are not known, unless
 * the PBX sent them a request (pw_sip_relayable).
 * Included by sip_guards.h. */
#ifndef PBXWALL_SIP_DIALOG_H
#define PBXWALL_SIP_DIALOG_H

static __always_inline __u8 pw_lower(__u8 ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* What pw_dlg_at keeps from byte to byte. */
struct pw_dlg_scan {
	__u32 len;   /* bytes copied */
	__u32 state; /* PW_DLG_* */
	__u32 name;  /* a header name's first four bytes (lower case), or a parameter's (as sent) */
	__u32 nlen;  /* its length, up to 5; past 4 bytes, none of those looked for but Route */
	__u32 to;    /* To lines seen */
	__u32 in_to; /* the header line read last is a To */
	__u32 tag;   /* a tag parameter seen in a To header */
	__u32 anytag; /* a To parameter named tag in any case ("TAG", "Tag"), its '=' reached */
	__u32 route; /* a Route line seen */
	__u32 bad;   /* something read that the scan cannot vouch for */
	__u32 ended; /* the empty line that ends the headers was reached */
	__u32 via;    /* Via values seen: Via ("Via", "v") headers, and a ',' inside one adds one */
	__u32 in_via; /* the header line read last is a Via */
	__u32 in_cseq; /* the header line read last is a CSeq */
	__u32 reg;    /* a CSeq header holds "register" (any case) */
	__u32 answer; /* an answer is read: an '&' is any byte (a proxy and egress read it so) */
	__u64 win;    /* the last eight bytes read, lower case, the latest in the low byte */
};

/* pw_sip_in_dialog's work, per CPU: the request's first PW_SIP_HDR_SCAN bytes (an index masked
 * to the array never reads past it), and the scan's state. In map memory, the verifier sees
 * the state as plain numbers at every byte, and the call chain's stack stays small. */
struct pw_dlg_buf {
	struct pw_dlg_scan st;
	__u8 b[2048];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_dlg_buf);
} pw_dlgbuf SEC(".maps");

/* pw_dlg_at's states: where in the headers a byte falls. */
enum {
	PW_DLG_SKIP,   /* in a line nothing is read from: to its end */
	PW_DLG_LINE,   /* a line's first byte */
	PW_DLG_ENDCR,  /* after a '\r' that starts a line: the empty line's '\n' must follow */
	PW_DLG_NAME,   /* a header name */
	PW_DLG_NAMEWS, /* white space after it, before the colon */
	PW_DLG_TOV,    /* the start of a To value */
	PW_DLG_PLAIN,  /* a To display name in tokens, or an addr-spec without angle brackets */
	PW_DLG_QUOTE,  /* a quoted display name */
	PW_DLG_QESC,   /* after a backslash in it */
	PW_DLG_AFTERQ, /* after it: only white space, then '<' */
	PW_DLG_ANGLE,  /* the URI in angle brackets: its parameters are not the header's */
	PW_DLG_PARAMS, /* between the header's parameters */
	PW_DLG_PNAME,  /* a parameter's name */
	PW_DLG_PVAL,   /* another parameter's value */
	PW_DLG_TAGV,   /* the first byte of a tag's value */
};

/* The classes of bytes pw_dlg_at tells apart. */
enum { PW_C_OTHER, PW_C_TOKEN, PW_C_WS, PW_C_CR, PW_C_LF, PW_C_COLON, PW_C_QUOTE, PW_C_BSLASH, PW_C_LT,
       PW_C_GT, PW_C_SEMI, PW_C_EQ };
#define PW_TOKEN_CLASS(c) [c] = PW_C_TOKEN
static const __u8 pw_dlg_class[256] = {
	['0' ... '9'] = PW_C_TOKEN, ['A' ... 'Z'] = PW_C_TOKEN, ['a' ... 'z'] = PW_C_TOKEN,
	PW_TOKEN_CLASS('-'), PW_TOKEN_CLASS('.'), PW_TOKEN_CLASS('!'), PW_TOKEN_CLASS('%'), PW_TOKEN_CLASS('*'),
	PW_TOKEN_CLASS('_'), PW_TOKEN_CLASS('+'), PW_TOKEN_CLASS('`'), PW_TOKEN_CLASS('\''), PW_TOKEN_CLASS('~'),
	[' '] = PW_C_WS, ['\t'] = PW_C_WS, ['\r'] = PW_C_CR, ['\n'] = PW_C_LF, [':'] = PW_C_COLON,
	['"'] = PW_C_QUOTE, ['\\'] = PW_C_BSLASH, ['<'] = PW_C_LT, ['>'] = PW_C_GT, [';'] = PW_C_SEMI,
	['='] = PW_C_EQ,
};

/* What a byte does besides moving to the next state (bits above the state's four). */
#define PW_A_NSTART (1 << 4) /* a header name starts: its first byte, lower case */
#define PW_A_NADD (1 << 5)   /* a header name's next byte, lower case */
#define PW_A_PADD (1 << 6)   /* a parameter name's next byte, as sent */
#define PW_A_RESET (1 << 7)  /* a parameter name starts */
#define PW_A_NAMED (1 << 8)  /* a header name ends: To (the value is read) or not; Route is noted */
#define PW_A_TAGEQ (1 << 9)  /* a parameter's '=': a tag's value follows if the name is "tag" */
#define PW_A_TAG (1 << 10)   /* a tag's value starts */
#define PW_A_BAD (1 << 11)   /* something the scan cannot vouch for: stop */
#define PW_A_FOLD (1 << 12)  /* a folded line: bad if it continues a To */
#define PW_A_END (1 << 13)   /* the empty line: stop */
#define PW_DLG(st, cls) [(PW_DLG_##st) * 16 + (PW_C_##cls)]
#define PW_DLG_ALL(st, v)                                                                                      \
	PW_DLG(st, OTHER) = (v), PW_DLG(st, TOKEN) = (v), PW_DLG(st, WS) = (v), PW_DLG(st, CR) = (v),          \
	PW_DLG(st, LF) = (v), PW_DLG(st, COLON) = (v), PW_DLG(st, QUOTE) = (v), PW_DLG(st, BSLASH) = (v),      \
	PW_DLG(st, LT) = (v), PW_DLG(st, GT) = (v), PW_DLG(st, SEMI) = (v), PW_DLG(st, EQ) = (v)

/* The state machine, by state and class: the next state, and what the byte does. Later
 * designated initializers of an entry override the PW_DLG_ALL default before them. A table,
 * not branches, so that the verifier checks one byte's work as one way through. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winitializer-overrides"
static const __u16 pw_dlg_next[16 * 16] = {
	PW_DLG_ALL(SKIP, PW_DLG_SKIP), PW_DLG(SKIP, LF) = PW_DLG_LINE,

	PW_DLG_ALL(LINE, PW_DLG_NAME | PW_A_NSTART), PW_DLG(LINE, CR) = PW_DLG_ENDCR,
	PW_DLG(LINE, LF) = PW_A_END, PW_DLG(LINE, WS) = PW_DLG_SKIP | PW_A_FOLD,
	PW_DLG(LINE, COLON) = PW_DLG_SKIP,

	PW_DLG_ALL(ENDCR, PW_A_BAD), PW_DLG(ENDCR, LF) = PW_A_END,

	/* A header name that runs into the line end: pjsip reads a colon after folding white
	 * space, so a To (or Route) may lie there. */
	PW_DLG_ALL(NAME, PW_DLG_NAME | PW_A_NADD), PW_DLG(NAME, COLON) = PW_A_NAMED,
	PW_DLG(NAME, WS) = PW_DLG_NAMEWS, PW_DLG(NAME, LF) = PW_A_BAD, PW_DLG(NAME, CR) = PW_A_BAD,

	PW_DLG_ALL(NAMEWS, PW_DLG_SKIP), PW_DLG(NAMEWS, COLON) = PW_A_NAMED, PW_DLG(NAMEWS, WS) = PW_DLG_NAMEWS,
	PW_DLG(NAMEWS, LF) = PW_A_BAD, PW_DLG(NAMEWS, CR) = PW_A_BAD,

	PW_DLG_ALL(TOV, PW_DLG_PLAIN), PW_DLG(TOV, WS) = PW_DLG_TOV, PW_DLG(TOV, QUOTE) = PW_DLG_QUOTE,
	PW_DLG(TOV, LT) = PW_DLG_ANGLE, PW_DLG(TOV, CR) = PW_A_BAD, PW_DLG(TOV, LF) = PW_A_BAD,
	PW_DLG(TOV, GT) = PW_A_BAD, PW_DLG(TOV, SEMI) = PW_A_BAD,

	/* Tokens of a display name, then '<'; or an addr-spec, whose parameters are the header's
	 * (RFC 3261 20.10: a URI with parameters of its own must be in angle brackets). */
	PW_DLG_ALL(PLAIN, PW_DLG_PLAIN), PW_DLG(PLAIN, LT) = PW_DLG_ANGLE,
	PW_DLG(PLAIN, SEMI) = PW_DLG_PNAME | PW_A_RESET, PW_DLG(PLAIN, QUOTE) = PW_A_BAD,
	PW_DLG(PLAIN, GT) = PW_A_BAD, PW_DLG(PLAIN, LF) = PW_DLG_LINE,

	PW_DLG_ALL(QUOTE, PW_DLG_QUOTE), PW_DLG(QUOTE, BSLASH) = PW_DLG_QESC,
	PW_DLG(QUOTE, QUOTE) = PW_DLG_AFTERQ, PW_DLG(QUOTE, LF) = PW_A_BAD,

	PW_DLG_ALL(QESC, PW_DLG_QUOTE), PW_DLG(QESC, LF) = PW_A_BAD,

	PW_DLG_ALL(AFTERQ, PW_A_BAD), PW_DLG(AFTERQ, WS) = PW_DLG_AFTERQ, PW_DLG(AFTERQ, LT) = PW_DLG_ANGLE,

	PW_DLG_ALL(ANGLE, PW_DLG_ANGLE), PW_DLG(ANGLE, GT) = PW_DLG_PARAMS, PW_DLG(ANGLE, LF) = PW_A_BAD,

	PW_DLG_ALL(PARAMS, PW_A_BAD), PW_DLG(PARAMS, SEMI) = PW_DLG_PNAME | PW_A_RESET,
	PW_DLG(PARAMS, WS) = PW_DLG_PARAMS, PW_DLG(PARAMS, CR) = PW_DLG_PARAMS, PW_DLG(PARAMS, LF) = PW_DLG_LINE,

	/* Parameter names and values of token bytes only: anything else ('<', '@', a quote that
	 * may hold a ';') may be part of a display name or URI to a PBX ("To: x;tag=1<sip:..>",
	 * "To: sip:a;tag=1@b"). "tag" is read as every UA sends it, lower case: another spelling
	 * may be a tag to one PBX and not to another. */
	PW_DLG_ALL(PNAME, PW_A_BAD), PW_DLG(PNAME, TOKEN) = PW_DLG_PNAME | PW_A_PADD,
	PW_DLG(PNAME, SEMI) = PW_DLG_PNAME | PW_A_RESET, PW_DLG(PNAME, WS) = PW_DLG_PARAMS,
	PW_DLG(PNAME, CR) = PW_DLG_PARAMS, PW_DLG(PNAME, EQ) = PW_A_TAGEQ, PW_DLG(PNAME, LF) = PW_DLG_LINE,

	PW_DLG_ALL(PVAL, PW_A_BAD), PW_DLG(PVAL, TOKEN) = PW_DLG_PVAL, PW_DLG(PVAL, SEMI) = PW_DLG_PNAME | PW_A_RESET,
	PW_DLG(PVAL, WS) = PW_DLG_PARAMS, PW_DLG(PVAL, CR) = PW_DLG_PARAMS, PW_DLG(PVAL, LF) = PW_DLG_LINE,

	PW_DLG_ALL(TAGV, PW_A_BAD), PW_DLG(TAGV, TOKEN) = PW_DLG_PVAL | PW_A_TAG,
};
#pragma clang diagnostic pop

/* 1 when x == k, else 0, by arithmetic: no branch for the verifier to walk both ways of. */
static __always_inline __u64 pw_dlg_is(__u64 x, __u64 k)
{
	__u64 d = x ^ k, n = d | (0 - d); /* the high bit set when d is not 0 */

	asm volatile("" : "+r"(n)); /* else the compiler sees a compare, and makes it a branch */
	return (n >> 63) ^ 1;
}

/* bpf_loop callback: byte i of the copy. Returns 1 (stop) at the empty line, at something it
 * cannot vouch for, or past the copy. Arithmetic on the table's entry, not branches on the
 * state, which lives in map memory: the verifier checks one byte's work, once. */
static long pw_dlg_at(__u32 i, void *arg __attribute__((unused)))
{
	__u32 zero = 0;
	struct pw_dlg_buf *buf = bpf_map_lookup_elem(&pw_dlgbuf, &zero);

	if (!buf || i >= buf->st.len)
		return 1;
	struct pw_dlg_scan *st = &buf->st;
	__u32 ch = buf->b[i & 2047], after = i + 1 < st->len ? buf->b[(i + 1) & 2047] : 0;
	__u32 e = pw_dlg_next[(st->state & 15) * 16 + (pw_dlg_class[ch & 255] & 15)];
	/* Bytes where a PBX's reading of the lines parts from this one's: a CR no line feed
	 * follows (pjsip ends a line there, and a To or Route after it would be unseen here), an
	 * '&' (pjsip ends a header there too, after one it parses: "Max-Forwards: 70&To: ..."; not
	 * in the To's quoted display name, which its parser reads whole: a caller named "AT&T"),
	 * and control bytes (a NUL ends the message for chan_sip). Tested here, not as a class of
	 * the table refused in every state: that cost the verifier 11k more instructions. (Noting
	 * the '&' apart and going on, for pw_sip_relayable, cost 13k: Kamailio reads it as any
	 * byte, so a REGISTER with a Route and "Smith & Co" drops.) */
	__u32 quoted = (st->state & 15) == PW_DLG_QUOTE || (st->state & 15) == PW_DLG_QESC;
	__u32 odd = (ch == '\r' && after != '\n') || (ch == '&' && !quoted && !st->answer) ||
		    (ch < ' ' && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f;
	__u32 lch = pw_lower(ch), name = st->name, nlen = st->nlen;
	__u32 bit = (e & PW_A_NSTART) ? 1 : 0;
	__u32 keep = (e & (PW_A_NSTART | PW_A_RESET)) ? 0 : ~0U;
	__u32 add = (e & PW_A_NSTART) || ((e & (PW_A_NADD | PW_A_PADD)) && nlen < 4) ? ((e & PW_A_PADD) ? ch : lch) : 0;

	/* The name's bytes: its first four, and its length up to five. */
	name = (name & keep) | add << ((nlen & keep & 3) * 8);
	nlen = (nlen & keep) + ((e & (PW_A_NADD | PW_A_PADD)) && nlen < 5 ? 1 : 0) + bit;
	/* An answer's Via values and whether its CSeq names REGISTER (pw_answer_relayed): as a
	 * proxy counts them, every ',' in a Via header parts two values. Worked out without a
	 * branch (pw_dlg_is), and stored before the branches below: with a branch per test, or
	 * after those, the verifier walked this once per combination of them (+65k to +215k
	 * instructions; +12k so). */
	__u64 named = (e >> 8) & 1, cont = 1 ^ (((e >> 4) | (e >> 8)) & 1); /* PW_A_NAMED; neither it nor PW_A_NSTART */
	__u64 via = named & ((pw_dlg_is(nlen, 3) & pw_dlg_is(name, 'v' | 'i' << 8 | 'a' << 16)) |
			     (pw_dlg_is(nlen, 1) & pw_dlg_is(name, 'v')));
	__u64 cseq = named & pw_dlg_is(nlen, 4) & pw_dlg_is(name, 'c' | 's' << 8 | 'e' << 16 | (__u64)'q' << 24);
	__u64 win = st->win << 8 | lch, in_via = st->in_via & 1;

	st->win = win;
	st->via = st->via + via + (in_via & pw_dlg_is(ch, ','));
	st->in_via = via | (cont & in_via);
	cseq = cseq | (cont & (st->in_cseq & 1));
	st->in_cseq = cseq;
	st->reg = st->reg | (cseq & pw_dlg_is(win, 0x7265676973746572ULL /* "register" */));
	asm volatile("" ::: "memory");
	/* A header name ends: a To ("to", "t") is read on, and a Route noted. */
	__u32 to = (e & PW_A_NAMED) && ((nlen == 2 && name == ('t' | 'o' << 8)) || (nlen == 1 && name == 't'));
	__u32 route = (e & PW_A_NAMED) && nlen == 5 && name == ('r' | 'o' << 8 | 'u' << 16 | 't' << 24);
	/* A parameter's '=': the value of a tag follows, or of another. */
	__u32 tag = (e & PW_A_TAGEQ) && nlen == 3 && name == ('t' | 'a' << 8 | 'g' << 16);
	__u32 next = (e & 15) | (to ? PW_DLG_TOV : 0) | ((e & PW_A_TAGEQ) ? (tag ? PW_DLG_TAGV : PW_DLG_PVAL) : 0);
	__u32 bad = ((e & PW_A_BAD) ? 1 : 0) | ((e & PW_A_FOLD) ? st->in_to : 0) | odd;
	__u32 stop = bad | ((e & PW_A_END) ? 1 : 0);

	st->to = st->to + to;
	/* in_to: set by a To name, cleared when another header's name starts. */
	st->in_to = to | ((e & (PW_A_NSTART | PW_A_NAMED)) ? 0 : st->in_to);
	st->route = st->route | route;
	st->tag = st->tag | ((e & PW_A_TAG) ? 1 : 0);
	st->anytag = st->anytag | ((e & PW_A_TAGEQ) && nlen == 3 && (name | 0x202020) == ('t' | 'a' << 8 | 'g' << 16));
	st->ended = (e & PW_A_END) ? 1 : 0;
	st->bad = st->bad | bad;
	st->name = name;
	st->nlen = nlen;
	st->state = next;
	return stop ? 1 : 0;
}

/* What pw_dlg_read found, as bits of its result. */
#define PW_DLG_READ (1 << 0)    /* the headers were read */
#define PW_DLG_ENDED (1 << 1)   /* up to the empty line that ends them, with nothing the scan cannot vouch for */
#define PW_DLG_ONE_TO (1 << 2)  /* exactly one To header */
#define PW_DLG_TAG (1 << 3)     /* a tag in it, "tag" in lower case */
#define PW_DLG_ANYTAG (1 << 4)  /* a tag in it, "tag" in any case */
#define PW_DLG_ROUTE (1 << 5)   /* a Route header */
#define PW_DLG_VIAS (1 << 6)    /* two Via values or more */
#define PW_DLG_REG (1 << 7)     /* a CSeq header names REGISTER */

/* Reads the headers of the request whose line starts at packet offset off (its first
 * PW_SIP_HDR_SCAN bytes, within the datagram's own length): PW_DLG_* bits, 0 when they could
 * not be read. A global function, verified once for both callers; the bits, not the scan's
 * state in map memory, keep the callers' stack small (pw_sip_in_dialog is the third frame of
 * its call chain). */
__noinline __u32 pw_dlg_read(struct xdp_md *ctx, __u32 off, __u32 answer)
{
	__u32 zero = 0;
	struct pw_dlg_buf *buf = bpf_map_lookup_elem(&pw_dlgbuf, &zero);

	if (!ctx || !buf)
		return 0;
	__u64 len = (__u64)ctx->data_end - ctx->data;
	void *data = (void *)(long)ctx->data;
	struct udphdr *uh = data + pw_pkt_off(off - sizeof(struct udphdr));

	if (off >= len || off < sizeof(*uh) || (void *)(uh + 1) > (void *)(long)ctx->data_end)
		return 0;
	len -= off;
	/* The datagram's own length: bytes after it (the frame's, which the kernel trims off
	 * before the PBX reads) must not count ("To: <sip:+44..>" ending the datagram, ";tag=1"
	 * after it). */
	__u32 ulen = bpf_ntohs(uh->len);

	if (ulen < sizeof(*uh))
		return 0;
	if (len > ulen - sizeof(*uh))
		len = ulen - sizeof(*uh);
	if (len > PW_SIP_HDR_SCAN)
		len = PW_SIP_HDR_SCAN;
	if (len < 1 || bpf_xdp_load_bytes(ctx, off, buf->b, len))
		return 0;
	__builtin_memset(&buf->st, 0, sizeof(buf->st));
	buf->st.state = PW_DLG_SKIP;
	buf->st.answer = answer;
	buf->st.len = len;
	bpf_loop(PW_SIP_HDR_SCAN, pw_dlg_at, NULL, 0);
	const struct pw_dlg_scan *st = &buf->st;

	return PW_DLG_READ | (st->ended && !st->bad ? PW_DLG_ENDED : 0) | (st->to == 1 ? PW_DLG_ONE_TO : 0) |
	       (st->tag ? PW_DLG_TAG : 0) | (st->anytag ? PW_DLG_ANYTAG : 0) | (st->route ? PW_DLG_ROUTE : 0) |
	       (st->via > 1 ? PW_DLG_VIAS : 0) | (st->reg ? PW_DLG_REG : 0);
}

/* Is the INVITE whose request line starts at packet offset off an in-dialog one, as a PBX will
 * take it: one To header with a tag (RFC 3261 12.2: a request inside a dialog), no Route
 * header, and its headers end within PW_SIP_HDR_SCAN bytes? What the scan cannot vouch for (a
 * folded or quoted To, a tag in the URI's own parameters or spelled another way, a header
 * past what is read) counts as not: 0. Asked for a known source's INVITE that the toll guard
 * would drop, and for one from a peer the PBX sent a request to (a flow, pw_dialog_flow: any
 * request, as egress does not tell them apart; its INVITE to a SIP address is the one whose
 * session refreshes and holds come inside a dialog); 0 for others. A
 * global function, run only on INVITEs that would drop. */
__noinline int pw_sip_in_dialog(struct xdp_md *ctx, __u32 off, __u32 known, const struct pw_meta *m)
{
	if (!ctx || !m)
		return 0;
	if (known == PW_KNOWN_UNSEEN) /* not an internet source: no budget looked it up */
		known = pw_known_now(&m->src, pw_now());
	if (known != PW_KNOWN_YES && !pw_dialog_flow(m))
		return 0;
	/* Any number of Vias: a peer's requests come through its proxy with two or more. Not a
	 * CSeq that names REGISTER: chan_sip takes the method from the request line and copies
	 * the CSeq into its answer, whose 200 egress would take for a registration's. */
	__u32 r = pw_dlg_read(ctx, off, 0) & ~(PW_DLG_ANYTAG | PW_DLG_VIAS);

	return r == (PW_DLG_READ | PW_DLG_ENDED | PW_DLG_ONE_TO | PW_DLG_TAG);
}

/* May a proxy take the request whose line starts at packet offset off for one inside a dialog
 * that it relays on its Route? Kamailio's stock configuration does so before any
 * authentication (route[WITHINDLG]: has_totag, then loose_route, whatever the method). A
 * REGISTER relayed to its sender comes back with the sender's own 200, which the proxy
 * forwards from its SIP port, and egress takes that 200 for the registrar's: the sender would
 * become known. A request of another method relayed to its sender makes egress record a flow
 * to it (the PBX sent it a request), and the sender's answers then pass, a forged 200 to
 * REGISTER among them. So 1 (refused) when it has a Route and a To tag (its name in any case,
 * as Kamailio reads it) or not exactly one To, and when its headers cannot be read whole: a
 * folded To or anything else the scan cannot vouch for, a header past what is read. Asked of
 * requests from sources whose failures count (not INVITE: from them, one outside a dialog
 * drops anyway), when the header scan listed a line that starts with R or may not have seen
 * them all (pw_sip_headers): a phone sends neither, but behind an outbound proxy (a Route, no
 * tag). A REGISTER is never inside a dialog (RFC 3261 10.2); a request of another method is
 * then let through from a peer the PBX sent a request to (pw_sip_content: a flow). */
static __always_inline int pw_sip_relayable(struct xdp_md *ctx, __u32 off)
{
	__u32 r = pw_dlg_read(ctx, off, 0);

	return !(r & PW_DLG_ENDED) || ((r & PW_DLG_ROUTE) && ((r & PW_DLG_ANYTAG) || !(r & PW_DLG_ONE_TO)));
}

/* pw_answer_relayed's reads of answers for a second Via: pw_dlg_read's byte scan costs about
 * 15 us for 600 bytes of headers on this machine kind, and answers from a peer with a flow pass
 * past its budget. So such reads are few, shared by all sources and CPUs: 2,000 a second, 256
 * at once (GCRA; racy across CPUs, so about that). A flood beyond it (answers with a spoofed
 * trunk's address, say) takes a few percent of a CPU at most; the answers it leaves unread
 * drop: a wrong pass here would make an attacker known. */
#define PW_ANSWER_READ_NS 500000ULL
#define PW_ANSWER_READ_BURST 256
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64); /* the GCRA's theoretical arrival time, ns */
} pw_answer_reads SEC(".maps");

/* And per peer, first: 500 a second, 64 at once, for the source address's slot of
 * PW_ANSWER_PEER_SLOTS (pw_host_hash). A flood with one peer's address forged then takes a
 * quarter of the reads, and the other peers' answers are still read; it takes four peers' at
 * once to use them all up. */
#define PW_ANSWER_PEER_NS 2000000ULL
#define PW_ANSWER_PEER_BURST 64
#define PW_ANSWER_PEER_SLOTS 1024
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_ANSWER_PEER_SLOTS);
	__type(key, __u32);
	__type(value, __u64); /* the GCRA's theoretical arrival time, ns */
} pw_answer_peers SEC(".maps");

/* A source's slot in pw_answer_peers. */
static __always_inline __u32 pw_answer_peer(const union pw_addr *a)
{
	return pw_host_hash(a->d[0], a->d[1]) & (PW_ANSWER_PEER_SLOTS - 1);
}

/* What pw_answer_word finds in an answer's headers (the first len bytes of pw_dlgbuf's copy,
 * up to the empty line). */
struct pw_answer_look {
	__u32 len;
	__u32 found;  /* "register" in any case, somewhere in them */
	__u32 odd;    /* a CR that no line feed follows, a control byte, a folded line, two Via
		       * lines in one word, or a ',' in a Via line */
	__u32 vias;   /* lines that start with V or v */
	__u32 in_via; /* the word ends inside such a line */
	__u32 ended;  /* the empty line was reached */
};

/* 1 when x is not 0, by arithmetic (pw_dlg_is). */
static __always_inline __u64 pw_nz(__u64 x)
{
	return pw_dlg_is(x, 0) ^ 1;
}

/* bpf_loop callback, word w + 1 of the copy (the first is "SIP/2.0 "): eight bytes of an
 * answer's headers, by masks, with the byte after each (n1) and the one after that (n2).
 * Finds the empty line (a line feed, then a line feed or CR LF), lines that start with V or v
 * (a Via, "v" its compact form, or another header: counted all the same), a ',' in such a
 * line, what a proxy may read otherwise than this (a bare CR, a control byte, a fold), and a
 * "register" whose 'g' is in the word (the eight windows around it, compared at once). Every
 * test is arithmetic on masks: the verifier walks one way through. */
static long pw_answer_word(__u32 w, void *arg)
{
	struct pw_answer_look *al = arg;
	__u32 zero = 0, o = w * 8 + 8;
	struct pw_dlg_buf *buf = bpf_map_lookup_elem(&pw_dlgbuf, &zero);

	if (!buf || o >= al->len || o > 2032)
		return 1;
	__u8 *q = buf->b + o;
	__u32 left = al->len - o; /* bytes of the word that are the answer's */
	__u64 valid = left >= 8 ? ~0ULL : (1ULL << ((left & 7) * 8)) - 1;
	__u64 x = *(__u64 *)q, n1 = *(__u64 *)(q + 1), n2 = *(__u64 *)(q + 2);
	__u64 lf = pw_lf_bytes(x) & valid, lf1 = pw_lf_bytes(n1);
	__u64 cr = pw_zero_bytes(x ^ (PW_ONES * '\r')), cr1 = pw_zero_bytes(n1 ^ (PW_ONES * '\r'));
	__u64 end = lf & (lf1 | (cr1 & pw_lf_bytes(n2)));
	__u64 e = end & (0 - end);
	__u64 upto = valid & (e | (e - 1)); /* the bytes up to the empty line's first line feed */
	__u64 ws1 = pw_zero_bytes(n1 ^ (PW_ONES * ' ')) | pw_zero_bytes(n1 ^ (PW_ONES * '\t'));
	__u64 ctl = (pw_zero_bytes(x & (PW_ONES * 0xe0)) & ~lf & ~cr & ~pw_zero_bytes(x ^ (PW_ONES * '\t'))) |
		    pw_zero_bytes(x ^ (PW_ONES * 0x7f));
	__u64 vl = lf & pw_zero_bytes((n1 | (PW_ONES * 0x20)) ^ (PW_ONES * 'v')) & upto;
	__u64 cm = pw_zero_bytes(x ^ (PW_ONES * ',')) & upto;
	__u64 fl = lf & (0 - lf), after = ~(vl | (vl - 1)), nl = lf & after, nlo = nl & (0 - nl);
	/* A ',' before the word's first line feed is in the line the word began in; one after a
	 * V line's start, before the next line feed, in that line. */
	__u64 comma = (cm & (fl - 1) & (0 - (__u64)(al->in_via & 1))) | (cm & after & (nlo - 1));
	__u64 odd = (((cr & ~lf1) | ctl | (lf & ws1)) & upto) | comma | (vl & (vl - 1));
	__u64 g = pw_zero_bytes((x | (PW_ONES * 0x20)) ^ (PW_ONES * 'g')) & upto;
	__u64 hit = 0;

	if (g) {
		const __u64 reg = 0x7265747369676572ULL; /* "register" */
		__u8 *r = q - 2; /* the window whose 'g' is the word's first byte */

		hit = pw_dlg_is(pw_lower8(*(__u64 *)r), reg) | pw_dlg_is(pw_lower8(*(__u64 *)(r + 1)), reg) |
		      pw_dlg_is(pw_lower8(*(__u64 *)(r + 2)), reg) | pw_dlg_is(pw_lower8(*(__u64 *)(r + 3)), reg) |
		      pw_dlg_is(pw_lower8(*(__u64 *)(r + 4)), reg) | pw_dlg_is(pw_lower8(*(__u64 *)(r + 5)), reg) |
		      pw_dlg_is(pw_lower8(*(__u64 *)(r + 6)), reg) | pw_dlg_is(pw_lower8(*(__u64 *)(r + 7)), reg);
	}
	/* Inside a V line at the word's end: one started here and no line feed after it, or, with
	 * no line feed in the word, as before. */
	__u64 has_lf = pw_nz(lf);

	al->found = al->found | hit;
	al->odd = al->odd | pw_nz(odd);
	al->vias = al->vias + pw_nz(vl);
	al->in_via = (has_lf & pw_nz(vl) & pw_dlg_is(nl, 0)) | ((has_lf ^ 1) & al->in_via);
	al->ended = pw_nz(end);
	return pw_nz(end);
}

/* Is the answer whose status line starts at packet offset off, from an internet source that
 * is not known and that passes as a reply (a flow: the PBX sent it a request), one a proxy
 * would forward to its sender for egress to take as the PBX's own? Kamailio relays a request
 * to a Route's address (route[WITHINDLG], before authentication), and forwards the answer
 * that comes back, less its own top Via, to the next Via: statefully, and statelessly an
 * answer that matches no transaction. A 200 to REGISTER so forwarded makes the next Via's
 * address known at egress; a 401 or 403 counts a failure against it. An answer to the PBX's
 * own request carries one Via value, the PBX's. So 1 (refused) for an answer whose CSeq names
 * REGISTER with more Via values (a ',' in a Via header parts two), or whose headers cannot be
 * read whole (a CR that no line feed follows, behind which a proxy reads a Via or a CSeq that
 * the scan does not; a control byte; headers past PW_SIP_HDR_SCAN or the first fragment; an
 * '&' is any byte here, as a proxy and egress read it). Asked only of the answers egress acts
 * on: 2xx, 401, 403, 404 and 407; a call's 100, 180 and 183 pass unread. The headers are
 * first looked through a word at a time (pw_answer_word): they pass when "register" appears
 * nowhere in them, in any case (then no CSeq names REGISTER, whatever a proxy makes of the
 * lines; answers to INVITE with two Vias, a proxy's call to a SIP address, README Limits), or
 * when at most one line starts with V, with no ',' in it, and nothing a proxy reads otherwise
 * (the proxy takes its own Via off, and egress finds none: a trunk's own answers). The others
 * are read (pw_dlg_read) within the reads' rate, and refused unread past it. A global
 * function: verified once for its three callers. */
__noinline int pw_answer_relayed(struct xdp_md *ctx, __u32 off, __u32 peer)
{
	if (!ctx || off > PW_MAX_HDR_OFF)
		return 1;
	if (off < sizeof(struct udphdr))
		return 1;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data + pw_pkt_off(off);
	struct udphdr *uh = data + pw_pkt_off(off - sizeof(struct udphdr));

	if ((void *)(p + 11) > data_end || (void *)(uh + 1) > data_end)
		return 1;
	__u8 d0 = p[8], d1 = p[9], d2 = p[10];

	if (d0 != '2' && !(d0 == '4' && d1 == '0' && (d2 == '1' || d2 == '3' || d2 == '4' || d2 == '7')))
		return 0;
	/* The datagram's bytes in this frame (a first fragment holds a part), up to the scan. */
	__u32 zero = 0, ulen = bpf_ntohs(uh->len);
	__u64 len = (__u64)data_end - (__u64)p;
	struct pw_dlg_buf *buf = bpf_map_lookup_elem(&pw_dlgbuf, &zero);

	if (!buf || ulen < sizeof(*uh) + 11)
		return 1;
	ulen -= sizeof(*uh);
	if (len > ulen)
		len = ulen;
	if (len > PW_SIP_HDR_SCAN)
		len = PW_SIP_HDR_SCAN;
	if (len < 11 || bpf_xdp_load_bytes(ctx, off, buf->b, len))
		return 1;
	/* The bytes after the copy are another packet's: pw_answer_word reads two past its last
	 * byte, and a line feed there would end a first fragment's headers where they go on. */
	*(__u64 *)(buf->b + len) = 0;
	*(__u64 *)(buf->b + len + 8) = 0;
	struct pw_answer_look al = { .len = len };

	bpf_loop(PW_SIP_HDR_SCAN / 8 - 1, pw_answer_word, &al, 0);
	if (!al.ended)
		return 1; /* headers past what is read: a proxy may see what egress does then */
	/* No "register" in the headers; or one Via line at most, clean: once the proxy has taken
	 * its own Via off, egress finds no top Via (a trunk's own answer to the PBX's REGISTER). */
	if (!al.found || (!al.odd && al.vias <= 1))
		return 0;
	/* The peer's reads first: a flood with its address forged takes no more of the others'. */
	__u64 *ptat = bpf_map_lookup_elem(&pw_answer_peers, &peer);
	__u64 *tat = bpf_map_lookup_elem(&pw_answer_reads, &zero);
	__u64 now = pw_now();

	if (!ptat || !tat || !pw_gcra(ptat, now, PW_ANSWER_PEER_NS, PW_ANSWER_PEER_BURST) ||
	    !pw_gcra(tat, now, PW_ANSWER_READ_NS, PW_ANSWER_READ_BURST))
		return 1;
	__u32 r = pw_dlg_read(ctx, off, 1);

	return !(r & PW_DLG_ENDED) || ((r & PW_DLG_REG) && (r & PW_DLG_VIAS));
}

#endif /* PBXWALL_SIP_DIALOG_H */
