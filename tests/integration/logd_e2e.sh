#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# logd_e2e.sh - plumwall-logd end to end: real traffic through three
# network namespaces (client, middle with plumwall applied, server), events
# to a JSON file. Denied traffic gives exactly the expected drop events;
# an allowed logged TCP connection gives a flow start and, when it closes
# with FIN, a flow end whose packet and byte counts match what tcpdump saw.
# Needs root, nc, ping, jq, tcpdump; exit 77 otherwise. Waits on
# conditions with bounded timeouts; cleans up in an EXIT trap.

set -u

ROOT=${PLUMWALL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${PLUMWALL_BUILD:-$ROOT/build}
PW=$BUILD/plumwall
LOGD=$BUILD/plumwall-logd

if [[ $(id -u) != 0 ]]; then
	echo "logd_e2e: needs root, skipped"
	exit 77
fi
for t in nc ping jq tcpdump ip nsenter; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "logd_e2e: $t not installed, skipped"
		exit 77
	fi
done
if [[ ! -x $PW || ! -x $LOGD ]]; then
	echo "logd_e2e: $PW or $LOGD not built" >&2
	exit 1
fi
S=pwe$$
NSC=${S}c NSM=${S}m NSS=${S}s
TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-logd-e2e.XXXXXX") || exit 1
export PLUMWALL_PIN_PATH=/sys/fs/bpf/$S PLUMWALL_RUN_DIR=$TMP/run
PIN=$PLUMWALL_PIN_PATH
LOGD_PID= TD_PID=
PIDS=()

cleanup() {
	local p ns
	[[ -n $LOGD_PID ]] && kill "$LOGD_PID" 2>/dev/null
	[[ -n $TD_PID ]] && kill "$TD_PID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	nsenter --net=/var/run/netns/$NSM "$PW" down >/dev/null 2>&1
	for ns in $NSC $NSM $NSS; do
		p=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$p" ] && kill $p 2>/dev/null
	done
	ip netns del $NSC 2>/dev/null
	ip netns del $NSM 2>/dev/null
	ip netns del $NSS 2>/dev/null
	rm -rf "$TMP" "$PIN"
}
trap cleanup EXIT

passed=0
failed=0
not() { ! "$@"; }
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok; else ko "$d"; fi
}
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		read -r -t 0.05 <> <(:) || true
	done
}

ip netns add $NSC && ip netns add $NSM && ip netns add $NSS || exit 1
# No IPv6: router solicitations and MLD reports would be judged too.
for ns in $NSC $NSM $NSS; do
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add c0 netns $NSC type veth peer name m1 netns $NSM
ip link add s0 netns $NSS type veth peer name m2 netns $NSM
ip -n $NSC addr add 10.98.1.2/24 dev c0
ip -n $NSM addr add 10.98.1.1/24 dev m1
ip -n $NSM addr add 10.98.2.1/24 dev m2
ip -n $NSS addr add 10.98.2.2/24 dev s0
for l in "$NSC c0" "$NSM m1" "$NSM m2" "$NSS s0" "$NSC lo" "$NSM lo" "$NSS lo"; do
	set -- $l
	ip -n $1 link set $2 up
done
ip -n $NSC route add default via 10.98.1.1
ip -n $NSS route add default via 10.98.2.1
ip netns exec $NSM sysctl -qw net.ipv4.ip_forward=1

inc() { ip netns exec $NSC "$@"; }
ins() { ip netns exec $NSS "$@"; }

# Both middle interfaces belong to the tenant, so each direction of a
# flow is seen on its ingress: client -> server on m1, replies on m2.
cat >"$TMP/policy.yaml" <<'EOT'
version: 1
settings:
  unmatched: deny
  log_rate: 0
tenants:
  - name: lab
    interfaces: [m1, m2]
    default: deny
    log_default: false
    segments:
      clients: [10.98.1.0/24]
      servers: [10.98.2.0/24]
    rules:
      - name: web
        from: clients
        to: servers
        proto: tcp
        ports: [8080]
        action: allow
        log: true
      - name: no-syslog
        from: clients
        to: servers
        proto: udp
        ports: [514]
        action: deny
        log: true
      - name: no-ping
        from: clients
        to: servers
        proto: icmp
        action: reject
        log: true
