// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Internal to pbxwall_config: the Validator, shared by config.cpp (reading and walking the TOML,
// diagnostics) and config_check.cpp (what each section means and whether the whole fits).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <toml++/toml.h>

#include "addr.hpp"
#include "config.hpp"

namespace pbxwall::config::detail {

inline constexpr std::string_view kZoneChoices = "trusted, local, other, internet or reject";

// "text" with control characters escaped, so that every diagnostic stays on one line (UTF-8
// kept: the config's strings are UTF-8).
inline std::string inQuotes(std::string_view s) { return pbxwall::inQuotes(s, true); }
std::string_view typeWithArticle(toml::node_type t);

struct Pos {
  int line = 0;
  int column = 0;
  auto operator<=>(const Pos&) const = default;
};

Pos posOf(const toml::source_region& r);

// A port range with the position of the string or integer that gave it.
struct PortEntry {
  PortRange range;
  Pos pos;
};

struct ServiceDraft {
  Service service;
  Pos pos;
  std::vector<PortEntry> udp;
  std::vector<PortEntry> tcp;
};

class Validator {
public:
  Validator(std::string file, const LoadOptions& options) : file_(std::move(file)), options_(options)
  {
    config_.path = file_;
  }

  void run(const toml::table& root);
  LoadResult finish();
  void error(Pos pos, std::string message) { add(pos, false, std::move(message)); }

private:
  void add(Pos pos, bool warning, std::string message)
  {
    diagnostics_.push_back({file_, pos.line, pos.column, warning, std::move(message)});
    if (!warning)
      failed_ = true;
  }
  void error(const toml::node& n, std::string message) { error(posOf(n.source()), std::move(message)); }
  void warn(Pos pos, std::string message) { add(pos, true, std::move(message)); }
  void typeError(const toml::node& n, std::string_view what, std::string_view expected)
  {
    error(n, std::string(what) + " must be " + std::string(expected) + ", not " +
                 std::string(typeWithArticle(n.type())));
  }

  const toml::table* tableOf(const toml::node& n, std::string_view what);
  void rejectUnknownKeys(const toml::table& t, std::string_view where, const std::vector<std::string_view>& known);
  std::optional<std::string> stringOf(const toml::node& n, std::string_view what);
  std::optional<pw_zone> zoneOf(const toml::node& n, std::string_view what);
  std::optional<uint8_t> zoneSetOf(const toml::node& n, std::string_view what);

  void absolutePath(const toml::table& root, std::string_view key, std::string& out);
  void unlistedPorts(const toml::node& n);
  void interfaces(const toml::table& root);
  void interface(const toml::table& t);
  void zones(const toml::node& n);
  void icmp(const toml::node& n);
  std::optional<uint32_t> integerIn(const toml::node& n, std::string_view what, int64_t min, int64_t max);
  void limits(const toml::node& n);
  void sip(const toml::node& n);
  std::optional<std::vector<std::string>> signaturesOf(const toml::node& n, const std::string& what);
  std::optional<std::vector<std::string>> tollPrefixesOf(const toml::node& n);
  void services(const toml::node& n);
  void service(const toml::key& name, const toml::node& n);
  std::vector<PortEntry> ports(const toml::node& n, std::string_view what);
  void checkPortOwners();
  void checkSip();
  void checkTableSizes();

  std::string file_;
  LoadOptions options_;
  Config config_;
  std::vector<Diagnostic> diagnostics_;
  bool failed_ = false;
  const toml::table* root_ = nullptr;
  std::map<std::string, int> interfaceLines_;
  std::map<unsigned, std::pair<std::string, int>> interfaceIndexes_; // ifindex -> name, line (checkInterfaces)
  std::vector<std::pair<Pos, ZoneRule>> zoneRules_;
  std::vector<ServiceDraft> services_;
  Pos sipPos_;                       // of the [sip] header
  bool sipGuardKeys_ = false;        // [sip] sets more than responsive and trap_ports
  std::vector<PortEntry> trapPorts_; // [sip] trap_ports with their positions
};

} // namespace pbxwall::config::detail
