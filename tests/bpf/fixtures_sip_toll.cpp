// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Fixtures for the toll-fraud guard: international prefixes in an INVITE's Request-URI (escapes,
// visual separators, sip:/sips:/tel:/urn:, what a PBX reads as another number, fail closed), the
// in-dialog test that spares a known phone's re-INVITE, and the configuration. Every verdict
// checks that exactly one counter moved.
#include "fixtures.hpp"
#include "sip_support.hpp"
#include "sip_guards_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace pbxwall::bpftest {

using test::Packet;
using namespace guardfx;

TEST_CASE("toll fraud: international prefixes from zones not allowed to dial out", "[bpf][sip][guards][toll]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig());
    h.addKnown(addrOf(f, kNet), std::chrono::seconds(600)); // a registered remote phone

    struct Case {
        const char* what;
        std::string uri;
        pw_reason reason;
    };
    const Case cases[] = {
        {"+ prefix", "sip:+442071234567@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"00 prefix", "sip:00442071234567@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"011 prefix", "sip:011442071234567@198.18.0.1;user=phone", PW_REASON_TOLL_FRAUD},
        {"9011 prefix", "sip:9011442071234567@pbx.example", PW_REASON_TOLL_FRAUD},
        {"sips:", "sips:+442071234567@pbx.example", PW_REASON_TOLL_FRAUD},
        {"tel: global number", "tel:+44-20-7123-4567", PW_REASON_TOLL_FRAUD},
        {"tel: with parameters", "tel:0044207;phone-context=example.com", PW_REASON_TOLL_FRAUD},
        {"percent-escaped +", "sip:%2B442071234567@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"percent-escaped zeros", "sip:%30%30442071234567@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"lower-case escapes", "sip:%2b44207@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"visual separators", "sip:(0)-0.44-207@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"escaped separators", "sip:0%2D0%20%2E44207@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"user parameters after the number", "sip:+44207;isub=1@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"SIP scheme in upper case", "SIP:+44207@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"an escape that is not hex: fail closed", "sip:20%zz01@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"a truncated escape: fail closed", "sip:2001%4@198.18.0.1", PW_REASON_TOLL_FRAUD},
        // FreeSWITCH dials what follows a double quote in the user part (check_decode).
        {"an escaped double quote before the number", "sip:%220044207123456@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"a double quote before an extension", "sip:\"2001@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"a user part too long to judge: fail closed", "sip:" + std::string(120, '1') + "@198.18.0.1",
         PW_REASON_TOLL_FRAUD},
        {"an extension", "sip:2001@198.18.0.1", PW_REASON_SIP_KNOWN},
        {"a national number", "sip:02071234567@198.18.0.1", PW_REASON_SIP_KNOWN},
        {"a name", "sip:alice.smith@pbx.example", PW_REASON_SIP_KNOWN},
        {"no user part", "sip:pbx.example;transport=udp", PW_REASON_SIP_KNOWN},
        {"a tel: extension", "tel:2001;phone-context=pbx.example", PW_REASON_SIP_KNOWN},
        {"9 then a national number", "sip:902071234567@198.18.0.1", PW_REASON_SIP_KNOWN},
        {"an escaped letter", "sip:%61lice@198.18.0.1", PW_REASON_SIP_KNOWN},
        {"an emergency call (RFC 5031)", "urn:service:sos", PW_REASON_SIP_KNOWN},
        {"an emergency service URN, upper case", "URN:service:sos.police", PW_REASON_SIP_KNOWN},
        // A URN with an '@' has a user part to a PBX that parses it as a SIP URI (Kamailio).
        {"a urn: with a user part", "urn:00442071234567@pbx.example", PW_REASON_TOLL_FRAUD},
        {"a urn: with a + user part", "urn:+442071234567@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"a urn: with an extension", "urn:2001@pbx.example", PW_REASON_SIP_KNOWN},
        // A '>' does not end a Request-URI: the digits before it are a user part to Kamailio.
        {"a '>' inside the user part", "sip:0044207123>@198.18.0.1", PW_REASON_TOLL_FRAUD},
        // chan_sip routes what lies between a '<' and the next '>' of the Request-URI
        // (get_destination, get_in_brackets): the number inside is what it dials.
        {"a bracketed SIP URI inside", "sip:<sip:00442071234567@pbx.example>", PW_REASON_TOLL_FRAUD},
        {"a bracketed + number after a name", "sip:a<sip:+442071234567@198.18.0.1>", PW_REASON_TOLL_FRAUD},
        {"a bracketed tel: URI", "tel:<tel:+442071234567>", PW_REASON_TOLL_FRAUD},
        {"a bracketed URI in a urn:", "urn:<sip:00442071234567@198.18.0.1>", PW_REASON_TOLL_FRAUD},
        {"an escaped '<' (fail closed, as for a '\"')", "sip:%3Csip:00442071234567@198.18.0.1%3E@pbx.example",
         PW_REASON_TOLL_FRAUD},
        {"a '<' after the number's prefix is read", "sip:00<sip:2001@198.18.0.1>", PW_REASON_TOLL_FRAUD},
        {"an escaped '%' in an extension (fail closed)", "sip:20%2501@198.18.0.1", PW_REASON_TOLL_FRAUD},
        // chan_sip (pedantic, its default) decodes the user part twice when the once-decoded
        // one matches no extension: "%2530" is "%30", then "0".
        {"doubly escaped zeros", "sip:%2530%2530442071234567@198.18.0.1", PW_REASON_TOLL_FRAUD},
        {"a doubly escaped +", "sip:%252B442071234567@198.18.0.1", PW_REASON_TOLL_FRAUD},
        // pjsip (Asterisk) reads a user part on past a CR to the next '@' (one inside a bracketed
        // host here), and dials the number before the CR: the Request-URI ends at a space only,
        // and a CR or LF in it is unparseable (fail closed).
        {"a bare CR before the '@'", "sip:0044123456789\r[@]:5060", PW_REASON_TOLL_FRAUD},
        {"a + number, a bare CR, then the '@'", "sip:+442071234567\r[@pbx]", PW_REASON_TOLL_FRAUD},
        {"a line feed before the '@'", "sip:0044207\n[@]", PW_REASON_TOLL_FRAUD},
        {"an extension, then a bare CR (fail closed)", "sip:2001\r[@]:5060", PW_REASON_TOLL_FRAUD},
        {"no user part, then a bare CR (fail closed)", "sip:pbx.example\r", PW_REASON_TOLL_FRAUD},
        {"a tel: number, then a bare CR", "tel:+442071234567\r", PW_REASON_TOLL_FRAUD},
    };
    for (const Case& c : cases)
        checkVerdict(h, expect(named(f, "known internet phone, " + std::string(c.what) + ": " + c.uri),
                               sipUdp(f, kNet, invite(c.uri)), c.reason));

    checkVerdict(h, expect(named(f, "lower-case invite"), sipUdp(f, kNet, "invite sip:+44207@pbx SIP/2.0\r\n\r\n"),
                           PW_REASON_TOLL_FRAUD));
    checkVerdict(h, expect(named(f, "other methods are not calls"), sipUdp(f, kNet, request("OPTIONS sip:+442071@198.18.0.1 SIP/2.0")),
                           PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "an unknown source: toll fraud before anonymous"),
                           sipUdp(f, kNet3, invite("sip:+44207@pbx")), PW_REASON_TOLL_FRAUD));
    checkVerdict(h, expect(named(f, "an unknown source dialling an extension is anonymous"),
                           sipUdp(f, kNet3, invite("sip:2001@pbx")), PW_REASON_ANONYMOUS_INVITE));
    checkVerdict(h, expect(named(f, "so is its emergency call"), sipUdp(f, kNet3, invite("urn:service:sos")),
                           PW_REASON_ANONYMOUS_INVITE));
    checkVerdict(h, expect(named(f, "a scheme that is none of sip, sips, tel and urn"),
                           sipUdp(f, kNet3, invite("im:alice@pbx.example")), PW_REASON_MALFORMED_SIP));
    checkVerdict(h, expect(named(f, "the other zone may not dial out either"),
                           sipUdp(f, Peer{"198.18.4.10", "2001:db8:4::10"}, invite("sip:00442071@pbx")),
                           PW_REASON_TOLL_FRAUD, PW_ZONE_OTHER));
    // The local zone may dial out (the default dial_out_zones); trusted always may.
    h.addKnown(addrOf(f, kLocal), std::chrono::seconds(600));
    checkVerdict(h, expect(named(f, "a known local phone dials abroad"), sipUdp(f, kLocal, invite("sip:+44207@pbx")),
                           PW_REASON_SERVICE, PW_ZONE_LOCAL));
    checkVerdict(h, expect(named(f, "the trunk dials abroad"), sipUdp(f, kTrusted, invite("sip:+44207@pbx")),
                           PW_REASON_TRUSTED, PW_ZONE_TRUSTED));
    CHECK_FALSE(h.banOf(addrOf(f, kNet)));
}

