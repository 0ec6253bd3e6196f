#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# trace.sh - `plumwall trace` end to end (cli.md "What-if"): PACKET forms
# and capture files (pcap written here byte by byte: Ethernet and Linux
# cooked), text and --json lines checked field by field, both engines
# giving the same lines, --diff, VLANs, exit statuses and messages of
# every refusal, privileges by engine, and no pins left behind.
#
# Needs the built binary and jq. Without root only the model engine and
# the refusals are checked (the BPF engine must then exit 3).
# Prints one line per failed check and a final "trace: N passed, N failed".

set -u

ROOT=${PLUMWALL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${PLUMWALL_BUILD:-$ROOT/build}
PW=$BUILD/plumwall

if [[ ! -x $PW ]]; then
	echo "trace: $PW not built" >&2
	exit 1
fi
if ! command -v jq >/dev/null 2>&1; then
	echo "trace: jq not installed, skipped"
	exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-trace.XXXXXX") || exit 1
# trace must never pin: a private pin root that must stay absent
export PLUMWALL_PIN_PATH=/sys/fs/bpf/pw-trace-$$
export PLUMWALL_RUN_DIR=$TMP/run
cleanup() {
	rm -rf "$TMP"
	[[ -e $PLUMWALL_PIN_PATH ]] && rm -rf "$PLUMWALL_PIN_PATH"
}
trap cleanup EXIT

ROOTUSER=0
[[ $(id -u) -eq 0 ]] && ROOTUSER=1
ENGINES=(model)
[[ $ROOTUSER -eq 1 ]] && ENGINES=(model bpf)

passed=0
failed=0
OUT=$TMP/stdout
ERR=$TMP/stderr
RC=0
LAST=

run() {
	"$PW" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	LAST="plumwall $*"
}

ok() { passed=$((passed + 1)); }

fail() {
	failed=$((failed + 1))
	echo "FAIL: $LAST: $*"
	echo "  exit $RC; stdout:"
	sed -n '1,10s/^/    /p' "$OUT" | cut -c1-300
	echo "  stderr:"
	sed -n '1,10s/^/    /p' "$ERR" | cut -c1-300
}

expect_rc() {
	if [[ $RC -eq $1 ]]; then ok; else fail "exit $RC, expected $1"; fi
}

expect_empty() { # out|err
	local f=$OUT
	[[ $1 == err ]] && f=$ERR
	if [[ ! -s $f ]]; then ok; else fail "std$1 not empty"; fi
}

expect_grep() { # out|err REGEX
	local f=$OUT
	[[ $1 == err ]] && f=$ERR
	if grep -Eq -- "$2" "$f"; then ok; else fail "std$1 does not match /$2/"; fi
}

expect_lines() { # N: lines of stdout
	local n
	n=$(wc -l <"$OUT")
	if [[ $n -eq $1 ]]; then ok; else fail "$n lines of output, expected $1"; fi
}

# Line N of stdout is a JSON object with exactly cli.md's keys, then
# reason and the packet's, and these values:
# expect_line N VERDICT RULE TENANT SRC DST FLOW REASON (null for null).
TRACE_KEYS='["packet","verdict","rule","tenant","src_segment","dst_segment","flow","reason","src","dst","proto","sport","dport","icmp_type","icmp_code"]'
expect_line() {
	local n=$1 js
	js=$(sed -n "${n}p" "$OUT")
	if jq -e --argjson n "$n" --arg v "$2" --arg r "$3" --arg t "$4" \
		--arg s "$5" --arg d "$6" --arg f "$7" --arg w "$8" \
		--argjson keys "$TRACE_KEYS" '
		def val($x): if $x == "null" then null else $x end;
		keys_unsorted == $keys
		and .packet == $n and .verdict == $v and .rule == val($r)
		and .tenant == val($t) and .src_segment == val($s)
		and .dst_segment == val($d) and .flow == $f and .reason == $w' \
		<<<"$js" >/dev/null 2>&1; then
		ok
	else
		fail "line $n is '$js', expected $2 $3 $4 $5 $6 $7 $8"
	fi
}

# expect_pkt N SRC DST PROTO SPORT DPORT ICMP_TYPE ICMP_CODE: line N's
# packet fields (null for null; numbers as numbers).
expect_pkt() {
	local n=$1 js
	js=$(sed -n "${n}p" "$OUT")
	if jq -e --arg s "$2" --arg d "$3" --arg p "$4" --arg sp "$5" \
		--arg dp "$6" --arg it "$7" --arg ic "$8" '
		def val($x): if $x == "null" then null else $x end;
		def num($x): if $x == "null" then null else ($x | tonumber) end;
		.src == val($s) and .dst == val($d) and .proto == val($p)
		and .sport == num($sp) and .dport == num($dp)
		and .icmp_type == num($it) and .icmp_code == num($ic)' \
		<<<"$js" >/dev/null 2>&1; then
		ok
	else
		fail "line $n is '$js', expected packet $2 $3 $4 $5 $6 $7 $8"
	fi
}

# A usage error: status 2, nothing on stdout, a message and the pointer
# to --help on stderr.
expect_usage() {
	expect_rc 2
	expect_empty out
	expect_grep err "^plumwall trace: "
	expect_grep err "Try 'plumwall trace --help'"
}

# Refused input: status 1, nothing on stdout, a message.
expect_refused() { # REGEX of the message
	expect_rc 1
	expect_empty out
	expect_grep err "$1"
}

# ---- policies ---------------------------------------------------------------

P=$TMP/p.yaml
cat >"$P" <<'EOF'
version: 1
segments:
  dns: [10.0.0.53]
rules:
  - {name: dns, from: any, to: dns, proto: udp, ports: [53], action: allow}
tenants:
  - name: acme
    interfaces: [acme0]
    segments:
      web: [10.1.1.0/24, "fd00:1:1::/64"]
      db: [10.1.2.0/24]
    rules:
      - {name: web-to-db, from: web, to: db, proto: tcp, ports: [5432], action: allow}
      - {name: web-out, from: web, to: external, proto: tcp, ports: [80, 443], action: allow}
      - {name: no-ping, from: any, to: db, proto: icmp, action: reject}
  - name: beta
    interfaces: [acme0]
    vlans: [100]
    default: allow
EOF
# NEW: web-to-db closed, db may ping
P2=$TMP/p2.yaml
sed -e 's/ports: \[5432\], action: allow/ports: [5432], action: deny/' \
	-e 's/action: reject/action: allow/' "$P" >"$P2"
BAD=$TMP/bad.yaml
printf 'version: 1\ntenants:\n  - name: acme\n    interfaces: [acme0]\n    prots: tcp\n' >"$BAD"

# ---- capture files, byte by byte ----------------------------------------------

# hex string -> bytes
bytes() { printf '%b' "$(sed 's/../\\x&/g' <<<"$1")"; }
le32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
hex16() { printf '%04x' "$1"; }
ip4hex() { local IFS=.; set -- $1; printf '%02x%02x%02x%02x' "$1" "$2" "$3" "$4"; }

ETH=020000000002020000000001
# tcp4 SRC DST SPORT DPORT FLAGS_HEX (checksums are left zero: nothing
# judging a packet reads them)
tcp4() { echo "${ETH}08004500002800004000400600$(printf 00)$(ip4hex "$1")$(ip4hex "$2")$(hex16 "$3")$(hex16 "$4")000003e80000000050$5ffff00000000"; }
udp4() { echo "${ETH}08004500001c00004000401100$(printf 00)$(ip4hex "$1")$(ip4hex "$2")$(hex16 "$3")$(hex16 "$4")00080000"; }

# pcap FILE LINKTYPE FRAME_HEX...: one frame per second
pcap() {
	local f=$1 lt=$2 i=0 fr len
	shift 2
	{
		bytes "d4c3b2a1020004000000000000000000ffff0000$(le32 "$lt")"
		for fr in "$@"; do
			len=$((${#fr} / 2))
			bytes "$(le32 $((1700000000 + i)))00000000$(le32 $len)$(le32 $len)$fr"
			i=$((i + 1))
		done
	} >"$f"
}

WEB=10.1.1.5
DB=10.1.2.7
HS=(
	"$(tcp4 $WEB $DB 40000 5432 02)" # SYN
	"$(tcp4 $DB $WEB 5432 40000 12)" # SYN ACK
	"$(tcp4 $WEB $DB 40000 5432 10)" # ACK
	"$(tcp4 $WEB $DB 40000 5432 11)" # FIN ACK
	"$(tcp4 $DB $WEB 5432 40000 11)" # FIN ACK
	"$(tcp4 $WEB $DB 40000 5432 10)" # ACK
	"$(tcp4 $DB $WEB 40001 22 02)"   # SYN, not allowed
	"$(udp4 $WEB 10.0.0.53 5353 53)"
	"$(udp4 10.0.0.53 $WEB 53 5353)"
	"$(tcp4 $WEB $DB 40002 5432 02)" # SYN cut short below
	# QinQ: an 802.1ad tag (S-VLAN 200) around an 802.1Q one (100)
	"${ETH}88a800c8810000644500002800004000400600$(printf 00)$(ip4hex $WEB)$(ip4hex $DB)$(hex16 40003)$(hex16 5432)000003e8000000005002ffff00000000"
)
HS[9]=${HS[9]:0:$((2 * 44))}
pcap "$TMP/hs.pcap" 1 "${HS[@]}"

# Linux cooked (SLL): the same frames behind a 16-byte cooked header
SLL=()
for fr in "${HS[@]}"; do
	SLL+=("0000000100060200000000010000${fr:24:4}${fr:28}")
done
pcap "$TMP/hs-sll.pcap" 113 "${SLL[@]}"
# raw IP: not supported
pcap "$TMP/raw.pcap" 101 "${HS[0]:28}"
printf 'not a capture file at all, really\n' >"$TMP/junk.pcap"
# a file cut inside its last record
pcap "$TMP/cut.pcap" 1 "${HS[@]:0:3}"
truncate -s -5 "$TMP/cut.pcap"

check_hs() { # the handshake capture's answers (--json)
	expect_lines 11
	expect_line 1 allow web-to-db acme web db new policy
	expect_pkt 1 $WEB $DB tcp 40000 5432 null null
	expect_line 2 allow web-to-db acme db web reply policy
	expect_pkt 2 $DB $WEB tcp 5432 40000 null null
	expect_line 3 allow web-to-db acme web db established policy
	expect_line 4 allow web-to-db acme web db established policy
	expect_line 5 allow web-to-db acme db web reply policy
	expect_line 6 allow web-to-db acme web db established policy
	expect_line 7 deny null acme db web new default
	expect_line 8 allow dns acme web dns new policy
	expect_pkt 8 $WEB 10.0.0.53 udp 5353 53 null null
	expect_line 9 allow dns acme dns web reply policy
	# cut inside its TCP header: malformed, on the untagged wire's
	# tenant (the one its drop event names), no segments, no fields
	expect_line 10 deny null acme null null new malformed
	expect_pkt 10 null null null null null null null
	# QinQ: malformed, reported on the tenant of the outer wire: a
	# service tag is no 802.1Q VLAN, so the untagged one's
	expect_line 11 deny null acme null null new malformed
}

# ---- help and usage errors --------------------------------------------------

run trace --help
expect_rc 0
expect_grep out '^Usage: plumwall trace POLICY --iface IF'
expect_empty err
run --help
expect_grep out '^  trace +'

run trace "$P" tcp 10.1.1.5:1 10.1.2.7:5432
expect_usage
expect_grep err 'missing --iface'
run trace "$P" --iface acme0
expect_usage
run trace --iface acme0
expect_usage
run trace "$P" --iface acme0 --pcap "$TMP/hs.pcap" tcp 10.1.1.5:1 10.1.2.7:2
expect_usage
run trace "$P" --iface acme0 --engine ebpf tcp 10.1.1.5:1 10.1.2.7:2
expect_usage
for v in 0 4095 x -1 ''; do
	run trace "$P" --iface acme0 --vlan "$v" tcp 10.1.1.5:1 10.1.2.7:2
	expect_usage
done
run trace --diff "$P" --iface acme0 --pcap "$TMP/hs.pcap"
expect_usage
run trace "$P" --iface acme0 --bogus tcp 10.1.1.5:1 10.1.2.7:2
expect_usage

# malformed PACKET forms: usage errors, saying what is wrong
while IFS='|' read -r form msg; do
	# shellcheck disable=SC2086
	run trace "$P" --iface acme0 --engine model $form
	expect_usage
	expect_grep err "$msg"
done <<'EOF'
tcp 10.1.1.5 10.1.2.7:80|is not ADDRESS:PORT
tcp 10.1.1.5:1 10.1.2.7:99999|port must be a number
tcp 10.1.1.5:1 10.1.2.7:80 push|unknown TCP flag 'push'
udp 10.1.1.5:1 10.1.2.7:80 syn|TCP flags are for tcp
tcp 2001:db8::1:80 [fd00::1]:80|ambiguous.*\[ADDRESS\]:PORT
tcp 10.1.1.5:1 [fd00::1]:80|must both be IPv4 or both IPv6
icmp 10.1.1.5 10.1.2.7|icmp needs SRC DST TYPE
icmp 10.1.1.5 10.1.2.7 ping|unknown icmp type 'ping'
icmp fd00::1 fd00::2 8|icmp needs IPv4 addresses
6 10.1.1.5 10.1.2.7|protocol 6 is tcp
300 10.1.1.5 10.1.2.7|unknown protocol '300'
gre 10.1.1.5 10.1.2.7|unknown protocol 'gre'
47 10.1.1.5|protocol 47 needs SRC DST
EOF

# ---- refused input ----------------------------------------------------------

run trace "$BAD" --iface acme0 --engine model tcp 10.1.1.5:1 10.1.2.7:2
expect_refused "bad.yaml:5:5: error: "
run trace "$TMP/none.yaml" --iface acme0 --engine model tcp 10.1.1.5:1 10.1.2.7:2
expect_rc 1
run trace "$P" --iface eth9 --engine model tcp 10.1.1.5:1 10.1.2.7:2
expect_refused "no tenant has interface 'eth9'"
run trace "$P" --iface acme0 --engine model --pcap "$TMP/none.pcap"
expect_refused "none.pcap"
run trace "$P" --iface acme0 --engine model --pcap "$TMP/junk.pcap"
expect_refused "junk.pcap"
run trace "$P" --iface acme0 --engine model --pcap "$TMP/raw.pcap"
expect_refused "link type .* is not supported"
run trace "$P" --iface acme0 --engine model --pcap "$TMP/cut.pcap"
expect_rc 1
expect_lines 2
expect_grep err "cut.pcap: after packet 2: "

# ---- privileges: bpf needs them, model does not --------------------------------

if [[ $ROOTUSER -eq 1 ]] && command -v setpriv >/dev/null 2>&1; then
	chmod 755 "$TMP"
	chmod 644 "$P" "$TMP/hs.pcap"
	LAST="trace --engine bpf as nobody"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PW" trace "$P" \
		--iface acme0 tcp 10.1.1.5:1 10.1.2.7:5432 >"$OUT" 2>"$ERR"
	RC=$?
	expect_rc 3
	expect_empty out
	expect_grep err 'needs root'
	LAST="trace --engine model as nobody"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PW" trace "$P" \
		--iface acme0 --engine model --json --pcap "$TMP/hs.pcap" \
		>"$OUT" 2>"$ERR"
	RC=$?
	expect_rc 0
	check_hs
elif [[ $ROOTUSER -eq 0 ]]; then
	run trace "$P" --iface acme0 tcp 10.1.1.5:1 10.1.2.7:5432
	expect_rc 3
	expect_grep err 'needs root'
fi

# ---- answers ----------------------------------------------------------------

for e in "${ENGINES[@]}"; do
	run trace "$P" --iface acme0 --engine "$e" --json --pcap "$TMP/hs.pcap"
	expect_rc 0
	expect_empty err
	check_hs
	cp "$OUT" "$TMP/hs-$e.json"

	run trace "$P" --iface acme0 --engine "$e" --json --pcap "$TMP/hs-sll.pcap"
	expect_rc 0
	check_hs

	# text: the same fields as key=value, - for null; the port and ICMP
	# keys only where the packet has them
	run trace "$P" --iface acme0 --engine "$e" --pcap "$TMP/hs.pcap"
	expect_rc 0
	expect_lines 11
	expect_grep out '^packet=1 verdict=allow rule=web-to-db tenant=acme src_segment=web dst_segment=db flow=new reason=policy src=10.1.1.5 dst=10.1.2.7 proto=tcp sport=40000 dport=5432$'
	expect_grep out '^packet=7 verdict=deny rule=- tenant=acme src_segment=db dst_segment=web flow=new reason=default src=10.1.2.7 dst=10.1.1.5 proto=tcp sport=40001 dport=22$'
	expect_grep out '^packet=10 verdict=deny rule=- tenant=acme src_segment=- dst_segment=- flow=new reason=malformed src=- dst=- proto=-$'
	expect_grep out '^packet=11 verdict=deny rule=- tenant=acme src_segment=- dst_segment=- flow=new reason=malformed src=- dst=- proto=-$'

	# --vlan on a capture: untagged frames get the tag (beta: default
	# allow), tagged ones keep theirs
	run trace "$P" --iface acme0 --engine "$e" --vlan 100 --json --pcap "$TMP/hs.pcap"
	expect_rc 0
	expect_line 7 allow null beta external external new default
	expect_line 11 deny null acme null null new malformed
	run trace "$P" --iface acme0 --engine "$e" --vlan 7 --json --pcap "$TMP/hs.pcap"
	expect_line 1 deny null null null null new unmatched
	expect_pkt 1 $WEB $DB tcp 40000 5432 null null

	# PACKET forms
	run trace "$P" --iface acme0 --engine "$e" --json tcp 10.1.1.5:1234 10.1.2.7:5432 syn
	expect_rc 0
	expect_lines 1
	expect_line 1 allow web-to-db acme web db new policy
	expect_pkt 1 10.1.1.5 10.1.2.7 tcp 1234 5432 null null
	run trace "$P" --iface acme0 --engine "$e" --json icmp 10.1.1.5 10.1.2.7 echo-request
	expect_line 1 reject no-ping acme web db new policy
	expect_pkt 1 10.1.1.5 10.1.2.7 icmp null null 8 0
	run trace "$P" --iface acme0 --engine "$e" icmp 10.1.1.5 10.1.2.7 echo-request
	expect_grep out ' reason=policy src=10.1.1.5 dst=10.1.2.7 proto=icmp icmp_type=8 icmp_code=0$'
	run trace "$P" --iface acme0 --engine "$e" --json tcp "[fd00:1:1::5]:4000" "[2001:db8::1]:443"
	expect_line 1 allow web-out acme web external new policy
	expect_pkt 1 fd00:1:1::5 2001:db8::1 tcp 4000 443 null null
	run trace "$P" --iface acme0 --engine "$e" --json udp 10.1.1.5:1 10.0.0.53:53
	expect_line 1 allow dns acme web dns new policy
	run trace "$P" --iface acme0 --engine "$e" --json 47 10.1.1.5 10.1.2.7
	expect_line 1 deny null acme web db new default
	expect_pkt 1 10.1.1.5 10.1.2.7 47 null null null null
	run trace "$P" --iface acme0 --engine "$e" --json --vlan 100 47 10.1.1.5 10.1.2.7
	expect_line 1 allow null beta external external new default
	# deny rule=- tenant=- is unmatched here, malformed or non-ip elsewhere
	run trace "$P" --iface acme0 --engine "$e" --json --vlan 101 47 10.1.1.5 10.1.2.7
	expect_line 1 deny null null null null new unmatched
	run trace "$P" --iface acme0 --engine "$e" --vlan 101 47 10.1.1.5 10.1.2.7
	expect_grep out '^packet=1 verdict=deny rule=- tenant=- src_segment=- dst_segment=- flow=new reason=unmatched src=10.1.1.5 dst=10.1.2.7 proto=47$'
	run trace "$P" --iface acme0 --engine "$e" --json icmpv6 fd00:1:1::5 fd00:1:1::6 neighbor-solicitation
	expect_line 1 allow null acme web web new non-ip
	expect_pkt 1 fd00:1:1::5 fd00:1:1::6 icmpv6 null null 135 0
	# multicast listener discovery as hosts send it: non_ip, like ND
	run trace "$P" --iface acme0 --engine "$e" --json icmpv6 fe80::1 ff02::16 143
	expect_line 1 allow null acme external external new non-ip
	run trace "$P" --iface acme0 --engine "$e" --json icmpv6 fd00:1:1::5 ff02::16 143
	expect_line 1 deny null acme web external new default

	# --diff: only what changed, both answers; exit 1 as diff(1) when
	# some packet differs, nothing on stderr
	run trace --diff "$P" "$P2" --iface acme0 --engine "$e" --json --pcap "$TMP/hs.pcap"
	expect_rc 1
	expect_empty err
	# packets 1-6 change (the flow is never allowed under NEW); 7-11 do not
	expect_lines 6
	if jq -e -s 'map(.packet) == [1,2,3,4,5,6]
		and (.[0] | keys_unsorted == ["packet","old","new","src","dst","proto","sport","dport","icmp_type","icmp_code"])
		and (.[0].old | keys_unsorted == ["verdict","rule","tenant","src_segment","dst_segment","flow","reason"])
		and .[0].old.verdict == "allow" and .[0].old.rule == "web-to-db"
		and .[0].new.verdict == "deny" and .[0].new.rule == "web-to-db"
		and .[0].old.reason == "policy" and .[0].new.reason == "policy"
		and .[0].src == "10.1.1.5" and .[0].dport == 5432
		and .[1].old.flow == "reply" and .[1].new.rule == null
		and .[1].new.flow == "new" and .[1].new.reason == "default"' "$OUT" >/dev/null 2>&1; then
		ok
	else
		fail "--diff lines"
	fi
	run trace --diff "$P" "$P2" --iface acme0 --engine "$e" icmp 10.1.1.5 10.1.2.7 8
	expect_rc 1
	expect_empty err
	expect_grep out '^packet=1 old: verdict=reject rule=no-ping .* flow=new reason=policy; new: verdict=allow rule=no-ping tenant=acme src_segment=web dst_segment=db flow=new reason=policy; src=10.1.1.5 dst=10.1.2.7 proto=icmp icmp_type=8 icmp_code=0$'
	run trace --diff "$P" "$P" --iface acme0 --engine "$e" --pcap "$TMP/hs.pcap"
	expect_rc 0
	expect_empty out
	expect_empty err
	run trace --diff "$P" "$P2" --iface acme0 --engine "$e" tcp 10.1.1.5:1 10.0.0.53:53
	expect_rc 0
	expect_empty out
	# a refusal is exit 1 too, with its message: stderr tells them apart
	run trace --diff "$P" "$BAD" --iface acme0 --engine "$e" icmp 10.1.1.5 10.1.2.7 8
	expect_refused "bad.yaml:5:5: error: "
done

# both engines: the same lines
if [[ $ROOTUSER -eq 1 ]]; then
	LAST="engines agree"
	if cmp -s "$TMP/hs-model.json" "$TMP/hs-bpf.json"; then ok; else fail "bpf and model differ"; fi
	# nothing pinned, nothing mounted
	LAST="no pins"
	if [[ ! -e $PLUMWALL_PIN_PATH && ! -e /sys/fs/bpf/plumwall/v$(sed -n 's/^#define PW_LAYOUT_VERSION \([0-9]*\).*/\1/p' "$ROOT/include/plumwall/shared.h")/maps/pw_trace_rec ]]; then ok; else fail "pins left behind"; fi
	before=$(ls /sys/fs/bpf 2>/dev/null | sort)
	unset PLUMWALL_PIN_PATH
	run trace "$P" --iface acme0 --json --pcap "$TMP/hs.pcap"
	expect_rc 0
	after=$(ls /sys/fs/bpf 2>/dev/null | sort)
	LAST="no pins (default root)"
	if [[ $before == "$after" ]]; then ok; else fail "/sys/fs/bpf changed: $before -> $after"; fi
	export PLUMWALL_PIN_PATH=/sys/fs/bpf/pw-trace-$$
fi

echo "trace: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
