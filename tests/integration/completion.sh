#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# completion.sh - the bash completion (etc/bash-completion/plumwall),
# sourced after bash-completion's own functions and driven the way bash
# drives it (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT, then the
# function `complete -p` names):
#   - the commands are those of the subcommand table (fw/main.c);
#   - each command's options, and the global ones, are exactly those of
#     its getopt_long table, read from the program by optdump.so (as in
#     man.sh), less the ones the command refuses;
#   - option arguments (--mode, --engine), policy files (*.yaml, *.yml,
#     directories; not other files), interface names for --iface, trace's
#     PACKET words, -c for the daemons;
#   - --tenant offers the tenants of the running policy: as root, a policy
#     of two tenants applied for real in a private namespace and pin root.
#
# Needs bash-completion and the build. Prints one line per failed check
# and a final "completion: N passed, N failed".
set -u

ROOT=${PLUMWALL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${PLUMWALL_BUILD:-$ROOT/build}
PW=$BUILD/plumwall
OPTDUMP=$BUILD/tests/optdump.so
BASH_COMPLETION=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}

if [[ ! -r $BASH_COMPLETION ]]; then
	echo "completion: bash-completion not installed, skipped"
	exit 77
fi
for f in "$PW" "$OPTDUMP"; do
	if [[ ! -e $f ]]; then
		echo "completion: $f not built (make all tests)" >&2
		exit 1
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-completion.XXXXXX") || exit 1
NS=
export PLUMWALL_PIN_PATH=/sys/fs/bpf/pwcomp$$ PLUMWALL_RUN_DIR=$TMP/run
cleanup() {
	if [[ -n $NS ]]; then
		nsenter --net=/var/run/netns/$NS "$PW" down >/dev/null 2>&1
		ip netns del "$NS" 2>/dev/null
	fi
	rm -rf "$PLUMWALL_PIN_PATH" "$TMP"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); }
ko() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}

# bash-completion reads its settings from the environment of an
# interactive shell; these are enough for its functions to run here.
# shellcheck disable=SC1090
. "$BASH_COMPLETION"
# shellcheck disable=SC1091
. "$ROOT/etc/bash-completion/plumwall"

