#!/bin/bash
# test-concurrency-daemon.sh - udev storms while memzoned moves blocks on the same tree (issue 7).
#
# A storm: one `memzone online` per new block of two DIMMs and a virtio-mem device (72 blocks) plus
# 7 replays of blocks already in the list (as udev may re-run an event), all released at once while
# memzoned, with a 100 ms interval, is in the middle of a move and keeps wanting to move:
#   - storm 1: kernel free far under the floor (headroom 8G): memzoned harvests Movable blocks;
#   - storm 2: kernel free far above the release level: memzoned gives kernel blocks back to Movable,
#     as far as the cap (ratio) lets it, while the helpers fill Movable up to that same cap;
#   - storm 3: lock_timeout = 100ms while another process holds /run/memzone/lock: the helpers go
#     ahead without the lock (and say so), memzoned postpones its moves.
# Every state write goes through tests/shim/kmodel.so, whose log names the writer (by=memzone: a
# helper, by=memzoned: the daemon); a write takes 10 ms there (200 ms for memzoned's, so that its
# moves are windows the storm can be released into). On what the "kernel" saw:
#   - every new block online at the end, onlined by a helper exactly once, never first by memzoned;
#   - memzoned completed moves while the helpers ran, each move whole (no write between its offline
#     and its online);
#   - storms 1 and 2: no recorded state, whoever wrote it, has movable above 800% of kernel (the cap,
#     ratio, the same with and without memzoned); storm 3 goes without the lock, so the caps are
#     not promised there (man memzone.conf, lock_timeout);
#   - every helper exits 0 within a bound (no deadlock); none timed out on the lock in storms 1-2,
#     at least one did in storm 3 and logged the warning;
#   - memzoned is alive and still ticking after the storm (it rewrites its state file), stops with
#     exit 0, and leaves no intent record.
# Two races the storms hit now and then are checked deterministically at the end: a replayed add event
# must not rezone a block memzoned moved (while memzoned runs, the helper leaves online blocks to it),
# and a give-back that waited for the lock while helpers filled Movable must not cross the cap
# (memzoned looks again under the lock).
# Waits are bounded polls; the only time limit asserted is the deadlock bound (HELPER_BOUND).
# Debugging: KEEP=DIR keeps each storm's files, DAEMON_OPTS=-v makes memzoned verbose.
# shellcheck disable=SC2154 # top_srcdir comes from make check's environment
. "$top_srcdir/tests/test-online-lib.sh"
: "${MEMZONED:?run through make check}"
need flock
need timeout

