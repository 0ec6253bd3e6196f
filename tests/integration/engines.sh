#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# engines.sh - the two engines held to the same verdicts, flow by flow.
# A random policy (segments of addresses the client and server
# namespaces hold, TCP, UDP and ICMP rules over a few ports, allow, deny
# and reject, a random default) and random flows, each a new one (one
# TCP SYN, one UDP datagram or one echo request from a source address
# and port of its own). Every flow goes through the BPF datapath (XDP)
# and then through nft mode, twice (small source-class chains as rules,
# the default, and every lookup a map, every map split into parts of two
# elements: PLUMWALL_NFT_INLINE_MAX=0 PLUMWALL_NFT_MAP_PART=2), and
# what each engine counted for it is
# compared: the rule whose counter moved, or the tenant's default drops,
# or nothing (the default allows). Where the two differ the flow is
# named. The seed is fixed, so every run judges the same policy and
# flows, which meet nine different outcomes here (a clock seed could make a
# policy whose first rule takes every flow); PLUMWALL_ENGINES_SEED picks
# another (a run prints its outcomes), PLUMWALL_ENGINES_FLOWS how many
# flows (default 120).
# Topology and plumbing: netns.bash.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init engines nc ping nft

SEED=${PLUMWALL_ENGINES_SEED:-1}
NFLOWS=${PLUMWALL_ENGINES_FLOWS:-120}
echo "engines: seed $SEED, $NFLOWS flows"

# Addresses .2-.40 on both sides; IPv6 off on the client, so that no
# neighbour discovery or MLD moves a counter between two flows.
inc sysctl -qw net.ipv6.conf.all.disable_ipv6=1
for i in $(seq 3 40); do
	inc ip addr add 10.99.1.$i/24 dev c0
	ins ip addr add 10.99.2.$i/24 dev s0
done

# The policy and the flows, from one awk seeded with SEED (bash's RANDOM
# is seeded anew in every subshell, so it cannot be replayed).
awk -v seed="$SEED" -v nflows="$NFLOWS" -v policy="$TMP/random.yaml" \
	-v flows="$TMP/flows" '
function r(n) { return int(rand() * n) }
function pick(list,   a, n) { n = split(list, a, " "); return a[1 + r(n)] }
function entry(side,   k) { # a host or a small block of side 1 or 2
	k = r(3)
	if (k == 0) return sprintf("10.99.%d.%d/32", side, 2 + r(39))
	if (k == 1) return sprintf("10.99.%d.%d/28", side, r(3) * 16)
	return sprintf("10.99.%d.%d", side, 2 + r(39))
}
function endpoint(side,   k) { # any, a segment, addresses or the side
	k = r(4)
	if (k == 0) return "any"
	if (k == 1) return sprintf("s%d_%d", side, r(3))
	if (k == 2) return "[" entry(side) ", " entry(side) "]"
	return "side" side
}
BEGIN {
	srand(seed)
	print "version: 1" >policy
	print "tenants:" >policy
	print "  - name: lab" >policy
	print "    interfaces: [m1]" >policy
	print "    default: " pick("allow deny") >policy
	print "    segments:" >policy
	print "      side1: [10.99.1.0/24]" >policy
	print "      side2: [10.99.2.0/24]" >policy
	for (s = 1; s <= 2; s++)
		for (k = 0; k < 3; k++)
			printf "      s%d_%d: [%s, %s]\n", s, k, entry(s), entry(s) >policy
	print "    rules:" >policy
	for (i = 0; i < 14; i++) {
		from = endpoint(1)
		to = endpoint(2)
		act = pick("allow deny reject")
		k = r(5)
		if (k <= 1) {
			p = 7000 + r(8)
			ports = r(2) ? "[" p "]" : "[" p "-" p + r(4) "]"
			svc = "proto: " pick("tcp udp") ", ports: " ports
		} else if (k == 2)
			svc = "proto: icmp, icmp: [echo-request]"
		else if (k == 3)
			svc = "proto: " pick("tcp udp")
		else
			svc = "proto: any"
		printf "      - {name: r%d, from: %s, to: %s, %s, action: %s}\n", i, from, to, svc, act >policy
	}
	for (i = 0; i < nflows; i++)
		printf "%s 10.99.1.%d 10.99.2.%d %d\n", pick("tcp udp icmp"), 2 + r(39), 2 + r(39), 7000 + r(12) >flows
}'
mapfile -t flows <"$TMP/flows"

