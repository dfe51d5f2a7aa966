// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwallctl iface list|set|del: the zone of packets from addresses no CIDR entry names,
// per interface, and the counter slot each interface is counted in.
#include "commands.hpp"
#include "output.hpp"
#include "stats.hpp"
#include "xdp_status.hpp"

#include "names.hpp"

#include <net/if.h>

#include <algorithm>
#include <iostream>
#include <memory>

namespace pbxwall::ctl {

namespace {

std::optional<std::string> ifaceName(__u32 ifindex)
{
    char buf[IF_NAMESIZE] = {};
    if (!if_indextoname(ifindex, buf))
        return std::nullopt;
    return std::string(buf);
}

std::optional<IfaceRecord> findIface(PolicyStore& store, __u32 ifindex)
{
    for (const auto& r : store.ifaces())
        if (r.ifindex == ifindex)
            return r;
    return std::nullopt;
}

nlohmann::ordered_json ifaceJson(const IfaceRecord& r)
{
    auto name = ifaceName(r.ifindex);
    nlohmann::ordered_json j{{"name", name ? nlohmann::ordered_json(*name) : nlohmann::ordered_json()}, {"ifindex", r.ifindex}};
    zoneEntryJson(j, r.entry);
    j["slot"] = r.entry.slot;
    return j;
}

void checkName(const std::string& command, const std::string& name)
{
    if (name.empty() || name.size() >= IF_NAMESIZE || name.find_first_of("/: \t\n") != std::string::npos)
        usageError(command + ": \"" + name + "\" is not a valid interface name");
}

void listIfaces(Context& ctx)
{
    ctx.lockShared();
    auto records = ctx.policy().ifaces();
    if (ctx.json()) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& r : records)
            list.push_back(ifaceJson(r));
        printJson(ctx, {{"interfaces", list}});
        return;
    }
    Table t({"NAME", "IFINDEX", "ZONE", "SLOT", "ORIGIN", "CONFIG", "CTL"}, {false, true, false, true});
    for (const auto& r : records)
        t.add({ifaceName(r.ifindex).value_or("?"), std::to_string(r.ifindex), zoneLabel(r.entry.zone),
               std::to_string(r.entry.slot), originName(r.entry.origin), configZoneText(r.entry),
               ctlZoneText(r.entry)});
    t.print(std::cout);
}

// Does the state file's entry `stateName` name the device `name` (index ifindex, 0: gone)? By
// name, or by another of the device's names (an altname, the name `iface list` prints): one
// entry per device, or a reload would keep one and drop the other.
bool namesDevice(const std::string& stateName, const std::string& name, unsigned ifindex)
{
    return stateName == name || (ifindex && if_nametoindex(stateName.c_str()) == ifindex);
}

void setIface(Context& ctx, const std::string& name, pw_zone zone)
{
    const unsigned ifindex = if_nametoindex(name.c_str());
    if (ifindex == 0)
        failure("iface set: interface " + name + " does not exist");
    if (ifindex >= PW_IFINDEX_LIMIT)
        failure("iface set: " + name + " has ifindex " + std::to_string(ifindex) + ", pbxwall supports up to " +
                std::to_string(PW_IFINDEX_LIMIT - 1));

    ctx.lockExclusive();
    PolicyStore& store = ctx.policy();
    CtlState& state = ctx.state();
    const auto old = findIface(store, ifindex);
    pw_zone_entry entry;
    if (old) {
        std::optional<pw_zone> cfg;
        if (old->entry.origin & PW_ORIGIN_CONFIG)
            cfg = static_cast<pw_zone>(old->entry.cfg_zone);
        entry = makeZoneEntry(cfg, zone, old->entry.slot); // keeps its counter slot
    } else {
        const __u8 slot = store.freeIfaceSlot();
        if (slot == 0)
            failure("iface set: no free counter slot for " + name + ": all " + std::to_string(PW_IFACE_SLOTS - 1) +
                    " are taken");
        entry = makeZoneEntry(std::nullopt, zone, slot);
    }
    store.setIface(ifindex, entry);

    // One entry per device: every entry under another of its names goes (an older build left
    // one per name used), and the first keeps the name it was recorded by.
    auto it = std::find_if(state.ifaces.begin(), state.ifaces.end(),
                           [&](const CtlIface& i) { return namesDevice(i.name, name, ifindex); });
    const std::string kept = it != state.ifaces.end() ? it->name : name;
    std::erase_if(state.ifaces, [&](const CtlIface& i) { return namesDevice(i.name, name, ifindex); });
    state.ifaces.push_back({kept, zone});
    ctx.commit([&] { store.setIface(ifindex, old ? old->entry : pw_zone_entry{}); });
    if (!old) // a free slot may still hold the counts of an interface that left: not this one's
        clearSlotCounters(ctx.maps().statsFd, entry.slot);

    const IfaceRecord now{ifindex, entry};
    if (ctx.json()) {
        printJson(ctx, {{"interface", ifaceJson(now)}});
        return;
    }
    std::cout << name << " (ifindex " << ifindex << "): zone " << zoneName(zone) << ", counter slot "
              << unsigned{entry.slot} << '\n';
    const auto xdp = xdpStatus(ifindex, ctx.maps().statsFd);
    if (xdp.state != XdpStatus::State::Pbxwall)
        ctx.note("pbxwall's XDP program is not attached to " + name + " (" + xdpStatusText(xdp) +
                 "): its packets are not filtered until it is (pbxwalld attaches to the config file's interfaces)");
}