EOT
cat >"$TMP/logd.yaml" <<EOT
policy: $TMP/policy.yaml
pin_path: $PIN
logging:
  hostname: fw-e2e
  sinks:
    - name: events
      format: json
      path: $TMP/events.json
EOT
EV=$TMP/events.json

nsenter --net=/var/run/netns/$NSM "$PW" apply "$TMP/policy.yaml" >"$TMP/out" 2>&1
check "apply ($(cat "$TMP/out"))" test $? = 0
"$LOGD" -c "$TMP/logd.yaml" 2>"$TMP/logd.err" &
LOGD_PID=$!
check "logd reads the ring buffer" wait_for 10 grep -q "reading events from" "$TMP/logd.err"

count() { # count JQ_FILTER: events matching
	[[ -f $EV ]] || { echo 0; return; }
	jq -c "select($1)" "$EV" | wc -l
}
has() { [[ $(count "$1") -ge $2 ]]; }

# --- denied: one UDP datagram, one echo request ------------------------------
echo x | inc nc -u -w0 10.98.2.2 514
inc ping -c 1 -W 1 10.98.2.2 >/dev/null 2>&1
check "udp drop event" wait_for 10 has '.event.dataset=="plumwall.drop" and .network.transport=="udp"' 1
check "icmp reject event" wait_for 10 has '.event.dataset=="plumwall.drop" and .network.transport=="icmp"' 1
check "exactly two drop events" test "$(count '.event.dataset=="plumwall.drop"')" = 2
U='select(.network.transport=="udp")'
field() { jq -r "$U | $1" "$EV"; }
check "udp: action dropped, type denied" test "$(field '.event.action + " " + (.event.type|join(","))')" = "dropped connection,denied"
check "udp: reason policy" test "$(field .event.reason)" = policy
check "udp: rule no-syslog of lab" test "$(field '.rule.name + "/" + .rule.ruleset')" = no-syslog/lab
check "udp: tenant and segments" test "$(field '.plumwall | .tenant + " " + .src_segment + " " + .dst_segment')" = "lab clients servers"
check "udp: verdict deny" test "$(field .plumwall.verdict)" = deny
check "udp: addresses" test "$(field '.source.ip + " " + .destination.ip')" = "10.98.1.2 10.98.2.2"
check "udp: destination port 514" test "$(field .destination.port)" = 514
check "udp: source port set" test "$(field .source.port)" -gt 0
check "udp: ingress interface m1" test "$(field .observer.ingress.interface.name)" = m1
check "udp: community id v1" grep -qE '^1:[A-Za-z0-9+/]{27}=$' <<<"$(field .network.community_id)"
check "udp: network type ipv4" test "$(field .network.type)" = ipv4
I='select(.network.transport=="icmp")'
check "icmp: action rejected" test "$(jq -r "$I | .event.action" "$EV")" = rejected
check "icmp: type 8 code 0" test "$(jq -r "$I | \"\(.icmp.type) \(.icmp.code)\"" "$EV")" = "8 0"
check "icmp: no ports" test "$(jq -r "$I | .source.port // \"none\"" "$EV")" = none
check "icmp: rule no-ping" test "$(jq -r "$I | .rule.name" "$EV")" = no-ping

