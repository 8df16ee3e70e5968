#!/bin/bash
# 51-rebalance-ebusy.sh - a real kernel refuses the offline of a Normal block that holds unmovable
# pages (EBUSY): memzoned logs it, the block stays online in Normal, it backs off (exponentially) and
# the state file / `memzone status` show it; no block is ever left offline. Blocks whose kpageflags
# show page tables are not even offlined (the kernel would refuse at once): logged as "not offlined",
# the same backoff.
#
# A 512 MiB DIMM is onlined as kernel memory by the policy (default_zone = kernel; a [source dimm]
# zone = kernel rule would pin it there for memzoned too), the only ZONE_NORMAL of a 1 GiB guest, filled
# with page tables (unmovable) by loadgen; kernel free is still far above the release level, so
# memzoned wants to give a block back (grow-movable) and every candidate is busy.
# vm-modes: 6.1 6.12-offline
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 1G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = kernel
[rebalance]
interval = 500ms
release_delay = 2s
cooldown = 1s
moves_per_minute = 60
backoff_initial = 4s
backoff_max = 60s
EOF
echo offline > $M/auto_online_blocks' >/dev/null
CTL 'snap d' >/dev/null
dimm_add d1 512M || vm_bail "dimm_add d1"
gcheck "the DIMM's 4 blocks are online in Normal" 'wait_new_online d 4 30000 && settle && new_since d > /tmp/d1 &&
[ -z "$(not_in_zone Normal $(cat /tmp/d1))" ]; showblocks $(cat /tmp/d1)' || vm_bail "DIMM not online"
lcheck "loadgen fills them with page tables (allocations prefer Normal) and holds them" 150 '
loadgen pt --target 560M --hold -1 > /tmp/lg.log 2>&1 </dev/null &
echo $! > /tmp/lg.pid
t=$(ns); while ! grep -q holding /tmp/lg.log; do [ $(ms_since $t) -gt 120000 ] && exit 1; sleep 0.2; done
zs'
lcheck "memzoned starts and wants to give memory back" 90 'BUSY="offline of memory.* refused|memory[0-9]+ not offlined"
"$MZ_DAEMON" --log stderr > /tmp/memzoned.log 2>&1 </dev/null &
t=$(ns); while ! grep -qE "$BUSY" /tmp/memzoned.log; do
    [ $(ms_since $t) -gt 60000 ] && { tail -n 20 /tmp/memzoned.log; exit 1; }; sleep 0.2; done
grep -m1 -E "$BUSY" /tmp/memzoned.log'
gcheck "EBUSY is logged with the block, the reason (the errno, or the page tables that pin it) and the backoff" '
grep -m3 -E "(refused: Device or resource busy; the block stayed online in Normal|not offlined: [0-9]+ of its pages are slab, page tables or reserved, which the kernel cannot migrate); memory[0-9]* backs off for" /tmp/memzoned.log'
gcheck "... the busy blocks stay online in Normal (rolled back by the kernel, not left offline)" '
sleep 3; showblocks $(cat /tmp/d1); [ -z "$(not_in_zone Normal $(cat /tmp/d1))" ]'
gcheck "... the state file lists the failures and the backoffs; memzone status shows them" '
cat /run/memzone/state; grep -q "^backoff=" /run/memzone/state && grep -q " to-movable failed [0-9]* EBUSY" /run/memzone/state &&
"$MZ_BIN" status 2>&1 | tail -n 12'
lcheck "... the backoff doubles for a block that keeps failing" 120 'BUSY="offline of memory.* refused|memory[0-9]+ not offlined"
t=$(ns); while :; do
    b=$(sed -n -E "s/.*(offline of memory([0-9]+) refused|memory([0-9]+) not offlined).*backs off for 8s.*/\2\3/p" /tmp/memzoned.log | head -n1)
    [ -n "$b" ] && break
    [ $(ms_since $t) -gt 90000 ] && { grep -E "$BUSY" /tmp/memzoned.log | tail -n 8; exit 1; }; sleep 0.5
done
grep -E "offline of memory$b refused|memory$b not offlined" /tmp/memzoned.log | head -n 3'
lcheck "once the page tables are gone, a block is given back to Movable" 150 '
kill $(cat /tmp/lg.pid); t=$(ns)
while [ -z "$(blocks $(cat /tmp/d1) | grep -w Movable)" ]; do
    [ $(ms_since $t) -gt 120000 ] && { tail -n 10 /tmp/memzoned.log; exit 1; }; sleep 0.5; done
showblocks $(cat /tmp/d1); grep "moved from Normal to Movable" /tmp/memzoned.log | head -n 2'
# memzoned may be in the middle of its next give-back: stop it first (SIGTERM ends the move it is making)
gcheck "no hot-added block was ever left offline (uevents: every offline followed by an online)" '
pid=$(cat /run/memzone/memzoned.lock); kill $pid; t=$(ns)
while kill -0 $pid 2>/dev/null; do [ $(ms_since $t) -gt 30000 ] && { echo "memzoned did not stop"; exit 1; }; sleep 0.1; done
for b in $(cat /tmp/d1); do
    [ "$(bstate $b)" = online ] || { echo "memory$b $(bstate $b)"; exit 1; }
done'
vm_finish
