#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# restart.sh: the filter outlives pbxwalld. A kill -9 in the middle of a flood lets none of the
# attacker's packets through; a new pbxwalld adopts the attached program instead of adding a
# second one; pbxwallctl changes survive the restart; `pbxwalld --detach` removes XDP, the TC
# egress filter and the pins, and the next start replays the state directory (a reboot).
# shellcheck disable=SC2119,SC2317,SC2001 # optional-argument helpers; checks run through pw_check
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
source "${PW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/scripts/netns.sh"
pw_init restart
pw_require_tools flock bpftool
pw_lab_up

{
  pw_config_head auto drop
  cat <<EOF

[zones]
trusted = ["$PW_TRUNK4", "$PW_TRUNK6"]
reject = ["198.18.3.0/24", "2001:db8:3::/48"]

[services.sip]
udp = ["5060"]
tcp = ["5060"]
zones = ["trusted", "local", "other", "internet"]

[services.rtp]
udp = ["10000-10099"]
zones = ["trusted", "local", "other", "internet"]
EOF
} >"$PW_CONFIG"

FLOOD_PACKETS=20000
FLOOD_SECONDS=4

pw_daemon_start
read -r mode1 prog1 < <(pw_xdp_info)
tc1=$(pw_tc_egress | sed -n 's/.* id \([0-9]*\) name pw_tc_egress.*/\1/p' | head -n1)
pw_check "XDP attached ($mode1, program id $prog1), TC egress filter id ${tc1:-none}" test "$prog1" -gt 0 -a -n "$tc1"
pw_rx_start --udp 10000 --iface "$PW_IF_PBX"

# UDP_BURST SRC COUNT: COUNT datagrams to rtp 10000 over the right family.
burst() {
  local dst=$PW_PBX4
  [[ $1 == *:* ]] && dst=$PW_PBX6
  pw_udp "$1" "$dst" 10000 "$2" 0.2
}
# received FILE SRC: datagrams the receiver got from SRC on 10000.
received() { pw_rx_get "$1" udp 10000 "$2"; }

# The checks done before the kill, after the restart and after the "reboot".
check_policy() { # LABEL
  local f=$PW_TMP/rx-$1.json before after
  pw_rx_dump "$PW_TMP/rx-$1-before.json"
  pw_stats "$PW_TMP/stats-$1-before.json"
  for src in "$PW_TRUNK4" "$PW_TRUNK6" "$PW_PHONE4" "$PW_PHONE6" "$PW_PHONE2_4" "$PW_PHONE2_6" "$PW_ATTACKER4"; do
    burst "$src" 10
  done
  sleep 0.2
  pw_rx_dump "$f"
  for src in "$PW_TRUNK4" "$PW_TRUNK6"; do
    before=$(received "$PW_TMP/rx-$1-before.json" "$src"); after=$(received "$f" "$src")
    pw_check_eq "$1: trusted trunk $src passes" "$((after - before))" 10
  done
  for src in "$PW_PHONE4" "$PW_PHONE6"; do
    before=$(received "$PW_TMP/rx-$1-before.json" "$src"); after=$(received "$f" "$src")
    pw_check_eq "$1: blacklisted phone $src is dropped" "$((after - before))" 0
  done
  before=$(received "$PW_TMP/rx-$1-before.json" "$PW_PHONE2_4"); after=$(received "$f" "$PW_PHONE2_4")
  pw_check_eq "$1: banned $PW_PHONE2_4 is dropped" "$((after - before))" 0
  pw_stats "$PW_TMP/stats-$1.json"
  pw_check_eq "$1: stats count its 10 datagrams as banned" \
    "$(pw_stat_delta "$PW_TMP/stats-$1-before.json" "$PW_TMP/stats-$1.json" banned internet)" 10
  pw_check_eq "$1: stats count the 30 datagrams of the phone (v4, v6) and the attacker as reject" \
    "$(pw_stat_delta "$PW_TMP/stats-$1-before.json" "$PW_TMP/stats-$1.json" reject reject)" 30
  before=$(received "$PW_TMP/rx-$1-before.json" "$PW_PHONE2_6"); after=$(received "$f" "$PW_PHONE2_6")
  pw_check_eq "$1: $PW_PHONE2_6 (not banned, zone internet) passes" "$((after - before))" 10
  pw_check_eq "$1: attacker $PW_ATTACKER4 is dropped" "$(received "$f" "$PW_ATTACKER4")" 0
  pw_ctl --json blacklist list >"$PW_TMP/bl-$1.json"
  pw_ctl --json ban list >"$PW_TMP/ban-$1.json"
  pw_check_eq "$1: blacklist list shows the phone" \
    "$(pw_json "$PW_TMP/bl-$1.json" "sorted(z['cidr'] for z in d['zones'] if z['origin'] != 'config')")" \
    "[\"$PW_PHONE4\", \"$PW_PHONE6\"]"
  pw_check_eq "$1: ban list shows $PW_PHONE2_4" \
    "$(pw_json "$PW_TMP/ban-$1.json" "[b['addr'] for b in d['bans'] if b['addr'].startswith('198.18.2.')]")" \
    "[\"$PW_PHONE2_4\"]"
}

