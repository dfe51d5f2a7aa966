/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The SIP guards at XDP ingress: the first line (malformed_sip), scanner signatures in
 * User-Agent / From (header lines found 32 bytes at a time, values searched through a
 * hashed filter), toll fraud (the Request-URI's user part, sip_toll.h) and anonymous INVITEs.
 * Included by sip.h. */
#ifndef PBXWALL_SIP_GUARDS_H
#define PBXWALL_SIP_GUARDS_H

#include "sip_sigs.h"
#include "sip_lines.h"
#include "sip_dialog.h"

/* Header names as little-endian words, lower case: "user-age", "from" and "cseq". */
#define PW_USER_AGE 0x6567612d72657375ULL
#define PW_FROM 0x6d6f7266ULL
#define PW_CSEQ 0x71657363ULL

#define PW_HDR_END 0x80 /* pw_sig_header: past what can be read (not a PW_SIG_* kind) */
#define PW_HDR_CSEQ 0x40 /* pw_sig_header: a CSeq line (not a PW_SIG_* kind) */

/* The header line that starts at packet offset off: is it a User-Agent, From ("f", RFC 3261
 * 7.3.3) or CSeq? Returns where (PW_SIG_USER_AGENT, PW_SIG_FROM or PW_HDR_CSEQ) and sets *voff
 * to the packet offset of its value; 0 for another line (and *rline set to 1 if it starts
 * with R: arithmetic, not a branch in the second pass); PW_HDR_END when the line starts past
 * the datagram. A line in the datagram's last sixteen bytes, without its CRLF, is read too. */
static __always_inline __u32 pw_sig_header(struct xdp_md *ctx, __u32 off, __u32 *voff, volatile __u32 *rline)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 k, where;

	if (off > PW_MAX_HDR_OFF + PW_SIP_HDR_SCAN)
		return PW_HDR_END;
	__u8 *q = data + pw_pkt_off(off);
	__u64 w0 = 0, w1 = 0; /* the line's first sixteen bytes, zero past the datagram */

	if ((void *)(q + 16) <= data_end) {
		w0 = *(__u64 *)q;
		w1 = *(__u64 *)(q + 8);
	} else {
		/* The datagram's last bytes: a line without its CRLF may still be a header. */
		if ((void *)(q + 1) > data_end)
			return PW_HDR_END;
		for (__u32 j = 0; j < 15; j++) {
			if ((void *)(q + j + 1) > data_end)
				break;
			if (j < 8)
				w0 |= (__u64)q[j] << (j * 8);
			else
				w1 |= (__u64)q[j] << ((j - 8) * 8);
		}
	}
	__u64 name = pw_lower8(w0);

	if (name == PW_USER_AGE) {
		if ((pw_lower8(w1) & 0xffff) != ('n' | 't' << 8))
			return 0;
		k = 10;
		where = PW_SIG_USER_AGENT;
	} else if ((name & 0xff) == 'f') {
		k = (name & 0xffffffff) == PW_FROM ? 4 : 1;
		where = PW_SIG_FROM;
	} else if ((name & 0xffffffff) == PW_CSEQ) {
		k = 4;
		where = PW_HDR_CSEQ;
	} else {
		*rline |= (((name & 0xff) ^ 'r') - 1) >> 63;
		return 0;
	}
	/* RFC 3261 7.3.1: white space may come before the colon, as much as the sender likes; up
	 * to four bytes of it are read. After more, the line is taken for the header all the same,
	 * its value starting inside the white space: a signature is then still found in it (the
	 * colon is no part of one), and a CSeq read from there does not parse (malformed where the
	 * CSeq is checked). Such a line must not hide the header from the guards while the PBX
	 * reads it (pjsip does). */
	__u8 ch = pw_byte16(w0, w1, k);

	for (__u32 j = 0; j < 4 && (ch == ' ' || ch == '\t'); j++) /* k <= 14: in the sixteen bytes */
		ch = pw_byte16(w0, w1, ++k);
	/* ch is ':', ' ' or '\t', or a line end (the name folded: pjsip reads the header on the
	 * next line, so the line counts, and a CSeq read from there does not parse), tested as one
	 * bit of a mask: one branch, one verifier path. */
	if (!((ch < 64) & (((1ULL << ':') | (1ULL << ' ') | (1ULL << '\t') | (1ULL << '\r') | (1ULL << '\n')) >>
			   (ch & 63))))
		return 0;
	*voff = off + k + 1;
	return where;
}

