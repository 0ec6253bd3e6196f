#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# nft.sh - apply --mode nft: the policy as the nftables table inet
# plumwall. What senders see, IPv4 and IPv6: allowed TCP, UDP and ICMP
# pass, denied does not, rejected gets a TCP RST or an ICMP
# administratively-prohibited error, audit mode passes what it would
# deny. status says nft, stats reads the named counters (which follow a
# rule across applies), nft(8) lists the table, replacements lose no new
# flow (each echo request of the stream is its own conntrack entry, so
# every one is judged by whichever policy runs), down removes the table,
# and the two engines refuse to run side by side.
# Topology and plumbing: netns.bash.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init nft nc ping nft

policy() { # policy FILE MODE EXTRA_TCP_PORT DNS_ACTION
	cat >"$1" <<EOT
version: 1
tenants:
  - name: lab
    interfaces: [m1]
    default: deny
    mode: $2
    segments:
      clients: [10.99.1.0/24, "fd99:1::/64"]
      servers: [10.99.2.0/24, "fd99:2::/64"]
    rules:
      - {name: web, from: clients, to: servers, proto: tcp, ports: [8080, $3], action: allow}
      - {name: dns, from: clients, to: servers, proto: udp, ports: [5353], action: $4}
      - {name: no-ping-3, from: clients, to: [10.99.2.3, "fd99:2::3"], proto: any, action: reject}
      - {name: ping, from: clients, to: servers, proto: icmp, icmp: [echo-request], action: allow}
      - {name: ping6, from: clients, to: servers, proto: icmpv6, icmp: [echo-request], action: allow}
      - {name: smtp, from: clients, to: servers, proto: tcp, ports: [25], action: reject}
      - {name: ntp, from: clients, to: servers, proto: udp, ports: [123], action: reject}
      - {name: flows, from: clients, to: servers, proto: udp, ports: [7000], action: allow}
EOT
}
policy "$TMP/enforce.yaml" enforce 8081 allow
policy "$TMP/audit.yaml" audit 8081 allow
policy "$TMP/other.yaml" enforce 8082 deny
cat >"$TMP/vlan.yaml" <<EOT
version: 1
tenants:
  - name: lab
    interfaces: [m1]
    vlans: [10]
    default: deny
EOT

for a in 10.99.2.2 fd99:2::2; do
	serve_tcp $a 8080 8081 8082 9090 25
	serve_udp $a
done
tcp_refused() {
	local t0=$SECONDS
	inc nc -v -w 3 -z "$1" "$2" >"$TMP/nc.out" 2>&1
	grep -q "refused" "$TMP/nc.out" && ((SECONDS - t0 < 3))
}
udp_refused() {
	inc bash -c "exec 3<>/dev/udp/$1/123; echo a >&3; read -r -t 2 <&3; echo b >&3" >/dev/null 2>"$TMP/udp.err"
	grep -qiE "no route to host|permission denied" "$TMP/udp.err"
}
ping_prohibited() {
	inc ping -c 1 -W 2 "$1" >"$TMP/ping.out" 2>&1
	grep -qiE "filtered|prohibited" "$TMP/ping.out"
}
table_listed() { inm nft list table inet plumwall >"$TMP/nft.out" 2>&1; }

check "path works before apply" wait_for 10 tcp_ok 10.99.2.2 8080
check "ipv6 path works before apply" wait_for 10 tcp_ok fd99:2::2 8080

pw apply --mode nft "$TMP/enforce.yaml"
check "apply --mode nft exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
check "nft lists the table" table_listed
check "the tenant chain is there" grep -Eq "chain g[0-9]+_t1 " "$TMP/nft.out"
check "hooked in prerouting" grep -q "hook prerouting" "$TMP/nft.out"
check "no BPF program attached" not inm ip link show m1 | grep -q xdp
pw status --json
check "status: engine nft" test "$(jq -r .engine "$TMP/out")" = nft
check "status: interface mode nft" test "$(jq -r '.interfaces[0].mode' "$TMP/out")" = nft
check "status: generation 1" test "$(jq .generation "$TMP/out")" = 1
pw status
check "status text: engine nft" grep -q "^Engine: *nft" "$TMP/out"
for a in 10.99.2.2 fd99:2::2; do
	check "$a: tcp 8080 allowed" wait_for 20 tcp_ok $a 8080
	check "$a: udp 5353 allowed" wait_for 20 udp_ok $a
	check "$a: tcp 9090 denied" not tcp_ok $a 9090
	check "$a: tcp 8082 denied" not tcp_ok $a 8082
	check "$a: tcp 25 rejected with a RST" tcp_refused $a 25
