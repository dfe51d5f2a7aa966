// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pw_e2e: the end-to-end benchmark over veth (scripts/bench.sh --e2e; tests/bench/e2e.sh builds
// the namespaces and receivers and writes the spec this program reads).
//
//   pw_e2e run --spec FILE     the measurement. Runs inside the sender's namespace, pinned to
//                              one CPU: bpf/bench_gen.bpf.c's generator is run with
//                              BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES and redirects
//                              crafted frames, their IPv4 source rotating through the blocked
//                              list, into the sender-side veth of one receiver after the other
//                              (round-robin over rounds); where the kernel refuses live frames,
//                              through the spec's relay veth pair instead (pwg_fan: each frame
//                              sent from a packet socket becomes 64 XDP frames). The figure is
//                              the receiver's CPU time per packet it handled: the schedstat run
//                              time of its NAPI kthread (and of a socket reader, where there is
//                              one) over the packets the receiving veth's NAPI took in.
//   pw_e2e attach-drop --ifname IF   attaches the bare XDP_DROP (the floor) natively to IF in
//                              the current network namespace; it stays attached after exit.
//   pw_e2e sink --addr A --port P    a plain UDP socket that reads and discards (recvmmsg),
//                              until SIGTERM or --max-seconds.
#include "bench_gen.skel.h"

#include "host_info.hpp"
#include "packet_builder.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// A REGISTER as a desk phone sends it: the frame of every flood, so that every receiver sees
// the same bytes, and pbxwall's full SIP path judges a real request (the budget, over which it
// drops; the guards for a source within it).
const char* kRegister = "REGISTER sip:198.18.0.1 SIP/2.0\r\n"
                        "Via: SIP/2.0/UDP 198.18.2.30:5060;branch=z9hG4bK1f0a7e9c;rport\r\n"
                        "From: \"2001\" <sip:2001@198.18.0.1>;tag=2074613394\r\n"
                        "To: \"2001\" <sip:2001@198.18.0.1>\r\n"
                        "Call-ID: 0_2391843025@198.18.2.30\r\n"
                        "CSeq: 3 REGISTER\r\n"
                        "Contact: <sip:2001@198.18.2.30:5060>\r\n"
                        "Max-Forwards: 70\r\n"
                        "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
                        "Expires: 3600\r\n"
                        "Allow: INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, REFER\r\n"
                        "Content-Length: 0\r\n\r\n";

bool ciStrict() { return getenv("CI") && std::string(getenv("CI")) == "true"; }

std::vector<uint32_t> readSources(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::vector<uint32_t> v;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        in_addr a{};
        if (inet_pton(AF_INET, line.c_str(), &a) != 1)
            throw std::runtime_error(path + ": not an IPv4 address: " + line);
        v.push_back(a.s_addr);
    }
    if (v.empty())
        throw std::runtime_error(path + ": no sources");
    return v;
}

// Run time on a CPU, in ns, of one task (first field of /proc/PID/schedstat).
uint64_t runTimeNs(int pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
    uint64_t ns = 0;
    if (!(in >> ns))
        throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/schedstat (task gone?)");
    return ns;
}

