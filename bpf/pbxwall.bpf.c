// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pbxwall data plane: the XDP ingress program that judges every packet by zone and service,
 * and the TC egress program that records the flows the host opens so their replies pass.
 * All maps live here; every verdict leaves through pw_verdict(), which counts it. */
#include "parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Active policy generation (index 0 holds struct pw_gen_state). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_gen_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_gen SEC(".maps");

/* Scalar policy settings, one per generation. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_GENERATIONS);
	__type(key, __u32);
	__type(value, struct pw_policy);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_policy SEC(".maps");

/* Service of every (generation, protocol, port). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_PORTS_ENTRIES);
	__type(key, __u32);
	__type(value, struct pw_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_ports SEC(".maps");

/* Zone and counter slot of every interface, indexed by gen * PW_IFINDEX_LIMIT + ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_GENERATIONS * PW_IFINDEX_LIMIT);
	__type(key, __u32);
	__type(value, struct pw_zone_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_ifaces SEC(".maps");

/* Zone of prefixes: longest-prefix match behind the exact host lookup; the data plane reads it
 * for IPv6 sources (IPv4 ones use pw_nets4). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * PW_DEFAULT_NETS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_net_key);
	__type(value, struct pw_zone_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_nets SEC(".maps");

/* Flows the host opened, written at TC egress. LRU: losing one only drops a late reply. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_DEFAULT_FLOWS);
	__type(key, struct pw_flow_key);
	__type(value, struct pw_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_flows SEC(".maps");

/* Verdicts of first fragments, applied to the fragments that follow them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_DEFAULT_FRAGS);
	__type(key, struct pw_frag_key);
	__type(value, struct pw_frag);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_frags SEC(".maps");

/* Sources the PBX accepted (200 OK to REGISTER). Never LRU: a flood cannot evict them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_DEFAULT_KNOWN);
	__type(key, struct pw_ban_key);
	__type(value, struct pw_known);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_known SEC(".maps");

/* Bloom filter of the known sources, two halves (pbxwall_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * (PW_DEFAULT_KNOWN / 4)); /* 2 * pw_banbit_words(); set from [limits] */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_knownbits SEC(".maps");

/* Per-source SIP budgets, a four-way set-associative cache (pbxwall_abi.h); creation is gated
 * by pw_newsrc, so a spoofed flood churns it slowly. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_DEFAULT_RATE + PW_DEFAULT_RATE / PW_RATE_TAGS_PER_BLOCK + PW_DEFAULT_RATE / PW_RATE_LANES_PER_BLOCK); /* pw_rate_entries() */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pw_rate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_rate SEC(".maps");

/* Failed authentications per peer, counted from the PBX's answers at TC egress. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_DEFAULT_FAILS);
	__type(key, struct pw_ban_key);
	__type(value, struct pw_fail);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_fails SEC(".maps");

/* SIP payload rules (scanner signatures, toll-fraud prefixes), one per generation. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_GENERATIONS);
	__type(key, __u32);
	__type(value, struct pw_sip_rules);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_siprules SEC(".maps");

/* Aggregate budget for new per-source state, shared by all CPUs (pw_newsrc_admit). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_newsrc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_newsrc SEC(".maps");

/* Bans and failures the data plane decided on its own, for pbxwalld's log. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_events SEC(".maps");

/* Packets and bytes per (interface slot, zone, reason), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct pw_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_stats SEC(".maps");

#define PW_SIP_SCAN 1024 /* bytes of a SIP response searched for its CSeq header (power of 2) */

/* Scratch copy of a SIP response, per CPU (not pinned: nothing outlives one packet). */
struct pw_sip_buf {
	__u8 b[PW_SIP_SCAN + 96]; /* + a window past the last scanned offset: pw_cseq_at reads 72 bytes */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_sip_buf);
} pw_sipbuf SEC(".maps");

/* Per-packet state of the ingress program. */
struct pw_ctx {
	struct pw_meta m;
	struct pw_policy *policy;
	__u32 gen;
	__u32 len;
	__u8 slot;
	__u8 zone;
};

static __always_inline int pw_lc(__u8 c, char want) /* ASCII case-insensitive compare */
{
	return (c | 0x20) == want;
}

