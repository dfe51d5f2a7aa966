/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* SIP at TC egress: the PBX's answers make peers known (200 to REGISTER) or count failures.
 * Included by pbxwall.bpf.c after its maps and struct pw_ctx: the maps live there. */
#ifndef PBXWALL_SIP_EGRESS_H
#define PBXWALL_SIP_EGRESS_H

/* What an answer's CSeq says (pw_cseq_at): its method, from the first CSeq line. */
enum { PW_ANSWER_UNREAD = 0, PW_ANSWER_REGISTER = 1, PW_ANSWER_INVITE = 2, PW_ANSWER_OTHER = 3 };

struct pw_cseq_scan {
	__u32 len;     /* bytes copied into pw_sipbuf */
	__u32 ncseq;   /* CSeq lines in them: 0, 1, or 2 for more */
	__u32 method;  /* PW_ANSWER_*: the first CSeq line's method; UNREAD when it cannot be read */
	__u32 expires; /* the largest Expires header or contact expires= parameter, seconds */
	__u32 has_expires;
	__u32 via;   /* the line being scanned is the top Via (the first "Via" or "v" line) */
	__u32 maddr; /* the top Via has a maddr parameter (bit 0), or a '[' still open (bit 1) */
	__u32 via_done; /* the top Via ended within the scan: it was read whole */
	__u32 contact;  /* a Contact ("Contact" or "m") line: the answer lists a binding */
};

/* At q (a '\n' or a ';'): an Expires header (RFC 3261 20.19) or a Contact's expires= parameter
 * (10.2.1)? Its value goes into sc, the largest one wins (a 200 OK lists every binding). */
static __always_inline void pw_expires_at(struct pw_cseq_scan *sc, const __u8 *q)
{
	__u8 sep = q[0] == '\n' ? ':' : '=';
	__u32 k = 8, v = 0, digits = 0;

	if (!(pw_lc(q[1], 'e') && pw_lc(q[2], 'x') && pw_lc(q[3], 'p') && pw_lc(q[4], 'i') && pw_lc(q[5], 'r') &&
	      pw_lc(q[6], 'e') && pw_lc(q[7], 's')))
		return;
	for (; k < 11 && (q[k] == ' ' || q[k] == '\t'); k++)
		;
	if (q[k] != sep)
		return;
	for (k++; k < 14 && (q[k] == ' ' || q[k] == '\t'); k++)
		;
	for (__u32 d = 0; d < 9; d++, k++) { /* k < 23 stays in the window past the scanned offset */
		if (q[k] < '0' || q[k] > '9')
			break;
		v = v * 10 + (q[k] - '0');
		digits++;
	}
	if (!digits)
		return;
	if (!sc->has_expires || v > sc->expires)
		sc->expires = v;
	sc->has_expires = 1;
}

/* White space that may follow a ';' (SWS, a folded line included). Four compares: as a bit
 * test (pw_sws_bit) here, the verifier walked the callback 160k instructions more. */
