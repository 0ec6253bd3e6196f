#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# logd_nft.sh - plumwall-logd in nft mode: the table logs through nflog
# group 28791 (PW_NFLOG_GROUP), logd reads it and writes the same JSON
# events as from the ring buffer. Denied, rejected and default-denied
# packets of rules with log: true and a logged default become drop
# events with the rule, tenant, addresses, ports, action and reason; a
# logged global rule names the packet's tenant; an audit tenant's would-be
# denials (rule and default) become audit events and pass; unlogged rules
# give nothing; the log rate limit holds; the pcap sink reads back with
# tcpdump; a policy without log settings emits nothing (checked by the
# nflog sequence of the next logged packet); and with logd stopped while
# 20,000 packets are logged, every one is an event or counted in a
# plumwall.lost event. logd runs in the middle
# namespace only (nsenter --net), as nft mode's table is per namespace.
# Needs root, nc, ping, nft, jq, tcpdump; exit 77 otherwise. Topology
# and plumbing: netns.bash.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init logd_nft nc ping nft tcpdump
LOGD=$BUILD/plumwall-logd
[[ -x $LOGD ]] || { echo "logd_nft: $LOGD not built" >&2; exit 1; }
# No IPv6: router solicitations and MLD reports would be judged too, and
# the events are counted exactly.
for ns in $NSC $NSM $NSS; do
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

# lab owns m1 (client -> server), ops owns m2 (server -> client, audit).
policy() { # policy FILE LOG(true|false) LOG_RATE OPS_MODE
	cat >"$1" <<EOT
version: 1
settings:
  log_rate: $3
rules:
  - {name: no-discard, from: any, to: any, proto: udp, ports: [9], action: deny, log: $2}
tenants:
  - name: lab
    interfaces: [m1]
    default: deny
    log_default: $2
    segments:
      clients: [10.99.1.0/24]
      servers: [10.99.2.0/24]
    rules:
      - {name: web, from: clients, to: servers, proto: tcp, ports: [8080], action: allow}
      - {name: no-syslog, from: clients, to: servers, proto: udp, ports: [514], action: deny, log: $2}
      - {name: no-smtp, from: clients, to: servers, proto: tcp, ports: [25], action: reject, log: $2}
      - {name: no-ping, from: clients, to: servers, proto: icmp, action: reject, log: $2}
      - {name: quiet, from: clients, to: servers, proto: udp, ports: [515], action: deny}
  - name: ops
    interfaces: [m2]
    default: deny
    mode: $4
    rules:
      - {name: no-7777, from: any, to: any, proto: udp, ports: [7777], action: deny}
EOT
}
policy "$TMP/log.yaml" true 0 audit
# audit mode logs whatever log says: the quiet policy enforces
policy "$TMP/quiet.yaml" false 0 enforce
policy "$TMP/rate.yaml" true 2 audit
cat >"$TMP/logd.yaml" <<EOT
policy: $TMP/log.yaml
pin_path: $PIN
logging:
  hostname: fw-nft
  sinks:
    - name: events
      format: json
      path: $TMP/events.json
      queue: 100000
    - name: packets
      format: pcap
      path: $TMP/drops.pcap
EOT
EV=$TMP/events.json

count() { # count JQ_FILTER: events matching
	[[ -f $EV ]] || { echo 0; return; }
	jq -c "select($1)" "$EV" | wc -l
}
has() { [[ $(count "$1") -ge $2 ]]; }
# field FILTER JQ: the value of JQ in the one event matching FILTER
field() { jq -r "select($1) | $2" "$EV"; }
rule_packets() { # rule_packets NAME: its named counter, as stats shows it
	pw stats --json
	jq ".rules[] | select(.name==\"$1\") | .packets" "$TMP/out"
}
udp() { # udp NS ADDR PORT: one datagram
	ip netns exec "$1" bash -c "exec 3<>/dev/udp/$2/$3; echo x >&3"
}
udp_burst() { # udp_burst N PORT: N datagrams from one process, at once
	inc bash -c "exec 3<>/dev/udp/10.99.2.2/$2; for ((i = 0; i < $1; i++)); do echo x >&3; done"
}
lost() { count '.event.dataset=="plumwall.lost"'; }

