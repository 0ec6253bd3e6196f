#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vlan.sh - tenants by VLAN on one interface, with real 802.1Q
# subinterfaces on both sides of the firewall, in auto and tc modes (an
# interface with VLAN tenants is judged in tc: XDP does not see a tag the
# sending veth, or a NIC's VLAN offload, took out of the frame; --mode
# xdp is refused for it):
# traffic tagged 100 belongs to tenant blue, 200 to red, untagged to
# plain, and 300 to nobody (settings.unmatched: deny). Each tenant gets
# its own rules for the same server; IPv4 and IPv6; a reject answer goes
# back on the sender's VLAN; flows and drops are told per tenant.
#
# Needs the kernel's 8021q (VLAN subinterfaces): without it (the build
# machine's kernel lacks the module) the suite is skipped, exit 77;
# make vm-check runs it on Debian's kernels, which have it.
# Topology and plumbing: netns.bash.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init vlan nc ping

if ! ip -n $NSC link add link c0 name c0.100 type vlan id 100 2>/dev/null; then
	echo "vlan: this kernel cannot make VLAN subinterfaces (8021q), skipped"
	exit 77
fi

# Client side c0.V and middle side m1.V for V in 100 200 300, each its
# own subnet (10.99.100, 10.99.200, 10.99.30); the client picks the VLAN
# by source address (policy routing), the middle routes everything to the
# server as before.
net() { echo $(($1 < 256 ? $1 : $1 / 10)); }
for v in 100 200 300; do
	n=$(net $v)
	[[ $v == 100 ]] || ip -n $NSC link add link c0 name c0.$v type vlan id $v
	ip -n $NSM link add link m1 name m1.$v type vlan id $v
	ip -n $NSC addr add 10.99.$n.2/24 dev c0.$v
	ip -n $NSM addr add 10.99.$n.1/24 dev m1.$v
	ip -n $NSC addr add fd99:$n::2/64 dev c0.$v nodad
	ip -n $NSM addr add fd99:$n::1/64 dev m1.$v nodad
	ip -n $NSC link set c0.$v up
	ip -n $NSM link set m1.$v up
	ip -n $NSC rule add from 10.99.$n.2 table $v
	ip -n $NSC route add default via 10.99.$n.1 dev c0.$v table $v
	ip -n $NSC -6 rule add from fd99:$n::2 table $v
	ip -n $NSC -6 route add default via fd99:$n::1 dev c0.$v table $v
done

cat >"$TMP/p.yaml" <<EOT
version: 1
settings:
  unmatched: deny
segments:
  servers: [10.99.2.0/24, "fd99:2::/64"]
tenants:
  - name: blue
    interfaces: [m1]
    vlans: [100]
    default: deny
    segments:
      clients: [10.99.100.0/24, "fd99:100::/64"]
    rules:
      - {name: blue-web, from: clients, to: servers, proto: tcp, ports: [8080], action: allow}
      - {name: blue-smtp, from: clients, to: servers, proto: tcp, ports: [25], action: reject}
      - {name: blue-ping, from: clients, to: servers, proto: icmp, action: allow}
      - {name: blue-ping6, from: clients, to: servers, proto: icmpv6, action: allow}
  - name: red
    interfaces: [m1]
    vlans: [200]
    default: deny
    segments:
      clients: [10.99.200.0/24, "fd99:200::/64"]
    rules:
      - {name: red-admin, from: clients, to: servers, proto: tcp, ports: [9090], action: allow}
  - name: plain
    interfaces: [m1]
    default: deny
    segments:
      clients: [10.99.1.0/24, "fd99:1::/64"]
    rules:
      - {name: plain-ping, from: clients, to: servers, proto: icmp, action: allow}
EOT

for a in 10.99.2.2 fd99:2::2; do
	serve_tcp $a 8080 9090 25
