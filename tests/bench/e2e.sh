#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# e2e.sh: the end-to-end benchmark over veth (run it through scripts/bench.sh --e2e).
#
# One sender namespace holds one end of a veth pair per receiver; each receiver has its own
# namespace, so that no filter sees another's traffic and none is reconfigured between rounds:
#
#   drop   a bare XDP_DROP, attached natively (the floor)
#   read   a bare drop that first reads the frame's headers (its first cache line, which the
#          floor never touches and every filter must read): what reading the packet costs
#   pw     pbxwall (pbxwalld + pbxwallctl), the N sources as blacklist entries: reject path
#   full   pbxwall, the same sources unlisted internet sources sending SIP over their budget
#          (rate = 1 per day, burst 0, ban_after = 0: every check runs and ends in a drop);
#          its tables hold N IPv6 blacklist entries; no list names the sources' /24s, so the
#          /24 summary answers for their zone and bans with one bit, as for most of the internet
#   ipt    iptables-legacy -t raw PREROUTING -m set --match-set (ipset hash:net, the N sources)
#   nfh    nftables netdev ingress, the N sources in a hash set
#   nfi    nftables netdev ingress, the N sources in an interval set
#   sock   no filter: a plain UDP socket that reads and discards (tests/bench/pw_e2e.cpp sink)
#
# pw_e2e run (in the sender namespace, on CPU 0) floods each receiver in turn with a SIP
# REGISTER whose IPv4 source rotates through the N sources; each receiving veth's NAPI runs as
# a kthread (threaded NAPI) pinned to the last CPU, and the figure is that CPU time per handled
# packet. Sources are N addresses of 198.18.0.0/15 (outside 198.18.0.0/24), in a fixed
# pseudo-random order. Everything is removed at exit (scripts/netns.sh traps).
#
#   tests/bench/e2e.sh [--quick] [--json FILE] [-- pw_e2e run options]
# shellcheck disable=SC2317,SC2034,SC2119 # traps; PW_* variables read by scripts/netns.sh; optional-argument helpers
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
source "${PW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/scripts/netns.sh"
PW_E2E=${PW_E2E:-$PW_BUILD/tests/bench/pw_e2e}

quick=0
json=
extra=()
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --json) json=$2; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "e2e.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if ((quick)); then
  N=5000 ROUNDS=2 PACKETS=200000 SECONDS_MAX=2 WARMUP_SECONDS=5
else
  N=100000 ROUNDS=5 PACKETS=2000000 SECONDS_MAX=5 WARMUP_SECONDS=15
fi
# Packets each receiver handles before the rounds; pbxwall's full path needs every source to have
# its budget (its first packet passes): 8 N handled leaves about e^-8 of them without one.
WARMUP=$N
WARMUP_FULL=$((N * 8))

pw_init bench_e2e
# The whole flooding run's bound, in seconds (see below).
E2E_TIMEOUT=${PW_E2E_TIMEOUT:-300}
[[ $E2E_TIMEOUT =~ ^[1-9][0-9]*$ ]] || pw_die "PW_E2E_TIMEOUT must be a number of seconds, not '$E2E_TIMEOUT'"
pw_require_tools ipset nft iptables-legacy ethtool taskset bpftool
[[ -x $PW_E2E ]] || pw_die "missing PW_E2E=$PW_E2E (cmake --build build --target pw_e2e)"
(($(nproc) >= 2)) || pw_die "needs 2 CPUs: one sends, the other receives"
GEN_CPU=0
RX_CPU=$(($(nproc) - 1))
RX_MAC=02:70:77:00:00:01
GEN_MAC=02:70:77:00:00:02
DST=198.18.0.1
IDS=(drop read pw full ipt nfh nfi sock)
NS_GEN=$PW_ID-gen
PW_NS_WAN=$NS_GEN  # pw_cleanup deletes it
PW_NS_PBX=$PW_ID-pw # pbxwalld's namespace as far as pw_cleanup and pw_ctl are concerned
FULL_PIN=$PW_PIN_DIR-full
FULL_CONFIG=$PW_TMP/full.toml
rx_ns() { echo "$PW_ID-$1"; }