# logd first: it binds the group at start, before any table logs to it.
# nsenter execs logd: $! is logd's pid
nsenter --net=/var/run/netns/$NSM "$LOGD" -c "$TMP/logd.yaml" 2>"$TMP/logd.err" &
LOGD_PID=$!
PIDS+=("$LOGD_PID")
check "logd binds the nflog group" not grep -q "cannot bind nflog" "$TMP/logd.err"

pw apply --mode nft "$TMP/log.yaml"
check "apply --mode nft exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
check "apply no longer says nft mode has no events" not grep -q "no events" "$TMP/err"
inm nft list table inet plumwall >"$TMP/nft.out" 2>&1
check "the table logs to group 28791" grep -q 'log prefix "pw1:1:1:[0-9]*:d" group 28791' "$TMP/nft.out"
check "logd says where nft mode's events come from" \
	wait_for 10 grep -q "nft mode: reading events from nflog group 28791" "$TMP/logd.err"

# --- drops -------------------------------------------------------------------
udp $NSC 10.99.2.2 514
check "udp drop event" wait_for 10 has '.destination.port==514' 1
S='.destination.port==514'
check "udp: kind drop" test "$(field "$S" .event.dataset)" = plumwall.drop
check "udp: action dropped, type denied" test "$(field "$S" '.event.action + " " + (.event.type|join(","))')" = "dropped connection,denied"
check "udp: reason policy" test "$(field "$S" .event.reason)" = policy
check "udp: rule no-syslog of lab" test "$(field "$S" '.rule.name + "/" + .rule.ruleset')" = no-syslog/lab
check "udp: tenant lab, verdict deny" test "$(field "$S" '.plumwall.tenant + " " + .plumwall.verdict')" = "lab deny"
check "udp: policy generation 1" test "$(field "$S" .plumwall.policy_generation)" = 1
check "udp: addresses" test "$(field "$S" '.source.ip + " " + .destination.ip')" = "10.99.1.2 10.99.2.2"
check "udp: source port set" test "$(field "$S" .source.port)" -gt 0
check "udp: transport udp, ipv4" test "$(field "$S" '.network.transport + " " + .network.type')" = "udp ipv4"
check "udp: bytes of the frame (14 + 20 + 8 + 2)" test "$(field "$S" .network.bytes)" = 44
check "udp: ingress interface m1" test "$(field "$S" .observer.ingress.interface.name)" = m1
check "udp: producer nflog" test "$(field "$S" .plumwall.producer)" = nflog
check "udp: community id v1" grep -qE '^1:[A-Za-z0-9+/]{27}=$' <<<"$(field "$S" .network.community_id)"

inc nc -w 2 -z 10.99.2.2 25 >/dev/null 2>&1
check "tcp reject event" wait_for 10 has '.destination.port==25' 1
S='.destination.port==25'
check "tcp: action rejected, rule no-smtp" test "$(field "$S" '.event.action + " " + .rule.name')" = "rejected no-smtp"
check "tcp: verdict reject" test "$(field "$S" .plumwall.verdict)" = reject
check "tcp: flags SYN" test "$(field "$S" '.plumwall.tcp_flags|join(",")')" = SYN

inc ping -c 1 -W 1 10.99.2.2 >/dev/null 2>&1
check "icmp reject event" wait_for 10 has '.network.transport=="icmp"' 1
S='.network.transport=="icmp"'
check "icmp: rejected by no-ping" test "$(field "$S" '.event.action + " " + .rule.name')" = "rejected no-ping"
check "icmp: type 8 code 0" test "$(field "$S" '"\(.icmp.type) \(.icmp.code)"')" = "8 0"
check "icmp: no ports" test "$(field "$S" '.source.port // "none"')" = none

udp $NSC 10.99.2.2 9
check "global rule drop event" wait_for 10 has '.destination.port==9' 1
S='.destination.port==9'
check "global: rule no-discard, ruleset global" test "$(field "$S" '.rule.name + "/" + .rule.ruleset')" = no-discard/global
check "global: the packet's tenant" test "$(field "$S" .plumwall.tenant)" = lab