# ---- pbxwallctl changes: blacklist the phone, ban a second address ----
pw_ctl blacklist add "$PW_PHONE4" "$PW_PHONE6" >/dev/null
pw_ctl ban add "$PW_PHONE2_4" --ttl 600 >/dev/null
check_policy "before the kill"

# ---- kill -9 in the middle of the attacker's flood ----
pw_stats "$PW_TMP/stats0.json"
pw_rx_dump "$PW_TMP/rx-flood0.json"
pw_log "flood: $FLOOD_PACKETS datagrams from $PW_ATTACKER4 over ${FLOOD_SECONDS}s, trunk sends 400 alongside"
ip netns exec "$PW_NS_WAN" "$PW_PY" "$PW_NETTOOL" udp --src "$PW_ATTACKER4" --dst "$PW_PBX4" --port 10000 \
  --count "$FLOOD_PACKETS" --seconds "$FLOOD_SECONDS" --max-seconds 20 >"$PW_TMP/flood.txt" &
flood=$!
pw_track "$flood"
ip netns exec "$PW_NS_WAN" "$PW_PY" "$PW_NETTOOL" udp --src "$PW_TRUNK4" --dst "$PW_PBX4" --port 10000 \
  --count 400 --seconds "$FLOOD_SECONDS" --max-seconds 20 >/dev/null &
trunk=$!
pw_track "$trunk"
sleep 1.5
killed=$PW_DAEMON_PID
pw_daemon_stop KILL
pw_check "pbxwalld (pid $killed) is gone after kill -9" bash -c "! kill -0 $killed 2>/dev/null"
read -r mode2 prog2 < <(pw_xdp_info)
pw_check_eq "while pbxwalld is dead, ip link shows the same XDP program" "$mode2 $prog2" "$mode1 $prog1"
wait "$flood" || pw_bad "the flood generator failed"
wait "$trunk" || pw_bad "the trunk generator failed"
sleep 0.3
pw_rx_dump "$PW_TMP/rx-flood1.json"
pw_stats "$PW_TMP/stats1.json"
sent=$(pw_json "$PW_TMP/flood.txt" "d['sent']")
pw_check_eq "the flood sent every datagram" "$sent" "$FLOOD_PACKETS"
pw_check_eq "receiver got none of the attacker's datagrams during/after the kill" "$(received "$PW_TMP/rx-flood1.json" "$PW_ATTACKER4")" 0
pw_check_eq "no frame from the attacker behind XDP" "$(pw_rx_from "$PW_TMP/rx-flood1.json" "$PW_ATTACKER4")" 0
pw_check_eq "the trunk's 400 datagrams sent during the kill all arrived" \
  "$(($(received "$PW_TMP/rx-flood1.json" "$PW_TRUNK4") - $(received "$PW_TMP/rx-flood0.json" "$PW_TRUNK4")))" 400
pw_check_ge "stats: every flood datagram counted as a reject drop" "$(pw_stat_delta "$PW_TMP/stats0.json" "$PW_TMP/stats1.json" reject reject)" "$FLOOD_PACKETS"

# ---- restart: adopt, never duplicate ----
pw_daemon_start
pw_check "the new pbxwalld logs that it adopted the attached program" grep -q "adopted attached XDP program id $prog1" "$PW_DAEMON_LOG"
read -r mode3 prog3 < <(pw_xdp_info)
pw_check_eq "after the restart, the XDP program id is unchanged" "$mode3 $prog3" "$mode1 $prog1"
pw_check_eq "exactly one XDP program on the interface" \
  "$(ip -n "$PW_NS_PBX" -d link show dev "$PW_IF_PBX" | grep -c 'prog/xdp')" 1
