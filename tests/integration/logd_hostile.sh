#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# logd_hostile.sh - plumwall-logd against peers that do not play along:
#   tcp-mute     a TCP peer that accepts and never reads
#   tls-mute     a TLS peer that completes the handshake, then never reads
#   tls-stall    a TLS peer that accepts and never answers the ClientHello
#   tls-garbage  a "TLS" peer that answers with garbage
#   tcp-garbage  a TCP peer that talks garbage back (and reads)
#   tls-chatty   a TLS peer that sends application data back (and reads)
#   unix-gone    a local socket whose listener goes away while logd runs
# (nc and openssl s_server; "never reads" is the peer stopped with
# SIGSTOP: its connections stay, nothing is read or answered). Meanwhile
# a file sink must get every event, logd must stay up, each sink must
# account for every event it was given (delivered, dropped, undelivered
# at stop: the exit summary), the local socket's loss must reach it as a
# plumwall.lost event once a listener is back, and SIGTERM must end logd
# within its drain deadline (5 s) however stuck the peers are.
#
# Needs root, bpftool, openssl, nc, jq, ss; exit 77 otherwise. Waits on
# conditions with bounded timeouts; cleans up in an EXIT trap.

. "$(dirname "${BASH_SOURCE[0]}")/logd.bash"
logd_init logd_hostile openssl nc
P_TCPMUTE=${PORTS[0]} P_TCPGARB=${PORTS[1]} P_TLSMUTE=${PORTS[2]}
P_STALL=${PORTS[3]} P_TLSGARB=${PORTS[4]} P_CHATTY=${PORTS[5]}
SINKS=(events tcp-mute tcp-garbage tls-mute tls-stall tls-garbage tls-chatty unix-gone)
listening() { ss -Htln "sport = :$1" | grep -q .; }

logd_certs || ko "openssl certificates"
# Not syslog, not TLS: a TLS client reads "no" as a record type it does
# not know.
for ((i = 0; i < 200; i++)); do echo "not a syslog server"; done >"$TMP/garbage"

# --- the peers ----------------------------------------------------------------
nc -l 127.0.0.1 $P_TCPMUTE >/dev/null 2>&1 &
MUTE_PID=$!
PIDS+=($MUTE_PID)
nc -l 127.0.0.1 $P_STALL >/dev/null 2>&1 &
STALL_PID=$!
PIDS+=($STALL_PID)
nc -l 127.0.0.1 $P_TCPGARB <"$TMP/garbage" >"$TMP/tcpgarb.out" 2>/dev/null &
PIDS+=($!)
nc -l 127.0.0.1 $P_TLSGARB <"$TMP/garbage" >/dev/null 2>&1 &
PIDS+=($!)
# s_server ends the connection at EOF on its input: a FIFO opened
# read-write never reaches it. What is written to it goes to the client.
mkfifo "$TMP/tls.in" "$TMP/chatty.in"
openssl s_server -accept 127.0.0.1:$P_TLSMUTE -cert "$TMP/srv.pem" -key "$TMP/srv.key" \
	-quiet -naccept 1 <>"$TMP/tls.in" >"$TMP/tlsmute.out" 2>"$TMP/tlsmute.err" &
TLSMUTE_PID=$!
PIDS+=($TLSMUTE_PID)
openssl s_server -accept 127.0.0.1:$P_CHATTY -cert "$TMP/srv.pem" -key "$TMP/srv.key" \
	-quiet -naccept 1 <>"$TMP/chatty.in" >"$TMP/chatty.out" 2>"$TMP/chatty.err" &
PIDS+=($!)
nc -lkUu "$TMP/gone.sock" >"$TMP/unix.out" 2>/dev/null &
UNIX_PID=$!
PIDS+=($UNIX_PID)
all_listen() {
	listening $P_TCPMUTE && listening $P_STALL && listening $P_TCPGARB &&
		listening $P_TLSGARB && listening $P_TLSMUTE && listening $P_CHATTY &&
		[[ -S $TMP/gone.sock ]]
}
if wait_for 20 all_listen; then
	ok
else
	ko "the peers listen ($(ss -Htln | awk '{ print $4 }' | tr '\n' ' '))"
