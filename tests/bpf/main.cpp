// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Entry point of the BPF fixtures: skip (77) without root, unless CI=true makes them mandatory.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <bpf/libbpf.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kSkip = 77; // ctest SKIP_RETURN_CODE

// libbpf warnings (verifier logs of a failed load) go to stderr; its info chatter does not.
int libbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args)
{
    if (level != LIBBPF_WARN)
        return 0;
    return std::vfprintf(stderr, fmt, args);
}

} // namespace

int main(int argc, char* argv[])
{
    if (geteuid() != 0) {
        const char* ci = std::getenv("CI");
        if (ci && std::strcmp(ci, "true") == 0) {
            std::fprintf(stderr, "bpf tests need root (CI=true makes them mandatory)\n");
            return 1;
        }
        std::fprintf(stderr, "skipping the bpf tests: they need root (BPF_PROG_TEST_RUN)\n");
        return kSkip;
    }
    libbpf_set_print(libbpfPrint);
    return Catch::Session().run(argc, argv);
}
