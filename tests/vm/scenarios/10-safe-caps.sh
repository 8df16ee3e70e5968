#!/bin/bash
# 10-safe-caps.sh - the zones memzone chooses are safe without memzoned (issue 13, items 2 and 3).
#
# (a) A memory-only NUMA node (no CPUs, no boot memory: CXL-like). An 8 GiB DIMM hot-added there
#     against ~1 GiB of kernel memory goes to a kernel zone, as the kernel's NUMA-aware auto-movable
#     (ratio 301) would put it: the node has no kernel memory of its own, so the system-wide cap
#     holds. MOVABLE:KERNEL stays <= 301% system-wide.
# (b) memzoned running while 4 x 1 GiB DIMMs come to a 1 GiB guest: the cap is still `ratio` (301),
#     not the 800% memzoned used to allow. memzoned is then killed (SIGKILL) and a page-table load
#     of 1.5 x the boot kernel memory runs with nothing to harvest kernel memory: no OOM kill.
# With VM_SAFE_CAPS_KERNEL=1 (not in CI) the same layout and load run once more under the kernel's own
# auto-movable (memzone's rules set aside) for comparison.
# vm-modes: 6.1 6.12-offline
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone

# ---- (a) memory-only node
vm_boot --mem 1G --numa || { fail "VM boots (two NUMA nodes, node 1 without CPUs or memory)"; vm_finish; exit; }
gcheck "only node 0 has CPUs (node 1 comes online with its first DIMM)" 'cat /sys/devices/system/node/has_cpu
[ "$(cat /sys/devices/system/node/has_cpu)" = 0 ]'
CTL 'snap a' >/dev/null
dimm_add dA 8G 1 || vm_bail "dimm_add dA to node 1"
lcheck "8 GiB DIMM on the memory-only node: every block in a kernel zone, as the kernel's auto-movable would" 150 '
wait_new_online a 64 120000 && settle || { echo "not online: $(online_count $(new_since a))/64"; exit 1; }
n=$(new_since a | head -n 1); echo "node of memory$n: $(ls -d $M/memory$n/node* | sed "s|.*/||")"
bad=$(not_in_zone Normal $(new_since a)); echo "zones: $(zs) not Normal: ${bad:-none}"
ls -d $M/memory$n/node1 >/dev/null && [ -z "$bad" ]'
gcheck "MOVABLE:KERNEL <= 301% system-wide" 'ratio_ok 301'

# ---- (b) memzoned running at hot-add time, then killed; page tables of 1.5 x boot kernel memory
caps_b() {   # caps_b WHO: the 4 x 1 GiB layout and the load
    CTL 'kernel_pages > /tmp/boot-kernel-pages; snap b' >/dev/null
    dimm_add_many 1G dB1 dB2 dB3 dB4 || vm_bail "dimm_add_many"
    lcheck "$1: 4 x 1 GiB DIMMs online" 150 'wait_new_online b 32 120000 && settle && zs'
    gcheck "$1: MOVABLE:KERNEL <= 301% system-wide" 'ratio_ok 301'
}
load_b() {   # load_b WHO
    local target
    target=$(CTL 'echo $(( $(cat /tmp/boot-kernel-pages) * 3 / 2 / 256 ))' | tr -d '\r\n ')
    lcheck "$1: page tables of 1.5 x boot kernel memory (${target} MiB) build with oom_kill unchanged" 240 "
oom0=\$(awk '/^oom_kill /{print \$2}' /proc/vmstat)
loadgen pt --target ${target}M --hold 2 > /tmp/lg.log 2>&1 </dev/null &
lg=\$!
t=\$(ns); while ! grep -q -e holding -e Killed /tmp/lg.log && kill -0 \$lg 2>/dev/null; do
    [ \$(ms_since \$t) -gt 200000 ] && break; sleep 0.5; done
wait \$lg
oom1=\$(awk '/^oom_kill /{print \$2}' /proc/vmstat)
tail -n 2 /tmp/lg.log
echo \"oom_kill \$oom0 -> \$oom1; zones: \$(zs)\"
grep -q holding /tmp/lg.log && [ \"\$oom1\" = \"\$oom0\" ]"
}

vm_boot --mem 1G || { fail "VM boots"; vm_finish; exit; }
gcheck "memzoned starts" 'start_memzoned --log stderr
mzd_wait_decides 30000 || { cat /tmp/memzoned.log; exit 1; }'
caps_b "memzone + memzoned"
gcheck "memzoned killed (SIGKILL)" 'kill -KILL $(cat /run/mzvm/memzoned.pid); sleep 0.5; ! kill -0 $(cat /run/mzvm/memzoned.pid) 2>/dev/null'
load_b "memzone, memzoned killed"

if [ "${VM_SAFE_CAPS_KERNEL:-0}" = 1 ]; then
    vm_boot --mem 1G --no-memzone --append "memhp_default_state=online memory_hotplug.online_policy=auto-movable" ||
        { fail "VM boots (kernel auto-movable)"; vm_finish; exit; }
    caps_b "kernel auto-movable"
    load_b "kernel auto-movable"
fi
vm_finish
