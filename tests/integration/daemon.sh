#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# daemon.sh - plumwalld on real interfaces: apply at start, readiness to
# systemd (a NOTIFY_SOCKET of our own), SIGKILL and restart without losing
# enforcement or flows, a bad configuration or policy on SIGHUP or on a
# file change keeps the running policy and flows, inotify reloads, the
# conntrack sweep ends expired flows, SIGTERM leaves enforcement in place.
# Topology and plumbing: netns.bash.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init daemon nc ping
PWD_BIN=$BUILD/plumwalld
[[ -x $PWD_BIN ]] || { echo "daemon: $PWD_BIN not built" >&2; exit 1; }

policy() { # policy FILE TCP_PORT
	cat >"$1" <<EOT
version: 1
settings:
  unmatched: deny
  conntrack:
    timeouts: {udp: 1, tcp_closing: 1}
tenants:
  - name: lab
    interfaces: [m1]
    default: deny
    segments:
      clients: [10.99.1.0/24]
      servers: [10.99.2.0/24]
    rules:
      - {name: web, from: clients, to: servers, proto: tcp, ports: [$2], action: allow, log: true}
      - {name: dns, from: clients, to: servers, proto: udp, ports: [5353], action: allow, log: true}
EOT
}
config() { # config POLICY_FILE [MODE]
	cat >"$TMP/plumwall.yaml" <<EOT
policy: $1
mode: ${2:-xdp}
pin_path: $PIN
conntrack_sweep_interval: 1
EOT
}
policy "$TMP/policy.yaml" 8080
policy "$TMP/p8081.yaml" 8081
echo "version: [" >"$TMP/bad.yaml"

# Our own systemd: the notifications land in notify.out.
nc -lkuU "$TMP/notify.sock" >"$TMP/notify.out" 2>/dev/null &
PIDS+=($!)
wait_for 20 test -S "$TMP/notify.sock"

DPID=
start_daemon() {
	# A simple command, not a function: $! is plumwalld itself (nsenter
	# and env exec it), so signals reach the daemon.
	nsenter --net=/var/run/netns/$NSM env NOTIFY_SOCKET="$TMP/notify.sock" \
		"$PWD_BIN" -c "$TMP/plumwall.yaml" >>"$TMP/d.log" 2>&1 &
	DPID=$!
	PIDS+=($DPID)
}
gen() {
	pw status --json
	jq .generation "$TMP/out"
}
gen_is() { [[ $(gen) == "$1" ]]; }
log_has() { grep -q -- "$1" "$TMP/d.log"; }
nready() { grep -o "READY=1" "$TMP/notify.out" | wc -l; }
ready_count() { (($(nready) >= $1)); }

serve_tcp 10.99.2.2 8080 8081 9090
serve_udp 10.99.2.2
check "path works before plumwalld" wait_for 10 tcp_ok 10.99.2.2 8080

# --- a configuration with errors: refused at start, nothing loaded
config "$TMP/policy.yaml" bogus
inm "$PWD_BIN" -c "$TMP/plumwall.yaml" >"$TMP/out" 2>"$TMP/err"
check "bad configuration exits 1" test $? = 1
check "bad configuration error located" grep -q "plumwall.yaml:2:7: error" "$TMP/err"
check "nothing pinned" test ! -e "$PIN"
config "$TMP/bad.yaml"
inm "$PWD_BIN" -c "$TMP/plumwall.yaml" >"$TMP/out" 2>"$TMP/err"
check "bad policy at start with nothing running exits 1" test $? = 1
check "bad policy error located" grep -q "bad.yaml:[0-9]*:[0-9]*: error" "$TMP/err"
# A JOURNAL_STREAM inherited from a service (as under make vm-check) that
# is not this stderr: plain lines, no journal priority prefixes.
JOURNAL_STREAM=1:1 inm "$PWD_BIN" -c "$TMP/plumwall.yaml" >"$TMP/out" 2>"$TMP/err"
check "foreign JOURNAL_STREAM: no priority prefixes" not grep -q "^<[0-7]>" "$TMP/err"
inm "$PWD_BIN" --bogus >"$TMP/out" 2>"$TMP/err"
check "unknown option exits 2" test $? = 2