/* Lines of a request that start with U or F (User-Agent, From, f), by packet offset: found by
 * pw_sip_headers' first pass, read by its second, per CPU. Kept in map memory so that the
 * verifier sees plain numbers there and checks each pass once, not once per count. */
#define PW_CSEQ_CHECK_FIRST_FRAG 2 /* pw_uf_lines.cseq_check */
#define PW_UF_LINES 32
#define PW_SIG_VALUES 4 /* User-Agent and From values searched per request (RFC 3261: one From) */
struct pw_uf_lines {
	__u64 wmask[PW_UF_LINES]; /* first pass: words with such lines, as pw_hdr_word's masks */
	__u32 woff[PW_UF_LINES];  /* and the offset, from the scan's start, of the byte after each word's start */
	__u32 nw;                 /* words found */
	__u32 off[PW_UF_LINES];
	__u32 n;    /* lines found */
	__u32 nval; /* values found */
	__u32 voff[PW_SIG_VALUES]; /* offsets of the User-Agent and From values, in order */
	__u32 where[PW_SIG_VALUES];
	__u32 first;   /* pw_sip_first_line: PW_FIRST_* */
	__u32 uri_off; /* pw_sip_first_line: the Request-URI's packet offset */
	__u32 method_len; /* pw_sip_first_line: the method's length (1..9) */
	__u32 cseq_check; /* pw_sip_first_line: bit 0 to check the CSeq, PW_CSEQ_CHECK_FIRST_FRAG in a first fragment */
	__u32 ncseq;      /* CSeq lines found */
	__u32 cseq_voff;  /* the packet offset of the first one's value */
	__u32 line_set;   /* pw_sip_headers: the part of pw_line_start to use (PW_LINE_C | PW_LINE_V) */
	__u64 cv_mask;    /* pw_sip_headers: all ones when lines that start with C or V are noted:
			   * in a word with more than one line end every line is then noted, and the
			   * second pass and pw_via_checks tell them apart by name */
	__u32 via_check;  /* pw_sip_content: 1 when the Via is checked (0 once pw_via_fast passed it) */
	__u32 via_rest;   /* pw_via_line_ok: the length of a copied tail */
	__u32 via_sums;   /* pw_via_line_ok: its sums so far */
	__u32 amp_at;     /* pw_amp_ok, pw_via_fast: an offset, through map memory */
	__u64 via_tail[2]; /* pw_via_line_ok: a copy of the datagram's last bytes */
	__u32 first_frag; /* pw_sip_first_line: 1 for a datagram's first fragment */
	__u32 reg;        /* pw_sip_first_line: 1 for a REGISTER */
	__u32 rline;      /* pw_sip_headers' second pass: a line listed starts with R (the Via checked) */
	__u32 dlg_look;   /* pw_sip_headers: 1 when pw_hdr_checks is to ask pw_sip_relayable */
	__u32 dialog;     /* pw_hdr_checks: 1 when pw_sip_relayable refused a request other than REGISTER */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_uf_lines);
} pw_uflines SEC(".maps");

#include "sip_scan.h"

enum {
	PW_HDRS_CLEAN = 0,
	PW_HDRS_SIGNATURE = 1,
	PW_HDRS_TOO_MANY = 2,
	PW_HDRS_BAD_CSEQ = 3,
	PW_HDRS_NO_CSEQ = 4,
	PW_HDRS_BAD_VIA = 5
};
enum { PW_CSEQ_BAD = 0, PW_CSEQ_OK = 1, PW_CSEQ_UNSEEN = 2 };

