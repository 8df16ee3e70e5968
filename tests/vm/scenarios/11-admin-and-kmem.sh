#!/bin/bash
# 11-admin-and-kmem.sh - an administrator's offline is kept, dax/kmem memory is never left offline
#   1. a hot-added block the admin offlines by hand (echo offline > state) stays offline through
#      memzoned's ticks, a memzoned restart after SIGKILL (which decides every offline block), a
#      clean restart, `memzone init` and a `udevadm trigger --action=add` replay (helper and
#      memzoned), because udevd keeps MEMZONE_OFFLINED=1 for it (rules/60-memzone.rules); a block
#      with no such record (hot-added before udev ran) is still onlined by the replay;
#   2. (6.12) a dax device bound to dax_kmem the way the kernel binds CXL RAM regions: a memmap=
#      legacy-pmem range made a devdax namespace through sysfs and rebound from device_dax to kmem.
#      Without a daxctl config its blocks are onlined by the policy after kmem_wait; with a
#      /etc/daxctl.conf.d section naming its nvdimm.uuid they are left to daxctl.
# vm-modes: 6.1 6.12
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
# 6.12: two 384 MiB legacy-pmem ranges carved out of RAM (e820 type 12 -> nd_e820 regions)
dax_append=
[ "$VM_MODE" = 6.12 ] && dax_append='memmap=384M!0x40000000 memmap=384M!0x58000000'
vm_boot --mem 2G ${dax_append:+--append "$dax_append"} || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = movable
kmem_wait = 2s
[rebalance]
interval = 200ms
EOF
snap a' >/dev/null
check "hot-add DIMM dA 1G" dimm_add dA 1G
gcheck "dA's 8 blocks come online (Movable)" '
wait_new_online a 8 60000 || exit 1
[ -z "$(not_in_zone Movable $(new_since a))" ]'

# X: offlined by the admin; Y: offline with no udev record, as memory hot-added before udev ran
gcheck "the admin offlines one block by hand; udevd records MEMZONE_OFFLINED=1 for it" '
set -- $(new_since a); X=$2; Y=$3; echo "$X $Y" > /tmp/xy
echo offline > $M/memory$X/state || exit 1
settle
echo "memory$X: $(bstate $X)"; cat /run/udev/data/+memory:memory$X
[ "$(bstate $X)" = offline ] && grep -qx "E:MEMZONE_OFFLINED=1" /run/udev/data/+memory:memory$X'
gcheck "... and memzone status --blocks says why it is left offline" '
read X Y < /tmp/xy
"$MZ_BIN" status --blocks | grep -F "offline (offlined during this boot; memzone leaves it)"'
gcheck "the admin offline survives memzoned ticks (3 s)" '
read X Y < /tmp/xy
start_memzoned --log stderr
mzd_wait_decides
sleep 3; echo "memory$X: $(bstate $X)"; [ "$(bstate $X)" = offline ]'
gcheck "... a memzoned killed and restarted (it then decides every offline block)" '
read X Y < /tmp/xy
kill -KILL $(cat /run/mzvm/memzoned.pid); sleep 0.5
start_memzoned --log stderr
t=$(ns); until grep -q "offline block(s) at start" /tmp/memzoned.log; do [ $(ms_since $t) -gt 20000 ] && break; sleep 0.05; done
sleep 2; grep -m1 "memory$X: left offline" /tmp/memzoned.log
grep -q "offline block(s) at start" /tmp/memzoned.log && grep -q "memory$X: left offline" /tmp/memzoned.log && [ "$(bstate $X)" = offline ]'
gcheck "... a udevadm trigger --action=add replay while memzoned runs" '
read X Y < /tmp/xy
udevadm trigger --action=add $M/memory$X; settle; sleep 1
echo "memory$X: $(bstate $X)"; [ "$(bstate $X)" = offline ]'
gcheck "... memzoned stopped: the same replay through the udev rule" '
read X Y < /tmp/xy
stop_memzoned; mzd_wait_gone
udevadm trigger --action=add $M/memory$X; settle; sleep 1
echo "memory$X: $(bstate $X)"; [ "$(bstate $X)" = offline ]'
gcheck "... memzone init" '
read X Y < /tmp/xy
"$MZ_BIN" init; echo "rc=$? memory$X: $(bstate $X)"; [ "$(bstate $X)" = offline ]'
gcheck "a block offline with no udev record (hot-added before udev ran) is onlined by the replay" '
read X Y < /tmp/xy
echo offline > $M/memory$Y/state || exit 1
settle; rm -f /run/udev/data/+memory:memory$Y
udevadm trigger --action=add $M/memory$Y; settle
t=$(ns); until [ "$(bstate $Y)" = online ]; do [ $(ms_since $t) -gt 10000 ] && break; sleep 0.05; done
echo "memory$Y: $(bzone $Y); memory$X: $(bstate $X)"; [ "$(bzone $Y)" = Movable ] && [ "$(bstate $X)" = offline ]'
gcheck "the admin onlines the block again: the record is cleared" '
read X Y < /tmp/xy
echo online_movable > $M/memory$X/state || exit 1
settle; [ "$(bzone $X)" = Movable ] && ! grep -q "MEMZONE_OFFLINED" /run/udev/data/+memory:memory$X 2>/dev/null'

