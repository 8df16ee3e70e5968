#!/bin/bash
# test-memzoned.sh - memzoned on fixture trees: moves, failures and backoff, bounded offlines, signals,
# reload, crash recovery, the lock, observe-only, sd_notify. TAP.
#
# Trees come from tests/fixtures/mktree.py; state writes go through tests/shim/faults.so (fault
# rules in $TMP/faults, see the file) and then tests/shim/kmodel.so (the kernel's state machine:
# valid_zones and proc/zoneinfo follow every move). Nothing touches this machine's /sys.
# Waits are bounded polls (30 s), never timing thresholds.
set -u

: "${top_srcdir:?run through make check}" "${top_builddir:?}" "${MEMZONED:?}" "${MEMZONE:?}"
. "$top_srcdir/tests/test-shim-lib.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/memzoned-test.XXXXXX")
DPID='' NPID='' HPID=''
cleanup() {
	# only the test's own shell: a `( ... exec memzoned ) &` child signalled before its exec runs
	# this trap too (see tests/test-online-lib.sh), and must not kill or delete anything
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
	[ -n "$NPID" ] && kill "$NPID" 2>/dev/null
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
MEM=sys/devices/system/memory

# ---- a notify socket that logs every sd_notify message, one per line
python3 - "$TMP/notify" "$TMP/notify.log" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], 'a', buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode(errors='replace').replace('\n', ' | ') + '\n')
EOF
NPID=$!

# tree: 8 boot blocks (0-7), two 4-block DIMMs online movable (8-11, 12-15); kernel free ~705 MiB
tree() {
	T=$TMP/tree
	rm -rf "$T"
	python3 "$MKTREE" "$T" --blocks 16 --nodes 1 --hotplug dimm:4=movable --hotplug dimm:4=movable >/dev/null ||
		{ echo "Bail out! mktree.py failed"; exit 1; }
	mkdir -p "$T/etc"
	: >"$TMP/faults"
	rm -f "$TMP/flog"
}
# conf: stdin is the policy. Default test policy: fast ticks, a floor (high + 760M) above the tree's
# kernel free, so one block is harvested and then kernel free (~833 MiB) is above it; never release.
BASECONF='[rebalance]
interval = 100ms
headroom = 760M
release_headroom = 4G
moves_per_minute = 60
trend_window = 2s
backoff_initial = 10m'
conf() { { echo "$BASECONF"; cat; } >"$T/etc/memzone.conf"; }
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
		export NOTIFY_SOCKET="$TMP/notify" KMODEL_ROOT="$T" MZ_FAULTS="$TMP/faults" MZ_FAULTS_LOG="$TMP/flog"
		export WATCHDOG_PID=$BASHPID
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
moves_ok() { grep -c ' online_kernel ' "$T/proc/.kmodel.log" 2>/dev/null || echo 0; }
statekey() { sed -n "s/^$1=//p" "$T/run/memzone/state" 2>/dev/null | head -n1; }
moved() { [ "$(statekey moves_to_kernel)" = "${1:-1}" ]; }      # (waitfor needs a command, not a value)
kmodel_moved() { [ "$(moves_ok)" -ge 1 ]; }

# ---- command line
"$MEMZONED" --help >/dev/null
check "--help exits 0" [ $? -eq 0 ]
"$MEMZONED" --bogus >/dev/null 2>&1
check "an unknown option exits 2" [ $? -eq 2 ]
"$MEMZONED" --version | grep -q '^memzoned '
check "--version names memzoned" [ $? -eq 0 ]
tree
echo '[rebalance]
interval = fast' >"$T/etc/memzone.conf"
"$MEMZONED" --root "$T" --config "$T/etc/memzone.conf" --allow-insecure-config --log stderr 2>"$TMP/err"
rc=$?
check "a bad config at start exits 3 and names file:line ($(head -c 120 "$TMP/err"))" \
	[ $rc -eq 3 -a -n "$(grep -F "$T/etc/memzone.conf:2" "$TMP/err")" ]

