// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwall_bench: net per-packet cost of pbxwall's paths over a bare XDP drop measured in the
// same run, with BPF_PROG_TEST_RUN. A front program rotates the IPv4 source every repetition
// so that large tables are measured with cold caches. Variants are interleaved round-robin.
#include "bench.skel.h"
#include "pbxwall.skel.h"

#include "config.hpp"
#include "map_set.hpp"
#include "names.hpp"
#include "bench_requests.hpp"
#include "host_info.hpp"
#include "packet_builder.hpp"
#include "policy.hpp"
#include "policy_build.hpp"
#include "stats.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace pbxwall;

namespace {

using bench::bigInvite;
using bench::kOptions;
using bench::kRegister;

// The bench front program's source formula (bpf/bench.bpf.c pwb_source).
uint32_t benchSource(uint32_t k)
{
    return k < (1U << 24) ? (10U << 24) | ((k * 2654435761U) & 0xffffffU)
                          : 0x64400000U | (((k - (1U << 24)) & 0x3fffU) << 8) | 1;
}

struct Skeletons {
    std::unique_ptr<pbxwall_bpf, void (*)(pbxwall_bpf*)> pw{nullptr, pbxwall_bpf::destroy};
    std::unique_ptr<bench_bpf, void (*)(bench_bpf*)> bench{nullptr, bench_bpf::destroy};
};

const char* kConfig = R"(
unlisted_ports = "pass"
[[interface]]
name = "lo"
zone = "internet"
[zones]
trusted = ["198.18.1.0/24"]
[services.sip]
udp = ["5060"]
zones = ["trusted", "local", "other", "internet"]
[services.rtp]
udp = ["10000-20000"]
zones = ["trusted", "local", "other", "internet"]
[sip]
ban_after = 0 # the over-budget row stays over budget instead of turning into a ban
)";

// A known phone (pw_known) for the known-source rows.
const char* kKnownPhone = "198.18.2.40";

struct Path {
    std::string name;
    std::vector<uint8_t> packet;
    uint32_t rotate;  // sources to rotate through (0: the packet's own source every time)
    uint32_t offset;  // first source index
    pw_reason reason; // every packet's verdict (counted); the floor's is not counted
    bool baseline;    // the bare drop
    // Changes to the policy's settings for this row only (e.g. a budget that never runs out,
    // which [sip] cannot express): applied before the row runs, undone after it.
    std::function<void(pw_policy&)> tweak = nullptr;
    double goalNs = 0; // net ns over the bare drop the performance issue asks for; 0: none
    class Bench* bench = nullptr; // the loaded tables it runs against; nullptr: the big ones
    // Changes to the SIP rules for this row only (no signatures, no clean-value cache).
    std::function<void(pw_sip_rules&)> rules = nullptr;
    uint32_t warmups = 0; // unmeasured runs before the first round (e.g. to put sources over budget)
    // The share of a run's packets that must be counted under `reason`: all of them, but for the
    // rotating over-budget row, whose budget cache loses a few budgets of 100,000 sources a round
    // (their next packet passes on a fresh budget: 0-4 a round, README "Budgets lost in a crowded
    // bucket"; a BPF fixture bounds it at 0.01%).
    double share = 1.0;
};

void noSignatures(pw_sip_rules& r) { r.sig_count = 0; }
// clean_key 0: every value is searched, as the first packet with it is.
void noCleanCache(pw_sip_rules& r) { r.clean_key = 0; }

class Bench {
public:
    // Every host-table half stays whole (set when the --compare build predates host_shrink;
    // it must be set before the first Bench is made).
    static inline bool wholeHostTables = false;

