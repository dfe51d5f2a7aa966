// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Reading and atomically writing the pbxwallctl state files.
#include "state.hpp"

#include "names.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <charconv>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace pbxwall {

namespace {

// The whitespace-separated fields of a line; fields past `max` are ignored, missing ones empty.
struct Fields {
    std::array<std::string_view, 4> f;
    size_t n = 0;
};

Fields split(std::string_view line)
{
    Fields out;
    size_t pos = 0;
    while (out.n < out.f.size()) {
        pos = line.find_first_not_of(" \t\r\v\f", pos);
        if (pos == std::string_view::npos)
            break;
        const size_t end = std::min(line.find_first_of(" \t\r\v\f", pos), line.size());
        out.f[out.n++] = line.substr(pos, end - pos);
        pos = end;
    }
    return out;
}

// The whole file; false when it does not exist.
bool readFile(const std::string& path, std::string& text)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return false;
        throw std::system_error(errno, std::generic_category(), "open " + path);
    }
    struct stat st{};
    if (::fstat(fd, &st) == 0 && st.st_size > 0)
        text.reserve(static_cast<size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const int err = errno;
            ::close(fd);
            throw std::system_error(err, std::generic_category(), "read " + path);
        }
        if (n == 0)
            break;
        text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return true;
}

// Calls fn with the fields of each line that is neither empty nor a comment. A state file of a
// million zone entries is read at every pbxwallctl change and every pbxwalld start or reload:
// one read and no stream per line. A line fn refuses throws "FILE:LINE: reason", or with
// `skipped`, goes there and the rest is read.
void forEachLine(const std::string& path, const std::function<void(const Fields&)>& fn,
                 std::vector<std::string>* skipped = nullptr)
{
    std::string text;
    if (!readFile(path, text))
        return;
    size_t pos = 0;
    int n = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        const std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        ++n;
        if (line.empty() || line[0] == '#')
            continue;
        try {
            fn(split(line));
        } catch (const std::exception& e) {
            std::string where = path + ":" + std::to_string(n) + ": " + e.what();
            if (!skipped)
                throw std::runtime_error(where);
            skipped->push_back(std::move(where));
        }
    }
}

pw_zone zoneField(std::string_view name)
{
    auto z = zoneFromName(name);
    if (!z)
        throw std::invalid_argument("unknown zone \"" + std::string(name) + "\"");
    return *z;
}

// A decimal integer, the whole field (an optional leading '-').
template <typename T>
bool number(std::string_view text, T& out)
{
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

// Writes text to DIR/NAME.tmp and syncs it; returns that path. The caller renames it over
// DIR/NAME (or removes it when another file of the same save failed).
std::string writeTemp(const std::string& dir, const std::string& name, const std::string& text)
{
    const std::string tmp = dir + "/" + name + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::system_error(errno, std::generic_category(), "create " + tmp);
    size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0) {
            int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::system_error(err, std::generic_category(), "write " + tmp);
        }
        off += static_cast<size_t>(n);
    }
    if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw std::system_error(err, std::generic_category(), "sync " + tmp);
    }
    ::close(fd);
    return tmp;
}

// After the renames the save has taken effect: a directory that cannot be synced (a filesystem
// without it, an I/O error) is reported, not taken for a failed save (whose caller would undo
// its map change while the files keep it).
void syncDir(const std::string& dir)
{
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (::fsync(fd) != 0 && errno != EINVAL))
        spdlog::warn("could not sync {} ({}): a power cut now may lose this save", dir, std::strerror(errno));
    if (fd >= 0)
        ::close(fd);
}

