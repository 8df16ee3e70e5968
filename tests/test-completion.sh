#!/bin/bash
# test-completion.sh - completion/memzone.bash completes what the built programs accept:
# the subcommands of "memzone --help", the options of "memzone CMD --help" and "memzoned --help"
# (and at least the common options of src/tools/commands.h), option arguments, and block names under --root.
set -u
# shellcheck source=tests/packaging-lib.sh disable=SC2154 # top_srcdir, MEMZONE...: from make check
. "$top_srcdir/tests/packaging-lib.sh"
: "${MEMZONE:?}" "${MEMZONED:?}"

work=$(mktemp -d)
cleanup_dir "$work"
# A --root tree with blocks 0, 1 and 32 (and things that are not blocks).
mkdir -p "$work/root/sys/devices/system/memory/"{memory0,memory1,memory32,power} "$work/root/etc"
touch "$work/root/sys/devices/system/memory/block_size_bytes"

if ! bash -n "$top_srcdir/completion/memzone.bash"; then
	fail "completion/memzone.bash parses"
	done_testing
	exit
fi
pass "completion/memzone.bash parses"
# shellcheck source=../completion/memzone.bash
. "$top_srcdir/completion/memzone.bash"

# complete PROGRAM-PATH FUNCTION LINE: COMPREPLY for the cursor at the end of LINE, sorted, one a
# line. Words are split on blanks and on '=' the way readline does with the default COMP_WORDBREAKS.
complete_line()
{
	local prog=$1 fn=$2 line=$3 w
	COMP_WORDS=()
	for w in $line; do
		if [[ $w == --*=* ]]; then COMP_WORDS+=("${w%%=*}" "=" "${w#*=}"); else COMP_WORDS+=("$w"); fi
	done
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	"$fn" "$prog" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}
expect()
{
	local desc=$1 want=$2 got=$3
	if [ "$want" = "$got" ]; then pass "$desc"; else fail "$desc" "want: $(tr '\n' ' ' <<<"$want")" "got:  $(tr '\n' ' ' <<<"$got")"; fi
}
help_opts() { "$@" --help 2>/dev/null | grep -E '^[[:space:]]+-' | sed 's/^ *//; s/  .*//; s/,/ /g' | tr ' ' '\n' | grep -- '^-' | sed 's/=.*//' | sort -u; }

commands=$("$MEMZONE" --help 2>/dev/null | sed -n '/^Commands:/,/^$/{/^  [a-z]/{s/^  \([a-z-]*\).*/\1/p}}' | sort)
if [ -n "$commands" ]; then pass "memzone --help lists subcommands"; else fail "memzone --help lists subcommands"; fi
expect "memzone <TAB> offers the subcommands" "$commands" "$(complete_line "$MEMZONE" _memzone "memzone ")"
expect "memzone st<TAB> completes status" "status" "$(complete_line "$MEMZONE" _memzone "memzone st")"

common=$(sed -n '/^#define MZ_COMMON_LONGOPTS/,/^$/p' "$top_srcdir/src/tools/commands.h" | grep -o '{ *"[a-z0-9-]*"' | sed 's/{ *"\(.*\)"/--\1/' | sort -u)
for cmd in $commands; do
	want=$(help_opts "$MEMZONE" "$cmd" | grep -- '^--')
	got=$(complete_line "$MEMZONE" _memzone "memzone $cmd --")
	if [ -n "$want" ]; then
		expect "memzone $cmd --<TAB> offers the long options of memzone $cmd --help" "$want" "$got"
	else
		fail "memzone $cmd --help lists options" "$("$MEMZONE" "$cmd" --help 2>&1 | head -3)"
	fi
	missing=$(comm -23 <(echo "$common") <(echo "$got"))
	if [ -z "$missing" ]; then pass "memzone $cmd --<TAB> offers the common options"; else fail "memzone $cmd --<TAB> offers the common options" "missing: $(tr '\n' ' ' <<<"$missing")"; fi
done

# Options that are not the first word after the subcommand, and option arguments.
expect "memzone status -v --verb<TAB>" "--verbose" "$(complete_line "$MEMZONE" _memzone "memzone status -v --verb")"
expect "memzone status --log <TAB> offers the log targets" "$(printf '%s\n' auto journal kmsg stderr)" "$(complete_line "$MEMZONE" _memzone "memzone status --log ")"
expect "memzone status --log=j<TAB>" "journal" "$(complete_line "$MEMZONE" _memzone "memzone status --log=j")"
expect "memzone status --root $work/ro<TAB> offers directories" "$work/root" "$(complete_line "$MEMZONE" _memzone "memzone status --root $work/ro")"

# Block names come from --root (either spelling), and only for the commands that take blocks.
blocks=$(printf '%s\n' memory0 memory1 memory32)
expect "memzone online --root DIR <TAB> offers DIR's blocks" "$blocks" "$(complete_line "$MEMZONE" _memzone "memzone online --root $work/root ")"
expect "memzone online --root=DIR memory3<TAB>" "memory32" "$(complete_line "$MEMZONE" _memzone "memzone online --root=$work/root memory3")"
expect "memzone --root DIR plan <TAB> (option before the subcommand)" "$blocks" "$(complete_line "$MEMZONE" _memzone "memzone --root $work/root plan ")"
expect "memzone status <TAB> offers no blocks" "" "$(complete_line "$MEMZONE" _memzone "memzone status --root $work/root ")"

# memzoned
want=$(help_opts "$MEMZONED" | grep -- '^--')
if [ -n "$want" ]; then
	expect "memzoned --<TAB> offers the long options of memzoned --help" "$want" "$(complete_line "$MEMZONED" _memzoned "memzoned --")"
else
	fail "memzoned --help lists options" "$("$MEMZONED" --help 2>&1 | head -3)"
fi

done_testing
