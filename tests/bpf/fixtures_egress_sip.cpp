// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The PBX's own SIP answers, read at TC egress: a 200 OK to REGISTER makes the peer known,
// 401/407 beyond the allowance, 403 and 404 count as failures and ban at max_failures (an
// internet peer's IPv6 /64: fixtures_egress_v6.cpp).
#include "addr.hpp"
#include "egress_support.hpp"
#include "fixtures.hpp"
#include "state.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <chrono>
#include <string>
#include <thread>
#include <tuple>

namespace pbxwall::bpftest {

using test::Packet;
using namespace egressfx;

namespace {

// A datagram from a peer's SIP port to the PBX's.
Packet sipFromPeer(Family f, Peer p, const std::string& text)
{
    return ip(f, p, kHost).udp(5060, 5060).sip(text);
}

// An answer whose top Via is via (its first line, or lines), as the PBX sends it.
std::string withVia(const std::string& status, const std::string& cseq, const std::string& via)
{
    return "SIP/2.0 " + status + "\r\n" + via +
           "\r\nFrom: <sip:100@pbx>;tag=1\r\nTo: <sip:100@pbx>;tag=2\r\nCall-ID: v@x\r\n" + cseq +
           "\r\nm: <sip:100@198.18.9.1:5060>\r\nContent-Length: 0\r\n\r\n";
}


Packet sipFrom(Family f, Peer p)
{
    return ip(f, p, kHost).udp(5060, 5060).sip("OPTIONS sip:100@198.18.0.1 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n");
}

} // namespace

TEST_CASE("a 200 OK to REGISTER makes the peer known", "[bpf][sip][egress]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "200 OK to REGISTER"));
        Harness h(kConfig, Programs::IngressAndEgress);
        CHECK_FALSE(known(h, f, kNet));
        h.runEgress(answer(f, kNet, response("200 OK", "CSeq: 102 REGISTER")).bytes());
        CHECK(known(h, f, kNet));
        // Well beyond the unknown budget (rate 2, burst 0), as a known source.
        for (int i = 0; i < 20; ++i)
            CHECK(h.run(sipFrom(f, kNet).bytes()).action == XDP_PASS);

        // Case-insensitive header and method, tabs around the number.
        h.runEgress(answer(f, kNet2, response("200 OK", "cseq:\t7\tregister")).bytes());
        CHECK(known(h, f, kNet2));
    }
}

// RFC 3261 18.2.2: a UDP answer goes to the top Via's maddr (pjsip does so), not necessarily to
// the request's source: credited to nobody, lest a guesser get that address banned or known.
TEST_CASE("an answer sent to a Via maddr makes nobody known and counts against nobody", "[bpf][sip][egress][bans]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "maddr"));
        Harness h(kConfig, Programs::IngressAndEgress); // challenge_allowance 2, max_failures 3
        const char* via = "Via: SIP/2.0/UDP 198.18.9.1:5060;rport=5060;maddr=198.18.9.9;branch=z9hG4bK1";
        for (int i = 0; i < 10; ++i)
            h.runEgress(answer(f, kNet, withVia("403 Forbidden", "CSeq: 1 REGISTER", via)).bytes());
        CHECK_FALSE(h.banOf(f == Family::V4 ? kNet.v4 : kNet.v6));
        CHECK(h.maps().fails.keys().empty());
        h.runEgress(answer(f, kNet, withVia("200 OK", "CSeq: 2 REGISTER", via)).bytes());
        CHECK_FALSE(known(h, f, kNet));
        // The compact form, any case, white space before the '='.
        h.runEgress(answer(f, kNet, withVia("200 OK", "CSeq: 3 REGISTER", "v: SIP/2.0/UDP h;MADDR =198.18.9.9")).bytes());
        CHECK_FALSE(known(h, f, kNet));
        // White space may follow the ';' (RFC 3261 25.1: SEMI is SWS ";" SWS).
        h.runEgress(answer(f, kNet, withVia("200 OK", "CSeq: 3 REGISTER", "Via: SIP/2.0/UDP h; \tmaddr=198.18.9.9")).bytes());
        CHECK_FALSE(known(h, f, kNet));
        // chan_sip takes "maddr=" anywhere in the top Via for its maddr (a strstr): in a branch.
        h.runEgress(answer(f, kNet, withVia("200 OK", "CSeq: 3 REGISTER", "Via: SIP/2.0/UDP h;branch=z9hG4bKmaddr=198.18.9.9"))
                        .bytes());
        CHECK_FALSE(known(h, f, kNet));
        // maddr outside a Via (a Contact URI parameter) is not the answer's destination.
        h.runEgress(answer(f, kNet,
                           withVia("200 OK", "CSeq: 4 REGISTER",
                                    "Via: SIP/2.0/UDP 198.18.9.1:5060;branch=z9hG4bK2\r\nContact: <sip:1@h;maddr=198.18.9.9>"))
                        .bytes());
        CHECK(known(h, f, kNet));
    }
}

