// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The top Via of requests from sources whose failed authentications count (not known, not
// trusted). Egress credits an answer to nobody when its top Via has a maddr (the PBX sends a
// UDP answer there, RFC 3261 18.2.2) or does not end within the 512 bytes it reads: a password
// guesser that put either in its requests had its challenges and 403s counted against nobody,
// and guessed at its budget's pace, never banned. Ingress now refuses such requests
// (malformed_sip), and every way pjsip could take another line for the top Via.
#include "addr.hpp"
#include "fixtures.hpp"
#include "sip_support.hpp"
#include "sip_guards_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <deque>
#include <string>

namespace pbxwall::bpftest {

using namespace guardfx;

namespace {

// A distinct internet source per case: 198.18.52.N / 2001:db8:52:N::1.
Peer source(unsigned n, std::deque<std::string>& keep) { return numberedSource(52, n % 250 + 1, keep); }

const char* kVia = "Via: SIP/2.0/UDP 198.18.9.9:5062;rport;branch=z9hG4bK-524287-1---f0a7e9\r\n";

// A REGISTER whose Via lines are `vias` (each with its CRLF), then `extra` header lines.
std::string reg(const std::string& vias, const std::string& extra = "", const std::string& method = "REGISTER")
{
    return method + " sip:198.18.0.1 SIP/2.0\r\n" + vias +
           "Max-Forwards: 70\r\nFrom: <sip:2001@pbx.example>;tag=1\r\nTo: <sip:2001@pbx.example>\r\n"
           "Call-ID: 5c1@198.18.9.9\r\nCSeq: 1 " +
           method + "\r\nContact: <sip:2001@198.18.9.9:5062>\r\n" + extra + "Content-Length: 0\r\n\r\n";
}

// The same REGISTER with its Via as the last header, right before the empty line.
std::string regViaLast(const std::string& via)
{
    return "REGISTER sip:198.18.0.1 SIP/2.0\r\nFrom: <sip:2001@pbx.example>;tag=1\r\nTo: <sip:2001@pbx.example>\r\n"
           "Call-ID: 5c2@198.18.9.9\r\nCSeq: 1 REGISTER\r\n" +
           via + "\r\n\r\n";
}

// A harness of guard rules, and a new internet source for every case.
struct ViaCases {
    explicit ViaCases(Family family) : f(family), h(guardConfig("", "rate = 1000\nburst = 1000\n")) {}
    void check(const std::string& what, const std::string& payload, pw_reason reason)
    {
        checkVerdict(h, expect(named(f, what), sipUdp(f, source(n++, keep), payload), reason));
    }
    Family f;
    Harness h;
    std::deque<std::string> keep;
    unsigned n = 1;
};

} // namespace

TEST_CASE("Via: a request from a source that is not known is refused when its answer could be credited to nobody",
          "[bpf][sip][guards][via]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    // With the default signatures, and with none (the scan then runs for the Via alone).
    const bool sigs = GENERATE(true, false);
    Harness h(guardConfig(sigs ? "" : "user_agents = []\nfrom_patterns = []\n", "rate = 1000\nburst = 1000\n"));
    std::deque<std::string> keep;
    unsigned n = 1;
    auto check = [&](const std::string& what, const std::string& payload, pw_reason reason) {
        checkVerdict(h, expect(named(f, what + (sigs ? "" : " (no signatures)")), sipUdp(f, source(n++, keep), payload),
                               reason));
    };
    const pw_reason ok = PW_REASON_SIP_RESPONSIVE, bad = PW_REASON_MALFORMED_SIP;

    check("a phone's Via", reg(kVia), ok);
    check("two Via lines", reg(std::string(kVia) + "Via: SIP/2.0/UDP 198.18.9.10;branch=z9hG4bK-2\r\n"), ok);
    check("a maddr", reg("Via: SIP/2.0/UDP 198.18.9.9:5062;maddr=198.18.77.1;branch=z9hG4bK-1\r\n"), bad);
    check("a maddr, upper case", reg("Via: SIP/2.0/UDP 198.18.9.9:5062;MADDR=198.18.77.1\r\n"), bad);
    check("a maddr after white space", reg("Via: SIP/2.0/UDP 198.18.9.9:5062; maddr=198.18.77.1\r\n"), bad);
    check("a maddr after a tab, space before '='", reg("Via: SIP/2.0/UDP 198.18.9.9:5062;\tMaddr =198.18.77.1\r\n"), bad);
    check("a maddr before ';'", reg("Via: SIP/2.0/UDP 198.18.9.9:5062;maddr;branch=z9hG4bK-1\r\n"), bad);
    check("three bytes of white space after a ';'", reg("Via: SIP/2.0/UDP 198.18.9.9:5062; \t branch=z9hG4bK-1\r\n"), bad);
    check("a maddr on a folded line", reg("Via: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-1\r\n ;maddr=198.18.77.1\r\n"),
          bad);
    check("a line folded after the ';'", reg("Via: SIP/2.0/UDP 198.18.9.9:5062;\r\n maddr=198.18.77.1\r\n"), bad);
    check("a folded Via without a maddr", reg("Via: SIP/2.0/UDP 198.18.9.9:5062\r\n\t;branch=z9hG4bK-1\r\n"), ok);
    // Only the top Via says where the answer goes.
    check("a maddr in the second Via line",
          reg(std::string(kVia) + "Via: SIP/2.0/UDP 198.18.9.10;maddr=198.18.77.1;branch=z9hG4bK-2\r\n"), ok);
    check("a maddr in the second value of one line",
          reg("Via: SIP/2.0/UDP 198.18.9.9;branch=z9hG4bK-1, SIP/2.0/UDP 198.18.9.10;maddr=198.18.77.1\r\n"), bad);
    check("the compact form", reg("v: SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r\n"), bad);
    check("white space before the colon", reg("VIA  : SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r\n"), bad);
    check("a folded name", reg("Via\r\n : SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r\n"), bad);
    // Not a maddr parameter of a Via.
    check("maddr in the host name", reg("Via: SIP/2.0/UDP maddr.example:5062;branch=z9hG4bK-1\r\n"), ok);
    check("other parameters", reg("Via: SIP/2.0/UDP 198.18.9.9;maddrx=2;x-maddr;branch=z9hG4bK-1\r\n"), ok);
    // chan_sip takes "maddr=" anywhere in the top Via for its maddr (a strstr, lower case): in a
    // branch, in another parameter's name, after the host. Every byte offset of a word.
    for (unsigned k = 0; k < 9; ++k) {
        const std::string pad(k, 'x');
        check("maddr= inside a branch, after " + std::to_string(k) + " bytes",
              reg("Via: SIP/2.0/UDP 198.18.9.9:5062;rport;branch=z9hG4bK" + pad + "maddr=198.18.77.1\r\n"), bad);
    }
    // chan_sip (with its default pedantic) deletes every CR before it reads the Via: a bare
    // CR inside the top Via, anywhere in a word, may join "m" and "addr=".
    for (unsigned k = 0; k < 8; ++k)
        check("a bare CR in the Via, after " + std::to_string(k) + " bytes",
              reg("Via: SIP/2.0/UDP 198.18.9.9:5062;rport;branch=z9hG4bK" + std::string(k, 'x') + "m\raddr=198.18.77.1\r\n"),
              bad);
    check("a bare CR in an IPv6 Via", reg("Via: SIP/2.0/UDP [2001:db8::9]:5062;branch=z9hG4bK-m\raddr=198.18.77.1\r\n"), bad);
    check("a bare CR at the Via's start", reg("Via:\r SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-1\r\n"), bad);
    check("CR CR LF at the Via's end", reg("Via: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-1\r\r\n"), bad);
    check("an IPv6 Via", reg("Via: SIP/2.0/UDP [2001:db8::9]:5062;branch=z9hG4bK-1\r\n"), ok);
    check("maddr= in another parameter's name", reg("Via: SIP/2.0/UDP 198.18.9.9:5062;xmaddr=198.18.77.1\r\n"), bad);
    check("maddr= right after the port", reg("Via: SIP/2.0/UDP 198.18.9.9:5062maddr=198.18.77.1;rport\r\n"), bad);
    check("maddr= in the Via's last bytes", regViaLast("Via: SIP/2.0/UDP 198.18.9.9;branch=z9hG4bKmaddr=198.18.7.1"), bad);
    check("maddr without '=' in a branch", reg("Via: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-maddr-1\r\n"), ok);
    check("MADDR= in a branch (chan_sip's match is lower case)",
          reg("Via: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bKMADDR=1\r\n"), ok);
    check("a host name with 'ma'", reg("Via: SIP/2.0/UDP macbook.example.com:5062;branch=z9hG4bK-ma1\r\n"), ok);
    check("a Contact's maddr",
          reg(kVia, "X-Contact: <sip:2001@198.18.9.9;maddr=198.18.77.1>\r\nRoute: <sip:p;maddr=198.18.77.1>\r\n"), ok);
    check("another header that starts with Via", reg(std::string(kVia) + "Viax: SIP/2.0/UDP h;maddr=198.18.77.1\r\n"), ok);
    check("many parameters",
          reg("Via: SIP/2.0/UDP 198.18.9.9:5062;a=1;b=2;c=3;d=4;e=5;f=6;g=7;h=8;i=9;j=10;k=11;l=12;rport;branch=z9hG4bK-1\r\n"),
          ok);
    // Length: the top Via's line must end within 360 bytes (PW_VIA_LINE), and its line feed
    // within 800 of the Request-URI's start (PW_VIA_BUDGET), each ':', '[' and ']' of the Via
    // counting three (pjsip escapes them in a parameter; Kamailio copies From, To, Call-ID
    // and CSeq into its answer ahead of the Via when they came first). Here the line's value
    // is ": SIP/2.0/UDP " 14 bytes with one ':' (2 more), then N bytes and CR: its line feed
    // at 14 + N + 1 + 2 < 360 for N < 343.
    const std::string head = "Via: SIP/2.0/UDP ";
    check("a Via within the budget", reg(head + std::string(342, 'a') + "\r\n"), ok);
    check("a Via one byte longer", reg(head + std::string(343, 'a') + "\r\n"), bad);
    check("colons in a parameter count three",
          reg("Via: SIP/2.0/UDP 198.18.9.9;branch=z9hG4bK-1;x=" + std::string(110, ':') + "\r\n"), bad);
    check("an IPv6 host", reg("Via: SIP/2.0/UDP [2001:db8:52::1]:5062;rport;branch=z9hG4bK-1\r\n"), ok);
    // The URI's line takes 24 bytes, "Call-ID: " 9, N bytes and CRLF, "Via" 3: the Via's line
    // feed within 800 for 24 + 9 + N + 2 + 3 + 69 + 4 < 800, N < 689 (kVia's value: 69 bytes
    // to its line feed, and 2 colons).
    auto longBefore = [&](size_t n) {
        return "REGISTER sip:198.18.0.1 SIP/2.0\r\nCall-ID: " + std::string(n, 'c') + "\r\n" + reg(kVia).substr(33);
    };
    check("a long header before the Via", longBefore(688), ok);
    check("a header before the Via one byte longer", longBefore(689), bad);
    // A JAIN-SIP client (Android's, Jitsi's) writes Call-ID, CSeq, From and To before the Via:
    // an IPv6 phone with long names, some 500 bytes to the Via's end.
    check("From, To, Call-ID and CSeq before the Via (JAIN-SIP), IPv6, long names",
          "REGISTER sip:voip-office.martin-dupont-et-associes-avocats.example SIP/2.0\r\n"
          "Call-ID: 7a3c9e1f0b2d4a6c8e0f1a3b5c7d9e1f@2001:db8:52:7:1c2d:3e4f:5a6b:7c8d\r\n"
          "CSeq: 4711 REGISTER\r\n"
          "From: \"Marie-Christine Lefebvre-Dupont (Accueil)\" "
          "<sip:marie-christine.lefebvre@voip-office.martin-dupont-et-associes-avocats.example>;tag=1406437296\r\n"
          "To: \"Marie-Christine Lefebvre-Dupont (Accueil)\" "
          "<sip:marie-christine.lefebvre@voip-office.martin-dupont-et-associes-avocats.example>\r\n"
          "Via: SIP/2.0/UDP [2001:db8:52:7:1c2d:3e4f:5a6b:7c8d]:5060;branch=z9hG4bK-6f2d1c0e9b8a7f6e5d4c;rport\r\n"
          "Max-Forwards: 70\r\nContact: <sip:marie@[2001:db8:52:7:1c2d:3e4f:5a6b:7c8d]:5060>\r\nExpires: 3600\r\n"
          "Content-Length: 0\r\n\r\n",
          ok);
    // pjsip reads a bracketed host up to its ']', across line ends: a maddr on the next line
    // would be the top Via's.
    check("a '[' left open",
          reg("Via: SIP/2.0/UDP [2001:db8::1\r\nX: ]:5060;branch=z9hG4bK-1;maddr=198.18.77.1\r\n"), bad);
    check("a '[' left open, no maddr", reg("Via: SIP/2.0/UDP [2001:db8::1\r\nX: ]:5060;branch=z9hG4bK-1\r\n"), bad);
    // pjsip also ends a header at an '&' after a value it parsed, and reads one after it.
    check("an '&' before the top Via",
          "REGISTER sip:198.18.0.1 SIP/2.0\r\nMax-Forwards: 70&Via: SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r\n" +
              reg(kVia).substr(33),
          bad);
    check("an '&' after the top Via", reg(kVia, "X-Org: AT&T\r\n"), ok);
    // pjsip reads a bracketed host up to its ']' across line ends: a '[' before the top Via
    // that its line does not close would hide the Via lines up to the ']' from pjsip.
    check("a '[' left open before the top Via",
          "REGISTER sip:198.18.0.1 SIP/2.0\r\nContact: <sip:2001@[2001:db8::1\r\n" + std::string(kVia) +
              "X: ]>\r\nVia: SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r\n" + reg("").substr(33),
          bad);
    check("a '[' closed on the next line, before the top Via",
          "REGISTER sip:198.18.0.1 SIP/2.0\r\nFrom: <sip:2001@[2001:db8::1\r\n]>;tag=1\r\n" + reg(kVia).substr(33), bad);
    check("a '[' closed past 128 bytes, before the top Via",
          "REGISTER sip:198.18.0.1 SIP/2.0\r\nX-A: [" + std::string(130, 'a') + "]\r\n" + reg(kVia).substr(33), bad);
    // IPv6 literals, closed on their line, at every alignment of the words read.
    for (int pad = 0; pad < 8; ++pad) {
        const std::string user(pad + 1, '2');
        check("an IPv6 Request-URI, alignment " + std::to_string(pad),
              "REGISTER sip:" + user + "@[2001:db8:52::1] SIP/2.0\r\n" + reg(kVia).substr(33), ok);
        check("IPv6 hosts in From and To before the Via, alignment " + std::to_string(pad),
              "REGISTER sip:[2001:db8:52::1] SIP/2.0\r\nFrom: <sip:" + user + "@[2001:db8:52::1]>;tag=1\r\n"
              "To: <sip:" + user + "@[2001:db8:52::1]>\r\nCall-ID: 1@x\r\nCSeq: 1 REGISTER\r\n" +
                  "Via: SIP/2.0/UDP [2001:db8:52::9]:5062;branch=z9hG4bK-1\r\nContent-Length: 0\r\n\r\n",
              ok);
    }
    check("no Via, an '&'", reg("", "Max-Forwards: 70&Via: SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r\n"), bad);
    // Other requests than REGISTER; an INVITE from an unknown source drops anyway.
    check("OPTIONS with a maddr", reg("Via: SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r\n", "", "OPTIONS"), bad);
    check("OPTIONS", reg(kVia, "", "OPTIONS"), ok);
    check("INVITE with a maddr", reg("Via: SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r\n", "", "INVITE"),
          PW_REASON_ANONYMOUS_INVITE);
    // pjsip must take the same line for the top Via: a bare CR before it (pjsip ends a line
    // there and reads a header after it that the scan never sees) drops; after it, it does
    // not matter.
    const std::string hidden = "Via: SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r";
    check("a Via after a bare CR in the request line",
          "REGISTER sip:198.18.0.1 SIP/2.0\r" + reg(std::string(kVia)).substr(33), bad);
    check("a Via after a bare CR before the top Via",
          "REGISTER sip:198.18.0.1 SIP/2.0\r\nMax-Forwards: 70\r" + hidden + "\n" + reg(kVia).substr(33), bad);
    check("a bare CR after the top Via", reg(kVia, "X-A: b\r" + hidden + "\n"), ok);
    std::string pad;
    for (int i = 0; pad.size() <= 1600; ++i)
        pad += "X-Pad-" + std::to_string(i) + ": " + std::string(60, 'p') + "\r\n";
    // A REGISTER whose headers go on past them may hide a Route and a To tag there (the
    // in-dialog REGISTER, below): it drops since 2026-12-07.
    check("headers past the bytes the scan reads, after the top Via", reg(kVia, pad), bad);
    // No Via read: the request must be read whole, with no bare CR.
    check("no Via", reg(""), ok);
    check("no Via, a bare CR", reg("", "X-A: b\r" + hidden + "\n"), bad);
    check("no Via in the bytes the scan reads", reg("", pad + kVia), bad);
}

TEST_CASE("Via: found at every offset, after a short line, and at the datagram's end", "[bpf][sip][guards][via]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig("", "rate = 1000\nburst = 1000\n"));
    std::deque<std::string> keep;
    unsigned n = 1;
    auto check = [&](const std::string& what, const std::string& payload, pw_reason reason) {
        checkVerdict(h, expect(named(f, what), sipUdp(f, source(n++, keep), payload), reason));
    };
    for (size_t pad = 0; pad < 24; ++pad) {
        const std::string x = "X-Pad: " + std::string(pad, 'p') + "\r\n";
        const std::string at = " (pad " + std::to_string(pad) + ")";
        // "\r\nX: 1\r\nV": two line ends in a word.
        for (const char* shortLine : {"", "X: 1\r\n"}) {
            const std::string where = at + (*shortLine ? ", after a short line" : "");
            check("a maddr" + where,
                  "REGISTER sip:198.18.0.1 SIP/2.0\r\n" + x + shortLine +
                      "Via: SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r\nCSeq: 1 REGISTER\r\n\r\n",
                  PW_REASON_MALFORMED_SIP);
            check("no maddr" + where,
                  "REGISTER sip:198.18.0.1 SIP/2.0\r\n" + x + shortLine + kVia + "CSeq: 1 REGISTER\r\n\r\n",
                  PW_REASON_SIP_RESPONSIVE);
        }
        // The Via as the last header: its end lies in the datagram's last sixteen bytes.
        check("the last header" + at, regViaLast("Via: SIP/2.0/UDP 198.18.9.9;branch=z9hG4bK-" + std::string(pad, '1')),
              PW_REASON_SIP_RESPONSIVE);
        check("the last header, a maddr" + at,
              regViaLast("Via: SIP/2.0/UDP 198.18.9.9;branch=z9hG4bK-" + std::string(pad, '1') + ";maddr=198.18.7.1"),
              PW_REASON_MALFORMED_SIP);
        check("the last header, short, a maddr" + at,
              regViaLast("v: SIP/2.0/UDP " + std::string(pad, 'h') + ";maddr=1"), PW_REASON_MALFORMED_SIP);
    }
    // A datagram that ends inside the Via: no empty line, and what follows is unknown.
    check("the datagram ends inside the Via",
          "REGISTER sip:198.18.0.1 SIP/2.0\r\nCSeq: 1 REGISTER\r\nVia: SIP/2.0/UDP 198.18.9.9;branch=z9hG4bK-1",
          PW_REASON_MALFORMED_SIP);
}

// pw_via_line_ok judges eight bytes at once: what lies in one word with others, at every
// alignment, and what follows the line's end in the same word.
TEST_CASE("Via: brackets, ';' and line ends that share eight bytes", "[bpf][sip][guards][via]")
{
    ViaCases c(GENERATE(Family::V4, Family::V6));
    auto check = [&](const std::string& what, const std::string& payload, pw_reason reason) { c.check(what, payload, reason); };
    const pw_reason ok = PW_REASON_SIP_RESPONSIVE, bad = PW_REASON_MALFORMED_SIP;
    for (size_t pad = 0; pad < 8; ++pad) {
        const std::string via = "Via: SIP/2.0/UDP 198.18.9.9;x=" + std::string(pad, 'p');
        const std::string at = " (pad " + std::to_string(pad) + ")";
        check("']' then '[': the later one is open" + at, reg(via + "]a[\r\n"), bad);
        check("'[' then ']': closed" + at, reg(via + "[a]\r\n"), ok);
        check("']' then '[' on a folded line" + at, reg(via + "]\r\n [\r\n"), bad);
        check("a second ';' that starts a maddr" + at, reg(via + ";m=1;maddr=198.18.77.1\r\n"), bad);
        check("two ';' that start no maddr" + at, reg(via + ";m=1;M=2; lr\r\n"), ok);
        check("a '[' right after the Via's end" + at, reg(via + "\r\nX[: 1\r\n"), ok);
        // Bytes past ASCII carry in the first look's sums (a ';' after them looks like none).
        check("bytes past ASCII, then a maddr" + at, reg(via + "\xc3\xa9;maddr=198.18.77.1\r\n"), bad);
        check("bytes past ASCII, then a '['" + at, reg(via + "\xc3\xa9[a\r\n"), bad);
        check("bytes past ASCII, then the line's end" + at, reg(via + "\xc3\xa9\x8a\xbb\r\n"), ok);
    }
    // ':', '[' and ']' after the line's end, in its last word, are not the Via's: the line
    // ends at 14 + 342 + 1 + 2 < 360 bytes (as "a Via within the budget" above).
    check("brackets and colons right after the Via's end",
          reg("Via: SIP/2.0/UDP " + std::string(342, 'a') + "\r\nX:[:]\r\n"), ok);
}

// A phone's request takes pw_via_fast (one read from the Request-URI to the top Via's end);
// what it cannot vouch for goes to the exact checks. What lies right before the Via's name,
// in the fast read's last word, at every alignment; and bytes past ASCII before it.
TEST_CASE("Via: what lies right before the top Via, at every alignment", "[bpf][sip][guards][via]")
{
    ViaCases c(GENERATE(Family::V4, Family::V6));
    auto check = [&](const std::string& what, const std::string& payload, pw_reason reason) { c.check(what, payload, reason); };
    const pw_reason ok = PW_REASON_SIP_RESPONSIVE, bad = PW_REASON_MALFORMED_SIP;
    const std::string head = "REGISTER sip:198.18.0.1 SIP/2.0\r\n", tail = "CSeq: 1 REGISTER\r\n\r\n";
    for (size_t pad = 0; pad < 8; ++pad) {
        const std::string x = "X-Pad: " + std::string(pad, 'p'), at = " (pad " + std::to_string(pad) + ")";
        for (const char* name : {"Via: ", "v: "}) {
            const std::string via = std::string(name) + "SIP/2.0/UDP 198.18.9.9;branch=z9hG4bK-1\r\n", n = std::string(", ") + name;
            check("clean" + at + n, head + x + "\r\n" + via + tail, ok);
            check("an '&' right before it" + at + n, head + x + "&\r\n" + via + tail, bad);
            check("a '[' right before it" + at + n, head + x + "[\r\n" + via + tail, bad);
            check("a bare CR right before it" + at + n, head + x + "\rY: 1\r\n" + via + tail, bad);
            check("a CR before its line feed's line" + at + n, head + x + "\r\r\n" + via + tail, bad);
            check("a closed '[' before it" + at + n, head + x + "[a]\r\n" + via + tail, ok);
        }
    }
    check("bytes past ASCII before it", head + "From: \"Jos\xc3\xa9\" <sip:2001@198.18.0.1>;tag=1\r\n" + kVia + tail, ok);
    check("bytes past ASCII, then a bare CR", head + "X-A: \xc3\xa9\rY: 1\r\n" + kVia + tail, bad);
    check("bytes past ASCII, then an '&'", head + "X-A: \xc3\xa9&b\r\n" + kVia + tail, bad);
    check("a Replaces before it", head + "Replaces: a;to-tag=1;from-tag=2\r\n" + kVia + tail, bad);
    check("a Route before it", head + "Route: <sip:198.18.0.1;lr>\r\n" + kVia + "To: <sip:2001@pbx.example>\r\n" + tail, ok);
    // With a Route a REGISTER needs one To (Kamailio relays one it takes for in-dialog).
    check("a Route before it, no To", head + "Route: <sip:198.18.0.1;lr>\r\n" + kVia + tail, bad);
}

// pjsip ends a header at an '&' after a value it parsed, but not inside a quoted string: an
// '&' before the top Via passes only inside the quoted display name of a From or To (JAIN-SIP
// clients write those before the Via), with no '"', '\', CR or line feed between the opening
// quote and it. The rest of the review's ways past quote counting must still drop.
TEST_CASE("Via: an '&' in a From or To display name before the top Via", "[bpf][sip][guards][via]")
{
    ViaCases c(GENERATE(Family::V4, Family::V6));
    auto check = [&](const std::string& what, const std::string& payload, pw_reason reason) { c.check(what, payload, reason); };
    const pw_reason ok = PW_REASON_SIP_RESPONSIVE, bad = PW_REASON_MALFORMED_SIP;
    // A JAIN-SIP REGISTER: Call-ID, CSeq, From and To, then the Via.
    auto jain = [](const std::string& from, const std::string& to = "To: <sip:2001@pbx.example>\r\n") {
        return "REGISTER sip:198.18.0.1 SIP/2.0\r\nCall-ID: 7a3c@198.18.9.9\r\nCSeq: 1 REGISTER\r\n" + from + to +
               kVia + "Max-Forwards: 70\r\nContact: <sip:2001@198.18.9.9:5062>\r\nContent-Length: 0\r\n\r\n";
    };
    for (size_t pad = 0; pad < 8; ++pad) {
        const std::string name = std::string(pad, 'R') + "&D";
        const std::string at = " (pad " + std::to_string(pad) + ")";
        check("From \"" + name + "\"" + at, jain("From: \"" + name + "\" <sip:2001@pbx.example>;tag=1\r\n"), ok);
        check("To, compact form" + at,
              jain("f: <sip:2001@pbx.example>;tag=1\r\n", "t:\t\"" + name + " & Co\" <sip:2001@pbx.example>\r\n"), ok);
        check("unquoted" + at, jain("From: " + name + " <sip:2001@pbx.example>;tag=1\r\n"), bad);
        check("after the closing quote" + at, jain("From: \"R\" " + name + " <sip:2001@pbx.example>;tag=1\r\n"), bad);
        check("after an escaped quote" + at, jain("From: \"R\\\"" + name + "\" <sip:2001@pbx.example>;tag=1\r\n"), bad);
        check("a '\"' inside an unquoted name" + at, jain("From: R\"" + name + " <sip:2001@pbx.example>;tag=1\r\n"), bad);
        check("in another header" + at, jain("From: <sip:2001@pbx.example>;tag=1\r\nX-Name: \"" + name + "\"\r\n"), bad);
    }
    check("both, with white space around the ':'",
          jain("FROM :  \"A&B&C\" <sip:2001@pbx.example>;tag=1\r\n", "To : \"A&B&C\" <sip:2001@pbx.example>\r\n"), ok);
    check("in the URI after a quoted name", jain("From: \"R\" <sip:a&b@pbx.example>;tag=1\r\n"), bad);
    check("a '\"' in a bracketed host", jain("From: <sip:a@[\"&]>;tag=1\r\n"), bad);
    check("on a folded line", jain("From:\r\n \"R&D\" <sip:2001@pbx.example>;tag=1\r\n"), bad);
    check("a header named From-like", jain("Fromage: \"R&D\"\r\nFrom: <sip:2001@pbx.example>;tag=1\r\n"), bad);
    check("Replaces", jain("From: <sip:2001@pbx.example>;tag=1\r\nReplaces: \"a&b\"\r\n"), bad);
    // Its line starts within 128 bytes before the '&'; four words with an '&' at most.
    check("120 bytes in", jain("From: \"" + std::string(113, 'n') + "&D\" <sip:2001@pbx.example>;tag=1\r\n"), ok);
    check("136 bytes in", jain("From: \"" + std::string(129, 'n') + "&D\" <sip:2001@pbx.example>;tag=1\r\n"), bad);
    const std::string spread = "A&      B&      C&      D&";
    check("four words with an '&'", jain("From: \"" + spread + "\" <sip:2001@pbx.example>;tag=1\r\n"), ok);
    check("five words with an '&'", jain("From: \"" + spread + "      E&\" <sip:2001@pbx.example>;tag=1\r\n"), bad);
    // pjsip reads a Replaces value up to the first ';', across line ends (review of 2026-12-07):
    // before the top Via, the lines it swallows are not the scan's, a Via among them.
    const std::string maddrVia = "Via: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-e;maddr=198.18.77.1\r\n";
    check("Replaces before the top Via, pjsip's top Via the second",
          "REGISTER sip:198.18.0.1 SIP/2.0\r\nReplaces: x\r\nVia: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-a\r\n" +
              maddrVia + reg("").substr(33),
          bad);
    check("Replaces swallowing a From whose '&' ends it",
          "REGISTER sip:198.18.0.1 SIP/2.0\r\nReplaces: x\r\nFrom: \"a;b&" + maddrVia +
              "f: <sip:2001@pbx.example>;tag=1\r\nVia: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-a\r\n"
              "To: <sip:2001@pbx.example>\r\nCall-ID: 5c1@198.18.9.9\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
          bad);
    check("replaces, any case, a folded name", jain("REPLACES\r\n : x;to-tag=1;from-tag=2\r\nFrom: <sip:a@b>;tag=1\r\n"), bad);
    check("Route and Require before the top Via",
          jain("Route: <sip:198.18.0.1;lr>\r\nRequire: path\r\nReplaces-X: 1\r\nFrom: <sip:2001@pbx.example>;tag=1\r\n"), ok);
    check("Replaces after the top Via", reg(kVia, "Replaces: 1@h;to-tag=1;from-tag=2\r\n"), ok);
    // Its word's CRs and '[' are still read.
    check("a bare CR in its word", jain("From: \"R&D\"\r<sip:2001@pbx.example>;tag=1\r\n"), bad);
    check("a '[' left open in its word", jain("From: \"R&D\" <sip:a@[x>;tag=1\r\n"), bad);
}

// Known sources and trusted ones are not counted for failures: their Via is not checked. A
// source of another zone than internet is looked up when its Via fails.
TEST_CASE("Via: known sources, other zones and fragments", "[bpf][sip][guards][via]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig("", "rate = 1000\nburst = 1000\n"));
    std::deque<std::string> keep;
    const std::string maddr = reg("Via: SIP/2.0/UDP 198.18.9.9;maddr=198.18.77.1\r\n");
    const Peer phone = source(200, keep);

    h.addKnown(addrOf(f, phone), std::chrono::seconds(600));
    checkVerdict(h, expect(named(f, "a known source's maddr"), sipUdp(f, phone, maddr), PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "an unknown local source's maddr"), sipUdp(f, kLocal, maddr), PW_REASON_MALFORMED_SIP,
                           PW_ZONE_LOCAL));
    checkVerdict(h, expect(named(f, "an unknown local source's Via"), sipUdp(f, kLocal, reg(kVia)), PW_REASON_SERVICE,
                           PW_ZONE_LOCAL));
    const Peer otherZone{"198.18.4.10", "2001:db8:4::10"};
    checkVerdict(h, expect(named(f, "an unknown source of the other zone, a maddr"), sipUdp(f, otherZone, maddr),
                           PW_REASON_MALFORMED_SIP, PW_ZONE_OTHER));
    h.addKnown(addrOf(f, kLocal), std::chrono::seconds(600));
    checkVerdict(h, expect(named(f, "a known local source's maddr"), sipUdp(f, kLocal, maddr), PW_REASON_SERVICE,
                           PW_ZONE_LOCAL));
    const Peer trusted{"198.18.1.10", "2001:db8:1::10"};
    checkVerdict(h, expect(named(f, "a trusted source's maddr"), sipUdp(f, trusted, maddr), PW_REASON_TRUSTED,
                           PW_ZONE_TRUSTED));

