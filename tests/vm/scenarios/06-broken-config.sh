#!/bin/bash
# 06-broken-config.sh - (f) a broken /etc/memzone.conf must never leave hot-added memory offline:
# memzone onlines with its defaults and logs an error (to the kernel log: the guest has no journal).
# A missing config file onlines too.
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 1G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = sideways
ratio = lots
this line is not ini
[source dimm
zone = movable
EOF
snap broken' >/dev/null
check "hot-add DIMM d1 512M with a broken config" dimm_add d1 512M
gcheck "broken config: the DIMM's 4 blocks come online anyway" '
wait_new_online broken 4 30000 && showblocks $(new_since broken)'
gcheck "broken config: memzone logged a warning or error naming its config to the kernel log" '
hits=$(mzlog_level 4 | grep -i conf)
echo "$hits" | head -n 5
[ -n "$hits" ]'

CTL 'rm -f "$MZ_CONF"; rm -rf "$MZ_CONF.d"; snap missing' >/dev/null
check "hot-add DIMM d2 512M without any config file" dimm_add d2 512M
gcheck "missing config: the DIMM's 4 blocks come online" '
wait_new_online missing 4 30000 && showblocks $(new_since missing)'
vm_finish
