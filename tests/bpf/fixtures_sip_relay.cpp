// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Answers a proxy would forward: a peer with a flow (the PBX, or Kamailio relaying for someone,
// sent it a request) answers with a 200 to REGISTER that carries a second Via. Kamailio
// forwards it, less its own top Via, to the address the next Via names, from its SIP port, and
// egress would take it for the PBX's own answer and make that address known. Ingress refuses
// such answers from sources that are not known (pw_answer_relayed), over the budget too.
#include "addr.hpp"
#include "egress_support.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace pbxwall::bpftest {

using test::Packet;
using namespace egressfx;

namespace {

// kConfig with a budget that the cases of one test do not use up (their answers would pass as
// replies past it, pw_udp_answer_reply: the last tests).
std::string roomyConfig()
{
    std::string c = kConfig;
    const std::string from = "rate = 2\nburst = 0\n";
    c.replace(c.find(from), from.size(), "rate = 600\nburst = 100\n");
    return c;
}

// Kamailio's own Via (198.18.0.1, the PBX's address in these fixtures) on top.
const std::string kProxyVia = "Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK77a1";
// The Via the proxy would forward to: an address that wants to be known.
const std::string kSenderVia = "Via: SIP/2.0/UDP 198.18.2.7:5060;rport;branch=z9hG4bK9c";

// An answer with the given Via lines and CSeq.
std::string answerWith(const std::string& status, const std::string& vias, const std::string& cseq,
                       const std::string& more = "")
{
    return "SIP/2.0 " + status + "\r\n" + vias + "\r\nFrom: <sip:2001@198.18.0.1>;tag=1\r\n" +
           "To: <sip:2001@198.18.0.1>;tag=2\r\nCall-ID: relay1@198.18.2.7\r\n" + cseq + "\r\n" + more +
           "Contact: <sip:2001@198.18.2.7:5060>;expires=3600\r\nContent-Length: 0\r\n\r\n";
}

Packet fromPeer(Family f, Peer p, const std::string& text)
{
    return ip(f, p, kHost).udp(5060, 5060).sip(text);
}

// The PBX's SIP port sends kNet3 a REGISTER (Kamailio relaying one on its Route, or the PBX
// registering with a trunk): kNet3 has a flow, and its answers pass as replies.
void flowTo(Harness& h, Family f, Peer p = kNet3)
{
    h.runEgress(answer(f, p, "REGISTER sip:198.18.10.5 SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n").bytes());
}

void checkDrops(Harness& h, Family f, const std::string& text, uint32_t reason = PW_REASON_NOT_WHITELISTED)
{
    Outcome o = h.run(fromPeer(f, kNet3, text).bytes());
    CHECK(o.action == XDP_DROP);
    REQUIRE(o.moved.size() == 1);
    CHECK(o.moved[0].reason == reason);
}

void checkPasses(Harness& h, Family f, const std::string& text)
{
    Outcome o = h.run(fromPeer(f, kNet3, text).bytes());
    CHECK(o.action == XDP_PASS);
}

} // namespace

