#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-vs.sh - plumwall against nftables and bare XDP programs on the same
# veths, in the same rounds (`make bench-vs`). Needs root, nft, jq,
# bpftool; exits 77 (skipped) without them.
#
# Topology. One namespace for the generator (G), one for the sink (S) and
# one per firewall configuration F, each with its own pair of veths:
#
#   G: g-F  <-veth->  F: fw0 (firewall) ... out0  <-veth->  S: s-F (sink)
#
# F's namespace routes from fw0 (10.10.0.1/24) to out0 (10.20.0.1/24);
# the sink 10.20.0.2 is a permanent neighbour, so no ARP. Configurations:
#   drop     a bare XDP_DROP program on fw0 (the floor of a deny)
#   pass     a bare XDP_PASS program on fw0 (no firewall: forwarding only)
#   pwxdp    plumwall, --mode xdp
#   pwtc     plumwall, --mode tc
#   pwnft    plumwall, --mode nft (its table inet plumwall: prerouting,
#            after conntrack)
#   nftvmap  nft netdev ingress on fw0, one rule: a verdict map on
#            ip saddr . ip daddr . udp dport
#   nftfwd   nft inet forward, the same verdict map
#   nftlin   nft netdev ingress on fw0, one rule per rule (linear)
# Every fw0 has GRO on (a veth takes XDP_TX frames only with NAPI, which
# tc and nftables would not have otherwise); the sink drops what reaches
# it with an XDP program (bpf/bench_vs.bpf.c).
#
# Rule sets, all generated from one description ($TMP/rules.txt, one rule
# "SADDR DADDR DPORT ACTION" a line): N-1 allow rules from distinct /32
# sources (172.16.0.1, ...) to 10.20.0.2, UDP, distinct ports (1024 +
# i mod 60000), then the rule the traffic hits, 10.10.0.2 -> 10.20.0.2
# udp/5001: deny in the deny case, allow in the established case. Default
# allow / policy accept everywhere, so the last rule decides.
#
# Traffic: the generator (build/bench-vs/bench_vs_gen, pw_bench_gen in
# bpf/bench_vs.bpf.c) runs BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES
# on g-F: every run writes a valid 64-byte Ethernet/IPv4/UDP frame (flow
# i % FLOWS: source port 10000 + i) and returns XDP_TX, which sends it to
# fw0. The kernel runs the frames in batches of 64 with bottom halves
# disabled; the softirq that follows each batch, on the same CPU, runs
# fw0's whole receive path: the XDP program or the stack (GRO, tc, nft
# ingress, routing, forward hook, out0's transmit and the sink's XDP drop).
#
# Method: whole-path cost per packet = the kernel's BPF_PROG_TEST_RUN
# duration of the timed run (its mean per frame, which covers the batches
# and the softirq work after each, without the call's setup, a page pool,
# and without time the generator was scheduled out) over the frames sent.
# It includes the generator's own work (copy 64 bytes, XDP_TX), which the
# drop floor shows. Each figure is checked by counting: fw0's received
# packets must match what was sent (no frame lost because its ring was
# full: the work would then not be in the time), the sink must get nothing
# in the deny case and everything in the established case; a measurement
# failing a check fails the run (exit 1). Each measurement: a warm-up of
# 64 frames sizes one timed run of about BENCH_MS milliseconds.
#
# Program-only cost (plumwall only): the kernel's bpf_stats. Each round,
# after the whole-path measurements, the plumwall program on fw0 gets
# another timed run with bpf_stats on for that run only (BPF_ENABLE_STATS,
# held by the generator: the same counters as kernel.bpf_stats_enabled=1,
# without changing the sysctl under other users of the machine), and
# run_time_ns / run_cnt of that run is its cost per packet. Stats cost
# every BPF program two clock reads, so the whole-path figures are taken
# without them.
#
# Rounds: for every N, every configuration is measured once per round, in
# an order rotated by one each round; ratios are against plumwall XDP of
# the same round. Printed: median, min and max over the rounds, of ns per
# packet and of the ratios. The figures are per packet on this machine as
# it is: other load on it inflates them; the ratios, taken within a round,
# suffer less.
#
# Environment:
#   BENCH_QUICK=1      smoke run: N 10 and 100, 2 rounds, 20 ms each,
#                      established case at 100 rules and 256 flows
#   BENCH_SIZES        rule counts (default "10 1000 10000 100000")
#   BENCH_ROUNDS       rounds (default 5)
#   BENCH_MS           length of one timed run in ms (default 200)
#   BENCH_DENY_FLOWS   flows of the deny case (default 1)
#   BENCH_EST_RULES    N of the established case (default 10000)
#   BENCH_EST_FLOWS    flows of the established case (default 32768)
#   BENCH_OUT          also write the raw results to this file
#   BENCH_CONFIGS      only these configurations (e.g. "pwtc nftvmap");
#                      plumwall XDP is always measured, as the ratios'
#                      reference (default: all)
#   BENCH_CASES        "deny", "est" or both (default "deny est")
#   BENCH_AB           another build directory (e.g. of the commit before a
#                      change): its plumwall runs as two more
#                      configurations, abxdp and abtc, in the same rounds,
#                      so the ratio abxdp / pwxdp compares two datapaths
#                      on a machine whose speed drifts between runs
# nftlin is left out of the established case above 1000 rules: it costs
# what it costs in the deny case, and 32k flows through it take minutes.

