#!/bin/bash
# 01-default-zone.sh - (a) [online] default_zone: a hot-added DIMM goes wholly to ZONE_MOVABLE with
# default_zone=movable, and to a kernel zone (Normal) with default_zone=kernel.
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 1G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = movable
EOF
snap a' >/dev/null
t0=$(date +%s.%N)
check "hot-add DIMM dA 1G" dimm_add dA 1G
gcheck "default_zone=movable: dA's 8 blocks come online" 'wait_new_online a 8 30000' || vm_bail "blocks did not come online"
diag "device_add 1G -> 8 blocks online: $(_since "$t0")s"
gcheck "default_zone=movable: every block of dA is in ZONE_MOVABLE" '
showblocks $(new_since a)
bad=$(not_in_zone Movable $(new_since a)); [ -z "$bad" ] || { echo "not Movable: $bad"; exit 1; }'

CTL 'mzconf <<EOF
[online]
default_zone = kernel
EOF
snap b' >/dev/null
check "hot-add DIMM dB 1G" dimm_add dB 1G
gcheck "default_zone=kernel: dB's 8 blocks come online" 'wait_new_online b 8 30000' || vm_bail "blocks did not come online"
gcheck "default_zone=kernel: every block of dB is in ZONE_NORMAL" '
showblocks $(new_since b)
bad=$(not_in_zone Normal $(new_since b)); [ -z "$bad" ] || { echo "not Normal: $bad"; exit 1; }'
gcheck "dA is still wholly Movable" '
bad=$(not_in_zone Movable $(between a b)); [ -z "$bad" ] || { echo "$bad"; exit 1; }'
vm_finish
