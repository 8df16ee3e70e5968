#!/bin/bash
# 53-rebalance-harvest-order.sh - harvest_order = devices (the default) on a real kernel: when
# virtio-mem's Movable blocks cover a spike of kernel memory, memzoned harvests only those and the
# DIMM stays wholly Movable, so it can be unplugged afterwards.
#
# 1 GiB of boot memory (DMA + DMA32: the only kernel zones), virtio-mem grown to 2 GiB and a 1 GiB
# DIMM, all Movable (default_zone = movable: the rebalancer harvests on demand).
#   pick: `memzone rebalance --once --dry-run` with devices picks a virtio-mem block; the choice of
#         harvest_order = pages (the old order, with no device partly kernel yet) is shown next to it.
#   spike: memzoned runs; loadgen builds page tables at 64 MiB/s to the boot kernel memory + 256 MiB
#         (a few harvests): oom_kill unchanged, every block memzoned moved out of Movable is a
#         virtio-mem block, every DIMM block is still online Movable.
#   give-back: once the load is gone, no harvested block with no slab, page-table or reserved page
#         (read from the guest's /proc/kpageflags) stays in a kernel zone, and `memzone status` lists
#         every one that does stay as pinned, with a cause the kernel's page flags confirm.
#   unplug: device_del of the DIMM completes (DEVICE_DELETED) and its blocks are gone from the guest.
# vm-modes: 6.1 6.12
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
VM_WATCHDOG=${VM_WATCHDOG:-480}
vm_boot --mem 1G --smp 2 --virtio-mem 2G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = movable
[rebalance]
interval = 1s
moves_per_minute = 60
release_delay = 5s
cooldown = 10s
backoff_initial = 10s
EOF
echo offline > $M/auto_online_blocks
awk "/^Node/{z=\$4} \$1==\"managed\" && z!=\"Movable\" && z!=\"Device\" {s+=\$2} END{print s}" /proc/zoneinfo > /tmp/boot-kernel-pages' >/dev/null

CTL 'snap v' >/dev/null
vmem_resize 2G 60 || vm_bail "virtio-mem did not grow"
gcheck "virtio-mem: 16 blocks online Movable" 'wait_new_online v 16 60000 && settle && new_since v > /tmp/V && [ -z "$(not_in_zone Movable $(cat /tmp/V))" ]' ||
    vm_bail "virtio-mem blocks not online"
CTL 'snap d' >/dev/null
dimm_add d1 1G || vm_bail "dimm_add d1"
gcheck "DIMM d1: 8 blocks online Movable" 'wait_new_online d 8 30000 && settle && new_since d > /tmp/D && [ -z "$(not_in_zone Movable $(cat /tmp/D))" ]' ||
    vm_bail "d1 not online"

# ---- pick: the dry run under a headroom that asks for a harvest now
lcheck "dry run: harvest_order = devices picks a virtio-mem block (pages' choice shown)" 60 '
for o in devices pages; do
    printf "[rebalance]\nheadroom = 900M\nrelease_headroom = 1G\nharvest_order = %s\n" $o > /tmp/pick-$o.conf
    "$MZ_BIN" rebalance --once --dry-run --config /tmp/pick-$o.conf > /tmp/pick-$o.out 2>&1
    b=$(sed -n "s/.*would move memory\([0-9]*\) .*/\1/p" /tmp/pick-$o.out | head -n 1)
    if grep -qx "$b" /tmp/V; then w="virtio-mem"; elif grep -qx "$b" /tmp/D; then w="DIMM d1"; else w="?"; fi
    echo "$o: memory$b ($w)"; echo "$w" > /tmp/pick-$o
done
cat /tmp/pick-devices.out
[ "$(cat /tmp/pick-devices)" = virtio-mem ]' 3

# ---- spike: page tables beyond the boot kernel memory; memzoned harvests
gcheck "memzoned starts (its pid in memzoned.lock, first state file)" '
"$MZ_DAEMON" --log stderr > /tmp/memzoned.log 2>&1 </dev/null &
t=$(ns); while [ ! -s /run/memzone/state ]; do [ $(ms_since $t) -gt 20000 ] && { cat /tmp/memzoned.log; exit 1; }; sleep 0.1; done
cat /run/memzone/memzoned.lock'
target_mib=$(CTL 'echo $(( $(cat /tmp/boot-kernel-pages) / 256 + 256 ))' | tr -d '\r\n ')
diag "page-table target: $target_mib MiB (boot kernel memory + 256 MiB)"
lcheck "loadgen pt at 64 MiB/s reaches ${target_mib} MiB of page tables with oom_kill unchanged" 240 "pt_spike ${target_mib} 5"
lcheck "every harvested block is a virtio-mem block; every DIMM block is still online Movable" 60 '
harvested > /tmp/H
dimm=$(grep -vxF -f /tmp/V /tmp/H)
echo "harvested: $(wc -l < /tmp/H) blocks ($(tr "\n" " " < /tmp/H)), none of d1 ($(tr "\n" " " < /tmp/D))"
echo "DIMM blocks not Movable: $(not_in_zone Movable $(cat /tmp/D)) ; zones: $(zs)"
[ -s /tmp/H ] && [ -z "$dimm" ] && [ -z "$(not_in_zone Movable $(cat /tmp/D))" ]' 3

# ---- give-back: what stays in a kernel zone is what the kernel cannot take
lcheck "after the release no returnable block is kept in a kernel zone (kpageflags)" 330 '
giveback_settled 300000; rc=$?
echo "harvested $(harvested | wc -l), given back $(grep -c " to Movable in " /tmp/memzoned.log), still in a kernel zone: $(kernel_hot | tr "\n" " ")"
exit $rc' 3
lcheck "memzone status names each block left in a kernel zone as pinned, with a cause the page flags confirm" 60 '
kh=$(kernel_hot | grep -vxF -f /tmp/V); [ -z "$kh" ] || { echo "not virtio-mem: $kh"; exit 1; }
status_pinned_ok' 12
gcheck "memzoned stops" 'pid=$(cat /run/memzone/memzoned.lock); kill $pid; t=$(ns)
while kill -0 $pid 2>/dev/null; do [ $(ms_since $t) -gt 30000 ] && exit 1; sleep 0.1; done'

# ---- unplug: the DIMM holds no kernel memory
if dimm_del d1 60; then pass "device_del d1: DEVICE_DELETED"; else fail "device_del d1: DEVICE_DELETED" "no DEVICE_DELETED in 60 s"; fi
gcheck "d1's blocks are gone from the guest" '
left=$(for b in $(cat /tmp/D); do [ -e $M/memory$b ] && echo $b; done); echo "left: ${left:-none}; zones: $(zs)"
[ -z "$left" ]'
CTL 'grep -E "moved from|harvest" /tmp/memzoned.log | tail -n 6' | sed 's/^/# /'
vm_finish