/* The request's CSeq, as pw_sip_headers' second pass found it: exactly one, naming the
 * request's method (RFC 3261 8.1.1.5)? PW_CSEQ_OK, PW_CSEQ_BAD, or PW_CSEQ_UNSEEN when none is
 * in what was read (it may lie past the scan, or in a later fragment). The value is "N METHOD",
 * white space before and between, the method ended by a line end or white space, case ignored
 * (as in pw_sip_first_line). A global function, all it needs in pw_uflines: verified once, not
 * once per way out of the header scan (inline, it cost 170k verifier instructions). */
__noinline int pw_cseq_ok(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct pw_uf_lines *ul = bpf_map_lookup_elem(&pw_uflines, &zero);
	struct pw_sig_window *win = bpf_map_lookup_elem(&pw_sigbuf, &zero);

	if (!ctx || !ul || !win)
		return PW_CSEQ_BAD;
	if (ul->ncseq != 1)
		return ul->ncseq ? PW_CSEQ_BAD : PW_CSEQ_UNSEEN;
	__u32 n = ul->method_len, moff = ul->uri_off, voff = ul->cseq_voff;
	__u64 len = (__u64)ctx->data_end - ctx->data, whole = len;

	if (n < 1 || n > 9 || moff < n + 1 || moff > len || voff >= len)
		return 0;
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	const __u64 *m = data + pw_pkt_off(moff - n - 1), *v = data + pw_pkt_off(voff);
	const __u64 *t = data + pw_pkt_off(whole - 8); /* the datagram's last word */

	if ((void *)(m + 2) > data_end || (void *)(t + 1) > data_end) /* not reached */
		return 0;
	__u64 mw[2] = {m[0], m[1]}, *w = (__u64 *)win->b; /* copies, read at variable offsets */
	const __u8 *method = (const __u8 *)mw, *b = win->b;

	/* The value's words by loads (no helper call); within 64 bytes of the datagram's end, its
	 * last bytes from the datagram's last word, and 0 past it (which ends the method). */
	len -= voff;
	for (__u32 i = 0; i < 8; i++)
		w[i] = (void *)(v + i + 1) <= data_end ? v[i] : 0;
	if (len < 64 && (len & 7))
		w[(len >> 3) & 7] = *t >> ((8 - (len & 7)) * 8);
	__u32 k = 0, j;

	/* Each loop's end goes through pw_opaque: an exact k after each one would have the
	 * verifier walk every combination of their lengths. */
	for (; k < 8; k++)
		if (b[k] != ' ' && b[k] != '\t')
			break;
	k = pw_opaque(k) & 15;
	for (j = k; k < 20; k++) /* the sequence number: below 2^31 (RFC 3261 8.1.1.5) */
		if (b[k & 63] < '0' || b[k & 63] > '9')
			break;
	if (k == j)
		return 0;
	k = pw_opaque(k) & 31;
	for (j = k; k < 28; k++)
		if (b[k & 63] != ' ' && b[k & 63] != '\t')
			break;
	if (k == j)
		return 0;
	k = pw_opaque(k) & 31;
	for (__u32 i = 0; i < 9; i++) {
		if (i >= n)
			break;
		if ((b[(k + i) & 63] | 0x20) != (method[i] | 0x20))
			return 0;
	}
	__u8 after = b[(k + n) & 63];

	if (!(after == '\r' || after == '\n' || after == ' ' || after == '\t' || after == 0))
		return PW_CSEQ_BAD;
	/* A request that goes on past what was read (the scan, or a later fragment) may hold a
	 * second CSeq there, the one a PBX that keeps the last (pjsip) answers with: taken as none
	 * seen (RFC 3261 18.1.1 sends so long a request over TCP). Tested here, where only checked
	 * requests come: after the scan it cost the INVITE's guards 5 ns, in the scan 18. */
	if ((ul->cseq_check & PW_CSEQ_CHECK_FIRST_FRAG) || whole > moff + PW_SIP_HDR_SCAN)
		return PW_CSEQ_UNSEEN;
	return PW_CSEQ_OK; /* pw_hdr_checks then looks for a bare CR (pw_bare_cr) */
}

