#!/bin/bash
# test-fault-online.sh - the fault matrix of the udev helper: `memzone online` with one fault injected into
# each state write it makes (online_movable / online_kernel of a new block; offline and online_movable of
# an auto-onlined block it rezones), through tests/shim/faults.so over the kernel model. Each case is one
# TAP point and one row of tests/test-fault-online.matrix (printed by `make check`, see
# tests/print-fault-matrix.sh): the outcome observed (final state and zone, exit status, the retries the
# shim logged, what the helper said) must be the expected one, and every block that was online before
# must be online after. The last case is memzoned's: cycles that find a block stranded offline.
# shellcheck disable=SC2154 # top_srcdir comes from make check's environment
# The lib's scratch dir goes in the build dir. (A run here once lost its /tmp/memzone-online.* dir
# mid-run: that was this test's own watchdog subshell running the lib's EXIT trap, see mzf.)
export TMPDIR="$top_builddir/tests"
. "$top_srcdir/tests/test-online-lib.sh"

FAULTS="$top_builddir/tests/shim/faults.so"
[ -f "$FAULTS" ] || { echo "Bail out! $FAULTS not built"; exit 1; }
MATRIX="$top_builddir/tests/test-fault-online.matrix"
: >"$MATRIX" # rows of an earlier run go

# 40 boot blocks (5G kernel: the caps never get in the way), 16 new one-block DIMMs (offline) and 20
# one-block DIMMs the kernel onlined in Normal; each case takes the next block of its kind.
args=(--blocks 76 --nodes 1)
for _ in $(seq 16); do args+=(--hotplug dimm:1); done
for _ in $(seq 20); do args+=(--hotplug dimm:1=kernel); done
tree faults "${args[@]}"
NEW=$(dev first_block 0)
OLD=$(dev first_block 16)
NBLOCKS=76

# online_set : "ID ID ..." of the blocks online now
online_set() {
	local i
	for ((i = 0; i < NBLOCKS; i++)); do [ "$(state "$i" 2>/dev/null)" = online ] && printf '%s ' "$i"; done
}
# none_left_offline BEFORE : every block of BEFORE is online now (or gone)
none_left_offline() {
	local i
	for i in $1; do
		[ -e "$T/$MEM/memory$i/state" ] || continue
		[ "$(state "$i")" = online ] || return 1
	done
}
# writes BLOCK WORD : the writes of WORD to BLOCK the shim saw in this case
writes() { grep -c "^memory$1 $2 " "$TMP/flog" 2>/dev/null; }
# final BLOCK : its zone when online, else its state
final() { if [ "$(state "$1")" = online ]; then zones "$1"; else state "$1"; fi; }

# mzf BLOCK RULE : memzone online BLOCK with RULE in the fault file; rc, $TMP/out, $TMP/err as mz does.
# A "hang" of an online write: once the shim logged the write, the helper is sent SIGTERM (nothing in
# the helper bounds an online write, so only a signal ends it; udev kills its worker at the event
# timeout). A hanging offline is left to the helper's offline_timeout, with a 60 s bound.
# The bound is timeout(1): it passes the SIGTERM on and exits with the helper's status (143 when the
# signal ended it). No watchdog subshell: one killed as soon as a fast helper was done could still be
# starting, and the SIGTERM then ran the lib's EXIT trap in it (rm -rf $TMP, tree and all).
mzf() {
	local b=$1 pid i
	printf '%s\n' "$2" >"$TMP/faultrules"
	rm -f "$TMP/flog"
	KMODEL_ROOT=$T MZ_FAULTS=$TMP/faultrules MZ_FAULTS_LOG=$TMP/flog LD_PRELOAD="$FAULTS $KMODEL" \
		timeout -s KILL 60 "$MEMZONE" online "memory$b" --root "$T" --config "$T/etc/memzone.conf" \
		--allow-insecure-config --log stderr >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	killed=no
	case $2 in *' online'*' hang'*)
		for i in $(seq 600); do grep -q ' hang$' "$TMP/flog" 2>/dev/null && break; sleep 0.05; done
		if grep -q ' hang$' "$TMP/flog" 2>/dev/null && kill -TERM "$pid" 2>/dev/null; then killed=yes; fi ;;
	esac
	wait "$pid"
	rc=$?
}

