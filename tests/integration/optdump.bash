# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# optdump.bash - the option tables a program hands to getopt_long, read
# from the program itself: tests/tools/optdump.c (build/tests/optdump.so)
# is preloaded into `PROGRAM [COMMAND] --help` and writes every table it
# sees to $PW_OPTDUMP. Sourced by man.sh and completion.sh, which set
# OPTDUMP (the library) and TMP (their scratch directory).

# read_tables PROGRAM [COMMAND]: sets TABLES to the number of tables
# found and writes table N's options, one per line ("-x" or "--name"), to
# $TMP/table.N; table.1 and table.2 exist (empty) when fewer were found.
read_tables() {
	local kw a b i
	rm -f "$TMP/dump" "$TMP"/table.*
	# A sanitized build (make check SANITIZE=1) wants its ASan runtime
	# first among the libraries; optdump.so only wraps getopt_long.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		PW_OPTDUMP=$TMP/dump LD_PRELOAD=$OPTDUMP "$@" --help >/dev/null 2>&1
	TABLES=0
	if [[ -s $TMP/dump ]]; then
		while read -r kw a b; do
			case $kw in
			table)
				TABLES=$((TABLES + 1))
				: >"$TMP/table.$TABLES"
				;;
			short)
				# Option characters; ':' marks an argument, a
				# leading '+' or '-' is getopt's ordering mode.
				a=${a#[+-]}
				a=${a//:/}
				for ((i = 0; i < ${#a}; i++)); do
					echo "-${a:i:1}" >>"$TMP/table.$TABLES"
				done
				;;
			long) echo "--$a" >>"$TMP/table.$TABLES" ;;
			esac
		done <"$TMP/dump"
	fi
	for ((i = TABLES + 1; i <= 2; i++)); do
		: >"$TMP/table.$i"
	done
}
