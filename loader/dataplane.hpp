// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The kernel side of pbxwalld: bpffs and the pin directory, the maps (created or adopted
// from pins), and the XDP + TC egress attachments (created or adopted, never duplicated).
#pragma once

#include "config.hpp"
#include "map.hpp"
#include "map_set.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

struct pbxwall_bpf;
struct xdp_program;

namespace pbxwall::loader {

struct SkelDeleter {
    void operator()(::pbxwall_bpf* s) const noexcept;
};
using SkelPtr = std::unique_ptr<::pbxwall_bpf, SkelDeleter>;

struct XdpProgramDeleter {
    void operator()(xdp_program* p) const noexcept;
};
using XdpProgramPtr = std::unique_ptr<xdp_program, XdpProgramDeleter>;

// Sends libbpf's and libxdp's messages to spdlog, one level down (warn -> info ...).
void routeLibraryLogs();

// Mounts bpffs on /sys/fs/bpf when missing and creates pinDir with mode 0700.
void preparePinDir(const std::string& pinDir);

// flock(2) on the pin directory: pbxwalld and pbxwallctl change the policy one at a time.
class PinLock {
public:
    explicit PinLock(const std::string& pinDir);

private:
    UniqueFd fd_;
};

// The pinned maps, created with the config's [limits] or adopted from an earlier run.
class Maps {
public:
    static Maps open(const config::Config& cfg);
    MapSet& set() { return set_; }

private:
    SkelPtr skel_; // loaded with no programs: owns the map fds
    MapSet set_;
};

struct Attachment {
    std::string ifname;
    unsigned ifindex = 0;
    std::string mode;  // "native" or "generic"
    bool adopted = false; // found already attached (an earlier pbxwalld) and kept
    unsigned progId = 0;
};

// Attaches pw_xdp_main (libxdp) and pw_tc_egress (TC clsact egress) to one interface,
// keeping the programs of an earlier run that use the same pinned maps.
class Attacher {
public:
    explicit Attacher(const config::Config& cfg);
    ~Attacher();
    Attacher(const Attacher&) = delete;
    Attacher& operator=(const Attacher&) = delete;

    Attachment attach(const config::Interface& iface);

private:
    void loadPrograms();
    const config::Config& cfg_;
    unsigned genMapId_ = 0;
    SkelPtr skel_;           // opened lazily, loaded by libxdp on the first attach
    XdpProgramPtr program_;
    SkelPtr tcSkel_;         // the TC program's own object, while every XDP program was adopted
};

// Detaches pbxwall's programs (those using pinDir's maps) from every interface of this
// network namespace, then removes the pins. Returns the interfaces it detached from. Throws,
// touching nothing, while a pbxwalld holds stateDir's instance lock; throws, keeping the pins,
// when a program could not be detached.
std::vector<std::string> detachAll(const std::string& pinDir, const std::string& stateDir);

// Is pbxwall's XDP program (one using the map with id genMapId) attached to the interface?
bool xdpAttached(unsigned ifindex, unsigned genMapId);

// Detaches pbxwall's programs (those using the map with id genMapId) from one interface; sets
// *failed when one could not be.
bool detachInterface(unsigned ifindex, unsigned genMapId, bool* failed = nullptr);

// The loaded programs that use the maps pinned in pinDir (XDP or TC, attached anywhere, an
// earlier run's) and predate pw_gen_state.host_shrink (their BTF does not name the field), as
// "program ID (NAME)": while there is one, the host tables must stay whole
// (PolicyStore::allowHostShrink).
std::vector<std::string> olderProgramsUsingMaps(const std::string& pinDir);

// Id of the map pinned at pinDir/name, 0 when absent.
unsigned pinnedMapId(const std::string& pinDir, const std::string& name);

} // namespace pbxwall::loader