/* The coarse clock (CLOCK_MONOTONIC, moved on at each tick) without a helper call per packet:
 * a helper call costs ~20 ns on machines whose returns go through a mitigation thunk, and
 * bpf_jiffies64 is inlined (a load). Per CPU, the value the helper gave is kept with the tick
 * it was read in and asked again only when the tick moves on. The timekeeper's update of the
 * coarse clock follows the tick's increment of jiffies: until it has, the helper still gives
 * the old value, which is then not bound to the new tick, so the next packet asks again. */
struct pw_clock {
	__u64 jiffies; /* the tick ns was read in */
	__u64 ns;      /* bpf_ktime_get_coarse_ns() */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_clock);
} pw_clock SEC(".maps");

static __always_inline __u64 pw_now(void)
{
	__u32 zero = 0;
	struct pw_clock *ck = bpf_map_lookup_elem(&pw_clock, &zero);
	__u64 j = bpf_jiffies64();

	if (!ck)
		return bpf_ktime_get_coarse_ns(); /* verifier: index 0 of a per-CPU array always exists */
	if (ck->jiffies != j) {
		__u64 ns = bpf_ktime_get_coarse_ns();

		if (ns != ck->ns) {
			ck->ns = ns;
			ck->jiffies = j;
		}
	}
	return ck->ns;
}

/* How long before now a time stamped by this or another CPU was, signed: another CPU's copy of
 * the clock, or the egress program's direct read, may be a tick ahead of this CPU's (a copy
 * taken just after a tick, before the clock moved, stays behind until the next tick), and an
 * unsigned difference would then wrap into "long ago": a reply or a later fragment dropped as
 * stale, a strikes window restarted. */
static __always_inline __s64 pw_since(__u64 now, __u64 stamp)
{
	return (__s64)(now - stamp);
}

/* pw_since() the data plane's now. */
static __always_inline __s64 pw_age(__u64 stamp)
{
	return pw_since(pw_now(), stamp);
}

static __always_inline __u32 pw_verdict(struct pw_ctx *c, __u32 reason)
{
	__u32 idx = ((__u32)c->slot * PW_ZONE__COUNT + c->zone) * PW_REASON_SLOTS + reason;
	struct pw_counter *cnt = bpf_map_lookup_elem(&pw_stats, &idx);

	if (cnt) {
		cnt->packets++;
		cnt->bytes += c->len;
	}
	if (c->m.frag == PW_FRAG_FIRST && c->zone != PW_ZONE_TRUSTED) {
		struct pw_frag_key fk = { .id = c->m.frag_id, .proto = c->m.frag_proto };
		struct pw_frag fv = { .seen_ns = pw_now(), .reason = reason };

		__builtin_memcpy(fk.src, c->m.src.b, 16);
		__builtin_memcpy(fk.dst, c->m.dst.b, 16);
		bpf_map_update_elem(&pw_frags, &fk, &fv, BPF_ANY);
	}
	return PW_REASON_IS_DROP(reason) ? XDP_DROP : XDP_PASS;
}

/* Loopback, multicast, broadcast, unspecified and IPv4-mapped sources cannot arrive on a
 * wire. The unspecified address is legitimate for IPv6 duplicate-address detection (NS, MLD
 * reports, RFC 4862 / 3590) and for an IPv4 DHCP client asking for an address. */
static __always_inline int pw_is_martian(const struct pw_meta *m)
{
	const union pw_addr *a = &m->src;

	if (m->family == 4) {
		__u32 s = bpf_ntohl(a->w[3]);

		if (s == 0)
			return !(m->proto == IPPROTO_UDP && m->sport == bpf_htons(68) &&
				 m->dport == bpf_htons(67));
		return (s >> 24) == 0 || (s >> 24) == 127 || (s >> 28) == 0xe || s == 0xffffffff;
	}
	if (a->b[0] == 0xff)
		return 1;
	if (a->d[0] == 0 && a->w[2] == bpf_htonl(0xffff))
		return 1;
	if (a->d[0] == 0 && a->w[2] == 0) {
		if (a->w[3] == bpf_htonl(1))
			return 1;
		if (a->w[3] == 0)
			return !(m->proto == IPPROTO_ICMPV6 &&
				 (m->icmp_type == PW_ICMP6_NS || m->icmp_type == PW_ICMP6_MLD2_REPORT));
	}
	return 0;
}