// The PBX's own requests from the SIP port (to a trunk, a SIP address it calls) make their
// answers replies; answers from unknown internet sources drop otherwise (forged ones too).
TEST_CASE("answers from an unknown internet source pass after the PBX's own request to it", "[bpf][sip][egress]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "the PBX's request"));
        Harness h(kConfig, Programs::IngressAndEgress);
        const std::string challenge = response("401 Unauthorized", "CSeq: 1 REGISTER");
        Outcome before = h.run(sipFromPeer(f, kNet3, challenge).bytes());
        CHECK(before.action == XDP_DROP);
        REQUIRE(before.moved.size() == 1);
        CHECK(before.moved[0].reason == PW_REASON_NOT_WHITELISTED);
        // The PBX registers with kNet3, from its SIP port.
        h.runEgress(answer(f, kNet3, "REGISTER sip:198.18.10.5 SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n").bytes());
        Outcome after = h.run(sipFromPeer(f, kNet3, challenge).bytes());
        CHECK(after.action == XDP_PASS);
        REQUIRE(after.moved.size() == 1);
        CHECK(after.moved[0].reason == PW_REASON_SIP_RESPONSIVE);
        // Another unknown source's answer is still refused; the PBX's answers open nothing.
        h.runEgress(answer(f, kNet2, response("200 OK", "CSeq: 1 OPTIONS")).bytes());
        Outcome other = h.run(sipFromPeer(f, kNet2, challenge).bytes());
        CHECK(other.action == XDP_DROP);
    }
}

// A call the PBX places to a SIP address gets 100, 180 and 200 answers, retransmitted until the
// ACK: past the peer's small budget they are replies, neither dropped as rate_limited nor struck
// towards a rate_limit ban. Its requests are still charged.
TEST_CASE("answers to the PBX's own requests are not charged to the peer's budget", "[bpf][sip][egress]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "answers past the budget"));
        Harness h(kConfig, Programs::IngressAndEgress); // rate 2 a minute, burst 0, ban_after 20
        h.runEgress(answer(f, kNet3, "INVITE sip:bob@198.18.10.5 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n").bytes());
        for (int i = 0; i < 30; ++i) {
            const char* status = i % 3 == 0 ? "100 Trying" : i % 3 == 1 ? "180 Ringing" : "200 OK";
            Outcome o = h.run(sipFromPeer(f, kNet3, response(status, "CSeq: 1 INVITE")).bytes());
            INFO("answer " << i);
            CHECK(o.action == XDP_PASS);
        }
        CHECK_FALSE(h.banOf(f == Family::V4 ? kNet3.v4 : kNet3.v6));
        // A request from the peer past its budget is still rate_limited.
        Outcome req = h.run(sipFromPeer(f, kNet3, "OPTIONS sip:198.18.10.5 SIP/2.0\r\nCSeq: 9 OPTIONS\r\n\r\n").bytes());
        CHECK(req.action == XDP_DROP);
        REQUIRE(req.moved.size() == 1);
        CHECK(req.moved[0].reason == PW_REASON_RATE_LIMITED);
    }
}

