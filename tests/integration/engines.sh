#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# engines.sh - the two engines held to the same verdicts, flow by flow.
# A random policy (segments of addresses the client and server
# namespaces hold, TCP, UDP and ICMP rules over a few ports, allow, deny
# and reject, a random default) and random flows, each a new one (one
# TCP SYN, one UDP datagram or one echo request from a source address
# and port of its own). Every flow goes through the BPF datapath (XDP)
# and then through nft mode, and what each engine counted for it is
# compared: the rule whose counter moved, or the tenant's default drops,
# or nothing (the default allows). Where the two differ the flow is
# named. The seed is fixed, so every run judges the same policy and
# flows, which meet eight different outcomes (a random seed could make a
# policy whose first rule takes every flow); PLUMWALL_ENGINES_SEED picks
# another (a run prints its outcomes), PLUMWALL_ENGINES_FLOWS how many
# flows (default 120).
# Topology and plumbing: netns.bash.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init engines nc ping nft

SEED=${PLUMWALL_ENGINES_SEED:-1}
NFLOWS=${PLUMWALL_ENGINES_FLOWS:-120}
echo "engines: seed $SEED, $NFLOWS flows"
RANDOM=$SEED

# Addresses .2-.40 on both sides; IPv6 off on the client, so that no
# neighbour discovery or MLD moves a counter between two flows.
inc sysctl -qw net.ipv6.conf.all.disable_ipv6=1
for i in $(seq 3 40); do
	inc ip addr add 10.99.1.$i/24 dev c0
	ins ip addr add 10.99.2.$i/24 dev s0
done

pick() { # pick WORD...: one of the words
	local a=("$@")
	echo "${a[RANDOM % ${#a[@]}]}"
}
addr_entry() { # addr_entry SIDE: a host or a small block of side 1 or 2
	case $((RANDOM % 3)) in
	0) echo "10.99.$1.$((2 + RANDOM % 39))/32" ;;
	1) echo "10.99.$1.$(((RANDOM % 3) * 16))/28" ;;
	*) echo "10.99.$1.$((2 + RANDOM % 39))" ;;
	esac
}
endpoint() { # endpoint SIDE: any, a segment, or addresses
	case $((RANDOM % 4)) in
	0) echo any ;;
	1) echo "s$1_$((RANDOM % 3))" ;;
	2) echo "[$(addr_entry "$1"), $(addr_entry "$1")]" ;;
	*) echo "side$1" ;;
	esac
}
{
	echo "version: 1"
	echo "tenants:"
	echo "  - name: lab"
	echo "    interfaces: [m1]"
	echo "    default: $(pick allow deny)"
	echo "    segments:"
	echo "      side1: [10.99.1.0/24]"
	echo "      side2: [10.99.2.0/24]"
	for s in 1 2; do
		for k in 0 1 2; do
			echo "      s${s}_$k: [$(addr_entry $s), $(addr_entry $s)]"
		done
	done
	echo "    rules:"
	for r in $(seq 0 13); do
		from=$(endpoint 1)
		to=$(endpoint 2)
		act=$(pick allow deny reject)
		case $((RANDOM % 5)) in
		0 | 1)
			p=$((7000 + RANDOM % 8))
			if ((RANDOM % 2)); then ports="[$p]"; else ports="[$p-$((p + RANDOM % 4))]"; fi
			svc="proto: $(pick tcp udp), ports: $ports"
			;;
		2) svc="proto: icmp, icmp: [echo-request]" ;;
		3) svc="proto: $(pick tcp udp)" ;;
		*) svc="proto: any" ;;
		esac
		echo "      - {name: r$r, from: $from, to: $to, $svc, action: $act}"
	done
} >"$TMP/random.yaml"

flows=()
for ((i = 0; i < NFLOWS; i++)); do
	flows+=("$(pick tcp udp icmp) 10.99.1.$((2 + RANDOM % 39)) 10.99.2.$((2 + RANDOM % 39)) $((7000 + RANDOM % 12))")
done

# What a flow moved: the names of the counters that changed.
counters() {
	pw stats --json
	jq -r '(.rules[] | "\(.name) \(.packets)"), "default \([.tenants[].default_drops.packets // 0] | add // 0)"' "$TMP/out"
}
send() { # send PROTO SRC DST PORT: one new flow, its first packet
	case $1 in
	tcp) inc timeout 0.3 nc -z -w 1 -s "$2" "$3" "$4" >/dev/null 2>&1 ;;
	udp) echo x | inc timeout 0.3 nc -u -w 0 -s "$2" "$3" "$4" >/dev/null 2>&1 ;;
	icmp) inc ping -c 1 -W 0.3 -I "$2" "$3" >/dev/null 2>&1 ;;
	esac
	return 0
}
# moved_after PREV: the counters that moved since PREV (file), or "-".
moved() {
	local out
	counters >"$TMP/now"
	out=$(join <(sort "$1") <(sort "$TMP/now") | awk '$2 != $3 { print $1 }' | sort | tr '\n' ' ')
	mv "$TMP/now" "$1"
	echo "${out:--}"
}
run_engine() { # run_engine MODE: one outcome line per flow into $TMP/MODE
	local f
	pw apply --mode "$1" "$TMP/random.yaml"
	check "$1: apply exits 0 ($(tail -1 "$TMP/err"))" test "$RC" = 0
	counters >"$TMP/prev"
	: >"$TMP/$1"
	for f in "${flows[@]}"; do
		send $f
		echo "$f: $(moved "$TMP/prev")" >>"$TMP/$1"
	done
	pw down
	check "$1: down exits 0" test "$RC" = 0
}

for a in 10.99.2.2 10.99.2.40; do
	serve_tcp $a 7000 7003 7007
done
run_engine xdp
run_engine nft

check "both engines judged $NFLOWS flows" \
	test "$(wc -l <"$TMP/xdp")" = "$NFLOWS" -a "$(wc -l <"$TMP/nft")" = "$NFLOWS"
ndiff=$(diff "$TMP/xdp" "$TMP/nft" | grep -c '^<')
if ((ndiff)); then
	echo "engines: seed $SEED, flows where the engines differ (xdp, then nft):"
	diff "$TMP/xdp" "$TMP/nft" | grep '^[<>]' | head -40
	echo "engines: the policy:"
	cat "$TMP/random.yaml"
fi
check "every flow: the same counter moved in both engines ($ndiff differ)" test "$ndiff" = 0
# A comparison only means something when flows met different rules.
echo "engines: outcomes (flows, counter moved):" $(sed 's/.*: //' "$TMP/xdp" | sort | uniq -c | sort -rn | awk '{printf "%s %s,", $1, $2}')
outcomes=$(sed 's/.*: //' "$TMP/xdp" | sort -u | wc -l)
check "the flows met several outcomes ($outcomes)" test "$outcomes" -ge 3
check "every flow moved at most one counter" \
	not grep -qE ': [^ ]+ [^ ]+ $' "$TMP/xdp"

nt_done
