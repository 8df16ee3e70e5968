#!/bin/bash
# test-online.sh - `memzone online` through the real binary against fixture trees and the kernel model:
# name validation, every policy path, fallbacks, rezoning, config errors, the lock, auto-online.
# shellcheck disable=SC2154 # top_srcdir comes from make check's environment
. "$top_srcdir/tests/test-online-lib.sh"
need flock

# ---- names are validated before anything is opened
tree names --blocks 20 --nodes 1 --hotplug dimm:2
F=$(dev first_block 0)
mz online ../../etc/passwd
check "the refusal names the argument" in_err "'../../etc/passwd' is not a memory block name"
for bad in ../../etc/passwd memory memory-1 Memory1 "memory1/../../x" memory12345678901 memory4294967296 \
	"memory1 " " memory1" memory0x1 /sys/devices/system/memory/memory1 ""; do
	mz online "$bad"
	is "$rc" 2 "name '$bad' refused with exit 2"
done
mz online "memory$F" ../../etc/passwd
is "$rc" 2 "a bad name among good ones: exit 2"
is "$(state "$F")" offline "... and the good block was not touched"
mz online
is "$rc" 2 "no block: exit 2"
mz online --help
is "$rc" 0 "--help: exit 0"
check "--help documents the exit codes" grep -q "Exit status" "$TMP/out"
if strace -f -o "$TMP/trace" -e trace=%file true 2>/dev/null; then
	strace -f -o "$TMP/trace" -e trace=%file "$MEMZONE" online --root "$T" "memory$F" ../../etc/passwd \
		>/dev/null 2>&1
	# the loader opens libraries; nothing under the tree, nothing named passwd
	check "refused before any file access (strace)" bash -c "! grep -v execve '$TMP/trace' | grep -E '$T|passwd'"
else
	ok 0 "# SKIP strace cannot trace here"
fi

# ---- a DIMM on node 1 that fits the cap: movable, with every journal field
tree basic --blocks 40 --nodes 2 --hotplug dimm:4@1
F=$(dev first_block 0)
L=$(dev last_block 0)
mz online -v "memory$F"
is "$rc" 0 "first DIMM block: exit 0"
is "$(state "$F")" online "first DIMM block online"
is "$(zones "$F")" Movable "first DIMM block in Movable"
for f in MEMZONE_BLOCK=memory$F MEMZONE_NODE=1 MEMZONE_ZONE=Movable MEMZONE_SOURCE=dimm MEMZONE_DEVICE=PNP0C80:00 \
	MEMZONE_REASON=auto_within_ratio MEMZONE_ACTION=online_movable; do
	check "log field $f" in_err "$f"
done
check "the log line says why, with numbers" grep -qE "memory$F: online_movable \(node 1, dimm PNP0C80:00, 128M\): \
whole device PNP0C80:00 \(4 blocks\): node 1: movable 0B \+ 512M stays within 301% of boot kernel" "$TMP/err"
is "$(zone_of "$F" "$L")" Movable "the first block's event onlined the whole DIMM"
check "the rest follows the device" in_err "MEMZONE_REASON=whole_device"
is "$(grep -c "^memzone: memory[0-9]*: online_movable" "$TMP/err")" 4 "... one decision and log line per block"
is "$(for b in $(seq "$F" "$L"); do kmodel_count online "$b"; done | sort -u)" 1 "... one online write per block"
is "$(ls "$T/run/memzone/onlined")" "$(blocks $((F + 1)) "$L" | tr ' ' '\n' | sed '/^$/d;s/$/.Movable/' | sort)" \
	"... a marker for each block onlined ahead of its own event, named with its zone"
# what the udev rule tests: ATTR{state}=="online", TEST=="/run/memzone/onlined/$kernel.$attr{valid_zones}"
rule_skips() { [ "$(state "$1")" = online ] && [ -e "$T/run/memzone/onlined/memory$1.$(zones "$1")" ]; }
rule_runs() { ! rule_skips "$1"; }
all_skipped() { local b; for b in $(seq "$1" "$2"); do rule_skips "$b" || return 1; done; }
check "... the rule would skip each of their events" all_skipped $((F + 1)) "$L"
check "... and not the first block's" rule_runs "$F"
# shellcheck disable=SC2046 # one argument per block
mz online -v $(blocks $((F + 1)) "$L")
is "$rc" 0 "the other blocks' own events: exit 0"
is "$(for b in $(seq "$F" "$L"); do kmodel_count . "$b"; done | sort -u)" 1 "... nothing written"
check "... no decision made again" bash -c "! grep -q MEMZONE_ '$TMP/err'"
check "... said at debug level" in_err "already onlined with another block of its device"
is "$(ls -A "$T/run/memzone/onlined")" "" "... markers consumed"
mz online "memory$F"
is "$rc" 0 "again on an online block: exit 0"
is "$(kmodel_count . "$F")" 1 "... and nothing written"
check "... logged as already right" in_err "leave"

# ---- a block of the device that cannot be onlined: the first block's event still exits 0, the
# block gets no marker and its own event reports it
tree sweepfail --blocks 40 --nodes 1 --hotplug dimm:3
F=$(dev first_block 0)
echo none >"$T/$MEM/memory$((F + 1))/valid_zones"
mz online "memory$F"
is "$rc/$(state "$F")/$(state $((F + 1)))/$(state $((F + 2)))" 0/online/offline/online \
	"a device block the kernel offers no zone for: the others onlined, exit 0 for the named block"