# comp LINE: complete LINE (the cursor at its end; a trailing space starts
# a new, empty word) as bash would; the candidates, sorted, one per line,
# in $TMP/got.
comp() {
	local line=$1 fn
	read -r -a COMP_WORDS <<<"$line"
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	fn=$(complete -p "${COMP_WORDS[0]##*/}" 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
	if [[ -z $fn ]]; then
		: >"$TMP/got"
		return
	fi
	# The function sees the name the user typed; run it as bash would.
	"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u >"$TMP/got"
}

# expect LINE WORD...: the candidates are exactly WORD...
expect() {
	local line=$1
	shift
	comp "$line"
	printf '%s\n' "$@" | sed '/^$/d' | sort -u >"$TMP/want"
	if cmp -s "$TMP/got" "$TMP/want"; then
		ok
	else
		ko "'$line': got [$(tr '\n' ' ' <"$TMP/got")], want [$(tr '\n' ' ' <"$TMP/want")]"
	fi
}

# expect_has LINE WORD...: the candidates include WORD...
expect_has() {
	local line=$1 w
	shift
	comp "$line"
	for w in "$@"; do
		if grep -qxF -- "$w" "$TMP/got"; then
			ok
		else
			ko "'$line': '$w' not offered (got [$(tr '\n' ' ' <"$TMP/got")])"
		fi
	done
}

# expect_not LINE WORD...: none of WORD... is offered.
expect_not() {
	local line=$1 w
	shift
	comp "$line"
	for w in "$@"; do
		if grep -qxF -- "$w" "$TMP/got"; then
			ko "'$line': '$w' offered"
		else
			ok
		fi
	done
}

# The programs' option tables (see man.sh): table N of `PROGRAM [CMD]
# --help` as "-x"/"--name" lines in $TMP/table.N.
read_tables() {
	rm -f "$TMP/dump" "$TMP"/table.*
	# A sanitized build (make check SANITIZE=1) wants its ASan runtime
	# first among the libraries; optdump.so only wraps getopt_long.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		PW_OPTDUMP=$TMP/dump LD_PRELOAD=$OPTDUMP "$@" --help >/dev/null 2>&1
	local kw a b i n=0
	while read -r kw a b; do
		case $kw in
		table)
			n=$((n + 1))
			: >"$TMP/table.$n"
			;;
		short)
			a=${a#[+-]}
			a=${a//:/}
			for ((i = 0; i < ${#a}; i++)); do echo "-${a:i:1}" >>"$TMP/table.$n"; done
			;;
		long) echo "--$a" >>"$TMP/table.$n" ;;
		esac
	done <"$TMP/dump" 2>/dev/null
	for ((i = n + 1; i <= 2; i++)); do : >"$TMP/table.$i"; done
}

# The same exceptions as man.sh (options in a command's table that it
# refuses; none at present).
REFUSED=" "

# ---------------------------------------------------------------------------
# Commands and options.
mapfile -t commands < <(sed -n 's/^[[:space:]]*{ *"\([a-z][a-z0-9-]*\)", *fw_cmd_.*/\1/p' "$ROOT/fw/main.c")
if [[ ${#commands[@]} -ge 8 ]]; then ok; else ko "fw/main.c: only ${#commands[@]} commands found"; fi
expect "$PW " "${commands[@]}"
expect "$PW st" $(printf '%s\n' "${commands[@]}" | grep '^st')
expect "$PW -v " "${commands[@]}"

read_tables "$PW"
expect "$PW -" $(cat "$TMP/table.1")

for c in "${commands[@]}"; do
	read_tables "$PW" "$c"
	want=()
	while read -r o; do
		[[ $REFUSED == *" $c:$o "* ]] || want+=("$o")
	done <"$TMP/table.2"
	expect "$PW $c -" "${want[@]}"
	expect "$PW -v $c -" "${want[@]}"
done

# help takes one command name.
expect "$PW help " "${commands[@]}"
expect "$PW help st" $(printf '%s\n' "${commands[@]}" | grep '^st')
expect "$PW help stats "

# Option arguments.
expect "$PW flows --sort " tenant bytes packets age idle
expect "$PW flows --json --sort i" idle
expect "$PW stats --unused --since "
expect "$PW stats --top "
expect "$PW apply --mode " auto xdp tc
expect "$PW apply --mode x" xdp
expect "$PW trace p.yaml --engine " bpf model
expect_has "$PW trace p.yaml --iface " lo
expect_has "$PW trace p.yaml --iface l" lo
expect "$PW trace p.yaml --vlan "

# Policy files: *.yaml, *.yml and directories, nothing else.
mkdir -p "$TMP/files/sub"
touch "$TMP/files/a.yaml" "$TMP/files/b.yml" "$TMP/files/c.txt" "$TMP/files/d.pcap"
cd "$TMP/files" || exit 1
for c in check show apply; do
	expect_has "$PW $c " a.yaml b.yml sub
	expect_not "$PW $c " c.txt d.pcap
done
expect_has "$PW check --help " a.yaml
expect_has "$PW trace " a.yaml sub
expect_has "$PW trace --diff a.yaml " b.yml
expect_has "$PW trace --pcap " d.pcap
expect_not "$PW trace --pcap " c.txt

# trace's PACKET words.
expect "$PW trace a.yaml --iface lo " tcp udp icmp icmpv6
expect "$PW trace --iface lo a.yaml " tcp udp icmp icmpv6
expect "$PW trace --diff a.yaml b.yml --iface lo " tcp udp icmp icmpv6
expect "$PW trace a.yaml --iface lo --pcap d.pcap "
expect "$PW trace a.yaml --iface lo tcp 10.0.0.1:1 10.0.0.2:80 " syn ack fin rst
expect "$PW trace a.yaml --iface lo tcp 10.0.0.1:1 10.0.0.2:80 syn " syn ack fin rst
expect "$PW trace a.yaml --iface lo udp 10.0.0.1:1 10.0.0.2:53 "
expect "$PW trace a.yaml --iface lo icmp 10.0.0.1 10.0.0.2 echo-re" echo-reply echo-request
expect_has "$PW trace a.yaml --iface lo icmpv6 fd00::1 fd00::2 " neighbor-solicitation packet-too-big
cd "$ROOT" || exit 1

# The daemons.
for d in plumwalld plumwall-logd; do
	read_tables "$BUILD/$d"
	expect "$BUILD/$d -" $(cat "$TMP/table.1")
	cd "$TMP/files" || exit 1
	expect_has "$BUILD/$d -c " a.yaml sub
	expect_not "$BUILD/$d --config " c.txt
	cd "$ROOT" || exit 1
done

# ---------------------------------------------------------------------------
# --tenant: the tenants of the running policy.
expect "$PW flows --tenant "
if [[ $(id -u) == 0 ]] && command -v ip >/dev/null && command -v nsenter >/dev/null; then
	NS=pwcomp$$
	ip netns add $NS &&
		ip -n $NS link add t0 type veth peer name t1 &&
		ip -n $NS link set t0 up && ip -n $NS link set t1 up || exit 1
	cat >"$TMP/two.yaml" <<'EOT'
version: 1
tenants:
  - name: red
    interfaces: [t0]
  - name: blue-2
    interfaces: [t1]
EOT
	if nsenter --net=/var/run/netns/$NS "$PW" apply "$TMP/two.yaml" >"$TMP/out" 2>&1; then
		ok
		expect "$PW flows --tenant " red blue-2
		expect "$PW flows --json --tenant b" blue-2
		expect "$PW stats --tenant " red blue-2
		expect "$PW status --tenant r" red
	else
		ko "plumwall apply in namespace $NS: $(head -n 3 "$TMP/out" | tr '\n' ' ')"
	fi
	# After a second apply the state also names the older generation
	# (and keeps counters per tenant): only the running policy's tenants.
	sed 's/blue-2/green/' "$TMP/two.yaml" >"$TMP/two-b.yaml"
	if nsenter --net=/var/run/netns/$NS "$PW" apply "$TMP/two-b.yaml" >"$TMP/out" 2>&1; then
		ok
		expect "$PW flows --tenant " red green
	else
		ko "second plumwall apply in namespace $NS: $(head -n 3 "$TMP/out" | tr '\n' ' ')"
	fi
else
	echo "completion: not root: --tenant of a running policy not checked"
fi

echo "completion: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
