// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Text tables, JSON documents and error lines of pbxwallctl.
#include "output.hpp"

#include "common.hpp"
#include "names.hpp"

#include <time.h>

#include <algorithm>
#include <iostream>

namespace pbxwall::ctl {

Table::Table(std::vector<std::string> headers, std::vector<bool> rightAligned)
    : headers_(std::move(headers)), right_(std::move(rightAligned))
{
    right_.resize(headers_.size(), false);
}

void Table::add(std::vector<std::string> row)
{
    row.resize(headers_.size());
    rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const
{
    std::vector<size_t> width(headers_.size());
    for (size_t c = 0; c < headers_.size(); ++c) {
        width[c] = headers_[c].size();
        for (const auto& r : rows_)
            width[c] = std::max(width[c], r[c].size());
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (size_t c = 0; c < cells.size(); ++c) {
            const bool last = c + 1 == cells.size();
            const std::string pad(width[c] - cells[c].size(), ' ');
            if (right_[c])
                text += pad + cells[c];
            else
                text += last ? cells[c] : cells[c] + pad;
            if (!last)
                text += "  ";
        }
        out << text << '\n';
    };
    line(headers_);
    for (const auto& r : rows_)
        line(r);
}

namespace {

// JSON text of j. Strings come from the command line, input files and interface names, none of
// which need be UTF-8: a byte that is not becomes U+FFFD instead of an exception (which, thrown
// while an error is reported, would end pbxwallctl without its JSON document).
std::string text(const nlohmann::ordered_json& j, int indent = -1)
{
    return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace

void printJson(const Context& ctx, const nlohmann::ordered_json& doc)
{
    std::cout << text(doc, ctx.opt.pretty ? 2 : -1) << '\n';
}

void printJsonArray(const Context& ctx, const std::string& key, size_t n,
                    const std::function<nlohmann::ordered_json(size_t)>& item)
{
    // The same text dump(2) would give for the whole document, without building it.
    const std::string name = text(nlohmann::ordered_json(key));
    if (!ctx.opt.pretty) {
        std::cout << '{' << name << ":[";
        for (size_t i = 0; i < n; ++i)
            std::cout << (i ? "," : "") << text(item(i));
        std::cout << "]}\n";
        return;
    }
    std::cout << "{\n  " << name << ": [";
    for (size_t i = 0; i < n; ++i) {
        const std::string itemText = text(item(i), 2);
        std::string indented = "    ";
        for (char c : itemText) {
            indented += c;
            if (c == '\n')
                indented += "    ";
        }
        std::cout << (i ? ",\n" : "\n") << indented;
    }
    std::cout << (n ? "\n  ]\n}\n" : "]\n}\n");
}

void printError(bool json, const std::string& message)
{
    std::string line = message;
    std::replace(line.begin(), line.end(), '\n', ' ');
    if (json)
        std::cout << text(nlohmann::ordered_json{{"error", line}}) << '\n';
    else
        std::cerr << "pbxwallctl: error: " << line << '\n';
}

std::string originName(__u8 origin)
{
    const bool cfg = origin & PW_ORIGIN_CONFIG;
    const bool ctl = origin & PW_ORIGIN_CTL;
    if (cfg && ctl)
        return "config+ctl";
    if (cfg)
        return "config";
    if (ctl)
        return "ctl";
    return "-";
}

void zoneEntryJson(nlohmann::ordered_json& j, const pw_zone_entry& e)
{
    j["zone"] = zoneLabel(e.zone);
    j["origin"] = originName(e.origin);
    j["config_zone"] = (e.origin & PW_ORIGIN_CONFIG) ? nlohmann::ordered_json(zoneLabel(e.cfg_zone)) : nlohmann::ordered_json();
    j["ctl_zone"] = (e.origin & PW_ORIGIN_CTL) ? nlohmann::ordered_json(zoneLabel(e.ctl_zone)) : nlohmann::ordered_json();
}

std::string configZoneText(const pw_zone_entry& e)
{
    return (e.origin & PW_ORIGIN_CONFIG) ? zoneLabel(e.cfg_zone) : "-";
}

std::string ctlZoneText(const pw_zone_entry& e)
{
    return (e.origin & PW_ORIGIN_CTL) ? zoneLabel(e.ctl_zone) : "-";
}

std::string localTime(int64_t unixSeconds)
{
    if (unixSeconds == 0)
        return "-";
    const time_t t = static_cast<time_t>(unixSeconds);
    struct tm tm{};
    if (!localtime_r(&t, &tm))
        return std::to_string(unixSeconds);
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

} // namespace pbxwall::ctl