TEST_CASE("an answer to REGISTER with a second Via, from a peer with a flow, drops", "[bpf][sip][egress][relay]")
{
    const std::string reg = "CSeq: 1 REGISTER";
    const std::string two = kProxyVia + "\r\n" + kSenderVia;
    for (Family f : kFamilies) {
        Harness h(roomyConfig(), Programs::IngressAndEgress);
        flowTo(h, f);
        {
            INFO(named(f, "the trunk's own answers: one Via, the PBX's"));
            checkPasses(h, f, answerWith("401 Unauthorized", kProxyVia, reg));
            checkPasses(h, f, answerWith("200 OK", kProxyVia, reg));
        }
        {
            INFO(named(f, "two Via lines"));
            checkDrops(h, f, answerWith("200 OK", two, reg));
        }
        {
            INFO(named(f, "two Via values on one line, a compact second Via, a folded one"));
            checkDrops(h, f, answerWith("200 OK", kProxyVia + ", SIP/2.0/UDP 198.18.2.7:5060;rport", reg));
            checkDrops(h, f, answerWith("200 OK", kProxyVia + "\r\nv: SIP/2.0/UDP 198.18.2.7:5060", reg));
            checkDrops(h, f, answerWith("200 OK", "VIA : SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK77a1\r\n" + kSenderVia, reg));
            checkDrops(h, f, answerWith("200 OK", kProxyVia + "\r\n ,SIP/2.0/UDP 198.18.2.7:5060", reg));
        }
        {
            INFO(named(f, "a ',' far into a long Via line, and line ends without CR"));
            checkDrops(h, f, answerWith("200 OK", kProxyVia + ";received=198.18.0.1;x-long-parameter=abcdefghij,SIP/2.0/UDP 198.18.2.7", reg));
            std::string lf = answerWith("200 OK", two, reg);
            for (size_t at; (at = lf.find("\r\n")) != std::string::npos;)
                lf.erase(at, 1);
            checkDrops(h, f, lf);
            std::string lfOne = answerWith("200 OK", kProxyVia, reg);
            for (size_t at; (at = lfOne.find("\r\n")) != std::string::npos;)
                lfOne.erase(at, 1);
            checkPasses(h, f, lfOne);
            // Another header that starts with V is read, and is no Via.
            checkPasses(h, f, answerWith("200 OK", kProxyVia, reg, "Vary: x\r\n"));
        }
        {
            INFO(named(f, "the second Via after a CR that no line feed follows"));
            checkDrops(h, f, answerWith("200 OK", kProxyVia + "\r" + kSenderVia, reg));
        }
        {
            INFO(named(f, "a CSeq in other spellings, the second Via after it"));
            checkDrops(h, f, answerWith("200 OK", kProxyVia, "cseq: 1 register\r\n" + kSenderVia));
            checkDrops(h, f, answerWith("200 OK", kProxyVia, "CSeq :  1  Register\r\n" + kSenderVia));
        }
        {
            INFO(named(f, "challenges and refusals (egress counts them against the next Via)"));
            checkDrops(h, f, answerWith("401 Unauthorized", two, reg));
            checkDrops(h, f, answerWith("403 Forbidden", two, reg));
            checkDrops(h, f, answerWith("404 Not Found", two, reg));
            checkDrops(h, f, answerWith("407 Proxy Authentication Required", two, reg));
            checkDrops(h, f, answerWith("202 Accepted", two, reg));
        }
        {
            INFO(named(f, "headers the scan cannot read whole: a control byte"));
            checkDrops(h, f, answerWith("200 OK", kProxyVia, reg, std::string("X-Note: a\x01") + "b\r\n"));
            // Headers past the 1,536 bytes read, whatever they name.
            checkDrops(h, f, answerWith("200 OK", kProxyVia, "CSeq: 1 INVITE", "X-Long: " + std::string(1600, 'x') + "\r\n"));
        }
        {
            INFO(named(f, "an '&' is any byte in an answer (a trunk's Server: AT&T)"));
            checkPasses(h, f, answerWith("401 Unauthorized", kProxyVia, reg, "Server: AT&T SBC\r\n"));
        }
        {
            INFO(named(f, "what egress does not act on, and answers to INVITE, pass"));
            checkPasses(h, f, answerWith("180 Ringing", two, reg));
            checkPasses(h, f, answerWith("100 Trying", kProxyVia + "\r" + kSenderVia, reg));
            checkPasses(h, f, answerWith("500 Server Error", two, reg));
            // A proxy's call to a SIP address: the callee's answers carry the caller's Via.
            checkPasses(h, f, answerWith("200 OK", two, "CSeq: 1 INVITE"));
            checkPasses(h, f, answerWith("486 Busy Here", two, "CSeq: 1 INVITE"));
            // Where "register" appears nowhere, the CSeq names no REGISTER: not read further.
            checkPasses(h, f, answerWith("200 OK", kProxyVia + "\r" + kSenderVia, "CSeq: 1 INVITE", "X-Note: a&b\r\n"));
            // A long body (SDP) after headers that end within the bytes read.
            checkPasses(h, f, answerWith("200 OK", two, "CSeq: 1 INVITE", "Content-Type: application/sdp\r\n") +
                                  "v=0\r\n" + std::string(1600, 'a') + "\r\n");
            // An INVITE answer that names REGISTER elsewhere is read, and passes.
            checkPasses(h, f, answerWith("404 Not Found", two, "CSeq: 2 INVITE", "Allow: INVITE, REGISTER\r\n"));
            checkPasses(h, f, answerWith("200 OK", two, "CSeq: 1 INVITE", "Warning: 399 x \"re-register\"\r\n"));
        }
    }
}

