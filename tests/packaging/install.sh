#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `cmake --install` into a scratch DESTDIR under a prefix other than the default: the systemd
# unit must name the pbxwalld that was installed (ExecStart, ExecStartPre), its Documentation
# must exist, and the installed pbxwalld must accept the installed example config. Unprivileged.
# Usage: install.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=/opt/pbxwall-install-test
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR=$root cmake --install "$build" --prefix "$prefix" >/dev/null
unit=$root$prefix/lib/systemd/system/pbxwalld.service
[ -f "$unit" ] || fail "no unit at $prefix/lib/systemd/system/pbxwalld.service"
grep -q '@' "$unit" && fail "unsubstituted variable in the unit: $(grep '@' "$unit")"

n=0
while IFS= read -r cmd; do
	bin=${cmd%% *}
	case $bin in "$prefix"/*) ;; *) fail "the unit runs $bin, outside the install prefix $prefix" ;; esac
	[ -x "$root$bin" ] || fail "the unit runs $bin, which was not installed"
	n=$((n + 1))
done < <(sed -n 's/^ExecStart\(Pre\)\?=//p' "$unit")
[ "$n" -eq 2 ] || fail "expected ExecStartPre and ExecStart in the unit, found $n"

doc=$(sed -n 's#^Documentation=file://##p' "$unit")
[ -f "$root$doc" ] || fail "the unit's Documentation $doc was not installed"

example=$root$prefix/share/doc/pbxwall/examples/pbxwall.toml
[ -f "$example" ] || fail "no example config installed"
"$root$prefix/sbin/pbxwalld" --check --config "$example" >/dev/null 2>&1 ||
	fail "the installed pbxwalld refuses the installed example config"
[ -x "$root$prefix/sbin/pbxwallctl" ] || fail "pbxwallctl was not installed"
echo "ok: unit, binaries, docs and example config under $prefix"
