#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel.sh - what plumwall says about the kernel and the pin path, and
# that it says it in one line:
#
# - on a kernel really older than 6.1 (make vm-check's bullseye): the
#   one-line refusal of apply, trace and plumwalld, and nothing else;
# - on this kernel apply and trace --engine bpf work and print no libbpf
#   lines; with --verbose they do;
# - a kernel older than Linux 6.1 (uname's release changed by a small
#   LD_PRELOAD library built here, when a C compiler is there) is refused
#   in one line, exit 3, nothing changed; PLUMWALL_SKIP_KERNEL_VERSION_CHECK=1
#   lets it run with a one-line warning, and adds nothing on a supported
#   kernel;
# - a process without BPF privileges (a user namespace: capabilities
#   there, none for bpf(2)) is told so, not that a feature is missing;
# - PLUMWALL_PIN_PATH on a tmpfs: one line, exit 3, nothing changed;
# - a fresh bpffs mounted at a private path as PLUMWALL_PIN_PATH, with the
#   kernel's maps.debug/progs.debug (or, on a kernel that makes none, a
#   pin of other software): apply and down exit 0, down leaves the mount
#   point and what is not plumwall's;
# - a real foreign layout (v1/) and maps pinned with another definition
#   still give exit 3 and their own messages.
#
# Topology and plumbing: netns.bash. Mounts are undone in the EXIT trap.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init kernel nc

MOUNTS=()
kt_cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do
		PLUMWALL_PIN_PATH=$m nsenter --net=/var/run/netns/$NSM "$PW" down >/dev/null 2>&1
		umount "$m" 2>/dev/null
	done
	nt_cleanup
}
trap kt_cleanup EXIT

cat >"$TMP/p.yaml" <<EOT
version: 1
settings:
  unmatched: deny
tenants:
  - name: lab
    interfaces: [m1]
    default: deny
    segments:
      clients: [10.99.1.0/24]
      servers: [10.99.2.0/24]
    rules:
      - {name: web, from: clients, to: servers, proto: tcp, ports: [8080], action: allow}
EOT
serve_tcp 10.99.2.2 8080
TRACE=(trace "$TMP/p.yaml" --iface m1 tcp 10.99.1.2:1000 10.99.2.2:8080)
PIN_ENTRIES() { ls -A "$1" 2>/dev/null | tr '\n' ' '; }
no_libbpf() { ! grep -q '^libbpf:' "$TMP/err"; }
has_libbpf() { grep -q '^libbpf:' "$TMP/err"; }
lines() { test "$(wc -l <"$TMP/err")" = "$1"; }
no_xdp_on_m1() { ! ip -n $NSM link show m1 | grep -q xdp; }

# --- a kernel older than plumwall's minimum, for real (make vm-check
# boots Debian 11's 5.10): every command that loads programs refuses it
# in one line, exit 3, and nothing changes; the model engine still works.
if ! kernel_at_least 6 1; then
	OLD="this kernel ($(uname -r)) is older than Linux 6.1, the oldest plumwall supports"
	pw apply "$TMP/p.yaml"
	check "$(uname -r): apply exits 3" test "$RC" = 3
	check "$(uname -r): apply says why in one line ($(cat "$TMP/err"))" \
		test "$(cat "$TMP/err")" = "plumwall apply: $OLD"
	check "$(uname -r): nothing pinned" test ! -e "$PIN"
	check "$(uname -r): nothing attached" no_xdp_on_m1
	check "$(uname -r): traffic flows as before" wait_for 20 tcp_ok 10.99.2.2 8080
	pw "${TRACE[@]}"
	check "$(uname -r): trace exits 3" test "$RC" = 3
	check "$(uname -r): trace says why in one line ($(cat "$TMP/err"))" \
		test "$(cat "$TMP/err")" = "plumwall trace: $OLD"
	pw "${TRACE[@]}" --engine model
	check "$(uname -r): the model engine needs no kernel" test "$RC" = 0
	printf 'policy: %s\npin_path: %s\n' "$TMP/p.yaml" "$PIN" >"$TMP/plumwall.yaml"
	inm "$BUILD/plumwalld" -c "$TMP/plumwall.yaml" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	check "$(uname -r): plumwalld exits 3" test "$RC" = 3
	check "$(uname -r): plumwalld says why in one line ($(cat "$TMP/err"))" \
		test "$(cat "$TMP/err")" = "plumwalld: $OLD"
	check "$(uname -r): plumwalld pinned nothing" test ! -e "$PIN"
	pw down
	check "$(uname -r): down: not loaded" test "$RC" = 3
	nt_done
	exit
