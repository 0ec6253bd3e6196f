#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# apply.sh - plumwall apply/status/stats/flows/down on real interfaces.
#
# The topology and plumbing are netns.bash's. Needs root, nc and ping;
# exit 77 otherwise. Prints one line per failed check and a final
# "apply: N passed, N failed".

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init apply nc ping

policy() { # policy FILE TCP_PORTS
	cat >"$1" <<EOT
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
      - name: web
        from: clients
        to: servers
        proto: tcp
        ports: [$2]
        action: allow
      - name: dns
        from: clients
        to: servers
        proto: udp
        ports: [5353]
        action: allow
      - name: ping
        from: clients
        to: servers
        proto: icmp
        action: allow
EOT
}
policy "$TMP/p1.yaml" 8080
policy "$TMP/p2.yaml" 8081
# p2 plus a tenant that owns VLAN 100 on m1
cp "$TMP/p2.yaml" "$TMP/vlan.yaml"
cat >>"$TMP/vlan.yaml" <<EOT
  - name: tagged
    interfaces: [m1]
    vlans: [100]
    default: deny
EOT

# Servers: a TCP and a UDP echo-ish listener in the server namespace.
serve_tcp 10.99.2.2 8080 8081 9090
TCMODE=clsact
kernel_at_least 6 6 && TCMODE=tcx
serve_udp 10.99.2.2
check "path works before apply" wait_for 10 tcp_ok 10.99.2.2 8080

# --- apply --dry-run: everything apply checks, the programs verified and
# the maps filled on this kernel, privately; nothing changes
pw apply --dry-run "$TMP/p1.yaml"
check "dry run exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
check "dry run says what it did" grep -q "^dry run of $TMP/p1.yaml: would be generation 1, 1 interface; programs verified and the policy loaded on this kernel (decision entries: 3); nothing changed$" "$TMP/out"
check "dry run: nothing pinned" test ! -e "$PIN"
check "dry run: no state" test ! -e "$PLUMWALL_RUN_DIR/state.json"
check "dry run: nothing attached" bash -c "! ip -n $NSM link show m1 | grep -q xdp"
check "dry run: tcp 9090 still passes" tcp_ok 10.99.2.2 9090
sed 's/\[m1\]/[m1, nosuch0]/' "$TMP/p1.yaml" >"$TMP/noif1.yaml"
pw apply --dry-run "$TMP/noif1.yaml"
check "dry run, missing interface: exits 1" test "$RC" = 1
check "dry run, missing interface: named" grep -q "unknown interface 'nosuch0'" "$TMP/err"
echo "version: [" >"$TMP/bad.yaml"
pw apply --dry-run "$TMP/bad.yaml"
check "dry run, bad policy: exits 1" test "$RC" = 1
if command -v setpriv >/dev/null 2>&1; then
	chmod 755 "$TMP"
	chmod 644 "$TMP/p1.yaml"
	inm setpriv --reuid=65534 --regid=65534 --clear-groups "$PW" apply --dry-run "$TMP/p1.yaml" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	check "dry run without privileges: exits 3 ($(cat "$TMP/err"))" test "$RC" = 3
fi
# The compiler's refusal: the same errors, at the rules, as check's
PLUMWALL_MAX_DECISIONS=2 pw apply --dry-run "$TMP/p1.yaml"
check "dry run, too many decision entries: exits 1" test "$RC" = 1
grep ': error: ' "$TMP/err" >"$TMP/err_apply"
PLUMWALL_MAX_DECISIONS=2 pw check "$TMP/p1.yaml"
check "check refuses it too" test "$RC" = 1
check "check and apply say the same ($(cat "$TMP/err_apply"))" diff -q "$TMP/err_apply" "$TMP/err"
check "the rules are named with their entries" grep -q "^$TMP/p1.yaml:12:9: error: rule 'web' needs up to 1 decision entry in tenant 'lab'" "$TMP/err"
PLUMWALL_MAX_DECISIONS=2 pw apply "$TMP/p1.yaml"
grep ': error: ' "$TMP/err" >"$TMP/err_real"
check "apply says the same too" diff -q "$TMP/err_apply" "$TMP/err_real"
check "refused apply: nothing pinned" test ! -e "$PIN"