static __always_inline int pw_sws(__u8 ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* bpf_loop callback, one offset per call: a "\nCSeq: N REGISTER" line or an expiry at i?
 * Returns 1 (stop) past the data. Responses are few, so a callback per byte costs little here,
 * and the verifier checks the body once. */
static long pw_cseq_at(__u32 i, void *arg)
{
	struct pw_cseq_scan *sc = arg;
	__u32 zero = 0;
	struct pw_sip_buf *s = bpf_map_lookup_elem(&pw_sipbuf, &zero);

	i &= PW_SIP_SCAN - 1; /* verifier: bound the index */
	if (!s || i + 17 > sc->len)
		return 1;
	__u8 *q = s->b + i;

	/* The empty line: the headers end, and what is read with them. A Via or a CSeq line in the
	 * body is no header to a proxy, and ingress reads an answer from a peer with a flow only up
	 * to there (pw_answer_relayed): read on, a body holding "Via: <attacker>" and "CSeq: 1
	 * REGISTER" made a forwarded answer the PBX's 200 to REGISTER. */
	__u32 nl = q[0] ^ '\n', b1 = q[1], b2 = q[2];

	/* Through pw_opaque, as below: tested in place, what the verifier learnt of the bytes
	 * split its states (+160k instructions). */
	if (pw_opaque(!nl && (b1 == '\n' || (b1 == '\r' && b2 == '\n'))))
		return 1;
	/* Which line this is: the top Via ("Via" or "v", then white space, ':' or a line end: a
	 * folded name), the first Via line? A line that starts with white space continues the one
	 * before (RFC 3261 7.3.1: a PBX that copies the request's Via may keep its folding). A top
	 * Via that ends here was read whole, its maddr with it; later Via lines do not say where
	 * the answer goes (RFC 3261 18.2.2). Through pw_opaque, as below. */
	if (q[0] == '\n') {
		__u32 k = pw_lc(q[1], 'v') ? (pw_lc(q[2], 'i') && pw_lc(q[3], 'a') ? 4 : 2) : 0;
		__u32 via = k && (q[k] == ':' || q[k] == ' ' || q[k] == '\t' || q[k] == '\r' || q[k] == '\n');
		__u32 more = q[1] == ' ' || q[1] == '\t';

		sc->via_done = pw_opaque(sc->via_done | (sc->via & !more));
		/* A Via line after the top one's end is not the top Via. */
		sc->via = pw_opaque(more ? sc->via : via & !sc->via_done);
		/* A Contact ("Contact" or "m", white space, ':'): a 200 to REGISTER lists a binding. */
		__u32 c = pw_lc(q[1], 'm') ? 2
					   : (pw_lc(q[1], 'c') && pw_lc(q[2], 'o') && pw_lc(q[3], 'n') && pw_lc(q[4], 't') &&
					      pw_lc(q[5], 'a') && pw_lc(q[6], 'c') && pw_lc(q[7], 't'))
						     ? 8
						     : 0;

		sc->contact = pw_opaque(sc->contact | (c && (q[c] == ':' || q[c] == ' ' || q[c] == '\t')));
	}
	/* A '[' in the top Via that no ']' on its line closes (sc->maddr bit 1 stays set): pjsip
	 * reads a bracketed host up to its ']' across line ends, and a maddr on the next line is
	 * the top Via's. Credited to nobody, as a maddr. */
	if (q[0] == '[' && sc->via) {
		sc->maddr = pw_opaque(sc->maddr | 2);
		return 0;
	}
	if (q[0] == ']' && sc->via) {
		sc->maddr = pw_opaque(sc->maddr & 1);
		return 0;
	}
	/* A Via's maddr parameter (RFC 3261 18.2.2: the answer goes to that address, not to the
	 * request's source): pw_sip_answer then credits the answer to nobody. White space may
	 * follow the ';' (RFC 3261 25.1: SEMI is SWS ";" SWS, and SWS may fold the line); three or
	 * more bytes of it (a fold is CR, LF and white space) count as a maddr, as at ingress
	 * (pw_via_maddr). */
	if (q[0] == ';' && sc->via) {
		__u32 m = pw_sws(q[1]) ? (pw_sws(q[2]) ? (pw_sws(q[3]) ? 4 : 3) : 2) : 1;

		m = pw_opaque(m) & 7;
		if (m > 3 || (pw_lc(q[m], 'm') && pw_lc(q[m + 1], 'a') && pw_lc(q[m + 2], 'd') && pw_lc(q[m + 3], 'd') &&
			      pw_lc(q[m + 4], 'r') &&
			      (q[m + 5] == '=' || q[m + 5] == ';' || q[m + 5] == ',' || pw_sws(q[m + 5])))) {
			sc->maddr = pw_opaque(1);
			return 0;
		}
	}
	/* chan_sip's maddr: "maddr=" anywhere in the top Via (check_via's strstr, lower case),
	 * inside a branch or another parameter's name as well. */
	if (q[0] == 'm' && sc->via && q[1] == 'a' && q[2] == 'd' && q[3] == 'd' && q[4] == 'r' && q[5] == '=') {
		sc->maddr = pw_opaque(sc->maddr | 1);
		return 0;
	}
	/* An expiry, or a CSeq line: apart, so that the verifier does not walk the CSeq's reading
	 * once per way out of the expiry's. */
	if (q[0] == ';' || (q[0] == '\n' && pw_lc(q[1], 'e'))) {
		pw_expires_at(sc, q);
		return 0;
	}
	/* RFC 3261 20.16 and 7.3.1: "CSeq", white space, ':', the sequence number, the method.
	 * Read as ingress reads it (pw_sig_header, pw_cseq_ok). An answer copies the request's CSeq
	 * lines, every one of them at some PBXes: only an answer with exactly one says which
	 * request it answers (a second one, ingress may not have seen: in a later fragment). */
	if (q[0] != '\n' || !pw_lc(q[1], 'c') || !pw_lc(q[2], 's') || !pw_lc(q[3], 'e') || !pw_lc(q[4], 'q'))
		return 0;
	__u32 k = 5, j;

	for (j = 0; j < 4 && (q[k] == ' ' || q[k] == '\t'); j++)
		k++;
	/* What is stored in *sc goes through pw_opaque: exact values there would have the verifier
	 * check this callback once per combination of them. */
	if (q[k] == ' ' || q[k] == '\t') {
		/* More white space before the colon than read here: a CSeq to a proxy (it takes any
		 * amount), so one whose method goes unread; the answer names no method then. */
		sc->ncseq = pw_opaque(2);
		return 0;
	}
	if (q[k] != ':')
		return 0; /* another header ("CSeqX") */
	if (sc->ncseq) {
		sc->ncseq = pw_opaque(2); /* two or more */
		return 0;
	}
	sc->ncseq = pw_opaque(1);
	/* Each loop's end goes through pw_opaque: exact offsets after each one would have the
	 * verifier walk every combination of their lengths. */
	for (k++, j = 0; j < 8 && (q[k] == ' ' || q[k] == '\t'); j++)
		k++;
	k = pw_opaque(k) & 31;
	for (j = 0; j < 12 && q[k] >= '0' && q[k] <= '9'; j++) /* below 2^31: 10 digits and zeros */
		k++;
	if (!j)
		return 0;
	k = pw_opaque(k) & 63;
	for (j = 0; j < 8 && (q[k] == ' ' || q[k] == '\t'); j++)
		k++;
	if (!j)
		return 0;
	k = pw_opaque(k) & 63;
	if (i + k + 9 > sc->len)
		return 1; /* the method runs past what was copied */
	/* The method ends at white space or the line end ("REGISTERX" is another method). */
	__u64 w = pw_lower8(*(__u64 *)(q + k));

	__u32 method = PW_ANSWER_OTHER;

	if (w == 0x7265747369676572ULL /* "register" */ && pw_sws_bit(q[k + 8]))
		method = PW_ANSWER_REGISTER;
	else if ((w & 0x0000ffffffffffffULL) == 0x657469766e69ULL /* "invite" */ && pw_sws_bit(q[k + 6]))
		method = PW_ANSWER_INVITE;
	sc->method = pw_opaque(method);
	return 0; /* go on: an expiry, or a second CSeq line, may follow */
}

/* The scan of an answer's first len bytes (in pw_sipbuf), as one number: a global function,
 * verified once, whatever the state of its caller (the callback's verification under every
 * state that reaches the loop took pw_tc_egress past 400k instructions). */
__noinline __u64 pw_answer_scan(__u32 len, __u32 whole)
{
	struct pw_cseq_scan sc = { .len = len };

	bpf_loop(PW_SIP_SCAN, pw_cseq_at, &sc, 0);
	/* An answer read whole that lists no binding (no Contact): a 200 to REGISTER then removed
	 * the last one (Kamailio and pjsip answer a de-registration so, with no expiry at all), or
	 * answers a query. Taken as an expiry of 0 here, where it costs the verifier one check,
	 * not in the caller (a way out of its own there cost 42k instructions). */
	if (whole && !sc.contact) {
		sc.has_expires = 1;
		sc.expires = 0;
	}
	return (__u64)sc.expires << 32 | (sc.ncseq & 3) | (sc.method & 3) << 2 | (sc.has_expires & 1) << 4 |
	       (__u64)(sc.maddr != 0) << 5 | (sc.via_done & 1) << 6;
}

static __always_inline void pw_scan_answer(__u32 len, __u32 whole, struct pw_cseq_scan *sc)
{
	__u64 r = pw_answer_scan(len, whole);

	sc->expires = r >> 32;
	sc->ncseq = r & 3;
	sc->method = (r >> 2) & 3;
	sc->has_expires = (r >> 4) & 1;
	sc->maddr = (r >> 5) & 1;
	sc->via_done = (r >> 6) & 1;
}

#define PW_SIP_OWN_REQUEST 1 /* pw_sip_answer: the PBX's own request (never a status code) */

/* Is the datagram in pw_sipbuf (len bytes, at least 12) a request of the PBX's own: a SIP
 * request line (a method of 3 to 9 upper-case letters, a space, then "sip:", "sips:", "tel:"
 * or "urn:", an emergency call's urn:service:sos)? Not an answer, a keepalive, a STUN message: those go where a request from outside
 * asked (and ingress reads no STUN response as SIP, flow or not). A global function: verified
 * once. */
__noinline int pw_own_request(__u32 len)
{
	__u32 zero = 0, k;
	struct pw_sip_buf *s = bpf_map_lookup_elem(&pw_sipbuf, &zero);

	if (!s || len < 12)
		return 0;
	const __u8 *b = s->b;

	for (k = 0; k < 10; k++)
		if (b[k] < 'A' || b[k] > 'Z')
			break;
	if (k < 3 || k > 9 || b[k] != ' ' || k + 5 > len)
		return 0;
	__u32 w = ((__u32)b[k + 1] | (__u32)b[k + 2] << 8 | (__u32)b[k + 3] << 16 | (__u32)b[k + 4] << 24) | 0x20202020;

	return w == 0x3a706973 /* "sip:" */ || w == 0x73706973 /* "sips" */ || w == 0x3a6c6574 /* "tel:" */ ||
	       w == 0x3a6e7275 /* "urn:" */;
}

#define PW_KNOWN_GRACE_NS (30ULL * 1000000000ULL) /* a re-registration may come a little late */

/* The PBX accepted a registration: the peer becomes known for the registration's lifetime
 * (its Expires) capped at known_seconds, or known_seconds when the answer has no expiry or goes
 * on past what was read (`whole` 0: the 200 lists every binding of the account, and the phone's
 * own may lie past PW_SIP_SCAN, longer than every one read; taken for a shorter one, the phone
 * would be unknown, its calls dropped as anonymous, until its refresh), plus a
 * grace: the phone's refresh may come a little late (the grace came inside the cap until
 * 2026-12-06, and a 3600 s registration under the 3600 s cap had none). The entry is the
 * address's, and phones behind one NAT address share it: a refresh only ever extends it, and
 * a de-registration (Expires 0) leaves it to end on its own, so that one phone leaving or
 * registering for less does not make the others unknown (their INVITEs would meet the
 * anonymous-call rule and their SIP the small budget, and then a ban). */
static __always_inline void pw_promote_known(const struct pw_meta *m, const struct pw_policy *pol,
					     const struct pw_cseq_scan *sc, int whole)
{
	struct pw_ban_key k;
	__u64 now = bpf_ktime_get_coarse_ns();
	__u64 life = pol->known_ns;
	struct pw_known kn = { .created_ns = now };

	__builtin_memcpy(k.addr, m->dst.b, 16);
	if (sc->has_expires) {
		if (sc->expires == 0)
			return;
		__u64 reg = (__u64)sc->expires * 1000000000ULL;

		if (reg < life && whole)
			life = reg;
	}
	life += PW_KNOWN_GRACE_NS;
	kn.expires_ns = now + life;
	struct pw_known *old = bpf_map_lookup_elem(&pw_known, &k);

	if (old) { /* a refresh keeps the source's budget, and is not logged */
		if (old->expires_ns < kn.expires_ns)
			old->expires_ns = kn.expires_ns;
		return;
	}
	long err = bpf_map_update_elem(&pw_known, &k, &kn, BPF_ANY);

	if (!err)
		pw_knownbits_set(&m->dst);
	struct pw_event *ev = bpf_ringbuf_reserve(&pw_events, sizeof(*ev), 0);

	if (!ev)
		return;
	ev->ts_ns = now;
	__builtin_memcpy(ev->addr, m->dst.b, 16);
	ev->type = err ? PW_EVENT_KNOWN_FULL : PW_EVENT_KNOWN;
	ev->prefix = 0;
	ev->pad = 0;
	ev->cause = 0;
	ev->duration_ns = life;
	bpf_ringbuf_submit(ev, 0);
}

/* Copies the start of the SIP answer at off into pw_sipbuf. Returns its status code (100..699)
 * or 0 when it is not a SIP response; *len gets the bytes copied (0: none). */
static __always_inline __u32 pw_sip_status(struct __sk_buff *skb, __u32 off, struct pw_sip_buf *s, __u32 *len)
{
	if (off >= skb->len)
		return 0;
	__u32 n = skb->len - off;

	if (n > PW_SIP_SCAN)
		n = PW_SIP_SCAN;
	if (n < 12)
		return 0;
	__u32 copied = n;

	n = ((n - 1) & (PW_SIP_SCAN - 1)) + 1; /* verifier: 1..PW_SIP_SCAN, value unchanged */
	if (bpf_skb_load_bytes(skb, off, s->b, n))
		return 0;
	*len = copied;
	if (s->b[0] != 'S' || s->b[1] != 'I' || s->b[2] != 'P' || s->b[3] != '/' || s->b[4] != '2' ||
	    s->b[5] != '.' || s->b[6] != '0' || s->b[7] != ' ')
		return 0;
	__u8 d0 = s->b[8] - '0', d1 = s->b[9] - '0', d2 = s->b[10] - '0';

	if (d0 < 1 || d0 > 6 || d1 > 9 || d2 > 9)
		return 0;
	return d0 * 100 + d1 * 10 + d2;
}

/* The zone of the peer of an answer the PBX sends on interface skb->ifindex: the zone ingress
 * gives it when its packets arrive on the interface its answers leave by (a zone entry decides
 * the same either way; with asymmetric routing, an unnamed peer takes the egress interface's). */
static __always_inline __u8 pw_peer_zone(struct __sk_buff *skb, const struct pw_meta *m, __u32 active,
					 const struct pw_policy *pol)
{
	__u8 if_zone = PW_ZONE_INTERNET;
	__u32 gen = active & 1;

	if (skb->ifindex < PW_IFINDEX_LIMIT) {
		__u32 ik = gen * PW_IFINDEX_LIMIT + skb->ifindex;
		struct pw_zone_entry *ie = bpf_map_lookup_elem(&pw_ifaces, &ik);

		if (ie && ie->zone != PW_ZONE_NONE)
			if_zone = ie->zone;
	}
	return pw_zone_of(gen, pol, &m->dst, if_zone, pw_addr_zone_fn(m->dst.d[0], m->dst.d[1], active));
}

/* The peer's pw_fails key: its pw_source_key (an internet peer's IPv6 prefix: rotating
 * addresses within it does not restart the count). Returns the prefix's length, 0 for the
 * address. */
static __always_inline __u32 pw_fail_key(const struct pw_meta *m, const struct pw_policy *pol, __u8 zone,
					 struct pw_ban_key *k)
{
	union pw_addr a;
	__u32 bits = pw_source_key(&m->dst, pol, zone, &a);

	__builtin_memcpy(k->addr, a.b, 16);
	return bits;
}

/* Counts a failed authentication of the peer (403, 404, or a 401/407 challenge beyond the
 * allowance) in a window, and bans it at max_failures, unless it is known then. Trusted peers
 * (zone: pw_peer_zone) are never counted. A count kept per IPv6 prefix bans one address when it
 * first reaches max_failures, and the prefix when it reaches it again within ban_seconds: one
 * phone with a stale password then cuts off itself, not the phones beside it that are not known
 * at that moment (booting, say), while a guesser that moves through its prefix loses it after
 * twice max_failures. The address is the one with most of the count's failures (a majority vote
 * kept with the count), not the one whose answer reached max_failures: a neighbour's first 401
 * may be that answer, once the stale phone has used up the prefix's challenge allowance. */
static __always_inline void pw_count_failure(const struct pw_meta *m, const struct pw_policy *pol, __u8 zone,
					     __u32 status)
{
	struct pw_ban_key k;
	struct pw_fail *f;
	__u64 now = bpf_ktime_get_coarse_ns();

	if (!pol->max_failures)
		return;
	if (zone == PW_ZONE_TRUSTED)
		return;
	__u32 bits = pw_fail_key(m, pol, zone, &k);
	f = bpf_map_lookup_elem(&pw_fails, &k);
	if (!f) {
		struct pw_fail nf = { .from_ns = now };

		bpf_map_update_elem(&pw_fails, &k, &nf, BPF_ANY);
		f = bpf_map_lookup_elem(&pw_fails, &k);
		if (!f)
			return;
	}
	if (now - f->from_ns > pol->ban_window_ns) {
		f->from_ns = now;
		f->failures = 0;
		f->challenges = 0;
		f->top_count = 0;
	}
	if (status == 401 || status == 407) {
		if (++f->challenges <= pol->challenge_allowance)
			return;
	}
	union pw_addr who;

	__builtin_memcpy(&who, f->top, 16);
	if (who.d[0] == m->dst.d[0] && who.d[1] == m->dst.d[1])
		f->top_count++;
	else if (f->top_count)
		f->top_count--;
	else {
		__builtin_memcpy(f->top, &m->dst, 16);
		f->top_count = 1;
	}
	if (++f->failures >= pol->max_failures) {
		/* Signed: another CPU may have stamped struck_ns a tick ahead of this one's clock. */
		__u32 first = bits && (!f->struck_ns || (__s64)(now - f->struck_ns) >= (__s64)pol->ban_ns);

		__builtin_memcpy(&who, f->top, 16);
		if (!first || !f->top_count)
			who = m->dst;
		f->failures = 0;
		f->challenges = 0;
		f->top_count = 0;
		if (first)
			f->struck_ns = now;
		if (pw_known_now(&who, now) != PW_KNOWN_YES)
			pw_ban_addr(&who, pol, zone, PW_BAN_AUTH_FAILURE, now, first);
	}
}

/* Is the peer a known address whose failure count is kept per IPv6 prefix (pw_sip_answer)? */
static __always_inline int pw_known_apart(const struct pw_meta *m, const struct pw_policy *pol, __u8 zone)
{
	union pw_addr key;

	/* Through pw_opaque: one verifier state on, not one per way through the lookups. */
	return pw_opaque(pw_source_key(&m->dst, pol, zone, &key) &&
			 pw_known_now(&m->dst, bpf_ktime_get_coarse_ns()) == PW_KNOWN_YES);
}

/* A SIP answer of the PBX to a peer: 200 to REGISTER makes the peer known (and forgives its
 * challenges); 401/407/403/404 count as failures. sip_zones: the zones the SIP service admits.
 * Returns the status; PW_SIP_OWN_REQUEST for a request of the PBX's own (pw_own_request); 0 for
 * anything else (a keepalive, a STUN response). */
static __always_inline __u32 pw_sip_answer(struct __sk_buff *skb, const struct pw_meta *m, __u32 active,
					  const struct pw_policy *pol, __u32 sip_zones)
{
	__u32 zero = 0;
	struct pw_sip_buf *s = bpf_map_lookup_elem(&pw_sipbuf, &zero);
	struct pw_cseq_scan sc = {};
	__u32 status;

	if (!s)
		return 0;
	status = pw_sip_status(skb, m->l4_off + sizeof(struct udphdr), s, &sc.len);
	if (!status)
		return sc.len && pw_own_request(sc.len) ? PW_SIP_OWN_REQUEST : 0;
	if (status < 200 || (status >= 300 && status != 401 && status != 407 && status != 403 && status != 404))
		return status;
	/* The CSeq names the request's method: ingress drops a request whose CSeq names another
	 * (pw_cseq_ok), as a PBX may copy it into its answer unchecked. */
	/* Read whole: the answer ends within the bytes copied. */
	__u32 whole = skb->len - (m->l4_off + sizeof(struct udphdr)) <= PW_SIP_SCAN;

	pw_scan_answer(sc.len, whole, &sc);
	/* An answer sent to a Via's maddr (pjsip honours it) goes where the request asked, not
	 * necessarily to its source: it makes nobody known and counts against nobody. Else a
	 * guesser naming another address there would get that address banned. So is an answer
	 * whose top Via did not end within the scan: its maddr may lie past it (a Via made long
	 * by a long host name). */
	if (sc.maddr || !sc.via_done)
		return status;
	/* A count kept per IPv6 prefix is not one phone's: the answers to a known address in it
	 * (a registered phone, never banned for failures) neither forgive the others' challenges
	 * nor add to their count. Else a busy phone's calls would keep resetting a guesser's
	 * challenges beside it, and its own misdials could get the prefix banned on the answer
	 * to a neighbour that is booting. */
	__u8 zone = pw_peer_zone(skb, m, active, pol); /* pw_gen_word */

	if (status < 300) {
		struct pw_ban_key k;
		/* Through pw_opaque: one verifier state on, not one per way through the lookups. */
		__u32 known = pw_opaque(pw_known_now(&m->dst, bpf_ktime_get_coarse_ns()) == PW_KNOWN_YES);
		int apart = pw_fail_key(m, pol, zone, &k) && known; /* pw_known_apart */
		__u32 method = sc.ncseq == 1 ? sc.method : PW_ANSWER_UNREAD;

		if (status == 200 && method == PW_ANSWER_REGISTER) {
			/* A registration forgives the challenges; the failures end with their window.
			 * The peer is known now, and a known peer is never banned for them; but a count
			 * kept per IPv6 prefix is not one phone's, and a guesser beside a phone that
			 * registers would otherwise start afresh at each registration. */
			struct pw_fail *g = apart ? NULL : bpf_map_lookup_elem(&pw_fails, &k);

			if (g)
				g->challenges = 0;
			pw_promote_known(m, pol, &sc, whole);
			return status;
		}
		/* Success after a digest challenge (a call, a registration) is how digest works: the
		 * challenges before it were not failures. Only an answer to INVITE or REGISTER, the
		 * requests a PBX challenges: OPTIONS, an out-of-dialog BYE (Kamailio answers it
		 * statelessly), a MESSAGE relayed to a phone get a 2xx without one, and sent between
		 * password guesses they would reset them. Nor an answer whose CSeq cannot be read, or
		 * that has more than one. An answer to INVITE, only for a peer known now, or of a
		 * zone the SIP service refuses (its requests reach the PBX as replies to a flow, past
		 * the guards: a trunk outside trusted, whose calls the PBX may challenge): from any
		 * other, a call drops at ingress (anonymous_invite), but for an INVITE inside a
		 * dialog the PBX placed to it, which no PBX challenges; else a peer the PBX called
		 * answered its re-INVITEs between password guesses, and its guesses were never
		 * counted. */
		__u32 calls = known | !(sip_zones & PW_ZONE_BIT(zone));
		struct pw_fail *f =
			!apart && (method == PW_ANSWER_REGISTER || (method == PW_ANSWER_INVITE && calls))
				? bpf_map_lookup_elem(&pw_fails, &k)
				: NULL;

		if (f)
			f->challenges = 0;
	} else if (!pw_known_apart(m, pol, zone)) {
		pw_count_failure(m, pol, zone, status);
	}
	return status;
}

#endif /* PBXWALL_SIP_EGRESS_H */
