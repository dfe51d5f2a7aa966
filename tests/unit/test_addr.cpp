// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Unit tests for maps/addr (addresses, CIDRs, port ranges) and maps/names (enum names).
#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

#include "addr.hpp"
#include "names.hpp"
#include "zone_advice.hpp"

using namespace pbxwall;

namespace {

// The message parseX throws for text, or "" when it does not throw.
template <typename F>
std::string errorOf(F&& parse, std::string_view text)
{
  try {
    parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

std::string addrError(std::string_view t) { return errorOf([](std::string_view s) { return parseAddr(s); }, t); }
std::string cidrError(std::string_view t) { return errorOf([](std::string_view s) { return parseCidr(s); }, t); }
std::string portError(std::string_view t) { return errorOf([](std::string_view s) { return parsePortRange(s); }, t); }

} // namespace

TEST_CASE("IPv4 addresses are stored IPv4-mapped", "[addr]")
{
  const Addr a = parseAddr("198.18.0.1");
  const std::array<uint8_t, 16> expected = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1};
  CHECK(a.bytes == expected);
  CHECK(a.isV4());
  CHECK(a.str() == "198.18.0.1");
  CHECK(Addr::fromV4(htonl(0xc6120001)) == a);
  CHECK(parseAddr("0.0.0.0").str() == "0.0.0.0");
  CHECK(parseAddr("255.255.255.255").str() == "255.255.255.255");
}

TEST_CASE("IPv6 addresses print in RFC 5952 form", "[addr]")
{
  CHECK(parseAddr("2001:0DB8:0000:0000:0000:0000:0000:0001").str() == "2001:db8::1");
  CHECK(parseAddr("2001:db8:0:1:0:0:0:1").str() == "2001:db8:0:1::1");
  CHECK(parseAddr("2001:db8:0:0:1:0:0:1").str() == "2001:db8::1:0:0:1"); // first longest run
  CHECK(parseAddr("2001:db8:0:1:1:1:1:1").str() == "2001:db8:0:1:1:1:1:1"); // no single-zero "::"
  CHECK(parseAddr("::").str() == "::");
  CHECK(parseAddr("::1").str() == "::1");
  CHECK(parseAddr("::1.2.3.4").str() == "::102:304"); // not the deprecated dotted form
  CHECK(parseAddr("fe80::1").isV4() == false);
  CHECK(parseAddr("::ffff:0:1.2.3.4").str() == "::ffff:0:102:304");
}

TEST_CASE("invalid addresses are refused with one-line messages", "[addr]")
{
  CHECK(addrError("10.0.0.256") == "invalid address \"10.0.0.256\"");
  CHECK(addrError("") == "empty address");
  CHECK(addrError("10.0.0") != "");
  CHECK(addrError("10.0.0.1 ") != "");
  CHECK(addrError(" 10.0.0.1") != "");
  CHECK(addrError("010.0.0.1") != "");
  CHECK(addrError("2001:db8::g") == "invalid address \"2001:db8::g\"");
  CHECK(addrError("2001:db8:::1") != "");
  CHECK(addrError("fe80::1%eth0") != "");
  CHECK(addrError("host.example") != "");
  CHECK(addrError(std::string_view("1.2.3.4\0x", 9)) == "invalid address \"1.2.3.4\\x00x\"");
  CHECK(addrError("::ffff:1.2.3.4") == "\"::ffff:1.2.3.4\" is an IPv4-mapped IPv6 address: write 1.2.3.4 instead");
  CHECK(addrError("::ffff:102:304") == "\"::ffff:102:304\" is an IPv4-mapped IPv6 address: write 1.2.3.4 instead");
}

TEST_CASE("inQuotes escapes what would break a message's line, and bytes past ASCII unless kept", "[addr]")
{
  const std::string_view odd("a\tb\x7f\xc3\xa9\x00", 7); // tab, DEL, UTF-8 e-acute, NUL
  CHECK(inQuotes(odd) == "\"a\\x09b\\x7f\\xc3\\xa9\\x00\"");
  CHECK(inQuotes(odd, true) == "\"a\\x09b\\x7f\xc3\xa9\\x00\"");
  CHECK(inQuotes("") == "\"\"");
}

TEST_CASE("CIDRs parse into the 128-bit space", "[addr]")
{
  const Cidr v4 = parseCidr("198.18.0.0/24");
  CHECK(v4.isV4());
  CHECK(v4.len == 120);
  CHECK(v4.familyLen() == 24);
  CHECK(!v4.isHost());
  CHECK(v4.str() == "198.18.0.0/24");

  const Cidr host4 = parseCidr("198.18.0.1");
  CHECK(host4.isHost());
  CHECK(host4.len == 128);
  CHECK(host4.familyLen() == 32);
  CHECK(host4.str() == "198.18.0.1");
  CHECK(parseCidr("198.18.0.1/32") == host4);

  const Cidr v6 = parseCidr("2001:DB8::/32");
  CHECK(!v6.isV4());
  CHECK(v6.len == 32);
  CHECK(v6.familyLen() == 32);
  CHECK(v6.str() == "2001:db8::/32");

  const Cidr host6 = parseCidr("2001:db8::1");
  CHECK(host6.isHost());
  CHECK(host6.str() == "2001:db8::1");
  CHECK(parseCidr("2001:db8::1/128") == host6);

  const Cidr all4 = parseCidr("0.0.0.0/0");
  CHECK(all4.isV4());
  CHECK(all4.len == 96);
  CHECK(all4.str() == "0.0.0.0/0");
  const Cidr all6 = parseCidr("::/0");
  CHECK(!all6.isV4());
  CHECK(all6.len == 0);
  CHECK(all6.str() == "::/0");
}

TEST_CASE("CIDR errors name the input", "[addr]")
{
  CHECK(cidrError("") == "empty CIDR");
  CHECK(cidrError("10.0.0.256/24") == "invalid address \"10.0.0.256\" in \"10.0.0.256/24\"");
  CHECK(cidrError("10.0.0.256") == "invalid address \"10.0.0.256\"");
  CHECK(cidrError("/24") == "empty address in \"/24\"");
  CHECK(cidrError("10.0.0.0/") == "missing prefix length after '/' in \"10.0.0.0/\"");
  CHECK(cidrError("10.0.0.0/x") == "invalid prefix length \"x\" in \"10.0.0.0/x\"");
  CHECK(cidrError("10.0.0.0/-1") == "invalid prefix length \"-1\" in \"10.0.0.0/-1\"");
  CHECK(cidrError("10.0.0.0/33") == "prefix length 33 out of range 0..32 in \"10.0.0.0/33\"");
  CHECK(cidrError("10.0.0.0/99999999999999999999") ==
        "prefix length 99999999999999999999 out of range 0..32 in \"10.0.0.0/99999999999999999999\"");
  CHECK(cidrError("2001:db8::/129") == "prefix length 129 out of range 0..128 in \"2001:db8::/129\"");
  CHECK(cidrError("10.0.0.0/24x") == "trailing characters \"x\" in \"10.0.0.0/24x\"");
  CHECK(cidrError("10.0.0.0/24 ") == "trailing characters \" \" in \"10.0.0.0/24 \"");
  CHECK(cidrError("10.0.0.0/24/8") == "trailing characters \"/8\" in \"10.0.0.0/24/8\"");
  CHECK(cidrError("10.0.0.1/24") == "\"10.0.0.1/24\" has host bits set (did you mean 10.0.0.0/24?)");
  CHECK(cidrError("2001:db8::1/32") == "\"2001:db8::1/32\" has host bits set (did you mean 2001:db8::/32?)");
  CHECK(cidrError("198.18.0.0/14") == "\"198.18.0.0/14\" has host bits set (did you mean 198.16.0.0/14?)");
  CHECK(cidrError("::ffff:1.2.3.0/120") ==
        "\"::ffff:1.2.3.0/120\" is an IPv4-mapped IPv6 prefix: write 1.2.3.0/24 instead");
  CHECK(cidrError("::ffff:1.2.3.4") == "\"::ffff:1.2.3.4\" is an IPv4-mapped IPv6 address: write 1.2.3.4 instead");
}

TEST_CASE("CIDR contains", "[addr]")
{
  const Cidr net = parseCidr("198.18.0.0/15");
  CHECK(net.contains(parseAddr("198.18.0.0")));
  CHECK(net.contains(parseAddr("198.19.255.255")));
  CHECK(!net.contains(parseAddr("198.20.0.0")));
  CHECK(!net.contains(parseAddr("198.17.255.255")));
  CHECK(!net.contains(parseAddr("2001:db8::1")));

  const Cidr host = parseCidr("198.18.0.1");
  CHECK(host.contains(parseAddr("198.18.0.1")));
  CHECK(!host.contains(parseAddr("198.18.0.2")));

  const Cidr v6 = parseCidr("2001:db8:10::/47");
  CHECK(v6.contains(parseAddr("2001:db8:11:ffff::1")));
  CHECK(!v6.contains(parseAddr("2001:db8:12::")));
  CHECK(!v6.contains(parseAddr("198.18.0.1")));

  CHECK(parseCidr("0.0.0.0/0").contains(parseAddr("203.0.113.1")));
  CHECK(!parseCidr("0.0.0.0/0").contains(parseAddr("2001:db8::1")));
  // IPv4 lives at ::ffff:0:0/96, so ::/0 covers it in the 128-bit space; the zone lookups check
  // the family (an IPv6 prefix never names an IPv4 address there), and the config warns.
  CHECK(parseCidr("::/0").contains(parseAddr("203.0.113.1")));
}

TEST_CASE("bans: their text, and where an IPv6 prefix ban goes when ipv6_prefix changes", "[addr]")
{
  CHECK(banText(parseAddr("198.18.3.30"), 0) == "198.18.3.30");
  CHECK(banText(parseAddr("2001:db8:4:5::"), 0) == "2001:db8:4:5::");
  CHECK(banText(parseAddr("2001:db8:4:5::"), 64) == "2001:db8:4:5::/64");
  CHECK(masked(parseAddr("2001:db8:4:5:6:7:8:9"), 64) == parseAddr("2001:db8:4:5::"));
  CHECK(masked(parseAddr("2001:db8:4:5:6:7:8:9"), 52) == parseAddr("2001:db8:4::"));

  const Addr p64 = parseAddr("2001:db8:4:5::");
  CHECK(refitBan(p64, 64, 64) == p64);                       // the same length: stays
  CHECK(refitBan(p64, 64, 48) == parseAddr("2001:db8:4::")); // wider: the prefix holding it
  CHECK_FALSE(refitBan(p64, 64, 80).has_value());           // narrower: which /80 is not known
  // Link-local sources are banned by address: a prefix ban of fe80:: bans nothing there.
  const Addr ll = parseAddr("fe80::");
  CHECK_FALSE(refitBan(ll, 64, 64).has_value());
  CHECK(refitBan(parseAddr("fe80::1"), 0, 64) == parseAddr("fe80::1"));
  CHECK(ll.isLinkLocal6());
  CHECK(parseAddr("febf:ffff::1").isLinkLocal6());
  CHECK_FALSE(parseAddr("fec0::1").isLinkLocal6());
  CHECK_FALSE(parseAddr("fe7f::1").isLinkLocal6());
  CHECK_FALSE(parseAddr("198.18.0.1").isLinkLocal6());
  CHECK_FALSE(refitBan(p64, 64, 128).has_value());          // by address: which one is not known
  const Addr one = parseAddr("2001:db8:4:5::9");
  CHECK(refitBan(one, 0, 48) == one); // a ban of one address never moves
  CHECK(refitBan(parseAddr("198.18.3.30"), 0, 48) == parseAddr("198.18.3.30"));
}

TEST_CASE("CIDRs order by address then length", "[addr]")
{
  CHECK(parseCidr("10.0.0.0/8") < parseCidr("10.0.0.0/16"));
  CHECK(parseCidr("10.0.0.0/16") < parseCidr("11.0.0.0/8"));
  CHECK(parseCidr("10.0.0.0/8") < parseCidr("2001:db8::/32")); // ::ffff:a.b.c.d sorts before 2001:
}

TEST_CASE("port ranges", "[addr]")
{
  CHECK(parsePortRange("5060") == PortRange{5060, 5060});
  CHECK(parsePortRange("10000-20000") == PortRange{10000, 20000});
  CHECK(parsePortRange("1-65535") == PortRange{1, 65535});
  CHECK(parsePortRange("5060-5060") == PortRange{5060, 5060});
  CHECK(parsePortRange("5060").str() == "5060");
  CHECK(parsePortRange("10000-20000").str() == "10000-20000");
  CHECK(PortRange{7, 7}.str() == "7");

  CHECK(portError("") == "empty port range");
  CHECK(portError("sip") == "invalid port range \"sip\": expected PORT or LOW-HIGH, ports 1..65535");
  CHECK(portError("5060a") != "");
  CHECK(portError("+5060") != "");
  CHECK(portError("-5060") != "");
  CHECK(portError("5060-") != "");
  CHECK(portError("1-2-3") != "");
  CHECK(portError("0") == "invalid port range \"0\": port 0 is not allowed");
  CHECK(portError("0-100") == "invalid port range \"0-100\": port 0 is not allowed");
  CHECK(portError("65536") == "invalid port range \"65536\": port 65536 out of range 1..65535");
  CHECK(portError("1-99999999999999999999") ==
        "invalid port range \"1-99999999999999999999\": port 99999999999999999999 out of range 1..65535");
  CHECK(portError("20000-10000") == "invalid port range \"20000-10000\": low port is above high port");
  CHECK(portError("10000 - 20000") == "invalid port range \"10000 - 20000\": spaces are not allowed");
  CHECK(portError(" 5060") == "invalid port range \" 5060\": spaces are not allowed");
}

TEST_CASE("zone names", "[names]")
{
  CHECK(zoneName(PW_ZONE_NONE) == "none");
  CHECK(zoneName(PW_ZONE_TRUSTED) == "trusted");
  CHECK(zoneName(PW_ZONE_LOCAL) == "local");
  CHECK(zoneName(PW_ZONE_OTHER) == "other");
  CHECK(zoneName(PW_ZONE_INTERNET) == "internet");
  CHECK(zoneName(PW_ZONE_REJECT) == "reject");
  CHECK(zoneName(PW_ZONE__COUNT).empty());
  CHECK(zoneLabel(PW_ZONE_LOCAL) == "local");
  CHECK(zoneLabel(9) == "zone_9");

  for (unsigned z = PW_ZONE_TRUSTED; z < PW_ZONE__COUNT; ++z)
    CHECK(zoneFromName(zoneName(z)) == static_cast<pw_zone>(z));
  CHECK(!zoneFromName("none"));
  CHECK(!zoneFromName("Trusted"));
  CHECK(!zoneFromName("trusted "));
  CHECK(!zoneFromName(""));
}

TEST_CASE("reason names", "[names]")
{
  const std::pair<unsigned, std::string_view> expected[] = {
      {0, "non_ip"},     {1, "trusted"},   {2, "service"},        {3, "unlisted_pass"},
      {4, "icmp"},       {5, "reply"},     {6, "dhcp"},           {16, "malformed"},
      {17, "martian"},   {18, "reject"},   {19, "banned"},        {20, "service_denied"},
      {21, "unlisted_drop"}, {22, "icmp_denied"}, {23, "fragment_orphan"},
      {7, "sip_known"},  {8, "sip_responsive"}, {24, "rate_limited"}, {25, "not_whitelisted"},
      {26, "new_source_limited"}, {27, "trap_port"}, {28, "malformed_sip"}, {29, "anonymous_invite"},
      {30, "scanner"}, {31, "toll_fraud"},
  };
  for (const auto& [number, name] : expected) {
    INFO(number);
    CHECK(reasonName(number) == name);
    CHECK(reasonLabel(number) == name);
    CHECK(reasonFromName(name) == static_cast<pw_reason>(number));
    CHECK(reasonIsDrop(number) == (number >= 16));
  }
  CHECK(reasonName(9).empty());
  CHECK(reasonName(15).empty());
  CHECK(reasonName(PW_REASON__END).empty());
  CHECK(reasonName(1000).empty());
  CHECK(reasonLabel(9) == "reason_9");
  CHECK(!reasonFromName(""));
  CHECK(!reasonFromName("drop"));
  CHECK(!reasonIsDrop(PW_REASON_DHCP));
  CHECK(reasonIsDrop(PW_REASON_FRAGMENT_ORPHAN));

  CHECK(banCauseName(PW_BAN_MANUAL) == "manual");
  CHECK(banCauseName(PW_BAN_RATE_LIMIT) == "rate_limit");
  CHECK(banCauseName(PW_BAN_TRAP_PORT) == "trap_port");
  CHECK(banCauseName(PW_BAN_AUTH_FAILURE) == "auth_failure");
  CHECK(banCauseName(PW_BAN_SCANNER) == "scanner");
  CHECK(banCauseName(PW_BAN__COUNT).empty());
}

TEST_CASE("zone entries: wide ones outside zone internet, martian ones", "[addr]")
{
  // Wider than an IPv4 /8 or an IPv6 /16, in any zone but internet.
  const auto all4 = wideEntry(parseCidr("0.0.0.0/0"), PW_ZONE_TRUSTED);
  REQUIRE(all4);
  CHECK(*all4 == "0.0.0.0/0 is wider than an IPv4 /8: every source in it that no longer entry names gets zone "
                 "trusted (never filtered nor banned)");
  CHECK(wideEntry(parseCidr("128.0.0.0/1"), PW_ZONE_REJECT)->find("(every packet dropped)") != std::string::npos);
  CHECK(wideEntry(parseCidr("2000::/3"), PW_ZONE_LOCAL)->find("wider than an IPv6 /16") != std::string::npos);
  CHECK(wideEntry(parseCidr("0.0.0.0/7"), PW_ZONE_OTHER));
  CHECK(wideEntry(parseCidr("::/0"), PW_ZONE_REJECT));
  CHECK(!wideEntry(parseCidr("0.0.0.0/0"), PW_ZONE_INTERNET));
  CHECK(!wideEntry(parseCidr("10.0.0.0/8"), PW_ZONE_TRUSTED));
  CHECK(!wideEntry(parseCidr("2001::/16"), PW_ZONE_REJECT));
  CHECK(!wideEntry(parseCidr("198.18.0.1"), PW_ZONE_REJECT));
  CHECK(!wideEntry(parseCidr("224.0.0.0/4"), PW_ZONE_REJECT)); // martian: matches nothing
  CHECK(!wideEntry(parseCidr("ff00::/8"), PW_ZONE_TRUSTED));

  // Martian space: what the data plane drops before the zones.
  for (const char* m : {"127.0.0.0/8", "127.0.0.1", "224.0.0.0/4", "239.1.2.0/24", "255.255.255.255", "0.0.0.1",
                        "0.1.0.0/16", "ff02::1", "ff00::/8", "::1"}) {
    INFO(m);
    const auto why = martianEntry(parseCidr(m));
    REQUIRE(why);
    CHECK(why->find(" space: the data plane drops such sources (reason martian) before it looks up a zone") !=
          std::string::npos);
  }
  CHECK(martianEntry(parseCidr("127.0.0.1"))->rfind("127.0.0.1 lies in loopback space", 0) == 0);
  // Some address of these can be a packet's source: 0.0.0.0 (DHCP), and the space around.
  for (const char* m : {"0.0.0.0", "0.0.0.0/8", "0.0.0.0/0", "126.0.0.0/7", "192.0.2.0/24", "240.0.0.0/4",
                        "::/0", "::", "fe80::/10", "2001:db8::1"}) {
    INFO(m);
    CHECK(!martianEntry(parseCidr(m)));
  }
}
