// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Whether pbxwall's XDP program is attached to an interface, as libxdp sees it: found by its
// name and by its use of our pinned pw_stats (as pbxwalld recognises its own program).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace pbxwall::ctl {

struct XdpStatus {
    enum class State { Pbxwall, Other, None, Unknown };
    State state = State::Unknown;
    std::string mode;    // "native", "generic", "offload" (Pbxwall, Other)
    std::string program; // the attached program's name (Other)
    std::string detail;  // why it is Unknown
};

XdpStatus xdpStatus(unsigned ifindex, int statsFd);
std::string xdpStatusText(const XdpStatus& s); // "pbxwall (native)", "none", "other: NAME (native)", "unknown"
nlohmann::ordered_json xdpStatusJson(const XdpStatus& s);

} // namespace pbxwall::ctl
