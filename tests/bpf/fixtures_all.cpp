// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Checks over every stateless fixture table: no verdict is ever XDP_ABORTED, and the counter
// bytes are the frame length.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

namespace pbxwall::bpftest {

const std::vector<FixtureTable>& allFixtureTables()
{
    static const std::vector<FixtureTable> tables = {
        {"l2", l2Fixtures, &kBaseDrop},
        {"malformed", malformedFixtures, &kBaseDrop},
        {"martian", martianFixtures, &kBaseDrop},
        {"martian (pass)", martianPassFixtures, &kBasePass},
        {"zones", zoneFixtures, &kBaseDrop},
        {"icmp", icmpFixtures, &kBaseDrop},
        {"services", serviceFixtures, &kBaseDrop},
        {"services (pass)", servicePassFixtures, &kBasePass},
        {"fragments", fragmentFixtures, &kBaseDrop},
    };
    return tables;
}

TEST_CASE("the verdict never is XDP_ABORTED", "[bpf]")
{
    size_t count = 0;
    for (const auto& table : allFixtureTables()) {
        // One object per table: map state from earlier frames cannot make a program abort.
        Harness h(*table.toml);
        for (const Fixture& f : table.make()) {
            INFO(table.name << ": " << f.name);
            const int action = h.action(f.packet.bytes(), f.ifindex);
            CHECK(action != XDP_ABORTED);
            CHECK((action == XDP_PASS || action == XDP_DROP));
            ++count;
        }
    }
    CHECK(count > 200);
}

TEST_CASE("counters add the frame length in bytes", "[bpf][counters]")
{
    Harness h;
    const test::Packet p = ip(Family::V4, kNet, kHost).udp(40000, 5060).payload(std::vector<uint8_t>(1000, 'x'));
    const auto frame = p.bytes();
    REQUIRE(frame.size() == 14 + 20 + 8 + 1000);

    Outcome o = h.run(frame, kLo);
    CHECK(o.out == frame); // the program never rewrites a frame
    REQUIRE(o.moved.size() == 1);
    CHECK(o.moved[0].slot == 1);
    CHECK(o.moved[0].packets == 1);
    CHECK(o.moved[0].bytes == frame.size());

    o = h.run(frame, kLo); // a second frame adds as much again
    REQUIRE(o.moved.size() == 1);
    CHECK(o.moved[0].bytes == frame.size());
    const auto all = h.counters();
    REQUIRE(all.size() == 1);
    CHECK(all[0].packets == 2);
    CHECK(all[0].bytes == 2 * frame.size());

    // A padded frame counts the padding too: the bytes on the wire, not the IP length.
    const auto padded = ip(Family::V4, kNet, kHost).udp(40000, 5060).padTo(60).bytes();
    o = h.run(padded, kLo);
    REQUIRE(o.moved.size() == 1);
    CHECK(o.moved[0].bytes == 60);
}

} // namespace pbxwall::bpftest