pw_check_eq "exactly one TC egress filter, the same one" "$(pw_tc_egress | grep -c 'name pw_tc_egress') $(pw_tc_egress | sed -n 's/.* id \([0-9]*\) name pw_tc_egress.*/\1/p')" "1 $tc1"
check_policy "after the restart"
# The adopted program is this build's: the host tables are fitted to the lab's few entries (a
# program that predates pw_gen_state.host_shrink would keep them at their full [limits] size).
bpftool -j map dump pinned "$PW_PIN_DIR/pw_gen" >"$PW_TMP/gen.json"
pw_check_eq "after the restart, the active IPv4 host half is fitted to its entries (halved 13 times)" \
  "$(pw_json "$PW_TMP/gen.json" "(lambda v: (v['host_shrink'] >> (8 * v['hosts'])) & 31)(d[0]['formatted']['value'])")" 13
pw_check "no warning of an older program" bash -c "! grep -q 'the host tables stay at their full' '$PW_DAEMON_LOG'"

# An older program that uses the maps (one built before host_shrink, as after an upgrade that
# adopted it; here a stand-in loaded against the pinned pw_gen, never attached): a reload keeps
# the host tables whole and says why; once it is gone, the next reload fits them again.
hup_and_wait() { # WHAT: SIGHUP, then wait for "reload complete" in the log lines after it
  local before
  before=$(wc -l <"$PW_DAEMON_LOG")
  kill -HUP "$PW_DAEMON_PID"
  for _ in $(seq 1 100); do
    tail -n +"$((before + 1))" "$PW_DAEMON_LOG" | grep -q 'reload complete' && return 0
    sleep 0.1
  done
  pw_bad "$1: no 'reload complete' within 10 s"
  return 1
}
active_shrink() {
  bpftool -j map dump pinned "$PW_PIN_DIR/pw_gen" >"$PW_TMP/gen.json"
  pw_json "$PW_TMP/gen.json" "(lambda v: (v['host_shrink'] >> (8 * v['hosts'])) & 31)(d[0]['formatted']['value'])"
}
[[ -f ${PW_OLDER_GEN_OBJ:-} ]] || pw_die "PW_OLDER_GEN_OBJ (the build's bpf/older_gen.bpf.o) is missing"
bpftool prog load "$PW_OLDER_GEN_OBJ" "$PW_PIN_DIR/older_prog" type xdp map name pw_gen pinned "$PW_PIN_DIR/pw_gen" ||
  pw_die "load the older stand-in program against the pinned pw_gen"
hup_and_wait "reload with an older program"
pw_check_eq "with an older program using the maps, the reload leaves the IPv4 host half whole" "$(active_shrink)" 0
pw_check "pbxwalld names the older program" grep -q "pw_older_xdp.* predate(s) this pbxwalld: the host tables stay at their full" "$PW_DAEMON_LOG"
check_policy "with the host tables whole"
rm -f "$PW_PIN_DIR/older_prog"
# The kernel frees the program after a grace period: wait until it is no longer listed.
for _ in $(seq 1 50); do
  bpftool prog show name pw_older_xdp 2>/dev/null | grep -q . || break
  sleep 0.1
done
hup_and_wait "reload once it is gone"
pw_check_eq "once the older program is gone, the next reload fits the host half again" "$(active_shrink)" 13
check_policy "with the host tables fitted again"

# ---- a ban expiring while pbxwallctl holds the lock must not undo that pbxwallctl's change ----
# pbxwalld sweeps expired bans every 5 s and then rewrites the bans file. The holder below does
# what a long pbxwallctl command does: under the pin directory lock, it rewrites the bans file
# with one more ban. pbxwalld must read the file under the same lock, or its save overwrites that
# ban (a lost update: the ban would vanish at the next reboot).
# The lock is taken before the ban ends (1 s) and held 6.5 s: a sweep (every 5 s) falls while
# the ban has ended and the lock is held, whatever the sweep's phase.
pw_ctl ban add 198.18.2.98 --ttl 1 >/dev/null
flock -x "$PW_PIN_DIR" bash -c "sleep 6.5; { cat '$PW_STATE_DIR/bans'; echo '2001:db8:f::1 never $(date +%s) 0'; } >'$PW_STATE_DIR/bans.new'; mv '$PW_STATE_DIR/bans.new' '$PW_STATE_DIR/bans'"
pw_check "the ban sweep ran (ban expired: 198.18.2.98)" pw_wait_log "$PW_DAEMON_LOG" 'ban expired: 198[.]18[.]2[.]98' 6
no_ban_in_state() { # the state is saved right after the log line
  local i
  for ((i = 0; i < 20; i++)); do
    grep -q '^198[.]18[.]2[.]98 ' "$PW_STATE_DIR/bans" || return 0
    sleep 0.1
  done
  return 1
}
pw_check "the sweep removed the expired ban from the state" no_ban_in_state
pw_check "the sweep kept the ban committed under the lock" grep -q '^2001:db8:f::1 never ' "$PW_STATE_DIR/bans"