DPID='' HPID=''
cleanup() {
	# only the test's own shell: a `( ... exec memzoned ) &` child signalled before its exec runs
	# this trap too (see tests/test-online-lib.sh), and must not kill or delete anything
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# A helper that has not exited after this long is stuck: it waits lock_timeout at most (60 s in
# storms 1-2), then works without the lock, which takes well under a second even under ASan.
HELPER_BOUND=${HELPER_BOUND:-180}
# the MOVABLE:KERNEL cap (ratio: the same whether or not memzoned runs); above the default 301 so
# that memzoned has room to give back and the helpers room to race for
CAP=800
# Every state write takes this long in the model (serialised, like the kernel's hotplug lock).
DELAY=10 DAEMON_DELAY=200

waitfor() { # waitfor DESC CMD... : poll up to 60 s
	local i desc=$1
	shift
	for i in $(seq 1200); do "$@" 2>/dev/null && return 0; sleep 0.05; done
	diag "timed out waiting for: $desc; memzoned said:"
	tail -n 5 "$TMP/d.err" | sed 's/^/#   /'
	return 1
}

# storm_tree NAME PRESTATE: 4 boot blocks (~500 MiB of kernel memory), a DIMM of 8 blocks online in
# PRESTATE (movable | kernel: something for memzoned to move from the start), and the 72 new blocks:
# at 800% the cap leaves room for a fraction of them, so it binds while the helpers race.
storm_tree() {
	tree "$1" --blocks 84 --nodes 1 --hotplug "dimm:8=$2" --hotplug dimm:24 --hotplug dimm:16 \
		--hotplug virtio_mem:32
	NEW=$(for i in 1 2 3; do seq "$(dev first_block $i)" "$(dev last_block $i)"; done | tr '\n' ' ')
	# replays: the first and last block of each new device once more, the virtio-mem's first twice more
	DUPS="$(dev first_block 1) $(dev last_block 1) $(dev first_block 2) $(dev last_block 2)"
	DUPS="$DUPS $(dev first_block 3) $(dev first_block 3) $(dev last_block 3)"
	# unmovable kernel memory (steady): without it memzoned has no trend and never gives memory back
	printf 'Node 0 KernelStack:     4096 kB\nNode 0 PageTables:      8192 kB\nNode 0 SUnreclaim:     20480 kB\n' \
		>>"$T/sys/devices/system/node/node0/meminfo"
}
# storm_conf LOCK_TIMEOUT REBALANCE-LINES...
storm_conf() {
	local lt=$1
	shift
	{
		# ratio_basis = current: managed kernel memory, what kmodel_check measures against
		printf '[online]\nratio = %s\nratio_basis = current\nlock_timeout = %s\n\n' "$CAP" "$lt"
		printf '[rebalance]\ninterval = 100ms\ntrend_window = 600ms\nrelease_delay = 0\ncooldown = 0\n'
		printf 'moves_per_minute = 6000\nbackoff_initial = 1s\n'
		printf '%s\n' "$@"
	} | conf
}
HARVEST=("headroom = 8G" "release_headroom = 16G")
GIVE_BACK=("headroom = 16M" "release_headroom = 32M")

# start_daemon: memzoned on $T through the model, then wait for its lock (the helpers must see it
# to leave online blocks to it)
start_daemon() {
	: >"$TMP/d.err"
	# shellcheck disable=SC2086 # DAEMON_OPTS: words (-v when debugging)
	KMODEL_ROOT=$T KMODEL_DELAY_MS=$DAEMON_DELAY LD_PRELOAD=$KMODEL "$MEMZONED" --root "$T" \
		--config "$T/etc/memzone.conf" --allow-insecure-config --log stderr ${DAEMON_OPTS:-} 2>"$TMP/d.err" &
	DPID=$!
	waitfor "memzoned's lock" grep -qx "$DPID" "$T/run/memzone/memzoned.lock"
}
# stop_daemon: SIGTERM, and its exit status in drc; one that does not exit within the poll bound is
# killed (drc 137)
exited() { ! kill -0 "$DPID" 2>/dev/null || grep -q '^[0-9]* (.*) Z' "/proc/$DPID/stat"; }
stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	waitfor "memzoned to stop" exited || kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	drc=$?
	DPID=''
}
by_daemon() { awk -v w="$1" '$2 ~ w && / by=memzoned /' "$T/proc/.kmodel.log" 2>/dev/null | wc -l; }
# mid_move: memzoned's offline is the model's last transition, its online still to come (it holds
# /run/memzone/lock until then)
mid_move() { tail -n1 "$T/proc/.kmodel.log" 2>/dev/null | grep -q '^memory[0-9]* offline .* by=memzoned '; }
# ... and the storm counts from that offline's line: on a loaded machine memzoned's online can land
# before the release is noted, and it is still the move memzoned made while the helpers waited
wait_mid_move() {
	waitfor "memzoned in the middle of a move" mid_move &&
		awk '$2 == "offline" && / by=memzoned / { l = NR } END { print l }' "$T/proc/.kmodel.log" >"$TMP/mid"
}
# moves_atomic: every offline of memzoned is followed at once by its online of the same block
# (under the lock no helper can write in between); prints the first offender
moves_atomic() {
	awk 'off { split(off, o, " "); if (!bad && ($1 != o[1] || $2 !~ /^online/ || !/ by=memzoned /)) {
			print "#   " off; print "#   then " $0; bad = 1 } off = "" }
		$2 == "offline" && / by=memzoned / { off = $0 }
		END { if (off) { print "#   last: " off; bad = 1 } exit bad }' "$T/proc/.kmodel.log"
}

