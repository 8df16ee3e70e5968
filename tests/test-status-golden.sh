#!/bin/sh
# test-status-golden.sh - `memzone status` on every real-world capture that has a zoneinfo, compared
# with tests/golden/<capture>.json (status --json --blocks), .txt (status) and, when the capture has
# memory blocks, .blocks.txt (status --blocks). Each capture is expanded into a temporary root with
# tests/fixtures/expand-tree.py. Prints TAP.
#
# To (re)write the expected files after a deliberate output change, then review them with git diff:
#   MZ_GOLDEN_UPDATE=1 make check TESTS=tests/test-status-golden.sh
set -u
: "${MEMZONE:?MEMZONE must name the memzone binary}"
: "${top_srcdir:?}"

FIXTURES=$top_srcdir/tests/fixtures/real-world
GOLDEN=$top_srcdir/tests/golden
T=$(mktemp -d "${TMPDIR:-/tmp}/test-status-golden.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# compare NAME GOT: GOT against $GOLDEN/NAME (or write it when updating)
compare() {
	if [ "${MZ_GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$2" "$GOLDEN/$1"
		return 0
	fi
	if [ ! -f "$GOLDEN/$1" ]; then
		echo "#   tests/golden/$1 is missing (MZ_GOLDEN_UPDATE=1 writes it)"
		return 1
	fi
	if ! diff -u "$GOLDEN/$1" "$2" > "$T/diff"; then
		sed 's/^/#   /' "$T/diff" | head -40
		return 1
	fi
	return 0
}

# status OUT ARGS...: run status; the exit code and stderr are part of what is compared
status() {
	out=$1
	shift
	"$MEMZONE" status --root "$T/root" "$@" > "$out" 2> "$out.err"
	rc=$?
	if [ $rc -ne 0 ] || [ -s "$out.err" ]; then
		echo "#   exit $rc:"
		sed 's/^/#   /' "$out.err"
		return 1
	fi
	return 0
}

for dir in "$FIXTURES"/*/; do
	name=$(basename "$dir")
	[ -f "$dir/zoneinfo" ] || continue
	rm -rf "$T/root"
	if ! python3 "$top_srcdir/tests/fixtures/expand-tree.py" "$dir" "$T/root"; then
		ok 1 "$name: expand-tree.py"
		continue
	fi
	status "$T/json" --json --blocks && compare "$name.json" "$T/json"
	ok $? "$name: status --json --blocks matches tests/golden/$name.json"
	status "$T/txt" && compare "$name.txt" "$T/txt"
	ok $? "$name: status matches tests/golden/$name.txt"
	if [ -d "$T/root/sys/devices/system/memory" ]; then
		status "$T/blocks" --blocks && compare "$name.blocks.txt" "$T/blocks"
		ok $? "$name: status --blocks matches tests/golden/$name.blocks.txt"
	fi
done

# Every golden file belongs to a capture (a renamed capture must not leave a stale one behind).
stale=0
for g in "$GOLDEN"/*; do
	base=$(basename "$g")
	base=${base%.json}
	base=${base%.blocks.txt}
	base=${base%.txt}
	if [ ! -f "$FIXTURES/$base/zoneinfo" ]; then
		echo "#   $g has no capture with a zoneinfo"
		stale=1
	fi
done
ok $stale "no golden file without its capture"

echo "1..$n"
[ "$failed" -eq 0 ]
