#!/bin/bash
# vm-modes: 6.1 6.12
# 13-kernel-mode.sh - the shipped default (kernel_auto_online = policy): `memzone init` (run at boot as memzone-init.service
# would) hands the policy to the kernel's auto-movable policy, and the kernel onlines new memory in
# the add path, in the zone the cap allows, with no move by memzone afterwards (its helper audits).
# 1 GiB of boot memory: a first 2 GiB DIMM fits 301 % of the boot kernel memory (Movable), a second
# does not (all of it in a kernel zone: ACPI devices are onlined as a whole). Then
# `memzone init --restore` puts back the kernel's own settings. Asserts on the guest's sysfs.
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
trap vm_cleanup EXIT
# the installed /etc/memzone.conf: the shipped default policy
vm_boot --mem 1G || { fail "VM boots"; vm_finish; exit; }

gcheck "memzone init handed the policy to the kernel (auto_online_blocks, online_policy, ratio, NUMA-aware)" '
P=/sys/module/memory_hotplug/parameters
v="$(cat $M/auto_online_blocks) $(cat $P/online_policy) $(cat $P/auto_movable_ratio) $(cat $P/auto_movable_numa_aware)"
echo "$v"; [ "$v" = "online auto-movable 301 Y" ]'

CTL 'kernel_present_pages > /tmp/bootk; snap d1' >/dev/null
check "hot-add DIMM d1 2G" dimm_add d1 2G
gcheck "d1: all 16 blocks onlined by the kernel in Movable, never offlined again" '
wait_new_online d1 16 30000 || exit 1; settle
for b in $(new_since d1); do echo "memory$b $(bzone $b) online=$(nevents online $b) offline=$(nevents offline $b)"; done
bad=$(not_in_zone Movable $(new_since d1)); [ -z "$bad" ] || exit 1
for b in $(new_since d1); do [ "$(nevents offline $b)" = 0 ] || exit 1; done'
gcheck "d1: the udev rule started no helper for the kernel's blocks (kernel log)" '
n=0; for b in $(new_since d1); do dmesg | grep -q "memzone\[[0-9]*\]: memory$b:" && n=$((n + 1)); done
echo "blocks with a helper line: $n"; [ "$n" = 0 ]'

CTL 'snap d2' >/dev/null
check "hot-add DIMM d2 2G" dimm_add d2 2G
gcheck "d2 does not fit the cap: all 16 blocks in one kernel zone, Movable within 301 % of boot kernel memory, never offlined" '
wait_new_online d2 16 30000 || exit 1; settle
z=$(for b in $(new_since d2); do bzone $b; done | sort -u | tr "\n" " "); echo "d2 zones: $z"
mv=$(zone_present Movable) bk=$(cat /tmp/bootk); echo "movable=$((mv / 256))MiB boot kernel=$((bk / 256))MiB"
[ "$z" = "Normal " ] && [ $((mv * 100)) -le $((301 * bk)) ] || exit 1
for b in $(new_since d2); do [ "$(nevents offline $b)" = 0 ] || { echo "memory$b offlined"; exit 1; }; done'

case $VM_MODE in 6.1) found=offline ;; *) found=online ;; esac
gcheck "memzone init --restore puts back the kernel's own settings ($found contig-zones 301 Y)" '
"$MZ_BIN" init --restore; P=/sys/module/memory_hotplug/parameters
v="$(cat $M/auto_online_blocks) $(cat $P/online_policy) $(cat $P/auto_movable_ratio) $(cat $P/auto_movable_numa_aware)"
echo "$v"; [ "$v" = "'"$found"' contig-zones 301 Y" ]'
vm_finish