# hold_lock: another process takes /run/memzone/lock (pid in HPID) until $TMP/unlock exists
hold_lock() {
	rm -f "$TMP/locked" "$TMP/unlock"
	python3 -c 'import fcntl, os, sys, time
f = open(sys.argv[1], "w"); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2], "w").close()
for _ in range(1200):
    if os.path.exists(sys.argv[3]): break
    time.sleep(0.05)' "$T/run/memzone/lock" "$TMP/locked" "$TMP/unlock" &
	HPID=$!
	waitfor "the lock holder" test -e "$TMP/locked"
}
# storm BLOCK... : one helper per argument, all released at once (a barrier: a lock the parent holds
# until every helper is forked and $BEFORE_RELEASE ran); exit statuses in $TMP/rc.N, stderr in
# $TMP/err.N; the model's log had $released lines at the release
storm() {
	local b i=0 pids=()
	rm -f "$TMP"/rc.* "$TMP"/err.*
	exec 4>"$TMP/barrier"
	flock -x 4
	for b in "$@"; do
		i=$((i + 1))
		(
			exec 4>&-
			flock -s "$TMP/barrier" true
			KMODEL_ROOT=$T KMODEL_DELAY_MS=$DELAY LD_PRELOAD=$KMODEL timeout -k 5 "$HELPER_BOUND" \
				"$MEMZONE" online "memory$b" --root "$T" --config "$T/etc/memzone.conf" \
				--allow-insecure-config --log stderr 2>"$TMP/err.$i"
			echo $? >"$TMP/rc.$i"
		) &
		pids+=($!)
	done
	rm -f "$TMP/mid"
	[ -z "${BEFORE_RELEASE:-}" ] || $BEFORE_RELEASE
	released=$(wc -l <"$T/proc/.kmodel.log")
	[ ! -s "$TMP/mid" ] || released=$(cat "$TMP/mid")
	flock -u 4
	exec 4>&-
	[ -z "${AFTER_RELEASE:-}" ] || $AFTER_RELEASE
	wait "${pids[@]}"
}
# rc_summary: "status count" pairs of the last storm ("0 79" when all exited 0; 124/137: timeout)
rc_summary() { cat "$TMP"/rc.* | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }'; }
lock_warned() { grep -l 'going ahead without it' "$TMP"/err.* 2>/dev/null | wc -l; }
some_warned() { [ "$(lock_warned)" -ge 1 ]; }

helper_onlines() { awk -v b="memory$1" '$1 == b && $2 ~ /^online/ && / by=memzone /' "$T/proc/.kmodel.log" | wc -l; }
first_writer() {
	awk -v b="memory$1" '$1 == b && $2 ~ /^online/ { for (i = 4; i <= NF; i++) if ($i ~ /^by=/) print $i; exit }' \
		"$T/proc/.kmodel.log"
}

