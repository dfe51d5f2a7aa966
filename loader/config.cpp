// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Loads the TOML config with toml++ and walks it: typed reads, the top-level keys, and every error
// and warning collected with its position (config_check.cpp gives the sections their meaning).
// Unknown keys are errors: a typo must never silently weaken the policy.
#include "config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "config_internal.hpp"
#include "names.hpp"

namespace pbxwall::config {

namespace detail {

namespace {

constexpr std::array<std::string_view, 9> kTopLevelKeys = {
    "pin_dir", "state_dir", "unlisted_ports", "interface", "zones", "icmp", "limits", "services", "sip",
};

} // namespace

std::string_view typeWithArticle(toml::node_type t)
{
  switch (t) {
  case toml::node_type::table: return "a table";
  case toml::node_type::array: return "an array";
  case toml::node_type::string: return "a string";
  case toml::node_type::integer: return "an integer";
  case toml::node_type::floating_point: return "a float";
  case toml::node_type::boolean: return "a boolean";
  case toml::node_type::date: return "a date";
  case toml::node_type::time: return "a time";
  case toml::node_type::date_time: return "a date-time";
  case toml::node_type::none: break;
  }
  return "nothing";
}

Pos posOf(const toml::source_region& r)
{
  return {static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

const toml::table* Validator::tableOf(const toml::node& n, std::string_view what)
{
  const toml::table* t = n.as_table();
  if (!t)
    typeError(n, what, "a table");
  return t;
}

void Validator::rejectUnknownKeys(const toml::table& t, std::string_view where,
                                  const std::vector<std::string_view>& known)
{
  for (auto&& [key, value] : t) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end())
      continue;
    std::string list;
    for (std::string_view k : known)
      list += (list.empty() ? "" : ", ") + std::string(k);
    std::string message =
        "unknown key " + inQuotes(key.str()) + " in " + std::string(where) + " (known keys: " + list + ")";
    // The usual TOML slip: a top-level key written after a [table] header lands in that table.
    if (&t != root_ && std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), key.str()) != kTopLevelKeys.end())
      message += "; top-level keys must come before the first [table] header";
    error(posOf(key.source()), message);
  }
}

std::optional<std::string> Validator::stringOf(const toml::node& n, std::string_view what)
{
  if (const auto* s = n.as_string()) {
    // TOML allows "\u0000"; no name, path or pattern here has one, and C strings end there
    // ("eth0\u0000" would be a second spelling of eth0).
    if (s->get().find('\0') != std::string::npos) {
      error(n, std::string(what) + " must not hold a NUL character (\\u0000)");
      return std::nullopt;
    }
    return s->get();
  }
  typeError(n, what, "a string");
  return std::nullopt;
}

std::optional<pw_zone> Validator::zoneOf(const toml::node& n, std::string_view what)
{
  const auto name = stringOf(n, what);
  if (!name)
    return std::nullopt;
  const auto zone = zoneFromName(*name);
  if (!zone)
    error(n, "unknown zone " + inQuotes(*name) + " in " + std::string(what) + " (expected " +
                 std::string(kZoneChoices) + ")");
  return zone;
}

// An array of zone names as a PW_ZONE_BIT() set. "reject" is refused: nothing passes from it.
std::optional<uint8_t> Validator::zoneSetOf(const toml::node& n, std::string_view what)
{
  const toml::array* a = n.as_array();
  if (!a) {
    typeError(n, what, "an array of zone names");
    return std::nullopt;
  }
  uint8_t bits = 0;
  bool ok = true;
  for (const toml::node& e : *a) {
    const auto zone = zoneOf(e, what);
    if (!zone) {
      ok = false;
      continue;
    }
    if (*zone == PW_ZONE_REJECT) {
      error(e, std::string(what) + " cannot name \"reject\": packets from the reject zone are always dropped");
      ok = false;
      continue;
    }
    if (bits & PW_ZONE_BIT(*zone))
      warn(posOf(e.source()), "zone " + inQuotes(zoneName(*zone)) + " is listed twice in " + std::string(what));
    bits |= static_cast<uint8_t>(PW_ZONE_BIT(*zone));
  }
  return ok ? std::optional<uint8_t>(bits) : std::nullopt;
}