/* v as a number the verifier knows nothing about: through per-CPU map memory. The states of
 * the ways that computed v (each with its exact value) then merge again, so the code after it
 * is checked once, not once per way. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pw_opaque_slot SEC(".maps");

static __always_inline __u32 pw_opaque(__u32 v)
{
	__u32 zero = 0;
	__u32 *s = bpf_map_lookup_elem(&pw_opaque_slot, &zero);

	if (!s)
		return 0; /* verifier: index 0 of a per-CPU array always exists */
	*(volatile __u32 *)s = v;
	return *(volatile __u32 *)s;
}

#include "classify.h"

/* The packet's state handed to the next stage, per CPU (one packet at a time per CPU): struct
 * pw_ctx without its policy pointer, which the stage looks up again. */
struct pw_handoff {
	struct pw_meta m;
	__u32 gen;
	__u32 len;
	__u8 slot;
	__u8 zone;
	__u8 pad[6];
};
_Static_assert(sizeof(struct pw_handoff) == PW_HANDOFF_BYTES, "pw_handoff ABI");
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_handoff);
	__uint(pinning, LIBBPF_PIN_BY_NAME); /* shared by every load of the object */
} pw_handoff SEC(".maps");

/* Longest-prefix match over both tables (z from pw_addr_zone): a host entry is the most
 * specific possible. */
static __always_inline __u8 pw_zone_of(__u32 gen, const struct pw_policy *pol, const union pw_addr *addr,
				       __u8 if_zone, __u32 z)
{
	struct pw_zone_entry *e;

	if (z & 0xff)
		return z & 0xff;
	if (!(z & PW_ADDR_V4) && pol->has_nets) {
		struct pw_net_key nk = { .prefixlen = PW_NET_GEN_BITS + 128, .gen = gen };

		__builtin_memcpy(nk.addr, addr->b, 16);
		e = bpf_map_lookup_elem(&pw_nets, &nk);
		if (e)
			return e->zone;
	}
	return if_zone;
}

/* The source's zone. The host and prefix walks leave the verifier one state per way out of
 * their loops; made opaque, the zone lets those states merge before the rest is checked. */
static __always_inline __u8 pw_classify(const struct pw_gen_state *g, struct pw_ctx *c, __u8 if_zone, __u32 active)
{
	/* The host half from the word read with the generation (pw_gen_word). Opaque: its exact
	 * value, carried to the zone lookups, cost the verifier 107k instructions. */
	__u32 hosts = pw_opaque(pw_hosts_half(g, active)) & 1;
	__u32 z = pw_opaque(pw_addr_zone_in(g, hosts, c->m.src.d[0], c->m.src.d[1]));

	return pw_zone_of(c->gen, c->policy, &c->m.src, if_zone, z);
}

#include "bans.h"

/* Is the packet m the reply to a flow the host opened (recorded by pw_tc_egress)? */
static __always_inline int pw_flow_reply(const struct pw_meta *m, __u64 udp_timeout)
{
	struct pw_flow_key fk = { .local_port = m->dport, .remote_port = m->sport, .proto = m->proto };
	__u64 timeout = udp_timeout;
	struct pw_flow *f;

	if (m->proto == IPPROTO_TCP)
		timeout = PW_FLOW_TIMEOUT_TCP_NS;
	else if (m->proto == IPPROTO_ICMP || m->proto == IPPROTO_ICMPV6) {
		fk.local_port = m->sport; /* echo identifier */
		fk.remote_port = 0;
		timeout = PW_FLOW_TIMEOUT_ICMP_NS;
	}
	__builtin_memcpy(fk.local, m->dst.b, 16);
	__builtin_memcpy(fk.remote, m->src.b, 16);
	f = bpf_map_lookup_elem(&pw_flows, &fk);
	return f && pw_age(f->seen_ns) < (__s64)timeout;
}

static __always_inline int pw_is_reply(struct pw_ctx *c)
{
	return pw_flow_reply(&c->m, PW_FLOW_TIMEOUT_UDP_NS);
}

#include "sip.h"

/* ICMP the network needs passes; echo requests follow the zone's setting; echo replies
 * pass when the host sent the request. Everything else is denied. */