// The peer the PBX called refreshes the session or puts the call on hold: an INVITE inside that
// dialog (a To tag, no Route), from a source that is not known. It passes, even to a Request-URI
// that dials abroad (chan_sip puts the caller's number in its Contact); a new call from the
// peer, or an in-dialog INVITE from another source, does not.
TEST_CASE("a peer the PBX called may send INVITEs inside that dialog", "[bpf][sip][egress][toll]")
{
    const std::string oneVia = "Via: SIP/2.0/UDP 198.18.9.9:5060;branch=z9hG4bK7\r\n";
    const auto invite = [&](const std::string& uri, bool toTag, const std::string& vias = "", const char* cseq = "2 INVITE") {
        return "INVITE " + uri + " SIP/2.0\r\n" + (vias.empty() ? oneVia : vias) +
               "From: <sip:bob@198.18.9.9>;tag=b1\r\nTo: <sip:2001@198.18.10.5>" + (toTag ? ";tag=a1" : "") +
               "\r\nCall-ID: c1@198.18.10.5\r\nCSeq: " + cseq + "\r\nContent-Length: 0\r\n\r\n";
    };
    for (Family f : kFamilies) {
        INFO(named(f, "in-dialog INVITE"));
        Harness h(kConfig, Programs::IngressAndEgress);
        const auto reason = [&](Peer p, const std::string& text) {
            Outcome o = h.run(sipFromPeer(f, p, text).bytes());
            REQUIRE(o.moved.size() == 1);
            return o.moved[0].reason;
        };
        CHECK(reason(kNet, invite("sip:2001@198.18.10.5", true)) == PW_REASON_ANONYMOUS_INVITE); // no call to it
        h.runEgress(answer(f, kNet3, "INVITE sip:bob@198.18.10.5 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n").bytes());
        CHECK(reason(kNet3, invite("sip:2001@198.18.10.5", true)) == PW_REASON_SIP_RESPONSIVE);
        // A hold five minutes into the call (past the 180 s of the flow's replies), not two
        // hours after the PBX's last request to the peer (a harness each: the budget is small).
        for (const auto& [seconds, want] : {std::pair{300ULL, PW_REASON_SIP_RESPONSIVE},
                                            std::pair{7201ULL, PW_REASON_ANONYMOUS_INVITE}}) {
            INFO(seconds << " s after the PBX's request");
            Harness ha(kConfig, Programs::IngressAndEgress);
            ha.runEgress(answer(f, kNet3, "INVITE sip:bob@198.18.10.5 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n").bytes());
            ageOnlyFlow(ha, seconds);
            Outcome o = ha.run(sipFromPeer(f, kNet3, invite("sip:2001@198.18.10.5", true)).bytes());
            REQUIRE(o.moved.size() == 1);
            CHECK(o.moved[0].reason == want);
        }
        Harness h2(kConfig, Programs::IngressAndEgress);
        h2.runEgress(answer(f, kNet3, "INVITE sip:bob@198.18.10.5 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n").bytes());
        Outcome toll = h2.run(sipFromPeer(f, kNet3, invite("sip:+442071234567@198.18.10.5", true)).bytes());
        CHECK(toll.action == XDP_PASS);
        Harness h3(kConfig, Programs::IngressAndEgress);
        h3.runEgress(answer(f, kNet3, "INVITE sip:bob@198.18.10.5 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n").bytes());
        Outcome fresh = h3.run(sipFromPeer(f, kNet3, invite("sip:2001@198.18.10.5", false)).bytes());
        REQUIRE(fresh.moved.size() == 1);
        CHECK(fresh.moved[0].reason == PW_REASON_ANONYMOUS_INVITE);
        Harness h4(kConfig, Programs::IngressAndEgress);
        h4.runEgress(answer(f, kNet3, "INVITE sip:bob@198.18.10.5 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n").bytes());
        Outcome other = h4.run(sipFromPeer(f, kNet2, invite("sip:+442071234567@198.18.10.5", true)).bytes());
        REQUIRE(other.moved.size() == 1);
        CHECK(other.moved[0].reason == PW_REASON_TOLL_FRAUD);
        // The peer's proxy record-routes: its re-INVITE comes from the proxy (the address the
        // PBX sent its INVITE to) with the proxy's Via on top of the peer's, as two lines or two
        // values in one. In the dialog all the same (they dropped as anonymous_invite from
        // 2026-12-07 to 2026-12-08: hold and session refreshes failed). A CSeq that names
        // REGISTER is not: chan_sip takes the method from the request line and copies the CSeq
        // into its 200, which egress would take for a registration's.
        const std::string twoVias[] = {
            oneVia + "Via: SIP/2.0/UDP 198.18.9.20:5062;branch=z9hG4bK9;received=198.18.9.20\r\n",
            "Via: SIP/2.0/UDP 198.18.9.9:5060;branch=z9hG4bK7, SIP/2.0/UDP 198.18.9.20:5062;branch=z9hG4bK9\r\n",
        };
        const std::tuple<const char*, std::string, const char*, pw_reason> proxied[] = {
            {"two Via lines", twoVias[0], "2 INVITE", PW_REASON_SIP_RESPONSIVE},
            {"two Via values in one line", twoVias[1], "2 INVITE", PW_REASON_SIP_RESPONSIVE},
            {"two Via lines, to a number abroad", twoVias[0], "2 INVITE", PW_REASON_SIP_RESPONSIVE},
            {"a CSeq that names REGISTER", "", "2 REGISTER", PW_REASON_ANONYMOUS_INVITE},
            {"two Via lines and a CSeq that names REGISTER", twoVias[0], "2 REGISTER", PW_REASON_ANONYMOUS_INVITE},
        };
        for (const auto& [what, vias, cseq, want] : proxied) {
            INFO(what);
            Harness hp(kConfig, Programs::IngressAndEgress);
            hp.runEgress(answer(f, kNet3, "INVITE sip:bob@198.18.10.5 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n").bytes());
            const std::string uri = std::string(what).find("abroad") != std::string::npos ? "sip:+442071234567@198.18.10.5"
                                                                                           : "sip:2001@198.18.10.5";
            Outcome o = hp.run(sipFromPeer(f, kNet3, invite(uri, true, vias, cseq)).bytes());
            REQUIRE(o.moved.size() == 1);
            CHECK(o.moved[0].reason == want);
        }
    }
}

// The scan reads an answer's first kAnswerScan bytes (PW_SIP_SCAN): a top Via that does not
// end within them may hold a maddr past them (pjsip prints maddr after the host), and is
// credited to nobody, as is one with a maddr on a folded line. One within them is read whole.
constexpr size_t kAnswerScan = 1024;

