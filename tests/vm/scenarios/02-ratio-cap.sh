#!/bin/bash
# 02-ratio-cap.sh - (b) default_zone=auto, ratio=301: boot with 1 GiB, hot-add 8 GiB as 8 DIMMs one
# after the other.  After each DIMM every block is online and managed Movable <= 301% of managed kernel
# memory (every zone but Movable).  With 1 GiB at boot the cap is reached part-way, so some DIMMs must
# go to kernel zones.
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 1G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = auto
ratio = 301
EOF' >/dev/null
t0=$(date +%s.%N)
for i in 1 2 3 4 5 6 7 8; do
    CTL "snap d$i" >/dev/null
    if ! dimm_add "d$i" 1G; then fail "hot-add DIMM d$i 1G"; continue; fi
    gcheck "DIMM $i/8 (1 GiB): all 8 blocks online, movable/kernel <= 3.01" "
wait_new_online d$i 8 30000 || exit 1
echo \"d$i: \$(for b in \$(new_since d$i); do bzone \$b; done | sort | uniq -c | tr '\n' ' ')\"
ratio_ok 301" || CTL "[ \$(online_count \$(new_since d$i)) = 8 ]" >/dev/null || vm_bail "DIMM $i did not come online"
done
diag "8 x 1 GiB DIMMs added and onlined in $(_since "$t0")s"
gcheck "some hot-added memory went to ZONE_MOVABLE (the policy is not all-kernel)" '
echo "zones: $(zs)"; [ "$(movable_pages)" -gt 0 ]'
gcheck "some hot-added memory went to ZONE_NORMAL (the cap forced kernel onlining)" '
[ "$(zone_managed Normal)" -gt 0 ]'
vm_finish
