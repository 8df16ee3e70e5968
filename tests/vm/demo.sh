#!/bin/bash
# demo.sh - watch memzone place hot-added memory in a real kernel (make demo).
#
# Boots Debian 12's kernel (VM_MODE=6.1 by default; 6.12 or 6.12-offline) under QEMU with memzone
# installed from the build dir (MEMZONE_BUILDDIR, or MEMZONE_VM_STAGE), hot-adds a 1 GiB DIMM and
# grows a virtio-mem device by 1 GiB, and shows `memzone status` and the zone of every new block.
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

say "grow the virtio-mem device to 1 GiB (qom-set requested-size)"
CTL 'snap vmem' >/dev/null
t0=$(date +%s.%N)
vmem_resize 1G 30 || echo "   virtio-mem did not reach 1 GiB"
guest 'wait_new_online vmem 8 30000 >/dev/null || echo "(not all blocks online after 30 s)"
showblocks $(new_since vmem)'
echo "   qom-set -> 8 blocks decided: $(_since "$t0")s"

say "memzone status, after"
guest '[ -x "$MZ_BIN" ] && "$MZ_BIN" status; echo; echo "zones: $(zs)"'

say "what memzone logged (dmesg | grep memzone, last 20)"
guest 'mzlog | tail -n 20'

# ---- rebalancer (memzoned): to be extended when memzoned lands, e.g.
#   guest 'start_memzoned'; guest 'loadgen pt --target 512M --rate 64 --hold 20 &';
#   watch `memzone status` while the daemon moves blocks between Movable and Normal.

say "done; shutting the VM down"
vm_shutdown
