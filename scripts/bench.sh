#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# pbxwall's benchmarks. Needs root (without it they say so and exit 77, or 1 when CI=true).
#
# Micro (the default): per-packet cost of each path as net ns over, and a ratio to, a bare
# XDP_DROP measured in the same run (BPF_PROG_TEST_RUN on the real program and maps, sources
# rotated by a front program, variants interleaved round-robin, pinned to one CPU), with the
# goal of each path and whether the run met it.
#
# End to end (--e2e, tests/bench/e2e.sh + pw_e2e): a sender namespace and one receiving
# namespace per receiver, joined by veth pairs. An XDP generator run with
# BPF_F_TEST_XDP_LIVE_FRAMES on CPU 0 (where the kernel refuses that, a packet socket into a
# relay veth whose XDP program sends each frame 64 times) floods each receiver in turn
# (round-robin over rounds) with a SIP REGISTER whose source rotates through N blocked
# addresses; the receiving veth's
# NAPI runs as a kthread (threaded NAPI) pinned to the last CPU. The figure is that CPU's time
# per packet the receiver handled. Receivers: a bare XDP drop (the floor); pbxwall with the N
# addresses blacklisted (reject path); pbxwall's full SIP path ending in rate_limited;
# iptables raw PREROUTING + ipset hash:net; nftables netdev ingress with a hash set and with an
# interval set; a plain UDP socket read by a process on the same CPU. Every flood is bounded in
# packets and seconds.
#
#   scripts/bench.sh                 micro: 1,000,000 hosts, 100,000 bans, 10,000 prefixes,
#                                    5 rounds x 200,000 repetitions (about 15 s)
#   scripts/bench.sh --quick         micro, small tables and few repetitions: every path runs
#                                    with its expected verdict (CI runs this; times mean little)
#   scripts/bench.sh --e2e           end to end: 100,000 sources, 5 rounds x 2,000,000 frames
#                                    per receiver (about 1.5 minutes)
#   scripts/bench.sh --e2e --quick   end to end, 5,000 sources, 2 rounds x 200,000 frames: every
#                                    receiver handles its floods with the expected outcome
#                                    (ctest bench_e2e_quick; about 15 s)
#   scripts/bench.sh --load          list loading (tests/bench/load.sh): pbxwallctl blacklist
#                                    add/del --file of 1,000,000 hosts, list, pbxwalld reload and
#                                    restart with them, 10,000 prefixes, a mixed list; goal < 10 s
#   scripts/bench.sh --load --quick  the same with 20,000 hosts: counts and the refusal of a bad
#                                    line checked, times shown (ctest bench_load_quick)
#   scripts/bench.sh --all           micro, then end to end (--quick applies to both)
#   scripts/bench.sh --json FILE     also write the table as JSON: the micro or the e2e table
#                                    alone, or with --all one object {"micro": ..., "e2e": ...}
#   scripts/bench.sh -- ARGS...      more options for pbxwall_bench (--hosts, --bans, --nets, --only TEXT,
#                                    --rounds, --repeat) or, with --e2e, for pw_e2e run
#                                    (--rounds, --packets, --seconds, --warmup, --warmup-seconds;
#                                    the whole run is bounded by PW_E2E_TIMEOUT, 300 s by default)
#
# Micro: every row is judged on its median; a noisy one (median/min > 1.10) is flagged, its
# verdict in doubt. The guards' rows (an INVITE
# row less the same INVITE without signatures) are noisy when either row is, and their median is
# the median of the rows' differences in the same round. End to end: every ratio is
# the median over rounds of two receivers' figures taken in the same round, and goals are judged
# on those. Absolute times drift on shared machines; compare ratios and net ns, and rerun when
# the floor itself is noisy.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PW_BUILD:-$SRC/build}
BENCH=${PBXWALL_BENCH:-$BUILD/tests/bench/pbxwall_bench}
export PW_BUILD=$BUILD PW_SRC=${PW_SRC:-$SRC}
export PW_E2E=${PW_E2E:-$BUILD/tests/bench/pw_e2e}
export PBXWALLD=${PBXWALLD:-$BUILD/loader/pbxwalld}
export PBXWALLCTL=${PBXWALLCTL:-$BUILD/ctl/pbxwallctl}