# --- start
config "$TMP/policy.yaml"
start_daemon
check "READY=1 sent" wait_for 15 ready_count 1
check "generation 1 after start" gen_is 1
check "status names the policy" test "$(jq -r .policy "$TMP/out")" = "$(realpath "$TMP/policy.yaml")"
check "tcp 8080 allowed" wait_for 20 tcp_ok 10.99.2.2 8080
check "tcp 9090 denied" not tcp_ok 10.99.2.2 9090

# A long-lived flow on 8080: its packets must keep flowing across a
# SIGKILL, a restart and a refused reload.
inc bash -c "while :; do echo x; read -r -t 0.1 <> <(:); done | nc 10.99.2.2 8080 >/dev/null 2>&1" &
PIDS+=($!)
stream_pkts() {
	pw flows --json --tenant lab
	jq '[.flows[] | select(.dst=="10.99.2.2:8080") | .packets_out] | max // 0' "$TMP/out"
}
P0=0
stream_grows() { # the stream's packet count went past $P0
	local p
	p=$(stream_pkts)
	((p > P0)) && P0=$p
}
check "stream flows" wait_for 20 stream_grows

# --- SIGKILL: enforcement and flows go on without a process
kill -9 $DPID
wait $DPID 2>/dev/null
check "stream continues after SIGKILL" wait_for 20 stream_grows
check "udp allowed without plumwalld" wait_for 20 udp_ok 10.99.2.2
check "tcp 9090 denied without plumwalld" not tcp_ok 10.99.2.2 9090

# --- restart: the same policy is kept as it is, nothing flushed. The
# stream's own flow (same source port) is still there with its counts:
# comparing the number of flows would race with short flows that expire
# meanwhile (closed TCP flows, UDP), which the sweep rightly ends.
stream_flow() { # SRC PACKETS_OUT of the stream's flow
	pw flows --json --tenant lab
	jq -r '[.flows[] | select(.dst=="10.99.2.2:8080")] | max_by(.packets_out) | "\(.src) \(.packets_out)"' "$TMP/out"
}
read -r SRC_BEFORE PKTS_BEFORE <<<"$(stream_flow)"
start_daemon
check "READY=1 after restart" wait_for 15 ready_count 2
check "restart keeps the running policy" log_has "unchanged, generation 1 kept"
check "generation still 1" gen_is 1
check "stream continues after restart" wait_for 20 stream_grows
read -r SRC_AFTER PKTS_AFTER <<<"$(stream_flow)"
check "no flow flushed by the restart: the stream's flow ($SRC_BEFORE) kept its counts ($PKTS_BEFORE -> $SRC_AFTER $PKTS_AFTER)" \
	test "$SRC_AFTER" = "$SRC_BEFORE" -a "${PKTS_AFTER:-0}" -ge "${PKTS_BEFORE:-1}"

# --- the sweep ends expired flows (udp timeout 1 s, sweep every second)
check "udp 5353 allowed" wait_for 20 udp_ok 10.99.2.2
udp_flows() {
	pw flows --json
	jq '[.flows[] | select(.proto=="udp")] | length' "$TMP/out"
}
no_udp_flows() { [[ $(udp_flows) == 0 ]]; }
check "expired udp flow swept" wait_for 10 no_udp_flows
check "live stream not swept" wait_for 20 stream_grows
# the sweep moves the conntrack stamps' window (shared.h, pw_cts): epoch
# past the first, floor caught up or one behind (a move under way); the
# live stream passing all along says no move hid its flow
cts_moved() {
	local b
	b=$(bpftool -j map dump pinned "$PIN/$LAYOUT/maps/pw_cts_state" |
		jq -r '.[0].value | if type == "object" then .cur, .floor else .[0], .[1] end' |
		tr '\n' ' ')
	read -r cur floor <<<"$b"
	cur=$((cur)) floor=$((floor))
	((cur >= 3 && (cur == floor || cur == floor + 1)))
}
check "the sweep moves the stamps' window" wait_for 10 cts_moved
check "no sweep failed" not log_has "sweep failed"

