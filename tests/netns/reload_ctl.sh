#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# reload_ctl.sh: SIGHUP reloads are all or nothing; `pbxwalld --check` agrees with them;
# pbxwallctl refuses bad input with the documented exit codes and changes nothing; the pin
# and state directories are root-only and an unprivileged pbxwallctl says so in one line.
# shellcheck disable=SC2119,SC2317,SC2001 # optional-argument helpers; checks run through pw_check
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
source "${PW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/scripts/netns.sh"
pw_init reload_ctl
pw_require_tools setpriv
pw_lab_up

# write_config EXTRA_REJECT [TAIL]: the policy, with extra reject entries and optional text at
# the end. Written to a temporary file and renamed, as an editor or a config manager would.
write_config() {
  local extra=$1 tail=${2:-}
  {
    pw_config_head native drop
    cat <<EOF

[zones]
trusted = ["$PW_TRUNK4", "$PW_TRUNK6"]
reject = ["198.18.3.0/24", "2001:db8:3::/48"$extra]

[services.sip]
udp = ["5060"]
tcp = ["5060"]
zones = ["trusted", "local", "other", "internet"]

[services.rtp]
udp = ["10000-10099"]
zones = ["trusted", "local", "other", "internet"]
EOF
    [[ -z $tail ]] || printf '%s\n' "$tail"
  } >"$PW_CONFIG.new"
  mv "$PW_CONFIG.new" "$PW_CONFIG"
}

# reload: SIGHUP, then wait until pbxwalld has logged the outcome ("reload complete" after the
# interfaces are attached, "reload refused" or "reload failed"). Prints the log lines of this reload;
# returns 1 when no outcome was logged (callers run it in a subshell: `out=$(reload) || ...`).
reload() {
  local before i
  before=$(wc -l <"$PW_DAEMON_LOG")
  pw_daemon_signal HUP
  for ((i = 0; i < 100; i++)); do
    if tail -n +"$((before + 1))" "$PW_DAEMON_LOG" | grep -Eq 'reload complete|reload refused|reload failed'; then
      tail -n +"$((before + 1))" "$PW_DAEMON_LOG"
      return 0
    fi
    sleep 0.1
  done
  tail -n +"$((before + 1))" "$PW_DAEMON_LOG"
  return 1
}

# has PATTERN / lacks PATTERN: whether the log lines of the last reload ($out) match.
has() { grep -Eq -- "$1" <<<"$out"; }
lacks() { ! grep -Eq -- "$1" <<<"$out"; }

# verdicts LABEL PHONE_EXPECTED: 10 datagrams each from the trunk, the phone and the second
# phone; the phone gets PHONE_EXPECTED through, the others all 10.
verdicts() {
  local label=$1 want_phone=$2 src want dst
  pw_rx_dump "$PW_TMP/v0.json"
  for src in "$PW_TRUNK4" "$PW_PHONE4" "$PW_PHONE6" "$PW_PHONE2_4" "$PW_PHONE2_6"; do
    dst=$PW_PBX4
    [[ $src == *:* ]] && dst=$PW_PBX6
    pw_udp "$src" "$dst" 10000 10 0.1
  done
  sleep 0.2
  pw_rx_dump "$PW_TMP/v1.json"
  for src in "$PW_TRUNK4" "$PW_PHONE4" "$PW_PHONE6" "$PW_PHONE2_4" "$PW_PHONE2_6"; do
    want=10
    [[ $src == "$PW_PHONE4" || $src == "$PW_PHONE6" ]] && want=$want_phone
    pw_check_eq "$label: datagrams from $src that arrive" \
      "$(($(pw_rx_get "$PW_TMP/v1.json" udp 10000 "$src") - $(pw_rx_get "$PW_TMP/v0.json" udp 10000 "$src")))" "$want"
  done
}

write_config ""
cp "$PW_CONFIG" "$PW_TMP/good-v1.toml"
pw_daemon_start
pw_rx_start --udp 10000
verdicts "initial policy" 10

# ---- a valid change: the phone moves into reject through the config file ----
write_config ", \"$PW_PHONE4\", \"$PW_PHONE6\""
cp "$PW_CONFIG" "$PW_TMP/good-v2.toml"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
sed 's/^/  pbxwalld: /' <<<"$out"
pw_check "valid reload: pbxwalld logs 'reloading'" has 'reloading'
pw_check "valid reload: pbxwalld logs 'policy installed'" has 'policy installed'
pw_check "valid reload: no error or warning logged" lacks ' (error|warn|warning) '
verdicts "after the valid reload" 0

