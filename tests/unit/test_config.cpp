// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Unit tests for loader/config: the shipped example, defaults, and one test per kind of error,
// each checked for its line number. [sip] has its own file, test_config_sip.cpp.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "config.hpp"
#include "config_test_util.hpp"
#include "names.hpp"

using namespace pbxwall;
using namespace pbxwall::config;
using namespace pbxwall::config::test;


TEST_CASE("the shipped config/pbxwall.toml loads without errors", "[config]")
{
  const LoadResult r = loadFile(PW_SOURCE_DIR "/config/pbxwall.toml", kNoIfCheck);
  INFO(dump(r));
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  const Config& c = *r.config;
  CHECK(c.path == PW_SOURCE_DIR "/config/pbxwall.toml");
  REQUIRE(c.interfaces.size() == 1);
  CHECK(c.interfaces[0].name == "eth0");
  CHECK(c.interfaces[0].zone == PW_ZONE_INTERNET);
  CHECK(c.interfaces[0].mode == XdpMode::Auto);
  CHECK(c.unlisted == PW_UNLISTED_PASS);
  CHECK(c.pinDir == PW_PIN_DIR);
  CHECK(c.stateDir == PW_STATE_DIR);
  CHECK(c.echoZones == (PW_ZONE_BIT(PW_ZONE_TRUSTED) | PW_ZONE_BIT(PW_ZONE_LOCAL) | PW_ZONE_BIT(PW_ZONE_OTHER)));
  CHECK(c.limits.hosts == PW_DEFAULT_HOSTS);
  CHECK(c.limits.hosts6 == PW_DEFAULT_HOSTS6);
  CHECK(c.limits.nets == PW_DEFAULT_NETS);
  CHECK(c.limits.bans == PW_DEFAULT_BANS);
  CHECK(c.limits.flows == PW_DEFAULT_FLOWS);
  CHECK(c.limits.frags == PW_DEFAULT_FRAGS);

  std::vector<std::string> names;
  for (const Service& s : c.services)
    names.push_back(s.name);
  CHECK(names == std::vector<std::string>{"sip", "iax2", "rtp", "web", "ucp", "ssh", "provisioning", "ntp"});
  const Service& sip = c.services[0];
  CHECK(sip.udp == std::vector<PortRange>{{5060, 5060}});
  CHECK(sip.tcp == std::vector<PortRange>{{5060, 5060}, {5061, 5061}});
  CHECK(sip.zones == (PW_ZONE_BIT(PW_ZONE_TRUSTED) | PW_ZONE_BIT(PW_ZONE_LOCAL) | PW_ZONE_BIT(PW_ZONE_OTHER) |
                      PW_ZONE_BIT(PW_ZONE_INTERNET)));
  CHECK(c.services[2].udp == std::vector<PortRange>{{10000, 20000}});
  CHECK(findService(c, "sip") == &c.services[0]);
  CHECK(findService(c, "rtp") == &c.services[2]);
  CHECK(findService(c, "nosuch") == nullptr);

  // [sip] is written out with its defaults; trap_ports stays commented out.
  const Sip defaults;
  CHECK(c.sip.line > 0);
  CHECK(c.sip.responsive == defaults.responsive);
  CHECK(c.sip.rate == defaults.rate);
  CHECK(c.sip.period == defaults.period);
  CHECK(c.sip.burst == defaults.burst);
  CHECK(c.sip.knownRate == defaults.knownRate);
  CHECK(c.sip.banAfter == defaults.banAfter);
  CHECK(c.sip.banWindow == defaults.banWindow);
  CHECK(c.sip.banSeconds == defaults.banSeconds);
  CHECK(c.sip.ipv6Prefix == defaults.ipv6Prefix);
  CHECK(c.sip.newSourcesPerSecond == defaults.newSourcesPerSecond);
  CHECK(c.sip.knownSeconds == defaults.knownSeconds);
  CHECK(c.sip.trapPorts.empty());
  CHECK(c.sip.userAgents == defaults.userAgents);
  CHECK(c.sip.fromPatterns == defaults.fromPatterns);
  CHECK(c.sip.scannerBan == defaults.scannerBan);
  CHECK(c.sip.tollPrefixes == defaults.tollPrefixes);
  CHECK(c.sip.dialOutZones == defaults.dialOutZones);

  // Only documentation/test addresses in the example.
  const Cidr allowed[] = {parseCidr("198.18.0.0/15"), parseCidr("2001:db8::/32"), parseCidr("192.168.0.0/16")};
  CHECK(!c.zones.empty());
  for (const ZoneRule& z : c.zones) {
    INFO(z.cidr.str());
    CHECK(std::any_of(std::begin(allowed), std::end(allowed),
                      [&](const Cidr& a) { return a.len <= z.cidr.len && a.contains(z.cidr.addr); }));
  }
}