TEST_CASE("an answer whose top Via is not read whole is credited to nobody", "[bpf][sip][egress][bans]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "long Via"));
        Harness h(kConfig, Programs::IngressAndEgress); // challenge_allowance 2, max_failures 3
        // Ends within the scan (Kamailio copies long From and To headers ahead of the Via).
        h.runEgress(answer(f, kNet2, withVia("200 OK", "CSeq: 1 REGISTER", "Via: SIP/2.0/UDP " + std::string(600, 'm')))
                        .bytes());
        CHECK(known(h, f, kNet2));
        const std::string host(kAnswerScan - 52, 'a');
        const std::string longVia = "Via: SIP/2.0/UDP " + host + ":5060;maddr=198.18.9.9;branch=z9hG4bK1";
        for (int i = 0; i < 10; ++i)
            h.runEgress(answer(f, kNet, withVia("403 Forbidden", "CSeq: 1 REGISTER", longVia)).bytes());
        CHECK_FALSE(h.banOf(f == Family::V4 ? kNet.v4 : kNet.v6));
        CHECK(h.maps().fails.keys().empty());
        h.runEgress(answer(f, kNet, withVia("200 OK", "CSeq: 2 REGISTER", longVia)).bytes());
        CHECK_FALSE(known(h, f, kNet));
        // Without a maddr all the same: what lies past the scan is not known.
        h.runEgress(answer(f, kNet, withVia("200 OK", "CSeq: 3 REGISTER", "Via: SIP/2.0/UDP " + host + ":5060")).bytes());
        CHECK_FALSE(known(h, f, kNet));
        // A folded Via: its continuation line is still the Via.
        h.runEgress(answer(f, kNet,
                           withVia("200 OK", "CSeq: 4 REGISTER", "Via: SIP/2.0/UDP 198.18.9.1:5060\r\n ;maddr=198.18.9.9"))
                        .bytes());
        CHECK_FALSE(known(h, f, kNet));
        // No Via at all: nothing says where the answer went.
        h.runEgress(answer(f, kNet, "SIP/2.0 200 OK\r\nCSeq: 5 REGISTER\r\nContent-Length: 0\r\n\r\n").bytes());
        CHECK_FALSE(known(h, f, kNet));
        // A Via of ordinary length, folded without a maddr, then read whole.
        h.runEgress(answer(f, kNet,
                           withVia("200 OK", "CSeq: 6 REGISTER", "Via: SIP/2.0/UDP 198.18.9.1:5060\r\n ;branch=z9hG4bK6"))
                        .bytes());
        CHECK(known(h, f, kNet));
    }
}

// Only the PBX's own requests (a SIP request line) record a flow from the SIP port: its answers,
// keepalives and STUN messages go where a request from outside asked (a STUN Binding success
// response would otherwise let that source's forged SIP answers through as replies).
TEST_CASE("only the PBX's own requests from the SIP port record a flow", "[bpf][sip][egress]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "own requests"));
        Harness h(kConfig, Programs::IngressAndEgress);
        const std::string forged = response("200 OK", "CSeq: 1 REGISTER");
        const std::string cookie("\x21\x12\xa4\x42", 4);
        const std::string stunResponse = std::string("\x01\x01\x00\x00", 4) + cookie + std::string(12, '\x07');
        const std::string stunRequest = std::string("\x00\x01\x00\x00", 4) + cookie + std::string(12, '\x07');
        h.runEgress(answer(f, kNet3, stunResponse).bytes());
        h.runEgress(answer(f, kNet3, stunRequest).bytes());
        h.runEgress(answer(f, kNet3, "\r\n\r\n").bytes());
        h.runEgress(answer(f, kNet3, "PING").bytes());
        h.runEgress(answer(f, kNet3, "register sip:198.18.10.5 SIP/2.0\r\n\r\n").bytes()); // no method is lower case
        h.runEgress(answer(f, kNet3, "REGISTER http://198.18.10.5 SIP/2.0\r\n\r\n").bytes());
        Outcome refused = h.run(sipFromPeer(f, kNet3, forged).bytes());
        CHECK(refused.action == XDP_DROP);
        REQUIRE(refused.moved.size() == 1);
        CHECK(refused.moved[0].reason == PW_REASON_NOT_WHITELISTED);
        // Each request form the PBX sends: "sip:", "sips:", "tel:", an emergency call's "urn:".
        for (const char* line : {"OPTIONS sip:a@198.18.10.5 SIP/2.0", "INVITE SIPS:b@198.18.10.5 SIP/2.0",
                                 "ACK tel:+4420 SIP/2.0", "INVITE urn:service:sos SIP/2.0"}) {
            INFO(line);
            Harness h2(kConfig, Programs::IngressAndEgress);
            h2.runEgress(answer(f, kNet3, std::string(line) + "\r\nCSeq: 1 X\r\n\r\n").bytes());
            CHECK(h2.run(sipFromPeer(f, kNet3, forged).bytes()).action == XDP_PASS);
        }
    }
}

