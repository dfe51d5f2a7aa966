// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// XDP attachment probe through libxdp (legacy single programs and multiprog dispatchers).
#include "xdp_status.hpp"

#include "pbxwall_abi.h"

#include <bpf/bpf.h>
#include <xdp/libxdp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace pbxwall::ctl {

namespace {

__u32 mapId(int fd)
{
    bpf_map_info info{};
    __u32 len = sizeof(info);
    return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

bool usesMap(int progFd, __u32 id)
{
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(progFd, &info, &len) != 0 || info.nr_map_ids == 0)
        return false;
    std::vector<__u32> ids(info.nr_map_ids);
    const __u32 count = info.nr_map_ids;
    info = bpf_prog_info{};
    info.nr_map_ids = count;
    info.map_ids = reinterpret_cast<__u64>(ids.data());
    len = sizeof(info);
    if (bpf_obj_get_info_by_fd(progFd, &info, &len) != 0)
        return false;
    ids.resize(std::min(count, info.nr_map_ids));
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string modeName(xdp_attach_mode m)
{
    switch (m) {
    case XDP_MODE_NATIVE: return "native";
    case XDP_MODE_SKB: return "generic";
    case XDP_MODE_HW: return "offload";
    default: return "unknown";
    }
}

} // namespace

XdpStatus xdpStatus(unsigned ifindex, int statsFd)
{
    XdpStatus s;
    xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(static_cast<int>(ifindex));
    const long err = libxdp_get_error(mp);
    if (!mp || err) {
        if (err == -ENOENT) {
            s.state = XdpStatus::State::None;
        } else {
            s.detail = std::strerror(static_cast<int>(err ? -err : errno));
        }
        return s;
    }
    std::vector<xdp_program*> progs;
    if (xdp_multiprog__is_legacy(mp)) {
        if (auto* p = xdp_multiprog__main_prog(mp))
            progs.push_back(p);
    } else {
        for (auto* p = xdp_multiprog__next_prog(nullptr, mp); p; p = xdp_multiprog__next_prog(p, mp))
            progs.push_back(p);
    }
    s.mode = modeName(xdp_multiprog__attach_mode(mp));
    const __u32 statsId = mapId(statsFd);
    s.state = progs.empty() ? XdpStatus::State::None : XdpStatus::State::Other;
    for (auto* p : progs) {
        const char* name = xdp_program__name(p);
        if (name && std::strcmp(name, PW_PROG_NAME_XDP) == 0 && statsId && usesMap(xdp_program__fd(p), statsId)) {
            s.state = XdpStatus::State::Pbxwall;
            s.program = name;
            break;
        }
        if (s.program.empty() && name)
            s.program = name;
    }
    xdp_multiprog__close(mp);
    if (s.state == XdpStatus::State::None)
        s.mode.clear();
    return s;
}

std::string xdpStatusText(const XdpStatus& s)
{
    switch (s.state) {
    case XdpStatus::State::Pbxwall: return "pbxwall (" + s.mode + ")";
    case XdpStatus::State::Other: return "other: " + s.program + " (" + s.mode + ")";
    case XdpStatus::State::None: return "none";
    case XdpStatus::State::Unknown: break;
    }
    return "unknown";
}

nlohmann::ordered_json xdpStatusJson(const XdpStatus& s)
{
    static const char* const kStates[] = {"pbxwall", "other", "none", "unknown"};
    nlohmann::ordered_json j{{"state", kStates[static_cast<int>(s.state)]}};
    j["mode"] = s.mode.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s.mode);
    j["program"] = s.program.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s.program);
    if (!s.detail.empty())
        j["detail"] = s.detail;
    return j;
}

} // namespace pbxwall::ctl
