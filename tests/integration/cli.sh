#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# cli.sh - the plumwall command line of cli.md for the policy tools (check,
# show): exit statuses, what goes to stdout and what to stderr, help and
# version, diagnostics in the FILE:LINE:COLUMN format of policy.md section 8.
#
# Needs the built binary ($PLUMWALL_BUILD/plumwall) and jq; no privileges.
# Prints one line per failed check and a final "cli: N passed, N failed".

set -u

ROOT=${PLUMWALL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${PLUMWALL_BUILD:-$ROOT/build}
PW=$BUILD/plumwall

if [[ ! -x $PW ]]; then
	echo "cli: $PW not built" >&2
	exit 1
fi
if ! command -v jq >/dev/null 2>&1; then
	echo "cli: jq not installed, skipped"
	exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-cli.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0

# run ARGS...: run plumwall; sets RC, OUT (stdout file) and ERR (stderr file).
OUT=$TMP/stdout
ERR=$TMP/stderr
RC=0
run() {
	"$PW" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	LAST="plumwall $*"
}

# run_in FILE ARGS...: run with FILE as standard input.
run_in() {
	local in=$1
	shift
	"$PW" "$@" >"$OUT" 2>"$ERR" <"$in"
	RC=$?
	LAST="plumwall $* <$in"
}

ok() {
	passed=$((passed + 1))
}

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

expect_nonempty() { # out|err
	local f=$OUT
	[[ $1 == err ]] && f=$ERR
	if [[ -s $f ]]; then ok; else fail "std$1 empty"; fi
}

expect_grep() { # out|err REGEX
	local f=$OUT
	[[ $1 == err ]] && f=$ERR
	if grep -Eq -- "$2" "$f"; then ok; else fail "std$1 does not match /$2/"; fi
}

# Every line of stderr is a diagnostic of FILE, in policy.md's format.
expect_diags() { # FILE
	local re

	re="^$(printf '%s' "$1" | sed 's/[][\.*^$/]/\\&/g'):[0-9]+:[0-9]+: (error|warning): [^ ]"

	if [[ -s $ERR ]] && ! grep -Evq -- "$re" "$ERR"; then
		ok
	else
		fail "stderr is not FILE:LINE:COLUMN: error|warning: MESSAGE lines"
	fi
}

# stdout is one line holding one JSON object.
expect_json_line() {
	if [[ $(wc -l <"$OUT") -eq 1 ]] && jq -e 'type == "object"' "$OUT" >/dev/null 2>&1; then
		ok
	else
		fail "stdout is not one JSON object on one line"
	fi
}

expect_jq() { # FILTER: must be true on stdout
	# No "--" before the filter: jq 1.6 does not take it.
	if jq -e "$1" "$OUT" >/dev/null 2>&1; then ok; else fail "jq '$1' is not true"; fi
}

# A usage error: status 2, nothing on stdout, a message on stderr.
expect_usage() {
	expect_rc 2
	expect_empty out
	expect_nonempty err
}

# ---- the example policies ---------------------------------------------------

shopt -s nullglob
examples=("$ROOT"/etc/policies/*.yaml)
shopt -u nullglob
LAST="examples"
RC=0
: >"$OUT"
: >"$ERR"
if [[ ${#examples[@]} -ge 3 ]]; then ok; else fail "fewer than 3 example policies"; fi

for p in "${examples[@]}"; do
	run check "$p"
	expect_rc 0
	expect_empty err
	expect_grep out ': ok \([0-9]+ tenants?, [0-9]+ rules?, 0 warnings\)$'

	run show "$p"
	expect_rc 0
	expect_empty err
	expect_grep out '^Policy:$'
	expect_grep out '^Segments:$'
	expect_grep out '^Tenant '
	expect_grep out '^Map sizes:$'
	expect_grep out '^  pw_decision +[0-9]+ +16 +4 +[0-9]+$'

	run show --json "$p"
	expect_rc 0
	expect_empty err
	expect_json_line
	expect_jq '(.tenants | length) >= 1 and .policy.warnings == []'
	expect_jq '(.segments | type) == "object" and all(.tenants[]; (.segments | type) == "object")'
	expect_jq '.map_sizes.rules == ([.tenants[0].rules[] | select(.scope == "global")] | length) + ([.tenants[].rules[] | select(.scope == "tenant")] | length)'
	# The compiler's per-map figures agree with the derived counts.
	expect_jq '[.map_sizes.maps[].name] == ["pw_iface","pw_tenant","pw_addr","pw_svc","pw_decision","pw_rule","pw_settings"]'
	expect_jq '(.map_sizes.maps[] | select(.name == "pw_addr") | .entries) == .map_sizes.lpm_entries'
	expect_jq '(.map_sizes.maps[] | select(.name == "pw_rule") | .entries) == .map_sizes.rules'
	expect_jq '(.map_sizes.maps[] | select(.name == "pw_iface") | .entries) == .map_sizes.tenant_keys'
	expect_jq '(.map_sizes.maps[] | select(.name == "pw_tenant") | .entries) == (.tenants | length)'
	expect_jq 'all(.map_sizes.maps[]; .bytes == .entries * (.key_size + .value_size)) and .map_sizes.bytes == ([.map_sizes.maps[].bytes] | add)'

	# Options may follow the policy (getopt permutes).
	run show "$p" --json
	expect_rc 0
	expect_json_line
done

# ---- policy errors ------------------------------------------------------------

bad=$TMP/bad.yaml
cat >"$bad" <<'EOF'
version: 1
tenants:
  - name: acme
    interfaces: [acme0]
    segments:
      web: [10.1.1.5/24]
    rules:
      - name: r1
        from: web
        to: nowhere
        prots: tcp
        action: allow
EOF

run check "$bad"
expect_rc 1
expect_empty out
expect_diags "$bad"
expect_grep err "^$bad:6:13: error: "
# All of them, not just the first.
if [[ $(grep -c ': error: ' "$ERR") -ge 3 ]]; then ok; else fail "fewer than 3 errors reported"; fi

run show "$bad"
expect_rc 1
expect_empty out
expect_diags "$bad"

run show --json "$bad"
expect_rc 1
expect_empty out
expect_diags "$bad"

# Not YAML at all.
notyaml=$TMP/notyaml.yaml
printf 'version: 1\ntenants: [\n' >"$notyaml"
run check "$notyaml"
expect_rc 1
expect_empty out
expect_diags "$notyaml"

# ---- missing policy ------------------------------------------------------------

for cmd in check show; do
	run $cmd "$TMP/does-not-exist.yaml"
	expect_rc 1
	expect_empty out
	expect_grep err 'does-not-exist\.yaml'

	run $cmd --json-not-an-option "$TMP/does-not-exist.yaml"
	expect_usage
done
run show --json "$TMP/does-not-exist.yaml"
expect_rc 1
expect_empty out
expect_nonempty err

# ---- warnings ------------------------------------------------------------------

warn=$TMP/warn.yaml
cat >"$warn" <<'EOF'
version: 1
tenants:
  - name: acme
    interfaces: [acme0]
    segments:
      web: [10.1.1.0/24]
      unused: [10.1.2.0/24]
    rules:
      - name: web-out
        from: web
        to: external
        proto: tcp
        ports: [443]
        action: allow
      - name: again
        from: web
        to: external
        proto: tcp
        ports: [443]
        action: deny
EOF

run check "$warn"
expect_rc 0
expect_diags "$warn"
expect_grep err "^$warn:7:7: warning: .*unused"
expect_grep err "^$warn:15:9: warning: .*again"
if ! grep -q ': error: ' "$ERR"; then ok; else fail "warnings reported as errors"; fi
expect_grep out ': ok \(1 tenant, 2 rules, 2 warnings\)$'

run show "$warn"
expect_rc 0
expect_diags "$warn"
expect_grep out '^Tenant acme'

run show --json "$warn"
expect_rc 0
expect_diags "$warn"
expect_json_line
expect_jq '(.policy.warnings | length) == 2 and all(.policy.warnings[]; .line > 0 and .column > 0 and (.message | length) > 0)'

# ---- a directory policy --------------------------------------------------------

dir=$TMP/policy.d
mkdir "$dir"
cat >"$dir/10-global.yaml" <<'EOF'
version: 1
settings:
  log_rate: 10
segments:
  dns: [10.0.0.53]
rules:
  - name: dns
    from: any
    to: dns
    proto: udp
    ports: [53]
    action: allow
EOF
cat >"$dir/20-tenants.yml" <<'EOF'
version: 1
tenants:
  - name: red
    interfaces: [red0]
    segments:
      web: [10.1.0.0/24]
    rules:
      - name: web-out
        from: web
        to: external
        proto: tcp
        ports: [443]
        action: allow
EOF
echo 'not a policy' >"$dir/README"

run check "$dir"
expect_rc 0
expect_empty err
expect_grep out ': ok \(1 tenant, 2 rules, 0 warnings\)$'

run show --json "$dir"
expect_rc 0
expect_empty err
expect_json_line
expect_jq '(.policy.files | length) == 2 and .segments == {"dns": ["10.0.0.53"]} and .tenants[0].segments == {"web": ["10.1.0.0/24"]} and .settings.log_rate == 10'

# An error in one file of a directory names that file.
cat >"$dir/30-bad.yaml" <<'EOF'
version: 1
tenants:
  - name: blue
    interfaces: [blue0]
    default: maybe
EOF
run check "$dir"
expect_rc 1
expect_empty out
expect_diags "$dir/30-bad.yaml"

# ---- a broken file does not hide the other files' errors ---------------------

printf 'version: 1\ntenants: [\n' >"$dir/40-broken.yaml"
run check "$dir"
expect_rc 1
expect_empty out
expect_grep err "^$dir/30-bad.yaml:5:14: error: 'default' must be allow, deny or reject, not 'maybe'$"
expect_grep err "^$dir/40-broken.yaml:3:1: error: YAML syntax error"
rm "$dir/40-broken.yaml"

# ---- check: several policies, standard input, --json ---------------------------

run check "$warn" "$dir" "${examples[0]:-$warn}"
expect_rc 1
expect_grep out "^$warn: ok \(1 tenant, 2 rules, 2 warnings\)$"
if [[ $(wc -l <"$OUT") -eq 2 ]]; then ok; else fail "not one ok line per valid policy"; fi
expect_grep err "^$dir/30-bad.yaml:5:14: error: "
expect_grep err "^$warn:7:7: warning: "

run_in "$warn" check -
expect_rc 0
expect_grep out '^<stdin>: ok \(1 tenant, 2 rules, 2 warnings\)$'
expect_diags '<stdin>'
run_in "$bad" check "$warn" -
expect_rc 1
expect_grep out "^$warn: ok"
expect_grep err '^<stdin>:6:13: error: '
run_in /dev/null check -
expect_rc 1
expect_grep err '^<stdin>:1:1: error: empty policy file'

run_in "$bad" check --json "$warn" - "$TMP/does-not-exist.yaml"
expect_rc 1
expect_empty err
expect_json_line
expect_jq '.ok == false and .warnings == 2 and .errors == (.policies | map(.errors) | add) and (.policies | length) == 3'
expect_jq '.policies[0] | .path == "'"$warn"'" and .ok and .tenants == 1 and .rules == 2 and .errors == 0 and .warnings == 2 and .files == ["'"$warn"'"]'
expect_jq '.policies[0].diagnostics | length == 2 and all(.[]; .severity == "warning" and .file == "'"$warn"'" and .line > 0 and .column > 0 and (.message | length) > 0)'
expect_jq '.policies[1] | .path == "<stdin>" and .ok == false and .tenants == null and .errors >= 3 and all(.diagnostics[]; .file == "<stdin>" and .severity == "error")'
expect_jq '.policies[1].diagnostics[0] | keys == ["column","file","line","message","severity"]'
expect_jq '.policies[2] | .ok == false and .files == null and .diagnostics[0].line == null and (.diagnostics[0].message | test("cannot read policy"))'
run check --json "$warn"
expect_rc 0
expect_json_line
expect_jq '.ok and .errors == 0'

# ---- the compiler's refusal: at the rules that cost the most, everywhere ------

big=$TMP/big.yaml
cat >"$big" <<'EOF'
version: 1
tenants:
  - name: acme
    interfaces: [acme0]
    segments:
      web: [10.1.1.0/24]
      db: [10.1.2.0/24]
    rules:
      - {name: small, from: web, to: db, proto: tcp, ports: [22], action: allow}
      - {name: wide, from: [web, db], to: [web, db, 192.0.2.1], proto: tcp, ports: [22, "80-90"], action: allow}
EOF
run check "$big"
expect_rc 0
PLUMWALL_MAX_DECISIONS=4 run check "$big"
expect_rc 1
expect_empty out
expect_diags "$big"
expect_grep err "^$big:3:5: error: tenant 'acme' needs more than 4 decision entries, plumwall's limit for a datapath map; the rules that need the most: 'wide' \(12\), 'small' \(1\) "
expect_grep err "^$big:10:9: error: rule 'wide' needs up to 12 decision entries in tenant 'acme': it covers 2 source, 3 destination and 2 service classes$"
cp "$ERR" "$TMP/check_err"
PLUMWALL_MAX_DECISIONS=4 run show "$big"
expect_rc 1
expect_empty out
if diff -q "$TMP/check_err" "$ERR" >/dev/null; then ok; else fail "show words the refusal differently from check"; fi
PLUMWALL_MAX_DECISIONS=4 run check --json "$big"
expect_rc 1
expect_jq '.policies[0] | .ok == false and .tenants == 1 and .errors == 3'
PLUMWALL_MAX_DECISIONS=many run check "$big"
expect_rc 0
expect_grep err 'PLUMWALL_MAX_DECISIONS must be a number from 1 to 33554432'

# ---- usage errors: status 2 ----------------------------------------------------

p=${examples[0]:-$warn}

run
expect_usage
run check
expect_usage
run show
expect_usage
run show --json
expect_usage
run show "$p" extra
expect_usage
run check - -
expect_usage
expect_grep err "'-' \(standard input\) may be given only once"
run check --bogus "$p"
expect_usage
run show -x "$p"
expect_usage
run --bogus
expect_usage
run frobnicate "$p"
expect_usage
expect_grep err 'frobnicate'
run chec "$p"
expect_usage
run sho "$p"
expect_usage
run CHECK "$p"
expect_usage

# ---- help and version: status 0, on stdout -------------------------------------

for args in "-h" "--help" "check -h" "check --help" "show -h" "show --help"; do
	# shellcheck disable=SC2086 # split on purpose
	run $args
	expect_rc 0
	expect_empty err
	expect_grep out '^Usage: plumwall'
done
run --help
expect_grep out 'check'
expect_grep out 'show'
run show --help
expect_grep out -- '--json'

run --version
expect_rc 0
expect_empty err
expect_grep out '^plumwall [0-9]+\.[0-9]+'
if [[ $(wc -l <"$OUT") -eq 1 ]]; then ok; else fail "--version is not one line"; fi

# -V on every binary, the same line as --version
for bin in plumwall plumwalld plumwall-logd; do
	for v in -V --version; do
		"$BUILD/$bin" $v >"$OUT" 2>"$ERR" </dev/null
		RC=$?
		LAST="$bin $v"
		expect_rc 0
		expect_empty err
		expect_grep out "^$bin [0-9]+\.[0-9]+"
		if [[ $(wc -l <"$OUT") -eq 1 ]]; then ok; else fail "$bin $v is not one line"; fi
	done
done

# plumwall help [COMMAND]: the same text as --help / COMMAND --help
run --help
cp "$OUT" "$TMP/help.txt"
run help
expect_rc 0
expect_empty err
if cmp -s "$OUT" "$TMP/help.txt"; then ok; else fail "plumwall help differs from plumwall --help"; fi
expect_grep out '^  help '
for c in check show apply status stats flows down trace; do
	run "$c" --help
	cp "$OUT" "$TMP/help.txt"
	run help "$c"
	expect_rc 0
	expect_empty err
	if cmp -s "$OUT" "$TMP/help.txt"; then ok; else fail "plumwall help $c differs from plumwall $c --help"; fi
done
run help help
expect_rc 0
expect_grep out '^Usage: plumwall help \[COMMAND\]'
run help nosuch
expect_rc 2
expect_grep err "^plumwall help: unknown command 'nosuch'$"
run help check show
expect_rc 2
expect_grep err "^plumwall help: unexpected argument 'show'$"

# show of a policy with many prefixes writes its tenants one by one: its
# peak memory is about check's, not the whole document's (audit: a 50 MB
# policy's show --json peaked at 1.8 GB). 10 tenants of 20 segments of
# 500 hosts: 100,000 prefixes; the whole document took 3 times check's
# memory. ASan's quarantine would keep what show frees.
big=$TMP/big.yaml
awk 'BEGIN {
	print "version: 1\ntenants:"
	for (t = 0; t < 10; t++) {
		printf "  - name: t%d\n    id: %d\n    interfaces: [eth0]\n", t, t + 1
		printf "    vlans: [%d]\n    default: deny\n    segments:\n", t + 1
		for (s = 0; s < 20; s++) {
			printf "      s%d: [", s
			for (h = 0; h < 500; h++)
				printf "%s10.%d.%d.%d", h ? ", " : "", s, int(h / 250), h % 250 + 1
			print "]"
		}
		print "    rules:"
		for (r = 0; r < 50; r++)
			printf "      - {name: r%d, from: s%d, to: s%d, proto: tcp, ports: [%d], action: allow}\n",
				r, r % 20, (r * 7 + 3) % 20, 1000 + r
	}
}' >"$big"
if [[ ! -x /usr/bin/time ]]; then
	LAST="peak memory of show"
	fail "/usr/bin/time (package time) not installed"
else
	peak() { # peak ARGS...: run plumwall; sets RC and PEAK (its peak RSS, KiB)
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
			/usr/bin/time -f '%M' -o "$TMP/rss" "$PW" "$@" >"$OUT" 2>"$ERR"
		RC=$?
		PEAK=$(tail -n 1 "$TMP/rss")
		LAST="plumwall $* (100,000 prefixes)"
	}
	peak check "$big"
	expect_rc 0
	check_kb=$PEAK
	for f in --json ""; do
		peak show $f "$big"
		expect_rc 0
		if ((PEAK <= check_kb * 3 / 2)); then
			ok
		else
			fail "show $f peaked at $PEAK KiB, check at $check_kb KiB"
		fi
	done
	peak show --json "$big"
	expect_jq '(.tenants | length) == 10 and ([.tenants[].classes[].lpm | length] | add) == 100000'
fi

echo "cli: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
