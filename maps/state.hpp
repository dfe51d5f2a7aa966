// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// What pbxwallctl changed at run time, kept under state_dir so that pbxwalld replays it
// after a restart or a reboot. Plain text files, one entry a line, written atomically, 0600.
#pragma once

#include "addr.hpp"
#include "pbxwall_abi.h"

#include <cstdint>
#include <string>
#include <vector>

namespace pbxwall {

struct CtlZone {
    Cidr cidr;
    pw_zone zone;
};

struct CtlIface {
    std::string name;
    pw_zone zone;
};

struct CtlBan {
    Addr addr;               // the pw_bans key: a prefix ban's first address
    int64_t expiresUnix = 0; // seconds since the epoch; 0: never
    int64_t createdUnix = 0;
    uint32_t cause = PW_BAN_MANUAL;
    uint8_t prefix = 0; // as pw_ban's: 0 for one address, else an IPv6 prefix length

    std::string str() const { return banText(addr, prefix); }
};

// A known source (pw_known), as pbxwalld keeps it for a reboot: a phone registered at the PBX
// does not register again until its refresh, and would meet the anonymous-call rule and the
// small budget until then.
struct CtlKnown {
    Addr addr;
    int64_t expiresUnix = 0; // seconds since the epoch
    int64_t createdUnix = 0;
};

// Files: zones ("CIDR ZONE"), ifaces ("IFNAME ZONE"), bans ("ADDR|PREFIX EXPIRES|never CREATED
// CAUSE"), known ("ADDR EXPIRES CREATED": written by pbxwalld's sweep and pbxwallctl known, read
// at a start whose pins are new).
struct CtlState {
    std::vector<CtlZone> zones;
    std::vector<CtlIface> ifaces;
    std::vector<CtlBan> bans;

    // Missing files are empty. A broken line throws std::runtime_error "FILE:LINE: ...".
    static CtlState load(const std::string& dir);
    // Creates dir (0700) if needed (prepareStateDir); the files are replaced together (write,
    // fsync, rename; the renames undone if one fails; the directory synced).
    void save(const std::string& dir) const;

    // The bans file alone (pbxwalld's expiry sweep must not re-read a million zone entries).
    static std::vector<CtlBan> loadBans(const std::string& dir);
    static void saveBans(const std::string& dir, const std::vector<CtlBan>& bans);

    // The known file alone; with `skipped`, a broken line ("FILE:LINE: reason") is noted there
    // and the others are read (the file is learnt state, not policy).
    static std::vector<CtlKnown> loadKnown(const std::string& dir, std::vector<std::string>* skipped = nullptr);
    static void saveKnown(const std::string& dir, const std::vector<CtlKnown>& known);
};

// Creates the state directory (0700), or checks that an existing one is a directory only its
// owner, this process's user, may write: throws std::runtime_error otherwise.
void prepareStateDir(const std::string& dir);

// Clock conversions between CLOCK_MONOTONIC nanoseconds (the data plane) and Unix seconds.
uint64_t monotonicNowNs();
int64_t unixNow();
uint64_t unixToMonotonicNs(int64_t unixSeconds); // 0 stays 0 (never); past times give 1; at most 200 years ahead
int64_t monotonicNsToUnix(uint64_t ns);          // 0 stays 0
uint64_t pastUnixToMonotonicNs(int64_t unixSeconds); // a time before now: 1 when before the boot

} // namespace pbxwall
