#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# sip_scan.sh: real SIP scanners against a real registrar behind pbxwall.
#
# The PBX is kamailio (tests/netns/kamailio.cfg.in): a registrar with digest authentication
# (qop=auth), registrations in memory, calls answered by kamailio itself. pbxwall runs with the
# default [sip] settings (responsive mode). From the wan namespace:
#   1. a phone (sipp, digest authentication) registers and becomes known, then places calls;
#   2. the trusted trunk registers, places calls and sends an OPTIONS burst far over the
#      responsive budget: never rate limited, never banned;
#   3. sipvicious (svmap, svwar, svcrack), each tool from its own unknown internet address (a
#      fresh budget and no ban: the numbers of one tool do not depend on the tools before it),
#      must find nothing or be banned; each is bounded in time (timeout) and so in packets.
#      IPv6 too, and a second address of the same /64 (one budget). A control run of svcrack
#      with nothing in its way (inside the pbx namespace) finds the phone's password;
#   4. the phone places calls again; neither it nor the trunk was ever banned.
# For each tool the test prints (MEASURE lines) how many of its packets reached the PBX before
# the ban (a tcpdump behind XDP, on the pbx interface) and the time from its first probe (a
# tcpdump on the wan side) to the ban (pbxwalld's "pbxwall ban:" log line, in milliseconds).
#
# sipvicious 0.3.3 cannot change its User-Agent (friendly-scanner) from the command line, but
# with -c (compact headers) it sends none at all, and svwar/svcrack put no scanner name in From:
# the -c runs are scanners without a signature, which only the budgets and the failure counts
# can stop. svwar and svcrack ignore -b: their source is chosen with a route (pw_wan_src).
# shellcheck disable=SC2119,SC2317,SC2001 # optional-argument helpers; checks run through pw_check
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
source "${PW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/scripts/netns.sh"
pw_init sip_scan
pw_require_tools sipp ss tcpdump kamailio svmap svwar svcrack timeout
pw_lab_up

# Unknown internet sources of the scanners, one per tool run (198.18.3.0/24, 2001:db8:3::/64;
# no zone names them). The two IPv6 ones share a /64, and so one budget (ipv6_prefix = 64).
SCAN_ADDRS=(198.18.3.31 198.18.3.32 198.18.3.33 198.18.3.34 198.18.3.35 198.18.3.36)
SCAN_ADDRS6=(2001:db8:3::31 2001:db8:3::32)
pw_wan_addr_add "${SCAN_ADDRS[@]}" "${SCAN_ADDRS6[@]}"

PHONE_USER=2001
# A weak password on purpose, inside svcrack's range below: the control run shows that svcrack
# finds it when nothing stands in its way, so "found nothing" through pbxwall means something.
PHONE_PASSWORD=1200
CRACK_RANGE=1000-1300
TRUNK_USER=9000
TRUNK_PASSWORD=trunk-9000-c4e1
PHONE_CALLS=10
TRUNK_CALLS=20
TRUNK_OPTIONS=300

BAN_CAUSES='^(scanner|rate_limit|auth_failure)$'

{
  pw_config_head native drop
  cat <<EOF

[zones]
trusted = ["$PW_TRUNK4", "$PW_TRUNK6"]

[services.sip]
udp = ["5060"]
zones = ["trusted", "local", "other", "internet"]

[sip]
responsive = true
EOF
} >"$PW_CONFIG"
pw_daemon_start

