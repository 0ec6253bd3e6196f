#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# logd.sh - plumwall-logd delivering to a real rsyslogd (TCP octet
# counting, UDP, local datagram socket), to TLS servers (openssl
# s_server, one trusted, one not), to files (JSON, CEF, rotation, pcap)
# and across an rsyslog outage: what the TCP sink could not hold is
# reported as plumwall.lost with its count while the file sinks go on.
#
# Events come from the real datapath (logd.bash). Needs root, rsyslogd,
# bpftool, openssl, jq, ss; exit 77 otherwise. Waits on conditions with
# bounded timeouts; cleans up in an EXIT trap.

. "$(dirname "${BASH_SOURCE[0]}")/logd.bash"
logd_init logd rsyslogd openssl
# Ports: tcp, udp, tls good, tls bad.
PT=${PORTS[0]} PU=${PORTS[1]} PS=${PORTS[2]} PB=${PORTS[3]}
RS_PID=
logd_cleanup_hook() { [[ -n $RS_PID ]] && kill "$RS_PID" 2>/dev/null; }

# --- rsyslogd -------------------------------------------------------------
mkdir -p "$TMP/rs"
cat >"$TMP/rs.conf" <<EOT
global(workDirectory="$TMP/rs" maxMessageSize="64k")
module(load="imtcp")
module(load="imudp")
module(load="imuxsock" SysSock.Use="off")
template(name="fields" type="string" string="%inputname%|%app-name%|%msgid%|%structured-data%|%msg%\n")
ruleset(name="r") { action(type="omfile" file="$TMP/rs.out" template="fields") }
input(type="imtcp" port="$PT" address="127.0.0.1" ruleset="r")
input(type="imudp" port="$PU" address="127.0.0.1" ruleset="r")
input(type="imuxsock" Socket="$TMP/log.sock" ruleset="r")
EOT
rs_up() { ss -Htln "sport = :$PT" | grep -q . && [[ -S $TMP/log.sock ]]; }
rs_start() {
	rsyslogd -n -f "$TMP/rs.conf" -i "$TMP/rs/pid" >>"$TMP/rs.log" 2>&1 &
	RS_PID=$!
	wait_for 10 rs_up
}
rs_stop() {
	kill "$RS_PID" && wait "$RS_PID" 2>/dev/null
	RS_PID=
	wait_for 10 not rs_up
}
check "rsyslogd starts" rs_start

# --- TLS servers: a CA that signs 127.0.0.1, and one logd does not trust ----
logd_certs || ko "openssl certificates"
# s_server ends the connection at EOF on its input: give it a FIFO opened
# read-write, which never reaches EOF.
mkfifo "$TMP/tls.in"
for p in $PS $PB; do
	openssl s_server -accept 127.0.0.1:$p -cert "$TMP/srv.pem" -key "$TMP/srv.key" \
		-quiet -naccept 1 <>"$TMP/tls.in" >"$TMP/tls$p.out" 2>"$TMP/tls$p.err" &
	PIDS+=($!)
done
tls_up() { ss -Htln "sport = :$PS" | grep -q . && ss -Htln "sport = :$PB" | grep -q .; }
check "TLS servers listen" wait_for 10 tls_up

# --- command line and configuration errors ---------------------------------
"$LOGD" --help >"$TMP/out" 2>&1
check "--help exits 0" test $? = 0
check "--help shows usage" grep -q "^Usage: plumwall-logd" "$TMP/out"
"$LOGD" --bogus >"$TMP/out" 2>&1
check "unknown option exits 2" test $? = 2
"$LOGD" -c "$TMP/nonexistent.yaml" >"$TMP/out" 2>&1
check "missing config exits 1" test $? = 1
printf 'policy: p.yaml\nlogging:\n  sinks:\n    - name: x\n      format: xml\n      path: /tmp/x\n' >"$TMP/bad.yaml"
"$LOGD" -c "$TMP/bad.yaml" >"$TMP/out" 2>&1
check "bad config exits 1" test $? = 1
check "bad config: FILE:LINE:COLUMN error" grep -q "bad.yaml:5:[0-9]*: error: .*format" "$TMP/out"
printf 'policy: p.yaml\n' >"$TMP/nolog.yaml"
"$LOGD" -c "$TMP/nolog.yaml" >"$TMP/out" 2>&1
check "config without logging exits 1" test $? = 1

# --- the daemon, started before anything is pinned ---------------------------
cat >"$TMP/logd.yaml" <<EOT
policy: $TMP/policy.yaml
pin_path: $PIN
logging:
  hostname: fw1.test
  sinks:
    - name: events
      format: json
      path: $TMP/log/events.json
    - name: cef
      format: cef
      path: $TMP/log/events.cef
      kinds: [drop]
    - name: rotating
      format: json
      path: $TMP/log/rot.json
      rotate_bytes: 8192
    - name: pcap
      format: pcap
      path: $TMP/log/drops.pcap
    - name: rs-tcp
      format: syslog
      transport: tcp
      address: 127.0.0.1
      port: $PT
      queue: 4
    - name: rs-udp
      format: syslog
      transport: udp
      address: 127.0.0.1
      port: $PU
      kinds: [drop]
    - name: rs-unix
      format: cef
      transport: unix
      path: $TMP/log.sock
      kinds: [drop]
    - name: tls-good
      format: syslog
      transport: tls
      address: 127.0.0.1
      port: $PS
      ca_file: $TMP/ca.pem
      kinds: [drop]
    - name: tls-untrusted
      format: syslog
      transport: tls
      address: 127.0.0.1
      port: $PB
      ca_file: $TMP/other.pem
      kinds: [drop]