# run_storm LABEL [lockless]: the storm on $T with memzoned running, and every check but the lock's
# (lockless: the cap is not promised, memzoned may have had no turn while the helpers ran, its moves
# may have a helper's write in the middle, and a replay may rezone a block)
run_storm() {
	local label=$1 lockless=${2:-} b n t0 once=0 bad='' offline='' first='' inside between all
	# shellcheck disable=SC2086 # word lists
	all=$(echo $NEW $DUPS | wc -w)
	start_daemon
	t0=$(date +%s%N)
	# shellcheck disable=SC2086 # word lists
	storm $NEW $DUPS
	diag "$label: the storm took $((($(date +%s%N) - t0) / 1000000)) ms"
	is "$(rc_summary)" "0 $all" "$label: $all helpers at once (72 blocks + 7 replays) next to memzoned: all exit 0 within ${HELPER_BOUND}s"

	# memzoned's moves completed after the release and before the helpers' last write: it moved while
	# they ran (the move it was in, and any it got the lock for between two helpers)
	inside=$(awk -v from="$released" 'NR > from { if (/ by=memzone /) last = NR; else if (/ by=memzoned / && $2 ~ /^online/) d[NR] = 1 }
		END { for (n in d) if (n + 0 < last) c++; print c + 0 }' "$T/proc/.kmodel.log")
	between=$(awk -v from="$released" 'NR > from && / by=memzone / { if (!first) first = NR; last = NR }
		NR > from && / by=memzoned / && $2 ~ /^online/ { d[NR] = 1 }
		END { for (n in d) if (n + 0 > first && n + 0 < last) c++; print c + 0 }' "$T/proc/.kmodel.log")
	if [ -z "$lockless" ]; then
		check "$label: memzoned moved blocks while the helpers ran ($inside, $between of them between two helpers' writes)" \
			[ "$inside" -ge 1 ]
	else
		diag "$label: memzoned moved $inside blocks while the helpers ran"
	fi

	# alive and responsive: the state file comes back after the storm
	rm -f "$T/run/memzone/state"
	waitfor "memzoned's next state file" test -s "$T/run/memzone/state"
	check "$label: memzoned is alive after the storm and still ticking (state file rewritten)" \
		bash -c "kill -0 $DPID && test -s '$T/run/memzone/state'"
	stop_daemon
	is "$drc" 0 "$label: memzoned stops with exit 0 (SIGTERM)"
	check "$label: no intent record left behind" test ! -e "$T/run/memzone/intent"
	if [ -z "$lockless" ]; then
		check "$label: each move of memzoned was whole: its offline, then its online, no write in between" moves_atomic
	fi

	for b in $NEW; do
		n=$(helper_onlines "$b")
		if [ "$n" -eq 1 ]; then
			once=$((once + 1))
		else
			bad="$bad memory$b($n)"
		fi
		[ "$(state "$b")" = online ] || offline="$offline memory$b"
		[ "$(first_writer "$b")" = by=memzone ] || first="$first memory$b"
	done
	if [ -z "$lockless" ]; then
		is "${bad:-none}" none "$label: every new block was onlined by a helper exactly once ($once blocks)"
	else
		# without the lock a replay may write a block its first helper is onlining at the same
		# time: at least once, and said how often
		check "$label: every new block was onlined by a helper${bad:+ (more than once:$bad)}" \
			bash -c "! echo '$bad' | grep -q '(0)'"
	fi
	is "${offline:-none}" none "$label: no block is offline at the end"
	is "${first:-none}" none "$label: each block's first online came from a helper, never from memzoned"
	if [ -z "$lockless" ]; then
		check "$label: the cap ($CAP%) held in every state the model recorded, memzoned's moves included" \
			kmodel_check $CAP
	elif ! kmodel_check $CAP >/dev/null; then
		diag "$label: without the lock the cap was crossed (not promised): $(kmodel_check $CAP | head -n1)"
	fi
	diag "$label: memzoned moved $(by_daemon '^online') blocks ($(grep -c 'moved from Movable' "$TMP/d.err") to kernel," \
		"$(grep -c 'moved from Normal' "$TMP/d.err") to Movable); zones of the new devices:" \
		"$(for i in 1 2 3; do printf '%s; ' "$(zone_of "$(dev first_block "$i")" "$(dev last_block "$i")")"; done)"
	[ -z "${KEEP:-}" ] || { rm -rf "${KEEP:?}/$label"; mkdir -p "$KEEP"; cp -r "$TMP" "$KEEP/$label"; }
}

# ======================================================================== storm 1: harvesting
storm_tree storm1 movable
storm_conf 60s "${HARVEST[@]}"
BEFORE_RELEASE=wait_mid_move run_storm "storm 1 (harvest)"
check "storm 1: no helper timed out on the lock (lock_timeout 60s)" [ "$(lock_warned)" -eq 0 ]
check "storm 1: memzoned harvested (Movable -> kernel moves)" [ "$(by_daemon '^online_kernel')" -ge 1 ]

# ======================================================================== storm 2: giving back
storm_tree storm2 kernel
storm_conf 60s "${GIVE_BACK[@]}"
BEFORE_RELEASE=wait_mid_move run_storm "storm 2 (give back)"
check "storm 2: no helper timed out on the lock (lock_timeout 60s)" [ "$(lock_warned)" -eq 0 ]
check "storm 2: memzoned gave blocks back (kernel -> Movable moves)" [ "$(by_daemon '^online_movable')" -ge 1 ]

# ======================================================================== storm 3: the lock times out
# Another process holds /run/memzone/lock from before the release until a helper has given up on it
# (lock_timeout 100ms); the helpers still waiting then, and those after, take it in turn.
storm_tree storm3 movable
storm_conf 100ms "${HARVEST[@]}"
mkdir -p "$T/run/memzone"
storm3_after() {
	waitfor "a helper giving up on the lock" some_warned
	touch "$TMP/unlock"
	wait "$HPID"
	HPID=''
}
BEFORE_RELEASE=hold_lock AFTER_RELEASE=storm3_after run_storm "storm 3 (lock timeout)" lockless
warned=$(lock_warned)
check "storm 3: $warned helpers gave up on the lock after lock_timeout and went ahead (warning logged)" [ "$warned" -ge 1 ]
check "storm 3: the warning names lock_timeout and says the block is onlined anyway" \
	grep -q 'lock_timeout); going ahead without it: new memory is never left offline' "$TMP"/err.*

# ======================================================================== races made deterministic
# Two races the storms above hit only now and then (both were bugs once).
DAEMON_DELAY=0

# A replayed add event for a block memzoned harvested: with already_online = fix the helper judged the
# block as if it were new, found that its device fits in Movable, and rezoned it back, undoing the move
# memzoned made for kernel pressure (which then harvested again: a ping-pong). While memzoned runs the
# helper leaves online blocks to it.
tree replay --blocks 12 --nodes 1 --hotplug dimm:8=movable
storm_conf 60s "${HARVEST[@]}"
start_daemon
harvested() { [ "$(by_daemon '^online_kernel')" -ge 1 ]; }
waitfor "a harvest" harvested
hb=$(awk '$2 == "online_kernel" && / by=memzoned / { sub(/^memory/, "", $1); print $1; exit }' "$T/proc/.kmodel.log")
mz online "memory$hb"
check "a replayed add event leaves memory$hb, harvested by memzoned, where memzoned put it ($(helper_onlines "$hb") helper writes)" \
	[ "$(helper_onlines "$hb")" -eq 0 ]
check "... and the helper says why: memzoned is running" grep -q 'memzoned is running: it moves online blocks' "$TMP/err"
stop_daemon

# memzoned decides a give-back on the sample of its tick, then waits for /run/memzone/lock; the helpers
# holding it fill Movable to the cap; memzoned must look again once it holds the lock
# (once, it did not: the offline of the kernel block alone took movable over the cap). Here a lock holder stands for the
# helpers' turn, and one helper that gave up on the lock (lock_timeout = 0) fills Movable to the cap
# while memzoned waits.
tree giveback --blocks 108 --nodes 1 --hotplug dimm:8=kernel --hotplug dimm:96
printf 'Node 0 KernelStack:     4096 kB\nNode 0 PageTables:      8192 kB\nNode 0 SUnreclaim:     20480 kB\n' \
	>>"$T/sys/devices/system/node/node0/meminfo"
storm_conf 60s "${GIVE_BACK[@]}" "[source dimm]" "whole_device = no"
sed 's/^lock_timeout = .*/lock_timeout = 0/' "$T/etc/memzone.conf" >"$T/etc/helper.conf"
mkdir -p "$T/run/memzone"
hold_lock
start_daemon
# memzoned blocked on the lock (/proc/locks lists a waiter, "->", with its pid): the only thing it
# takes the lock for here is its first give-back, decided on the sample of that tick
waiting() { grep -q "^[0-9]*: -> FLOCK .* $DPID " /proc/locks; }
waitfor "memzoned waiting for the lock" waiting
# what fits as the policy counts it: movable present (or managed if larger) against kernel managed
read -r K M < <(awk '/^Node/ { z = $4 } $1 == "managed" { if (z == "Movable") mm += $2; else if (z != "Device") k += $2 }
	$1 == "present" && z == "Movable" { mp += $2 } END { print k, (mp > mm ? mp : mm) }' "$T/proc/zoneinfo")
fit=$(((CAP * K / 100 - M) / 32768)) # 128 MiB blocks of 4 KiB pages
first=$(dev first_block 1)
# shellcheck disable=SC2046 # block names
KMODEL_ROOT=$T LD_PRELOAD=$KMODEL "$MEMZONE" online $(blocks "$first" $((first + fit - 1))) --root "$T" \
	--config "$T/etc/helper.conf" --allow-insecure-config --log stderr 2>"$TMP/err"
rc=$?
check "the helper onlined the $fit blocks that fit under $CAP% in Movable, without the lock" \
	[ "$rc" -eq 0 -a "$(awk '$2 == "online_movable" && / by=memzone /' "$T/proc/.kmodel.log" | wc -l)" -eq "$fit" ]
touch "$TMP/unlock"
wait "$HPID"
HPID=''
# once it holds the lock, memzoned looks at the zones again: no room is left under the cap
looked_again() { grep -q "grow-movable not moved, checked again under the lock: .* would exceed $CAP% of kernel" "$TMP/d.err"; }
waitfor "memzoned to look again under the lock" looked_again
check "memzoned's give-back keeps movable within $CAP% of kernel when Movable filled up while it waited for the lock" \
	kmodel_check $CAP
is "$(by_daemon '^online_movable')" 0 "memzoned gave nothing back: Movable was full when it held the lock"
stop_daemon

done_testing