# What a flow moved: the names of the counters that changed.
counters() {
	pw stats --json
	jq -r '(.rules[] | "\(.name) \(.packets)"), "default \([.tenants[].default_drops.packets // 0] | add // 0)"' "$TMP/out"
}
# send PROTO SRC DST PORT: one new flow, its first packet, from a sender
# started in the background (SENDER); moved() stops it once a counter
# showed the packet judged. Nothing stops a sender before that: an outer
# timeout of 0.3 s once struck before nc had sent its datagram (under
# emulation, beside other VMs), and the flow seemed to move nothing.
# ip netns exec, not inc: a function put in the background runs in a
# subshell, whose pid ($!) a kill would not pass on to the sender.
send() {
	case $1 in
	tcp) ip netns exec "$NSC" timeout 10 nc -z -n -w 1 -s "$2" "$3" "$4" >/dev/null 2>&1 & ;;
	udp) echo x | ip netns exec "$NSC" timeout 10 nc -u -n -w 1 -s "$2" "$3" "$4" >/dev/null 2>&1 & ;;
	icmp) ip netns exec "$NSC" ping -c 1 -W 1 -I "$2" "$3" >/dev/null 2>&1 & ;;
	esac
	SENDER=$!
}
# differ PREV: the names of the counters that differ between PREV and
# the last reading ($TMP/now); changed PREV: the same against a fresh
# reading, left in $TMP/now; any_changed PREV: whether one does.
differ() {
	join <(sort "$1") <(sort "$TMP/now") | awk '$2 != $3 { print $1 }'
}
changed() {
	counters >"$TMP/now"
	differ "$1"
}
any_changed() { [[ -n $(changed "$1") ]]; }
# moved PREV PROTO: the counters that moved since PREV (file), or "-".
# They are read until one moved, for at most SETTLE seconds (only a flow
# that really moves nothing, under a default allow, waits that long);
# then the sender is stopped (a denied one would wait for its answer).
# TCP: the counters are read once more, after the sender is gone: a SYN
# it sent again (emulated, a read can take longer than TCP's first
# retransmission) counts for its own flow, not the next one. A UDP
# datagram or an echo request is sent once: the reading that showed it
# stands (a read is a process or two; the flows are many).
SETTLE=${PLUMWALL_ENGINES_SETTLE:-3}
moved() {
	local out
	wait_for "$SETTLE" any_changed "$1" || true
	kill "$SENDER" 2>/dev/null
	wait "$SENDER" 2>/dev/null
	if [[ $2 == tcp ]]; then
		out=$(changed "$1" | sort | tr '\n' ' ')
	else
		out=$(differ "$1" | sort | tr '\n' ' ')
	fi
	mv "$TMP/now" "$1"
	echo "${out:--}"
}
run_engine() { # run_engine MODE NAME: one outcome line per flow into $TMP/NAME
	local f
	pw apply --mode "$1" "$TMP/random.yaml"
	check "$2: apply exits 0 ($(tail -1 "$TMP/err"))" test "$RC" = 0
	if [[ -n ${PLUMWALL_NFT_MAP_PART:-} ]]; then
		# the maps really are in parts (a second one: _p1)
		check "$2: maps split into parts" bash -c \
			"nsenter --net=/var/run/netns/$NSM nft list table inet plumwall | grep -q '_p1 {'"
	fi
	counters >"$TMP/prev"
	: >"$TMP/$2"
	for f in "${flows[@]}"; do
		send $f
		echo "$f: $(moved "$TMP/prev" "${f%% *}")" >>"$TMP/$2"
	done
	pw down
	check "$2: down exits 0" test "$RC" = 0
}

for a in 10.99.2.2 10.99.2.40; do
	serve_tcp $a 7000 7003 7007
done
run_engine xdp xdp
run_engine nft nft
PLUMWALL_NFT_INLINE_MAX=0 PLUMWALL_NFT_MAP_PART=2 run_engine nft nft-maps

for e in nft nft-maps; do
	check "xdp and $e judged $NFLOWS flows" \
		test "$(wc -l <"$TMP/xdp")" = "$NFLOWS" -a "$(wc -l <"$TMP/$e")" = "$NFLOWS"
	ndiff=$(diff "$TMP/xdp" "$TMP/$e" | grep -c '^<')
	if ((ndiff)); then
		echo "engines: seed $SEED, flows where xdp and $e differ (xdp, then $e):"
		diff "$TMP/xdp" "$TMP/$e" | grep '^[<>]' | head -40
		echo "engines: the policy:"
		cat "$TMP/random.yaml"
	fi
	check "every flow: the same counter moved in xdp and $e ($ndiff differ)" test "$ndiff" = 0
done
# A comparison only means something when flows met different rules.
echo "engines: outcomes (flows, counter moved):" $(sed 's/.*: //' "$TMP/xdp" | sort | uniq -c | sort -rn | awk '{printf "%s %s,", $1, $2}')
outcomes=$(sed 's/.*: //' "$TMP/xdp" | sort -u | wc -l)
check "the flows met several outcomes ($outcomes)" test "$outcomes" -ge 3
check "every flow moved at most one counter" \
	not grep -qE ': [^ ]+ [^ ]+ $' "$TMP/xdp"

nt_done
