// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Unit tests for [sip]: every key, ranges, types, signatures and toll prefixes, trap ports,
// warnings, and the pw_siprules image built from it.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "config.hpp"
#include "config_test_util.hpp"
#include "policy_build.hpp"

using namespace pbxwall;
using namespace pbxwall::config;
using namespace pbxwall::config::test;

TEST_CASE("every [sip] key is read", "[config]")
{
  const LoadResult r = load(withIface(R"([services.sip]
udp = ["5080"]
zones = ["internet"]
[sip]
responsive = false
rate = 3
period = 30
burst = 0
known_rate = 3
ban_after = 0
ban_window = 86400
ban_seconds = 31536000
ipv6_prefix = 128
new_sources_per_second = 1
known_seconds = 60
trap_ports = ["5060", 5061, "6000-6010"]
)"));
  INFO(dump(r));
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  const Sip& sip = r.config->sip;
  CHECK(sip.line == 7);
  CHECK(!sip.responsive);
  CHECK(sip.rate == 3);
  CHECK(sip.period == 30);
  CHECK(sip.burst == 0);
  CHECK(sip.knownRate == 3);
  CHECK(sip.banAfter == 0);
  CHECK(sip.banWindow == 86400);
  CHECK(sip.banSeconds == 31536000);
  CHECK(sip.ipv6Prefix == 128);
  CHECK(sip.newSourcesPerSecond == 1);
  CHECK(sip.knownSeconds == 60);
  CHECK(sip.trapPorts == std::vector<PortRange>{{5060, 5060}, {5061, 5061}, {6000, 6010}});

  // Dotted keys work like the header; an empty [sip] keeps every default.
  const LoadResult dotted = load(ifaceAfter("sip.rate = 20\nsip.known_rate = 20\n"));
  INFO(dump(dotted));
  REQUIRE(dotted.config);
  CHECK(dotted.config->sip.rate == 20);
  CHECK(dotted.config->sip.knownRate == 20);
  const LoadResult empty = load(withIface("[services.sip]\nudp = [5060]\nzones = [\"internet\"]\n[sip]\n"));
  REQUIRE(empty.ok());
  CHECK(empty.diagnostics.empty());
  CHECK(empty.config->sip.line == 7);
  CHECK(empty.config->sip.rate == 10);
}

TEST_CASE("[sip] values must be in range", "[config]")
{
  struct Case {
    std::string_view key;
    int64_t min;
    int64_t max;
  };
  const Case cases[] = {
      {"rate", 1, 1000000},
      {"period", 1, 86400},
      {"burst", 0, 1000},
      {"known_rate", 1, 1000000},
      {"ban_after", 0, 1000000},
      {"ban_window", 1, 86400},
      {"ban_seconds", 1, 31536000},
      {"ipv6_prefix", 48, 128},
      {"new_sources_per_second", 1, 1000000},
      {"known_seconds", 60, 604800},
  };
  for (const Case& c : cases) {
    const std::string range = std::to_string(c.min) + ".." + std::to_string(c.max);
    for (const int64_t bad : {c.min - 1, c.max + 1}) {
      INFO(std::string(c.key) + " = " + std::to_string(bad));
      requireOneError(load(withIface("[sip]\n\n" + std::string(c.key) + " = " + std::to_string(bad) + "\n")), 6,
                      "sip." + std::string(c.key) + " = " + std::to_string(bad) + " is out of range " + range);
    }
    // Both ends are accepted (rate and known_rate together, so that known_rate >= rate holds).
    for (const int64_t good : {c.min, c.max}) {
      INFO(std::string(c.key) + " = " + std::to_string(good));
      std::string body = "[sip]\n" + std::string(c.key) + " = " + std::to_string(good) + "\n";
      if (c.key == "rate")
        body += "known_rate = " + std::to_string(good) + "\n";
      if (c.key == "known_rate")
        body += "rate = " + std::to_string(good) + "\n";
      const LoadResult r = load(withIface(body));
      INFO(dump(r));
      CHECK(r.ok());
    }
  }
  requireOneError(load(withIface("[sip]\nrate = 0\n")), 5,
                  "sip.rate = 0 is out of range 1..1000000: to drop SIP from unknown sources, set responsive = false");
  requireOneError(load(withIface("[sip]\nban_seconds = -1\n")), 5, "sip.ban_seconds = -1 is out of range 1..31536000");
}

TEST_CASE("[sip] type and key errors", "[config]")
{
  requireOneError(load(ifaceAfter("sip = 5\n")), 1, "[sip] must be a table, not an integer");
  requireOneError(load(withIface("[sip]\nresponsive = \"yes\"\n")), 5,
                  "sip.responsive must be true or false, not a string");
  requireOneError(load(withIface("[sip]\nrate = 1.5\n")), 5, "sip.rate must be an integer, not a float");
  requireOneError(load(withIface("[sip]\nperiod = \"60s\"\n")), 5, "sip.period must be an integer, not a string");
  requireOneError(load(withIface("[sip]\ntrap_ports = 5060\n")), 5, "sip.trap_ports must be an array of ports");
  requireOneError(load(withIface("[sip]\ntrap_ports = [\"5060\", 0]\n")), 5,
                  "sip.trap_ports: port 0 out of range 1..65535");
  requireOneError(load(withIface("[sip]\ntrap_ports = [\"6000-5000\"]\n")), 5,
                  "sip.trap_ports: invalid port range \"6000-5000\"");
  requireOneError(load(withIface("[sip]\nrate = 10\nbantime = 600\n")), 6,
                  "unknown key \"bantime\" in [sip] (known keys: responsive, rate, period, burst, known_rate, "
                  "ban_after, ban_window, ban_seconds, ipv6_prefix, new_sources_per_second, known_seconds, trap_ports, "
                  "max_failures, challenge_allowance, user_agents, from_patterns, scanner_ban, toll_prefixes, "
                  "dial_out_zones)");
  // A top-level key written after [sip] lands in it.
  requireOneError(load(withIface("[sip]\nunlisted_ports = \"drop\"\n")), 5,
                  "top-level keys must come before the first [table] header");
}

TEST_CASE("[sip] scanner signatures and toll-fraud keys", "[config]")
{
  const Sip defaults;
  CHECK(defaults.userAgents == std::vector<std::string>{"friendly-scanner", "sipvicious", "sipcli", "sip-scan",
                                                        "VaxSIPUserAgent", "pplsip", "iWar", "sundayddr", "smap"});
  CHECK(defaults.scannerBan);
  CHECK(defaults.tollPrefixes == std::vector<std::string>{"+", "00", "011", "9011"});
  CHECK(defaults.dialOutZones == (PW_ZONE_BIT(PW_ZONE_TRUSTED) | PW_ZONE_BIT(PW_ZONE_LOCAL)));

  const LoadResult r = load(withIface(R"([sip]
user_agents = ["EvilDialer", "Bad Agent/1.0"]
from_patterns = []
scanner_ban = false
toll_prefixes = ["*99", "+", "12345678"]
dial_out_zones = ["internet", "other"]
)"));
  INFO(dump(r));
  REQUIRE(r.ok());
  const Sip& sip = r.config->sip;
  CHECK(sip.userAgents == std::vector<std::string>{"EvilDialer", "Bad Agent/1.0"});
  CHECK(sip.fromPatterns.empty());
  CHECK(!sip.scannerBan);
  CHECK(sip.tollPrefixes == std::vector<std::string>{"*99", "+", "12345678"});
  // Trusted may always dial out.
  CHECK(sip.dialOutZones ==
        (PW_ZONE_BIT(PW_ZONE_TRUSTED) | PW_ZONE_BIT(PW_ZONE_INTERNET) | PW_ZONE_BIT(PW_ZONE_OTHER)));

  requireOneError(load(withIface("[sip]\nuser_agents = \"friendly-scanner\"\n")), 5,
                  "sip.user_agents must be an array of strings, not a string");
  requireOneError(load(withIface("[sip]\nuser_agents = [\"abc\"]\n")), 5,
                  "\"abc\" in sip.user_agents must be 4 to 32 printable ASCII characters");
  requireOneError(load(withIface("[sip]\nfrom_patterns = [\"" + std::string(33, 'x') + "\"]\n")), 5,
                  "in sip.from_patterns must be 4 to 32 printable ASCII characters");
  requireOneError(load(withIface("[sip]\nuser_agents = [\"tab\\there\"]\n")), 5,
                  "must be 4 to 32 printable ASCII characters");
  requireOneError(load(withIface("[sip]\nuser_agents = [5060]\n")), 5, "sip.user_agents must be a string, not an integer");
  std::string many = "[sip]\nuser_agents = [";
  for (int i = 0; i < 14; ++i)
    many += "\"agent" + std::to_string(i) + "\", ";
  many += "]\n";
  requireOneError(load(withIface(many)), 4,
                  "sip.user_agents and sip.from_patterns name 17 signatures together, at most 16 are supported");
  requireOneError(load(withIface("[sip]\nscanner_ban = 1\n")), 5, "sip.scanner_ban must be true or false, not an integer");
  requireOneError(load(withIface("[sip]\ntoll_prefixes = [\"00\", \"+1-\"]\n")), 5,
                  "\"+1-\" in sip.toll_prefixes must be 1 to 8 characters of 0-9, +, * and #");
  requireOneError(load(withIface("[sip]\ntoll_prefixes = [\"\"]\n")), 5, "in sip.toll_prefixes must be 1 to 8");
  requireOneError(load(withIface("[sip]\ntoll_prefixes = [\"123456789\"]\n")), 5, "in sip.toll_prefixes must be 1 to 8");
  requireOneError(load(withIface("[sip]\ntoll_prefixes = [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]\n")), 5,
                  "sip.toll_prefixes names 9 prefixes, at most 8 are supported");
  requireOneError(load(withIface("[sip]\ndial_out_zones = [\"reject\"]\n")), 5,
                  "sip.dial_out_zones cannot name \"reject\"");
  requireOneError(load(withIface("[sip]\ndial_out_zones = [\"lan\"]\n")), 5, "unknown zone \"lan\" in sip.dial_out_zones");
}

TEST_CASE("[sip] known_rate may not be below rate", "[config]")
{
  requireOneError(load(withIface("[sip]\nrate = 100\nknown_rate = 50\n")), 6,
                  "sip.known_rate = 50 is below sip.rate = 100: a known source must be allowed at least the rate of "
                  "an unknown one");
  requireOneError(load(withIface("[sip]\nknown_rate = 5\n")), 5, "sip.known_rate = 5 is below sip.rate = 10");
  requireOneError(load(withIface("[sip]\nrate = 10000\n")), 5,
                  "sip.known_rate = 6000 (the default) is below sip.rate = 10000");
  CHECK(load(withIface("[sip]\nrate = 6000\n")).ok());
  // A rate that is itself wrong is not compared as well.
  requireOneError(load(withIface("[sip]\nrate = 0\nknown_rate = 5\n")), 5, "sip.rate = 0 is out of range");
  requireOneError(load(withIface("[sip]\nrate = 5000000\nknown_rate = 5\n")), 5, "sip.rate = 5000000 is out of range");
}

TEST_CASE("[sip] trap ports may not be service ports", "[config]")
{
  constexpr std::string_view kServices = R"([services.sip]
udp = ["5080"]
tcp = ["5080", "5081"]
zones = ["internet"]
[services.iax2]
udp = [4569]
zones = ["other"]
[services.rtp]
udp = ["10000-20000"]
zones = ["internet"]
[sip]
)"; // [sip] at line 14, trap_ports at line 15
  auto trap = [&](std::string_view ports) {
    return load(withIface(std::string(kServices) + "trap_ports = " + std::string(ports) + "\n"));
  };

  requireOneError(trap("[4569]"), 15,
                  "trap port 4569 is also service iax2's udp port: a trap must be a port nothing legitimate uses");
  requireOneError(trap("[\"5060\", \"5081\"]"), 15,
                  "trap port 5081 is also service sip's tcp port: a trap must be a port nothing legitimate uses");
  requireOneError(trap("[\"5080\"]"), 15, "trap port 5080 is also service sip's udp and tcp port");
  requireOneError(trap("[\"19990-20010\"]"), 15,
                  "trap ports 19990-20000 are also service rtp's udp ports: a trap must be a port nothing "
                  "legitimate uses");

  // A range across both sip ports: udp 5080 and tcp 5080-5081 are different, so two errors.
  const LoadResult both = trap("[\"5070-5090\"]");
  INFO(dump(both));
  CHECK(!both.config);
  const auto errors = errorsOf(both);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].line == 15);
  CHECK(errors[0].message.find("trap port 5080 is also service sip's udp port") == 0);
  CHECK(errors[1].message.find("trap ports 5080-5081 are also service sip's tcp ports") == 0);

  // Several trap entries: each is reported at its own position.
  const LoadResult two = load(withIface(std::string(kServices) + "trap_ports = [\n  \"5060\",\n  4569,\n  10000,\n]\n"));
  const auto twoErrors = errorsOf(two);
  REQUIRE(twoErrors.size() == 2);
  CHECK(twoErrors[0].line == 17);
  CHECK(twoErrors[1].line == 18);

  const LoadResult ok = trap("[\"5060\", 5061, \"6000-6010\"]");
  INFO(dump(ok));
  CHECK(ok.ok());
  CHECK(ok.diagnostics.empty());
}