EOT
"$LOGD" -c "$TMP/logd.yaml" 2>"$TMP/logd.err" &
LOGD_PID=$!
check "logd says it waits for the datapath" wait_for 10 grep -q "waiting for .plumwall apply" "$TMP/logd.err"
check "logd keeps running while nothing is pinned" kill -0 $LOGD_PID
check "logd dropped every capability" wait_for 20 grep -q "^CapEff:.0000000000000000" /proc/$LOGD_PID/status
check "logd capability bounding set empty" grep -q "^CapBnd:.0000000000000000" /proc/$LOGD_PID/status
check "logd sets no_new_privs" grep -q "^NoNewPrivs:.1" /proc/$LOGD_PID/status

nsenter --net=/var/run/netns/$NSM "$PW" apply "$TMP/policy.yaml" >"$TMP/out" 2>&1
check "apply ($(cat "$TMP/out"))" test $? = 0
check "logd opens the ring buffer after apply" wait_for 10 grep -q "reading events from" "$TMP/logd.err"

# --- three drops, everywhere -------------------------------------------------
gen 3
EV=$TMP/log/events.json
check "json file: 3 events" wait_for 10 has_lines "$EV" 3
check "json file: every line is JSON" jq -e . "$EV" >/dev/null
check "json: dataset drop" test "$(jq -r .event.dataset "$EV" | sort -u)" = plumwall.drop
check "json: action dropped" test "$(jq -r .event.action "$EV" | sort -u)" = dropped
check "json: reason policy" test "$(jq -r .event.reason "$EV" | sort -u)" = policy
check "json: rule" test "$(jq -r '.rule.name + "/" + .rule.ruleset' "$EV" | sort -u)" = no-telnet/lab
check "json: tenant and segments" test "$(jq -r '.plumwall | .tenant + " " + .src_segment + " " + .dst_segment' "$EV" | sort -u)" = "lab clients servers"
check "json: addresses and ports" test "$(jq -r '"\(.source.ip):\(.source.port) \(.destination.ip):\(.destination.port)"' "$EV" | sort -u)" = "10.0.0.5:40000 10.0.1.7:23"
check "json: transport" test "$(jq -r .network.transport "$EV" | sort -u)" = tcp
check "json: community id" test "$(jq -r .network.community_id "$EV" | grep -cE '^1:[A-Za-z0-9+/]{27}=$')" = 3
check "json: hostname" test "$(jq -r .observer.hostname "$EV" | sort -u)" = fw1.test
check "json: consecutive sequence" test "$(jq -s '[.[].event.sequence] | (.[1] - .[0]) + (.[2] - .[1])' "$EV")" = 2
check "json: wall-clock timestamp" test "$(jq -r '."@timestamp"[0:10]' "$EV" | sort -u)" = "$(date -u +%F)"
check "cef file: 3 lines" wait_for 10 has_count '^CEF:0|plumwall|plumwall|' "$TMP/log/events.cef" 3
check "cef: tenant and rule" grep -q 'cs1Label=tenant cs1=lab.*cs2Label=rule cs2=no-telnet' "$TMP/log/events.cef"
OUT=$TMP/rs.out
check "rsyslog tcp: 3 parsed" wait_for 10 has_count '^imtcp|plumwall|DROP|' "$OUT" 3
check "rsyslog tcp: structured data" grep -q '^imtcp|plumwall|DROP|\[plumwall@32473 [^]]*tenant="lab"[^]]*rule="no-telnet"' "$OUT"
check "rsyslog tcp: MSG is the JSON line" test "$(grep '^imtcp|plumwall|DROP|' "$OUT" | head -1 | cut -d'|' -f5- | jq -r .event.dataset)" = plumwall.drop
check "rsyslog udp: 3 parsed" wait_for 10 has_count '^imudp|plumwall|DROP|\[plumwall@32473 ' "$OUT" 3
check "rsyslog unix: 3 parsed (CEF)" wait_for 10 has_count '^imuxsock|plumwall|.*CEF:0|plumwall|' "$OUT" 3
check "tls: octet-counted RFC 5424 DROP" wait_for 10 grep -q '^[0-9]* <[0-9]*>1 [^ ]* fw1.test plumwall [0-9]* DROP \[plumwall@32473' "$TMP/tls$PS.out"
tls_frame_ok() { # the first frame's length is right
	local len
	len=$(grep -o '^[0-9]*' "$TMP/tls$PS.out" | head -1)
	[[ -n $len ]] && test "$(tail -c +$((${#len} + 2)) "$TMP/tls$PS.out" | head -c "$len" | tail -c 1)" = "}"
}
check "tls: the octet count frames the message" tls_frame_ok
check "tls: untrusted server refused" wait_for 10 grep -q "sink tls-untrusted: .*certificate" "$TMP/logd.err"
check "tls: nothing sent to the untrusted server" not test -s "$TMP/tls$PB.out"
check "pcap file written" wait_for 10 test -s "$TMP/log/drops.pcap"
if command -v tcpdump >/dev/null; then
	check "pcap: tcpdump reads 3 SYNs to port 23" test "$(tcpdump -nn -r "$TMP/log/drops.pcap" 2>/dev/null | grep -c '10.0.0.5.40000 > 10.0.1.7.23: Flags \[S\]')" = 3