# ---- pressure -> one block harvested, then hold
tree
conf </dev/null
start WATCHDOG_USEC=400000
waitfor "a move" moved 1
check "kernel free under the floor: one Movable block is moved to a kernel zone" [ "$(moves_ok)" -eq 1 ]
check "the highest block of a wholly movable DIMM was chosen (memory15 now Normal)" [ "$(zone 15)" = Normal ]
check "the move is logged with its reason" logged 'memory15 moved from Movable to Normal.*free-low\|memory15 moved from Movable to Normal.*grow-kernel'
waitfor "a few more ticks" grep -q 'node=0 hold' "$T/run/memzone/state"
check "then it holds: kernel free is above the floor again" [ "$(moves_ok)" -eq 1 ]
check "READY=1 reached systemd" grep -q 'READY=1' "$TMP/notify.log"
check "STATUS= tells the verdict" grep -q 'STATUS=.*node 0' "$TMP/notify.log"
check "the watchdog is petted (WATCHDOG_USEC set)" grep -q 'WATCHDOG=1' "$TMP/notify.log"
LOCK=$T/run/memzone/memzoned.lock
check "memzoned.lock held, its pid in it" [ "$(cat "$LOCK" 2>/dev/null)" = "$DPID" ] && ! flock -n -s "$LOCK" true
start_again() { "$MEMZONED" --root "$T" --config "$T/etc/memzone.conf" --allow-insecure-config --log stderr 2>"$TMP/err2"; }
start_again
check "a second memzoned on the same tree refuses to start" [ $? -eq 1 -a -n "$(grep 'already running' "$TMP/err2")" ]
stop TERM
check "SIGTERM: clean exit 0" [ "$drc" -eq 0 ]
check "STOPPING=1 reached systemd" grep -q 'STOPPING=1' "$TMP/notify.log"
check "memzoned.lock let go at exit, no pid left in it" flock -n -s "$LOCK" true && [ ! -s "$LOCK" ]
# a SIGKILLed memzoned cleans nothing up: the kernel drops its flock, and the next one starts
start
waitfor "memzoned's lock" grep -qx "$DPID" "$LOCK"
killed=$DPID
stop KILL
check "SIGKILLed: its pid stays in memzoned.lock, the lock is free" grep -qx "$killed" "$LOCK" && flock -n -s "$LOCK" true
start
waitfor "a new memzoned's lock" grep -qx "$DPID" "$LOCK"
check "a new memzoned after a SIGKILLed one starts" kill -0 "$DPID"
stop TERM

# ---- an offline refused with EBUSY: rollback, backoff, the next block
tree
conf </dev/null
echo 'memory15 offline EBUSY' >"$TMP/faults"
start
waitfor "a move" moved 1
stop
check "EBUSY: memory15 stays online in Movable" [ "$(state 15) $(zone 15)" = "online Movable" ]
check "... the failure is counted and logged" [ "$(statekey failures)" = 1 -a -n "$(grep 'offline of memory15 refused: Device or resource busy' "$TMP/d.err")" ]
check "... memory15 backs off (state file lists it)" grep -q '^backoff=15 ' "$T/run/memzone/state"
check "... the next block was moved instead (memory14 Normal)" [ "$(zone 14)" = Normal ]
check "... never offline afterwards: every DIMM block is online" [ -z "$(grep -l offline "$T"/$MEM/memory{8..15}/state)" ]

# ---- every candidate busy: backing off, tried again when the backoff is over
tree
printf '%s\n' "$BASECONF" | sed 's/^backoff_initial = 10m$/backoff_initial = 1s/' >"$T/etc/memzone.conf"
echo '* offline EBUSY' >"$TMP/faults"
start
twice() { [ "$(grep -c 'memory15 offline EBUSY' "$TMP/flog" 2>/dev/null)" -ge 2 ]; }
waitfor "a retry" twice
stop
check "all blocks busy: each backs off, and is tried again once its backoff is over" twice
check "... the backoff doubled (1s, then 2s)" grep -q 'memory15 backs off for 2s' "$TMP/d.err"

# ---- every fault of the shim on the offline: the block stays online where it was
for f in EINVAL EINTR EAGAIN ENOENT ENOMEM short; do
	tree
	conf </dev/null
	printf 'memory15 offline %s\n' "$f" >"$TMP/faults"
	start
	waitfor "a move" moved 1
	stop
	check "offline $f: memory15 online in Movable, backing off; memory14 moved" \
		[ "$(state 15) $(zone 15) $(zone 14)" = "online Movable Normal" -a -n "$(grep '^backoff=15 ' "$T/run/memzone/state")" ]
done

