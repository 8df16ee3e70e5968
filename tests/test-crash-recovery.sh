#!/bin/bash
# test-crash-recovery.sh - memzoned killed with SIGKILL at each step of a move, in both directions,
# then restarted; and memzoned started over corrupt, truncated or stale intent records. TAP.
#
# A move (src/lib/actuator.c) is: write the intent record, offline, online in the other zone, clear the
# record. tests/shim/faults.so's "stop" action stops memzoned (SIGSTOP) right before one call, so the
# kill lands at an exact step, not at a time:
#   before-offline  stop on the "offline" write: the record is written, the kernel saw nothing
#   during-offline  KMODEL_OFFLINE=hang: the kernel model's offline_pages() waits in the kernel (no
#                   change made yet) as a migration that keeps failing does; SIGKILL aborts it
#   after-offline   stop on the online_kernel/online_movable write: the block is offline
#   after-online    stop on the unlink of run/memzone/intent: the block is online in its new zone
# The restart runs observe-only, so that what we see is what recovery did, not a later decision
# (recovery at start runs in observe-only mode too: a block left offline must come back).
# Trees come from tests/fixtures/mktree.py; state writes go through faults.so, then kmodel.so (the
# kernel's state machine). Nothing touches this machine's /sys. Waits are bounded polls (30 s).
set -u

: "${top_srcdir:?run through make check}" "${top_builddir:?}" "${MEMZONED:?}"
. "$top_srcdir/tests/test-shim-lib.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/crash-recovery-test.XXXXXX")
DPID=''
cleanup() {
	# only the test's own shell: a `( ... exec memzoned ) &` child signalled before its exec runs
	# this trap too (see tests/test-online-lib.sh), and must not kill or delete anything
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
MEM=sys/devices/system/memory
INTENT=run/memzone/intent

# tree KIND: 8 boot blocks (0-7) and two 4-block DIMMs (8-11, 12-15), all online.
#   grow: both DIMMs Movable; the policy's floor is above kernel free -> memory15 goes to Normal
#   give: 8-11 Normal, 12-15 Movable; kernel free far above the release level -> memory11 goes
#         back to Movable (the only hot-added kernel blocks; the highest id ranks first)
tree() {
	local dimm1=movable
	T=$TMP/tree
	rm -rf "$T"
	[ "$1" = give ] && dimm1=kernel
	python3 "$MKTREE" "$T" --blocks 16 --nodes 1 --hotplug dimm:4=$dimm1 --hotplug dimm:4=movable >/dev/null ||
		{ echo "Bail out! mktree.py failed"; exit 1; }
	mkdir -p "$T/etc"
	: >"$TMP/faults"
	rm -f "$TMP/flog"
	case $1 in
	grow) printf '%s\n' '[rebalance]' 'interval = 100ms' 'headroom = 760M' 'release_headroom = 4G' \
		'moves_per_minute = 60' 'trend_window = 2s' 'backoff_initial = 10m' >"$T/etc/memzone.conf" ;;
	give) printf '%s\n' '[rebalance]' 'interval = 100ms' 'headroom = 64M' 'release_headroom = 128M' \
		'release_delay = 0' 'moves_per_minute = 60' 'trend_window = 2s' 'backoff_initial = 10m' \
		>"$T/etc/memzone.conf"
		# a give-back needs a flat unmovable trend (no trend: warming up), i.e. the node's unmovable
		# kernel memory, which mktree.py does not write
		printf 'Node 0 SUnreclaim:       50000 kB\nNode 0 PageTables:       10000 kB\n' \
			>>"$T/sys/devices/system/node/node0/meminfo" ;;
	esac
}
observe_only() { echo 'observe_only = yes' >>"$T/etc/memzone.conf"; }
state() { cat "$T/$MEM/memory$1/state" 2>/dev/null; }
zone() { cat "$T/$MEM/memory$1/valid_zones" 2>/dev/null; }
waitfor() { # waitfor DESC CMD... : poll up to 30 s
	local i desc=$1
	shift
	for i in $(seq 600); do "$@" 2>/dev/null && return 0; sleep 0.05; done
	diag "timed out waiting for: $desc; memzoned said:"
	diag "$(tail -n 5 "$TMP/d.err")"
	return 1
}
# start [ENV=VALUE...] : memzoned on $T in the background (pid in DPID), log in $TMP/d.err
start() {
	: >"$TMP/d.err"
	(
		for e in "$@"; do export "${e?}"; done
		export KMODEL_ROOT="$T" MZ_FAULTS="$TMP/faults" MZ_FAULTS_LOG="$TMP/flog"
		LD_PRELOAD="$FAULTS $KMODEL" exec "$MEMZONED" --root "$T" --config "$T/etc/memzone.conf" \
			--allow-insecure-config --log stderr
	) 2>"$TMP/d.err" &
	DPID=$!
}
stop() { # stop [SIGNAL]: exit status in $drc
	kill "-${1:-TERM}" "$DPID" 2>/dev/null
	{ wait "$DPID"; } 2>/dev/null
	drc=$?
	DPID=''
}
logged() { grep -q -- "$1" "$TMP/d.err"; }
# the state letter of $DPID (R, S, T, ...); the command name is in parentheses before it
pstate() { sed 's/.*) //' "/proc/$DPID/stat" 2>/dev/null | cut -d' ' -f1; }
stopped() { [ "$(pstate)" = T ]; }
# kmodel sleeps in sigsuspend (S; wchan names it where the kernel tells) once it hangs; faults.so logs
# "pass" just before the write reaches kmodel. kmodel changes nothing before it hangs, so a kill
# anywhere after that line finds the same state; the wait only makes it a kill inside the offline.
in_sigsuspend() {
	case $(cat "/proc/$DPID/wchan" 2>/dev/null) in
	*sigsuspend* | '' | 0) return 0 ;;
	*) return 1 ;;
	esac
}
in_kmodel_offline() { grep -q "^memory$1 offline pass" "$TMP/flog" && [ "$(pstate)" = S ] && in_sigsuspend; }
# every block's state file says online, and kmodel's log onlined every block as often as it
# offlined it (the kernel model never ended with a block offline)
all_online() {
	local f
	for f in "$T"/$MEM/memory*/state; do [ "$(cat "$f")" = online ] || return 1; done
	[ ! -e "$T/proc/.kmodel.log" ] ||
		awk '$2 == "offline" { n[$1]-- } $2 ~ /^online/ { n[$1]++ } END { for (b in n) if (n[b] < 0) exit 1 }' \
			"$T/proc/.kmodel.log"
}
no_intent() { [ ! -e "$T/$INTENT" ]; }
clean_exit_all_online() { [ "$drc" -eq 0 ] && all_online; }

