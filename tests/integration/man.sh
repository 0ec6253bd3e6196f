#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# man.sh - the manual pages (man/*.scd, built into build/man by make):
#   - each renders without a warning (groff -ww, and man -l --warnings);
#   - plumwall(8) has a subsection under COMMANDS for every command of the
#     subcommand table (fw/main.c), and none for a command the table lacks;
#   - every option of every command's getopt_long table is documented in
#     its subsection, and every option a subsection lists (its "*-x*" term
#     lines) is in the table; the global options likewise under GLOBAL
#     OPTIONS; plumwalld(8) and plumwall-logd(8) under OPTIONS.
# The option tables are read from the programs themselves: optdump.so
# (tests/tools/optdump.c) is preloaded into `PROGRAM [COMMAND] --help` and
# writes down every table handed to getopt_long. So a new command or
# option fails this test until the manual has it, and the failure says
# what to add where.
#
# Needs the build (programs, build/man, build/tests/optdump.so), groff and
# man; no privileges. Prints one line per failed check and a final
# "man: N passed, N failed".
set -u

ROOT=${PLUMWALL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${PLUMWALL_BUILD:-$ROOT/build}
MAN=$BUILD/man
OPTDUMP=$BUILD/tests/optdump.so

for t in groff man; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "man: $t not installed, skipped"
		exit 77
	fi
done
for f in "$BUILD/plumwall" "$BUILD/plumwalld" "$BUILD/plumwall-logd" "$OPTDUMP"; do
	if [[ ! -e $f ]]; then
		echo "man: $f not built (make all tests)" >&2
		exit 1
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-man.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
# Nothing here may touch a running plumwall.
export PLUMWALL_PIN_PATH=$TMP/pins PLUMWALL_RUN_DIR=$TMP/run

passed=0
failed=0
ok() { passed=$((passed + 1)); }
ko() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}

# Options a command's table has but the command refuses with a usage error,
# as " COMMAND:OPTION " words (none at present: status and stats took
# --tenant as an option of their own). Checked below: should one of them
# become an option, this test asks for it in the manual.
REFUSED=" "

# ---------------------------------------------------------------------------
# Rendering.
pages=(plumwall.8 plumwalld.8 plumwall-logd.8 plumwall-policy.5 plumwall.yaml.5)
for src in "$ROOT"/man/*.scd; do
	p=$(basename "$src" .scd)
	case " ${pages[*]} " in *" $p "*) ;; *) pages+=("$p") ;; esac
done
for p in "${pages[@]}"; do
	f=$MAN/$p
	if [[ ! -s $f ]]; then
		ko "$f: not built (man/$p.scd, make)"
		continue
	fi
	ok
	if groff -man -Tutf8 -ww -z "$f" >"$TMP/out" 2>"$TMP/err" && [[ ! -s $TMP/err ]]; then
		ok
	else
		ko "$p: groff -ww warns: $(head -n 3 "$TMP/err" | tr '\n' ' ')"
	fi
	if MANWIDTH=80 man --warnings -E UTF-8 -l "$f" >"$TMP/out" 2>"$TMP/err" &&
		[[ ! -s $TMP/err ]] && grep -q '^NAME' "$TMP/out"; then
		ok
	else
		ko "$p: man -l: $(head -n 3 "$TMP/err" | tr '\n' ' ')"
	fi
	# The page names itself in its NAME section, as whatis(1) needs.
	name=${p%.*}
	if sed -n '/^NAME/,/^[A-Z]/p' "$TMP/out" | grep -q "^ *$name - "; then
		ok
	else
		ko "$p: NAME section does not start with '$name - '"
	fi
done

# Plain text of a page, unhyphenated and on long lines, so that option
# names are never split.
render() { # PAGE
	groff -man -Tutf8 -rHY=0 -rLL=250n -P-cbou "$MAN/$1" 2>/dev/null
}

# The text of section SECTION (a .SH heading) of a rendered page.
section() { # FILE SECTION
	awk -v s="$2" '$0 == s { on = 1; next } /^[A-Z]/ { on = 0 } on' "$1"
}

# The text of subsection SUB of section SECTION.
subsection() { # FILE SECTION SUB
	section "$1" "$2" | awk -v s="   $3" '
		$0 == s { on = 1; next }
		/^   [^ ]/ { on = 0 }
		on'
}

# The options a part of a manual source lists as terms: lines starting
# with "*-", each "*-x*" or "*--name*" on them.
source_terms() { # TEXT-ON-STDIN
	grep -E '^\*-' | grep -oE '\*--?[A-Za-z0-9][A-Za-z0-9-]*\*' | tr -d '*' | sort -u
}

# The lines of the manual source between "HEADING" and the next heading of
# the same or a higher level.
source_part() { # SCD HEADING
	awk -v h="$2" '
		$0 == h { on = 1; lvl = index(h, " "); next }
		on && /^#+ / { if (index($0, " ") <= lvl) on = 0 }
		on' "$1"
}

# The option tables PROGRAM [COMMAND] --help hands to getopt_long: sets
# TABLES to the number found and writes table N's options, one per line
# ("-x" or "--name"), to $TMP/table.N.
read_tables() { # PROGRAM [COMMAND]
	rm -f "$TMP/dump" "$TMP"/table.*
	# A sanitized build (make check SANITIZE=1) wants its ASan runtime
	# first among the libraries; optdump.so only wraps getopt_long.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		PW_OPTDUMP=$TMP/dump LD_PRELOAD=$OPTDUMP "$@" --help >/dev/null 2>&1
	TABLES=0
	[[ -s $TMP/dump ]] || return 0
	local kw a b
	while read -r kw a b; do
		case $kw in
		table)
			TABLES=$((TABLES + 1))
			: >"$TMP/table.$TABLES"
			;;
		short)
			# Option characters; ':' marks an argument, a leading
			# '+' or '-' is getopt's ordering mode.
			a=${a#[+-]}
			a=${a//:/}
			local i
			for ((i = 0; i < ${#a}; i++)); do
				echo "-${a:i:1}" >>"$TMP/table.$TABLES"
			done
			;;
		long) echo "--$a" >>"$TMP/table.$TABLES" ;;
		esac
	done <"$TMP/dump"
}

# documented TEXT-FILE OPTION: OPTION appears in the text as a word.
documented() {
	grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|$)" "$1"
}

# compare WHERE TABLE-FILE TEXT-FILE TERMS-FILE [COMMAND]: every option of
# the table has a term of its own (an entry with its description) and
# shows in the rendered text; every term is in the table.
compare() {
	local where=$1 table=$2 text=$3 terms=$4 cmd=${5:-} o
	while read -r o; do
		[[ -n $o ]] || continue
		if grep -qxF -- "$o" "$terms" && documented "$text" "$o"; then
			ok
		elif [[ -n $cmd && $REFUSED == *" $cmd:$o "* ]]; then
			# Must really be refused with a usage error.
			"$BUILD/plumwall" "$cmd" "$o" x >/dev/null 2>&1 </dev/null
			local rc=$?
			if [[ $rc -eq 2 ]]; then
				ok
			else
				ko "'plumwall $cmd $o' is accepted now (exit $rc): document it in $where, and drop it from REFUSED in tests/integration/man.sh"
			fi
		else
			ko "$where does not document option $o, which the code parses (getopt_long table): add a '*$o*' entry"
		fi
	done <"$table"
	while read -r o; do
		[[ -n $o ]] || continue
		if grep -qxF -- "$o" "$table"; then
			ok
		else
			ko "$where lists option $o, which the code does not have"
		fi
	done <"$terms"
}

# ---------------------------------------------------------------------------
# plumwall(8): commands and options.
render plumwall.8 >"$TMP/plumwall.txt"
scd=$ROOT/man/plumwall.8.scd

sed -n 's/^[[:space:]]*{ *"\([a-z][a-z0-9-]*\)", *fw_cmd_.*/\1/p' "$ROOT/fw/main.c" >"$TMP/commands"
if [[ $(wc -l <"$TMP/commands") -ge 8 ]]; then
	ok
