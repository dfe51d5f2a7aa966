#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# sip_bans.sh: bans the data plane sets on its own, end to end: a trap port touched by an
# unknown source and a SIP flood over the responsive budget. Each ban stops the source's next
# packets, is logged by pbxwalld in its stable "pbxwall ban:" format, shows in pbxwallctl
# ban list with its cause, is recorded in state_dir, and survives a detach + start (a reboot).
# shellcheck disable=SC2119,SC2317,SC2001 # optional-argument helpers; checks run through pw_check
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
source "${PW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/scripts/netns.sh"
pw_init sip_bans
pw_require_tools
pw_lab_up

# The phone addresses act as two unknown Internet sources here (no zone rule names them).
{
  pw_config_head native drop
  cat <<EOF

[zones]
trusted = ["$PW_TRUNK4", "$PW_TRUNK6"]

[services.sip]
udp = ["5070"]
zones = ["trusted", "local", "other", "internet"]

[sip]
rate = 5
period = 60
burst = 2
ban_after = 5
ban_seconds = 600
trap_ports = ["5060"]
EOF
} >"$PW_CONFIG"

pw_daemon_start
pw_rx_start --udp 5070 --udp 5060 --iface "$PW_IF_PBX"

# sip_udp SRC DST COUNT: COUNT OPTIONS requests to the SIP port (the guards drop what is not SIP).
sip_udp() {
  pw_in_wan "$PW_PY" "$PW_NETTOOL" udp --src "$1" --dst "$2" --port 5070 --count "$3" --max-seconds 30 \
    --payload $'OPTIONS sip:100@pbx SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n' >/dev/null
}

# ---- the trap: one datagram from the IPv6 phone to the old well-known port ----
pw_udp "$PW_PHONE6" "$PW_PBX6" 5060 1
pw_check "pbxwalld logs the trap-port ban" pw_wait_log "$PW_DAEMON_LOG" "pbxwall ban: addr=$PW_PHONE6_NET cause=trap_port seconds=600"
# ... and its SIP to the real port is dropped from now on, as is everything from its /64 (the
# second phone's too: the data plane bans an IPv6 source with its /64).
sip_udp "$PW_PHONE6" "$PW_PBX6" 5
sip_udp "$PW_PHONE2_6" "$PW_PBX6" 3

# ---- the trunk is trusted: the trap does not ban it ----
pw_udp "$PW_TRUNK4" "$PW_PBX4" 5060 3

# ---- a flood over the responsive budget: 40 OPTIONS from the IPv4 phone ----
sip_udp "$PW_PHONE4" "$PW_PBX4" 40
pw_check "pbxwalld logs the rate-limit ban" pw_wait_log "$PW_DAEMON_LOG" "pbxwall ban: addr=$PW_PHONE4 cause=rate_limit seconds=600"
sip_udp "$PW_PHONE4" "$PW_PBX4" 5
sleep 0.5
pw_rx_dump "$PW_TMP/rx.json"

# burst 2 + 1 pass, then 5 over-budget drops ban; nothing after the ban.
pw_check_eq "receiver: SIP datagrams from the flooding phone (burst + 1)" "$(pw_rx_get "$PW_TMP/rx.json" udp 5070 "$PW_PHONE4")" 3
pw_check_eq "receiver: datagrams from the trapped phone" "$(pw_rx_from "$PW_TMP/rx.json" "$PW_PHONE6")" 0
pw_check_eq "receiver: datagrams from the other phone of its /64" "$(pw_rx_from "$PW_TMP/rx.json" "$PW_PHONE2_6")" 0
pw_check_eq "receiver: the trusted trunk's datagrams to the trap port" "$(pw_rx_get "$PW_TMP/rx.json" udp 5060 "$PW_TRUNK4")" 3

pw_stats "$PW_TMP/stats.json"
pw_check_eq "stats: trap_port drops" "$(pw_stat "$PW_TMP/stats.json" trap_port)" 1
pw_check_ge "stats: rate_limited drops" "$(pw_stat "$PW_TMP/stats.json" rate_limited)" 5
pw_check_ge "stats: banned drops after the bans" "$(pw_stat "$PW_TMP/stats.json" banned)" $((5 + 3 + 40 - 8 + 5))

pw_ctl --json ban list >"$PW_TMP/bans.json"
pw_check_eq "pbxwallctl ban list: causes" \
  "$(pw_json "$PW_TMP/bans.json" "sorted([b['addr'], b['cause']] for b in d['bans'])")" \
  "[[\"$PW_PHONE4\", \"rate_limit\"], [\"$PW_PHONE6_NET\", \"trap_port\"]]"
pw_check "state_dir/bans records both bans" bash -c "grep -q '^$PW_PHONE4 ' '$PW_STATE_DIR/bans' && grep -q '^$PW_PHONE6_NET ' '$PW_STATE_DIR/bans'"