namespace {

// A phone's re-INVITE inside a dialog: its Request-URI is the Contact the far end gave, here a
// caller's number (chan_sip's Contact for a call it puts through to the phone).
std::string reinvite(const std::string& to, const std::string& extra = "", const char* eol = "\r\n")
{
    const std::string e = eol;
    return "INVITE sip:+442071234567@198.18.0.1:5060 SIP/2.0" + e + "Via: SIP/2.0/UDP 198.18.9.9:5062;branch=z9hG4bK-2" + e +
           "Max-Forwards: 70" + e + "From: <sip:2001@pbx.example>;tag=a73kszlfl" + e + to + e +
           "Call-ID: 9f1c2a77d3b04e1@198.18.9.9" + e + "CSeq: 2 INVITE" + e + extra + "Content-Length: 0" + e + e;
}

} // namespace

TEST_CASE("toll fraud: a known phone's INVITE inside a dialog is no call abroad", "[bpf][sip][guards][toll]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig());
    h.addKnown(addrOf(f, kNet), std::chrono::seconds(600));

    // One To header with a tag (RFC 3261 12.2), no Route, the headers ended within the scan.
    const std::pair<const char*, std::string> inDialog[] = {
        {"a tag after the URI", "To: <sip:+442071234567@198.18.0.1>;tag=as5f3c1d2e"},
        {"a quoted display name", "To: \"Caller\" <sip:+442071234567@198.18.0.1>;tag=1"},
        {"an '&' in the quoted display name (pjsip reads it whole)", "To: \"AT&T \\\"&\\\"\" <sip:+12125551234@x>;tag=1"},
        {"a quote with an escaped quote, '<' and ';tag=' inside", "To: \"a \\\";tag=x <b>\" <sip:+44207@x>;tag=abc"},
        {"a display name in tokens", "To: Bob Smith <sip:+44207@x>;tag=1"},
        {"the compact form", "t: <sip:+44207@x>;tag=1"},
        {"upper case and white space before the colon", "TO  : <sip:+44207@x>;tag=1"},
        {"an addr-spec without angle brackets", "To: sip:+44207@198.18.0.1;tag=1"},
        {"another parameter first", "To: <sip:+44207@x>;foo=bar;lr;tag=7~x"},
        {"URI parameters inside the brackets", "To: <sip:+44207@x;user=phone>;tag=1"},
    };
    for (const auto& [what, to] : inDialog)
        checkVerdict(h, expect(named(f, std::string("in a dialog: ") + what), sipUdp(f, kNet, reinvite(to)),
                               PW_REASON_SIP_KNOWN));
    for (const std::string eol : {"\r\n", "\n"}) // a Record-Route is no Route; bare line feeds as well
        checkVerdict(h, expect(named(f, "in a dialog, a Record-Route, lines ending in " + std::to_string(eol.size()) + " bytes"),
                               sipUdp(f, kNet, reinvite("To: <sip:+44@x>;tag=1", "Record-Route: <sip:h;lr>" + eol, eol.c_str())),
                               PW_REASON_SIP_KNOWN));

    // What a PBX would take for a new call, or what the scan cannot vouch for: toll fraud.
    const std::pair<const char*, std::string> notVouched[] = {
        {"no tag", "To: <sip:+442071234567@198.18.0.1>"},
        {"a tag among the URI's parameters", "To: <sip:+44207@x;tag=1>"},
        {"a tag in the quoted display name only", "To: \"x>;tag=1\" <sip:+44207@x>"},
        {"TAG in upper case", "To: <sip:+44207@x>;TAG=1"},
        {"Tag", "To: <sip:+44207@x>;Tag=1"},
        {"white space after the semicolon", "To: <sip:+44207@x>; tag=1"},
        {"white space before the equals sign", "To: <sip:+44207@x>;tag =1"},
        {"an empty tag", "To: <sip:+44207@x>;tag="},
        {"an empty tag before another parameter", "To: <sip:+44207@x>;tag=;a=b"},
        {"a tag value that is no token", "To: <sip:+44207@x>;tag=<1>"},
        {"a quoted parameter value", "To: <sip:+44207@x>;a=\";tag=1\""},
        {"an unclosed quote", "To: \"x <sip:+44207@x>;tag=1"},
        {"an unclosed angle bracket", "To: <sip:+44207@x;tag=1"},
        {"a '>' after an addr-spec", "To: sip:+44207@x>;tag=1"},
        {"an empty To", "To:"},
        {"a To name with more letters", "Tox: <sip:+44207@x>;tag=1"},
        // What pjsip reads as a display name or user part, not a parameter.
        {"a tag before the angle brackets", "To: x;tag=1<sip:+44207@y>"},
        {"a tag inside an addr-spec's user part", "To: sip:a;tag=1@x"},
        // pjsip ends a header at '&', at a CR alone, and chan_sip a message at a NUL: a second
        // To after one is unseen here.
        {"a second To after '&'", "To: <sip:a@x>;tag=1&To:sip:+44207@x"},
        {"a second To after '&', past a quoted display name", "To: \"a&b\" <sip:a@x>;tag=1&To:sip:+44207@x"},
        {"a second To after a bare CR", "To: <sip:a@x>;tag=1\rTo: <sip:+44207@x>"},
        {"a NUL before the tag", std::string("To: sip:+44207@x\0;tag=1", 23)},
        {"a To name running into its line end", "To\r\n : <sip:+44207@x>;tag=1"},
    };
    for (const auto& [what, to] : notVouched)
        checkVerdict(h, expect(named(f, std::string("not vouched for: ") + what), sipUdp(f, kNet, reinvite(to)),
                               PW_REASON_TOLL_FRAUD));
    const std::string tagged = "To: <sip:+44207@x>;tag=1";
    const std::pair<const char*, std::string> extras[] = {
        // Kamailio's stock config relays a request with a To tag and a Route to itself to its
        // Request-URI unchallenged: a forged "re-INVITE" to a gateway.
        {"a Route header", "Route: <sip:198.18.0.1;lr>\r\n"},
        {"a route header in lower case", "route: <sip:198.18.0.1;lr>\r\n"},
        {"a second To", "t: <sip:2001@x>\r\n"},
        {"a To hidden behind another header's bare CR", "X-A: b\rTo: <sip:+44207@x>\r\n"},
        {"a To hidden behind '&'", "Max-Forwards: 70&To: <sip:+44207@x>\r\n"},
        {"a CR inside a header name", "T\ro: <sip:+44207@x>\r\n"},
        {"a Route hidden behind a bare CR", "X-A: b\rRoute: <sip:198.18.0.1;lr>\r\n"},
        {"headers that go on past the scan", "X-Pad: " + std::string(1600, 'p') + "\r\n"},
    };
    for (const auto& [what, extra] : extras)
        checkVerdict(h, expect(named(f, std::string("not vouched for: ") + what), sipUdp(f, kNet, reinvite(tagged, extra)),
                               PW_REASON_TOLL_FRAUD));
    checkVerdict(h, expect(named(f, "not vouched for: a To folded before its tag"),
                           sipUdp(f, kNet, reinvite("To: <sip:+44207@x>\r\n ;tag=1")), PW_REASON_TOLL_FRAUD));
    checkVerdict(h, expect(named(f, "not vouched for: a To folded after its tag"),
                           sipUdp(f, kNet, reinvite(tagged + "\r\n\t;x=1")), PW_REASON_TOLL_FRAUD));
    checkVerdict(h, expect(named(f, "a line folded after another header"),
                           sipUdp(f, kNet, reinvite(tagged, "Subject: a\r\n b\r\n")), PW_REASON_SIP_KNOWN));
    {
        // Bytes after the datagram (the frame's, trimmed by the kernel before the PBX reads)
        // do not count: here the tag and the empty line lie there.
        const std::string whole = reinvite("To: <sip:+44207@x>;tag=1");
        const size_t cut = whole.find(";tag=1");
        Packet p = sipUdp(f, kNet, whole);
        p.setUdpLength(static_cast<uint16_t>(8 + cut));
        checkVerdict(h, expect(named(f, "not vouched for: the tag past the datagram's UDP length"), p, PW_REASON_TOLL_FRAUD));
    }
    checkVerdict(h, expect(named(f, "an unknown source's INVITE in a dialog"), sipUdp(f, kNet3, reinvite(tagged)),
                           PW_REASON_TOLL_FRAUD));
    const Peer other{"198.18.4.10", "2001:db8:4::10"};
    checkVerdict(h, expect(named(f, "an unknown source of the other zone"), sipUdp(f, other, reinvite(tagged)),
                           PW_REASON_TOLL_FRAUD, PW_ZONE_OTHER));
    h.addKnown(addrOf(f, other), std::chrono::seconds(600));
    checkVerdict(h, expect(named(f, "a known phone of the other zone, in a dialog"), sipUdp(f, other, reinvite(tagged)),
                           PW_REASON_SERVICE, PW_ZONE_OTHER));
    checkVerdict(h, expect(named(f, "the same phone's new call abroad"), sipUdp(f, other, reinvite("To: <sip:+44207@x>")),
                           PW_REASON_TOLL_FRAUD, PW_ZONE_OTHER));
    CHECK_FALSE(h.banOf(addrOf(f, kNet)));
}