#include "sip_via.h"

/* Finds the header lines of the request whose line starts at packet offset off, 32 bytes at a
 * time, up to the empty line or PW_SIP_HDR_SCAN bytes (the datagram's last 32 bytes or less go
 * eight at a time). 32 bytes without a '\n' cost two operations a word and one test; in 32
 * bytes with one, a word that holds one '\n' has the byte after it tested alone, a word with
 * more has the bytes after all of them tested at once.
 * The first pass notes the words with lines that start with U or F, as masks, and the lines are
 * then listed from the masks (a loop per word in the first pass would have the verifier walk
 * it once per word of the scan); the second pass finds the User-Agent and From (f) lines among
 * them; the third searches their values. Returns PW_HDRS_SIGNATURE when a signature matched,
 * PW_HDRS_TOO_MANY for more than PW_UF_LINES lines that start with U or F or more than
 * PW_SIG_VALUES User-Agent and From lines (RFC 3261 allows one of each: more only serve to hide
 * a signature past what is read). With the CSeq checked (pw_sip_first_line), lines that start
 * with C are noted too, and PW_HDRS_BAD_CSEQ is returned unless there is one CSeq, naming the
 * request's method (pw_cseq_ok); with the Via checked, V and R lines, and the Via checks
 * follow (pw_via_fast, then pw_hdr_checks for what it does not pass). */
static __always_inline int pw_sip_headers(struct xdp_md *ctx, __u32 off, __u32 gen, const struct pw_sip_rules *r,
					  const struct pw_meta *m, __u32 known)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct pw_uf_lines *ul = bpf_map_lookup_elem(&pw_uflines, &zero);

	if (!ul || off > PW_MAX_HDR_OFF + 32)
		return PW_HDRS_BAD_CSEQ; /* not reached: the first line's offset is bounded */
	/* With the CSeq checked, lines that start with C are noted too, and with the Via checked
	 * those with V. Arithmetic on numbers read from map memory, not a branch: the verifier
	 * walks the scan once for all. */
	__u32 c1 = *(volatile __u32 *)&ul->cseq_check & 1, v1 = *(volatile __u32 *)&ul->via_check & 1;

	ul->line_set = c1 * PW_LINE_C | v1 * PW_LINE_V;
	ul->cv_mask = -(__u64)(c1 | v1);
	volatile __u32 *words = &ul->nw, *count = &ul->n;
	__u8 *p = data + pw_pkt_off(off);
	*words = 0;
	__u64 o = 0; /* the offset from p: the loop's one moving number */

	for (; o < PW_SIP_HDR_SCAN; o += 32) {
		__u64 a[4];

		o = pw_skip_chunks(p, o, data_end, a);
		if (o >= PW_SIP_HDR_SCAN)
			break;
		__u8 *q = p + o;

		if ((void *)(q + 33) > data_end) /* the verifier's own check: it reads no assembly's */
			break;
		__u64 n0, n1, n2, n3;

		if (((*(__u64 *)q | *(__u64 *)(q + 8) | *(__u64 *)(q + 16) | *(__u64 *)(q + 24)) | PW_LOW7) != PW_LOW7) {
			/* A byte past ASCII (UTF-8 in a display name): its carry may hide a '\n' after
			 * it, so the exact masks. */
			n0 = pw_lf_bytes(*(volatile __u64 *)q);
			n1 = pw_lf_bytes(*(volatile __u64 *)(q + 8));
			n2 = pw_lf_bytes(*(volatile __u64 *)(q + 16));
			n3 = pw_lf_bytes(*(volatile __u64 *)(q + 24));
		} else {
			n0 = ~a[0];
			n1 = ~a[1];
			n2 = ~a[2];
			n3 = ~a[3];
		}
		if ((n0 && pw_hdr_lines(q, o, n0, ul, words)) ||
		    (n1 && pw_hdr_lines(q + 8, o + 8, n1, ul, words)) ||
		    (n2 && pw_hdr_lines(q + 16, o + 16, n2, ul, words)) ||
		    (n3 && pw_hdr_lines(q + 24, o + 24, n3, ul, words)))
			goto listed;
	}
	if (o < PW_SIP_HDR_SCAN) {
		for (__u32 k = 0; k < 3; k++) { /* a fourth would need 33 bytes */
			__u8 *q = p + o + k * 8;

			if ((void *)(q + 9) > data_end || pw_hdr_word(q, o + k * 8, ul, words))
				break;
		}
	}