TEST_CASE("an answer a proxy would forward drops past the peer's budget too", "[bpf][sip][egress][relay]")
{
    const std::string two = kProxyVia + "\r\n" + kSenderVia;
    for (Family f : kFamilies) {
        INFO(named(f, "over budget"));
        Harness h(kConfig, Programs::IngressAndEgress); // rate 2 a minute, burst 0
        flowTo(h, f);
        for (int i = 0; i < 4; ++i)
            checkPasses(h, f, answerWith("200 OK", kProxyVia, "CSeq: 1 REGISTER"));
        // The budget is used up: answers pass as replies, this one is not a reply.
        checkDrops(h, f, answerWith("200 OK", two, "CSeq: 1 REGISTER"), PW_REASON_RATE_LIMITED);
        checkDrops(h, f, answerWith("200 OK", kProxyVia + "\r" + kSenderVia, "CSeq: 1 REGISTER"),
                   PW_REASON_RATE_LIMITED);
        checkPasses(h, f, answerWith("200 OK", two, "CSeq: 1 INVITE"));
    }
}

// Reading an answer header by header costs microseconds, and answers from a peer with a flow
// pass past its budget: such reads are bounded, per peer (500 a second, 64 at once) and for all
// (2,000 a second, 256 at once), and what a flood leaves unread drops, without a strike against
// the (perhaps forged) source. A flood with one peer's address takes that peer's reads only.
// An answer with one clean Via line needs no read: a trunk's own answers pass through a flood.
namespace {

const std::string kTwoVias = kProxyVia + "\r\n" + kSenderVia;

// A proxy's call to a SIP address: two Vias, and REGISTER named in Allow, so read each time.
std::vector<uint8_t> readAnswer(Peer p)
{
    return fromPeer(Family::V4, p, answerWith("200 OK", kTwoVias, "CSeq: 1 INVITE", "Allow: INVITE, REGISTER\r\n")).bytes();
}

// kNet3's answers to a call the PBX placed, with one Via: replies.
void checkCallAnswersAreReplies(Harness& h, Family f)
{
    for (const char* status : {"100 Trying", "180 Ringing", "200 OK", "401 Unauthorized", "407 Proxy Authentication Required"}) {
        INFO(named(f, status));
        Outcome o = h.run(fromPeer(f, kNet3, answerWith(status, kProxyVia, "CSeq: 1 INVITE")).bytes());
        CHECK(o.action == XDP_PASS);
        REQUIRE(o.moved.size() == 1);
        CHECK(o.moved[0].reason == PW_REASON_REPLY);
    }
}

} // namespace

