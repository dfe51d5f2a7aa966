// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwallctl output: aligned text tables, the one JSON document on stdout, error lines, and
// the shared renderings of zone entries (origin, zones) and times.
#pragma once

#include "pbxwall_abi.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace pbxwall::ctl {

class Context;

// Columns separated by two spaces; the last column is not padded.
class Table {
public:
    explicit Table(std::vector<std::string> headers, std::vector<bool> rightAligned = {});
    void add(std::vector<std::string> row);
    void print(std::ostream& out) const;
    bool empty() const { return rows_.empty(); }

private:
    std::vector<std::string> headers_;
    std::vector<bool> right_;
    std::vector<std::vector<std::string>> rows_;
};

// The result document on stdout (compact, or indented with --pretty).
void printJson(const Context& ctx, const nlohmann::ordered_json& doc);

// {"<key>": [item(0), ..., item(n-1)]} written element by element: results of a million
// entries would not fit comfortably in one nlohmann::ordered_json.
void printJsonArray(const Context& ctx, const std::string& key, size_t n,
                    const std::function<nlohmann::ordered_json(size_t)>& item);

// The one error report: {"error": message} on stdout in JSON mode, else
// "pbxwallctl: error: message" on stderr. Newlines in message become spaces.
void printError(bool json, const std::string& message);

// "config", "ctl", "config+ctl" ("-" when no bit is set).
std::string originName(__u8 origin);
// A zone entry's members as JSON: zone, origin, config_zone, ctl_zone (null when absent).
void zoneEntryJson(nlohmann::ordered_json& j, const pw_zone_entry& e);
// The config / ctl zone columns of a text table ("-" when absent).
std::string configZoneText(const pw_zone_entry& e);
std::string ctlZoneText(const pw_zone_entry& e);

// "2024-11-24 22:05:01" in local time; "-" for 0.
std::string localTime(int64_t unixSeconds);

} // namespace pbxwall::ctl