check "... no marker for it" bash -c "! ls '$T/run/memzone/onlined' | grep -q '^memory$((F + 1))\.'"
mz online "memory$((F + 1))"
is "$rc/$(state $((F + 1)))" 1/offline "... its own event decides again and reports it (exit 1)"

# ---- a marker counts only while its block is online and for MZ_ONLINE_MARK_TTL_S
tree marks --blocks 40 --nodes 1 --hotplug dimm:2 --hotplug dimm:2
A=$(dev first_block 0) B=$(dev first_block 1)
mkdir -p "$T/run/memzone/onlined"
: >"$T/run/memzone/onlined/memory$A.Movable"
mz online "memory$A"
is "$rc/$(zone_of "$A" $((A + 1)))" 0/Movable "a marker of an offline block: the block is decided and onlined"
check "... logged as a decision" in_err "memory$A: online_movable"
check "... the marker of the offline block is dropped by the sweep" \
	test ! -e "$T/run/memzone/onlined/memory$A.Movable"
mz online "memory$B"
touch -d '-301 seconds' "$T/run/memzone/onlined/memory$((B + 1)).Movable"
printf '[online]\nalready_online = fix\n' | conf
mz online "memory$((B + 1))"
is "$rc" 0 "a marker older than 300 s: exit 0"
check "... the block is decided again (already right)" in_err "memory$((B + 1)): leave"
check "... and the stale marker is gone" test ! -e "$T/run/memzone/onlined/memory$((B + 1)).Movable"

# ---- the markers' lifecycle: the rule cannot read their age, so every sweep drops those that
# cannot stand for a decision (older than 300 s; block gone, offline or in another zone) and keeps
# only fresh markers of blocks online in the zone they name; a sweep renews the marker it writes
tree prune --blocks 48 --nodes 1 --hotplug dimm:4 --hotplug dimm:4 --hotplug dimm:2
A=$(dev first_block 0) B=$(dev first_block 1) C=$(dev first_block 2)
mz online "memory$A"
O=$T/run/memzone/onlined
is "$(ls "$O" | wc -l)" 3 "device 1 swept: 3 markers"
touch -d '-301 seconds' "$O/memory$((A + 1)).Movable"           # expired, block still right
echo offline >"$T/$MEM/memory$((A + 2))/state"                  # offline since (removal under way)
echo Normal >"$T/$MEM/memory$((A + 3))/valid_zones"            # in another zone since
: >"$O/memory999.Movable"                                       # its block is gone
: >"$O/memory$((A + 1)).Normal"                                 # names a zone the block is not in
: >"$O/junk"                                                    # not a marker
: >"$O/memory$A"                                                # the name before zones were in it
mkdir "$O/memory$((A + 1)).DMA"                                 # not a file
mz online "memory$B"
is "$rc/$(zone_of "$B" $((B + 3)))" 0/Movable "device 2: onlined by its first event"
is "$(ls "$O" | tr '\n' ' ')" "$(printf 'memory%s.Movable ' $((B + 1)) $((B + 2)) $((B + 3)))" \
	"device 2's sweep dropped every marker that cannot stand for a decision, kept its own"
touch -d '-100 seconds' "$O/memory$((B + 1)).Movable"
old=$(stat -c %Y "$O/memory$((B + 1)).Movable")
mz online "memory$C"
is "$(ls "$O" | wc -l)" 4 "a fresh marker of a block online in its zone survives the next sweep"
echo offline >"$T/$MEM/memory$((B + 1))/state"
check "an offline block with a marker: the rule would not skip its event" rule_runs $((B + 1))
echo offline >"$T/$MEM/memory$B/state"
mz online "memory$B"
is "$rc/$(zone_of "$B" $((B + 1)))" 0/Movable "device 2 offline again: its first event onlines it again"
check "... memory$((B + 1)) decided again by the sweep" in_err "memory$((B + 1)): online_movable"
new=$(stat -c %Y "$O/memory$((B + 1)).Movable" 2>/dev/null || echo 0)
check "... its marker renewed (mtime $old -> $new)" test "$new" -gt "$old"
# the case the zone in the name is for: a block swept and marked, removed and hot-added again
# within the TTL, onlined by the kernel itself (auto_online_blocks = online) in another zone
echo Normal >"$T/$MEM/memory$((B + 2))/valid_zones"
check "a re-added block the kernel onlined in another zone: the rule would not skip it" rule_runs $((B + 2))
printf '[online]\nalready_online = fix\n' | conf
mz online "memory$((B + 2))"
is "$rc/$(zones $((B + 2)))" 0/Movable "... its helper runs and moves it to the policy's zone"

# ---- a DIMM bigger than the cap: the first block decides for the whole device
tree cap --blocks 80 --nodes 1 --hotplug dimm:64
# the model's log has managed kernel memory, the basis of ratio_basis = current (boot: present pages)
printf '[online]\nratio_basis = current\n' | conf
F=$(dev first_block 0)
L=$(dev last_block 0)
for b in $(seq "$F" "$L"); do mz online "memory$b"; done
is "$(zone_of "$F" "$L")" Normal "64-block DIMM over the cap: all kernel, never half movable"
check "cap never crossed (whole device)" kmodel_check 301
tree cap2 --blocks 80 --nodes 1 --hotplug dimm:64
printf '[online]\nratio_basis = current\n[source dimm]\nwhole_device = no\n' | conf
mz online -v "memory$F"
check "the cap is named in the log" in_err "MEMZONE_REASON=ratio_cap_node"
for b in $(seq $((F + 1)) "$L"); do mz online -v "memory$b"; done
is "$(zone_of "$F" "$L")" "Movable Normal" "whole_device = no: movable up to the cap, kernel after"
check "cap never crossed (per block)" kmodel_check 301

