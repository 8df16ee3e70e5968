#!/bin/bash
# 08-rule-skip.sh - the udev rule starts no helper for the blocks the first helper of their device
# onlined ahead of their events: after a 64-block DIMM, run/memzone/onlined/memoryN.ZONE markers are
# left over (a helper takes its block's marker; only the events the rule skipped leave theirs), each
# naming the zone its block is online in, and every block was onlined exactly once.
# udevd runs a bounded number of events at once (children_max, about a dozen here), so most of the
# 63 events come after the sweep wrote their markers.
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 2G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = movable
EOF
snap a' >/dev/null
t0=$(date +%s.%N)
check "hot-add DIMM dA 8G (64 blocks)" dimm_add dA 8G
gcheck "dA's 64 blocks come online" 'wait_new_online a 64 90000' || vm_bail "blocks did not come online"
diag "device_add 8G -> 64 blocks online: $(_since "$t0")s"
gcheck "every block of dA is in ZONE_MOVABLE" '
bad=$(not_in_zone Movable $(new_since a)); [ -z "$bad" ] || { echo "not Movable: $bad"; exit 1; }'
gcheck "every block of dA was onlined exactly once" '
udevadm settle -t 60
bad=0
for b in $(new_since a); do
    [ "$(nevents add $b)/$(nevents online $b)" = 1/1 ] || { echo "memory$b: add=$(nevents add $b) online=$(nevents online $b)"; bad=1; }
done
[ $bad = 0 ]'
gcheck "the rule skipped the events of blocks onlined ahead: their markers are left" '
n=$(ls /run/memzone/onlined | wc -l)
echo "$n of 63 events skipped by the rule"
[ "$n" -ge 1 ]'
gcheck "each marker left names a block of dA online in that zone" '
bad=0
for m in $(ls /run/memzone/onlined); do
    b=${m#memory}; z=${b#*.}; b=${b%%.*}
    new_since a | grep -qx "$b" && [ "$(bzone "$b")" = "$z" ] || { echo "$m: memory$b $(bzone "$b")"; bad=1; }
done
[ $bad = 0 ]'
vm_finish
