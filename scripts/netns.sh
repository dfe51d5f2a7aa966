# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
# The pbxwall network-namespace lab, sourced by tests/netns/*.sh and scripts/demo.sh.
#
#   namespace "pbx"  PW_IF_PBX  198.18.0.1/16, 2001:db8::1/64   <- pbxwall protects this interface
#        |  veth
#   namespace "wan"  PW_IF_WAN  trusted trunk    198.18.1.10  2001:db8:1::10
#                               internet phone   198.18.2.20  2001:db8:2::20
#                               a second phone   198.18.2.21  2001:db8:2::21
#                               attacker         198.18.3.30  2001:db8:3::30
#                               DNS-like server  198.18.4.53
#
# Only addresses from 198.18.0.0/15 and 2001:db8::/32, only inside namespaces created here.
# Every name carries a per-run id (pw<pid in hex>x<4 random hex digits>), so two runs never
# collide. pw_init installs an EXIT trap that stops the processes this run started (by pid),
# detaches pbxwall, deletes the namespaces, the pin directory and the temporary directory,
# whatever the exit path; it also removes what runs killed by SIGKILL left (pw_sweep_stale).
#
# pbxwalld and pbxwallctl run under `nsenter --net=` (not `ip netns exec`, which remounts /sys
# and hides the host's bpffs); traffic generators run under `ip netns exec`.
#
# Usage:  source scripts/netns.sh; pw_init NAME; pw_lab_up;
#         { pw_config_head MODE UNLISTED; cat <<EOF ... EOF; } >"$PW_CONFIG"; pw_daemon_start
# Checks: pw_ok / pw_bad / pw_check; pw_finish prints the verdict and sets the exit status.

PW_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PW_SRC=${PW_SRC:-$(cd "$PW_LIB_DIR/.." && pwd)}
PW_BUILD=${PW_BUILD:-$PW_SRC/build}
PBXWALLD=${PBXWALLD:-$PW_BUILD/loader/pbxwalld}
PBXWALLCTL=${PBXWALLCTL:-$PW_BUILD/ctl/pbxwallctl}
PW_NETTOOL=${PW_NETTOOL:-$PW_SRC/tests/netns/pw_net.py}
PW_SIP_DIR=${PW_SIP_DIR:-$PW_SRC/tests/netns}
if [[ -z ${PW_PY:-} ]]; then
  if [[ -x /usr/bin/python3 ]]; then PW_PY=/usr/bin/python3; else PW_PY=$(command -v python3); fi
fi

# Lab addresses.
PW_PBX4=198.18.0.1       PW_PBX6=2001:db8::1
PW_TRUNK4=198.18.1.10    PW_TRUNK6=2001:db8:1::10
PW_PHONE4=198.18.2.20    PW_PHONE6=2001:db8:2::20
PW_PHONE2_4=198.18.2.21  PW_PHONE2_6=2001:db8:2::21
PW_PHONE6_NET=2001:db8:2::/64 # both phones' /64: what the data plane bans of either ([sip] ipv6_prefix)
PW_ATTACKER4=198.18.3.30 PW_ATTACKER6=2001:db8:3::30
PW_DNS4=198.18.4.53
PW_WAN_ADDRS=("$PW_TRUNK4" "$PW_PHONE4" "$PW_PHONE2_4" "$PW_ATTACKER4" "$PW_DNS4"
              "$PW_TRUNK6" "$PW_PHONE6" "$PW_PHONE2_6" "$PW_ATTACKER6")

PW_FAILS=0
PW_CHECKS=0
PW_PIDS=()
PW_DAEMON_PID=
PW_DAEMON_LOG=
PW_DAEMON_RUNS=0
PW_CONFIG=

pw_log() { printf '[%s %s] %s\n' "${PW_NAME:-netns}" "$(date +%T)" "$*"; }

pw_ok() {
  PW_CHECKS=$((PW_CHECKS + 1))
  printf 'PASS: %s\n' "$*"
}

pw_bad() {
  PW_CHECKS=$((PW_CHECKS + 1))
  PW_FAILS=$((PW_FAILS + 1))
  printf 'FAIL: %s\n' "$*"
}

# pw_check MESSAGE CMD...: PASS when CMD succeeds, FAIL otherwise (never exits).
pw_check() {
  local msg=$1
  shift
  if "$@"; then pw_ok "$msg"; else pw_bad "$msg"; fi
}

