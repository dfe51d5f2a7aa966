// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// BPF fixture harness: unpinned skeletons, policy from TOML, BPF_PROG_TEST_RUN, counter deltas.
#include "harness.hpp"

#include "config.hpp"
#include "names.hpp"
#include "pbxwall.skel.h"
#include "policy.hpp"
#include "policy_build.hpp"
#include "state.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <sched.h>
#include <time.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <utility>

namespace pbxwall::bpftest {

namespace {

// The common part of both base configs; unlisted_ports is prepended.
const char* const kBaseBody = R"(
[[interface]]
name = "lo"
zone = "internet"

[zones]
trusted = ["198.18.1.0/24", "2001:db8:1::/48", "198.18.3.7", "2001:db8:3::7"]
local = ["198.18.2.0/24", "2001:db8:2::/48"]
reject = ["198.18.3.0/24", "2001:db8:3::/48", "198.18.1.66", "2001:db8:1::66"]

[icmp]
echo = ["trusted", "local"]

# Named "voip", not "sip": these fixtures test the plain service rules; the service named
# "sip" gets responsive mode, which fixtures_sip.cpp covers.
[services.voip]
udp = ["5060"]
tcp = ["5060-5061"]
zones = ["trusted", "local", "other", "internet"]

[services.rtp]
udp = ["10000-20000"]
zones = ["trusted", "local", "other"]

[services.ssh]
tcp = ["22"]
zones = ["trusted", "local"]
)";

// Small tables: every fixture loads its own object, and none needs more.
struct MapSize {
    const char* name;
    __u32 entries;
};
constexpr MapSize kMapSizes[] = {
    {PW_MAP_NAME_HOSTS4, 2 * 64}, {PW_MAP_NAME_HOSTS6, 2 * 128}, {PW_MAP_NAME_NETS, 2 * 256},
    {PW_MAP_NAME_NETS4, 2 * (PW_NET4_TOP / 16 + 2 * 256 + 64)}, {PW_MAP_NAME_BANS, 256}, // nets4: pw_net4_chunks(256)
    {PW_MAP_NAME_FLOWS, 1024},    {PW_MAP_NAME_FRAGS, 256},
    {PW_MAP_NAME_KNOWN, 1024},    {PW_MAP_NAME_RATE, 4096 + 4096 / PW_RATE_TAGS_PER_BLOCK + 4096 / PW_RATE_LANES_PER_BLOCK}, // pw_rate_entries(4096)
    {PW_MAP_NAME_BANBITS, 2 * 1024}, {PW_MAP_NAME_BANCACHE, 2 * 2048}, // pw_banbit_words(256), pw_bancache_buckets(256)
    {PW_MAP_NAME_KNOWNBITS, 2 * 1024}, // pw_banbit_words(1024)
};

void check(int rc, const std::string& what)
{
    if (rc < 0)
        throwErrno(rc, what);
}

using CounterKey = std::tuple<unsigned, unsigned, unsigned>;

std::map<CounterKey, CounterRow> byKey(const std::vector<CounterRow>& rows)
{
    std::map<CounterKey, CounterRow> out;
    for (const auto& r : rows)
        out[{r.slot, r.zone, r.reason}] = r;
    return out;
}

std::string rowText(const CounterRow& r)
{
    return "slot " + std::to_string(r.slot) + " zone " + zoneLabel(r.zone) + " reason " + reasonLabel(r.reason) + ": +"
        + std::to_string(r.packets) + " packets, +" + std::to_string(r.bytes) + " bytes";
}

std::string rowsText(const std::vector<CounterRow>& rows)
{
    if (rows.empty())
        return "no counter moved";
    std::string out;
    for (const auto& r : rows)
        out += (out.empty() ? "" : "; ") + rowText(r);
    return out;
}

} // namespace

const std::string kBaseDrop = std::string("unlisted_ports = \"drop\"\n") + kBaseBody;
const std::string kBasePass = std::string("unlisted_ports = \"pass\"\n") + kBaseBody;

