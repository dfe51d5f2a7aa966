/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The kernel/userspace contract of pbxwall: map names, keys, values, enums and limits,
 * shared by bpf/pbxwall.bpf.c and every C++ component. Types, enums and names only.
 * Fixed-width __u* types, explicit padding, append-only enums: pinned maps outlive binaries. */
#ifndef PBXWALL_ABI_H
#define PBXWALL_ABI_H

#include <linux/types.h>

#ifdef __cplusplus
#define PW_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define PW_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

#define PW_PIN_DIR   "/sys/fs/bpf/pbxwall" /* default only: every tool takes --pin-dir */
#define PW_STATE_DIR "/var/lib/pbxwall"    /* default only: config key state_dir */

/* Kernel object names (at most 15 characters); each is also the file name of its pin. */
#define PW_MAP_NAME_GEN     "pw_gen"
#define PW_MAP_NAME_POLICY  "pw_policy"
#define PW_MAP_NAME_PORTS   "pw_ports"
#define PW_MAP_NAME_IFACES  "pw_ifaces"
#define PW_MAP_NAME_HOSTS4  "pw_hosts4"
#define PW_MAP_NAME_HOSTS6  "pw_hosts6"
#define PW_MAP_NAME_NETS    "pw_nets"
#define PW_MAP_NAME_NETS4   "pw_nets4"
#define PW_MAP_NAME_BANS    "pw_bans"
#define PW_MAP_NAME_FLOWS   "pw_flows"
#define PW_MAP_NAME_FRAGS   "pw_frags"
#define PW_MAP_NAME_STATS   "pw_stats"
#define PW_MAP_NAME_KNOWN   "pw_known"
#define PW_MAP_NAME_RATE    "pw_rate"
#define PW_MAP_NAME_NEWSRC  "pw_newsrc"
#define PW_MAP_NAME_EVENTS  "pw_events"
#define PW_MAP_NAME_FAILS   "pw_fails"
#define PW_MAP_NAME_SIPRULES "pw_siprules"
#define PW_PROG_NAME_XDP    "pw_xdp_main"
#define PW_PROG_NAME_EGRESS "pw_tc_egress"
#define PW_PROG_NAME_SIP    "pw_xdp_sip"
#define PW_MAP_NAME_STAGES  "pw_stages"
#define PW_MAP_NAME_HANDOFF "pw_handoff"

/* pw_stages: the programs pw_xdp_main tail-calls, by index. A program array, pinned (it empties
 * when its last user reference goes) and filled by libbpf when the object loads. pw_handoff:
 * the per-CPU state a stage takes over from pw_xdp_main (its layout is the data plane's own;
 * pinned so that every load of the object shares it). */
enum pw_stage {
	PW_STAGE_SIP = 0, /* pw_xdp_sip: SIP guards and responsive mode */
	PW_STAGE__COUNT,
};
#define PW_HANDOFF_BYTES 72

/* Zones, from most to least privileged. 0 means "not classified yet" (non-IP, malformed). */
enum pw_zone {
	PW_ZONE_NONE = 0,
	PW_ZONE_TRUSTED = 1,
	PW_ZONE_LOCAL = 2,
	PW_ZONE_OTHER = 3,
	PW_ZONE_INTERNET = 4,
	PW_ZONE_REJECT = 5,
	PW_ZONE__COUNT,
};
#define PW_ZONE_BIT(z) (1U << (z))

/* Why a packet got its verdict. Stable numbers: never renumber, retire as PW_REASON_UNUSED_n.
 * Numbers below PW_REASON_DROP_BASE pass, the others drop: the reason decides the action. */
enum pw_reason {
	PW_REASON_NON_IP = 0,         /* ARP, LLDP, ...: not judged */
	PW_REASON_TRUSTED = 1,        /* source in the trusted zone */
	PW_REASON_SERVICE = 2,        /* a service that allows the source's zone */
	PW_REASON_UNLISTED_PASS = 3,  /* no service names the port, unlisted_ports = "pass" */
	PW_REASON_ICMP = 4,           /* ICMP the network needs, or an allowed echo request */
	PW_REASON_REPLY = 5,          /* reply to a flow the host itself opened */
	PW_REASON_DHCP = 6,           /* DHCP / DHCPv6 server to client */
	PW_REASON_SIP_KNOWN = 7,      /* SIP from a known source (registered phone) within its ceiling */
	PW_REASON_SIP_RESPONSIVE = 8, /* SIP from an unknown internet source within its budget */
	PW_REASON_PASS__END,
	PW_REASON_DROP_BASE = 16,
	PW_REASON_MALFORMED = 16,      /* bad or truncated headers, too many VLAN tags or IPv6 ext headers */
	PW_REASON_MARTIAN = 17,        /* impossible source address */
	PW_REASON_REJECT = 18,         /* source in the reject zone */
	PW_REASON_BANNED = 19,         /* source under an active timed ban */
	PW_REASON_SERVICE_DENIED = 20, /* the service does not allow the source's zone */
	PW_REASON_UNLISTED_DROP = 21,  /* no service names the port, unlisted_ports = "drop" */
	PW_REASON_ICMP_DENIED = 22,    /* ICMP type not needed, or echo not allowed for the zone */
	PW_REASON_FRAGMENT_ORPHAN = 23, /* non-first fragment whose first fragment was not seen */
	PW_REASON_RATE_LIMITED = 24,   /* SIP over the source's budget (responsive mode) */
	PW_REASON_NOT_WHITELISTED = 25, /* SIP from an unknown internet source, responsive mode off */
	PW_REASON_NEW_SOURCE_LIMITED = 26, /* no state may be created for this new source now */
	PW_REASON_TRAP_PORT = 27,      /* a packet to a trap port: the source is banned */
	PW_REASON_MALFORMED_SIP = 28,  /* to a SIP port, but neither a request nor a status line */
	PW_REASON_ANONYMOUS_INVITE = 29, /* INVITE from a source neither trusted nor known */
	PW_REASON_SCANNER = 30,        /* a scanner's User-Agent or From signature: the source is banned */
	PW_REASON_TOLL_FRAUD = 31,     /* INVITE to an international prefix (or an unparseable R-URI) from a zone not allowed to dial out */
	PW_REASON_NO_STAGE = 32,       /* SIP that the SIP stage should judge, but the stage is missing (fail closed) */
	PW_REASON__END,
};
#define PW_REASON_SLOTS 48 /* room for later reasons without resizing the pinned counters */
#define PW_REASON_IS_DROP(r) ((r) >= PW_REASON_DROP_BASE)
PW_STATIC_ASSERT(PW_REASON_PASS__END <= PW_REASON_DROP_BASE, "pass reasons overflow");
PW_STATIC_ASSERT(PW_REASON__END <= PW_REASON_SLOTS, "reason slots");

