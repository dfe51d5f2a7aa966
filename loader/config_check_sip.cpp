// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// What [sip] means: its rates and limits, scanner signatures, toll prefixes, and trap ports (which
// no service may also use).
#include "config_internal.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pbxwall::config::detail {

namespace {

struct SipSpec {
  std::string_view key;
  uint32_t Sip::*field;
  int64_t min;
  int64_t max;
};

constexpr std::array<SipSpec, 12> kSipSpecs = {{
    {"rate", &Sip::rate, 1, 1000000},
    {"period", &Sip::period, 1, 86400},
    {"burst", &Sip::burst, 0, 1000},
    {"known_rate", &Sip::knownRate, 1, 1000000},
    {"ban_after", &Sip::banAfter, 0, 1000000},
    {"ban_window", &Sip::banWindow, 1, 86400},
    {"ban_seconds", &Sip::banSeconds, 1, 31536000},
    {"ipv6_prefix", &Sip::ipv6Prefix, 48, 128},
    {"new_sources_per_second", &Sip::newSourcesPerSecond, 1, 1000000},
    {"known_seconds", &Sip::knownSeconds, 60, 604800},
    {"max_failures", &Sip::maxFailures, 0, 1000000},
    {"challenge_allowance", &Sip::challengeAllowance, 0, 1000},
}};

// Sorted, with overlapping or adjacent ranges joined.
std::vector<PortRange> merged(std::vector<PortRange> ranges)
{
  std::sort(ranges.begin(), ranges.end());
  std::vector<PortRange> out;
  for (const PortRange& r : ranges) {
    if (!out.empty() && r.lo <= out.back().hi + 1)
      out.back().hi = std::max(out.back().hi, r.hi);
    else
      out.push_back(r);
  }
  return out;
}

// "port 5060 is" or "ports 5060-5061 are".
std::string portsAre(const PortRange& r)
{
  return r.lo == r.hi ? "port " + r.str() + " is" : "ports " + r.str() + " are";
}

} // namespace

