#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# operator.sh - what plumwall tells an operator stays true across applies
# and daemon restarts: flows name the rule of the generation they were
# judged under, per-rule counters (packets, bytes, first and last hit)
# follow a rule's name, per-tenant drop counters, stats --unused/--since/
# --top, --tenant everywhere (unknown tenants refused), flows --sort,
# usage errors that say what was wrong, apply --mode on an attached
# interface, plumwall-logd naming an old generation's flow end from the
# state. Topology and plumbing: netns.bash. Needs root, nc and ping.

. "$(dirname "${BASH_SOURCE[0]}")/netns.bash"
nt_init operator nc ping
PWD_BIN=$BUILD/plumwalld
[[ -x $PWD_BIN ]] || { echo "operator: $PWD_BIN not built" >&2; exit 1; }

# policy FILE RULES...: tenant lab on m1 (default deny) and tenant guest
# on VLAN 100 of m1 (no traffic), with the rules given as YAML flow maps.
policy() {
	local f=$1 r
	shift
	cat >"$f" <<EOT
version: 1
settings:
  unmatched: deny
  # replies come back through m2, where nothing is attached: the idle
  # flow stays in state syn (netns.bash), and must outlive the test
  conntrack:
    timeouts: {tcp_syn: 3600}
tenants:
  - name: lab
    interfaces: [m1]
    default: deny
    flow_logs: true
    segments:
      clients: [10.99.1.0/24]
      servers: [10.99.2.0/24]
    rules:
EOT
	for r in "$@"; do
		echo "      - $r" >>"$f"
	done
	cat >>"$f" <<EOT
  - name: guest
    interfaces: [m1]
    vlans: [100]
    default: deny
EOT
}
WEB='{name: web, from: clients, to: servers, proto: tcp, ports: [8080, 8081], action: allow}'
PING='{name: ping, from: clients, to: servers, proto: icmp, action: allow}'
SPARE='{name: spare, from: clients, to: servers, proto: tcp, ports: [7], action: allow}'
SPARE2='{name: spare2, from: clients, to: servers, proto: tcp, ports: [7], action: allow}'
SSH='{name: ssh, from: clients, to: servers, proto: tcp, ports: [22], action: allow}'
ECHO='{name: echo, from: clients, to: servers, proto: udp, ports: [5353], action: allow}'
policy "$TMP/g1.yaml" "$WEB" "$PING" "$SPARE"
# one rule inserted first: every id shifts; spare renamed
policy "$TMP/g2.yaml" "$SSH" "$WEB" "$PING" "$SPARE2"
policy "$TMP/g3.yaml" "$ECHO" "$SSH" "$WEB" "$PING" "$SPARE2"

serve_tcp 10.99.2.2 8080 9090
# a server that holds its connection open and sends nothing: its flow
# stays idle, so no packet re-judges it under a newer policy
ins bash -c "tail -f /dev/null | nc -l 10.99.2.2 8081 >/dev/null 2>&1" &
PIDS+=($!)
check "path works before apply" wait_for 10 tcp_ok 10.99.2.2 8080

jqo() { jq -r "$@" "$TMP/out"; }
rule() { # rule NAME FIELD: a rule's field in stats --json
	pw stats --json
	jqo --arg n "$1" ".rules[] | select(.name == \$n) | .$2"
}
flow_rule() { # the rule flows names for the idle 8081 flow
	pw flows --json
	jqo '.flows[] | select(.dst == "10.99.2.2:8081") | .rule'
}

# --- generation 1: traffic
pw apply --mode tc "$TMP/g1.yaml"
check "apply g1 exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
check "g1: tcp 8080" wait_for 20 tcp_ok 10.99.2.2 8080
tcp_ok 10.99.2.2 8080
tcp_ok 10.99.2.2 8080
check "g1: ping" ping_ok 10.99.2.2
check "g1: 9090 denied" not tcp_ok 10.99.2.2 9090
inc nc -z -w 1 10.99.2.2 7 >/dev/null 2>&1 # spare: one hit
inc bash -c "tail -f /dev/null | nc 10.99.2.2 8081 >/dev/null 2>&1" &
PIDS+=($!)
idle_flow() { [[ $(flow_rule) == web ]]; }
check "g1: the idle 8081 flow is tracked under web" wait_for 20 idle_flow
web1=$(rule web packets)
check "g1: web counted ($web1)" test "$web1" -ge 4
check "g1: web first and last hit" \
	test "$(rule web 'first_hit != null and .last_hit != null and .first_hit <= .last_hit')" = true