    // A first fragment: a later one could hold the top Via when this one has none.
    checkVerdict(h, expect(named(f, "a first fragment with its top Via, unknown source"),
                           firstFragment(f, source(201, keep), 0xa1, reg(kVia)), PW_REASON_SIP_RESPONSIVE));
    checkVerdict(h, expect(named(f, "a first fragment without a Via, unknown source"),
                           firstFragment(f, source(202, keep), 0xa3, reg("")), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "a first fragment, known source"), firstFragment(f, phone, 0xa2, reg(kVia)),
                           PW_REASON_SIP_KNOWN));
}

// Kamailio copies a request's version token into its answers ("sip/2.0 401 Unauthorized"; its
// sanity check reads only what follows the '/'), and egress takes status lines that start
// "SIP/2.0 " only: so a request whose failures count must end its request line in " SIP/2.0".
TEST_CASE("Via: the request line of a request whose Via is checked ends in SIP/2.0", "[bpf][sip][guards][via]")
{
    ViaCases c(GENERATE(Family::V4, Family::V6));
    const auto with = [](const std::string& line, const std::string& rest = "") {
        std::string r = reg(kVia);
        return line + r.substr(r.find("\r\n")) + rest;
    };
    c.check("SIP/2.0", with("REGISTER sip:198.18.0.1 SIP/2.0"), PW_REASON_SIP_RESPONSIVE);
    c.check("lower case", with("REGISTER sip:198.18.0.1 sip/2.0"), PW_REASON_MALFORMED_SIP);
    c.check("another token before /2.0", with("REGISTER sip:198.18.0.1 x/2.0"), PW_REASON_MALFORMED_SIP);
    c.check("another version", with("REGISTER sip:198.18.0.1 SIP/2.1"), PW_REASON_MALFORMED_SIP);
    c.check("more after the version", with("REGISTER sip:198.18.0.1 SIP/2.0 x"), PW_REASON_MALFORMED_SIP);
    c.check("a space in the URI", with("REGISTER sip:198.18.0.1 x SIP/2.0"), PW_REASON_MALFORMED_SIP);
    const std::string options = reg(kVia, "", "OPTIONS");
    c.check("an OPTIONS", options, PW_REASON_SIP_RESPONSIVE);
    c.check("an OPTIONS in lower case", "OPTIONS sip:198.18.0.1 sip/2.0" + options.substr(options.find("\r\n")),
            PW_REASON_MALFORMED_SIP);
    std::string bareLf = with("REGISTER sip:198.18.0.1 SIP/2.0");
    bareLf.erase(bareLf.find("\r\n"), 1);
    c.check("a line feed alone", bareLf, PW_REASON_SIP_RESPONSIVE);
    for (size_t len : {7u, 8u, 9u, 10u, 15u, 16u, 17u, 200u, 480u})
        c.check("a Request-URI of " + std::to_string(len + 4) + " bytes",
                with("REGISTER sip:" + std::string(len, 'a') + " SIP/2.0"), PW_REASON_SIP_RESPONSIVE);
    c.check("a Request-URI of 600 bytes", with("REGISTER sip:" + std::string(596, 'a') + " SIP/2.0"),
            PW_REASON_MALFORMED_SIP);
    const Peer phone = source(240, c.keep);
    c.h.addKnown(addrOf(c.f, phone), std::chrono::seconds(600));
    checkVerdict(c.h, expect(named(c.f, "a known source's lower case"), sipUdp(c.f, phone, with("REGISTER sip:198.18.0.1 sip/2.0")),
                             PW_REASON_SIP_KNOWN));
}