listed:;
	__u32 nw = *words;

	if (nw > PW_UF_LINES)
		return PW_HDRS_TOO_MANY;
	/* The lines those words hold: at most four per word, each a '\n' and the letter after it. */
	*count = 0;
	for (__u32 w = 0; w < PW_UF_LINES; w++) {
		if (w >= nw)
			break;
		__u64 uf = ul->wmask[w];
		__u32 base = off + ul->woff[w];

		for (__u32 k = 0; k < 4 && uf; k++) {
			__u32 j = pw_byte_index(uf & -uf); /* the lowest candidate byte */
			__u32 n = *count;

			if (n < PW_UF_LINES)
				ul->off[n & (PW_UF_LINES - 1)] = base + j;
			*count = n + 1;
			uf &= uf - 1;
		}
	}
	__u32 n = *count;

	if (n > PW_UF_LINES)
		return PW_HDRS_TOO_MANY;
	/* Second pass: which of those lines are User-Agent, From or CSeq, and where their values
	 * are. */
	volatile __u32 *nval = &ul->nval, *ncseq = &ul->ncseq;

	*nval = 0;
	*ncseq = 0;
	ul->rline = 0;
	for (__u32 k = 0; k < PW_UF_LINES; k++) {
		if (k >= n)
			break;
		__u32 voff = 0, where = pw_sig_header(ctx, ul->off[k], &voff, &ul->rline);

		if (where == PW_HDR_END)
			break;
		if (!where)
			continue;
		if (where == PW_HDR_CSEQ) { /* only lines that start with C when the CSeq is checked */
			if (*ncseq == 0)
				ul->cseq_voff = voff;
			*ncseq += 1;
			continue;
		}
		__u32 v = *nval;

		if (v >= PW_SIG_VALUES)
			return PW_HDRS_TOO_MANY;
		ul->voff[v & (PW_SIG_VALUES - 1)] = voff;
		ul->where[v & (PW_SIG_VALUES - 1)] = where;
		*nval = v + 1;
	}
	/* Third pass: the values. */
	n = *(volatile __u8 *)&r->sig_count ? *nval : 0;
	for (__u32 v = 0; v < PW_SIG_VALUES; v++) {
		if (v >= n)
			break;
		if (pw_sig_value(ctx, ul->voff[v], ul->where[v], gen, r))
			return PW_HDRS_SIGNATURE;
	}
	/* A request whose Via is checked, with a line that starts with R, or with lines the scan
	 * may not have seen (past it, or in a later fragment): pw_sip_relayable judges it, in
	 * pw_hdr_checks. (Of a datagram within the scan, the first pass may leave only its last
	 * eight bytes unread: no Route line fits there.) Arithmetic on lengths, not a comparison
	 * of pointers, which split the verifier's states by what they tell of the packet (it took
	 * the program past the verifier's million instructions). */
	__u64 dlen = (__u64)ctx->data_end - ctx->data;

	asm volatile("" : "+r"(dlen)); /* a length first: no arithmetic on the packet's end */
	__u64 past = ((__u64)off + PW_SIP_HDR_SCAN - dlen) >> 63;

	ul->dlg_look = *(volatile __u32 *)&ul->via_check &
		       (*(volatile __u32 *)&ul->rline | *(volatile __u32 *)&ul->first_frag | (__u32)past);
	/* With the Via checked, its common case first; then, with the CSeq or the Via checked, one
	 * call for all (the verifier checks what follows the scan's ways out once more). */
	if (*(volatile __u32 *)&ul->via_check && pw_via_fast(ctx, ul))
		ul->via_check = 0; /* passed: pw_hdr_checks checks the CSeq alone, if it is checked */
	if (*(volatile __u32 *)&ul->cseq_check | *(volatile __u32 *)&ul->via_check | *(volatile __u32 *)&ul->dlg_look)
		return pw_hdr_checks(ctx, ul, m, known);
	return PW_HDRS_CLEAN;
}

