# SPDX-License-Identifier: GPL-2.0
#
# logd.bash - what the plumwall-logd integration scripts share (sourced,
# not run): logd.sh, logd_hostile.sh.
#
# Events come from the real datapath: a policy is applied in a private
# network namespace (on its lo) under a private pin root, and a TCP SYN
# to a denied port is run through the pinned XDP program with
# BPF_PROG_TEST_RUN (bpftool prog run ... repeat N gives N drop events).
# check, wait_for and nt_done come from netns.bash; its three-namespace
# topology (nt_init) is not used: one namespace with lo is enough here.
#
#   logd_init NAME TOOL...  root, bpftool, ss, the tools and the binaries,
#                           or exit 77 (1 when not built); TMP, the
#                           namespace, the policy ($TMP/policy.yaml), the
#                           EXIT trap; PORTS[0..7] on 127.0.0.1, derived
#                           from the pid so that parallel runs differ, and
#                           free (else exit 77)
#   gen N                   N drop events; SENT counts them
#   logd_certs              a CA ($TMP/ca.pem) that signs a certificate for
#                           127.0.0.1 ($TMP/srv.pem, $TMP/srv.key), and a
#                           CA logd is not told to trust ($TMP/other.pem)
#   lines F, has_lines F N, grep_count RE F, has_count RE F N, port_free P
# The EXIT trap ends logd ($LOGD_PID), every pid in PIDS (stopped ones
# too) and calls logd_cleanup_hook when the script defines one.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
LOGD=$BUILD/plumwall-logd
LOGD_PID=
PIDS=()
SENT=0

logd_cleanup() {
	local p
	[[ -n $LOGD_PID ]] && kill "$LOGD_PID" 2>/dev/null && wait "$LOGD_PID" 2>/dev/null
	declare -F logd_cleanup_hook >/dev/null && logd_cleanup_hook
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		kill -CONT "$p" 2>/dev/null # a stopped one gets the TERM now
	done
	nsenter --net=/var/run/netns/$NSM "$PW" down >/dev/null 2>&1
	ip netns del $NSM 2>/dev/null
	rm -rf "$TMP" "$PIN"
}

lines() { [[ -f $1 ]] && wc -l <"$1" || echo 0; }
has_lines() { [[ $(lines "$1") -ge $2 ]]; }
grep_count() { grep -c -- "$1" "$2" 2>/dev/null || true; }
has_count() { [[ $(grep_count "$1" "$2") -ge $3 ]]; }
port_free() { ! ss -Htuln "sport = :$1" | grep -q .; }

logd_init() { # logd_init NAME TOOL...
	local t p i
	NT_NAME=$1
	shift
	if [[ $(id -u) != 0 ]]; then
		echo "$NT_NAME: needs root, skipped"
		exit 77
	fi
	for t in bpftool jq ss ip nsenter "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "$NT_NAME: $t not installed, skipped"
			exit 77
		fi
	done
	if [[ ! -x $PW || ! -x $LOGD ]]; then
		echo "$NT_NAME: $PW or $LOGD not built" >&2
		exit 1
	fi
	S=pwl$$
	NSM=${S}m
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-$NT_NAME.XXXXXX") || exit 1
	export PLUMWALL_PIN_PATH=/sys/fs/bpf/$S PLUMWALL_RUN_DIR=$TMP/run
	PIN=$PLUMWALL_PIN_PATH
	trap logd_cleanup EXIT
	PORTS=()
	for ((i = 0; i < 8; i++)); do
		p=$((20000 + ($$ % 5000) * 8 + i))
		if ! port_free $p; then
			echo "$NT_NAME: port $p in use, skipped"
			exit 77
		fi
		PORTS+=($p)
	done

	ip netns add $NSM || exit 1
	ip -n $NSM link set lo up
	cat >"$TMP/policy.yaml" <<'EOT'
version: 1
settings:
  unmatched: deny
  log_rate: 0
tenants:
  - name: lab
    interfaces: [lo]
    default: deny
    log_default: false
    segments:
      clients: [10.0.0.0/24]
      servers: [10.0.1.0/24]
    rules:
      - name: no-telnet
        from: clients
        to: servers
        proto: tcp
        ports: [23]
        action: deny
        log: true
EOT
	# Ethernet + IPv4 + TCP SYN 10.0.0.5:40000 -> 10.0.1.7:23, checksums right.
	printf '\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00\x45\x00\x00\x28\x00\x01\x00\x00\x40\x06\x65\xc4\x0a\x00\x00\x05\x0a\x00\x01\x07\x9c\x40\x00\x17\x00\x00\x00\x01\x00\x00\x00\x00\x50\x02\xfa\xf0\x03\x8e\x00\x00' >"$TMP/syn23.bin"
}

# On CPU 0 only: the test run may move to another CPU between its
# repetitions when it yields (a busy machine), and each CPU is a producer
# with a sequence of its own ("consecutive sequence" once failed so).
gen() { # gen N: N drop events
	taskset -c 0 bpftool prog run pinned "$PIN/$LAYOUT/progs/xdp" data_in "$TMP/syn23.bin" repeat "$1" >/dev/null || ko "bpftool prog run"
	SENT=$((SENT + $1))
}

logd_certs() {
	local n
	for n in ca other; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$n test CA" \
			-keyout "$TMP/$n.key" -out "$TMP/$n.pem" >/dev/null 2>&1 || return 1
	done
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$TMP/srv.key" -out "$TMP/srv.csr" >/dev/null 2>&1 || return 1
	printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/san.ext"
	openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
		-CAcreateserial -days 2 -extfile "$TMP/san.ext" -out "$TMP/srv.pem" >/dev/null 2>&1
}
