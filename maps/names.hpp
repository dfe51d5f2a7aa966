// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// User-facing names of the ABI enums (zones, reasons, ban causes): the lower-case enum name
// without its prefix. One constexpr table per enum, checked against the ABI sentinels.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pbxwall_abi.h"

namespace pbxwall {

// "none", "trusted", "local", "other", "internet", "reject"; empty for an unknown number.
std::string_view zoneName(unsigned zone);
// As zoneName, but never empty: "zone_N" for an unknown number (for printing map contents).
std::string zoneLabel(unsigned zone);
// Case-sensitive; "none" is not a zone anyone can name, so it gives nullopt.
std::optional<pw_zone> zoneFromName(std::string_view name);

// "non_ip", "trusted", ..., "fragment_orphan"; empty for an unused number.
std::string_view reasonName(unsigned reason);
// As reasonName, but never empty: "reason_N" for an unused number.
std::string reasonLabel(unsigned reason);
std::optional<pw_reason> reasonFromName(std::string_view name);
bool reasonIsDrop(unsigned reason); // PW_REASON_IS_DROP

// "manual"; empty for an unknown number.
std::string_view banCauseName(unsigned cause);

} // namespace pbxwall
