// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// A policy flip that lands in the middle of a packet's lookups: the packet must still see
// one half whole. A thread flips pw_gen's host half back and forth on another CPU while the
// program runs on this one; a lookup that reads the half once per level of the IPv4 prefix
// table would walk level 0 of one half into a chunk of the other.
#include "fixtures.hpp"

#include <bpf/bpf.h>
#include <pthread.h>
#include <sched.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <string>
#include <chrono>
#include <thread>

namespace pbxwall::bpftest {

namespace {

std::string policy(const std::string& zones)
{
    return "unlisted_ports = \"drop\"\n[[interface]]\nname = \"lo\"\nzone = \"internet\"\n[zones]\n" + zones + "\n";
}

// Packets of reason `reason` counted so far, all slots and zones.
__u64 counted(const Harness& h, pw_reason reason)
{
    __u64 n = 0;
    for (const auto& r : h.counters())
        if (r.reason == reason)
            n += r.packets;
    return n;
}

// Pins the calling thread to a CPU other than `not_cpu`, if there is one.
void pinElsewhere(int notCpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c = 0; c < CPU_SETSIZE && c < 64; ++c)
        if (c != notCpu)
            CPU_SET(c, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

} // namespace

TEST_CASE("a flip in the middle of a lookup: every packet reads one half of the prefix table", "[bpf][zones][flip]")
{
    // Half A: 198.18.16.0/20 trusted, so the /16 of 198.18 points to chunk 0 at level 1.
    // Half B: 198.18.0.0/16 trusted at level 0, and 198.19.16.0/20 rejected: chunk 0 is now
    // 198.19's. Either half alone passes 198.18.16.5 as trusted; a walk that takes level 0
    // from A and level 1 from B lands in 198.19's chunk and rejects it.
    // The flips must land during the runs: another CPU flips while this one runs the program.
    if (std::thread::hardware_concurrency() < 2) {
        const char* ci = std::getenv("CI");
        if (ci && std::string(ci) == "true")
            FAIL("needs two CPUs: with one, no flip can land in the middle of a run");
        WARN("one CPU: the flip test cannot overlap flips with runs, skipped");
        return;
    }
    CpuPin pin;
    Harness h(policy(R"(trusted = ["198.18.16.0/20"])"));
    h.install(policy("trusted = [\"198.18.0.0/16\"]\nreject = [\"198.19.16.0/20\"]"));
    const auto frame = test::Packet().eth().ipv4("198.18.16.5", "198.18.0.1").udp(40000, 9).bytes();

    pw_gen_state g = *h.maps().gen.lookup(0);
    for (int i = 0; i < 2; ++i) { // each half alone
        g.hosts ^= 1;
        h.maps().gen.update(0, g);
        INFO("half " << g.hosts);
        CHECK(h.action(frame) == XDP_PASS);
    }
    const __u64 rejectedBefore = counted(h, PW_REASON_REJECT);

    std::atomic<bool> stop{false};
    std::atomic<long> flips{0};
    std::thread flipper([&, g]() mutable {
        pinElsewhere(pin.cpu());
        while (!stop.load(std::memory_order_relaxed)) {
            g.hosts ^= 1;
            h.maps().gen.update(0, g);
            flips.fetch_add(1, std::memory_order_relaxed);
        }
    });
    xdp_md ctx{};
    ctx.data_end = static_cast<__u32>(frame.size());
    ctx.ingress_ifindex = kLo;
    long runs = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while (std::chrono::steady_clock::now() < until) {
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1000);
        REQUIRE(bpf_prog_test_run_opts(h.xdpFd(), &opts) == 0);
        runs += 1000;
    }
    stop = true;
    flipper.join();

    INFO(runs << " packets during " << flips.load() << " flips");
    CHECK(flips.load() > 10000); // the flips did overlap the runs
    CHECK(counted(h, PW_REASON_REJECT) - rejectedBefore == 0);
}

} // namespace pbxwall::bpftest