# ---- kamailio, configured from the template ----
KAMAILIO_MODULES=${KAMAILIO_MODULES:-}
if [[ -z $KAMAILIO_MODULES ]]; then
  for d in /usr/lib/x86_64-linux-gnu/kamailio/modules /usr/lib/*/kamailio/modules /usr/lib/kamailio/modules \
    /usr/lib64/kamailio/modules /usr/local/lib64/kamailio/modules /usr/local/lib/kamailio/modules; do
    [[ -f $d/auth.so ]] && { KAMAILIO_MODULES=$d; break; }
  done
fi
[[ -n $KAMAILIO_MODULES ]] || pw_die "kamailio modules (auth.so) not found; set KAMAILIO_MODULES"
# shellcheck disable=SC2016 # kamailio pseudo-variables, not shell expansions
users=$(printf '\tif ($au == "%s") {\n\t\t$var(pw) = "%s";\n\t}\n' "$PHONE_USER" "$PHONE_PASSWORD" "$TRUNK_USER" "$TRUNK_PASSWORD")
"$PW_PY" - "$PW_SIP_DIR/kamailio.cfg.in" "$PW_TMP/kamailio.cfg" "PBX4=$PW_PBX4" "PBX6=$PW_PBX6" \
  "MODULES=$KAMAILIO_MODULES/" "REALM=pbxwall.test" "USERS=$users" <<'EOF' || pw_die "cannot fill in kamailio.cfg.in"
import re, sys
text = open(sys.argv[1]).read()
for kv in sys.argv[3:]:
    key, value = kv.split('=', 1)
    text = text.replace('@%s@' % key, value)
left = re.findall(r'@[A-Z0-9_]+@', text)
if left:
    sys.exit('placeholders left: %s' % ' '.join(left))
open(sys.argv[2], 'w').write(text)
EOF
pw_kamailio_start "$PW_TMP/kamailio.cfg"
pw_log "kamailio running (pid $PW_KAMAILIO_PID, log $PW_TMP/kamailio.log)"

# Captures of SIP toward the PBX: what left the wan side, and what reached the PBX (a packet
# socket on the pbx interface sees only what XDP passed).
pw_capture_start wan "$PW_NS_WAN" "$PW_IF_WAN" out udp and dst port 5060
pw_capture_start pbx "$PW_NS_PBX" "$PW_IF_PBX" in udp and dst port 5060
pw_capture_start answers "$PW_NS_PBX" "$PW_IF_PBX" out udp and src port 5060

printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$PHONE_USER" "$PHONE_USER" "$PHONE_PASSWORD" \
  >"$PW_TMP/phone.csv"
printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$TRUNK_USER" "$TRUNK_USER" "$TRUNK_PASSWORD" \
  >"$PW_TMP/trunk.csv"

# sipp_count LOG WHAT: the last cumulative count of a sipp statistics line ("Successful call").
sipp_count() {
  awk -F'|' -v what="$2" 'index($1, what) { n = $3 } END { gsub(/ /, "", n); print (n == "" ? 0 : n) }' "$PW_TMP/$1.log"
}

# calls NAME SRC PORT CSV COUNT: COUNT calls with digest authentication; checks 100 % success.
calls() {
  local name=$1 src=$2 port=$3 csv=$4 n=$5 rc=0
  pw_sipp "$PW_NS_WAN" "$name" -sf "$PW_SIP_DIR/sip_call_auth.xml" -inf "$PW_TMP/$csv" -s 100 -i "$src" -p "$port" \
    "$PW_PBX4:5060" -m "$n" -r 10 -l 10 -timeout 20s -timeout_error -recv_timeout 4000 || rc=$?
  pw_check_eq "$name: $n calls from $src with digest authentication, all completed (sipp status $rc)" \
    "$(sipp_count "$name" "Successful call")/$(sipp_count "$name" "Failed call")" "$n/0"
}

# register NAME SRC PORT CSV: one registration with digest authentication (401, then 200).
register() {
  local rc=0
  pw_sipp "$PW_NS_WAN" "$1" -sf "$PW_SIP_DIR/sip_register_auth.xml" -inf "$PW_TMP/$4" -i "$2" -p "$3" \
    "$PW_PBX4:5060" -m 1 -timeout 10s -timeout_error -recv_timeout 4000 || rc=$?
  pw_check "$1: $2 registers with digest authentication (REGISTER, 401, REGISTER, 200)" test "$rc" -eq 0
}

# in_json_list FILE KEY ADDR: ADDR is among d[KEY][*]['addr'].
in_json_list() { [[ $(pw_json "$1" "any(e['addr'] == '$3' for e in d['$2'])") == True ]]; }

# ---- 1. the phone registers and becomes known ----
register phone-register "$PW_PHONE4" 5062 phone.csv
pw_ctl --json known list >"$PW_TMP/known.json"
pw_check "pbxwallctl known list: the phone $PW_PHONE4 is known after its 200 OK" \
  in_json_list "$PW_TMP/known.json" known "$PW_PHONE4"
pw_check "pbxwalld logs the promotion (pbxwall known: addr=$PW_PHONE4 ...)" \
  pw_wait_log "$PW_DAEMON_LOG" "pbxwall known: addr=$PW_PHONE4 seconds="
calls phone-calls-1 "$PW_PHONE4" 5062 phone.csv "$PHONE_CALLS"

# ---- 2. the trusted trunk: registration, calls, an OPTIONS burst ----
pw_stats "$PW_TMP/trunk0.json"
register trunk-register "$PW_TRUNK4" 5064 trunk.csv
calls trunk-calls "$PW_TRUNK4" 5064 trunk.csv "$TRUNK_CALLS"
rc=0
pw_sipp "$PW_NS_WAN" trunk-options -sf "$PW_SIP_DIR/sip_options.xml" -i "$PW_TRUNK4" -p 5066 "$PW_PBX4:5060" \
  -m "$TRUNK_OPTIONS" -r 300 -l 300 -timeout 10s -timeout_error -recv_timeout 4000 || rc=$?
pw_check_eq "trunk: $TRUNK_OPTIONS OPTIONS in about a second, all answered (sipp status $rc)" \
  "$(sipp_count trunk-options "Successful call")/$(sipp_count trunk-options "Failed call")" "$TRUNK_OPTIONS/0"
pw_stats "$PW_TMP/trunk1.json"
pw_check_eq "stats: nothing rate limited while the trunk was busy" \
  "$(pw_stat_delta "$PW_TMP/trunk0.json" "$PW_TMP/trunk1.json" rate_limited)" 0
pw_check_ge "stats: the trunk's packets passed as trusted" \
  "$(pw_stat_delta "$PW_TMP/trunk0.json" "$PW_TMP/trunk1.json" trusted trusted)" $((TRUNK_OPTIONS + 4 * TRUNK_CALLS))

# ---- 2b. a forged CSeq: an OPTIONS whose CSeq says REGISTER ----
# Kamailio answers OPTIONS here with sl_send_reply, which copies the request's CSeq: the 200 OK
# then says "CSeq: 1 REGISTER", and egress took it for a registration, making the sender known
# (spared from the anonymous-call rule and from bans). The guard drops such a request; the
# same OPTIONS with its own method in the CSeq passes and is answered, and makes nobody known.
forged() { # SRC METHOD_IN_CSEQ
  printf 'OPTIONS sip:100@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5070;branch=z9hG4bK-cseq-%s\r\nMax-Forwards: 70\r\nFrom: <sip:probe@%s>;tag=7\r\nTo: <sip:100@%s>\r\nCall-ID: cseq-%s@%s\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n' \
    "$PW_PBX4" "$1" "$2" "$1" "$PW_PBX4" "$2" "$1" "$2"
}
send_one() { # NAME PAYLOAD REASON WHAT: one datagram from $PW_PHONE2_4, its verdict counted
  pw_stats "$PW_TMP/$1a.json"
  pw_in_wan "$PW_PY" "$PW_NETTOOL" udp --src "$PW_PHONE2_4" --sport 5070 --dst "$PW_PBX4" --port 5060 --count 1 \
    --payload "$2" >/dev/null
  sleep 0.5
  pw_stats "$PW_TMP/$1b.json"
  pw_check_eq "$4" "$(pw_stat_delta "$PW_TMP/$1a.json" "$PW_TMP/$1b.json" "$3" internet)" 1
}
send_one cseq1 "$(forged "$PW_PHONE2_4" REGISTER)" malformed_sip "an OPTIONS with CSeq REGISTER drops as malformed_sip"
send_one cseq2 "$(forged "$PW_PHONE2_4" OPTIONS)" sip_responsive "the same OPTIONS with CSeq OPTIONS passes"
pw_ctl --json known list >"$PW_TMP/known-cseq.json"
if in_json_list "$PW_TMP/known-cseq.json" known "$PW_PHONE2_4"; then
  pw_bad "the forged CSeq made $PW_PHONE2_4 known"
else
  pw_ok "neither OPTIONS made $PW_PHONE2_4 known"
fi

# ---- 2c. a forged answer: Kamailio forwards a response that matches none of its ----
# ---- transactions to the response's second Via, from its SIP port                 ----
# A 200 OK to REGISTER that names its own sender in that Via came back out of the PBX's port
# to the sender, and egress made the sender known. A response from an internet source that is
# not known now drops before the PBX sees it.
forged_answer() { # SRC
  printf 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-fwd-a\r\nVia: SIP/2.0/UDP %s:5070;branch=z9hG4bK-fwd-b;rport\r\nFrom: <sip:200@%s>;tag=8\r\nTo: <sip:200@%s>;tag=9\r\nCall-ID: fwd@%s\r\nCSeq: 1 REGISTER\r\nContact: <sip:200@%s:5070>;expires=3600\r\nContent-Length: 0\r\n\r\n' \
    "$PW_PBX4" "$1" "$PW_PBX4" "$PW_PBX4" "$1" "$1"
}
pw_stats "$PW_TMP/fwd0.json"
pw_in_wan "$PW_PY" "$PW_NETTOOL" udp --src "$PW_PHONE2_4" --sport 5070 --dst "$PW_PBX4" --port 5060 --count 1 \
  --payload "$(forged_answer "$PW_PHONE2_4")" >/dev/null
sleep 0.5
pw_stats "$PW_TMP/fwd1.json"
pw_check_eq "a forged 200 OK to REGISTER from an unknown source drops as not_whitelisted" \
  "$(pw_stat_delta "$PW_TMP/fwd0.json" "$PW_TMP/fwd1.json" not_whitelisted internet)" 1
pw_ctl --json known list >"$PW_TMP/known-fwd.json"
if in_json_list "$PW_TMP/known-fwd.json" known "$PW_PHONE2_4"; then
  pw_bad "the forged answer made $PW_PHONE2_4 known"
else
  pw_ok "the forged answer made nobody known"
fi

# ---- 2d. a guesser's REGISTER whose Via names a maddr: the PBX would send its challenges ----
# ---- and 403s there, and egress credits such answers to nobody: the guesser would never ----
# ---- be counted. From a source that is not known it drops; without the maddr it passes   ----
guess() { # SRC VIA_PARAMS
  printf 'REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5070;branch=z9hG4bK-via-%s%s\r\nMax-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=5\r\nTo: <sip:%s@%s>\r\nCall-ID: via-%s@%s\r\nCSeq: 1 REGISTER\r\nContact: <sip:%s@%s:5070>\r\nContent-Length: 0\r\n\r\n' \
    "$PW_PBX4" "$1" "${#2}" "$2" "$PHONE_USER" "$PW_PBX4" "$PHONE_USER" "$PW_PBX4" "${#2}" "$1" "$PHONE_USER" "$1"
}
send_one via1 "$(guess "$PW_PHONE2_4" ";maddr=$PW_TRUNK4")" malformed_sip "a REGISTER whose Via names a maddr drops as malformed_sip"
send_one via2 "$(guess "$PW_PHONE2_4" ";rport")" sip_responsive "the same REGISTER without the maddr passes"

# ---- 3. the scanners ----

# capture_settle NAME: waits until the capture file stops growing (packets still being written).
capture_settle() {
  local size=-1 now i
  for ((i = 0; i < 20; i++)); do
    now=$(stat -c %s "$PW_TMP/$1.pcap")
    [[ $now == "$size" ]] && return 0
    size=$now
    sleep 0.1
  done
}

# found PATTERN NAME: the tool's output matches PATTERN (grep -E).
found() { grep -Eq -- "$1" "$PW_TMP/$2.out"; }

MEASURES=()
# scan NAME ADDR SECONDS FOUND_PATTERN TOOL ARGS...: runs one sipvicious tool from ADDR in the wan
# namespace for SECONDS at most (then SIGINT: the tool prints what it found and exits), then
# checks that it found nothing or was banned, and measures.
scan() {
  local name=$1 addr=$2 secs=$3 pattern=$4 rc=0 ban cause=none banned=0 hit=0 m banned_as
  shift 4
  # What the ban names: the address, or an IPv6 source's /64 ([sip] ipv6_prefix).
  banned_as=$("$PW_PY" -c 'import ipaddress, sys; a = ipaddress.ip_address(sys.argv[1]); print(a if a.version == 4 else ipaddress.ip_network(f"{a}/64", strict=False))' "$addr")
  pw_wan_src "$addr"
  pw_log "$name from $addr: $*"
  (cd "$PW_TMP" && HOME=$PW_TMP timeout -s INT -k 5 "$secs" ip netns exec "$PW_NS_WAN" "$@" \
    >"$PW_TMP/$name.out" 2>&1) || rc=$?
  pw_wan_src ""
  sed 's/^/    | /' "$PW_TMP/$name.out" | { grep -v '^    | *$' || true; } | tail -n 8
  # A traceback is a crash, unless it is the tool's answer to the SIGINT that ended it (exit
  # 124: the interrupt can land while it is already printing its summary).
  pw_check "$name: the tool ran (exit $rc, no traceback but an interrupted one)" \
    bash -c "[[ $rc == 0 || $rc == 124 ]] && { ! grep -q Traceback '$PW_TMP/$name.out' ||
      { [[ $rc == 124 ]] && tail -n 1 '$PW_TMP/$name.out' | grep -q '^KeyboardInterrupt'; }; }"

  # A ban is logged as the data plane sets it; the tool has been running long after that.
  pw_wait_log "$PW_DAEMON_LOG" "pbxwall ban: addr=$banned_as " 1 || true
  ban=$(grep -E "pbxwall ban: addr=$banned_as " "$PW_DAEMON_LOG" | head -n 1 || true)
  if [[ -n $ban ]]; then
    banned=1
    cause=$(sed -n 's/.* cause=\([a-z_]*\).*/\1/p' <<<"$ban")
  fi
  found "$pattern" "$name" && hit=1
  capture_settle wan
  capture_settle pbx
  pw_capture_times wan src host "$addr" >"$PW_TMP/$name.sent"
  pw_capture_times pbx src host "$addr" >"$PW_TMP/$name.reached"
  m=$("$PW_PY" - "$PW_TMP/$name.sent" "$PW_TMP/$name.reached" "${ban%% *}" <<'EOF'
import math, sys
from datetime import datetime
sent = [float(x) for x in open(sys.argv[1]).read().split()]
reached = [float(x) for x in open(sys.argv[2]).read().split()]
ban = datetime.strptime(sys.argv[3], '%Y-%m-%dT%H:%M:%S.%f').timestamp() if sys.argv[3] else None
first = min(sent) if sent else None
if ban is None:
    print(len(sent), len(reached), len(sent), len(reached), 0, '-')
else:
    # The log's time is cut to the millisecond and comes after the ban: the ban happened before
    # the end of that millisecond. Packets up to then count as before it; the time is a bound.
    cut = ban + 0.001
    # A ban set before the first probe (another address of a banned /64): '-'.
    print(len(sent), len(reached), sum(t < cut for t in sent), sum(t < cut for t in reached),
          sum(t >= cut for t in reached), '%d' % math.ceil((cut - first) * 1000) if first and cut > first else '-')
EOF
  )
  local sent reached sent_before reached_before reached_after ms
  read -r sent reached sent_before reached_before reached_after ms <<<"$m"
  pw_check_ge "$name: the tool sent probes" "$sent" 1
  SCAN_BANNED=$banned SCAN_REACHED=$reached
  if ((banned)); then
    pw_log "MEASURE: $name: packets reaching the PBX before the ban: $reached_before (of $sent_before sent before it, $sent in all); time from first probe to ban: <= $ms ms; cause: $cause"
    MEASURES+=("$(printf '%-26s %-15s %-13s %6s %7s %9s %8s' "$name" "$addr" "$cause" "$sent" "$reached_before" "$reached_after" "$ms")")
  else
    pw_log "MEASURE: $name: not banned; packets sent: $sent, reaching the PBX: $reached; found: $( ((hit)) && echo yes || echo nothing)"
    MEASURES+=("$(printf '%-26s %-15s %-13s %6s %7s %9s %8s' "$name" "$addr" none "$sent" "$reached" - -)")
  fi

  if ((banned)); then
    pw_check "$name: banned with a data-plane cause ($cause)" grep -Eq "$BAN_CAUSES" <<<"$cause"
    pw_ctl --json ban list >"$PW_TMP/$name.bans.json"
    pw_check_eq "$name: pbxwallctl ban list shows $banned_as with its cause" \
      "$(pw_json "$PW_TMP/$name.bans.json" "[b['cause'] for b in d['bans'] if b['addr'] == '$banned_as']")" "[\"$cause\"]"
    pw_check_eq "$name: nothing from $addr reached the PBX after the ban" "$reached_after" 0
  fi
  # The tools' own User-Agent (friendly-scanner) is a signature: banned on the first probe.
  if [[ $name != *nosig* ]]; then
    pw_check_eq "$name: banned as a scanner" "$cause" scanner
    pw_check_eq "$name: no probe reached the PBX" "$reached_before" 0
  fi
  if ((hit && !banned)); then
    pw_bad "$name: found something and was not banned (see $name.out)"
  else
    pw_ok "$name: found nothing or was banned (found: $hit, banned: $banned)"
  fi
}

