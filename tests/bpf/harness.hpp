// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Harness of the BPF fixtures: a fresh, unpinned skeleton per fixture with its policy built
// from a TOML string, BPF_PROG_TEST_RUN of the XDP ingress and TC egress programs, and the
// fixture record plus the check that exactly one (slot, zone, reason) counter moved.
#pragma once

#include "map_set.hpp"
#include "packet_builder.hpp"
#include "pbxwall_abi.h"
#include "stats.hpp"

#include <linux/bpf.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pbxwall_bpf;
struct ring_buffer;

namespace pbxwall::bpftest {

// ifindex 1 is lo, the interface the fixture configs name (counter slot 1). kUnnamed is an
// interface the policy does not name (counter slot 0): the harness runs those frames on a
// real interface other than lo, because a test run without a context still sees lo.
inline constexpr unsigned kLo = 1;
inline constexpr unsigned kUnnamed = 0;

// The base policy of the fixtures, with unlisted_ports = "drop" and = "pass".
extern const std::string kBaseDrop;
extern const std::string kBasePass;

// Addresses of the fixtures (198.18.0.0/15 and 2001:db8::/32 only), one per family.
struct Peer {
    const char* v4;
    const char* v6;
};
inline constexpr Peer kHost{"198.18.0.1", "2001:db8::1"};           // the PBX itself
inline constexpr Peer kNet{"198.18.9.9", "2001:db8:9::9"};          // no zone: the interface's
inline constexpr Peer kNet2{"198.18.9.81", "2001:db8:9::81"};       // another such peer
inline constexpr Peer kNet3{"198.18.10.5", "2001:db8:a::5"};        // one outside kNet's /24, /48
inline constexpr Peer kTrusted{"198.18.1.10", "2001:db8:1::10"};    // trusted /24, /48
inline constexpr Peer kLocal{"198.18.2.10", "2001:db8:2::10"};      // local /24, /48
inline constexpr Peer kReject{"198.18.3.10", "2001:db8:3::10"};     // reject /24, /48
inline constexpr Peer kRejectHost{"198.18.1.66", "2001:db8:1::66"}; // reject host in trusted
inline constexpr Peer kTrustedHost{"198.18.3.7", "2001:db8:3::7"};  // trusted host in reject

enum class Family { V4, V6 };
inline constexpr Family kFamilies[] = {Family::V4, Family::V6};

// "IPv4: what" / "IPv6: what".
std::string named(Family f, const std::string& what);
// base (default: an Ethernet header) plus an IPv4 or IPv6 header from src to dst.
test::Packet ip(Family f, Peer src, Peer dst);
test::Packet ip(Family f, Peer src, Peer dst, test::Packet base);
// ICMP or ICMPv6 header of the family.
inline uint8_t icmpEchoRequest(Family f) { return f == Family::V4 ? 8 : 128; }
inline uint8_t icmpEchoReply(Family f) { return f == Family::V4 ? 0 : 129; }
test::Packet icmp(test::Packet p, Family f, uint8_t type, uint8_t code = 0);

// One packet and the verdict it must get (katran/cilium style records).
struct Fixture {
    std::string name;
    test::Packet packet;
    unsigned ifindex; // kLo or kUnnamed
    int action;       // XDP_PASS or XDP_DROP
    pw_reason reason;
    pw_zone zone;
};

// What one run did: the action, the counter rows that changed (packet and byte deltas), and
// the frame as the program left it.
struct Outcome {
    int action = -1;
    std::vector<CounterRow> moved;
    std::vector<uint8_t> out;
};

// Which programs a harness loads: verifying pw_tc_egress costs as much as the XDP program,
// so only fixtures that record host-opened flows load it.
enum class Programs { Ingress, IngressAndEgress };

// A table size other than the harness's small default (e.g. a pw_bans of 2 entries, or the
// production sizes for the flood test), by map name.
struct TableSize {
    std::string name;
    __u32 entries;
};

class Harness {
public:
    explicit Harness(const std::string& toml = kBaseDrop, Programs programs = Programs::Ingress);
    Harness(const std::string& toml, Programs programs, const std::vector<TableSize>& sizes);
    ~Harness();
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    // Builds a PolicyImage from the config text and installs it as the next generation.
    void install(const std::string& toml);

