#!/bin/bash
# 04-per-source.sh - (d) [source dimm] zone=movable and [source virtio_mem] zone=kernel: a DIMM and a
# virtio-mem grow of the same size end up in different zones.
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 1G --virtio-mem 1G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = auto

[source dimm]
zone = movable

[source virtio_mem]
zone = kernel
EOF
snap dimm' >/dev/null
check "hot-add DIMM d1 512M" dimm_add d1 512M
gcheck "DIMM blocks online" 'wait_new_online dimm 4 30000' || vm_bail "blocks did not come online"
gcheck "[source dimm] zone=movable: every DIMM block is Movable" '
showblocks $(new_since dimm)
bad=$(not_in_zone Movable $(new_since dimm)); [ -z "$bad" ] || { echo "$bad"; exit 1; }'

CTL 'snap vmem' >/dev/null
check "virtio-mem grow to 512M" vmem_resize 512M 30
gcheck "virtio-mem blocks online" 'wait_new_online vmem 4 30000' || vm_bail "blocks did not come online"
gcheck "[source virtio_mem] zone=kernel: every virtio-mem block is Normal" '
showblocks $(new_since vmem); grep -i virtio /proc/iomem
bad=$(not_in_zone Normal $(new_since vmem)); [ -z "$bad" ] || { echo "$bad"; exit 1; }'
vm_finish