# ---- SIGKILL at each step of a move, both directions
# crash DIR STEP EXPECTED_ZONE WHY: one kill, one restart, the checks
crash() {
	local dir=$1 step=$2 want=$3 why=$4 b from to word env=''
	case $dir in
	grow) b=15 from=Movable to=Normal word=online_kernel ;;
	give) b=11 from=Normal to=Movable word=online_movable ;;
	esac
	tree "$dir"
	case $step in
	before-offline) echo "memory$b offline stop 1" >"$TMP/faults" ;;
	during-offline) env=KMODEL_OFFLINE=hang
		echo 'offline_timeout = 10m' >>"$T/etc/memzone.conf" ;; # only the kill ends it
	after-offline) echo "memory$b $word stop 1" >"$TMP/faults" ;;
	after-online) echo "intent unlink stop 1" >"$TMP/faults" ;;
	esac
	start $env
	if [ "$step" = during-offline ]; then
		waitfor "memzoned in the kernel model's offline of memory$b" in_kmodel_offline "$b"
	else
		waitfor "memzoned stopped at $step" stopped
	fi
	local at="$(state "$b") $(zone "$b") $(sed -n 's/^block=//p' "$T/$INTENT" 2>/dev/null)"
	case $step in
	before-offline | during-offline) check "$dir/$step: killed with memory$b online in $from, the record naming it ($at)" \
		[ "$at" = "online $from $b" ] ;;
	after-offline) check "$dir/$step: killed with memory$b offline, the record naming it ($at)" \
		[ "$(state "$b") $(sed -n 's/^block=//p' "$T/$INTENT" 2>/dev/null)" = "offline $b" ] ;;
	after-online) check "$dir/$step: killed with memory$b online in $to, the record naming it ($at)" \
		[ "$at" = "online $to $b" ] ;;
	esac
	stop KILL
	check "$dir/$step: SIGKILL ended it" [ "$drc" -eq 137 ]
	: >"$TMP/faults"
	observe_only
	start
	waitfor "the restart" logged 'started:'
	check "$dir/$step: after the restart every block is online (kmodel agrees)" all_online
	check "$dir/$step: ... the intent record is gone" no_intent
	check "$dir/$step: ... memory$b is in $want: $why ($(zone "$b"))" [ "$(zone "$b")" = "$want" ]
	check "$dir/$step: ... the recovery is logged, naming the record" \
		grep -q "$T/$INTENT: .*memory$b of the interrupted move $from -> $to" "$TMP/d.err"
	[ "$step" = after-offline ] &&
		check "$dir/$step: ... the log says the move was completed" logged "was offline; completed: online in $to"
	stop TERM
	check "$dir/$step: ... memzoned ran on and stopped cleanly (exit $drc)" [ "$drc" -eq 0 ]
}