// Replaces the files of one save: every new file is written and synced before the first is
// renamed into place, so a full disk or an I/O error leaves all of them as they were. The old
// files are linked aside first: a rename that fails after others took effect puts those back.
// The directory is synced last, so that a save that returned survives a power cut.
void writeAtomically(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files)
{
    std::vector<std::string> temps;
    try {
        for (const auto& [name, text] : files)
            temps.push_back(writeTemp(dir, name, text));
    } catch (...) {
        for (const auto& t : temps)
            ::unlink(t.c_str());
        throw;
    }
    std::vector<std::string> finals, olds;
    std::vector<bool> hadOld;
    for (const auto& f : files) {
        finals.push_back(dir + "/" + f.first);
        olds.push_back(dir + "/" + f.first + ".old");
        ::unlink(olds.back().c_str());
        const bool linked = ::link(finals.back().c_str(), olds.back().c_str()) == 0;
        if (!linked && errno != ENOENT) { // an old file that cannot be kept aside: change nothing
            const int err = errno;
            for (const auto& t : temps)
                ::unlink(t.c_str());
            for (const auto& o : olds)
                ::unlink(o.c_str());
            throw std::system_error(err, std::generic_category(), "keep " + finals.back() + " aside");
        }
        hadOld.push_back(linked);
    }
    for (size_t i = 0; i < files.size(); ++i) {
        if (::rename(temps[i].c_str(), finals[i].c_str()) == 0)
            continue;
        const int err = errno;
        for (size_t j = 0; j < i; ++j) // back to the old files; a file that was not there goes
            hadOld[j] ? (void)::rename(olds[j].c_str(), finals[j].c_str()) : (void)::unlink(finals[j].c_str());
        for (size_t j = i; j < files.size(); ++j)
            ::unlink(temps[j].c_str());
        for (size_t j = 0; j < files.size(); ++j)
            ::unlink(olds[j].c_str());
        throw std::system_error(err, std::generic_category(), "rename " + temps[i]);
    }
    for (const auto& o : olds)
        ::unlink(o.c_str());
    syncDir(dir);
}

std::string bansText(const std::vector<CtlBan>& bans)
{
    std::string text = "# pbxwall bans: ADDR|IPV6-PREFIX EXPIRES(unix seconds)|never CREATED(unix seconds) CAUSE\n";
    for (const auto& b : bans)
        text += b.str() + " " + (b.expiresUnix ? std::to_string(b.expiresUnix) : "never") + " " +
                std::to_string(b.createdUnix) + " " + std::to_string(b.cause) + "\n";
    return text;
}

int64_t clockSeconds(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return ts.tv_sec;
}

} // namespace

CtlState CtlState::load(const std::string& dir)
{
    CtlState s;
    forEachLine(dir + "/zones", [&](const Fields& in) { s.zones.push_back({parseCidr(in.f[0]), zoneField(in.f[1])}); });
    forEachLine(dir + "/ifaces",
                [&](const Fields& in) { s.ifaces.push_back({std::string(in.f[0]), zoneField(in.f[1])}); });
    s.bans = loadBans(dir);
    return s;
}

std::vector<CtlBan> CtlState::loadBans(const std::string& dir)
{
    std::vector<CtlBan> bans;
    forEachLine(dir + "/bans", [&](const Fields& in) {
        CtlBan b;
        const bool never = in.f[1] == "never";
        if (in.n < 4 || (!never && !number(in.f[1], b.expiresUnix)) || !number(in.f[2], b.createdUnix) ||
            !number(in.f[3], b.cause))
            throw std::invalid_argument("expected \"ADDR|IPV6-PREFIX EXPIRES|never CREATED CAUSE\"");
        const Cidr c = parseCidr(in.f[0]);
        if (!c.isHost() && (c.isV4() || c.len < kBanPrefixMin))
            throw std::invalid_argument("a ban names an address or an IPv6 prefix of /" +
                                        std::to_string(kBanPrefixMin) + " to /127, not " + std::string(in.f[0]));
        b.addr = c.addr;
        b.prefix = c.isHost() ? 0 : c.len;
        if (never)
            b.expiresUnix = 0;
        bans.push_back(b);
    });
    return bans;
}

