// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwallctl zone list|add|del, and the zone entry operations blacklist and whitelist share:
// pbxwallctl entries win over the config file's, and deleting one falls back to the config.
#include "commands.hpp"
#include "output.hpp"

#include "names.hpp"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace pbxwall::ctl {

namespace {

// Above this many CIDRs one bulk read of the table beats a lookup per CIDR.
constexpr size_t kBulkReadThreshold = 256;
// Text output lists each entry up to this many, then only counts.
constexpr size_t kTextListMax = 20;

struct CidrHash {
    size_t operator()(const Cidr& c) const noexcept
    {
        uint64_t a = 0, b = 0;
        std::memcpy(&a, c.addr.bytes.data(), 8);
        std::memcpy(&b, c.addr.bytes.data() + 8, 8);
        return std::hash<uint64_t>{}(a * 0x9e3779b97f4a7c15ULL ^ b ^ (uint64_t{c.len} << 56));
    }
};

// Keeps the first occurrence of each CIDR (later duplicates would be counted twice as new).
void dedupe(std::vector<Cidr>& cidrs)
{
    std::unordered_set<Cidr, CidrHash> seen;
    seen.reserve(cidrs.size());
    std::vector<Cidr> out;
    out.reserve(cidrs.size());
    for (const auto& c : cidrs)
        if (seen.insert(c).second)
            out.push_back(c);
    cidrs = std::move(out);
}

// The active generation's entry for each CIDR, if any.
std::vector<std::optional<pw_zone_entry>> currentEntries(PolicyStore& store, const std::vector<Cidr>& cidrs)
{
    std::vector<std::optional<pw_zone_entry>> out;
    out.reserve(cidrs.size());
    if (cidrs.size() <= kBulkReadThreshold) {
        for (const auto& c : cidrs)
            out.push_back(store.zone(c));
        return out;
    }
    std::unordered_map<Cidr, pw_zone_entry, CidrHash> all;
    for (const auto& r : store.zones())
        all.emplace(r.cidr, r.entry);
    for (const auto& c : cidrs) {
        auto it = all.find(c);
        out.push_back(it == all.end() ? std::nullopt : std::optional(it->second));
    }
    return out;
}

std::optional<pw_zone> configZone(const std::optional<pw_zone_entry>& e)
{
    if (e && (e->origin & PW_ORIGIN_CONFIG))
        return static_cast<pw_zone>(e->cfg_zone);
    return std::nullopt;
}

// Puts the changed CIDRs back as they were, and the generation's counters with them.
struct Undo {
    PolicyStore& store;
    MapSet& maps;
    __u32 gen;
    pw_policy settings;
    const std::vector<Cidr>& cidrs;
    const std::vector<std::optional<pw_zone_entry>>& old;

    void operator()() const
    {
        std::vector<ZoneRecord> restore;
        for (size_t i = 0; i < cidrs.size(); ++i) {
            if (old[i])
                restore.push_back({cidrs[i], *old[i]});
            else
                store.eraseZone(cidrs[i]);
        }
        store.setZones(restore);
        maps.policy.update(gen, settings);
    }
};

} // namespace

void addZoneEntries(Context& ctx, const std::string& command, std::vector<Cidr> cidrs, pw_zone zone)
{
    dedupe(cidrs);
    ctx.lockExclusive();
    MapSet& maps = ctx.maps();
    PolicyStore& store = ctx.policy();
    CtlState& state = ctx.state();

    const auto old = currentEntries(store, cidrs);
    std::vector<ZoneRecord> records;
    records.reserve(cidrs.size());
    size_t fresh = 0;
    for (size_t i = 0; i < cidrs.size(); ++i) {
        records.push_back({cidrs[i], makeZoneEntry(configZone(old[i]), zone)});
        fresh += !old[i];
    }

    const Undo undo{store, maps, maps.activeGen(), store.settings(), cidrs, old};
    try {
        store.setZones(records);
    } catch (const std::system_error&) {
        undo(); // a map write failed part way
        throw;
    } catch (const std::runtime_error& e) {
        failure(command + ": " + e.what()); // capacity: nothing was written
    }

    std::unordered_map<Cidr, size_t, CidrHash> index;
    index.reserve(state.zones.size());
    for (size_t i = 0; i < state.zones.size(); ++i)
        index.emplace(state.zones[i].cidr, i);
    for (const auto& c : cidrs) {
        if (auto it = index.find(c); it != index.end())
            state.zones[it->second].zone = zone;
        else
            state.zones.push_back({c, zone});
    }
    ctx.commit(undo);

    if (ctx.json()) {
        printJsonArray(ctx, "added", cidrs.size(), [&](size_t i) {
            return nlohmann::ordered_json{{"cidr", cidrs[i].str()}, {"zone", zoneName(zone)}};
        });
        return;
    }
    if (cidrs.size() > kTextListMax) {
        std::cout << "added " << cidrs.size() << " entries to zone " << zoneName(zone) << " (" << fresh << " new, "
                  << cidrs.size() - fresh << " replaced)\n";
        return;
    }
    for (size_t i = 0; i < cidrs.size(); ++i) {
        std::cout << "added " << cidrs[i].str() << " to zone " << zoneName(zone);
        if (auto cfg = configZone(old[i]); cfg && *cfg != zone)
            std::cout << " (overrides the config file's zone " << zoneName(*cfg) << ")";
        std::cout << '\n';
    }
}