# ---- pbxwalld puts the bans the data plane set into the ban cache (within a second); the ----
# ---- cache holds bans of addresses, not the IPv6 phone's /64 (pw_bans answers for it)    ----
cached_bans() { pw_ctl --json status >"$PW_TMP/status.json" && pw_json "$PW_TMP/status.json" "d['entries']['bans']['cached']"; }
cached=0
for _ in $(seq 1 8); do # pbxwalld's 5 s sweep rebuilds the cache too: look sooner than that
  if [[ $(cached_bans) == 1 ]]; then cached=1; break; fi
  sleep 0.25
done
pw_check_eq "status: the IPv4 phone's data-plane ban is in the ban cache within 2 s" "$cached" 1

# ---- a reboot: the filter and its maps go, the state stays ----
pw_daemon_stop
pw_pbxwalld --detach -c "$PW_CONFIG" >/dev/null 2>&1
pw_daemon_start
pw_ctl --json ban list >"$PW_TMP/bans2.json"
pw_check_eq "after detach + start, both bans are back" \
  "$(pw_json "$PW_TMP/bans2.json" "sorted(b['addr'] for b in d['bans'])")" "[\"$PW_PHONE4\", \"$PW_PHONE6_NET\"]"

# ---- ban del lifts a ban at once: pbxwalld put both bans in the ban cache when it started,
# and pbxwallctl rebuilds the cache without the lifted one ----
sip_udp "$PW_PHONE4" "$PW_PBX4" 2
sip_udp "$PW_PHONE6" "$PW_PBX6" 2
pw_ctl ban del "$PW_PHONE4" >/dev/null
pw_ctl ban del "$PW_PHONE6_NET" >/dev/null
sip_udp "$PW_PHONE4" "$PW_PBX4" 2
sip_udp "$PW_PHONE6" "$PW_PBX6" 2
sleep 0.5
pw_rx_dump "$PW_TMP/rx2.json"
pw_check_eq "after ban del: the IPv4 phone's SIP passes again (only the 2 sent after it)" \
  "$(( $(pw_rx_get "$PW_TMP/rx2.json" udp 5070 "$PW_PHONE4") - 3 ))" 2
pw_check_eq "after ban del: the IPv6 phone's SIP passes again" "$(pw_rx_get "$PW_TMP/rx2.json" udp 5070 "$PW_PHONE6")" 2

# ---- expired known sources leave pw_known (a plain hash: nothing else would free them) ----
# pbxwalld sweeps them 5 s after it starts, then every minute. The entry expires first and
# pbxwalld starts after that, so that its first sweep must find it whatever this host's speed
# (an entry added while pbxwalld runs may wait a minute).
pw_ctl known add "$PW_PHONE2_4" --ttl 1 >/dev/null
known_entries() { pw_ctl --json status >"$PW_TMP/status.json" && pw_json "$PW_TMP/status.json" "d['entries']['known']['count']"; }
pw_check_eq "status counts the new known entry" "$(known_entries)" 1
sleep 1.2
pw_daemon_stop
pw_daemon_start
gone=0
for _ in $(seq 1 30); do
  if [[ $(known_entries) == 0 ]]; then gone=1; break; fi
  sleep 0.5
done
pw_check_eq "pbxwalld's first sweep deleted the expired known entry (within 15 s)" "$gone" 1

# ---- bans the data plane sets while pbxwalld is stopped: their events wait in the ring. One  ----
# ---- is lifted with pbxwallctl before pbxwalld starts: it must not come back into state_dir ----
# ---- (a reboot would restore it); the other is recorded as it is in pw_bans.               ----
pw_daemon_stop
pw_udp "$PW_PHONE6" "$PW_PBX6" 5060 1
pw_udp "$PW_PHONE4" "$PW_PBX4" 5060 1
pw_ctl --json ban list >"$PW_TMP/bans3.json"
pw_check_eq "while pbxwalld is stopped, the trap bans both phones" \
  "$(pw_json "$PW_TMP/bans3.json" "sorted(b['addr'] for b in d['bans'])")" "[\"$PW_PHONE4\", \"$PW_PHONE6_NET\"]"
pw_ctl ban del "$PW_PHONE6_NET" >/dev/null
pw_daemon_start
pw_check "pbxwalld reads the waiting event of the lifted ban" \
  pw_wait_log "$PW_DAEMON_LOG" "pbxwall ban: addr=$PW_PHONE6_NET cause=trap_port"
pw_check "pbxwalld reads the waiting event of the other ban" \
  pw_wait_log "$PW_DAEMON_LOG" "pbxwall ban: addr=$PW_PHONE4 cause=trap_port"
sleep 1
pw_check "state_dir/bans does not bring the lifted ban back" bash -c "! grep -q '^$PW_PHONE6_NET ' '$PW_STATE_DIR/bans'"
pw_check "state_dir/bans records the other one" grep -q "^$PW_PHONE4 " "$PW_STATE_DIR/bans"
pw_ctl --json ban list >"$PW_TMP/bans4.json"
pw_check_eq "ban list after the start: the IPv4 phone only" \
  "$(pw_json "$PW_TMP/bans4.json" "[b['addr'] for b in d['bans']]")" "[\"$PW_PHONE4\"]"

pw_finish
