#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# crash.sh - apply killed at each of its stages (PLUMWALL_TEST_CRASH_AT,
# fw/cmd_apply.c), then: status tells the policy that really runs,
# enforcement is that policy's, the next apply takes the next generation
# (so flows of the policy that ran are judged again and revoked where the
# new one denies them), interfaces are attached exactly where the policy
# that runs names them, and down leaves nothing behind.
#
# Policy A: tenant lab on m1, tcp 8080 allowed. Policy B: lab on m1 and m3
# (a veth pair inside the middle namespace), tcp 8081 allowed instead.
# Topology and plumbing: netns.bash.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init crash nc

ip -n $NSM link add m3 type veth peer name m4
ip -n $NSM link set m3 up
ip -n $NSM link set m4 up

policy() { # policy FILE PORT IFACES
	cat >"$1" <<EOT
version: 1
settings:
  unmatched: deny
tenants:
  - name: lab
    interfaces: [$3]
    default: deny
    segments:
      clients: [10.99.1.0/24]
      servers: [10.99.2.0/24]
    rules:
      - {name: web, from: clients, to: servers, proto: tcp, ports: [$2], action: allow}
EOT
}
policy "$TMP/A.yaml" 8080 m1
policy "$TMP/B.yaml" 8081 "m1, m3"
serve_tcp 10.99.2.2 8080 8081

SPID=
stream() { # a long-lived TCP flow to PORT, one segment every 0.2 s
	inc bash -c "while :; do echo x; read -r -t 0.2 <> <(:); done | nc 10.99.2.2 $1 >/dev/null 2>&1" &
	SPID=$!
	PIDS+=($SPID)
}
stream_stop() {
	[[ -n $SPID ]] && kill $SPID 2>/dev/null
	# the nc inside the client namespace too
	pkill -f "nc 10.99.2.2 $1" 2>/dev/null
	SPID=
}
gen() {
	pw status --json
	jq .generation "$TMP/out"
}
ifaces() {
	pw status --json
	jq -r '[.interfaces[].name] | sort | join(",")' "$TMP/out"
}
attached() { # attached IF: some plumwall program on it (XDP or tc)
	ip -n $NSM link show "$1" | grep -q xdp ||
		inm tc filter show dev "$1" ingress 2>/dev/null | grep -q pw_ ||
		[[ -n $(ls "$PIN/$LAYOUT/links/$1@"* 2>/dev/null) ]]
}
flow_to() { # a tracked flow to PORT
	pw flows --json
	(($(jq "[.flows[] | select(.dst | endswith(\":$1\"))] | length" "$TMP/out") > 0))
}
enforces() { # enforces A|B
	if [[ $1 == A ]]; then
		wait_for 20 tcp_ok 10.99.2.2 8080 && not tcp_ok 10.99.2.2 8081
	else
		wait_for 20 tcp_ok 10.99.2.2 8081 && not tcp_ok 10.99.2.2 8080
	fi
}
clean() {
	! ip -n $NSM link show m1 | grep -q xdp &&
		! ip -n $NSM link show m3 | grep -q xdp &&
		test ! -e "$PIN/$LAYOUT" && test ! -e "$PLUMWALL_RUN_DIR/state.json.tmp"
}

# --- a running policy replaced: killed at each stage
for stage in opened filled intent attached-one final flipped committed; do
	pw apply "$TMP/A.yaml"
	check "$stage: A applied" test "$RC" = 0
	PLUMWALL_TEST_CRASH_AT=$stage pw apply "$TMP/B.yaml"
	check "$stage: apply of B killed" test "$RC" = 137
	case $stage in
	opened | filled | intent | attached-one | final) runs=A g=1 other=B port=8080 ;;
	*) runs=B g=2 other=A port=8081 ;;
	esac
	pw status
	check "$stage: status exits 0" test "$RC" = 0
	check "$stage: status tells $runs runs (generation $g)" test "$(gen)" = "$g"
	check "$stage: $runs enforced" enforces $runs
	# a flow of the policy that runs, which the next policy denies
	stream $port
	check "$stage: a flow to $port of $runs" wait_for 20 flow_to $port
	pw apply "$TMP/$other.yaml"
	check "$stage: the next apply ($other) exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
	check "$stage: and takes generation $((g + 1))" test "$(gen)" = $((g + 1))
	check "$stage: $other enforced" enforces $other
	check "$stage: the $runs flow to $port is revoked" wait_for 20 revoked
	stream_stop $port
	if [[ $other == B ]]; then
		check "$stage: m3 attached under B" attached m3
		check "$stage: status names m1 and m3" test "$(ifaces)" = m1,m3
	else
		check "$stage: m3 detached under A" not attached m3
		check "$stage: status names m1" test "$(ifaces)" = m1
	fi
	pw down
	check "$stage: down exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
	check "$stage: nothing left" clean
done

# --- a first apply killed at each stage: the next apply starts clean, or
# completes it when it had done all but the rename
for stage in opened filled intent attached-one final flipped committed; do
	PLUMWALL_TEST_CRASH_AT=$stage pw apply "$TMP/B.yaml"
	check "first, $stage: apply killed" test "$RC" = 137
	case $stage in
	opened | filled | intent | attached-one) g=1 ;;
	*) g=2 ;;
	esac
	pw apply "$TMP/B.yaml"
	check "first, $stage: the next apply exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
	check "first, $stage: generation $g" test "$(gen)" = "$g"
	check "first, $stage: B enforced" enforces B
	check "first, $stage: m1 and m3 attached" test "$(ifaces)" = m1,m3
	check "first, $stage: m3 really attached" attached m3
	pw down
	check "first, $stage: down exits 0" test "$RC" = 0
	check "first, $stage: nothing left" clean
done

# --- down after a kill: nothing left either
pw apply "$TMP/A.yaml"
PLUMWALL_TEST_CRASH_AT=attached-one pw apply "$TMP/B.yaml"
pw down
check "down after a kill while attaching exits 0" test "$RC" = 0
check "down after a kill while attaching: nothing left" clean

nt_done