# ---- source rules
# daxdev NAME UUID: the dax device NAME under an nvdimm region, its nd device with UUID (sysfs layout)
daxdev() {
	mkdir -p "$T/sys/devices/ndbus0/region0/$1/$1" "$T/sys/bus/dax/devices"
	echo "$2" >"$T/sys/devices/ndbus0/region0/$1/uuid"
	ln -sfn "../../../devices/ndbus0/region0/$1/$1" "$T/sys/bus/dax/devices/$1"
}
# daxconf FILE UUID: a daxctl config naming UUID in section [reconfigure-device FILE]
daxconf() {
	mkdir -p "$T/etc/daxctl.conf.d"
	printf '# daxctl\n[reconfigure-device %s]\nnvdimm.uuid = %s\nmode = system-ram\nonline = true\nmovable = true\n' "$1" "$2" \
		>"$T/etc/daxctl.conf.d/$1.conf"
}
U1=ed93e918-e165-49d8-921d-383d7b9660c5 U2=0b2c5a3e-8c6e-4f8e-9d7c-2f1e0c4a9b11
tree src --blocks 40 --nodes 1 --hotplug dimm:2 --hotplug virtio_mem:2 --hotplug kmem:2 --hotplug other:2
D=$(dev first_block 0) V=$(dev first_block 1) K=$(dev first_block 2) O=$(dev first_block 3)
daxdev "$(dev name 2)" "$U1"
daxconf other "$U2"
daxconf mine "${U1^^}"
printf '[source dimm]\nzone = kernel\n[source virtio_mem]\nzone = ignore\n' | conf
mz online -v "memory$D" "memory$V" "memory$K" "memory$O"
is "$rc" 0 "source rules: exit 0"
is "$(zones "$D")" Normal "[source dimm] zone = kernel"
check "... reason source_rule" in_err "MEMZONE_REASON=source_rule"
is "$(state "$V")" offline "[source virtio_mem] zone = ignore: left offline"
check "... reason source_ignored" in_err "MEMZONE_REASON=source_ignored"
is "$(state "$K")" offline "kmem whose dax device a daxctl config names (nvdimm.uuid) is daxctl's: left offline"
check "... the log names the daxctl config" in_err "left to daxctl: $T/etc/daxctl.conf.d/mine.conf [reconfigure-device mine] names $(dev name 2)"
is "$(zone_of "$K" $((K + 1)))/$(zone_of "$V" $((V + 1)))" offline/offline \
	"... ignored devices: their other blocks are left offline too"
is "$(zone_of "$D" $((D + 1)))" Normal "the DIMM's second block onlined with the first one's event"
is "$(zone_of "$O" $((O + 1)))" Movable "plain System RAM (other): its new range is one device, onlined with its first block's event"
is "$(ls "$T/run/memzone/onlined" 2>/dev/null | tr '\n' ' ')" "memory$((D + 1)).Normal memory$((O + 1)).Movable " "... the only markers"
is "$(zones "$O")" Movable "plain System RAM without ACPI node: [source other], movable"
check "... source other" in_err "MEMZONE_SOURCE=other"

# ---- kmem that no daxctl config names: kmem_wait for another agent, then the policy
tree kmemwait --blocks 40 --nodes 1 --hotplug kmem:2 --hotplug kmem:2
K=$(dev first_block 0) K2=$(dev first_block 1)
daxdev "$(dev name 0)" "$U1"
daxconf other "$U2"
printf '[online]\nkmem_wait = 300ms\n' | conf
t0=$(date +%s%N)
mz online "memory$K"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$rc/$(zone_of "$K" $((K + 1)))" 0/Movable "kmem, only another device's daxctl config: decided by the policy after kmem_wait"
ok "$([ "$ms" -ge 300 ]; echo $?)" "... after waiting kmem_wait (${ms} ms >= 300 ms)"
check "... says why" in_err "no daxctl configuration names $(dev name 0): left to another agent for kmem_wait"
# another agent onlines the block during the wait: left as it is
( sleep 0.2; write_state "$K2" online_kernel; write_state "$((K2 + 1))" online_kernel ) &
printf '[online]\nkmem_wait = 5s\n' | conf
t0=$(date +%s%N)
mz online "memory$K2"
wait
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$(zone_of "$K2" $((K2 + 1)))" Normal "kmem onlined by another agent within kmem_wait: left in its zone"
ok "$([ "$ms" -lt 4000 ]; echo $?)" "... the helper stopped waiting when it was onlined (${ms} ms)"
# init does not wait (before udev): the replay does
tree kmeminit --blocks 40 --nodes 1 --hotplug kmem:2
K=$(dev first_block 0)
mz init
is "$rc/$(state "$K")" 0/offline "init leaves kmem without a daxctl config for the replay (no wait at boot)"

# ---- memory-only (CPU-less) node
tree cxl --blocks 40 --nodes 2 --cpuless 1 --hotplug kmem:4@1
K=$(dev first_block 0)
printf '[source kmem]\nzone = policy\n' | conf
mz online -v "memory$K"
is "$(zones "$K")" Movable "CPU-less node: movable"
check "... reason memory_only_node" in_err "MEMZONE_REASON=memory_only_node"
tree cxl2 --blocks 40 --nodes 2 --cpuless 1 --hotplug kmem:4@1
printf '[online]\nmemory_only_nodes = kernel\n[source kmem]\nzone = policy\nwhole_device = no\n' | conf
mz online "memory$K"
is "$(zone_of "$K" $((K + 3)))" Normal "memory_only_nodes = kernel"

