/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Header parsers shared by the XDP ingress and TC egress programs: Ethernet with up to
 * PW_VLAN_MAX tags and a PPPoE session header, IPv4 (options), IPv6 (bounded extension-header
 * walk), TCP, UDP, ICMP.
 * Each parser checks bounds right next to the access and never reads past data_end. */
#ifndef PBXWALL_PARSE_H
#define PBXWALL_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "pbxwall_abi.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#ifndef ETH_P_PPP_SES
#define ETH_P_PPP_SES 0x8864
#endif
#define PW_PPP_IPV4 0x0021 /* PPP protocol numbers (RFC 1332, RFC 5072) */
#define PW_PPP_IPV6 0x0057
#define PW_PPP_NETWORK_END 0x4000 /* RFC 1661 section 2: numbers below it name network-layer protocols */

/* Offsets past this are malformed for us: keeps every offset provably small for the verifier. */
#define PW_MAX_HDR_OFF 4096

enum pw_frag_kind {
	PW_FRAG_NONE = 0,
	PW_FRAG_FIRST = 1, /* offset 0, more fragments follow: carries the L4 header */
	PW_FRAG_LATER = 2, /* offset > 0: no L4 header */
};

enum pw_parse_result {
	PW_PARSE_IP = 0,
	PW_PARSE_NON_IP = 1,
	PW_PARSE_MALFORMED = 2,
};

union pw_addr {
	__u8 b[16];
	__u32 w[4];
	__u64 d[2];
};

/* What the parser learned about one packet. */
struct pw_meta {
	union pw_addr src;
	union pw_addr dst;
	__u32 frag_id;
	__be16 sport; /* network order; ICMP echo: identifier in sport */
	__be16 dport;
	__u8 family;  /* 4 or 6 */
	__u8 proto;   /* upper-layer protocol */
	__u8 frag;    /* enum pw_frag_kind */
	__u8 has_ports;
	__u8 icmp_type;
	__u8 tcp_flags;
	__u8 hop_limit;
	__u8 frag_proto; /* fragments: IPv4's protocol, part of the frag key (IPv6: the id's low byte) */
	__u16 l4_off;    /* offset of the L4 header in the frame (valid with has_ports) */
	__u16 pad;
};

struct pw_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* RFC 2516 session stage: the PPPoE header, then the PPP protocol field. */
struct pw_pppoe_hdr {
	__u8 ver_type;
	__u8 code;
	__be16 session;
	__be16 length;
	__be16 ppp_proto;
};

struct pw_ext_hdr { /* the common start of IPv6 extension headers */
	__u8 nexthdr;
	__u8 hdrlen;
};

struct pw_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | M flag */
	__be32 id;
};

/* ICMP and ICMPv6 (linux/icmp.h drags in libc socket headers, so the few we need are here). */
struct pw_icmp_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id; /* echo request/reply identifier */
	__be16 sequence;
};
#define PW_ICMP_ECHOREPLY      0
#define PW_ICMP_DEST_UNREACH   3
#define PW_ICMP_ECHO           8
#define PW_ICMP_TIME_EXCEEDED 11
#define PW_ICMP_PARAMETERPROB 12
#define PW_ICMP6_DEST_UNREACH  1 /* 1..4: unreachable, packet too big, time exceeded, parameter problem */
#define PW_ICMP6_PARAMPROB     4
#define PW_ICMP6_ECHO_REQUEST 128
#define PW_ICMP6_ECHO_REPLY   129
#define PW_ICMP6_MLD_FIRST    130 /* 130..132: multicast listener query, report, done */
#define PW_ICMP6_MLD_LAST     132
#define PW_ICMP6_ND_FIRST     133 /* 133..136: router solicitation/advertisement, neighbour solicitation/advertisement */
#define PW_ICMP6_NS           135
#define PW_ICMP6_ND_LAST      136
#define PW_ICMP6_MLD2_REPORT  143

#define PW_TCP_FIN 0x01
#define PW_TCP_SYN 0x02
#define PW_TCP_RST 0x04
#define PW_TCP_ACK 0x10

static __always_inline int pw_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Ethernet plus up to PW_VLAN_MAX tags. Returns the L3 offset, or -1 (malformed). */
static __always_inline int pw_parse_eth(void *data, void *data_end, __be16 *proto)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);

	if ((void *)(eth + 1) > data_end)
		return -1;
	*proto = eth->h_proto;

#pragma unroll
	for (int i = 0; i < PW_VLAN_MAX; i++) {
		struct pw_vlan_hdr *vh = data + off;

		if (!pw_is_vlan(*proto))
			break;
		if ((void *)(vh + 1) > data_end)
			return -1;
		*proto = vh->proto;
		off += sizeof(*vh);
	}
	if (pw_is_vlan(*proto)) /* a third tag: deeper stacks are dropped */
		return -1;
	return off;
}