e2e_cleanup() {
  local rc=$? pid id
  set +e
  [[ -n ${E2E_PID:-} ]] && pw_stop "$E2E_PID" TERM # first: it reads the receivers' counters
  for pid in "${PW_PIDS[@]}"; do pw_stop "$pid" TERM; done
  PW_PIDS=()
  if [[ -f $FULL_CONFIG && -d $FULL_PIN && -e /var/run/netns/$(rx_ns full) ]]; then
    timeout 20 nsenter --net="/var/run/netns/$(rx_ns full)" "$PBXWALLD" --detach -c "$FULL_CONFIG" >/dev/null 2>&1
  fi
  for id in "${IDS[@]}"; do
    [[ $id == pw ]] || ip netns del "$(rx_ns "$id")" 2>/dev/null
  done
  rm -rf "$FULL_PIN"
  (exit "$rc")
  pw_cleanup
}
trap e2e_cleanup EXIT

pw_bpffs

# ---- the sources: N addresses of 198.18.0.0/15 past 198.18.0.255, in a fixed pseudo-random order
"$PW_PY" - "$N" "$PW_TMP" <<'EOF'
import ipaddress, random, sys
n, tmp = int(sys.argv[1]), sys.argv[2]
base = int(ipaddress.IPv4Address('198.18.0.0'))
hosts = list(range(256, (1 << 17) - 1))  # not 198.18.0.0/24 (the receivers' address), not the broadcast
random.Random(20260101).shuffle(hosts)
v4 = [str(ipaddress.IPv4Address(base + h)) for h in hosts[:n]]
open(f'{tmp}/sources.txt', 'w').write('\n'.join(v4) + '\n')
# The same number of entries for the full-path pbxwall's tables, in 2001:db8:ff00::/40.
v6 = [str(ipaddress.IPv6Address(int(ipaddress.IPv6Address('2001:db8:ff00::')) + (k << 64) + 1)) for k in range(n)]
open(f'{tmp}/sources6.txt', 'w').write('\n'.join(v6) + '\n')
ipset = ['create pwbl hash:net family inet hashsize 131072 maxelem 262144']
ipset += [f'add pwbl {a}' for a in v4]
open(f'{tmp}/ipset.txt', 'w').write('\n'.join(ipset) + '\n')
for kind, flags in (('nfh', ''), ('nfi', 'flags interval; ')):
    elems = ',\n'.join(v4)
    open(f'{tmp}/{kind}.nft', 'w').write(
        'table netdev pwb {\n'
        f'  set bl {{ type ipv4_addr; {flags}size 262144; elements = {{\n{elems}\n  }} }}\n'
        f'  chain ing {{ type filter hook ingress device "r-{kind}" priority -500; policy accept;\n'
        '    ip saddr @bl counter drop\n  }\n}\n')
EOF
pw_log "$N sources in 198.18.0.0/15 ($PW_TMP/sources.txt)"

# ---- namespaces and veth pairs
ns_init() {
  ip netns add "$1" || pw_die "ip netns add $1"
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
  ip -n "$1" link set lo up
}
ns_init "$NS_GEN"
declare -A GEN_IFINDEX
for id in "${IDS[@]}"; do
  ns=$(rx_ns "$id")
  ns_init "$ns"
  ip link add name "g-$id" netns "$NS_GEN" address "$GEN_MAC" type veth peer name "r-$id" netns "$ns" address "$RX_MAC" ||
    pw_die "veth pair for $id"
  ip -n "$ns" addr add "$DST/15" dev "r-$id"
  ip -n "$ns" link set "r-$id" up
  ip -n "$NS_GEN" link set "g-$id" up
  GEN_IFINDEX[$id]=$(ip -n "$NS_GEN" -o link show "g-$id" | cut -d: -f1)
done
# The relay, for kernels that refuse live frames: pw_e2e sends from a packet socket into f-tx,
# and pwg_fan on f-fan sends each frame to the receiver many times (bpf/bench_gen.bpf.c).
# Without TSO on f-tx, veth hands a packet socket's frames to f-fan's NAPI, where XDP runs; with
# it, to the sender CPU's backlog, past XDP.
ip -n "$NS_GEN" link add f-tx type veth peer name f-fan || pw_die "the relay veth pair"
ip -n "$NS_GEN" link set f-tx up
ip -n "$NS_GEN" link set f-fan up
nsenter --net="/var/run/netns/$NS_GEN" ethtool -K f-tx tso off >/dev/null || pw_die "tso off f-tx"
pw_log "namespaces up: sender $NS_GEN, receivers ${IDS[*]}"