#include "sip_toll.h"

#define PW_GUARD_BAN 0x100 /* with a reason from pw_sip_content: ban the source too */

/* What pw_sip_first_line found, for pw_sip_content. */
enum {
	PW_FIRST_OTHER = 0 /* keepalive or answer: no content rules */,
	PW_FIRST_REQUEST = 1,
	PW_FIRST_INVITE = 2,
	PW_FIRST_UNREAD = 3 /* not read yet (and never, over TCP): no content rules */
};

/* A datagram at p (p + 2 in the packet) that starts with CRLF: a keepalive is CRLF or
 * CRLFCRLF alone (RFC 5626 4.4.1, 3.5.1), by the UDP length (Ethernet padding may follow the
 * datagram). A message after a CRLF must not pass: it would skip every content guard, and a
 * SIP stack strips leading CRLFs and reads it (pjsip does). Straight-line code: a loop here
 * cost the verifier 190k instructions. Returns 0 or PW_REASON_MALFORMED_SIP. */
static __always_inline __u32 pw_sip_keepalive(struct xdp_md *ctx, __u32 l4off, __u8 *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct udphdr *uh = data + pw_pkt_off(l4off);

	if ((void *)(uh + 1) > data_end)
		return PW_REASON_MALFORMED_SIP;
	__u16 len = bpf_ntohs(uh->len);

	if (len == sizeof(*uh) + 2)
		return 0;
	if (len == sizeof(*uh) + 4 && (void *)(p + 4) <= data_end && p[2] == '\r' && p[3] == '\n')
		return 0;
	return PW_REASON_MALFORMED_SIP;
}

/* A datagram at p (p + 2 in the packet) that starts with a zero byte: a STUN Binding request
 * (RFC 5389 6: type 0x0001, the magic cookie 0x2112A442, a length in whole words that is the
 * rest of the datagram, at most 64 bytes of attributes) is the keepalive RFC 5626 4.4.2 gives
 * SIP over UDP; anything else is not SIP. Returns 0 or PW_REASON_MALFORMED_SIP. */
static __always_inline __u32 pw_stun_binding(struct xdp_md *ctx, __u32 l4off, __u8 *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct udphdr *uh = data + pw_pkt_off(l4off);

	if ((void *)(uh + 1) > data_end || (void *)(p + 20) > data_end)
		return PW_REASON_MALFORMED_SIP;
	__u32 attrs = (__u32)p[2] << 8 | p[3];

	if (p[1] != 1 || *(__u32 *)(p + 4) != bpf_htonl(0x2112A442) || (attrs & 3) || attrs > 64 ||
	    bpf_ntohs(uh->len) != sizeof(*uh) + 20 + attrs)
		return PW_REASON_MALFORMED_SIP;
	return 0;
}

/* The first SIP guard on a UDP datagram to a SIP port from a source that is not trusted: a
 * request must start "METHOD sip:", "sips:", "tel:" (RFC 3261 25.1) or "urn:" (RFC 5031, the
 * emergency service URNs), a response "SIP/2.0 NNN";
 * keepalives (RFC 5626: CRLF or CRLFCRLF alone, a STUN Binding request) pass. Cheap (the
 * first 20 bytes): it comes before the content
 * guards, and before a new source's budget is made (an existing source's budget comes first).
 * With no_answers (an internet source that is not known), a response drops as not_whitelisted
 * unless the PBX sent the source a request (a flow egress recorded: a trunk it registers with,
 * a SIP address it calls): a stateless proxy such as Kamailio forwards an answer that matches
 * none of its transactions to the answer's second Via, from the PBX's SIP port, so a forged 200
 * to REGISTER naming its sender there would make the sender known at egress, and forged 403s
 * naming another address would ban that address.
 * Returns 0 or a drop reason, and notes in *ul what pw_sip_content needs. */