# ---- broken configs: a syntax error, an unknown zone, a tunnel interface. Each also tries ----
# ---- to let the phone back in or to reject the second phone, so a partly applied file    ----
# ---- would show.                                                                         ----
pw_ctl --json zone list >"$PW_TMP/zones-before-broken.json"
broken_syntax() {
  write_config ""
  # Line N: an unterminated array, then a reject entry for the second phone.
  sed -i "s|^reject = \\[.*|reject = [\"198.18.3.0/24\", \"$PW_PHONE2_4\"\\nlocal = [\"$PW_PHONE2_6\"]|" "$PW_CONFIG"
}
broken_zone() {
  write_config ", \"$PW_PHONE2_4\""
  # An unknown zone name in [zones], after a valid change.
  sed -i "s|^reject = \\(.*\\)|reject = \\1\\nfriends = [\"$PW_PHONE2_6\"]|" "$PW_CONFIG"
}
# A device without an Ethernet header (a tun device here; WireGuard, GRE and PPP are the same):
# the XDP program would read its IP header as an Ethernet frame and pass nearly everything.
nsenter --net="/var/run/netns/$PW_NS_PBX" ip tuntap add dev pwtun0 mode tun
broken_tunnel() {
  write_config ", \"$PW_PHONE2_4\""
  printf '[[interface]]\nname = "pwtun0"\nzone = "internet"\n' >>"$PW_CONFIG"
}
broken_loopback() {
  write_config ", \"$PW_PHONE2_4\""
  printf '[[interface]]\nname = "lo"\nzone = "internet"\n' >>"$PW_CONFIG"
}
# One device under two of its names (an altname): the later zone would win silently.
nsenter --net="/var/run/netns/$PW_NS_PBX" ip link property add dev "$PW_IF_PBX" altname pwalt0
broken_altname() {
  write_config ", \"$PW_PHONE2_4\""
  printf '[[interface]]\nname = "pwalt0"\nzone = "trusted"\n' >>"$PW_CONFIG"
}
for kind in syntax zone tunnel loopback altname; do
  "broken_$kind"
  cp "$PW_CONFIG" "$PW_TMP/broken-$kind.toml"
  line=$(grep -n -E '^(reject|friends) = ' "$PW_CONFIG" | tail -n1 | cut -d: -f1)
  [[ $kind == syntax ]] && line=$((line + 1)) # the parser stops at the line after the open array
  [[ $kind == tunnel ]] && line=$(grep -n '^name = "pwtun0"' "$PW_CONFIG" | cut -d: -f1)
  [[ $kind == loopback ]] && line=$(grep -n '^name = "lo"' "$PW_CONFIG" | cut -d: -f1)
  [[ $kind == altname ]] && line=$(grep -n '^name = "pwalt0"' "$PW_CONFIG" | cut -d: -f1)
  out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
  sed 's/^/  pbxwalld: /' <<<"$out"
  pw_check "broken ($kind) reload: refused, the running policy is kept" has 'reload refused'
  pw_check "broken ($kind) reload: the error names $PW_CONFIG:$line" \
    has "error .*$(printf '%s' "$PW_CONFIG" | sed 's/[.]/\\./g'):$line(:[0-9]+)?: "
  pw_check "broken ($kind) reload: nothing installed" lacks 'policy installed'
  verdicts "after the broken ($kind) reload" 0
  pw_ctl --json zone list >"$PW_TMP/zones-after-$kind.json"
  pw_check "broken ($kind) reload: zone list unchanged" cmp -s "$PW_TMP/zones-before-broken.json" "$PW_TMP/zones-after-$kind.json"
  pw_check "pbxwalld still running after the broken ($kind) reload" kill -0 "$PW_DAEMON_PID"

  rc=0
  pw_pbxwalld --check -c "$PW_TMP/broken-$kind.toml" >"$PW_TMP/check.out" 2>"$PW_TMP/check.err" || rc=$?
  pw_check_eq "pbxwalld --check on the broken ($kind) file exits 1" "$rc" 1
  pw_check "pbxwalld --check on the broken ($kind) file prints FILE:$line:" \
    grep -q "^$PW_TMP/broken-$kind.toml:$line:[0-9]*: error: " "$PW_TMP/check.err"
  sed 's/^/  --check: /' "$PW_TMP/check.err"
  [[ $kind != tunnel ]] ||
    pw_check "pbxwalld --check on the tunnel file says it is not an Ethernet device" \
      grep -q 'interface "pwtun0" is not an Ethernet device' "$PW_TMP/check.err"
  [[ $kind != loopback ]] ||
    pw_check "pbxwalld --check on the loopback file says why lo cannot be named" \
      grep -q 'interface "lo" is the loopback device' "$PW_TMP/check.err"
  [[ $kind != altname ]] ||
    pw_check "pbxwalld --check on the altname file names the device's first listing" \
      grep -q "interface \"pwalt0\" is the device listed as \"$PW_IF_PBX\" at line [0-9]* (index" "$PW_TMP/check.err"
done

# ---- a [limits] size with a policy change: refused whole (the maps were made for the old ----
# ---- sizes; a reload that took the policy and kept the old table would look applied)     ----
write_config ", \"$PW_PHONE2_4\"" $'[limits]\nknown = 1024'
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
sed 's/^/  pbxwalld: /' <<<"$out"
pw_check "[limits] reload: refused, naming the setting and both sizes" \
  has 'reload refused: \[limits\] known: [0-9]+ -> 1024 changes only with a restart'
pw_check "[limits] reload: nothing installed" lacks 'policy installed'
verdicts "after the [limits] reload" 0

for good in good-v1 good-v2; do
  rc=0
  pw_pbxwalld --check -c "$PW_TMP/$good.toml" >"$PW_TMP/check.out" 2>"$PW_TMP/check.err" || rc=$?
  pw_check_eq "pbxwalld --check on a good file ($good) exits 0" "$rc" 0
  pw_check "pbxwalld --check on a good file ($good) prints no diagnostics" test ! -s "$PW_TMP/check.err"