// Runs a counting script; it prints "HANDLED OUTCOME": packets the receiving veth's NAPI took in
// and packets with the row's expected outcome (dropped by its filter, delivered to the socket).
std::pair<uint64_t, uint64_t> readCounts(const std::string& script)
{
    std::string cmd = "bash '" + script + "'";
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
    if (!p)
        throw std::runtime_error("cannot run " + script);
    char buf[256] = {};
    std::string out;
    while (fgets(buf, sizeof buf, p.get()))
        out += buf;
    std::istringstream is(out);
    uint64_t h = 0, o = 0;
    if (!(is >> h >> o))
        throw std::runtime_error(script + " printed '" + out + "', expected two counts");
    return {h, o};
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// The median over rounds of a's time over b's in the same round. Every round floods each
// receiver once, one after the other, so the two figures of a round were taken seconds apart:
// the host's other tenants, which can halve or double a whole round, move both.
double pairedRatio(const std::vector<double>& a, const std::vector<double>& b)
{
    std::vector<double> r;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        if (b[i] > 0)
            r.push_back(a[i] / b[i]);
    return r.empty() ? 0 : median(r);
}

struct Goal {
    enum Kind { None, MaxRatioToFloor, MinTimesRef } kind = None;
    double value = 0;
    std::string ref; // MinTimesRef: the row this one must cost at least `value` times
};

struct Variant {
    std::string id, name;
    int ifindex = 0;
    std::vector<int> pids;
    std::string counter;
    bool floor = false;
    Goal goal;
    uint64_t warmup = 0; // packets to handle before the rounds (0: the --warmup default)
    std::vector<double> ns, handled, mpps, sentMpps;
    uint64_t outcome = 0, handledTotal = 0;
    std::string problem;
};

class Generator {
public:
    // relay: the two ends of a veth pair in the sender's namespace (packet socket side, fan-out
    // side), used when the kernel refuses live frames; empty names: none.
    Generator(const std::vector<uint32_t>& sources, std::vector<uint8_t> frame, uint32_t batch,
              std::pair<std::string, std::string> relay)
        : frame_(std::move(frame)), batch_(batch), relay_(std::move(relay))
    {
        libbpf_set_print([](libbpf_print_level l, const char* f, va_list ap) {
            return l == LIBBPF_WARN ? vfprintf(stderr, f, ap) : 0;
        });
        skel_.reset(bench_gen_bpf::open());
        if (!skel_)
            throw std::runtime_error("open bench_gen object");
        bpf_map__set_max_entries(skel_->maps.pwg_sources, static_cast<uint32_t>(sources.size()));
        skel_->rodata->pwg_count = static_cast<uint32_t>(sources.size());
        if (bench_gen_bpf::load(skel_.get()))
            throw std::runtime_error("load bench_gen object (root needed)");
        std::vector<uint32_t> keys(sources.size());
        for (uint32_t i = 0; i < keys.size(); ++i)
            keys[i] = i;
        uint32_t count = static_cast<uint32_t>(keys.size());
        if (bpf_map_update_batch(bpf_map__fd(skel_->maps.pwg_sources), keys.data(), sources.data(), &count, nullptr))
            throw std::runtime_error("fill pwg_sources: " + std::string(strerror(errno)));
    }

    ~Generator()
    {
        if (fanIfindex_)
            bpf_xdp_detach(fanIfindex_, XDP_FLAGS_DRV_MODE, nullptr);
        if (socket_ >= 0)
            close(socket_);
    }
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

    struct Result {
        uint64_t sent;
        double seconds;
    };

    // Sends up to `packets` frames into `ifindex`, for at most `seconds`.
    Result flood(int ifindex, uint64_t packets, double seconds)
    {
        skel_->bss->pwg_ifindex = static_cast<uint32_t>(ifindex);
        const auto start = Clock::now();
        const auto deadline = start + std::chrono::duration<double>(seconds);
        uint64_t sent = 0;
        while (socket_ < 0 && sent < packets && Clock::now() < deadline) {
            const uint64_t chunk = std::min<uint64_t>(packets - sent, 1U << 17);
            LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame_.data(),
                        .data_size_in = static_cast<__u32>(frame_.size()), .repeat = static_cast<int>(chunk),
                        .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch_);
            if (bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.pwg_gen), &o) == 0) {
                sent += chunk;
                continue;
            }
            if (errno != EPERM || sent)
                throw std::runtime_error("BPF_PROG_TEST_RUN (live frames): " + std::string(strerror(errno)));
            useFanOut();
        }
        if (socket_ >= 0)
            sent = floodFanOut(ifindex, packets, deadline);
        return {sent, std::chrono::duration<double>(Clock::now() - start).count()};
    }

    bool liveFrames() const { return socket_ < 0; }

