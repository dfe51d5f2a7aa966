// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Which host a benchmark ran on, printed with its table: runs compare only within one kind of
// host. This machine kind lands on hosts of two kinds that differ most in what a call and a
// return cost: with the SRSO mitigation "Safe RET" every return goes through a thunk (the
// bare drop about 27-39 ns), without it ("No microcode") it is 7-11 ns. A BPF helper call, a
// global function and the test run's own loop all pay it.
#pragma once

#include <sys/utsname.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace pbxwall::bench {

struct HostInfo {
    std::string kernel; // uname release
    std::string cpu;    // /proc/cpuinfo's first model name
    std::string srso;   // the kernel's spec_rstack_overflow status, "unknown" when it has none
};

inline HostInfo hostInfo()
{
    HostInfo h{"unknown", "unknown", "unknown"};
    utsname u{};
    if (uname(&u) == 0)
        h.kernel = u.release;
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) == 0) {
            if (const auto colon = line.find(':'); colon != std::string::npos && colon + 2 <= line.size())
                h.cpu = line.substr(colon + 2);
            break;
        }
    }
    std::ifstream srso("/sys/devices/system/cpu/vulnerabilities/spec_rstack_overflow");
    if (std::string line; std::getline(srso, line) && !line.empty())
        h.srso = line;
    return h;
}

// One line for the table's foot: "host: kernel K, CPU C, SRSO S".
inline std::string hostLine(const HostInfo& h)
{
    return "host: kernel " + h.kernel + ", " + h.cpu + ", SRSO: " + h.srso +
           " (figures compare only with runs on a host with the same SRSO status)";
}

inline nlohmann::json hostJson(const HostInfo& h)
{
    return {{"kernel", h.kernel}, {"cpu", h.cpu}, {"srso", h.srso}};
}

} // namespace pbxwall::bench
