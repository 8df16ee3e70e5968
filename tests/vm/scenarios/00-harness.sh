#!/bin/bash
# 00-harness.sh - the harness itself, independent of memzone (must always pass): boot, kernel and
# modules, the guest's udev rules, DIMM and virtio-mem hot-add, onlining by hand, ACPI unplug with
# DEVICE_DELETED, loadgen.  memzone's own rule is set aside (before udevd starts) for this scenario.
. "$(dirname "$0")/../vmlib.sh"

if ! vm_boot --mem 1G --virtio-mem 1G --no-memzone; then fail "VM boots to the control shell"; vm_finish; exit; fi
pass "VM boots to the control shell (${VM_BOOT_SECS}s)"

gcheck "kernel $VM_KERNEL_REL runs, memory block size 128 MiB, virtio_mem loaded" "
[ \"\$(uname -r)\" = '$VM_KERNEL_REL' ] || { echo \"uname -r: \$(uname -r)\"; exit 1; }
[ \"\$(block_size)\" = 134217728 ] || { echo \"block size \$(block_size)\"; exit 1; }
[ -d /sys/bus/virtio/drivers/virtio_mem ] || { echo 'no virtio_mem driver'; cat /proc/modules; exit 1; }"

gcheck "udevd's rules dirs hold only memzone's rules (set aside here) and the harness event logger" '
rules=$(ls -d /etc/udev/rules.d/* /run/udev/rules.d/* /usr/lib/udev/rules.d/* /usr/local/lib/udev/rules.d/* \
            /run/mzvm/hidden/* 2>/dev/null)
echo "$rules"
bad=$(echo "$rules" | grep -v -e "/99-memzone-vm-events.rules$" -e "memzone[^/]*\.rules$")
[ -z "$bad" ] || { echo "unexpected: $bad"; exit 1; }
pidof systemd-udevd >/dev/null || { echo "udevd not running"; exit 1; }'

# memzone is out of the picture (--no-memzone: its rules were set aside before udevd started);
# switch the kernel's auto-online off so the blocks stay offline
CTL 'echo offline > $M/auto_online_blocks' >/dev/null

CTL 'snap d1' >/dev/null
t0=$(date +%s.%N)
check "QMP object-add + device_add pc-dimm 512M" dimm_add d1 512M
gcheck "4 new memory blocks appear, offline, with add uevents" '
wait_new_blocks d1 4 20000 || { echo "blocks: $(new_since d1)"; exit 1; }
settle
for b in $(new_since d1); do
    [ "$(bstate $b)" = offline ] || { echo "memory$b is $(bstate $b)"; exit 1; }
    [ "$(nevents add $b)" = 1 ] || { echo "memory$b: $(nevents add $b) add events"; exit 1; }
done
showblocks $(new_since d1)'
diag "DIMM 512M device_add -> 4 blocks in guest sysfs: $(_since "$t0")s"

gcheck "online_movable by hand; wait_blocks_online sees them" '
for b in $(new_since d1); do echo online_movable > $M/memory$b/state || exit 1; done'
check "wait_blocks_online 4" wait_blocks_online 4 20
gcheck "the 4 blocks are Movable and managed by ZONE_MOVABLE" '
bad=$(not_in_zone Movable $(new_since d1)); [ -z "$bad" ] || { echo "$bad"; exit 1; }
[ "$(movable_pages)" -ge $((4 * 32768)) ] || { echo "Movable managed: $(movable_pages)"; exit 1; }
echo "zones: $(zs)"'

t0=$(date +%s.%N)
check "dimm_del d1: ACPI unplug of an all-Movable DIMM ends with DEVICE_DELETED" dimm_del d1 30
diag "device_del -> DEVICE_DELETED: $(_since "$t0")s"
gcheck "its blocks are gone from sysfs" '
n=$(new_since d1 | wc -l); [ "$n" = 0 ] || { echo "still there: $(new_since d1)"; exit 1; }'

CTL 'snap v1' >/dev/null
t0=$(date +%s.%N)
check "virtio-mem grow to 256M (qom-set requested-size, plugged size follows)" vmem_resize 256M 30
gcheck "2 new virtio-mem blocks appear" 'wait_new_blocks v1 2 20000 || { echo "new: $(new_since v1)"; exit 1; }'
diag "virtio-mem grow 256M -> 2 blocks: $(_since "$t0")s"

gcheck "loadgen pt builds ~32 MiB of page tables, then releases them" '
pt() { awk "/^PageTables:/{print \$2}" /proc/meminfo; }
before=$(pt)
loadgen pt --target 32M --rate 64 --hold 30 > /tmp/lg.log 2>&1 </dev/null &
t=$(ns); while ! grep -q holding /tmp/lg.log; do [ $(ms_since $t) -gt 30000 ] && { cat /tmp/lg.log; exit 1; }; sleep 0.1; done
during=$(pt); kill $!; wait
after=$(pt)
cat /tmp/lg.log | tail -n 3
echo "PageTables kB: before=$before during=$during after=$after"
[ $((during - before)) -ge 30000 ] && [ $((during - after)) -ge 30000 ]'

gcheck "loadgen files creates and removes 2000 tmpfs files" '
loadgen files --count 2000 --dir /tmp/lgf > /tmp/lgf.log 2>&1 </dev/null || exit 1
grep -q "released 2000 files" /tmp/lgf.log && [ ! -e /tmp/lgf ]'

vm_finish
