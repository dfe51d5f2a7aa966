// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwalld: checks a config (--check), removes the filter (--detach), or loads, attaches
// and keeps the policy in the foreground.
#include "config.hpp"
#include "daemon.hpp"
#include "dataplane.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <signal.h>

#include <iostream>

using namespace pbxwall;

namespace {

// Prints every diagnostic to stderr. Returns the config, or nullopt on errors.
std::optional<config::Config> load(const std::string& path, bool checkInterfaces)
{
    auto result = config::loadFile(path, {.checkInterfaces = checkInterfaces});
    for (const auto& d : result.diagnostics)
        std::cerr << d.str() << "\n";
    if (!result.ok())
        return std::nullopt;
    return std::move(result.config);
}

} // namespace

int main(int argc, char** argv)
{
    // The daemon reads SIGHUP, SIGTERM and SIGINT through a signalfd. Blocked from the start,
    // one that comes while the config loads waits for it (a `systemctl reload` right after
    // `start` would otherwise kill pbxwalld, which systemd takes for a clean exit).
    sigset_t daemonSignals;
    sigemptyset(&daemonSignals);
    sigaddset(&daemonSignals, SIGHUP);
    sigaddset(&daemonSignals, SIGTERM);
    sigaddset(&daemonSignals, SIGINT);
    sigprocmask(SIG_BLOCK, &daemonSignals, nullptr);

    CLI::App app{"pbxwalld: the pbxwall XDP firewall daemon for VoIP PBXes"};
    std::string configPath = "/etc/pbxwall/pbxwall.toml";
    bool check = false;
    bool detach = false;
    std::string logLevel = "info";
    app.add_option("-c,--config", configPath, "config file")->capture_default_str();
    app.add_flag("--check", check, "validate the config file and exit (0: valid, 1: errors); touches nothing");
    app.add_flag("--detach", detach, "remove the filter from every interface and delete the pinned maps");
    app.add_option("--log-level", logLevel, "trace, debug, info, warn or error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    spdlog::set_level(spdlog::level::from_str(logLevel));
    loader::routeLibraryLogs();

    if (check || detach) // short, one-off runs: the signals act as usual
        sigprocmask(SIG_UNBLOCK, &daemonSignals, nullptr);
    try {
        if (check) {
            auto cfg = load(configPath, true);
            if (!cfg)
                return 1;
            std::cout << configPath << ": OK (" << cfg->interfaces.size() << " interfaces, " << cfg->zones.size()
                      << " zone entries, " << cfg->services.size() << " services)\n";
            return 0;
        }
        auto cfg = load(configPath, !detach);
        if (!cfg)
            return 1;
        if (detach) {
            auto done = loader::detachAll(cfg->pinDir, cfg->stateDir);
            for (const auto& i : done)
                spdlog::info("{}: detached", i);
            spdlog::info("removed the pins in {} ({} interfaces detached); state in {} is kept", cfg->pinDir,
                         done.size(), cfg->stateDir);
            return 0;
        }
        return loader::runDaemon(std::move(*cfg));
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
}