TEST_CASE("a minimal config gets every default", "[config]")
{
  const LoadResult r = load(kIface);
  INFO(dump(r));
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  const Config& c = *r.config;
  CHECK(c.path == "test.toml");
  CHECK(c.pinDir == "/sys/fs/bpf/pbxwall");
  CHECK(c.stateDir == "/var/lib/pbxwall");
  CHECK(c.unlisted == PW_UNLISTED_PASS);
  CHECK(c.echoZones == (PW_ZONE_BIT(PW_ZONE_TRUSTED) | PW_ZONE_BIT(PW_ZONE_LOCAL) | PW_ZONE_BIT(PW_ZONE_OTHER)));
  REQUIRE(c.interfaces.size() == 1);
  CHECK(c.interfaces[0].name == "eth0");
  CHECK(c.interfaces[0].zone == PW_ZONE_INTERNET);
  CHECK(c.interfaces[0].mode == XdpMode::Auto);
  CHECK(c.interfaces[0].line == 1);
  CHECK(c.zones.empty());
  CHECK(c.services.empty());
  CHECK(c.limits.hosts == PW_DEFAULT_HOSTS);
  CHECK(c.limits.nets == PW_DEFAULT_NETS);
  CHECK(c.limits.bans == PW_DEFAULT_BANS);
  CHECK(c.limits.flows == PW_DEFAULT_FLOWS);
  CHECK(c.limits.frags == PW_DEFAULT_FRAGS);

  CHECK(c.sip.line == 0);
  CHECK(c.sip.responsive);
  CHECK(c.sip.rate == 10);
  CHECK(c.sip.period == 60);
  CHECK(c.sip.burst == 5);
  CHECK(c.sip.knownRate == 6000);
  CHECK(c.sip.banAfter == 20);
  CHECK(c.sip.banWindow == 600);
  CHECK(c.sip.banSeconds == 1800);
  CHECK(c.sip.ipv6Prefix == 64);
  CHECK(c.sip.newSourcesPerSecond == 500);
  CHECK(c.sip.knownSeconds == 7200);
  CHECK(c.sip.maxFailures == 10);
  CHECK(c.sip.challengeAllowance == 3);
  CHECK(c.sip.trapPorts.empty());
  CHECK(c.sip.userAgents == Sip{}.userAgents);
  CHECK(c.sip.fromPatterns == Sip{}.fromPatterns);
  CHECK(c.sip.scannerBan == Sip{}.scannerBan);
  CHECK(c.sip.tollPrefixes == Sip{}.tollPrefixes);
  CHECK(c.sip.dialOutZones == Sip{}.dialOutZones);
  CHECK(findService(c, "sip") == nullptr);
}