TEST_CASE("reads of answers for a second Via are bounded per peer; past the bound they drop", "[bpf][sip][egress][relay]")
{
    Harness h(roomyConfig(), Programs::IngressAndEgress);
    const Peer other{"198.18.10.21", "2001:db8:a::21"};
    flowTo(h, Family::V4);
    flowTo(h, Family::V4, other);
    const auto read = readAnswer(kNet3);
    int passed = 0, dropped = 0, firstDrop = -1;
    for (int i = 0; i < 300; ++i) {
        if (h.action(read) == XDP_PASS) {
            ++passed;
        } else {
            ++dropped;
            if (firstDrop < 0)
                firstDrop = i;
        }
    }
    INFO("passed " << passed << ", first drop at " << firstDrop);
    CHECK(dropped > 0);
    CHECK(firstDrop >= 64);  // the peer's burst first
    CHECK(firstDrop < 200);  // and its bound before the one for all
    // Meanwhile another peer's answers are read, the flooded peer's own answers to the PBX's
    // REGISTER (one Via) and a call's pass, its answer to REGISTER with two Vias drops, and
    // nobody is banned.
    CHECK(h.action(readAnswer(other)) == XDP_PASS);
    const auto own = [&](const char* status, const char* cseq) {
        return h.action(fromPeer(Family::V4, kNet3, answerWith(status, kProxyVia, cseq)).bytes());
    };
    CHECK(own("401 Unauthorized", "CSeq: 1 REGISTER") == XDP_PASS);
    CHECK(own("200 OK", "CSeq: 2 REGISTER") == XDP_PASS);
    CHECK(own("180 Ringing", "CSeq: 1 INVITE") == XDP_PASS);
    CHECK(own("200 OK", "CSeq: 1 INVITE") == XDP_PASS);
    CHECK(h.action(fromPeer(Family::V4, kNet3, answerWith("200 OK", kTwoVias, "CSeq: 1 REGISTER")).bytes()) == XDP_DROP);
    // Still over its bound: of 20 more, a few pass at most (the clock gives 2 reads back a
    // tick of 4 ms, and one may fall between two packets).
    int again = 0;
    for (int i = 0; i < 20; ++i)
        again += h.action(read) == XDP_PASS;
    CHECK(again <= 10);
    CHECK_FALSE(h.banOf(kNet3.v4));
    // A pause gives reads back.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(h.action(read) == XDP_PASS);
}

TEST_CASE("reads of answers for a second Via are bounded for all peers together", "[bpf][sip][egress][relay]")
{
    Harness h(roomyConfig(), Programs::IngressAndEgress);
    // Eight peers whose addresses take eight slots of pw_answer_peers, and a ninth.
    const Peer peers[] = {{"198.18.10.21", "2001:db8:a::21"}, {"198.18.10.22", "2001:db8:a::22"},
                          {"198.18.10.23", "2001:db8:a::23"}, {"198.18.10.24", "2001:db8:a::24"},
                          {"198.18.10.25", "2001:db8:a::25"}, {"198.18.10.26", "2001:db8:a::26"},
                          {"198.18.10.27", "2001:db8:a::27"}, {"198.18.10.28", "2001:db8:a::28"}};
    const Peer last{"198.18.10.29", "2001:db8:a::29"};
    for (const Peer& p : peers)
        flowTo(h, Family::V4, p);
    flowTo(h, Family::V4, last);
    std::vector<std::vector<uint8_t>> reads;
    for (const Peer& p : peers)
        reads.push_back(readAnswer(p));
    const auto lastRead = readAnswer(last);
    // The peers in turn, 60 answers each: fewer than a peer's own 64 at once, so a drop is the
    // bound for all (256 at once).
    int passed = 0, firstDrop = -1;
    for (int i = 0; i < 8 * 60; ++i) {
        if (h.action(reads[i % reads.size()]) == XDP_PASS)
            ++passed;
        else if (firstDrop < 0)
            firstDrop = i;
    }
    INFO("passed " << passed << ", first drop at " << firstDrop);
    CHECK(firstDrop >= 256);
    // Then the ninth peer's answers that need a read drop too (a few may pass as the clock
    // gives reads back, 8 a tick of 4 ms); its answers that need none pass.
    int lastPassed = 0;
    for (int i = 0; i < 50; ++i)
        lastPassed += h.action(lastRead) == XDP_PASS;
    CHECK(lastPassed < 25);
    CHECK(h.action(fromPeer(Family::V4, last, answerWith("200 OK", kProxyVia, "CSeq: 1 INVITE")).bytes()) == XDP_PASS);
    CHECK_FALSE(h.banOf(last.v4));
}