# --- SIGHUP with a configuration whose policy is refused
config "$TMP/bad.yaml"
kill -HUP $DPID
check "RELOADING=1 sent" wait_for 10 grep -q "RELOADING=1" "$TMP/notify.out"
check "refused reload said" wait_for 10 log_has "SIGHUP: policy $TMP/bad.yaml not applied; the running policy (generation 1) and its flows are kept"
check "bad policy error in the log" grep -q "bad.yaml:[0-9]*:[0-9]*: error" "$TMP/d.log"
check "generation unchanged after bad SIGHUP" gen_is 1
check "stream continues after bad SIGHUP" wait_for 20 stream_grows
check "READY=1 after the refused reload" wait_for 10 ready_count 3

# --- SIGHUP with a configuration that has errors: kept as well
config "$TMP/policy.yaml" bogus
kill -HUP $DPID
check "refused configuration said" wait_for 10 log_has "refused; the running configuration and policy (generation 1) are kept"
check "generation unchanged after bad configuration" gen_is 1

# --- SIGHUP with a good one: re-applied
config "$TMP/policy.yaml"
kill -HUP $DPID
check "SIGHUP re-applies" wait_for 10 gen_is 2
check "stream continues across the re-apply" wait_for 20 stream_grows

# --- the policy file changes (written aside and renamed over, as editors
# do): a broken version is refused, a good one applied
cp "$TMP/bad.yaml" "$TMP/policy.yaml.new" && mv "$TMP/policy.yaml.new" "$TMP/policy.yaml"
check "broken policy file refused" wait_for 10 log_has "policy changed: policy $TMP/policy.yaml not applied"
check "generation unchanged after broken file" gen_is 2
check "stream continues after broken file" wait_for 20 stream_grows
cp "$TMP/p8081.yaml" "$TMP/policy.yaml.new" && mv "$TMP/policy.yaml.new" "$TMP/policy.yaml"
check "changed policy file applied" wait_for 10 gen_is 3
check "tcp 8081 allowed by the new file" wait_for 20 tcp_ok 10.99.2.2 8081
check "8080 stream revoked by the new file" wait_for 20 revoked
# Touching the file without changing it applies nothing.
touch "$TMP/policy.yaml"
cp "$TMP/policy.yaml" "$TMP/policy.yaml.new" && mv "$TMP/policy.yaml.new" "$TMP/policy.yaml"
check "unchanged file kept" wait_for 10 log_has "policy changed: $TMP/policy.yaml unchanged, generation 3 kept"
check "generation 3 kept" gen_is 3

# --- SIGTERM: exit 0, enforcement stays
kill -TERM $DPID
wait $DPID
check "SIGTERM exits 0" test $? = 0
check "STOPPING=1 sent" grep -q "STOPPING=1" "$TMP/notify.out"
check "exit says enforcement stays" log_has "enforcement stays in place"
check "xdp still on m1" bash -c "ip -n $NSM link show m1 | grep -q xdp"
check "tcp 8081 allowed after SIGTERM" tcp_ok 10.99.2.2 8081
check "tcp 9090 denied after SIGTERM" not tcp_ok 10.99.2.2 9090

# --- a configuration refused at start while a datapath runs: the daemon
# stays up for it (sweep, SIGHUP) instead of exiting 1, which systemd
# would not restart (RestartPreventExitStatus=1)
config "$TMP/policy.yaml" bogus
R0=$(nready)
start_daemon
check "refused configuration at start, datapath running: said" \
	wait_for 10 log_has "plumwall.yaml refused; the running policy (generation 3) and its flows are kept; waiting for SIGHUP"
check "refused configuration at start: READY=1" wait_for 10 ready_count $((R0 + 1))
check "refused configuration at start: still running" kill -0 $DPID
check "refused configuration at start: generation 3 kept" gen_is 3
check "refused configuration at start: still enforcing" not tcp_ok 10.99.2.2 9090
config "$TMP/policy.yaml"
kill -HUP $DPID
check "then a good configuration on SIGHUP applies" wait_for 10 gen_is 4
kill -TERM $DPID
wait $DPID
check "and SIGTERM exits 0" test $? = 0

nt_done || { sed 's/^/  plumwalld: /' "$TMP/d.log"; false; }
