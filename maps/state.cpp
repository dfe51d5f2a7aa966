// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Reading and atomically writing the pbxwallctl state files.
#include "state.hpp"

#include "names.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace pbxwall {

namespace {

void forEachLine(const std::string& path, const std::function<void(std::istringstream&, int)>& fn)
{
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT)
            return;
        throw std::system_error(errno, std::generic_category(), "open " + path);
    }
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.empty() || line[0] == '#')
            continue;
        std::istringstream fields(line);
        try {
            fn(fields, n);
        } catch (const std::exception& e) {
            throw std::runtime_error(path + ":" + std::to_string(n) + ": " + e.what());
        }
    }
}

pw_zone zoneField(std::istringstream& in)
{
    std::string name;
    in >> name;
    auto z = zoneFromName(name);
    if (!z)
        throw std::invalid_argument("unknown zone \"" + name + "\"");
    return *z;
}

void writeAtomically(const std::string& dir, const std::string& name, const std::string& text)
{
    const std::string path = dir + "/" + name;
    const std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::system_error(errno, std::generic_category(), "create " + tmp);
    size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0) {
            int err = errno;
            ::close(fd);
            throw std::system_error(err, std::generic_category(), "write " + tmp);
        }
        off += static_cast<size_t>(n);
    }
    if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
        int err = errno;
        ::close(fd);
        throw std::system_error(err, std::generic_category(), "sync " + tmp);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        throw std::system_error(errno, std::generic_category(), "rename " + tmp);
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
    forEachLine(dir + "/zones", [&](std::istringstream& in, int) {
        std::string cidr;
        in >> cidr;
        s.zones.push_back({parseCidr(cidr), zoneField(in)});
    });
    forEachLine(dir + "/ifaces", [&](std::istringstream& in, int) {
        std::string name;
        in >> name;
        s.ifaces.push_back({name, zoneField(in)});
    });
    s.bans = loadBans(dir);
    return s;
}

std::vector<CtlBan> CtlState::loadBans(const std::string& dir)
{
    std::vector<CtlBan> bans;
    forEachLine(dir + "/bans", [&](std::istringstream& in, int) {
        std::string addr, expires;
        CtlBan b;
        in >> addr >> expires >> b.createdUnix >> b.cause;
        if (in.fail())
            throw std::invalid_argument("expected \"ADDR EXPIRES|never CREATED CAUSE\"");
        b.addr = parseAddr(addr);
        b.expiresUnix = expires == "never" ? 0 : std::stoll(expires);
        bans.push_back(b);
    });
    return bans;
}

void CtlState::save(const std::string& dir) const
{
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw std::system_error(errno, std::generic_category(), "create " + dir);
    if (::chmod(dir.c_str(), 0700) != 0)
        throw std::system_error(errno, std::generic_category(), "chmod " + dir);

    std::string text = "# pbxwallctl zone entries: CIDR ZONE\n";
    for (const auto& z : zones)
        text += z.cidr.str() + " " + std::string(zoneName(z.zone)) + "\n";
    writeAtomically(dir, "zones", text);

    text = "# pbxwallctl interface zones: IFNAME ZONE\n";
    for (const auto& i : ifaces)
        text += i.name + " " + std::string(zoneName(i.zone)) + "\n";
    writeAtomically(dir, "ifaces", text);

    saveBans(dir, bans);
}

void CtlState::saveBans(const std::string& dir, const std::vector<CtlBan>& bans)
{
    std::string text = "# pbxwall bans: ADDR EXPIRES(unix seconds)|never CREATED(unix seconds) CAUSE\n";
    for (const auto& b : bans)
        text += b.addr.str() + " " + (b.expiresUnix ? std::to_string(b.expiresUnix) : "never") + " " +
                std::to_string(b.createdUnix) + " " + std::to_string(b.cause) + "\n";
    writeAtomically(dir, "bans", text);
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
    int64_t left = unixSeconds - unixNow();
    if (left <= 0)
        return 1;
    return monotonicNowNs() + static_cast<uint64_t>(left) * 1000000000ULL;
}

int64_t monotonicNsToUnix(uint64_t ns)
{
    if (ns == 0)
        return 0;
    int64_t delta = (static_cast<int64_t>(ns) - static_cast<int64_t>(monotonicNowNs())) / 1000000000LL;
    return unixNow() + delta;
}

} // namespace pbxwall
