#!/bin/bash
# 05-whole-device-unplug.sh - (e) whole_device=yes with default_zone=auto ratio=301, boot 1 GiB (cap
# ~2.6 GiB of movable): DIMM dA (2 GiB) fits under the cap, DIMM dB (1 GiB) straddles it.  Every
# DIMM's blocks must share one zone, the cap holds, and QMP device_del of the all-Movable DIMM
# succeeds (DEVICE_DELETED; ACPI unplug needs every block of the DIMM offline-able).
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 1G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = auto
ratio = 301

[source dimm]
whole_device = yes
EOF
snap a' >/dev/null
check "hot-add DIMM dA 2G" dimm_add dA 2G
gcheck "dA's 16 blocks online" 'wait_new_online a 16 40000' || vm_bail "blocks did not come online"
CTL 'snap b' >/dev/null
check "hot-add DIMM dB 1G (straddles the ratio cap)" dimm_add dB 1G
gcheck "dB's 8 blocks online" 'wait_new_online b 8 30000' || vm_bail "blocks did not come online"

# shellcheck disable=SC2016
one_zone='z=$(for b in $L; do bzone $b; done | sort | uniq -c); echo "zones:" $z; [ "$(echo "$z" | wc -l)" = 1 ]'
gcheck "whole_device: all 16 blocks of dA in one zone" "L=\$(between a b); $one_zone"
gcheck "whole_device: all 8 blocks of dB in one zone" "L=\$(new_since b); $one_zone"
gcheck "movable/kernel <= 3.01" 'echo "zones: $(zs)"; ratio_ok 301'
gcheck "dA (fits under the cap) is Movable" '
bad=$(not_in_zone Movable $(between a b)); [ -z "$bad" ] || { echo "$bad"; exit 1; }'

t0=$(date +%s.%N)
check "QMP device_del dA -> DEVICE_DELETED within 60 s" dimm_del dA 60
diag "device_del of a 2 GiB Movable DIMM -> DEVICE_DELETED: $(_since "$t0")s"
gcheck "dA's blocks are gone, movable/kernel still <= 3.01" '
left=$(for b in $(between a b); do [ -e $M/memory$b ] && echo $b; done); [ -z "$left" ] || { echo "left: $left"; exit 1; }; ratio_ok 301'
if CTL '[ -z "$(not_in_zone Movable $(new_since b))" ]' >/dev/null; then
    check "dB went Movable too: device_del dB -> DEVICE_DELETED" dimm_del dB 60
fi
vm_finish
