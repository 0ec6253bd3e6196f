#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# logd_e2e.sh - plumwall-logd end to end: real traffic through three
# network namespaces (client, middle with plumwall applied, server), events
# to a JSON file. Denied traffic gives exactly the expected drop events;
# an allowed logged TCP connection gives a flow start and, when it closes
# with FIN, a flow end whose packet and byte counts match what tcpdump saw;
# plumwalld's conntrack sweep ends an expired logged UDP flow (end reason
# timeout) and `plumwall down` ends a still-open logged TCP flow (end
# reason shutdown), both read by logd from the ring buffer it holds. Last,
# a QinQ frame in tc mode is a malformed drop on the untagged wire's
# tenant.
# Needs root, nc, ping, jq, tcpdump; exit 77 otherwise. Topology and
# plumbing: netns.bash.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init logd_e2e nc ping tcpdump ss
LOGD=$BUILD/plumwall-logd
PWD_BIN=$BUILD/plumwalld
for b in "$LOGD" "$PWD_BIN"; do
	[[ -x $b ]] || { echo "logd_e2e: $b not built" >&2; exit 1; }
done
# No IPv6: router solicitations and MLD reports would be judged too, and
# the drop events are counted exactly.
for ns in $NSC $NSM $NSS; do
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

# Both middle interfaces belong to the tenant, so each direction of a
# flow is seen on its ingress: client -> server on m1, replies on m2.
# UDP flows expire after 1 s, for plumwalld's sweep below.
cat >"$TMP/policy.yaml" <<'EOT'
version: 1
settings:
  unmatched: deny
  log_rate: 0
  conntrack:
    timeouts: {udp: 1}
tenants:
  - name: lab
    interfaces: [m1, m2]
    default: deny
    log_default: false
    segments:
      clients: [10.99.1.0/24]
      servers: [10.99.2.0/24]
    rules:
      - name: web
        from: clients
        to: servers
        proto: tcp
        ports: [8080]
        action: allow
        log: true
      - name: dns
        from: clients
        to: servers
        proto: udp
        ports: [5353]
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
PIDS+=("$LOGD_PID")
check "logd reads the ring buffer" wait_for 10 grep -q "reading events from" "$TMP/logd.err"

count() { # count JQ_FILTER: events matching
	[[ -f $EV ]] || { echo 0; return; }
	jq -c "select($1)" "$EV" | wc -l
}
has() { [[ $(count "$1") -ge $2 ]]; }

# --- denied: one UDP datagram, one echo request ------------------------------
echo x | inc nc -u -w0 10.99.2.2 514
inc ping -c 1 -W 1 10.99.2.2 >/dev/null 2>&1
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
check "udp: addresses" test "$(field '.source.ip + " " + .destination.ip')" = "10.99.1.2 10.99.2.2"
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
ins bash -c "echo hello | exec nc -l -N 10.99.2.2 8080" >/dev/null 2>&1 &
PIDS+=($!)
srv_up() { ins ss -Htln "sport = :8080" | grep -q .; }
check "server listens" wait_for 10 srv_up
ip netns exec $NSM tcpdump -i m1 -nn -e -tt -U -l 'tcp port 8080' >"$TMP/td.txt" 2>"$TMP/td.err" &
TD_PID=$!
PIDS+=("$TD_PID")
check "tcpdump listens" wait_for 10 grep -q "listening on" "$TMP/td.err"
# -d: the client sends nothing and closes only after the server's FIN, so
# its FIN is the second one, the one that ends the flow.
inc nc -d -w 5 10.99.2.2 8080 >"$TMP/reply" 2>/dev/null
check "connection got the reply" grep -q hello "$TMP/reply"
check "flow end event" wait_for 10 has '.event.dataset=="plumwall.flow" and .event.action=="flow_ended"' 1
c2s() { grep -c ' 10\.99\.1\.2\.[0-9]* > 10\.99\.2\.2\.8080:' "$TMP/td.txt"; }
s2c() { grep -c ' 10\.99\.2\.2\.8080 > 10\.99\.1\.2\.[0-9]*:' "$TMP/td.txt"; }
# td_final: the line number of the flow's last packet, the server's ACK
# of the client's FIN (none yet: nothing). What follows it is not the
# flow's: under emulation the server once sent that ACK twice, and the
# closed client answered the second with a RST.
td_final() {
	awk '/ 10\.99\.1\.2\.[0-9]+ > 10\.99\.2\.2\.8080: Flags \[F/ { fin = 1; next }
		fin && / 10\.99\.2\.2\.8080 > 10\.99\.1\.2\.[0-9]+: Flags \[\.\]/ { print NR; exit }' "$TMP/td.txt"
}
td_done() { [[ -n $(td_final) ]]; }
# (a guest under emulation on a busy host can lag seconds behind)
if ! wait_for 30 td_done; then
	echo "logd_e2e: tcpdump's last lines:"
	tail -5 "$TMP/td.txt"