# row AREA OP FAULT EXPECTED OBSERVED SAFE(0|1) [TODO-REASON]: a TODO row is a known problem, reported
# in the matrix and as a TAP TODO point (an expected failure) while it is not fixed; once it is, the
# row passes and the matrix says the note can go
row() {
	local safe=yes desc
	[ "$6" = 0 ] || safe=no
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$safe" "${7:-}" >>"$MATRIX"
	desc="$1 $2 $3: $5; no online block left offline: $safe"
	if [ "$4" = "$5" ] && [ "$safe" = yes ]; then
		ok 0 "$desc"
	elif [ -n "${7:-}" ]; then
		tap_n=$((tap_n + 1))
		echo "not ok $tap_n - $desc # TODO $7"
	else
		ok 1 "$desc"
	fi
	[ "$4" = "$5" ] || diag "  expected: $4"
	[ "$4" = "$5" ] || show_err
	# what a CI log needs to tell a vanished tree from a wrong outcome
	if [ "$4" != "$5" ] || [ "$safe" != yes ]; then
		[ -d "$T/$MEM" ] || diag "  the fixture tree $T is gone"
		diag "  memory$b: state '$(cat "$T/$MEM/memory$b/state" 2>&1)', valid_zones '$(cat "$T/$MEM/memory$b/valid_zones" 2>&1)', exit $rc; faults.so log: $(tr '\n' ';' <"$TMP/flog" 2>&1)"
	fi
}

# ---- a new block: the write that onlines it
# expected outcome per fault: EINVAL is how the kernel refuses a zone, so the other zone is tried;
# EINTR is retried; ENOENT means the block was removed (udev "remove" follows): skipped; any other
# error leaves the block offline with exit 1 (the helper retries only EINTR, unlike memzoned, which also
# retries EAGAIN); a hang lasts until the helper is killed.
b=$NEW
for word in online_movable online_kernel; do
	if [ $word = online_movable ]; then
		printf '[online]\ndefault_zone = movable\n' | conf
		want=Movable other=Normal
	else
		printf '[online]\ndefault_zone = kernel\n' | conf
		want=Normal other=Movable
	fi
	for fault in EBUSY EINVAL EINTR EAGAIN ENOENT ENOMEM short hang; do
		case $fault in
		EINVAL) exp="fallback, online $other (exit 0)" ;;
		EINTR) exp="retry, online $want (exit 0)" ;;
		ENOENT) exp="skip, stays offline (exit 0)" ;;
		hang) exp="hangs until killed, stays offline" ;;
		*) exp="fail, stays offline (exit 1)" ;;
		esac
		before=$(online_set)
		mzf "$b" "memory$b $word $fault 1"
		got=$(final "$b")
		if [ "$killed" = yes ]; then obs="hangs until killed, stays $got"
		elif [ "$got" = "$want" ] && [ "$(writes "$b" "$word")" -gt 1 ]; then obs="retry, online $got (exit $rc)"
		elif [ "$got" = "$want" ]; then obs="online $got (exit $rc)"
		elif [ "$got" = "$other" ]; then obs="fallback, online $got (exit $rc)"
		elif [ "$rc" = 0 ]; then obs="skip, stays $got (exit $rc)"
		else obs="fail, stays $got (exit $rc)"; fi
		none_left_offline "$before"
		row "helper: new block" "write $word" "$fault" "$exp" "$obs" $?
		b=$((b + 1))
	done
done

# ---- an auto-onlined block in Normal, rezoned to Movable (already_online = fix): offline, then online
# expected (memzoned's move, actuator.h): a failed offline leaves the block online where it was (ENOENT:
# taken as removed, skipped); a hanging offline is interrupted at offline_timeout (an EINTR that is not
# the timer's is a refusal like any other); a transient EINTR/EAGAIN of online_movable is retried; a
# refused online_movable puts it back in Normal.
printf '[rebalance]\noffline_timeout = 200ms\n' | conf
b=$OLD
for fault in EBUSY EINVAL EINTR EAGAIN ENOENT ENOMEM short hang; do
	case $fault in
	ENOENT) exp="skip, stays Normal (exit 0)" ;;
	hang) exp="timeout, stays Normal (exit 1)" ;;
	*) exp="refused, stays Normal (exit 1)" ;;
	esac
	before=$(online_set)
	mzf "$b" "memory$b offline $fault"
	got=$(final "$b")
	if [ "$got" = Movable ]; then obs="rezoned to Movable (exit $rc)"
	elif [ "$got" != Normal ]; then obs="left $got (exit $rc)"
	elif in_err "did not finish within"; then obs="timeout, stays Normal (exit $rc)"
	elif [ "$rc" = 0 ]; then obs="skip, stays Normal (exit $rc)"
	else obs="refused, stays Normal (exit $rc)"; fi
	none_left_offline "$before"
	row "helper: rezone" "write offline" "$fault" "$exp" "$obs" $?
	b=$((b + 1))
