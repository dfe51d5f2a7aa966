// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Runs the built pbxwallctl on argument errors that need no root and no maps: exit codes
// (2 usage, 1 run time), the one-line stderr message, and the JSON error document.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Result {
    int status = -1; // exit code
    std::string out;
    std::string err;
};

// pbxwallctl with args, stdin from stdinPath (/dev/null by default); stdout and stderr
// captured separately.
Result runCtl(const std::vector<std::string>& args, const char* stdinPath = "/dev/null")
{
    int outPipe[2], errPipe[2];
    REQUIRE(pipe2(outPipe, O_CLOEXEC) == 0);
    REQUIRE(pipe2(errPipe, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdinPath, O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, outPipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errPipe[1], 2);

    std::vector<std::string> argvStore{PBXWALLCTL_PATH};
    argvStore.insert(argvStore.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argvStore)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_t pid = -1;
    const int rc = posix_spawn(&pid, PBXWALLCTL_PATH, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(outPipe[1]);
    close(errPipe[1]);
    REQUIRE(rc == 0);

    Result r;
    pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&r.out, &r.err};
    int open = 2;
    while (open > 0) {
        REQUIRE(poll(fds, 2, 10000) > 0);
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            char buf[4096];
            const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    r.status = WEXITSTATUS(status);
    return r;
}

// Dirs that do not exist, so that nothing real is read or written even when run as root.
const std::vector<std::string> kDirs = {"--pin-dir", "/nonexistent/pbxwall-test-pins", "--state-dir",
                                        "/nonexistent/pbxwall-test-state"};

// A file under /tmp holding text (mkstemp's name), removed when the test is done with it.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& text)
    {
        char name[] = "/tmp/pbxwallctl-test-XXXXXX"; // mkstemp's template
        const int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
        close(fd);
        path = name;
    }
    ~TempFile() { std::remove(path.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
};

Result ctl(std::vector<std::string> args, const char* stdinPath = "/dev/null")
{
    args.insert(args.begin(), kDirs.begin(), kDirs.end());
    return runCtl(args, stdinPath);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A usage error: exit 2, nothing on stdout, exactly one "pbxwallctl: error: " line on stderr.
void checkUsage(const Result& r, const std::string& part)
{
    INFO("stderr: " << r.err);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("pbxwallctl: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(contains(r.err, part));
}

} // namespace

TEST_CASE("pbxwallctl: unknown and missing commands are usage errors", "[ctl]")
{
    checkUsage(ctl({"frobnicate"}), "unknown command \"frobnicate\"");
    checkUsage(ctl({"zone", "frobnicate"}), "unknown command \"zone frobnicate\"");
    checkUsage(ctl({}), "missing command");
    checkUsage(ctl({"zone"}), "missing command after \"zone\"");
    checkUsage(ctl({"ban"}), "one of list, add, del");
    checkUsage(ctl({"known"}), "missing command after \"known\": one of list, add, del");
    checkUsage(ctl({"known", "frobnicate"}), "unknown command \"known frobnicate\"");
    checkUsage(ctl({"zone", "list", "extra"}), "extra");
    checkUsage(ctl({"status", "--no-such-option"}), "--no-such-option");
}

TEST_CASE("pbxwallctl: missing arguments are usage errors", "[ctl]")
{
    checkUsage(ctl({"zone", "add"}), "cidr is required");
    checkUsage(ctl({"zone", "add", "10.0.0.0/8"}), "zone is required");
    checkUsage(ctl({"zone", "del"}), "required");
    checkUsage(ctl({"ban", "add"}), "addr is required");
    checkUsage(ctl({"ban", "add", "192.0.2.1", "--ttl"}), "ttl");
    checkUsage(ctl({"known", "add"}), "addr is required");
    checkUsage(ctl({"known", "del"}), "addr is required");
    checkUsage(ctl({"known", "add", "192.0.2.1", "--ttl"}), "ttl");
    checkUsage(ctl({"known", "list", "192.0.2.1"}), "192.0.2.1");
    checkUsage(ctl({"iface", "set", "eth0"}), "zone is required");
    checkUsage(ctl({"blacklist", "add"}), "give CIDRs or --file FILE");
    checkUsage(ctl({"whitelist", "del"}), "give CIDRs or --file FILE");
    checkUsage(ctl({"blacklist", "add", "192.0.2.1", "--file", "/dev/null"}), "not both");
}

TEST_CASE("pbxwallctl: malformed CIDRs and addresses are usage errors", "[ctl]")
{
    checkUsage(ctl({"zone", "add", "10.0.0.1/33", "reject"}), "prefix length 33 out of range 0..32");
    checkUsage(ctl({"zone", "add", "10.0.0.1/8", "reject"}), "host bits set");
    checkUsage(ctl({"zone", "add", "not-an-address", "reject"}), "invalid address");
    checkUsage(ctl({"zone", "add", "2001:db8::/129", "local"}), "out of range 0..128");
    checkUsage(ctl({"zone", "del", "10.0.0.0/8", "10.0.0.0/x"}), "invalid prefix length");
    checkUsage(ctl({"blacklist", "add", "192.0.2.1", "192.0.2.300"}), "192.0.2.300");
    checkUsage(ctl({"whitelist", "del", "::ffff:192.0.2.1"}), "IPv4-mapped");
    checkUsage(ctl({"ban", "add", "192.0.2"}), "invalid address");
    checkUsage(ctl({"ban", "add", "192.0.2.0/24"}), "192.0.2.0/24 is a prefix: bans name an address or an IPv6 prefix");
    checkUsage(ctl({"ban", "del", "2001:db8::/129"}), "out of range 0..128");
    checkUsage(ctl({"ban", "del", "nothing"}), "invalid address");
    checkUsage(ctl({"known", "add", "192.0.2"}), "known add: invalid address");
    checkUsage(ctl({"known", "add", "198.51.100.0/24"}), "invalid address");
    checkUsage(ctl({"known", "add", "::ffff:192.0.2.1"}), "IPv4-mapped");
    checkUsage(ctl({"known", "del", "2001:db8::zz"}), "known del: invalid address");
}

TEST_CASE("pbxwallctl: unknown zone names are usage errors", "[ctl]")
{
    checkUsage(ctl({"zone", "add", "10.0.0.0/8", "dmz"}), "unknown zone \"dmz\"");
    checkUsage(ctl({"zone", "add", "10.0.0.0/8", "none"}), "unknown zone \"none\"");
    checkUsage(ctl({"zone", "add", "10.0.0.0/8", "Trusted"}), "trusted, local, other, internet, reject");
    checkUsage(ctl({"zone", "list", "--zone", "dmz"}), "unknown zone");
    checkUsage(ctl({"zone", "list", "--zone", ""}), "unknown zone \"\"");
    checkUsage(ctl({"iface", "set", "lo", "dmz"}), "unknown zone");
}

TEST_CASE("pbxwallctl: entries that do not name what they seem to get a note", "[ctl]")
{
    // The notes come with the input's checks, before the maps (missing here: exit 1). A short
    // IPv6 prefix covers IPv6 only; an entry in martian space matches no packet.
    const Result r = ctl({"whitelist", "add", "--force", "::/0", "2001:db8::/32", "127.0.0.1", "ff02::/16"});
    CHECK(r.status == 1);
    CHECK(contains(r.err, "pbxwallctl: note: whitelist add: ::/0 covers IPv6 addresses only; IPv4 needs its own entry "
                          "(0.0.0.0/0 for all of it)\n"));
    CHECK_FALSE(contains(r.err, "2001:db8::/32 covers"));
    CHECK(contains(r.err, "pbxwallctl: note: whitelist add: 127.0.0.1 lies in loopback space: the data plane drops "
                          "such sources (reason martian) before it looks up a zone, so no packet matches this entry\n"));
    CHECK(contains(r.err, "pbxwallctl: note: whitelist add: ff02::/16 lies in multicast space"));
    CHECK_FALSE(contains(r.err, "2001:db8::/32 lies"));
    // A bogon list: three named, the rest counted.
    TempFile bogons("0.0.0.1\n127.0.0.0/8\n224.0.0.0/4\n255.255.255.255\nff00::/8\n198.18.0.0/15\n");
    const Result b = ctl({"blacklist", "add", "--file", bogons.path});
    CHECK(b.status == 1);
    CHECK(std::count(b.err.begin(), b.err.end(), '\n') == 5); // 3 + the count + the missing maps
    CHECK(contains(b.err, "pbxwallctl: note: blacklist add: 2 more entries lie in martian space\n"));
}

TEST_CASE("pbxwallctl: a network wider than a /8 or /16 needs --force outside zone internet", "[ctl]")
{
    // Refused with the input's checks, before the maps (missing here: exit 1 once past them).
    checkUsage(ctl({"whitelist", "add", "0.0.0.0/0"}),
               "whitelist add: 0.0.0.0/0 is wider than an IPv4 /8: every source in it that no longer entry names "
               "gets zone trusted (never filtered nor banned); add --force if that is meant (nothing was changed)");
    checkUsage(ctl({"blacklist", "add", "198.18.0.0/15", "2000::/3"}), "2000::/3 is wider than an IPv6 /16");
    checkUsage(ctl({"zone", "add", "0.0.0.0/1", "local"}), "gets zone local");
    TempFile list("0.0.0.0/0\n");
    checkUsage(ctl({"blacklist", "add", "--file", list.path}), "(every packet dropped); add --force");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"whitelist", "add", "--force", "0.0.0.0/0"},
          std::vector<std::string>{"blacklist", "add", "--file", list.path, "--force"},
          std::vector<std::string>{"zone", "add", "--force", "::/0", "other"},
          std::vector<std::string>{"zone", "add", "0.0.0.0/0", "internet"},
          std::vector<std::string>{"blacklist", "add", "10.0.0.0/8"}}) {
        const Result r = ctl(args);
        INFO(args[0] << " " << args[1] << " " << args[2] << ": " << r.err);
        CHECK(r.status == 1);
        CHECK_FALSE(contains(r.err, "wider than"));
    }
}

TEST_CASE("pbxwallctl: bad --ttl values are usage errors", "[ctl]")
{
    for (const std::string ttl : {"abc", "-5", "1.5", "10s", "", "99999999999", "+3"}) {
        INFO("--ttl " << ttl);
        checkUsage(ctl({"ban", "add", "192.0.2.1", "--ttl=" + ttl}), "--ttl");
    }
    // known add: 1..604800 seconds, and no "never" (a known source is not a trusted one).
    for (const std::string ttl : {"abc", "-5", "1.5", "10s", "", "0", "604801", "99999999999", "+3", "never"}) {
        INFO("known --ttl " << ttl);
        checkUsage(ctl({"known", "add", "192.0.2.1", "--ttl=" + ttl}), ttl.empty() ? "--ttl" : "known add: invalid --ttl");
    }
    checkUsage(ctl({"known", "add", "2001:db8::1", "--ttl", "0"}), "1..604800");
    // The address is checked before --ttl, as for ban add; both before the maps are opened.
    checkUsage(ctl({"known", "add", "bad", "--ttl", "0"}), "invalid address");
}

TEST_CASE("pbxwallctl: a bad blocklist line is reported as FILE:LINE before anything opens", "[ctl]")
{
    std::string gone;
    {
        const TempFile list("# a blocklist\n192.0.2.0/24 ; SBL1\n\n198.51.100.7   # note\n198.51.100.0/33\n");
        checkUsage(ctl({"blacklist", "add", "--file", list.path}), list.path + ":5: prefix length 33");
        const TempFile two("192.0.2.1 192.0.2.2\n");
        checkUsage(ctl({"blacklist", "del", "-f", two.path}), two.path + ":1: expected one CIDR per line");
        // The line is quoted as addresses are: bytes outside printable ASCII escaped.
        const TempFile odd("192.0.2.0/24 \x1b[2Jx\n");
        checkUsage(ctl({"blacklist", "add", "-f", odd.path}), ":1: expected one CIDR per line, got \"192.0.2.0/24 \\x1b[2Jx\"");
        // A file of comments only (a download that failed): refused, not an empty change.
        const TempFile empty("# nothing here\n\n");
        checkUsage(ctl({"blacklist", "add", "--file", empty.path}), "blacklist add: " + empty.path + " holds no CIDR (nothing was changed)");
        checkUsage(ctl({"blacklist", "del", "--file", "-"}), "blacklist del: <stdin> holds no CIDR");
        gone = two.path;
    }
    checkUsage(ctl({"blacklist", "add", "--file", gone}), "cannot read");
    // A directory reads as nothing: refused, not an empty list that changes nothing and says so.
    checkUsage(ctl({"blacklist", "add", "--file", "/tmp"}), "cannot read /tmp: Is a directory (nothing was changed)");
    // Standard input the same way ("-"): read(2) too, so that an error there refuses as well.
    checkUsage(ctl({"blacklist", "add", "--file", "-"}, "/tmp"),
               "cannot read <stdin>: Is a directory (nothing was changed)");
    {
        const TempFile bad("192.0.2.1\n192.0.2.300\n");
        checkUsage(ctl({"blacklist", "add", "--file", "-"}, bad.path.c_str()), "<stdin>:2: ");
    }
    // A byte-order mark is shown, not hidden in the quoted address.
    const TempFile bom("\xef\xbb\xbf" "192.0.2.1\n");
    checkUsage(ctl({"blacklist", "add", "--file", bom.path}), bom.path + ":1: invalid address \"\\xef\\xbb\\xbf192.0.2.1\"");
    // A line no CIDR could fill (an HTML page saved as a list) is named by its length.
    const TempFile page("<html>" + std::string(5000, 'x') + "</html>\n");
    const Result r = ctl({"blacklist", "add", "--file", page.path});
    checkUsage(r, page.path + ":1: expected one CIDR per line, got a line of 5013 characters");
    CHECK(r.err.size() < 400);
}

TEST_CASE("pbxwallctl: --json errors are one JSON document on stdout", "[ctl]")
{
    auto check = [](const Result& r, int status, const std::string& part) {
        INFO("stdout: " << r.out << " stderr: " << r.err);
        CHECK(r.status == status);
        CHECK(r.err.empty());
        CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
        const auto doc = nlohmann::json::parse(r.out); // throws (fails) unless valid
        REQUIRE(doc.is_object());
        REQUIRE(doc.size() == 1);
        REQUIRE(doc.contains("error"));
        CHECK(contains(doc["error"].get<std::string>(), part));
    };
    check(ctl({"--json", "zone", "add", "10.0.0.1/33", "reject"}), 2, "10.0.0.1/33");
    // Global options are accepted after the subcommand too.
    check(ctl({"zone", "add", "10.0.0.1/33", "reject", "--json"}), 2, "10.0.0.1/33");
    check(ctl({"-j", "frobnicate"}), 2, "unknown command");
    check(ctl({"ban", "add", "192.0.2.1", "--ttl", "x", "-j"}), 2, "--ttl");
    check(ctl({"zone", "list", "--json"}), 1, "does not exist");
    check(ctl({"--pretty", "ban", "list"}), 1, "does not exist");
    check(ctl({"known", "add", "192.0.2.1", "--ttl", "604801", "-j"}), 2, "--ttl");
    check(ctl({"--json", "known", "del", "192.0.2.300"}), 2, "192.0.2.300");
    check(ctl({"known", "list", "--json"}), 1, "does not exist");
    // Bytes that are not UTF-8 (a Latin-1 blocklist, say) are replaced in the document, which
    // stays one valid JSON document (it used to end pbxwallctl with an exception).
    check(ctl({"--json", "zone", "add", "10.0.0.\xff", "reject"}), 2, "10.0.0.\\xff"); // shown escaped
    check(ctl({"--json", "zone", "add", "10.0.0.1", "reject", "\xe9"}), 2, "");
    const TempFile latin1("10.1.0.0/16 caf\xe9\n");
    check(ctl({"--json", "blacklist", "add", "--file", latin1.path}), 2, latin1.path + ":1:");
}

TEST_CASE("pbxwallctl: ban add checks --ttl before the maps, for an IPv6 prefix too", "[ctl]")
{
    // The prefix's length is checked against the policy in force, so the maps open for it:
    // after --ttl, which is a usage error (2) whether the maps are there or not.
    checkUsage(ctl({"ban", "add", "2001:db8::/64", "--ttl", "bogus"}), "--ttl");
    checkUsage(ctl({"ban", "add", "2001:db8::1", "--ttl", "bogus"}), "--ttl");
    // Link-local sources are banned by address (the data plane never judges them by prefix).
    checkUsage(ctl({"ban", "add", "fe80::/64"}), "link-local sources are banned by address");
    // ban del of one (an older build's) goes on to the maps: here, a missing pin dir (exit 1).
    CHECK(ctl({"ban", "del", "fe80::/64"}).status == 1);
}

TEST_CASE("pbxwallctl: a missing pin dir is a run-time error with a hint", "[ctl]")
{
    const std::string dir = "/nonexistent/pbxwall-test-pins";
    const std::string expected = "pbxwallctl: error: pin dir " + dir +
                                 " does not exist: is pbxwalld running with pin_dir = " + dir + "?\n";
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"status"}, {"zone", "list"}, {"zone", "add", "192.0.2.0/24", "reject"}, {"ban", "list"},
             {"ban", "add", "192.0.2.1", "--ttl", "0"}, {"stats"}, {"iface", "list"}, {"blacklist", "list"},
             {"known", "list"}, {"known", "add", "192.0.2.1"}, {"known", "add", "2001:db8::1", "--ttl", "604800"},
             {"known", "del", "192.0.2.1"}}) {
        const Result r = ctl(args);
        INFO("args: " << args.front() << " " << (args.size() > 1 ? args[1] : ""));
        CHECK(r.status == 1);
        CHECK(r.out.empty());
        CHECK(r.err == expected);
    }
    // Global options after the subcommand.
    const Result r = runCtl({"zone", "list", "--pin-dir", dir, "--state-dir", "/nonexistent/x"});
    CHECK(r.status == 1);
    CHECK(r.err == expected);
}

