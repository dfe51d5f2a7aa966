#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# pbxwall's benchmarks: per-packet cost of each path as net ns over, and a ratio to, a bare
# XDP_DROP measured in the same run (BPF_PROG_TEST_RUN on the real program and maps, sources
# rotated by a front program, variants interleaved round-robin, pinned to one CPU), with the goal
# of each path and whether the run met it. Needs root (without it pbxwall_bench says so and exits
# 77, or 1 when CI=true).
#
#   scripts/bench.sh                 micro benchmarks: 1,000,000 hosts, 100,000 bans, 10,000 prefixes,
#                                    5 rounds x 200,000 repetitions (about 15 s)
#   scripts/bench.sh --quick         small tables, few repetitions: every path runs with its
#                                    expected verdict (CI runs this; times mean little)
#   scripts/bench.sh --json FILE     also write the table as JSON, to compare runs across commits
#   scripts/bench.sh -- ARGS...      more options for pbxwall_bench (--hosts, --bans, --nets,
#                                    --rounds, --repeat)
#
# A noisy row (median/min > 1.10) is judged on its minimum. Absolute times drift on shared
# machines; compare ratios and net ns, and rerun when the floor itself is noisy.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PW_BUILD:-$SRC/build}
BENCH=${PBXWALL_BENCH:-$BUILD/tests/bench/pbxwall_bench}

args=()
while (($#)); do
  case $1 in
    --quick) args+=(--quick) ;;
    --json)
      [[ $# -ge 2 ]] || { echo "bench.sh: --json needs a file name" >&2; exit 2; }
      args+=(--json "$2")
      shift
      ;;
    --) shift; args+=("$@"); break ;;
    -h | --help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [[ ! -x $BENCH ]]; then
  echo "== build"
  cmake -S "$SRC" -B "$BUILD" -G Ninja >/dev/null
  cmake --build "$BUILD" --target pbxwall_bench
fi

# One CPU for the whole run: BPF_PROG_TEST_RUN runs on the caller's CPU, and per-CPU state
# (the new-source gate, LRU lists) must stay the same slot. The last CPU is the least busy one
# on most hosts (interrupts and housekeeping land on CPU 0).
cpu=$(($(nproc) - 1))
echo "pbxwall_bench on CPU $cpu ($(uname -r), $(nproc) CPUs)"
exec taskset -c "$cpu" "$BENCH" "${args[@]}"