unsigned unnamedIfindex()
{
    static const unsigned index = [] {
        unsigned found = 0;
        if (struct if_nameindex* list = if_nameindex()) {
            for (auto* i = list; i->if_index != 0; ++i)
                if (i->if_index != kLo && i->if_index < PW_IFINDEX_LIMIT && (found == 0 || i->if_index < found))
                    found = i->if_index;
            if_freenameindex(list);
        }
        return found;
    }();
    return index;
}

std::string named(Family f, const std::string& what) { return (f == Family::V4 ? "IPv4: " : "IPv6: ") + what; }

test::Packet ip(Family f, Peer src, Peer dst) { return ip(f, src, dst, test::Packet().eth()); }

test::Packet ip(Family f, Peer src, Peer dst, test::Packet base)
{
    if (f == Family::V4)
        base.ipv4(src.v4, dst.v4);
    else
        base.ipv6(src.v6, dst.v6);
    return base;
}

test::Packet icmp(test::Packet p, Family f, uint8_t type, uint8_t code)
{
    if (f == Family::V4)
        p.icmp4(type, code);
    else
        p.icmp6(type, code);
    return p;
}

Harness::Harness(const std::string& toml, Programs programs) : Harness(toml, programs, {}) {}

Harness::Harness(const std::string& toml, Programs programs, const std::vector<TableSize>& sizes)
{
    skel_ = pbxwall_bpf::open();
    if (!skel_)
        throwErrno(errno, "open the pbxwall BPF object");
    try {
        bpf_map* map = nullptr;
        bpf_object__for_each_map(map, skel_->obj)
        {
            check(bpf_map__set_pin_path(map, nullptr), "unpin " + std::string(bpf_map__name(map)));
        }
        for (const auto& s : kMapSizes) {
            bpf_map* m = bpf_object__find_map_by_name(skel_->obj, s.name);
            if (!m)
                throwErrno(ENOENT, std::string("find map ") + s.name);
            check(bpf_map__set_max_entries(m, s.entries), std::string("size ") + s.name);
        }
        for (const auto& s : sizes) {
            bpf_map* m = bpf_object__find_map_by_name(skel_->obj, s.name.c_str());
            if (!m)
                throwErrno(ENOENT, "find map " + s.name);
            check(bpf_map__set_max_entries(m, s.entries), "size " + s.name);
        }
        // pw_hostbits4 has two words per bucket of pw_hosts4, whatever size that got.
        check(bpf_map__set_max_entries(skel_->maps.pw_hostbits4, 2 * bpf_map__max_entries(skel_->maps.pw_hosts4)),
              "size " PW_MAP_NAME_HOSTBITS4);
        if (programs == Programs::Ingress)
            check(bpf_program__set_autoload(skel_->progs.pw_tc_egress, false), "skip " PW_PROG_NAME_EGRESS);
        check(pbxwall_bpf::load(skel_), "load the pbxwall BPF object");
        maps_ = MapSet::fromObject(skel_->obj);
        xdpFd_ = bpf_program__fd(skel_->progs.pw_xdp_main);
        if (programs == Programs::IngressAndEgress)
            egressFd_ = bpf_program__fd(skel_->progs.pw_tc_egress);
        // What pbxwalld does once it knows every program that uses the maps reads host_shrink.
        PolicyStore(maps_).allowHostShrink(true);
        install(toml);
    } catch (...) {
        pbxwall_bpf::destroy(skel_);
        throw;
    }
}

Harness::~Harness()
{
    ring_buffer__free(events_);
    pbxwall_bpf::destroy(skel_);
}

void Harness::install(const std::string& toml)
{
    auto loaded = config::loadString(toml, "fixture.toml", {.checkInterfaces = false});
    if (!loaded.ok()) {
        std::string msg = "fixture config does not load:";
        for (const auto& d : loaded.diagnostics)
            msg += "\n  " + d.str();
        throw std::runtime_error(msg);
    }
    const auto resolver = [](const std::string& name) -> unsigned { return name == "lo" ? kLo : 0; };
    PolicyStore(maps_).install(buildPolicyImage(*loaded.config, CtlState{}, resolver));
}

