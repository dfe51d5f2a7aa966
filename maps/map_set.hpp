// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The set of pbxwall maps, typed, opened from a pin directory (pbxwallctl, a restarted
// pbxwalld) or borrowed from a loaded bpf_object (pbxwalld, the BPF fixtures).
#pragma once

#include "ban_table.hpp"
#include "known_table.hpp"
#include "host_table.hpp"
#include "map.hpp"
#include "net4_table.hpp"
#include "pbxwall_abi.h"
#include "rate_table.hpp"
#include "src4_map.hpp"

#include <string>
#include <vector>

struct btf;

struct bpf_object;

namespace pbxwall {

struct MapSet {
    TypedMap<__u32, pw_gen_state> gen;
    TypedMap<__u32, pw_policy> policy;
    TypedMap<__u32, pw_port> ports;
    TypedMap<__u32, pw_zone_entry> ifaces;
    Host4Table hosts4; // mapped into this process
    MappedHalves hostbits4; // pw_hostbits4: the summary of hosts4, two words per bucket
    Host6Table hosts6;
    Net4Table nets4;
    TypedMap<pw_net_key, pw_zone_entry> nets;
    BanTable bans; // with its filter pw_banbits
    Src4Map src4;  // pw_src4: the /24s of zone entries and bans (shared with bans)
    TypedMap<pw_flow_key, pw_flow> flows;
    TypedMap<pw_frag_key, pw_frag> frags;
    KnownTable known; // with its filter pw_knownbits
    RateTable rate; // mapped into this process, read only
    TypedMap<pw_ban_key, pw_fail> fails;
    TypedMap<__u32, pw_sip_rules> siprules;
    int newsrcFd = -1; // array of one, shared by all CPUs
    int statsFd = -1;  // per-CPU array
    int eventsFd = -1; // ring buffer

    std::vector<UniqueFd> owned; // set when opened from pins

    // Opens every map pinned under pinDir. Throws std::system_error naming the missing or
    // unreadable pin (EACCES/EPERM: not root).
    static MapSet openPinned(const std::string& pinDir);
    // Borrows the maps of a loaded object; the object must outlive the MapSet.
    static MapSet fromObject(bpf_object* obj);

    __u32 activeGen() const;
    __u32 hostsCapacity() const; // per generation, IPv4 + IPv6
    __u32 netsCapacity() const;  // per generation
    __u32 bansCapacity() const;
    __u32 knownCapacity() const;
};

// Names of every pinned map, in ABI order.
const std::vector<std::string>& pinnedMapNames();

// Whether the BTF of a pbxwall object or program gives struct pw_gen_state the member
// host_shrink: a program built before it reads every host-table half whole, so the tables
// must stay whole while one is attached (PolicyStore::allowHostShrink). False without BTF.
bool btfReadsHostShrink(const struct btf* b);

} // namespace pbxwall
