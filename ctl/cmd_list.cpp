// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// pbxwallctl blacklist|whitelist add|del|list: the reject and trusted zones as lists, with
// bulk import from a file (published blocklists: a million lines is normal).
#include "commands.hpp"

#include "names.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

namespace pbxwall::ctl {

namespace {

std::string_view trim(std::string_view s)
{
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos)
        return {};
    const auto last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}

// One CIDR per line; '#' and ';' start comments (Spamhaus DROP uses ';'); blank lines are
// skipped. Every line is parsed before anything changes: a bad one is "FILE:LINE: reason".
std::vector<Cidr> readCidrFile(const std::string& command, const std::string& path)
{
    std::string text;
    const std::string name = path == "-" ? "<stdin>" : path;
    // read(2) itself, standard input too: an error partway (a directory's EISDIR, an I/O error)
    // must refuse the command, not leave it the part before (a stream would only set a flag on
    // the copy).
    const int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        usageError(command + ": cannot read " + name + ": " + std::strerror(errno));
    char chunk[65536];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int err = errno;
            if (fd != STDIN_FILENO)
                ::close(fd);
            usageError(command + ": cannot read " + name + ": " + std::strerror(err) + " (nothing was changed)");
        }
        if (n == 0)
            break;
        text.append(chunk, static_cast<size_t>(n));
    }
    if (fd != STDIN_FILENO)
        ::close(fd);
    std::vector<Cidr> out;
    size_t lineNo = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        ++lineNo;
        line = trim(line.substr(0, line.find_first_of("#;")));
        if (line.empty())
            continue;
        // The longest CIDR, an IPv6 address with its prefix length, is 43 characters: a longer
        // line (an HTML page saved as a list) is named by its length, not echoed.
        if (line.size() > 64)
            usageError(name + ":" + std::to_string(lineNo) + ": expected one CIDR per line, got a line of " +
                       std::to_string(line.size()) + " characters");
        if (line.find_first_of(" \t") != std::string_view::npos)
            usageError(name + ":" + std::to_string(lineNo) + ": expected one CIDR per line, got " + inQuotes(line));
        try {
            out.push_back(parseCidr(line));
        } catch (const std::invalid_argument& e) {
            usageError(name + ":" + std::to_string(lineNo) + ": " + e.what());
        }
    }
    // An empty list (a download that failed, a file of comments) would rebuild the tables for
    // nothing, and a script would take the exit code for success.
    if (out.empty())
        usageError(command + ": " + name + " holds no CIDR (nothing was changed)");
    return out;
}

struct ListOpts {
    std::vector<std::string> cidrs;
    std::string file;
    bool force = false;
};

// The CIDRs of the command line or of --file, exactly one of the two.
std::vector<Cidr> collect(const std::string& command, const ListOpts& o)
{
    if (o.cidrs.empty() == o.file.empty())
        usageError(command + ": give CIDRs or --file FILE (not both)");
    if (!o.file.empty())
        return readCidrFile(command, o.file);
    std::vector<Cidr> out;
    out.reserve(o.cidrs.size());
    for (const auto& t : o.cidrs)
        out.push_back(parseCidrArg(command, t));
    return out;
}

void addList(CLI::App& app, Context& ctx, const std::string& name, pw_zone zone, const std::string& what)
{
    auto* cmd = app.add_subcommand(name, "The " + what + " (zone " + std::string(zoneName(zone)) + ")");
    cmd->require_subcommand(1);
    auto o = std::make_shared<ListOpts>();

    auto* add = cmd->add_subcommand("add", "Put CIDRs in zone " + std::string(zoneName(zone)));
    add->add_option("cidrs", o->cidrs, "Addresses or networks")->type_name("CIDR");
    add->add_option("-f,--file", o->file, "Read CIDRs from FILE (one per line, '#' comments; - is stdin)")
        ->type_name("FILE");
    add->add_flag("--force", o->force, "Take a network wider than an IPv4 /8 or an IPv6 /16");
    add->callback([&ctx, o, name, zone] {
        ctx.action = [o, name, zone](Context& c) {
            const std::string command = name + " add";
            addZoneEntries(c, command, collect(command, *o), zone, o->force);
        };
    });

    auto* del = cmd->add_subcommand("del", "Remove CIDRs added with " + name + " add");
    del->add_option("cidrs", o->cidrs, "Addresses or networks")->type_name("CIDR");
    del->add_option("-f,--file", o->file, "Read CIDRs from FILE (as for add)")
        ->type_name("FILE");
    del->callback([&ctx, o, name, zone] {
        ctx.action = [o, name, zone](Context& c) {
            const std::string command = name + " del";
            deleteZoneEntries(c, command, collect(command, *o), zone, name);
        };
    });

    auto* list = cmd->add_subcommand("list", "List the entries in zone " + std::string(zoneName(zone)));
    list->callback([&ctx, zone] { ctx.action = [zone](Context& c) { listZoneEntries(c, zone); }; });
}

} // namespace

void addListCommands(CLI::App& app, Context& ctx)
{
    addList(app, ctx, "blacklist", PW_ZONE_REJECT, "blacklist: sources whose every packet is dropped");
    addList(app, ctx, "whitelist", PW_ZONE_TRUSTED, "whitelist: sources that are never filtered nor banned");
}

} // namespace pbxwall::ctl
