// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwall_bench: net per-packet cost of pbxwall's paths over a bare XDP drop measured in the
// same run, with BPF_PROG_TEST_RUN. A front program rotates the IPv4 source every repetition
// so that large tables are measured with cold caches. Variants are interleaved round-robin.
#include "bench.skel.h"
#include "pbxwall.skel.h"

#include "config.hpp"
#include "map_set.hpp"
#include "names.hpp"
#include "packet_builder.hpp"
#include "policy.hpp"
#include "policy_build.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

using namespace pbxwall;

namespace {

// The bench front program's source formula (bpf/bench.bpf.c pwb_source).
uint32_t benchSource(uint32_t k) { return (10U << 24) | ((k * 2654435761U) & 0xffffffU); }

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
)";

struct Path {
    std::string name;
    std::vector<uint8_t> packet;
    uint32_t rotate;  // sources to rotate through (0: the packet's own source every time)
    uint32_t offset;  // first source index
    int expected;     // XDP action
    bool baseline;    // the bare drop
};

class Bench {
public:
    Bench(uint32_t hosts, uint32_t repeat) : repeat_(repeat)
    {
        libbpf_set_print([](libbpf_print_level l, const char* f, va_list ap) {
            return l == LIBBPF_WARN ? vfprintf(stderr, f, ap) : 0;
        });
        s_.pw.reset(pbxwall_bpf::open());
        if (!s_.pw)
            throw std::runtime_error("open pbxwall object");
        bpf_map* m;
        bpf_object__for_each_map(m, s_.pw->obj) bpf_map__set_pin_path(m, nullptr);
        bpf_map__set_max_entries(s_.pw->maps.pw_hosts, 2 * std::max<uint32_t>(hosts + 16, 1024));
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
        PolicyStore(maps_).install(img);
    }

    // ns per packet of one run of `repeat_` repetitions.
    double run(const Path& p)
    {
        __u32 zero = 0;
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
        if (static_cast<int>(o.retval) != p.expected)
            throw std::runtime_error(p.name + ": verdict " + std::to_string(o.retval) + ", expected " +
                                     std::to_string(p.expected));
        return o.duration;
    }

private:
    Skeletons s_;
    MapSet maps_;
    uint32_t repeat_;
};

std::vector<uint8_t> udpFrom(const char* src, uint16_t dport,
                             std::string_view payload = "OPTIONS sip:100@198.18.0.1 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n")
{
    return test::Packet().eth().ipv4(src, "198.18.0.1").udp(40000, dport).payload(payload).bytes();
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
    uint32_t rounds = 5;
    uint32_t repeat = 200000;
    bool quick = false;
    std::string jsonPath;
    app.add_option("--hosts", hosts, "reject-zone host entries")->capture_default_str();
    app.add_option("--rounds", rounds, "interleaved rounds")->capture_default_str();
    app.add_option("--repeat", repeat, "BPF_PROG_TEST_RUN repetitions per measurement")->capture_default_str();
    app.add_flag("--quick", quick, "small tables, few repetitions: checks every path runs with its verdict");
    app.add_option("--json", jsonPath, "also write the table as JSON to this file");
    CLI11_PARSE(app, argc, argv);
    if (geteuid() != 0) {
        std::cerr << "pbxwall_bench needs root (BPF_PROG_TEST_RUN)\n";
        return getenv("CI") && std::string(getenv("CI")) == "true" ? 1 : 77;
    }
    if (quick) {
        hosts = 1000;
        rounds = 2;
        repeat = 1000;
    }
    try {
        Bench bench(hosts, repeat);
        const uint32_t n = std::max<uint32_t>(hosts, 1);
        const auto rejected = udpFrom("10.0.0.1", 5060); // the source is rewritten by the front program
        std::vector<Path> paths = {
            {"bare XDP drop (floor)", rejected, 1, 0, XDP_DROP, true},
            {"non-IP (ARP)", test::Packet().eth().ethertype(0x0806).payload(std::vector<uint8_t>(28)).bytes(), 0, 0,
             XDP_PASS, false},
            {"trusted source", udpFrom("198.18.1.10", 5060), 0, 0, XDP_PASS, false},
            {"internet source, RTP service", udpFrom("198.18.2.20", 10000), 0, 0, XDP_PASS, false},
            // Responsive mode: a repeated source is over its budget after a few packets.
            {"internet source, SIP over its budget (rate_limited)", udpFrom("198.18.2.21", 5060), 0, 0, XDP_DROP,
             false},
            {"reject host hit, same source", rejected, 1, 0, XDP_DROP, false},
            {"reject host hit, " + std::to_string(n) + " entries, rotating", rejected, n, 0, XDP_DROP, false},
            {"miss (internet, unlisted pass), " + std::to_string(n) + " entries, rotating", udpFrom("10.0.0.1", 20001),
             n, n, XDP_PASS, false},
        };
        if (hosts == 0) // nothing to hit: keep the paths that do not need a reject entry
            std::erase_if(paths, [](const Path& p) { return p.name.rfind("reject", 0) == 0; });
        std::vector<std::vector<double>> samples(paths.size());
        for (uint32_t r = 0; r < rounds; ++r)
            for (size_t i = 0; i < paths.size(); ++i)
                samples[i].push_back(bench.run(paths[i]));

        const double floorMin = *std::min_element(samples[0].begin(), samples[0].end());
        const double floorMed = median(samples[0]);
        nlohmann::json rows = nlohmann::json::array();
        std::printf("%-58s %8s %8s %8s %7s %s\n", "path", "min", "median", "net", "ratio", "");
        for (size_t i = 0; i < paths.size(); ++i) {
            double mn = *std::min_element(samples[i].begin(), samples[i].end());
            double med = median(samples[i]);
            double net = med - floorMed;
            double ratio = med / floorMed;
            bool noisy = med / mn > 1.10;
            std::printf("%-58s %8.1f %8.1f %8.1f %6.2fx %s\n", paths[i].name.c_str(), mn, med, net, ratio,
                        noisy ? "(noisy: median/min > 1.10)" : "");
            rows.push_back({{"path", paths[i].name}, {"min_ns", mn}, {"median_ns", med}, {"net_ns", net},
                            {"ratio", ratio}, {"noisy", noisy}});
        }
        std::printf("floor: bare XDP drop %.1f ns (min %.1f) incl. the rotating front program; %u rounds x %u repeats\n",
                    floorMed, floorMin, rounds, repeat);
        if (!jsonPath.empty())
            std::ofstream(jsonPath) << nlohmann::json{{"rows", rows}, {"rounds", rounds}, {"repeat", repeat},
                                                      {"hosts", hosts}}.dump(2) << "\n";
    } catch (const std::exception& e) {
        std::cerr << "pbxwall_bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