# What each tool prints when it finds something: svmap a device row, svwar an extension,
# svcrack a password (its INFO line with -v, or its result table).
SVMAP_FOUND="\\| *$PW_PBX4:5060 *\\|"
SVWAR_FOUND="extension '[^']*' (exists|probably exists)|^\\| *[0-9]+ *\\| *(reqauth|noauth|weird)"
SVCRACK_FOUND="password for .* is|^\\| *$PHONE_USER *\\| *[^ |]+ *\\|"
SV_COMMON=(-P 5070 -v)

scan svmap "$PW_ATTACKER4" 15 "$SVMAP_FOUND" svmap -b "$PW_ATTACKER4" "${SV_COMMON[@]}" "$PW_PBX4"
scan svwar-register "${SCAN_ADDRS[0]}" 15 "$SVWAR_FOUND" \
  svwar -x "${SCAN_ADDRS[0]}" "${SV_COMMON[@]}" -m REGISTER -e 2000-2100 --maximumtime 2 "$PW_PBX4"
scan svwar-invite "${SCAN_ADDRS[1]}" 15 "$SVWAR_FOUND" \
  svwar -x "${SCAN_ADDRS[1]}" "${SV_COMMON[@]}" -m INVITE -e 2000-2100 --maximumtime 2 "$PW_PBX4"
