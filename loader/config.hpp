// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The pbxwall TOML config: parsing and validation into a Config, with every problem reported
// as a file:line:col diagnostic. A file with any error yields no Config at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "addr.hpp"
#include "pbxwall_abi.h"

namespace pbxwall::config {

enum class XdpMode { Auto, Native, Generic };

struct Interface {
  std::string name;
  pw_zone zone;
  XdpMode mode;
  int line; // of its [[interface]] header
};

struct ZoneRule {
  Cidr cidr;
  pw_zone zone;
  int line;
};

struct Service {
  std::string name;
  std::vector<PortRange> udp, tcp;
  uint8_t zones; // PW_ZONE_BIT() set of zones allowed to reach the ports
  int line;      // of its [services.NAME] header
};

struct Limits {
  uint32_t hosts = PW_DEFAULT_HOSTS;   // IPv4 single addresses
  uint32_t hosts6 = PW_DEFAULT_HOSTS6; // IPv6 single addresses
  uint32_t nets = PW_DEFAULT_NETS;
  uint32_t bans = PW_DEFAULT_BANS;
  uint32_t flows = PW_DEFAULT_FLOWS;
  uint32_t frags = PW_DEFAULT_FRAGS;
  uint32_t known = PW_DEFAULT_KNOWN; // known sources (never evicted: a full table is logged)
  uint32_t rate = PW_DEFAULT_RATE;   // per-source SIP budgets (a two-choice four-way cache)
  uint32_t fails = PW_DEFAULT_FAILS; // per-peer failure counts (LRU)
};

// SIP rate limiting and banning: what FreePBX's responsive firewall and a fail2ban asterisk jail
// do, in XDP. SIP is whatever reaches the ports of the service named "sip".
struct Sip {
  bool responsive = true;           // unknown internet-zone sources may send SIP at a small per-source rate; false: SIP from them is dropped (not_whitelisted)
  uint32_t rate = 10;               // SIP packets per `period` from one unknown source
  uint32_t period = 60;             // seconds, 1..86400
  uint32_t burst = 5;               // packets allowed back to back on top of the steady rate, 0..1000
  uint32_t knownRate = 6000;        // packets per `period` from a known source (a registered phone), >= rate
  uint32_t banAfter = 20;           // over-budget drops (within banWindow) that ban the source; 0 = never ban for rate
  uint32_t banWindow = 600;         // seconds, 1..86400 (fail2ban findtime)
  uint32_t banSeconds = 1800;       // ban duration, 1..31536000 (fail2ban bantime)
  uint32_t ipv6Prefix = 64;         // IPv6 sources share one budget per prefix of this length: 48..128 (IPv4: per /32 always)
  uint32_t newSourcesPerSecond = 500; // aggregate budget for creating per-source state for new unknown sources, 1..1000000
  uint32_t knownSeconds = 7200;     // longest registration a source is "known" for (+30 s), 60..604800
  uint32_t maxFailures = 10;        // failed authentications (403, 404, 401/407 beyond the allowance) within banWindow that ban the peer; 0 = never (fail2ban maxretry)
  uint32_t challengeAllowance = 3;  // 401/407 digest challenges per banWindow that are normal, not failures, 0..1000
  std::vector<PortRange> trapPorts; // UDP and TCP ports where any packet from a non-trusted source bans it (e.g. "5060" when SIP runs on another port)
  // Scanner signatures: case-insensitive substrings of the User-Agent / From ("f") values of requests.
  std::vector<std::string> userAgents = {"friendly-scanner", "sipvicious", "sipcli",  "sip-scan", "VaxSIPUserAgent",
                                         "pplsip",           "iWar",       "sundayddr", "smap"};
  std::vector<std::string> fromPatterns = {"sipvicious", "friendly-scanner", "sip:100@1.1.1.1"};
  bool scannerBan = true; // a signature match also bans the source for banSeconds
  // Toll fraud: INVITEs whose Request-URI user part starts with one of these, from a zone not in
  // dialOutZones (trusted always may dial out), are dropped.
  std::vector<std::string> tollPrefixes = {"+", "00", "011", "9011"};
  uint8_t dialOutZones = PW_ZONE_BIT(PW_ZONE_TRUSTED) | PW_ZONE_BIT(PW_ZONE_LOCAL);
  int line = 0;                     // of the [sip] header, 0 if absent
};

struct Config {
  std::string path;
  std::string pinDir = PW_PIN_DIR;
  std::string stateDir = PW_STATE_DIR;
  pw_unlisted unlisted = PW_UNLISTED_PASS;
  uint8_t echoZones = PW_ZONE_BIT(PW_ZONE_TRUSTED) | PW_ZONE_BIT(PW_ZONE_LOCAL) | PW_ZONE_BIT(PW_ZONE_OTHER);
  std::vector<Interface> interfaces; // file order
  std::vector<ZoneRule> zones;       // file order
  std::vector<Service> services;     // file order; service number = index + 1
  Limits limits;
  Sip sip;
};

struct Diagnostic {
  std::string file;
  int line = 0;   // 0: about the whole file
  int column = 0; // 0: unknown
  bool warning = false;
  std::string message;

  // "FILE:LINE:COL: error: MESSAGE" (or "warning:"); ":LINE:COL" is left out when 0.
  std::string str() const;
};

struct LoadResult {
  std::optional<Config> config; // nullopt when any error was found
  std::vector<Diagnostic> diagnostics; // errors and warnings, ordered by position

  bool ok() const; // config present and no error diagnostics
};

struct LoadOptions {
  bool checkInterfaces = true; // warn when an interface does not exist here (if_nametoindex)
};

LoadResult loadFile(const std::string& path, const LoadOptions& options = {});
LoadResult loadString(std::string_view text, const std::string& name, const LoadOptions& options = {});

// What a reload cannot change, as the running maps were made for it: pin_dir, state_dir or a
// [limits] size, named with both values ("[limits] known: 65536 -> 1024"); "" when none differ.
std::string layoutChange(const Config& running, const Config& next);

// Why pbxwall must not attach to the interface called name, or "" when it may (or when it does
// not exist): the loopback device, or a device without an Ethernet header (tunnel, WireGuard,
// PPP). The config check refuses such names; pbxwalld asks again when it attaches, as a device
// may appear only later (the link watch).
std::string interfaceRefusal(const std::string& name);

// The service called name, or nullptr.
const Service* findService(const Config& config, std::string_view name);

// Names used in the file and in messages: "auto", "native", "generic".
std::string_view xdpModeName(XdpMode mode);

} // namespace pbxwall::config