void Validator::sip(const toml::node& n)
{
  const toml::table* t = tableOf(n, "[sip]");
  if (!t)
    return;
  rejectUnknownKeys(*t, "[sip]",
                    {"responsive", "rate", "period", "burst", "known_rate", "ban_after", "ban_window", "ban_seconds",
                     "ipv6_prefix", "new_sources_per_second", "known_seconds", "trap_ports", "max_failures",
                     "challenge_allowance", "user_agents", "from_patterns", "scanner_ban", "toll_prefixes",
                     "dial_out_zones"});
  Sip& sip = config_.sip;
  sipPos_ = posOf(t->source());
  sip.line = sipPos_.line;
  for (auto&& [key, value] : *t)
    if (key.str() != "responsive" && key.str() != "trap_ports")
      sipGuardKeys_ = true;

  if (const toml::node* v = t->get("responsive")) {
    if (const auto* b = v->as_boolean())
      sip.responsive = b->get();
    else
      typeError(*v, "sip.responsive", "true or false");
  }

  bool ratesOk = true;
  for (const SipSpec& spec : kSipSpecs) {
    const toml::node* v = t->get(spec.key);
    if (!v)
      continue;
    const std::string what = "sip." + std::string(spec.key);
    if (spec.field == &Sip::rate && v->is_integer() && v->as_integer()->get() == 0) {
      error(*v, what + " = 0 is out of range " + std::to_string(spec.min) + ".." + std::to_string(spec.max) +
                    ": to drop SIP from unknown sources, set responsive = false");
      ratesOk = false;
      continue;
    }
    if (const auto value = integerIn(*v, what, spec.min, spec.max))
      sip.*spec.field = *value;
    else if (spec.field == &Sip::rate || spec.field == &Sip::knownRate)
      ratesOk = false;
  }
  // Only reachable when rate or known_rate is written: the defaults satisfy it.
  if (ratesOk && sip.knownRate < sip.rate) {
    const toml::node* known = t->get("known_rate");
    const toml::node& at = known ? *known : *t->get("rate");
    error(at, "sip.known_rate = " + std::to_string(sip.knownRate) + (known ? "" : " (the default)") +
                  " is below sip.rate = " + std::to_string(sip.rate) +
                  ": a known source must be allowed at least the rate of an unknown one");
  }
  // The data plane's clock moves in ticks of up to 10 ms: a budget finer than that needs a
  // burst of a tick's worth, or a source gets one packet per tick whatever the rate says.
  constexpr uint64_t kTickNs = 10'000'000;
  constexpr uint64_t kBurstMax = 1000; // burst's range, above
  const uint64_t intervalNs = uint64_t{sip.period} * 1'000'000'000 / std::max<uint32_t>(sip.rate, 1);
  if (ratesOk && intervalNs < kTickNs && uint64_t{sip.burst} * intervalNs < kTickNs) {
    const toml::node* at = t->get("rate") ? t->get("rate") : t->get("period") ? t->get("period") : t->get("burst");
    const uint64_t need = (kTickNs + intervalNs - 1) / intervalNs;
    const Pos pos = at ? posOf(at->source()) : sipPos_;
    const std::string head = "sip.rate = " + std::to_string(sip.rate) + " per " + std::to_string(sip.period) +
                             " s is more than one packet per tick of the data plane's clock (10 ms): with burst = " +
                             std::to_string(sip.burst) + " a source gets about " + std::to_string(sip.burst + 1) +
                             " per tick";
    warn(pos, need <= kBurstMax ? head + "; set burst to " + std::to_string(need) + " or more for the rate to hold"
                                : head + ", and no burst (at most " + std::to_string(kBurstMax) +
                                      ") makes this rate hold: lower rate, or set responsive = false");
  }

  if (const toml::node* p = t->get("trap_ports"))
    trapPorts_ = ports(*p, "sip.trap_ports");
  for (const PortEntry& e : trapPorts_)
    sip.trapPorts.push_back(e.range);

  if (const toml::node* v = t->get("scanner_ban")) {
    if (const auto* b = v->as_boolean())
      sip.scannerBan = b->get();
    else
      typeError(*v, "sip.scanner_ban", "true or false");
  }
  size_t signatures = 0;
  for (auto [key, list] : {std::pair{"user_agents", &sip.userAgents}, std::pair{"from_patterns", &sip.fromPatterns}}) {
    if (const toml::node* v = t->get(key)) {
      if (auto l = signaturesOf(*v, "sip." + std::string(key)))
        *list = std::move(*l);
    }
    signatures += list->size();
  }
  if (signatures > PW_SIG_MAX)
    error(sipPos_, "sip.user_agents and sip.from_patterns name " + std::to_string(signatures) +
                       " signatures together, at most " + std::to_string(PW_SIG_MAX) + " are supported");
  if (const toml::node* v = t->get("toll_prefixes")) {
    if (auto l = tollPrefixesOf(*v))
      sip.tollPrefixes = std::move(*l);
  }
  if (const toml::node* v = t->get("dial_out_zones")) {
    if (const auto bits = zoneSetOf(*v, "sip.dial_out_zones"))
      sip.dialOutZones = *bits | PW_ZONE_BIT(PW_ZONE_TRUSTED);
  }
}