namespace {

const char* kRoute = "Route: <sip:198.18.0.1;lr>\r\n";
const char* kTagged = "To: <sip:2001@pbx.example>;tag=a1b2\r\n";

// reg() with its To replaced, `before` after the request line and `after` after Contact.
std::string withTo(const std::string& to, const std::string& before, const std::string& after,
                   const std::string& method = "REGISTER")
{
    std::string r = reg(kVia, after, method);
    const std::string plain = "To: <sip:2001@pbx.example>\r\n";
    r.replace(r.find(plain), plain.size(), to);
    return r.insert(r.find("\r\n") + 2, before);
}

} // namespace

// Kamailio's stock configuration relays a request inside a dialog (a To tag) that has a Route
// (loose_route) before any authentication, whatever its method: a REGISTER so relayed to the
// sender itself (its Request-URI) comes back with the sender's own 200, which Kamailio forwards
// from its SIP port and egress takes for the registrar's: the sender becomes known. A REGISTER
// is never inside a dialog (RFC 3261 10.2): from a source that is not known, one with a Route
// and a To tag, or whose headers cannot be read whole for them, drops.
TEST_CASE("Via: a REGISTER inside a dialog with a Route, from a source that is not known", "[bpf][sip][guards][via]")
{
    ViaCases c(GENERATE(Family::V4, Family::V6));
    const pw_reason ok = PW_REASON_SIP_RESPONSIVE, bad = PW_REASON_MALFORMED_SIP;
    const std::string route = kRoute;
    const std::string tagged = kTagged;
    c.check("a To tag and a Route", withTo(tagged, "", route), bad);
    c.check("a Route before the Via", withTo(tagged, route, ""), bad);
    c.check("the compact To, upper-case TAG", withTo("t: <sip:2001@pbx.example>;TAG=a1b2\r\n", "", route), bad);
    c.check("a To without angle brackets, upper-case Route",
            withTo("To: sip:2001@pbx.example;x=1;tag=9\r\n", "", "ROUTE : <sip:p;lr>\r\n"), bad);
    c.check("a folded To", withTo("To: <sip:2001@pbx.example>\r\n ;tag=a1b2\r\n", "", route), bad);
    c.check("two To lines", withTo("To: <sip:1@p>\r\nTo: <sip:2001@pbx.example>\r\n", "", route), bad);
    // A Route past the first 1,536 bytes the scan reads: what lies there is unknown.
    const std::string pad = "X-Pad: " + std::string(1600, 'p') + "\r\n";
    c.check("a Route past the scan", withTo(tagged, "", pad + route), bad);
    c.check("headers past the scan, no Route", withTo(tagged, "", pad), bad);
    // The first pass notes a line that starts with R in a word with another line end too.
    for (size_t n = 0; n < 8; ++n)
        c.check("a Route after a short line, pad " + std::to_string(n),
                withTo(tagged, "", "X: " + std::string(n, 'x') + "\r\nk: x\r\n" + route), bad);
    // An outbound proxy's Route without a tag (a phone behind an SBC), a tag without a Route
    // (Kamailio answers 404), other headers that start with R (not a Route to loose_route).
    c.check("a Route, no tag", withTo("To: <sip:2001@pbx.example>\r\n", route, route), ok);
    c.check("a tag, no Route", withTo(tagged, "", ""), ok);
    // An '&' in the To's quoted display name is read past; elsewhere the scan stops there (it
    // cannot vouch for what pjsip reads after it), and with a Route the REGISTER drops
    // (README Limits: pjsua-based clients quote "Smith & Co" in From too).
    c.check("an '&' in the To's quoted name, a Route", withTo("To: \"Smith & Co\" <sip:2001@pbx.example>\r\n", route, ""),
            ok);
    c.check("an '&' in another header, a Route", withTo("To: <sip:2001@pbx.example>\r\n", route, "X-B: a&b\r\n"), bad);
    c.check("a tag, a Require and a Record-Route", withTo(tagged, "", "Require: path\r\nRecord-Route: <sip:p;lr>\r\n"),
            ok);
    // A known source is not checked.
    const Peer phone = source(241, c.keep);
    c.h.addKnown(addrOf(c.f, phone), std::chrono::seconds(600));
    checkVerdict(c.h, expect(named(c.f, "a known source's"), sipUdp(c.f, phone, withTo(tagged, "", route)), PW_REASON_SIP_KNOWN));
}