private:
    // Some kernels refuse live frames (EPERM: sandboxed VMs that allow no packet injection that
    // way). Then frames go out of a packet socket into the relay pair, and its far end's XDP
    // program sends each one to the receiver as many times as pwg_fanout has entries, each copy
    // with the next source (bpf/bench_gen.bpf.c). Slower than live frames, and each copy is a page
    // allocated here and freed by the receiver's CPU (live frames go back to their page pool),
    // which costs every receiver more: the figures are not comparable with those of a
    // live-frames run. Every receiver still handles the flood, as XDP frames, and its outcome is
    // checked.
    void useFanOut()
    {
        if (relay_.first.empty() || relay_.second.empty())
            throw std::runtime_error("the kernel refuses live frames (EPERM), and the spec names no relay veth pair");
        std::fprintf(stderr, "pw_e2e: the kernel refuses live frames (EPERM): sending through the relay %s -> %s, "
                             "%u copies of each frame (slower, and each copy a page the receiver frees: figures "
                             "not comparable with live-frames runs)\n",
                     relay_.first.c_str(), relay_.second.c_str(), bpf_map__max_entries(skel_->maps.pwg_fanout));
        const int tx = static_cast<int>(if_nametoindex(relay_.first.c_str()));
        const int fan = static_cast<int>(if_nametoindex(relay_.second.c_str()));
        if (!tx || !fan)
            throw std::runtime_error("relay veth " + relay_.first + " / " + relay_.second + " not found");
        if (int e = bpf_xdp_attach(fan, bpf_program__fd(skel_->progs.pwg_fan), XDP_FLAGS_DRV_MODE, nullptr))
            throw std::runtime_error("attach pwg_fan to " + relay_.second + ": " + strerror(-e));
        fanIfindex_ = fan;
        const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw std::runtime_error("AF_PACKET socket: " + std::string(strerror(errno)));
        socket_ = fd;
        const int one = 1;
        sockaddr_ll ll{};
        ll.sll_family = AF_PACKET;
        ll.sll_protocol = htons(ETH_P_IP);
        ll.sll_ifindex = tx;
        if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) ||
            bind(fd, reinterpret_cast<sockaddr*>(&ll), sizeof ll))
            throw std::runtime_error("AF_PACKET socket on " + relay_.first + ": " + strerror(errno));
    }

    template <class Deadline>
    uint64_t floodFanOut(int ifindex, uint64_t packets, Deadline deadline)
    {
        const uint32_t copies = bpf_map__max_entries(skel_->maps.pwg_fanout);
        if (ifindex != fanTarget_) {
            bpf_devmap_val val{};
            val.ifindex = static_cast<uint32_t>(ifindex);
            val.bpf_prog.fd = bpf_program__fd(skel_->progs.pwg_stamp);
            for (uint32_t k = 0; k < copies; ++k)
                if (bpf_map_update_elem(bpf_map__fd(skel_->maps.pwg_fanout), &k, &val, BPF_ANY))
                    throw std::runtime_error("fill pwg_fanout: " + std::string(strerror(errno)));
            fanTarget_ = ifindex;
        }
        constexpr size_t kBatch = 64;
        std::vector<iovec> iov(kBatch, iovec{frame_.data(), frame_.size()});
        std::vector<mmsghdr> msgs(kBatch);
        for (size_t i = 0; i < kBatch; ++i) {
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const uint64_t frames = (packets + copies - 1) / copies;
        uint64_t sent = 0;
        while (sent < frames && Clock::now() < deadline) {
            const auto n = static_cast<unsigned>(std::min<uint64_t>(kBatch, frames - sent));
            const int r = sendmmsg(socket_, msgs.data(), n, 0);
            if (r > 0)
                sent += static_cast<uint64_t>(r);
            else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
                throw std::runtime_error("AF_PACKET send: " + std::string(strerror(errno)));
        }
        return sent * copies;
    }

    std::unique_ptr<bench_gen_bpf, void (*)(bench_gen_bpf*)> skel_{nullptr, bench_gen_bpf::destroy};
    std::vector<uint8_t> frame_;
    uint32_t batch_; // frames per batch of the live-frames run (at most 256)
    std::pair<std::string, std::string> relay_;
    int socket_ = -1;     // the packet socket into the relay, once live frames were refused
    int fanIfindex_ = 0;  // where pwg_fan is attached
    int fanTarget_ = 0;   // the ifindex pwg_fanout's entries hold
};

// Counts until two reads 50 ms apart agree (the receiver drained its ring and socket queue).
std::pair<uint64_t, uint64_t> settledCounts(const std::string& script)
{
    auto prev = readCounts(script);
    for (int i = 0; i < 40; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto now = readCounts(script);
        if (now == prev)
            return now;
        prev = now;
    }
    return prev;
}