static __always_inline __u32 pw_judge_icmp(struct pw_ctx *c)
{
	__u8 t = c->m.icmp_type;

	if (c->m.proto == IPPROTO_ICMP) {
		if (t == PW_ICMP_DEST_UNREACH || t == PW_ICMP_TIME_EXCEEDED || t == PW_ICMP_PARAMETERPROB)
			return PW_REASON_ICMP;
		if (t == PW_ICMP_ECHO)
			return c->policy->echo_zones & PW_ZONE_BIT(c->zone) ? PW_REASON_ICMP
									    : PW_REASON_ICMP_DENIED;
		if (t == PW_ICMP_ECHOREPLY && pw_is_reply(c))
			return PW_REASON_REPLY;
		return PW_REASON_ICMP_DENIED;
	}
	if (t >= PW_ICMP6_DEST_UNREACH && t <= PW_ICMP6_PARAMPROB)
		return PW_REASON_ICMP;
	/* Multicast listener query/report/done and MLDv2 report. */
	if ((t >= PW_ICMP6_MLD_FIRST && t <= PW_ICMP6_MLD_LAST) || t == PW_ICMP6_MLD2_REPORT)
		return PW_REASON_ICMP;
	/* Router and neighbour discovery; RFC 4861 requires hop limit 255 (on-link only). */
	if (t >= PW_ICMP6_ND_FIRST && t <= PW_ICMP6_ND_LAST)
		return c->m.hop_limit == 255 ? PW_REASON_ICMP : PW_REASON_ICMP_DENIED;
	if (t == PW_ICMP6_ECHO_REQUEST)
		return c->policy->echo_zones & PW_ZONE_BIT(c->zone) ? PW_REASON_ICMP
								    : PW_REASON_ICMP_DENIED;
	if (t == PW_ICMP6_ECHO_REPLY && pw_is_reply(c))
		return PW_REASON_REPLY;
	return PW_REASON_ICMP_DENIED;
}

/* The SIP stage: a program of its own, entered by a tail call (a jump, no return to pay for),
 * verified on its own with its own stack. */
int pw_xdp_sip(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, PW_STAGE__COUNT);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME); /* pinned: a prog array empties when its last user
					       * reference goes, and pbxwalld may be gone */
	__array(values, int(struct xdp_md *));
} pw_stages SEC(".maps") = {
	.values = { [PW_STAGE_SIP] = (void *)&pw_xdp_sip },
};

/* Hands the packet to the SIP stage. Returns only when the stage is missing (its slot of
 * pw_stages empty): the SIP traffic of untrusted sources is then dropped, never let through
 * unjudged. */
static __always_inline __u32 pw_to_sip_stage(struct xdp_md *ctx, struct pw_ctx *c)
{
	__u32 zero = 0;
	struct pw_handoff *h = bpf_map_lookup_elem(&pw_handoff, &zero);

	if (!h)
		return PW_REASON_NO_STAGE;
	h->m = c->m;
	h->gen = c->gen;
	h->len = c->len;
	h->slot = c->slot;
	h->zone = c->zone;
	bpf_tail_call(ctx, &pw_stages, PW_STAGE_SIP);
	return PW_REASON_NO_STAGE;
}

/* The service of the destination port decides; a would-be drop still passes when it is
 * a reply to the host's own flow, or a DHCP server answering the host. */
static __always_inline __u32 pw_judge_service(struct xdp_md *ctx, struct pw_ctx *c)
{
	__u32 reason = c->policy->unlisted == PW_UNLISTED_PASS ? PW_REASON_UNLISTED_PASS
							       : PW_REASON_UNLISTED_DROP;

	if (c->m.has_ports) {
		__u32 l4 = c->m.proto == IPPROTO_TCP ? PW_L4_TCP : PW_L4_UDP;
		__u32 idx = ((c->gen * PW_L4__COUNT + l4) << 16) | bpf_ntohs(c->m.dport);
		struct pw_port *p = bpf_map_lookup_elem(&pw_ports, &idx);

		if (p && (p->flags & PW_PORT_TRAP)) { /* trusted sources never get here */
			/* The answer to a flow the host opened from that port is no probe of it. */
			if (pw_is_reply(c))
				return PW_REASON_REPLY;
			pw_ban_unless_known(&c->m.src, c->policy, c->zone, PW_BAN_TRAP_PORT, pw_now());
			return PW_REASON_TRAP_PORT;
		}
		if (p && p->service) {
			int sip = p->service == c->policy->sip_service;

			if (!(p->zones & PW_ZONE_BIT(c->zone)))
				reason = PW_REASON_SERVICE_DENIED;
			else if (sip && (c->m.proto == IPPROTO_UDP || c->zone == PW_ZONE_INTERNET))
				return pw_to_sip_stage(ctx, c); /* trusted sources never get here */
			else
				reason = PW_REASON_SERVICE;
		}
	}
	if (!PW_REASON_IS_DROP(reason) || !c->m.has_ports)
		return reason;
	if (pw_is_reply(c))
		return PW_REASON_REPLY;
	if (c->m.proto == IPPROTO_UDP &&
	    ((c->m.family == 4 && c->m.sport == bpf_htons(67) && c->m.dport == bpf_htons(68)) ||
	     (c->m.family == 6 && c->m.sport == bpf_htons(547) && c->m.dport == bpf_htons(546))))
		return PW_REASON_DHCP;
	return reason;
}