fi

# --- rsyslog goes away: nothing blocks, the loss is counted ------------------
check "rsyslogd stops" rs_stop
gen 20
check "json file gets all 23 while rsyslog is down" wait_for 10 has_lines "$EV" 23
check "logd alive during the outage" kill -0 $LOGD_PID
check "logd says the tcp sink fails" wait_for 10 grep -q "sink rs-tcp: .*retrying" "$TMP/logd.err"
check "rsyslogd restarts" rs_start
gen 1
tcp_drops() { grep_count '^imtcp|plumwall|DROP|' "$OUT"; }
tcp_lost() { # sum of the counts of the LOST messages the tcp sink sent
	grep '^imtcp|plumwall|LOST|' "$OUT" | cut -d'|' -f5- | jq -s 'map(.plumwall.count // .event.count // 0) | add // 0'
}
tcp_accounted() { [[ $(($(tcp_drops) + $(tcp_lost))) -ge $SENT ]]; }
check "tcp sink reconnects and accounts for every event" wait_for 40 tcp_accounted
check "tcp: delivered + lost = sent ($(tcp_drops) + $(tcp_lost) = $SENT)" test $(($(tcp_drops) + $(tcp_lost))) = $SENT
check "tcp: some events were lost (queue 4)" test "$(tcp_lost)" -gt 0
check "tcp: lost event is from logd" test "$(grep '^imtcp|plumwall|LOST|' "$OUT" | head -1 | cut -d'|' -f5- | jq -r .plumwall.producer)" = logd
check "json file: no loss reported" not grep -q plumwall.lost "$EV"
check "rsyslog unix: back after the restart" wait_for 20 has_count '^imuxsock|plumwall|' "$OUT" 1

# The server's TLS 1.3 session tickets are no reason to reconnect (s_server
# takes one connection: every batch after the first was lost). Until the
# SIGHUP below, which reconnects every sink, all went over the first one.
tls_drops() { grep -o ' DROP \[plumwall@32473' "$TMP/tls$PS.out" | wc -l; }
check "tls: every event so far over one connection" wait_for 10 test "$(tls_drops)" = $SENT
check "tls: not taken for closed" not grep -q "sink tls-good: connection closed" "$TMP/logd.err"

# --- SIGHUP: logrotate-style reopen, then a bad configuration -----------------
mv "$EV" "$EV.old"
kill -HUP $LOGD_PID
check "SIGHUP reload logged" wait_for 10 grep -q "SIGHUP: reloading" "$TMP/logd.err"
gen 1
check "after SIGHUP events go to a new file" wait_for 10 has_lines "$EV" 1
check "the moved file got nothing more" test "$(lines "$EV.old")" = $((SENT - 1))
cp "$TMP/logd.yaml" "$TMP/logd.yaml.good"
printf 'policy: x\nlogging:\n  sinks: []\n' >"$TMP/logd.yaml"
kill -HUP $LOGD_PID
check "bad config on SIGHUP refused" wait_for 10 grep -q "refused: the running sinks are kept" "$TMP/logd.err"
gen 1
check "sinks keep running after a refused reload" wait_for 10 has_lines "$EV" 2
cp "$TMP/logd.yaml.good" "$TMP/logd.yaml"

# --- rotation: every event in rot.json*, no file over the limit ---------------
rot_total() { cat "$TMP"/log/rot.json* 2>/dev/null | wc -l; }
check "rotating sink has every event" wait_for 10 test "$(rot_total)" = $SENT
check "rotated files exist" test -f "$TMP/log/rot.json.1"
check "no rotated file over 8192 bytes" test -z "$(find "$TMP/log" -name 'rot.json*' -size +8192c)"

# --- SIGTERM: drain and exit 0 ---------------------------------------------
# tls-untrusted has failed since the start: it gets no drain period (it
# had its chances), so logd stops at once rather than at the 5 s deadline.
T0=$SECONDS
kill -TERM $LOGD_PID
wait $LOGD_PID
RC=$?
LOGD_PID=
check "SIGTERM exits 0" test $RC = 0
check "SIGTERM with a failing sink: stopped before the drain deadline ($((SECONDS - T0)) s)" \
	test $((SECONDS - T0)) -lt 4
check "exit summary" grep -q "sink events: $SENT delivered, 0 dropped" "$TMP/logd.err"

nt_done
