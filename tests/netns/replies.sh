#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# replies.sh: with unlisted_ports = "drop", answers to connections the PBX itself opened still
# pass, and nothing else from the same server does.
#
# This relies on pbxwall's own egress flow table, not on conntrack: the TC egress program
# (pw_tc_egress, clsact egress of the protected interface) records every flow the host opens
# (TCP SYN, UDP from a port no service names, ICMP echo request) in the pinned pw_flows map,
# and the XDP program passes an inbound packet whose reversed 5-tuple is in that table
# (reason "reply"). The checks therefore exercise both programs and the map they share.
# shellcheck disable=SC2119,SC2317,SC2001 # optional-argument helpers; checks run through pw_check
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
source "${PW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/scripts/netns.sh"
pw_init replies
pw_require_tools bpftool
pw_lab_up

{
  pw_config_head native drop
  cat <<EOF

[zones]
trusted = ["$PW_TRUNK4", "$PW_TRUNK6"]
reject = ["198.18.3.0/24", "2001:db8:3::/48"]

[services.sip]
udp = ["5060"]
tcp = ["5060"]
zones = ["trusted", "local", "other", "internet"]
EOF
} >"$PW_CONFIG"

pw_daemon_start
pw_rx_start --udp 7000 --tcp 8443 --iface "$PW_IF_PBX"

# Servers in wan, on the DNS-like address: a UDP responder on 53 and a TCP greeter on 8443.
ip netns exec "$PW_NS_WAN" "$PW_PY" "$PW_NETTOOL" dns-server --addr "$PW_DNS4" --port 53 \
  --ready "$PW_TMP/dns.ready" --max-seconds 120 >"$PW_TMP/dns.log" 2>&1 &
pw_track $!
ip netns exec "$PW_NS_WAN" "$PW_PY" "$PW_NETTOOL" tcp-server --addr "$PW_DNS4" --port 8443 \
  --ready "$PW_TMP/tcp.ready" --max-seconds 120 >"$PW_TMP/tcpd.log" 2>&1 &
pw_track $!
# A sink on 8444: reads what the PBX sends and answers with ACKs only.
ip netns exec "$PW_NS_WAN" "$PW_PY" "$PW_NETTOOL" tcp-server --sink --addr "$PW_DNS4" --port 8444 \
  --ready "$PW_TMP/sink.ready" --max-seconds 120 >"$PW_TMP/sink.log" 2>&1 &
pw_track $!
for ((i = 0; i < 100; i++)); do
  [[ -s $PW_TMP/dns.ready && -s $PW_TMP/tcp.ready && -s $PW_TMP/sink.ready ]] && break
  sleep 0.1
done
[[ -s $PW_TMP/dns.ready && -s $PW_TMP/tcp.ready && -s $PW_TMP/sink.ready ]] || pw_die "wan servers did not start"

# ---- UDP: a query from an ephemeral port; its answer is a reply ----
pw_stats "$PW_TMP/s0.json"
if pw_in_pbx "$PW_PY" "$PW_NETTOOL" dns-query --src "$PW_PBX4" --dst "$PW_DNS4" --port 53 --timeout 2 >"$PW_TMP/q.json"; then
  pw_ok "UDP query from the PBX to $PW_DNS4:53 gets its answer ($(cat "$PW_TMP/q.json"))"
else
  pw_bad "UDP query from the PBX to $PW_DNS4:53 got no answer ($(cat "$PW_TMP/q.json"))"
fi
pw_stats "$PW_TMP/s1.json"
pw_check_eq "stats: the answer passed as a reply (zone internet)" "$(pw_stat_delta "$PW_TMP/s0.json" "$PW_TMP/s1.json" reply internet)" 1
qport=$(pw_json "$PW_TMP/q.json" "d['local_port']" 2>/dev/null || echo 0)

# ---- UDP: unsolicited datagrams from the same server are unlisted ports: dropped ----
pw_rx_dump "$PW_TMP/rx0.json"
pw_in_wan "$PW_PY" "$PW_NETTOOL" udp --src "$PW_DNS4" --sport 53 --dst "$PW_PBX4" --port 7000 --count 5 >/dev/null
# The query's own local port, but from another remote port: not the flow the PBX opened.
pw_in_wan "$PW_PY" "$PW_NETTOOL" udp --src "$PW_DNS4" --sport 5353 --dst "$PW_PBX4" --port "$qport" --count 5 >/dev/null
sleep 0.2
pw_rx_dump "$PW_TMP/rx1.json"
pw_stats "$PW_TMP/s2.json"
pw_check_eq "receiver: unsolicited datagrams from $PW_DNS4:53 to port 7000" "$(pw_rx_get "$PW_TMP/rx1.json" udp 7000 "$PW_DNS4")" 0
# (the wire counts are per destination port: the answer itself was counted there before rx0)
pw_check_eq "wire: unsolicited datagrams from $PW_DNS4:5353 to the query's port $qport" \
  "$(($(pw_rx_get "$PW_TMP/rx1.json" wire "udp/$qport" "$PW_DNS4") - $(pw_rx_get "$PW_TMP/rx0.json" wire "udp/$qport" "$PW_DNS4")))" 0
pw_check_eq "stats: the 10 unsolicited datagrams were unlisted_drop" "$(pw_stat_delta "$PW_TMP/s1.json" "$PW_TMP/s2.json" unlisted_drop internet)" 10
pw_check_eq "stats: no new reply passes for them" "$(pw_stat_delta "$PW_TMP/s1.json" "$PW_TMP/s2.json" reply)" 0