    // Source indexes of the bench front program (benchSource): [0, hosts) are reject-zone host
    // entries, [bansFrom, bansFrom + bans) are banned, and the /24 of each of [netsFrom,
    // netsFrom + nets) is a reject-zone prefix (netsFrom >= 2^24: in 100.64.0.0/10, apart).
    // With `elf` not empty: that build of pbxwall.bpf.o (same maps and programs) instead of the
    // one in the skeleton, for --compare.
    Bench(uint32_t hosts, uint32_t bans, uint32_t bansFrom, uint32_t nets, uint32_t netsFrom, uint32_t repeat,
          const std::string& elf = {})
        : elf_(elf), repeat_(repeat)
    {
        libbpf_set_print([](libbpf_print_level l, const char* f, va_list ap) {
            return l == LIBBPF_WARN ? vfprintf(stderr, f, ap) : 0;
        });
        s_.pw = openObject();
        if (!elf_.empty()) {
            // The bench writes the maps with this build's structs: the other build must have
            // the same key and value sizes (an ABI change cannot be compared this way). Its
            // read-only data (the programs' constant tables) and the programs' per-CPU scratch
            // space (per-CPU arrays of one entry) are never written, and may differ.
            std::unique_ptr<pbxwall_bpf, void (*)(pbxwall_bpf*)> own(pbxwall_bpf::open(), pbxwall_bpf::destroy);
            if (!own)
                throw std::runtime_error("open pbxwall object");
            bpf_map* m;
            bpf_object__for_each_map(m, own->obj)
            {
                const bpf_map* o = bpf_object__find_map_by_name(s_.pw->obj, bpf_map__name(m));
                const std::string name = bpf_map__name(m);
                if ((name.size() >= 7 && name.compare(name.size() - 7, 7, ".rodata") == 0) ||
                    (bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_ARRAY && bpf_map__max_entries(m) == 1))
                    continue;
                if (o && (bpf_map__key_size(o) != bpf_map__key_size(m) || bpf_map__value_size(o) != bpf_map__value_size(m)))
                    throw std::runtime_error(std::string("the object to compare has other key or value sizes in ") +
                                             bpf_map__name(m) + ": a change of the maps' layout cannot be compared");
            }
        }
        // A build to compare that predates host_shrink reads every host half whole: then both
        // builds' tables stay whole (wholeHostTables), or the comparison would be of layouts.
        if (!elf_.empty() && !btfReadsHostShrink(bpf_object__btf(s_.pw->obj)))
            wholeHostTables = true;
        bpf_map* m;
        bpf_object__for_each_map(m, s_.pw->obj) bpf_map__set_pin_path(m, nullptr);
        // Tables of the size pbxwalld gives them with the default [limits], or larger for more
        // entries: every copy's rows then differ in their entries, not in their tables' sizes
        // (until 2026-12-05 each was sized to its entries, and the 100,000-entry row read a
        // table a tenth the size of the 1,000,000-entry row's).
        const uint32_t hostCap = std::max<uint32_t>(hosts + 16, PW_DEFAULT_HOSTS);
        const uint32_t netCap = std::max<uint32_t>(nets + 16, PW_DEFAULT_NETS);
        const uint32_t banCap = std::max<uint32_t>(bans + 16, PW_DEFAULT_BANS);
        bpf_map__set_max_entries(s_.pw->maps.pw_hosts4, 2 * pw_host_buckets(hostCap, PW_HOST4_SLOTS));
        bpf_map__set_max_entries(s_.pw->maps.pw_hostbits4, 2 * 2 * pw_host_buckets(hostCap, PW_HOST4_SLOTS));
        bpf_map__set_max_entries(s_.pw->maps.pw_nets, 2 * netCap);
        bpf_map__set_max_entries(s_.pw->maps.pw_nets4, 2 * (PW_NET4_TOP / 16 + pw_net4_chunks(netCap)));
        bpf_map__set_max_entries(s_.pw->maps.pw_bans, banCap);
        bpf_map__set_max_entries(s_.pw->maps.pw_banbits, 2 * pw_banbit_words(banCap));
        bpf_map__set_max_entries(s_.pw->maps.pw_bancache, 2 * pw_bancache_buckets(banCap));
        if (pbxwall_bpf::load(s_.pw.get()))
            throw std::runtime_error("load pbxwall object (root needed)");
        s_.bench.reset(bench_bpf::open_and_load());
        if (!s_.bench)
            throw std::runtime_error("load bench object");
        maps_ = MapSet::fromObject(s_.pw->obj);

        auto cfg = config::loadString(kConfig, "bench.toml", {.checkInterfaces = false});
        if (!cfg.ok())
            throw std::runtime_error("bench config");
        PolicyImage img = buildPolicyImage(*cfg.config, CtlState{}, [](const std::string&) { return 1u; });
        for (uint32_t k = 0; k < hosts; ++k) {
            Addr a = Addr::fromV4(htonl(benchSource(k)));
            img.addrs[Cidr{a, kAddrBits}] = makeZoneEntry(PW_ZONE_REJECT, std::nullopt);
        }
        for (uint32_t k = netsFrom; k < netsFrom + nets; ++k) {
            Addr a = Addr::fromV4(htonl(benchSource(k) & 0xffffff00U));
            img.addrs[Cidr{a, static_cast<uint8_t>(kAddrBits - 8)}] = makeZoneEntry(PW_ZONE_REJECT, std::nullopt);
        }
        PolicyStore(maps_).allowHostShrink(!wholeHostTables);
        PolicyStore(maps_).install(img);
        std::vector<pw_ban_key> bk;
        std::vector<pw_ban> bv;
        for (uint32_t k = bansFrom; k < bansFrom + bans; ++k) {
            pw_ban_key key{};
            std::memcpy(key.addr, Addr::fromV4(htonl(benchSource(k))).bytes.data(), 16);
            bk.push_back(key);
            bv.push_back(pw_ban{0, 0, PW_BAN_MANUAL, 0, {}}); // never expires
        }
        maps_.bans.updateMany(bk, bv);
        PolicyStore(maps_).refreshBanFilter(); // what pbxwallctl and pbxwalld do after writing bans
        base_ = PolicyStore(maps_).settings();
        base_rules_ = maps_.siprules.lookup(maps_.activeGen()).value();
        // Known for as long as the bench runs, with its own budget.
        pw_ban_key k{};
        std::memcpy(k.addr, parseAddr(kKnownPhone).bytes.data(), 16);
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        const uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
        maps_.known.update(k, pw_known{now + 3600ULL * 1000000000ULL, now, 0});
    }

