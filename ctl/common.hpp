// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// What every pbxwallctl command shares: global options, pin/state dir resolution, the pin
// directory lock, the opened maps, argument parsing with exit codes, and committing state.
#pragma once

#include "addr.hpp"
#include "map_set.hpp"
#include "pbxwall_abi.h"
#include "policy.hpp"
#include "state.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace pbxwall::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitAfterCommit = 3; // the change was made (in force, saved); a step after it failed

// An error with its exit code; the message is "<context>: <reason>" on one line.
class CtlError : public std::runtime_error {
public:
    CtlError(int exitCode, const std::string& message) : std::runtime_error(message), exitCode_(exitCode) {}
    int exitCode() const { return exitCode_; }

private:
    int exitCode_;
};

[[noreturn]] void usageError(const std::string& message); // exit 2: bad arguments or input
[[noreturn]] void failure(const std::string& message);    // exit 1: refused or failed at run time
[[noreturn]] void permissionDenied();                     // exit 1: not root

struct GlobalOptions {
    bool json = false;
    bool pretty = false;
    bool verbose = false;
    std::string pinDir;     // empty: from the config file, else PW_PIN_DIR
    std::string stateDir;   // empty: from the config file, else PW_STATE_DIR
    std::string configPath; // empty: kDefaultConfig when it exists
};

inline constexpr const char* kDefaultConfig = "/etc/pbxwall/pbxwall.toml";

// Argument parsers: they throw usageError naming the command ("zone add: ...").
Cidr parseCidrArg(const std::string& command, const std::string& text);
Addr parseAddrArg(const std::string& command, const std::string& text);
pw_zone parseZoneArg(const std::string& command, const std::string& text);

// One command's run: global options, then lazily the resolved dirs, the lock, the maps.
class Context {
public:
    GlobalOptions opt;
    std::function<void(Context&)> action; // set by the chosen subcommand's parse callback

    bool json() const { return opt.json || opt.pretty; }

    const std::string& pinDir();
    const std::string& stateDir();
    std::optional<std::string> configUsed(); // the config file the dirs came from, if any

    // flock(2) on the pin directory, held until the process exits. Exclusive for changes
    // (pbxwalld takes it for reloads); shared for reads of the policy, so that a listing
    // never sees a reload half done.
    void lockExclusive();
    void lockShared();

    MapSet& maps();       // opened on first use; checks the pin dir and the map layouts
    PolicyStore& policy();

    // The pbxwallctl state, loaded under the lock; commit() saves it, and when that fails runs
    // rollback (which undoes the map change) before reporting the error.
    CtlState& state();
    void commit(const std::function<void()>& rollback);
    // Whether commit() saved a change (or markCommitted() said one is in force): an error after
    // it exits kExitAfterCommit, not 1.
    bool committed() const { return committed_; }
    void markCommitted() { committed_ = true; }

    // Informational message on stderr; suppressed in JSON mode.
    void note(const std::string& message) const;

private:
    void resolveDirs();
    void checkPinDir();
    void lock(int how);

    bool resolved_ = false;
    std::string pinDir_;
    std::string stateDir_;
    std::optional<std::string> configUsed_;
    std::string brokenDefault_; // the default config's first error, when a default dir stood in for it
    UniqueFd lockFd_;
    int lockHow_ = 0;
    std::unique_ptr<MapSet> maps_;
    std::unique_ptr<PolicyStore> policy_;
    std::unique_ptr<CtlState> state_;
    bool committed_ = false;
};

// Runs step; when it throws, runs undo (best effort) and throws step's error on, noting that the
// maps were left unchanged, or that undoing failed too.
void undoIfThrows(const std::function<void()>& step, const std::function<void()>& undo);

// The rule that puts a in its zone, for messages: "203.0.113.0/24, set by the config file".
std::string ruleOf(Context& ctx, const Addr& a);

// The length the data plane bans IPv6 sources by ([sip] ipv6_prefix of the policy in force);
// 128: by address.
unsigned banPrefix6(Context& ctx);

} // namespace pbxwall::ctl
