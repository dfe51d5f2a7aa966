// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwallctl stats: the verdict counters per (interface, zone, reason), and totals per reason.
#include "commands.hpp"
#include "output.hpp"

#include "names.hpp"
#include "stats.hpp"

#include <net/if.h>

#include <iostream>
#include <map>

namespace pbxwall::ctl {

namespace {

// Counter slot -> interface name; slot 0 counts the interfaces the policy does not name.
std::map<unsigned, std::string> slotNames(PolicyStore& store)
{
    std::map<unsigned, std::string> names{{0, "other"}};
    for (const auto& r : store.ifaces()) {
        char buf[IF_NAMESIZE] = {};
        names[r.entry.slot] = if_indextoname(r.ifindex, buf) ? buf : "ifindex" + std::to_string(r.ifindex);
    }
    return names;
}

std::string slotName(const std::map<unsigned, std::string>& names, unsigned slot)
{
    auto it = names.find(slot);
    return it != names.end() ? it->second : "slot" + std::to_string(slot);
}

const char* actionName(unsigned reason) { return reasonIsDrop(reason) ? "drop" : "pass"; }

void showStats(Context& ctx)
{
    MapSet& maps = ctx.maps();
    const auto names = slotNames(ctx.policy());
    const auto rows = readCounters(maps.statsFd);

    std::map<unsigned, std::pair<uint64_t, uint64_t>> totals; // reason -> packets, bytes
    for (const auto& r : rows) {
        totals[r.reason].first += r.packets;
        totals[r.reason].second += r.bytes;
    }

    if (ctx.json()) {
        nlohmann::ordered_json counters = nlohmann::ordered_json::array();
        for (const auto& r : rows)
            counters.push_back({{"iface", slotName(names, r.slot)},
                                {"slot", r.slot},
                                {"zone", zoneLabel(r.zone)},
                                {"reason", reasonLabel(r.reason)},
                                {"action", actionName(r.reason)},
                                {"packets", r.packets},
                                {"bytes", r.bytes}});
        nlohmann::ordered_json sums = nlohmann::ordered_json::array();
        for (const auto& [reason, pb] : totals)
            sums.push_back({{"reason", reasonLabel(reason)},
                            {"action", actionName(reason)},
                            {"packets", pb.first},
                            {"bytes", pb.second}});
        printJson(ctx, {{"counters", counters}, {"totals", sums}});
        return;
    }
    Table t({"IFACE", "ZONE", "REASON", "ACTION", "PACKETS", "BYTES"}, {false, false, false, false, true, true});
    for (const auto& r : rows)
        t.add({slotName(names, r.slot), zoneLabel(r.zone), reasonLabel(r.reason), actionName(r.reason),
               std::to_string(r.packets), std::to_string(r.bytes)});
    t.print(std::cout);
    std::cout << '\n';
    Table s({"REASON", "ACTION", "PACKETS", "BYTES"}, {false, false, true, true});
    for (const auto& [reason, pb] : totals)
        s.add({reasonLabel(reason), actionName(reason), std::to_string(pb.first), std::to_string(pb.second)});
    s.print(std::cout);
}

} // namespace

void addStatsCommand(CLI::App& app, Context& ctx)
{
    app.add_subcommand("stats", "Packet and byte counters per interface, zone and reason, with totals per reason")
        ->callback([&ctx] { ctx.action = [](Context& c) { showStats(c); }; });
}

} // namespace pbxwall::ctl
