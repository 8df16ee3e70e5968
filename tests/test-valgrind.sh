#!/bin/bash
# test-valgrind.sh - the real commands under valgrind on a fixture tree: no leak, no memory error (TAP).
#
# Each command runs once with --root pointing at a copy of a real machine's capture (firecracker 6.18:
# zoneinfo, iomem, meminfo, vmstat, 192 memory blocks, of which the last four are made offline here so
# `online` has work). Nothing touches this machine's /sys. A test point fails when valgrind reports an
# error or a definite/indirect leak (exit 99), when the command dies of a signal, or when it rejects
# its command line (exit 2); other exit codes are the command's business and only shown.
# Commands that are still placeholders ("not built yet") are skipped. Sanitizer builds are skipped as
# a whole: ASan and valgrind cannot run together, and ASan's LeakSanitizer covers them there.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
MEMZONE=${MEMZONE:-$PWD/memzone}
MEMZONED=${MEMZONED:-$PWD/memzoned}
CAPTURE=$top_srcdir/tests/fixtures/real-world/firecracker-6.18-x86_64
TICKS=20
INTERVAL_MS=100
n=0
failed=0

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

command -v valgrind >/dev/null || skip_all "valgrind is not installed"
command -v python3 >/dev/null || skip_all "python3 is needed to expand the fixture tree"
[ -x "$MEMZONE" ] || skip_all "$MEMZONE not built"
# ASan builds carry its runtime (clang links it in, gcc leaves an undefined reference): either way
# the symbol name is in the binary.
if LC_ALL=C grep -q __asan_init "$MEMZONE" 2>/dev/null; then
	skip_all "sanitizer build (ASan/LSan check leaks there; valgrind cannot run ASan binaries)"
fi
[ -d "$CAPTURE" ] || skip_all "$CAPTURE: fixture missing"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memzone-valgrind.XXXXXX") || exit 1
daemon_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
TREE=$tmp/root

if ! python3 "$top_srcdir/tests/fixtures/expand-tree.py" "$CAPTURE" "$TREE" >"$tmp/expand.log" 2>&1; then
	echo "Bail out! expand-tree.py failed: $(cat "$tmp/expand.log")"
	exit 1
fi
for id in 188 189 190 191; do
	b=$TREE/sys/devices/system/memory/memory$id
	echo offline >"$b/state"
	echo 0 >"$b/online"
	echo "Normal Movable" >"$b/valid_zones"
done
mkdir -p "$TREE/etc" "$TREE/run/memzone"
cat >"$TREE/etc/memzone.conf" <<EOF
# test-valgrind.sh: a short tick so memzoned does $TICKS of them quickly
[rebalance]
interval = ${INTERVAL_MS}ms
EOF
chmod 0644 "$TREE/etc/memzone.conf"

VALGRIND=(valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
	--error-exitcode=99 --track-origins=yes --num-callers=30)
ROOT=$TREE # the tree run_memzone points at

point() {
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi
}

# A placeholder front-end or subcommand says "not built yet" and does nothing worth checking.
# Probed with --help, so the probe itself changes nothing in the tree.
not_built() {
	"$@" >/dev/null 2>"$tmp/probe.err" </dev/null
	grep -q 'not built yet' "$tmp/probe.err"
}

# $1 = test name, $2 = valgrind log, $3 = exit status
judge() {
	local name=$1 log=$2 rc=$3
	case $rc in
	99) point fail "$name: valgrind found errors or leaks" ;;
	2) point fail "$name: exit 2, command line rejected" ;;
	*)
		if [ "$rc" -ge 126 ]; then
			point fail "$name: exit $rc (killed by a signal or not runnable)"
		else
			point ok "$name (exit $rc, clean under valgrind)"
			return
		fi ;;
	esac
	sed 's/^/#   /' "$log" | grep -E -A12 'Invalid|uninitialised|definitely lost|indirectly lost|Process terminating|ERROR SUMMARY' | head -80
}

# $1 = test name, rest = arguments of memzone
run_memzone() {
	local name=$1 log
	shift
	log=$tmp/vg-$n.log
	if not_built "$MEMZONE" "$1" --help; then
		n=$((n + 1))
		echo "ok $n - $name # SKIP not built yet"
		return
	fi
	"${VALGRIND[@]}" --log-file="$log" "$MEMZONE" "$@" --root "$ROOT" --allow-insecure-config --log=stderr \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	judge "$name" "$log" $?
}

