#!/bin/bash
# test-online-numa.sh - `memzone online` for a memory-only NUMA node (CXL-like: no CPUs, no boot
# memory) under the kernel model with the memory map's cost (issue 13).
#
# Node 0 has the CPUs and ~900 MiB of kernel memory; node 1 has neither. Memory hot-added to node 1
# must not go Movable past the system-wide cap: node 1 has no kernel memory of its own, so every
# allocation its Movable memory serves (page tables, slab) lands on node 0's kernel zones. An 8 GiB
# DIMM there goes to kernel zones, a 2 GiB one Movable, in either order; in no state the model
# recorded does system movable exceed ratio% of kernel. The model charges each block's struct pages
# (64 bytes per 4 KiB page, KMODEL_MEMMAP) to free kernel memory, node 0's while node 1 has none.
# Then the model's user pages: offlining a Movable block full of them needs room elsewhere, and
# takes it from the kernel zones when Movable has none (what a harvest costs the kernel).
# shellcheck disable=SC2154 # top_srcdir comes from make check's environment
. "$top_srcdir/tests/test-online-lib.sh"

export KMODEL_MEMMAP=64 # bytes of struct page per page (x86-64)
RATIO=301
MEMMAP_PER_BLOCK=512 # pages: 128 MiB / 4 KiB * 64 B / 4 KiB