check "g1: spare counted once" test "$(rule spare packets)" = 1
pw stats --json
check "g1: lab default drops" test "$(jqo '.tenants[] | select(.name == "lab") | .default_drops.packets')" -ge 1
check "g1: guest default drops 0" test "$(jqo '.tenants[] | select(.name == "guest") | .default_drops.packets')" = 0
check "g1: tenant drops add up to the default drops" \
	test "$(jqo '[.tenants[].default_drops.packets] | add')" = "$(jqo '.drops[] | select(.reason == "default") | .packets')"
lab_drops1=$(jqo '.tenants[] | select(.name == "lab") | .default_drops.packets')
pw stats
check "stats text: first and last hit columns" grep -q "^  ID  RULE  *TENANT  *PACKETS  *BYTES  FIRST HIT  *LAST HIT" "$TMP/out"
check "stats text: tenants section" grep -q "^Tenants:" "$TMP/out"
check "stats text: lab's drops" grep -Eq "^  lab +1 +$lab_drops1 " "$TMP/out"

# --- generation 2: ssh inserted first, web keeps its name, spare renamed
pw apply "$TMP/g2.yaml"
check "apply g2 exits 0 ($(cat "$TMP/err"))" test "$RC" = 0
pw status --json
check "generation 2" test "$(jqo .generation)" = 2
check "flows: the idle flow keeps its generation-1 rule name" test "$(flow_rule)" = web
check "flows --json: its generation 1 and rule id 0" \
	test "$(jqo -c '.flows[] | select(.dst == "10.99.2.2:8081") | [.generation, .rule_id]')" = "[1,0]"
pw flows
check "flows text: web, not ssh (the id's generation-2 name)" \
	grep -Eq "10\.99\.2\.2:8081 .* web$" "$TMP/out"
check "stats: web continues ($(rule web packets) >= $web1)" test "$(rule web packets)" -ge "$web1"
check "stats: ssh starts at zero" test "$(rule ssh packets)" = 0
check "stats: the renamed spare2 starts at zero" test "$(rule spare2 packets)" = 0
check "stats: spare2 never hit" test "$(rule spare2 first_hit)" = null
check "stats: spare is gone" test -z "$(rule spare packets)"
tcp_ok 10.99.2.2 8080
check "stats: web counts on in g2 ($(rule web packets) > $web1)" test "$(rule web packets)" -gt "$web1"
web2=$(rule web packets)
pw stats --json
check "stats: lab's default drops continue" \
	test "$(jqo '.tenants[] | select(.name == "lab") | .default_drops.packets')" -ge "$lab_drops1"

# --- generations 3 and 4: generation 1's slot is refilled, then 2's
pw apply "$TMP/g3.yaml"
check "apply g3 exits 0" test "$RC" = 0
check "g3: web keeps its count ($(rule web packets))" test "$(rule web packets)" -ge "$web2"
tcp_ok 10.99.2.2 8080
pw apply "$TMP/g2.yaml"
check "apply g4 exits 0" test "$RC" = 0
check "g4: web keeps its count ($(rule web packets))" test "$(rule web packets)" -gt "$web2"
check "g4: the idle flow still names web" test "$(flow_rule)" = web
web4=$(rule web packets)
first4=$(rule web first_hit)

# --- plumwalld restarts: unchanged policy kept, a changed one applied
cat >"$TMP/plumwall.yaml" <<EOT
policy: $TMP/g2.yaml
mode: auto
pin_path: $PIN
EOT
DPID=
start_daemon() {
	nsenter --net=/var/run/netns/$NSM "$PWD_BIN" -c "$TMP/plumwall.yaml" >>"$TMP/d.log" 2>&1 &
	DPID=$!
	PIDS+=($DPID)
}
stop_daemon() { kill "$DPID" && wait "$DPID"; }
start_daemon
check "plumwalld: keeps the running policy" wait_for 10 grep -q "unchanged, generation 4 kept" "$TMP/d.log"
stop_daemon
check "plumwalld restart: web's count kept" test "$(rule web packets)" = "$web4"
cp "$TMP/g3.yaml" "$TMP/g5.yaml"
sed -i "s#policy: .*#policy: $TMP/g5.yaml#" "$TMP/plumwall.yaml"
start_daemon
check "plumwalld: applies the changed policy" wait_for 10 grep -q "policy $TMP/g5.yaml applied, generation 5" "$TMP/d.log"
stop_daemon
check "plumwalld apply: web's count kept" test "$(rule web packets)" = "$web4"
check "plumwalld apply: web's first hit kept" test "$(rule web first_hit)" = "$first4"