std::vector<CtlKnown> CtlState::loadKnown(const std::string& dir, std::vector<std::string>* skipped)
{
    std::vector<CtlKnown> known;
    forEachLine(
        dir + "/known",
        [&](const Fields& in) {
            CtlKnown k;
            if (in.n < 3 || !number(in.f[1], k.expiresUnix) || !number(in.f[2], k.createdUnix))
                throw std::invalid_argument("expected \"ADDR EXPIRES CREATED\"");
            k.addr = parseAddr(in.f[0]);
            known.push_back(k);
        },
        skipped);
    return known;
}

void CtlState::saveKnown(const std::string& dir, const std::vector<CtlKnown>& known)
{
    prepareStateDir(dir);
    std::string text = "# pbxwall known sources: ADDR EXPIRES(unix seconds) CREATED(unix seconds)\n";
    for (const auto& k : known)
        text += k.addr.str() + " " + std::to_string(k.expiresUnix) + " " + std::to_string(k.createdUnix) + "\n";
    writeAtomically(dir, {{"known", std::move(text)}});
}

void prepareStateDir(const std::string& dir)
{
    if (::mkdir(dir.c_str(), 0700) == 0)
        return;
    if (errno != EEXIST)
        throw std::system_error(errno, std::generic_category(), "create " + dir);
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0)
        throw std::system_error(errno, std::generic_category(), "inspect " + dir);
    if (!S_ISDIR(st.st_mode))
        throw std::runtime_error("state_dir " + dir + " is not a directory");
    // Whoever may write there may write the policy (a zone entry that trusts them): the
    // directory must be its owner's alone. Its mode is not changed: it may be shared (/tmp).
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    if (st.st_uid != ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
        throw std::runtime_error("state_dir " + dir + " (mode " + mode + ", owner uid " + std::to_string(st.st_uid) +
                                 ") may be written by others: pbxwall keeps its policy there, so it must be a "
                                 "directory of its own (the default is /var/lib/pbxwall)");
}

void CtlState::save(const std::string& dir) const
{
    prepareStateDir(dir);

    std::string zonesText = "# pbxwallctl zone entries: CIDR ZONE\n";
    zonesText.reserve(zonesText.size() + zones.size() * 28);
    for (const auto& z : zones) {
        zonesText += z.cidr.str();
        zonesText += ' ';
        zonesText += zoneName(z.zone);
        zonesText += '\n';
    }
    std::string ifacesText = "# pbxwallctl interface zones: IFNAME ZONE\n";
    for (const auto& i : ifaces)
        ifacesText += i.name + " " + std::string(zoneName(i.zone)) + "\n";
    writeAtomically(dir, {{"zones", std::move(zonesText)}, {"ifaces", std::move(ifacesText)}, {"bans", bansText(bans)}});
}

void CtlState::saveBans(const std::string& dir, const std::vector<CtlBan>& bans)
{
    prepareStateDir(dir);
    writeAtomically(dir, {{"bans", bansText(bans)}});
}

uint64_t monotonicNowNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

int64_t unixNow() { return clockSeconds(CLOCK_REALTIME); }

uint64_t unixToMonotonicNs(int64_t unixSeconds)
{
    if (unixSeconds == 0)
        return 0;
    // At most 200 years ahead (ban add takes 100): an expiry written by hand far beyond that
    // must not wrap the nanoseconds around into one that ends at once.
    constexpr int64_t kMaxAhead = 200LL * 365 * 86400;
    int64_t left = unixSeconds - unixNow();
    if (left <= 0)
        return 1;
    return monotonicNowNs() + static_cast<uint64_t>(std::min(left, kMaxAhead)) * 1000000000ULL;
}

uint64_t pastUnixToMonotonicNs(int64_t unixSeconds)
{
    const int64_t ago = std::max<int64_t>(unixNow() - unixSeconds, 0);
    const uint64_t now = monotonicNowNs(), back = static_cast<uint64_t>(ago) * 1000000000ULL;
    return back < now ? now - back : 1;
}

int64_t monotonicNsToUnix(uint64_t ns)
{
    if (ns == 0)
        return 0;
    int64_t delta = (static_cast<int64_t>(ns) - static_cast<int64_t>(monotonicNowNs())) / 1000000000LL;
    return unixNow() + delta;
}

} // namespace pbxwall