# pw_check_eq MESSAGE ACTUAL EXPECTED
pw_check_eq() {
  if [[ "$2" == "$3" ]]; then pw_ok "$1 ($2)"; else pw_bad "$1: got '$2', expected '$3'"; fi
}

# pw_check_ge MESSAGE ACTUAL MIN
pw_check_ge() {
  if [[ "$2" =~ ^[0-9]+$ ]] && (($2 >= $3)); then pw_ok "$1 ($2 >= $3)"; else pw_bad "$1: got '$2', expected >= $3"; fi
}

# A fatal error: the test cannot go on (the EXIT trap still cleans up).
pw_die() {
  printf 'FAIL: %s\n' "$*"
  PW_FAILS=$((PW_FAILS + 1))
  exit 1
}

pw_finish() {
  if ((PW_FAILS)); then
    printf 'FAIL: %s: %d of %d checks failed\n' "${PW_NAME:-test}" "$PW_FAILS" "$PW_CHECKS"
    exit 1
  fi
  printf 'PASS: %s: all %d checks passed (%ds)\n' "${PW_NAME:-test}" "$PW_CHECKS" "$SECONDS"
  exit 0
}

# Root-only: skip (77) when not root, unless CI=true, where a skip would hide the tier.
pw_require_root() {
  if [[ $(id -u) -ne 0 ]]; then
    if [[ ${CI:-} == true ]]; then
      echo "FAIL: ${PW_NAME:-test} needs root (CI=true: not skipping)"
      exit 1
    fi
    echo "SKIP: ${PW_NAME:-test} needs root"
    exit 77
  fi
}