# ---- TCP: a connection the PBX opens works (SYN-ACK, data and FIN are replies) ----
if pw_in_pbx "$PW_PY" "$PW_NETTOOL" tcp-fetch --src "$PW_PBX4" --dst "$PW_DNS4" --port 8443 --timeout 2 >"$PW_TMP/fetch.txt"; then
  pw_ok "TCP from the PBX to $PW_DNS4:8443 works: $(cat "$PW_TMP/fetch.txt")"
else
  pw_bad "TCP from the PBX to $PW_DNS4:8443 failed: $(cat "$PW_TMP/fetch.txt")"
fi
sleep 0.2
pw_stats "$PW_TMP/s3.json"
pw_check_ge "stats: the server's SYN-ACK, data and FIN passed as replies" "$(pw_stat_delta "$PW_TMP/s2.json" "$PW_TMP/s3.json" reply internet)" 3

# ---- TCP: data the PBX sends keeps its connection's flow fresh ----
# Segments with payload leave with the payload outside the skb's linear part (veth has
# scatter-gather), so the egress program must not take them for truncated packets: until
# 2026-12-05 only pure ACKs refreshed a TCP flow, and a connection on which the PBX only sent
# data (a TLS trunk answering keepalives, an upload) expired after 2 h and its peer was dropped.
pw_in_pbx "$PW_PY" "$PW_NETTOOL" tcp-upload --src "$PW_PBX4" --dst "$PW_DNS4" --port 8444 \
  --delay 1.5 --bytes 30000 --hold 1 --ready "$PW_TMP/upload.json" >"$PW_TMP/upload.log" 2>&1 &
upload_pid=$!
pw_track $upload_pid
for ((i = 0; i < 60; i++)); do
  [[ -s $PW_TMP/upload.json ]] && break
  sleep 0.1
done
sleep 0.3 # the last segments leave
if [[ -s $PW_TMP/upload.json ]]; then
  bpftool -j map dump pinned "$PW_PIN_DIR/pw_flows" >"$PW_TMP/flows.json"
  seen=$("$PW_PY" - "$PW_TMP/flows.json" "$PW_TMP/upload.json" <<'EOF'
import json, socket, sys
flows = json.load(open(sys.argv[1]))
up = json.load(open(sys.argv[2]))
port = socket.htons(up['local_port'])
for e in flows:
    k, v = e['formatted']['key'], e['formatted']['value']
    if k['proto'] == 6 and k['local_port'] == port and k['remote_port'] == socket.htons(8444):
        # seconds after the connection, of the flow's last refresh, against the send
        print('%.2f %.2f' % ((v['seen_ns'] - up['connected_ns']) / 1e9, (up['sent_ns'] - up['connected_ns']) / 1e9))
        break
else:
    print('none')
EOF
)
  echo "  flow refreshed at (s after connect), data sent at: $seen"
  pw_check "TCP: the PBX's data segments refreshed its flow (last seen at least 1.3 s after the connection)" \
    awk -v s="${seen%% *}" 'BEGIN { exit !(s != "none" && s >= 1.3) }'
else
  pw_bad "TCP upload from the PBX to $PW_DNS4:8444 did not run: $(cat "$PW_TMP/upload.log")"
fi
wait "$upload_pid" || true
sleep 0.2
pw_stats "$PW_TMP/s3.json" # the sink's ACKs and FIN passed as replies: not the ICMP checks' business

# ---- TCP: the same server connecting to the PBX is not a reply ----
if pw_tcp "$PW_DNS4" "$PW_PBX4" 8443 1.5; then
  pw_bad "TCP from $PW_DNS4 to the PBX's unlisted port 8443 connected"
else
  pw_ok "TCP from $PW_DNS4 to the PBX's unlisted port 8443 is dropped"
fi
pw_rx_dump "$PW_TMP/rx2.json"
pw_check_eq "receiver: connections from $PW_DNS4 on 8443" "$(pw_rx_get "$PW_TMP/rx2.json" tcp 8443 "$PW_DNS4")" 0

# ---- ICMP echo: the PBX's ping is answered; the internet's ping is not (echo zones) ----
if pw_in_pbx "$PW_PY" "$PW_NETTOOL" ping --src "$PW_PBX4" --dst "$PW_DNS4" --count 2 --timeout 2 >"$PW_TMP/ping.json"; then
  pw_ok "ICMP echo from the PBX to $PW_DNS4 is answered ($(cat "$PW_TMP/ping.json"))"
else
  pw_bad "ICMP echo from the PBX to $PW_DNS4 got no reply"
fi
if pw_in_wan "$PW_PY" "$PW_NETTOOL" ping --src "$PW_DNS4" --dst "$PW_PBX4" --count 2 --timeout 1 >/dev/null; then
  pw_bad "ICMP echo from $PW_DNS4 (zone internet) to the PBX was answered"
else
  pw_ok "ICMP echo from $PW_DNS4 (zone internet) to the PBX is dropped"
fi
pw_stats "$PW_TMP/s4.json"
pw_check_eq "stats: the 2 echo replies passed as replies" "$(pw_stat_delta "$PW_TMP/s3.json" "$PW_TMP/s4.json" reply internet)" 2
pw_check_eq "stats: the 2 echo requests from the internet were icmp_denied" "$(pw_stat_delta "$PW_TMP/s3.json" "$PW_TMP/s4.json" icmp_denied internet)" 2
pw_check_ge "stats: the inbound TCP SYNs were unlisted_drop" "$(pw_stat_delta "$PW_TMP/s2.json" "$PW_TMP/s4.json" unlisted_drop internet)" 1

pw_finish
