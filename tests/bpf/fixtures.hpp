// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The stateless fixture tables, one function per topic, and the config each one runs under.
// Each topic file runs its tables; fixtures_all.cpp runs every table for the global checks.
#pragma once

#include "harness.hpp"

#include <string>
#include <vector>

namespace pbxwall::bpftest {

std::vector<Fixture> l2Fixtures();          // non-IP, VLAN tags (base drop)
std::vector<Fixture> malformedFixtures();   // broken L3/L4 headers (base drop)
std::vector<Fixture> martianFixtures();     // impossible sources (base drop)
std::vector<Fixture> martianPassFixtures(); // DHCP discover from 0.0.0.0 (base pass)
std::vector<Fixture> zoneFixtures();        // zones by prefix and interface (base drop)
std::vector<Fixture> icmpFixtures();        // ICMP and ICMPv6 types per zone (base drop)
std::vector<Fixture> serviceFixtures();     // services, unlisted ports, DHCP (base drop)
std::vector<Fixture> servicePassFixtures(); // the same under unlisted_ports = "pass"
std::vector<Fixture> fragmentFixtures();    // fragments judged without history (base drop)

struct FixtureTable {
    const char* name;
    std::vector<Fixture> (*make)();
    const std::string* toml;
};

// Every table above with its config.
const std::vector<FixtureTable>& allFixtureTables();

} // namespace pbxwall::bpftest
