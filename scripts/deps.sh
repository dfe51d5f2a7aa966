#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Installs every Debian package pbxwall needs to build, test and demo. Idempotent:
# packages already present are not fetched again, and apt is only updated when needed.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config
  clang llvm
  libbpf-dev libxdp-dev bpftool xdp-tools linux-libc-dev libelf-dev zlib1g-dev
  libspdlog-dev libfmt-dev catch2 libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  iproute2 sip-tester sipvicious kamailio tcpdump util-linux procps python3
  ipset nftables iptables ethtool
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" || {
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
}