// An array of scanner signatures: printable ASCII, PW_SIG_MIN_LEN..PW_SIG_LEN bytes each.
std::optional<std::vector<std::string>> Validator::signaturesOf(const toml::node& n, const std::string& what)
{
  const toml::array* a = n.as_array();
  if (!a) {
    typeError(n, what, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const toml::node& e : *a) {
    const auto text = stringOf(e, what);
    if (!text) {
      ok = false;
      continue;
    }
    const bool printable =
        std::all_of(text->begin(), text->end(), [](char c) { return c >= ' ' && c < 0x7f; });
    if (!printable || text->size() < PW_SIG_MIN_LEN || text->size() > PW_SIG_LEN) {
      error(e, inQuotes(*text) + " in " + what + " must be " + std::to_string(PW_SIG_MIN_LEN) + " to " +
                   std::to_string(PW_SIG_LEN) + " printable ASCII characters");
      ok = false;
      continue;
    }
    out.push_back(*text);
  }
  return ok ? std::optional(std::move(out)) : std::nullopt;
}

// An array of dial prefixes: 1..PW_TOLL_LEN characters of 0-9 + * #.
std::optional<std::vector<std::string>> Validator::tollPrefixesOf(const toml::node& n)
{
  const toml::array* a = n.as_array();
  if (!a) {
    typeError(n, "sip.toll_prefixes", "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const toml::node& e : *a) {
    const auto text = stringOf(e, "sip.toll_prefixes");
    if (!text) {
      ok = false;
      continue;
    }
    const bool dialable = std::all_of(text->begin(), text->end(), [](char c) {
      return (c >= '0' && c <= '9') || c == '+' || c == '*' || c == '#';
    });
    if (!dialable || text->empty() || text->size() > PW_TOLL_LEN) {
      error(e, inQuotes(*text) + " in sip.toll_prefixes must be 1 to " + std::to_string(PW_TOLL_LEN) +
                   " characters of 0-9, +, * and #");
      ok = false;
      continue;
    }
    out.push_back(*text);
  }
  if (ok && out.size() > PW_TOLL_MAX) {
    error(n, "sip.toll_prefixes names " + std::to_string(out.size()) + " prefixes, at most " +
                 std::to_string(PW_TOLL_MAX) + " are supported");
    ok = false;
  }
  return ok ? std::optional(std::move(out)) : std::nullopt;
}

// Trap ports ban whoever touches them, so no service may use them; and [sip] is about the service
// named "sip".
void Validator::checkSip()
{
  std::vector<bool> seen(65536, false);
  for (const PortEntry& e : trapPorts_) {
    for (unsigned p = e.range.lo; p <= e.range.hi; ++p) {
      if (!seen[p]) {
        seen[p] = true;
        continue;
      }
      unsigned last = p;
      while (last < e.range.hi && seen[last + 1])
        ++last;
      const PortRange run{static_cast<uint16_t>(p), static_cast<uint16_t>(last)};
      warn(e.pos, "trap " + portsAre(run) + " listed twice in sip.trap_ports");
      p = last;
    }
  }

  constexpr std::string_view kWhy = ": a trap must be a port nothing legitimate uses";
  for (const PortEntry& e : trapPorts_) {
    for (const ServiceDraft& s : services_) {
      // Service names are checked elsewhere; escape a bad one so that the message stays on one line.
      const std::string quoted = inQuotes(s.service.name);
      const std::string name = quoted.substr(1, quoted.size() - 2);
      auto hits = [&](const std::vector<PortEntry>& entries) {
        std::vector<PortRange> out;
        for (const PortEntry& se : entries) {
          const uint16_t lo = std::max(e.range.lo, se.range.lo);
          const uint16_t hi = std::min(e.range.hi, se.range.hi);
          if (lo <= hi)
            out.push_back({lo, hi});
        }
        return merged(std::move(out));
      };
      const std::vector<PortRange> udp = hits(s.udp);
      const std::vector<PortRange> tcp = hits(s.tcp);
      auto report = [&](const std::vector<PortRange>& runs, std::string_view proto) {
        for (const PortRange& r : runs)
          error(e.pos, "trap " + portsAre(r) + " also service " + name + "'s " + std::string(proto) +
                           (r.lo == r.hi ? " port" : " ports") + std::string(kWhy));
      };
      if (!udp.empty() && udp == tcp) {
        report(udp, "udp and tcp");
      } else {
        report(udp, "udp");
        report(tcp, "tcp");
      }
    }
  }

  // With responsive = false and nothing else (trap ports apply on their own), [sip] says "SIP
  // off"; any other setting (guards, budgets) would be silently idle without the service.
  if (config_.sip.line != 0 && (config_.sip.responsive || sipGuardKeys_) &&
      std::none_of(services_.begin(), services_.end(), [](const ServiceDraft& s) { return s.service.name == "sip"; }))
    warn(sipPos_, std::string("[sip] has no effect without a service named sip") +
                      (trapPorts_.empty() ? "" : " (only its trap_ports apply)"));
}

} // namespace pbxwall::config::detail