# ---- the kernel zone refused after the offline: rolled back to Movable
tree
conf </dev/null
echo 'memory15 online_kernel EINVAL' >"$TMP/faults"
start
waitfor "a move" moved 1
stop
check "online_kernel refused: memory15 rolled back to Movable, counted as a rollback" \
	[ "$(state 15) $(zone 15)" = "online Movable" -a "$(statekey rollbacks)" = 1 ]

# ---- an offline that never finishes: interrupted at offline_timeout; SIGTERM waits for it
tree
conf <<'EOF'
offline_timeout = 1500ms
EOF
echo '* offline hang' >"$TMP/faults"
start
waitfor "the offline to start" grep -q 'memory15 offline hang' "$TMP/flog"
stop TERM
check "SIGTERM during a hanging offline: exit 0 after the offline was interrupted" [ "$drc" -eq 0 ]
first_timeout=$(grep -n 'did not finish within 1500ms' "$TMP/d.err" | head -n1 | cut -d: -f1)
first_stop=$(grep -n 'stopping' "$TMP/d.err" | head -n1 | cut -d: -f1)
check "... the timeout ended the offline, then the signal was handled (log order)" \
	[ -n "$first_timeout" -a -n "$first_stop" ] && [ "${first_timeout:-0}" -lt "${first_stop:-0}" ]
check "... memory15 is online in Movable" [ "$(state 15) $(zone 15)" = "online Movable" ]
check "... no intent record left" [ ! -e "$T/run/memzone/intent" ]

# ---- SIGKILL in the middle of a move: the next start completes it
tree
conf </dev/null
echo 'memory15 online_kernel delay:20000' >"$TMP/faults"
start
waitfor "the online step" grep -q 'memory15 online_kernel delay' "$TMP/flog"
check "mid-move: memory15 is offline and the intent record names it" \
	[ "$(state 15)" = offline -a -n "$(grep '^block=15$' "$T/run/memzone/intent" 2>/dev/null)" ]
stop KILL
: >"$TMP/faults"
start
waitfor "recovery" [ ! -e "$T/run/memzone/intent" ]
waitfor "a tick" grep -q 'node=0' "$T/run/memzone/state"
stop
check "after SIGKILL and a restart memory15 is online again (completed: $(zone 15))" [ "$(state 15)" = online ]
check "... the recovery is logged" logged 'interrupted move Movable -> Normal was offline; completed'
check "... no DIMM block is offline" [ -z "$(grep -l offline "$T"/$MEM/memory{8..15}/state)" ]

# ---- the lock shared with the udev helper
tree
conf <<'EOF'
[online]
lock_timeout = 300ms
EOF
mkdir -p "$T/run/memzone"
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "w"); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2], "w").close(); time.sleep(60)' \
	"$T/run/memzone/lock" "$TMP/locked" &
LPID=$!
waitfor "the lock holder" [ -e "$TMP/locked" ]
start
waitfor "a postponed move" logged 'postponed: /run/memzone/lock'
check "while another process holds the lock nothing is written" [ ! -s "$T/proc/.kmodel.log" ]
kill "$LPID"
wait "$LPID" 2>/dev/null
waitfor "a move" moved 1
stop
check "once the lock is free the move happens" [ "$(zone 15)" = Normal ]

# ---- observe-only: decides and logs, writes nothing
tree
conf <<'EOF'
observe_only = yes
EOF
start
waitfor "an observed move" logged 'would move memory15'
stop
check "observe_only: 'would move memory15' logged, no state write at all" [ ! -s "$T/proc/.kmodel.log" ]
check "... and the state file says so" grep -q '^observe_only=1' "$T/run/memzone/state"

# ---- watchdog: a tick that can outlast WATCHDOG_USEC is clamped, with a warning naming both
tree
conf <<'EOF'
observe_only = yes
offline_timeout = 1h
[online]
lock_timeout = 60s
EOF
start WATCHDOG_USEC=60000000
waitfor "the watchdog warning" logged 'using moves_per_tick = 1, offline_timeout = 39s, lock_timeout = 15s'
stop
check "watchdog: offline_timeout = 1h and lock_timeout = 60s under WATCHDOG_USEC=60s are clamped, both values named" \
	logged 'offline_timeout = 1h + 5s) + lock_timeout = 1m = 3665s can outlast the watchdog (WATCHDOG_USEC = 1m)'