std::vector<CounterRow> Harness::counters() const { return readCounters(maps_.statsFd); }

int Harness::testRun(const std::vector<uint8_t>& frame, unsigned ifindex, std::vector<uint8_t>* out)
{
    std::vector<uint8_t> buf(frame.size() + 256);
    xdp_md ctx{};
    ctx.data_end = static_cast<__u32>(frame.size()); // the kernel insists on data_end == size
    ctx.ingress_ifindex = ifindex == kUnnamed ? unnamedIfindex() : ifindex;
    if (ctx.ingress_ifindex == 0)
        throw std::runtime_error("no network interface other than lo to stand for an unnamed interface");
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = buf.data(),
                .data_size_in = static_cast<__u32>(frame.size()), .data_size_out = static_cast<__u32>(buf.size()),
                .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
    check(bpf_prog_test_run_opts(xdpFd_, &opts), "test run " PW_PROG_NAME_XDP);
    if (out) {
        buf.resize(opts.data_size_out);
        *out = std::move(buf);
    }
    return static_cast<int>(opts.retval);
}

int Harness::action(const std::vector<uint8_t>& frame, unsigned ifindex) { return testRun(frame, ifindex, nullptr); }

Outcome Harness::run(const std::vector<uint8_t>& frame, unsigned ifindex)
{
    const auto before = byKey(counters());
    Outcome o;
    o.action = testRun(frame, ifindex, &o.out);
    for (const auto& [key, after] : byKey(counters())) {
        CounterRow d = after;
        if (auto it = before.find(key); it != before.end()) {
            d.packets -= it->second.packets;
            d.bytes -= it->second.bytes;
        }
        if (d.packets || d.bytes)
            o.moved.push_back(d);
    }
    return o;
}

int Harness::runEgress(const std::vector<uint8_t>& frame)
{
    if (egressFd_ < 0)
        throw std::logic_error("runEgress needs a Harness with Programs::IngressAndEgress");
    std::vector<uint8_t> out(frame.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
                .data_size_in = static_cast<__u32>(frame.size()), .data_size_out = static_cast<__u32>(out.size()),
                .repeat = 1);
    check(bpf_prog_test_run_opts(egressFd_, &opts), "test run " PW_PROG_NAME_EGRESS);
    return static_cast<int>(opts.retval);
}

void Harness::putBan(std::string_view addr, uint64_t expiresNs)
{
    pw_ban_key key{};
    const Cidr c = parseCidr(addr); // an IPv6 prefix bans it as the data plane does
    std::memcpy(key.addr, c.addr.bytes.data(), sizeof(key.addr));
    const uint8_t prefix = c.isHost() ? 0 : c.len;
    maps_.bans.update(key, pw_ban{expiresNs, monotonicNowNs(), PW_BAN_MANUAL, prefix, {}});
}

void Harness::ban(std::string_view addr, std::chrono::seconds ttl)
{
    putBan(addr, monotonicNowNs() + static_cast<uint64_t>(std::chrono::nanoseconds(ttl).count()));
}

void Harness::banForever(std::string_view addr) { putBan(addr, 0); }

void Harness::banExpired(std::string_view addr) { putBan(addr, 1); }

pw_ban_key addrKey(std::string_view addr)
{
    pw_ban_key key{};
    const Addr a = parseAddr(addr);
    std::memcpy(key.addr, a.bytes.data(), sizeof(key.addr));
    return key;
}

uint64_t coarseNow()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

void ageOnlyFlow(Harness& h, uint64_t seconds)
{
    REQUIRE(h.maps().flows.entries().size() == 1);
    auto [key, flow] = h.maps().flows.entries()[0];
    flow.seen_ns = coarseNow() - seconds * 1000000000ULL;
    h.maps().flows.update(key, flow);
}

void Harness::putKnown(std::string_view addr, uint64_t expiresNs)
{
    pw_known value{};
    value.expires_ns = expiresNs;
    value.created_ns = monotonicNowNs();
    maps_.known.update(addrKey(addr), value);
}