set -u

ROOT=${PLUMWALL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${PLUMWALL_BUILD:-$ROOT/build}
PW=$BUILD/plumwall
GEN=$BUILD/bench-vs/bench_vs_gen
# the pinned layout's directory, v + PW_LAYOUT_VERSION (shared.h)
LAYOUT=v$(sed -n 's/^#define PW_LAYOUT_VERSION \([0-9]*\).*/\1/p' "$ROOT/include/plumwall/shared.h")

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
	SIZES=${BENCH_SIZES:-10 100}
	ROUNDS=${BENCH_ROUNDS:-2}
	MS=${BENCH_MS:-20}
	EST_RULES=${BENCH_EST_RULES:-100}
	EST_FLOWS=${BENCH_EST_FLOWS:-256}
else
	SIZES=${BENCH_SIZES:-10 1000 10000 100000}
	ROUNDS=${BENCH_ROUNDS:-5}
	MS=${BENCH_MS:-200}
	EST_RULES=${BENCH_EST_RULES:-10000}
	EST_FLOWS=${BENCH_EST_FLOWS:-32768}
fi
DENY_FLOWS=${BENCH_DENY_FLOWS:-1}

if [[ $(id -u) != 0 ]]; then
	echo "bench-vs: needs root, skipped"
	exit 77
fi
for t in ip nsenter nft jq bpftool; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "bench-vs: $t not installed, skipped"
		exit 77
	fi
done
for f in "$PW" "$GEN"; do
	if [[ ! -x $f ]]; then
		echo "bench-vs: $f not built (make all benches)" >&2
		exit 1
	fi
done

CONFIGS=(drop pass pwxdp pwtc pwnft nftvmap nftfwd nftlin)
PWCONFIGS=(pwxdp pwtc pwnft) # plumwall's, with pins of their own
STATS=(pwxdp pwtc)            # measured again with bpf_stats
CASES=${BENCH_CASES:-deny est}
# has_case CASE: BENCH_CASES asks for CASE
has_case() { [[ " $CASES " == *" $1 "* ]]; }
for k in $CASES; do
	[[ $k == deny || $k == est ]] ||
		{ echo "bench-vs: BENCH_CASES: no case \"$k\" (deny, est)" >&2; exit 1; }
done
# wanted LIST...: the configurations of LIST that BENCH_CONFIGS selects
wanted() {
	local c
	for c in "$@"; do
		[[ -z ${BENCH_CONFIGS:-} || $c == pwxdp || $c == ab* ||
			" $BENCH_CONFIGS " == *" $c "* ]] && echo "$c"
	done
}
for c in ${BENCH_CONFIGS:-}; do
	[[ " ${CONFIGS[*]} " == *" $c "* ]] ||
		{ echo "bench-vs: BENCH_CONFIGS: no configuration \"$c\" (${CONFIGS[*]})" >&2; exit 1; }
done
mapfile -t CONFIGS < <(wanted "${CONFIGS[@]}")
mapfile -t PWCONFIGS < <(wanted "${PWCONFIGS[@]}")
mapfile -t STATS < <(wanted "${STATS[@]}")
AB=${BENCH_AB:-}
if [[ -n $AB ]]; then
	[[ -x $AB/plumwall ]] || { echo "bench-vs: BENCH_AB: no $AB/plumwall" >&2; exit 1; }
	CONFIGS+=(abxdp abtc)
	PWCONFIGS+=(abxdp abtc)
	STATS+=(abxdp abtc)
fi
S=pwb$$
NSG=${S}g NSS=${S}s
TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-bench-vs.XXXXXX") || exit 1
RAW=$TMP/raw

cleanup() {
	local c
	for c in "${PWCONFIGS[@]}"; do
		[[ -e /var/run/netns/$S-$c ]] &&
			pwrun $c down >/dev/null 2>&1
		rm -rf "/sys/fs/bpf/$S-$c"
	done
	for c in "${CONFIGS[@]}"; do
		ip netns del "$S-$c" 2>/dev/null
	done
	ip netns del $NSG 2>/dev/null
	ip netns del $NSS 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

die() {
	echo "bench-vs: $*" >&2
	exit 1
}

# pwrun CONFIG ARGS...: plumwall in CONFIG's namespace, its private pins
# (ab*: BENCH_AB's plumwall)
pwrun() {
	local c=$1 pw=$PW
	shift
	[[ $c == ab* ]] && pw=$AB/plumwall
	PLUMWALL_PIN_PATH=/sys/fs/bpf/$S-$c PLUMWALL_RUN_DIR=$TMP/run-$c \
		nsenter --net=/var/run/netns/$S-$c "$pw" "$@"
}

# rx NS IF: "packets dropped" received by IF
rx() {
	ip -n "$1" -s -j link show "$2" |
		jq -r '.[0].stats64.rx | "\(.packets) \(.dropped)"'
}

setup() {
	local c smac
	ip netns add $NSG && ip netns add $NSS || die "cannot add namespaces"
	for c in "${CONFIGS[@]}"; do
		ip netns add "$S-$c" || die "cannot add namespace $S-$c"
		ip link add "g-$c" netns $NSG type veth peer name fw0 netns "$S-$c" &&
			ip link add out0 netns "$S-$c" type veth peer name "s-$c" netns $NSS ||
			die "cannot add veths"
		ip -n $NSG link set "g-$c" up
		ip -n $NSS link set "s-$c" up
		ip -n "$S-$c" link set lo up
		ip -n "$S-$c" link set fw0 up
		ip -n "$S-$c" link set out0 up
		ip -n "$S-$c" addr add 10.10.0.1/24 dev fw0
		ip -n "$S-$c" addr add 10.20.0.1/24 dev out0
		ip netns exec "$S-$c" sysctl -qw net.ipv4.ip_forward=1
		smac=$(ip -n $NSS -j link show "s-$c" | jq -r '.[0].address')
		ip -n "$S-$c" neigh add 10.20.0.2 lladdr "$smac" dev out0 nud permanent
		ip netns exec "$S-$c" "$GEN" gro fw0 || die "$c: cannot turn GRO on"
		ip netns exec $NSS "$GEN" attach "s-$c" sink || die "$c: cannot attach the sink"
		case $c in
		drop | pass)
			ip netns exec "$S-$c" "$GEN" attach fw0 $c ||
				die "$c: cannot attach the floor"
			;;
		esac
	done
}

# rules N ACTION: the description, then every configuration's rule set
rules() {
	local n=$1 act=$2
	awk -v n="$n" -v act="$act" 'BEGIN {
		for (i = 1; i < n; i++)
			printf "172.%d.%d.%d 10.20.0.2 %d allow\n", 16 + int(i / 65536),
				int(i / 256) % 256, i % 256, 1024 + (i - 1) % 60000
		printf "10.10.0.2 10.20.0.2 5001 %s\n", act
	}' >"$TMP/rules.txt"
	awk 'BEGIN {
		print "version: 1"
		print "tenants:"
		print "  - name: bench"
		print "    interfaces: [fw0]"
		print "    default: allow"
		print "    log_default: false"
		print "    rules:"
	}
	{ printf "      - {name: r%d, from: %s, to: %s, proto: udp, ports: [%d], action: %s}\n", NR, $1, $2, $3, $4 }
	' "$TMP/rules.txt" >"$TMP/pw.yaml"
	awk 'BEGIN {
		print "flush ruleset"
		print "table netdev pwb {"
		print "\tchain in {"
		print "\t\ttype filter hook ingress device \"fw0\" priority 0; policy accept;"
	}
	{ printf "\t\tip saddr %s ip daddr %s udp dport %d %s\n", $1, $2, $3, $4 == "allow" ? "accept" : "drop" }
	END { print "\t}"; print "}" }
	' "$TMP/rules.txt" >"$TMP/nftlin.nft"
	for fam in netdev inet; do
		awk -v fam=$fam 'BEGIN {
			print "flush ruleset"
			printf "table %s pwb {\n", fam
			print "\tmap vm {"
			print "\t\ttype ipv4_addr . ipv4_addr . inet_service : verdict"
			print "\t\telements = {"
		}
		{ printf "\t\t\t%s . %s . %d : %s,\n", $1, $2, $3, $4 == "allow" ? "accept" : "drop" }
		END {
			print "\t\t}"
			print "\t}"
			print "\tchain c {"
			if (fam == "netdev")
				print "\t\ttype filter hook ingress device \"fw0\" priority 0; policy accept;"
			else
				print "\t\ttype filter hook forward priority 0; policy accept;"
			print "\t\tip saddr . ip daddr . udp dport vmap @vm"
			print "\t}"
			print "}"
		}' "$TMP/rules.txt" >"$TMP/$fam.nft"
	done
	cp "$TMP/netdev.nft" "$TMP/nftvmap.nft"
	cp "$TMP/inet.nft" "$TMP/nftfwd.nft"
}