in_ns() { local ns=$1; shift; nsenter --net="/var/run/netns/$ns" "$@"; }

# ---- receivers
# the floor
ip netns exec "$(rx_ns drop)" "$PW_E2E" attach-drop --ifname r-drop || pw_die "attach the bare drop"
ip netns exec "$(rx_ns read)" "$PW_E2E" attach-drop --read --ifname r-read || pw_die "attach the reading drop"

# pbxwall, twice (reject path; full SIP path)
pw_config() { # PIN STATE IFNAME
  cat <<EOF
# pbxwall e2e benchmark config (run $PW_ID)
pin_dir = "$1"
state_dir = "$2"
unlisted_ports = "drop"

[[interface]]
name = "$3"
zone = "internet"
xdp_mode = "native"

[services.sip]
udp = ["5060"]
zones = ["trusted", "local", "other", "internet"]

[sip]
rate = 1
period = 86400
burst = 0
ban_after = 0
new_sources_per_second = 1000000
EOF
}
pw_config "$FULL_PIN" "$PW_TMP/state-full" r-full >"$FULL_CONFIG"
PW_NS_PBX=$(rx_ns full) PW_CONFIG=$FULL_CONFIG pw_daemon_start
FULL_PID=$PW_DAEMON_PID
pw_config "$PW_PIN_DIR" "$PW_STATE_DIR" r-pw >"$PW_CONFIG"
pw_daemon_start
pw_ctl blacklist add --file "$PW_TMP/sources.txt" >/dev/null || pw_die "pbxwallctl blacklist add --file"
# The list's host half uses the buckets its entries need, not the whole [limits] size.
bpftool -j map dump pinned "$PW_PIN_DIR/pw_gen" >"$PW_TMP/gen.json" || pw_die "bpftool map dump pw_gen"
shrink=$(pw_json "$PW_TMP/gen.json" "(lambda v: (v['host_shrink'] >> (8 * v['hosts'])) & 31)(d[0]['formatted']['value'])") ||
  shrink="(unreadable)"
pw_check "the reject receiver's IPv4 host half is fitted to its $N entries (halved $shrink times)" test "$shrink" -gt 0 2>/dev/null
in_ns "$(rx_ns full)" "$PBXWALLCTL" --pin-dir "$FULL_PIN" --state-dir "$PW_TMP/state-full" \
  blacklist add --file "$PW_TMP/sources6.txt" >/dev/null || pw_die "pbxwallctl blacklist add --file (full)"
# The daemons' own work (sweeps, events) stays off the receivers' CPU.
for pid in "$FULL_PID" "$PW_DAEMON_PID"; do
  taskset -apc "$GEN_CPU" "$pid" >/dev/null || pw_die "pin pbxwalld $pid to CPU $GEN_CPU"
done
pw_log "pbxwall: $N blacklist entries (pid $PW_DAEMON_PID), full path with $N IPv6 entries (pid $FULL_PID)"

# iptables raw + ipset, nftables netdev ingress (hash set, interval set)
in_ns "$(rx_ns ipt)" ipset restore <"$PW_TMP/ipset.txt" || pw_die "ipset restore"
in_ns "$(rx_ns ipt)" iptables-legacy -t raw -A PREROUTING -m set --match-set pwbl src -j DROP || pw_die "iptables"
for id in nfh nfi; do
  in_ns "$(rx_ns "$id")" nft -f "$PW_TMP/$id.nft" || pw_die "nft -f $id.nft"
done
pw_log "iptables/ipset and nftables loaded"

# the socket
ip netns exec "$(rx_ns sock)" taskset -c "$RX_CPU" "$PW_E2E" sink --addr "$DST" --port 5060 --max-seconds 600 \
  >"$PW_TMP/sink.log" 2>&1 &
SINK_PID=$!
pw_track "$SINK_PID"
pw_wait_log "$PW_TMP/sink.log" 'sink ready' 10 || { cat "$PW_TMP/sink.log"; pw_die "the UDP sink did not start"; }

