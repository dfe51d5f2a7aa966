// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwallctl zone list|add|del, and the zone entry operations blacklist and whitelist share:
// pbxwallctl entries win over the config file's, and deleting one falls back to the config.
#include "commands.hpp"
#include "output.hpp"

#include "names.hpp"
#include "zone_advice.hpp"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <memory>

namespace pbxwall::ctl {

namespace {

// Above this many CIDRs one bulk read of the table beats a lookup per CIDR.
constexpr size_t kBulkReadThreshold = 256;
// Text output lists each entry up to this many, then only counts.
constexpr size_t kTextListMax = 20;

size_t hashCidr(const Cidr& c)
{
    uint64_t a = 0, b = 0;
    std::memcpy(&a, c.addr.bytes.data(), 8);
    std::memcpy(&b, c.addr.bytes.data() + 8, 8);
    uint64_t h = (a * 0x9e3779b97f4a7c15ULL) ^ b ^ (uint64_t{c.len} << 56);
    h ^= h >> 33; // murmur3's finaliser: every input bit reaches the low bits the index uses
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return static_cast<size_t>(h);
}

// Where each CIDR is in a vector of items (CIDRs, records, state entries): open addressing over
// positions, sized once for the vector as it is when built. A million entries cost two
// allocations, not a million nodes as in std::unordered_map.
template <typename Item, typename CidrOf>
class CidrIndex {
public:
    CidrIndex(const std::vector<Item>& items, CidrOf cidrOf) : items_(items), cidrOf_(cidrOf)
    {
        size_t cap = 16;
        while (cap < 2 * items.size())
            cap <<= 1;
        slots_.assign(cap, kEmpty);
        mask_ = cap - 1;
    }
    // Indexes item i; false (nothing indexed) when an earlier item has the same CIDR.
    bool add(size_t i)
    {
        const Cidr& c = cidrOf_(items_[i]);
        for (size_t s = hashCidr(c) & mask_;; s = (s + 1) & mask_) {
            if (slots_[s] == kEmpty) {
                slots_[s] = static_cast<uint32_t>(i);
                return true;
            }
            if (cidrOf_(items_[slots_[s]]) == c)
                return false;
        }
    }
    void addAll()
    {
        for (size_t i = 0; i < items_.size(); ++i)
            add(i);
    }
    // The position of the first indexed item with CIDR c.
    std::optional<size_t> find(const Cidr& c) const
    {
        for (size_t s = hashCidr(c) & mask_;; s = (s + 1) & mask_) {
            if (slots_[s] == kEmpty)
                return std::nullopt;
            if (cidrOf_(items_[slots_[s]]) == c)
                return slots_[s];
        }
    }
    bool contains(const Cidr& c) const { return find(c).has_value(); }

private:
    static constexpr uint32_t kEmpty = UINT32_MAX;
    const std::vector<Item>& items_;
    CidrOf cidrOf_;
    std::vector<uint32_t> slots_;
    size_t mask_ = 0;
};

auto indexCidrs(const std::vector<Cidr>& v)
{
    CidrIndex idx(v, [](const Cidr& c) -> const Cidr& { return c; });
    idx.addAll();
    return idx;
}

// Keeps the first occurrence of each CIDR (later duplicates would be counted twice as new).
void dedupe(std::vector<Cidr>& cidrs)
{
    std::vector<Cidr> out;
    {
        CidrIndex seen(cidrs, [](const Cidr& c) -> const Cidr& { return c; });
        for (size_t i = 0; i < cidrs.size(); ++i)
            if (seen.add(i))
                out.push_back(cidrs[i]);
    }
    if (out.size() != cidrs.size())
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
    const auto all = store.zones();
    CidrIndex idx(all, [](const ZoneRecord& r) -> const Cidr& { return r.cidr; });
    idx.addAll();
    for (const auto& c : cidrs) {
        auto i = idx.find(c);
        out.push_back(i ? std::optional(all[*i].entry) : std::nullopt);
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
        std::vector<Cidr> fresh;
        for (size_t i = 0; i < cidrs.size(); ++i) {
            if (old[i])
                restore.push_back({cidrs[i], *old[i]});
            else
                fresh.push_back(cidrs[i]);
        }
        store.eraseZones(fresh);
        store.setZones(restore);
        // A bulk delete installs a new generation, whose counters setZones kept up to date.
        if (maps.activeGen() == gen)
            maps.policy.update(gen, settings);
    }
};

// Martian entries named one by one; the rest of a bogon list is counted.
constexpr size_t kMartianNotes = 3;

} // namespace

void addZoneEntries(Context& ctx, const std::string& command, std::vector<Cidr> cidrs, pw_zone zone, bool force)
{
    dedupe(cidrs);
    // A typo away from "0.0.0.0/0 trusted" (the firewall off) or "reject" (every phone cut off).
    if (!force)
        for (const Cidr& c : cidrs)
            if (const auto why = wideEntry(c, zone))
                usageError(command + ": " + *why + "; add --force if that is meant (nothing was changed)");
    // IPv4 lives at ::ffff:0:0/96 in the 128-bit space, inside a short IPv6 prefix such as ::/0;
    // the data plane judges IPv4 by IPv4 prefixes alone (as the config check warns too).
    size_t martians = 0;
    for (const Cidr& c : cidrs) {
        if (!c.isV4() && c.len < kV4MappedLen && c.contains(Addr::fromV4(0)))
            ctx.note(command + ": " + c.str() + " covers IPv6 addresses only; IPv4 needs its own entry (0.0.0.0/0 for all of it)");
        if (const auto why = martianEntry(c); why && ++martians <= kMartianNotes)
            ctx.note(command + ": " + *why);
    }
    if (martians > kMartianNotes)
        ctx.note(command + ": " + std::to_string(martians - kMartianNotes) + " more entries lie in martian space");
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

    {
        // Indexes the entries as they were (the CIDRs are distinct: none is looked up after it
        // was appended).
        CidrIndex index(state.zones, [](const CtlZone& z) -> const Cidr& { return z.cidr; });
        index.addAll();
        state.zones.reserve(state.zones.size() + cidrs.size());
        for (const auto& c : cidrs) {
            if (auto i = index.find(c))
                state.zones[*i].zone = zone;
            else
                state.zones.push_back({c, zone});
        }
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

    CidrIndex inState(state.zones, [](const CtlZone& z) -> const Cidr& { return z.cidr; });
    inState.addAll();
    const auto old = currentEntries(store, cidrs);

    // Check every CIDR before changing anything.
    const std::string notOn = listZone ? " is not on the " + listName : " has no pbxwallctl entry";
    for (size_t i = 0; i < cidrs.size(); ++i) {
        const std::string what = command + ": " + cidrs[i].str();
        const auto& e = old[i];
        std::optional<pw_zone> ctlZone;
        if (e && (e->origin & PW_ORIGIN_CTL))
            ctlZone = static_cast<pw_zone>(e->ctl_zone);
        else if (auto at = inState.find(cidrs[i]))
            ctlZone = state.zones[*at].zone; // recorded but not in the maps: only the state file changes
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
    // What the state file said for the CIDRs without a pbxwallctl entry in the maps.
    std::vector<pw_zone> recorded(cidrs.size(), PW_ZONE_NONE);
    for (size_t i = 0; i < cidrs.size(); ++i)
        if (!old[i] || !(old[i]->origin & PW_ORIGIN_CTL))
            recorded[i] = state.zones[*inState.find(cidrs[i])].zone;
    try {
        store.setZones(fallbacks);
        store.eraseZones(gone);
    } catch (const std::exception&) {
        undo();
        throw;
    }

    {
        const auto dropped = indexCidrs(cidrs);
        std::erase_if(state.zones, [&](const CtlZone& z) { return dropped.contains(z.cidr); });
    }
    ctx.commit(undo);

    auto removedZone = [&](size_t i) {
        if (old[i] && (old[i]->origin & PW_ORIGIN_CTL))
            return static_cast<pw_zone>(old[i]->ctl_zone);
        return recorded[i];
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
        bool force = false;
    };
    auto o = std::make_shared<Opts>();

    auto* list = zone->add_subcommand("list", "List every address entry of the active policy");
    auto* onlyOpt = list->add_option("--zone", o->only, "Only entries whose zone is this one")->type_name("ZONE");
    list->callback([&ctx, o, onlyOpt] {
        const bool given = onlyOpt->count() > 0; // --zone "" is an unknown zone, not no filter
        ctx.action = [o, given](Context& c) {
            std::optional<pw_zone> only;
            if (given)
                only = parseZoneArg("zone list", o->only);
            listZoneEntries(c, only);
        };
    });

    auto* add = zone->add_subcommand("add", "Put a CIDR in a zone (wins over the config file)");
    add->add_option("cidr", o->cidr, "Address or network, e.g. 192.0.2.0/24 or 2001:db8::1")
        ->required()
        ->type_name("CIDR");
    add->add_option("zone", o->zone, "trusted, local, other, internet or reject")->required()->type_name("ZONE");
    add->add_flag("--force", o->force, "Take a network wider than an IPv4 /8 or an IPv6 /16 (zones but internet)");
    add->callback([&ctx, o] {
        ctx.action = [o](Context& c) {
            const Cidr cidr = parseCidrArg("zone add", o->cidr);
            const pw_zone z = parseZoneArg("zone add", o->zone);
            addZoneEntries(c, "zone add", {cidr}, z, o->force);
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