void Validator::absolutePath(const toml::table& root, std::string_view key, std::string& out)
{
  const toml::node* n = root.get(key);
  if (!n)
    return;
  const auto s = stringOf(*n, key);
  if (!s)
    return;
  if (s->empty() || s->front() != '/') {
    error(*n, std::string(key) + " must be an absolute path, not " + inQuotes(*s));
    return;
  }
  out = *s;
}

void Validator::unlistedPorts(const toml::node& n)
{
  const auto s = stringOf(n, "unlisted_ports");
  if (!s)
    return;
  if (*s == "pass")
    config_.unlisted = PW_UNLISTED_PASS;
  else if (*s == "drop")
    config_.unlisted = PW_UNLISTED_DROP;
  else
    error(n, "unlisted_ports must be \"pass\" or \"drop\", not " + inQuotes(*s));
}

void Validator::run(const toml::table& root)
{
  root_ = &root;
  rejectUnknownKeys(root, "the top level", {kTopLevelKeys.begin(), kTopLevelKeys.end()});
  absolutePath(root, "pin_dir", config_.pinDir);
  absolutePath(root, "state_dir", config_.stateDir);
  if (const toml::node* n = root.get("unlisted_ports"))
    unlistedPorts(*n);
  interfaces(root);
  if (const toml::node* n = root.get("zones"))
    zones(*n);
  if (const toml::node* n = root.get("icmp"))
    icmp(*n);
  if (const toml::node* n = root.get("limits"))
    limits(*n);
  if (const toml::node* n = root.get("services"))
    services(*n);
  if (const toml::node* n = root.get("sip"))
    sip(*n);
  checkSip(); // after services: trap ports and the "sip" service are checked against them
  checkTableSizes();
}

LoadResult Validator::finish()
{
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return Pos{a.line, a.column} < Pos{b.line, b.column};
  });
  LoadResult result;
  result.diagnostics = std::move(diagnostics_);
  if (!failed_) {
    for (ServiceDraft& d : services_)
      config_.services.push_back(std::move(d.service));
    result.config = std::move(config_);
  }
  return result;
}

} // namespace detail

std::string Diagnostic::str() const
{
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0)
      out += ":" + std::to_string(column);
  }
  out += warning ? ": warning: " : ": error: ";
  out += message;
  return out;
}

bool LoadResult::ok() const
{
  return config.has_value() &&
         std::none_of(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) { return !d.warning; });
}

const Service* findService(const Config& config, std::string_view name)
{
  const auto it = std::find_if(config.services.begin(), config.services.end(),
                               [&](const Service& s) { return s.name == name; });
  return it == config.services.end() ? nullptr : &*it;
}

std::string_view xdpModeName(XdpMode mode)
{
  switch (mode) {
  case XdpMode::Auto: return "auto";
  case XdpMode::Native: return "native";
  case XdpMode::Generic: return "generic";
  }
  return "auto";
}

LoadResult loadString(std::string_view text, const std::string& name, const LoadOptions& options)
{
  detail::Validator v(name, options);
  try {
    const toml::table root = toml::parse(text, name);
    v.run(root);
  } catch (const toml::parse_error& e) {
    v.error(detail::posOf(e.source()), std::string(e.description()));
  }
  return v.finish();
}

LoadResult loadFile(const std::string& path, const LoadOptions& options)
{
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    LoadResult result;
    result.diagnostics.push_back({path, 0, 0, false, "cannot read: is a directory"});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    LoadResult result;
    result.diagnostics.push_back({path, 0, 0, false, std::string("cannot open: ") + std::strerror(err)});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    LoadResult result;
    result.diagnostics.push_back({path, 0, 0, false, "cannot read the file"});
    return result;
  }
  return loadString(text.str(), path, options);
}

} // namespace pbxwall::config