micro=1 e2e=0 load=0 quick=() json='' extra=()
while (($#)); do
  case $1 in
    --quick) quick=(--quick) ;;
    --e2e) micro=0 e2e=1 ;;
    --all) micro=1 e2e=1 ;;
    --load) micro=0 e2e=0 load=1 ;;
    --json)
      [[ $# -ge 2 ]] || { echo "bench.sh: --json needs a file name" >&2; exit 2; }
      json=$2
      shift
      ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) awk 'NR > 2 && !/^#/ {exit} NR > 2 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ((micro && e2e)) && ((${#extra[@]})); then
  echo "bench.sh: -- ARGS goes with one benchmark, not --all" >&2
  exit 2
fi

if ((load)); then
  ((${#extra[@]} == 0)) || { echo "bench.sh: --load takes no -- ARGS" >&2; exit 2; }
  [[ -x $PBXWALLD && -x $PBXWALLCTL ]] || cmake --build "$BUILD" --target pbxwalld pbxwallctl
  echo "list loading ($(uname -r), $(nproc) CPUs)"
  exec bash "$SRC/tests/bench/load.sh" "${quick[@]}" ${json:+--json "$json"}
fi

targets=()
((micro)) && [[ ! -x $BENCH ]] && targets+=(pbxwall_bench)
if ((e2e)); then
  [[ -x $PW_E2E ]] || targets+=(pw_e2e)
  [[ -x $PBXWALLD ]] || targets+=(pbxwalld)
  [[ -x $PBXWALLCTL ]] || targets+=(pbxwallctl)
fi
if ((${#targets[@]})); then
  echo "== build"
  gen=(-G Ninja) # for a new build directory; one configured before keeps its generator
  [[ -f $BUILD/CMakeCache.txt ]] && gen=()
  cmake -S "$SRC" -B "$BUILD" "${gen[@]}" >/dev/null
  cmake --build "$BUILD" --target "${targets[@]}"
fi

# Where each table's JSON goes: FILE itself, or two temporary files merged at the end (--all).
micro_json=$json e2e_json=$json tmp=
if ((micro && e2e)) && [[ -n $json ]]; then
  tmp=$(mktemp -d /tmp/pwbench.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  micro_json=$tmp/micro.json e2e_json=$tmp/e2e.json
fi

rc=0
if ((micro)); then
  # One CPU for the whole run: BPF_PROG_TEST_RUN runs on the caller's CPU, and per-CPU state
  # (the new-source gate, LRU lists) must stay the same slot. The last CPU is the least busy one
  # on most hosts (interrupts and housekeeping land on CPU 0).
  cpu=$(($(nproc) - 1))
  echo "pbxwall_bench on CPU $cpu ($(uname -r), $(nproc) CPUs)"
  args=("${quick[@]}")
  [[ -n $micro_json ]] && args+=(--json "$micro_json")
  taskset -c "$cpu" "$BENCH" "${args[@]}" "${extra[@]}" || rc=$?
  # Without root there is nothing more to run.
  ((rc == 77)) && exit 77
fi
if ((e2e)); then
  ((micro)) && echo
  echo "end to end over veth ($(uname -r), $(nproc) CPUs)"
  args=("${quick[@]}")
  [[ -n $e2e_json ]] && args+=(--json "$e2e_json")
  ((${#extra[@]})) && args+=(-- "${extra[@]}")
  erc=0
  bash "$SRC/tests/bench/e2e.sh" "${args[@]}" || erc=$?
  ((erc == 77 && !micro)) && exit 77
  ((erc != 0)) && rc=$erc
fi
if [[ -n $tmp ]]; then
  python3 - "$micro_json" "$e2e_json" "$json" <<'PY'
import json, os, sys
out = {}
for key, path in (('micro', sys.argv[1]), ('e2e', sys.argv[2])):
    out[key] = json.load(open(path)) if os.path.exists(path) and os.path.getsize(path) else None
json.dump(out, open(sys.argv[3], 'w'), indent=2)
open(sys.argv[3], 'a').write('\n')
PY
fi
exit "$rc"