# ---- valid_zones
tree vz --blocks 40 --nodes 1 --hotplug dimm:1 --hotplug dimm:1 --hotplug dimm:1
A=$(dev first_block 0) B=$(dev first_block 1) C=$(dev first_block 2)
echo Normal >"$T/$MEM/memory$A/valid_zones"
echo none >"$T/$MEM/memory$B/valid_zones"
mz online -v "memory$A"
is "$(zones "$A")" Normal "valid_zones Normal only: kernel"
check "... reason only_zone_allowed" in_err "MEMZONE_REASON=only_zone_allowed"
mz online "memory$B"
is "$rc" 1 "valid_zones none: exit 1"
is "$(state "$B")" offline "... the block stays offline"
check "... and a warning says why" in_err "valid_zones is 'none'"
tree novz --blocks 40 --nodes 1 --hotplug dimm:1
rm "$T/$MEM/memory$(dev first_block 0)/valid_zones"
mz online "memory$(dev first_block 0)"
is "$rc/$(state "$(dev first_block 0)")" 0/online "no valid_zones (kernels before 3.18): the kernel decides"
tree vz2 --blocks 40 --nodes 1 --hotplug dimm:1 --hotplug dimm:1 --hotplug dimm:1
C=$(dev first_block 2)
KMODEL_REFUSE=online_movable mz online "memory$C"
is "$rc" 0 "kernel refuses Movable: still exit 0"
is "$(zones "$C")" Normal "... onlined in the other zone"
check "... and the fallback is logged" in_err "refused online_movable"

tree race --blocks 40 --nodes 1 --hotplug dimm:1 --hotplug dimm:1 --hotplug dimm:1
A=$(dev first_block 0) B=$(dev first_block 1) C=$(dev first_block 2)
KMODEL_EINTR=2 mz online "memory$A"
is "$rc/$(zones "$A")" 0/Movable "online write interrupted twice: retried, onlined"
KMODEL_EINTR=100 mz online "memory$B"
is "$rc/$(state "$B")" 1/offline "online write interrupted every time: bounded retries, exit 1"
check "... logged" in_err "Interrupted system call"
KMODEL_RACE=online_kernel mz online "memory$C"
is "$rc/$(zones "$C")" 0/Normal "another agent onlined it first: left as it is"
check "... and said so" in_err "another agent onlined it first"
is "$(kmodel_count '^online' "$C")" 1 "... one online in the model's log (the other agent's)"

# ---- a broken config never leaves new memory offline
tree broken --blocks 40 --nodes 1 --hotplug dimm:2
F=$(dev first_block 0)
printf '[online]\nratio = banana\n' | conf
mz online -v "memory$F"
is "$rc" 3 "broken config: exit 3"
is "$(state "$F")" online "... the block was onlined anyway"
check "... with the built-in defaults, logged" in_err "built-in defaults"
check "... reason builtin_defaults" in_err "MEMZONE_REASON=builtin_defaults"
check "... the error names the file and line" grep -q "memzone.conf:2" "$TMP/err"

# ---- kernel auto-online: memzone init is the one writer of the kernel's onlining settings
tree kao --blocks 40 --nodes 1 --hotplug dimm:2 --auto-online online
F=$(dev first_block 0)
mz online "memory$F"
is "$(cat "$T/$MEM/auto_online_blocks")" online "a helper leaves auto_online_blocks alone"
mz init
is "$(cat "$T/$MEM/auto_online_blocks")" offline "init, no online_policy in this kernel: auto_online_blocks set to offline"
check "... the old value is logged" in_err "auto_online_blocks was 'online'"
mz init
check "... once" bash -c "! grep -q 'auto_online_blocks was' '$TMP/err'"
tree kao2 --blocks 40 --nodes 1 --hotplug dimm:2 --auto-online online_movable
printf '[online]\nkernel_auto_online = keep\n' | conf
mz init
is "$(cat "$T/$MEM/auto_online_blocks")" online_movable "kernel_auto_online = keep: left alone"

# ---- hot-added blocks the kernel already onlined (in the wrong zone)
tree fix --blocks 40 --nodes 1 --hotplug dimm:4=kernel
F=$(dev first_block 0)
mz online -v "memory$F"
is "$rc" 0 "already_online = fix: exit 0"
is "$(zones "$F")" Movable "... rezoned to Movable"
is "$(kmodel_count '^offline$' "$F")" 1 "... through one offline"
check "... logged as rezone_movable" in_err "MEMZONE_ACTION=rezone_movable"
KMODEL_OFFLINE=busy mz online "memory$((F + 1))"
is "$rc" 1 "offline refused (EBUSY): exit 1"
is "$(state "$((F + 1))")/$(zones "$((F + 1))")" online/Normal "... the block stays online where it was"
check "... logged" in_err "not rezoned"
printf '[rebalance]\noffline_timeout = 200ms\n' | conf
KMODEL_OFFLINE=hang mz online "memory$((F + 1))"
is "$rc" 1 "offline hangs: interrupted at offline_timeout, exit 1"
is "$(state "$((F + 1))")/$(zones "$((F + 1))")" online/Normal "... the block stays online where it was"
check "... logged" in_err "did not finish within"
KMODEL_REFUSE=online_movable mz online "memory$((F + 2))"
is "$rc" 1 "new zone refused after the offline: exit 1"
is "$(state "$((F + 2))")/$(zones "$((F + 2))")" online/Normal "... back online in the old zone"
check "... logged" in_err "back online in Normal"
printf '[online]\nalready_online = leave\n' | conf
mz online "memory$((F + 3))"
is "$rc/$(zones "$((F + 3))")" 0/Normal "already_online = leave: left in Normal"
mz online memory5
is "$rc/$(kmodel_count . 5)" 0/0 "online boot memory: left alone"

