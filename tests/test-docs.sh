#!/bin/bash
# test-docs.sh - the manual pages say what the code does, so that drift fails CI:
#  - memzone.conf(5) documents every key of mz_config_known_keys[] (and no other), in its section,
#    with the default that "memzone check-config" prints for an empty configuration;
#  - memzone(8) has a section per subcommand of "memzone --help", documents every option of
#    "memzone CMD --help" (and no other), the common options once, and the exit codes of commands.h;
#  - memzoned(8) documents every option of "memzoned --help" (and no other);
#  - every page is clean under "mandoc -T lint -W warning" and "man --warnings";
#  - the packaging carries the version of configure.ac.
set -u
# shellcheck source=tests/packaging-lib.sh disable=SC2154 # top_srcdir, MEMZONE...: from make check
. "$top_srcdir/tests/packaging-lib.sh"
: "${MEMZONE:?}" "${MEMZONED:?}"

man=$top_srcdir/man
work=$(mktemp -d)
cleanup_dir "$work"

# roff_tags PAGE: one "SH<TAB>SS<TAB>TAG" line per .TP/.TQ tag line, font escapes and quotes removed,
# "\-" turned into "-". SH/SS are the enclosing section and subsection headings.
roff_tags()
{
	awk '
	function clean(s) {
		gsub(/\\-/, "-", s); gsub(/\\f[BIRP]/, "", s); gsub(/\\&/, "", s); gsub(/"/, "", s)
		sub(/^\.(B|I|BI|BR|IB|IR|RB|RI) +/, "", s)
		return s
	}
	/^\.SH/ { sh = clean(substr($0, 5)); ss = ""; next }
	/^\.SS/ { ss = clean(substr($0, 5)); next }
	/^\.(TP|TQ)/ { tag = 1; next }
	tag { tag = 0; printf "%s\t%s\t%s\n", sh, ss, clean($0) }
	' "$1"
}
# long_opts: the "--name" words on stdin, one a line.
long_opts() { grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u; }
# help_opts CMD...: long options of "CMD --help" (option lines start with blanks then "-").
help_opts() { "$@" --help 2>/dev/null | grep -E '^[[:space:]]+-' | sed 's/^ *//; s/  .*//' | long_opts; }

# --- lint ----------------------------------------------------------------------------------------
for page in memzone.8 memzoned.8 memzone.conf.5; do
	if command -v mandoc >/dev/null; then
		check "$page: mandoc -T lint -W warning is clean" mandoc -T lint -W warning "$man/$page"
	else
		skip "$page: mandoc -T lint" "mandoc not installed"
	fi
	if command -v man >/dev/null && command -v groff >/dev/null; then
		out=$(MANWIDTH=80 man --warnings -l "$man/$page" 2>&1 >/dev/null)
		if [ -z "$out" ]; then pass "$page: man --warnings is clean"; else fail "$page: man --warnings is clean" "$out"; fi
	else
		skip "$page: man --warnings" "man-db/groff not installed"
	fi
done

# --- memzone.conf(5) against mz_config_known_keys[] and the built-in defaults ---------------------
keys=$("$top_builddir/tests/print-config-keys")
if [ -n "$keys" ]; then pass "mz_config_known_keys[] lists keys ($(wc -l <<<"$keys"))"; else fail "mz_config_known_keys[] lists keys" "the array is empty: config.c is still a placeholder?"; fi

# Code keys are "section.key"; "source dimm.zone" style sections are one page section: "source".
code_keys=$(sed 's/^\([a-z_]*\)[^.]*\./\1./' <<<"$keys" | sort -u)
# Page keys: a .TP tag "\fBkey\fR = ..." under a heading that starts with "[section".
page_keys=$(roff_tags "$man/memzone.conf.5" | awk -F'\t' '
	$1 ~ /^\[/ && $3 ~ /^[a-z_0-9]+ = / {
		sec = $1; sub(/^\[/, "", sec); sub(/[] ].*/, "", sec)
		key = $3; sub(/ = .*/, "", key)
		print sec "." key
	}' | sort -u)
for k in $code_keys; do
	if grep -qxF "$k" <<<"$page_keys"; then pass "memzone.conf.5 documents $k"; else fail "memzone.conf.5 documents $k" "no .TP tag '\\fB${k#*.}\\fR = ...' under the [${k%%.*}] section heading"; fi
done
for k in $page_keys; do
	grep -qxF "$k" <<<"$code_keys" || fail "memzone.conf.5 documents only real keys" "$k is documented but not in mz_config_known_keys[]"
done

# Defaults: the "Default: \fBvalue\fR" line of each key's paragraph, "(empty)" for "", optionally
# followed by per-source exceptions "(kmem: \fBignore\fR, ...)", against what check-config prints
# for an empty root (no /etc/memzone.conf: every value is the built-in default).
page_defaults=$(awk '
	function clean(s) { gsub(/\\-/, "-", s); gsub(/\\f[BIRP]/, "", s); gsub(/\\&/, "", s); return s }
	/^\.SH/ { sec = ""; if (match($0, /\[[a-z_]+/)) sec = substr($0, RSTART + 1, RLENGTH - 1); next }
	/^\.TP/ { tag = 1; next }
	tag { tag = 0; key = clean($0); sub(/ = .*/, "", key); next }
	/^Default: / && sec != "" && key != "" {
		v = clean(substr($0, 10)); exc = ""
		if (match(v, / \(.*\)$/)) { exc = substr(v, RSTART + 2, RLENGTH - 3); v = substr(v, 1, RSTART - 1) }
		if (v == "(empty)") v = ""
		gsub(/: /, "=", exc); gsub(/, /, ",", exc)
		print sec "." key "\t" v "\t" exc; key = ""
	}' "$man/memzone.conf.5")
mkdir -p "$work/root"
effective=$("$MEMZONE" check-config --root "$work/root" --allow-insecure-config 2>"$work/check-config.err")
rc=$?
if [ $rc -eq 0 ] && [ -n "$effective" ]; then
	pass "memzone check-config prints the effective policy of an empty root"
	# ini -> "section.key<TAB>value", sections as printed ("online", "source kmem").
	code_defaults=$(awk '
		/^[[:space:]]*[#;]/ || /^[[:space:]]*$/ { next }
		/^\[/ { sec = $0; gsub(/[][]/, "", sec); next }
		/=/ { k = $0; sub(/[[:space:]]*=.*/, "", k); gsub(/^[[:space:]]+/, "", k)
		      v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); sub(/[[:space:]]+$/, "", v)
		      print sec "." k "\t" v }' <<<"$effective")
	while IFS=$'\t' read -r k got; do
		[ -n "$k" ] || continue
		sec=${k%%.*} key=${k#*.}
		page_key="${sec%% *}.$key"
		line=$(awk -F'\t' -v k="$page_key" '$1 == k' <<<"$page_defaults")
		if [ -z "$line" ]; then
			fail "memzone.conf.5 gives the default of $k" "no 'Default:' line in the paragraph of $page_key"
			continue
		fi
		want=$(cut -f2 <<<"$line")
		if [ "$sec" != "${sec%% *}" ]; then
			exc=$(cut -f3 <<<"$line" | tr ',' '\n' | awk -F= -v s="${sec#* }" '$1 == s { print $2 }')
			[ -n "$exc" ] && want=$exc
		fi
		if [ "$want" = "$got" ]; then pass "default of $k is '$got' in the page and the code"; else fail "default of $k is '$got' in the page and the code" "the page says '$want'"; fi
	done <<<"$code_defaults"
else
	fail "memzone check-config prints the effective policy of an empty root" "exit $rc" "$(cat "$work/check-config.err")"
fi

# Every example policy of memzone.conf(5) is accepted by check-config.
n=0
while IFS= read -r -d $'\f' example; do
	n=$((n + 1))
	printf '%s\n' "$example" | sed 's/\\-/-/g; s/\\e/\\/g' >"$work/example$n.conf"
	title=$(head -n 1 "$work/example$n.conf")
	sed -i 1d "$work/example$n.conf"
	if out=$("$MEMZONE" check-config --root "$work/root" --allow-insecure-config --config "$work/example$n.conf" 2>&1 >/dev/null); then
		pass "memzone.conf.5 example '$title' passes check-config"
	else
		fail "memzone.conf.5 example '$title' passes check-config" "$out"
	fi
done < <(awk '/^\.SH EXAMPLES/ { on = 1 } on && /^\.SS/ { t = $0; sub(/^\.SS */, "", t); gsub(/"/, "", t) }
	on && /^\.EX/ { ex = 1; printf "%s\n", t; next } on && /^\.EE/ { ex = 0; printf "\f"; next } ex' "$man/memzone.conf.5")
if [ "$n" -ge 3 ]; then pass "memzone.conf.5 has $n example policies"; else fail "memzone.conf.5 has at least 3 example policies" "found $n"; fi

# --- memzone(8) against "memzone --help" and "memzone CMD --help" ---------------------------------
tags8=$(roff_tags "$man/memzone.8")
commands=$("$MEMZONE" --help 2>/dev/null | sed -n '/^Commands:/,/^$/{/^  [a-z]/{s/^  \([a-z-]*\).*/\1/p}}')
page_commands=$(awk '/^\.SH COMMANDS/ { on = 1; next } /^\.SH/ { on = 0 } on && /^\.SS/ { s = $2; gsub(/\\-/, "-", s); gsub(/"/, "", s); print s }' "$man/memzone.8")
if [ -n "$commands" ]; then pass "memzone --help lists the subcommands"; else fail "memzone --help lists the subcommands"; fi
d=$(set_diff "$commands" "$page_commands")
if [ -z "$d" ]; then pass "memzone.8 has a COMMANDS subsection for exactly the subcommands of memzone --help"; else fail "memzone.8 has a COMMANDS subsection for exactly the subcommands of memzone --help" "- only in --help, + only in the page:" "$d"; fi

# Common options: MZ_COMMON_LONGOPTS in src/tools/commands.h.
common=$(sed -n '/^#define MZ_COMMON_LONGOPTS/,/^$/p' "$top_srcdir/src/tools/commands.h" | grep -o '{ *"[a-z0-9-]*"' | sed 's/{ *"\(.*\)"/--\1/' | sort -u)
page_common=$(awk -F'\t' '$1 == "COMMON OPTIONS"' <<<"$tags8" | cut -f3 | long_opts)
d=$(set_diff "$common" "$page_common")
if [ -n "$common" ] && [ -z "$d" ]; then pass "memzone.8 COMMON OPTIONS are MZ_COMMON_LONGOPTS"; else fail "memzone.8 COMMON OPTIONS are MZ_COMMON_LONGOPTS" "- only in commands.h, + only in the page:" "$d"; fi

for cmd in $commands; do
	help=$(help_opts "$MEMZONE" "$cmd")
	if ! "$MEMZONE" "$cmd" --help >/dev/null 2>&1; then
		fail "memzone $cmd --help exits 0" "$("$MEMZONE" "$cmd" --help 2>&1 | head -3)"
		continue
	fi
	d=$(set_diff "$common" "$(comm -12 <(echo "$common") <(echo "$help"))")
	if [ -z "$d" ]; then pass "memzone $cmd --help shows the common options"; else fail "memzone $cmd --help shows the common options" "missing:" "$d"; fi
	own=$(comm -23 <(echo "$help") <(echo "$common") | sed '/^$/d')
	page_own=$(awk -F'\t' -v c="$cmd" '$1 == "COMMANDS" && $2 == c' <<<"$tags8" | cut -f3 | long_opts)
	d=$(set_diff "$own" "$page_own")
	if [ -z "$d" ]; then pass "memzone.8 documents exactly the options of memzone $cmd --help"; else fail "memzone.8 documents exactly the options of memzone $cmd --help" "- only in --help, + only in the page:" "$d"; fi
done

# Exit codes: every MZ_EXIT_* value of commands.h is a tag under EXIT STATUS, and nothing else.
codes=$(sed -n 's/^[[:space:]]*MZ_EXIT_[A-Z_]* *= *\([0-9]*\).*/\1/p' "$top_srcdir/src/tools/commands.h" | sort -u)
page_codes=$(awk -F'\t' '$1 == "EXIT STATUS" { print $3 }' <<<"$tags8" | sort -u)
d=$(set_diff "$codes" "$page_codes")
if [ -n "$codes" ] && [ -z "$d" ]; then pass "memzone.8 EXIT STATUS lists the MZ_EXIT_* codes"; else fail "memzone.8 EXIT STATUS lists the MZ_EXIT_* codes" "- only in commands.h, + only in the page:" "$d"; fi

# --- memzone(8) JSON OUTPUT against the keys and warning codes of src/lib/status_render.c ----------------------
# bold_words: the words a roff text sets in bold (.B, the bold half of .BR/.RB/.BI/.IB, \fB...\fR).
bold_words()
{
	awk '
	# bold words of roff lines: .B args, alternate args of .BR/.RB/.BI/.IB, and \fB...\fR runs
	function args(line, a,   n, s, c, i, cur, inq, started) {
		n = 0; cur = ""; inq = 0; started = 0
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (c == "\"") { inq = !inq; started = 1; continue }
			if (c == " " && !inq) { if (started) a[++n] = cur; cur = ""; started = 0; continue }
			cur = cur c; started = 1
		}
		if (started) a[++n] = cur
		return n
	}
	function emit(s) { gsub(/\\-/, "-", s); gsub(/\\f[BIRP]/, "", s); gsub(/\\&/, "", s); print s }
	{
		line = $0
		if (line ~ /^\.(B|BR|RB|BI|IB) /) {
			m = line; sub(/ .*/, "", m); rest = substr(line, length(m) + 2)
			n = args(rest, a)
			for (i = 1; i <= n; i++) {
				if (m == ".B" || ((m == ".BR" || m == ".BI") && i % 2 == 1) || ((m == ".RB" || m == ".IB") && i % 2 == 0)) emit(a[i])
			}
			delete a
		}
		while (match(line, /\\fB[^\\]*\\f[RP]/)) { emit(substr(line, RSTART + 3, RLENGTH - 6)); line = substr(line, RSTART + RLENGTH) }
	}
	' | sort -u
}
json_sec=$(sed -n '/^\.SH JSON OUTPUT/,/^\.SH /p' "$man/memzone.8")
json_bold=$(bold_words <<<"$json_sec")
json_keys=$(grep -o 'json[a-z0-9_]*(&\{0,1\}j, "[a-z0-9_]*"' "$top_srcdir/src/lib/status_render.c" | sed 's/.*"\(.*\)"/\1/' | sort -u)
warn_codes=$(grep -o 'mz_status_warn([a-z]*, *"[a-z-]*"' "$top_srcdir"/src/lib/*.c "$top_srcdir"/src/tools/*.c | sed 's/.*"\(.*\)"/\1/' | sort -u)
if [ -n "$json_keys" ]; then
	d=$(comm -23 <(echo "$json_keys") <(echo "$json_bold"))
	if [ -z "$d" ]; then pass "memzone.8 JSON OUTPUT names every key status_render.c prints ($(wc -l <<<"$json_keys"))"; else fail "memzone.8 JSON OUTPUT names every key status_render.c prints" "not in the page:" "$d"; fi
	tag_words=$(awk -F'\t' '$1 == "JSON OUTPUT" { print $3 }' <<<"$tags8" | grep -o '[a-z][a-z0-9_]*' | sort -u)
	d=$(comm -23 <(echo "$tag_words") <(echo "$json_keys"))
	if [ -z "$d" ]; then pass "memzone.8 JSON OUTPUT lists no key status_render.c does not print"; else fail "memzone.8 JSON OUTPUT lists no key status_render.c does not print" "not in src/lib/status_render.c:" "$d"; fi
else
	fail "src/lib/status_render.c prints JSON keys" "no json...(j, \"key\") call found"
fi
page_codes=$(grep -- '-' <<<"$json_bold" | grep -v '^-')
d=$(set_diff "$warn_codes" "$page_codes")
if [ -n "$warn_codes" ] && [ -z "$d" ]; then pass "memzone.8 JSON OUTPUT lists the warning codes of mz_status_warn()"; else fail "memzone.8 JSON OUTPUT lists the warning codes of mz_status_warn()" "- only in the code, + only in the page:" "$d"; fi

# --- memzone(8) DECISION REASONS against reason_names[] of src/lib/policy.c ---------------------------
reasons=$(sed -n '/reason_names\[[A-Z_]*\] = {/,/^};/p' "$top_srcdir/src/lib/policy.c" | grep -o '= "[a-z_]*"' | sed 's/= "\(.*\)"/\1/' | sort -u)
page_reasons=$(awk -F'\t' '$1 == "DECISION REASONS" { print $3 }' <<<"$tags8" | grep -o '[a-z][a-z_]*' | sort -u)
d=$(set_diff "$reasons" "$page_reasons")
if [ -n "$reasons" ] && [ -z "$d" ]; then pass "memzone.8 DECISION REASONS are the reason codes of policy.c ($(wc -l <<<"$reasons"))"; else fail "memzone.8 DECISION REASONS are the reason codes of policy.c" "- only in the code, + only in the page:" "$d"; fi

# --- memzone(8) JOURNAL FIELDS against the MEMZONE_*= fields the code logs ------------------------
fields=$(grep -oh 'MEMZONE_[A-Z_]*=' "$top_srcdir"/src/lib/*.c "$top_srcdir"/src/tools/*.c | tr -d = | sort -u)
page_fields=$(awk -F'\t' '$1 == "JOURNAL FIELDS" { print $3 }' <<<"$tags8" | grep -o 'MEMZONE_[A-Z_]*' | sort -u)
d=$(set_diff "$fields" "$page_fields")
if [ -n "$fields" ] && [ -z "$d" ]; then pass "memzone.8 JOURNAL FIELDS are the MEMZONE_* fields of src/ ($(wc -l <<<"$fields"))"; else fail "memzone.8 JOURNAL FIELDS are the MEMZONE_* fields of src/" "- only in the code, + only in the page:" "$d"; fi

# --- memzoned(8) against "memzoned --help" --------------------------------------------------------
if "$MEMZONED" --help >/dev/null 2>&1; then
	pass "memzoned --help exits 0"
	help=$(help_opts "$MEMZONED")
	page=$(roff_tags "$man/memzoned.8" | awk -F'\t' '$1 == "OPTIONS"' | cut -f3 | long_opts)
	d=$(set_diff "$help" "$page")
	if [ -n "$help" ] && [ -z "$d" ]; then pass "memzoned.8 OPTIONS are exactly those of memzoned --help"; else fail "memzoned.8 OPTIONS are exactly those of memzoned --help" "- only in --help, + only in the page:" "$d"; fi
else
	fail "memzoned --help exits 0" "$("$MEMZONED" --help 2>&1 | head -3)"
fi

# memzoned(8): verdicts (daemon_state.c) and pressure reasons (pressure.c), both ways.
tags_d=$(roff_tags "$man/memzoned.8")
names_of() { sed -n "/$2\\[[A-Z_]*\\] = {/,/^};/p" "$1" 2>/dev/null | grep -o '= "[a-z-]*"' | sed 's/= "\(.*\)"/\1/' | sort -u; }
verdicts=$(names_of "$top_srcdir/src/lib/daemon_state.c" verdict_names)
page_verdicts=$(awk -F'\t' '$1 == "HOW IT DECIDES" { print $3 }' <<<"$tags_d" | sort -u)
d=$(set_diff "$verdicts" "$page_verdicts")
if [ -n "$verdicts" ] && [ -z "$d" ]; then pass "memzoned.8 HOW IT DECIDES has the verdicts of daemon_state.c"; else fail "memzoned.8 HOW IT DECIDES has the verdicts of daemon_state.c" "- only in the code, + only in the page:" "$d"; fi
preasons=$(names_of "$top_srcdir/src/lib/pressure.c" reason_names)
page_preasons=$(awk -F'\t' '$1 == "PRESSURE REASONS" { print $3 }' <<<"$tags_d" | sort -u)
d=$(set_diff "$preasons" "$page_preasons")
if [ -n "$preasons" ] && [ -z "$d" ]; then pass "memzoned.8 PRESSURE REASONS are the reasons of pressure.c ($(wc -l <<<"$preasons"))"; else fail "memzoned.8 PRESSURE REASONS are the reasons of pressure.c" "- only in the code, + only in the page:" "$d"; fi

# --- packaging metadata ---------------------------------------------------------------------------
version=$(package_version)
spec_version=$(sed -n 's/^Version:[[:space:]]*//p' "$top_srcdir/memzone.spec")
deb_version=$(sed -n '1s/^memzone (\([^)-]*\)-[^)]*).*/\1/p' "$top_srcdir/debian/changelog")
if [ "$spec_version" = "$version" ]; then pass "memzone.spec Version is $version"; else fail "memzone.spec Version is $version" "spec says '$spec_version'"; fi
if [ "$deb_version" = "$version" ]; then pass "debian/changelog upstream version is $version"; else fail "debian/changelog upstream version is $version" "changelog says '$deb_version'"; fi
if "$MEMZONE" --version 2>/dev/null | grep -qx "memzone $version"; then pass "memzone --version says $version"; else fail "memzone --version says $version" "$("$MEMZONE" --version 2>&1)"; fi

done_testing