pw_require_tools() {
  local t missing=()
  for t in ip nsenter tc "$PW_PY" "$@"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  [[ -x $PBXWALLD ]] || missing+=("PBXWALLD=$PBXWALLD")
  [[ -x $PBXWALLCTL ]] || missing+=("PBXWALLCTL=$PBXWALLCTL")
  ((${#missing[@]} == 0)) || pw_die "missing: ${missing[*]}"
}

# pw_init NAME: ids, temporary directory, traps. Must be called in the main shell.
pw_init() {
  PW_NAME=$1
  pw_require_root
  pw_sweep_stale
  PW_ID=$(printf 'pw%xx%04x' $$ $(((RANDOM ^ (RANDOM << 1)) & 0xffff)))
  PW_NS_PBX=$PW_ID-pbx
  PW_NS_WAN=$PW_ID-wan
  PW_IF_PBX=${PW_ID}p
  PW_IF_WAN=${PW_ID}w
  PW_PIN_DIR=/sys/fs/bpf/pwtest-$PW_ID
  PW_TMP=$(mktemp -d "/tmp/pwtest-$PW_ID.XXXXXX")
  chmod 0755 "$PW_TMP" # the unprivileged pbxwallctl check needs to reach files it may read
  PW_STATE_DIR=$PW_TMP/state
  PW_CONFIG=$PW_TMP/pbxwall.toml
  trap pw_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  pw_log "id $PW_ID, namespaces $PW_NS_PBX/$PW_NS_WAN, pin dir $PW_PIN_DIR, tmp $PW_TMP"
}

# Leftovers of runs that were killed without a chance to clean up (SIGKILL, e.g. a ctest
# timeout): namespaces, pin directories and temporary directories whose id names a process
# that no longer exists. Only names of the form this library creates; never processes.
pw_sweep_stale() {
  local path id hex
  for path in $(ip netns list 2>/dev/null | awk '{print $1}') /sys/fs/bpf/pwtest-pw* /tmp/pwtest-pw*; do
    id=${path##*/}
    id=${id#pwtest-}
    id=${id%%-*}
    id=${id%%.*}
    [[ $id =~ ^pw([0-9a-f]{1,6})x[0-9a-f]{4}$ ]] || continue
    hex=${BASH_REMATCH[1]}
    kill -0 "$((16#$hex))" 2>/dev/null && continue
    [[ -e $path || $path != /* ]] || continue
    if [[ $path == /* ]]; then
      rm -rf "$path" && pw_log "removed the leftover $path of a dead run"
    else
      ip netns del "$path" 2>/dev/null && pw_log "removed the leftover namespace $path of a dead run"
    fi
  done
  return 0
}

# Remembers a pid to stop at exit.
pw_track() { PW_PIDS+=("$1"); }

# pw_stop PID [SIGNAL]: stops one process this run started (and first the processes it
# started: a backgrounded shell function runs its commands as children), waits up to 5 s,
# then SIGKILL.
pw_stop() {
  local pid=$1 sig=${2:-TERM} i child
  [[ -n $pid ]] || return 0
  for child in $(pgrep -P "$pid" 2>/dev/null); do
    pw_stop "$child" "$sig"
  done
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

pw_cleanup() {
  local rc=$? pid
  set +e
  trap - EXIT INT TERM HUP
  for pid in "${PW_PIDS[@]}"; do
    pw_stop "$pid" TERM
  done
  if ((rc != 0)) && [[ -n ${PW_DAEMON_LOG:-} && -f $PW_DAEMON_LOG && -z ${PW_QUIET_CLEANUP:-} ]]; then
    echo "---- last pbxwalld log ($PW_DAEMON_LOG) ----"
    tail -n 30 "$PW_DAEMON_LOG"
    echo "----"
  fi
  # Detach through pbxwalld itself (removes XDP, TC egress and libxdp's own pins), then drop
  # the namespaces (which would also take the attachments with the veth).
  if [[ -n ${PW_NS_PBX:-} && -e /var/run/netns/$PW_NS_PBX && -n ${PW_CONFIG:-} && -f $PW_CONFIG && -d ${PW_PIN_DIR:-/nonexistent} ]]; then
    timeout 20 nsenter --net="/var/run/netns/$PW_NS_PBX" "$PBXWALLD" --detach -c "$PW_CONFIG" >/dev/null 2>&1
  fi
  [[ -n ${PW_NS_PBX:-} ]] && ip netns del "$PW_NS_PBX" 2>/dev/null
  [[ -n ${PW_NS_WAN:-} ]] && ip netns del "$PW_NS_WAN" 2>/dev/null
  [[ -n ${PW_PIN_DIR:-} && -d $PW_PIN_DIR ]] && rm -rf "$PW_PIN_DIR"
  [[ -n ${PW_TMP:-} && -d $PW_TMP ]] && rm -rf "$PW_TMP"
  exit "$rc"
}

# Mounts bpffs on /sys/fs/bpf when it is missing.
pw_bpffs() {
  if ! mountpoint -q /sys/fs/bpf || [[ $(stat -f -c %T /sys/fs/bpf) != bpf_fs ]]; then
    mkdir -p /sys/fs/bpf
    mount -t bpf bpf /sys/fs/bpf || pw_die "cannot mount bpffs on /sys/fs/bpf"
  fi
}

pw_in_pbx() { ip netns exec "$PW_NS_PBX" "$@"; }
pw_in_wan() { ip netns exec "$PW_NS_WAN" "$@"; }

# Creates both namespaces, the veth pair, the addresses and static neighbour entries (no ARP
# or neighbour discovery: a neighbour advertisement from a rejected address would be dropped).
pw_lab_up() {
  local ns a mac_pbx mac_wan
  pw_bpffs
  ip netns add "$PW_NS_PBX" || pw_die "ip netns add $PW_NS_PBX"
  ip netns add "$PW_NS_WAN" || pw_die "ip netns add $PW_NS_WAN"
  for ns in "$PW_NS_PBX" "$PW_NS_WAN"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 \
      net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.default.accept_ra=0 >/dev/null
    ip -n "$ns" link set lo up
  done
  ip link add name "$PW_IF_PBX" netns "$PW_NS_PBX" type veth peer name "$PW_IF_WAN" netns "$PW_NS_WAN" ||
    pw_die "create the veth pair"
  ip -n "$PW_NS_PBX" addr add "$PW_PBX4/16" dev "$PW_IF_PBX"
  ip -n "$PW_NS_PBX" addr add "$PW_PBX6/64" dev "$PW_IF_PBX" nodad
  for a in "$PW_TRUNK4" "$PW_PHONE4" "$PW_PHONE2_4" "$PW_ATTACKER4" "$PW_DNS4"; do
    ip -n "$PW_NS_WAN" addr add "$a/16" dev "$PW_IF_WAN"
  done
  for a in "$PW_TRUNK6" "$PW_PHONE6" "$PW_PHONE2_6" "$PW_ATTACKER6"; do
    ip -n "$PW_NS_WAN" addr add "$a/128" dev "$PW_IF_WAN" nodad
  done
  ip -n "$PW_NS_PBX" link set "$PW_IF_PBX" up
  ip -n "$PW_NS_WAN" link set "$PW_IF_WAN" up
  ip -n "$PW_NS_PBX" -6 route add 2001:db8::/32 dev "$PW_IF_PBX"
  ip -n "$PW_NS_WAN" -6 route add 2001:db8::/64 dev "$PW_IF_WAN"
  mac_pbx=$(ip -n "$PW_NS_PBX" -o link show "$PW_IF_PBX" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  mac_wan=$(ip -n "$PW_NS_WAN" -o link show "$PW_IF_WAN" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  [[ -n $mac_pbx && -n $mac_wan ]] || pw_die "cannot read the veth MAC addresses"
  for a in "${PW_WAN_ADDRS[@]}"; do
    ip -n "$PW_NS_PBX" neigh replace "$a" lladdr "$mac_wan" dev "$PW_IF_PBX" nud permanent
  done
  for a in "$PW_PBX4" "$PW_PBX6"; do
    ip -n "$PW_NS_WAN" neigh replace "$a" lladdr "$mac_pbx" dev "$PW_IF_WAN" nud permanent
  done
  pw_log "lab up: $PW_NS_PBX/$PW_IF_PBX ($PW_PBX4, $PW_PBX6) <-> $PW_NS_WAN/$PW_IF_WAN"
}

# pw_config_head XDP_MODE UNLISTED: prints the top of a config (this run's pin and state dirs,
# unlisted_ports, the pbx interface in zone internet); the caller appends [zones], [services.*].
pw_config_head() {
  local mode=${1:-auto} unlisted=${2:-drop}
  cat <<EOF
# pbxwall netns test config ($PW_NAME, run $PW_ID)
pin_dir = "$PW_PIN_DIR"
state_dir = "$PW_STATE_DIR"
unlisted_ports = "$unlisted"

[[interface]]
name = "$PW_IF_PBX"
zone = "internet"
xdp_mode = "$mode"
EOF
}

# pw_daemon_start [ARGS...]: pbxwalld in the pbx namespace, in the background; waits for
# "pbxwalld running" (20 s at most). Sets PW_DAEMON_PID and PW_DAEMON_LOG.
pw_daemon_start() {
  local i
  PW_DAEMON_RUNS=$((PW_DAEMON_RUNS + 1))
  PW_DAEMON_LOG=$PW_TMP/pbxwalld.$PW_DAEMON_RUNS.log
  nsenter --net="/var/run/netns/$PW_NS_PBX" "$PBXWALLD" -c "$PW_CONFIG" "$@" >"$PW_DAEMON_LOG" 2>&1 &
  PW_DAEMON_PID=$!
  pw_track "$PW_DAEMON_PID"
  for ((i = 0; i < 200; i++)); do
    if grep -q 'pbxwalld running' "$PW_DAEMON_LOG" 2>/dev/null; then
      pw_log "pbxwalld running (pid $PW_DAEMON_PID, log $PW_DAEMON_LOG)"
      return 0
    fi
    if ! kill -0 "$PW_DAEMON_PID" 2>/dev/null; then
      cat "$PW_DAEMON_LOG"
      pw_die "pbxwalld exited during start-up"
    fi
    sleep 0.1
  done
  cat "$PW_DAEMON_LOG"
  pw_die "pbxwalld did not log 'pbxwalld running' within 20 s"
}

# pw_daemon_signal SIGNAL: sends SIGNAL to the pbxwalld this run started.
pw_daemon_signal() { kill "-$1" "$PW_DAEMON_PID"; }

# pw_daemon_stop [SIGNAL]: stops the pbxwalld this run started (SIGTERM by default).
pw_daemon_stop() {
  pw_stop "$PW_DAEMON_PID" "${1:-TERM}"
  PW_DAEMON_PID=
}

# pw_wait_log FILE PATTERN [SECONDS]: waits until FILE has a line matching PATTERN (grep -E).
pw_wait_log() {
  local file=$1 pattern=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 10; i++)); do
    grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# pbxwalld --check / --detach / anything else, in the pbx namespace, in the foreground.
pw_pbxwalld() { nsenter --net="/var/run/netns/$PW_NS_PBX" "$PBXWALLD" "$@"; }

# pw_ctl ARGS...: pbxwallctl on this run's pin and state directories, in the pbx namespace.
pw_ctl() {
  nsenter --net="/var/run/netns/$PW_NS_PBX" "$PBXWALLCTL" --pin-dir "$PW_PIN_DIR" --state-dir "$PW_STATE_DIR" "$@"
}

# pw_json FILE EXPR: evaluates a Python expression over the JSON document d of FILE.
pw_json() {
  "$PW_PY" - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
r = eval(sys.argv[2], {'d': d})
print(json.dumps(r) if isinstance(r, (dict, list)) else r)
EOF
}

# pw_stats FILE: `pbxwallctl --json stats` into FILE.
pw_stats() { pw_ctl --json stats >"$1"; }

# pw_stat FILE REASON [ZONE]: packets counted with REASON (and ZONE) in a stats file.
pw_stat() {
  pw_json "$1" "sum(c['packets'] for c in d['counters'] if c['reason'] == '$2' and ('${3:-}' == '' or c['zone'] == '${3:-}'))"
}

# pw_stat_delta BEFORE AFTER REASON [ZONE]
pw_stat_delta() {
  local a b
  a=$(pw_stat "$1" "$3" "${4:-}")
  b=$(pw_stat "$2" "$3" "${4:-}")
  echo $((b - a))
}

# ---- receiver (in pbx) ----

# pw_rx_start ARGS...: pw_net.py rx in the pbx namespace (e.g. --udp 10000 --tcp 22 --iface IF).
pw_rx_start() {
  local i
  PW_RX_OUT=$PW_TMP/rx-live.json
  PW_RX_READY=$PW_TMP/rx.ready
  rm -f "$PW_RX_READY"
  ip netns exec "$PW_NS_PBX" "$PW_PY" "$PW_NETTOOL" rx --out "$PW_RX_OUT" --ready "$PW_RX_READY" --max-seconds 600 "$@" \
    >"$PW_TMP/rx.log" 2>&1 &
  PW_RX_PID=$!
  pw_track "$PW_RX_PID"
  for ((i = 0; i < 100; i++)); do
    [[ -s $PW_RX_READY ]] && return 0
    kill -0 "$PW_RX_PID" 2>/dev/null || { cat "$PW_TMP/rx.log"; pw_die "receiver exited during start-up"; }
    sleep 0.1
  done
  pw_die "receiver not ready within 10 s"
}

# pw_rx_dump FILE: the receiver's counts so far, as JSON, into FILE.
pw_rx_dump() {
  local i
  rm -f "$PW_RX_OUT"
  kill -USR1 "$PW_RX_PID"
  for ((i = 0; i < 50; i++)); do
    if [[ -s $PW_RX_OUT ]]; then
      cp "$PW_RX_OUT" "$1"
      return 0
    fi
    sleep 0.1
  done
  pw_die "receiver did not dump its counts"
}

# pw_rx_get FILE KIND KEY SRC: datagrams (KIND udp, KEY port), connections (tcp, port) or
# frames seen behind XDP (wire, "udp/5060") from SRC; 0 when none.
pw_rx_get() {
  pw_json "$1" "d.get('$2', {}).get('$3', {}).get('$4', 0)"
}

# pw_rx_from FILE SRC: every frame behind XDP from SRC, all ports together.
pw_rx_from() {
  pw_json "$1" "sum(v.get('$2', 0) for v in d.get('wire', {}).values())"
}

# ---- traffic (from wan unless said otherwise) ----

# pw_udp SRC DST PORT COUNT [SECONDS]: bounded UDP burst from the wan namespace.
pw_udp() {
  pw_in_wan "$PW_PY" "$PW_NETTOOL" udp --src "$1" --dst "$2" --port "$3" --count "$4" --seconds "${5:-0}" \
    --max-seconds 30 >/dev/null
}

# pw_tcp SRC DST PORT [TIMEOUT]: succeeds when a TCP connection from the wan namespace opens.
pw_tcp() {
  pw_in_wan "$PW_PY" "$PW_NETTOOL" tcp --src "$1" --dst "$2" --port "$3" --timeout "${4:-2}" >/dev/null
}

# pw_xdp_info: "MODE PROG_ID" of the pbx interface from `ip link` ("none 0" without XDP).
pw_xdp_info() {
  local out id mode=none
  out=$(ip -n "$PW_NS_PBX" -d link show dev "$PW_IF_PBX")
  id=$(sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' <<<"$out" | head -n1)
  if grep -qw xdpgeneric <<<"$out"; then mode=generic
  elif grep -qw xdpoffload <<<"$out"; then mode=offload
  elif grep -qw xdp <<<"$out"; then mode=native
  fi
  echo "$mode ${id:-0}"
}

# pw_tc_egress: the egress filters of the pbx interface (empty without one).
pw_tc_egress() { ip netns exec "$PW_NS_PBX" tc filter show dev "$PW_IF_PBX" egress 2>/dev/null; }

# pw_sipp NS LOGNAME ARGS...: runs sipp in a namespace, bounded by its own -timeout and by
# timeout(1); output in PW_TMP/LOGNAME.log, working directory PW_TMP. Returns sipp's status.
pw_sipp() {
  local ns=$1 name=$2 rc=0
  shift 2
  (cd "$PW_TMP" && timeout 30 ip netns exec "$ns" sipp -nostdin "$@" >"$PW_TMP/$name.log" 2>&1) || rc=$?
  return "$rc"
}

# pw_sipp_uas_start [ARGS...]: a sipp UAS on PW_PBX4:5060 in the pbx namespace that answers
# calls, OPTIONS and REGISTER (tests/netns/sip_uas.xml). Sets PW_UAS_PID.
pw_sipp_uas_start() {
  (cd "$PW_TMP" && exec ip netns exec "$PW_NS_PBX" sipp -nostdin -sf "$PW_SIP_DIR/sip_uas.xml" \
    -i "$PW_PBX4" -p 5060 -timeout 300s "$@" >"$PW_TMP/uas.log" 2>&1) &
  PW_UAS_PID=$!
  pw_track "$PW_UAS_PID"
  local i
  for ((i = 0; i < 50; i++)); do
    ip netns exec "$PW_NS_PBX" ss -Hlun "sport = :5060" 2>/dev/null | grep -q 5060 && return 0
    kill -0 "$PW_UAS_PID" 2>/dev/null || { cat "$PW_TMP/uas.log"; pw_die "sipp UAS exited"; }
    sleep 0.1
  done
  pw_die "sipp UAS not listening on 5060 within 5 s"
}

# pw_sip_calls SRC COUNT LOCALPORT [NAME]: COUNT calls from SRC to the PBX (sipp -sn uac).
pw_sip_calls() {
  pw_sipp "$PW_NS_WAN" "${4:-uac-$1}" -sn uac -i "$1" -p "$3" "$PW_PBX4:5060" -m "$2" -r 20 -l 10 \
    -timeout 8s -timeout_error -recv_timeout 4000
}

# pw_sip_options SRC COUNT LOCALPORT [NAME]: COUNT OPTIONS pings from SRC (tests/netns/sip_options.xml).
pw_sip_options() {
  pw_sipp "$PW_NS_WAN" "${4:-options-$1}" -sf "$PW_SIP_DIR/sip_options.xml" -i "$1" -p "$3" "$PW_PBX4:5060" \
    -m "$2" -r 20 -l 10 -timeout 8s -timeout_error -recv_timeout 4000
}

# pw_sip_register SRC COUNT LOCALPORT [NAME]: COUNT REGISTERs from SRC (tests/netns/sip_register.xml).
pw_sip_register() {
  pw_sipp "$PW_NS_WAN" "${4:-register-$1}" -sf "$PW_SIP_DIR/sip_register.xml" -i "$1" -p "$3" "$PW_PBX4:5060" \
    -m "$2" -r 20 -l 10 -timeout 8s -timeout_error -recv_timeout 4000
}

# ---- more sources, captures, a registrar (tests/netns/sip_scan.sh, scripts/demo.sh) ----

# pw_wan_addr_add ADDR...: more source addresses in the wan namespace (IPv4 from 198.18.0.0/16,
# IPv6 from 2001:db8::/32), with the pbx side's static neighbour entries. Call after pw_lab_up.
pw_wan_addr_add() {
  local a mac_wan
  mac_wan=$(ip -n "$PW_NS_WAN" -o link show "$PW_IF_WAN" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  [[ -n $mac_wan ]] || pw_die "cannot read the wan MAC address"
  for a in "$@"; do
    case $a in
      198.18.*) ip -n "$PW_NS_WAN" addr add "$a/16" dev "$PW_IF_WAN" || pw_die "add $a" ;;
      2001:db8:*) ip -n "$PW_NS_WAN" addr add "$a/128" dev "$PW_IF_WAN" nodad || pw_die "add $a" ;;
      *) pw_die "pw_wan_addr_add: $a is not a lab address (198.18.0.0/16, 2001:db8::/32)" ;;
    esac
    ip -n "$PW_NS_PBX" neigh replace "$a" lladdr "$mac_wan" dev "$PW_IF_PBX" nud permanent
  done
}

# pw_capture_start NAME NS IFACE DIRECTION FILTER...: tcpdump in namespace NS on IFACE, packets
# of DIRECTION (in, out, inout) matching FILTER, into PW_TMP/NAME.pcap, written packet by packet;
# waits until it listens. On the pbx interface with DIRECTION in, it sees only what XDP passed.
pw_capture_start() {
  local name=$1 ns=$2 ifc=$3 dir=$4 pid i
  shift 4
  ip netns exec "$ns" tcpdump -i "$ifc" -Q "$dir" -n --immediate-mode -U -w "$PW_TMP/$name.pcap" "$@" \
    >"$PW_TMP/$name.tcpdump.log" 2>&1 &
  pid=$!
  pw_track "$pid"
  for ((i = 0; i < 100; i++)); do
    grep -q 'listening on' "$PW_TMP/$name.tcpdump.log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$PW_TMP/$name.tcpdump.log"; pw_die "tcpdump $name exited"; }
    sleep 0.1
  done
  pw_die "tcpdump $name not listening within 10 s"
}

# pw_capture_times NAME [FILTER...]: the timestamps (seconds since the epoch, one a line) of the
# packets captured so far into PW_TMP/NAME.pcap that match FILTER.
pw_capture_times() {
  local name=$1
  shift
  tcpdump -r "$PW_TMP/$name.pcap" -n -tt "$@" 2>/dev/null | awk '{print $1}'
}

# pw_kamailio_start CONFIG: kamailio in the pbx namespace in the foreground (-DD -E), its
# runtime directory and pid file under PW_TMP, log in PW_TMP/kamailio.log; waits until it
# listens on UDP 5060. Sets PW_KAMAILIO_PID.
pw_kamailio_start() {
  local cfg=$1 i
  mkdir -p "$PW_TMP/kamailio"
  timeout 10 ip netns exec "$PW_NS_PBX" kamailio -c -f "$cfg" -Y "$PW_TMP/kamailio" >"$PW_TMP/kamailio-check.log" 2>&1 ||
    { cat "$PW_TMP/kamailio-check.log"; pw_die "kamailio -c rejects $cfg"; }
  (cd "$PW_TMP/kamailio" && exec ip netns exec "$PW_NS_PBX" kamailio -f "$cfg" -DD -E -m 64 -M 8 \
    -Y "$PW_TMP/kamailio" -P "$PW_TMP/kamailio/kamailio.pid" -w "$PW_TMP/kamailio" \
    >"$PW_TMP/kamailio.log" 2>&1) &
  PW_KAMAILIO_PID=$!
  pw_track "$PW_KAMAILIO_PID"
  for ((i = 0; i < 100; i++)); do
    ip netns exec "$PW_NS_PBX" ss -Hlun "sport = :5060" 2>/dev/null | grep -q 5060 && return 0
    kill -0 "$PW_KAMAILIO_PID" 2>/dev/null || { tail -n 20 "$PW_TMP/kamailio.log"; pw_die "kamailio exited"; }
    sleep 0.1
  done
  tail -n 20 "$PW_TMP/kamailio.log"
  pw_die "kamailio not listening on 5060 within 10 s"
}

# pw_wan_src ADDR: makes ADDR the source of the wan namespace's unbound sockets toward the PBX
# (a route with a preferred source), for tools that cannot bind an address (svwar and svcrack
# ignore -b); pw_wan_src "" goes back to the namespace's primary address (the trunk's).
pw_wan_src() {
  if [[ -z $1 ]]; then
    ip -n "$PW_NS_WAN" route del "$PW_PBX4/32" dev "$PW_IF_WAN" 2>/dev/null || true
    ip -n "$PW_NS_WAN" -6 route del "$PW_PBX6/128" dev "$PW_IF_WAN" 2>/dev/null || true
  elif [[ $1 == *:* ]]; then
    ip -n "$PW_NS_WAN" -6 route replace "$PW_PBX6/128" dev "$PW_IF_WAN" src "$1" || pw_die "route from $1"
  else
    ip -n "$PW_NS_WAN" route replace "$PW_PBX4/32" dev "$PW_IF_WAN" src "$1" || pw_die "route from $1"
  fi
}
