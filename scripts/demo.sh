#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# pbxwall in one minute: installs what is missing, builds, then puts a PBX (a sipp UAS) behind
# pbxwall in a network namespace and lets a trusted trunk, an internet phone and an attacker
# from a rejected network talk to it for a few seconds, then a real scan (sipvicious svmap and
# svwar) comes from an internet address nobody listed while the registered phone keeps calling.
# Prints what reached the PBX from each source, the ban, the drop counters and the zone table,
# then removes everything it created.
#
#   sudo scripts/demo.sh            (root: namespaces, XDP, bpffs)
#   PW_DEMO_NO_BUILD=1 ...          skip deps and build (use PBXWALLD/PBXWALLCTL or build/)
# shellcheck disable=SC2119,SC2317,SC2001 # optional-argument helpers; checks run through pw_check
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"

if [[ $(id -u) -ne 0 ]]; then
  echo "demo: run as root (it creates network namespaces and attaches XDP programs)" >&2
  exit 1
fi

if [[ -z ${PW_DEMO_NO_BUILD:-} ]]; then
  echo "== dependencies"
  scripts/deps.sh
  echo "== build"
  build_start=$SECONDS
  gen=(-G Ninja) # for a new build directory; one configured before keeps its generator
  [[ -f build/CMakeCache.txt ]] && gen=()
  cmake -S . -B build "${gen[@]}" >/dev/null
  if cmake --build build >"${TMPDIR:-/tmp}/pbxwall-demo-build.$$.log" 2>&1; then
    echo "build: ok ($((SECONDS - build_start)) s)"
  else
    # The demo needs only the daemon and the control tool: do not let another target stop it.
    tail -n 5 "${TMPDIR:-/tmp}/pbxwall-demo-build.$$.log"
    echo "demo: the full build failed (above); building only pbxwalld and pbxwallctl"
    cmake --build build --target pbxwalld pbxwallctl
  fi
  rm -f "${TMPDIR:-/tmp}/pbxwall-demo-build.$$.log"
fi

# shellcheck source-path=SCRIPTDIR source=netns.sh
source "$SRC/scripts/netns.sh"
pw_init demo
pw_require_tools sipp ss
echo "== lab"
pw_lab_up

{
  pw_config_head auto drop
  cat <<EOF

[zones]
trusted = ["$PW_TRUNK4", "$PW_TRUNK6"]      # the SIP trunk provider
reject = ["198.18.3.0/24", "2001:db8:3::/48"] # a network known for SIP scanning

[services.sip]
udp = ["5060"]
tcp = ["5060"]
zones = ["trusted", "local", "other", "internet"]

[services.rtp]
udp = ["10000-20000"]
zones = ["trusted", "local", "other", "internet"]

[services.ssh]
tcp = ["22"]
zones = ["trusted", "local"]
EOF
} >"$PW_CONFIG"
echo "config ($PW_CONFIG):"
grep -v '^#' "$PW_CONFIG" | sed '/^$/d; s/^/    /'

pw_daemon_start
sed 's/^/    pbxwalld: /' "$PW_DAEMON_LOG"
pw_sipp_uas_start
pw_rx_start --tcp 22 --iface "$PW_IF_PBX"

echo "== traffic (about 5 seconds, everything bounded)"
echo "    trunk    $PW_TRUNK4: 10 calls (sipp uac), an SSH connection; $PW_TRUNK6: 50 RTP datagrams"
echo "    phone    $PW_PHONE4: 10 OPTIONS, 5 REGISTER, 2 calls (sipp), an SSH attempt;"
echo "             $PW_PHONE6: 50 RTP datagrams"
echo "    attacker $PW_ATTACKER4: 5000-datagram SIP flood over 2 s, an OPTIONS scan (sipp), an SSH attempt;"
echo "             $PW_ATTACKER6: 1000-datagram SIP flood"
declare -A RESULT
run() { # NAME CMD...: runs in the background, records the outcome in $PW_TMP/result.NAME
  local name=$1
  shift
  ( if "$@"; then echo ok; else echo "failed ($?)"; fi >"$PW_TMP/result.$name" ) &
  pw_track $!
}
run trunk_calls pw_sip_calls "$PW_TRUNK4" 10 5071 trunk-calls
run phone_options pw_sip_options "$PW_PHONE4" 10 5072 phone-options
run phone_register pw_sip_register "$PW_PHONE4" 5 5073 phone-register
run phone_calls pw_sip_calls "$PW_PHONE4" 2 5074 phone-calls
run phone_ssh pw_tcp "$PW_PHONE4" "$PW_PBX4" 22 1.5
run trunk_ssh pw_tcp "$PW_TRUNK4" "$PW_PBX4" 22 1.5
run trunk_rtp6 pw_udp "$PW_TRUNK6" "$PW_PBX6" 10000 50 1
run phone_rtp6 pw_udp "$PW_PHONE6" "$PW_PBX6" 10000 50 1
run attacker_scan pw_sip_options "$PW_ATTACKER4" 5 5075 attacker-scan
run attacker_ssh pw_tcp "$PW_ATTACKER4" "$PW_PBX4" 22 1.5
run attacker_flood4 pw_udp "$PW_ATTACKER4" "$PW_PBX4" 5060 5000 2
run attacker_flood6 pw_udp "$PW_ATTACKER6" "$PW_PBX6" 5060 1000 2
for pid in "${PW_PIDS[@]}"; do
  [[ $pid == "$PW_DAEMON_PID" || $pid == "$PW_UAS_PID" || $pid == "$PW_RX_PID" ]] && continue
  wait "$pid" 2>/dev/null || true
