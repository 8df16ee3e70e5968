#!/bin/bash
# vm-modes: 6.1 6.12
# 12-memzoned-whole-dimm.sh - DIMMs hot-added while memzoned decides new memory end with all their
# blocks in one zone. The kernel sends a block's "add" before ACPI binds the block to its memory
# device (memoryN/firmware_node): memzoned hears the first block of a DIMM while it still looks
# like memory of an unknown agent. Decided then, alone, that block fitted the cap (Movable) where
# the DIMM as a whole did not (Normal): 1 + 63 blocks, a DIMM that can never be unplugged.
# ratio = 10 keeps "one block fits, an 8 GiB DIMM does not" true for every 8 GiB DIMM here (the cap
# grows with each DIMM that goes Normal: ratio_basis = current, whose decisions read no boot baseline
# and so come soonest after the kernel's add: the race is likeliest); the moves are off so that only
# new memory is decided.
# The race is timing-dependent: three 8 GiB DIMMs one by one, then a burst of four 1 GiB ones.
# Asserts on the guest's sysfs: blocks grouped by their firmware_node, one zone per group.
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 2G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
ratio = 10
ratio_basis = current

[rebalance]
grow_kernel = no
grow_movable = no
EOF
start_memzoned --log stderr --verbose
mzd_wait_decides' >/dev/null
gcheck "memzoned started and onlines new memory" 'mzd_decides'

# One line per ACPI memory device: "PNP0C80:NN ZONE..." for each zone its blocks are in; a DIMM
# whose blocks are in two zones prints two lines. Blocks without a firmware_node count as "none".
# shellcheck disable=SC2016
per_dimm='for b in $L; do fw=$(readlink $M/memory$b/firmware_node); echo "${fw##*/} $(bzone $b)"; done | sort | uniq -c'
# shellcheck disable=SC2016
one_zone_each='s=$('"$per_dimm"'); echo "$s"
[ -n "$s" ] && [ -z "$(echo "$s" | awk "{print \$2}" | uniq -d)" ] && ! echo "$s" | grep -q " none "'

for i in 1 2 3; do
    CTL "snap s$i" >/dev/null
    t0=$(date +%s.%N)
    check "hot-add DIMM d$i 8G (64 blocks)" dimm_add "d$i" 8G
    gcheck "d$i's 64 blocks online" "wait_new_online s$i 64 90000" || vm_bail "blocks did not come online"
    diag "[$VM_MODE] device_add 8G -> 64 blocks online: $(_since "$t0")s"
    gcheck "d$i: every block in one zone (its first block decided with the DIMM, not alone)" "L=\$(new_since s$i); $one_zone_each"
done

CTL 'snap burst' >/dev/null
check "burst: 4 x 1G DIMMs in one QMP session" dimm_add_many 1G e1 e2 e3 e4
gcheck "the burst's 32 blocks online" 'wait_new_online burst 32 90000' || vm_bail "blocks did not come online"
gcheck "burst: each DIMM's blocks in one zone" "L=\$(new_since burst); $one_zone_each"
gcheck "all hot-added DIMMs: one zone each (nothing moved since)" "L=\$(hot_blocks); $one_zone_each"
diag "$(CTL 'grep -E "bound to|no ACPI memory device" /tmp/memzoned.log | head -n 12' 2>&1)"
vm_finish
