// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Unit tests for maps/state (the pbxwallctl state files) and how pbxwalld merges them with the
// config file's zones (loader/policy_build).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <iterator>
#include <string>
#include <system_error>

#include "policy_build.hpp"
#include "state.hpp"

using namespace pbxwall;

namespace {

// A fresh directory under /tmp, removed at the end of the test.
struct TempDir {
    std::string path;
    TempDir()
    {
        char tmpl[] = "/tmp/pw-state-test.XXXXXX";
        const char* p = ::mkdtemp(tmpl);
        REQUIRE(p != nullptr);
        path = p;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    void write(const std::string& name, const std::string& text) const { std::ofstream(path + "/" + name) << text; }
};

// The message CtlState::load throws for the directory, or "" when it loads.
std::string loadError(const std::string& dir)
{
    try {
        CtlState::load(dir);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("state files: what is saved loads back the same", "[state]")
{
    TempDir d;
    CtlState s;
    s.zones = {{parseCidr("198.18.5.1"), PW_ZONE_REJECT},
               {parseCidr("198.19.0.0/16"), PW_ZONE_TRUSTED},
               {parseCidr("2001:db8:3::/48"), PW_ZONE_REJECT},
               {parseCidr("2001:db8::7"), PW_ZONE_LOCAL}};
    s.ifaces = {{"eth0", PW_ZONE_INTERNET}};
    s.bans = {{parseAddr("198.18.3.30"), 0, 1700000000, PW_BAN_MANUAL},
              {parseAddr("2001:db8:3::30"), 1800000000, 1700000001, PW_BAN_MANUAL},
              {parseAddr("2001:db8:4:5::"), 1800000000, 1700000002, PW_BAN_TRAP_PORT, 64}};
    s.save(d.path);

    const CtlState back = CtlState::load(d.path);
    REQUIRE(back.zones.size() == s.zones.size());
    for (size_t i = 0; i < s.zones.size(); ++i) {
        CHECK(back.zones[i].cidr == s.zones[i].cidr);
        CHECK(back.zones[i].zone == s.zones[i].zone);
    }
    REQUIRE(back.ifaces.size() == 1);
    CHECK(back.ifaces[0].name == "eth0");
    CHECK(back.ifaces[0].zone == PW_ZONE_INTERNET);
    REQUIRE(back.bans.size() == 3);
    CHECK(back.bans[0].addr == s.bans[0].addr);
    CHECK(back.bans[0].expiresUnix == 0);
    CHECK(back.bans[0].createdUnix == 1700000000);
    CHECK(back.bans[0].prefix == 0);
    CHECK(back.bans[1].expiresUnix == 1800000000);
    CHECK(back.bans[1].cause == PW_BAN_MANUAL);
    CHECK(back.bans[1].prefix == 0);
    CHECK(back.bans[2].addr == s.bans[2].addr);
    CHECK(back.bans[2].prefix == 64);
    CHECK(back.bans[2].cause == PW_BAN_TRAP_PORT);
    CHECK(back.bans[2].str() == "2001:db8:4:5::/64");
}

TEST_CASE("state files: a save that fails on its last file leaves every file as it was", "[state]")
{
    // pbxwallctl saves zones, ifaces and bans together; a failure on bans (a full disk) after
    // zones was replaced would leave a refused command's zones to the next reload.
    TempDir d;
    CtlState s;
    s.zones = {{parseCidr("198.18.5.0/24"), PW_ZONE_REJECT}};
    s.save(d.path);
    const auto read = [&](const std::string& name) {
        std::ifstream in(d.path + "/" + name);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    const std::string zonesBefore = read("zones"), bansBefore = read("bans");

    std::filesystem::create_directory(d.path + "/bans.tmp"); // the bans file cannot be written
    CtlState next = s;
    next.zones.push_back({parseCidr("198.18.6.0/24"), PW_ZONE_TRUSTED});
    next.bans = {{parseAddr("198.18.3.30"), 0, 1700000000, PW_BAN_MANUAL}};
    CHECK_THROWS_AS(next.save(d.path), std::system_error);
    CHECK(read("zones") == zonesBefore);
    CHECK(read("bans") == bansBefore);
    CHECK_FALSE(std::filesystem::exists(d.path + "/zones.tmp"));
    CHECK_FALSE(std::filesystem::exists(d.path + "/ifaces.tmp"));

    std::filesystem::remove(d.path + "/bans.tmp");
    next.save(d.path);
    CHECK(CtlState::load(d.path).zones.size() == 2);
    CHECK(CtlState::load(d.path).bans.size() == 1);
}

TEST_CASE("state files: a file that cannot be replaced, found before any rename or by its rename, changes nothing", "[state]")
{
    TempDir d;
    CtlState s;
    s.zones = {{parseCidr("198.18.5.0/24"), PW_ZONE_REJECT}};
    s.ifaces = {{"eth0", PW_ZONE_INTERNET}};
    s.save(d.path);
    const auto read = [&](const std::string& name) {
        std::ifstream in(d.path + "/" + name);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    const std::string zonesBefore = read("zones"), ifacesBefore = read("ifaces");

    // bans, the last file renamed, is a directory that is not empty: it cannot be kept aside
    // (a hard link), so the save stops before its first rename (were it kept aside, its rename
    // would fail after zones and ifaces were replaced, and those would be put back).
    std::filesystem::remove(d.path + "/bans");
    std::filesystem::create_directory(d.path + "/bans");
    d.write("bans/keep", "x");
    CtlState next = s;
    next.zones.push_back({parseCidr("198.18.6.0/24"), PW_ZONE_TRUSTED});
    next.ifaces = {{"eth1", PW_ZONE_LOCAL}};
    CHECK_THROWS_AS(next.save(d.path), std::system_error);
    CHECK(read("zones") == zonesBefore);
    CHECK(read("ifaces") == ifacesBefore);
    for (const auto& e : std::filesystem::directory_iterator(d.path)) {
        INFO(e.path());
        CHECK((e.path().filename() == "zones" || e.path().filename() == "ifaces" || e.path().filename() == "bans"));
    }
}

TEST_CASE("state files: the state directory is created 0700, or must be its owner's alone", "[state]")
{
    TempDir d;
    const auto mode = [](const std::string& p) {
        return std::filesystem::status(p).permissions() & std::filesystem::perms::all;
    };
    const std::string fresh = d.path + "/state";
    prepareStateDir(fresh);
    CHECK(mode(fresh) == std::filesystem::perms::owner_all);

    std::filesystem::permissions(fresh, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                            std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                            std::filesystem::perms::others_exec);
    prepareStateDir(fresh); // 0755: accepted as it is, not changed
    CHECK(mode(fresh) == (std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                          std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                          std::filesystem::perms::others_exec));

    for (const auto perms : {std::filesystem::perms::all, std::filesystem::perms::owner_all | std::filesystem::perms::group_write}) {
        std::filesystem::permissions(fresh, perms);
        CHECK_THROWS_WITH(prepareStateDir(fresh), Catch::Contains("may be written by others"));
        CHECK_THROWS_WITH(CtlState{}.save(fresh), Catch::Contains("may be written by others"));
        CHECK(mode(fresh) == perms); // a refusal changes nothing
    }
    std::filesystem::permissions(fresh, std::filesystem::perms::all | std::filesystem::perms::sticky_bit);
    CHECK_THROWS_WITH(prepareStateDir(fresh), Catch::Contains("mode 1777"));
    d.write("file", "x");
    CHECK_THROWS_WITH(prepareStateDir(d.path + "/file"), Catch::Contains("not a directory"));
}

TEST_CASE("state files: known sources load back the same; a broken line is named FILE:LINE", "[state]")
{
    TempDir d;
    CHECK(CtlState::loadKnown(d.path).empty()); // no file yet
    const std::vector<CtlKnown> known = {{parseAddr("198.18.9.9"), 1800000000, 1700000000},
                                         {parseAddr("2001:db8:9::9"), 1800000001, 1700000001}};
    CtlState::saveKnown(d.path, known);
    const auto back = CtlState::loadKnown(d.path);
    REQUIRE(back.size() == 2);
    CHECK(back[0].addr == known[0].addr);
    CHECK(back[0].expiresUnix == 1800000000);
    CHECK(back[0].createdUnix == 1700000000);
    CHECK(back[1].addr == known[1].addr);
    CHECK(back[1].expiresUnix == 1800000001);
    // The other files are not touched by it, nor it by theirs.
    CHECK(CtlState::load(d.path).bans.empty());
    CtlState{}.save(d.path);
    CHECK(CtlState::loadKnown(d.path).size() == 2);

    d.write("known", "198.18.9.9 1800000000 1700000000\n198.18.9.10 soon 1700000000\n");
    std::string error;
    try {
        CtlState::loadKnown(d.path);
    } catch (const std::exception& e) {
        error = e.what();
    }
    CHECK(error == d.path + "/known:2: expected \"ADDR EXPIRES CREATED\"");
    d.write("known", "198.18.9.0/24 1800000000 1700000000\n");
    CHECK_THROWS(CtlState::loadKnown(d.path));
    // As pbxwalld replays it: a broken line is named and skipped, the others read.
    d.write("known", "198.18.9.9 1800000000 1700000000\n198.18.9.10 soon 1700000000\n2001:db8::9 1800000000 1\n");
    std::vector<std::string> skipped;
    const auto some = CtlState::loadKnown(d.path, &skipped);
    REQUIRE(some.size() == 2);
    CHECK(some[1].addr == parseAddr("2001:db8::9"));
    REQUIRE(skipped.size() == 1);
    CHECK(skipped[0] == d.path + "/known:2: expected \"ADDR EXPIRES CREATED\"");
}

TEST_CASE("state files: missing files are empty; comments, blank lines and spacing are skipped", "[state]")
{
    TempDir d;
    const CtlState none = CtlState::load(d.path);
    CHECK(none.zones.empty());
    CHECK(none.ifaces.empty());
    CHECK(none.bans.empty());

    d.write("zones", "# comment\n\n198.18.5.0/24 reject\n  198.18.6.1\tlocal  \r\n");
    d.write("bans", "198.18.3.30 never 1700000000 1\n");
    const CtlState s = CtlState::load(d.path);
    REQUIRE(s.zones.size() == 2);
    CHECK(s.zones[0].cidr == parseCidr("198.18.5.0/24"));
    CHECK(s.zones[1].cidr == parseCidr("198.18.6.1"));
    CHECK(s.zones[1].zone == PW_ZONE_LOCAL);
    REQUIRE(s.bans.size() == 1);
    CHECK(s.bans[0].expiresUnix == 0);
}

TEST_CASE("state files: a broken line is named FILE:LINE", "[state]")
{
    TempDir d;
    d.write("zones", "# pbxwallctl zone entries: CIDR ZONE\n198.18.5.1 reject\n198.18.5.2 dmz\n");
    CHECK(loadError(d.path) == d.path + "/zones:3: unknown zone \"dmz\"");
    d.write("zones", "198.18.5.1 reject\n198.18.5.300 reject\n");
    CHECK(loadError(d.path).rfind(d.path + "/zones:2: invalid address", 0) == 0);
    d.write("zones", "198.18.5.1\n");
    CHECK(loadError(d.path) == d.path + "/zones:1: unknown zone \"\"");
    d.write("zones", "");
    d.write("bans", "198.18.3.30 never 1700000000\n");
    CHECK(loadError(d.path) == d.path + "/bans:1: expected \"ADDR|IPV6-PREFIX EXPIRES|never CREATED CAUSE\"");
    d.write("bans", "198.18.3.30 soon 1700000000 1\n");
    CHECK(loadError(d.path) == d.path + "/bans:1: expected \"ADDR|IPV6-PREFIX EXPIRES|never CREATED CAUSE\"");
    d.write("bans", "198.18.3.0/24 never 1700000000 1\n");
    CHECK(loadError(d.path) ==
          d.path + "/bans:1: a ban names an address or an IPv6 prefix of /48 to /127, not 198.18.3.0/24");
    d.write("bans", "2001:db8::/32 never 1700000000 1\n");
    CHECK(loadError(d.path) ==
          d.path + "/bans:1: a ban names an address or an IPv6 prefix of /48 to /127, not 2001:db8::/32");
}

// A hand-edited state file may hold any expiry: one far in the future stays far in the future
// (its nanoseconds must not wrap around to an expiry at once).
TEST_CASE("state files: a far-future ban expiry stays in the future", "[state]")
{
    const uint64_t now = monotonicNowNs();
    constexpr uint64_t kYear = 365ULL * 86400 * 1000000000ULL;
    CHECK(unixToMonotonicNs(0) == 0);
    CHECK(unixToMonotonicNs(unixNow() - 10) == 1);
    const uint64_t hour = unixToMonotonicNs(unixNow() + 3600);
    CHECK(hour >= now + 3599ULL * 1000000000ULL);
    CHECK(hour <= now + 3602ULL * 1000000000ULL);
    for (const int64_t ahead : {int64_t{18446744074}, int64_t{1} << 40, INT64_MAX - unixNow()}) {
        INFO(ahead);
        const uint64_t t = unixToMonotonicNs(unixNow() + ahead);
        CHECK(t > now + 199 * kYear);
        CHECK(t < now + 201 * kYear);
    }
}

TEST_CASE("policy image: pbxwallctl entries win over the config file's, the last line of each wins", "[state]")
{
    config::Config cfg;
    cfg.zones = {{parseCidr("198.18.5.0/24"), PW_ZONE_LOCAL, 1},
                 {parseCidr("198.18.5.1"), PW_ZONE_TRUSTED, 2},
                 {parseCidr("198.18.5.1"), PW_ZONE_OTHER, 3}};
    CtlState state;
    state.zones = {{parseCidr("198.18.5.1"), PW_ZONE_REJECT},
                   {parseCidr("10.0.0.1"), PW_ZONE_LOCAL},
                   {parseCidr("10.0.0.1"), PW_ZONE_REJECT},
                   {parseCidr("2001:db8::1"), PW_ZONE_REJECT}};
    const PolicyImage img = buildPolicyImage(cfg, state, [](const std::string&) { return 0u; }, nullptr);
    REQUIRE(img.addrs.size() == 4);

    const auto& both = img.addrs.at(parseCidr("198.18.5.1"));
    CHECK(both.origin == (PW_ORIGIN_CONFIG | PW_ORIGIN_CTL));
    CHECK(both.cfg_zone == PW_ZONE_OTHER);
    CHECK(both.ctl_zone == PW_ZONE_REJECT);
    CHECK(both.zone == PW_ZONE_REJECT);

    const auto& cfgOnly = img.addrs.at(parseCidr("198.18.5.0/24"));
    CHECK(cfgOnly.origin == PW_ORIGIN_CONFIG);
    CHECK(cfgOnly.zone == PW_ZONE_LOCAL);

    const auto& ctlOnly = img.addrs.at(parseCidr("10.0.0.1"));
    CHECK(ctlOnly.origin == PW_ORIGIN_CTL);
    CHECK(ctlOnly.zone == PW_ZONE_REJECT);
    CHECK(img.addrs.count(parseCidr("2001:db8::1")) == 1);
}

// Counter slots: an interface keeps the slot it holds whatever the config order, so that its
// counters go on; the others take the lowest free slots; one that does not exist takes none.
TEST_CASE("policy image: interfaces keep their counter slots", "[state]")
{
    const std::map<std::string, unsigned> ifindex = {{"eth0", 11}, {"eth1", 12}, {"eth2", 13}, {"eth3", 14}};
    const IfindexResolver resolve = [&](const std::string& n) { return ifindex.count(n) ? ifindex.at(n) : 0u; };
    const auto slots = [&](std::vector<std::string> names, const SlotsHeld* held) {
        config::Config cfg;
        for (const auto& n : names)
            cfg.interfaces.push_back({n, PW_ZONE_INTERNET, config::XdpMode::Auto, 1});
        std::map<unsigned, unsigned> out; // ifindex -> slot
        for (const auto& r : buildPolicyImage(cfg, CtlState{}, resolve, nullptr, held).ifaces)
            out[r.ifindex] = r.entry.slot;
        return out;
    };
    CHECK(slots({"eth0", "eth1", "eth2"}, nullptr) == std::map<unsigned, unsigned>{{11, 1}, {12, 2}, {13, 3}});
    const SlotsHeld held = {{11, 1}, {12, 2}, {13, 3}};
    // eth0 leaves: the others keep theirs; a new one named first takes the lowest free slot.
    CHECK(slots({"eth1", "eth2"}, &held) == std::map<unsigned, unsigned>{{12, 2}, {13, 3}});
    CHECK(slots({"eth3", "eth2", "eth1"}, &held) == std::map<unsigned, unsigned>{{14, 1}, {13, 3}, {12, 2}});
    // One that does not exist takes no slot; the order of the others does not move them.
    CHECK(slots({"nosuch0", "eth2"}, &held) == std::map<unsigned, unsigned>{{13, 3}});
    // A held slot out of range is not kept.
    const SlotsHeld bad = {{11, 0}, {12, PW_IFACE_SLOTS}};
    CHECK(slots({"eth0", "eth1"}, &bad) == std::map<unsigned, unsigned>{{11, 1}, {12, 2}});
}
