// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Challenges read at TC egress: a success after digest challenges forgives them (a 2xx to
// REGISTER; to INVITE, a known peer's, or one of a zone the SIP service refuses), and nothing
// else does, so that a password guesser's challenges beyond the allowance count as failures.
#include "egress_support.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace pbxwall::bpftest {

using namespace egressfx;

namespace {

// The PBX's own request to kNet3 (a flow), then five challenges of the peer's requests (CSeq
// `challenged`), each followed by a 200 to one of its INVITEs. Two challenges are the
// allowance and three failures a ban (kConfig): without forgiveness the peer is banned.
void challengedThenOk(Harness& h, Family f, const std::string& ownRequest, const char* challenged)
{
    h.runEgress(answer(f, kNet3, ownRequest).bytes());
    for (int i = 0; i < 5; ++i) {
        h.runEgress(answer(f, kNet3, response("401 Unauthorized", challenged)).bytes());
        h.runEgress(answer(f, kNet3, response("200 OK", "CSeq: 3 INVITE")).bytes());
    }
}

} // namespace

TEST_CASE("a success after digest challenges forgives the challenges", "[bpf][sip][egress][bans]")
{
    for (Family f : kFamilies) {
        INFO(named(f, "challenges then success"));
        Harness h(kConfig, Programs::IngressAndEgress); // challenge_allowance 2, max_failures 3
        const char* phone = f == Family::V4 ? kNet.v4 : kNet.v6;
        // A phone that is challenged on every call: 407, then 200 to the authenticated INVITE.
        // It calls while known (from no other does an INVITE reach the PBX, but inside a
        // dialog), and its registration then lapses: the challenges were forgiven, so one more
        // 407 bans it no more.
        h.addKnown(phone, std::chrono::seconds(600));
        for (int call = 0; call < 10; ++call) {
            h.runEgress(answer(f, kNet, response("407 Proxy Authentication Required", "CSeq: 1 INVITE")).bytes());
            h.runEgress(answer(f, kNet, response("200 OK", call % 2 ? "CSeq:\t2  invite" : "CSeq: 2 INVITE")).bytes());
        }
        h.addKnownExpired(phone);
        h.runEgress(answer(f, kNet, response("407 Proxy Authentication Required", "CSeq: 1 INVITE")).bytes());
        CHECK_FALSE(h.banOf(phone));
        // A peer the PBX called (not known) answers its own re-INVITEs' 200s between password
        // guesses: an answer to INVITE forgives an unknown peer nothing, and its guesses ban it.
        const char* peer = f == Family::V4 ? kNet3.v4 : kNet3.v6;
        {
            Harness c(kConfig, Programs::IngressAndEgress);
            challengedThenOk(c, f, "INVITE sip:bob@198.18.10.5 SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n", "CSeq: 1 REGISTER");
            REQUIRE(c.banOf(peer));
            CHECK(c.banOf(peer)->cause == PW_BAN_AUTH_FAILURE);
        }
        // With SIP closed to the internet, a peer outside trusted (a trunk the PBX registers
        // with) reaches the PBX through its flow, past the guards, and its calls may be
        // challenged: a 200 to its INVITE forgives it, known or not.
        {
            std::string closed = kConfig;
            const std::string all = "zones = [\"trusted\", \"local\", \"other\", \"internet\"]";
            closed.replace(closed.find(all), all.size(), "zones = [\"trusted\"]");
            Harness t(closed, Programs::IngressAndEgress);
            challengedThenOk(t, f, "REGISTER sip:198.18.9.9 SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n", "CSeq: 1 INVITE");
            CHECK_FALSE(t.banOf(peer));
        }
        // Without the successes, the same challenges are failures beyond the allowance; a 200 to
        // OPTIONS between them, which a PBX gives without a challenge, forgives nothing.
        const char* guesser = f == Family::V4 ? kNet2.v4 : kNet2.v6;
        for (int i = 0; i < 5; ++i) {
            h.runEgress(answer(f, kNet2, response("401 Unauthorized", "CSeq: 1 REGISTER")).bytes());
            h.runEgress(answer(f, kNet2, response("200 OK", "CSeq: 2 OPTIONS")).bytes());
        }
        REQUIRE(h.banOf(guesser));
        CHECK(h.banOf(guesser)->cause == PW_BAN_AUTH_FAILURE);
        // Nor do 2xx answers to other requests a PBX may answer without a challenge: an
        // out-of-dialog BYE (Kamailio answers it statelessly), a MESSAGE relayed to a phone.
        for (const char* cseq : {"CSeq: 2 BYE", "CSeq: 2 MESSAGE", "CSeq: 2 SUBSCRIBE", "CSeq: 2 INVITEX"}) {
            INFO(cseq);
            Harness g(kConfig, Programs::IngressAndEgress);
            for (int i = 0; i < 5; ++i) {
                g.runEgress(answer(f, kNet2, response("401 Unauthorized", "CSeq: 1 REGISTER")).bytes());
                g.runEgress(answer(f, kNet2, response("202 Accepted", cseq)).bytes());
            }
            CHECK(g.banOf(guesser));
        }
        // A registration forgives them, as a call does.
        Harness r(kConfig, Programs::IngressAndEgress);
        for (int i = 0; i < 5; ++i) {
            r.runEgress(answer(f, kNet2, response("401 Unauthorized", "CSeq: 1 REGISTER")).bytes());
            r.runEgress(answer(f, kNet2, response("200 OK", "CSeq: 2 REGISTER")).bytes());
            r.addKnownExpired(guesser); // as if it had lapsed: a ban would hold it
        }
        CHECK_FALSE(r.banOf(guesser));
    }
}

} // namespace pbxwall::bpftest