    // Loads the programs again, on the same maps (and tables). The kernel puts every JIT image
    // at a random offset within its 64-byte chunk (bpf_jit_binary_pack_alloc: a JIT-spraying
    // defence), and the header scan's cost depends on where its loops fall: two loads of the
    // same object measured up to 10 ns apart on the INVITE rows, the same way in every round.
    // Reloaded before each round, a row's median is over placements, not of one draw.
    void reload()
    {
        auto next = openObject();
        bpf_map* m;
        bpf_object__for_each_map(m, next->obj)
        {
            bpf_map__set_pin_path(m, nullptr);
            const bpf_map* old = bpf_object__find_map_by_name(s_.pw->obj, bpf_map__name(m));
            if (!old || bpf_map__reuse_fd(m, bpf_map__fd(old)) != 0)
                throw std::runtime_error(std::string("reload: reuse map ") + bpf_map__name(m));
        }
        // The load fills the reused pw_stages with the new SIP stage.
        if (pbxwall_bpf::load(next.get()))
            throw std::runtime_error("reload pbxwall object");
        s_.pw = std::move(next); // the old programs go; the maps stay, held by the new object
        maps_ = MapSet::fromObject(s_.pw->obj);
    }

    // ns per packet of one run of `repeat_` repetitions; with `check`, the last packet's
    // verdict must be the path's.
    double run(const Path& p, bool check = true)
    {
        // Rotating rows start where their last run stopped: every run meets sources its row's
        // last runs did not (a row of new sources stays new for count / repeat runs).
        if (p.rotate > 1) {
            std::vector<uint64_t> iter(libbpf_num_possible_cpus(), runs_[p.name]++ * uint64_t{repeat_} % p.rotate);
            if (bpf_map_update_elem(bpf_map__fd(s_.bench->maps.pwb_iter), &zero_, iter.data(), BPF_ANY) != 0)
                throw std::runtime_error("set pwb_iter: " + std::string(strerror(errno)));
        }
        const std::vector<CounterRow> before = check && !p.baseline ? readCounters(maps_.statsFd) : std::vector<CounterRow>{};
        __u32 zero = 0;
        pw_policy settings = base_;
        if (p.tweak)
            p.tweak(settings);
        maps_.policy.update(maps_.activeGen(), settings);
        pw_sip_rules rules = base_rules_;
        if (p.rules)
            p.rules(rules);
        maps_.siprules.update(maps_.activeGen(), rules);
        // Every row starts with the new-source gate idle, whatever the row before it left; the
        // row of a closed gate with it closed (its first packet would pass an idle gate).
        const pw_newsrc idle{p.reason == PW_REASON_NEW_SOURCE_LIMITED ? 1ULL << 62 : 0};
        if (bpf_map_update_elem(maps_.newsrcFd, &zero, &idle, BPF_ANY) != 0)
            throw std::runtime_error("reset pw_newsrc: " + std::string(strerror(errno)));
        int target = p.baseline ? bpf_program__fd(s_.bench->progs.pwb_drop) : bpf_program__fd(s_.pw->progs.pw_xdp_main);
        bpf_map_update_elem(bpf_map__fd(s_.bench->maps.pwb_target), &zero, &target, BPF_ANY);
        uint32_t rot[2] = {p.rotate, p.offset};
        bpf_map_update_elem(bpf_map__fd(s_.bench->maps.pwb_rot), &zero, rot, BPF_ANY);
        std::vector<uint8_t> out(p.packet.size() + 256);
        LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p.packet.data(), .data_out = out.data(),
                    .data_size_in = static_cast<__u32>(p.packet.size()),
                    .data_size_out = static_cast<__u32>(out.size()), .repeat = static_cast<int>(repeat_));
        if (bpf_prog_test_run_opts(bpf_program__fd(s_.bench->progs.pwb_front), &o) != 0)
            throw std::runtime_error("BPF_PROG_TEST_RUN: " + std::string(strerror(errno)));
        const int expected = p.baseline || reasonIsDrop(p.reason) ? XDP_DROP : XDP_PASS;
        if (check && static_cast<int>(o.retval) != expected)
            throw std::runtime_error(p.name + ": verdict " + std::to_string(o.retval) + ", expected " +
                                     std::to_string(expected) + " (counted in this run:" + moved(before) + ")");
        // Every packet of the run took the row's path, not only the last.
        if (check && !p.baseline &&
            static_cast<double>(countOf(readCounters(maps_.statsFd), p.reason) - countOf(before, p.reason)) <
                p.share * repeat_)
            throw std::runtime_error(p.name + ": not every packet was " + reasonLabel(p.reason) +
                                     (p.share < 1 ? " (at least " + std::to_string(p.share * 100) + "%)" : "") +
                                     " (counted in this run:" + moved(before) + ")");
        return o.duration;
    }