/* Interfaces: counters are kept per interface slot. Slot 0 counts packets from interfaces
 * the policy does not name. The interface table is an array indexed by ifindex. */
#define PW_IFACE_SLOTS 32
#define PW_IFINDEX_LIMIT 65536

/* Two policy generations: a reload fills the inactive one completely, then flips pw_gen.
 * Every policy key carries its generation, so a packet always sees exactly one of them.
 * The host table has two halves of its own: an edit of the running policy (pbxwallctl) copies
 * the active half, edits the copy and flips `hosts` alone; a reload flips both at once. */
#define PW_GENERATIONS 2

struct pw_gen_state {
	__u32 active;     /* policy generation in bit 0; the host half in bits 1-2: pw_gen_active() */
	__u32 hosts;      /* half of pw_hosts4 and pw_hosts6 the data plane reads: 0 or 1 */
	__u32 host4_mask; /* buckets per half - 1 (a power of two - 1) */
	__u32 host6_mask;
	__u32 nets4_blocks; /* blocks per half of pw_nets4 */
	__u32 ban_half;     /* half of pw_banbits the data plane reads: 0 or 1 */
	__u32 banbit_mask;  /* bits per half of pw_banbits - 1 */
	__u32 rate_mask;    /* slots of pw_rate - 1 */
	__u32 known_half;   /* half of pw_knownbits the data plane reads: 0 or 1 */
	__u32 knownbit_mask; /* bits per half of pw_knownbits - 1; 0: no filter, pw_known answers */
	__u32 src4_built;   /* 1: half ban_half of pw_src4 is built; 0: every source is classified */
	__u32 host_shrink;  /* how far each host-table half is halved: pw_host_shrink() */
};
PW_STATIC_ASSERT(sizeof(struct pw_gen_state) == 48, "pw_gen_state ABI");

/* The data plane reads the generation and the host half from `active` alone (bit 0; bit 1, a
 * copy of `hosts`, valid with bit 2: PW_GEN_HOSTS_COPY): a reload changes both in one byte, so
 * no packet judges by one policy's generation and the other's host half (two fields read apart
 * could straddle the update). A build before the copy leaves bit 2 clear: `hosts` is read. */
#define PW_GEN_HOSTS_COPY 4U
static inline __u32 pw_gen_active(__u32 generation, __u32 hosts)
{
	return (generation & 1) | (hosts & 1) << 1 | PW_GEN_HOSTS_COPY;
}
static inline __u32 pw_gen_hosts_half(__u32 active, __u32 hosts)
{
	__u32 copy = (active >> 2) & 1;
	return (((active >> 1) & copy) | (hosts & (copy ^ 1))) & 1;
}

/* A host-table half holds as many buckets as its entries need, not always the whole half that
 * [limits] sized, so that a list of 100,000 entries is spread over 1 MiB, not the 8 MiB of a
 * million (the lookups of a hit then stay in the cache; in a VM the larger region cost the
 * reject path twice the time end to end). host_shrink holds, per table and half, how many times
 * the half's buckets are halved: the half uses buckets 0 .. (host4_mask >> shrink) (IPv6:
 * host6_mask). Bits 0-4: IPv4 half 0, 8-12: IPv4 half 1, 16-20: IPv6 half 0, 24-28: IPv6
 * half 1; 0 is the whole half (what a pbxwalld that predates this wrote). A half's bits are
 * written before the flip to it. Bit 31 (PW_HOST_SHRINK_ON), userspace only: halves may be
 * fitted. pbxwalld sets it when no program that predates this field uses the maps (it clears
 * it otherwise), and an older pbxwalld writes 0: pbxwallctl then keeps every half whole. */
#define PW_HOST_SHRINK_ON (1U << 31)
static inline __u32 pw_host_shrink(__u32 host_shrink, __u32 v6, __u32 half)
{
	return (host_shrink >> (8 * (2 * v6 + (half & 1)))) & 31;
}