struct Sample {
    double nsPerPacket;
    uint64_t handled, outcome, sent;
    double seconds;
};

Sample measure(Generator& gen, const Variant& v, uint64_t packets, double seconds)
{
    const auto before = readCounts(v.counter); // idle: the previous flood was waited out
    uint64_t cpu0 = 0, cpu1 = 0;
    for (int pid : v.pids)
        cpu0 += runTimeNs(pid);
    const auto r = gen.flood(v.ifindex, packets, seconds);
    const auto after = settledCounts(v.counter);
    for (int pid : v.pids)
        cpu1 += runTimeNs(pid);
    Sample s{};
    s.handled = after.first - before.first;
    s.outcome = after.second - before.second;
    s.sent = r.sent;
    s.seconds = r.seconds;
    s.nsPerPacket = s.handled ? static_cast<double>(cpu1 - cpu0) / static_cast<double>(s.handled) : 0;
    return s;
}

std::string fmtGoal(const Goal& g)
{
    char b[64];
    if (g.kind == Goal::MaxRatioToFloor)
        std::snprintf(b, sizeof b, "<=%.2fx floor", g.value);
    else if (g.kind == Goal::MinTimesRef)
        std::snprintf(b, sizeof b, ">=%.0fx %s", g.value, g.ref.c_str());
    else
        return "-";
    return b;
}

