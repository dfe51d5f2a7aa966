#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# attach_traffic.sh native|generic: pbxwalld attaches in the given XDP mode and real traffic
# from a trusted trunk, an internet phone and a rejected attacker (IPv4 and IPv6) gets the
# documented verdicts, both at the receiver behind the filter and in `pbxwallctl stats`.
# shellcheck disable=SC2119,SC2317,SC2001 # optional-argument helpers; checks run through pw_check
set -euo pipefail

MODE=${1:-native}
[[ $MODE == native || $MODE == generic ]] || { echo "usage: $0 native|generic" >&2; exit 2; }

# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
source "${PW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/scripts/netns.sh"
pw_init "attach_traffic[$MODE]"
pw_require_tools sipp ss
pw_lab_up

{
  pw_config_head "$MODE" drop
  cat <<EOF

[zones]
trusted = ["$PW_TRUNK4", "$PW_TRUNK6"]
reject = ["198.18.3.0/24", "2001:db8:3::/48"]

[services.sip]
udp = ["5060"]
tcp = ["5060"]
zones = ["trusted", "local", "other", "internet"]

[services.rtp]
udp = ["10000-10099"]
zones = ["trusted", "local", "other", "internet"]

# The "closed" service: only trusted and local may reach it.
[services.ssh]
tcp = ["22"]
zones = ["trusted", "local"]
EOF
} >"$PW_CONFIG"

pw_daemon_start

# ---- the attachment ----
read -r xdp_mode xdp_id < <(pw_xdp_info)
pw_check_eq "ip link shows XDP in $MODE mode ($( [[ $MODE == native ]] && echo xdp || echo xdpgeneric ))" "$xdp_mode" "$MODE"
pw_check "ip link shows an XDP program id ($xdp_id)" test "$xdp_id" -gt 0
if [[ $MODE == native ]]; then
  pw_check "ip link says 'xdp', not 'xdpgeneric'" bash -c "ip -n '$PW_NS_PBX' link show dev '$PW_IF_PBX' | grep -qw xdp && ! ip -n '$PW_NS_PBX' link show dev '$PW_IF_PBX' | grep -qw xdpgeneric"
else
  pw_check "ip link says 'xdpgeneric'" bash -c "ip -n '$PW_NS_PBX' link show dev '$PW_IF_PBX' | grep -qw xdpgeneric"
fi
pw_check "TC egress filter pw_tc_egress is in place" bash -c "ip netns exec '$PW_NS_PBX' tc filter show dev '$PW_IF_PBX' egress | grep -q pw_tc_egress"
pw_ctl --json status >"$PW_TMP/status.json"
pw_check_eq "pbxwallctl status: interface attached by pbxwall" \
  "$(pw_json "$PW_TMP/status.json" "[i['xdp']['state'] for i in d['interfaces'] if i['name'] == '$PW_IF_PBX']")" '["pbxwall"]'
pw_check_eq "pbxwallctl status: XDP mode" \
  "$(pw_json "$PW_TMP/status.json" "[i['xdp']['mode'] for i in d['interfaces'] if i['name'] == '$PW_IF_PBX']")" "[\"$MODE\"]"

# ---- receivers: the test PBX (sipp UAS, UDP 5060) and the counter (everything else) ----
pw_sipp_uas_start
pw_rx_start --udp 10000 --udp 10010 --udp 4000 --tcp 5060 --tcp 22 --tcp 8080 --iface "$PW_IF_PBX"
pw_stats "$PW_TMP/stats0.json"

# ---- responsive mode: the phone registers first; the PBX's 200 OK makes it known ----
if pw_sip_register "$PW_PHONE4" 1 5070 register-phone; then pw_ok "sipp: REGISTER from the phone answered"
else pw_bad "sipp: REGISTER from the phone failed"; tail -n 20 "$PW_TMP/register-phone.log"; fi
pw_ctl --json known list >"$PW_TMP/known.json"
pw_check_eq "pbxwallctl known list: the phone became known from the PBX's 200 OK to REGISTER" \
  "$(pw_json "$PW_TMP/known.json" "[k['addr'] for k in d['known']]")" "[\"$PW_PHONE4\"]"