scan svwar-options "${SCAN_ADDRS[2]}" 15 "$SVWAR_FOUND" \
  svwar -x "${SCAN_ADDRS[2]}" "${SV_COMMON[@]}" -m OPTIONS -e 2000-2100 --maximumtime 2 "$PW_PBX4"
scan svcrack "${SCAN_ADDRS[3]}" 6 "$SVCRACK_FOUND" \
  svcrack -x "${SCAN_ADDRS[3]}" "${SV_COMMON[@]}" -u "$PHONE_USER" -r "$CRACK_RANGE" --maximumtime 2 "$PW_PBX4"
# Without a scanner signature: compact headers, no User-Agent.
scan svwar-options-nosig "${SCAN_ADDRS[4]}" 15 "$SVWAR_FOUND" \
  svwar -c -x "${SCAN_ADDRS[4]}" "${SV_COMMON[@]}" -m OPTIONS -e 2000-2100 --maximumtime 2 "$PW_PBX4"
scan svcrack-nosig "${SCAN_ADDRS[5]}" 6 "$SVCRACK_FOUND" \
  svcrack -c -x "${SCAN_ADDRS[5]}" "${SV_COMMON[@]}" -u "$PHONE_USER" -r "$CRACK_RANGE" --maximumtime 2 "$PW_PBX4"