private:
    // The pbxwall object, opened: the bench's own build, or the one in elf_ (--compare, --base).
    std::unique_ptr<pbxwall_bpf, void (*)(pbxwall_bpf*)> openObject() const
    {
        std::unique_ptr<pbxwall_bpf, void (*)(pbxwall_bpf*)> pw(nullptr, pbxwall_bpf::destroy);
        if (elf_.empty()) {
            pw.reset(pbxwall_bpf::open());
            if (!pw)
                throw std::runtime_error("open pbxwall object");
            return pw;
        }
        pw.reset(static_cast<pbxwall_bpf*>(calloc(1, sizeof(pbxwall_bpf))));
        if (!pw || pbxwall_bpf__create_skeleton(pw.get()))
            throw std::runtime_error("pbxwall skeleton");
        pw->skeleton->data = const_cast<char*>(elf_.data());
        pw->skeleton->data_sz = elf_.size();
        if (bpf_object__open_skeleton(pw->skeleton, nullptr))
            throw std::runtime_error("open the given pbxwall object (not a build of the same maps and programs?)");
        return pw;
    }

    static uint64_t countOf(const std::vector<CounterRow>& rows, unsigned reason)
    {
        uint64_t n = 0;
        for (const CounterRow& r : rows)
            n += r.reason == reason ? r.packets : 0;
        return n;
    }
    // " reason=packets" for every reason counted since `before`.
    std::string moved(const std::vector<CounterRow>& before) const
    {
        std::string out;
        const auto after = readCounters(maps_.statsFd);
        for (unsigned reason = 0; reason < PW_REASON_SLOTS; ++reason)
            if (const uint64_t d = countOf(after, reason) - countOf(before, reason))
                out += " " + reasonLabel(reason) + "=" + std::to_string(d);
        return out;
    }

    static constexpr __u32 zero_ = 0;
    std::map<std::string, uint64_t> runs_; // measured and warm-up runs of each rotating row
    std::string elf_; // kept while the object is open: libbpf reads it in place
    Skeletons s_;
    MapSet maps_;
    pw_policy base_{};
    pw_sip_rules base_rules_{};
    uint32_t repeat_;
};

std::vector<uint8_t> udpFrom(const char* src, uint16_t dport,
                             std::string_view payload = "OPTIONS sip:100@198.18.0.1 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n")
{
    return test::Packet().eth().ipv4(src, "198.18.0.1").udp(40000, dport).payload(payload).bytes();
}

// Budgets of one packet an hour, and a new-source gate that is always open: after their first
// packets, the rotating sources stay over budget for the whole bench (as [sip] ban_after = 0
// keeps them unbanned), which is the end-to-end bench's full path.
void hourly(pw_policy& p)
{
    p.interval_ns = 3600ULL * 1000000000ULL;
    p.burst = 1;
    p.newsrc_interval_ns = 1;
}

// A new-source gate that lets one source in per CPU and run (the gate's state is reset before
// every run) and no other for an hour: the default rate would let one in every few ms, and
// then a run's last packet, whose verdict is checked, could be one of them.
void gateShut(pw_policy& p) { p.newsrc_interval_ns = 3600ULL * 1000000000ULL; }