# --- stats --unused, --since, --top
pw stats --unused --json
check "--unused: ssh, spare2, echo, never hit" \
	test "$(jqo -c '[.rules[].name] | sort')" = '["echo","spare2","ssh"]'
check "--unused: counting since" test "$(jqo '[.rules[].since != null] | all')" = true
pw stats --unused
check "--unused text" grep -q "^Rules with no hit:" "$TMP/out"
check "--unused text: spare2" grep -Eq "^ +[0-9]+  spare2  lab +-  " "$TMP/out"
pw stats --unused --since 7d --json
check "--unused --since 7d: web had a hit" test "$(jqo '[.rules[].name] | index("web")')" = null
unused_1s() {
	pw stats --unused --since 1s --json
	[[ $(jqo '[.rules[].name] | index("web")') != null ]]
}
check "--unused --since 1s: web, once a second has passed" wait_for 20 unused_1s
check "--unused --since: its cut-off" test "$(jqo '.no_hit_since != null')" = true
pw stats --top 1 --json
check "--top 1: web" test "$(jqo -c '[.rules[].name]')" = '["web"]'
pw stats --top 10 --json
check "--top 10: only rules with hits" test "$(jqo -c '[.rules[].name]')" = '["web","ping"]'
pw stats --top 1
check "--top text" grep -q "^Busiest rules:" "$TMP/out"

# --- --tenant for stats, status, flows; unknown tenants refused
pw stats --tenant guest --json
check "stats --tenant guest exits 0" test "$RC" = 0
check "stats --tenant guest: no rules of its own" test "$(jqo '.rules | length')" = 0
check "stats --tenant guest: its counters only" test "$(jqo -c '[.tenants[].name]')" = '["guest"]'
pw stats --tenant lab --json
check "stats --tenant lab: its rules" test "$(jqo '.rules | length')" = 5
pw stats --tenant typo
check "stats --tenant typo exits 1" test "$RC" = 1
check "stats --tenant typo: says so ($(cat "$TMP/err"))" \
	test "$(cat "$TMP/err")" = "plumwall stats: no tenant 'typo' in the running policy (tenants: lab, guest)"
pw status --tenant lab --json
check "status --tenant lab exits 0" test "$RC" = 0
check "status --tenant lab: m1" test "$(jqo -c '[.interfaces[].name]')" = '["m1"]'
check "status --tenant lab: its rules" test "$(jqo .counts.rules)" = 5
check "status --tenant lab: its flows" test "$(jqo .counts.flows)" -ge 1
pw status --tenant guest --json
check "status --tenant guest: no flows" test "$(jqo .counts.flows)" = 0
pw status --tenant typo
check "status --tenant typo exits 1" test "$RC" = 1
check "status --tenant typo: says so" grep -q "no tenant 'typo' in the running policy (tenants: lab, guest)" "$TMP/err"
pw flows --tenant typo
check "flows --tenant typo exits 1" test "$RC" = 1
check "flows --tenant typo: says so" grep -q "^plumwall flows: no tenant 'typo' in the running policy (tenants: lab, guest)$" "$TMP/err"
pw flows --tenant guest --json
check "flows --tenant guest: none" test "$(jqo '.flows | length')" = 0

# --- status: absolute paths
(cd "$TMP" && nsenter --net=/var/run/netns/$NSM "$PW" apply g3.yaml >/dev/null 2>&1)
abs=$(realpath "$TMP")/g3.yaml
pw status --json
check "status: absolute policy path" test "$(jqo .policy)" = "$abs"
check "status: absolute file paths" test "$(jqo -c .files)" = "[\"$abs\"]"
pw status
check "status text: absolute policy path" grep -q "^Policy: *$abs$" "$TMP/out"
check "status text: absolute file path" grep -q "^Files: *$abs$" "$TMP/out"

# --- flows sorted: by tenant then bytes (default), --sort
tcp_ok 10.99.2.2 8080
sorted_by() { # sorted_by EXPR: the flows are in descending order of EXPR
	jq -e "[.flows[] | $1] as \$v | \$v == (\$v | sort | reverse)" "$TMP/out" >/dev/null
}
pw flows --json
check "flows: by tenant, then bytes" sorted_by '(.bytes_out + .bytes_in)'
for k in bytes packets age idle; do
	pw flows --sort $k --json
	check "flows --sort $k exits 0" test "$RC" = 0