# IPv6 without a signature, and a second address of the same /64 right after: the budget and the
# ban are the /64's, so the rotation buys nothing.
scan svcrack-nosig-ipv6 "${SCAN_ADDRS6[0]}" 6 "$SVCRACK_FOUND" \
  svcrack -6 -c -x "[${SCAN_ADDRS6[0]}]" "${SV_COMMON[@]}" -u "$PHONE_USER" -r "$CRACK_RANGE" --maximumtime 2 "$PW_PBX6"
scan svwar-nosig-ipv6-same64 "${SCAN_ADDRS6[1]}" 15 "$SVWAR_FOUND" \
  svwar -6 -c -x "[${SCAN_ADDRS6[1]}]" "${SV_COMMON[@]}" -m OPTIONS -e 2000-2100 --maximumtime 2 "$PW_PBX6"
# (Its ban line is the earlier tool's, from before its first probe: every packet it sent counts.)
pw_check "svwar-nosig-ipv6-same64: its /64 is banned already, nothing reached the PBX" \
  test "$SCAN_BANNED" -eq 1 -a "$SCAN_REACHED" -eq 0

# The control: the same svcrack from inside the pbx namespace (loopback, no pbxwall on the way)
# finds the password, so the runs above found nothing because of the filter.
rc=0
(cd "$PW_TMP" && HOME=$PW_TMP timeout -s INT -k 5 15 ip netns exec "$PW_NS_PBX" svcrack -x "$PW_PBX4" -P 5071 -v \
  -u "$PHONE_USER" -r "$CRACK_RANGE" --maximumtime 2 "$PW_PBX4" >"$PW_TMP/svcrack-control.out" 2>&1) || rc=$?