    // Runs one frame through pw_xdp_main; returns the action and the counters that moved.
    Outcome run(const std::vector<uint8_t>& frame, unsigned ifindex = kLo);
    // The same without reading the counters (9216 lookups each time): the action only.
    int action(const std::vector<uint8_t>& frame, unsigned ifindex = kLo);
    // Runs one frame through pw_tc_egress (the host sending it); returns the TC action.
    // Needs Programs::IngressAndEgress.
    int runEgress(const std::vector<uint8_t>& frame);

    // Bans on an address (text as in the config; an IPv6 prefix makes a prefix ban): active for
    // ttl, permanent, already expired.
    void ban(std::string_view addr, std::chrono::seconds ttl);
    void banForever(std::string_view addr);
    void banExpired(std::string_view addr);
    // A pbxwallctl zone entry on top of whatever the config says about the same CIDR.
    void setCtlZone(std::string_view cidr, pw_zone zone);

    // pw_known entries (pbxwalld's job after a 200 OK to REGISTER): known for ttl, or expired.
    void addKnown(std::string_view addr, std::chrono::seconds ttl);
    void addKnownExpired(std::string_view addr);
    // The pw_bans entry that bans an address: its own, else (IPv6) that of its /v6Prefix.
    std::optional<pw_ban> banOf(std::string_view addr, unsigned v6Prefix = 64) const;
    // Every pw_events record submitted since the previous call (ring buffer consumed).
    std::vector<pw_event> events();

    MapSet& maps() { return maps_; }
    int xdpFd() const { return xdpFd_; }
    std::vector<CounterRow> counters() const;

private:
    void putBan(std::string_view addr, uint64_t expiresNs);
    void putKnown(std::string_view addr, uint64_t expiresNs);
    int testRun(const std::vector<uint8_t>& frame, unsigned ifindex, std::vector<uint8_t>* out);

    pbxwall_bpf* skel_ = nullptr;
    MapSet maps_;
    int xdpFd_ = -1;
    int egressFd_ = -1;
    ring_buffer* events_ = nullptr;
    std::vector<pw_event> pending_; // filled by the ring buffer callback
};

// The pw_bans / pw_known / pw_rate key of an address (text as in the config).
pw_ban_key addrKey(std::string_view addr);

// CLOCK_MONOTONIC_COARSE in ns: the clock the data plane reads (pw_now, once per tick).
uint64_t coarseNow();

// Moves the one flow in pw_flows (REQUIREd) back so that the PBX's last request to its peer was
// `seconds` ago.
void ageOnlyFlow(Harness& h, uint64_t seconds);

// Pins the calling thread to the CPU it runs on, for as long as it lives, so that per-CPU
// state (per-CPU LRU lists, pw_now) is the same slot in every test run; then restores the
// previous affinity. BPF_PROG_TEST_RUN runs the program on the caller's CPU.
class CpuPin {
public:
    CpuPin();
    ~CpuPin();
    CpuPin(const CpuPin&) = delete;
    CpuPin& operator=(const CpuPin&) = delete;
    int cpu() const { return cpu_; }

private:
    int cpu_ = -1;
    std::vector<unsigned char> saved_; // the previous cpu_set_t
    bool restore_ = false;
};

// The ifindex the harness uses for kUnnamed (any interface but lo); 0 when there is none.
unsigned unnamedIfindex();

// Runs f on a fresh harness and checks action, reason, zone and slot, and that exactly one
// counter moved by one packet of the frame's length.
void checkFixture(const Fixture& f, const std::string& toml = kBaseDrop);
// The same check on an existing harness (state from earlier runs is kept).
void checkVerdict(Harness& h, const Fixture& f);

// "pass"/"drop"/"aborted"/... for messages.
std::string actionName(int action);

} // namespace pbxwall::bpftest