# ---- blocks that do not exist (removed again before the helper ran)
mz online memory99999
is "$rc" 0 "a vanished block: exit 0"
check "... logged" in_err "no such block"

# ---- plain state files, no model: what was written
tree plain --blocks 40 --nodes 1 --hotplug dimm:1 --hotplug dimm:1
F=$(dev first_block 0) G=$(dev first_block 1)
mz_plain online "memory$F"
check "plain file: online_movable written" grep -q '^online_movable' "$T/$MEM/memory$F/state"
printf '[online]\ndefault_zone = kernel\n' | conf
mz_plain online "memory$G"
check "plain file: online_kernel written" grep -q '^online_kernel' "$T/$MEM/memory$G/state"

# ---- the lock: held by someone else for longer than lock_timeout, the block is onlined anyway
tree lock --blocks 40 --nodes 1 --hotplug dimm:2
F=$(dev first_block 0)
printf '[online]\nlock_timeout = 100ms\n' | conf
mkdir -p "$T/run/memzone"
exec 5>"$T/run/memzone/lock" # held by this shell (another memzone) until closed
flock -x 5
mz online "memory$F"
exec 5>&-
is "$rc/$(state "$F")" 0/online "lock held elsewhere: onlined anyway"
check "... with a warning" in_err "going ahead without it"
tree lockdir --blocks 20 --nodes 1 --hotplug dimm:1
mz online "memory$(dev first_block 0)"
is "$(stat -c %a "$T/run/memzone")" 755 "/run/memzone created 0755 for the lock"

# ---- plan: the same decisions, simulated in order, nothing written
# 16 boot blocks (~2G of kernel): an auto-onlined DIMM first in address order, then 64 new
# virtio-mem blocks, more than 301% allows
tree plan --blocks 84 --nodes 1 --hotplug dimm:4=kernel --hotplug virtio_mem:64
printf '[online]\nratio_basis = current\n' | conf # kmodel_check measures against managed kernel memory
D=$(dev first_block 0) V=$(dev first_block 1) VL=$(dev last_block 1)
mz plan --json
is "$rc" 0 "plan --json: exit 0"
check "plan wrote nothing" test ! -e "$T/proc/.kmodel.log"
is "$(zone_of "$V" "$VL")" offline "plan left every block offline"
python3 - "$TMP/out" >"$TMP/plan.txt" <<'PY' || echo "python failed" >"$TMP/plan.txt"
import json, sys
p = json.load(open(sys.argv[1]))
for b in p["blocks"]:
    print(b["block"], b["action"], b["target_zone"] or "-", b["reason"])
print("summary", p["summary"]["online_movable"], p["summary"]["online_kernel"], p["summary"]["rezone_movable"])
PY
is "$(grep -c '^memory' "$TMP/plan.txt")" 68 "plan: 4 auto-onlined DIMM blocks to rezone + 64 offline virtio-mem blocks"
check "plan: the cap is reached in the middle of the device" bash -c "
	grep -q 'online_movable Movable auto_within_ratio' '$TMP/plan.txt' &&
	grep -q 'online_kernel Normal ratio_cap_node' '$TMP/plan.txt'"
check "plan: the DIMM onlined in Normal is to be rezoned" grep -q "^memory$D rezone_movable Movable" "$TMP/plan.txt"
# carry it out, one helper per block in the same order: the outcome matches the plan block by block
for b in $(seq "$D" "$((D + 3))") $(seq "$V" "$VL"); do mz online "memory$b"; done
for b in $(seq "$D" "$((D + 3))") $(seq "$V" "$VL"); do echo "memory$b $(zones "$b")"; done >"$TMP/actual"
awk '/^memory/ { print $1, $3 }' "$TMP/plan.txt" >"$TMP/planned"
if diff "$TMP/planned" "$TMP/actual" >"$TMP/diff"; then ok 0 "plan matches what online then did, block by block"
else ok 1 "plan matches what online then did, block by block"; sed 's/^/#   /' "$TMP/diff"; fi
check "cap never crossed while carrying out the plan" kmodel_check 301
mz plan "memory$V"
is "$rc" 0 "plan of a named (now online) block: exit 0"
check "plan text names the block and says leave" grep -qE "^memory$V +[0-9]+ +online .* leave " "$TMP/out"
mz plan
check "plan with nothing to do says so" grep -q "Nothing to do" "$TMP/out"
mz plan memory1/../x
is "$rc" 2 "plan: a bad name is refused"
printf '[online]\nratio = banana\n' | conf
mz plan
is "$rc" 3 "plan with a broken config: exit 3 (built-in defaults)"

# ---- init: boot-time settings and blocks hot-added before udev
tree init --blocks 40 --nodes 1 --hotplug dimm:4 --hotplug virtio_mem:2 --auto-online online
D=$(dev first_block 0) V=$(dev first_block 1)
mz init
is "$rc" 0 "init: exit 0"
is "$(cat "$T/$MEM/auto_online_blocks")" offline "init: auto_online_blocks offline"
is "$(zone_of "$D" "$((D + 3))")" Movable "init: the DIMM onlined"
is "$(zone_of "$V" "$((V + 1))")" Movable "init: virtio-mem onlined"
tree init2 --blocks 40 --nodes 1 --hotplug dimm:1 --auto-online online
printf '[online]\nkernel_auto_online = keep\n' | conf
mz init
is "$(cat "$T/$MEM/auto_online_blocks")/$(state "$(dev first_block 0)")" online/online "init with keep"