[ "$VM_MODE" = 6.12 ] || { vm_finish; exit; }

# ---- dax/kmem. mkdax REGION UUID: the region's namespace made devdax through sysfs (what
# `ndctl create-namespace -m devdax` writes), its dax device unbound from device_dax and bound to
# kmem (what `daxctl reconfigure-device -m system-ram` and the kernel's CXL path do); prints it.
CTL 'cat > /tmp/mkdax.sh <<EOF
r=\$1 u=\$2 nd=/sys/bus/nd/devices
ns=\$(basename \$(ls -d \$nd/\$r/namespace*.* | head -n 1))
echo \$ns > /sys/bus/nd/drivers/nd_pmem/unbind 2>/dev/null
d=\$(cat \$nd/\$r/dax_seed)
echo \$u > \$nd/\$d/uuid && echo pmem > \$nd/\$d/mode && echo 2097152 > \$nd/\$d/align &&
echo \$ns > \$nd/\$d/namespace && echo \$d > /sys/bus/nd/drivers/dax_pmem/bind || exit 1
x=\$(basename \$(ls -d \$nd/\$d/dax[0-9]*.[0-9]* | head -n 1))
echo \$x > /sys/bus/dax/drivers/device_dax/unbind 2>/dev/null
echo \$x > /sys/bus/dax/drivers/kmem/new_id 2>/dev/null
[ -e /sys/bus/dax/drivers/kmem/\$x ] || echo \$x > /sys/bus/dax/drivers/kmem/bind || exit 1
echo \$x
EOF' >/dev/null
gcheck "two legacy-pmem regions (memmap=), nd and dax modules loaded" '
ls /sys/bus/nd/devices/; ls -d /sys/bus/nd/devices/region0 /sys/bus/nd/devices/region1 /sys/bus/dax/drivers/kmem'
U1=6d1f3e2a-4b5c-4d6e-8f70-8192a3b4c5d6 U2=ed93e918-e165-49d8-921d-383d7b9660c5
gcheck "without a daxctl config: region0 bound to kmem, memzoned running: its blocks come online (policy: Movable) after kmem_wait" '
start_memzoned --log stderr
mzd_wait_decides
snap k1; x=$(sh /tmp/mkdax.sh region0 '"$U1"') || { dmesg | tail -n 20; exit 1; }
echo "dax device: $x"; grep -i "kmem" /proc/iomem
wait_new_blocks k1 1 20000 || exit 1
t=$(ns); until [ "$(online_count $(new_since k1))" = "$(new_since k1 | wc -l)" ]; do [ $(ms_since $t) -gt 20000 ] && break; sleep 0.1; done
echo "after $(ms_since $t) ms:"; showblocks $(new_since k1)
grep -m2 "kmem_wait" /tmp/memzoned.log
[ -z "$(not_in_zone Movable $(new_since k1))" ]'
gcheck "with /etc/daxctl.conf.d naming region1 nvdimm.uuid: its kmem blocks are left offline for daxctl" '
stop_memzoned; mzd_wait_gone
mkdir -p /etc/daxctl.conf.d
printf "[reconfigure-device cxl-like]\nnvdimm.uuid = %s\nmode = system-ram\nonline = true\nmovable = true\n" '"$U2"' > /etc/daxctl.conf.d/mem.conf
snap k2; x=$(sh /tmp/mkdax.sh region1 '"$U2"') || { dmesg | tail -n 20; exit 1; }
echo "dax device: $x"
wait_new_blocks k2 1 20000 || exit 1
settle; sleep 4; showblocks $(new_since k2)
dmesg | grep -m1 "left to daxctl"
[ "$(online_count $(new_since k2))" = 0 ]'
gcheck "... memzone status --blocks says it is left to daxctl" '
"$MZ_BIN" status --blocks | grep -F "offline (left to daxctl)"'

vm_finish
