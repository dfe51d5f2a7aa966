// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The CSeq of a request that is neither INVITE nor REGISTER must name its method (RFC 3261
// 8.1.1.5), once. A PBX may copy a request's CSeq into its answer unchecked (Kamailio's
// sl_send_reply does), and egress takes a 200 OK whose CSeq says REGISTER for a registration:
// an OPTIONS carrying "CSeq: 1 REGISTER" made its sender known. Every verdict checks that
// exactly one counter moved.
#include "fixtures.hpp"
#include "sip_support.hpp"
#include "sip_guards_support.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <string>

namespace pbxwall::bpftest {

using namespace guardfx;

namespace {

// A distinct internet source per case: 198.18.51.N / 2001:db8:51:N::1.
Peer source(unsigned n, std::deque<std::string>& keep) { return numberedSource(51, n, keep); }

// A request of `method` whose header lines are `headers` (each with its CRLF), without the
// CSeq guardfx::request adds.
std::string bare(const std::string& method, const std::string& headers)
{
    return method + " sip:2001@198.18.0.1 SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-1\r\n"
                    "From: <sip:2001@pbx.example>;tag=1\r\nTo: <sip:2001@pbx.example>\r\n"
                    "Call-ID: 77@198.18.9.9\r\n" +
           headers + "Content-Length: 0\r\n\r\n";
}

// Record-Route lines past the 1,536 bytes the scan reads, as a long in-dialog request has.
std::string longRoutes()
{
    std::string routes;
    for (int i = 0; routes.size() <= 1600; ++i)
        routes += "Record-Route: <sip:198.18.7." + std::to_string(i % 250) + ";lr;ftag=abcdefghijklmnop>\r\n";
    return routes;
}

// Requests from rotating sources that are not known, each judged against its expected reason,
// under the default signatures and budgets to spare.
struct Requests {
    explicit Requests(Family family) : f(family), h(guardConfig("", "rate = 1000\nburst = 1000\n")) {}
    void operator()(const std::string& what, const std::string& payload, pw_reason reason)
    {
        checkVerdict(h, expect(named(f, what), sipUdp(f, source(n++ % 250 + 1, keep), payload), reason));
    }
    Family f;
    Harness h;
    std::deque<std::string> keep;
    unsigned n = 1;
};
constexpr pw_reason kOk = PW_REASON_SIP_RESPONSIVE, kBad = PW_REASON_MALFORMED_SIP;

} // namespace

TEST_CASE("CSeq: a request other than INVITE and REGISTER must name its own method, once",
          "[bpf][sip][guards][cseq]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    // With the default signatures, and with none (the scan then runs for the CSeq alone).
    const bool sigs = GENERATE(true, false);
    Harness h(guardConfig(sigs ? "" : "user_agents = []\nfrom_patterns = []\n"));
    std::deque<std::string> keep;
    unsigned n = 1;
    auto check = [&](const std::string& what, const std::string& payload, pw_reason reason) {
        checkVerdict(h, expect(named(f, what + (sigs ? "" : " (no signatures)")), sipUdp(f, source(n++, keep), payload),
                               reason));
    };
    const pw_reason ok = PW_REASON_SIP_RESPONSIVE, bad = PW_REASON_MALFORMED_SIP;

    check("OPTIONS, CSeq OPTIONS", bare("OPTIONS", "CSeq: 1 OPTIONS\r\n"), ok);
    check("OPTIONS, CSeq REGISTER", bare("OPTIONS", "CSeq: 1 REGISTER\r\n"), bad);
    check("OPTIONS, CSeq INVITE", bare("OPTIONS", "CSeq: 1 INVITE\r\n"), bad);
    check("OPTIONS, CSeq OPTIONSX", bare("OPTIONS", "CSeq: 1 OPTIONSX\r\n"), bad);
    check("OPTIONS, CSeq OPTION", bare("OPTIONS", "CSeq: 1 OPTION\r\n"), bad);
    check("OPTIONS, lower case and tabs", bare("OPTIONS", "cseq:\t7\toptions\r\n"), ok);
    check("OPTIONS, white space before the colon and after the method",
          bare("OPTIONS", "CSeq :  4294967 OPTIONS \r\n"), ok);
    check("OPTIONS, no CSeq", bare("OPTIONS", ""), bad);
    // More white space before the colon than is read: the line counts as a CSeq, and one read
    // from inside the white space does not parse.
    check("OPTIONS, a second CSeq behind white space", bare("OPTIONS", "CSeq: 1 OPTIONS\r\nCSeq      : 1 REGISTER\r\n"),
          bad);
    check("OPTIONS, its only CSeq behind white space", bare("OPTIONS", "CSeq \t \t \t: 1 OPTIONS\r\n"), bad);
    // A name folded onto the next line: pjsip reads that CSeq (and keeps the last one).
    check("OPTIONS, a second CSeq whose name is folded", bare("OPTIONS", "CSeq: 1 OPTIONS\r\nCSeq\r\n : 1 REGISTER\r\n"),
          bad);
    check("OPTIONS, a second CSeq folded after white space",
          bare("OPTIONS", "CSeq: 1 OPTIONS\r\nCSeq \n\t: 1 REGISTER\r\n"), bad);
    check("OPTIONS, no sequence number", bare("OPTIONS", "CSeq: OPTIONS\r\n"), bad);
    check("OPTIONS, no space after the number", bare("OPTIONS", "CSeq: 1OPTIONS\r\n"), bad);
    check("OPTIONS, two CSeq lines", bare("OPTIONS", "CSeq: 1 OPTIONS\r\nCSeq: 1 REGISTER\r\n"), bad);
    check("OPTIONS, two matching CSeq lines", bare("OPTIONS", "CSeq: 1 OPTIONS\r\nCSeq: 2 OPTIONS\r\n"), bad);
    check("OPTIONS, a CSeq-like header name", bare("OPTIONS", "CSeqX: 1 REGISTER\r\nCSeq: 1 OPTIONS\r\n"), ok);
    check("OPTIONS, the CSeq in the body only", bare("OPTIONS", "") + "CSeq: 1 OPTIONS\r\n", bad);
    check("SUBSCRIBE, CSeq SUBSCRIBE", bare("SUBSCRIBE", "CSeq: 3 SUBSCRIBE\r\nEvent: presence\r\n"), ok);
    check("NOTIFY, CSeq REGISTER", bare("NOTIFY", "CSeq: 3 REGISTER\r\n"), bad);
    check("BYE, CSeq REGISTER", bare("BYE", "CSeq: 3 REGISTER\r\n"), bad);
    check("MESSAGE, CSeq MESSAGE", bare("MESSAGE", "CSeq: 3 MESSAGE\r\n"), ok);
    // Not checked for REGISTER (its CSeq is what egress looks for) or INVITE (only a known
    // source's INVITE reaches the PBX).
    check("REGISTER, CSeq REGISTER", bare("REGISTER", "CSeq: 1 REGISTER\r\n"), ok);
    check("REGISTER, CSeq OPTIONS", bare("REGISTER", "CSeq: 1 OPTIONS\r\n"), ok);
    check("REGISTER, no CSeq", bare("REGISTER", ""), ok);
}

TEST_CASE("CSeq: found at every offset, after one and after two line ends in a word", "[bpf][sip][guards][cseq]")
{
    Requests check(GENERATE(Family::V4, Family::V6));
    for (size_t pad = 0; pad < 40; ++pad) {
        const std::string x = "X-Pad: " + std::string(pad, 'p') + "\r\n";
        for (const char* shortLine : {"", "X: 1\r\n"}) { // "\r\nX: 1\r\nC": two line ends in a word
            const std::string at = " (pad " + std::to_string(pad) + (*shortLine ? ", after a short line)" : ")");
            check("OPTIONS, CSeq OPTIONS" + at, bare("OPTIONS", x + shortLine + "CSeq: 9 OPTIONS\r\n"), kOk);
            check("OPTIONS, CSeq REGISTER" + at, bare("OPTIONS", x + shortLine + "CSeq: 9 REGISTER\r\n"), kBad);
        }
    }
}

// A CSeq within 64 bytes of the datagram's end is copied word by word and its last bytes from
// the datagram's last word: its method at every place there, as the request's last line.
TEST_CASE("CSeq: the method of the last line at every place", "[bpf][sip][guards][cseq]")
{
    Requests check(GENERATE(Family::V4, Family::V6));
    const pw_reason ok = kOk, bad = kBad;
    const std::string head = "SUBSCRIBE sip:2001@198.18.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-9\r\n"
                             "From: <sip:2001@pbx.example>;tag=1\r\nTo: <sip:2001@pbx.example>\r\n";
    for (size_t digits = 1; digits <= 10; ++digits)
        for (const char* gap : {" ", "  \t "}) {
            const std::string seq = std::string(digits, '7') + gap, at = " (" + std::to_string(digits) + " digits)";
            check("the method last" + at, head + "CSeq: " + seq + "SUBSCRIBE\r\n\r\n", ok);
            check("the method last, lower case" + at, head + "CSeq: " + seq + "subscribe\r\n\r\n", ok);
            check("another method last" + at, head + "CSeq: " + seq + "SUBSCRIBX\r\n\r\n", bad);
            check("a longer method last" + at, head + "CSeq: " + seq + "SUBSCRIBES\r\n\r\n", bad);
            check("the method, then white space" + at, head + "CSeq: " + seq + "SUBSCRIBE \r\n\r\n", ok);
        }
}

// pjsip ends a line at a CR that no line feed follows, and reads a header after it that the
// header scan (lines start after a line feed) never sees: a second CSeq there, the last one and
// so the one pjsip's answer copies, made an OPTIONS answered unchallenged a registration at
// egress. A request whose CSeq is checked and whose header holds a bare CR drops.
TEST_CASE("CSeq: a bare CR in the header of a checked request drops", "[bpf][sip][guards][cseq]")
{
    Requests check(GENERATE(Family::V4, Family::V6));
    const pw_reason ok = kOk, bad = kBad;

    check("a CSeq after the CSeq's bare CR", bare("OPTIONS", "CSeq: 1 OPTIONS\rCSeq: 1 REGISTER\r\n"), bad);
    check("a CSeq after another header's bare CR", bare("OPTIONS", "CSeq: 1 OPTIONS\r\nX-A: b\rCSeq: 1 REGISTER\r\n"), bad);
    check("a CSeq before the checked one", bare("OPTIONS", "X-A: b\rCSeq: 1 REGISTER\r\nCSeq: 1 OPTIONS\r\n"), bad);
    for (size_t pad = 0; pad < 20; ++pad) {
        const std::string at = " (pad " + std::to_string(pad) + ")";
        check("a bare CR" + at, bare("SUBSCRIBE", "CSeq: 2 SUBSCRIBE\r\nX-Pad: " + std::string(pad, 'p') + "\rX: 1\r\n"), bad);
        check("CRLF only" + at, bare("SUBSCRIBE", "CSeq: 2 SUBSCRIBE\r\nX-Pad: " + std::string(pad, 'p') + "\r\nX: 1\r\n"), ok);
    }
    check("a bare CR in the body", bare("MESSAGE", "CSeq: 3 MESSAGE\r\n") + "hi\rthere", ok);
    check("a CR that ends the datagram, no empty line",
          "OPTIONS sip:2001@198.18.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-3\r\n"
          "From: <sip:2001@pbx.example>;tag=1\r\nTo: <sip:2001@pbx.example>\r\nCall-ID: 79@198.18.9.9\r\n"
          "CSeq: 1 OPTIONS\r\nX: a\r",
          bad);
    check("line feeds alone",
          "OPTIONS sip:2001@198.18.0.1 SIP/2.0\nVia: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-4\n"
          "From: <sip:2001@pbx.example>;tag=1\nTo: <sip:2001@pbx.example>\nCall-ID: 80@198.18.9.9\n"
          "CSeq: 1 OPTIONS\nContent-Length: 0\n\n",
          ok);
    // Not checked: a REGISTER's CSeq is the one egress looks for, an INVITE comes from known
    // sources only. (From a source that is not known, a REGISTER's header is read for bare CRs
    // before its top Via: fixtures_sip_via.cpp.)
    check("a REGISTER with a bare CR", bare("REGISTER", "CSeq: 1 REGISTER\r\nX-A: b\rCSeq: 1 OPTIONS\r\n"), ok);
    const Peer phone = source(251, check.keep);
    check.h.addKnown(addrOf(check.f, phone), std::chrono::seconds(600));
    checkVerdict(check.h, expect(named(check.f, "a known source's OPTIONS with a bare CR"),
                                 sipUdp(check.f, phone, bare("OPTIONS", "CSeq: 1 OPTIONS\r\nX-A: b\rCSeq: 1 REGISTER\r\n")),
                                 bad));
}

// The bare-CR read takes sixteen bytes a step for ASCII headers (pw_crlf_fast) and leaves any
// other to the exact read: the CR before a missing line feed, the empty line and a byte past
// ASCII, at every place in a step.
TEST_CASE("CSeq: the bare-CR read at every alignment", "[bpf][sip][guards][cseq]")
{
    Requests check(GENERATE(Family::V4, Family::V6));
    const pw_reason ok = kOk, bad = kBad;

    for (size_t pad = 0; pad < 32; ++pad) {
        const std::string p(pad, 'p'), at = " (pad " + std::to_string(pad) + ")";
        check("a bare CR, more lines after it" + at,
              bare("NOTIFY", "X-Pad: " + p + "\rX: 1\r\nCSeq: 4 NOTIFY\r\nEvent: dialog\r\nMax-Forwards: 70\r\n"), bad);
        check("a CR before a CR" + at, bare("NOTIFY", "CSeq: 4 NOTIFY\r\nX-Pad: " + p + "\r\r\nX: 1\r\n"), bad);
        check("CRLF only, more lines after" + at,
              bare("NOTIFY", "X-Pad: " + p + "\r\nX: 1\r\nCSeq: 4 NOTIFY\r\nEvent: dialog\r\nMax-Forwards: 70\r\n"), ok);
        std::string last = bare("NOTIFY", "CSeq: 4 NOTIFY\r\nX-Pad: " + p + "\rb\r\n");
        last.erase(last.find("Content-Length: 0\r\n"), 19); // the bare CR a few bytes before the empty line
        check("a bare CR just before the empty line, the datagram's end" + at, last, bad);
        check("a bare CR just before the empty line, a body" + at, last + "a body of some thirty bytes.", bad);
        std::string near = bare("NOTIFY", "CSeq: 4 NOTIFY\r\nX-Pad: " + p + "\rbcdefghij\r\n");
        near.erase(near.find("Content-Length: 0\r\n"), 19);
        check("a bare CR 15 bytes before the datagram's end" + at, near, bad);
        std::string cut = bare("NOTIFY", "CSeq: 4 NOTIFY\r\nX-Pad: " + p + "\r\n");
        cut.erase(cut.find("Content-Length: 0\r\n"), 19);
        cut.pop_back(); // the empty line's CR is the datagram's last byte
        check("the empty line's CR ends the datagram" + at, cut, ok);
        cut.back() = 'x';
        check("a line feed and a byte end the datagram" + at, cut + "\r", bad);
        check("the empty line, a bare CR in the body" + at,
              bare("MESSAGE", "CSeq: 3 MESSAGE\r\nX-Pad: " + p + "\r\n") + "hi\rthere, and a longer body", ok);
        check("a byte past ASCII, then a bare CR" + at,
              bare("NOTIFY", "CSeq: 4 NOTIFY\r\nX-Name: Jos\xc3\xa9 " + p + "\rX: 1\r\n"), bad);
        check("a byte past ASCII, CRLF only" + at, bare("NOTIFY", "CSeq: 4 NOTIFY\r\nX-Name: Jos\xc3\xa9 " + p + "\r\n"), ok);
    }
}

// A long in-dialog request (many Via and Route lines) may carry its CSeq past the bytes the scan
// reads, or in a later fragment. It passes from known sources, whom the CSeq check does not
// guard against; from any other source it drops, as before (an unknown local source could
// otherwise hide "CSeq: 1 REGISTER" there and become known).
TEST_CASE("CSeq: none in what is read passes from known sources only",
          "[bpf][sip][guards][cseq]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig());
    std::deque<std::string> keep;
    const std::string routes = longRoutes();
    const std::string late = bare("BYE", routes + "CSeq: 2 BYE\r\n");
    const std::string none = bare("BYE", "");
    const Peer stranger = source(1, keep), phone = source(2, keep);

    checkVerdict(h, expect(named(f, "CSeq past the scan, unknown internet source"), sipUdp(f, stranger, late),
                           PW_REASON_MALFORMED_SIP));
    h.addKnown(addrOf(f, phone), std::chrono::seconds(600));
    checkVerdict(h, expect(named(f, "CSeq past the scan, known source"), sipUdp(f, phone, late), PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "CSeq past the scan, unknown local source"), sipUdp(f, kLocal, late),
                           PW_REASON_MALFORMED_SIP, PW_ZONE_LOCAL));
    const Peer otherZone{"198.18.4.10", "2001:db8:4::10"};
    checkVerdict(h, expect(named(f, "CSeq past the scan, unknown source of the other zone"), sipUdp(f, otherZone, late),
                           PW_REASON_MALFORMED_SIP, PW_ZONE_OTHER));
    h.addKnown(addrOf(f, kLocal), std::chrono::seconds(600));
    checkVerdict(h, expect(named(f, "CSeq past the scan, known local source"), sipUdp(f, kLocal, late),
                           PW_REASON_SERVICE, PW_ZONE_LOCAL));
    // A CSeq in what is read is still checked, from every zone.
    checkVerdict(h, expect(named(f, "CSeq REGISTER on a BYE, known source"),
                           sipUdp(f, phone, bare("BYE", "CSeq: 2 REGISTER\r\n")), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "CSeq REGISTER on a BYE, local zone"),
                           sipUdp(f, kLocal, bare("BYE", "CSeq: 2 REGISTER\r\n")), PW_REASON_MALFORMED_SIP,
                           PW_ZONE_LOCAL));
    // No CSeq at all: the same rule (pbxwall cannot tell it from one it did not read).
    checkVerdict(h, expect(named(f, "no CSeq, unknown internet source"), sipUdp(f, source(3, keep), none),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "no CSeq, known source"), sipUdp(f, phone, none), PW_REASON_SIP_KNOWN));
}