static __always_inline __u32 pw_sip_first_line(struct xdp_md *ctx, struct pw_ctx *c, struct pw_uf_lines *ul,
					       int no_answers)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 off = c->m.l4_off + sizeof(struct udphdr);

	ul->first = PW_FIRST_OTHER;
	if (off > PW_MAX_HDR_OFF) /* verifier: bound the variable offset */
		return PW_REASON_MALFORMED;
	__u8 *p = data + off;

	if ((void *)(p + 2) > data_end)
		return PW_REASON_MALFORMED_SIP; /* empty or a lone byte */
	if (p[0] == '\r' && p[1] == '\n')
		return pw_sip_keepalive(ctx, c->m.l4_off, p);
	if (p[0] == 0)
		return pw_stun_binding(ctx, c->m.l4_off, p);
	if ((void *)(p + 16) > data_end)
		return PW_REASON_MALFORMED_SIP; /* too short for any request or status line */
	if (p[0] == 'S' && p[1] == 'I' && p[2] == 'P' && p[3] == '/' && p[4] == '2' && p[5] == '.' &&
	    p[6] == '0' && p[7] == ' ' && p[8] >= '1' && p[8] <= '6')
		return no_answers && (!pw_is_reply(c) || pw_answer_relayed(ctx, off, pw_answer_peer(&c->m.src)))
			       ? PW_REASON_NOT_WHITELISTED
			       : 0;

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
		  (pw_lc(u[0], 't') && pw_lc(u[1], 'e') && pw_lc(u[2], 'l') && u[3] == ':') ||
		  (pw_lc(u[0], 'u') && pw_lc(u[1], 'r') && pw_lc(u[2], 'n') && u[3] == ':');
	if (!uri)
		return PW_REASON_MALFORMED_SIP;
	int invite = n == 6 && pw_lc(p[0], 'i') && pw_lc(p[1], 'n') && pw_lc(p[2], 'v') && pw_lc(p[3], 'i') &&
		     pw_lc(p[4], 't') && pw_lc(p[5], 'e');
	int reg = n == 8 && (pw_lower8(*(__u64 *)p) == 0x7265747369676572ULL); /* "register" */

	ul->uri_off = off + n + 1;
	ul->method_len = n;
	ul->cseq_check = !invite && !reg ? 1 | (c->m.frag == PW_FRAG_FIRST ? PW_CSEQ_CHECK_FIRST_FRAG : 0) : 0;
	ul->first_frag = c->m.frag == PW_FRAG_FIRST;
	ul->reg = reg;
	ul->first = invite ? PW_FIRST_INVITE : PW_FIRST_REQUEST;
	return 0;
}

/* The content guards on a request that passed pw_sip_first_line (first buffer only, bounded
 * loops): scanner signatures in User-Agent / From (drop and ban), the CSeq of a request other
 * than INVITE and REGISTER (malformed_sip unless it names the method), and for an INVITE: toll fraud
 * from a zone not allowed to dial out, then an anonymous call (a source that is not known;
 * `known` is PW_KNOWN_*). Returns 0 or a drop reason, with PW_GUARD_BAN when the caller is to
 * ban the source. Every value it reads from *ul comes through map memory: the verifier sees
 * plain numbers and checks the header scan once, not once per way here. */