int run(const std::string& specPath, const std::string& jsonPath, uint32_t rounds, uint64_t packets, double seconds,
        uint64_t warmup, double warmupSeconds, uint32_t batch)
{
    std::ifstream in(specPath);
    if (!in)
        throw std::runtime_error("cannot read " + specPath);
    nlohmann::json spec = nlohmann::json::parse(in);
    const auto sources = readSources(spec.at("sources").get<std::string>());
    const auto frameOf = [&](const std::string& src) {
        std::vector<uint8_t> f = pbxwall::test::Packet()
                                     .eth(spec.at("src_mac").get<std::string>(), spec.at("dst_mac").get<std::string>())
                                     .ipv4(src, spec.at("dst").get<std::string>())
                                     .udp(5060, spec.at("dport").get<uint16_t>())
                                     .payload(kRegister)
                                     .bytes();
        // No UDP checksum (0 is "none" over IPv4): the generator rewrites the source.
        const size_t udpOff = 14 + 20;
        f[udpOff + 6] = f[udpOff + 7] = 0;
        return f;
    };
    const std::vector<uint8_t> frame = frameOf(spec.at("first_src").get<std::string>());

    std::vector<Variant> vs;
    for (const auto& j : spec.at("variants")) {
        Variant v;
        v.id = j.at("id");
        v.name = j.at("name");
        v.ifindex = j.at("ifindex");
        v.pids = j.at("pids").get<std::vector<int>>();
        v.counter = j.at("counter");
        v.floor = j.value("floor", false);
        v.warmup = j.value("warmup", uint64_t{0});
        if (j.contains("goal") && !j["goal"].is_null()) {
            const auto& g = j["goal"];
            if (g.contains("max_ratio_to_floor")) {
                v.goal.kind = Goal::MaxRatioToFloor;
                v.goal.value = g["max_ratio_to_floor"];
            } else {
                v.goal.kind = Goal::MinTimesRef;
                v.goal.value = g.at("min_times");
                v.goal.ref = g.at("of");
            }
        }
        vs.push_back(std::move(v));
    }
    if (vs.empty() || !vs[0].floor)
        throw std::runtime_error("the spec's first variant must be the floor");
    const auto relay = spec.value("relay", nlohmann::json::object());
    Generator gen(sources, frame, batch, {relay.value("tx", std::string()), relay.value("fan", std::string())});
    std::printf("e2e: %zu sources, %zu-byte frames (SIP REGISTER), %u rounds x %llu packets (at most %.0f s each), "
                "generator on CPU %d\n",
                sources.size(), frame.size(), rounds, static_cast<unsigned long long>(packets), seconds, sched_getcpu());
    std::fflush(stdout);

    // Warm-up, not measured: per-source state (pbxwall's budgets), caches, set internals. A slow
    // receiver takes in a fraction of what is sent (the rest overflows the veth ring), so the
    // warm-up goes on until the receiver has handled its share, or for `warmupSeconds`.
    for (auto& v : vs) {
        const uint64_t target = v.warmup ? v.warmup : warmup;
        const uint64_t base = readCounts(v.counter).first;
        const auto deadline = Clock::now() + std::chrono::duration<double>(warmupSeconds);
        while (Clock::now() < deadline) {
            gen.flood(v.ifindex, std::max<uint64_t>(target, 100000), std::min(seconds, 1.0));
            if (settledCounts(v.counter).first - base >= target)
                break;
        }
    }
    for (uint32_t r = 0; r < rounds; ++r)
        for (auto& v : vs) {
            Sample s = measure(gen, v, packets, seconds);
            v.ns.push_back(s.nsPerPacket);
            v.handled.push_back(static_cast<double>(s.handled));
            v.mpps.push_back(s.seconds > 0 ? s.handled / s.seconds / 1e6 : 0);
            v.sentMpps.push_back(s.seconds > 0 ? s.sent / s.seconds / 1e6 : 0);
            v.outcome += s.outcome;
            v.handledTotal += s.handled;
        }

    auto minOf = [](const std::vector<double>& x) { return *std::min_element(x.begin(), x.end()); };
    auto byId = [&](const std::string& id) -> const Variant* {
        for (const auto& v : vs)
            if (v.id == id)
                return &v;
        return nullptr;
    };
    const double floorMin = minOf(vs[0].ns), floorMed = median(vs[0].ns);
    bool failed = false;
    nlohmann::json rows = nlohmann::json::array();
    std::printf("%-58s %8s %8s %8s %7s %7s %9s %6s %-13s %-7s\n", "receiver", "min", "median", "net", "ratio", "vs full",
                "handled", "Mpps", "goal", "verdict");
    const Variant* full = byId("full");
    for (auto& v : vs) {
        const double mn = minOf(v.ns), med = median(v.ns);
        const double net = med - floorMed, ratio = pairedRatio(v.ns, vs[0].ns);
        const bool noisy = mn > 0 && med / mn > 1.10;
        const double handledMed = median(v.handled), mppsMed = median(v.mpps);
        // Every row must have handled packets, and (nearly) all of them with its expected outcome.
        const double share = v.handledTotal ? static_cast<double>(v.outcome) / static_cast<double>(v.handledTotal) : 0;
        if (minOf(v.handled) < 1000)
            v.problem = "handled only " + std::to_string(static_cast<uint64_t>(minOf(v.handled))) + " packets in a flood";
        else if (share < 0.98 || share > 1.02)
            v.problem = "expected outcome for " + std::to_string(v.outcome) + " of " + std::to_string(v.handledTotal) +
                        " handled packets";
        std::optional<double> vsFull;
        if (full)
            vsFull = pairedRatio(v.ns, full->ns);
        // Goals are judged on ratios taken round by round (pairedRatio), not on minimums or
        // medians of separate rounds: on a host whose speed changes between rounds those compare
        // a fast round with a slow one.
        std::string verdict = "-";
        if (!v.problem.empty()) {
            verdict = "FAILED";
            failed = true;
        } else if (v.goal.kind == Goal::MaxRatioToFloor) {
            verdict = ratio <= v.goal.value ? "met" : "MISSED";
        } else if (v.goal.kind == Goal::MinTimesRef) {
            const Variant* ref = byId(v.goal.ref);
            if (!ref)
                throw std::runtime_error(v.id + ": goal refers to unknown row " + v.goal.ref);
            const double times = pairedRatio(v.ns, ref->ns);
            verdict = times >= v.goal.value ? "met" : "MISSED";
        }
        char vf[16] = "-";
        if (vsFull)
            std::snprintf(vf, sizeof vf, "%.2fx", *vsFull);
        std::printf("%-58s %8.1f %8.1f %8.1f %6.2fx %7s %9.0f %6.2f %-13s %-7s %s%s\n", v.name.c_str(), mn, med, net,
                    ratio, vf, handledMed, mppsMed, fmtGoal(v.goal).c_str(), verdict.c_str(),
                    noisy ? "(noisy: median/min > 1.10) " : "", v.problem.c_str());
        nlohmann::json goal = nullptr;
        if (v.goal.kind == Goal::MaxRatioToFloor)
            goal = {{"max_ratio_to_floor", v.goal.value}};
        else if (v.goal.kind == Goal::MinTimesRef)
            goal = {{"min_times", v.goal.value}, {"of", v.goal.ref}};
        rows.push_back({{"id", v.id}, {"receiver", v.name}, {"min_ns", mn}, {"median_ns", med}, {"net_ns", net},
                        {"ratio", ratio}, {"vs_full", vsFull ? nlohmann::json(*vsFull) : nlohmann::json()},
                        {"noisy", noisy}, {"samples_ns", v.ns}, {"handled_median", handledMed},
                        {"handled_total", v.handledTotal}, {"outcome_total", v.outcome}, {"mpps_median", mppsMed},
                        {"sent_mpps_median", median(v.sentMpps)},
                        {"goal", goal}, {"verdict", verdict},
                        {"problem", v.problem.empty() ? nlohmann::json() : nlohmann::json(v.problem)}});
    }
    // The floor never reads the frame; a drop that reads its first line ("read") shows what that
    // costs here. pbxwall's full SIP path measured from it, round by round (no goal: an
    // explanation).
    std::optional<double> fullOverRead;
    if (const Variant* read = byId("read"); read && full)
        fullOverRead = pairedRatio(full->ns, read->ns);
    if (fullOverRead)
        std::printf("full SIP path over the drop that reads the frame: %.2fx (median of per-round ratios)\n",
                    *fullOverRead);
    std::printf("ns: receiver CPU time per handled packet (its NAPI kthread; + the reader for the socket). "
                "floor: bare XDP drop %.1f ns (min %.1f).\nratio, 'vs full': the median over rounds of the row's ns over "
                "the floor's, over pbxwall's full SIP path's, in the same round; goals are judged on them. "
                "Mpps: handled per second of flood; the generator sent %.2f Mpps into the floor. "
                "%u rounds x %llu frames.\n",
                floorMed, floorMin, median(vs[0].sentMpps), rounds, static_cast<unsigned long long>(packets));
    if (!gen.liveFrames())
        std::printf("generator: fan-out relay (the kernel refuses live frames): slower, and each copy a page the "
                    "receiver frees; figures not comparable with live-frames runs; outcomes checked\n");
    const pbxwall::bench::HostInfo host = pbxwall::bench::hostInfo();
    std::printf("%s\n", pbxwall::bench::hostLine(host).c_str());
    if (!jsonPath.empty())
        std::ofstream(jsonPath) << nlohmann::json{{"rows", rows}, {"rounds", rounds}, {"packets", packets},
                                                  {"host", pbxwall::bench::hostJson(host)},
                                                  {"generator", gen.liveFrames() ? "live frames" : "fan-out relay"},
                                                  {"seconds", seconds}, {"warmup", warmup}, {"warmup_seconds", warmupSeconds},
                                                  {"sources", sources.size()}, {"frame_bytes", frame.size()},
                                                  {"floor_median_ns", floorMed}, {"floor_min_ns", floorMin},
                                                  {"full_over_read", fullOverRead ? nlohmann::json(*fullOverRead)
                                                                                  : nlohmann::json()}}
                                       .dump(2)
                                << "\n";
    return failed ? 1 : 0;
}

