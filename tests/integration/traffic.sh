#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# traffic.sh - what senders see through an attached plumwall, XDP and tc:
# allowed TCP, UDP and ICMP pass over IPv4 and IPv6 both ways, denied does
# not, reject answers with a TCP RST or an ICMP administratively-prohibited
# error that the sender sees (its veth end running no XDP program, and
# then running one), MLD reports pass a default-deny tenant, audit mode
# passes what it would deny. Then
# the hitless update: a stream of echo requests runs while a different
# policy is applied 20 times, with zero loss on the flow both allow, and a
# flow the new policy revokes stops at its first packet. Last, a pinned
# datapath of another layout makes apply exit 3.
# Topology and plumbing: netns.bash.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init traffic nc ping

policy() { # policy FILE MODE EXTRA_TCP_PORT DNS_ACTION
	cat >"$1" <<EOT
version: 1
settings:
  unmatched: deny
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
EOT
}
policy "$TMP/enforce.yaml" enforce 8081 allow
policy "$TMP/audit.yaml" audit 8081 allow
policy "$TMP/other.yaml" enforce 8082 deny

# No XDP program on the client's veth end: XDP_TX (and XDP_REDIRECT)
# towards a veth peer without one are dropped by the kernel, so the
# reject answers must get out another way (bpf/pw_ctx.h ctx_bounce()).
for a in 10.99.2.2 fd99:2::2; do
	serve_tcp $a 8080 8081 9090 25
	serve_udp $a
done
# A TCP connection refused at once (a RST), not timed out.
tcp_refused() {
	local t0=$SECONDS
	inc nc -v -w 3 -z "$1" "$2" >"$TMP/nc.out" 2>&1
	grep -q "refused" "$TMP/nc.out" && ((SECONDS - t0 < 3))
}
# A UDP datagram answered by an ICMP administratively-prohibited error:
# the connected socket's next call fails with the error Linux maps it to
# (EHOSTUNREACH for ICMP, EACCES for ICMPv6).
udp_refused() {
	inc bash -c "exec 3<>/dev/udp/$1/123; echo a >&3; read -r -t 2 <&3; echo b >&3" >/dev/null 2>"$TMP/udp.err"
	grep -qiE "no route to host|permission denied" "$TMP/udp.err"
}
# ICMP errors show in ping's output.
ping_prohibited() {
	inc ping -c 1 -W 2 "$1" >"$TMP/ping.out" 2>&1
	grep -qiE "filtered|prohibited" "$TMP/ping.out"
}
drops() { # drops REASON: packets dropped for REASON so far
	pw stats --json
	jq "[.drops[] | select(.reason==\"$1\") | .packets] | add // 0" "$TMP/out"
}
# The client's kernel reports a new multicast group (the solicited-node
# group of a new address) with an MLDv2 report: hop limit 1, Router
# Alert, from its link-local address. It reaches m1 (tcpdump sees frames
# XDP passed, and in tc mode all that arrive) and is no default drop.
TCPDUMP=$(command -v tcpdump)
mld_passes() { # mld_passes LOW_BITS
	local d0 d1
	rm -f "$TMP/mld.out" "$TMP/mld.err"
	d0=$(drops default)
	inm timeout 5 "$TCPDUMP" -i m1 -n -p -c 1 \
		'ip6[6] == 0 and ip6[40] == 58 and ip6[48] == 143' \
		>"$TMP/mld.out" 2>"$TMP/mld.err" &
	wait_for 20 grep -q "listening on" "$TMP/mld.err" || return 1
	inc ip -6 addr add "fd99:1::$1/64" dev c0 nodad
	wait_for 20 grep -q "ff02::16" "$TMP/mld.out" || return 1
	d1=$(drops default)
	((d1 == d0))
}

check "path works before apply" wait_for 10 tcp_ok 10.99.2.2 8080
check "ipv6 path works before apply" wait_for 10 tcp_ok fd99:2::2 8080