// Kamailio relays a request of any method so: one relayed to its sender makes egress record a
// flow to the sender (the PBX sent it a request), whose answers then pass, a forged 200 to
// REGISTER among them. From a source that is not known, such a request drops, unless the PBX
// sent that source a request itself: a peer it called ends the call with a BYE so.
TEST_CASE("Via: a request of any method inside a dialog with a Route, from a source that is not known",
          "[bpf][sip][guards][via]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    ViaCases c(f);
    const pw_reason ok = PW_REASON_SIP_RESPONSIVE, bad = PW_REASON_MALFORMED_SIP;
    const std::string untagged = "To: <sip:2001@pbx.example>\r\n";
    const std::string pad = "X-Pad: " + std::string(1600, 'p') + "\r\n";
    for (const std::string method : {"OPTIONS", "BYE", "ACK", "CANCEL", "NOTIFY", "SUBSCRIBE", "MESSAGE", "INFO",
                                     "UPDATE", "REFER", "PRACK", "PUBLISH"}) {
        c.check(method + ", a To tag and a Route", withTo(kTagged, "", kRoute, method), bad);
        c.check(method + ", a Route before the Via", withTo(kTagged, kRoute, "", method), bad);
        c.check(method + ", upper-case TAG", withTo("t: <sip:2001@pbx.example>;TAG=a1b2\r\n", "", kRoute, method), bad);
        c.check(method + ", two To lines", withTo("To: <sip:1@p>\r\n" + untagged, "", kRoute, method), bad);
        c.check(method + ", headers past the scan", withTo(untagged, "", pad, method), bad);
        // Headers the byte scan cannot read whole, with a Route: a folded To, an '&'.
        c.check(method + ", a folded To", withTo("To: <sip:2001@pbx.example>\r\n ;tag=a1b2\r\n", "", kRoute, method), bad);
        c.check(method + ", an '&' in another header", withTo(untagged, "", "X-B: a&b\r\n" + std::string(kRoute), method), bad);
        c.check(method + ", a Route, no tag", withTo(untagged, kRoute, kRoute, method), ok);
        c.check(method + ", a tag, no Route", withTo(kTagged, "", "Record-Route: <sip:p;lr>\r\n", method), ok);
    }
    // A peer the PBX sent a request to (it called the peer, or registers with it as a trunk).
    Harness h(guardConfig("", "rate = 1000\nburst = 1000\n"), Programs::IngressAndEgress);
    const Peer peer = source(200, c.keep), other = source(201, c.keep);
    const std::string bye = withTo(kTagged, "", kRoute, "BYE");
    checkVerdict(h, expect(named(f, "a BYE before the PBX's request"), sipUdp(f, peer, bye), bad));
    h.runEgress(ip(f, kHost, peer).udp(kSipPort, 5062).sip("INVITE sip:7@198.18.9.9 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n").bytes());
    checkVerdict(h, expect(named(f, "the called peer's BYE"), sipUdp(f, peer, bye), ok));
    checkVerdict(h, expect(named(f, "its NOTIFY"), sipUdp(f, peer, withTo(kTagged, "", kRoute, "NOTIFY")), ok));
    // Not a REGISTER (never inside a dialog), not a bad Via, not another peer; nor headers past
    // the scan, which could hide a second CSeq (fixtures_sip_cseq.cpp: from known sources only).
    checkVerdict(h, expect(named(f, "its headers past the scan"), sipUdp(f, peer, withTo(kTagged, "", pad + kRoute, "BYE")), bad));
    checkVerdict(h, expect(named(f, "its REGISTER"), sipUdp(f, peer, withTo(kTagged, "", kRoute)), bad));
    checkVerdict(h, expect(named(f, "its BYE with a maddr"),
                           sipUdp(f, peer, withTo(kTagged, "", kRoute, "BYE").replace(bye.find(";rport"), 0, ";maddr=198.18.7.7")),
                           bad));
    checkVerdict(h, expect(named(f, "another peer's BYE"), sipUdp(f, other, bye), bad));
    // A call lasts longer than the 180 s in which the peer's answers are replies: its BYE still
    // passes 181 s after the PBX's last request to it, not two hours after.
    const std::string answer = "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    checkVerdict(h, expect(named(f, "its answer"), sipUdp(f, peer, answer), ok));
    ageOnlyFlow(h, 181);
    checkVerdict(h, expect(named(f, "the called peer's BYE after 181 s"), sipUdp(f, peer, bye), ok));
    checkVerdict(h, expect(named(f, "its answer after 181 s"), sipUdp(f, peer, answer), PW_REASON_NOT_WHITELISTED));
    ageOnlyFlow(h, 7201);
    checkVerdict(h, expect(named(f, "the called peer's BYE after two hours"), sipUdp(f, peer, bye), bad));
}

