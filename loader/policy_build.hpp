// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Turns the config file plus the pbxwallctl state into one complete PolicyImage.
#pragma once

#include <string_view>

#include "config.hpp"
#include "policy.hpp"
#include "state.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace pbxwall {

// Name -> ifindex in this network namespace; 0 when the interface does not exist.
using IfindexResolver = std::function<unsigned(const std::string&)>;

// The responsive-mode knobs of [sip], in the data plane's units.
void setResponsive(pw_policy& p, const config::Sip& sip);
// The scanner signatures and toll-fraud prefixes of [sip], as pw_siprules holds them.
pw_sip_rules makeSipRules(const config::Sip& sip);
// The offset of the four bytes of a signature the filter holds: the ones least likely in clean
// User-Agent and From values (not "sip:", not address digits).
size_t quietGram(std::string_view text);

// The counter slot each interface (by ifindex) holds in the policy in force.
using SlotsHeld = std::map<unsigned, __u8>;

// Counter slots: an interface keeps the one it holds in slotsHeld; the others (config
// interfaces in file order, then pbxwallctl-only ones) take the lowest free ones, from 1.
// Interfaces that do not exist are left out and reported in `notes`.
PolicyImage buildPolicyImage(const config::Config& cfg, const CtlState& state, const IfindexResolver& ifindexOf,
                             std::vector<std::string>* notes = nullptr, const SlotsHeld* slotsHeld = nullptr);

} // namespace pbxwall