fi
check "tcpdump saw the final ACK" td_done
kill $TD_PID
wait $TD_PID 2>/dev/null
n=$(td_final)
[[ -z $n ]] || { head -n "$n" "$TMP/td.txt" >"$TMP/td.flow" && mv "$TMP/td.flow" "$TMP/td.txt"; }
bytes() { # bytes DIRECTION_REGEX [SKIP_LAST]: frame lengths summed
	grep -E "$1" "$TMP/td.txt" | sed -n 's/.*ethertype IPv4 (0x0800), length \([0-9]*\): .*/\1/p' |
		awk -v skip="${2:-0}" '{ v[NR] = $1 } END { for (i = 1; i <= NR - skip; i++) s += v[i]; print s + 0 }'
}
C2S_P=$(c2s) S2C_P=$(($(s2c) - 1))
C2S_B=$(bytes ' 10\.99\.1\.2\.[0-9]+ > 10\.99\.2\.2\.8080:')
S2C_B=$(bytes ' 10\.99\.2\.2\.8080 > 10\.99\.1\.2\.[0-9]+:' 1)
F='select(.event.action=="flow_ended")'
ff() { jq -r "$F | $1" "$EV"; }
check "exactly one flow start" test "$(count '.event.action=="flow_started"')" = 1
check "exactly one flow end" test "$(count '.event.action=="flow_ended"')" = 1
check "flow start: type start, rule web" test "$(jq -r 'select(.event.action=="flow_started") | (.event.type|join(",")) + " " + .rule.name' "$EV")" = "connection,start web"
check "flow end: type end" test "$(ff '.event.type|join(",")')" = connection,end
check "flow end: end_reason fin" test "$(ff .plumwall.end_reason)" = fin
check "flow end: rule web of lab" test "$(ff '.rule.name + "/" + .rule.ruleset')" = web/lab
check "flow end: initiator and responder" test "$(ff '.source.ip + " " + .destination.ip + ":" + (.destination.port|tostring)')" = "10.99.1.2 10.99.2.2:8080"
check "flow end: client packets = tcpdump ($C2S_P)" test "$(ff .source.packets)" = "$C2S_P"
check "flow end: server packets = tcpdump ($S2C_P)" test "$(ff .destination.packets)" = "$S2C_P"
check "flow end: client bytes = tcpdump ($C2S_B)" test "$(ff .source.bytes)" = "$C2S_B"
check "flow end: server bytes = tcpdump ($S2C_B)" test "$(ff .destination.bytes)" = "$S2C_B"
check "flow end: network totals" test "$(ff '"\(.network.packets) \(.network.bytes)"')" = "$((C2S_P + S2C_P)) $((C2S_B + S2C_B))"
check "flow end: duration >= 0 and start <= end" test "$(ff '(.event.duration >= 0) and (.event.start <= .event.end)')" = true

# --- plumwalld's sweep ends an expired logged UDP flow (timeout 1 s) ---------
cat >"$TMP/plumwall.yaml" <<EOT
policy: $TMP/policy.yaml
mode: xdp
pin_path: $PIN
conntrack_sweep_interval: 1
EOT
# A simple command: $! is plumwalld itself (nsenter execs it).
nsenter --net=/var/run/netns/$NSM "$PWD_BIN" -c "$TMP/plumwall.yaml" >>"$TMP/d.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
check "plumwalld keeps the applied policy" wait_for 15 grep -q "unchanged, generation 1 kept" "$TMP/d.log"
ins bash -c "echo pong | exec nc -u -l -W 1 -w 2 10.99.2.2 5353" >/dev/null 2>&1 &
PIDS+=($!)
udp_srv_up() { ins ss -Huln "sport = :5353" | grep -q .; }
check "udp server listens" wait_for 10 udp_srv_up
# One exchange, not retried: exactly one datagram each way.
echo ping | inc nc -u -w 1 10.99.2.2 5353 >"$TMP/udp.reply" 2>/dev/null
check "udp exchange got the reply" grep -q pong "$TMP/udp.reply"
UF='.event.dataset=="plumwall.flow" and .network.transport=="udp"'
check "udp flow start" wait_for 10 has "$UF and .event.action==\"flow_started\"" 1
check "udp flow end after the sweep" wait_for 15 has "$UF and .event.action==\"flow_ended\"" 1
uf() { jq -r "select($UF and .event.action==\"flow_ended\") | $1" "$EV"; }
check "exactly one udp flow start" test "$(count "$UF and .event.action==\"flow_started\"")" = 1
check "exactly one udp flow end" test "$(count "$UF and .event.action==\"flow_ended\"")" = 1
check "udp flow start comes first" test "$(jq -r "select($UF) | .event.action" "$EV" | paste -sd' ')" = "flow_started flow_ended"
check "udp flow end: end_reason timeout" test "$(uf .plumwall.end_reason)" = timeout
check "udp flow end: type end, rule dns" test "$(uf '(.event.type|join(",")) + " " + .rule.name')" = "connection,end dns"
check "udp flow end: 1 packet each way" test "$(uf '"\(.source.packets) \(.destination.packets)"')" = "1 1"
# Ethernet 14 + IPv4 20 + UDP 8 + "ping\n" / "pong\n" 5
check "udp flow end: 47 bytes each way" test "$(uf '"\(.source.bytes) \(.destination.bytes)"')" = "47 47"
check "udp flow end: addresses" test "$(uf '.source.ip + " " + .destination.ip + ":" + (.destination.port|tostring)')" = "10.99.1.2 10.99.2.2:5353"
check "udp flow end: same flow as the start" test "$(jq -r "select($UF) | .network.community_id" "$EV" | sort -u | wc -l)" = 1
udp_flows() {
	pw flows --json
	jq '[.flows[] | select(.proto=="udp")] | length' "$TMP/out"
}
check "swept flow gone from the table" test "$(udp_flows)" = 0
kill -TERM $DPID
wait $DPID
check "plumwalld SIGTERM exits 0" test $? = 0

