#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# load.sh: how long pbxwallctl takes to load and unload big reject lists (run it through
# scripts/bench.sh --load). pbxwalld runs in a namespace of the lab (scripts/netns.sh) with its
# own pin and state directories; the goal is "< 10 s" for 1,000,000 entries.
#
#   hosts    N single IPv4 addresses: blacklist add --file, then del --file
#   list     blacklist list (text) of the N entries
#   reload   pbxwalld SIGHUP with the N entries in its state directory (until "policy installed")
#   restart  pbxwalld stopped and started again with them (until "pbxwalld running")
#   prefixes P prefixes (half IPv4 /29, half IPv6 /48): add, then del
#   mixed    N/2 IPv4 and N/10 IPv6 addresses, the P prefixes, comments and blank lines
#
# Checked on every run (--quick: the ctest bench_load_quick; times are shown, not judged):
# pbxwallctl status counts every entry after each add and none after each del; a file with one
# bad line in the middle is refused (exit 2, "FILE:LINE: reason") and changes neither the maps
# nor the state file, for add and for del.
#
# The N addresses are from 10.0.0.0/8: 198.18.0.0/15, the only IPv4 block the tests may send
# traffic from, holds 131,072 addresses, too few for a million. That is fine because they are
# only list entries: this script sends no packet at all, from or to any address. The prefixes
# and IPv6 addresses are from 198.19.0.0/16 and 2001:db8::/32 (outside the lab's 2001:db8:0-3::).
#
#   tests/bench/load.sh [--quick] [--json FILE]
# shellcheck disable=SC2317,SC2034,SC2119 # traps; PW_* variables read by scripts/netns.sh; optional-argument helpers
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
source "${PW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/scripts/netns.sh"