NODE=sys/devices/system/node
# kfree : free pages of the kernel zones in zoneinfo, all nodes
kfree() {
	awk '/^Node/ { z = $4 } /^  pages free/ && z != "Movable" && z != "Device" { f += $3 } END { print f + 0 }' \
		"$T/proc/zoneinfo"
}
# zsum NODE ZONE FIELD : a zone's field in zoneinfo (0 when the zone is not printed)
zsum() {
	awk -v n="$1" -v zone="$2" -v f="$3" '/^Node/ { sub(",", "", $2); hit = $2 == n && $4 == zone }
		hit && $1 == f { v = $2 } END { print v + 0 }' "$T/proc/zoneinfo"
}
# system_cap_held : every state the model recorded kept system movable <= RATIO% of kernel (a
# memory-only node has no cap of its own: its memory is measured against the system's kernel memory)
system_cap_held() {
	awk -v r="$RATIO" '{ for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		v["movable"] * 100 > r * v["kernel"] { if (!bad++) print "#   cap crossed first: " $0; last = $0 }
		END { if (bad) print "#   ... in " bad " states, last: " last; exit bad > 0 }' "$T/proc/.kmodel.log"
}
logsum() { awk -v k="$1" '{ for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) s += kv[2] } } END { print s + 0 }' "$T/proc/.kmodel.log"; }
last() { tail -n1 "$T/proc/.kmodel.log" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# numa_tree NAME DIMM... : 7 boot blocks (896 MiB) on node 0, node 1 without CPUs or memory, the
# DIMMs (dimm:COUNT@1) on node 1, offline
numa_tree() {
	local name=$1 n=7 h
	shift
	for h in "$@"; do n=$((n + ${h#dimm:})); done
	# shellcheck disable=SC2046 # one --hotplug per DIMM
	tree "$name" --blocks "$n" --nodes 2 --cpuless 1 $(printf -- '--hotplug %s@1 ' "$@")
}

for order in big-first small-first; do
	if [ $order = big-first ]; then
		numa_tree $order dimm:64 dimm:16
		BIG=0 SMALL=1
	else
		numa_tree $order dimm:16 dimm:64
		BIG=1 SMALL=0
	fi
	# a sweep leaves what it cannot do within lock_timeout / 2 to the blocks' own events, which this
	# test does not send: the longest wait keeps a loaded machine from cutting the sweep short
	printf '[online]\nlock_timeout = 60s\n' | conf
	if [ $order = big-first ]; then
		is "$(cat "$T/$NODE/has_cpu")/$(cat "$T/$NODE/has_memory")" 0/0 "the tree: node 1 has no CPUs and no memory"
		check "... and zoneinfo does not print it" bash -c "! grep -q '^Node 1' '$T/proc/zoneinfo'"
		diag "node 0 kernel: $(($(zsum 0 DMA managed) + $(zsum 0 DMA32 managed) + $(zsum 0 Normal managed))) managed pages"
	fi
	k0=$(kfree)
	for d in 0 1; do
		mz online "memory$(dev first_block $d)"
		is "$rc" 0 "$order: DIMM $d's first event: exit 0"
	done
	is "$(zone_of "$(dev first_block $BIG)" "$(dev last_block $BIG)")" Normal \
		"$order: the 8 GiB DIMM on the memory-only node: all kernel (over $RATIO% of the system's ~900 MiB kernel memory)"
	is "$(zone_of "$(dev first_block $SMALL)" "$(dev last_block $SMALL)")" Movable \
		"$order: the 2 GiB DIMM on the memory-only node: all Movable (within $RATIO%)"
	check "$order: system movable <= $RATIO% of kernel in every state the model recorded" system_cap_held
	is "$(logsum memmap)" $((80 * MEMMAP_PER_BLOCK)) "$order: the model charged 2 MiB of memory map per block onlined (80 blocks)"
	# kernel free after: before + the 8 GiB of kernel blocks (free in the model) - the memory map
	is "$(kfree)" $((k0 + 64 * 32768 - 80 * MEMMAP_PER_BLOCK)) "$order: kernel free pages include the memory map's cost"
	is "$(last kernel_free)" "$(kfree)" "$order: ... and the model's log says so"
	is "$(cat "$T/$NODE/has_memory")/$(cat "$T/$NODE/has_normal_memory")" 0-1/0-1 \
		"$order: node 1 is in has_memory and has_normal_memory once onlined"
	is "$(zsum 1 Normal managed)/$(zsum 1 Movable managed)" $((64 * 32768))/$((16 * 32768)) \
		"$order: zoneinfo prints node 1 with its Normal and Movable pages"
	if [ $order = small-first ]; then
		first=$(head -n1 "$T/proc/.kmodel.log" | tr ' ' '\n' | grep -E '^(node_kernel_free|memmap)=' | tr '\n' ' ')
		is "$first" "node_kernel_free=0 memmap=$MEMMAP_PER_BLOCK " \
			"$order: the first block's memory map came from node 0's kernel zones (node 1 had none)"
	fi
done

# ---- user pages: offlining a Movable block migrates them (what a harvest of it costs)
numa_tree users dimm:8 dimm:16
A=$(dev first_block 0) B=$(dev first_block 1)
for b in $(seq "$A" $((A + 7))); do
	write_state "$b" online_movable
	write_state "$b" kmodel_user_pages=32000 # 768 pages of each block free
done
is "$(kmodel_count '^kmodel_user_pages' "$A")" 1 "user pages set on memory$A through the model"
k0=$(kfree)
write_state "$A" offline
# its 32000 pages: node 1's Movable has the 7 other blocks' 7 x 768 free pages, the rest goes to the
# kernel zones (node 1 has none: node 0's)
is "$(state "$A")/$(last migrated)" offline/32000 "a Movable block full of user pages: offlined, 32000 pages migrated"
is "$(kfree)" $((k0 - (32000 - 7 * 768))) "... 7 x 768 into node 1's free Movable room, the rest into node 0's kernel zones"
write_state "$A" online_movable
is "$(last memmap)" 0 "onlined again: no second memory-map charge"
# node 0's kernel memory takes a few more blocks' worth, never below its min watermarks: then offline fails
min=$(awk '/^Node/ { z = $4 } $1 == "min" && z != "Movable" && z != "Device" { m += $2 } END { print m }' "$T/proc/zoneinfo")
moved=0
for b in $(seq $((A + 1)) $((A + 7))); do
	write_state "$b" offline
	[ "$(state "$b")" = offline ] || break
	moved=$((moved + 1))
done
diag "offlined $moved more blocks full of user pages; kernel free $(kfree) pages, min watermarks $min"
check "user pages need room: an offline was refused (EBUSY) once the kernel zones were down to their watermarks" \
	[ "$moved" -lt 7 -a "$(state "$b")" = online ]
# shellcheck disable=SC2016 # an awk program
check "... kernel free never went below the min watermarks in any recorded state" \
	awk -v m="$min" '{ for (i = 4; i <= NF; i++) if ($i ~ /^kernel_free=/) { split($i, kv, "="); if (kv[2] < m) exit 1 } }' \
	"$T/proc/.kmodel.log"
# with free Movable room elsewhere, migration stays in Movable
refused=$b
for b in $(seq "$B" $((B + 15))); do write_state "$b" online_movable; done
k0=$(kfree)
write_state "$refused" offline
is "$(state "$refused")/$(last migrated)" offline/32000 "with Movable room on the node: offlined, 32000 pages migrated"
is "$(kfree)" "$k0" "... into Movable: kernel free unchanged"

done_testing