void deleteZoneEntries(Context& ctx, const std::string& command, std::vector<Cidr> cidrs,
                       std::optional<pw_zone> listZone, const std::string& listName)
{
    dedupe(cidrs);
    ctx.lockExclusive();
    MapSet& maps = ctx.maps();
    PolicyStore& store = ctx.policy();
    CtlState& state = ctx.state();

    std::unordered_map<Cidr, pw_zone, CidrHash> inState;
    inState.reserve(state.zones.size());
    for (const auto& z : state.zones)
        inState.emplace(z.cidr, z.zone);
    const auto old = currentEntries(store, cidrs);

    // Check every CIDR before changing anything.
    const std::string notOn = listZone ? " is not on the " + listName : " has no pbxwallctl entry";
    for (size_t i = 0; i < cidrs.size(); ++i) {
        const std::string what = command + ": " + cidrs[i].str();
        const auto& e = old[i];
        std::optional<pw_zone> ctlZone;
        if (e && (e->origin & PW_ORIGIN_CTL))
            ctlZone = static_cast<pw_zone>(e->ctl_zone);
        else if (auto it = inState.find(cidrs[i]); it != inState.end())
            ctlZone = it->second; // recorded but not in the maps: only the state file changes
        if (ctlZone) {
            if (listZone && *ctlZone != *listZone)
                failure(what + notOn + " (its pbxwallctl zone is " + std::string(zoneName(*ctlZone)) + ")");
            continue;
        }
        if (e && (!listZone || e->zone == *listZone))
            failure(what + " comes from the config file; edit it there");
        failure(what + notOn);
    }

    std::vector<ZoneRecord> fallbacks;
    std::vector<Cidr> gone;
    for (size_t i = 0; i < cidrs.size(); ++i) {
        if (!old[i] || !(old[i]->origin & PW_ORIGIN_CTL))
            continue;
        if (auto cfg = configZone(old[i]))
            fallbacks.push_back({cidrs[i], makeZoneEntry(cfg, std::nullopt)});
        else
            gone.push_back(cidrs[i]);
    }
    const Undo undo{store, maps, maps.activeGen(), store.settings(), cidrs, old};
    try {
        store.setZones(fallbacks);
        for (const auto& c : gone)
            store.eraseZone(c);
    } catch (const std::exception&) {
        undo();
        throw;
    }

    std::unordered_set<Cidr, CidrHash> dropped(cidrs.begin(), cidrs.end());
    std::erase_if(state.zones, [&](const CtlZone& z) { return dropped.count(z.cidr) > 0; });
    ctx.commit(undo);

    auto removedZone = [&](size_t i) {
        if (old[i] && (old[i]->origin & PW_ORIGIN_CTL))
            return static_cast<pw_zone>(old[i]->ctl_zone);
        return inState.at(cidrs[i]);
    };
    if (ctx.json()) {
        printJsonArray(ctx, "deleted", cidrs.size(), [&](size_t i) {
            auto cfg = configZone(old[i]);
            return nlohmann::ordered_json{{"cidr", cidrs[i].str()},
                                  {"zone", zoneName(removedZone(i))},
                                  {"config_zone", cfg ? nlohmann::ordered_json(zoneName(*cfg)) : nlohmann::ordered_json()}};
        });
        return;
    }
    if (cidrs.size() > kTextListMax) {
        std::cout << "deleted " << cidrs.size() << " entries (" << fallbacks.size()
                  << " fall back to their config file zone)\n";
        return;
    }
    for (size_t i = 0; i < cidrs.size(); ++i) {
        std::cout << "deleted " << cidrs[i].str() << " (zone " << zoneName(removedZone(i)) << ")";
        if (auto cfg = configZone(old[i]))
            std::cout << "; the config file's zone " << zoneName(*cfg) << " applies again";
        std::cout << '\n';
    }
}

