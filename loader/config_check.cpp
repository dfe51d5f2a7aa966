// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// What each config section means: interfaces, [zones] CIDRs, [icmp], [limits], [services] with
// their ports (each port owned by one service), and whether the config fits its tables. [sip] is in
// config_check_sip.cpp.
#include "config_internal.hpp"

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "names.hpp"
#include "zone_advice.hpp"

namespace pbxwall::config::detail {

namespace {

// The link type (ARPHRD_*) of an interface of this network namespace; nothing when it cannot
// be read.
std::optional<unsigned> linkType(const std::string& name)
{
  if (name.empty() || name.size() >= IFNAMSIZ)
    return std::nullopt;
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return std::nullopt;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  const int rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
  close(fd);
  if (rc != 0)
    return std::nullopt;
  return ifr.ifr_hwaddr.sa_family;
}

constexpr size_t kIfNameMax = IFNAMSIZ - 1; // 15: the kernel's limit without the NUL
constexpr size_t kMaxInterfaces = PW_IFACE_SLOTS - 1; // slot 0 counts unnamed interfaces
constexpr size_t kServiceNameMax = 32;

struct LimitSpec {
  std::string_view key;
  uint32_t Limits::*field;
  int64_t min;
  int64_t max;
};

constexpr std::array<LimitSpec, 9> kLimitSpecs = {{
    {"hosts", &Limits::hosts, 1, 16777216},
    {"hosts6", &Limits::hosts6, 1, 4194304},
    {"nets", &Limits::nets, 1, 4194304},
    {"bans", &Limits::bans, 1, 16777216},
    {"flows", &Limits::flows, 1024, 4194304},
    {"frags", &Limits::frags, 256, 1048576},
    {"known", &Limits::known, 16, 16777216},
    {"rate", &Limits::rate, 1024, 16777216},
    {"fails", &Limits::fails, 1024, 16777216},
}};

} // namespace

void Validator::interfaces(const toml::table& root)
{
  const toml::node* n = root.get("interface");
  if (!n) {
    error(Pos{}, "no [[interface]]: at least one interface is required");
    return;
  }
  const toml::array* a = n->as_array();
  if (!a) {
    error(*n, "interface must be written as [[interface]] tables, not " +
                  std::string(typeWithArticle(n->type())));
    return;
  }
  if (a->empty()) {
    error(*n, "no [[interface]]: at least one interface is required");
    return;
  }
  size_t count = 0;
  for (const toml::node& e : *a) {
    const toml::table* t = tableOf(e, "each interface entry");
    if (!t)
      continue;
    if (++count == kMaxInterfaces + 1)
      error(e, "too many interfaces: at most " + std::to_string(kMaxInterfaces) + " are supported");
    interface(*t);
  }
}

void Validator::interface(const toml::table& t)
{
  rejectUnknownKeys(t, "[[interface]]", {"name", "zone", "xdp_mode"});
  const Pos pos = posOf(t.source());
  Interface iface{{}, PW_ZONE_NONE, XdpMode::Auto, pos.line};
  bool ok = true;

  if (const toml::node* n = t.get("name")) {
    if (const auto name = stringOf(*n, "interface name")) {
      iface.name = *name;
      const bool badChar = name->find_first_of("/: \t\r\n\v\f") != std::string::npos;
      if (name->empty() || name->size() > kIfNameMax || badChar || *name == "." || *name == "..") {
        error(*n, "invalid interface name " + inQuotes(*name) +
                      " (1 to 15 characters, no '/', ':' or whitespace)");
        ok = false;
      } else if (const auto it = interfaceLines_.find(*name); it != interfaceLines_.end()) {
        error(*n, "interface " + inQuotes(*name) + " is listed twice (first at line " +
                      std::to_string(it->second) + ")");
        ok = false;
      } else {
        interfaceLines_.emplace(*name, pos.line);
      }
    } else {
      ok = false;
    }
  } else {
    error(pos, "[[interface]] needs a name");
    ok = false;
  }

  if (const toml::node* n = t.get("zone")) {
    if (const auto zone = zoneOf(*n, "interface zone"))
      iface.zone = *zone;
    else
      ok = false;
  } else {
    error(pos, "[[interface]] needs a zone (" + std::string(kZoneChoices) + ")");
    ok = false;
  }

  if (const toml::node* n = t.get("xdp_mode")) {
    const auto mode = stringOf(*n, "xdp_mode");
    constexpr XdpMode kModes[] = {XdpMode::Auto, XdpMode::Native, XdpMode::Generic};
    const auto* found = std::find_if(std::begin(kModes), std::end(kModes),
                                     [&](XdpMode m) { return mode && xdpModeName(m) == *mode; });
    if (found != std::end(kModes)) {
      iface.mode = *found;
    } else {
      if (mode)
        error(*n, "xdp_mode must be \"auto\", \"native\" or \"generic\", not " + inQuotes(*mode));
      ok = false;
    }
  }

  if (!ok)
    return;
  if (options_.checkInterfaces) {
    const Pos at = posOf(t.get("name")->source());
    const unsigned index = if_nametoindex(iface.name.c_str());
    if (index == 0) {
      warn(at, "interface " + inQuotes(iface.name) + " does not exist on this machine");
    } else if (std::string why = interfaceRefusal(iface.name); !why.empty()) {
      error(at, why);
      return;
    } else if (const auto it = interfaceIndexes_.find(index); it != interfaceIndexes_.end()) {
      // One device by two of its names (an altname): the zone of the later would win silently.
      error(at, "interface " + inQuotes(iface.name) + " is the device listed as " + inQuotes(it->second.first) +
                    " at line " + std::to_string(it->second.second) + " (index " + std::to_string(index) +
                    ", by another of its names): name each device once");
      return;
    } else {
      interfaceIndexes_.emplace(index, std::make_pair(iface.name, pos.line));
    }
  }
  config_.interfaces.push_back(std::move(iface));
}

void Validator::zones(const toml::node& n)
{
  const toml::table* t = tableOf(n, "[zones]");
  if (!t)
    return;
  for (auto&& [key, value] : *t) {
    const auto zone = zoneFromName(key.str());
    if (!zone) {
      error(posOf(key.source()), "unknown zone " + inQuotes(key.str()) + " in [zones] (expected " +
                                     std::string(kZoneChoices) + ")");
      continue;
    }
    const std::string what = "zones." + std::string(key.str());
    const toml::array* a = value.as_array();
    if (!a) {
      typeError(value, what, "an array of CIDR strings");
      continue;
    }
    for (const toml::node& e : *a) {
      const auto text = stringOf(e, what + " entry");
      if (!text)
        continue;
      try {
        const Pos pos = posOf(e.source());
        zoneRules_.push_back({pos, ZoneRule{parseCidr(*text), *zone, pos.line}});
      } catch (const std::invalid_argument& ex) {
        error(e, ex.what());
      }
    }
  }

  // toml++ tables iterate in key order; the rules keep the order of the file.
  std::stable_sort(zoneRules_.begin(), zoneRules_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::map<Cidr, const ZoneRule*> seen;
  for (const auto& [pos, rule] : zoneRules_) {
    const auto [it, inserted] = seen.emplace(rule.cidr, &rule);
    if (!inserted) {
      const ZoneRule& first = *it->second;
      if (first.zone == rule.zone)
        error(pos, rule.cidr.str() + " is listed twice in zones." + std::string(zoneName(rule.zone)) +
                       " (first at line " + std::to_string(first.line) + ")");
      else
        error(pos, rule.cidr.str() + " is listed in both zones." + std::string(zoneName(first.zone)) +
                       " (line " + std::to_string(first.line) + ") and zones." +
                       std::string(zoneName(rule.zone)));
      continue;
    }
    // IPv4 lives at ::ffff:0:0/96 in the 128-bit space, inside a short IPv6 prefix such as ::/0;
    // the data plane judges IPv4 by IPv4 prefixes alone, so such a prefix names IPv6 only.
    if (!rule.cidr.isV4() && rule.cidr.len < kV4MappedLen && rule.cidr.contains(Addr::fromV4(0)))
      warn(pos, rule.cidr.str() + " in zones." + std::string(zoneName(rule.zone)) +
                    " covers IPv6 addresses only; IPv4 needs its own entry (0.0.0.0/0 for all of it)");
    // Taken as written (pbxwallctl wants --force for the first), but named in the check.
    if (const auto why = wideEntry(rule.cidr, rule.zone))
      warn(pos, "zones." + std::string(zoneName(rule.zone)) + ": " + *why);
    if (const auto why = martianEntry(rule.cidr))
      warn(pos, "zones." + std::string(zoneName(rule.zone)) + ": " + *why);
    config_.zones.push_back(rule);
  }
}

void Validator::icmp(const toml::node& n)
{
  const toml::table* t = tableOf(n, "[icmp]");
  if (!t)
    return;
  rejectUnknownKeys(*t, "[icmp]", {"echo"});
  if (const toml::node* echo = t->get("echo")) {
    if (const auto bits = zoneSetOf(*echo, "icmp.echo"))
      config_.echoZones = *bits;
  }
}

std::optional<uint32_t> Validator::integerIn(const toml::node& n, std::string_view what, int64_t min, int64_t max)
{
  const auto* i = n.as_integer();
  if (!i) {
    typeError(n, what, "an integer");
    return std::nullopt;
  }
  const int64_t value = i->get();
  if (value < min || value > max) {
    error(n, std::string(what) + " = " + std::to_string(value) + " is out of range " + std::to_string(min) + ".." +
                 std::to_string(max));
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

void Validator::limits(const toml::node& n)
{
  const toml::table* t = tableOf(n, "[limits]");
  if (!t)
    return;
  rejectUnknownKeys(*t, "[limits]", {"hosts", "hosts6", "nets", "bans", "flows", "frags", "known", "rate", "fails"});
  for (const LimitSpec& spec : kLimitSpecs) {
    if (const toml::node* v = t->get(spec.key)) {
      if (const auto value = integerIn(*v, "limits." + std::string(spec.key), spec.min, spec.max))
        config_.limits.*spec.field = *value;
    }
  }
}

void Validator::services(const toml::node& n)
{
  const toml::table* t = tableOf(n, "[services]");
  if (!t)
    return;
  for (auto&& [key, value] : *t)
    service(key, value);

  // Service numbers follow the file, not toml++'s key order.
  std::stable_sort(services_.begin(), services_.end(),
                   [](const auto& a, const auto& b) { return a.service.line < b.service.line; });
  if (services_.size() > PW_SERVICES_MAX)
    error(services_[PW_SERVICES_MAX].pos,
          "too many services: at most " + std::to_string(PW_SERVICES_MAX) + " are supported");
  checkPortOwners();
}

void Validator::service(const toml::key& key, const toml::node& n)
{
  const std::string name(key.str());
  const std::string what = "services." + name;
  const bool goodName = !name.empty() && name.size() <= kServiceNameMax &&
                        std::all_of(name.begin(), name.end(), [](char c) {
                          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
                        });
  if (!goodName) {
    error(posOf(key.source()), "invalid service name " + inQuotes(name) +
                                   " (1 to 32 characters among a-z, 0-9, '_' and '-')");
  }
  const toml::table* t = tableOf(n, "[" + what + "]");
  if (!t)
    return;
  rejectUnknownKeys(*t, "[" + what + "]", {"udp", "tcp", "zones"});
  const Pos pos = posOf(t->source());

  ServiceDraft draft;
  draft.pos = pos;
  draft.service.name = name;
  draft.service.line = pos.line;
  draft.service.zones = 0;
  if (const toml::node* p = t->get("udp"))
    draft.udp = ports(*p, what + ".udp");
  if (const toml::node* p = t->get("tcp"))
    draft.tcp = ports(*p, what + ".tcp");
  // Entries that failed to parse were reported already; only a service with none at all is flagged.
  auto written = [&](std::string_view proto) {
    const toml::node* p = t->get(proto);
    return p && (!p->is_array() || !p->as_array()->empty());
  };
  if (!written("udp") && !written("tcp"))
    error(pos, "service " + inQuotes(name) + " has no ports: give a udp and/or tcp list");

  if (const toml::node* z = t->get("zones")) {
    if (const auto bits = zoneSetOf(*z, what + ".zones"))
      draft.service.zones = *bits;
  } else {
    error(pos, "service " + inQuotes(name) + " needs zones: the zones allowed to reach its ports");
  }

  for (const PortEntry& e : draft.udp)
    draft.service.udp.push_back(e.range);
  for (const PortEntry& e : draft.tcp)
    draft.service.tcp.push_back(e.range);
  // Kept even after an error: it still takes part in the port-overlap check.
  services_.push_back(std::move(draft));
}

std::vector<PortEntry> Validator::ports(const toml::node& n, std::string_view what)
{
  std::vector<PortEntry> out;
  const toml::array* a = n.as_array();
  if (!a) {
    typeError(n, what, "an array of ports, e.g. [\"5060\", \"10000-20000\"]");
    return out;
  }
  for (const toml::node& e : *a) {
    const Pos pos = posOf(e.source());
    if (const auto* i = e.as_integer()) {
      const int64_t v = i->get();
      if (v < 1 || v > 65535)
        error(e, std::string(what) + ": port " + std::to_string(v) + " out of range 1..65535");
      else
        out.push_back({PortRange{static_cast<uint16_t>(v), static_cast<uint16_t>(v)}, pos});
      continue;
    }
    if (const auto* s = e.as_string()) {
      try {
        out.push_back({parsePortRange(s->get()), pos});
      } catch (const std::invalid_argument& ex) {
        error(e, std::string(what) + ": " + ex.what());
      }
      continue;
    }
    typeError(e, std::string(what) + " entry", "a port string or integer");
  }
  return out;
}

// Each protocol+port belongs to at most one service: pw_ports holds one service per port.
void Validator::checkPortOwners()
{
  constexpr int kFree = -1;
  for (const bool udp : {true, false}) {
    const std::string_view proto = udp ? "udp" : "tcp";
    std::vector<int> owner(65536, kFree);
    for (size_t i = 0; i < services_.size(); ++i) {
      const ServiceDraft& s = services_[i];
      for (const PortEntry& e : udp ? s.udp : s.tcp) {
        std::set<int> reported;
        for (unsigned p = e.range.lo; p <= e.range.hi; ++p) {
          const int o = owner[p];
          if (o == kFree) {
            owner[p] = static_cast<int>(i);
            continue;
          }
          if (reported.count(o))
            continue;
          reported.insert(o);
          unsigned last = p;
          while (last < e.range.hi && owner[last + 1] == o)
            ++last;
          const PortRange run{static_cast<uint16_t>(p), static_cast<uint16_t>(last)};
          const std::string ports = std::string(proto) + (last == p ? " port " : " ports ") + run.str();
          const std::string_view verb = last == p ? " is" : " are";
          if (o == static_cast<int>(i)) {
            warn(e.pos, ports + std::string(verb) + " listed twice in service " + inQuotes(s.service.name));
          } else {
            const Service& other = services_[static_cast<size_t>(o)].service;
            error(e.pos, ports + " of service " + inQuotes(s.service.name) + std::string(verb) +
                             " already claimed by service " + inQuotes(other.name) + " (line " +
                             std::to_string(other.line) + ")");
          }
        }
      }
    }
  }
}

// The config alone must fit the tables it is loaded into (pbxwallctl entries come on top).
void Validator::checkTableSizes()
{
  size_t hosts = 0;
  size_t hosts6 = 0;
  size_t nets = 0;
  for (const ZoneRule& r : config_.zones)
    ++(r.cidr.isHost() ? (r.cidr.isV4() ? hosts : hosts6) : nets);
  if (hosts > config_.limits.hosts)
    error(Pos{}, std::to_string(hosts) + " IPv4 host addresses in [zones] exceed limits.hosts = " +
                     std::to_string(config_.limits.hosts));
  if (hosts6 > config_.limits.hosts6)
    error(Pos{}, std::to_string(hosts6) + " IPv6 host addresses in [zones] exceed limits.hosts6 = " +
                     std::to_string(config_.limits.hosts6));
  if (nets > config_.limits.nets)
    error(Pos{}, std::to_string(nets) + " prefixes in [zones] exceed limits.nets = " +
                     std::to_string(config_.limits.nets));
}

} // namespace pbxwall::config::detail

namespace pbxwall::config {

std::string interfaceRefusal(const std::string& name)
{
  const auto type = detail::linkType(name);
  if (type && *type == ARPHRD_LOOPBACK)
    // The host's own traffic: its sources (127.0.0.0/8, ::1) are martians on a wire.
    return "interface " + detail::inQuotes(name) +
           " is the loopback device: what arrives there is this host's own traffic, from 127.0.0.0/8 and ::1, "
           "which pbxwall drops as martian sources; name the interfaces that face the network";
  if (type && *type != ARPHRD_ETHER)
    // XDP on a device without link-layer header (WireGuard, tun, GRE, PPP) sees the IP header
    // first: read as an Ethernet frame, nearly every packet would pass as non-IP.
    return "interface " + detail::inQuotes(name) + " is not an Ethernet device (link type " +
           std::to_string(*type) +
           ", e.g. a tunnel, WireGuard or PPP device): pbxwall reads Ethernet frames and would misjudge its "
           "packets; name the Ethernet interface that carries the traffic instead (for PPP over Ethernet, the "
           "interface under it)";
  return "";
}

std::string layoutChange(const Config& running, const Config& next)
{
  const auto change = [](std::string what, const std::string& from, const std::string& to) {
    what += ": ";
    what += from;
    what += " -> ";
    what += to;
    return what;
  };
  if (running.pinDir != next.pinDir)
    return change("pin_dir", running.pinDir, next.pinDir);
  if (running.stateDir != next.stateDir)
    return change("state_dir", running.stateDir, next.stateDir);
  for (const detail::LimitSpec& spec : detail::kLimitSpecs)
    if (running.limits.*spec.field != next.limits.*spec.field)
      return change("[limits] " + std::string(spec.key), std::to_string(running.limits.*spec.field),
                    std::to_string(next.limits.*spec.field));
  return {};
}

} // namespace pbxwall::config