# ---- a ban in force whose event never reached pbxwalld (the ring full, a failed save) ----
# Written into pw_bans behind pbxwalld's back (cause trap_port, no expiry): the next sweep
# records it in the state file, so that a reboot keeps it.
bpftool map update pinned "$PW_PIN_DIR/pw_bans" \
  key hex 00 00 00 00 00 00 00 00 00 00 ff ff c6 12 02 61 \
  value hex 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 ||
  pw_die "write a ban into pw_bans"
pw_check "the sweep records a ban the event log missed" pw_wait_log "$PW_DAEMON_LOG" '1 bans in force were missing from' 8
pw_check "the state file holds it" grep -q '^198[.]18[.]2[.]97 never [0-9]* 2' "$PW_STATE_DIR/bans"
pw_ctl ban del 198.18.2.97 >/dev/null
# A ban the file holds, lengthened by the data plane (a trap port hit again) whose event was
# lost: the sweep takes the map's end (here none), not the file's.
pw_ctl ban add 198.18.2.95 --ttl 600 >/dev/null
pw_check "ban add records its end" grep -q '^198[.]18[.]2[.]95 [1-9][0-9]* [0-9]* 0' "$PW_STATE_DIR/bans"
bpftool map update pinned "$PW_PIN_DIR/pw_bans" \
  key hex 00 00 00 00 00 00 00 00 00 00 ff ff c6 12 02 5f \
  value hex 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 ||
  pw_die "lengthen a ban in pw_bans"
second_record() { # the line above, logged once more
  local i
  for ((i = 0; i < 80; i++)); do
    [ "$(grep -c 'bans in force were missing from .*, or ended earlier there' "$PW_DAEMON_LOG")" -ge 2 ] && return 0
    sleep 0.1
  done
  return 1
}
pw_check "the sweep records a ban the data plane lengthened" second_record
pw_check "the state file holds its new end" grep -q '^198[.]18[.]2[.]95 never [0-9]* 2' "$PW_STATE_DIR/bans"
pw_ctl ban del 198.18.2.95 >/dev/null

# ---- detach (as before a reboot), then a fresh start replays state_dir ----
# Not while pbxwalld runs: it would go on, reported active, with nothing attached.
rc=0
pw_pbxwalld --detach -c "$PW_CONFIG" >"$PW_TMP/detach-running.log" 2>&1 || rc=$?
pw_check_eq "--detach while pbxwalld runs: refused" "$rc" 1
pw_check "--detach while pbxwalld runs: says to stop it first" \
  grep -q "a pbxwalld is running with state_dir .*: stop it first" "$PW_TMP/detach-running.log"
read -r mode4 prog4 < <(pw_xdp_info)
pw_check "--detach while pbxwalld runs: the program stays attached ($mode4 $prog4)" test "$prog4" != 0
pw_check "--detach while pbxwalld runs: the pins stay" test -e "$PW_PIN_DIR/pw_gen"
# Known sources (registered phones) are kept for a reboot: the PBX keeps its registrations, and
# its phones would be unknown until their refresh. One that expires before the reboot is not.
pw_ctl known add 198.18.7.77 --ttl 600 >/dev/null
pw_ctl known add "$PW_PHONE2_6" --ttl 900 >/dev/null
pw_ctl known add 198.18.7.78 --ttl 1 >/dev/null
pw_check "known add writes the state file" grep -q "^$PW_PHONE2_6 [0-9]* [0-9]*\$" "$PW_STATE_DIR/known"
sleep 1.5
pw_daemon_stop TERM
pw_check "SIGTERM: pbxwalld logs that the filter stays" grep -q "the filter stays attached" "$PW_DAEMON_LOG"
pw_check "SIGTERM: the state file keeps the known sources" grep -q '^198[.]18[.]7[.]77 ' "$PW_STATE_DIR/known"
pw_check "SIGTERM: but not the expired one" bash -c "! grep -q '^198[.]18[.]7[.]78 ' '$PW_STATE_DIR/known'"
# A ban the data plane sets while no pbxwalld runs (the filter stays attached and enforcing):
# written into pw_bans behind its back (cause trap_port, no expiry), as the data plane would.
bpftool map update pinned "$PW_PIN_DIR/pw_bans" \
  key hex 00 00 00 00 00 00 00 00 00 00 ff ff c6 12 06 60 \
  value hex 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 ||
  pw_die "write a ban into pw_bans"