done

# ---- an interface that cannot take the program (a bridge has no native XDP) in a reload  ----
# ---- that also lets the phone back in: the new policy is in force, the other interface   ----
# ---- stays filtered, and the log says so and names the interface left unfiltered         ----
nsenter --net="/var/run/netns/$PW_NS_PBX" ip link add pwbr0 type bridge
nsenter --net="/var/run/netns/$PW_NS_PBX" ip link set pwbr0 up
write_config "" $'[[interface]]\nname = "pwbr0"\nzone = "internet"\nxdp_mode = "native"'
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
sed 's/^/  pbxwalld: /' <<<"$out"
pw_check "attach failure in a reload: the bridge is named" has 'pwbr0: not attached'
pw_check "attach failure in a reload: the new policy is installed, the bridge is not filtered" \
  has 'the new policy is installed, but 1 interface\(s\) are not filtered: pwbr0'
pw_check "attach failure in a reload: not reported as a kept policy" lacks 'policy is kept'
verdicts "after the reload with the bridge (the phone is let back in)" 10
pw_check "pbxwalld still running after the attach failure" kill -0 "$PW_DAEMON_PID"
# Link changes do not retry it (each try would apply the whole policy again); a reload does.
nsenter --net="/var/run/netns/$PW_NS_PBX" ip link set pwbr0 down
nsenter --net="/var/run/netns/$PW_NS_PBX" ip link set pwbr0 up
sleep 0.5
pw_check_eq "link changes of the bridge apply no policy again" \
  "$(grep -c "a configured interface is there without its program" "$PW_DAEMON_LOG" || true)" 0

# Back to v2 (the phone in reject) for what follows.
cp "$PW_TMP/good-v2.toml" "$PW_CONFIG"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
pw_check "back to v2: policy installed" has 'policy installed'
verdicts "back to v2" 0

# ---- pbxwallctl: refused commands, exit codes, and no change ----
pw_ctl ban add 198.18.2.99 --ttl 600 >/dev/null # a ban, so that ban list has something to keep
pw_ctl --json zone list >"$PW_TMP/zones0.json"
pw_ctl --json ban list >"$PW_TMP/bans0.json"
ctl_expect() { # EXIT_CODE WHAT ARGS...: one line on stderr, nothing on stdout, exit code
  local want=$1 what=$2 rc=0
  shift 2
  pw_ctl "$@" >"$PW_TMP/ctl.out" 2>"$PW_TMP/ctl.err" || rc=$?
  pw_check_eq "pbxwallctl $what: exit code" "$rc" "$want"
  pw_check_eq "pbxwallctl $what: one line on stderr, nothing on stdout" \
    "$(wc -l <"$PW_TMP/ctl.err") $(wc -c <"$PW_TMP/ctl.out")" "1 0"
  sed 's/^/  > /' "$PW_TMP/ctl.err"
}
ctl_expect 2 "zone add with a malformed CIDR" zone add 198.18.300.0/24 reject
ctl_expect 2 "blacklist add with a malformed CIDR" blacklist add 198.18.2.0/33
ctl_expect 2 "ban add with a malformed address" ban add 198.18.2
ctl_expect 2 "zone add with an unknown zone" zone add 198.18.5.0/24 intranet
ctl_expect 1 "ban add of the trusted trunk (IPv4)" ban add "$PW_TRUNK4"
ctl_expect 1 "ban add of the trusted trunk (IPv6)" ban add "$PW_TRUNK6"
rc=0
nsenter --net="/var/run/netns/$PW_NS_PBX" "$PBXWALLCTL" --pin-dir "$PW_PIN_DIR-missing" --state-dir "$PW_STATE_DIR" \
  zone list >"$PW_TMP/ctl.out" 2>"$PW_TMP/ctl.err" || rc=$?
pw_check_eq "pbxwallctl with a missing pin dir: exit code" "$rc" 1
pw_check "pbxwallctl with a missing pin dir: says which directory" grep -q "$PW_PIN_DIR-missing" "$PW_TMP/ctl.err"
sed 's/^/  > /' "$PW_TMP/ctl.err"
pw_check "a missing pin dir is not created by pbxwallctl" test ! -e "$PW_PIN_DIR-missing"
# The default config (/etc/pbxwall/pbxwall.toml) with an error, seen only by these runs (a
# tmpfs over /etc in a private mount namespace): pbxwallctl cannot learn state_dir from it.
# Reads go on with the defaults; a change is refused, as it could land in the wrong state_dir.
# shellcheck disable=SC2016 # the inner shell expands its own arguments
broken_default() {
  unshare --mount --propagation private sh -c \
    'mount -t tmpfs pwetc /etc && mkdir /etc/pbxwall && printf "state_dir = 5\n" >/etc/pbxwall/pbxwall.toml &&
     ns=$0 ctl=$1 pin=$2 && shift 2 && exec nsenter --net="/var/run/netns/$ns" "$ctl" --pin-dir "$pin" "$@"' \
    "$PW_NS_PBX" "$PBXWALLCTL" "$PW_PIN_DIR" "$@"
}
rc=0
broken_default ban list >"$PW_TMP/ctl.out" 2>"$PW_TMP/ctl.err" || rc=$?
pw_check_eq "a broken default config: ban list still works" "$rc" 0
rc=0
broken_default ban add "$PW_PHONE2_4" >"$PW_TMP/ctl.out" 2>"$PW_TMP/ctl.err" || rc=$?
sed 's/^/  > /' "$PW_TMP/ctl.err"
pw_check_eq "a broken default config: ban add is refused" "$rc" 1
pw_check "a broken default config: the refusal names the file" \
  grep -q "refusing to change anything: /etc/pbxwall/pbxwall.toml" "$PW_TMP/ctl.err"