# ---- threaded NAPI, pinned: XDP (attached above) or GRO gives a veth its NAPI instance
napi_tids() {
  local f
  for f in /proc/[0-9]*/comm; do
    if [[ $(cat "$f" 2>/dev/null) == napi/* ]]; then f=${f#/proc/}; echo "${f%/comm}"; fi
  done | sort
}
declare -A NAPI_TID
for id in "${IDS[@]}"; do
  ns=$(rx_ns "$id")
  case $id in drop | read | pw | full) ;; *) in_ns "$ns" ethtool -K "r-$id" gro on >/dev/null || pw_die "gro on r-$id" ;; esac
  before=$(napi_tids)
  ip netns exec "$ns" sh -c "echo 1 > /sys/class/net/r-$id/threaded" || pw_die "threaded NAPI on r-$id"
  tid=
  for _ in $(seq 1 50); do
    for t in $(comm -13 <(echo "$before") <(napi_tids)); do
      if [[ $(cat "/proc/$t/comm" 2>/dev/null) == "napi/r-$id-"* ]]; then tid=$t; fi
    done
    [[ -n $tid ]] && break
    sleep 0.1
  done
  [[ -n $tid ]] || pw_die "no NAPI kthread appeared for r-$id"
  taskset -pc "$RX_CPU" "$tid" >/dev/null || pw_die "pin the NAPI kthread of r-$id"
  NAPI_TID[$id]=$tid
done
pw_log "NAPI kthreads on CPU $RX_CPU: $(for id in "${IDS[@]}"; do printf '%s=%s ' "$id" "${NAPI_TID[$id]}"; done)"

# ---- what each receiver counts: "HANDLED OUTCOME" (NAPI intake of the veth; expected outcome)
handled_cmd() { echo "nsenter --net=/var/run/netns/$(rx_ns "$1") ethtool -S r-$1"; }
count_script() { # ID OUTCOME-SHELL-SNIPPET (prints the outcome count)
  cat >"$PW_TMP/count-$1.sh" <<EOF
set -euo pipefail
h=\$($(handled_cmd "$1") | awk '/rx_queue_0_xdp_packets:/ {print \$2}')
o=\$($2)
echo "\$h \$o"
EOF
}
pw_stat_cmd() { # NS PIN STATE REASON
  echo "nsenter --net=/var/run/netns/$1 $PBXWALLCTL --pin-dir $2 --state-dir $3 --json stats | $PW_PY -c \"import json,sys; print(sum(c['packets'] for c in json.load(sys.stdin)['counters'] if c['reason'] == '$4'))\""
}
for id in drop read; do
  count_script "$id" "$(handled_cmd "$id") | awk '/rx_queue_0_xdp_drops:/ {print \$2}'"
done
count_script pw "$(pw_stat_cmd "$(rx_ns pw)" "$PW_PIN_DIR" "$PW_STATE_DIR" reject)"
count_script full "$(pw_stat_cmd "$(rx_ns full)" "$FULL_PIN" "$PW_TMP/state-full" rate_limited)"
count_script ipt "nsenter --net=/var/run/netns/$(rx_ns ipt) iptables-legacy -t raw -nvxL PREROUTING | awk 'NR == 3 {print \$1}'"
for id in nfh nfi; do
  count_script "$id" "nsenter --net=/var/run/netns/$(rx_ns "$id") nft list chain netdev pwb ing | sed -n 's/.*counter packets \\([0-9]*\\).*/\\1/p'"
done
# The socket's outcome: datagrams that reached it, read or dropped for a full receive buffer
# (the reader shares its CPU with the NAPI kthread and may fall behind a flood; a dropped one went
# through the whole stack but not to the reader, so the row's figure can only come out lower).
count_script sock "nsenter --net=/var/run/netns/$(rx_ns sock) cat /proc/net/snmp | awk '/^Udp:/ && \$2 ~ /^[0-9]+\$/ {print \$2 + \$6}'"
for id in "${IDS[@]}"; do
  bash "$PW_TMP/count-$id.sh" >/dev/null || { cat "$PW_TMP/count-$id.sh"; pw_die "counting script for $id fails"; }
done

# ---- the spec for pw_e2e run
{
  printf '{"sources": "%s", "first_src": "198.18.1.1", "dst": "%s", "dport": 5060,\n' "$PW_TMP/sources.txt" "$DST"
  printf ' "src_mac": "%s", "dst_mac": "%s", "relay": {"tx": "f-tx", "fan": "f-fan"}, "variants": [\n' "$GEN_MAC" "$RX_MAC"
  row() { # ID NAME GOAL-JSON PIDS FLOOR [WARMUP]
    printf '  {"id": "%s", "name": "%s", "ifindex": %s, "pids": [%s], "counter": "%s", "goal": %s, "floor": %s, "warmup": %s}' \
      "$1" "$2" "${GEN_IFINDEX[$1]}" "$4" "$PW_TMP/count-$1.sh" "$3" "$5" "${6:-0}"
  }
  row drop "bare XDP drop (floor)" null "${NAPI_TID[drop]}" true; echo ,
  row read "bare XDP drop that reads the frame's headers" null "${NAPI_TID[read]}" false; echo ,
  row pw "pbxwall, $N blacklist entries (reject)" '{"max_ratio_to_floor": 2.5}' "${NAPI_TID[pw]}" false; echo ,
  row full "pbxwall, full SIP path: REGISTER over budget (rate_limited)" '{"max_ratio_to_floor": 2.5}' "${NAPI_TID[full]}" false "$WARMUP_FULL"; echo ,
  row ipt "iptables raw PREROUTING + ipset hash:net, $N" '{"min_times": 3, "of": "full"}' "${NAPI_TID[ipt]}" false; echo ,
  row nfh "nftables netdev ingress, hash set $N" null "${NAPI_TID[nfh]}" false; echo ,
  row nfi "nftables netdev ingress, interval set $N" null "${NAPI_TID[nfi]}" false; echo ,
  row sock "plain UDP socket, no filter (NAPI + reader)" '{"min_times": 10, "of": "full"}' "${NAPI_TID[sock]}, $SINK_PID" false; echo
  echo ']}'
} >"$PW_TMP/spec.json"

pw_log "flooding: $ROUNDS rounds x $PACKETS packets (at most $SECONDS_MAX s each), warm-up $WARMUP handled per receiver ($WARMUP_FULL for the full path, at most $WARMUP_SECONDS s)"
args=(run --spec "$PW_TMP/spec.json" --rounds "$ROUNDS" --packets "$PACKETS" --seconds "$SECONDS_MAX" --warmup "$WARMUP"
  --warmup-seconds "$WARMUP_SECONDS")
out=${json:-$PW_TMP/e2e.json}
args+=(--json "$out")
# In the background and waited for, so that a signal to this script runs its cleanup at once.
# Bounded as a whole too: PW_E2E_TIMEOUT seconds (300 by default; more rounds or packets given
# after -- may need more).
timeout "$E2E_TIMEOUT" nsenter --net="/var/run/netns/$NS_GEN" taskset -c "$GEN_CPU" "$PW_E2E" "${args[@]}" "${extra[@]}" &
E2E_PID=$!
pw_track "$E2E_PID"
rc=0
wait "$E2E_PID" || rc=$?
# Every receiver ran, handled packets and gave them its expected outcome (times are not judged).
if [[ -s $out ]]; then
  pw_check_eq "rows in the table" "$(pw_json "$out" "[r['id'] for r in d['rows']]")" \
    "$(printf '%s\n' "${IDS[@]}" | "$PW_PY" -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))')"
  for id in "${IDS[@]}"; do
    pw_check_eq "$id: handled packets with the expected outcome" \
      "$(pw_json "$out" "[r['problem'] or ('ok' if r['handled_total'] > 0 else 'none handled') for r in d['rows'] if r['id'] == '$id']")" \
      '["ok"]'
  done
fi
if ((rc == 124)); then
  pw_bad "pw_e2e run did not end within $E2E_TIMEOUT s (set PW_E2E_TIMEOUT for longer runs)"
elif ((rc != 0)); then
  pw_bad "pw_e2e run exited with $rc"
fi
if ((rc != 0)); then
  echo "---- pbxwall stats (reject path)"
  pw_ctl stats || true
  echo "---- pbxwall stats (full path)"
  in_ns "$(rx_ns full)" "$PBXWALLCTL" --pin-dir "$FULL_PIN" --state-dir "$PW_TMP/state-full" stats || true
else
  pw_ok "pw_e2e run"
fi
PW_QUIET_CLEANUP=1
pw_finish
