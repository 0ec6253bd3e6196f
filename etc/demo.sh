#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The plumwall demo (`make demo`, after `make all`).
#
# 1. The policy tools: check the example policies, show what a broken one
#    gets (no privileges needed).
# 2. As root, a small network of namespaces around a firewall namespace
#    that enforces etc/policies/three-tier.yaml on its interface ens1f0:
#
#      [tenant hosts] c0 ---- ens1f0 [firewall] up0 ---- s0 [servers]
#      lb 10.20.0.5                                       app 10.20.2.20
#      web 10.20.1.10                                     db  10.20.3.5
#      app 10.20.2.10                                     payments 198.51.100.7
#      admin 10.99.0.10
#
#    plumwall-logd writes the events to a JSON file. The demo sends
#    allowed, denied and rejected traffic, switches the tenant to audit
#    mode (a hitless policy update) and sends the denied traffic again,
#    shows `plumwall status`, `stats`, `flows` and the events, and tears
#    everything down. It uses a private pin root, so a plumwall already
#    running on this machine is not touched.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${PLUMWALL_BUILD:-$root/build}
pw="$build/plumwall"
logd="$build/plumwall-logd"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-demo.XXXXXX")
ns=pwdemo$$
NSH=${ns}h NSF=${ns}f NSS=${ns}s
export PLUMWALL_PIN_PATH=/sys/fs/bpf/$ns PLUMWALL_RUN_DIR=$tmp/run
pids=()

cleanup() {
	local p n
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	if [[ -e /var/run/netns/$NSF ]]; then
		nsenter --net=/var/run/netns/$NSF "$pw" down >/dev/null 2>&1
	fi
	for n in $NSH $NSF $NSS; do
		p=$(ip netns pids "$n" 2>/dev/null)
		[ -n "$p" ] && kill $p 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$tmp" "$PLUMWALL_PIN_PATH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '\033[2m# %s\033[0m\n' "$*"; }
run() { # run CMD...: show it, run it
	printf '\033[36m$ %s\033[0m\n' "$*"
	"$@"
}

# ---- 1. policy tools --------------------------------------------------------