fi

# --- this kernel: quiet, and --verbose shows libbpf
pw "${TRACE[@]}"
check "trace exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
check "trace answers" grep -q "verdict=allow rule=web" "$TMP/out"
check "trace prints no libbpf lines" no_libbpf
check "trace prints nothing on stderr" test ! -s "$TMP/err"
pw -v "${TRACE[@]}"
check "trace -v exits 0" test "$RC" = 0
check "trace -v prints libbpf lines" has_libbpf
check "trace -v keeps stdout clean" test "$(cat "$TMP/out")" = "packet=1 verdict=allow rule=web tenant=lab src_segment=clients dst_segment=servers flow=new reason=policy src=10.99.1.2 dst=10.99.2.2 proto=tcp sport=1000 dport=8080"
pw apply "$TMP/p.yaml"
check "apply exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
check "apply prints no libbpf lines" no_libbpf
check "apply prints nothing on stderr" test ! -s "$TMP/err"
pw --verbose apply "$TMP/p.yaml"
check "apply --verbose exits 0" test "$RC" = 0
check "apply --verbose prints libbpf lines" has_libbpf
pw down
check "down exits 0" test "$RC" = 0
check "down prints no libbpf lines" no_libbpf
pw --help
check "--help names --verbose" grep -q -- "-v, --verbose" "$TMP/out"

# --- plumwalld: quiet, and -v shows libbpf
PWD_BIN=$BUILD/plumwalld
cat >"$TMP/plumwall.yaml" <<EOT
policy: $TMP/p.yaml
pin_path: $PIN
EOT
daemon() { # daemon ARGS...: plumwalld until it applied, then SIGTERM
	local pid
	# Emptied here, not by the child's redirection: the child may not
	# have run yet when wait_for reads the log, which then still holds
	# the last run's "applied" line, and the SIGTERM reaches the child
	# before its exec. Once (sanitized build, busy CI machine) it was
	# lost there: plumwalld started, applied, and waited for it until
	# someone sent another.
	: >"$TMP/d.log"
	# a simple command, not a function: $! is plumwalld itself
	nsenter --net=/var/run/netns/$NSM "$PWD_BIN" "$@" -c "$TMP/plumwall.yaml" >>"$TMP/d.log" 2>&1 &
	pid=$!
	PIDS+=($pid)
	wait_for 10 grep -q "applied, generation" "$TMP/d.log"
	RC=$?
	kill -TERM $pid
	wait $pid
}
daemon
check "plumwalld applies ($(cat "$TMP/d.log"))" test "$RC" = 0
check "plumwalld prints no libbpf lines" not grep -q '^libbpf:' "$TMP/d.log"
pw down # else the next start keeps the running policy and loads nothing
daemon -v
check "plumwalld -v applies" test "$RC" = 0
check "plumwalld -v prints libbpf lines" grep -q '^libbpf:' "$TMP/d.log"
pw down
check "down after plumwalld exits 0" test "$RC" = 0
"$PWD_BIN" --help >"$TMP/out"
check "plumwalld --help names --verbose" grep -q -- "-v, --verbose" "$TMP/out"

# --- the escape hatch adds nothing on a supported kernel
export PLUMWALL_SKIP_KERNEL_VERSION_CHECK=1
pw "${TRACE[@]}"
check "skip on a supported kernel: trace exits 0" test "$RC" = 0
check "skip on a supported kernel: trace says nothing more" test ! -s "$TMP/err"
pw apply "$TMP/p.yaml"
check "skip on a supported kernel: apply exits 0" test "$RC" = 0
check "skip on a supported kernel: apply says nothing more" test ! -s "$TMP/err"
pw down
unset PLUMWALL_SKIP_KERNEL_VERSION_CHECK

# --- an old kernel, as uname(2) tells it
if command -v cc >/dev/null 2>&1; then
	cat >"$TMP/uname.c" <<'EOT'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