pw_check "control: svcrack without pbxwall in the path finds the password (exit $rc)" \
  found "password for $PHONE_USER is $PHONE_PASSWORD" svcrack-control

echo
printf '    %-26s %-15s %-13s %6s %7s %9s %8s\n' TOOL SOURCE BAN SENT BEFORE AFTER-BAN 'BAN(ms)'
printf '    %s\n' "${MEASURES[@]}"
echo "    (SENT: packets the tool sent; BEFORE: packets that reached the PBX before the ban, or in all"
echo "     when not banned; AFTER-BAN: that reached it after; BAN(ms): from the first probe to the ban,"
echo "     at most: pbxwalld logs it with millisecond resolution)"
echo

# ---- 4. the phone keeps calling; the trunk was never limited or banned ----
calls phone-calls-2 "$PW_PHONE4" 5062 phone.csv "$PHONE_CALLS"

# answers_to NAME ADDR: the SIP answers in capture NAME sent to ADDR, "TIME STATUS CSEQ-METHOD"
# a line (IPv4 or IPv6 over Ethernet, UDP).
answers_to() {
  capture_settle "$1"
  "$PW_PY" - "$PW_TMP/$1.pcap" "$2" <<'EOF' || true
import ipaddress, re, struct, sys
data = open(sys.argv[1], 'rb').read()
want = ipaddress.ip_address(sys.argv[2])
endian = '<' if data[:4] == b'\xd4\xc3\xb2\xa1' else '>'
pos = 24
while pos + 16 <= len(data):
    sec, usec, incl, _ = struct.unpack(endian + 'IIII', data[pos:pos + 16])
    frame = data[pos + 16:pos + 16 + incl]
    pos += 16 + incl
    eth = struct.unpack('!H', frame[12:14])[0]
    if eth == 0x0800:
        dst, l4 = ipaddress.ip_address(frame[30:34]), 14 + (frame[14] & 15) * 4
    elif eth == 0x86dd:
        dst, l4 = ipaddress.ip_address(frame[38:54]), 54
    else:
        continue
    if dst != want:
        continue
    text = frame[l4 + 8:].decode('latin-1')
    m = re.match(r'SIP/2\.0 (\d{3})', text)
    c = re.search(r'\nCSeq:\s*\d+\s+(\w+)', text, re.I)
    if m:
        print('%d.%06d %s %s' % (sec, usec, m.group(1), c.group(1).upper() if c else '-'))
EOF
}