TEST_CASE("[sip] warnings", "[config]")
{
  // responsive = true (the default) but nothing is SIP.
  const LoadResult noSip = load(withIface("[services.web]\ntcp = [80]\nzones = [\"local\"]\n[sip]\nrate = 5\n"));
  INFO(dump(noSip));
  CHECK(noSip.ok());
  REQUIRE(noSip.diagnostics.size() == 1);
  CHECK(noSip.diagnostics[0].warning);
  CHECK(noSip.diagnostics[0].line == 7);
  CHECK(noSip.diagnostics[0].message == "[sip] has no effect without a service named sip");

  const LoadResult trapsOnly = load(withIface("[sip]\ntrap_ports = [5060]\n"));
  REQUIRE(trapsOnly.diagnostics.size() == 1);
  CHECK(trapsOnly.diagnostics[0].message ==
        "[sip] has no effect without a service named sip (only its trap_ports apply)");

  // No warning when SIP is off, when [sip] is not written, or when the service exists.
  CHECK(load(withIface("[sip]\nresponsive = false\n")).diagnostics.empty());
  CHECK(load(withIface("[sip]\nresponsive = false\ntrap_ports = [5060]\n")).diagnostics.empty());
  // SIP off, but a guard set: it would be idle without the service (a SIP service named
  // otherwise is not judged as SIP).
  const LoadResult idleGuard = load(withIface("[sip]\nresponsive = false\ntoll_prefixes = [\"00\"]\n"
                                              "[services.pbx]\nudp = [5060]\nzones = [\"internet\"]\n"));
  REQUIRE(idleGuard.diagnostics.size() == 1);
  CHECK(idleGuard.diagnostics[0].warning);
  CHECK(idleGuard.diagnostics[0].message == "[sip] has no effect without a service named sip");
  CHECK(load(withIface("[services.web]\ntcp = [80]\nzones = [\"local\"]\n")).diagnostics.empty());
  CHECK(load(withIface("[sip]\n[services.sip]\nudp = [5060]\nzones = [\"internet\"]\n")).diagnostics.empty());

  // The same trap port twice.
  const LoadResult twice = load(withIface("[sip]\nresponsive = false\ntrap_ports = [\"5060-5062\",\n  5061, \"5062-5070\"]\n"));
  INFO(dump(twice));
  CHECK(twice.ok());
  REQUIRE(twice.diagnostics.size() == 2);
  CHECK(twice.diagnostics[0].warning);
  CHECK(twice.diagnostics[0].line == 7);
  CHECK(twice.diagnostics[0].message == "trap port 5061 is listed twice in sip.trap_ports");
  CHECK(twice.diagnostics[1].message == "trap port 5062 is listed twice in sip.trap_ports");
  CHECK(twice.config->sip.trapPorts.size() == 3);

  // A budget finer than a tick of the data plane's clock, without a tick's worth of burst.
  const LoadResult fine = load(withIface("[sip]\nresponsive = false\nrate = 1000\nperiod = 1\nburst = 2\n"
                                            "[services.sip]\nudp = [5060]\nzones = [\"internet\"]\n"));
  INFO(dump(fine));
  CHECK(fine.ok());
  REQUIRE(fine.diagnostics.size() == 1);
  CHECK(fine.diagnostics[0].warning);
  CHECK(fine.diagnostics[0].line == 6); // the rate
  CHECK(fine.diagnostics[0].message ==
        "sip.rate = 1000 per 1 s is more than one packet per tick of the data plane's clock (10 ms): with burst = 2 a "
        "source gets about 3 per tick; set burst to 10 or more for the rate to hold");
  // A rate no burst in range can make hold.
  const LoadResult tooFine = load(withIface("[sip]\nresponsive = false\nrate = 200000\nperiod = 1\nknown_rate = 200000\n"
                                            "[services.sip]\nudp = [5060]\nzones = [\"internet\"]\n"));
  REQUIRE(tooFine.diagnostics.size() == 1);
  CHECK(tooFine.diagnostics[0].message.find("and no burst (at most 1000) makes this rate hold") != std::string::npos);
  CHECK(load(withIface("[sip]\nresponsive = false\nrate = 1000\nperiod = 1\nburst = 10\n"
                                            "[services.sip]\nudp = [5060]\nzones = [\"internet\"]\n")).diagnostics.empty());
  CHECK(load(withIface("[sip]\nresponsive = false\nrate = 100\nperiod = 1\nburst = 0\n"
                                            "[services.sip]\nudp = [5060]\nzones = [\"internet\"]\n")).diagnostics.empty());
}