TEST_CASE("toll fraud: dial_out_zones and toll_prefixes are configurable", "[bpf][sip][guards][toll]")
{
    const Family f = GENERATE(Family::V4, Family::V6);
    Harness h(guardConfig("dial_out_zones = [\"internet\"]\n"));
    h.addKnown(addrOf(f, kNet), std::chrono::seconds(600));
    h.addKnown(addrOf(f, kLocal), std::chrono::seconds(600));
    checkVerdict(h, expect(named(f, "internet may dial out"), sipUdp(f, kNet, invite("sip:+44207@pbx")),
                           PW_REASON_SIP_KNOWN));
    checkVerdict(h, expect(named(f, "local no longer may"), sipUdp(f, kLocal, invite("sip:+44207@pbx")),
                           PW_REASON_TOLL_FRAUD, PW_ZONE_LOCAL));

    h.install(guardConfig("toll_prefixes = [\"*99\", \"810\"]\n"));
    checkVerdict(h, expect(named(f, "a configured prefix"), sipUdp(f, kNet, invite("sip:*99123@pbx")),
                           PW_REASON_TOLL_FRAUD));
    checkVerdict(h, expect(named(f, "another configured prefix"), sipUdp(f, kNet, invite("sip:8-10-49@pbx")),
                           PW_REASON_TOLL_FRAUD));
    checkVerdict(h, expect(named(f, "+ is no longer a prefix"), sipUdp(f, kNet, invite("sip:+44207@pbx")), PW_REASON_SIP_KNOWN));

    h.install(guardConfig("toll_prefixes = []\n"));
    checkVerdict(h, expect(named(f, "no prefixes: the guard is off, even for what cannot be parsed"),
                           sipUdp(f, kNet, invite("sip:%zz@pbx")), PW_REASON_SIP_KNOWN));
}

} // namespace pbxwall::bpftest