run_memzone "memzone status" status
run_memzone "memzone status --blocks --json" status --blocks --json
run_memzone "memzone check-config" check-config
run_memzone "memzone plan" plan
run_memzone "memzone online memory188" online memory188
run_memzone "memzone online memory189 memory190 memory191" online memory189 memory190 memory191

# memzoned: TICKS ticks, then SIGTERM; it must stop by itself and leave no leak. Ticks are counted
# as rewrites of the state file (an atomic rename each tick, so a new inode), polled; the wait is
# bounded so a daemon that stops ticking still gets its SIGTERM. The verdict never depends on time.
# $1 = test name, $2 = tree
run_daemon() {
	local name=$1 tree=$2 log=$tmp/vg-daemon-$n.log state=$2/run/memzone/state
	local ticks=0 inode= now polls=0 pid rc

	if [ ! -x "$MEMZONED" ] || not_built "$MEMZONED" --help; then
		n=$((n + 1))
		echo "ok $n - $name # SKIP not built yet"
		return
	fi
	"${VALGRIND[@]}" --log-file="$log" "$MEMZONED" --root "$tree" --allow-insecure-config --log=stderr \
		>"$tmp/daemon.out" 2>"$tmp/daemon.err" </dev/null &
	pid=$!
	daemon_pid=$pid
	while [ "$ticks" -lt "$TICKS" ] && [ "$polls" -lt 3000 ] && kill -0 "$pid" 2>/dev/null; do
		now=$(stat -c %i "$state" 2>/dev/null)
		if [ -n "$now" ] && [ "$now" != "$inode" ]; then
			inode=$now
			ticks=$((ticks + 1))
		fi
		polls=$((polls + 1))
		sleep 0.02
	done
	echo "# $name: $ticks state-file rewrites seen before SIGTERM"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	daemon_pid=
	judge "$name" "$log" $rc
	[ "$rc" = 0 ] || sed 's/^/#   memzoned: /' "$tmp/daemon.err" | tail -20
}

run_daemon "memzoned on the captured tree: $TICKS ticks of ${INTERVAL_MS}ms, then SIGTERM" "$TREE"

# A synthetic tree where memzoned has work: a movable virtio-mem device and an offline DIMM on
# node 1, and PSI reporting memory pressure, so it offlines and re-onlines blocks (the writes land
# in the tree's plain files, which is enough to drive its actuator, rollback and state paths).
SYNTH=$tmp/synth
if python3 "$top_srcdir/tests/fixtures/mktree.py" "$SYNTH" --blocks 48 --nodes 2 \
	--hotplug virtio_mem:8@1=movable --hotplug dimm:4@1=offline >"$tmp/mktree.log" 2>&1; then
	mkdir -p "$SYNTH/etc" "$SYNTH/run/memzone"
	cat >"$SYNTH/etc/memzone.conf" <<EOF
# test-valgrind.sh: short tick, short warm-up and no waiting, so moves happen within $TICKS ticks
[rebalance]
interval = ${INTERVAL_MS}ms
trend_window = 300ms
release_delay = 0
cooldown = 0
offline_timeout = 2s
EOF
	chmod 0644 "$SYNTH/etc/memzone.conf"
	ROOT=$SYNTH
	run_memzone "memzone online memory48 (hot-added DIMM, first block)" online memory48
	run_memzone "memzone online memory49 memory50 memory51 (rest of the DIMM)" online memory49 memory50 memory51
	printf 'some avg10=60.00 avg60=40.00 avg300=20.00 total=900000000\nfull avg10=30.00 avg60=20.00 avg300=10.00 total=400000000\n' \
		>"$SYNTH/proc/pressure/memory"
	run_daemon "memzoned under PSI pressure with movable hot-added blocks: $TICKS ticks, then SIGTERM" "$SYNTH"
else
	echo "Bail out! mktree.py failed: $(cat "$tmp/mktree.log")"
	exit 1
fi

echo "1..$n"
[ "$failed" -eq 0 ]