/* A PPPoE session frame at off (on the Ethernet interface under a PPPoE link, often behind a
 * VLAN tag): IPv4 and IPv6 inside it are judged like any other. The version, type and code
 * are not checked, as the kernel's PPPoE receive path does not check them either. The link's
 * control protocols (0x8000 and up: LCP, IPCP, PAP, CHAP, ...) stay non-IP; any other
 * network-layer protocol (below 0x4000: multilink, compressed TCP/IP, compressed datagrams)
 * may carry IP that cannot be read here, and is malformed. So is a protocol field of one byte
 * (an odd first byte: RFC 1661 6.5's compression, which pppd never asks for on PPPoE): the
 * kernel's ppp_input() takes it all the same (0x57 for IPv6), and it must not pass as
 * non-IP with what it carries. Returns the L3 offset, or -1. */
static __always_inline int pw_parse_pppoe(void *data, void *data_end, __u32 off, __be16 *proto)
{
	struct pw_pppoe_hdr *ph = data + off;

	if ((void *)(ph + 1) > data_end)
		return -1;
	if (ph->ppp_proto & bpf_htons(0x0100))
		return -1; /* the protocol field compressed */
	if (ph->ppp_proto == bpf_htons(PW_PPP_IPV4))
		*proto = bpf_htons(ETH_P_IP);
	else if (ph->ppp_proto == bpf_htons(PW_PPP_IPV6))
		*proto = bpf_htons(ETH_P_IPV6);
	else if (bpf_ntohs(ph->ppp_proto) < PW_PPP_NETWORK_END)
		return -1;
	return off + sizeof(*ph);
}

/* The L4 header at l4off, with l4len bytes of IP payload. Returns a pw_parse_result. */
static __always_inline int pw_parse_l4(void *data, void *data_end, __u32 l4off, __u32 l4len,
				       struct pw_meta *m)
{
	if (l4off > PW_MAX_HDR_OFF) /* verifier: bound the variable offset */
		return PW_PARSE_MALFORMED;
	m->l4_off = l4off;

	if (m->proto == IPPROTO_UDP) {
		struct udphdr *udp = data + l4off;

		if ((void *)(udp + 1) > data_end || l4len < sizeof(*udp))
			return PW_PARSE_MALFORMED;
		__u16 ulen = bpf_ntohs(udp->len);
		/* A first fragment carries only part of the datagram that ulen describes. */
		if (ulen < sizeof(*udp) || (m->frag == PW_FRAG_NONE && ulen > l4len))
			return PW_PARSE_MALFORMED;
		m->sport = udp->source;
		m->dport = udp->dest;
		m->has_ports = 1;
	} else if (m->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = data + l4off;

		/* RFC 1858: a first fragment must hold the whole minimal TCP header. */
		if ((void *)(tcp + 1) > data_end || l4len < sizeof(*tcp))
			return PW_PARSE_MALFORMED;
		if (tcp->doff < 5 || (__u32)tcp->doff * 4 > l4len)
			return PW_PARSE_MALFORMED;
		m->sport = tcp->source;
		m->dport = tcp->dest;
		m->tcp_flags = ((__u8 *)tcp)[13];
		m->has_ports = 1;
	} else if (m->proto == IPPROTO_ICMP || m->proto == IPPROTO_ICMPV6) {
		struct pw_icmp_hdr *icmp = data + l4off;

		if ((void *)(icmp + 1) > data_end || l4len < sizeof(*icmp))
			return PW_PARSE_MALFORMED;
		m->icmp_type = icmp->type;
		m->sport = icmp->id;
	}
	return PW_PARSE_IP;
}

static __always_inline int pw_parse_ipv4(void *data, void *data_end, __u32 beyond, __u32 off, struct pw_meta *m)
{
	struct iphdr *ip = data + off;

	if ((void *)(ip + 1) > data_end)
		return PW_PARSE_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return PW_PARSE_MALFORMED;

	__u32 ihl = ip->ihl * 4;
	__u32 tot = bpf_ntohs(ip->tot_len);
	__u32 avail = (__u32)(data_end - data) + beyond - off;

	/* Ethernet padding may follow the datagram, so tot may be less than what arrived. */
	if (tot < ihl || tot > avail)
		return PW_PARSE_MALFORMED;

	m->family = 4;
	m->proto = ip->protocol;
	m->hop_limit = ip->ttl;
	m->src.d[0] = 0;
	m->src.w[2] = bpf_htonl(0xffff);
	m->src.w[3] = ip->saddr;
	m->dst.d[0] = 0;
	m->dst.w[2] = bpf_htonl(0xffff);
	m->dst.w[3] = ip->daddr;

	__u16 frag_off = bpf_ntohs(ip->frag_off);
	m->frag_proto = ip->protocol;
	if (frag_off & 0x1fff) {
		m->frag = PW_FRAG_LATER;
		m->frag_id = bpf_ntohs(ip->id);
		return PW_PARSE_IP;
	}
	if (frag_off & 0x2000) {
		m->frag = PW_FRAG_FIRST;
		m->frag_id = bpf_ntohs(ip->id);
	}
	return pw_parse_l4(data, data_end, off + ihl, tot - ihl, m);
}