// A SIP service closed to the internet: its answers record no flow either. An answer pjsip
// sends to a Via maddr (asked for by a source the service admits) must not open the service
// to the address named there.
TEST_CASE("a SIP service closed to the internet: its answers open it to nobody", "[bpf][sip][egress]")
{
    std::string closed = kConfig;
    closed.replace(closed.find("zones = [\"trusted\", \"local\", \"other\", \"internet\"]"),
                   std::strlen("zones = [\"trusted\", \"local\", \"other\", \"internet\"]"), "zones = [\"trusted\"]");
    for (Family f : kFamilies) {
        INFO(named(f, "closed"));
        Harness h(closed, Programs::IngressAndEgress);
        const std::string invite = "INVITE sip:2001@198.18.0.1 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n";
        h.runEgress(answer(f, kNet3, response("200 OK", "CSeq: 1 OPTIONS")).bytes());
        Outcome denied = h.run(sipFromPeer(f, kNet3, invite).bytes());
        CHECK(denied.action == XDP_DROP);
        REQUIRE(denied.moved.size() == 1);
        CHECK(denied.moved[0].reason == PW_REASON_SERVICE_DENIED);
        // The PBX's own request to a peer: that peer's answers are replies.
        h.runEgress(answer(f, kNet2, "OPTIONS sip:198.18.10.5 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n").bytes());
        CHECK(h.run(sipFromPeer(f, kNet2, response("200 OK", "CSeq: 1 OPTIONS")).bytes()).action == XDP_PASS);
        // The PBX's answers to that peer do not keep the flow alive: the peer's requests pass as
        // replies, past the guards, only within 180 s of the PBX's own last request to it.
        REQUIRE(h.maps().flows.entries().size() == 1);
        const __u64 seen = h.maps().flows.entries()[0].second.seen_ns;
        std::this_thread::sleep_for(std::chrono::milliseconds(30)); // the coarse clock moves on
        h.runEgress(answer(f, kNet2, response("200 OK", "CSeq: 7 OPTIONS")).bytes());
        REQUIRE(h.maps().flows.entries().size() == 1);
        CHECK(h.maps().flows.entries()[0].second.seen_ns == seen);
        h.runEgress(answer(f, kNet2, "OPTIONS sip:198.18.10.5 SIP/2.0\r\nCSeq: 2 OPTIONS\r\n\r\n").bytes());
        CHECK(h.maps().flows.entries()[0].second.seen_ns > seen); // its own next request does
    }
}

TEST_CASE("other answers do not make the peer known", "[bpf][sip][egress]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "no promotion"));
        Harness h(kConfig, Programs::IngressAndEgress);
        h.runEgress(answer(f, kNet, response("200 OK", "CSeq: 1 INVITE")).bytes());
        h.runEgress(answer(f, kNet, response("202 Accepted", "CSeq: 1 REGISTER")).bytes());
        h.runEgress(answer(f, kNet, response("401 Unauthorized", "CSeq: 1 REGISTER")).bytes());
        h.runEgress(answer(f, kNet, "REGISTER sip:pbx SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n").bytes());
        // A 200 to REGISTER from a port that is not the sip service's is not the PBX's SIP.
        h.runEgress(answer(f, kNet, response("200 OK", "CSeq: 1 REGISTER"), 5070).bytes());
        // Another method that starts with REGISTER.
        h.runEgress(answer(f, kNet, response("200 OK", "CSeq: 1 REGISTERX")).bytes());
        CHECK_FALSE(known(h, f, kNet));
    }
}

// The CSeq of an answer is read as ingress reads a request's (white space before the colon and
// around the number). One with two CSeq lines (a PBX may copy every one the request had, and
// ingress sees only a first fragment), or none, makes no peer known and forgives no challenge.
TEST_CASE("an answer's CSeq: read as ingress reads it, and only when there is exactly one",
          "[bpf][sip][egress][bans]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "answer CSeq"));
        Harness h(kConfig, Programs::IngressAndEgress); // challenge_allowance 2, max_failures 3
        h.runEgress(answer(f, kNet, response("200 OK", "CSeq :\t 12345678 \t REGISTER")).bytes());
        CHECK(known(h, f, kNet));
        h.runEgress(answer(f, kNet2, response("200 OK", "CSeq:        1        REGISTER")).bytes());
        CHECK(known(h, f, kNet2));
        for (const char* two : {"CSeq: 1 OPTIONS\r\nCSeq: 1 REGISTER", "CSeq: 1 REGISTER\r\nCSeq: 1 OPTIONS",
                                "CSeq: 1 REGISTER\r\nX-Pad: 1\r\ncseq : 2 REGISTER"}) {
            INFO(two);
            Harness h2(kConfig, Programs::IngressAndEgress);
            h2.runEgress(answer(f, kNet, response("200 OK", two)).bytes());
            CHECK_FALSE(known(h2, f, kNet));
        }

        // A guesser whose 401s are answered, in between, by 200s that forgive nothing: to an
        // OPTIONS written with spaces, with two CSeq lines, or with none.
        for (const char* cseq : {"CSeq :        1        OPTIONS", "CSeq: 2 INVITE\r\nCSeq: 2 OPTIONS",
                                 "CSeq: 2 OPTIONS\r\nCSeq: 2 INVITE", "X-No-CSeq: 1"}) {
            INFO(cseq);
            Harness h2(kConfig, Programs::IngressAndEgress);
            const char* guesser = f == Family::V4 ? kNet2.v4 : kNet2.v6;
            for (int i = 0; i < 5; ++i) {
                h2.runEgress(answer(f, kNet2, response("401 Unauthorized", "CSeq: 1 REGISTER")).bytes());
                h2.runEgress(answer(f, kNet2, response("200 OK", cseq)).bytes());
            }
            REQUIRE(h2.banOf(guesser));
            CHECK(h2.banOf(guesser)->cause == PW_BAN_AUTH_FAILURE);
        }
    }
}

