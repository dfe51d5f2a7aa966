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
  uint32_t hosts = PW_DEFAULT_HOSTS;
  uint32_t nets = PW_DEFAULT_NETS;
  uint32_t bans = PW_DEFAULT_BANS;
  uint32_t flows = PW_DEFAULT_FLOWS;
  uint32_t frags = PW_DEFAULT_FRAGS;
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

// Names used in the file and in messages: "auto", "native", "generic".
std::string_view xdpModeName(XdpMode mode);

} // namespace pbxwall::config