/* The remembered verdict of the first fragment, or an orphan. */
static __always_inline __u32 pw_judge_later_fragment(struct pw_ctx *c)
{
	struct pw_frag_key fk = { .id = c->m.frag_id, .proto = c->m.frag_proto };
	struct pw_frag *f;

	__builtin_memcpy(fk.src, c->m.src.b, 16);
	__builtin_memcpy(fk.dst, c->m.dst.b, 16);
	f = bpf_map_lookup_elem(&pw_frags, &fk);
	if (!f || pw_age(f->seen_ns) >= (__s64)PW_FRAG_TIMEOUT_NS)
		return PW_REASON_FRAGMENT_ORPHAN;
	return f->reason < PW_REASON_SLOTS ? f->reason : PW_REASON_FRAGMENT_ORPHAN;
}

/* The verdict order of README "Verdict order". Returns a reason; never touches counters. */
static __always_inline __u32 pw_judge(struct xdp_md *ctx, struct pw_ctx *c)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct pw_gen_state *g = bpf_map_lookup_elem(&pw_gen, &zero);
	__u8 if_zone = PW_ZONE_INTERNET; /* an interface the policy does not name */

	c->len = data_end - data;
	if (!g)
		return PW_REASON_MALFORMED; /* verifier: array index 0 always exists */
	__u32 active = pw_gen_word(g);

	c->gen = active & 1;
	c->policy = bpf_map_lookup_elem(&pw_policy, &c->gen);
	if (!c->policy)
		return PW_REASON_MALFORMED;

	if (ctx->ingress_ifindex < PW_IFINDEX_LIMIT) {
		__u32 ik = c->gen * PW_IFINDEX_LIMIT + ctx->ingress_ifindex;
		struct pw_zone_entry *ie = bpf_map_lookup_elem(&pw_ifaces, &ik);

		if (ie && ie->zone != PW_ZONE_NONE) {
			if_zone = ie->zone;
			c->slot = ie->slot < PW_IFACE_SLOTS ? ie->slot : 0;
		}
	}

	/* 1-2: non-IP passes, broken headers drop. */
	int pr = pw_parse(data, data_end, 0, &c->m);
	if (pr == PW_PARSE_NON_IP)
		return PW_REASON_NON_IP;
	if (pr != PW_PARSE_IP)
		return PW_REASON_MALFORMED;

	/* 3: sources that cannot exist on a wire. */
	if (pw_is_martian(&c->m))
		return PW_REASON_MARTIAN;

	/* 4-6 for an IPv4 source from a /24 without zone entries or bans: the interface's zone. */
	if (pw_src4_unlisted(g, &c->m)) {
		c->zone = if_zone;
		if (if_zone == PW_ZONE_TRUSTED)
			return PW_REASON_TRUSTED;
		if (if_zone == PW_ZONE_REJECT)
			return PW_REASON_REJECT;
	} else {
		/* 4-5: zone by longest prefix, else the interface's zone. The ban filter is read
		 * first (bans are judged after the zones, as a trusted source is never banned): its
		 * cold lines then load while the source is classified. */
		__u64 ban_h = pw_ban_hash_ahead(g, &c->m.src);

		c->zone = pw_classify(g, c, if_zone, active); /* one read: a flip never splits a packet */
		if (c->zone == PW_ZONE_TRUSTED)
			return PW_REASON_TRUSTED;
		if (c->zone == PW_ZONE_REJECT)
			return PW_REASON_REJECT;

		/* 6: timed bans (trusted sources never reach this point), of the address, then of
		 * an IPv6 source's prefix. */
		if (pw_is_banned(g, ban_h, c) || pw_is_prefix_banned(g, c))
			return PW_REASON_BANNED;
	}

	/* 10 (later fragments carry no L4 header): the first fragment's verdict. */
	if (c->m.frag == PW_FRAG_LATER)
		return pw_judge_later_fragment(c);

	/* 7: ICMP the network needs, of the packet's own family (ICMPv6 in IPv4, or ICMP in
	 * IPv6, is no ICMP to any host: a protocol without ports, as below). */
	if (c->m.proto == (c->m.family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6))
		return pw_judge_icmp(c);

	/* 8-9: services by destination port; replies to the host's own flows. */
	return pw_judge_service(ctx, c);
}