udp $NSC 10.99.2.2 5999
check "default drop event" wait_for 10 has '.destination.port==5999' 1
S='.destination.port==5999'
check "default: reason default, no rule" test "$(field "$S" '.event.reason + " " + (.rule.name // "none")')" = "default none"
check "default: action dropped, tenant lab" test "$(field "$S" '.event.action + " " + .plumwall.tenant')" = "dropped lab"

# --- audit: the server's datagrams to the client pass, logged --------------
inc bash -c "exec nc -u -l -W 1 -w 5 10.99.1.2 7777 >'$TMP/got7777'" &
PIDS+=($!)
listening() { inc ss -Huln "sport = :$1" | grep -q .; }
check "client listens on 7777" wait_for 10 listening 7777
udp $NSS 10.99.1.2 7777
check "audit event of rule no-7777" wait_for 10 has '.destination.port==7777' 1
S='.destination.port==7777'
check "audit: kind audit, action audited" test "$(field "$S" '.event.dataset + " " + .event.action')" = "plumwall.audit audited"
check "audit: type allowed" test "$(field "$S" '.event.type|join(",")')" = connection,allowed
check "audit: rule no-7777 of ops, verdict audit" test "$(field "$S" '.rule.name + "/" + .rule.ruleset + " " + .plumwall.verdict')" = "no-7777/ops audit"
check "audit: the datagram passed" wait_for 10 grep -q x "$TMP/got7777"
udp $NSS 10.99.1.2 7778
check "audit event of ops' default" wait_for 10 has '.destination.port==7778' 1
check "audit default: reason default, tenant ops" test "$(field '.destination.port==7778' '.event.reason + " " + .plumwall.tenant + " " + .event.dataset')" = "default ops plumwall.audit"

# --- nothing else ----------------------------------------------------------
udp $NSC 10.99.2.2 515 # quiet: a rule without log
serve_tcp 10.99.2.2 8080
check "allowed connection passes" wait_for 10 tcp_ok 10.99.2.2 8080
udp $NSC 10.99.2.2 9 # a marker after them: logged
check "marker event" wait_for 10 has '.destination.port==9' 2
check "no event of the unlogged rule" test "$(count '.destination.port==515')" = 0
check "no event of the allowed connection" test "$(count '.destination.port==8080')" = 0
check "eight drop and audit events" test "$(count '.event.dataset=="plumwall.drop" or .event.dataset=="plumwall.audit"')" = 8
check "nflog sequence without gaps" test "$(jq -s '[.[] | select(.plumwall.producer=="nflog") | .event.sequence] | . == [range(0; length)]' "$EV")" = true
check "nothing lost" test "$(lost)" = 0
# NFULA_TIMESTAMP, or the time logd read it: wall-clock time, now
stamps_now() {
	jq -e -s --argjson now "$(date +%s)" \
		'all(.[]; (.["@timestamp"] | sub("\\.[0-9]+Z$"; "Z") | fromdate) - $now | fabs < 600)' "$EV" >/dev/null
}
check "events stamped with the wall clock" stamps_now

# --- pcap: the dropped packets read back -------------------------------------
# tcpdump's filter reads the made-up or copied Ethernet header and the
# IP and UDP headers behind it
pcap_ok() { tcpdump -nn -r "$TMP/drops.pcap" 'udp port 514' 2>/dev/null | grep -q '10.99.1.2.[0-9]* > 10.99.2.2.514:'; }
check "pcap: tcpdump reads the udp drop" wait_for 10 pcap_ok
pcap_icmp() { tcpdump -nn -r "$TMP/drops.pcap" icmp 2>/dev/null | grep -q 'ICMP echo request'; }
check "pcap: and the echo request" wait_for 10 pcap_icmp