done
# tcp_from SRC DST PORT: a connection from SRC (and so its VLAN) answered.
tcp_from() { inc nc -w 2 -N -s "$1" "$2" "$3" </dev/null 2>/dev/null | grep -q hello; }
ping_from() { inc ping -c 1 -W 1 -I "$1" "$2" >/dev/null 2>&1; }
refused_from() {
	local t0=$SECONDS
	inc nc -v -w 3 -z -s "$1" "$2" "$3" >"$TMP/nc.out" 2>&1
	grep -q "refused" "$TMP/nc.out" && ((SECONDS - t0 < 3))
}
to_port() { # to_port PORT: flows in $TMP/out (flows --json) to PORT
	jq "[.flows[] | select(.dst | endswith(\":$1\"))] | length" "$TMP/out"
}
drops() { # drops REASON: packets dropped for REASON so far
	pw stats --json
	jq ".drops[] | select(.reason==\"$1\") | .packets" "$TMP/out"
}

check "blue path works before apply" wait_for 10 tcp_from 10.99.100.2 10.99.2.2 9090
check "red path works before apply" wait_for 10 tcp_from 10.99.200.2 10.99.2.2 8080
check "vlan 300 path works before apply" wait_for 10 tcp_from 10.99.30.2 10.99.2.2 8080
check "ipv6 on a vlan works before apply" wait_for 10 tcp_from fd99:100::2 fd99:2::2 9090

pw apply --mode xdp "$TMP/p.yaml"
check "xdp: refused for VLAN tenants (exit $RC)" test "$RC" = 1
check "xdp: says why" grep -q "m1: tenants by VLAN need tc" "$TMP/err"
no_xdp_on_m1() { ! ip -n $NSM link show m1 | grep -q xdp; }
check "xdp: nothing attached" no_xdp_on_m1
check "xdp: nothing pinned" test ! -e "$PIN"

tcmode=clsact
kernel_at_least 6 6 && tcmode=tcx
for mode in auto tc; do
	pw apply --mode $mode "$TMP/p.yaml"
	check "$mode: apply exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
	pw status --json
	check "$mode: m1 judged in tc ($tcmode)" test "$(jq -r '.interfaces[0].mode' "$TMP/out")" = "$tcmode"
	for s in "10.99.100.2 10.99.200.2 10.99.2.2" "fd99:100::2 fd99:200::2 fd99:2::2"; do
		set -- $s
		blue=$1 red=$2 srv=$3
		check "$mode $blue: blue 8080 allowed" wait_for 20 tcp_from $blue $srv 8080
		check "$mode $blue: blue 9090 denied" not tcp_from $blue $srv 9090
		check "$mode $blue: blue 25 rejected with a RST on vlan 100" refused_from $blue $srv 25
		check "$mode $red: red 9090 allowed" wait_for 20 tcp_from $red $srv 9090
		check "$mode $red: red 8080 denied" not tcp_from $red $srv 8080
	done
	check "$mode: blue ping allowed" wait_for 20 ping_from 10.99.100.2 10.99.2.2
	check "$mode: blue ping6 allowed" wait_for 20 ping_from fd99:100::2 fd99:2::2
	check "$mode: red ping denied" not ping_from 10.99.200.2 10.99.2.2
	check "$mode: untagged ping (plain) allowed" wait_for 20 ping_from 10.99.1.2 10.99.2.2
	check "$mode: untagged 8080 (plain) denied" not tcp_from 10.99.1.2 10.99.2.2 8080
	before=$(drops unmatched)
	check "$mode: vlan 300 (no tenant) dropped" not tcp_from 10.99.30.2 10.99.2.2 8080
	check "$mode: vlan 300 counted as unmatched" test "$(drops unmatched)" -gt "$before"

	pw flows --json --tenant blue
	check "$mode: blue's flows are blue's" \
		test "$(jq -r '[.flows[].tenant] | unique | join(",")' "$TMP/out")" = blue
	check "$mode: blue has flows to 8080" test "$(to_port 8080)" -gt 0
	pw flows --json --tenant red
	check "$mode: red has flows to 9090" test "$(to_port 9090)" -gt 0
	check "$mode: red has none to 8080" test "$(to_port 8080)" = 0
	pw stats --json
	check "$mode: blue-smtp counted" test "$(jq '.rules[] | select(.name=="blue-smtp") | .packets' "$TMP/out")" -gt 0
	check "$mode: red-admin counted" test "$(jq '.rules[] | select(.name=="red-admin") | .packets' "$TMP/out")" -gt 0
	pw down
	check "$mode: down exits 0" test "$RC" = 0
done

nt_done