static __always_inline __u32 pw_sip_content(struct xdp_md *ctx, struct pw_ctx *c, struct pw_uf_lines *ul,
					    __u32 known)
{
	__u32 gen = c->gen & 1;
	const struct pw_sip_rules *r = bpf_map_lookup_elem(&pw_siprules, &gen);

	if (!r)
		return PW_REASON_MALFORMED;
	__u8 dial_out = r->dial_out_zones, tolls = r->toll_count, ban = r->scanner_ban;

	/* Volatile: what pw_sip_first_line stored comes back as plain numbers, not as the exact
	 * values the compiler could forward (one verifier state per method length). */
	__u32 uri_off = *(volatile __u32 *)&ul->uri_off;
	__u32 invite = *(volatile __u32 *)&ul->first == PW_FIRST_INVITE;

	/* The Via of a request from a source whose failed authentications count (one that is not
	 * known) is checked, so that the PBX's answer is credited to it (pw_hdr_checks, which
	 * looks up a source of another zone than internet when its Via fails). Not an INVITE's: from
	 * such a source it drops below, unanswered. Worked out without a branch, as `known` in
	 * pw_judge_sip. */
	__u32 kx = known ^ PW_KNOWN_YES, ix = *(volatile __u32 *)&ul->first ^ PW_FIRST_INVITE;

	ul->via_check = ((kx | (0 - kx)) >> 31) & ((ix | (0 - ix)) >> 31);
	if (*(volatile __u32 *)&ul->via_check && !pw_version_ok(ctx, uri_off))
		return PW_REASON_MALFORMED_SIP;
	/* Whether to scan, through pw_opaque: tested in place, the values split the verifier's
	 * states (+70k to +200k instructions); pw_opaque's lookup, a call to the verifier, also
	 * ends what it knew of the caller-saved registers. */
	if (pw_opaque(r->sig_count | *(volatile __u32 *)&ul->cseq_check | *(volatile __u32 *)&ul->via_check)) {
		int hdrs = pw_sip_headers(ctx, uri_off, gen, r, &c->m, known);

		/* A known source is not banned for it: one forged datagram with its address would
		 * cut off a registered phone, or an office of them behind one NAT address. */
		if (hdrs == PW_HDRS_SIGNATURE) {
			if (ban && known == PW_KNOWN_UNSEEN) /* not an internet source */
				known = pw_known_now(&c->m.src, pw_now());
			return ban && known != PW_KNOWN_YES ? PW_REASON_SCANNER | PW_GUARD_BAN : PW_REASON_SCANNER;
		}
		if (hdrs == PW_HDRS_TOO_MANY || hdrs == PW_HDRS_BAD_CSEQ || hdrs == PW_HDRS_BAD_VIA)
			return PW_REASON_MALFORMED_SIP;
		/* No CSeq in what was read: a long request's may follow, past the scan or in a later
		 * fragment (an in-dialog BYE or ACK with many Via and Route lines). It passes from a
		 * known source only: the PBX would see a CSeq pbxwall did not, and an OPTIONS whose
		 * CSeq says REGISTER could make its sender known (and spare it the anonymous-call
		 * rule, which applies in every zone but trusted). */
		if (hdrs == PW_HDRS_NO_CSEQ) {
			if (known == PW_KNOWN_UNSEEN)
				known = pw_known_now(&c->m.src, pw_now());
			if (known != PW_KNOWN_YES)
				return PW_REASON_MALFORMED_SIP;
		}
	}
	if (!invite)
		return 0;
	if (tolls && !(dial_out & PW_ZONE_BIT(c->zone & 7)) && pw_sip_toll(ctx, uri_off, gen)) {
		/* Inside a dialog, the Request-URI is the Contact the far end gave: chan_sip puts
		 * the caller's number there, a carrier may too, and a remote phone's re-INVITE (hold,
		 * a session refresh) to it is no call abroad. A known source's INVITE that is in a
		 * dialog (pw_sip_in_dialog) passes; every PBX but one answers one that matches no
		 * dialog with 481 (README). */
		return pw_sip_in_dialog(ctx, c->m.l4_off + sizeof(struct udphdr), known, &c->m) ? 0
													   : PW_REASON_TOLL_FRAUD;
	}
	if (known == PW_KNOWN_UNSEEN) /* not an internet source: no budget looked it up */
		known = pw_known_now(&c->m.src, pw_now());
	/* A peer the PBX called sends requests inside that dialog too (pw_sip_in_dialog). */
	return known == PW_KNOWN_YES || pw_sip_in_dialog(ctx, c->m.l4_off + sizeof(struct udphdr), known, &c->m)
		       ? 0
		       : PW_REASON_ANONYMOUS_INVITE;
}

#endif /* PBXWALL_SIP_GUARDS_H */