if pw_pbxwalld --detach -c "$PW_CONFIG" >"$PW_TMP/detach.log" 2>&1; then pw_ok "pbxwalld --detach exits 0"
else pw_bad "pbxwalld --detach failed"; cat "$PW_TMP/detach.log"; fi
read -r mode4 prog4 < <(pw_xdp_info)
pw_check "--detach writes the known sources first" grep -q "2 known source(s) kept in" "$PW_TMP/detach.log"
pw_check "--detach records the ban set while pbxwalld was stopped" \
  grep -q "1 ban(s) the data plane set or lengthened since pbxwalld stopped kept in" "$PW_TMP/detach.log"
pw_check "the state file holds it" grep -q '^198[.]18[.]6[.]96 never [0-9]* 2' "$PW_STATE_DIR/bans"
pw_check_eq "after --detach, no XDP program on the interface" "$mode4 $prog4" "none 0"
pw_check_eq "after --detach, no TC egress filter" "$(pw_tc_egress | grep -c pw_tc_egress || true)" 0
pw_check "after --detach, the pin directory is gone" test ! -e "$PW_PIN_DIR"
pw_check "after --detach, the state directory is kept" test -s "$PW_STATE_DIR/zones" -a -s "$PW_STATE_DIR/bans"
pw_rx_dump "$PW_TMP/rx-open0.json"
burst "$PW_PHONE4" 10
sleep 0.2
pw_rx_dump "$PW_TMP/rx-open1.json"
pw_check_eq "with the filter removed, the phone's datagrams arrive (the detach is real)" \
  "$(($(received "$PW_TMP/rx-open1.json" "$PW_PHONE4") - $(received "$PW_TMP/rx-open0.json" "$PW_PHONE4")))" 10

# A link-local prefix ban, as a build before 2026-12-06 could write: it bans nothing now (such
# sources are banned by address), so the start lifts it, from the map and from the file.
echo "fe80::/64 never $(date +%s) 2" >>"$PW_STATE_DIR/bans"
# The config lists first a device that cannot take the program in native mode (a bridge): its
# failure at start must not leave the interfaces after it unfiltered, nor end the daemon (it
# used to stop the start there, with the policy installed and the veth bare).
bridge=${PW_ID}b
nsenter --net="/var/run/netns/$PW_NS_PBX" ip link add "$bridge" type bridge
nsenter --net="/var/run/netns/$PW_NS_PBX" ip link set "$bridge" up
cp "$PW_CONFIG" "$PW_TMP/no-bridge.toml"
awk -v b="$bridge" '/^\[\[interface\]\]/ && !done { print "[[interface]]\nname = \"" b "\"\nzone = \"internet\"\nxdp_mode = \"native\"\n"; done = 1 } { print }' \
  "$PW_TMP/no-bridge.toml" >"$PW_CONFIG"
pw_daemon_start
read -r mode5 prog5 < <(pw_xdp_info)
pw_check "the fresh start attached a new XDP program ($mode5, id $prog5)" test "$prog5" -gt 0 -a "$prog5" != "$prog1"
pw_check "the fresh start names the bridge it could not attach" grep -q "$bridge: not attached" "$PW_DAEMON_LOG"
pw_check "the fresh start says which interface is not filtered" \
  grep -q "1 interface(s) are not filtered: $bridge" "$PW_DAEMON_LOG"