# ---- admin intent: blocks offlined during this boot (MEMZONE_OFFLINED=1 in udev's database entry,
# rules/60-memzone.rules) stay offline through init and a helper's sweep of their device; blocks
# with no entry, or one without the property, are onlined
tree admin --blocks 40 --nodes 1 --hotplug dimm:4 --auto-online online
D=$(dev first_block 0)
mkdir -p "$T/run/udev/data"
printf 'I:123\nE:MEMZONE_OFFLINED=1\nG:x\n' >"$T/run/udev/data/+memory:memory$((D + 1))"
printf 'I:123\nE:MEMZONE_OFFLINED=10\nE:OTHER=1\n' >"$T/run/udev/data/+memory:memory$((D + 2))"
printf 'E:MEMZONE_OFFLINED=1' >"$T/run/udev/data/+memory:memory$((D + 3))"
mz init
is "$rc" 0 "admin offline: init exit 0"
is "$(zone_of "$D" "$D")/$(zone_of "$((D + 1))" "$((D + 1))")/$(zone_of "$((D + 2))" "$((D + 2))")/$(zone_of "$((D + 3))" "$((D + 3))")" \
	Movable/offline/Movable/offline "admin offline: init leaves the blocks offlined this boot offline, onlines the rest"
in_err "memory$((D + 1)): left offline: it was offlined during this boot" && ok 0 "admin offline: init says why" || { ok 1 "admin offline: init says why"; show_err; }
mz_plain status --blocks --json
is "$(python3 -c 'import json,sys; print(" ".join("%d:%s" % (b["first_block"], b.get("left_offline", "-")) for b in json.load(open(sys.argv[1]))["blocks"] if b["state"] == "offline"))' "$TMP/out")" \
	"$((D + 1)):offlined during this boot; memzone leaves it $((D + 3)):offlined during this boot; memzone leaves it" \
	"admin offline: status --blocks --json shows the blocks left offline and why"
mz_plain status --blocks
grep -q "offline (offlined during this boot; memzone leaves it)" "$TMP/out" && ok 0 "admin offline: status --blocks says it" || ok 1 "admin offline: status --blocks says it"
is "$(cat "$T/run/memzone/auto_online_blocks.found")" online "init records the auto_online_blocks value it found"
mz init --restore
is "$rc/$(cat "$T/$MEM/auto_online_blocks")" 0/online "init --restore puts it back"
[ ! -e "$T/run/memzone/auto_online_blocks.found" ] && ok 0 "init --restore forgets the record" || ok 1 "init --restore forgets the record"

# ---- kernel mode (src/lib/kmode.h): with kernel_auto_online = policy and a policy the kernel can express,
# init hands it to the kernel's auto-movable policy and records what it found; a helper then audits
# the blocks the kernel onlined and leaves them; init --restore puts every value back
kparams() {
	P=$T/sys/module/memory_hotplug/parameters
	mkdir -p "$P"
	echo contig-zones >"$P/online_policy"
	echo 301 >"$P/auto_movable_ratio"
	echo N >"$P/auto_movable_numa_aware"
}
kvals() { echo "$(cat "$T/$MEM/auto_online_blocks") $(cat "$P/online_policy") $(cat "$P/auto_movable_ratio") $(cat "$P/auto_movable_numa_aware")"; }
KPOL='[online]\nkernel_auto_online = policy\nratio = 200\n'
tree kmode --blocks 40 --nodes 2 --hotplug dimm:4 --auto-online offline
kparams
printf "$KPOL" | conf
mz init
is "$rc/$(kvals)" "0/online auto-movable 200 Y" "kernel mode: init sets auto_online_blocks, online_policy, ratio, NUMA awareness"
in_err "the kernel onlines new memory with this policy" && ok 0 "kernel mode: init says so" || { ok 1 "kernel mode: init says so"; show_err; }
is "$(sort "$T/run/memzone/kernel-policy.found" | tr '\n' ';')" \
	"auto_movable_numa_aware N Y;auto_movable_ratio 301 200;auto_online_blocks offline online;online_policy contig-zones auto-movable;" \
	"kernel mode: what init found and set is recorded"
D=$(dev first_block 0)
is "$(zone_of "$D" "$((D + 3))")" Movable "kernel mode: init still onlines the memory that was offline already"
mz_plain check-config
grep -q "^# new memory: kernel" "$TMP/out" && ok 0 "kernel mode: check-config names the mode" || { ok 1 "kernel mode: check-config names the mode"; sed 's/^/#   /' "$TMP/out"; }
mz_plain status
grep -q "onlining mode: kernel" "$TMP/out" && ok 0 "kernel mode: status names the mode" || { ok 1 "kernel mode: status names the mode"; sed 's/^/#   /' "$TMP/out"; }
# the kernel onlined a block (in the model: the zone the rule would give), a helper audits it
write_state "$((D + 1))" offline
write_state "$((D + 1))" online_kernel
mz online "memory$((D + 1))"
is "$rc/$(zone_of "$((D + 1))" "$((D + 1))")" "0/Normal" "kernel mode: the helper leaves what the kernel onlined"
in_err "kernel mode" && ok 0 "kernel mode: the helper says why" || { ok 1 "kernel mode: the helper says why"; show_err; }
is "$(kvals)" "online auto-movable 200 Y" "kernel mode: a helper writes none of the kernel's settings"
# an add event that comes before the kernel onlined the block (6.1 onlines a DIMM once all its blocks
# are added): the helper waits for the kernel instead of deciding the block a second time ...
write_state "$((D + 2))" offline
( sleep 0.3; write_state "$((D + 2))" online_movable ) &
mz online "memory$((D + 2))"
wait
is "$rc/$(zone_of "$((D + 2))" "$((D + 2))")" "0/Movable" "kernel mode: the helper waits for the kernel's online of its block"
in_err "memory$((D + 2)): leave" && in_err "already online in Movable" && ! in_err "still offline" && ok 0 "... then audits it" ||
	{ ok 1 "... then audits it"; show_err; }