for mode in xdp tc; do
	pw apply --mode $mode "$TMP/enforce.yaml"
	check "$mode: apply exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
	pw status --json
	want=$mode
	# tcx from Linux 6.6, a clsact filter before it.
	if [[ $mode == tc ]]; then
		want=clsact
		kernel_at_least 6 6 && want=tcx
	fi
	check "$mode: attached as $want" test "$(jq -r '.interfaces[0].mode' "$TMP/out")" = "$want"
	for a in 10.99.2.2 fd99:2::2; do
		check "$mode $a: tcp 8080 allowed" wait_for 20 tcp_ok $a 8080
		check "$mode $a: udp 5353 allowed" wait_for 20 udp_ok $a
		check "$mode $a: tcp 9090 denied" not tcp_ok $a 9090
		check "$mode $a: tcp 25 rejected with a RST" tcp_refused $a 25
	done
	check "$mode: ping allowed" wait_for 20 ping_ok 10.99.2.2
	check "$mode: ping6 allowed" wait_for 20 ping_ok fd99:2::2
	check "$mode: udp 123 rejected with ICMP" udp_refused 10.99.2.2
	check "$mode: udp 123 over IPv6 rejected with ICMPv6" udp_refused fd99:2::2
	check "$mode: rejected ping gets admin prohibited" ping_prohibited 10.99.2.3
	check "$mode: rejected ping6 gets admin prohibited" ping_prohibited fd99:2::3
	if [[ -n $TCPDUMP ]]; then
		check "$mode: MLD report passes, no default drop (default deny)" \
			mld_passes "$([[ $mode == xdp ]] && echo a1 || echo a2)"
	fi
	pw stats --json
	check "$mode: reject counted" test "$(jq '.rules[] | select(.name=="smtp") | .packets' "$TMP/out")" -gt 0

	# audit: what enforce denies passes
	pw apply "$TMP/audit.yaml"
	check "$mode: audit apply exits 0" test "$RC" = 0
	check "$mode: audit passes tcp 9090" wait_for 20 tcp_ok 10.99.2.2 9090
	check "$mode: audit passes tcp 9090 over IPv6" wait_for 20 tcp_ok fd99:2::2 9090
	check "$mode: audit passes tcp 25" wait_for 20 tcp_ok 10.99.2.2 25
	pw down
	check "$mode: down exits 0" test "$RC" = 0
done

# --- a client that runs XDP itself: the answers arrive just the same
inc ip link set dev c0 xdp obj "$BUILD/bpf/xdp_pass.bpf.o" sec xdp 2>/dev/null ||
	inc ip link set dev c0 xdpgeneric obj "$BUILD/bpf/xdp_pass.bpf.o" sec xdp
pw apply --mode xdp "$TMP/enforce.yaml"
check "peer xdp: apply exits 0" test "$RC" = 0
for a in 10.99.2.2 fd99:2::2; do
	check "peer xdp $a: tcp 25 rejected with a RST" tcp_refused $a 25
done
check "peer xdp: udp 123 rejected with ICMP" udp_refused 10.99.2.2
pw down
inc ip link set dev c0 xdp off
inc ip link set dev c0 xdpgeneric off

# --- hitless update
pw apply "$TMP/enforce.yaml"
check "hitless: apply exits 0" test "$RC" = 0
check "hitless: ping allowed" wait_for 20 ping_ok 10.99.2.2
# A UDP flow (fixed source port) allowed by enforce.yaml only.
udp_from_40000() { echo "$1" | inc nc -u -p 40000 -w 1 10.99.2.2 5353 2>/dev/null | grep -q pong; }
check "hitless: udp flow allowed before" wait_for 20 udp_from_40000 one
# 800 echo requests, 5 ms apart, on one ICMP flow (one identifier).
inc ping -q -i 0.005 -c 800 -W 1 10.99.2.2 >"$TMP/stream.out" 2>&1 &
SPID=$!
PIDS+=($SPID)
napplied=0
for i in $(seq 1 20); do
	if ((i % 2)); then p=other; else p=enforce; fi
	pw apply "$TMP/$p.yaml"
	[[ $RC == 0 ]] && napplied=$((napplied + 1))
done
check "hitless: 20 applies succeed" test "$napplied" = 20
wait $SPID
check "hitless: 800 sent, 800 received ($(grep -o '[0-9]* received' "$TMP/stream.out"))" \
	grep -q "800 packets transmitted, 800 received" "$TMP/stream.out"
pw status --json
check "hitless: generation 21" test "$(jq .generation "$TMP/out")" = 21

# The running policy is other.yaml: dns is denied there. The tracked UDP
# flow's next packet is the first one judged by it: dropped, and counted
# as revoked, exactly once.
pw apply "$TMP/enforce.yaml"
check "revoke: udp flow allowed again" wait_for 20 udp_from_40000 two
pw stats --json
R0=$(jq '.drops[] | select(.reason=="policy-revoked") | .packets' "$TMP/out")
pw apply "$TMP/other.yaml"
check "revoke: the first packet after the apply is dropped" not udp_from_40000 three
pw stats --json
R1=$(jq '.drops[] | select(.reason=="policy-revoked") | .packets' "$TMP/out")
check "revoke: exactly one packet revoked ($R0 -> $R1)" test $((R1 - R0)) = 1
check "revoke: the flow is gone" not udp_from_40000 four
pw down

# --- a datapath of another layout is not touched
mkdir -p "$PIN/v1"
pw apply "$TMP/enforce.yaml"
check "foreign layout: apply exits 3" test "$RC" = 3
check "foreign layout named" grep -q "another layout" "$TMP/err"
rmdir "$PIN/v1" "$PIN"

nt_done