TEST_CASE("every key is read", "[config]")
{
  const LoadResult r = load(R"(pin_dir = "/run/pw/pin"
state_dir = "/srv/pw"
unlisted_ports = "drop"
[[interface]]
name = "eth1"
zone = "local"
xdp_mode = "native"
[[interface]]
name = "eth0"
zone = "internet"
xdp_mode = "generic"
[zones]
reject = ["198.18.9.9"]
internet = ["198.18.0.0/16", "2001:db8::/32"]
trusted = ["198.18.1.0/24"]
[icmp]
echo = []
[limits]
hosts = 1000
nets = 2000
bans = 3000
flows = 4096
frags = 512
[services.zz]
udp = [5060, "10000-20000"]
zones = ["internet"]
[services.aa]
tcp = ["22"]
zones = []
)");
  INFO(dump(r));
  REQUIRE(r.ok());
  const Config& c = *r.config;
  CHECK(c.pinDir == "/run/pw/pin");
  CHECK(c.stateDir == "/srv/pw");
  CHECK(c.unlisted == PW_UNLISTED_DROP);
  REQUIRE(c.interfaces.size() == 2);
  CHECK(c.interfaces[0].name == "eth1");
  CHECK(c.interfaces[0].zone == PW_ZONE_LOCAL);
  CHECK(c.interfaces[0].mode == XdpMode::Native);
  CHECK(c.interfaces[0].line == 4);
  CHECK(c.interfaces[1].mode == XdpMode::Generic);
  CHECK(c.interfaces[1].line == 8);

  // File order, not key order.
  REQUIRE(c.zones.size() == 4);
  CHECK(c.zones[0].cidr.str() == "198.18.9.9");
  CHECK(c.zones[0].zone == PW_ZONE_REJECT);
  CHECK(c.zones[0].line == 13);
  CHECK(c.zones[1].cidr.str() == "198.18.0.0/16");
  CHECK(c.zones[2].cidr.str() == "2001:db8::/32");
  CHECK(c.zones[2].zone == PW_ZONE_INTERNET);
  CHECK(c.zones[3].cidr.str() == "198.18.1.0/24");
  CHECK(c.zones[3].zone == PW_ZONE_TRUSTED);
  CHECK(c.zones[3].line == 15);

  CHECK(c.echoZones == 0);
  CHECK(c.limits.hosts == 1000);
  CHECK(c.limits.nets == 2000);
  CHECK(c.limits.bans == 3000);
  CHECK(c.limits.flows == 4096);
  CHECK(c.limits.frags == 512);

  REQUIRE(c.services.size() == 2);
  CHECK(c.services[0].name == "zz");
  CHECK(c.services[0].line == 24);
  CHECK(c.services[0].udp == std::vector<PortRange>{{5060, 5060}, {10000, 20000}});
  CHECK(c.services[0].tcp.empty());
  CHECK(c.services[0].zones == PW_ZONE_BIT(PW_ZONE_INTERNET));
  CHECK(c.services[1].name == "aa");
  CHECK(c.services[1].tcp == std::vector<PortRange>{{22, 22}});
  CHECK(c.services[1].zones == 0);
}

TEST_CASE("diagnostics print as FILE:LINE:COL", "[config]")
{
  CHECK(Diagnostic{"a.toml", 3, 7, false, "bad"}.str() == "a.toml:3:7: error: bad");
  CHECK(Diagnostic{"a.toml", 3, 7, true, "odd"}.str() == "a.toml:3:7: warning: odd");
  CHECK(Diagnostic{"a.toml", 3, 0, false, "bad"}.str() == "a.toml:3: error: bad");
  CHECK(Diagnostic{"a.toml", 0, 0, false, "bad"}.str() == "a.toml: error: bad");

  const LoadResult r = load(ifaceAfter("pin_dir = 5\n"));
  REQUIRE(errorsOf(r).size() == 1);
  CHECK(r.diagnostics[0].str() == "test.toml:1:11: error: pin_dir must be a string, not an integer");
}

TEST_CASE("TOML syntax errors are reported with their line", "[config]")
{
  requireOneError(load(withIface("[zones\n")), 4, "");
  requireOneError(load(withIface("\n\nunlisted_ports = \"pass\n")), 6, "");
  requireOneError(load(withIface("unlisted_ports = \"pass\"\nunlisted_ports = \"drop\"\n")), 5, "");
}

TEST_CASE("unknown keys are errors naming the key", "[config]")
{
  requireOneError(load(ifaceAfter("unlisted_port = \"drop\"\n")), 1, "unknown key \"unlisted_port\" in the top level");
  requireOneError(load(withIface("unlisted_ports = \"drop\"\n")), 4,
                  "unknown key \"unlisted_ports\" in [[interface]] (known keys: name, zone, xdp_mode); "
                  "top-level keys must come before the first [table] header");
  requireOneError(load("[[interface]]\nname = \"eth0\"\nzone = \"internet\"\nxdp = \"native\"\n"), 4,
                  "unknown key \"xdp\" in [[interface]]");
  requireOneError(load(withIface("[zones]\ntrusted = []\ntrused = [\"198.18.0.1\"]\n")), 6,
                  "unknown zone \"trused\" in [zones]");
  requireOneError(load(withIface("[zones]\nnone = []\n")), 5, "unknown zone \"none\"");
  requireOneError(load(withIface("[icmp]\necho = []\nreply = []\n")), 6, "unknown key \"reply\" in [icmp]");
  requireOneError(load(withIface("[limits]\nhost = 5\n")), 5, "unknown key \"host\" in [limits]");
  requireOneError(load(withIface("[services.sip]\nudp = [\"5060\"]\nzones = [\"local\"]\nzone = [\"internet\"]\n")), 7,
                  "unknown key \"zone\" in [services.sip]");
}

