// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The SIP requests pbxwall_bench sends (pw_bench.cpp): a desk phone's REGISTER, a peer's
// OPTIONS and a 1,400-byte INVITE, as payloads.
#pragma once

#include <string>

namespace pbxwall::bench {

// A REGISTER as a desk phone sends it (about 500 bytes).
inline const char* kRegister = "REGISTER sip:198.18.0.1 SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 198.18.2.30:5060;branch=z9hG4bK1f0a7e9c;rport\r\n"
                               "From: \"2001\" <sip:2001@198.18.0.1>;tag=2074613394\r\n"
                               "To: \"2001\" <sip:2001@198.18.0.1>\r\n"
                               "Call-ID: 0_2391843025@198.18.2.30\r\n"
                               "CSeq: 3 REGISTER\r\n"
                               "Contact: <sip:2001@198.18.2.30:5060>;reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-001565a1b2c3>\"\r\n"
                               "Max-Forwards: 70\r\n"
                               "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
                               "Expires: 3600\r\n"
                               "Allow: INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, REFER, PUBLISH, UPDATE, MESSAGE\r\n"
                               "Allow-Events: talk,hold,conference,refer,check-sync\r\n"
                               "Content-Length: 0\r\n\r\n";

// An OPTIONS as a provider's or a peer's keepalive sends it: from a source that is not known,
// its CSeq is checked as well as its Via (the row "unknown internet source, SIP OPTIONS ...").
inline const char* kOptions = "OPTIONS sip:198.18.0.1 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 198.18.2.31:5060;branch=z9hG4bK7c3e51d2;rport\r\n"
                              "From: <sip:ping@198.18.2.31>;tag=as1f2e3d4c\r\n"
                              "To: <sip:198.18.0.1>\r\n"
                              "Call-ID: 5b8e0f4a1c2d3e4f@198.18.2.31\r\n"
                              "CSeq: 102 OPTIONS\r\n"
                              "Contact: <sip:198.18.2.31:5060>\r\n"
                              "Max-Forwards: 70\r\n"
                              "User-Agent: FPBX-16.0.40(18.20.0)\r\n"
                              "Content-Length: 0\r\n\r\n";

// A 1,400-byte INVITE: about 800 bytes of headers (the User-Agent last, where the guard
// reads longest), then SDP.
inline std::string bigInvite()
{
    std::string h = "INVITE sip:2002@198.18.0.1 SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 198.18.2.40:5060;branch=z9hG4bK5d2e81a0;rport\r\n"
                    "From: \"Alice\" <sip:2001@198.18.0.1>;tag=1847592031\r\n"
                    "To: <sip:2002@198.18.0.1>\r\n"
                    "Call-ID: 0_1193412388@198.18.2.40\r\n"
                    "CSeq: 2 INVITE\r\n"
                    "Contact: <sip:2001@198.18.2.40:5060>\r\n"
                    "Proxy-Authorization: Digest username=\"2001\", realm=\"pbx\", nonce=\"5f2b8c9d0e1f2a3b\", "
                    "uri=\"sip:2002@198.18.0.1\", response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5\r\n"
                    "Content-Type: application/sdp\r\n"
                    "Allow: INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, REFER, PUBLISH, UPDATE, MESSAGE\r\n"
                    "Max-Forwards: 70\r\n"
                    "Supported: replaces, timer\r\n"
                    "Session-Expires: 1800\r\n"
                    "Min-SE: 90\r\n"
                    "Allow-Events: talk,hold,conference,refer,check-sync\r\n";
    while (h.size() < 760)
        h += "X-Header-Padding: abcdefghijklmnopqrstuvwxyz0123456789\r\n";
    h += "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n";
    std::string sdp = "v=0\r\no=- 20001 20001 IN IP4 198.18.2.40\r\ns=SDP data\r\nc=IN IP4 198.18.2.40\r\nt=0 0\r\n"
                      "m=audio 11780 RTP/AVP 0 8 18 9 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
                      "a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\na=rtpmap:9 G722/8000\r\n"
                      "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n";
    while (h.size() + 4 + 26 + sdp.size() + 42 < 1400 - 14) // Ethernet + IPv4 + UDP headers: 42 bytes
        sdp += "a=x-padding:0123456789\r\n";
    h += "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n";
    return h + sdp;
}

} // namespace pbxwall::bench