start
waitfor "an observed move" logged 'would move memory15'
stop
check "watchdog: no WATCHDOG_USEC, no clamp" bash -c "! grep -q 'outlast' '$TMP/d.err'"

# ---- SIGHUP: a bad config is refused and the old one kept; a good one is taken
tree
conf <<'EOF'
observe_only = yes
EOF
start
waitfor "running" logged 'started:'
echo '[rebalance]
observe_only = maybe' >"$T/etc/memzone.conf"
kill -HUP "$DPID"
waitfor "the refusal" logged 'new configuration is refused; keeping the old one'
waitfor "an observed move" logged 'would move memory15'
check "SIGHUP with a bad config: refused with file:line, still observe-only (nothing written)" \
	[ -n "$(grep -F "$T/etc/memzone.conf:2" "$TMP/d.err")" -a ! -s "$T/proc/.kmodel.log" ]
check "... RELOADING=1 then READY=1 told to systemd" grep -q 'RELOADING=1' "$TMP/notify.log"
conf </dev/null
kill -HUP "$DPID"
waitfor "the reload" logged 'configuration reloaded'
waitfor "a move" kmodel_moved
stop
check "SIGHUP with a good config: taken at once (observe_only off, memory15 moved)" [ "$(zone 15)" = Normal ]

# ---- metrics file
tree
conf <<'EOF'
metrics_file = /run/memzone/metrics.prom
EOF
start
waitfor "a move" moved 1
waitfor "the hold after it" grep -q '^memzone_rebalance_verdict{node="0",verdict="hold"} 1$' "$T/run/memzone/metrics.prom"
stop
check "metrics_file: Prometheus text with the verdict and the moves" \
	grep -q '^memzone_rebalance_moves_total{direction="to-kernel"} 1$' "$T/run/memzone/metrics.prom"

# ---- giving back: blocks whose kpageflags show slab pages are not offlined (the kernel refuses at once)
# tree: a 4-block DIMM online in Normal (8-11) besides the boot blocks; kernel free far above the
# release level, so memzoned wants to give blocks back at once. pages: BLOCK:FLAGBIT:COUNT...
kpages() {
	python3 - "$T/proc" "$@" <<'PY'
import struct, sys
d, specs = sys.argv[1], sys.argv[2:]
per = 32768
w = [0] * (24 * per)
for sp in specs:
    b, bit, n = (int(x) for x in sp.split(":"))
    for i in range(n):
        w[b * per + 100 + i] = 1 << bit
open(d + "/kpageflags", "wb").write(struct.pack("<%dQ" % len(w), *w))
open(d + "/kpagecount", "wb").write(bytes(8 * len(w)))
PY
}
givetree() { # givetree [DIMM_BLOCKS]
	T=$TMP/tree
	rm -rf "$T"
	python3 "$MKTREE" "$T" --blocks $((4 + ${1:-4})) --nodes 1 --hotplug "dimm:${1:-4}=kernel" >/dev/null ||
		{ echo "Bail out! mktree.py failed"; exit 1; }
	mkdir -p "$T/etc"
	: >"$TMP/faults"
	# unmovable kernel memory (the trend needs it; the tree's meminfo has none)
	echo 'Node 0 SUnreclaim:       1024 kB' >>"$T/sys/devices/system/node/node0/meminfo"
	printf '[rebalance]\ninterval = 100ms\nheadroom = 16M\nrelease_headroom = 64M\nrelease_delay = 0\ntrend_window = 1s\nbackoff_initial = 10m\n' \
		>"$T/etc/memzone.conf"
}
offline_writes() { grep -c ' offline' "$T/proc/.kmodel.log" 2>/dev/null || echo 0; }
givetree
kpages 8:7:3 9:7:1 10:26:2 11:32:1
start
waitfor "the give-back checks" grep -q '^pinned=11 ' "$T/run/memzone/state"
check "give-back, every block holds slab, page tables or reserved pages: none is offlined ($(offline_writes) offline writes)" \
	[ "$(offline_writes)" -eq 0 -a "$(zone 8)$(zone 9)$(zone 10)$(zone 11)" = NormalNormalNormalNormal ]