enum pw_origin { /* bit flags: who named an entry */
	PW_ORIGIN_CONFIG = 1,
	PW_ORIGIN_CTL = 2,
};

/* Value of pw_nets and pw_ifaces (the host tables keep the same in a zone and a meta byte):
 * the zone the data plane uses, plus where it comes from. When the config file and pbxwallctl both name an entry, the pbxwallctl zone wins. */
struct pw_zone_entry {
	__u8 zone;     /* effective zone: ctl_zone if origin has CTL, else cfg_zone */
	__u8 origin;   /* enum pw_origin bits */
	__u8 cfg_zone; /* zone given by the config file (valid with PW_ORIGIN_CONFIG) */
	__u8 ctl_zone; /* zone given by pbxwallctl (valid with PW_ORIGIN_CTL) */
	__u8 slot;     /* pw_ifaces only: counter slot, 1..PW_IFACE_SLOTS-1 */
	__u8 pad[3];
};
PW_STATIC_ASSERT(sizeof(struct pw_zone_entry) == 8, "pw_zone_entry ABI");

/* All addresses are 16 bytes: IPv6 as is, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d).
 * IPv4-mapped sources are martians on the wire, so the two families never collide. */

/* pw_hosts4, pw_hosts6: the zones of single addresses, open-addressing hash tables in array
 * maps of one-cache-line buckets, so that a lookup is one inlined array access and (nearly
 * always) one cache line, whatever the number of entries. IPv4 keys are 4 bytes, so a million
 * IPv4 entries take 8 MiB per half and mostly stay in the last-level cache.
 *
 * Each map holds two halves; pw_gen_state.hosts names the half the data plane reads, and only
 * the other half is ever written. An address lives in the first bucket from its hash on
 * (linear probing, at most PW_HOST_PROBES buckets) that had a free slot when it was added; a
 * bucket an insertion had to pass because it was full carries PW_HOST_PASSED, and a lookup goes
 * on to the next bucket only past such a bucket. Userspace builds and edits the tables
 * (maps/host_table.hpp) through a memory mapping (BPF_F_MMAPABLE). */
#define PW_HOST4_SLOTS 10
#define PW_HOST6_SLOTS 3
#define PW_HOST_PROBES 32
#define PW_HOST_PASSED (1U << 31) /* flags: an insertion passed this bucket because it was full */

struct pw_host4_bucket {
	__u32 addr[PW_HOST4_SLOTS]; /* IPv4 address, network order */
	__u8 zone[PW_HOST4_SLOTS];  /* the zone the data plane uses */
	__u8 meta[PW_HOST4_SLOTS];  /* userspace only: PW_HOST_META(origin, cfg_zone, ctl_zone) */
	__u32 flags;                /* bit s: slot s is in use; PW_HOST_PASSED */
};
PW_STATIC_ASSERT(sizeof(struct pw_host4_bucket) == 64, "pw_host4_bucket ABI");

/* pw_hostbits4: a summary of pw_hosts4, so that a source in no IPv4 host entry (nearly all the
 * internet) costs one read of a small, mostly cached table instead of a bucket of a large one.
 * Two 64-bit words per bucket of a half (the same halves as pw_hosts4, named by
 * pw_gen_state.hosts): every entry sets, in the two words of its home bucket (the bucket its
 * hash names, wherever probing put it), bit pw_hostbit4_bit(h) of word pw_hostbit4_word(h). A
 * clear bit means no entry; a set bit sends the lookup on to the buckets. Userspace rebuilds
 * a half's summary from the half before every flip to it. */
#define PW_MAP_NAME_HOSTBITS4 "pw_hostbits4"
static inline __u32 pw_hostbit4_word(__u64 h, __u32 host4_mask)
{
	return ((__u32)h & host4_mask) * 2 + (__u32)((h >> 46) & 1);
}
static inline __u64 pw_hostbit4_bit(__u64 h)
{
	return 1ULL << ((h >> 40) & 63);
}

struct pw_host6_bucket {
	__u64 addr[PW_HOST6_SLOTS][2]; /* the 16 address bytes as two native-endian u64 */
	__u8 zone[PW_HOST6_SLOTS];
	__u8 meta[PW_HOST6_SLOTS];
	__u8 pad[6];
	__u32 flags;
};
PW_STATIC_ASSERT(sizeof(struct pw_host6_bucket) == 64, "pw_host6_bucket ABI");

/* Where an entry comes from (pw_zone_entry's origin, cfg_zone, ctl_zone) in one byte. */
#define PW_HOST_META(origin, cfg, ctl) ((__u8)(((origin) & 3) | (((cfg) & 7) << 2) | (((ctl) & 7) << 5)))

/* Buckets per half for a number of entries: a power of two, at least 16, with room for
 * `entries` at a load of at most 80% (IPv4, 10 slots) or 2/3 (IPv6, 3 slots). */
static inline __u32 pw_host_buckets(__u32 entries, __u32 slots)
{
	__u64 want = slots == PW_HOST4_SLOTS ? ((__u64)entries + 7) / 8 : ((__u64)entries + 1) / 2;
	__u32 b = 16;

	while (b < want && b < (1U << 28))
		b <<= 1;
	return b;
}