/* uname(2) with release $PW_FAKE_RELEASE */
int uname(struct utsname *u)
{
	int (*real)(struct utsname *) = dlsym(RTLD_NEXT, "uname");
	const char *r = getenv("PW_FAKE_RELEASE");
	int ret = real(u);

	if (!ret && r) {
		strncpy(u->release, r, sizeof(u->release) - 1);
		u->release[sizeof(u->release) - 1] = '\0';
	}
	return ret;
}
EOT
	if cc -shared -fPIC -o "$TMP/uname.so" "$TMP/uname.c" -ldl 2>"$TMP/cc.err"; then
		# A sanitized build (make check SANITIZE=1) wants ASan's
		# runtime first in the list.
		PRELOAD=$TMP/uname.so
		ASAN_LIB=$(ldd "$PW" 2>/dev/null | awk '/libasan/ { print $3 }')
		[[ -n $ASAN_LIB ]] && PRELOAD="$ASAN_LIB $PRELOAD"
		old() { PW_FAKE_RELEASE=5.10.0-32-amd64 LD_PRELOAD=$PRELOAD pw "$@"; }
		old apply "$TMP/p.yaml"
		check "old kernel: apply exits 3" test "$RC" = 3
		check "old kernel: apply says why in one line ($(cat "$TMP/err"))" \
			test "$(cat "$TMP/err")" = "plumwall apply: this kernel (5.10.0-32-amd64) is older than Linux 6.1, the oldest plumwall supports"
		check "old kernel: nothing pinned" test ! -e "$PIN"
		check "old kernel: nothing attached" no_xdp_on_m1
		old "${TRACE[@]}"
		check "old kernel: trace exits 3" test "$RC" = 3
		check "old kernel: trace says why" \
			test "$(cat "$TMP/err")" = "plumwall trace: this kernel (5.10.0-32-amd64) is older than Linux 6.1, the oldest plumwall supports"
		PW_FAKE_RELEASE=5.10.0-32-amd64 LD_PRELOAD=$PRELOAD \
			nsenter --net=/var/run/netns/$NSM "$PWD_BIN" -c "$TMP/plumwall.yaml" >"$TMP/out" 2>"$TMP/err"
		RC=$?
		check "old kernel: plumwalld exits 3" test "$RC" = 3
		check "old kernel: plumwalld says why in one line ($(cat "$TMP/err"))" \
			test "$(cat "$TMP/err")" = "plumwalld: this kernel (5.10.0-32-amd64) is older than Linux 6.1, the oldest plumwall supports"
		check "old kernel: plumwalld pinned nothing" test ! -e "$PIN"
		old "${TRACE[@]}" --engine model
		check "old kernel: the model engine needs no kernel" test "$RC" = 0
		old status
		check "old kernel: status does not load programs" test "$RC" = 3
		check "old kernel: status says not loaded" grep -q "not loaded" "$TMP/err"

		PLUMWALL_SKIP_KERNEL_VERSION_CHECK=1 old apply "$TMP/p.yaml"
		check "old kernel, skip: apply exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
		check "old kernel, skip: one warning line" \
			test "$(cat "$TMP/err")" = "plumwall apply: warning: this kernel (5.10.0-32-amd64) is untested (plumwall supports Linux 6.1 or later); trying it because PLUMWALL_SKIP_KERNEL_VERSION_CHECK=1"
		PLUMWALL_SKIP_KERNEL_VERSION_CHECK=yes old apply "$TMP/p.yaml"
		check "old kernel, skip only with 1" test "$RC" = 3
		PLUMWALL_SKIP_KERNEL_VERSION_CHECK=1 old down
		check "old kernel, skip: down exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
		check "old kernel, skip: down warns" grep -q "warning: this kernel (5.10.0-32-amd64) is untested" "$TMP/err"
		check "old kernel, skip: down removed the pins" test ! -e "$PIN"

		PW_FAKE_RELEASE=linux-custom LD_PRELOAD=$PRELOAD pw apply "$TMP/p.yaml"
		check "unknown version: apply exits 3" test "$RC" = 3
		check "unknown version: says so" grep -q "cannot tell the version of this kernel (linux-custom)" "$TMP/err"
	else
		echo "kernel: cannot build the uname library ($(cat "$TMP/cc.err")), old-kernel checks skipped"
	fi
else
	echo "kernel: no C compiler, old-kernel checks skipped"
fi

# --- no privileges for bpf(2) although the capabilities are there
if unshare --user --map-root-user true 2>/dev/null; then
	unshare --user --map-root-user "$PW" "${TRACE[@]}" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	check "user namespace: trace exits 3" test "$RC" = 3
	check "user namespace: told it is privileges ($(cat "$TMP/err"))" \
		test "$(cat "$TMP/err")" = "plumwall trace: the kernel does not let this process use BPF (Operation not permitted); plumwall needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON in the initial user namespace"