pw_ctl --json zone list >"$PW_TMP/zones1.json"
pw_ctl --json ban list >"$PW_TMP/bans1.json"
pw_check "refused commands left zone list unchanged" cmp -s "$PW_TMP/zones0.json" "$PW_TMP/zones1.json"
pw_check "refused commands left ban list unchanged (apart from the countdown)" \
  test "$(pw_json "$PW_TMP/bans0.json" "[b['addr'] for b in d['bans']]")" = "$(pw_json "$PW_TMP/bans1.json" "[b['addr'] for b in d['bans']]")"
pw_check_eq "the trunk is not banned" "$(pw_json "$PW_TMP/bans1.json" "[b['addr'] for b in d['bans'] if b['addr'] in ('$PW_TRUNK4', '$PW_TRUNK6')]")" "[]"
verdicts "after the refused commands" 0

# A ban of an address no zone entry names, while its interface's zone is trusted: done, with a
# note that it still passes there (trusted sources are never banned).
pw_ctl iface set "$PW_IF_PBX" trusted >/dev/null
rc=0
pw_ctl ban add 198.18.2.97 --ttl 60 >"$PW_TMP/ctl.out" 2>"$PW_TMP/ctl.err" || rc=$?
sed 's/^/  > /' "$PW_TMP/ctl.out" "$PW_TMP/ctl.err"
pw_check_eq "ban add on a trusted interface: done" "$rc" 0
pw_check "ban add on a trusted interface: a note names the interface" \
  grep -q "note: .*$PW_IF_PBX (zone trusted)" "$PW_TMP/ctl.err"
pw_ctl --json ban add 198.18.2.97 --ttl 60 >"$PW_TMP/ban.json"
pw_check_eq "ban add on a trusted interface: --json carries the note" \
  "$(pw_json "$PW_TMP/ban.json" "'$PW_IF_PBX' in d.get('note', '')")" True
pw_ctl ban del 198.18.2.97 >/dev/null
pw_ctl iface del "$PW_IF_PBX" >/dev/null
rc=0
pw_ctl ban add 198.18.2.97 --ttl 60 >"$PW_TMP/ctl.out" 2>"$PW_TMP/ctl.err" || rc=$?
pw_check "ban add with the interface's zone internet again: no note" test "$rc" = 0 -a ! -s "$PW_TMP/ctl.err"
pw_ctl ban del 198.18.2.97 >/dev/null

# An error after the change was saved (here: stdout cannot be written) exits 3, not 1, and says
# the change stands: a script must not retry or undo a change that was made.
# to_full ARGS...: pbxwallctl ARGS with stdout on /dev/full; prints its exit status.
to_full() {
  local rc=0
  pw_ctl "$@" >/dev/full 2>"$PW_TMP/ctl.err" || rc=$?
  echo "$rc"
}
# listed bans|known ADDR: True when `pbxwallctl KIND list` holds ADDR.
listed() {
  pw_ctl --json "${1%s}" list >"$PW_TMP/listed.json"
  pw_json "$PW_TMP/listed.json" "any(e['addr'] == '$2' for e in d['$1'])"
}
pw_check_eq "ban add whose output cannot be written: exit 3" "$(to_full ban add 198.18.2.96 --ttl 60)" 3
sed 's/^/  > /' "$PW_TMP/ctl.err"
pw_check "ban add whose output cannot be written: the error says the change stands" \
  grep -q "^pbxwallctl: error: write stdout: .*the change was made: it stands" "$PW_TMP/ctl.err"
pw_check_eq "ban add whose output cannot be written: the ban is listed" "$(listed bans 198.18.2.96)" True
pw_check_eq "ban del whose output cannot be written: exit 3" "$(to_full ban del 198.18.2.96)" 3
pw_check_eq "ban del whose output cannot be written: the ban is gone" "$(listed bans 198.18.2.96)" False
pw_check_eq "known add whose output cannot be written: exit 3" "$(to_full known add 198.18.2.95 --ttl 60)" 3
pw_check_eq "known add whose output cannot be written: the address is known" "$(listed known 198.18.2.95)" True
pw_check_eq "known del whose output cannot be written: exit 3" "$(to_full known del 198.18.2.95)" 3
pw_check_eq "known del whose output cannot be written: it is known no more" "$(listed known 198.18.2.95)" False
pw_check_eq "a listing whose output cannot be written: exit 1 (nothing was changed)" "$(to_full zone list)" 1