# ... and decides a block the kernel left offline, after a bound
write_state "$((D + 2))" offline
mz online "memory$((D + 2))"
is "$rc/$(zone_of "$((D + 2))" "$((D + 2))")" "0/Normal" "kernel mode: a block the kernel leaves offline is decided after the wait (Normal: a block of its DIMM is)"
in_err "still offline" && ok 0 "... saying so" || { ok 1 "... saying so"; show_err; }
# someone else changes a setting: userspace mode, and memzone does not set it back
echo 150 >"$P/auto_movable_ratio"
mz_plain status
grep -q "onlining mode: userspace: the kernel's settings are not memzone's" "$TMP/out" && ok 0 "kernel mode: a changed setting is seen" || { ok 1 "kernel mode: a changed setting is seen"; sed 's/^/#   /' "$TMP/out"; }
mz online "memory$((D + 1))"
is "$(kvals)" "online auto-movable 150 Y" "kernel mode: a helper does not undo another's setting"
mz init --restore
is "$rc/$(kvals)" "0/offline contig-zones 150 N" "kernel mode: --restore puts back what memzone set, leaves the ratio someone else set"
[ ! -e "$T/run/memzone/kernel-policy.found" ] && ok 0 "kernel mode: --restore forgets the record" || ok 1 "kernel mode: --restore forgets the record"
# what the kernel cannot express stays in userspace: a CPU-less node (memory_only_nodes = movable)
tree kmode2 --blocks 40 --nodes 2 --cpuless 1 --hotplug dimm:1 --auto-online online
kparams
printf "$KPOL" | conf
mz init
is "$(kvals)" "offline contig-zones 301 N" "userspace mode: a CPU-less node and memory_only_nodes = movable keep memzone deciding"
in_err "node 1 has no CPUs" && ok 0 "userspace mode: init says why" || { ok 1 "userspace mode: init says why"; show_err; }
# daxctl configured (it refuses to work while the kernel onlines) and [source kmem] zone = ignore
tree kmode4 --blocks 40 --nodes 1 --hotplug dimm:1 --auto-online online
kparams
printf "$KPOL" | conf
mkdir -p "$T/etc/daxctl.conf.d"
printf '[reconfigure-device pmem0]\nnvdimm.uuid = 0\nmode = system-ram\n' >"$T/etc/daxctl.conf.d/pmem.conf"
mz init
is "$(kvals)" "offline contig-zones 301 N" "userspace mode: daxctl configured keeps memzone deciding"
in_err "pmem.conf configures daxctl" && ok 0 "... init names the file" || { ok 1 "... init names the file"; show_err; }
# a kernel before 5.15 (no online_policy): userspace
tree kmode3 --blocks 40 --nodes 1 --hotplug dimm:1 --auto-online online
printf "$KPOL" | conf
mz init
is "$(cat "$T/$MEM/auto_online_blocks")" offline "userspace mode: a kernel without online_policy"

# ---- a sweep decides each block as a fresh snapshot would: it reads the zone totals once and counts
# its own movable onlines into them (reading again every 16 blocks and after a kernel online), while
# `memzone init` reads them afresh for every block. 96 virtio-mem blocks, each decided on its own,
# reach the cap in the middle of the device and then alternate between the zones.
for basis in current boot; do
	tree sweepfresh --blocks 112 --nodes 1 --hotplug virtio_mem:96
	printf '[online]\nratio_basis = %s\n' "$basis" | conf
	V=$(dev first_block 0) VL=$(dev last_block 0)
	mz init
	for b in $(seq "$V" "$VL"); do echo "memory$b $(zones "$b")"; done >"$TMP/fresh"
	tree sweepfresh --blocks 112 --nodes 1 --hotplug virtio_mem:96
	printf '[online]\nratio_basis = %s\n' "$basis" | conf
	mz online "memory$V"
	is "$rc/$(zone_of "$V" "$VL" | grep -c offline)" 0/0 "ratio_basis $basis: one event onlined the whole virtio-mem device"
	for b in $(seq "$V" "$VL"); do echo "memory$b $(zones "$b")"; done >"$TMP/swept"
	check "... the cap is reached in the middle of the device" bash -c "
		grep -q ' Movable\$' '$TMP/swept' && grep -q ' Normal\$' '$TMP/swept'"
	if diff "$TMP/fresh" "$TMP/swept" >"$TMP/diff"; then ok 0 "... every block in the zone a fresh snapshot per block gives"
	else ok 1 "... every block in the zone a fresh snapshot per block gives"; sed 's/^/#   /' "$TMP/diff"; fi
	# the model checks against managed kernel memory, ratio_basis = boot against present boot memory
	[ "$basis" = current ] && check "... cap never crossed during the sweep" kmodel_check 301