TEST_CASE("wrong types are errors", "[config]")
{
  requireOneError(load(ifaceAfter("state_dir = [\"/a\"]\n")), 1, "state_dir must be a string, not an array");
  requireOneError(load(ifaceAfter("unlisted_ports = false\n")), 1, "unlisted_ports must be a string, not a boolean");
  requireOneError(load(ifaceAfter("zones = 5\n")), 1, "[zones] must be a table, not an integer");
  requireOneError(load(withIface("[zones]\ntrusted = \"198.18.0.1\"\n")), 5, "zones.trusted must be an array");
  requireOneError(load(withIface("[zones]\ntrusted = [\n  \"198.18.0.1\",\n  17,\n]\n")), 7,
                  "zones.trusted entry must be a string, not an integer");
  requireOneError(load(withIface("[limits]\nhosts = \"many\"\n")), 5, "limits.hosts must be an integer, not a string");
  requireOneError(load(withIface("[limits]\nnets = 1.5\n")), 5, "limits.nets must be an integer, not a float");
  requireOneError(load(withIface("[icmp]\necho = \"trusted\"\n")), 5, "icmp.echo must be an array of zone names");
  requireOneError(load(withIface("[services]\nsip = 5060\n")), 5, "[services.sip] must be a table");
  requireOneError(load(withIface("[services.sip]\nudp = 5060\nzones = [\"local\"]\n")), 5,
                  "services.sip.udp must be an array of ports");
  requireOneError(load(withIface("[services.sip]\nudp = [true]\nzones = [\"local\"]\n")), 5,
                  "services.sip.udp entry must be a port string or integer, not a boolean");
  requireOneError(load("[[interface]]\nname = 1\nzone = \"internet\"\n"), 2,
                  "interface name must be a string, not an integer");
}

TEST_CASE("bad CIDRs carry the parser's message", "[config]")
{
  requireOneError(load(withIface("[zones]\nlocal = [\"192.168.0.0/16\", \"10.0.0.256/8\"]\n")), 5,
                  "invalid address \"10.0.0.256\" in \"10.0.0.256/8\"");
  requireOneError(load(withIface("[zones]\n\nlocal = [\"10.0.0.1/24\"]\n")), 6,
                  "\"10.0.0.1/24\" has host bits set (did you mean 10.0.0.0/24?)");
  requireOneError(load(withIface("[zones]\nother = [\"2001:db8::/129\"]\n")), 5, "prefix length 129 out of range");
  requireOneError(load(withIface("[zones]\nother = [\"\"]\n")), 5, "empty CIDR");

  const LoadResult r = load(withIface("[zones]\nother = [\"198.18.0.0/15\", \"x\"]\n"));
  REQUIRE(errorsOf(r).size() == 1);
  CHECK(r.diagnostics[0].column == 27);
}

TEST_CASE("the same CIDR may be listed only once", "[config]")
{
  requireOneError(load(withIface("[zones]\ntrusted = [\"198.18.0.1\"]\nreject = [\"198.18.0.1/32\"]\n")), 6,
                  "198.18.0.1 is listed in both zones.trusted (line 5) and zones.reject");
  requireOneError(load(withIface("[zones]\nlocal = [\"2001:db8::/32\",\n \"2001:0DB8:0::/32\"]\n")), 6,
                  "2001:db8::/32 is listed twice in zones.local (first at line 5)");
  // Nested prefixes are fine: the more specific one wins.
  CHECK(load(withIface("[zones]\nlocal = [\"198.18.0.0/15\"]\nreject = [\"198.18.0.0/16\"]\n")).ok());
}

TEST_CASE("bad ports are errors", "[config]")
{
  requireOneError(load(withIface("[services.x]\nudp = [\"20000-10000\"]\nzones = [\"local\"]\n")), 5,
                  "services.x.udp: invalid port range \"20000-10000\": low port is above high port");
  requireOneError(load(withIface("[services.x]\ntcp = [0]\nzones = [\"local\"]\n")), 5,
                  "services.x.tcp: port 0 out of range 1..65535");
  requireOneError(load(withIface("[services.x]\ntcp = [65536]\nzones = [\"local\"]\n")), 5,
                  "port 65536 out of range 1..65535");
  requireOneError(load(withIface("[services.x]\ntcp = [\"80 \"]\nzones = [\"local\"]\n")), 5,
                  "spaces are not allowed");
}

