#!/bin/bash
# 54-rebalance-dimm-pins.sh - DIMMs only: a spike's harvests sit in the fewest DIMMs they need, and
# every other DIMM can be unplugged afterwards. What a harvest costs is read from the guest (sysfs,
# /proc/kpageflags, QEMU's DEVICE_DELETED), never from memzoned's own claims.
#
# 1 GiB of boot memory (DMA + DMA32: the only kernel zones) and three 1 GiB DIMMs (8 blocks each),
# all Movable (default_zone = movable: the rebalancer harvests on demand).
#   spike: memzoned runs; loadgen builds page tables at 64 MiB/s to the boot kernel memory + 128 MiB
#         and releases them: oom_kill unchanged; the harvested blocks lie in ceil(harvests / 8) DIMMs
#         (memzoned takes a DIMM already partly in a kernel zone before an intact one).
#   give-back: once the load is gone no harvested block without slab, page-table or reserved pages
#         stays in a kernel zone (kpageflags).
#   unplug: device_del of every DIMM with no block in a kernel zone completes (DEVICE_DELETED); at
#         least one DIMM is such.
# The kernel's own auto-movable (ratio 301) would have onlined the DIMMs Movable only up to 3 GiB
# and can move nothing later: a spike beyond the boot memory meets the OOM killer there (bench §4).
# vm-modes: 6.1 6.12
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
VM_WATCHDOG=${VM_WATCHDOG:-540}
vm_boot --mem 1G --smp 2 || { fail "VM boots"; vm_finish; exit; }

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

for d in d1 d2 d3; do
    CTL "snap $d" >/dev/null
    dimm_add "$d" 1G || vm_bail "dimm_add $d"
    CTL "wait_new_online $d 8 30000 && settle && new_since $d > /tmp/D.$d" >/dev/null || vm_bail "$d not online"
done
gcheck "three 1 GiB DIMMs: 24 blocks online Movable" '
cat /tmp/D.d1 /tmp/D.d2 /tmp/D.d3 > /tmp/D; echo "$(wc -l < /tmp/D) blocks; zones: $(zs)"
[ "$(wc -l < /tmp/D)" = 24 ] && [ -z "$(not_in_zone Movable $(cat /tmp/D))" ]' || vm_bail "DIMMs not online"

gcheck "memzoned starts" '
"$MZ_DAEMON" --log stderr > /tmp/memzoned.log 2>&1 </dev/null &
t=$(ns); while [ ! -s /run/memzone/state ]; do [ $(ms_since $t) -gt 20000 ] && { cat /tmp/memzoned.log; exit 1; }; sleep 0.1; done'
target_mib=$(CTL 'echo $(( $(cat /tmp/boot-kernel-pages) / 256 + 128 ))' | tr -d '\r\n ')
diag "page-table target: $target_mib MiB (boot kernel memory + 128 MiB)"
lcheck "loadgen pt at 64 MiB/s reaches ${target_mib} MiB of page tables with oom_kill unchanged" 240 "pt_spike ${target_mib} 5"
lcheck "the harvests sit in the fewest DIMMs they need" 60 '
harvested > /tmp/H; h=$(wc -l < /tmp/H); used=0
for d in d1 d2 d3; do n=$(grep -cxF -f /tmp/D.$d /tmp/H); echo "$d: $n of its 8 blocks harvested"; [ "$n" -gt 0 ] && used=$((used + 1)); done
need=$(( (h + 7) / 8 )); echo "$h harvests in $used DIMMs, $need needed"
[ "$h" -gt 0 ] && [ "$used" = "$need" ]' 4

lcheck "after the release no returnable block is kept in a kernel zone (kpageflags)" 330 '
giveback_settled 300000; rc=$?
echo "harvested $(harvested | wc -l), given back $(grep -c " to Movable in " /tmp/memzoned.log), still in a kernel zone: $(kernel_hot | tr "\n" " ")"
for b in $(kernel_hot); do echo "memory$b: $(page_causes $b)"; done
exit $rc' 12
gcheck "memzoned stops" 'pid=$(cat /run/memzone/memzoned.lock); kill $pid; t=$(ns)
while kill -0 $pid 2>/dev/null; do [ $(ms_since $t) -gt 30000 ] && exit 1; sleep 0.1; done'

# ---- unplug every DIMM that holds no kernel memory
free_dimms=$(CTL 'kernel_hot > /tmp/KH; for d in d1 d2 d3; do grep -qxF -f /tmp/D.$d /tmp/KH || echo $d; done' | tr -d '\r')
diag "DIMMs with no block in a kernel zone: $(echo ${free_dimms:-none})"
if [ -z "$free_dimms" ]; then
    fail "at least one DIMM holds no kernel memory after the spike"
else
    pass "at least one DIMM holds no kernel memory after the spike ($(echo $free_dimms))"
fi
for d in $free_dimms; do
    if dimm_del "$d" 60; then pass "device_del $d: DEVICE_DELETED"; else fail "device_del $d: DEVICE_DELETED" "no DEVICE_DELETED in 60 s"; fi
done
CTL 'grep -E "moved from|pinned|stays in" /tmp/memzoned.log | tail -n 8' | sed 's/^/# /'
vm_finish