# ---- UDP: 20 datagrams to a service port (rtp 10000), 10 to an unlisted one (4000) ----
declare -A NAME=([$PW_TRUNK4]=trunk [$PW_TRUNK6]=trunk [$PW_PHONE4]=phone [$PW_PHONE6]=phone
                 [$PW_ATTACKER4]=attacker [$PW_ATTACKER6]=attacker)
for src in "$PW_TRUNK4" "$PW_PHONE4" "$PW_ATTACKER4"; do
  pw_udp "$src" "$PW_PBX4" 10000 20 0.2
  pw_udp "$src" "$PW_PBX4" 4000 10 0.1
done
for src in "$PW_TRUNK6" "$PW_PHONE6" "$PW_ATTACKER6"; do
  pw_udp "$src" "$PW_PBX6" 10000 20 0.2
  pw_udp "$src" "$PW_PBX6" 4000 10 0.1
done

# ---- fragmented UDP: 3 datagrams of 3000 bytes (3 fragments each on a 1500-byte MTU). The ----
# ---- later fragments carry no port: they follow the verdict of their first fragment.    ----
big=$(printf '%3000s' '' | tr ' ' F)
for src in "$PW_PHONE4" "$PW_PHONE6" "$PW_ATTACKER4" "$PW_ATTACKER6"; do
  dst=$PW_PBX4
  [[ $src == *:* ]] && dst=$PW_PBX6
  pw_in_wan "$PW_PY" "$PW_NETTOOL" udp --src "$src" --dst "$dst" --port 10010 --count 3 --payload "$big" >/dev/null
  pw_in_wan "$PW_PY" "$PW_NETTOOL" udp --src "$src" --dst "$dst" --port 4000 --count 3 --payload "$big" >/dev/null
done

# ---- TCP: connections that must open run one by one; those that must fail run together ----
tcp_expect() { # SRC DST PORT yes|no
  local what="TCP ${NAME[$1]} $1 -> [$2]:$3"
  if pw_tcp "$1" "$2" "$3" 1.5; then
    if [[ $4 == yes ]]; then pw_ok "$what connects"; else pw_bad "$what connected, must be dropped"; fi
  else
    if [[ $4 == no ]]; then pw_ok "$what does not connect"; else pw_bad "$what does not connect, must pass"; fi
  fi
}
for pair in "$PW_TRUNK4 $PW_PBX4" "$PW_TRUNK6 $PW_PBX6"; do
  read -r src dst <<<"$pair"
  tcp_expect "$src" "$dst" 5060 yes
  tcp_expect "$src" "$dst" 22 yes
  tcp_expect "$src" "$dst" 8080 yes
done
for pair in "$PW_PHONE4 $PW_PBX4" "$PW_PHONE6 $PW_PBX6"; do
  read -r src dst <<<"$pair"
  tcp_expect "$src" "$dst" 5060 yes
done
jobs_out=() jobs_pid=()
for pair in "$PW_PHONE4 $PW_PBX4" "$PW_PHONE6 $PW_PBX6" "$PW_ATTACKER4 $PW_PBX4" "$PW_ATTACKER6 $PW_PBX6"; do
  read -r src dst <<<"$pair"
  for port in 22 8080 5060; do
    [[ ${NAME[$src]} == phone && $port == 5060 ]] && continue
    out=$PW_TMP/tcp-$src-$port.txt
    ( tcp_expect "$src" "$dst" "$port" no >"$out" ) &
    pw_track $!
    jobs_pid+=($!)
    jobs_out+=("$out")
  done
done
for pid in "${jobs_pid[@]}"; do wait "$pid" || true; done
for out in "${jobs_out[@]}"; do
  line=$(cat "$out")
  echo "$line"
  PW_CHECKS=$((PW_CHECKS + 1))
  [[ $line == PASS:* ]] || PW_FAILS=$((PW_FAILS + 1))
done