# What pbxwall's egress counts for the phone: 401/407 since its last 200 OK to REGISTER (which
# forgives); beyond challenge_allowance (3) each one is a failure, max_failures (10) bans.
answers_to answers "$PW_PHONE4" >"$PW_TMP/phone.answers"
challenges=$(awk '$2 == 200 && $3 == "REGISTER" { n = 0 } $2 == 401 || $2 == 407 { n++ } END { print n + 0 }' "$PW_TMP/phone.answers")
pw_log "MEASURE: phone: digest challenges (401/407) it got since its 200 OK to REGISTER: $challenges (it placed $((2 * PHONE_CALLS)) calls)"
if grep -Eq "pbxwall ban: addr=$PW_PHONE4 cause=auth_failure" "$PW_DAEMON_LOG"; then
  pw_log "NOTE: the phone was banned for auth_failure: pbxwall counts the PBX's 407 challenge to every authenticated INVITE of a registered phone as a failure beyond the allowance (3 + 10 failures: banned at its 13th call within ban_window)"
fi
pw_ctl --json ban list >"$PW_TMP/bans.json"
pw_check "pbxwallctl ban list: the phone is not banned" bash -c "! grep -q '\"$PW_PHONE4\"' '$PW_TMP/bans.json'"
pw_check "pbxwallctl ban list: the trunk is not banned" bash -c "! grep -q '\"$PW_TRUNK4\"' '$PW_TMP/bans.json'"
pw_check "pbxwalld logged no ban of the phone or the trunk" \
  bash -c "! grep -Eq 'pbxwall ban: addr=($PW_PHONE4|$PW_TRUNK4) ' '$PW_DAEMON_LOG'"
pw_ctl stats | sed 's/^/    /'

pw_finish