# --- apply
pw apply "$TMP/p1.yaml"
check "apply exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
check "tcp 8080 allowed" wait_for 20 tcp_ok 10.99.2.2 8080
check "udp 5353 allowed" wait_for 20 udp_ok 10.99.2.2
check "icmp allowed" wait_for 20 ping_ok 10.99.2.2
check "tcp 9090 denied" not tcp_ok 10.99.2.2 9090
check "pins exist" test -e $PIN/$LAYOUT/maps/pw_config
check "link pinned" test -e $PIN/$LAYOUT/links/m1@xdp
# the program that sends XDP's reject answers, at tc ingress next to it:
# a pinned tcx link, or before 6.6 a clsact filter (traffic.sh checks
# that the answers arrive)
answer_prog() {
	if [[ $TCMODE == clsact ]]; then
		inm tc filter show dev m1 ingress 2>/dev/null | grep -q pw_tc_answer
	else
		test -e $PIN/$LAYOUT/links/m1@answer
	fi
}
check "answer program attached next to xdp" answer_prog
check "answer program pinned" test -e $PIN/$LAYOUT/progs/tc_answer

# a long-lived flow on 8080, to be revoked by the second policy
inc bash -c "while :; do echo x; read -r -t 0.2 <> <(:); done | nc 10.99.2.2 8080 >/dev/null 2>&1" &
PIDS+=($!)

pw status
check "status exits 0" test "$RC" = 0
check "status text names m1" grep -q "^m1 .*xdp" "$TMP/out"
pw status --json
check "status json generation 1" test "$(jq .generation "$TMP/out")" = 1
check "status json interface" test "$(jq -r '.interfaces[0].name + " " + .interfaces[0].mode' "$TMP/out")" = "m1 xdp"
check "status json sha256" test "$(jq -r .sha256 "$TMP/out")" = "$(sha256sum "$TMP/p1.yaml" | cut -d' ' -f1)"
check "status json counts" test "$(jq -c '[.counts.tenants,.counts.rules]' "$TMP/out")" = "[1,3]"
pw stats --json
check "stats web counted" test "$(jq '.rules[] | select(.name=="web") | .packets' "$TMP/out")" -gt 0
check "stats default drops" test "$(jq '.drops[] | select(.reason=="default") | .packets' "$TMP/out")" -gt 0
check "stats conntrack max" test "$(jq .conntrack.max_entries "$TMP/out")" -gt 0
pw stats
check "stats text" grep -q "^Conntrack max:" "$TMP/out"
flow_8080() {
	pw flows --json --tenant lab
	jq -e '.flows[] | select(.dst=="10.99.2.2:8080" and .rule=="web" and .packets_out > 0)' "$TMP/out" >/dev/null
}
check "flows shows the 8080 flow" wait_for 20 flow_8080
pw flows
check "flows text" grep -q "10.99.2.2:8080" "$TMP/out"
pw flows --json --tenant nosuch
check "flows --tenant of no tenant exits 1" test "$RC" = 1
check "flows --tenant of no tenant: says which there are ($(cat "$TMP/err"))" \
	test "$(cat "$TMP/err")" = "plumwall flows: no tenant 'nosuch' in the running policy (tenants: lab)"
check "flows --tenant of no tenant: no output" test ! -s "$TMP/out"

# --- bad policy, missing interface: exit 1, nothing changes
echo "version: [" >"$TMP/bad.yaml"
pw apply "$TMP/bad.yaml"
check "bad policy exits 1" test "$RC" = 1
sed 's/\[m1\]/[m1, nosuch0]/' "$TMP/p2.yaml" >"$TMP/noif.yaml"
pw apply "$TMP/noif.yaml"
check "missing interface exits 1" test "$RC" = 1
check "missing interface named" grep -q "nosuch0" "$TMP/err"
pw status --json
check "generation unchanged" test "$(jq .generation "$TMP/out")" = 1
# VLAN tenants are judged in tc (XDP does not see offloaded tags): an
# interface already attached with XDP cannot take them without down.
pw apply "$TMP/vlan.yaml"
check "VLAN tenant on an XDP interface exits 1" test "$RC" = 1
check "VLAN tenant on an XDP interface: says why ($(cat "$TMP/err"))" \
	grep -q "m1: tenants by VLAN need tc, but m1 is attached in xdp mode; run 'plumwall down' first" "$TMP/err"
pw status --json
check "generation unchanged after the VLAN refusal" test "$(jq .generation "$TMP/out")" = 1

