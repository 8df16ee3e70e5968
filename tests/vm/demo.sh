#!/bin/bash
# demo.sh - watch memzone place hot-added memory in a real kernel (make demo).
#
# Boots Debian 12's kernel (VM_MODE=6.1 by default; 6.12 or 6.12-offline) under QEMU with memzone
# installed from the build dir (MEMZONE_BUILDDIR, or MEMZONE_VM_STAGE), hot-adds a 1 GiB DIMM and
# grows a virtio-mem device by 1.5 GiB, and shows `memzone status` and the zone of every new block;
# then starts memzoned, builds unmovable kernel memory beyond what the boot memory holds, prints the
# NORMAL/MOVABLE boundary moving (harvest, then give back), shows where the harvests came from
# (virtio-mem's blocks cover the spike, so the DIMM stays wholly Movable), what pins the blocks that
# stay in a kernel zone (kpageflags, and `memzone status`) and unplugs the DIMM.
# Nothing on the host is touched; the VM is gone when the script ends.
. "$(dirname "$0")/vmlib.sh"

say() { printf '\n== %s\n' "$*"; }
guest() { CTL "$1" 2>&1 | sed 's/^/   /'; }

vm_boot --mem 1G --virtio-mem 2G || { echo "demo: the VM did not boot" >&2; exit 1; }
say "guest up in ${VM_BOOT_SECS}s: kernel $VM_KERNEL_REL (mode $VM_MODE)"
if ! vm_has_memzone; then
    echo "   memzone is not installed in the guest (${VM_STAGE_NOTE:-no memzone in the stage tree}):"
    echo "   hot-added blocks will stay offline (6.1) or go where the kernel puts them (6.12)."
fi
guest 'echo "memory block size: $(($(block_size) >> 20)) MiB, auto_online_blocks=$(cat $M/auto_online_blocks)"
echo "zones: $(zs)"
[ -x "$MZ_BIN" ] && "$MZ_BIN" --version
[ -f "$MZ_CONF" ] && { echo "policy ($MZ_CONF, without comments):"; grep -v -e "^[[:space:]]*[#;]" -e "^[[:space:]]*$" "$MZ_CONF" | sed "s/^/  /"; }'

say "memzone status, before"
guest '[ -x "$MZ_BIN" ] && "$MZ_BIN" status'

say "hot-add a 1 GiB DIMM over QMP (device_add pc-dimm)"
CTL 'snap dimm' >/dev/null
t0=$(date +%s.%N)
dimm_add dimm1 1G || echo "   device_add failed"
guest 'wait_new_online dimm 8 30000 >/dev/null || echo "(not all blocks online after 30 s)"
showblocks $(new_since dimm)'
echo "   device_add -> 8 blocks decided: $(_since "$t0")s"

say "grow the virtio-mem device to 1.5 GiB (qom-set requested-size)"
CTL 'snap vmem' >/dev/null
t0=$(date +%s.%N)
vmem_resize 1536M 30 || echo "   virtio-mem did not reach 1.5 GiB"
guest 'wait_new_online vmem 12 30000 >/dev/null || echo "(not all blocks online after 30 s)"
showblocks $(new_since vmem)'
echo "   qom-set -> 12 blocks decided: $(_since "$t0")s"

say "memzone status, after"
guest '[ -x "$MZ_BIN" ] && "$MZ_BIN" status; echo; echo "zones: $(zs)"'

say "what memzone logged (dmesg | grep memzone, last 20)"
guest 'mzlog | tail -n 20'

# ---- rebalancer: kernel allocations outgrow the boot memory; memzoned harvests movable blocks
#      before the kernel runs short, then gives them back when the load is gone.
say "start memzoned, then build page tables (unmovable kernel memory) at 64 MiB/s to 1.5x the boot kernel memory"
CTL 'mkdir -p "$MZ_CONF.d" && printf "[rebalance]\ninterval = 1s\nmoves_per_minute = 60\nrelease_delay = 10s\ncooldown = 5s\n" > "$MZ_CONF.d/50-demo.conf"
start_memzoned --log stderr
echo $(( $(kernel_pages) * 3 / 2 / 256 )) > /tmp/demo-target' >/dev/null
target=$(CTL 'cat /tmp/demo-target' | tr -d '\r\n ')
echo "   page-table target: ${target} MiB; every 2 s: kernel/movable managed, kernel free vs min watermark, moves so far"
CTL --timeout 200 "target=${target}; . /etc/mzdemo-timeline.sh" 2>&1 || echo "   (the timeline ended early)"

say "memzone status, after the load is gone"
guest '"$MZ_BIN" status | sed -n "1,8p"'

say "where memzoned harvested (harvest_order = devices: virtio-mem before an intact DIMM)"
guest 'n=0; for b in $(hot_blocks); do
    z=$(bzone $b); [ "$z" = Movable ] && continue
    if between dimm vmem | grep -qx "$b"; then d=dimm1; else d=virtio-mem; fi
    echo "memory$b: $z ($d), its pages per /proc/kpageflags: $(page_causes $b)"; n=$((n + 1))
done
echo "$n hot-added blocks outside Movable; dimm1 zones: $(for b in $(between dimm vmem); do bzone $b; done | sort | uniq -c | tr -s " \n" " ")"'

say "why they stay: memzone status lists each pinned block, its causes and since when"
guest '"$MZ_BIN" status | grep "pinned:" || echo "(none pinned: every harvested block went back)"'

say "unplug the 1 GiB DIMM (device_del): the kernel can remove it only while every block is Movable"
if dimm_del dimm1 60; then echo "   dimm1 removed: QEMU confirmed DEVICE_DELETED"
else echo "   dimm1 could not be removed (a block of it holds kernel memory)"; fi
guest 'left=$(for b in $(between dimm vmem); do [ -e $M/memory$b ] && echo $b; done)
echo "dimm1 blocks left in the guest: ${left:-none}; zones: $(zs)"'

say "done; shutting the VM down"
vm_shutdown
