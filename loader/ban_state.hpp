// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwalld's side of the bans and known sources it keeps: the state file replayed into the
// maps, IPv6 prefix bans refitted to [sip] ipv6_prefix, expired entries swept.
#pragma once

#include "config.hpp"
#include "map_set.hpp"
#include "state.hpp"

#include <optional>
#include <utility>
#include <vector>

namespace pbxwall::loader {

// Bans recorded in state_dir that are missing from the map (after a reboot) come back with
// their remaining time; expired ones are dropped.
void replayBans(MapSet& maps, const CtlState& state);

// What widenAhead wrote over: each key with the ban it held before (none: the key was free).
using BanUndo = std::vector<std::pair<pw_ban_key, std::optional<pw_ban>>>;

// Before a policy with another ipv6_prefix (len) is installed: the widened prefix bans beside
// the old ones; returns what to put back (undoBans) if the install fails.
BanUndo widenAhead(MapSet& maps, unsigned len);
void undoBans(MapSet& maps, const BanUndo& undo);

// After: the prefix bans of another length lifted (widened or lifted), the state file rewritten.
// Under the pin lock; returns whether the map changed (the caller rebuilds the ban filter).
bool refitPrefixBans(MapSet& maps, const config::Config& cfg);

// Expired bans out of the map and the state file; bans in force the file lacks, or holds with
// an earlier end, into it.
void sweepBans(MapSet& maps, const config::Config& cfg);

// At a stop (SIGTERM, --detach): the bans in force that state_dir/bans lacks or holds with an
// earlier end (set or lengthened by the data plane while no pbxwalld ran, or whose events were
// not read yet) into it, so that a start with new pins (a reboot, --detach) replays them. Under
// the caller's pin lock; returns how many.
size_t keepBansInForce(const BanTable& map, const std::string& stateDir);

// Replays state_dir/known into an empty pw_known (a start with new pins); logs what it skips.
void replayKnown(MapSet& maps, const config::Config& cfg);

// Expired known sources out of pw_known, the known filter rebuilt, the live ones to
// state_dir/known.
void sweepKnown(MapSet& maps, const config::Config& cfg);

} // namespace pbxwall::loader