check "... each is logged once with its causes, and none backs off" \
	[ "$(grep -c 'memory8 stays in Normal: 3 slab pages, which the kernel cannot migrate' "$TMP/d.err")" -eq 1 \
	  -a -n "$(grep 'memory10 stays in Normal: 2 page-table pages' "$TMP/d.err")" \
	  -a -n "$(grep 'memory11 stays in Normal: 1 reserved page,' "$TMP/d.err")" \
	  -a "$(grep -c '^backoff=' "$T/run/memzone/state")" -eq 0 ]
check "... the state file lists each as pinned, with its causes" \
	[ -n "$(grep '^pinned=8 [0-9]* 3 0 0 0 -$' "$T/run/memzone/state")" -a -n "$(grep '^pinned=10 [0-9]* 0 2 0 0 -$' "$T/run/memzone/state")" \
	  -a -n "$(grep '^pinned=11 [0-9]* 0 0 1 0 -$' "$T/run/memzone/state")" -a -z "$(grep ' to-movable failed ' "$T/run/memzone/state")" ]
"$MEMZONE" status --root "$T" --blocks >"$TMP/out" 2>&1
check "status --blocks names each pinned block and its cause" \
	[ -n "$(grep -E '^ +pinned: memory8 since .*: 3 slab pages$' "$TMP/out")" -a -n "$(grep -E 'online \(pinned\) +10 ' "$TMP/out")" ]
"$MEMZONE" status --root "$T" --json --blocks >"$TMP/out" 2>"$TMP/err"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); p={x["block"]: x for x in d["rebalancer"]["state"]["pinned"]}
assert p[10]["page_table"] == 2 and p[10]["slab"] == 0 and p[10]["refused"] is None and p[10]["since"] > 0, p
b=[x for x in d["blocks"] if x["first_block"] == 11][0]
assert b["last_block"] == 11 and b["pinned"]["reserved"] == 1, b' "$TMP/out" 2>"$TMP/pyerr"
check "status --json: rebalancer.state.pinned[] and the block's own pinned object ($(head -c 200 "$TMP/pyerr"))" [ $? -eq 0 ]
"$MEMZONE" status --root "$T" --prometheus >"$TMP/out" 2>&1
check "status --prometheus: pinned pages by cause" grep -q '^memzone_pinned_pages{block="10",cause="page_table"} 2$' "$TMP/out"
kpages 9:7:1 10:26:2 11:32:1 # memory8's slab pages are freed: the next tick sees it (backoff_initial is 10m)
waitfor "memory8 given back" grep -q 'memory8 moved from Normal to Movable' "$TMP/d.err"
waitfor "memory8 off the pinned list" eval '! grep -q "^pinned=8 " "$T/run/memzone/state"'
stop
check "a pinned block whose pages free up is given back at the next ticks, without a backoff to wait out ($(zone 8), $(offline_writes) offline writes)" \
	[ "$(zone 8)" = Movable -a -n "$(grep 'memory8 holds no slab, page-table or reserved page any more' "$TMP/d.err")" \
	  -a "$(offline_writes)" -eq 1 -a -z "$(grep '^pinned=8 ' "$T/run/memzone/state")" ]
# more candidates than memzoned counts in one scan (8), every one pinned: the next scans count the
# ones not listed yet instead of offlining a block whose pages nobody looked at
givetree 12
kpages 8:7:1 9:7:1 10:7:1 11:7:1 12:7:1 13:7:1 14:7:1 15:7:1 16:7:1 17:7:1 18:7:1 19:7:1
start
waitfor "all twelve listed" eval '[ "$(grep -c "^pinned=" "$T/run/memzone/state")" -eq 12 ]'
stop
check "12 pinned candidates, 8 counted per scan: all listed as pinned within a few ticks, none offlined ($(offline_writes) offline writes)" \
	[ "$(offline_writes)" -eq 0 -a "$(grep -c "^pinned=" "$T/run/memzone/state")" -eq 12 ]
givetree
kpages 8:7:1 9:4:5 10:7:1 11:26:1
start
waitfor "a give-back" grep -q 'memory9 moved from Normal to Movable' "$TMP/d.err"
stop
check "give-back: the block without slab or page tables is offlined although it has more unmovable pages" \
	[ "$(zone 9)" = Movable -a "$(offline_writes)" -eq 1 ]

