#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# install.sh - `make install` and `make uninstall` into a scratch DESTDIR:
#   - everything lands where it belongs (programs, units with the programs'
#     path, manual pages, documentation and examples, completion,
#     tmpfiles.d, configuration, policy, logrotate snippet);
#   - a second install keeps an edited configuration and policy and puts
#     the stock ones beside them as .dist; an unedited file is left as it
#     is, with no .dist;
#   - uninstall removes everything install put there except the edited
#     files (and their .dist); an install and uninstall with no edit leave
#     no file behind.
#
# Needs the build (make all); runs make in the source tree (a no-op build).
# No privileges. Prints one line per failed check and a final
# "install: N passed, N failed".
set -u

ROOT=${PLUMWALL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${PLUMWALL_BUILD:-$ROOT/build}

if [[ ! -x $BUILD/plumwall || ! -d $BUILD/man ]]; then
	echo "install: $BUILD not built (make all)" >&2
	exit 1
fi
if [[ $BUILD != "$ROOT/build" ]]; then
	# make install installs the tree's own build/.
	echo "install: needs the build in $ROOT/build, skipped"
	exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/plumwall-install.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
# When run from `make check`, the outer make's jobserver is not ours.
unset MAKEFLAGS MAKELEVEL MFLAGS

passed=0
failed=0
ok() { passed=$((passed + 1)); }
ko() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}
not_grep() { ! grep -q "$@"; }
quiet() { "$@" >/dev/null 2>&1; }
check() { # DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok; else ko "$d"; fi
}

mk() { # TARGET DESTDIR [VAR=VALUE...]
	local t=$1 d=$2
	shift 2
	if make -C "$ROOT" --no-print-directory "$t" DESTDIR="$d" "$@" >"$TMP/make.out" 2>&1; then
		ok
	else
		ko "make $t DESTDIR=$d $*: $(tail -n 5 "$TMP/make.out" | tr '\n' ' ')"
	fi
}

D=$TMP/root
mk install "$D"
E=$D/etc/plumwall
P=$D/usr/local

for b in plumwall plumwalld plumwall-logd; do
	check "$b installed, executable" test -x "$P/sbin/$b"
	check "$b is the build's" cmp -s "$BUILD/$b" "$P/sbin/$b"
done
for u in plumwalld plumwall-logd; do
	f=$D/lib/systemd/system/$u.service
	check "$u.service installed" test -f "$f"
	check "$u.service runs $P/sbin/$u" grep -q "^ExecStart=/usr/local/sbin/$u " "$f"
	check "$u.service has no @SBINDIR@ left" not_grep '@SBINDIR@' "$f"
done
for m in man8/plumwall.8 man8/plumwalld.8 man8/plumwall-logd.8 \
	man5/plumwall-policy.5 man5/plumwall.yaml.5; do
	check "$m installed" test -s "$P/share/man/$m"
done
for f in README.md policy.md cli.md events.md configuration.md; do
	check "doc $f installed" test -s "$P/share/doc/plumwall/$f"
done
for f in "$ROOT"/etc/policies/*.yaml; do
	check "example $(basename "$f") installed" cmp -s "$f" "$P/share/doc/plumwall/examples/$(basename "$f")"
done
check "completion installed" cmp -s "$ROOT/etc/bash-completion/plumwall" \
	"$P/share/bash-completion/completions/plumwall"
for c in plumwalld plumwall-logd; do
	check "completion for $c" test "$(readlink "$P/share/bash-completion/completions/$c")" = plumwall
done
check "tmpfiles.d installed" cmp -s "$ROOT/etc/tmpfiles/plumwall.conf" "$P/lib/tmpfiles.d/plumwall.conf"
check "configuration installed" cmp -s "$ROOT/etc/plumwall.yaml" "$E/plumwall.yaml"
check "policy installed" cmp -s "$ROOT/etc/policy.yaml" "$E/policy.yaml"
check "logrotate snippet installed" cmp -s "$ROOT/etc/logrotate/plumwall" "$D/etc/logrotate.d/plumwall"
check "no .dist on a fresh install" test -z "$(find "$D" -name '*.dist')"
check "the configuration names the installed policy" \
	grep -q '^policy: /etc/plumwall/policy.yaml$' "$E/plumwall.yaml"
check "the installed policy is valid" \
	quiet "$BUILD/plumwall" check "$E/policy.yaml"


# ---------------------------------------------------------------------------
# An edit survives a second install; the stock file goes beside it.
echo "# local edit" >>"$E/plumwall.yaml"
sed -i 's/mode: audit/mode: enforce/' "$E/policy.yaml"
cp "$E/plumwall.yaml" "$TMP/conf.edited"
cp "$E/policy.yaml" "$TMP/policy.edited"
mk install "$D"
check "edited configuration kept" cmp -s "$TMP/conf.edited" "$E/plumwall.yaml"
check "edited policy kept" cmp -s "$TMP/policy.edited" "$E/policy.yaml"
check "stock configuration beside it" cmp -s "$ROOT/etc/plumwall.yaml" "$E/plumwall.yaml.dist"
check "stock policy beside it" cmp -s "$ROOT/etc/policy.yaml" "$E/policy.yaml.dist"
check "install says what it kept" grep -q "KEEP.*$E/policy.yaml" "$TMP/make.out"
check "unedited logrotate snippet: no .dist" test ! -e "$D/etc/logrotate.d/plumwall.dist"
check "unedited logrotate snippet still the stock one" \
	cmp -s "$ROOT/etc/logrotate/plumwall" "$D/etc/logrotate.d/plumwall"

# A third install changes nothing more.
mk install "$D"
check "edited configuration still kept" cmp -s "$TMP/conf.edited" "$E/plumwall.yaml"
check "still one .dist per edited file" test "$(find "$D" -name '*.dist' | wc -l)" -eq 2

# A file put back to the stock contents loses its stale .dist.
cp "$ROOT/etc/policy.yaml" "$E/policy.yaml"
mk install "$D"
check "policy back to stock: .dist gone" test ! -e "$E/policy.yaml.dist"
cp "$TMP/policy.edited" "$E/policy.yaml"

# ---------------------------------------------------------------------------
# Uninstall: what install put there goes, the edits stay.
mk uninstall "$D"
check "edited configuration left" cmp -s "$TMP/conf.edited" "$E/plumwall.yaml"
check "edited policy left" cmp -s "$TMP/policy.edited" "$E/policy.yaml"
find "$D" \( -type f -o -type l \) | sed "s|^$D||" | sort >"$TMP/left"
printf '%s\n' /etc/plumwall/plumwall.yaml /etc/plumwall/policy.yaml | sort >"$TMP/want"
check "uninstall leaves only the edited files (left: $(tr '\n' ' ' <"$TMP/left"))" \
	cmp -s "$TMP/left" "$TMP/want"

# Install and uninstall with no edit: nothing left; other PREFIX honoured.
D2=$TMP/root2
mk install "$D2" PREFIX=/usr
check "PREFIX=/usr: programs in /usr/sbin" test -x "$D2/usr/sbin/plumwall"
check "PREFIX=/usr: units name /usr/sbin" grep -q '^ExecStart=/usr/sbin/plumwalld ' \
	"$D2/lib/systemd/system/plumwalld.service"
mk uninstall "$D2" PREFIX=/usr
check "install + uninstall leave no file ($(find "$D2" \( -type f -o -type l \) | head -n 3 | tr '\n' ' '))" \
	test -z "$(find "$D2" \( -type f -o -type l \))"
check "uninstall removes /etc/plumwall when empty" test ! -e "$D2/etc/plumwall"

echo "install: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