namespace {

// The egress program with the failure counts of fixtures_egress_sip.cpp (a config of guardfx's
// networks: kNet is an internet source).
const std::string kEgressConfig = guardConfig("max_failures = 3\nchallenge_allowance = 2\n", "rate = 2\nburst = 0\n");

pw_ban_key knownKey(Family f, Peer p)
{
    pw_ban_key k{};
    const Addr a = parseAddr(f == Family::V4 ? p.v4 : p.v6);
    std::memcpy(k.addr, a.bytes.data(), 16);
    return k;
}

bool knownAddr(Harness& h, Family f, Peer p) { return h.maps().known.lookup(knownKey(f, p)).has_value(); }

void forget(Harness& h, Family f, Peer p)
{
    h.maps().known.erase(knownKey(f, p));
    REQUIRE_FALSE(knownAddr(h, f, p));
}

} // namespace

// Egress reads the top Via's maddr after as much white space as ingress does: a known
// source's request is not checked at ingress, and an answer sent to a maddr egress missed
// would be credited to the address it names. A maddr in a later Via does not move the answer.
TEST_CASE("Via: egress credits to nobody an answer whose maddr follows white space or a fold", "[bpf][sip][egress][via]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(kEgressConfig, Programs::IngressAndEgress);
    auto answer = [&](const std::string& via) {
        return ip(f, kHost, kNet)
            .udp(5060, 5060)
            .sip("SIP/2.0 200 OK\r\n" + via +
                 "\r\nFrom: <sip:100@pbx>;tag=1\r\nTo: <sip:100@pbx>;tag=2\r\nCall-ID: v@x\r\nCSeq: 1 REGISTER\r\n"
                 "Contact: <sip:100@198.18.9.1:5060>\r\nContent-Length: 0\r\n\r\n")
            .bytes();
    };
    for (const char* via : {"Via: SIP/2.0/UDP h;\r\n maddr=198.18.9.9", "Via: SIP/2.0/UDP h; \r\n\tmaddr=198.18.9.9",
                            "Via: SIP/2.0/UDP h;   branch=z9hG4bK1", "Via: SIP/2.0/UDP h;maddr;branch=z9hG4bK1",
                            // pjsip reads the bracketed host across the line end, and prints it so.
                            "Via: SIP/2.0/UDP [2001:db8::1\r\nX: ]:5060;branch=z9hG4bK1;maddr=198.18.9.9"}) {
        INFO(named(f, via));
        h.runEgress(answer(via));
        CHECK_FALSE(knownAddr(h, f, kNet));
    }
    h.runEgress(answer("Via: SIP/2.0/UDP h;  branch=z9hG4bK1"));
    CHECK(knownAddr(h, f, kNet));
    forget(h, f, kNet);
    h.runEgress(answer("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP p;maddr=198.18.9.9"));
    CHECK(knownAddr(h, f, kNet));
    forget(h, f, kNet);
    h.runEgress(answer("Via: SIP/2.0/UDP [2001:db8::1]:5060;rport=5060;branch=z9hG4bK1"));
    CHECK(knownAddr(h, f, kNet));
}

} // namespace pbxwall::bpftest