# ---- SIP through sipp: the trunk calls, the phone pings and calls, the attacker gets nothing ----
if pw_sip_calls "$PW_TRUNK4" 5 5071 uac-trunk; then pw_ok "sipp: 5 calls from the trunk succeed"
else pw_bad "sipp: calls from the trunk failed (see uac-trunk.log)"; tail -n 20 "$PW_TMP/uac-trunk.log"; fi
if pw_sip_options "$PW_PHONE4" 5 5072 options-phone; then pw_ok "sipp: 5 OPTIONS from the phone answered"
else pw_bad "sipp: OPTIONS from the phone failed"; tail -n 20 "$PW_TMP/options-phone.log"; fi
if pw_sip_calls "$PW_PHONE4" 2 5073 uac-phone; then pw_ok "sipp: 2 calls from the phone succeed"
else pw_bad "sipp: calls from the phone failed"; tail -n 20 "$PW_TMP/uac-phone.log"; fi
# The attacker: every packet is dropped, so sipp sees no answer and fails. Run together; the
# counters before and after show that sipp did send (a sipp that failed to start fails too).
pw_stats "$PW_TMP/stats-att0.json"
pw_sip_options "$PW_ATTACKER4" 3 5074 options-attacker & a1=$!
pw_sip_calls "$PW_ATTACKER4" 2 5075 uac-attacker & a2=$!
pw_track "$a1"; pw_track "$a2"
if wait "$a1"; then pw_bad "sipp: OPTIONS from the attacker were answered"; else pw_ok "sipp: OPTIONS from the attacker fail (exit $?)"; fi
if wait "$a2"; then pw_bad "sipp: calls from the attacker succeeded"; else pw_ok "sipp: calls from the attacker fail (exit $?)"; fi
pw_stats "$PW_TMP/stats-att1.json"
pw_check_ge "stats: the attacker's SIP requests (3 OPTIONS, 2 INVITEs) were sent and dropped as reject" \
  "$(pw_stat_delta "$PW_TMP/stats-att0.json" "$PW_TMP/stats-att1.json" reject reject)" 5

sleep 0.3
pw_rx_dump "$PW_TMP/rx.json"
pw_stats "$PW_TMP/stats1.json"

# ---- what the receiver got ----
for src in "$PW_TRUNK4" "$PW_TRUNK6"; do
  pw_check_eq "receiver: UDP 10000 datagrams from trunk $src" "$(pw_rx_get "$PW_TMP/rx.json" udp 10000 "$src")" 20
  pw_check_eq "receiver: UDP 4000 (unlisted) datagrams from trunk $src" "$(pw_rx_get "$PW_TMP/rx.json" udp 4000 "$src")" 10
  pw_check_eq "receiver: TCP 22 connections from trunk $src" "$(pw_rx_get "$PW_TMP/rx.json" tcp 22 "$src")" 1
done
for src in "$PW_PHONE4" "$PW_PHONE6"; do
  pw_check_eq "receiver: UDP 10000 datagrams from phone $src" "$(pw_rx_get "$PW_TMP/rx.json" udp 10000 "$src")" 20
  pw_check_eq "receiver: UDP 4000 (unlisted) datagrams from phone $src" "$(pw_rx_get "$PW_TMP/rx.json" udp 4000 "$src")" 0
  pw_check_eq "receiver: TCP 5060 connections from phone $src" "$(pw_rx_get "$PW_TMP/rx.json" tcp 5060 "$src")" 1
  pw_check_eq "receiver: TCP 22 connections from phone $src" "$(pw_rx_get "$PW_TMP/rx.json" tcp 22 "$src")" 0
  pw_check_eq "wire: TCP 22 frames from phone $src behind XDP" "$(pw_rx_get "$PW_TMP/rx.json" wire tcp/22 "$src")" 0
done
# 5 calls x (INVITE, ACK, BYE); the phone: 5 OPTIONS + 2 calls x 3.
for src in "$PW_PHONE4" "$PW_PHONE6"; do
  pw_check_eq "receiver: fragmented 3000-byte datagrams to 10010 from phone $src reassembled" \
    "$(pw_rx_get "$PW_TMP/rx.json" udp 10010 "$src")" 3