/* Bucket of an address (before masking): a 64-bit finalizer (every input bit reaches the
 * low bits), so that addresses which differ in a single octet spread. Userspace and the data
 * plane agree bit for bit. */
static inline __u64 pw_host_hash(__u64 hi, __u64 lo)
{
	__u64 x = lo ^ (hi * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline __u64 pw_host4_hash(__u32 addr)
{
	return pw_host_hash(0, addr);
}

/* pw_nets4: the zones of IPv4 prefixes as a multibit trie with leaf pushing, so that a source
 * is classified by 1 to 5 inlined array reads (a /24 prefix: 3), never by a walk of the LPM trie.
 * Level 0 has one entry per /16 (PW_NET4_TOP entries); every further level is a 16-entry chunk
 * (one block, one cache line) for the next 4 bits. An entry is a zone (0: none) or
 * PW_NET4_CHUNK | chunk number. Userspace builds it from the prefixes (pw_nets keeps them, with
 * their origin, for listing and for IPv6); two halves like the host tables, pw_gen_state.hosts
 * names the active one. A half: PW_NET4_TOP / 16 blocks of level 0, then the chunks. */
#define PW_NET4_TOP   65536
#define PW_NET4_CHUNK (1U << 31)
struct pw_net4_block {
	__u32 e[16];
};
PW_STATIC_ASSERT(sizeof(struct pw_net4_block) == 64, "pw_net4_block ABI");

/* Chunks per half for a [limits] nets value: two per prefix (a /24 needs a /20 chunk and a
 * /24 chunk) plus a margin; longer prefixes that share no chunks can need more (then the
 * policy is refused with an error that says so). */
static inline __u32 pw_net4_chunks(__u32 nets)
{
	__u64 c = 2 * (__u64)nets + 64;

	return c > (1U << 26) ? (1U << 26) : (__u32)c;
}

struct pw_net_key {
	__u32 prefixlen; /* 32 (generation) + prefix length in the 128-bit address */
	__u32 gen;
	__u8 addr[16];
};
PW_STATIC_ASSERT(sizeof(struct pw_net_key) == 24, "pw_net_key ABI");
#define PW_NET_GEN_BITS 32

/* pw_ports: array indexed by ((gen * 2 + proto) << 16) | port. */
enum pw_l4 {
	PW_L4_TCP = 0,
	PW_L4_UDP = 1,
	PW_L4__COUNT,
};
#define PW_PORTS_ENTRIES (PW_GENERATIONS * PW_L4__COUNT * 65536)
struct pw_port {
	__u8 service; /* 0: no service names this port; else service number (1-based) */
	__u8 zones;   /* PW_ZONE_BIT() set of zones the service allows */
	__u8 flags;   /* PW_PORT_* */
	__u8 pad;
};
#define PW_PORT_TRAP 1 /* any packet from a non-trusted source bans it */
PW_STATIC_ASSERT(sizeof(struct pw_port) == 4, "pw_port ABI");
#define PW_SERVICES_MAX 255

/* pw_policy: array of PW_GENERATIONS. */
enum pw_unlisted {
	PW_UNLISTED_DROP = 0,
	PW_UNLISTED_PASS = 1,
};
struct pw_policy {
	__u8 unlisted;   /* enum pw_unlisted */
	__u8 echo_zones; /* PW_ZONE_BIT() set of zones whose echo requests pass */
	__u8 has_nets;   /* non-zero when pw_nets holds entries of this generation */
	__u8 pad;
	__u32 host_count; /* entries of this generation in pw_hosts (kept by userspace) */
	__u32 net_count;  /* entries of this generation in pw_nets (kept by userspace) */
	/* Responsive mode: SIP from unknown internet sources, per-source GCRA budgets. */
	__u8 responsive;  /* 1: unknown internet sources may send SIP within a budget */
	__u8 sip_service; /* service number of the service named "sip"; 0: none */
	__u8 v6_prefix;   /* IPv6 sources share a budget per prefix of this length */
	__u8 pad2;
	__u32 burst;      /* packets allowed back to back on top of the steady rate */
	__u32 ban_after;  /* over-budget drops within ban_window_ns that ban; 0: never */
	__u64 interval_ns;        /* one SIP packet per interval from an unknown source */
	__u64 known_interval_ns;  /* one SIP packet per interval from a known source */
	__u64 ban_ns;             /* duration of the bans the data plane sets */
	__u64 ban_window_ns;
	__u64 newsrc_interval_ns; /* all CPUs together: one new source's state per interval */
	__u64 known_ns;           /* how long a source stays known after a 200 OK to REGISTER */
	__u32 known_burst;        /* back-to-back packets of a known source: one second's worth */
	__u32 max_failures;       /* failed authentications within ban_window_ns that ban; 0: never */
	__u32 challenge_allowance; /* 401/407 challenges per window that are not failures */
	__u32 pad4;
	__u8 reserved[40];
};
PW_STATIC_ASSERT(sizeof(struct pw_policy) == 128, "pw_policy ABI");

/* pw_banbits: a one-hash Bloom filter in front of pw_bans, so that a source without a ban
 * costs one inlined read of a cache-hot bitmap instead of a hash lookup. Bit
 * pw_host_hash(address) & banbit_mask is set for every banned address, in both halves, by
 * whoever writes the ban (the data plane, pbxwallctl, pbxwalld's restore); a set bit only sends
 * the packet on to pw_bans. Bits of lifted and expired bans are cleared by pbxwalld's sweep,
 * which clears the inactive half, sets the bits of the bans still there, and flips ban_half
 * (a ban the data plane adds meanwhile sets its bit after the clear: never lost). */
#define PW_MAP_NAME_BANBITS "pw_banbits"
/* 64-bit words per half for a [limits] bans value: 16 bits per ban (at most ~6% of unbanned
 * sources go on to pw_bans when the table is full), a power of two, at least 1024. */
static inline __u32 pw_banbit_words(__u32 bans)
{
	__u32 w = 1024;

	while (w < bans / 4 && w < (1U << 26))
		w <<= 1;
	return w;
}

/* pw_src4: where the IPv4 policy lives, one bit per /24 (2^24 bits: 2 MiB per half), so that a
 * source from a /24 that holds no zone entry and no ban, nearly all of the internet, is in its
 * interface's zone and unbanned after one inlined read, instead of the host summary, the prefix
 * walk and the ban filter (three reads, two of them of lines hashed apart). Neighbouring /24s
 * share a word, so a scan or a flood from one network keeps touching the same lines. Bit
 * pw_src4_bit(a) of word pw_src4_word(a), a in host order, is set when a host entry of any zone
 * is in the /24, a prefix of any zone overlaps it, or an address in it is banned. Two halves,
 * named by ban_half and flipped with the ban filter (PolicyStore::refreshBanFilter): the inactive
 * half is cleared and rebuilt from the host and prefix tables and from pw_bans. A change of the
 * zones builds it from the old and the new host half before `hosts` flips, so the active half
 * covers whatever tables the data plane reads. Whoever writes a ban sets its bit in both halves
 * after the ban is in pw_bans, as for pw_banbits. A stale bit (a lifted ban, a deleted entry)
 * only sends its /24 through the full classification until the next rebuild. */
#define PW_MAP_NAME_SRC4 "pw_src4"
#define PW_SRC4_WORDS (1U << 18) /* per half */
static inline __u32 pw_src4_word(__u32 addr)
{
	return addr >> 14;
}
static inline __u64 pw_src4_bit(__u32 addr)
{
	return 1ULL << ((addr >> 8) & 63);
}

/* pw_bancache: the bans as plain arrays, so that a banned source costs one inlined read of a
 * cache line (touched ahead with the filter word) instead of a hash walk, a helper call and two
 * dependent misses in pw_bans. Two halves; half ban_half is read, flipped with the filter. Only
 * pbxwalld and pbxwallctl write it, under the pin lock, and only the inactive half: rebuilt from
 * pw_bans (PolicyStore::refreshBanFilter) after every change they make, and by pbxwalld soon
 * after the data plane sets bans. The table stays the record: a source the cache does not hold
 * (a bucket overflowed, a ban set since the last rebuild) or holds as expired is looked up in
 * pw_bans, so the cache only makes a hit cheaper, never changes a verdict. Bucket
 * (h & banbit_mask) >> 5 of a half, with h = pw_host_hash(address): the filter bits of 32
 * addresses share one bucket, so there are two buckets per filter word. */
#define PW_MAP_NAME_BANCACHE "pw_bancache"
#define PW_BANCACHE_WAYS 3
/* `until`: expires_ns >> PW_BANCACHE_SHIFT rounded down (a ban leaves the cache up to 1.07 s
 * before it ends and is judged by pw_bans for that last second: never too long); 0: empty
 * slot; PW_BANCACHE_FOREVER: never expires. */
#define PW_BANCACHE_SHIFT 30
#define PW_BANCACHE_FOREVER 0xffffffffU
struct pw_bancache_bucket {
	__u32 until[PW_BANCACHE_WAYS];
	__u32 pad;
	__u64 addr[PW_BANCACHE_WAYS][2]; /* the address's 16 bytes as two words in memory order */
};
PW_STATIC_ASSERT(sizeof(struct pw_bancache_bucket) == 64, "pw_bancache_bucket ABI");
static inline __u32 pw_bancache_buckets(__u32 bans)
{
	return 2 * pw_banbit_words(bans);
}

/* pw_bans: hash keyed by address (no generation: bans are not config). Never LRU. A ban is of
 * one address (prefix 0), or of an IPv6 prefix (prefix 48..127, the key the address masked to
 * it): the data plane bans an internet source's IPv6 /v6_prefix, as its budget is kept per
 * prefix, so that a host with a /64 cannot fill the table with a ban per address (sources of
 * the zones the config names are banned by address). A prefix ban spares the sources in it
 * that are known (registered phones beside the offender). The key of a prefix ban is also
 * that of its prefix's first address, whose exact ban it replaces; the exact probe and the
 * ban cache ignore prefix bans. */
struct pw_ban_key {
	__u8 addr[16];
};
enum pw_ban_cause {
	PW_BAN_MANUAL = 0,     /* pbxwallctl ban add */
	PW_BAN_RATE_LIMIT = 1, /* kept exceeding its SIP budget */
	PW_BAN_TRAP_PORT = 2,  /* touched a trap port */
	PW_BAN_AUTH_FAILURE = 3, /* the PBX answered it 401/407 (beyond the allowance), 403 or 404 too often */
	PW_BAN_SCANNER = 4,    /* sent a request with a scanner's signature */
	PW_BAN__COUNT,
};
struct pw_ban {
	__u64 expires_ns; /* CLOCK_MONOTONIC; 0 = never expires */
	__u64 created_ns; /* CLOCK_MONOTONIC */
	__u32 cause;      /* enum pw_ban_cause */
	__u8 prefix;      /* 0: the key's address; else the length of the IPv6 prefix banned */
	__u8 pad[3];
};
PW_STATIC_ASSERT(sizeof(struct pw_ban) == 24, "pw_ban ABI");

/* pw_knownbits: a one-hash Bloom filter in front of pw_known, laid out like pw_banbits (bit
 * pw_host_hash(address) & knownbit_mask of a half, pw_banbit_words([limits] known) words per
 * half), so that the SIP of an unknown source, nearly all of a flood, costs an inlined bit read
 * instead of a helper call into the hash. Whoever adds a known source sets its bit in both
 * halves after the entry is in pw_known (pw_tc_egress on a 200 OK to REGISTER, pbxwallctl known
 * add). pbxwalld's sweep, its start and pbxwallctl known del rebuild the inactive half from
 * pw_known, flip known_half to it, then set the bits of every entry pw_known holds once more:
 * an entry the data plane added during the rebuild is never hidden. */
#define PW_MAP_NAME_KNOWNBITS "pw_knownbits"

/* pw_known: sources the PBX accepted (200 OK to a REGISTER), by exact address. Never LRU. */
struct pw_known {
	__u64 expires_ns; /* CLOCK_MONOTONIC */
	__u64 created_ns;
	__u64 tat_ns;     /* the known source's own SIP budget (GCRA), apart from pw_rate */
};
PW_STATIC_ASSERT(sizeof(struct pw_known) == 24, "pw_known ABI");

/* pw_rate: per-source SIP budgets (GCRA), keyed by the address masked to its budget prefix, in
 * a four-way set-associative cache with two choices: an array map (mmapable for listing) of a
 * power of two of 64-byte slots (one cache line each), then a tag region of 16 bits per slot. A
 * key lives in one of two buckets of PW_RATE_WAYS slots, pw_rate_bucket(hash, rate_mask, 0) or
 * (..., 1), with hash = pw_host_hash(key) and rate_mask in pw_gen_state, in any of its slots,
 * and the slot's tag holds (hash >> 48) | 1 (0: empty). A lookup reads the two buckets' tags
 * (one word each, in one line: the region is 1/32 of the table, so it mostly stays in cache),
 * and a slot only where its tag matches: a source with no budget costs no miss in the big
 * table. A new budget takes an empty slot of the bucket with more of them (the first on a tie),
 * else the slot used least recently (the earliest limit in its lane, below) of one of the two,
 * picked by bit 1 of the tag (one lane line read, no slot line). With one bucket per key, 100,000 sources sending
 * in turn into the default 262,144 slots lost ~7% of their budgets every round (buckets of five
 * or more keys); with two, 0-4 of them (simulated: about 0.1% at 150,000, 3% at 200,000).
 * The data plane reads and writes it inline, no helper call; creation is gated by pw_newsrc,
 * so a spoofed flood churns it slowly. Losing an entry only resets a budget. */
struct pw_rate {
	__u8 addr[16];         /* the key */
	__u64 tat_ns;          /* theoretical arrival time of the next conforming packet */
	__u64 strikes_from_ns; /* start of the current over-budget window */
	__u32 strikes;         /* over-budget drops since strikes_from_ns */
	__u32 used;            /* 1: the slot holds a budget */
	__u8 pad[24];
};
PW_STATIC_ASSERT(sizeof(struct pw_rate) == 64, "pw_rate ABI");
#define PW_RATE_TAGS_PER_BLOCK 32 /* 16-bit tags in a 64-byte entry of the tag region */
#define PW_RATE_WAYS 4
/* Slots for a [limits] rate value: a power of two, at least 1024. */
static inline __u32 pw_rate_slots(__u32 rate)
{
	__u32 n = 1024;

	while (n < rate && n < (1U << 26))
		n <<= 1;
	return n;
}
/* The first slot of bucket `which` (0 or 1) of a key whose pw_host_hash is h. The second is
 * another of the eight buckets whose tags share the first's 64-byte line (1 to 7 buckets away,
 * by bits 24-39 of the hash), so a lookup that reads both reads one tag line. */
#define PW_RATE_BUCKETS_PER_BLOCK (PW_RATE_TAGS_PER_BLOCK / PW_RATE_WAYS)
static inline __u32 pw_rate_bucket(__u64 h, __u32 rate_mask, __u32 which)
{
	__u32 b = (__u32)h & rate_mask & ~(__u32)(PW_RATE_WAYS - 1);
	__u32 x = 1 + ((((__u32)(h >> 24) & 0xffff) * (PW_RATE_BUCKETS_PER_BLOCK - 1)) >> 16);

	return which ? b ^ (x * PW_RATE_WAYS) : b;
}
/* After the tags, the limit region: one 32-bit lane per slot, so that a source over its budget
 * is told from a small region (1/16 of the table: 1 MiB at the default [limits] rate) without
 * reading its slot, a random line of the big one. A lane holds (check << 24) | limit: check is
 * bits 40-47 of the key's hash (with the tag's 16 and the bucket's, 24 bits and more tell keys
 * apart), limit the instant from which the slot's key conforms again (tat_ns less the burst's
 * allowance) in units of 2^PW_RATE_LIMIT_SHIFT ns, rounded down, modulo 2^24 (52 days). The data
 * plane writes a slot's lane with every change of its tat_ns. A lane proves a key over its
 * budget when its check and its slot's tag match and its limit is 1 to pw_rate_limit_span()
 * units ahead of now: then the key cannot conform until later, whatever the slot holds; any
 * other lane sends the lookup on to the slot. The budget's listing (RateTable) reads the slots
 * only. */
#define PW_RATE_LANES_PER_BLOCK 16
#define PW_RATE_LIMIT_SHIFT 28 /* 0.27 s */
#define PW_RATE_LIMIT_MASK 0xffffffU
static inline __u32 pw_rate_check(__u64 h)
{
	return (__u32)(h >> 40) & 0xff;
}
static inline __u32 pw_rate_lane(__u32 check, __u64 limit_ns)
{
	return check << 24 | ((__u32)(limit_ns >> PW_RATE_LIMIT_SHIFT) & PW_RATE_LIMIT_MASK);
}
/* The farthest a limit can be ahead of now, in lane units: after a conforming packet at `now`,
 * tat_ns is at most now + (burst + 1) * interval, so the limit is at most now + interval. */
static inline __u32 pw_rate_limit_span(__u64 interval_ns)
{
	return (__u32)(interval_ns >> PW_RATE_LIMIT_SHIFT) + 2;
}
/* The pw_rate entry (64-byte line) that holds slot i's lane, for a table of that many slots. */
static inline __u32 pw_rate_lane_entry(__u32 slots, __u32 i)
{
	return slots + slots / PW_RATE_TAGS_PER_BLOCK + i / PW_RATE_LANES_PER_BLOCK;
}
/* Entries of the pw_rate map for that many slots: the slots, their tags, their lanes. */
static inline __u32 pw_rate_entries(__u32 slots)
{
	return slots + slots / PW_RATE_TAGS_PER_BLOCK + slots / PW_RATE_LANES_PER_BLOCK;
}

/* pw_fails: failure counts from the PBX's answers (TC egress), keyed by the peer's address, or an
 * internet peer's IPv6 /v6_prefix. LRU: losing one resets a count (and a prefix's strike). */
struct pw_fail {
	__u64 from_ns;    /* start of the current window */
	__u32 failures;   /* 403, 404, and 401/407 beyond the allowance */
	__u32 challenges; /* 401/407; a success resets them (not the failures: they end with the window) */
	__u64 struck_ns;  /* a prefix's count: when it last banned one address of it (0: never) */
	__u8 top[16];     /* a prefix's count: the address with most of its failures, by a majority */
	__u32 top_count, pad; /* vote (+1 for a failure of top's, -1 for another's) */
};
PW_STATIC_ASSERT(sizeof(struct pw_fail) == 48, "pw_fail ABI");

/* pw_siprules: array indexed by generation, the SIP payload rules of that generation.
 * Signatures are searched case-insensitively in the values of the User-Agent and From ("f")
 * headers. The data plane hashes the three bytes at every second position of a value into a
 * 4096-bit filter that holds, for each signature, the hashes of its bytes gram..gram+2 and
 * gram+1..gram+3 (so an occurrence at any position meets a tested one). Userspace picks gram
 * away from what every SIP value holds ("sip:", digits and dots of addresses), so that a set
 * bit, which leads to a full comparison, is rare in clean traffic. */
#define PW_SIG_MAX 16
#define PW_SIG_LEN 32
#define PW_SIG_MIN_LEN 4
#define PW_SIG_FILTER_BITS 4096
#define PW_SIG_HASH_MUL 2654435761U
/* Hash of three value bytes (the low 24 bits of a little-endian load, every byte OR 0x20 so
 * letters compare without case), into PW_SIG_FILTER_BITS. */
#define PW_SIG_HASH(w) (((((__u32)(w) & 0xffffffU) | 0x202020U) * PW_SIG_HASH_MUL) >> 20)
enum pw_sig_where { /* bit flags */
	PW_SIG_USER_AGENT = 1,
	PW_SIG_FROM = 2,
};
struct pw_sig {
	__u8 text[PW_SIG_LEN]; /* ASCII, lower case, zero after len (compared 8 bytes at a time) */
	__u8 len;   /* PW_SIG_MIN_LEN..PW_SIG_LEN */
	__u8 where; /* enum pw_sig_where bits */
	__u8 gram;  /* offset of the bytes the filter holds: gram..gram+2 and gram+1..gram+3 */
	__u8 pad[5];
};
PW_STATIC_ASSERT(sizeof(struct pw_sig) == 40, "pw_sig ABI");
/* Toll-fraud prefixes: up to 8 characters of [0-9+*#], packed first character in the low
 * byte, compared with the R-URI user part's first characters after unescaping. */
#define PW_TOLL_MAX 8
#define PW_TOLL_LEN 8
struct pw_sip_rules {
	__u8 sig_count;      /* entries of sigs in use */
	__u8 toll_count;     /* entries of toll in use */
	__u8 dial_out_zones; /* PW_ZONE_BIT() set of zones that may dial toll prefixes (trusted always may) */
	__u8 scanner_ban;    /* 1: a signature match bans the source too */
	__u32 clean_key;     /* random per build of these rules: keys pw_sigclean's hashes; 0: no cache */
	__u64 toll[PW_TOLL_MAX];
	__u64 toll_mask[PW_TOLL_MAX];
	__u64 filter[PW_SIG_FILTER_BITS / 64];
	struct pw_sig sigs[PW_SIG_MAX];
};
PW_STATIC_ASSERT(sizeof(struct pw_sip_rules) == 8 + 128 + 512 + 640, "pw_sip_rules ABI");

/* pw_sigclean: per CPU, values (User-Agent, From) the signature search found clean, by a hash
 * of their bytes keyed with the rules' clean_key, User-Agent values in the first half of the
 * entries and From values in the second. A value found here skips the search; an
 * entry of other rules (another key) is not one. Only values that end within the datagram and
 * went through the whole search without a match are put in. */
#define PW_SIGCLEAN_ENTRIES 256
struct pw_sigclean {
	__u64 hash;
	__u32 key;     /* the clean_key of the rules that found it clean */
	__u32 pending; /* during a search: the key to store if it ends clean (0: none) */
};

/* pw_newsrc: GCRA state of the aggregate new-source budget (index 0), shared by all CPUs and
 * moved on with an atomic compare-and-swap. */
struct pw_newsrc {
	__u64 tat_ns;
};

/* pw_events: ring buffer of what the data plane decided on its own, logged by pbxwalld. */
enum pw_event_type {
	PW_EVENT_BAN = 1,      /* a ban was set: cause, duration */
	PW_EVENT_BAN_FULL = 2, /* a ban could not be set: pw_bans is full */
	PW_EVENT_KNOWN = 3,    /* a source became known (not sent for a refresh): duration */
	PW_EVENT_KNOWN_FULL = 4, /* a source could not become known: pw_known is full */
};
struct pw_event {
	__u64 ts_ns;
	__u8 addr[16];
	__u16 type;  /* enum pw_event_type */
	__u8 prefix; /* PW_EVENT_BAN(_FULL): as pw_ban's (addr is then the prefix) */
	__u8 pad;
	__u32 cause; /* enum pw_ban_cause */
	__u64 duration_ns;
};
PW_STATIC_ASSERT(sizeof(struct pw_event) == 40, "pw_event ABI");
#define PW_EVENTS_BYTES (256 * 1024)

/* pw_flows: flows the host opened, recorded at TC egress, looked up reversed at ingress. */
struct pw_flow_key {
	__u8 local[16];
	__u8 remote[16];
	__u16 local_port;  /* network order; ICMP echo: the identifier */
	__u16 remote_port; /* network order; ICMP echo: 0 */
	__u8 proto;        /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP or IPPROTO_ICMPV6 */
	__u8 pad[3];
};
PW_STATIC_ASSERT(sizeof(struct pw_flow_key) == 40, "pw_flow_key ABI");
struct pw_flow {
	__u64 seen_ns; /* CLOCK_MONOTONIC of the last egress packet */
};
#define PW_FLOW_TIMEOUT_UDP_NS  (180ULL * 1000000000ULL)
#define PW_FLOW_TIMEOUT_TCP_NS  (7200ULL * 1000000000ULL)
#define PW_FLOW_TIMEOUT_ICMP_NS (30ULL * 1000000000ULL)

/* pw_frags: the verdict of a first fragment, applied to the fragments that follow. */
struct pw_frag_key {
	__u8 src[16];
	__u8 dst[16];
	__u32 id; /* IPv4: 16-bit identification; IPv6: fragment header identification */
	__u8 proto;
	__u8 pad[3];
};
PW_STATIC_ASSERT(sizeof(struct pw_frag_key) == 40, "pw_frag_key ABI");
struct pw_frag {
	__u64 seen_ns;
	__u8 reason; /* the first fragment's reason; the action follows from it */
	__u8 pad[7];
};
PW_STATIC_ASSERT(sizeof(struct pw_frag) == 16, "pw_frag ABI");
#define PW_FRAG_TIMEOUT_NS (30ULL * 1000000000ULL) /* as net.ipv4.ipfrag_time */

/* pw_stats: per-CPU array indexed by (slot * PW_ZONE__COUNT + zone) * PW_REASON_SLOTS + reason. */
struct pw_counter {
	__u64 packets;
	__u64 bytes;
};
PW_STATIC_ASSERT(sizeof(struct pw_counter) == 16, "pw_counter ABI");
#define PW_STATS_ENTRIES (PW_IFACE_SLOTS * PW_ZONE__COUNT * PW_REASON_SLOTS)

#define PW_VLAN_MAX 2     /* parser bounds (verifier and policy): deeper stacks drop as malformed */
#define PW_IPV6_EXT_MAX 6

/* Default table sizes (config [limits] overrides). Hash and trie hold both generations. */
#define PW_DEFAULT_HOSTS   1048576
#define PW_DEFAULT_HOSTS6  131072
#define PW_DEFAULT_NETS    65536
#define PW_DEFAULT_BANS    131072
#define PW_DEFAULT_FLOWS   65536
#define PW_DEFAULT_FRAGS   8192
#define PW_DEFAULT_KNOWN   65536
#define PW_DEFAULT_RATE    262144
#define PW_DEFAULT_FAILS   65536

#endif /* PBXWALL_ABI_H */