TEST_CASE("failed authentications ban the peer at max_failures", "[bpf][sip][egress][bans]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "auth failures"));
        Harness h(kConfig, Programs::IngressAndEgress);
        const char* peer = f == Family::V4 ? kNet.v4 : kNet.v6;
        // Two challenges are the allowance; the next two 401/407 and one 403 make three.
        h.runEgress(answer(f, kNet, response("401 Unauthorized", "CSeq: 1 REGISTER")).bytes());
        h.runEgress(answer(f, kNet, response("407 Proxy Authentication Required", "CSeq: 2 INVITE")).bytes());
        CHECK_FALSE(h.banOf(peer));
        h.runEgress(answer(f, kNet, response("401 Unauthorized", "CSeq: 3 REGISTER")).bytes());
        h.runEgress(answer(f, kNet, response("404 Not Found", "CSeq: 4 REGISTER")).bytes());
        CHECK_FALSE(h.banOf(peer));
        h.runEgress(answer(f, kNet, response("403 Forbidden", "CSeq: 5 REGISTER")).bytes());
        auto ban = h.banOf(peer);
        REQUIRE(ban);
        CHECK(ban->cause == PW_BAN_AUTH_FAILURE);
        auto events = h.events();
        REQUIRE(events.size() == 1);
        CHECK(events[0].type == PW_EVENT_BAN);
        CHECK(events[0].cause == PW_BAN_AUTH_FAILURE);
        // The ban takes effect on the next packet.
        CHECK(h.run(sipFrom(f, kNet).bytes()).action == XDP_DROP);
    }
}

// A ban in force is never shortened by one of the same kind the data plane sets: the PBX may
// still answer, with failures, requests that came in before an administrator's ban for good.
TEST_CASE("a data-plane ban never shortens a ban in force", "[bpf][sip][egress][bans]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "a ban in force"));
        Harness h(kConfig, Programs::IngressAndEgress);
        const char* peer = f == Family::V4 ? kNet.v4 : kNet.v6;
        // Under the data plane's own key: the IPv4 address, an internet IPv6 peer's /64.
        const Addr keyAddr = f == Family::V4 ? parseAddr(peer) : masked(parseAddr(peer), 64);
        const __u8 prefix = f == Family::V4 ? 0 : 64;
        pw_ban_key k{};
        std::memcpy(k.addr, keyAddr.bytes.data(), 16);
        const auto failures = [&] {
            h.runEgress(answer(f, kNet, response("401 Unauthorized", "CSeq: 1 REGISTER")).bytes());
            h.runEgress(answer(f, kNet, response("401 Unauthorized", "CSeq: 2 REGISTER")).bytes());
            for (int i = 0; i < 3; ++i)
                h.runEgress(answer(f, kNet, response("403 Forbidden", "CSeq: 3 REGISTER")).bytes());
        };
        h.maps().bans.update(k, pw_ban{0, monotonicNowNs(), PW_BAN_MANUAL, prefix, {}}); // for good
        failures();
        if (f == Family::V6) {
            // The /64's first crossing bans the address alone (a key of its own), the second
            // bans the /64.
            CHECK(h.maps().bans.lookup(addrKey(peer)).value().prefix == 0);
            CHECK(h.events().size() == 1);
            failures();
        }
        auto ban = h.maps().bans.lookup(k);
        REQUIRE(ban);
        CHECK(ban->expires_ns == 0);
        CHECK(ban->cause == PW_BAN_MANUAL);
        CHECK(ban->prefix == prefix);
        CHECK(h.events().empty()); // banned already: nothing new to report
        // One that ends before ban_seconds (60) would gives way to the data plane's.
        const uint64_t soon = monotonicNowNs() + 5'000'000'000ULL;
        h.maps().bans.update(k, pw_ban{soon, monotonicNowNs(), PW_BAN_MANUAL, prefix, {}});
        failures();
        ban = h.maps().bans.lookup(k);
        REQUIRE(ban);
        CHECK(ban->expires_ns > soon + 30'000'000'000ULL);
        CHECK(ban->cause == PW_BAN_AUTH_FAILURE);
        CHECK(ban->prefix == prefix);
        CHECK_FALSE(h.events().empty());
    }
}

