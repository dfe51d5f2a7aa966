// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwallctl status: where the maps are, the active policy generation and its settings, how
// full the tables are, and each interface with its zone and XDP attachment.
#include "commands.hpp"
#include "output.hpp"
#include "xdp_status.hpp"

#include "names.hpp"

#include <net/if.h>

#include <iostream>

namespace pbxwall::ctl {

namespace {

std::vector<std::string> zoneSet(__u8 bits)
{
    std::vector<std::string> out;
    for (unsigned z = PW_ZONE_NONE + 1; z < PW_ZONE__COUNT; ++z)
        if (bits & PW_ZONE_BIT(z))
            out.push_back(std::string(zoneName(z)));
    return out;
}

std::string joined(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : ", ") + s;
    return out.empty() ? "none" : out;
}

void showStatus(Context& ctx)
{
    ctx.lockShared();
    MapSet& maps = ctx.maps();
    PolicyStore& store = ctx.policy();
    const __u32 gen = maps.activeGen();
    const pw_policy settings = store.settings();
    const std::string unlisted = settings.unlisted == PW_UNLISTED_PASS ? "pass" : "drop";
    const auto echo = zoneSet(settings.echo_zones);

    const auto [hosts4, hosts6] = store.hostCounts();
    const uint64_t now = monotonicNowNs();
    size_t bans = 0, expiredBans = 0;
    for (const auto& [k, b] : maps.bans.entries()) {
        ++bans;
        expiredBans += b.expires_ns != 0 && b.expires_ns <= now;
    }
    const auto g = maps.gen.lookup(0);
    const size_t cachedBans = maps.bans.cachedCount(g ? g->ban_half : 0, now);
    size_t known = 0, expiredKnown = 0;
    for (const auto& [k, kn] : maps.known.entries()) {
        ++known;
        expiredKnown += kn.expires_ns <= now;
    }

    struct Row {
        IfaceRecord rec;
        std::string name;
        XdpStatus xdp;
    };
    std::vector<Row> ifaces;
    for (const auto& r : store.ifaces()) {
        char buf[IF_NAMESIZE] = {};
        ifaces.push_back({r, if_indextoname(r.ifindex, buf) ? buf : "", xdpStatus(r.ifindex, maps.statsFd)});
    }

    if (ctx.json()) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& i : ifaces) {
            nlohmann::ordered_json j{{"name", i.name.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(i.name)},
                             {"ifindex", i.rec.ifindex}};
            zoneEntryJson(j, i.rec.entry);
            j["slot"] = i.rec.entry.slot;
            j["xdp"] = xdpStatusJson(i.xdp);
            list.push_back(j);
        }
        const auto cfg = ctx.configUsed();
        printJson(ctx, {{"pin_dir", ctx.pinDir()},
                        {"state_dir", ctx.stateDir()},
                        {"config", cfg ? nlohmann::ordered_json(*cfg) : nlohmann::ordered_json()},
                        {"generation", gen},
                        {"unlisted_ports", unlisted},
                        {"echo_zones", echo},
                        {"entries",
                         {{"hosts", {{"count", hosts4}, {"capacity", maps.hosts4.capacity()}}},
                          {"hosts6", {{"count", hosts6}, {"capacity", maps.hosts6.capacity()}}},
                          {"nets", {{"count", settings.net_count}, {"capacity", maps.netsCapacity()}}},
                          {"bans",
                           {{"count", bans},
                            {"expired", expiredBans},
                            {"cached", cachedBans},
                            {"capacity", maps.bansCapacity()}}},
                          {"known", {{"count", known}, {"expired", expiredKnown}, {"capacity", maps.knownCapacity()}}}}},
                        {"interfaces", list}});
        return;
    }
    auto out = [](const std::string& key, const std::string& value) {
        std::string line = key + ":";
        line.resize(17, ' ');
        std::cout << line << value << '\n';
    };
    out("pin dir", ctx.pinDir());
    out("state dir", ctx.stateDir());
    out("config", ctx.configUsed().value_or("-"));
    out("generation", std::to_string(gen));
    out("unlisted ports", unlisted);
    out("echo zones", joined(echo));
    out("hosts", std::to_string(hosts4) + " / " + std::to_string(maps.hosts4.capacity()));
    out("hosts6", std::to_string(hosts6) + " / " + std::to_string(maps.hosts6.capacity()));
    out("nets", std::to_string(settings.net_count) + " / " + std::to_string(maps.netsCapacity()));
    out("bans", std::to_string(bans) + " / " + std::to_string(maps.bansCapacity()) +
                    (expiredBans ? " (" + std::to_string(expiredBans) + " expired)" : "") + ", " +
                    std::to_string(cachedBans) + " in the ban cache");
    out("known", std::to_string(known) + " / " + std::to_string(maps.knownCapacity()) +
                     (expiredKnown ? " (" + std::to_string(expiredKnown) + " expired)" : ""));
    std::cout << "interfaces:\n";
    Table t({"  NAME", "IFINDEX", "ZONE", "SLOT", "ORIGIN", "XDP"}, {false, true, false, true});
    for (const auto& i : ifaces)
        t.add({"  " + (i.name.empty() ? "?" : i.name), std::to_string(i.rec.ifindex), zoneLabel(i.rec.entry.zone),
               std::to_string(i.rec.entry.slot), originName(i.rec.entry.origin), xdpStatusText(i.xdp)});
    t.print(std::cout);
}

} // namespace

void addStatusCommand(CLI::App& app, Context& ctx)
{
    app.add_subcommand("status", "Pin dir, policy generation and settings, table usage, interfaces")->callback([&ctx] {
        ctx.action = [](Context& c) { showStatus(c); };
    });
}

} // namespace pbxwall::ctl