# load CONFIG: its rule set of rules()
load() {
	local c=$1 t0
	t0=$(date +%s.%N)
	case $c in
	pwxdp | pwtc | pwnft | abxdp | abtc)
		pwrun $c apply "$TMP/pw.yaml" --mode ${c:2} >"$TMP/apply.out" 2>&1 ||
			die "$c: apply failed: $(cat "$TMP/apply.out")"
		;;
	nft*)
		ip netns exec "$S-$c" nft -f "$TMP/$c.nft" >"$TMP/nft.out" 2>&1 ||
			die "$c: nft -f failed: $(head -5 "$TMP/nft.out")"
		;;
	esac
	echo "$2 $c $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')" >>"$TMP/loads"
}

# progid CONFIG: the id of the plumwall program judging fw0's packets,
# from its pinned link (links/fw0@MODE; fw0@answer is the reject helper;
# v* rather than $LAYOUT: BENCH_AB's build may pin another layout)
progid() {
	local l
	for l in "/sys/fs/bpf/$S-$1/"v*/links/fw0@*; do
		[[ $l == *@answer ]] && continue
		bpftool -j link show pinned "$l" | jq -r '.prog_id // empty'
		return
	done
}

# measure CASE N ROUND CONFIG FLOWS [stats]: one timed run; appends
# "CASE N ROUND CONFIG NS_PER_PACKET" (with stats: "prog CASE N ROUND
# CONFIG NS_PER_RUN" of the plumwall program, from the same timed run)
measure() {
	local kase=$1 n=$2 r=$3 c=$4 flows=$5 stats=${6:-} fmac out sent ns
	local f0 d0 f1 d1 s0 s1 id=0 all
	fmac=$(ip -n "$S-$c" -j link show fw0 | jq -r '.[0].address')
	if [[ -n $stats ]]; then
		id=$(progid $c)
		[[ -n $id ]] || die "$c: no program on fw0"
	fi
	read -r f0 d0 < <(rx "$S-$c" fw0)
	read -r s0 _ < <(rx $NSS "s-$c")
	out=$(ip netns exec $NSG "$GEN" send "g-$c" "$fmac" 10.10.0.2 10.20.0.2 5001 "$flows" "$MS" 0 "$id") ||
		die "$c: the generator failed"
	read -r f1 d1 < <(rx "$S-$c" fw0)
	read -r s1 _ < <(rx $NSS "s-$c")
	set -- $out
	sent=$2 ns=$4
	# the warm-up's 64 frames count too; a frame lost to a full ring
	# shows in fw0's drops
	all=$((sent + 64))
	if (((f1 - f0) < all * 99 / 100 || d1 - d0 > all / 100)); then
		die "$kase N=$n $c: fw0 received $((f1 - f0)) of $all frames, $((d1 - d0)) dropped: not all work was timed"
	fi
	case $kase/$c in
	deny/drop | deny/pass | est/pass) ;;
	deny/*)
		((s1 - s0 <= all / 100)) ||
			die "deny N=$n $c: $((s1 - s0)) of $all frames reached the sink"
		;;
	est/*)
		((s1 - s0 >= all * 99 / 100)) ||
			die "est N=$n $c: $((s1 - s0)) of $all frames reached the sink"
		;;
	esac
	if [[ -n $stats ]]; then
		echo "prog $kase $n $r $c $(awk -v t="$8" -v k="${10}" 'BEGIN { printf "%.1f", t / k }')" >>"$RAW"
	else
		echo "$kase $n $r $c $(awk -v s="$sent" -v t="$ns" 'BEGIN { printf "%.1f", t / s }')" >>"$RAW"
	fi
}

# run CASE N FLOWS CONFIG...: ROUNDS interleaved rounds
run() {
	local kase=$1 n=$2 flows=$3 r i k c
	shift 3
	local cfg=("$@")
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((i = 0; i < ${#cfg[@]}; i++)); do
			k=$(((i + r - 1) % ${#cfg[@]}))
			measure $kase $n $r "${cfg[$k]}" $flows
		done
		for c in "${STATS[@]}"; do
			measure $kase $n $r $c $flows stats
		done
	done
	echo "bench-vs: $kase N=$n done" >&2
}

# prime CONFIG FLOWS: one run of every flow, so all are established
prime() {
	local c=$1 flows=$2 fmac
	fmac=$(ip -n "$S-$c" -j link show fw0 | jq -r '.[0].address')
	ip netns exec $NSG "$GEN" send "g-$c" "$fmac" 10.10.0.2 10.20.0.2 5001 \
		"$flows" 1 $((flows * 2)) >/dev/null || die "$c: priming failed"
}

setup
: >"$RAW"
if has_case deny; then
	for n in $SIZES; do
		rules $n deny
		for c in "${CONFIGS[@]}"; do
			[[ $c == drop || $c == pass ]] || load $c "deny N=$n"
		done
		run deny $n $DENY_FLOWS "${CONFIGS[@]}"
	done
fi

if has_case est; then
	est=(pass pwxdp pwtc pwnft nftvmap nftfwd)
	[[ -n $AB ]] && est+=(abxdp abtc)
	((EST_RULES <= 1000)) && est+=(nftlin)
	mapfile -t est < <(wanted "${est[@]}")
	rules $EST_RULES allow
	for c in "${est[@]}"; do
		load $c "est N=$EST_RULES"
		prime $c $EST_FLOWS
	done
	run est $EST_RULES $EST_FLOWS "${est[@]}"
fi

[[ -n ${BENCH_OUT:-} ]] && cp "$RAW" "$BENCH_OUT"

# The summary: per case, N and configuration the median, min and max of
# ns per packet and of the ratio to plumwall XDP of the same round.
echo
echo "bench-vs: $ROUNDS rounds of ${MS} ms per configuration, $(nproc) CPUs; deny: $DENY_FLOWS flow(s); established: $EST_FLOWS flows at $EST_RULES rules"
echo "ns per packet, whole path: median [min-max]; ratio to plumwall XDP in the same round: median [min-max]"
awk -v sizes="$SIZES" -v estn="$EST_RULES" -v ab="$AB" '
function sort(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
function stat(key, arr,   n, i, v) {
	n = split(arr[key], v, " ")
	if (!n) return ""
	for (i = 1; i <= n; i++) v[i] += 0
	sort(v, n)
	med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	lo = v[1]; hi = v[n]
	return n
}
# row CASE CONFIG ARR LABEL: a row of medians of the table, none when
# ARR has no figure of CONFIG in CASE
function row(kase, c, arr, label,   i, line, any) {
	line = ""
	any = 0
	for (i = 1; i <= ncols; i++) {
		if (stat(kase " " col[i] " " c, arr)) {
			any = 1
			line = line " " fmt(med) " |"
		} else
			line = line " |"
	}
	if (any)
		printf "| %s |%s\n", label, line
}
function fmt(x) {
	if (x >= 1e6) return sprintf("%.2fM", x / 1e6)
	if (x >= 1e4) return sprintf("%.1fk", x / 1e3)
	return sprintf("%.0f", x)
}
$1 == "prog" { prog[$2 " " $3 " " $5] = prog[$2 " " $3 " " $5] " " $6; next }
{
	v[$1 " " $2 " " $4] = v[$1 " " $2 " " $4] " " $5
	t[$1 " " $2 " " $3 " " $4] = $5
	rounds[$1 " " $2 " " $3] = 1
}
END {
	ncfg = split("drop pass pwxdp pwtc pwnft nftvmap nftfwd nftlin" (ab != "" ? " abxdp abtc" : ""), cfg, " ")
	nstats = split("pwxdp pwtc" (ab != "" ? " abxdp abtc" : ""), scfg, " ")
	name["drop"] = "bare XDP_DROP (floor)"
	name["pass"] = "bare XDP_PASS (forwarding, no filter)"
	name["pwxdp"] = "plumwall XDP"
	name["pwtc"] = "plumwall TC"
	name["pwnft"] = "plumwall nft mode"
	name["nftvmap"] = "nft netdev ingress, vmap saddr . daddr . dport"
	name["nftfwd"] = "nft inet forward, same vmap"
	name["nftlin"] = "nft netdev ingress, linear"
	name["abxdp"] = "BENCH_AB plumwall XDP"
	name["abtc"] = "BENCH_AB plumwall TC"
	for (rk in rounds) {
		split(rk, p, " ")
		for (k = 1; k <= ncfg; k++) {
			a = t[p[1] " " p[2] " " p[3] " " cfg[k]]
			b = t[p[1] " " p[2] " " p[3] " pwxdp"]
			if (a != "" && b > 0)
				ratio[p[1] " " p[2] " " cfg[k]] = ratio[p[1] " " p[2] " " cfg[k]] " " a / b
		}
	}
	nsz = split(sizes, sz, " ")
	for (k in v) {
		split(k, p, " ")
		measured[p[1]] = 1
	}
	for (cs = 1; cs <= 2; cs++) {
		kase = cs == 1 ? "deny" : "est"
		if (!(kase in measured)) # left out by BENCH_CASES
			continue
		if (kase == "deny") {
			print "\n## deny: the traffic hits the last of N rules"
			ncols = nsz
			for (i = 1; i <= nsz; i++) col[i] = sz[i]
		} else {
			print "\n## established: allowed traffic, last of N = " estn " rules"
			ncols = 1
			col[1] = estn
		}
		for (k = 1; k <= ncfg; k++) {
			c = cfg[k]
			line = ""
			for (i = 1; i <= ncols; i++) {
				key = kase " " col[i] " " c
				if (!stat(key, v))
					continue
				cell = sprintf("%s [%s-%s]", fmt(med), fmt(lo), fmt(hi))
				if (stat(key, ratio))
					cell = cell sprintf(" x%.2f [%.2f-%.2f]", med, lo, hi)
				line = line sprintf("  N=%s: %s", col[i], cell)
			}
			if (line != "")
				printf "%-46s%s\n", name[c], line
		}
		for (k = 1; k <= nstats; k++) {
			c = scfg[k]
			line = ""
			for (i = 1; i <= ncols; i++)
				if (stat(kase " " col[i] " " c, prog))
					line = line sprintf("  N=%s: %s [%s-%s]", col[i], fmt(med), fmt(lo), fmt(hi))
			if (line != "")
				printf "%-46s%s\n", name[c] " program only", line
		}
		# the issue-style table of medians
		printf "\n| per packet, %s, whole path, median ns |", kase
		for (i = 1; i <= ncols; i++) printf " N=%s |", col[i]
		printf "\n| --- |"
		for (i = 1; i <= ncols; i++) printf " ---: |"
		printf "\n"
		for (k = 1; k <= ncfg; k++)
			row(kase, cfg[k], v, name[cfg[k]])
		for (k = 1; k <= nstats; k++)
			row(kase, scfg[k], prog, name[scfg[k]] ", program only (bpf_stats)")
	}
}' "$RAW"
echo
echo "loading the rule sets, seconds (plumwall apply, replacing the previous N's; nft -f with flush ruleset):"
awk '{ k = $1 " " $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k } line[k] = line[k] sprintf("  %s %s", $3, $4) }
	END { for (i = 1; i <= n; i++) printf "  %-14s%s\n", order[i], line[order[i]] }' "$TMP/loads"