else
	ko "fw/main.c: found only $(wc -l <"$TMP/commands") commands in the subcommand table (has its layout changed? update this test)"
fi
section "$TMP/plumwall.txt" COMMANDS | sed -n 's/^   \([^ ].*\)$/\1/p' >"$TMP/man-commands"
while read -r c; do
	if grep -qxF "$c" "$TMP/man-commands"; then
		ok
	else
		ko "plumwall(8) has no subsection for command '$c' (fw/main.c): add '## $c' under '# COMMANDS' in man/plumwall.8.scd"
	fi
done <"$TMP/commands"
while read -r c; do
	if grep -qxF "$c" "$TMP/commands"; then
		ok
	else
		ko "plumwall(8) documents command '$c', which fw/main.c's table does not have"
	fi
done <"$TMP/man-commands"

# Global options: the first table of any run.
read_tables "$BUILD/plumwall"
if [[ $TABLES -ge 1 ]]; then
	ok
	section "$TMP/plumwall.txt" "GLOBAL OPTIONS" >"$TMP/text"
	source_part "$scd" "# GLOBAL OPTIONS" | source_terms >"$TMP/terms"
	compare "plumwall(8) GLOBAL OPTIONS" "$TMP/table.1" "$TMP/text" "$TMP/terms"
else
	ko "optdump.so saw no getopt_long table in 'plumwall --help'"
fi

while read -r c; do
	read_tables "$BUILD/plumwall" "$c"
	subsection "$TMP/plumwall.txt" COMMANDS "$c" >"$TMP/text"
	source_part "$scd" "## $c" | source_terms >"$TMP/terms"
	if [[ $TABLES -ge 2 ]]; then
		compare "plumwall(8) '## $c'" "$TMP/table.2" "$TMP/text" "$TMP/terms" "$c"
	else
		# A command without options of its own.
		: >"$TMP/table.2"
		compare "plumwall(8) '## $c'" "$TMP/table.2" "$TMP/text" "$TMP/terms" "$c"
	fi
done <"$TMP/commands"

# ---------------------------------------------------------------------------
# The daemons.
for d in plumwalld plumwall-logd; do
	render "$d.8" >"$TMP/$d.txt"
	read_tables "$BUILD/$d"
	if [[ $TABLES -ge 1 ]]; then
		ok
	else
		ko "optdump.so saw no getopt_long table in '$d --help'"
		continue
	fi
	section "$TMP/$d.txt" OPTIONS >"$TMP/text"
	source_part "$ROOT/man/$d.8.scd" "# OPTIONS" | source_terms >"$TMP/terms"
	compare "$d(8) OPTIONS" "$TMP/table.1" "$TMP/text" "$TMP/terms"
done

echo "man: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