// The registration makes the peer known, and a known peer is not banned for failures (its
// count runs on to the end of its window: see the /64 case below for why).
TEST_CASE("a successful REGISTER: earlier failures ban the peer no more", "[bpf][sip][egress]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "forgiven"));
        Harness h(kConfig, Programs::IngressAndEgress);
        const char* peer = f == Family::V4 ? kNet.v4 : kNet.v6;
        h.runEgress(answer(f, kNet, response("403 Forbidden", "CSeq: 1 REGISTER")).bytes());
        h.runEgress(answer(f, kNet, response("403 Forbidden", "CSeq: 2 REGISTER")).bytes());
        h.runEgress(answer(f, kNet, response("200 OK", "CSeq: 3 REGISTER")).bytes());
        h.runEgress(answer(f, kNet, response("403 Forbidden", "CSeq: 4 REGISTER")).bytes());
        h.runEgress(answer(f, kNet, response("403 Forbidden", "CSeq: 5 REGISTER")).bytes());
        CHECK_FALSE(h.banOf(peer));
    }
}

TEST_CASE("known peers are not banned for failures; after their registration runs out they are",
          "[bpf][sip][egress][bans]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "known"));
        Harness h(kConfig, Programs::IngressAndEgress);
        const char* peer = f == Family::V4 ? kNet.v4 : kNet.v6;
        // One phone behind an office's NAT address registers; another behind it keeps failing.
        h.runEgress(answer(f, kNet, response("200 OK", "CSeq: 1 REGISTER")).bytes());
        for (int i = 0; i < 10; ++i)
            h.runEgress(answer(f, kNet, response("403 Forbidden", "CSeq: 2 REGISTER")).bytes());
        CHECK_FALSE(h.banOf(peer));
        CHECK(h.run(sipFrom(f, kNet).bytes()).action == XDP_PASS);
        // The registration runs out: failures ban again.
        pw_ban_key k{};
        std::memcpy(k.addr, parseAddr(peer).bytes.data(), 16);
        auto kn = h.maps().known.lookup(k);
        REQUIRE(kn);
        kn->expires_ns = 1;
        h.maps().known.update(k, *kn);
        for (int i = 0; i < 3; ++i)
            h.runEgress(answer(f, kNet, response("403 Forbidden", "CSeq: 3 REGISTER")).bytes());
        auto ban = h.banOf(peer);
        REQUIRE(ban);
        CHECK(ban->cause == PW_BAN_AUTH_FAILURE);
    }
}

TEST_CASE("trusted peers are never banned for failures", "[bpf][sip][egress][bans]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "trusted"));
        Harness h(kConfig, Programs::IngressAndEgress);
        for (int i = 0; i < 10; ++i)
            h.runEgress(answer(f, kTrusted, response("403 Forbidden", "CSeq: 1 REGISTER")).bytes());
        CHECK_FALSE(h.banOf(f == Family::V4 ? kTrusted.v4 : kTrusted.v6));
        CHECK(h.events().empty());
    }
}

} // namespace pbxwall::bpftest