# --- plumwall down ends a still-open logged TCP flow (shutdown) --------------
ins bash -c "exec nc -l -d 10.99.2.2 8080" >/dev/null 2>&1 &
PIDS+=($!)
check "server listens again" wait_for 10 srv_up
# -d: neither side sends anything; the connection stays open until down.
inc nc -d 10.99.2.2 8080 >/dev/null 2>&1 &
PIDS+=($!)
TF='.event.dataset=="plumwall.flow" and .network.transport=="tcp"'
check "open tcp flow start" wait_for 10 has "$TF and .event.action==\"flow_started\"" 2
tcp_open() {
	pw flows --json
	[[ $(jq '[.flows[] | select(.dst=="10.99.2.2:8080" and .state=="established")] | length' "$TMP/out") == 1 ]]
}
check "open tcp flow tracked" wait_for 10 tcp_open
pw down
check "plumwall down exits 0 ($(cat "$TMP/err"))" test $RC = 0
check "pins removed" test ! -e "$PIN/$LAYOUT"
SF="$TF and .event.action==\"flow_ended\" and .plumwall.end_reason==\"shutdown\""
check "shutdown flow end read after the pins are gone" wait_for 10 has "$SF" 1
sf() { jq -r "select($SF) | $1" "$EV"; }
check "exactly one shutdown flow end" test "$(count "$SF")" = 1
# The FIN-closed flow is still in the table ("closed"): not ended twice.
check "tcp flow ends: fin and shutdown, once each" test "$(jq -r "select($TF and .event.action==\"flow_ended\") | .plumwall.end_reason" "$EV" | paste -sd' ')" = "fin shutdown"
check "shutdown flow end: the open connection" test "$(sf '.rule.name + " " + .destination.ip + ":" + (.destination.port|tostring)')" = "web 10.99.2.2:8080"
check "shutdown flow end: the handshake counted" test "$(sf '"\(.source.packets) \(.destination.packets)"')" = "2 1"
check "logd alive after down" kill -0 $LOGD_PID
check "no lost events" test "$(count '.event.dataset=="plumwall.lost"')" = 0
check "still exactly two drop events" test "$(count '.event.dataset=="plumwall.drop"')" = 2

# --- a QinQ frame in tc mode: malformed, on the tenant of the outer wire --
# qinq_push tags what the client sends as a QinQ stack of VLAN devices
# would: 802.1Q 100 in the frame, 802.1ad 200 in the skb's metadata, which
# tc sees offloaded. A service tag is no 802.1Q VLAN, so the frame came in
# on m1's untagged wire: lab's (`plumwall trace` says so too, trace.sh).
pw apply --mode tc "$TMP/policy.yaml"
check "qinq: apply --mode tc exits 0 ($(cat "$TMP/err"))" test $RC = 0
inc tc qdisc add dev c0 clsact
inc tc filter add dev c0 egress bpf da obj "$BUILD/bpf/xdp_pass.bpf.o" sec tc
check "qinq: tagging filter on c0" test $? = 0
MF='.event.dataset=="plumwall.drop" and .event.reason=="malformed"'
qinq_sent() {
	inc ping -c 1 -W 1 10.99.2.2 >/dev/null 2>&1
	has "$MF" 1
}
check "qinq: malformed drop event" wait_for 15 qinq_sent
check "qinq: every one on lab, without segments or addresses" \
	test "$(jq -r "select($MF) | [.plumwall.tenant, .plumwall.src_segment, .source.ip] | tostring" "$EV" | sort -u)" = '["lab",null,null]'
inc tc qdisc del dev c0 clsact
pw down

kill -TERM $LOGD_PID
wait $LOGD_PID
check "SIGTERM exits 0" test $? = 0

nt_done || { sed 's/^/  logd: /' "$TMP/logd.err"; sed 's/^/  plumwalld: /' "$TMP/d.log"; false; }