// A peer the PBX called answers from an address with no budget yet: past a shut new-source gate
// (a spoofed flood holds it shut) its answers pass as replies, without state, as they do past a
// budget; what guard 1 refuses still drops, and so do requests and answers without a flow.
TEST_CASE("a peer's answers pass the shut new-source gate as replies", "[bpf][sip][egress][relay][newsrc]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    std::string config = roomyConfig();
    config.replace(config.find("max_failures"), 0, "new_sources_per_second = 1\n");
    Harness h(config, Programs::IngressAndEgress);
    // One an hour: the gate stays shut for the case, however slow the run.
    pw_policy pol = h.maps().policy.lookup(h.maps().activeGen()).value();
    pol.newsrc_interval_ns = 3600ULL * 1000000000ULL;
    h.maps().policy.update(h.maps().activeGen(), pol);
    flowTo(h, f);
    // Each in a /64 of its own (an IPv6 budget is per /64).
    const Peer first{"198.18.10.31", "2001:db8:b::31"}, second{"198.18.10.32", "2001:db8:c::32"};
    const std::string options = "OPTIONS sip:198.18.0.1 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n";
    CHECK(h.run(fromPeer(f, first, options).bytes()).moved.at(0).reason == PW_REASON_SIP_RESPONSIVE);
    CHECK(h.run(fromPeer(f, second, options).bytes()).moved.at(0).reason == PW_REASON_NEW_SOURCE_LIMITED);
    const size_t budgets = h.maps().rate.keys().size();
    checkCallAnswersAreReplies(h, f);
    CHECK(h.maps().rate.keys().size() == budgets);
    // The peer's requests are no replies: the gate holds them. Nor is a status line that is none.
    checkDrops(h, f, options, PW_REASON_NEW_SOURCE_LIMITED);
    checkDrops(h, f, "SIP/2.0 700 Other\r\nCSeq: 1 INVITE\r\n\r\n", PW_REASON_MALFORMED_SIP);
    // One a proxy would forward to the second Via: guard 1's, before the gate.
    checkDrops(h, f, answerWith("200 OK", kTwoVias, "CSeq: 1 REGISTER"));
    // No flow: an answer is no reply.
    Outcome o = h.run(fromPeer(f, second, answerWith("200 OK", kProxyVia, "CSeq: 1 INVITE")).bytes());
    CHECK(o.action == XDP_DROP);
    CHECK(o.moved.at(0).reason == PW_REASON_NOT_WHITELISTED);
    CHECK_FALSE(h.banOf(f == Family::V4 ? kNet3.v4 : kNet3.v6));
}

// With responsive = false, what is not known drops, but for replies: a peer the PBX called
// answers (as a TCP peer's segments of a connection the PBX opened pass), guard 1's way.
TEST_CASE("responsive = false: a peer's answers to the PBX's requests are replies", "[bpf][sip][egress][relay]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    std::string config = roomyConfig();
    config.replace(config.find("max_failures"), 0, "responsive = false\n");
    Harness h(config, Programs::IngressAndEgress);
    const Peer stranger{"198.18.10.33", "2001:db8:d::33"};
    flowTo(h, f);
    checkCallAnswersAreReplies(h, f);
    checkDrops(h, f, answerWith("200 OK", kTwoVias, "CSeq: 1 REGISTER"));
    checkDrops(h, f, "OPTIONS sip:198.18.0.1 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n");
    Outcome o = h.run(fromPeer(f, stranger, answerWith("200 OK", kProxyVia, "CSeq: 1 INVITE")).bytes());
    CHECK(o.action == XDP_DROP);
    CHECK(o.moved.at(0).reason == PW_REASON_NOT_WHITELISTED);
    CHECK(h.maps().rate.keys().empty());
}