TEST_CASE("a port belongs to one service", "[config]")
{
  requireOneError(load(withIface(R"([services.sip]
udp = ["5060"]
zones = ["internet"]
[services.sip2]
tcp = ["5060"]
udp = [
  "5060",
]
zones = ["local"]
)")),
                  10, "udp port 5060 of service \"sip2\" is already claimed by service \"sip\" (line 4)");

  requireOneError(load(withIface(R"([services.rtp]
udp = ["10000-20000"]
zones = ["internet"]
[services.media]
udp = ["19990-20010"]
zones = ["local"]
)")),
                  8, "udp ports 19990-20000 of service \"media\" are already claimed by service \"rtp\" (line 4)");

  // The same port in one service is only a warning.
  const LoadResult r = load(withIface("[services.x]\ntcp = [\"80\", 80]\nzones = [\"local\"]\n"));
  CHECK(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].warning);
  CHECK(r.diagnostics[0].message == "tcp port 80 is listed twice in service \"x\"");
}

TEST_CASE("service errors", "[config]")
{
  requireOneError(load(withIface("[services.x]\nzones = [\"local\"]\n")), 4, "service \"x\" has no ports");
  requireOneError(load(withIface("[services.x]\nudp = []\ntcp = []\nzones = [\"local\"]\n")), 4,
                  "service \"x\" has no ports");
  requireOneError(load(withIface("[services.x]\nudp = [\"53\"]\n")), 4, "service \"x\" needs zones");
  requireOneError(load(withIface("[services.x]\nudp = [\"53\"]\nzones = [\"local\", \"reject\"]\n")), 6,
                  "services.x.zones cannot name \"reject\"");
  requireOneError(load(withIface("[services.x]\nudp = [\"53\"]\nzones = [\"lan\"]\n")), 6,
                  "unknown zone \"lan\" in services.x.zones");
  requireOneError(load(withIface("[services.x]\nudp = [\"53\"]\nzones = [\"none\"]\n")), 6, "unknown zone \"none\"");
  requireOneError(load(withIface("[services.Web]\ntcp = [\"80\"]\nzones = [\"local\"]\n")), 4,
                  "invalid service name \"Web\"");
  requireOneError(load(withIface("[services.\"web admin\"]\ntcp = [\"80\"]\nzones = [\"local\"]\n")), 4,
                  "invalid service name \"web admin\"");
  requireOneError(load(withIface("[services.abcdefghijabcdefghijabcdefghijabc]\ntcp = [\"80\"]\nzones = []\n")), 4,
                  "invalid service name");
  CHECK(load(withIface("[services.abcdefghijabcdefghijabcdefghijab]\ntcp = [\"80\"]\nzones = []\n")).ok());
  CHECK(load(withIface("[services.a-b_9]\ntcp = [\"80\"]\nzones = []\n")).ok());
}

TEST_CASE("at most PW_SERVICES_MAX services", "[config]")
{
  std::string text(kIface);
  for (unsigned i = 1; i <= PW_SERVICES_MAX; ++i)
    text += "[services.s" + std::to_string(i) + "]\ntcp = [" + std::to_string(i) + "]\nzones = []\n";
  CHECK(load(text).ok());
  text += "[services.last]\ntcp = [60000]\nzones = []\n";
  requireOneError(load(text), 4 + 3 * PW_SERVICES_MAX, "too many services: at most 255");
}

TEST_CASE("interface errors", "[config]")
{
  requireOneError(load("unlisted_ports = \"drop\"\n"), 0, "no [[interface]]");
  requireOneError(load("interface = []\n"), 1, "no [[interface]]");
  requireOneError(load("[interface]\nname = \"eth0\"\nzone = \"internet\"\n"), 1,
                  "interface must be written as [[interface]] tables, not a table");
  requireOneError(load("[[interface]]\nzone = \"internet\"\n"), 1, "[[interface]] needs a name");
  requireOneError(load("[[interface]]\nname = \"eth0\"\n"), 1, "[[interface]] needs a zone");
  requireOneError(load("[[interface]]\nname = \"eth0\"\nzone = \"wan\"\n"), 3,
                  "unknown zone \"wan\" in interface zone (expected trusted, local, other, internet or reject)");
  requireOneError(load("[[interface]]\nname = \"eth0\"\nzone = \"none\"\n"), 3, "unknown zone \"none\"");
  requireOneError(load(withIface("xdp_mode = \"skb\"\n")), 4,
                  "xdp_mode must be \"auto\", \"native\" or \"generic\", not \"skb\"");
  requireOneError(load("[[interface]]\nname = \"a-very-long-name\"\nzone = \"local\"\n"), 2, "invalid interface name");
  requireOneError(load("[[interface]]\nname = \"\"\nzone = \"local\"\n"), 2, "invalid interface name");
  requireOneError(load("[[interface]]\nname = \"eth/0\"\nzone = \"local\"\n"), 2, "invalid interface name");
  requireOneError(load("[[interface]]\nname = \"eth 0\"\nzone = \"local\"\n"), 2, "invalid interface name");
  requireOneError(load(withIface("[[interface]]\nname = \"eth0\"\nzone = \"local\"\n")), 5,
                  "interface \"eth0\" is listed twice (first at line 1)");
  // TOML allows \u0000: "eth0\u0000" would be a second spelling of eth0 for the kernel.
  requireOneError(load(withIface("[[interface]]\nname = \"eth0\\u0000\"\nzone = \"trusted\"\n")), 5,
                  "interface name must not hold a NUL character");
  requireOneError(load(ifaceAfter("pin_dir = \"/sys/fs/bpf/pw\\u0000x\"\n")), 1,
                  "pin_dir must not hold a NUL character");
  CHECK(load("[[interface]]\nname = \"abcdefghijklmno\"\nzone = \"reject\"\n").ok());
}

TEST_CASE("at most 31 interfaces", "[config]")
{
  std::string text;
  for (int i = 0; i < 31; ++i)
    text += "[[interface]]\nname = \"eth" + std::to_string(i) + "\"\nzone = \"local\"\n";
  CHECK(load(text).ok());
  text += "[[interface]]\nname = \"eth31\"\nzone = \"local\"\n";
  requireOneError(load(text), 94, "too many interfaces: at most 31");
}

TEST_CASE("top-level value errors", "[config]")
{
  requireOneError(load(ifaceAfter("unlisted_ports = \"deny\"\n")), 1,
                  "unlisted_ports must be \"pass\" or \"drop\", not \"deny\"");
  requireOneError(load(ifaceAfter("\npin_dir = \"sys/fs/bpf/pw\"\n")), 2, "pin_dir must be an absolute path");
  requireOneError(load(ifaceAfter("state_dir = \"\"\n")), 1, "state_dir must be an absolute path");
}

TEST_CASE("icmp echo zones", "[config]")
{
  const LoadResult r = load(withIface("[icmp]\necho = [\"internet\", \"trusted\"]\n"));
  REQUIRE(r.ok());
  CHECK(r.config->echoZones == (PW_ZONE_BIT(PW_ZONE_INTERNET) | PW_ZONE_BIT(PW_ZONE_TRUSTED)));
  requireOneError(load(withIface("[icmp]\necho = [\"trusted\", \"reject\"]\n")), 5, "icmp.echo cannot name \"reject\"");
  requireOneError(load(withIface("[icmp]\necho = [\"everyone\"]\n")), 5, "unknown zone \"everyone\" in icmp.echo");
}

TEST_CASE("limits must be in range", "[config]")
{
  requireOneError(load(withIface("[limits]\nhosts = 0\n")), 5, "limits.hosts = 0 is out of range 1..16777216");
  requireOneError(load(withIface("[limits]\nnets = 4194305\n")), 5, "limits.nets = 4194305 is out of range");
  requireOneError(load(withIface("[limits]\nbans = -1\n")), 5, "limits.bans = -1 is out of range");
  requireOneError(load(withIface("[limits]\nflows = 1023\n")), 5, "limits.flows = 1023 is out of range 1024..4194304");
  requireOneError(load(withIface("[limits]\nfrags = 1048577\n")), 5, "limits.frags = 1048577 is out of range");
  requireOneError(load(withIface("[limits]\nhosts = 1\n[zones]\nlocal = [\"198.18.0.1\", \"198.18.0.2\"]\n")), 0,
                  "2 IPv4 host addresses in [zones] exceed limits.hosts = 1");
  requireOneError(load(withIface("[limits]\nhosts6 = 1\n[zones]\nlocal = [\"198.18.0.1\", \"2001:db8::1\", \"2001:db8::2\"]\n")),
                  0, "2 IPv6 host addresses in [zones] exceed limits.hosts6 = 1");
  {
    auto r = load(withIface("[limits]\nhosts6 = 500\n"));
    REQUIRE(r.ok());
    CHECK(r.config->limits.hosts6 == 500);
  }
  requireOneError(load(withIface("[limits]\nhosts6 = 4194305\n")), 5, "limits.hosts6 = 4194305 is out of range 1..4194304");
  requireOneError(load(withIface("[limits]\nnets = 1\n[zones]\nlocal = [\"198.18.0.0/24\", \"2001:db8::/32\"]\n")), 0,
                  "2 prefixes in [zones] exceed limits.nets = 1");
}

TEST_CASE("[limits] known, rate and fails", "[config]")
{
  const LoadResult r = load(withIface("[limits]\nknown = 100\nrate = 2048\nfails = 4096\n"));
  INFO(dump(r));
  REQUIRE(r.ok());
  CHECK(r.config->limits.known == 100);
  CHECK(r.config->limits.rate == 2048);
  CHECK(r.config->limits.fails == 4096);
  const Limits defaults;
  CHECK(defaults.known == PW_DEFAULT_KNOWN);
  CHECK(defaults.rate == PW_DEFAULT_RATE);
  CHECK(defaults.fails == PW_DEFAULT_FAILS);
  requireOneError(load(withIface("[limits]\nknown = 15\n")), 5, "limits.known = 15 is out of range 16..16777216");
  requireOneError(load(withIface("[limits]\nrate = 1023\n")), 5, "limits.rate = 1023 is out of range 1024..16777216");
  requireOneError(load(withIface("[limits]\nfails = 16777217\n")), 5, "limits.fails = 16777217 is out of range");
}

TEST_CASE("a reload may not change pin_dir, state_dir or any [limits] size", "[config]")
{
  const LoadResult base = load(withIface(""));
  REQUIRE(base.ok());
  CHECK(layoutChange(*base.config, *base.config).empty());
  // Every limit sizes a map: each one, changed alone, is named with both values.
  for (const char* key : {"hosts", "hosts6", "nets", "bans", "flows", "frags", "known", "rate", "fails"}) {
    const LoadResult next = load(withIface(std::string("[limits]\n") + key + " = 4096\n"));
    INFO(key << ": " << dump(next));
    REQUIRE(next.ok());
    const std::string change = layoutChange(*base.config, *next.config);
    CHECK(change.rfind(std::string("[limits] ") + key + ": ", 0) == 0);
    CHECK(change.find("-> 4096") != std::string::npos);
  }
  Config moved = *base.config;
  moved.stateDir = "/var/lib/pbxwall-other";
  CHECK(layoutChange(*base.config, moved) == "state_dir: " + base.config->stateDir + " -> /var/lib/pbxwall-other");
  moved = *base.config;
  moved.pinDir = "/sys/fs/bpf/other";
  CHECK(layoutChange(*base.config, moved).rfind("pin_dir: ", 0) == 0);
  // What a reload may change is not a layout change.
  const LoadResult policy =
      load(ifaceAfter("unlisted_ports = \"pass\"\n[zones]\nreject = [\"198.18.3.0/24\"]\n"));
  INFO(dump(policy));
  REQUIRE(policy.ok());
  CHECK(layoutChange(*base.config, *policy.config).empty());
}

TEST_CASE("every error is reported, and none returns a config", "[config]")
{
  const LoadResult r = load(R"(unlisted_ports = "maybe"
[[interface]]
name = "eth0"
zone = "wan"
[zones]
local = ["10.0.0.1/8"]
[services.sip]
udp = ["5060"]
zones = ["reject"]
[limits]
frags = 1
)");
  INFO(dump(r));
  CHECK(!r.ok());
  CHECK(!r.config);
  const auto errors = errorsOf(r);
  REQUIRE(errors.size() == 5);
  // Ordered by position.
  CHECK(errors[0].line == 1);
  CHECK(errors[1].line == 4);
  CHECK(errors[2].line == 6);
  CHECK(errors[3].line == 9);
  CHECK(errors[4].line == 11);
}

TEST_CASE("warnings do not fail the load", "[config]")
{
  const std::string text = "[[interface]]\nname = \"pwnosuch0\"\nzone = \"internet\"\n";
  const LoadResult checked = loadString(text, "test.toml");
  INFO(dump(checked));
  CHECK(checked.ok());
  REQUIRE(checked.config);
  CHECK(checked.config->interfaces.size() == 1);
  REQUIRE(checked.diagnostics.size() == 1);
  CHECK(checked.diagnostics[0].warning);
  CHECK(checked.diagnostics[0].line == 2);
  CHECK(checked.diagnostics[0].message == "interface \"pwnosuch0\" does not exist on this machine");
  CHECK(checked.diagnostics[0].str().find("test.toml:2:8: warning: ") == 0);

  CHECK(load(text).diagnostics.empty());

  const LoadResult wide = load(withIface("[zones]\ninternet = [\"::/0\"]\n"));
  CHECK(wide.ok());
  REQUIRE(wide.diagnostics.size() == 1);
  CHECK(wide.diagnostics[0].warning);
  CHECK(wide.diagnostics[0].message.find("covers IPv6 addresses only") != std::string::npos);
  CHECK(load(withIface("[zones]\ninternet = [\"2000::/3\", \"0.0.0.0/0\"]\n")).diagnostics.empty());

  // Taken, but named: a wide entry outside zone internet, and one that no packet can match.
  const LoadResult odd = load(withIface("[zones]\ntrusted = [\"0.0.0.0/0\"]\nreject = [\"127.0.0.0/8\"]\n"));
  INFO(dump(odd));
  CHECK(odd.ok());
  REQUIRE(odd.diagnostics.size() == 2);
  CHECK(odd.diagnostics[0].warning);
  CHECK(odd.diagnostics[0].message == "zones.trusted: 0.0.0.0/0 is wider than an IPv4 /8: every source in it that no "
                                      "longer entry names gets zone trusted (never filtered nor banned)");
  CHECK(odd.diagnostics[1].warning);
  CHECK(odd.diagnostics[1].message.rfind("zones.reject: 127.0.0.0/8 lies in loopback space", 0) == 0);
}

// The loopback device exists in every network namespace: its traffic is the host's own, from
// sources the program drops as martians.
TEST_CASE("the loopback device cannot be named", "[config]")
{
  const std::string text = "[[interface]]\nname = \"lo\"\nzone = \"trusted\"\n";
  const LoadResult checked = loadString(text, "test.toml");
  INFO(dump(checked));
  CHECK_FALSE(checked.ok());
  REQUIRE(checked.diagnostics.size() == 1);
  CHECK_FALSE(checked.diagnostics[0].warning);
  CHECK(checked.diagnostics[0].str().find("test.toml:2:8: error: interface \"lo\" is the loopback device") == 0);
  CHECK(load(text).ok()); // without the interface check (tests, --check elsewhere)
}

TEST_CASE("a missing file is an error", "[config]")
{
  const LoadResult r = loadFile("/nonexistent/pbxwall.toml");
  CHECK(!r.ok());
  CHECK(!r.config);
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].str() == "/nonexistent/pbxwall.toml: error: cannot open: No such file or directory");

  const LoadResult dir = loadFile(PW_SOURCE_DIR "/config");
  CHECK(!dir.config);
  REQUIRE(dir.diagnostics.size() == 1);
  CHECK(dir.diagnostics[0].message == "cannot read: is a directory");
}

TEST_CASE("inline tables and dotted keys work like headers", "[config]")
{
  const LoadResult r = load(R"(interface = [{ name = "eth0", zone = "local" }]
zones.trusted = ["198.18.0.1"]
services.ssh = { tcp = [22], zones = ["local"] }
services.web.tcp = ["80", "443"]
services.web.zones = ["trusted"]
)");
  INFO(dump(r));
  REQUIRE(r.ok());
  CHECK(r.config->interfaces.size() == 1);
  CHECK(r.config->zones.size() == 1);
  REQUIRE(r.config->services.size() == 2);
  CHECK(r.config->services[0].name == "ssh");
  CHECK(r.config->services[1].name == "web");
  CHECK(r.config->services[1].tcp == std::vector<PortRange>{{80, 80}, {443, 443}});
}

TEST_CASE("messages stay on one line", "[config]")
{
  requireOneError(load("[[interface]]\nname = \"eth\\n0\"\nzone = \"local\"\n"), 2,
                  "invalid interface name \"eth\\x0a0\"");
}
