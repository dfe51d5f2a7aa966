/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The toll-fraud guard: the dial string of a Request-URI's user part against the configured
 * international prefixes. Included by sip_guards.h, which runs it on INVITEs from zones not
 * allowed to dial out. */
#ifndef PBXWALL_SIP_TOLL_H
#define PBXWALL_SIP_TOLL_H

#define PW_TOLL_SCAN 96 /* bytes of a Request-URI user part parsed for toll fraud */

static __always_inline __u8 pw_lower(__u8 ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

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
		/* The Request-URI ends at white space (RFC 3261 25.1: SP, then the version); a '>'
		 * is no end there, and a PBX may take what comes before it for the user part. */
		if (ch == ' ' || ch == '\r' || ch == '\n') {
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

/* What pw_dlg_at keeps from byte to byte. */
struct pw_dlg_scan {
	__u32 len;   /* bytes copied */
	__u32 state; /* PW_DLG_* */
	__u32 name;  /* a header name's first four bytes (lower case), or a parameter's (as sent) */
	__u32 nlen;  /* its length, up to 5; past 4 bytes, none of those looked for but Route */
	__u32 to;    /* To lines seen */
	__u32 in_to; /* the header line read last is a To */
	__u32 tag;   /* a tag parameter seen in a To header */
	__u32 route; /* a Route line seen */
	__u32 bad;   /* something read that the scan cannot vouch for */
	__u32 ended; /* the empty line that ends the headers was reached */
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
	 * the table refused in every state: that cost the verifier 11k more instructions. */
	__u32 quoted = (st->state & 15) == PW_DLG_QUOTE || (st->state & 15) == PW_DLG_QESC;
	__u32 odd = (ch == '\r' && after != '\n') || (ch == '&' && !quoted) ||
		    (ch < ' ' && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f;
	__u32 lch = pw_lower(ch), name = st->name, nlen = st->nlen;
	__u32 bit = (e & PW_A_NSTART) ? 1 : 0;
	__u32 keep = (e & (PW_A_NSTART | PW_A_RESET)) ? 0 : ~0U;
	__u32 add = (e & PW_A_NSTART) || ((e & (PW_A_NADD | PW_A_PADD)) && nlen < 4) ? ((e & PW_A_PADD) ? ch : lch) : 0;

	/* The name's bytes: its first four, and its length up to five. */
	name = (name & keep) | add << ((nlen & keep & 3) * 8);
	nlen = (nlen & keep) + ((e & (PW_A_NADD | PW_A_PADD)) && nlen < 5 ? 1 : 0) + bit;
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
	st->ended = (e & PW_A_END) ? 1 : 0;
	st->bad = st->bad | bad;
	st->name = name;
	st->nlen = nlen;
	st->state = next;
	return stop ? 1 : 0;
}

/* Is the INVITE whose request line starts at packet offset off an in-dialog one, as a PBX will
 * take it: one To header with a tag (RFC 3261 12.2: a request inside a dialog), no Route
 * header, and its headers end within PW_SIP_HDR_SCAN bytes? What the scan cannot vouch for (a
 * folded or quoted To, a tag in the URI's own parameters or spelled another way, a header
 * past what is read) counts as not: 0. Asked for a known source's INVITE that the toll guard
 * would drop, and for one from a peer the PBX called (a live flow, pw_udp_flow: its INVITE to
 * a SIP address), whose session refreshes and holds come inside that dialog; 0 for others. A
 * global function, run only on INVITEs that would drop. */
__noinline int pw_sip_in_dialog(struct xdp_md *ctx, __u32 off, __u32 known, const struct pw_meta *m)
{
	__u32 zero = 0;
	struct pw_dlg_buf *buf = bpf_map_lookup_elem(&pw_dlgbuf, &zero);

	if (!ctx || !buf || !m)
		return 0;
	if (known == PW_KNOWN_UNSEEN) /* not an internet source: no budget looked it up */
		known = pw_known_now(&m->src, pw_now());
	if (known != PW_KNOWN_YES && !pw_udp_flow(m))
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
	buf->st.len = len;
	bpf_loop(PW_SIP_HDR_SCAN, pw_dlg_at, NULL, 0);
	const struct pw_dlg_scan *st = &buf->st;

	return st->ended && !st->bad && st->to == 1 && st->tag && !st->route;
}

#endif /* PBXWALL_SIP_TOLL_H */