fi
# Stopped listeners: the kernel still completes connections into their
# backlog, but nobody reads, answers or accepts.
kill -STOP $MUTE_PID $STALL_PID

# --- logd ----------------------------------------------------------------------
cat >"$TMP/logd.yaml" <<EOT
policy: $TMP/policy.yaml
pin_path: $PIN
logging:
  hostname: fw1.test
  sinks:
    - name: events
      format: json
      path: $TMP/log/events.json
    - name: tcp-mute
      format: json
      transport: tcp
      address: 127.0.0.1
      port: $P_TCPMUTE
      queue: 512
    - name: tcp-garbage
      format: json
      transport: tcp
      address: 127.0.0.1
      port: $P_TCPGARB
    - name: tls-mute
      format: syslog
      transport: tls
      address: 127.0.0.1
      port: $P_TLSMUTE
      ca_file: $TMP/ca.pem
      queue: 512
    - name: tls-stall
      format: syslog
      transport: tls
      address: 127.0.0.1
      port: $P_STALL
      ca_file: $TMP/ca.pem
      queue: 64
    - name: tls-garbage
      format: syslog
      transport: tls
      address: 127.0.0.1
      port: $P_TLSGARB
      ca_file: $TMP/ca.pem
      queue: 64
    - name: tls-chatty
      format: syslog
      transport: tls
      address: 127.0.0.1
      port: $P_CHATTY
      ca_file: $TMP/ca.pem
    - name: unix-gone
      format: json
      transport: unix
      path: $TMP/gone.sock
      queue: 64
EOT
nsenter --net=/var/run/netns/$NSM "$PW" apply "$TMP/policy.yaml" >"$TMP/out" 2>&1
check "apply ($(cat "$TMP/out"))" test $? = 0
"$LOGD" -c "$TMP/logd.yaml" 2>"$TMP/logd.err" &
LOGD_PID=$!
check "logd reads the ring buffer" wait_for 10 grep -q "reading events from" "$TMP/logd.err"

# --- first events: the well-behaved part of each peer ---------------------------
EV=$TMP/log/events.json
gen 20
check "file sink: the first 20" wait_for 10 has_lines "$EV" 20
check "tcp-garbage: the first 20 despite the garbage" wait_for 10 has_lines "$TMP/tcpgarb.out" 20
check "tls-mute: handshake done, events arrive" wait_for 10 grep -q "DROP" "$TMP/tlsmute.out"
kill -STOP $TLSMUTE_PID
tls_drops() { grep -o ' DROP \[plumwall@32473' "$1" | wc -l; }
check "tls-chatty: the first 20" wait_for 10 test "$(tls_drops "$TMP/chatty.out")" = 20
cat "$TMP/garbage" >"$TMP/chatty.in" # over TLS, to logd
check "unix-gone: events arrive" wait_for 10 test -s "$TMP/unix.out"
kill $UNIX_PID
wait $UNIX_PID 2>/dev/null
rm -f "$TMP/gone.sock"

# --- a flood, in rounds the ring buffer holds ------------------------------------
# Several MB of messages for the mute peers: more than socket buffers hold.
for ((round = 0; round < 12; round++)); do
	gen 500
	if ! wait_for 20 has_lines "$EV" $SENT; then
		ko "file sink: round $round: $(lines "$EV") of $SENT"
		break
	fi
done
check "file sink: every event ($(lines "$EV") of $SENT)" test "$(lines "$EV")" = $SENT
check "file sink: no loss reported" not grep -q plumwall.lost "$EV"
check "tcp-garbage: every event" wait_for 20 has_lines "$TMP/tcpgarb.out" $SENT
check "tls-chatty: every event, over the first connection" wait_for 20 test "$(tls_drops "$TMP/chatty.out")" = $SENT
check "logd alive" kill -0 $LOGD_PID
check "tcp-mute: gives up on the send" wait_for 20 grep -q "sink tcp-mute: .*(retrying)" "$TMP/logd.err"
check "tls-mute: gives up on the send" wait_for 20 grep -q "sink tls-mute: .*(retrying)" "$TMP/logd.err"
check "tls-stall: handshake timed out" wait_for 20 grep -q "sink tls-stall: TLS handshake with 127.0.0.1 port $P_STALL: Connection timed out (retrying)" "$TMP/logd.err"
check "tls-garbage: handshake refused" wait_for 20 grep -q "sink tls-garbage: TLS handshake with 127.0.0.1 port $P_TLSGARB: .*(retrying)" "$TMP/logd.err"
check "unix-gone: says the socket is gone" wait_for 20 grep -q "sink unix-gone: .*(retrying)" "$TMP/logd.err"
check "tcp-garbage: no reconnect" not grep -q "sink tcp-garbage:" "$TMP/logd.err"
check "tls-chatty: no reconnect" not grep -q "sink tls-chatty:" "$TMP/logd.err"