# --- allowed and logged: one TCP connection, closed with FIN -----------------
ins bash -c "echo hello | exec nc -l -N 10.98.2.2 8080" >/dev/null 2>&1 &
PIDS+=($!)
srv_up() { ins ss -Htln "sport = :8080" | grep -q .; }
check "server listens" wait_for 10 srv_up
ip netns exec $NSM tcpdump -i m1 -nn -e -tt -U -l 'tcp port 8080' >"$TMP/td.txt" 2>"$TMP/td.err" &
TD_PID=$!
check "tcpdump listens" wait_for 10 grep -q "listening on" "$TMP/td.err"
# -d: the client sends nothing and closes only after the server's FIN, so
# its FIN is the second one, the one that ends the flow.
inc nc -d -w 5 10.98.2.2 8080 >"$TMP/reply" 2>/dev/null
check "connection got the reply" grep -q hello "$TMP/reply"
check "flow end event" wait_for 10 has '.event.dataset=="plumwall.flow" and .event.action=="flow_ended"' 1
c2s() { grep -c ' 10\.98\.1\.2\.[0-9]* > 10\.98\.2\.2\.8080:' "$TMP/td.txt"; }
s2c() { grep -c ' 10\.98\.2\.2\.8080 > 10\.98\.1\.2\.[0-9]*:' "$TMP/td.txt"; }
# the last packet: the server's ACK of the client's FIN
td_done() { [[ $(tail -1 "$TMP/td.txt") == *"10.98.2.2.8080 > 10.98.1.2."*"Flags [.]"* ]]; }
check "tcpdump saw the final ACK" wait_for 10 td_done
kill $TD_PID
wait $TD_PID 2>/dev/null
TD_PID=
bytes() { # bytes DIRECTION_REGEX [SKIP_LAST]: frame lengths summed
	grep -E "$1" "$TMP/td.txt" | sed -n 's/.*ethertype IPv4 (0x0800), length \([0-9]*\): .*/\1/p' |
		awk -v skip="${2:-0}" '{ v[NR] = $1 } END { for (i = 1; i <= NR - skip; i++) s += v[i]; print s + 0 }'
}
C2S_P=$(c2s) S2C_P=$(($(s2c) - 1))
C2S_B=$(bytes ' 10\.98\.1\.2\.[0-9]+ > 10\.98\.2\.2\.8080:')
S2C_B=$(bytes ' 10\.98\.2\.2\.8080 > 10\.98\.1\.2\.[0-9]+:' 1)
F='select(.event.action=="flow_ended")'
ff() { jq -r "$F | $1" "$EV"; }
check "exactly one flow start" test "$(count '.event.action=="flow_started"')" = 1
check "exactly one flow end" test "$(count '.event.action=="flow_ended"')" = 1
check "flow start: type start, rule web" test "$(jq -r 'select(.event.action=="flow_started") | (.event.type|join(",")) + " " + .rule.name' "$EV")" = "connection,start web"
check "flow end: type end" test "$(ff '.event.type|join(",")')" = connection,end
check "flow end: end_reason fin" test "$(ff .plumwall.end_reason)" = fin
check "flow end: rule web of lab" test "$(ff '.rule.name + "/" + .rule.ruleset')" = web/lab
check "flow end: initiator and responder" test "$(ff '.source.ip + " " + .destination.ip + ":" + (.destination.port|tostring)')" = "10.98.1.2 10.98.2.2:8080"
check "flow end: client packets = tcpdump ($C2S_P)" test "$(ff .source.packets)" = "$C2S_P"
check "flow end: server packets = tcpdump ($S2C_P)" test "$(ff .destination.packets)" = "$S2C_P"
check "flow end: client bytes = tcpdump ($C2S_B)" test "$(ff .source.bytes)" = "$C2S_B"
check "flow end: server bytes = tcpdump ($S2C_B)" test "$(ff .destination.bytes)" = "$S2C_B"
check "flow end: network totals" test "$(ff '"\(.network.packets) \(.network.bytes)"')" = "$((C2S_P + S2C_P)) $((C2S_B + S2C_B))"
check "flow end: duration >= 0 and start <= end" test "$(ff '(.event.duration >= 0) and (.event.start <= .event.end)')" = true
check "no lost events" test "$(count '.event.dataset=="plumwall.lost"')" = 0
check "still exactly two drop events" test "$(count '.event.dataset=="plumwall.drop"')" = 2

kill -TERM $LOGD_PID
wait $LOGD_PID
RC=$?
LOGD_PID=
check "SIGTERM exits 0" test $RC = 0

echo "logd_e2e: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