for dir in grow give; do
	case $dir in
	grow) from=Movable to=Normal ;;
	give) from=Normal to=Movable ;;
	esac
	crash $dir before-offline $from "never offlined: nothing to undo, the record is dropped (the move did not happen)"
	crash $dir during-offline $from "the killed offline was aborted in the kernel, the block never left $from (rolled back)"
	crash $dir after-offline $to "offline with a valid record: onlined in the zone the move wanted (completed)"
	crash $dir after-online $to "the move had finished; only the record was left to clear (completed)"
done

# ---- intent records that cannot be trusted, or name something odd
koffline() { # koffline BLOCK: offline it through the kernel model (zoneinfo follows)
	KMODEL_ROOT="$T" LD_PRELOAD="$KMODEL" sh -c 'echo offline >"$1"' sh "$T/$MEM/memory$1/state"
	[ "$(state "$1")" = offline ] || { echo "Bail out! could not offline memory$1 in the model"; exit 1; }
}
# badrec NAME [OFFLINE_BLOCK]: the record text on stdin; memzoned starts over it. Not at the end of a
# pipeline: that would run it in a subshell, and DPID would not reach stop().
badrec() {
	tree grow
	observe_only
	mkdir -p "$T/run/memzone"
	cat >"$T/$INTENT"
	rm -f "$T/$INTENT.corrupt"
	cp "$T/$INTENT" "$TMP/record"
	[ -n "${2:-}" ] && koffline "$2"
	start
	waitfor "the start" logged 'started:'
	kill -0 "$DPID" 2>/dev/null
	check "$1: memzoned starts and runs" [ $? -eq 0 ]
}
# unreadable NAME: the checks for a record memzoned cannot use
unreadable() {
	check "$1: an error names the file ($(grep -F "$T/$INTENT" "$TMP/d.err" | head -n1 | cut -c1-160))" \
		grep -q "error.*$T/$INTENT" "$TMP/d.err"
	check "$1: ... the record is set aside as intent.corrupt, unchanged" cmp -s "$T/$INTENT.corrupt" "$TMP/record"
	check "$1: ... and intent is gone" no_intent
	stop TERM
	check "$1: ... no block offline, clean exit" clean_exit_all_online
}
badrec "cut mid-line" < <(printf 'version=1\nblock=15\nfrom=Movable\nto=Nor')
unreadable "cut mid-line"
badrec "missing keys" < <(printf 'version=1\nblock=15\n')
unreadable "missing keys"
badrec garbage < <(python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(1, 256)) * 3)')
unreadable garbage
badrec empty </dev/null
unreadable empty
badrec "version 2" < <(printf 'version=2\nblock=15\nfrom=Movable\nto=Normal\n')
unreadable "version 2"
check "version 2: ... the error says which versions" logged 'version 2, this memzoned reads version 1'

badrec "no such block" < <(printf 'version=1\nblock=99\nfrom=Movable\nto=Normal\n')
check "no such block: logged, naming the file and the block" logged "$T/$INTENT: memory99 of the interrupted move is gone"
check "no such block: ... the record is removed, nothing set aside" [ ! -e "$T/$INTENT" -a ! -e "$T/$INTENT.corrupt" ]
stop TERM
check "no such block: ... no block offline, clean exit" clean_exit_all_online

