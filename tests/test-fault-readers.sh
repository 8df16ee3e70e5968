#!/bin/bash
# test-fault-readers.sh - the fault matrix of the readers: what the udev helper (`memzone online`) and one
# rebalancer cycle (`memzone rebalance --once`, memzoned's cycle) do when a file they read is cut short,
# garbage or empty (zoneinfo, meminfo, vmstat, valid_zones), or when /proc/iomem has zeroed addresses (as
# a reader without CAP_SYS_ADMIN sees it). Fixture trees from mktree.py, writes through the kernel model.
# Each case is one TAP point and one row of tests/test-fault-readers.matrix (printed by `make check`, see
# tests/print-fault-matrix.sh): the observed outcome must be the expected one, and every block that was
# online before must be online after.
# shellcheck disable=SC2154 # top_srcdir comes from make check's environment
# The lib's scratch dir goes in the build dir: a long run here once lost its /tmp/memzone-online.* dir to
# something else on the machine mid-run.
export TMPDIR="$top_builddir/tests"
. "$top_srcdir/tests/test-online-lib.sh"

MATRIX="$top_builddir/tests/test-fault-readers.matrix"
: >"$MATRIX" # rows of an earlier run go

# corrupt FILE HOW
corrupt() {
	case $2 in
	truncated) head -c "$(($(stat -c %s "$1") / 2))" "$1" >"$1.cut" && mv "$1.cut" "$1" ;; # mid-line
	garbage) printf 'garbage \001\377 %%s\nNode x, zone ?\n  pages free lots\n\n' >"$1" ;;
	empty) : >"$1" ;;
	zeroed) sed -E 's/^( *)[0-9a-f]+-[0-9a-f]+ /\100000000-00000000 /' "$1" >"$1.z" && mv "$1.z" "$1" ;;
	esac
}
# files WHAT BLOCK... : the files of the tree $T that reader reads (the node files too)
files() {
	local what=$1 b
	shift
	case $what in
	zoneinfo) echo "$T/proc/zoneinfo" ;;
	meminfo | vmstat) echo "$T/proc/$what" "$T"/sys/devices/system/node/node*/"$what" ;;
	valid_zones) for b in "$@"; do echo "$T/$MEM/memory$b/valid_zones"; done ;;
	iomem) echo "$T/proc/iomem" ;;
	esac
}
online_set() {
	local f
	for f in "$T/$MEM"/memory*/state; do [ "$(head -n1 "$f")" = online ] && printf '%s ' "${f%/state}"; done
}
none_left_offline() {
	local d
	for d in $1; do [ ! -e "$d/state" ] || [ "$(head -n1 "$d/state")" = online ] || return 1; done
}
# row AREA OP FAULT EXPECTED OBSERVED SAFE(0|1)
row() {
	local safe=yes
	[ "$6" = 0 ] || safe=no
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$safe" >>"$MATRIX"
	if [ "$4" = "$5" ] && [ "$safe" = yes ]; then ok 0 "$1 $2 $3: $5; no online block left offline: $safe"
	else
		ok 1 "$1 $2 $3: $5; no online block left offline: $safe"
		diag "  expected: $4"
		show_err
	fi
}

# ---- the helper: a new one-block DIMM (memory16) on 16 boot blocks; the policy wants it Movable
# expected: without zone totals the helper decides as if there were no memory (auto -> a kernel zone);
# a zoneinfo cut short still parses (fewer zones); meminfo and vmstat are not the helper's; valid_zones
# that is not a list of zones reads as "none": the block is left offline with a warning (exit 1);
# zeroed iomem: the DIMM is still known by its ACPI firmware_node.
helper_expect() {
	case $1/$2 in
	zoneinfo/truncated | meminfo/* | vmstat/* | iomem/*) echo "online Movable (exit 0)" ;;
	zoneinfo/*) echo "fallback: no zone totals, online Normal (exit 0)" ;;
	valid_zones/truncated) echo "online Normal (exit 0)" ;; # "Normal Movable" cut to "Normal "
	valid_zones/*) echo "skip: left offline, valid_zones unreadable (exit 1)" ;;
	esac
}
# ---- one rebalancer cycle: two movable DIMMs (8-15) on 8 boot blocks, kernel free below the floor
# expected: no zone totals: the cycle is skipped (exit 1); a zoneinfo cut short before the Movable
# zone shows no movable memory: hold; meminfo and vmstat only refine the trend and stall rates: the
# block still moves; valid_zones unreadable: no block is known to be in Movable, nothing to move;
# zeroed iomem: DIMMs are known by their firmware_node, the move happens.
daemon_expect() {
	case $1/$2 in
	zoneinfo/truncated) echo "hold, no move (exit 0)" ;;
	zoneinfo/*) echo "cycle skipped, no move (exit 1)" ;;
	valid_zones/*) echo "no candidate, no move (exit 0)" ;;
	*) echo "moved memory15 to Normal (exit 0)" ;;
	esac
}

for what in zoneinfo meminfo vmstat valid_zones iomem; do
	hows="truncated garbage empty"
	[ $what = iomem ] && hows=zeroed
	for how in $hows; do
		fault=$how
		[ $what = iomem ] && fault="zeroed addresses"

		tree helper --blocks 17 --nodes 1 --hotplug dimm:1
		for f in $(files $what 16); do corrupt "$f" $how; done
		before=$(online_set)
		mz online memory16
		if [ "$(state 16)" = online ]; then
			obs="online $(zones 16) (exit $rc)"
			in_err "deciding without zone totals" && obs="fallback: no zone totals, $obs"
		elif in_err "valid_zones is 'none'"; then obs="skip: left offline, valid_zones unreadable (exit $rc)"
		else obs="left $(state 16) (exit $rc)"; fi
		none_left_offline "$before"
		row "helper: online" "read $what" "$fault" "$(helper_expect $what $how)" "$obs" $?

		tree daemon --blocks 16 --nodes 1 --hotplug dimm:4=movable --hotplug dimm:4=movable
		printf '[rebalance]\nheadroom = 760M\nrelease_headroom = 4G\n' | conf
		for f in $(files $what 8 9 10 11 12 13 14 15); do corrupt "$f" $how; done
		before=$(online_set)
		mz rebalance --once
		moved=$(awk '$2 == "online_kernel" { print $1 }' "$T/proc/.kmodel.log" 2>/dev/null | tr '\n' ' ')
		first=${moved#memory}
		first=${first%% *}
		if [ -n "$moved" ]; then obs="moved ${moved% } to $(zones "$first") (exit $rc)"
		elif [ "$rc" != 0 ]; then obs="cycle skipped, no move (exit $rc)"
		elif grep -q "no block to move" "$TMP/out"; then obs="no candidate, no move (exit $rc)"
		elif grep -q ": hold" "$TMP/out"; then obs="hold, no move (exit $rc)"
		else obs="no move (exit $rc)"; fi
		none_left_offline "$before"
		row "memzoned: cycle" "read $what" "$fault" "$(daemon_expect $what $how)" "$obs" $?
	done
done

done_testing