done
pw_check_eq "stats: no fragment_orphan drop" "$(pw_stat "$PW_TMP/stats1.json" fragment_orphan)" 0
pw_check_ge "wire: SIP (udp/5060) frames from the trunk behind XDP" "$(pw_rx_get "$PW_TMP/rx.json" wire udp/5060 "$PW_TRUNK4")" 15
pw_check_ge "wire: SIP (udp/5060) frames from the phone behind XDP" "$(pw_rx_get "$PW_TMP/rx.json" wire udp/5060 "$PW_PHONE4")" 11
for src in "$PW_ATTACKER4" "$PW_ATTACKER6"; do
  pw_check_eq "wire: frames from attacker $src behind XDP (all ports)" "$(pw_rx_from "$PW_TMP/rx.json" "$src")" 0
  pw_check_eq "receiver: datagrams from attacker $src" \
    "$(pw_json "$PW_TMP/rx.json" "sum(v.get('$src', 0) for v in d['udp'].values())")" 0
  pw_check_eq "receiver: connections from attacker $src" \
    "$(pw_json "$PW_TMP/rx.json" "sum(v.get('$src', 0) for v in d['tcp'].values())")" 0
done

# ---- pbxwallctl --json stats: drops and passes by reason ----
s0=$PW_TMP/stats0.json s1=$PW_TMP/stats1.json
# Attacker: 2 x (20 + 10) datagrams, 2 x 6 x 3 fragments, 6 connection attempts (SYNs, with
# retransmits), >= 5 SIP requests.
pw_check_ge "stats: reject drops (zone reject) cover the attacker's packets" "$(pw_stat_delta "$s0" "$s1" reject reject)" $((60 + 36 + 6 + 5))
pw_check_ge "stats: service_denied drops (zone internet) for the phone's TCP 22 (v4 + v6)" "$(pw_stat_delta "$s0" "$s1" service_denied internet)" 2
pw_check_ge "stats: unlisted_drop (zone internet) for the phone's UDP 4000 (plain and fragmented) and TCP 8080" "$(pw_stat_delta "$s0" "$s1" unlisted_drop internet)" $((20 + 18 + 2))
pw_check_ge "stats: trusted passes for the trunk" "$(pw_stat_delta "$s0" "$s1" trusted trusted)" $((60 + 6 * 3 + 5 * 3))
pw_check_ge "stats: service passes (zone internet) for the phone's RTP" "$(pw_stat_delta "$s0" "$s1" service internet)" $((40 + 18))
# SIP from the internet zone goes through responsive mode: the registered IPv4 phone is known
# (REGISTER, its TCP connection, 5 OPTIONS, 2 calls), the IPv6 one stays within its budget.
pw_check_ge "stats: sip_known passes for the registered phone" "$(pw_stat_delta "$s0" "$s1" sip_known internet)" $((3 + 5 + 2 * 3))
pw_check_ge "stats: sip_responsive passes for the unregistered IPv6 phone's TCP connection" "$(pw_stat_delta "$s0" "$s1" sip_responsive internet)" 3
pw_check_eq "stats: no rate_limited drop for the phone" "$(pw_stat "$s1" rate_limited)" 0
pw_check_eq "stats: no service_denied drop in the trusted zone" "$(pw_stat "$s1" service_denied trusted)" 0
pw_check_eq "stats: no reject drop outside the reject zone" \
  "$(pw_json "$s1" "sum(c['packets'] for c in d['counters'] if c['reason'] == 'reject' and c['zone'] != 'reject')")" 0
pw_check_eq "stats: every counter has a known action" \
  "$(pw_json "$s1" "all(c['action'] == ('drop' if c['reason'] in ('reject','banned','service_denied','unlisted_drop','malformed','martian','icmp_denied','fragment_orphan','rate_limited','not_whitelisted','new_source_limited','trap_port') else 'pass') for c in d['counters'])")" True

pw_finish