TEST_CASE("pw_siprules from [sip]: signatures, their filter grams, toll prefixes", "[config][sip]")
{
  // The filter holds the four bytes least likely in clean values: not "sip:", not digits and dots.
  CHECK(quietGram("iWar") == 0);
  CHECK(quietGram("sipvicious") >= 1); // not "sip"
  CHECK(quietGram("sip:100@1.1.1.1") != 0);
  CHECK(quietGram("sip-scan") >= 2); // not "ip-", as in phones' agents ("Yealink SIP-T46S")
  CHECK(quietGram("friendly-scanner") <= 12);

  Sip sip;
  sip.userAgents = {"Friendly-Scanner", "iWar"};
  sip.fromPatterns = {"sip:100@1.1.1.1"};
  sip.tollPrefixes = {"+", "9011"};
  sip.dialOutZones = PW_ZONE_BIT(PW_ZONE_TRUSTED);
  const pw_sip_rules r = makeSipRules(sip);
  REQUIRE(r.sig_count == 3);
  CHECK(std::string(reinterpret_cast<const char*>(r.sigs[0].text), r.sigs[0].len) == "friendly-scanner");
  CHECK(r.sigs[0].where == PW_SIG_USER_AGENT);
  CHECK(r.sigs[1].len == 4);
  CHECK(r.sigs[2].where == PW_SIG_FROM);
  CHECK(r.sigs[0].text[16] == 0); // zero after len: compared eight bytes at a time
  // Every signature's two grams are in the filter.
  for (unsigned s = 0; s < r.sig_count; ++s) {
    const pw_sig& g = r.sigs[s];
    for (unsigned at = g.gram; at < g.gram + 2u; ++at) {
      const __u32 w = g.text[at] | g.text[at + 1] << 8 | static_cast<__u32>(g.text[at + 2]) << 16;
      const __u32 h = PW_SIG_HASH(w);
      CHECK((r.filter[h / 64] >> (h % 64) & 1) == 1);
    }
  }
  REQUIRE(r.toll_count == 2);
  CHECK(r.toll[0] == '+');
  CHECK(r.toll_mask[0] == 0xff);
  CHECK(r.toll[1] == ('9' | '0' << 8 | '1' << 16 | static_cast<__u64>('1') << 24));
  CHECK(r.toll_mask[1] == 0xffffffff);
  CHECK(r.dial_out_zones == PW_ZONE_BIT(PW_ZONE_TRUSTED));
  CHECK(r.scanner_ban == 1);
}