done
# ---- a DIMM whose blocks are not bound to their ACPI device yet (the kernel sends each block's add
# before acpi_bind_memory_blocks links firmware_node): the helper waits for the binding and decides the
# DIMM as a whole. ratio = 10 of 4 GiB: one block (128M) fits, the DIMM (1G) does not -- decided
# alone, its first block went Movable and the other 7 Normal.
tree unbound --blocks 32 --nodes 1 --hotplug dimm:8
F=$(dev first_block 0)
L=$(dev last_block 0)
printf '[online]\nratio = 10\n' | conf
mkdir -p "$T/sys/firmware/acpi"
for i in $(seq "$F" "$L"); do
	mv "$T/$MEM/memory$i/firmware_node" "$TMP/fw$i"
done
(
	sleep 0.3
	for i in $(seq "$F" "$L"); do mv "$TMP/fw$i" "$T/$MEM/memory$i/firmware_node"; done
) </dev/null >/dev/null 2>&1 &
binder=$!
t0=$(date +%s%N)
mz online -v "memory$F"
ms=$((($(date +%s%N) - t0) / 1000000))
wait "$binder"
is "$rc" 0 "unbound DIMM block: exit 0"
is "$(zone_of "$F" "$L")" Normal "... the whole DIMM in one zone (Normal: 1G is over the cap)"
check "... decided as the DIMM, bound while the helper waited" in_err "memory$F: online_kernel (node 0, dimm PNP0C80:00"
check "... which it says" in_err "memory$F: bound to PNP0C80:00 after"
check "... within the wait's bound (${ms} ms)" test "$ms" -lt 3000

# ---- the same range never bound (hv_balloon, xen, probe memory): after the bounded wait, another
# agent's memory, decided with its whole range: one zone too
tree never --blocks 32 --nodes 1 --hotplug other:8
F=$(dev first_block 0)
L=$(dev last_block 0)
printf '[online]\nratio = 10\n' | conf
mkdir -p "$T/sys/firmware/acpi"
t0=$(date +%s%N)
mz online "memory$((F + 3))"
ms=$((($(date +%s%N) - t0) / 1000000))
is "$rc" 0 "never-bound block: exit 0"
is "$(zone_of "$F" "$L")" Normal "... its whole range in one zone"
check "... the helper said it waited in vain" in_err "memory$((F + 3)): no ACPI memory device bound it within"
check "... for about a second (${ms} ms)" test "$ms" -ge 900 -a "$ms" -lt 5000
check "... decided as 'other' with the range's 8 blocks" grep -qE "memory$((F + 3)): online_kernel \(node 0, other, 128M\): whole device .*\(8 blocks\)" "$TMP/err"
# ---- a DIMM block decided before its binding (ACPI slower than the wait, here: no ACPI to wait for)
# and alone (the lock held elsewhere: no sweep), then the rest once bound: the rest follows the zone
# of the first block, because the first was decided with the range's extent, as the DIMM is
tree late --blocks 32 --nodes 1 --hotplug dimm:8
F=$(dev first_block 0)
L=$(dev last_block 0)
printf '[online]\nratio = 10\nlock_timeout = 100ms\n' | conf
for i in $(seq "$F" "$L"); do mv "$T/$MEM/memory$i/firmware_node" "$TMP/fw$i"; done
mkdir -p "$T/run/memzone"
exec 5>"$T/run/memzone/lock"
flock -x 5
mz online "memory$F"
exec 5>&-
is "$(zone_of "$F" "$F")/$(zone_of $((F + 1)) "$L")" Normal/offline "unbound, lock held elsewhere: the first block alone"
check "... decided as 'other' with the range's 8 blocks" grep -qE "memory$F: online_kernel \(node 0, other, 128M\): whole device .*\(8 blocks\)" "$TMP/err"
for i in $(seq "$F" "$L"); do mv "$TMP/fw$i" "$T/$MEM/memory$i/firmware_node"; done
mz online "memory$((F + 1))"
is "$(zone_of "$F" "$L")" Normal "bound since: the rest of the DIMM follows its first block, one zone"
check "... as the DIMM" in_err "memory$((F + 1)): online_kernel (node 0, dimm PNP0C80:00"

# ---- started by udev while memzoned decides new memory: exit 0 at once, the block left to memzoned
tree basic --blocks 40 --nodes 2 --hotplug dimm:4@1
F=$(dev first_block 0)
mkdir -p "$T/run/memzone"
echo $$ > "$T/run/memzone/memzoned.lock"
: > "$T/run/memzone/memzoned.decides"
sh -c 'exec 9>>"$1" && flock 9 && exec sleep 600' sh "$T/run/memzone/memzoned.decides" &
holder=$!
for _ in $(seq 500); do flock -n -s "$T/run/memzone/memzoned.decides" true || break; sleep 0.01; done
ACTION=add DEVPATH=/devices/system/memory/memory$F mz online -v "memory$F"
is "$rc" 0 "memzoned.decides held, started by udev: exit 0"
is "$(state "$F")" offline "... the block left to memzoned"
check "... said at debug level" in_err "memory$F: memzoned decides new memory"
mz online "memory$F"
is "$(state "$F")" online "run by hand (no udev event in the environment): decided as usual"
kill -KILL $holder
wait $holder 2>/dev/null
tree basic --blocks 40 --nodes 2 --hotplug dimm:4@1
F=$(dev first_block 0)
mkdir -p "$T/run/memzone"
echo $$ > "$T/run/memzone/memzoned.lock"
: > "$T/run/memzone/memzoned.decides"
ACTION=add DEVPATH=/devices/system/memory/memory$F mz online "memory$F"
is "$(state "$F")" online "its holder SIGKILLed (the files and a live pid left): the helper decides"

done_testing