int attachDrop(const std::string& ifname, bool read)
{
    const unsigned ifindex = if_nametoindex(ifname.c_str());
    if (!ifindex)
        throw std::runtime_error("no interface " + ifname + " in this namespace");
    std::unique_ptr<bench_gen_bpf, void (*)(bench_gen_bpf*)> skel(bench_gen_bpf::open_and_load(),
                                                                  bench_gen_bpf::destroy);
    if (!skel)
        throw std::runtime_error("load bench_gen object (root needed)");
    if (int err = bpf_xdp_attach(static_cast<int>(ifindex), bpf_program__fd(read ? skel->progs.pwg_read : skel->progs.pwg_drop),
                                 XDP_FLAGS_DRV_MODE, nullptr))
        throw std::runtime_error("attach the drop program to " + ifname + ": " + strerror(-err));
    return 0;
}

std::atomic<bool> gStop{false};

int sink(const std::string& addr, uint16_t port, double maxSeconds)
{
    std::signal(SIGTERM, [](int) { gStop = true; });
    std::signal(SIGINT, [](int) { gStop = true; });
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        throw std::runtime_error("socket: " + std::string(strerror(errno)));
    int rcvbuf = 256 << 20; // room for a whole flood: the reader shares its CPU with the NAPI kthread
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    timeval tv{0, 200000}; // wake up to check the clock and the stop flag
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1)
        throw std::runtime_error("bad address " + addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa))
        throw std::runtime_error("bind " + addr + ": " + strerror(errno));
    std::printf("sink ready on %s:%u\n", addr.c_str(), port);
    std::fflush(stdout);
    constexpr int kBatch = 64;
    static char bufs[kBatch][2048];
    iovec iov[kBatch];
    mmsghdr msgs[kBatch];
    const auto deadline = Clock::now() + std::chrono::duration<double>(maxSeconds);
    while (!gStop && Clock::now() < deadline) {
        for (int i = 0; i < kBatch; ++i) {
            iov[i] = {bufs[i], sizeof bufs[i]};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        recvmmsg(fd, msgs, kBatch, 0, nullptr); // the data is discarded; the kernel counts it
    }
    close(fd);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"pw_e2e: end-to-end benchmark over veth (scripts/bench.sh --e2e)"};
    app.require_subcommand(1);
    std::string spec, json, ifname, addr = "198.18.0.1";
    uint32_t rounds = 5;
    uint64_t packets = 2000000, warmup = 500000;
    double seconds = 5, maxSeconds = 600, warmupSeconds = 10;
    uint16_t port = 5060;
    uint32_t batch = 64;
    auto* runCmd = app.add_subcommand("run", "measure every receiver of a spec (inside the sender's namespace)");
    runCmd->add_option("--spec", spec, "the spec written by tests/bench/e2e.sh")->required();
    runCmd->add_option("--json", json, "also write the table as JSON to this file");
    runCmd->add_option("--rounds", rounds, "interleaved rounds")->capture_default_str()->check(CLI::Range(1, 100));
    runCmd->add_option("--packets", packets, "frames per flood")->capture_default_str()->check(CLI::Range(1000, 100000000));
    runCmd->add_option("--seconds", seconds, "longest flood, seconds")->capture_default_str()->check(CLI::Range(0.1, 30.0));
    runCmd->add_option("--warmup", warmup, "packets each receiver handles before the rounds (not measured)")
        ->capture_default_str();
    runCmd->add_option("--warmup-seconds", warmupSeconds, "longest warm-up per receiver")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 60.0));
    runCmd->add_option("--batch", batch, "frames per live-frames batch of the generator")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    auto* attachCmd = app.add_subcommand("attach-drop", "attach the bare XDP drop natively to an interface");
    attachCmd->add_option("--ifname", ifname, "interface in the current network namespace")->required();
    bool readHeaders = false;
    attachCmd->add_flag("--read", readHeaders,
                        "read the frame's headers (EtherType, IPv4 source, UDP port) before dropping");
    auto* sinkCmd = app.add_subcommand("sink", "a UDP socket that reads and discards");
    sinkCmd->add_option("--addr", addr, "address to bind")->capture_default_str();
    sinkCmd->add_option("--port", port, "port to bind")->capture_default_str();
    sinkCmd->add_option("--max-seconds", maxSeconds, "exit after this long at the latest")->capture_default_str();
    // e2e.sh passes its defaults first and the user's options (scripts/bench.sh --e2e -- ...) after
    // them: the last one given wins.
    for (auto* opt : runCmd->get_options())
        opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    CLI11_PARSE(app, argc, argv);
    if (geteuid() != 0) {
        std::cerr << "pw_e2e needs root\n";
        return ciStrict() ? 1 : 77;
    }
    try {
        if (*runCmd)
            return run(spec, json, rounds, packets, seconds, warmup, warmupSeconds, batch);
        if (*attachCmd)
            return attachDrop(ifname, readHeaders);
        return sink(addr, port, maxSeconds);
    } catch (const std::exception& e) {
        std::cerr << "pw_e2e: " << e.what() << "\n";
        return 1;
    }
}