# --- a policy without log settings emits nothing -----------------------------
pw apply --mode nft "$TMP/quiet.yaml"
check "apply quiet exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
inm nft list table inet plumwall >"$TMP/nft.out" 2>&1
check "quiet table has no log statement" not grep -q ' log ' "$TMP/nft.out"
n0=$(count 'true')
last=$(jq -s '[.[] | select(.plumwall.producer=="nflog") | .event.sequence] | max' "$EV")
p0=$(rule_packets no-syslog)
udp $NSC 10.99.2.2 514
udp $NSC 10.99.2.2 9
udp $NSC 10.99.2.2 5999
inc ping -c 1 -W 1 10.99.2.2 >/dev/null 2>&1
udp $NSS 10.99.1.2 7777
counted() { [[ $(rule_packets "$1") -ge $2 ]]; }
check "quiet policy dropped the udp datagram" wait_for 10 counted no-syslog $((p0 + 1))
# Back to logging: the next logged packet must be the group's next number.
pw apply --mode nft "$TMP/log.yaml"
check "apply log again exits 0" test "$RC" = 0
udp $NSC 10.99.2.2 514
check "event after the quiet policy" wait_for 10 has "$(printf '.plumwall.producer=="nflog" and .event.sequence==%s' $((last + 1)))" 1
check "the quiet policy emitted nothing" test "$(count 'true')" = $((n0 + 1))
check "its generation is 3" test "$(field ".event.sequence==$((last + 1))" .plumwall.policy_generation)" = 3

# --- rate limit: settings.log_rate 2, burst 2 ----------------------------------
pw apply --mode nft "$TMP/rate.yaml"
check "apply rate exits 0" test "$RC" = 0
n0=$(count '.destination.port==514')
p0=$(rule_packets no-syslog)
udp_burst 20 514
c514() { echo $(($(count '.destination.port==514') - n0)); }
check "all 20 counted by the rule" wait_for 10 counted no-syslog $((p0 + 20))
udp $NSC 10.99.2.2 5999 # marker: the default's bucket, logged after them
check "rate marker" wait_for 10 has '.destination.port==5999 and .plumwall.policy_generation==4' 1
check "log_rate 2: 2 or 3 of 20 logged ($(c514))" test "$(c514)" -ge 2 -a "$(c514)" -le 3

# --- loss: logd stopped while the group overflows its socket ------------------
# Every packet is an event or counted in a plumwall.lost event, never
# silence: the kernel numbers each one, so what it could not deliver is
# a gap logd reports (and the overrun, ENOBUFS, at once).
pw apply --mode nft "$TMP/log.yaml"
check "apply log (generation 5) exits 0" test "$RC" = 0
N=20000
p0=$(rule_packets no-syslog)
kill -STOP "$LOGD_PID"
udp_burst $N 514
check "all $N counted by the rule" wait_for 30 counted no-syslog $((p0 + N))
kill -CONT "$LOGD_PID"
# Markers until one comes through: one sent while logd has not yet
# drained the socket is dropped too (and counted in the next gap).
M=0
marker() {
	M=$((M + 1))
	udp $NSC 10.99.2.2 9
	has '.destination.port==9 and .plumwall.policy_generation==5' 1
}
check "a marker comes through after the overrun" wait_for 30 marker
lostn() { jq -s '[.[] | select(.event.dataset=="plumwall.lost") | .plumwall.count] | add // 0' "$EV"; }
tally() {
	got=$(count '.destination.port==514 and .plumwall.policy_generation==5')
	got9=$(count '.destination.port==9 and .plumwall.policy_generation==5')
	lostn=$(lostn)
	((got + got9 + lostn == N + M))
}
wait_for 30 tally
check "the socket overflowed: events lost ($lostn)" test "$lostn" -gt 0
check "every packet an event or counted lost ($got + $got9 + $lostn = $N + $M)" test $((got + got9 + lostn)) = $((N + M))
check "lost events are logd's" test "$(field '.event.dataset=="plumwall.lost"' .plumwall.producer | sort -u)" = logd

kill "$LOGD_PID"
check "logd stops and counts the loss" wait_for 10 grep -q "nflog group 28791: [0-9]* events, $lostn lost ([1-9][0-9]* overruns)" "$TMP/logd.err"
# --- a new logd while nft mode runs: the group is free again -------------------
rm -f "$EV"
nsenter --net=/var/run/netns/$NSM "$LOGD" -c "$TMP/logd.yaml" 2>"$TMP/logd2.err" &
LOGD_PID=$!
PIDS+=("$LOGD_PID")
check "restarted logd reads nft mode's events" \
	wait_for 10 grep -q "nft mode: reading events from nflog group 28791" "$TMP/logd2.err"
udp $NSC 10.99.2.2 514
check "restarted logd: the drop, sequence 0" wait_for 10 has '.destination.port==514 and .event.sequence==0 and .rule.name=="no-syslog"' 1
kill "$LOGD_PID"
nt_done