void Harness::addKnown(std::string_view addr, std::chrono::seconds ttl)
{
    putKnown(addr, monotonicNowNs() + static_cast<uint64_t>(std::chrono::nanoseconds(ttl).count()));
}

void Harness::addKnownExpired(std::string_view addr) { putKnown(addr, 1); }

std::optional<pw_ban> Harness::banOf(std::string_view addr, unsigned v6Prefix) const
{
    if (auto b = maps_.bans.lookup(addrKey(addr)))
        return b;
    const Addr a = parseAddr(addr);
    if (a.isV4() || v6Prefix >= 128)
        return std::nullopt;
    pw_ban_key k{};
    const Addr net = masked(a, v6Prefix);
    std::memcpy(k.addr, net.bytes.data(), sizeof(k.addr));
    auto b = maps_.bans.lookup(k);
    return b && b->prefix == v6Prefix ? b : std::nullopt;
}

std::vector<pw_event> Harness::events()
{
    if (!events_) {
        const auto onEvent = [](void* ctx, void* data, size_t size) -> int {
            auto* out = static_cast<std::vector<pw_event>*>(ctx);
            pw_event ev{};
            std::memcpy(&ev, data, std::min(size, sizeof(ev)));
            out->push_back(ev);
            return 0;
        };
        events_ = ring_buffer__new(maps_.eventsFd, onEvent, &pending_, nullptr);
        if (!events_)
            throwErrno(errno, "open the " PW_MAP_NAME_EVENTS " ring buffer");
    }
    check(ring_buffer__consume(events_), "read " PW_MAP_NAME_EVENTS);
    return std::exchange(pending_, {});
}

CpuPin::CpuPin()
{
    cpu_ = sched_getcpu();
    if (cpu_ < 0)
        throwErrno(errno, "sched_getcpu");
    cpu_set_t old;
    CPU_ZERO(&old);
    if (sched_getaffinity(0, sizeof(old), &old) == 0) {
        saved_.assign(reinterpret_cast<unsigned char*>(&old), reinterpret_cast<unsigned char*>(&old) + sizeof(old));
        restore_ = true;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu_, &one);
    if (sched_setaffinity(0, sizeof(one), &one) != 0)
        throwErrno(errno, "pin the test thread to CPU " + std::to_string(cpu_));
}

CpuPin::~CpuPin()
{
    if (restore_)
        sched_setaffinity(0, saved_.size(), reinterpret_cast<const cpu_set_t*>(saved_.data()));
}

void Harness::setCtlZone(std::string_view cidr, pw_zone zone)
{
    PolicyStore store(maps_);
    const Cidr c = parseCidr(cidr);
    std::optional<pw_zone> cfgZone;
    if (auto old = store.zone(c); old && (old->origin & PW_ORIGIN_CONFIG))
        cfgZone = static_cast<pw_zone>(old->cfg_zone);
    store.setZone(c, makeZoneEntry(cfgZone, zone));
}

std::string actionName(int action)
{
    switch (action) {
    case XDP_ABORTED: return "XDP_ABORTED";
    case XDP_DROP: return "XDP_DROP";
    case XDP_PASS: return "XDP_PASS";
    case XDP_TX: return "XDP_TX";
    case XDP_REDIRECT: return "XDP_REDIRECT";
    default: return "action " + std::to_string(action);
    }
}

void checkVerdict(Harness& h, const Fixture& f)
{
    INFO(f.name);
    INFO("frame:\n" << f.packet.hex());
    const auto frame = f.packet.bytes();
    const Outcome o = h.run(frame, f.ifindex);
    const CounterRow want{f.ifindex == kLo ? 1u : 0u, static_cast<unsigned>(f.zone), static_cast<unsigned>(f.reason), 1,
                          frame.size()};
    CHECK(actionName(o.action) == actionName(f.action));
    CHECK(rowsText(o.moved) == rowText(want));
}

void checkFixture(const Fixture& f, const std::string& toml)
{
    Harness h(toml);
    checkVerdict(h, f);
}

} // namespace pbxwall::bpftest