done
check "ping allowed" wait_for 20 ping_ok 10.99.2.2
check "ping6 allowed" wait_for 20 ping_ok fd99:2::2
check "udp 123 rejected with ICMP" udp_refused 10.99.2.2
check "udp 123 over IPv6 rejected with ICMPv6" udp_refused fd99:2::2
check "rejected ping gets admin prohibited" ping_prohibited 10.99.2.3
check "rejected ping6 gets admin prohibited" ping_prohibited fd99:2::3

# The client's kernel reports a new multicast group (the solicited-node
# group of a new address) with an MLDv2 report from its link-local
# address: the MLD exemption passes it (policy.md), so it is no default
# drop of the default-deny tenant (as traffic.sh checks for the BPF
# datapath; nft's prerouting sees every frame that arrives).
default_drops() { pw stats --json && jq '.tenants[0].default_drops.packets' "$TMP/out"; }
TCPDUMP=$(command -v tcpdump)
mld_passes() {
	local d0 d1
	rm -f "$TMP/mld.out" "$TMP/mld.err"
	d0=$(default_drops)
	inm timeout 5 "$TCPDUMP" -i m1 -n -p -c 1 \
		'ip6[6] == 0 and ip6[40] == 58 and ip6[48] == 143' \
		>"$TMP/mld.out" 2>"$TMP/mld.err" &
	wait_for 20 grep -q "listening on" "$TMP/mld.err" || return 1
	inc ip -6 addr add fd99:1::a3/64 dev c0 nodad
	wait_for 20 grep -q "ff02::16" "$TMP/mld.out" || return 1
	d1=$(default_drops)
	((d1 == d0))
}
if [[ -n $TCPDUMP ]]; then
	check "MLD report passes, no default drop (default deny)" mld_passes
fi

# stats: the rules' named counters and the tenants' default drops
rule_packets() { # rule_packets NAME
	pw stats --json
	jq ".rules[] | select(.name==\"$1\") | .packets" "$TMP/out"
}
check "stats: web counted" test "$(rule_packets web)" -gt 0
check "stats: reject counted" test "$(rule_packets smtp)" -gt 0
check "stats: ping6 counted" test "$(rule_packets ping6)" -gt 0
check "stats: tcp 9090 is a default drop" \
	test "$(jq '.tenants[0].default_drops.packets' "$TMP/out")" -gt 0
check "stats: counters in nft" \
	grep -Eq "counter g[0-9]+_r0 " <(inm nft list counters table inet plumwall)
W0=$(rule_packets web)
pw apply --mode nft "$TMP/enforce.yaml"
check "stats: re-apply exits 0" test "$RC" = 0
W1=$(rule_packets web)
check "stats: web keeps its count across applies ($W0 -> $W1)" test "$W1" -ge "$W0"
pw stats --unused --json
check "stats --unused: ntp only counted no packet" \
	not jq -e '.rules[] | select(.name=="web")' "$TMP/out"
pw stats --top 1 --json
check "stats --top 1: one rule" test "$(jq '.rules | length' "$TMP/out")" = 1
pw stats --unused --since 1d
check "stats --since: refused in nft mode (exit 2)" test "$RC" = 2
pw stats
check "stats text" grep -q "^Rules" "$TMP/out"

# flows: the conntrack entries the table judged (their labels carry the
# interface), named by tenant
udp_from_40000() { echo "$1" | inc nc -u -p 40000 -w 1 10.99.2.2 5353 2>/dev/null | grep -q pong; }
check "flows: a udp flow allowed" wait_for 20 udp_from_40000 one
pw flows --json
check "flows: exit 0 in nft mode" test "$RC" = 0
check "flows: the udp flow is listed, its tenant named" jq -e \
	'.flows[] | select(.src=="10.99.1.2:40000" and .dst=="10.99.2.2:5353" and .tenant=="lab" and .proto=="udp" and .state=="established" and .rule==null)' \
	"$TMP/out"