else
	echo "kernel: no user namespaces, privilege check skipped"
fi

# --- a pin path that is not on a bpffs
mkdir -p "$TMP/tmpfs"
mount -t tmpfs tmpfs "$TMP/tmpfs" && MOUNTS+=("$TMP/tmpfs")
PLUMWALL_PIN_PATH=$TMP/tmpfs/pins pw apply "$TMP/p.yaml"
check "tmpfs pin path: apply exits 3" test "$RC" = 3
check "tmpfs pin path: one line ($(cat "$TMP/err"))" \
	test "$(cat "$TMP/err")" = "plumwall apply: $TMP/tmpfs/pins is not on a BPF filesystem (bpffs); mount one there ('mount -t bpf bpf $TMP/tmpfs/pins') or choose a path under /sys/fs/bpf"
check "tmpfs pin path: nothing created" test -z "$(PIN_ENTRIES "$TMP/tmpfs")"
check "tmpfs pin path: nothing attached" no_xdp_on_m1
mkdir "$TMP/tmpfs/pins"
PLUMWALL_PIN_PATH=$TMP/tmpfs/pins pw apply "$TMP/p.yaml"
check "tmpfs pin path (existing): apply exits 3" test "$RC" = 3
check "tmpfs pin path (existing): nothing created" test -z "$(PIN_ENTRIES "$TMP/tmpfs/pins")"

# --- a fresh bpffs as the pin path
BPF=$TMP/bpffs
mkdir -p "$BPF"
mount -t bpf bpf "$BPF" && MOUNTS+=("$BPF")
if [[ -e $BPF/maps.debug ]]; then
	OTHER="maps.debug progs.debug"
else
	# bpffs refuses names with a dot, so only the kernel makes these;
	# something else in the root does the same for the test
	bpftool map create "$BPF/maps_debug" type array key 4 value 4 entries 1 name maps_debug
	OTHER=maps_debug
fi
bpftool map create "$BPF/other" type array key 4 value 4 entries 1 name other
OTHER="$OTHER other"
BEFORE=$(PIN_ENTRIES "$BPF")
export PLUMWALL_PIN_PATH=$BPF
pw apply "$TMP/p.yaml"
check "bpffs mount: apply exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
check "bpffs mount: pinned" test -e "$BPF/$LAYOUT/maps/pw_config"
check "bpffs mount: enforcing" wait_for 20 tcp_ok 10.99.2.2 8080
pw status --json
check "bpffs mount: status exits 0" test "$RC" = 0
pw apply "$TMP/p.yaml"
check "bpffs mount: second apply exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
pw down
check "bpffs mount: down exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
check "bpffs mount: down says so" grep -q "plumwall is down" "$TMP/out"
check "bpffs mount: mount point stays" mountpoint -q "$BPF"
check "bpffs mount: the rest stays ($(PIN_ENTRIES "$BPF"))" test "$(PIN_ENTRIES "$BPF")" = "$BEFORE"
check "bpffs mount: nothing attached" no_xdp_on_m1
pw down
check "bpffs mount: down again exits 3 (not loaded)" test "$RC" = 3

# --- a real foreign layout is still refused
mkdir -p "$BPF/v1/maps"
pw apply "$TMP/p.yaml"
check "foreign layout: apply exits 3" test "$RC" = 3
check "foreign layout: named" grep -q "$BPF/v1 holds a datapath of another layout" "$TMP/err"
check "foreign layout: nothing pinned" test ! -e "$BPF/$LAYOUT"
rm -rf "$BPF/v1"

# --- maps of this layout's names pinned with another definition
mkdir -p "$BPF/$LAYOUT/maps"
bpftool map create "$BPF/$LAYOUT/maps/pw_ct" type hash key 4 value 4 entries 16 name pw_ct
pw apply "$TMP/p.yaml"
check "other map definition: apply exits 3" test "$RC" = 3
check "other map definition: the layout message ($(cat "$TMP/err"))" \
	test "$(cat "$TMP/err")" = "plumwall apply: the maps pinned under $BPF/$LAYOUT/maps do not match this plumwall's layout ($LAYOUT); run 'plumwall down' first"
check "other map definition: nothing attached" no_xdp_on_m1
rm -rf "$BPF/$LAYOUT"
unset PLUMWALL_PIN_PATH

nt_done