static __always_inline int pw_parse_ipv6(void *data, void *data_end, __u32 beyond, __u32 off, struct pw_meta *m)
{
	struct ipv6hdr *ip6 = data + off;

	if ((void *)(ip6 + 1) > data_end)
		return PW_PARSE_MALFORMED;
	if (ip6->version != 6)
		return PW_PARSE_MALFORMED;

	__u32 plen = bpf_ntohs(ip6->payload_len);
	__u32 avail = (__u32)(data_end - data) + beyond - off - sizeof(*ip6);

	if (plen > avail)
		return PW_PARSE_MALFORMED;

	m->family = 6;
	m->hop_limit = ip6->hop_limit;
	__builtin_memcpy(m->src.b, &ip6->saddr, 16);
	__builtin_memcpy(m->dst.b, &ip6->daddr, 16);

	__u8 nexthdr = ip6->nexthdr;
	__u32 hoff = off + sizeof(*ip6); /* offset of the current header */
	__u32 end = hoff + plen;         /* end of the IPv6 payload */
	int done = 0;

	for (int i = 0; i < PW_IPV6_EXT_MAX + 1; i++) { /* verifier: bounded loop */
		if (hoff > PW_MAX_HDR_OFF) /* verifier: bound the variable offset */
			return PW_PARSE_MALFORMED;
		if (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
		    nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_AH) {
			struct pw_ext_hdr *eh = data + hoff;

			if (i == PW_IPV6_EXT_MAX) /* one header too many */
				return PW_PARSE_MALFORMED;
			if ((void *)(eh + 1) > data_end)
				return PW_PARSE_MALFORMED;
			/* The length of the header skipped here: AH counts 4-byte words less two
			 * (RFC 4302 2.2: 4 * len + 8 bytes), the others 8-byte words less one (RFC
			 * 8200 4.3: 8 * len + 8). Without a branch: no verifier state per kind. */
			__u32 shift = 3 - (nexthdr == IPPROTO_AH);

			nexthdr = eh->nexthdr;
			hoff += ((__u32)eh->hdrlen << shift) + 8;
		} else if (nexthdr == IPPROTO_FRAGMENT) {
			struct pw_frag_hdr *fh = data + hoff;

			if (i == PW_IPV6_EXT_MAX)
				return PW_PARSE_MALFORMED;
			if ((void *)(fh + 1) > data_end)
				return PW_PARSE_MALFORMED;
			__u16 fo = bpf_ntohs(fh->frag_off);
			nexthdr = fh->nexthdr;
			hoff += sizeof(*fh);
			m->frag_id = bpf_ntohl(fh->id);
			/* The next header is not in the key: only the first fragment's counts (RFC 8200
			 * 4.5), and Linux reassembles by (source, destination, id) alone. The key's proto
			 * byte repeats the id's low byte instead, the same in every fragment: a constant
			 * there would cost the verifier a state of its own (35k more instructions). */
			m->frag_proto = (__u8)m->frag_id;
			if (fo & 0xfff8) {
				m->frag = PW_FRAG_LATER;
				m->proto = nexthdr;
				return hoff > end ? PW_PARSE_MALFORMED : PW_PARSE_IP;
			}
			if (fo & 1)
				m->frag = PW_FRAG_FIRST;
		} else {
			done = 1;
			break;
		}
	}
	if (!done || hoff > end)
		return PW_PARSE_MALFORMED;
	m->proto = nexthdr;
	return pw_parse_l4(data, data_end, hoff, end - hoff, m);
}

/* Parses a whole frame into m. Returns a pw_parse_result. beyond: the frame's bytes past
 * data_end, which cannot be read directly but count for the IP length checks (0 at XDP; at TC
 * egress a TCP segment keeps its payload in page fragments, past the linear part: taken for a
 * truncated packet, it refreshed no flow). The headers read must all be before data_end. */
static __always_inline int pw_parse(void *data, void *data_end, __u32 beyond, struct pw_meta *m)
{
	__be16 proto;
	int off = pw_parse_eth(data, data_end, &proto);

	if (off >= 0 && proto == bpf_htons(ETH_P_PPP_SES))
		off = pw_parse_pppoe(data, data_end, off, &proto);
	if (off < 0)
		return PW_PARSE_MALFORMED;
	if (proto == bpf_htons(ETH_P_IP))
		return pw_parse_ipv4(data, data_end, beyond, off, m);
	if (proto == bpf_htons(ETH_P_IPV6))
		return pw_parse_ipv6(data, data_end, beyond, off, m);
	return PW_PARSE_NON_IP;
}

#endif /* PBXWALL_PARSE_H */
