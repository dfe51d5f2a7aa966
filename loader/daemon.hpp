// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwalld's life: apply the config and the pbxwallctl state, attach, then serve signals
// (SIGHUP reloads atomically, SIGTERM/SIGINT exit leaving the filter in place) and expire bans.
#pragma once

#include "config.hpp"

namespace pbxwall::loader {

// Runs in the foreground until SIGTERM or SIGINT. Returns the process exit code.
int runDaemon(config::Config cfg);

} // namespace pbxwall::loader
