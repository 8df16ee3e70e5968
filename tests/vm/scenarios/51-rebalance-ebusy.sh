#!/bin/bash
# 51-rebalance-ebusy.sh - a real kernel cannot offline a Normal block that holds unmovable pages
# (EBUSY): memzoned does not even try while the block's kpageflags show page tables (the kernel would
# refuse at once, after dumping the page to its log): it logs the block once with its causes, lists it
# as pinned in the state file and `memzone status`, never writes its state (no offline uevent), and
# gives it back soon after the page tables are gone (its page flags are read each tick, no backoff to
# wait out). No block is ever left offline.
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
lcheck "memzoned starts and wants to give memory back" 90 'BUSY="memory[0-9]+ stays in Normal:|offline of memory.* refused"
"$MZ_DAEMON" --log stderr > /tmp/memzoned.log 2>&1 </dev/null &
t=$(ns); while ! grep -qE "$BUSY" /tmp/memzoned.log; do
    [ $(ms_since $t) -gt 60000 ] && { tail -n 20 /tmp/memzoned.log; exit 1; }; sleep 0.2; done
grep -m1 -E "$BUSY" /tmp/memzoned.log'
gcheck "each busy block is logged once, with the page tables that pin it (the guest's kpageflags agree)" '
sleep 3; for b in $(cat /tmp/d1); do
    n=$(grep -c "memory$b stays in Normal: .*page-table pages, which the kernel cannot migrate" /tmp/memzoned.log)
    echo "memory$b: logged $n time(s); kernel: $(page_causes $b)"
    [ "$n" = 1 ] && [ "$(page_causes $b | sed "s/.*pgtable=\([0-9]*\).*/\1/")" -gt 0 ] || exit 1
done'
gcheck "... the busy blocks stay online in Normal" '
showblocks $(cat /tmp/d1); [ -z "$(not_in_zone Normal $(cat /tmp/d1))" ]'
gcheck "... the state file lists them as pinned, none backing off; memzone status names their causes" '
cat /run/memzone/state; "$MZ_BIN" status > /tmp/st.txt 2>&1; grep "pinned:" /tmp/st.txt
for b in $(cat /tmp/d1); do
    grep -q "^pinned=$b " /run/memzone/state && grep -qE "^  pinned: memory$b since .*page-table pages" /tmp/st.txt || exit 1
done
! grep -q "^backoff=" /run/memzone/state'
lcheck "... and memzoned never wrote their state: no offline uevent in 20 s of wanting them back" 40 '
sleep 20; for b in $(cat /tmp/d1); do echo "memory$b: $(nevents offline $b) offline uevents"; [ "$(nevents offline $b)" = 0 ] || exit 1; done' 4
lcheck "once the page tables are gone, a block is given back to Movable" 150 '
kill $(cat /tmp/lg.pid); t=$(ns)
while [ -z "$(blocks $(cat /tmp/d1) | grep -w Movable)" ]; do
    [ $(ms_since $t) -gt 120000 ] && { tail -n 10 /tmp/memzoned.log; exit 1; }; sleep 0.5; done
echo "first give-back $(ms_since $t) ms after the page tables were freed (release_delay 2s)"
showblocks $(cat /tmp/d1); grep -E "holds no slab|moved from Normal to Movable" /tmp/memzoned.log | head -n 3'
# memzoned may be in the middle of its next give-back: stop it first (SIGTERM ends the move it is making)
gcheck "no hot-added block was ever left offline (uevents: every offline followed by an online)" '
pid=$(cat /run/memzone/memzoned.lock); kill $pid; t=$(ns)
while kill -0 $pid 2>/dev/null; do [ $(ms_since $t) -gt 30000 ] && { echo "memzoned did not stop"; exit 1; }; sleep 0.1; done
for b in $(cat /tmp/d1); do
    [ "$(bstate $b)" = online ] || { echo "memory$b $(bstate $b)"; exit 1; }
done'
vm_finish