done
for fault in EBUSY EINVAL EINTR EAGAIN ENOENT ENOMEM short hang; do
	todo=
	case $fault in
	EINTR | EAGAIN) exp="retry, rezoned to Movable (exit 0)" ;;
	# killed there (udev's event timeout), the block is offline with the rezone's intent record: the
	# next helper run, whatever block it is for, completes the move under the lock
	hang) exp="hangs until killed (offline, record kept); the next helper run completes the move: Movable" ;;
	*) exp="rollback to Normal (exit 1)" ;;
	esac
	before=$(online_set)
	mzf "$b" "memory$b online_movable $fault 1"
	got=$(final "$b")
	if [ "$killed" = yes ]; then obs="hangs until killed, left $got"
	elif [ "$got" = Movable ] && [ "$(writes "$b" online_movable)" -gt 1 ]; then obs="retry, rezoned to Movable (exit $rc)"
	elif [ "$got" = Movable ]; then obs="rezoned to Movable (exit $rc)"
	elif [ "$got" = Normal ] && in_err "back online in Normal"; then obs="rollback to Normal (exit $rc)"
	else obs="left $got (exit $rc)"; fi
	if [ "$killed" = yes ]; then
		killed_state="$got, record $([ -e "$T/run/memzone/intent" ] && echo kept || echo none)"
		mzf 0 "" # a helper for boot memory (which it leaves alone) finds the record first
		obs="hangs until killed ($killed_state); the next helper run completes the move: $(final "$b")"
		[ -e "$T/run/memzone/intent" ] && obs="$obs, record left behind"
	fi
	none_left_offline "$before"
	row "helper: rezone" "write online_movable" "$fault" "$exp" "$obs" $? "$todo"
	b=$((b + 1))
done

# ---- the rezone is memzoned's move (actuator.h), with its two promises the helper's own copy lacked:
# an offline the kernel carried out but reported failed goes on to an online in any zone the kernel
# takes (not only the old one); a block neither online nor offline after a failed offline
# (going-offline, or its state unreadable) keeps the intent record for the next helper or memzoned.
rm -f "$T/run/memzone/intent"
before=$(online_set)
mzf "$b" "memory$b offline then:EBUSY
memory$b online_movable EINVAL
memory$b online_kernel EINVAL"
got=$(final "$b")
if [ "$got" != offline ] && [ "$(writes "$b" online)" -ge 1 ]; then obs="offline anyway; both sides refused, online (any zone): $got (exit $rc)"
else obs="left $got (exit $rc)"; fi
none_left_offline "$before"
row "helper: rezone" "write offline" "then:EBUSY, both zones refused" \
	"offline anyway; both sides refused, online (any zone): Normal (exit 1)" "$obs" $?
b=$((b + 1))
mzf "$b" "memory$b offline then:EBUSY"
obs="left $(final "$b") (exit $rc)"
[ "$(final "$b")" = Movable ] && obs="offline anyway: rezoned to Movable (exit $rc)"
row "helper: rezone" "write offline" "then:EBUSY" "offline anyway: rezoned to Movable (exit 0)" "$obs" 0
b=$((b + 1))

