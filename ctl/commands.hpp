// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The command table: each noun registers its CLI11 subcommands; the zone operations are
// shared by zone, blacklist and whitelist.
#pragma once

#include "addr.hpp"
#include "common.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pbxwall::ctl {

void addStatusCommand(CLI::App& app, Context& ctx);
void addZoneCommands(CLI::App& app, Context& ctx);
void addListCommands(CLI::App& app, Context& ctx); // blacklist, whitelist
void addIfaceCommands(CLI::App& app, Context& ctx);
void addBanCommands(CLI::App& app, Context& ctx);
void addKnownCommands(CLI::App& app, Context& ctx);
void addStatsCommand(CLI::App& app, Context& ctx);

// zone add / blacklist add / whitelist add: every CIDR gets the pbxwallctl zone `zone`. A CIDR
// wider than an IPv4 /8 or an IPv6 /16 in a zone other than internet is a usage error unless
// `force` (zone_advice.hpp); one that no packet can match (martian space) gets a note.
void addZoneEntries(Context& ctx, const std::string& command, std::vector<Cidr> cidrs, pw_zone zone, bool force);
// zone del / blacklist del / whitelist del: removes the pbxwallctl entries. With `listZone`,
// each CIDR must be on that list (its pbxwallctl zone is listZone); `listName` names it.
void deleteZoneEntries(Context& ctx, const std::string& command, std::vector<Cidr> cidrs,
                       std::optional<pw_zone> listZone, const std::string& listName);
// zone list / blacklist list / whitelist list: entries whose effective zone is `only`, or all.
void listZoneEntries(Context& ctx, std::optional<pw_zone> only);

} // namespace pbxwall::ctl