void listZoneEntries(Context& ctx, std::optional<pw_zone> only)
{
    ctx.lockShared();
    auto records = ctx.policy().zones();
    if (only)
        std::erase_if(records, [&](const ZoneRecord& r) { return r.entry.zone != *only; });
    std::sort(records.begin(), records.end(), [](const ZoneRecord& a, const ZoneRecord& b) { return a.cidr < b.cidr; });

    if (ctx.json()) {
        printJsonArray(ctx, "zones", records.size(), [&](size_t i) {
            nlohmann::ordered_json j{{"cidr", records[i].cidr.str()}};
            zoneEntryJson(j, records[i].entry);
            return j;
        });
        return;
    }
    // Streamed rather than a Table: a million rows of five strings would be hundreds of MB.
    std::vector<std::string> names;
    names.reserve(records.size());
    size_t width = 4;
    for (const auto& r : records) {
        names.push_back(r.cidr.str());
        width = std::max(width, names.back().size());
    }
    auto row = [&](const std::string& cidr, const std::string& zone, const std::string& origin,
                   const std::string& cfg, const std::string& ctl) {
        std::string line = cidr;
        line.resize(width + 2, ' ');
        line += zone;
        line.resize(width + 2 + 10, ' ');
        line += origin;
        line.resize(width + 2 + 10 + 12, ' ');
        line += cfg;
        line.resize(width + 2 + 10 + 12 + 10, ' ');
        line += ctl;
        std::cout << line << '\n';
    };
    row("CIDR", "ZONE", "ORIGIN", "CONFIG", "CTL");
    for (size_t i = 0; i < records.size(); ++i) {
        const auto& e = records[i].entry;
        row(names[i], zoneLabel(e.zone), originName(e.origin), configZoneText(e), ctlZoneText(e));
    }
}

void addZoneCommands(CLI::App& app, Context& ctx)
{
    auto* zone = app.add_subcommand("zone", "Address and network entries: which zone a source CIDR belongs to");
    zone->require_subcommand(1);

    struct Opts {
        std::string cidr, zone, only;
        std::vector<std::string> cidrs;
    };
    auto o = std::make_shared<Opts>();

    auto* list = zone->add_subcommand("list", "List every address entry of the active policy");
    list->add_option("--zone", o->only, "Only entries whose zone is this one")->type_name("ZONE");
    list->callback([&ctx, o] {
        ctx.action = [o](Context& c) {
            std::optional<pw_zone> only;
            if (!o->only.empty())
                only = parseZoneArg("zone list", o->only);
            listZoneEntries(c, only);
        };
    });

    auto* add = zone->add_subcommand("add", "Put a CIDR in a zone (wins over the config file)");
    add->add_option("cidr", o->cidr, "Address or network, e.g. 192.0.2.0/24 or 2001:db8::1")
        ->required()
        ->type_name("CIDR");
    add->add_option("zone", o->zone, "trusted, local, other, internet or reject")->required()->type_name("ZONE");
    add->callback([&ctx, o] {
        ctx.action = [o](Context& c) {
            const Cidr cidr = parseCidrArg("zone add", o->cidr);
            const pw_zone z = parseZoneArg("zone add", o->zone);
            addZoneEntries(c, "zone add", {cidr}, z);
        };
    });

    auto* del = zone->add_subcommand("del", "Delete pbxwallctl entries (the config file's zone applies again)");
    del->add_option("cidrs", o->cidrs, "Addresses or networks added with zone add")->required()->type_name("CIDR");
    del->callback([&ctx, o] {
        ctx.action = [o](Context& c) {
            std::vector<Cidr> cidrs;
            for (const auto& t : o->cidrs)
                cidrs.push_back(parseCidrArg("zone del", t));
            deleteZoneEntries(c, "zone del", std::move(cidrs), std::nullopt, "");
        };
    });
}

} // namespace pbxwall::ctl
