#!/bin/bash
# 07-kernel-auto-online.sh - (g) the kernel onlines new memory itself (6.12's default; 6.1 booted with
# memhp_default_state=online).  Booted with 4 GiB so the kernel already has a Normal zone and the
# auto-onlined blocks are not the only place for kernel allocations.
#   1. kernel_auto_online=keep, already_online=fix, default_zone=movable: blocks end up Movable.
#   2. already_online=leave: memzone leaves the kernel's choice alone (no offline uevent).
#   3. kernel_auto_online=disable + `memzone init` (what boot does): auto_online_blocks becomes
#      offline, and the next DIMM is onlined once, by memzone, in ZONE_MOVABLE.
# vm-modes: 6.1 6.12
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
conf=$(mktemp)
trap 'rm -f "$conf"; vm_cleanup' EXIT
cat > "$conf" <<'CONF'
[online]
default_zone = movable
already_online = fix
kernel_auto_online = keep
CONF
vm_boot --mem 4G --append memhp_default_state=online --conf "$conf" || { fail "VM boots"; vm_finish; exit; }

if CTL '[ -s /etc/memzone-vm.boot-cmds ]' >/dev/null; then
    pass "an installed systemd unit runs 'memzone init' at boot: $(CTL 'cat /etc/memzone-vm.boot-cmds' | head -n1)"
else
    todo "an installed systemd unit runs 'memzone init' at boot" "packaging: none found (the harness runs it at boot instead)"
fi
gcheck "kernel_auto_online=keep: auto_online_blocks still onlines after boot" '
a=$(cat $M/auto_online_blocks); echo "auto_online_blocks=$a"; [ "$a" != offline ]'

CTL 'snap fix' >/dev/null
check "hot-add DIMM f1 512M (the kernel auto-onlines it)" dimm_add f1 512M
gcheck "already_online=fix: all 4 blocks end up online in ZONE_MOVABLE" '
wait_new_online fix 4 30000 || exit 1
for b in $(new_since fix); do echo "memory$b $(bzone $b) online=$(nevents online $b) offline=$(nevents offline $b)"; done
bad=$(not_in_zone Movable $(new_since fix)); [ -z "$bad" ] || { echo "not Movable: $bad"; exit 1; }
for b in $(new_since fix); do
    [ "$(nevents online $b)" -ge 1 ] && [ $(( $(nevents online $b) - $(nevents offline $b) )) = 1 ] || exit 1
done'

CTL 'mzconf <<EOF
[online]
default_zone = movable
already_online = leave
kernel_auto_online = keep
EOF
snap leave' >/dev/null
check "hot-add DIMM l1 512M" dimm_add l1 512M
gcheck "already_online=leave: the kernel-onlined blocks are left alone (no offline uevent)" '
wait_new_online leave 4 30000 || exit 1
for b in $(new_since leave); do echo "memory$b $(bzone $b) online=$(nevents online $b) offline=$(nevents offline $b)"; done
for b in $(new_since leave); do [ "$(nevents offline $b)" = 0 ] && [ "$(nevents online $b)" = 1 ] || exit 1; done'

CTL 'mzconf <<EOF
[online]
default_zone = movable
already_online = fix
kernel_auto_online = disable
EOF' >/dev/null
gcheck "kernel_auto_online=disable: memzone init turns auto_online_blocks off" '
"$MZ_BIN" init; echo "rc=$? auto_online_blocks=$(cat $M/auto_online_blocks)"; [ "$(cat $M/auto_online_blocks)" = offline ]'
CTL 'snap dis' >/dev/null
check "hot-add DIMM n1 512M" dimm_add n1 512M
gcheck "kernel_auto_online=disable: blocks onlined once, by memzone, in ZONE_MOVABLE" '
wait_new_online dis 4 30000 || exit 1
for b in $(new_since dis); do echo "memory$b $(bzone $b) online=$(nevents online $b) offline=$(nevents offline $b)"; done
bad=$(not_in_zone Movable $(new_since dis)); [ -z "$bad" ] || exit 1
for b in $(new_since dis); do [ "$(nevents offline $b)" = 0 ] && [ "$(nevents online $b)" = 1 ] || exit 1; done'
vm_finish
