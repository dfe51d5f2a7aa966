// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The verifier's work per program, against a budget written here: the kernel refuses a program
// past 1,000,000 processed instructions, and a scan loop that grows a little with every change
// must fail this test long before it gets there. Raise a budget only on purpose, with the
// reason in the commit.
#include "pbxwall.skel.h"

#include <bpf/libbpf.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace pbxwall::bpftest {

namespace {

struct Budget {
    const char* program;
    long insns; // processed instructions, every subprogram included
};

// Measured (kernel 6.18): pw_xdp_main about 310,000, pw_tc_egress about 160,000.
constexpr Budget kBudgets[] = {
    {"pw_xdp_main", 450000},
    {"pw_tc_egress", 250000},
};

long processedInsns(const std::string& log)
{
    static const std::regex re(R"(processed (\d+) insns)");
    std::smatch m;
    long last = -1;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it)
        last = std::stol((*it)[1]);
    return last;
}

} // namespace

TEST_CASE("every program stays within its verifier instruction budget", "[bpf][verifier]")
{
    for (const Budget& b : kBudgets) {
        INFO(b.program);
        std::unique_ptr<pbxwall_bpf, void (*)(pbxwall_bpf*)> skel(pbxwall_bpf::open(), pbxwall_bpf::destroy);
        REQUIRE(skel);
        bpf_map* m;
        bpf_object__for_each_map(m, skel->obj) bpf_map__set_pin_path(m, nullptr);
        std::vector<char> log(1 << 20);
        bpf_program* p;
        bpf_object__for_each_program(p, skel->obj)
        {
            const bool measured = std::string(bpf_program__name(p)) == b.program;
            bpf_program__set_autoload(p, measured);
            if (measured) {
                bpf_program__set_log_buf(p, log.data(), log.size());
                bpf_program__set_log_level(p, 4); // statistics only
            }
        }
        REQUIRE(pbxwall_bpf::load(skel.get()) == 0);
        const long insns = processedInsns(log.data());
        REQUIRE(insns > 0);
        WARN(b.program << ": " << insns << " processed instructions (budget " << b.insns << ")");
        CHECK(insns <= b.insns);
    }
}

} // namespace pbxwall::bpftest