# mzstop BLOCK EDIT : memzone online BLOCK, stopped (SIGSTOP) at its offline write while the shell
# command EDIT changes the block under it; then continued and waited for (rc)
mzstop() {
	local b=$1 pid i
	printf 'memory%s offline stop 1\n' "$b" >"$TMP/faultrules"
	rm -f "$TMP/flog"
	KMODEL_ROOT=$T MZ_FAULTS=$TMP/faultrules MZ_FAULTS_LOG=$TMP/flog LD_PRELOAD="$FAULTS $KMODEL" \
		"$MEMZONE" online "memory$b" --root "$T" --config "$T/etc/memzone.conf" \
		--allow-insecure-config --log stderr >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	for i in $(seq 600); do
		[ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = T ] && break
		sleep 0.05
	done
	eval "$2"
	kill -CONT "$pid"
	wait "$pid"
	rc=$?
}
record_of() { [ -e "$T/run/memzone/intent" ] && grep -q "^block=$1\$" "$T/run/memzone/intent" && echo kept || echo none; }
S="$T/$MEM/memory$b/state"
mzstop "$b" "printf 'going-offline\\n' >'$S'"
obs="$(state "$b"), record $(record_of "$b") (exit $rc)"
in_err "LEFT going-offline" && obs="stranded: $obs"
row "helper: rezone" "write offline" "block going-offline after" "stranded: going-offline, record kept (exit 1)" "$obs" 0
printf 'online\n' >"$S"
rm -f "$T/run/memzone/intent"
b=$((b + 1))
S="$T/$MEM/memory$b/state"
mzstop "$b" "rm -f '$S' && mkdir '$S'"
obs="state $([ -d "$S" ] && echo unreadable || state "$b"), record $(record_of "$b") (exit $rc)"
in_err "LEFT UNREADABLE" && obs="stranded: $obs"
row "helper: rezone" "write offline" "state unreadable after" "stranded: state unreadable, record kept (exit 1)" "$obs" 0
rmdir "$S" && printf 'online\n' >"$S"
rm -f "$T/run/memzone/intent"
b=$((b + 1))

# ---- the helper and an intent record someone else left (memzoned's or a killed helper's). Under the
# lock it completes the move of a process that is gone; a live writer's record is that writer's; and
# while any record is pending it rezones nothing (its own record would replace that one).
tree records --blocks 18 --nodes 1 --hotplug dimm:1=kernel --hotplug dimm:1=kernel
b=$(dev first_block 0)
record() { mkdir -p "$T/run/memzone" && printf 'version=1\nblock=%s\nfrom=Normal\nto=Movable\npid=%s\n' "$1" "$2" >"$T/run/memzone/intent"; }
sleep 0 & gone=$!
wait "$gone"
write_state "$b" offline
record "$b" $$
mzf 0 ""
check "a live process's record: the helper leaves its block offline and the record in place" \
	[ "$(final "$b")" = offline -a -e "$T/run/memzone/intent" ]
mzf $((b + 1)) ""
check "... and, while it is pending, rezones nothing (memory$((b + 1)) stays in Normal, the log says why)" \
	[ "$(final $((b + 1)))" = Normal ] && in_err "an interrupted move is still pending"
record "$b" "$gone"
mzf 0 ""
check "a record of a process that is gone: the next helper completes the move (memory$b: $(final "$b"))" \
	[ "$(final "$b")" = Movable -a ! -e "$T/run/memzone/intent" ]
check "... and says so, naming the record" in_err "$T/run/memzone/intent: memory$b of the interrupted move"

# ---- memzoned: a block every zone refuses after its offline (stranded, the intent record kept), for
# two cycles; the third finds the kernel willing again. Wanted: the record survives until the block is
# online again, so that third cycle (or a restart) brings it back. One `memzone rebalance --once` per
# cycle (memzoned's cycle, recovery first); the fault counts start over in each process.
tree cycle --blocks 16 --nodes 1 --hotplug dimm:4=movable --hotplug dimm:4=movable
printf '[rebalance]\nheadroom = 760M\nrelease_headroom = 4G\ncooldown = 0\n' | conf
before=$(online_set)
cycle() {
	printf '%s' "$1" >"$TMP/faultrules"
	KMODEL_ROOT=$T MZ_FAULTS=$TMP/faultrules LD_PRELOAD="$FAULTS $KMODEL" timeout -s KILL 60 "$MEMZONE" rebalance --once \
		--root "$T" --config "$T/etc/memzone.conf" --allow-insecure-config --log stderr >>"$TMP/out" 2>>"$TMP/err"
}
: >"$TMP/out"
: >"$TMP/err"
refuse='memory15 online_kernel EINVAL
memory15 online_movable EINVAL
memory15 online EINVAL
'
cycle "$refuse"
first="$(final 15), record $([ -e "$T/run/memzone/intent" ] && echo kept || echo gone)"
cycle "$refuse"
second="record $([ -e "$T/run/memzone/intent" ] && echo kept || echo lost)"
cycle ""
obs="stranded: $first; next cycle: $second; once the kernel accepts: $(final 15)"
none_left_offline "$before"
row "memzoned: cycles" "write online_*" "EINVAL, 2 cycles" \
	"stranded: offline, record kept; next cycle: record kept; once the kernel accepts: Normal" "$obs" $?

done_testing