SEC("xdp")
int pw_xdp_main(struct xdp_md *ctx)
{
	struct pw_ctx c = {};

	return pw_verdict(&c, pw_judge(ctx, &c));
}

#include "sip_stage.h"
#include "sip_egress.h"

/* Records flows the host opens: TCP on SYN, UDP from a port that no service names (a
 * service port answering a client is not the host's own flow), ICMP echo requests.
 * Later egress packets of a known flow refresh it. Never changes the packet's fate. */
SEC("tc")
int pw_tc_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct pw_meta m = {};
	/* 64-bit, as the verifier takes no 32-bit arithmetic on packet pointers. */
	__u64 linear = (__u64)data_end - (__u64)data;

	asm volatile("" : "+r"(linear));
	__u32 beyond = skb->len > linear ? skb->len - linear : 0; /* page fragments (TCP payload) */

	if (pw_parse(data, data_end, beyond, &m) != PW_PARSE_IP || m.frag == PW_FRAG_LATER)
		return TC_ACT_OK;

	struct pw_flow_key fk = { .local_port = m.sport, .remote_port = m.dport, .proto = m.proto };
	int create = 0;

	if (m.proto == IPPROTO_TCP) {
		create = (m.tcp_flags & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN;
	} else if (m.proto == IPPROTO_UDP) {
		__u32 zero = 0;
		struct pw_gen_state *g = bpf_map_lookup_elem(&pw_gen, &zero);

		if (!g)
			return TC_ACT_OK;
		__u32 active = pw_gen_word(g), gen = active & 1;
		__u32 idx = ((gen * PW_L4__COUNT + PW_L4_UDP) << 16) | bpf_ntohs(m.sport);
		struct pw_port *p = bpf_map_lookup_elem(&pw_ports, &idx);

		if (p && p->service) {
			struct pw_policy *pol = bpf_map_lookup_elem(&pw_policy, &gen);
			int sip = pol && p->service == pol->sip_service;
			/* The SIP service's own requests (to a trunk it registers with, a SIP address
			 * it calls, a phone; pw_own_request) record a flow: their answers are replies
			 * (ingress refuses the answers of unknown internet sources otherwise). Only
			 * the PBX decides where its requests go. Its answers and anything else never
			 * make or refresh one, whichever zones the service admits: they go where a
			 * request from outside asked (a Via maddr, a STUN request's source), and with
			 * SIP closed to the internet, a peer whose requests the PBX answers would keep
			 * its flow, and its requests passing as replies past the guards, for good. */
			__u32 request = sip && pw_sip_answer(skb, &m, active, pol, p->zones) == PW_SIP_OWN_REQUEST;

			/* Another service open to the internet answers whoever asks (a flood of
			 * spoofed requests would fill pw_flows with its answers): no flow. One
			 * closed to it may be the host's own client on the same port (NTP 123 to
			 * 123, an IAX2 trunk 4569 to 4569): its peer's answer is a reply. Only a
			 * drop asks pw_flows, so a peer the service admits gains nothing from it. */
			if (sip ? !request : (p->zones & PW_ZONE_BIT(PW_ZONE_INTERNET)) != 0)
				return TC_ACT_OK;
		}
		create = 1;
	} else if ((m.proto == IPPROTO_ICMP && m.icmp_type == PW_ICMP_ECHO) ||
		   (m.proto == IPPROTO_ICMPV6 && m.icmp_type == PW_ICMP6_ECHO_REQUEST)) {
		fk.remote_port = 0;
		create = 1;
	} else {
		return TC_ACT_OK;
	}

	__builtin_memcpy(fk.local, m.src.b, 16);
	__builtin_memcpy(fk.remote, m.dst.b, 16);
	__u64 now = bpf_ktime_get_coarse_ns();
	struct pw_flow *f = bpf_map_lookup_elem(&pw_flows, &fk);

	if (f) {
		f->seen_ns = now;
	} else if (create) {
		struct pw_flow nf = { .seen_ns = now };

		bpf_map_update_elem(&pw_flows, &fk, &nf, BPF_ANY);
	}
	return TC_ACT_OK;
}