# --- the local socket is back: the loss reaches it ---------------------------------
nc -lkUu "$TMP/gone.sock" >"$TMP/unix2.out" 2>/dev/null &
PIDS+=($!)
check "unix-gone: a listener again" wait_for 10 test -S "$TMP/gone.sock"
gen 1
check "file sink: the last one" wait_for 10 has_lines "$EV" $SENT
# logd retries after its backoff (at most 30 s)
check "unix-gone: delivers again" wait_for 40 grep -q "sink unix-gone: delivering again" "$TMP/logd.err"
check "unix-gone: plumwall.lost arrives" wait_for 10 grep -q '"action":"lost"' "$TMP/unix2.out"
# Datagrams "<PRI>Mmm dd hh:mm:ss plumwall[PID]: JSON", one after the
# other without a newline: one JSON document each.
UNIX_LOST=$(sed 's/}<[0-9]*>/}\n</g' "$TMP/unix2.out" | sed 's/^[^{]*//' |
	jq -s '[.[] | select(.event.action == "lost") | .plumwall.count] | add // 0')
check "unix-gone: the lost count is above zero ($UNIX_LOST)" test "${UNIX_LOST:-0}" -gt 0

# --- SIGTERM: within the deadline, whatever the peers do -------------------------
T0=$(date +%s%N)
kill -TERM $LOGD_PID
wait $LOGD_PID
RC=$?
MS=$((($(date +%s%N) - T0) / 1000000))
LOGD_PID=
check "SIGTERM exits 0" test $RC = 0
check "SIGTERM: stopped within the 5 s drain deadline (${MS} ms)" test $MS -lt 6000

# --- every event accounted for, per sink --------------------------------------------
READ=$(sed -n 's/^plumwall-logd: \([0-9]*\) events read, \([0-9]*\) lost in the kernel.*/\1 \2/p' "$TMP/logd.err")
check "logd read every event, none lost in the kernel ($READ)" test "$READ" = "$SENT 0"
summary() { # summary SINK: "DELIVERED DROPPED REPORTED UNDELIVERED FAILED"
	sed -n "s/^plumwall-logd: sink $1: \([0-9]*\) delivered, \([0-9]*\) dropped (\([0-9]*\) reported as lost), \([0-9]*\) undelivered at stop, \([0-9]*\) failed attempts$/\1 \2 \3 \4 \5/p" "$TMP/logd.err"
}
for s in "${SINKS[@]}"; do
	read -r d r l u f <<<"$(summary $s)"
	check "$s: in the exit summary" test -n "$f"
	check "$s: delivered $d + dropped $r + undelivered $u = $SENT" test $((d + r + u)) = $SENT
	case $s in
	events | tcp-garbage | tls-chatty)
		check "$s: nothing lost, no failure" test "$r $u $f" = "0 0 0"
		;;
	tcp-mute | tls-mute)
		# What the kernel took into a connection nobody reads counts
		# as delivered (README: loss after a send cannot be known);
		# the sends that found no room failed.
		check "$s: sends failed ($f)" test "$f" -gt 0
		;;
	tls-stall | tls-garbage)
		check "$s: nothing delivered, failed ($f)" test "$d" = 0 -a "$f" -gt 0
		;;
	unix-gone)
		check "$s: lost some, reported them ($l of $r)" test "$r" -gt 0 -a "$l" = "$UNIX_LOST"
		;;
	esac
done

nt_done