# iface set by another of the device's names (its altname, pwalt0): one state entry for the
# device, which a reload keeps (it used to drop it as the config's name came first), and
# which iface del by the device's own name removes.
ctl_zone_of_pbx() {
  pw_ctl --json iface list >"$PW_TMP/ifz.json"
  pw_json "$PW_TMP/ifz.json" "[i['ctl_zone'] for i in d['interfaces'] if i['name'] == '$PW_IF_PBX']"
}
pw_ctl iface set pwalt0 other >/dev/null
pw_check_eq "iface set by altname: the device's ctl zone" "$(ctl_zone_of_pbx)" '["other"]'
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
pw_check_eq "iface set by altname: the ctl zone holds through a reload" "$(ctl_zone_of_pbx)" '["other"]'
pw_ctl iface set "$PW_IF_PBX" other >/dev/null
pw_check_eq "iface set by the device's name: one state entry for the device" \
  "$(grep -cE "^($PW_IF_PBX|pwalt0) " "$PW_STATE_DIR/ifaces" || true)" 1
echo "pwalt0 trusted" >>"$PW_STATE_DIR/ifaces" # as an older build left it: one entry per name used
pw_ctl iface del "$PW_IF_PBX" >/dev/null
pw_check "iface del by the device's name: the entries recorded under every name go" \
  bash -c "! grep -qE '^($PW_IF_PBX|pwalt0) ' '$PW_STATE_DIR/ifaces'"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
pw_check_eq "iface del by the device's name: no ctl zone after a reload" "$(ctl_zone_of_pbx)" '[null]'

# A signal between the map change and the saved state (Ctrl-C, a closed SSH session, a
# timeout's SIGTERM) must not split the change: pbxwallctl holds SIGINT/SIGTERM/SIGHUP from the
# lock to its end. A FIFO where the state's temporary file goes stops it in its save (the open
# waits for a reader) while SIGTERM is sent (a background job ignores SIGINT); the save
# then fails (a FIFO cannot be synced) and the maps are put back. Killed there instead, it
# would leave the entry in force and out of the state file, to vanish at the next reload.
mkfifo "$PW_STATE_DIR/zones.tmp"
nsenter --net="/var/run/netns/$PW_NS_PBX" "$PBXWALLCTL" --pin-dir "$PW_PIN_DIR" --state-dir "$PW_STATE_DIR" \
  blacklist add 198.18.66.1 >"$PW_TMP/held.out" 2>&1 & # nsenter execs: the pid is pbxwallctl's