# ---- the give-back's scan (every block read) runs without the lock; under it only the chosen block and
# its device are read again, and a block that changed meanwhile gives way to the next candidate
givetree
kpages 8:5:1 9:5:1 10:5:1 11:5:1 # alike (an LRU page each): the highest id, memory11, is picked first
mkdir -p "$T/run/memzone"
rm -f "$TMP/locked" "$TMP/release"
python3 -c 'import fcntl, os, sys, time
f = open(sys.argv[1], "w"); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]): time.sleep(0.02)' "$T/run/memzone/lock" "$TMP/locked" "$TMP/release" &
LPID=$!
waitfor "the lock holder" [ -e "$TMP/locked" ]
start
lock_waiter() { awk -v p="$DPID" '$2 == "->" && $6 == p { f = 1 } END { exit !f }' /proc/locks; }
waitfor "memzoned waiting for the lock" lock_waiter
echo Movable >"$T/$MEM/memory11/valid_zones" # someone moved it after the scan
touch "$TMP/release"
wait "$LPID" 2>/dev/null
waitfor "a give-back" grep -q 'memory10 moved from Normal to Movable' "$TMP/d.err"
stop
check "the scan ran before the lock: memory11, changed while memzoned waited, gave way to memory10" \
	[ "$(zone 10)" = Movable -a -n "$(grep '1 candidate changed since the scan; memory10 instead' "$TMP/d.err")" ]
check "... and memory11 was not written to" [ -z "$(grep '^memory11 ' "$T/proc/.kmodel.log")" ]

# ---- memzone rebalance --once: one cycle of the daemon, by hand
mz() { # mz ARGS...: memzone rebalance on $T through the shims; out in $TMP/out, rc in $mrc
	KMODEL_ROOT="$T" MZ_FAULTS="$TMP/faults" LD_PRELOAD="$FAULTS $KMODEL" "$MEMZONE" rebalance --root "$T" \
		--config "$T/etc/memzone.conf" --allow-insecure-config --log stderr "$@" >"$TMP/out" 2>"$TMP/err"
	mrc=$?
}
tree
conf </dev/null
mz
check "rebalance without --once is a usage error" [ "$mrc" -eq 2 ]
mz --once --dry-run
check "--dry-run: grow-kernel decided, memory15 named, nothing written" \
	[ "$mrc" -eq 0 -a -n "$(grep 'node 0: grow-kernel (free-low)' "$TMP/out")" -a -n "$(grep 'would move memory15' "$TMP/out")" -a ! -s "$T/proc/.kmodel.log" ]
mz --once --dry-run --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=d["nodes"][0]; m=d["moves"][0]
assert n["verdict"] == "grow-kernel" and n["reason"] == "free-low" and n["kernel_free"] > 0, n
assert m["block"] == 15 and m["result"] == "observed" and m["direction"] == "to-kernel", m' "$TMP/out" 2>"$TMP/pyerr"
check "--json: samples, verdict and the block that would move ($(head -c 200 "$TMP/pyerr"))" [ $? -eq 0 ]
mz --once
check "--once: memory15 moved to a kernel zone, the summary says so" \
	[ "$mrc" -eq 0 -a "$(zone 15)" = Normal -a -n "$(grep 'ok: memory15 moved from Movable to Normal' "$TMP/out")" ]
tree
conf </dev/null
echo 'memory15 offline EBUSY' >"$TMP/faults"
mz --once
check "--once with a refused offline: exit 1, memory15 still Movable, the reason printed" \
	[ "$mrc" -eq 1 -a "$(zone 15)" = Movable -a -n "$(grep 'failed: offline of memory15 refused' "$TMP/out")" ]
: >"$TMP/faults"
mkdir -p "$T/run/memzone"
echo $$ >"$T/run/memzone/memzoned.lock"
mz --once
check "--once runs when memzoned.lock names a live pid but nobody holds it (a killed memzoned's, reused)" \
	[ "$mrc" -eq 0 ]
sh -c 'exec 9>>"$1" && flock 9 && exec sleep 600' sh "$T/run/memzone/memzoned.lock" &
HPID=$!
waitfor "the lock held" eval '! flock -n -s "$T/run/memzone/memzoned.lock" true'
mz --once
check "--once refuses while memzoned runs (memzoned.lock held)" [ "$mrc" -eq 1 -a -n "$(grep 'is running' "$TMP/err")" ]
mz --once --dry-run
check "... --dry-run is still allowed" [ "$mrc" -eq 0 ]

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