namespace pbxwall::bpftest {

using namespace egressfx;

namespace {

constexpr uint64_t kSec = 1000000000ULL;

// How long the peer stays known, in whole seconds (rounded), or -1 when it is not known.
long knownSeconds(Harness& h, Family f, Peer p)
{
    pw_ban_key k{};
    const Addr a = parseAddr(f == Family::V4 ? p.v4 : p.v6);
    std::memcpy(k.addr, a.bytes.data(), 16);
    const auto kn = h.maps().known.lookup(k);
    if (!kn)
        return -1;
    return static_cast<long>((kn->expires_ns - kn->created_ns + kSec / 2) / kSec);
}


} // namespace

TEST_CASE("the known lifetime follows the registration's expiry, capped at known_seconds", "[bpf][sip][egress]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "known lifetime"));
        Harness h(kConfig, Programs::IngressAndEgress); // known_seconds: the default 7200
        const Peer a{"198.18.9.30", "2001:db8:9::30"}, b{"198.18.9.31", "2001:db8:9::31"},
            c{"198.18.9.32", "2001:db8:9::32"}, d{"198.18.9.33", "2001:db8:9::33"}, e{"198.18.9.34", "2001:db8:9::34"};
        // The Expires header, plus 30 s of grace.
        h.runEgress(answer(f, a, registered("Expires: 120\r\n")).bytes());
        CHECK(knownSeconds(h, f, a) == 150);
        // Contact expires= parameters (every binding is listed): the largest wins; any case.
        h.runEgress(answer(f, b, registered("Contact: <sip:2001@198.18.9.31:5060>;EXPIRES=300\r\n"
                                            "Contact: <sip:2001@198.18.9.99:5060>;q=0.5;expires = 60\r\n"))
                        .bytes());
        CHECK(knownSeconds(h, f, b) == 330);
        // Capped at known_seconds, then the grace: FreePBX's longest registration, 7200 s, is
        // known to its refresh.
        h.runEgress(answer(f, c, registered("Expires: 86400\r\n")).bytes());
        CHECK(knownSeconds(h, f, c) == 7230);
        h.runEgress(answer(f, c, registered("Expires: 7200\r\n")).bytes());
        CHECK(knownSeconds(h, f, c) == 7230);
        // No expiry in the answer: known_seconds, and the grace.
        h.runEgress(answer(f, d, registered("")).bytes());
        CHECK(knownSeconds(h, f, d) == 7230);
        // An answer longer than the kAnswerScan bytes read: the phone's own binding may be past
        // them, longer than the other device's read first, so known_seconds.
        std::string bindings;
        while (bindings.size() < kAnswerScan - 100)
            bindings += "Contact: <sip:2001@198.18.9.98:5060>;+sip.instance=\"<urn:uuid:0000-8000-0015650a>\";expires=60\r\n";
        const Peer g{"198.18.9.35", "2001:db8:9::35"};
        bindings += "Contact: <sip:2001@198.18.9.35:5060>;expires=3600\r\n";
        REQUIRE(registered(bindings).find("expires=3600") > kAnswerScan);
        h.runEgress(answer(f, g, registered(bindings)).bytes());
        CHECK(knownSeconds(h, f, g) == 7230);
        // The entry is the address's, shared by the phones behind one NAT address: a refresh
        // extends it, a shorter one leaves it, and a de-registration (expiry 0) does not end it.
        h.runEgress(answer(f, e, registered("Expires: 60\r\n")).bytes());
        CHECK(knownSeconds(h, f, e) == 90);
        h.runEgress(answer(f, e, registered("Expires: 600\r\n")).bytes());
        CHECK(knownSeconds(h, f, e) == 630);
        h.runEgress(answer(f, e, registered("Expires: 60\r\n")).bytes());
        CHECK(knownSeconds(h, f, e) == 630);
        h.runEgress(answer(f, e, registered("Contact: <sip:2001@198.18.9.34>;expires=0\r\n")).bytes());
        CHECK(knownSeconds(h, f, e) == 630);
        h.runEgress(answer(f, e, registered("Expires: 0\r\n")).bytes());
        CHECK(knownSeconds(h, f, e) == 630);
        // A 200 read whole that lists no binding (Kamailio and pjsip answer the removal of the
        // last one so, with no expiry at all; or a query): nobody becomes known, nor longer.
        const std::string one = registered("");
        const size_t at = one.find("Contact:");
        const std::string none = std::string(one).erase(at, one.find("\r\n", at) + 2 - at);
        const Peer u{"198.18.9.36", "2001:db8:9::36"};
        h.runEgress(answer(f, u, none).bytes());
        CHECK(knownSeconds(h, f, u) == -1);
        h.runEgress(answer(f, e, none).bytes());
        CHECK(knownSeconds(h, f, e) == 630);
        // "Contact-Info" names no binding; "Contact :" (and "m:", the compact form) does.
        h.runEgress(answer(f, u, std::string(one).replace(at, 8, "Contact-Info:")).bytes());
        CHECK(knownSeconds(h, f, u) == -1);
        h.runEgress(answer(f, u, std::string(one).replace(at, 8, "Contact :")).bytes());
        CHECK(knownSeconds(h, f, u) == 7230);
    }
}

} // namespace pbxwall::bpftest

namespace pbxwall::bpftest {

using namespace egressfx;

TEST_CASE("a new known source is reported once; a full known table is reported, never silent",
          "[bpf][sip][egress][events]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "known events"));
        Harness h(kConfig, Programs::IngressAndEgress, {{PW_MAP_NAME_KNOWN, 1}});
        const std::string ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.9.9:5060\r\nCSeq: 7 REGISTER\r\n"
                               "Contact: <sip:1@198.18.9.9>\r\nExpires: 120\r\n\r\n";
        h.runEgress(answer(f, kNet, ok).bytes());
        auto ev = h.events();
        REQUIRE(ev.size() == 1);
        CHECK(ev[0].type == PW_EVENT_KNOWN);
        CHECK(ev[0].duration_ns == 150ULL * 1000000000ULL);
        const Addr a = parseAddr(f == Family::V4 ? kNet.v4 : kNet.v6);
        CHECK(std::memcmp(ev[0].addr, a.bytes.data(), 16) == 0);
        // A refresh is not news.
        h.runEgress(answer(f, kNet, ok).bytes());
        CHECK(h.events().empty());
        // The table (one entry here) is full: the second phone cannot become known, and says so.
        h.runEgress(answer(f, kNet2, ok).bytes());
        ev = h.events();
        REQUIRE(ev.size() == 1);
        CHECK(ev[0].type == PW_EVENT_KNOWN_FULL);
        CHECK(h.maps().known.keys().size() == 1);
    }
}

} // namespace pbxwall::bpftest