held=$!
signals_held() { # SIGINT (bit 1), SIGHUP (0) and SIGTERM (14) in pbxwallctl's blocked mask
  local mask
  mask=$(sed -n 's/^SigBlk:[[:space:]]*//p' "/proc/$held/status" 2>/dev/null) || return 1
  [[ -n $mask ]] && (((16#$mask & 0x4003) == 0x4003))
}
for _ in $(seq 1 50); do
  signals_held && break
  sleep 0.1
done
pw_check "pbxwallctl holds SIGINT, SIGHUP and SIGTERM once it has the lock" signals_held
sleep 0.5 # on to the save, where the FIFO stops it
kill -TERM "$held" 2>/dev/null || true
sleep 0.2
timeout 5 cat "$PW_STATE_DIR/zones.tmp" >/dev/null || true # no writer: pbxwallctl died
rc=0
timeout 20 tail --pid="$held" -f /dev/null || kill -KILL "$held" 2>/dev/null || true # never hang the run
wait "$held" || rc=$?
rm -f "$PW_STATE_DIR/zones.tmp"
pw_check_eq "the command interrupted in its save ends on its own (exit 1, not killed)" "$rc" 1
pw_check "it says the maps were left unchanged" grep -q "the maps were left unchanged" "$PW_TMP/held.out"
pw_check "its entry is not in force" bash -c "! grep -q '198.18.66.1' <(nsenter --net=/var/run/netns/$PW_NS_PBX '$PBXWALLCTL' --pin-dir '$PW_PIN_DIR' --state-dir '$PW_STATE_DIR' blacklist list)"
pw_check "nor in the state file" bash -c "! grep -q '^198[.]18[.]66[.]1' '$PW_STATE_DIR/zones'"

# ---- IPv6 prefix bans: ban add/list/del name them; a change of ipv6_prefix refits them ----
prefix_bans() { # the bans of 2001:db8:77::/48 in ban list, as a JSON list of [addr, cause]
  pw_ctl --json ban list >"$PW_TMP/bansp.json"
  pw_json "$PW_TMP/bansp.json" "[[b['addr'], b['cause']] for b in d['bans'] if b['addr'].startswith('2001:db8:77:')]"
}
ctl_expect 2 "ban add of an IPv6 prefix of another length than ipv6_prefix" ban add 2001:db8:77::/48
ctl_expect 2 "ban add of an IPv4 prefix" ban add 198.18.77.0/24
pw_ctl ban add 2001:db8:77:1::/64 --ttl 600 >"$PW_TMP/ctl.out" 2>"$PW_TMP/ctl.err"
pw_check "ban add of an IPv6 /64: done" grep -q "^banned 2001:db8:77:1::/64 for 600 s" "$PW_TMP/ctl.out"
pw_check_eq "ban list shows the /64" "$(prefix_bans)" '[["2001:db8:77:1::/64", "manual"]]'
pw_check "ban add of a /64 that no zone entry of another zone overlaps: no note" test ! -s "$PW_TMP/ctl.err"
# A prefix ban holds internet sources only: one inside a zone entry of another zone says so.
pw_ctl ban add 2001:db8:3:1::/64 --ttl 600 >"$PW_TMP/ctl.out" 2>"$PW_TMP/ctl.err"
pw_check "ban add of a /64 inside the reject /48: a note says the prefix ban holds internet sources only" \
  grep -q "note: a prefix ban holds the internet-zone sources in it only; 2001:db8:3::/48 (zone reject) are judged by their zone" \
  "$PW_TMP/ctl.err"
pw_ctl ban del 2001:db8:3:1::/64 >/dev/null
pw_check "the state file keeps the /64" grep -q "^2001:db8:77:1::/64 " "$PW_STATE_DIR/bans"
ctl_expect 1 "ban del of an address in a banned /64" ban del 2001:db8:77:1::5
pw_check "ban del of an address in a banned /64: names the prefix to lift" \
  grep -q "its prefix 2001:db8:77:1::/64 is (ban del 2001:db8:77:1::/64)" "$PW_TMP/ctl.err"
ctl_expect 1 "ban add of a banned /64's first address" ban add 2001:db8:77:1::
pw_check_eq "refused commands left the /64's ban as it was" "$(prefix_bans)" '[["2001:db8:77:1::/64", "manual"]]'
# known add: refused for an address banned itself; in a banned prefix (its first address too,
# which keys the prefix's ban) accepted with a note, as the data plane spares known addresses.
for a in 2001:db8:77:1:: 2001:db8:77:1::5; do
  rc=0
  pw_ctl known add "$a" --ttl 60 >"$PW_TMP/ctl.out" 2>"$PW_TMP/ctl.err" || rc=$?
  pw_check_eq "known add $a in a banned /64: accepted" "$rc" 0
  pw_check "known add $a in a banned /64: the note names the prefix" \
    grep -q "^pbxwallctl: note: $a is in the banned prefix 2001:db8:77:1::/64: while known it passes" "$PW_TMP/ctl.err"
  pw_ctl known del "$a" >/dev/null
done
pw_ctl ban add 2001:db8:77:2::9 --ttl 600 >/dev/null
ctl_expect 1 "known add of an address banned itself" known add 2001:db8:77:2::9
pw_check "known add of an address banned itself: says so" grep -q "2001:db8:77:2::9 is banned: unban it first" "$PW_TMP/ctl.err"
pw_ctl ban del 2001:db8:77:2::9 >/dev/null
cp "$PW_CONFIG" "$PW_TMP/before-prefix.toml"
printf '\n[sip]\nipv6_prefix = 48\n' >>"$PW_CONFIG"
# A source in the banned /64 sends all through the reload: the widened ban is in the map
# before the policy that reads /48 keys is (it used to be written after: a gap of a few ms).
banned6=2001:db8:77:1::5
pw_wan_addr_add "$banned6"
pw_rx_dump "$PW_TMP/refit0.json"
pw_udp "$banned6" "$PW_PBX6" 10000 6000 2 &
flood=$!
sleep 0.5
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
wait "$flood" || pw_bad "the flood through the refit failed"
sleep 0.2
pw_rx_dump "$PW_TMP/refit1.json"
pw_check_eq "ipv6_prefix 64 -> 48: nothing from the banned /64 arrives through the reload" \
  "$(($(pw_rx_get "$PW_TMP/refit1.json" udp 10000 "$banned6") - $(pw_rx_get "$PW_TMP/refit0.json" udp 10000 "$banned6")))" 0
pw_check "ipv6_prefix 64 -> 48: the /64 ban is widened" has 'IPv6 prefix bans refitted to /48: 1 widened into 1, 0 lifted'
pw_check_eq "ipv6_prefix 64 -> 48: ban list shows the /48" "$(prefix_bans)" '[["2001:db8:77::/48", "manual"]]'
pw_check "ipv6_prefix 64 -> 48: the state file too" grep -q "^2001:db8:77::/48 " "$PW_STATE_DIR/bans"
cp "$PW_TMP/before-prefix.toml" "$PW_CONFIG"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
pw_check "ipv6_prefix 48 -> 64: the /48 ban is lifted, and logged" has 'ban of 2001:db8:77::/48 lifted'
pw_check_eq "ipv6_prefix 48 -> 64: ban list no longer shows it" "$(prefix_bans)" '[]'
pw_check "ipv6_prefix 48 -> 64: nor the state file" bash -c "! grep -q '^2001:db8:77:' '$PW_STATE_DIR/bans'"
# A refit whose state file cannot be saved (bans.tmp a directory): the new policy and the
# refitted ban are in force, and the log says so, not that the running policy is kept.
pw_ctl ban add 2001:db8:77:1::/64 --ttl 600 >/dev/null
mkdir "$PW_STATE_DIR/bans.tmp"
printf '\n[sip]\nipv6_prefix = 48\n' >>"$PW_CONFIG"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
sed 's/^/  pbxwalld: /' <<<"$out"
pw_check "a refit that cannot save: reported after the new policy is installed" \
  has 'reload complete: the new policy is installed, but refitting the IPv6 prefix bans failed'
pw_check "a refit that cannot save: not reported as a kept policy" lacks 'the running policy is kept'
pw_check_eq "a refit that cannot save: the map holds the /48" "$(prefix_bans)" '[["2001:db8:77::/48", "manual"]]'
pw_check "a refit that cannot save: the state file still holds the /64" grep -q "^2001:db8:77:1::/64 " "$PW_STATE_DIR/bans"
rmdir "$PW_STATE_DIR/bans.tmp"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
pw_check "the cause fixed, the next reload rewrites the state file" has "state file's are rewritten at /48"
pw_check "the cause fixed: the state file holds the /48" grep -q "^2001:db8:77::/48 " "$PW_STATE_DIR/bans"
pw_check "the cause fixed: and no longer the /64" bash -c "! grep -q '^2001:db8:77:1::/64 ' '$PW_STATE_DIR/bans'"
cp "$PW_TMP/before-prefix.toml" "$PW_CONFIG"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
pw_check "back to /64: the /48 is lifted" has 'ban of 2001:db8:77::/48 lifted'
pw_check_eq "back to /64: ban list no longer shows it" "$(prefix_bans)" '[]'
pw_check "back to /64: nor the state file" bash -c "! grep -q '^2001:db8:77:' '$PW_STATE_DIR/bans'"

# ---- counter slots: an interface keeps its slot whatever the config order; a slot given ----
# ---- to another interface starts from zero                                               ----
slot_of() { # the counter slot `iface list` gives NAME
  pw_ctl --json iface list >"$PW_TMP/ifl.json"
  pw_json "$PW_TMP/ifl.json" "([i['slot'] for i in d['interfaces'] if i['name'] == '$1'] or [''])[0]"
}
slot_packets() { # packets `stats` counts in slot N
  pw_stats "$PW_TMP/sl.json"
  pw_json "$PW_TMP/sl.json" "sum(c['packets'] for c in d['counters'] if c['slot'] == $1)"
}
xa=${PW_ID}x xb=${PW_ID}y
ip -n "$PW_NS_PBX" link add "$xa" type veth peer name "$xb" || pw_die "create the second veth pair"
ip -n "$PW_NS_PBX" link set "$xa" up
ip -n "$PW_NS_PBX" link set "$xb" up
frames_to() { # N non-IP frames into interface $1 (sent on its veth peer $2)
  nsenter --net="/var/run/netns/$PW_NS_PBX" "$PW_PY" -c "
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('$2', 0))
for _ in range($3):
    s.send(b'\xff' * 6 + b'\x02\x00\x00\x00\x00\x01' + b'\x88\xb5' + bytes(46))"
}
pbx_slot=$(slot_of "$PW_IF_PBX")
pbx_before=$(slot_packets "$pbx_slot")
with_extra() { # the config in force with the second interface named before the pbx interface
  "$PW_PY" - "$PW_CONFIG" "$xa" <<'PY'
import sys
path, name = sys.argv[1], sys.argv[2]
text = open(path).read()
i = text.index('[[interface]]')
open(path, 'w').write(text[:i] + '[[interface]]\nname = "%s"\nzone = "internet"\n\n' % name + text[i:])
PY
}
cp "$PW_CONFIG" "$PW_TMP/before-slots.toml"
with_extra
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
pw_check "second interface named first: reload complete" has '^.*reload complete$'
pw_check_eq "the pbx interface keeps its counter slot" "$(slot_of "$PW_IF_PBX")" "$pbx_slot"
pw_check_ge "its counters go on (packets in its slot)" "$(slot_packets "$pbx_slot")" "$pbx_before"
x_slot=$(slot_of "$xa")
pw_check "the second interface takes another slot ($x_slot)" test -n "$x_slot" -a "$x_slot" != "$pbx_slot"
frames_to "$xa" "$xb" 7
pw_check_ge "7 frames counted in the second interface's slot" "$(slot_packets "$x_slot")" 7
# Its slot, freed by a reload without it, keeps its counts until another interface takes it;
# then it starts from zero.
cp "$PW_TMP/before-slots.toml" "$PW_CONFIG"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
pw_check_eq "without the second interface: the pbx interface keeps its slot" "$(slot_of "$PW_IF_PBX")" "$pbx_slot"
pw_ctl iface set "$xb" internet >"$PW_TMP/ctl.out"
pw_check_eq "iface set on a third interface takes the freed slot" "$(slot_of "$xb")" "$x_slot"
pw_check_eq "the freed slot starts from zero for it" "$(slot_packets "$x_slot")" 0
pw_ctl iface del "$xb" >/dev/null
# A reload that re-attaches the TC egress program where the XDP one is adopted (the pbx
# interface, its filter deleted), then attaches a new interface's XDP program (named after
# it): the TC program's load must not spend the object libxdp attaches with.
ip netns exec "$PW_NS_PBX" tc filter del dev "$PW_IF_PBX" egress
pw_check_eq "the pbx interface's TC egress filter is gone" "$(pw_tc_egress | grep -c pw_tc_egress || true)" 0
printf '\n[[interface]]\nname = "%s"\nzone = "internet"\n' "$xa" >>"$PW_CONFIG"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
sed 's/^/  pbxwalld: /' <<<"$out"
pw_check "TC re-attached, then a fresh XDP attach: reload complete" has '^.*reload complete$'
pw_check "the pbx interface has its TC egress filter again" test "$(pw_tc_egress | grep -c pw_tc_egress || true)" -ge 1
pw_check "the second interface has an XDP program" bash -c "ip -n '$PW_NS_PBX' -d link show dev '$xa' | grep -q 'prog/xdp id'"
# An interface the config names that does not exist yet is attached when it appears (the
# link watch), without a reload.
late=${PW_ID}z
printf '\n[[interface]]\nname = "%s"\nzone = "internet"\n' "$late" >>"$PW_CONFIG"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
pw_check "a named interface that does not exist: not filtered until it appears" \
  has "$late: interface does not exist \\(yet\\): not filtered until it appears"
ip -n "$PW_NS_PBX" link add "$late" type veth peer name "${PW_ID}w" || pw_die "create the late veth pair"
ip -n "$PW_NS_PBX" link set "${PW_ID}w" up
ip -n "$PW_NS_PBX" link set "$late" up
pw_check "the named interface is attached when it appears" pw_wait_log "$PW_DAEMON_LOG" "$late: attached XDP program" 10
pw_check "the named interface that appeared has an XDP program" \
  bash -c "ip -n '$PW_NS_PBX' -d link show dev '$late' | grep -q 'prog/xdp id'"
pw_check "the named interface that appeared has its zone entry" test -n "$(slot_of "$late")"
# A device the config check would refuse (no Ethernet header), named while it does not exist:
# when it appears it is refused, once, and not attached (it used to be attached unchecked).
tun=${PW_ID}t
printf '\n[[interface]]\nname = "%s"\nzone = "internet"\n' "$tun" >>"$PW_CONFIG"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"
pw_check "a named tun device that does not exist yet: reload complete" has 'reload complete$'
ip -n "$PW_NS_PBX" tuntap add dev "$tun" mode tun || pw_die "create the tun device"
ip -n "$PW_NS_PBX" link set "$tun" up
pw_check "the tun device is refused when it appears" \
  pw_wait_log "$PW_DAEMON_LOG" "$tun: not attached: interface \"$tun\" is not an Ethernet device" 10
ip -n "$PW_NS_PBX" link set "$tun" down
ip -n "$PW_NS_PBX" link set "$tun" up
sleep 0.5
pw_check_eq "the refusal is logged once, not at every link change" \
  "$(grep -c "$tun: not attached" "$PW_DAEMON_LOG")" 1
pw_check "the tun device has no XDP program" bash -c "! ip -n '$PW_NS_PBX' -d link show dev '$tun' | grep -q 'prog/xdp'"
pw_check "pbxwalld still running after the tun device appeared" kill -0 "$PW_DAEMON_PID"
ip -n "$PW_NS_PBX" link del "$tun"
cp "$PW_TMP/before-slots.toml" "$PW_CONFIG"
out=$(reload) || pw_bad "pbxwalld logged no outcome within 10 s of SIGHUP"

# ---- permissions ----
pw_check_eq "pin dir mode" "$(stat -c %a "$PW_PIN_DIR")" 700
pw_check_eq "state dir mode" "$(stat -c %a "$PW_STATE_DIR")" 700
for f in zones ifaces bans; do
  if [[ -e $PW_STATE_DIR/$f ]]; then
    pw_check_eq "state file $f mode" "$(stat -c %a "$PW_STATE_DIR/$f")" 600
  else
    pw_bad "state file $f missing after pbxwallctl changes"
  fi
done
pw_check "no state file readable by others" bash -c "[[ -z \$(find '$PW_STATE_DIR' -perm /077 -type f) ]]"
# A copy of pbxwallctl that user nobody can reach whatever the build directory's modes.
install -m 0755 "$PBXWALLCTL" "$PW_TMP/pbxwallctl"
for args in "zone list" "ban list" "ban add $PW_PHONE2_4" "blacklist add $PW_PHONE2_4" "stats" "status"; do
  rc=0
  # shellcheck disable=SC2086
  setpriv --reuid=65534 --regid=65534 --clear-groups "$PW_TMP/pbxwallctl" --pin-dir "$PW_PIN_DIR" \
    --state-dir "$PW_STATE_DIR" $args >"$PW_TMP/np.out" 2>&1 || rc=$?
  pw_check_eq "unprivileged 'pbxwallctl $args': exit code" "$rc" 1
  pw_check_eq "unprivileged 'pbxwallctl $args': one line of output" "$(wc -l <"$PW_TMP/np.out")" 1
  pw_check "unprivileged 'pbxwallctl $args': mentions permission ($(head -c 120 "$PW_TMP/np.out"))" \
    grep -qi permission "$PW_TMP/np.out"
done
pw_ctl --json zone list >"$PW_TMP/zones2.json"
pw_ctl --json ban list >"$PW_TMP/bans2.json"
pw_check "unprivileged attempts left zone list unchanged" cmp -s "$PW_TMP/zones0.json" "$PW_TMP/zones2.json"
pw_check "unprivileged attempts left ban list unchanged" \
  test "$(pw_json "$PW_TMP/bans0.json" "[b['addr'] for b in d['bans']]")" = "$(pw_json "$PW_TMP/bans2.json" "[b['addr'] for b in d['bans']]")"

pw_finish