void delIface(Context& ctx, const std::string& name)
{
    const unsigned ifindex = if_nametoindex(name.c_str()); // 0: gone; only the state file changes
    ctx.lockExclusive();
    PolicyStore& store = ctx.policy();
    CtlState& state = ctx.state();
    auto it = std::find_if(state.ifaces.begin(), state.ifaces.end(),
                           [&](const CtlIface& i) { return namesDevice(i.name, name, ifindex); });
    const auto old = ifindex ? findIface(store, ifindex) : std::nullopt;
    const bool inMaps = old && (old->entry.origin & PW_ORIGIN_CTL);
    if (!inMaps && it == state.ifaces.end()) {
        if (old)
            failure("iface del: the zone of " + name + " comes from the config file; edit it there");
        failure("iface del: " + name + " has no pbxwallctl zone");
    }
    std::optional<pw_zone> cfg;
    if (old && (old->entry.origin & PW_ORIGIN_CONFIG))
        cfg = static_cast<pw_zone>(old->entry.cfg_zone);
    const pw_zone removed = inMaps ? static_cast<pw_zone>(old->entry.ctl_zone) : it->zone;
    if (inMaps)
        store.setIface(ifindex, cfg ? makeZoneEntry(cfg, std::nullopt, old->entry.slot) : pw_zone_entry{});
    std::erase_if(state.ifaces, [&](const CtlIface& i) { return namesDevice(i.name, name, ifindex); }); // every name of it
    ctx.commit([&] {
        if (inMaps)
            store.setIface(ifindex, old->entry);
    });

    if (ctx.json()) {
        printJson(ctx, {{"deleted", {{"name", name},
                                     {"zone", zoneName(removed)},
                                     {"config_zone", cfg ? nlohmann::ordered_json(zoneName(*cfg)) : nlohmann::ordered_json()}}}});
        return;
    }
    std::cout << "deleted the pbxwallctl zone of " << name << " (" << zoneName(removed) << ")";
    if (cfg)
        std::cout << "; the config file's zone " << zoneName(*cfg) << " applies again";
    std::cout << '\n';
}

} // namespace

void addIfaceCommands(CLI::App& app, Context& ctx)
{
    auto* iface = app.add_subcommand("iface", "Interfaces: the zone of sources no CIDR entry names");
    iface->require_subcommand(1);
    struct Opts {
        std::string name, zone;
    };
    auto o = std::make_shared<Opts>();

    iface->add_subcommand("list", "List the interfaces of the active policy")->callback([&ctx] {
        ctx.action = [](Context& c) { listIfaces(c); };
    });

    auto* set = iface->add_subcommand("set", "Set the zone of an interface (wins over the config file)");
    set->add_option("ifname", o->name, "Interface name, e.g. eth0")->required()->type_name("IFNAME");
    set->add_option("zone", o->zone, "trusted, local, other, internet or reject")->required()->type_name("ZONE");
    set->callback([&ctx, o] {
        ctx.action = [o](Context& c) {
            checkName("iface set", o->name);
            const pw_zone zone = parseZoneArg("iface set", o->zone);
            setIface(c, o->name, zone);
        };
    });

    auto* del = iface->add_subcommand("del", "Delete the pbxwallctl zone of an interface");
    del->add_option("ifname", o->name, "Interface name")->required()->type_name("IFNAME");
    del->callback([&ctx, o] {
        ctx.action = [o](Context& c) {
            checkName("iface del", o->name);
            delIface(c, o->name);
        };
    });
}

} // namespace pbxwall::ctl