step "Checking the example policies"
for policy in "$root"/etc/policies/*.yaml; do
	"$pw" check "$policy" || exit 1
done

step "A policy with mistakes: every problem, with its place, in one run"
cat >"$tmp/broken.yaml" <<'POLICY'
version: 1
tenants:
  - name: acme
    interfaces: [acme0]
    segments:
      web: [10.1.1.5/24]
      db:  [10.1.2.0/24]
    rules:
      - name: web-to-db
        from: web
        to: dbs
        proto: tcp
        prots: [5432]
        action: allow
POLICY
cat -n "$tmp/broken.yaml"
status=0
"$pw" check "$tmp/broken.yaml" || status=$?
echo "exit status: $status (1 = the policy was refused)"
[ "$status" -eq 1 ] || exit 1

if [[ $(id -u) != 0 ]]; then
	step "The live part needs root (BPF, namespaces): run 'sudo make demo'"
	exit 0
fi

# ---- 2. a live firewall -----------------------------------------------------

policy=$root/etc/policies/three-tier.yaml
step "A network of namespaces; the firewall enforces $(basename "$policy") on ens1f0"
ip netns add $NSH && ip netns add $NSF && ip netns add $NSS || exit 1
ip link add c0 netns $NSH type veth peer name ens1f0 netns $NSF
ip link add s0 netns $NSS type veth peer name up0 netns $NSF
# Host addresses are /32: with a covering prefix the hosts would look for
# the servers on their own link instead of routing through the firewall.
for a in 10.20.0.5 10.20.1.10 10.20.2.10 10.99.0.10; do
	ip -n $NSH addr add $a/32 dev c0
done
ip -n $NSF addr add 192.0.2.254/32 dev ens1f0
ip -n $NSF addr add 192.0.2.1/24 dev up0
for a in 10.20.2.20/32 10.20.3.5/32 198.51.100.7/32; do
	ip -n $NSS addr add $a dev s0
done
for l in "$NSH c0" "$NSF ens1f0" "$NSF up0" "$NSS s0" "$NSH lo" "$NSF lo" "$NSS lo"; do
	set -- $l
	ip -n $1 link set $2 up
done
ip -n $NSH route add 192.0.2.254/32 dev c0
ip -n $NSH route add default via 192.0.2.254
for a in 10.20.0.5 10.20.1.10 10.20.2.10 10.99.0.10; do
	ip -n $NSF route add $a/32 dev ens1f0
done
ip -n $NSS route add 192.0.2.0/24 dev s0 2>/dev/null
ip -n $NSS route add default via 192.0.2.1
for a in 10.20.2.20 10.20.3.5 198.51.100.7; do
	ip -n $NSF route add $a/32 dev up0
done
ip netns exec $NSF sysctl -qw net.ipv4.ip_forward=1
# IPv6 stays on: the hosts' neighbour and multicast listener discovery
# get settings.non_ip (allow) when no rule names them, unlogged, instead
# of the tenant's logged default deny (README, "Where the specification is
# silent").
say "tenant hosts: lb 10.20.0.5, web 10.20.1.10, app 10.20.2.10, admin 10.99.0.10"
say "servers: app 10.20.2.20, db 10.20.3.5, payments 198.51.100.7"

# Servers answer "hello" on every port the demo uses.
for a in 10.20.2.20 10.20.3.5 198.51.100.7; do
	for p in 22 443 5432 9000; do
		ip netns exec $NSS bash -c "while :; do echo hello | nc -l -N -w 3 $a $p >/dev/null 2>&1; done" &
		pids+=($!)
	done
done

fw() { nsenter --net=/var/run/netns/$NSF "$pw" "$@"; }
# try FROM TO PORT: one TCP connection, its fate in words.
try() {
	local from=$1 to=$2 port=$3 out rc
	out=$(ip netns exec $NSH nc -v -w 2 -N -s "$from" "$to" "$port" </dev/null 2>&1)
	rc=$?
	if [[ $rc == 0 && $out == *hello* ]]; then
		printf '  %-12s -> %-15s tcp/%-5s  connected\n' "$from" "$to" "$port"
	elif [[ $out == *refused* ]]; then
		printf '  %-12s -> %-15s tcp/%-5s  refused at once (RST from the firewall)\n' "$from" "$to" "$port"
	else
		printf '  %-12s -> %-15s tcp/%-5s  no answer (dropped)\n' "$from" "$to" "$port"
	fi
}
# Wait (bounded) until the servers listen.
for _ in $(seq 1 100); do
	ip netns exec $NSH nc -z -w 1 -s 10.20.2.10 10.20.3.5 5432 2>/dev/null && break
	read -r -t 0.05 <> <(:) || true
done

step "Apply the policy"
run fw apply "$policy"
cat >"$tmp/plumwall.yaml" <<EOF
policy: $policy
pin_path: $PLUMWALL_PIN_PATH
logging:
  hostname: demo-fw
  sinks:
    - name: events
      format: json
      path: $tmp/events.json
EOF
"$logd" -c "$tmp/plumwall.yaml" 2>"$tmp/logd.err" &
pids+=($!)
for _ in $(seq 1 100); do
	[[ -e $tmp/events.json ]] && break
	read -r -t 0.05 <> <(:) || true
done

step "Traffic"
say "allowed: web -> app tcp/9000 (web-to-app), app -> db tcp/5432 (app-to-db, logged)"
try 10.20.1.10 10.20.2.20 9000
try 10.20.2.10 10.20.3.5 5432
say "allowed: app -> payments tcp/443 (app-to-payments: an external address)"
try 10.20.2.10 198.51.100.7 443
say "denied: lb -> db tcp/5432 (the tenant default: deny, logged)"
try 10.20.0.5 10.20.3.5 5432
say "rejected: web -> db tcp/5432 (web-to-db-refused, logged)"
try 10.20.1.10 10.20.3.5 5432

step "Switch the tenant to audit mode: a hitless policy update"
sed 's/^    default: deny$/    default: deny\n    mode: audit/' "$policy" >"$tmp/three-tier-audit.yaml"
run fw apply "$tmp/three-tier-audit.yaml"
say "audited: the same denied and rejected connections now pass, and are logged as audit"
try 10.20.0.5 10.20.3.5 5432
try 10.20.1.10 10.20.3.5 5432

step "Status, counters, flows"
run fw status
echo
run fw stats
echo
run fw flows

step "Tear down"
say "down detaches, then ends the tracked flows (flow end, reason shutdown)"
run fw down
step "The events plumwall-logd wrote (JSON, one per line; a few fields shown)"
# logd still holds the ring buffer: wait (bounded) for the flow ends.
for _ in $(seq 1 100); do
	grep -q flow_ended "$tmp/events.json" 2>/dev/null && break
	read -r -t 0.05 <> <(:) || true
done
jq -c '{dataset: .event.dataset, action: .event.action, rule: .rule.name,
	src: ((.source.ip // "") + ":" + ((.source.port // "") | tostring)),
	dst: ((.destination.ip // "") + ":" + ((.destination.port // "") | tostring)),
	verdict: .plumwall.verdict, end: .plumwall.end_reason}' "$tmp/events.json"
say "a drop event in full:"
grep -m 1 '"plumwall.drop"' "$tmp/events.json" | jq .

echo "demo done"
