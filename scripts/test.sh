#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Installs dependencies, builds, and runs every test tier with ctest: unit (unprivileged),
# bpf (BPF_PROG_TEST_RUN, root) and netns (veth + namespaces, root). Root-only tiers skip
# when not root, unless CI=true, which makes them mandatory.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

if [ "$(id -u)" -eq 0 ]; then
  scripts/deps.sh
else
  scripts/deps.sh || echo "test.sh: not root: cannot install missing packages" >&2
fi

# Ninja for a new build directory; one configured before keeps its generator (cmake refuses a
# different one).
gen=(-G Ninja)
[[ -f $BUILD_DIR/CMakeCache.txt ]] && gen=()
cmake -S . -B "$BUILD_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD_DIR" -j "$JOBS"

# bpffs for the tests that pin maps (the netns tier).
if [ "$(id -u)" -eq 0 ] && ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf
fi

# A root test that ctest stops at its TIMEOUT is killed outright, and its own cleanup never runs:
# whatever it leaves (namespaces, pin and temporary directories of a dead run) goes at the end.
if [ "$(id -u)" -eq 0 ]; then
  src=$PWD
  trap 'PW_NAME=test.sh bash -c "source \"$src/scripts/netns.sh\" && pw_sweep_stale" || true' EXIT
fi

cd "$BUILD_DIR"
# Unit tests in parallel; root tiers one at a time (they share the machine's two CPUs and
# create namespaces and XDP attachments).
ctest --output-on-failure -L unit -j "$JOBS"
ctest --output-on-failure -L 'bpf|netns'