done
pw flows --sort bytes --json
check "flows --sort bytes" sorted_by '(.bytes_out + .bytes_in)'
pw flows --sort packets --json
check "flows --sort packets" sorted_by '(.packets_out + .packets_in)'
pw flows --sort age --json
check "flows --sort age" sorted_by .age_s
pw flows --sort idle --json
check "flows --sort idle" sorted_by .idle_s
pw flows
check "flows text: IDLE column" grep -q "  AGE  IDLE  RULE$" "$TMP/out"

# --- usage errors say what was wrong, on the line before "Try"
usage_says() { # usage_says REASON ARGS...: exit 2, REASON then Try
	local why=$1
	shift
	pw "$@"
	[[ $RC == 2 && $(wc -l <"$TMP/err") == 2 ]] &&
		grep -q "^plumwall $1: $why" <(head -1 "$TMP/err") &&
		grep -q "^Try 'plumwall $1 --help'.$" <(tail -1 "$TMP/err")
}
check "stats --bogus" usage_says "unrecognized option '--bogus'" stats --bogus
check "stats --tenant (no value)" usage_says "option '--tenant' requires an argument" stats --tenant
check "stats --since without --unused" usage_says "--since goes with --unused" stats --since 5m
check "stats --since 5" usage_says "--since: not a duration '5'" stats --unused --since 5
check "stats --top x" usage_says "--top: a number of rules from 1, not 'x'" stats --top x
check "stats --unused --top" usage_says "--unused and --top exclude each other" stats --unused --top 3
check "status extra argument" usage_says "unexpected argument 'x'" status x
check "flows --sort x" usage_says "--sort: tenant, bytes, packets, age or idle, not 'x'" flows --sort x

# --- apply --mode for an interface attached in another mode: refused
pw status --json
mode=$(jqo '.interfaces[] | select(.name == "m1") | .mode')
gen=$(jqo .generation)
pw apply --mode xdp "$TMP/g3.yaml"
check "apply --mode xdp on a tc interface exits 1" test "$RC" = 1
check "apply --mode xdp: says why ($(cat "$TMP/err"))" \
	grep -q "^plumwall apply: m1 is attached in $mode mode, not xdp: an attached interface keeps its mode; run 'plumwall down' first to change it$" "$TMP/err"
pw status --json
check "apply --mode xdp: nothing changed" test "$(jqo .generation)" = "$gen"
pw apply --mode tc "$TMP/g3.yaml"
check "apply --mode tc on a tc interface exits 0" test "$RC" = 0
pw apply "$TMP/g3.yaml"
check "apply (auto) on a tc interface exits 0" test "$RC" = 0

# --- plumwall-logd, started long after generation 1 was replaced, names
# the idle flow's end (at down) from the state's names of generation 1
LOGD=$BUILD/plumwall-logd
cat >"$TMP/logd.yaml" <<EOT
policy: $TMP/g2.yaml
pin_path: $PIN
logging:
  sinks:
    - name: events
      format: json
      path: $TMP/events.json
EOT
"$LOGD" -c "$TMP/logd.yaml" 2>"$TMP/logd.err" &
PIDS+=($!)
check "logd reads the ring buffer" wait_for 10 grep -q "reading events from" "$TMP/logd.err"
check "the idle flow's generation 1 is still named" \
	test "$(jq '[.generation] + [.previous[].generation] | index(1) != null' "$PLUMWALL_RUN_DIR/state.json")" = true

# --- down ends the counters with the datapath
pw down
check "down exits 0" test "$RC" = 0
END='select(.event.action == "flow_ended" and .destination.port == 8081)'
idle_end() { [[ -s $TMP/events.json ]] && [[ -n $(jq -c "$END" "$TMP/events.json") ]]; }
check "logd: the idle flow's end" wait_for 10 idle_end
check "logd: its rule and generation ($(jq -c "$END | [.rule.name, .plumwall.policy_generation]" "$TMP/events.json"))" \
	test "$(jq -c "$END | [.rule.name, .rule.ruleset, .plumwall.policy_generation]" "$TMP/events.json")" = '["web","lab",1]'

pw apply "$TMP/g2.yaml"
check "after down: web starts at zero" test "$(rule web packets)" = 0
pw down

nt_done