pw_check "pbxwalld runs on after the failed attach" kill -0 "$PW_DAEMON_PID"
cp "$PW_TMP/no-bridge.toml" "$PW_CONFIG"
nsenter --net="/var/run/netns/$PW_NS_PBX" ip link del "$bridge"
pw_check "the fresh start did not adopt anything" bash -c "! grep -q adopted '$PW_DAEMON_LOG'"
pw_check "the fresh start restored the 4 bans from the state directory" grep -q "restored 4 bans" "$PW_DAEMON_LOG"
pw_check "the fresh start lifted the link-local prefix ban" \
  grep -q "ban of fe80::/64 lifted: link-local sources are banned by address" "$PW_DAEMON_LOG"
pw_check "the state file no longer holds it" bash -c "! grep -q '^fe80::' '$PW_STATE_DIR/bans'"
pw_check "the fresh start installed the 2 pbxwallctl zone entries" grep -q "(2 from pbxwallctl)" "$PW_DAEMON_LOG"
check_policy "after the reboot"
pw_check "the fresh start replayed the 2 known sources" grep -q "2 known source(s) replayed" "$PW_DAEMON_LOG"
pw_ctl --json known list >"$PW_TMP/known-reboot.json"
pw_check_eq "after the reboot, the known sources and what is left of their time" \
  "$(pw_json "$PW_TMP/known-reboot.json" "sorted((k['addr'], 500 < k['remaining'] <= 600 if k['addr'] == '198.18.7.77' else 800 < k['remaining'] <= 900) for k in d['known'])")" \
  "[[\"198.18.7.77\", true], [\"$PW_PHONE2_6\", true]]"
# The data plane takes the replayed phone for known (its filter bit is set): its OPTIONS counts
# as sip_known, not against the small budget of unknown sources.
pw_stats "$PW_TMP/stats-known0.json"
pw_in_wan "$PW_PY" "$PW_NETTOOL" udp --src "$PW_PHONE2_6" --dst "$PW_PBX6" --port 5060 --count 1 --seconds 0 \
  --max-seconds 10 --payload $'OPTIONS sip:100@pbx SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n' >/dev/null
sleep 0.2
pw_stats "$PW_TMP/stats-known1.json"
pw_check_eq "after the reboot, the replayed phone's SIP is a known source's" \
  "$(pw_stat_delta "$PW_TMP/stats-known0.json" "$PW_TMP/stats-known1.json" sip_known)" 1
pw_ctl known del "$PW_PHONE2_6" >/dev/null
pw_check "known del takes it out of the state file" bash -c "! grep -q '^$PW_PHONE2_6 ' '$PW_STATE_DIR/known'"
pw_check_eq "after the reboot, the ban committed during the sweep and the one set while stopped are in force" \
  "$(pw_json "$PW_TMP/ban-after the reboot.json" "sorted(b['addr'] for b in d['bans'] if b['addr'] in ('2001:db8:f::1', '198.18.6.96'))")" \
  '["198.18.6.96", "2001:db8:f::1"]'

# ---- a pinned map that another pbxwall build made (another layout): a clear refusal ----
pw_daemon_stop TERM
# bpffs cannot rename: unpin pw_gen (the attached program keeps it alive), pin it again after.
gen_id=$(bpftool map show pinned "$PW_PIN_DIR/pw_gen" | sed -n '1s/^\([0-9]*\):.*/\1/p')
pw_check "pw_gen's map id ($gen_id)" test -n "$gen_id"
rm "$PW_PIN_DIR/pw_gen"
bpftool map create "$PW_PIN_DIR/pw_gen" type array key 4 value 32 entries 1 name pw_gen
# start_status LOG: the exit status of a pbxwalld start, its output in LOG. One that wrongly
# starts runs on: its timeout (exit 124) is no refusal.
start_status() {
  local rc=0
  timeout 30 nsenter --net="/var/run/netns/$PW_NS_PBX" "$PBXWALLD" -c "$PW_CONFIG" >"$1" 2>&1 || rc=$?
  echo "$rc"
}
pw_check_eq "pbxwalld refuses a pinned pw_gen of another layout (exit 1)" "$(start_status "$PW_TMP/layout.log")" 1
pw_check "the refusal names the map, both layouts and --detach" \
  grep -q "pw_gen has keys of 4 and values of 32 bytes, but this pbxwalld needs 4 and [0-9][0-9]* .*pbxwalld --detach" \
  "$PW_TMP/layout.log"