// Budgets that never run out, and a new-source gate that is always open.
void endless(pw_policy& p)
{
    // The data plane's clock is coarse (one jiffy): within a tick only the burst conforms.
    p.interval_ns = 1;
    p.burst = 1U << 30;
    p.known_interval_ns = 1;
    p.known_burst = 1U << 30;
    p.newsrc_interval_ns = 1;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"pbxwall_bench: per-packet cost of pbxwall paths over a bare XDP drop"};
    uint32_t hosts = 1000000;
    uint32_t bans = 100000;
    uint32_t nets = 10000;
    uint32_t rounds = 5;
    uint32_t repeat = 200000;
    bool quick = false, sameLoad = false;
    std::string jsonPath, only, compare, base;
    app.add_option("--hosts", hosts, "reject-zone host entries")->capture_default_str();
    app.add_option("--bans", bans, "timed bans")->capture_default_str();
    app.add_option("--nets", nets, "reject-zone /24 prefixes")->capture_default_str();
    app.add_option("--rounds", rounds, "interleaved rounds")->capture_default_str();
    app.add_option("--repeat", repeat, "BPF_PROG_TEST_RUN repetitions per measurement")->capture_default_str();
    app.add_flag("--quick", quick, "small tables, few repetitions: checks every path runs with its verdict");
    app.add_flag("--same-load", sameLoad,
                 "load the programs once: every round then measures one placement of their JIT code "
                 "(by default they are loaded again before each round)");
    app.add_option("--json", jsonPath, "also write the table as JSON to this file");
    app.add_option("--only", only,
                   "run only the paths whose name holds this text (and the floor): quicker A/B runs of a few rows");
    app.add_option("--compare", compare,
                   "also run every row against this build of pbxwall.bpf.o, with the same tables, back to back with "
                   "this one in every round: prints the paired differences (for judging a change on a noisy host)")
        ->check(CLI::ExistingFile);
    app.add_option("--base", base,
                   "this build of pbxwall.bpf.o instead of the bench's own (A in --compare): running a "
                   "comparison both ways cancels what favours one side")
        ->check(CLI::ExistingFile);
    CLI11_PARSE(app, argc, argv);
    if (geteuid() != 0) {
        std::cerr << "pbxwall_bench needs root (BPF_PROG_TEST_RUN)\n";
        return getenv("CI") && std::string(getenv("CI")) == "true" ? 1 : 77;
    }
    if (quick) {
        hosts = 1000;
        bans = 1000;
        nets = 100;
        rounds = 2;
        repeat = 1000;
    }
    try {
        const uint32_t n = std::max<uint32_t>(hosts, 1);
        // Reject prefixes in 100.64.0.0/10 (indexes from 2^24), everything else in 10.0.0.0/8: a
        // rotating SIP source must never fall into one of the 10,000 /24s and be rejected early.
        const uint32_t bansFrom = n + (1U << 20), netsFrom = 1U << 24, sipFrom = bansFrom + bans + (1U << 20);
        // The new-source row's sources: each run takes the next `repeat` of them, so that none has
        // a budget yet (41 runs of 200,000 before they come round again).
        constexpr uint32_t kNewSources = 1U << 23;
        if (nets > (1U << 14))
            throw std::runtime_error("--nets: at most 16384 (the /24s of 100.64.0.0/10)");
        if (sipFrom + kNewSources + (1U << 20) > netsFrom)
            throw std::runtime_error("--hosts and --bans too large: the SIP rows' sources would reach the prefixes");
        // --compare: the other build, with the same three sets of tables (made first: it
        // decides whether the host tables may be fitted to their entries).
        const uint32_t midHosts = std::max<uint32_t>(hosts / 10, 1);
        const auto readElf = [](const std::string& path) {
            std::ifstream in(path, std::ios::binary);
            std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
            if (!in || bytes.empty())
                throw std::runtime_error("read " + path);
            return bytes;
        };
        std::string elf, baseElf = base.empty() ? std::string{} : readElf(base);
        // A base build that predates host_shrink keeps every table whole, the other build's too:
        // known before the first copy is made.
        if (!baseElf.empty()) {
            bpf_object* o = bpf_object__open_mem(baseElf.data(), baseElf.size(), nullptr);
            if (!o)
                throw std::runtime_error("open " + base);
            Bench::wholeHostTables = !btfReadsHostShrink(bpf_object__btf(o));
            bpf_object__close(o);
        }
        std::unique_ptr<Bench> benchB, midB, emptyB;
        if (!compare.empty()) {
            elf = readElf(compare);
            benchB = std::make_unique<Bench>(hosts, bans, bansFrom, nets, netsFrom, repeat, elf);
            if (Bench::wholeHostTables)
                std::printf("compare: a build predates pw_gen_state.host_shrink: every host table is read whole\n");
            midB = std::make_unique<Bench>(midHosts, 0, 0, 0, 0, repeat, elf);
            emptyB = std::make_unique<Bench>(0, 0, 0, 0, 0, repeat, elf);
        }
        Bench bench(hosts, bans, bansFrom, nets, netsFrom, repeat, baseElf);
        // The same program with smaller lists, loaded side by side: a host list a tenth the
        // size, and no lists at all. Cost may grow with cache misses, never with entries.
        Bench mid(midHosts, 0, 0, 0, 0, repeat, baseElf);
        Bench empty(0, 0, 0, 0, 0, repeat, baseElf);
        // As many as the end-to-end bench sends, at most half a run's repetitions: each warm-up
        // run sends every source two packets or more, and a budget (burst 1) lets two through.
        const uint32_t overSources = std::min<uint32_t>(100000, repeat / 2);
        const auto rejected = udpFrom("10.0.0.1", 5060); // the source is rewritten by the front program
        std::vector<Path> paths = {
            {"bare XDP drop (floor)", rejected, 1, 0, PW_REASON_REJECT, true},
            {"non-IP (ARP)", test::Packet().eth().ethertype(0x0806).payload(std::vector<uint8_t>(28)).bytes(), 0, 0,
             PW_REASON_NON_IP, false, nullptr, 10},
            {"internet source, port no service names (unlisted pass)", udpFrom("198.18.2.20", 30000), 0, 0, PW_REASON_UNLISTED_PASS,
             false, nullptr, 10},
            {"trusted source", udpFrom("198.18.1.10", 5060), 0, 0, PW_REASON_TRUSTED, false, nullptr, 50},
            {"internet source, RTP service", udpFrom("198.18.2.20", 10000), 0, 0, PW_REASON_SERVICE, false},
            // Responsive mode: a repeated source, over a budget of one packet an hour (a default
            // budget lets a packet through now and then, and a run's last verdict is checked).
            {"internet source, SIP over its budget (rate_limited)", udpFrom("198.18.2.21", 5060), 0, 0, PW_REASON_RATE_LIMITED,
             false, hourly, 0, nullptr, nullptr, 1}, // a warm-up run spends the budget
            // Responsive mode, the goal rows of the SIP path (zones, service, guards, budget).
            {"unknown internet source, SIP REGISTER within budget, same source",
             udpFrom("198.18.2.30", 5060, kRegister), 0, 0, PW_REASON_SIP_RESPONSIVE, false, endless, 150},
            {"the same REGISTER, its values searched every time", udpFrom("198.18.2.30", 5060, kRegister), 0, 0,
             PW_REASON_SIP_RESPONSIVE, false, endless, 150, nullptr, noCleanCache},
            {"unknown internet source, SIP OPTIONS within budget, same source",
             udpFrom("198.18.2.31", 5060, kOptions), 0, 0, PW_REASON_SIP_RESPONSIVE, false, endless},
            {"unknown internet source, SIP REGISTER, a new source per packet",
             udpFrom("10.0.0.1", 5060, kRegister), kNewSources, sipFrom, PW_REASON_SIP_RESPONSIVE, false, endless, 450},
            // Sources of its own: the row above gave its sources budgets.
            {"spoofed SIP flood, a new source per packet (gate closed)", udpFrom("10.0.0.1", 5060, kRegister),
             (1U << 20) - 1, sipFrom + kNewSources, PW_REASON_NEW_SOURCE_LIMITED, false, gateShut, 300},
            // The end-to-end bench's full path: sources that stay over their budgets, rotating,
            // from /24s no list names (the table without lists; no other row sends it SIP).
            {"internet sources over their SIP budget, " + std::to_string(overSources) + " rotating",
             udpFrom("10.0.0.1", 5060, kRegister), overSources, sipFrom, PW_REASON_RATE_LIMITED, false, hourly, 0, &empty, nullptr,
             3, 0.9999},
            {"known source, small OPTIONS", udpFrom(kKnownPhone, 5060), 0, 0, PW_REASON_SIP_KNOWN, false, endless},
            {"known source, 1,400-byte INVITE (guards read 800 bytes of headers)",
             udpFrom(kKnownPhone, 5060, bigInvite()), 0, 0, PW_REASON_SIP_KNOWN, false, endless},
            {"known source, the same INVITE, values searched every time",
             udpFrom(kKnownPhone, 5060, bigInvite()), 0, 0, PW_REASON_SIP_KNOWN, false, endless, 0, nullptr, noCleanCache},
            {"known source, the same INVITE with no signatures configured",
             udpFrom(kKnownPhone, 5060, bigInvite()), 0, 0, PW_REASON_SIP_KNOWN, false, endless, 0, nullptr, noSignatures},
            {"banned source, same source", udpFrom("10.0.0.1", 5060), 1, bansFrom, PW_REASON_BANNED, false},
            {"banned source, " + std::to_string(bans) + " bans, rotating", udpFrom("10.0.0.1", 5060),
             std::max<uint32_t>(bans, 1), bansFrom, PW_REASON_BANNED, false, nullptr, 150},
            {"reject prefix hit, same source", udpFrom("10.0.0.1", 5060), 1, netsFrom, PW_REASON_REJECT, false},
            {"reject prefix hit, " + std::to_string(nets) + " /24 prefixes, rotating", udpFrom("10.0.0.1", 5060),
             std::max<uint32_t>(nets, 1), netsFrom, PW_REASON_REJECT, false, nullptr, 120},
            {"reject host hit, same source", rejected, 1, 0, PW_REASON_REJECT, false},
            {"reject host hit, " + std::to_string(midHosts) + " entries, rotating", rejected, midHosts, 0, PW_REASON_REJECT,
             false, nullptr, 150, &mid},
            {"reject host hit, " + std::to_string(n) + " entries, rotating", rejected, n, 0, PW_REASON_REJECT, false, nullptr,
             150},
            {"miss (internet, unlisted pass), no lists, rotating", udpFrom("10.0.0.1", 20001), n, n, PW_REASON_UNLISTED_PASS, false,
             nullptr, 0, &empty},
            {"miss (internet, unlisted pass), " + std::to_string(midHosts) + " entries, rotating",
             udpFrom("10.0.0.1", 20001), n, n, PW_REASON_UNLISTED_PASS, false, nullptr, 0, &mid},
            {"miss (internet, unlisted pass), " + std::to_string(n) + " entries, rotating", udpFrom("10.0.0.1", 20001),
             n, n, PW_REASON_UNLISTED_PASS, false},
        };
        // Nothing to hit: keep the paths that do not need such an entry.
        std::erase_if(paths, [&](const Path& p) {
            return (hosts < 10 && p.name.rfind("reject host", 0) == 0) || (nets == 0 && p.name.rfind("reject prefix", 0) == 0) ||
                   (bans == 0 && p.name.rfind("banned", 0) == 0) ||
                   (!only.empty() && !p.baseline && p.name.find(only) == std::string::npos);
        });
        std::vector<std::vector<double>> samples(paths.size()), samplesB(paths.size());
        // The tables a row runs against: this build's, or with `other` the --compare build's.
        const auto benchOf = [&](const Path& p, bool other) -> Bench& {
            if (!other)
                return p.bench ? *p.bench : bench;
            return p.bench == &mid ? *midB : p.bench == &empty ? *emptyB : *benchB;
        };
        for (const Path& p : paths)
            for (uint32_t w = 0; w < p.warmups; ++w) {
                benchOf(p, false).run(p, false);
                if (benchB)
                    benchOf(p, true).run(p, false);
            }
        // The copies the chosen rows run against (with --only, often one or two of them).
        std::set<Bench*> used;
        for (const Path& p : paths)
            for (const bool other : {false, true})
                if (!other || benchB)
                    used.insert(&benchOf(p, other));
        for (uint32_t r = 0; r < rounds; ++r) {
            if (r > 0 && !sameLoad)
                for (Bench* b : used)
                    b->reload();
            for (size_t i = 0; i < paths.size(); ++i) {
                if (!benchB) {
                    samples[i].push_back(benchOf(paths[i], false).run(paths[i]));
                    continue;
                }
                // Back to back, the order swapped every round: neither build always runs
                // right after the other's row.
                const bool bFirst = r & 1;
                const double first = benchOf(paths[i], bFirst).run(paths[i]);
                const double second = benchOf(paths[i], !bFirst).run(paths[i]);
                samples[i].push_back(bFirst ? second : first);
                samplesB[i].push_back(bFirst ? first : second);
            }
        }

        const double floorMin = *std::min_element(samples[0].begin(), samples[0].end());
        const double floorMed = median(samples[0]);
        nlohmann::json rows = nlohmann::json::array();
        // The issue's guard goal is the header scan's own cost: an INVITE row less the same
        // INVITE with no signatures (all known sources, so none has budget work to do).
        const auto rowOf = [&](std::string_view prefix) {
            return static_cast<size_t>(std::find_if(paths.begin(), paths.end(),
                                                    [&](const Path& q) { return q.name.rfind(prefix, 0) == 0; }) -
                                       paths.begin());
        };
        // A row whose median is more than 10% over its minimum: flagged, its verdict in doubt
        // (judged on its median like every row).
        const auto isNoisy = [&](size_t i) {
            return median(samples[i]) / *std::min_element(samples[i].begin(), samples[i].end()) > 1.10;
        };
        const size_t cached = rowOf("known source, 1,400-byte INVITE"), searched = rowOf("known source, the same INVITE, values"),
                     without = rowOf("known source, the same INVITE with no");
        // Its median is the median over rounds of the two rows' difference in the same round
        // (the rows run one after the other in every round, and the host sometimes runs a
        // whole round slower); its minimum is the two minimums' difference. Like any row, it is
        // noisy when either of its rows is.
        const auto printDerived = [&](size_t with, const std::string& name) {
            const double mn = *std::min_element(samples[with].begin(), samples[with].end()) -
                              *std::min_element(samples[without].begin(), samples[without].end());
            std::vector<double> diffs;
            for (size_t r = 0; r < samples[with].size(); ++r)
                diffs.push_back(samples[with][r] - samples[without][r]);
            const double med = median(diffs);
            const bool noisy = isNoisy(with) || isNoisy(without);
            const double goal = 100;
            const std::string verdict = med <= goal ? "met" : "MISSED";
            std::printf("%-66s %8.1f %8.1f %8.1f %7s %6d %-7s %s\n", name.c_str(), mn, med, med, "-",
                        static_cast<int>(goal), verdict.c_str(), noisy ? "(noisy: a row it comes from)" : "");
            rows.push_back({{"path", name}, {"min_ns", mn}, {"median_ns", med}, {"net_ns", med},
                            {"ratio", nlohmann::json()}, {"noisy", noisy}, {"goal_net_ns", goal},
                            {"verdict", verdict}, {"derived", true}});
        };
        std::printf("%-66s %8s %8s %8s %7s %6s %-7s\n", "path", "min", "median", "net", "ratio", "goal", "verdict");
        for (size_t i = 0; i < paths.size(); ++i) {
            double mn = *std::min_element(samples[i].begin(), samples[i].end());
            double med = median(samples[i]);
            double net = med - floorMed;
            double ratio = med / floorMed;
            bool noisy = isNoisy(i);
            const double goal = paths[i].goalNs;
            // A goal is met when the net median is within it (a noisy row's verdict is flagged).
            const std::string verdict = goal == 0 ? "-" : net <= goal ? "met" : "MISSED";
            std::printf("%-66s %8.1f %8.1f %8.1f %6.2fx %6s %-7s %s\n", paths[i].name.c_str(), mn, med, net, ratio,
                        goal ? std::to_string(static_cast<int>(goal)).c_str() : "-", verdict.c_str(),
                        noisy ? "(noisy: median/min > 1.10)" : "");
            rows.push_back({{"path", paths[i].name}, {"min_ns", mn}, {"median_ns", med}, {"net_ns", net},
                            {"ratio", ratio}, {"noisy", noisy},
                            {"goal_net_ns", goal ? nlohmann::json(goal) : nlohmann::json()}, {"verdict", verdict}});
            if (i == without && cached < paths.size() && searched < paths.size()) {
                printDerived(cached, "SIP guards on that INVITE, values in the clean cache (subtracted)");
                printDerived(searched, "SIP guards on that INVITE, values searched (subtracted)");
            }
        }
        std::printf("floor: bare XDP drop %.1f ns (min %.1f) incl. the rotating front program; %u rounds x %u repeats\n",
                    floorMed, floorMin, rounds, repeat);
        const bench::HostInfo host = bench::hostInfo();
        std::printf("%s\n", bench::hostLine(host).c_str());
        // --compare: per row, the difference of the two builds in the same round (B less A),
        // its median over rounds and its range, and in how many rounds B was the cheaper.
        nlohmann::json cmpRows = nlohmann::json::array();
        if (benchB) {
            std::printf("\ncompare: A = %s, B = %s (each row runs with both, back to back, every round)\n",
                        base.empty() ? "this build" : base.c_str(), compare.c_str());
            std::printf("%-66s %8s %8s %8s %8s %8s %7s\n", "path", "A med", "B med", "B-A med", "B-A min", "B-A max",
                        "B less");
            for (size_t i = 0; i < paths.size(); ++i) {
                std::vector<double> d;
                for (size_t r = 0; r < samples[i].size(); ++r)
                    d.push_back(samplesB[i][r] - samples[i][r]);
                const auto [lo, hi] = std::minmax_element(d.begin(), d.end());
                const long less = std::count_if(d.begin(), d.end(), [](double x) { return x < 0; });
                std::printf("%-66s %8.1f %8.1f %8.1f %8.1f %8.1f %4ld/%-2zu\n", paths[i].name.c_str(),
                            median(samples[i]), median(samplesB[i]), median(d), *lo, *hi, less, d.size());
                cmpRows.push_back({{"path", paths[i].name}, {"a_median_ns", median(samples[i])},
                                   {"b_median_ns", median(samplesB[i])}, {"diff_median_ns", median(d)},
                                   {"diff_min_ns", *lo}, {"diff_max_ns", *hi}, {"b_less_rounds", less}});
            }
        }
        if (!jsonPath.empty())
            std::ofstream(jsonPath) << nlohmann::json{{"rows", rows}, {"rounds", rounds}, {"repeat", repeat},
                                                      {"hosts", hosts}, {"bans", bans}, {"nets", nets},
                                                      {"floor_median_ns", floorMed}, {"floor_min_ns", floorMin},
                                                      {"host", bench::hostJson(host)},
                                                      {"compare", benchB ? nlohmann::json(compare) : nlohmann::json()},
                                                      {"compare_rows", cmpRows}}
                                           .dump(2)
                                    << "\n";
    } catch (const std::exception& e) {
        std::cerr << "pbxwall_bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