badrec "offline block, valid record" 15 < <(printf 'version=1\nblock=15\nfrom=Movable\nto=Normal\n')
check "offline block, valid record: memory15 is onlined in the zone the move wanted ($(state 15) $(zone 15))" \
	[ "$(state 15) $(zone 15)" = "online Normal" ]
check "... logged, naming the file" logged "$T/$INTENT: memory15 of the interrupted move Movable -> Normal was offline; completed"
check "... the record is removed" no_intent
stop TERM
check "... clean exit, every block online" clean_exit_all_online

badrec "offline block, cut record" 15 < <(printf 'version=1\nblock=15\nfrom=Mov')
check "offline block, cut record: an untrusted record onlines nothing: memory15 stays offline ($(state 15))" \
	[ "$(state 15)" = offline ]
check "... the error says no block was touched" logged "error: $T/$INTENT:3: .*no block was touched"
check "... the record is set aside" cmp -s "$T/$INTENT.corrupt" "$TMP/record"
stop TERM
check "... clean exit" [ "$drc" -eq 0 ]

# ---- a valid record whose block every zone refuses: it stays offline with its record, and no other
# move starts (its record would replace this one, and nothing would bring memory15 back) until the
# kernel takes the block again. The policy wants a block moved all along.
tree grow
mkdir -p "$T/run/memzone"
printf 'version=1\nblock=15\nfrom=Movable\nto=Normal\n' >"$T/$INTENT"
koffline 15
printf 'memory15 %s EINVAL\n' online_kernel online_movable online >"$TMP/faults"
start
tries() { [ "$(grep -c '^memory15 online_kernel EINVAL' "$TMP/flog" 2>/dev/null)" -ge 3 ]; }
waitfor "three recoveries refused" tries
check "stranded: memory15 stays offline, its record kept, while every online is refused" \
	[ "$(state 15)" = offline -a "$(sed -n 's/^block=//p' "$T/$INTENT" 2>/dev/null)" = 15 ]
check "... the refusal is logged as an error naming the record" logged "error: $T/$INTENT: memory15 .*stays offline"
check "... no other block was touched meanwhile (the pressure wants a move)" \
	[ -z "$(grep -v '^memory15 ' "$T/proc/.kmodel.log")" ]
: >"$TMP/faults"
waitfor "the recovery" no_intent
waitfor "a tick after it" grep -q '^node=0' "$T/run/memzone/state"
stop TERM
back_in_normal() { [ "$(state 15) $(zone 15)" = "online Normal" ] && clean_exit_all_online; }
check "... once the kernel takes it, memory15 is online in Normal (the move completed), every block online" \
	back_in_normal

# ---- the same with observe_only = yes: startup recovery runs in observe-only mode, so its retries must too
tree grow
observe_only
mkdir -p "$T/run/memzone"
printf 'version=1\nblock=15\nfrom=Movable\nto=Normal\n' >"$T/$INTENT"
koffline 15
printf 'memory15 %s EINVAL\n' online_kernel online_movable online >"$TMP/faults"
start
waitfor "three recoveries refused" tries
check "observe-only, stranded: memory15 stays offline with its record while every online is refused" \
	[ "$(state 15)" = offline -a "$(sed -n 's/^block=//p' "$T/$INTENT" 2>/dev/null)" = 15 ]
: >"$TMP/faults"
waitfor "the recovery" no_intent
stop TERM
check "... once the kernel takes it, a later tick brings memory15 back online in Normal, every block online" \
	back_in_normal

# ---- the temporary file of an atomic write whose writer was killed before the rename: removed at
# the next start when older than a minute; a fresh one may be a helper's write in progress
tree grow
observe_only
mkdir -p "$T/run/memzone"
: >"$T/run/memzone/intent.tmpAb3dE9"
touch -d '-2 min' "$T/run/memzone/intent.tmpAb3dE9"
: >"$T/run/memzone/reserve.tmpXy7zQ1"
start
waitfor "the start" logged 'started:'
check "stale temporary file: an intent.tmpXXXXXX two minutes old is removed at start" \
	[ ! -e "$T/run/memzone/intent.tmpAb3dE9" ]
check "... and logged" logged 'intent.tmpAb3dE9: removed'
check "... a fresh reserve.tmpXXXXXX (a helper writing it now) is kept" [ -e "$T/run/memzone/reserve.tmpXy7zQ1" ]
stop TERM
check "... clean exit, every block online" clean_exit_all_online

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