quick=0
json=
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --json)
      [[ $# -ge 2 ]] || { echo "load.sh: --json needs a file name" >&2; exit 2; }
      json=$2
      shift
      ;;
    *) echo "load.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if ((quick)); then N=20000 P=1000; else N=1000000 P=10000; fi
GOAL=10 # seconds, for every row

pw_init bench_load
pw_require_tools
pw_lab_up

# ---- the lists (each in a fixed pseudo-random order)
"$PW_PY" - "$N" "$P" "$PW_TMP" <<'EOF'
import ipaddress, random, sys
n, p, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rnd = random.Random(20260101)
# List entries only, never a packet (see the head of load.sh): 10.0.0.0/8.
v4 = int(ipaddress.IPv4Address('10.0.0.0'))
hosts = [str(ipaddress.IPv4Address(v4 + h)) for h in rnd.sample(range(1, (1 << 24) - 1), n)]
v6 = int(ipaddress.IPv6Address('2001:db8:ff00::'))
hosts6 = [str(ipaddress.IPv6Address(v6 + (k << 64) + 1)) for k in range(n // 10)]
n4 = int(ipaddress.IPv4Address('198.19.0.0'))
n6 = int(ipaddress.IPv6Address('2001:db8::'))
nets = [f'{ipaddress.IPv4Address(n4 + (k << 3))}/29' for k in rnd.sample(range(1 << 13), p // 2)]
nets += [f'{ipaddress.IPv6Address(n6 + (k << 80))}/48' for k in rnd.sample(range(0x100, 0xff00), p - p // 2)]
def write(name, lines):
    open(f'{tmp}/{name}', 'w').write('\n'.join(lines) + '\n')
write('hosts.txt', hosts)
write('nets.txt', nets)
mixed = ['# a blocklist as published: comments, blank lines, hosts and prefixes', '']
for i, a in enumerate(hosts[: n // 2] + hosts6 + nets):
    mixed.append(a + ('   ; seen 2026-01-01' if i % 1000 == 0 else ''))
    if i % 5000 == 0:
        mixed += ['', '# next block']
write('mixed.txt', mixed)
EOF
BAD_LINE=$((N / 2))
sed "${BAD_LINE}s|.*|10.1.2.3/33|" "$PW_TMP/hosts.txt" >"$PW_TMP/bad.txt"
MIXED4=$((N / 2)) MIXED6=$((N / 10))
pw_log "lists: $N IPv4 hosts, $P prefixes, mixed ($MIXED4 + $MIXED6 hosts, $P prefixes), bad line $BAD_LINE"

pw_config_head native drop >"$PW_CONFIG"
pw_daemon_start

# ---- timing and the table
ROWS=()
now() { echo "$EPOCHREALTIME"; }
row() { # OPERATION ENTRIES START END
  ROWS+=("$1|$2|$(awk -v a="$3" -v b="$4" 'BEGIN {printf "%.2f", b - a}')")
}
# timed OPERATION ENTRIES CMD...: runs CMD (its stdout into $PW_TMP/out), adds a row; the
# command's exit status is returned.
timed() {
  local op=$1 entries=$2 t0 rc=0
  shift 2
  t0=$(now)
  "$@" >"$PW_TMP/out" 2>"$PW_TMP/err" || rc=$?
  row "$op" "$entries" "$t0" "$(now)"
  if ((rc)); then sed 's/^/  > /' "$PW_TMP/err"; fi
  return "$rc"
}
# counts: "HOSTS HOSTS6 NETS" of pbxwallctl status.
counts() {
  pw_ctl --json status >"$PW_TMP/status.json"
  pw_json "$PW_TMP/status.json" "' '.join(str(d['entries'][k]['count']) for k in ('hosts', 'hosts6', 'nets'))"
}
zones_sum() { sha256sum <"$PW_STATE_DIR/zones" | cut -d' ' -f1; }

# ---- 1. N hosts
timed "blacklist add --file (IPv4 hosts)" "$N" pw_ctl blacklist add --file "$PW_TMP/hosts.txt" ||
  pw_bad "blacklist add --file of $N hosts failed"
pw_check_eq "status after adding $N hosts" "$(counts)" "$N 0 0"

# ---- a bad line: refused whole, for add and for del
before=$(zones_sum)
for op in add del; do
  rc=0
  pw_ctl blacklist "$op" --file "$PW_TMP/bad.txt" >"$PW_TMP/bad.out" 2>"$PW_TMP/bad.err" || rc=$?
  pw_check_eq "blacklist $op --file with a bad line $BAD_LINE: exit code" "$rc" 2
  pw_check "blacklist $op --file: the error names the file and line ($(head -c 150 "$PW_TMP/bad.err"))" \
    grep -q "bad.txt:$BAD_LINE: prefix length 33" "$PW_TMP/bad.err"
  pw_check_eq "blacklist $op --file with a bad line: status unchanged" "$(counts)" "$N 0 0"
  pw_check_eq "blacklist $op --file with a bad line: state file unchanged" "$(zones_sum)" "$before"
done

timed "blacklist list (text)" "$N" pw_ctl blacklist list || pw_bad "blacklist list failed"
pw_check_eq "blacklist list: one line per entry and a header" "$(wc -l <"$PW_TMP/out")" "$((N + 1))"

# ---- pbxwalld with the N entries in its state directory
installed() { grep -c 'policy installed' "$PW_DAEMON_LOG" || true; }
n0=$(installed)
t0=$(now)
pw_daemon_signal HUP
for ((i = 0; i < 600; i++)); do
  (($(installed) > n0)) && break
  grep -Eq 'reload (refused|failed)' "$PW_DAEMON_LOG" && break
  sleep 0.05
done
row "pbxwalld reload (SIGHUP)" "$N" "$t0" "$(now)"
pw_check "pbxwalld reload with $N entries: policy installed" test "$(installed)" -gt "$n0"
pw_daemon_stop
t0=$(now)
pw_daemon_start
row "pbxwalld restart (start-up)" "$N" "$t0" "$(now)"
pw_check_eq "status after the restart" "$(counts)" "$N 0 0"

timed "blacklist del --file (IPv4 hosts)" "$N" pw_ctl blacklist del --file "$PW_TMP/hosts.txt" ||
  pw_bad "blacklist del --file of $N hosts failed"
pw_check_eq "status after deleting $N hosts" "$(counts)" "0 0 0"
pw_check_eq "state file after deleting $N hosts: no entry" "$(grep -vc '^#' "$PW_STATE_DIR/zones" || true)" 0

# ---- P prefixes
timed "blacklist add --file (prefixes)" "$P" pw_ctl blacklist add --file "$PW_TMP/nets.txt" ||
  pw_bad "blacklist add --file of $P prefixes failed"
pw_check_eq "status after adding $P prefixes" "$(counts)" "0 0 $P"
timed "blacklist del --file (prefixes)" "$P" pw_ctl blacklist del --file "$PW_TMP/nets.txt" ||
  pw_bad "blacklist del --file of $P prefixes failed"
pw_check_eq "status after deleting $P prefixes" "$(counts)" "0 0 0"

# ---- mixed
M=$((MIXED4 + MIXED6 + P))
timed "blacklist add --file (mixed)" "$M" pw_ctl blacklist add --file "$PW_TMP/mixed.txt" ||
  pw_bad "blacklist add --file of the mixed list failed"
pw_check_eq "status after adding the mixed list" "$(counts)" "$MIXED4 $MIXED6 $P"
timed "blacklist del --file (mixed)" "$M" pw_ctl blacklist del --file "$PW_TMP/mixed.txt" ||
  pw_bad "blacklist del --file of the mixed list failed"
pw_check_eq "status after deleting the mixed list" "$(counts)" "0 0 0"

# ---- the table
echo
printf '%-36s %9s %9s %8s  %s\n' OPERATION ENTRIES SECONDS GOAL VERDICT
for r in "${ROWS[@]}"; do
  IFS='|' read -r op entries secs <<<"$r"
  verdict=met
  awk -v s="$secs" -v g="$GOAL" 'BEGIN {exit !(s >= g)}' && verdict=MISSED
  printf '%-36s %9s %9s %8s  %s\n' "$op" "$entries" "$secs" "< $GOAL s" "$verdict"
done
((quick)) && echo "(--quick: $N entries; the goal is for 1,000,000, times are not judged)"
echo
if [[ -n $json ]]; then
  printf '%s\n' "${ROWS[@]}" | "$PW_PY" -c '
import json, sys
goal = float(sys.argv[2])
rows = []
for line in sys.stdin.read().splitlines():
    op, entries, secs = line.split("|")
    rows.append({"operation": op, "entries": int(entries), "seconds": float(secs),
                 "goal_seconds": goal, "met": float(secs) < goal})
json.dump({"quick": sys.argv[3] == "1", "rows": rows}, open(sys.argv[1], "w"), indent=2)
' "$json" "$GOAL" "$quick"
fi
pw_finish
