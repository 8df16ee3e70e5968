# shellcheck shell=bash disable=SC2034 # rc and T are set for the sourcing script
# test-online-lib.sh - sourced by tests/test-online*.sh: TAP output, fixture trees, the kernel model.
#
# Trees come from tests/fixtures/mktree.py; writes to memoryN/state go through tests/shim/kmodel.so,
# which applies them like the kernel (state, valid_zones, proc/zoneinfo) and logs every transition
# to proc/.kmodel.log. Nothing here touches the machine's own /sys (the model refuses to).
set -u

: "${top_srcdir:?run through make check}" "${top_builddir:?}" "${MEMZONE:?}"
MKTREE="$top_srcdir/tests/fixtures/mktree.py"
KMODEL="$top_builddir/tests/shim/kmodel.so"
# The model is built without sanitizers; an ASan binary must accept a preload listed before it.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/memzone-online.XXXXXX")
# Only the test's own shell removes it. Setting an EXIT trap makes bash catch SIGTERM (to run the trap
# when killed), and a child forked for `( ... ) &` keeps that handler until it resets its traps: a
# SIGTERM landing in between (a watchdog killed right after it was started) ran this trap in the child
# and removed the scratch dir, fixture tree and all, under the running test.
trap '[ "$BASHPID" != "$$" ] || rm -rf "$TMP"' EXIT

tap_n=0
tap_failed=0
# ok STATUS DESCRIPTION  (STATUS 0 = pass)
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}
# check DESCRIPTION COMMAND...
check() {
	local desc=$1
	shift
	if "$@"; then ok 0 "$desc"; else ok 1 "$desc"; fi
}
# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got '$1', want '$2'"
	fi
}
diag() { echo "# $*"; }
done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "1..0 # SKIP $1 not available"
	exit 0
}

need python3
[ -f "$KMODEL" ] || { echo "Bail out! $KMODEL not built"; exit 1; }

MEM=sys/devices/system/memory

# tree NAME MKTREE-ARGS... : a fresh tree in $TMP/NAME with an empty (all defaults) policy; sets T
tree() {
	T=$TMP/$1
	shift
	rm -rf "$T"
	python3 "$MKTREE" "$T" "$@" >/dev/null || { echo "Bail out! mktree.py $*"; exit 1; }
	mkdir -p "$T/etc"
	: >"$T/etc/memzone.conf"
}
# conf : stdin becomes the tree's policy (passed with --config: a host path, never under --root)
conf() { cat >"$T/etc/memzone.conf"; }
# dev FIELD INDEX : a field of the INDEXth hot-added device from mktree.json (first_block, name...)
dev() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"][int(sys.argv[3])][sys.argv[2]])' \
		"$T/mktree.json" "$1" "$2"
}
# blocks FIRST LAST : "memoryFIRST ... memoryLAST"
blocks() { seq -f 'memory%.0f' "$1" "$2" | tr '\n' ' '; }

# mz ARGS... : memzone against $T through the kernel model; output in $TMP/out, $TMP/err; status in rc
mz() {
	KMODEL_ROOT=$T LD_PRELOAD="$KMODEL${LD_PRELOAD:+:$LD_PRELOAD}" \
		"$MEMZONE" "$@" --root "$T" --config "$T/etc/memzone.conf" --allow-insecure-config --log stderr \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
}
# mz_plain ARGS... : the same without the model (state files are plain files)
mz_plain() {
	"$MEMZONE" "$@" --root "$T" --config "$T/etc/memzone.conf" --allow-insecure-config --log stderr \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
}
state() { head -n1 "$T/$MEM/memory$1/state"; }
zones() { head -n1 "$T/$MEM/memory$1/valid_zones"; }
# zone_of FIRST LAST : the distinct current zones of blocks FIRST..LAST ("Movable", "Normal", "offline")
zone_of() {
	local i
	for i in $(seq "$1" "$2"); do
		if [ "$(state "$i")" = online ]; then zones "$i"; else echo offline; fi
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}
# write_state BLOCK WORD : what another agent (a distro rule) would do; dd uses write(2), which the
# model sees (a shell's echo writes through stdio's internal write and bypasses it)
write_state() {
	printf %s "$2" | KMODEL_ROOT=$T LD_PRELOAD=$KMODEL dd of="$T/$MEM/memory$1/state" conv=notrunc status=none 2>/dev/null
}
errlog() { cat "$TMP/err"; }
# in_err TEXT : the helper's stderr contains TEXT
in_err() { grep -qF -- "$1" "$TMP/err"; }
show_err() { sed 's/^/#   /' "$TMP/err"; }

# kmodel_check RATIO : every transition in the model's log kept movable <= RATIO% of kernel, per
# node and system-wide; prints the offending line otherwise. Kernel memory is counted in present
# pages, as ratio_basis counts it (the boot basis is smaller still: a looser check, never a wrong one)
kmodel_check() {
	awk -v r="$1" '
		{ for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		v["movable"] * 100 > r * v["kernel_present"] || v["node_movable"] * 100 > r * v["node_kernel_present"] {
			print "#   cap crossed: " $0; bad = 1 }
		END { exit bad }' "$T/proc/.kmodel.log" 2>/dev/null || return 1
}
# kmodel_count WORD-REGEX BLOCK : transitions of BLOCK in the model's log
kmodel_count() { awk -v w="$1" -v b="memory$2" '$1 == b && $2 ~ w' "$T/proc/.kmodel.log" 2>/dev/null | wc -l; }
