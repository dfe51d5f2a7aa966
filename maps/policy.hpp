// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Policy operations on the maps: installing a complete policy as a new generation (atomic
// for the data plane), and the run-time edits pbxwallctl makes to the active generation.
#pragma once

#include "addr.hpp"
#include "map_set.hpp"
#include "net4_table.hpp"

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace pbxwall {

// The zone of an entry named by the config file and/or pbxwallctl: pbxwallctl wins.
pw_zone_entry makeZoneEntry(std::optional<pw_zone> cfgZone, std::optional<pw_zone> ctlZone, __u8 slot = 0);

struct ZoneRecord {
    Cidr cidr;
    pw_zone_entry entry;
};

struct IfaceRecord {
    __u32 ifindex = 0;
    pw_zone_entry entry{};
};

// A complete policy, as one generation holds it.
struct PolicyImage {
    pw_policy settings{};
    pw_sip_rules sipRules{};
    std::vector<pw_port> tcp = std::vector<pw_port>(65536); // index: destination port
    std::vector<pw_port> udp = std::vector<pw_port>(65536);
    std::vector<IfaceRecord> ifaces;
    std::map<Cidr, pw_zone_entry> addrs; // hosts and prefixes
};

class PolicyStore {
public:
    explicit PolicyStore(MapSet& maps) : maps_(maps) {}

    // Fills the inactive generation with img, flips pw_gen, then clears the old generation.
    // Throws (before the flip, leaving the running policy untouched) when img does not fit.
    void install(const PolicyImage& img);

    // The active generation's address entries, hosts first then prefixes.
    std::vector<ZoneRecord> zones() const;
    std::optional<pw_zone_entry> zone(const Cidr& cidr) const;
    // The rule that decides an address's zone as the data plane finds it: its host entry, else
    // the longest prefix of its own family that holds it (an IPv6 prefix such as ::/0 never
    // covers an IPv4 address); nothing when no rule names it (the interface's zone applies).
    std::optional<std::pair<Cidr, pw_zone_entry>> rule(const Addr& a) const;
    std::optional<pw_zone_entry> match(const Addr& a) const;
    // Writes or removes entries of the active generation. setZones checks the capacity
    // first and writes nothing when the entries do not fit.
    void setZone(const Cidr& cidr, const pw_zone_entry& entry);
    void setZones(const std::vector<ZoneRecord>& records);
    void eraseZone(const Cidr& cidr);
    // Removes every CIDR of cidrs that is there (the others are ignored) with one copy of the
    // tables and one flip: the data plane sees all of them go at once, or (IPv6 prefixes)
    // just before.
    void eraseZones(const std::vector<Cidr>& cidrs);
    size_t hostCount() const; // entries of the active generation
    std::pair<size_t, size_t> hostCounts() const; // IPv4, IPv6 entries, counted in the tables
    size_t netCount() const;

    std::vector<IfaceRecord> ifaces() const; // active generation, configured ones
    void setIface(__u32 ifindex, const pw_zone_entry& entry);
    __u8 freeIfaceSlot() const; // 0 when every slot is taken

    pw_policy settings() const;

    // Makes the ban filter, the ban cache and the /24 summary match pw_bans and the active zone
    // tables (under the pin lock: pbxwallctl after every ban change, pbxwalld after bans the data
    // plane set and in its sweep): rebuilds the inactive halves of pw_banbits, pw_bancache and
    // pw_src4 and flips to them. Returns the bans the cache could not hold (full buckets: pw_bans
    // still answers for them).
    size_t refreshBanFilter();
    // Drops the filter bits of sources no longer in pw_known (pbxwalld's start and sweep,
    // pbxwallctl known del; under the pin lock): rebuilds the inactive half of pw_knownbits and
    // flips to it.
    void refreshKnownFilter();

    // Whether host-table halves may be smaller than [limits] made them (PW_HOST_SHRINK_ON):
    // not while a program that predates it uses the maps (pbxwalld's start and reload tell; on
    // new maps it is off until then). Takes effect from the next build of a half.
    void allowHostShrink(bool allow);

private:
    pw_gen_state genState() const;
    // The buckets half `half` of each host table uses (as pw_gen_state says).
    hosttab::Half<Host4> hosts4Half(__u32 half) const;
    hosttab::Half<Host6> hosts6Half(__u32 half) const;
    // Records in pw_gen_state how far half `half` of each table is halved (before a flip to it).
    void setHostShrink(__u32 half, __u32 shrink4, __u32 shrink6);
    // How far to halve a host half for n entries (0 unless PW_HOST_SHRINK_ON).
    __u32 shrinkFor4(size_t n) const;
    __u32 shrinkFor6(size_t n) const;
    // Half `half` of the host tables, after an edit: moved into the buckets its entries need
    // when that is another size (a rehash; nothing when the size holds).
    void fitHosts(__u32 half);
    std::optional<HostEntry> findHost(__u32 half, const Addr& a) const;
    bool putHost(__u32 half, const Addr& a, const HostEntry& e);
    bool eraseHost(__u32 half, const Addr& a);
    // Copies the active halves of the host and IPv4 prefix tables to the others, edits the
    // copies, then makes them active (an exception before the flip changes nothing). add4 and
    // add6: at most how many host entries the edit adds (the copies are sized for them).
    void editTables(const std::function<void(__u32 half)>& edit, size_t add4 = 0, size_t add6 = 0);
    static net4::Prefix prefix4(const Cidr& c, __u8 zone);
    std::map<Cidr, __u8> activeNets4() const; // from pw_nets, the active generation
    void buildNets4(__u32 half, const std::map<Cidr, __u8>& prefixes);
    void flip(__u32 active, __u32 hosts);
    // refreshBanFilter with the /24s of the given host halves: before `hosts` flips, both the
    // old and the new half, so that the summary the data plane reads always covers its tables.
    size_t refreshBans(std::initializer_list<__u32> zoneHalves);
    // Writes half `half` of pw_hostbits4 from the same half of pw_hosts4 (before a flip to it).
    void buildHostSummary(__u32 half);
    void clearGeneration(__u32 gen);
    __u32 hostShrink() const; // pw_gen_state.host_shrink, read once per PolicyStore
    MapSet& maps_;
    mutable std::optional<__u32> hostShrink_;
};

pw_net_key netKey(__u32 gen, const Cidr& c);

} // namespace pbxwall