check "flows: conntrack's own flows are not listed (the server's ns has none; m1 only)" \
	not jq -e '.flows[] | select(.src | startswith("10.99.2."))' "$TMP/out"
pw flows
check "flows text: the header" grep -q "^TENANT  *PROTO  *SOURCE" "$TMP/out"
check "flows text: the udp flow" grep -q "10.99.1.2:40000" "$TMP/out"
pw flows --tenant nope
check "flows --tenant nope: exit 1" test "$RC" = 1
pw status --json
check "status counts the flows in nft mode ($(jq .counts.flows "$TMP/out"))" \
	jq -e '.counts.flows >= 1' "$TMP/out"

# a tracked flow the new policy denies is ended at apply (conntrack
# accepts established flows before the table judges anything); those it
# allows are kept (the closed tcp 8080 connections of the checks above
# stay in conntrack for minutes, and nothing makes new ones)
n8080() { pw flows --json && jq '[.flows[] | select(.dst=="10.99.2.2:8080")] | length' "$TMP/out"; }
k0=$(n8080)
check "revoke: tcp 8080 flows tracked before ($k0)" test "$k0" -gt 0
pw apply --mode nft "$TMP/other.yaml"
check "revoke: apply exits 0" test "$RC" = 0
check "revoke: apply ended tracked flows ($(grep tracked "$TMP/out"))" \
	grep -Eq "^  [0-9]+ tracked flows? the new policy denies ended" "$TMP/out"
pw flows --json
check "revoke: the udp flow is gone" \
	not jq -e '.flows[] | select(.src=="10.99.1.2:40000")' "$TMP/out"
k1=$(n8080)
check "revoke: the tcp 8080 flows both allow are kept ($k0 -> $k1)" test "$k1" = "$k0"
dns_packets() { pw stats --json && jq '.rules[] | select(.name=="dns") | .packets' "$TMP/out"; }
d0=$(dns_packets)
check "revoke: its next packet is denied" not udp_from_40000 two
d1=$(dns_packets)
check "revoke: judged anew by the rule dns (deny): $d0 -> $d1" test "$d1" -gt "$d0"
pw apply --mode nft "$TMP/enforce.yaml"
check "revoke: allowed again under enforce" wait_for 20 udp_from_40000 three

# audit: what enforce denies passes
pw apply --mode nft "$TMP/audit.yaml"
check "audit apply exits 0" test "$RC" = 0
check "audit passes tcp 9090" wait_for 20 tcp_ok 10.99.2.2 9090
check "audit passes tcp 9090 over IPv6" wait_for 20 tcp_ok fd99:2::2 9090
check "audit passes tcp 25" wait_for 20 tcp_ok 10.99.2.2 25
check "audit: no reject answer for .3" not ping_prohibited 10.99.2.3

# the other policy: 8082 instead of 8081, dns denied
pw apply --mode nft "$TMP/other.yaml"
check "other apply exits 0" test "$RC" = 0
check "other: tcp 8082 allowed" wait_for 20 tcp_ok 10.99.2.2 8082
check "other: tcp 8081 denied" not tcp_ok 10.99.2.2 8081
check "other: udp 5353 denied" not udp_ok fd99:2::2

# --- refusals change nothing
pw apply --mode nft "$TMP/vlan.yaml"
check "tenants by VLAN: exit 1" test "$RC" = 1
check "tenants by VLAN: said" grep -q "VLAN" "$TMP/err"
pw apply --mode tc "$TMP/enforce.yaml"
check "BPF while nft runs: exit 3" test "$RC" = 3
check "BPF while nft runs: said" grep -q "nft mode" "$TMP/err"
pw status --json
check "refusals: generation 6 still runs" test "$(jq .generation "$TMP/out")" = 6
check "refusals: still enforced" not tcp_ok 10.99.2.2 8081