done
for f in "$PW_TMP"/result.*; do
  RESULT[${f##*/result.}]=$(cat "$f")
done
sleep 0.3
pw_rx_dump "$PW_TMP/rx.json"

echo
echo "== what reached the PBX (frames behind the XDP program, per source)"
"$PW_PY" - "$PW_TMP/rx.json" <<EOF
import json, sys
d = json.load(open(sys.argv[1]))['wire']
roles = [("$PW_TRUNK4", "trusted trunk"), ("$PW_TRUNK6", "trusted trunk"),
         ("$PW_PHONE4", "internet phone"), ("$PW_PHONE6", "internet phone"),
         ("$PW_ATTACKER4", "attacker (reject)"), ("$PW_ATTACKER6", "attacker (reject)")]
print("    %-16s %-18s %8s  %s" % ("SOURCE", "ROLE", "FRAMES", "BY PORT"))
for src, role in roles:
    ports = {k: v[src] for k, v in d.items() if src in v}
    total = sum(ports.values())
    detail = ", ".join("%s %d" % (k, n) for k, n in sorted(ports.items())) or "-"
    print("    %-16s %-18s %8d  %s" % (src, role, total, detail))
EOF
echo
echo "== what the senders saw"
outcome() { # WHAT RESULT_KEY EXPECTED
  local got=${RESULT[$2]:-missing} mark=" "
  [[ $got == "$3"* ]] || mark="!"
  printf '  %s %-40s %-12s (expected: %s)\n' "$mark" "$1" "$got" "$3"
}
outcome "trunk: 10 calls completed" trunk_calls ok
outcome "trunk: SSH connection opened" trunk_ssh ok
outcome "phone: 10 OPTIONS answered" phone_options ok
outcome "phone: 5 REGISTER answered" phone_register ok
outcome "phone: 2 calls completed" phone_calls ok
outcome "phone: SSH connection opened" phone_ssh failed
outcome "attacker: OPTIONS scan answered" attacker_scan failed
outcome "attacker: SSH connection opened" attacker_ssh failed

if command -v svmap >/dev/null 2>&1 && command -v svwar >/dev/null 2>&1; then
  echo
  echo "== scan: sipvicious from $PW_PHONE2_4, an internet address nobody listed (about 4 seconds)"
  # sv TOOL ARGS...: one sipvicious tool in the wan namespace, stopped by SIGINT after 2 s at the
  # latest (it then prints what it found); shows the end of its output.
  sv() {
    echo "    \$ $*"
    (cd "$PW_TMP" && HOME=$PW_TMP timeout -s INT -k 3 2 ip netns exec "$PW_NS_WAN" "$@" >"$PW_TMP/$1.out" 2>&1) || true
    grep -v '^[[:space:]]*$' "$PW_TMP/$1.out" | tail -n 6 | sed 's/^/      /'
  }
  pw_wan_src "$PW_PHONE2_4" # svwar cannot bind an address: a route picks its source
  sv svmap -b "$PW_PHONE2_4" -P 5070 "$PW_PBX4"
  sv svwar -x "$PW_PHONE2_4" -P 5070 -m OPTIONS -e 100-200 "$PW_PBX4"
  pw_wan_src ""
  pw_wait_log "$PW_DAEMON_LOG" "pbxwall ban: addr=$PW_PHONE2_4 " 2 || true
  pw_rx_dump "$PW_TMP/rx-scan.json"
  echo "    frames from the scanner that reached the PBX: $(pw_rx_from "$PW_TMP/rx-scan.json" "$PW_PHONE2_4")"
  grep "pbxwall ban: addr=$PW_PHONE2_4 " "$PW_DAEMON_LOG" | sed 's/^/    pbxwalld: /' || echo "    pbxwalld: no ban of $PW_PHONE2_4"
  echo "    pbxwallctl ban list:"
  pw_ctl ban list | sed 's/^/      /'
  if pw_sip_calls "$PW_PHONE4" 2 5077 phone-calls-after-scan; then
    echo "    phone $PW_PHONE4 (registered): 2 more calls after the scan: ok"
  else
    echo "  ! phone $PW_PHONE4 (registered): 2 more calls after the scan: failed ($PW_TMP/phone-calls-after-scan.log)"
  fi
fi

echo
echo "== pbxwallctl stats"
pw_ctl stats | sed 's/^/    /'
echo
echo "== pbxwallctl zone list"
pw_ctl zone list | sed 's/^/    /'
echo
pw_log "cleaning up: processes, namespaces, pins and $PW_TMP"