# --- second apply: 8080 revoked, 8081 allowed
pw apply "$TMP/p2.yaml"
check "second apply exits 0" test "$RC" = 0
pw status --json
check "generation 2" test "$(jq .generation "$TMP/out")" = 2
check "tcp 8081 allowed" wait_for 20 tcp_ok 10.99.2.2 8081
check "tcp 8080 denied now" not tcp_ok 10.99.2.2 8080
check "revoked flow stops" wait_for 20 revoked

# --- a setting that cannot change on a running table is said, not ignored
sed 's/^  unmatched: deny$/  unmatched: deny\n  conntrack:\n    max_entries: 4096/' \
	"$TMP/p2.yaml" >"$TMP/p3.yaml"
pw apply "$TMP/p3.yaml"
check "apply with another conntrack size exits 0" test "$RC" = 0
check "conntrack size change is warned" grep -q "conntrack.max_entries 4096 is not applied" "$TMP/err"
pw status --json
check "generation 3" test "$(jq .generation "$TMP/out")" = 3

# --- two applies at once take turns (a lock), both succeed
nsenter --net=/var/run/netns/$NSM "$PW" apply "$TMP/p2.yaml" >/dev/null 2>"$TMP/err_a" &
pa=$!
nsenter --net=/var/run/netns/$NSM "$PW" apply "$TMP/p2.yaml" >/dev/null 2>"$TMP/err_b" &
pb=$!
wait $pa
rca=$?
wait $pb
rcb=$?
check "concurrent applies both exit 0 ($(cat "$TMP/err_a" "$TMP/err_b"))" test "$rca$rcb" = 00
pw status --json
check "concurrent applies: generation 5" test "$(jq .generation "$TMP/out")" = 5
check "lock file in the state directory" test -e $PLUMWALL_RUN_DIR/lock
# a lock held elsewhere: a bounded wait that names the holder, exit 3
# (a holder that just holds; not a wait: nothing waits on it)
flock $PLUMWALL_RUN_DIR/lock sleep 30 &
HOLDER=$!
PIDS+=($HOLDER)
wait_for 20 grep -q " $HOLDER " /proc/locks
PLUMWALL_LOCK_TIMEOUT=1 pw apply "$TMP/p2.yaml"
check "lock held elsewhere: apply exits 3" test "$RC" = 3
check "lock held elsewhere: says who ($(head -c 300 "$TMP/err"))" \
	grep -q "waiting for the apply lock $PLUMWALL_RUN_DIR/lock, held by pid $HOLDER (flock)" "$TMP/err"
check "lock held elsewhere: gives up" grep -q "still held by pid $HOLDER (flock) after 1 s; giving up" "$TMP/err"
kill $HOLDER
# the state names the policy, its tenants and rules: root's only
check "state.json is 0600" test "$(stat -c %a $PLUMWALL_RUN_DIR/state.json)" = 600
check "the state directory is 0700" test "$(stat -c %a $PLUMWALL_RUN_DIR)" = 700

# --- down
pw down
check "down exits 0" test "$RC" = 0
check "no pins" test ! -e $PIN
check "no xdp on m1" bash -c "! ip -n $NSM link show m1 | grep -q xdp"
check "no answer program on m1" not answer_prog
check "tcp 9090 passes after down" wait_for 20 tcp_ok 10.99.2.2 9090
pw status
check "status after down exits 3" test "$RC" = 3
pw down
check "down again exits 3" test "$RC" = 3

# --- VLAN tenants: --mode xdp refused, auto judges the interface in tc
pw apply --mode xdp "$TMP/vlan.yaml"
check "VLAN tenant, --mode xdp: exits 1" test "$RC" = 1
check "VLAN tenant, --mode xdp: says why" grep -q "m1: tenants by VLAN need tc (--mode tc or auto)" "$TMP/err"
check "VLAN tenant, --mode xdp: nothing pinned" test ! -e $PIN
pw apply "$TMP/vlan.yaml"
check "VLAN tenant, auto: exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
check "VLAN tenant, auto: says tc ($(tr "\n" " " <"$TMP/out"))" grep -q "m1: $TCMODE (attached) (tenants by VLAN: tc sees their tags)" "$TMP/out"
check "VLAN tenant, auto: untagged tenant enforced" wait_for 20 tcp_ok 10.99.2.2 8081
check "VLAN tenant, auto: untagged tenant denies" not tcp_ok 10.99.2.2 9090
pw down
check "down after the VLAN policy exits 0" test "$RC" = 0
PLUMWALL_PIN_PATH=relative/pins pw status
check "relative PLUMWALL_PIN_PATH is a usage error" test "$RC" = 2

nt_done
