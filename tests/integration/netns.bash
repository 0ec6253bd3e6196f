# SPDX-License-Identifier: GPL-2.0
#
# netns.bash - what the integration scripts share (sourced, not run).
#
# Three network namespaces: a client (c0, 10.99.1.2, fd99:1::2) and a
# server (s0, 10.99.2.2, fd99:2::2) joined through a middle one that
# routes between them (m1 client side, m2 server side); plumwall runs in
# the middle one via `nsenter --net`, so the host's bpffs with the pins
# stays visible (`ip netns exec` would mount a fresh /sys), and judges what
# arrives on m1. Each run gets a private pin root and state directory
# (PLUMWALL_PIN_PATH, PLUMWALL_RUN_DIR): it runs next to a loaded plumwall
# or another test without touching them. Checks wait on conditions with
# bounded timeouts, never on sleeps; the EXIT trap removes namespaces,
# processes, pins and attachments whatever happened.
#
#   nt_init NAME TOOL...   root and tools or exit 77; namespaces, trap
#   check DESC CMD...      one assertion; nt_done prints "NAME: N passed,
#                          N failed" and gives the exit status
#   wait_for SECS CMD...   until CMD succeeds, at most SECS
#   inc/ins/inm CMD...     run in the client/server/middle namespace
#   pw ARGS...             plumwall in the middle namespace; $RC, $TMP/out,
#                          $TMP/err
#   serve_tcp ADDR PORT... servers answering "hello", serve_udp ADDR one
#                          answering "pong" on udp/5353, in the server ns
#   tcp_ok ADDR PORT, udp_ok ADDR, ping_ok ADDR: the client gets through
#   revoked                the policy-revoked drop counter is above zero

set -u

ROOT=${PLUMWALL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${PLUMWALL_BUILD:-$ROOT/build}
PW=$BUILD/plumwall
# The pinned layout's directory name, v + PW_LAYOUT_VERSION (shared.h)
LAYOUT=v$(sed -n 's/^#define PW_LAYOUT_VERSION \([0-9]*\).*/\1/p' "$ROOT/include/plumwall/shared.h")
NT_NAME=
PIDS=()
passed=0
failed=0

nt_cleanup() {
	local p ns
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	[[ -n ${NSM:-} ]] && nsenter --net=/var/run/netns/$NSM "$PW" down >/dev/null 2>&1
	# A backgrounded `ip netns exec` leaves its command running when the
	# wrapper is killed: end everything still inside our namespaces.
	for ns in ${NSC:-} ${NSM:-} ${NSS:-}; do
		p=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$p" ] && kill $p 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[[ -n ${PIN:-} ]] && rm -rf "$PIN"
	[[ -n ${TMP:-} ]] && rm -rf "$TMP"
}

nt_init() { # nt_init NAME TOOL...
	local t
	NT_NAME=$1
	shift
	if [[ $(id -u) != 0 ]]; then
		echo "$NT_NAME: needs root, skipped"
		exit 77
	fi
	for t in ip nsenter jq "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "$NT_NAME: $t not installed, skipped"
			exit 77
		fi
	done
	if [[ ! -x $PW ]]; then
		echo "$NT_NAME: $PW not built" >&2
		exit 1
	fi
	S=pwt$$
	NSC=${S}c NSM=${S}m NSS=${S}s
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-$NT_NAME.XXXXXX") || exit 1
	export PLUMWALL_PIN_PATH=/sys/fs/bpf/$S PLUMWALL_RUN_DIR=$TMP/run
	PIN=$PLUMWALL_PIN_PATH
	trap nt_cleanup EXIT

	ip netns add $NSC && ip netns add $NSM && ip netns add $NSS || exit 1
	ip link add c0 netns $NSC type veth peer name m1 netns $NSM
	ip link add s0 netns $NSS type veth peer name m2 netns $NSM
	ip -n $NSC addr add 10.99.1.2/24 dev c0
	ip -n $NSM addr add 10.99.1.1/24 dev m1
	ip -n $NSM addr add 10.99.2.1/24 dev m2
	ip -n $NSS addr add 10.99.2.2/24 dev s0
	ip -n $NSC addr add fd99:1::2/64 dev c0 nodad
	ip -n $NSM addr add fd99:1::1/64 dev m1 nodad
	ip -n $NSM addr add fd99:2::1/64 dev m2 nodad
	ip -n $NSS addr add fd99:2::2/64 dev s0 nodad
	for l in "$NSC c0" "$NSM m1" "$NSM m2" "$NSS s0" "$NSC lo" "$NSM lo" "$NSS lo"; do
		set -- $l
		ip -n $1 link set $2 up
	done
	ip -n $NSC route add default via 10.99.1.1
	ip -n $NSS route add default via 10.99.2.1
	ip -n $NSC -6 route add default via fd99:1::1
	ip -n $NSS -6 route add default via fd99:2::1
	ip netns exec $NSM sysctl -qw net.ipv4.ip_forward=1
	ip netns exec $NSM sysctl -qw net.ipv6.conf.all.forwarding=1
}

# kernel_at_least MAJOR MINOR: the running kernel is that version or later.
kernel_at_least() {
	local r
	r=$(uname -r)
	[[ $r =~ ^([0-9]+)\.([0-9]+) ]] || return 1
	((BASH_REMATCH[1] > $1 || (BASH_REMATCH[1] == $1 && BASH_REMATCH[2] >= $2)))
}

not() { ! "$@"; }
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok; else ko "$d"; fi
}

inc() { ip netns exec $NSC "$@"; }
ins() { ip netns exec $NSS "$@"; }
inm() { nsenter --net=/var/run/netns/$NSM "$@"; }
pw() {
	nsenter --net=/var/run/netns/$NSM "$PW" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
}

serve_tcp() { # ADDR PORT...
	local a=$1 p
	shift
	for p in "$@"; do
		ins bash -c "while :; do echo hello | nc -l -N -w 5 $a $p >/dev/null 2>&1; done" &
		PIDS+=($!)
	done
}
serve_udp() { # ADDR
	ins bash -c "while :; do echo pong | nc -u -l -W 1 -w 2 $1 5353 >/dev/null 2>&1; done" &
	PIDS+=($!)
}
tcp_ok() { inc nc -w 2 -N "$1" "$2" </dev/null 2>/dev/null | grep -q hello; }
udp_ok() { echo ping | inc nc -u -w 1 "$1" 5353 2>/dev/null | grep -q pong; }
ping_ok() { inc ping -c 1 -W 1 "$1" >/dev/null 2>&1; }
revoked() {
	pw stats --json
	(($(jq '.drops[] | select(.reason=="policy-revoked") | .packets' "$TMP/out") > 0))
}

# wait_for TIMEOUT_S COMMAND...: until COMMAND succeeds, at most TIMEOUT_S.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		read -r -t 0.05 <> <(:) || true
	done
}

nt_done() {
	echo "$NT_NAME: $passed passed, $failed failed"
	((failed == 0))
}
