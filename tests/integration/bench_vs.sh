#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench_vs.sh - a smoke run of `make bench-vs` (tests/bench/bench-vs.sh):
# one round of 10 ms per configuration at 10 rules, the established case
# at 100 rules and 256 flows. It asserts that the harness runs through
# (its own checks: every frame reached the firewall, the sink got nothing
# of a deny and everything of an allow) and that every row produced a
# number; never a timing, which depends on the machine.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
NT_NAME=bench_vs
if [[ $(id -u) != 0 ]]; then
	echo "$NT_NAME: needs root, skipped"
	exit 77
fi
for t in nft jq bpftool; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "$NT_NAME: $t not installed, skipped"
		exit 77
	fi
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-$NT_NAME.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

BENCH_QUICK=1 BENCH_SIZES=10 BENCH_ROUNDS=1 BENCH_MS=10 BENCH_OUT=$TMP/raw \
	bash "$ROOT/tests/bench/bench-vs.sh" >"$TMP/out" 2>&1
rc=$?
check "bench-vs exits 0" test $rc -eq 0
[[ $rc -eq 0 ]] || cat "$TMP/out"

# number KEY...: the raw results hold a positive number for KEY
number() {
	awk -v k="$*" '{ v = $NF; $NF = ""; sub(/ $/, "") }
		$0 == k && v + 0 > 0 { found = 1 } END { exit !found }' "$TMP/raw"
}
for c in drop pass pwxdp pwtc pwnft nftvmap nftfwd nftlin; do
	check "deny N=10 $c has a number" number deny 10 1 $c
done
for c in pass pwxdp pwtc pwnft nftvmap nftfwd nftlin; do
	check "est N=100 $c has a number" number est 100 1 $c
done
for c in pwxdp pwtc; do
	check "deny $c program-only number" number prog deny 10 1 $c
	check "est $c program-only number" number prog est 100 1 $c
done
# every row of the summary's tables has a number in every column
check "the tables have no empty cell" not grep -qE '^\|[^-].*\| *\|' "$TMP/out"
check "the tables are printed" grep -q '^| plumwall XDP | [0-9]' "$TMP/out"

# BENCH_AB: this very build as the other one, two more configurations
# in the same rounds
BENCH_AB=$BUILD BENCH_QUICK=1 BENCH_SIZES=10 BENCH_ROUNDS=1 \
	BENCH_MS=10 BENCH_OUT=$TMP/raw bash "$ROOT/tests/bench/bench-vs.sh" \
	>"$TMP/out" 2>&1
rc=$?
check "bench-vs with BENCH_AB exits 0" test $rc -eq 0
[[ $rc -eq 0 ]] || cat "$TMP/out"
for c in abxdp abtc; do
	check "deny N=10 $c has a number" number deny 10 1 $c
	check "est N=100 $c has a number" number est 100 1 $c
	check "deny $c program-only number" number prog deny 10 1 $c
done
check "BENCH_AB rows are printed" grep -q '^| BENCH_AB plumwall TC | [0-9]' "$TMP/out"
# BENCH_CONFIGS and BENCH_CASES: only the configurations and cases asked
# for, plumwall XDP always (the ratios' reference)
BENCH_CONFIGS="pwtc nftvmap" BENCH_CASES=deny BENCH_SIZES=10 BENCH_ROUNDS=1 \
	BENCH_MS=10 BENCH_OUT=$TMP/raw bash "$ROOT/tests/bench/bench-vs.sh" \
	>"$TMP/out" 2>&1
rc=$?
check "bench-vs with BENCH_CONFIGS exits 0" test $rc -eq 0
[[ $rc -eq 0 ]] || cat "$TMP/out"
for c in pwxdp pwtc nftvmap; do
	check "BENCH_CONFIGS: deny N=10 $c has a number" number deny 10 1 $c
done
check "BENCH_CONFIGS: nothing else measured" \
	test "$(awk '$1 != "prog" { print $4 }' "$TMP/raw" | sort -u | tr '\n' ' ')" = "nftvmap pwtc pwxdp "
check "BENCH_CASES=deny: no established case" not grep -q '^est \|^prog est' "$TMP/raw"
check "BENCH_CASES=deny: no established table" not grep -q '^## established' "$TMP/out"
check "BENCH_CONFIGS: the tables have no empty cell" not grep -qE '^\|[^-].*\| *\|' "$TMP/out"
for bad in "BENCH_CONFIGS=pwtc nosuch" "BENCH_CASES=deny nosuch"; do
	env "$bad" bash "$ROOT/tests/bench/bench-vs.sh" >"$TMP/out" 2>&1
	rc=$?
	check "$bad: exit 1" test $rc -eq 1
	check "$bad: said" grep -q "${bad%%=*}: no .*\"nosuch\"" "$TMP/out"
done
BENCH_AB=$TMP/nothing bash "$ROOT/tests/bench/bench-vs.sh" >"$TMP/out" 2>&1
rc=$?
check "a BENCH_AB without plumwall: exit 1" test $rc -eq 1
check "a BENCH_AB without plumwall: said" grep -q "BENCH_AB: no $TMP/nothing/plumwall" "$TMP/out"
nt_done