// A first fragment's headers go on in the next fragment, whatever the bytes after it in the
// per-CPU copy (another packet's): one that ends in a line feed, after an answer that had one
// there, must not read as headers that ended.
TEST_CASE("a first fragment's headers do not end where its bytes do", "[bpf][sip][egress][relay]")
{
    Harness h(roomyConfig(), Programs::IngressAndEgress);
    flowTo(h, Family::V4);
    std::string first = "SIP/2.0 200 OK\r\n" + kProxyVia + "\r\n" + kSenderVia +
                        "\r\nFrom: <sip:a@198.18.0.1>;tag=1\r\nTo: <sip:a@198.18.0.1>;tag=2\r\nCall-ID: c1\r\n";
    while (first.size() % 8 != 0) // a whole number of words, ending in its line feed
        first.insert(first.size() - 2, "x");
    // The answer before it: a line feed where the fragment's bytes end, then CR LF.
    std::string prime = answerWith("200 OK", kProxyVia, "CSeq: 1 REGISTER");
    prime.replace(first.size(), 3, "\n\r\n");
    CHECK(h.action(fromPeer(Family::V4, kNet3, prime).bytes()) == XDP_PASS);
    const std::string rest = "CSeq: 1 REGISTER\r\nContact: <sip:a@198.18.2.7>;expires=3600\r\nContent-Length: 0\r\n\r\n";
    Packet frag = ip(Family::V4, kNet3, kHost);
    frag.ipv4Fragment(0x77, 0, true);
    frag.udp(5060, 5060).sip(first).setUdpLength(static_cast<uint16_t>(8 + first.size() + rest.size()));
    Outcome o = h.run(frag.bytes());
    CHECK(o.action == XDP_DROP);
}

// What egress reads of the PBX's answers (and of one a proxy forwards): the headers, up to the
// empty line. A Via or a CSeq in the body is no header to a proxy, and ingress reads answers
// only that far; nor is a CSeq whose colon comes after more white space than egress reads.
TEST_CASE("egress reads an answer's headers only", "[bpf][sip][egress][relay]")
{
    const std::string head = "SIP/2.0 200 OK\r\nFrom: <sip:2001@198.18.0.1>;tag=1\r\n"
                             "To: <sip:2001@198.18.0.1>;tag=2\r\nCall-ID: body1@198.18.2.7\r\n";
    const std::string binding = "Contact: <sip:2001@198.18.2.7:5060>;expires=3600\r\n";
    for (Family f : kFamilies) {
        INFO(named(f, "the body"));
        Harness h(roomyConfig(), Programs::IngressAndEgress);
        h.runEgress(answer(f, kNet2, head + "CSeq: 1 OPTIONS\r\nContent-Length: 90\r\n\r\n" + kSenderVia +
                                         "\r\nCSeq: 1 REGISTER\r\n" + binding)
                        .bytes());
        CHECK_FALSE(known(h, f, kNet2));
        h.runEgress(answer(f, kNet2, head + kSenderVia + "\r\nContent-Length: 60\r\n\r\nCSeq: 1 REGISTER\r\n" + binding)
                        .bytes());
        CHECK_FALSE(known(h, f, kNet2));
        h.runEgress(answer(f, kNet2, head + kSenderVia + "\r\nCSeq     : 1 OPTIONS\r\n" + binding +
                                         "Content-Length: 20\r\n\r\nCSeq: 1 REGISTER\r\n")
                        .bytes());
        CHECK_FALSE(known(h, f, kNet2));
        // The same answer with its CSeq among the headers makes the peer known.
        h.runEgress(answer(f, kNet2, head + kSenderVia + "\r\nCSeq: 1 REGISTER\r\n" + binding + "Content-Length: 0\r\n\r\n")
                        .bytes());
        CHECK(known(h, f, kNet2));
    }
}

// A known source's answers pass unread, as its requests do (README Limits): a phone answering
// a call a proxy relays to it carries the caller's Via.
TEST_CASE("known peers' answers are not read for a second Via", "[bpf][sip][egress][relay]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "a known peer"));
        Harness h(roomyConfig(), Programs::IngressAndEgress);
        h.runEgress(answer(f, kNet3, registered("")).bytes()); // the PBX accepts its registration
        REQUIRE(known(h, f, kNet3));
        checkPasses(h, f, answerWith("200 OK", kProxyVia + "\r\n" + kSenderVia, "CSeq: 1 INVITE"));
        checkPasses(h, f, answerWith("200 OK", kProxyVia + "\r\n" + kSenderVia, "CSeq: 1 REGISTER"));
    }
}

} // namespace pbxwall::bpftest