TEST_CASE("pbxwallctl: an interface that does not exist is a run-time error", "[ctl]")
{
    const Result r = ctl({"iface", "set", "pwnosuchif0", "internet"});
    CHECK(r.status == 1);
    CHECK(r.err == "pbxwallctl: error: iface set: interface pwnosuchif0 does not exist\n");
    checkUsage(ctl({"iface", "set", "an-interface-name-too-long", "internet"}), "not a valid interface name");
    checkUsage(ctl({"iface", "set", "eth0:1", "internet"}), "\"eth0:1\" is not a valid interface name");
}

TEST_CASE("pbxwallctl: an explicit --config with errors is a usage error", "[ctl]")
{
    std::string gone;
    {
        const TempFile config("pin_dir = 5\n[[interface]]\nname = \"eth0\"\nzone = \"internet\"\n");
        const Result r = runCtl({"--config", config.path, "zone", "list"});
        INFO("stderr: " << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.rfind("pbxwallctl: error: " + config.path + ":1", 0) == 0);
        gone = config.path;
    }
    checkUsage(runCtl({"--config", gone, "status"}), "cannot open");
    // Checked even when --pin-dir and --state-dir are given too.
    checkUsage(runCtl({"--config", gone, "--pin-dir", "/nonexistent-pw", "--state-dir", "/nonexistent-pw", "zone", "list"}),
               "cannot open");
}

TEST_CASE("pbxwallctl: --help and --version succeed on stdout", "[ctl]")
{
    Result r = runCtl({"--help"});
    CHECK(r.status == 0);
    CHECK(contains(r.out, "Usage: pbxwallctl"));
    CHECK(contains(r.out, "blacklist"));
    r = runCtl({"ban", "add", "--help"});
    CHECK(r.status == 0);
    CHECK(contains(r.out, "--ttl"));
    r = runCtl({"known", "add", "--help"});
    CHECK(r.status == 0);
    CHECK(contains(r.out, "--ttl"));
    r = runCtl({"--help"});
    CHECK(contains(r.out, "known"));
    r = runCtl({"--version"});
    CHECK(r.status == 0);
    CHECK(!r.out.empty());
}
