// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwallctl: global options, the command table, and the one place that turns errors into
// an exit code and a single line (or {"error": ...} with --json).
#include "commands.hpp"
#include "output.hpp"

#include <bpf/libbpf.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string_view>
#include <system_error>

namespace pbxwall::ctl {

namespace {

// libbpf and libxdp explain failures in several lines of their own; pbxwallctl prints one line
// with the context instead, so their messages are debug output (visible with -v).
int libbpfPrint(libbpf_print_level, const char* fmt, va_list args)
{
    char buf[1024];
    std::vsnprintf(buf, sizeof(buf), fmt, args);
    std::string_view msg(buf);
    while (!msg.empty() && msg.back() == '\n')
        msg.remove_suffix(1);
    spdlog::debug("libbpf: {}", msg);
    return 0;
}

int libxdpPrint(libxdp_print_level, const char* fmt, va_list args)
{
    char buf[1024];
    std::vsnprintf(buf, sizeof(buf), fmt, args);
    std::string_view msg(buf);
    while (!msg.empty() && msg.back() == '\n')
        msg.remove_suffix(1);
    spdlog::debug("libxdp: {}", msg);
    return 0;
}

// Whether --json was asked for, looked up before parsing so that a parse error is reported
// in the right form too.
bool jsonRequested(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--")
            break;
        if (a == "-j" || a == "--json" || a == "-p" || a == "--pretty")
            return true;
    }
    return false;
}

// The end of an error message once the change was saved: the error is not about the change.
std::string afterCommit(const Context& ctx)
{
    return ctx.committed() ? " (after the change was made: it stands)" : "";
}

// "pbxwallctl zone add": the deepest subcommand the parser got to, for the usage hint.
std::string commandPath(const CLI::App& app)
{
    std::string path = app.get_name();
    const CLI::App* cur = &app;
    for (;;) {
        auto subs = cur->get_subcommands();
        if (subs.empty())
            return path;
        cur = subs.front();
        path += " " + cur->get_name();
    }
}

// A missing or unknown command ("pbxwallctl", "pbxwallctl frob", "zone frob"), found by
// walking argv as the parser does; empty when the error lies elsewhere.
std::string commandProblem(CLI::App& app, int argc, char** argv)
{
    CLI::App* cur = &app;
    std::string path;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--")
            break;
        if (a.starts_with("-")) {
            if (a == "--pin-dir" || a == "--state-dir" || a == "--config")
                ++i; // skips the option's value
            continue;
        }
        CLI::App* next = nullptr;
        for (auto* sub : cur->get_subcommands(nullptr))
            if (sub->check_name(std::string(a)))
                next = sub;
        if (next) {
            cur = next;
            path += (path.empty() ? "" : " ") + std::string(a);
            continue;
        }
        if (cur->get_require_subcommand_min() > 0)
            return "unknown command \"" + (path.empty() ? "" : path + " ") + std::string(a) + "\"";
        return "";
    }
    if (cur->get_require_subcommand_min() == 0)
        return "";
    std::string names;
    for (auto* sub : cur->get_subcommands(nullptr))
        names += (names.empty() ? "" : ", ") + sub->get_name();
    return "missing command" + (path.empty() ? "" : " after \"" + path + "\"") + ": one of " + names;
}

int run(int argc, char** argv)
{
    std::ios::sync_with_stdio(false);
    auto logger = spdlog::stderr_color_mt("pbxwallctl");
    logger->set_pattern("pbxwallctl: %l: %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::warn);
    libbpf_set_print(libbpfPrint);
    libxdp_set_print(libxdpPrint);

    Context ctx;
    CLI::App app{"pbxwallctl: control the pbxwall XDP firewall through its pinned maps.\n"
                 "Works while pbxwalld is down; every change is kept under state_dir and survives reboots.",
                 "pbxwallctl"};
    app.fallthrough(); // global options are accepted after the subcommand too (inherited below)
    app.require_subcommand(1);
    app.set_version_flag("--version", PBXWALL_VERSION);
    app.add_flag("-j,--json", ctx.opt.json, "Print exactly one JSON document on stdout (errors too)");
    app.add_flag("-p,--pretty", ctx.opt.pretty, "Indented JSON (implies --json)");
    app.add_flag("-v,--verbose", ctx.opt.verbose, "Debug messages on stderr");
    app.add_option("--pin-dir", ctx.opt.pinDir, "Where pbxwalld pins the maps (default: config pin_dir, else " PW_PIN_DIR ")")
        ->type_name("DIR");
    app.add_option("--state-dir", ctx.opt.stateDir,
                   "Where pbxwallctl changes are kept (default: config state_dir, else " PW_STATE_DIR ")")
        ->type_name("DIR");
    app.add_option("--config", ctx.opt.configPath,
                   std::string("Config file to take pin_dir and state_dir from (default ") + kDefaultConfig + ")")
        ->type_name("FILE");

    addStatusCommand(app, ctx);
    addZoneCommands(app, ctx);
    addListCommands(app, ctx);
    addIfaceCommands(app, ctx);
    addBanCommands(app, ctx);
    addKnownCommands(app, ctx);
    addStatsCommand(app, ctx);

    const bool jsonEarly = jsonRequested(argc, argv);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        if (auto problem = commandProblem(app, argc, argv); !problem.empty())
            what = problem;
        printError(jsonEarly, "usage: " + what + " (see " + commandPath(app) + " --help)");
        return kExitUsage;
    }
    if (ctx.opt.verbose)
        spdlog::set_level(spdlog::level::debug);

    try {
        if (!ctx.action)
            usageError("usage: no command given (see pbxwallctl --help)");
        ctx.action(ctx);
        std::cout.flush();
        if (!std::cout) {
            std::cerr << "pbxwallctl: error: write stdout: " << std::strerror(errno) << afterCommit(ctx) << '\n';
            return ctx.committed() ? kExitAfterCommit : kExitFailure;
        }
        return kExitOk;
    } catch (const CtlError& e) {
        printError(ctx.json(), e.what() + afterCommit(ctx));
        return ctx.committed() ? kExitAfterCommit : e.exitCode();
    } catch (const std::system_error& e) {
        const int err = e.code().value();
        if (e.code().category() == std::generic_category() && (err == EACCES || err == EPERM)) {
            printError(ctx.json(), "permission denied: pbxwall's maps and state are root-only (run as root)" + afterCommit(ctx));
        } else {
            printError(ctx.json(), e.what() + afterCommit(ctx));
        }
        return ctx.committed() ? kExitAfterCommit : kExitFailure;
    } catch (const std::exception& e) {
        printError(ctx.json(), e.what() + afterCommit(ctx));
        return ctx.committed() ? kExitAfterCommit : kExitFailure;
    }
}

} // namespace

} // namespace pbxwall::ctl

int main(int argc, char** argv) { return pbxwall::ctl::run(argc, argv); }