rm "$PW_PIN_DIR/pw_gen"
bpftool map pin id "$gen_id" "$PW_PIN_DIR/pw_gen"
read -r mode6 prog6 < <(pw_xdp_info)
pw_check_eq "the filter stays attached through the refusal" "$prog6" "$prog5"
pw_daemon_start
pw_check "with its own pw_gen back, pbxwalld starts and adopts the program" grep -q adopted "$PW_DAEMON_LOG"

# ---- the same sizes in another layout: told apart by the BTF types the kernel keeps ----
# The stand-in object's maps, pinned in place of pbxwalld's: its pw_gen has `pad` where
# host_shrink is (accepted: padding given a use), its pw_fails the two counts swapped.
pw_daemon_stop TERM
fails_id=$(bpftool map show pinned "$PW_PIN_DIR/pw_fails" | sed -n '1s/^\([0-9]*\):.*/\1/p')
pw_check "pw_fails' map id ($fails_id)" test -n "$fails_id"
rm "$PW_PIN_DIR/pw_gen" "$PW_PIN_DIR/pw_fails"
bpftool prog load "$PW_OLDER_GEN_OBJ" "$PW_PIN_DIR/other_build" type xdp pinmaps "$PW_PIN_DIR" ||
  pw_die "load the stand-in with its maps pinned"
pw_check_eq "pbxwalld refuses a pinned pw_fails of the same sizes in another layout (exit 1)" \
  "$(start_status "$PW_TMP/btf.log")" 1
pw_check "the refusal names pw_fails, where the layouts differ, and --detach" \
  grep -q "pw_fails has another layout than this pbxwalld's (value pw_fail.challenges: at bit 64 there, 96 here).*pbxwalld --detach" \
  "$PW_TMP/btf.log"
pw_check "pw_gen's older layout (pad where host_shrink is) passed: it is checked first" \
  bash -c "! grep -q 'pw_gen has another layout' '$PW_TMP/btf.log'"
rc=0
pw_ctl stats >"$PW_TMP/btf-ctl.log" 2>&1 || rc=$?
pw_check_eq "pbxwallctl refuses the same maps (exit 1)" "$rc" 1
pw_check "pbxwallctl names pw_fails and says the versions differ" \
  grep -q "pinned map pw_fails has another layout than this pbxwallctl's (value pw_fail.challenges: at bit 64 .*different versions" \
  "$PW_TMP/btf-ctl.log"
rm "$PW_PIN_DIR/pw_gen" "$PW_PIN_DIR/pw_fails" "$PW_PIN_DIR/other_build"
bpftool map pin id "$gen_id" "$PW_PIN_DIR/pw_gen"
bpftool map pin id "$fails_id" "$PW_PIN_DIR/pw_fails"
read -r mode7 prog7 < <(pw_xdp_info)
pw_check_eq "the filter stays attached through both refusals" "$prog7" "$prog5"
pw_daemon_start
pw_check "with its own maps back, pbxwalld starts and adopts the program" grep -q adopted "$PW_DAEMON_LOG"

# ---- a [limits] size changed while pbxwalld was stopped: the pinned map was made for the ----
# ---- old one; the refusal names the map and both sizes (pw_known and pw_fails included)  ----
pw_daemon_stop TERM
cp "$PW_CONFIG" "$PW_TMP/limits-before.toml"
for limit in "fails = 2048" "known = 4096"; do
  cp "$PW_TMP/limits-before.toml" "$PW_CONFIG"
  printf '\n[limits]\n%s\n' "$limit" >>"$PW_CONFIG"
  map=pw_${limit%% *}
  pw_check_eq "pbxwalld refuses [limits] $limit against the pinned $map (exit 1)" \
    "$(start_status "$PW_TMP/limits.log")" 1
  pw_check "the refusal names $map, both sizes and --detach" \
    grep -q "pinned map .*/$map\(bits\)\? has [0-9]* entries but \[limits\] $limit makes it [0-9]*: restore the old limit, or run pbxwalld --detach" \
    "$PW_TMP/limits.log"
done
# ---- state_dir changed while pbxwalld was stopped: the pinned policy holds pbxwallctl's ----
# ---- entries, which the new, empty state_dir does not: refused, not silently dropped     ----
sed "s|^state_dir = .*|state_dir = \"$PW_TMP/state-moved\"|" "$PW_TMP/limits-before.toml" >"$PW_CONFIG"
pw_check_eq "pbxwalld refuses an empty state_dir beside pins with pbxwallctl's entries (exit 1)" \
  "$(start_status "$PW_TMP/moved.log")" 1