# --- a policy with many elements: 600 rules of IPv6 keys fill a map with
# more elements than one attribute of 64 KiB holds, so the elements go in
# several messages of the batch.
{
	cat <<EOT
version: 1
tenants:
  - name: lab
    interfaces: [m1]
    default: deny
    segments:
      clients: [10.99.1.0/24, "fd99:1::/64"]
      servers: [10.99.2.0/24, "fd99:2::/64"]
    rules:
      - {name: web, from: clients, to: servers, proto: tcp, ports: [8080], action: allow}
EOT
	for i in $(seq 1 600); do
		echo "      - {name: r$i, from: clients, to: [\"fd99:2::$i\", 10.99.2.$((i % 250 + 1))], proto: udp, ports: [$((10000 + i))], action: allow}"
	done
} >"$TMP/big.yaml"
pw apply --mode nft "$TMP/big.yaml"
check "600 rules: apply exits 0 ($(tail -1 "$TMP/err"))" test "$RC" = 0
check "600 rules: tcp 8080 allowed" wait_for 20 tcp_ok fd99:2::2 8080
check "600 rules: tcp 9090 denied" not tcp_ok fd99:2::2 9090

# --- replacement: new flows across applies. Each datagram comes from a
# socket of its own, so a source port of its own: a new conntrack entry,
# judged by whichever policy runs (both allow udp 7000). The server's
# namespace counts what arrives; every one sent must. (A replacement that
# made new rules live before their interval maps' elements lost about one
# flow in 2,500 here.)
ins nft add table inet count &&
	ins nft add chain inet count input '{ type filter hook input priority 0; }' &&
	ins nft add rule inet count input udp dport 7000 counter
arrived() { ins nft list chain inet count input | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
arrived_is() { test "$(arrived)" = "$1"; }
udp_flows() { # udp_flows STOPFILE: datagrams until STOPFILE exists
	inc bash -c 'n=0; until [[ -e $1 ]]; do
		echo x >/dev/udp/10.99.2.2/7000 && n=$((n + 1)); done
		echo $n >"$1.sent"' _ "$1"
}
pw apply --mode nft "$TMP/other.yaml"
inc bash -c 'echo x >/dev/udp/10.99.2.2/7000'
check "replacement: udp 7000 allowed before" wait_for 20 arrived_is 1
udp_flows "$TMP/stop" &
PFLOWS=$!
PIDS+=($PFLOWS)
napplied=0
for i in $(seq 1 10); do
	if ((i % 2)); then p=enforce; else p=other; fi
	pw apply --mode nft "$TMP/$p.yaml"
	[[ $RC == 0 ]] && napplied=$((napplied + 1))
done
touch "$TMP/stop"
wait $PFLOWS
sent=$(cat "$TMP/stop.sent")
check "replacement: 10 applies succeed" test "$napplied" = 10
check "replacement: new flows sent during the applies ($sent)" test "$sent" -gt 100
wait_for 20 arrived_is $((sent + 1))
got=$(arrived)
check "replacement: every one arrived ($((sent + 1)) sent, $got arrived)" \
	test "$got" = $((sent + 1))
generations() { inm nft list table inet plumwall | grep -oE "^\s*(chain|set|map|counter) g[0-9]+_" | grep -oE "g[0-9]+" | sort -u | wc -l; }
check "replacement: the table holds one generation" test "$(generations)" = 1
pw status --json
check "replacement: generation 18" test "$(jq .generation "$TMP/out")" = 18
check "replacement: one table" test "$(inm nft list tables | grep -c plumwall)" = 1

# --- down removes the table
pw down
check "down exits 0" test "$RC" = 0
check "down: the table is gone" not table_listed
check "down: tcp 9090 open again" wait_for 20 tcp_ok 10.99.2.2 9090
pw status
check "down: status says not loaded (exit 3)" test "$RC" = 3

# --- and nft mode is refused while the BPF datapath runs
pw apply --mode tc "$TMP/enforce.yaml"
check "tc apply exits 0" test "$RC" = 0
pw apply --mode nft "$TMP/enforce.yaml"
check "nft while BPF runs: exit 3" test "$RC" = 3
check "nft while BPF runs: said" grep -q "BPF datapath is running" "$TMP/err"
check "nft while BPF runs: no table" not table_listed
pw down

nt_done