// A CSeq read in a request that goes on past what is read (past the scan, or in a later
// fragment) may not be the only one: a PBX that keeps the last one (pjsip) would answer an
// OPTIONS whose hidden second CSeq says REGISTER with a 200 OK that says REGISTER, and egress
// would make its sender known. Such a request passes from known sources only, as one with no
// CSeq read.
TEST_CASE("CSeq: a request that goes on past what is read passes from known sources only", "[bpf][sip][guards][cseq]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig());
    std::deque<std::string> keep;
    const std::string routes = longRoutes();
    const std::string hidden = bare("OPTIONS", "CSeq: 1 OPTIONS\r\n" + routes + "CSeq: 1 REGISTER\r\n");
    const Peer stranger = source(11, keep), phone = source(12, keep);

    checkVerdict(h, expect(named(f, "a second CSeq past the scan, unknown source"), sipUdp(f, stranger, hidden),
                           PW_REASON_MALFORMED_SIP));
    h.addKnown(addrOf(f, phone), std::chrono::seconds(600));
    checkVerdict(h, expect(named(f, "a second CSeq past the scan, known source"), sipUdp(f, phone, hidden),
                           PW_REASON_SIP_KNOWN));

    // A first fragment: the datagram's rest (a later fragment) could hold another CSeq line,
    // and such a request belongs on TCP anyway (RFC 3261 18.1.1): whether or not its headers
    // end in the first fragment.
    const std::string open = "OPTIONS sip:2001@198.18.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-2\r\n"
                             "From: <sip:2001@pbx.example>;tag=1\r\nTo: <sip:2001@pbx.example>\r\n"
                             "Call-ID: 78@198.18.9.9\r\nCSeq: 1 OPTIONS\r\nX-Pad: " +
                             std::string(300, 'p') + "\r\n";
    checkVerdict(h, expect(named(f, "a first fragment whose headers go on, unknown source"),
                           firstFragment(f, source(13, keep), 0x91, open), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "a first fragment whose headers end in it, unknown source"),
                           firstFragment(f, source(14, keep), 0x92, open + "Content-Length: 400\r\n\r\n" + std::string(300, 'b')),
                           PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "a first fragment, known source"), firstFragment(f, phone, 0x93, open),
                           PW_REASON_SIP_KNOWN));
    // A whole datagram within the bytes the scan reads has no more headers.
    checkVerdict(h, expect(named(f, "a whole datagram without its empty line, unknown source"),
                           sipUdp(f, source(15, keep), open), PW_REASON_SIP_RESPONSIVE));
}

} // namespace pbxwall::bpftest