pw_check "the refusal says the pins hold pbxwallctl's entries and what to do" \
  grep -q "holds [0-9]* entries pbxwallctl made, but state_dir $PW_TMP/state-moved has no zones or ifaces file.*move its files there" \
  "$PW_TMP/moved.log"
cp "$PW_TMP/limits-before.toml" "$PW_CONFIG"
pw_daemon_start
pw_check "with the old limits back, pbxwalld starts and adopts the program" grep -q adopted "$PW_DAEMON_LOG"
pw_check "and the old state_dir: its pbxwallctl entries are installed" grep -q "(2 from pbxwallctl)" "$PW_DAEMON_LOG"

# ---- a start whose refit of the IPv6 prefix bans cannot save the state file (bans.tmp a ----
# ---- directory: a full or read-only /var): logged, and pbxwalld runs on (it used to fail ----
# ---- the start, and systemd to restart it over and over)                                 ----
pw_daemon_stop TERM
echo "fe80::/64 never $(date +%s) 2" >>"$PW_STATE_DIR/bans" # lifted by the refit, which then saves
mkdir "$PW_STATE_DIR/bans.tmp"
pw_daemon_start
pw_check "a start whose refit cannot save: pbxwalld runs" kill -0 "$PW_DAEMON_PID"
pw_check "it logs that the refit failed, and that the bans in force are kept" \
  grep -q "refitting the IPv6 prefix bans failed (.*); the bans in force are kept" "$PW_DAEMON_LOG"
rmdir "$PW_STATE_DIR/bans.tmp"

# ---- a SIGHUP while pbxwalld loads its config waits for the start (it used to kill it, ----
# ---- which systemd takes for a clean exit). The config is a FIFO: the load waits for it ----
pw_daemon_stop TERM
fifo=$PW_TMP/config.fifo
mkfifo "$fifo"
nsenter --net="/var/run/netns/$PW_NS_PBX" "$PBXWALLD" -c "$fifo" >"$PW_TMP/fifo.log" 2>&1 &
fifo_pid=$!
pw_track "$fifo_pid"
sleep 0.5
kill -HUP "$fifo_pid"
sleep 0.3
pw_check "a SIGHUP while the config loads: pbxwalld still runs" kill -0 "$fifo_pid"
timeout 10 cp "$PW_CONFIG" "$fifo" || pw_bad "pbxwalld did not read its config"
pw_check "a SIGHUP while the config loads: then pbxwalld starts" pw_wait_log "$PW_TMP/fifo.log" 'pbxwalld running' 10
timeout 10 cp "$PW_CONFIG" "$fifo" || pw_bad "pbxwalld did not read its config again for the reload"
pw_check "a SIGHUP while the config loads: it reloads once started" pw_wait_log "$PW_TMP/fifo.log" 'reload complete' 10
pw_stop "$fifo_pid" TERM

# ---- a ban table made smaller than the bans in force (--detach, [limits] bans lowered): the ----
# ---- start keeps those that end last (the two permanent ones) and goes on, not failed    ----
pw_pbxwalld --detach -c "$PW_CONFIG" >"$PW_TMP/detach2.log" 2>&1 || pw_bad "the second --detach failed"
printf '\n[limits]\nbans = 2\n' >>"$PW_CONFIG"
pw_daemon_start
pw_check "a start into a ban table too small: pbxwalld runs" kill -0 "$PW_DAEMON_PID"
pw_check "it says how many bans were not restored, and why" \
  grep -q "of the bans in state_dir/bans not restored: pw_bans is full (raise \[limits\] bans); those that end last were kept" \
  "$PW_DAEMON_LOG"
pw_ctl --json ban list >"$PW_TMP/ban-small.json"
pw_check_eq "the permanent bans were kept" \
  "$(pw_json "$PW_TMP/ban-small.json" "sorted(b['addr'] for b in d['bans'])")" '["198.18.6.96", "2001:db8:f::1"]'
read -r mode8 prog8 < <(pw_xdp_info)
pw_check "and the filter is attached ($mode8 $prog8)" test "$prog8" -gt 0

[[ -n ${PW_SHOW_LOGS:-} ]] && cat "$PW_TMP"/pbxwalld.*.log
pw_finish
