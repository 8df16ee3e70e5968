#!/bin/bash
# 50-rebalance-ramp.sh - memzoned on a real kernel: the block it harvests first is the least-occupied
# one; kernel memory built at 64 MiB/s up to twice the boot kernel memory without an OOM kill; the
# memory is given back once the load is gone.
#
# 1 GiB of boot memory (DMA + DMA32: the only kernel zones), everything hot-added goes Movable
# (default_zone = movable: the rebalancer harvests on demand).
#   pick: dA (512M, lower addresses) is emptied (offlined while dB fills, then onlined again);
#         dB (512M, higher addresses) holds 480 MiB of tmpfs. `memzone rebalance --once` must take a dA block
#         (its highest-address rival would be a dB block).
#   user pressure: memzoned runs; tmpfs fills memory to ~200 MiB free and a writer in a cgroup is
#         throttled by memory.high for 15 s (PSI some avg10 >= 1%): no block may leave Movable (the
#         kernel zones are not short of kernel memory, Movable has no room), oom_kill unchanged.
#   ramp: dC (3G) more; memzoned runs; loadgen builds page tables at 64 MiB/s to 2 x the boot kernel
#         memory; oom_kill must not move and the kernel zones must have grown past the page tables.
#   release: loadgen frees them; memzoned gives blocks back after release_delay.
# vm-modes: 6.1 6.12-offline
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
VM_WATCHDOG=${VM_WATCHDOG:-600}
vm_boot --mem 1G --smp 2 || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = movable
[rebalance]
interval = 1s
moves_per_minute = 60
release_delay = 15s
cooldown = 10s
backoff_initial = 10s
EOF
echo offline > $M/auto_online_blocks
awk "/^Node/{z=\$4} \$1==\"managed\" && z!=\"Movable\" && z!=\"Device\" {s+=\$2} END{print s}" /proc/zoneinfo > /tmp/boot-kernel-pages' >/dev/null

# ---- pick: the least-occupied block wins over the highest address
CTL 'snap a' >/dev/null
dimm_add dA 512M || vm_bail "dimm_add dA"
gcheck "dA: 4 blocks online Movable" 'wait_new_online a 4 30000 && settle && new_since a > /tmp/dA && [ -z "$(not_in_zone Movable $(cat /tmp/dA))" ]' ||
    vm_bail "dA not online"
CTL 'snap b' >/dev/null
dimm_add dB 512M || vm_bail "dimm_add dB"
gcheck "dB: 4 blocks online Movable" 'wait_new_online b 4 30000 && settle && new_since b > /tmp/dB && [ -z "$(not_in_zone Movable $(cat /tmp/dB))" ]' ||
    vm_bail "dB not online"
gcheck "dA emptied, dB filled with 480 MiB of tmpfs pages, dA back online Movable" '
for b in $(cat /tmp/dA); do echo offline > $M/memory$b/state || exit 1; done
mkdir -p /tmp/fill && mount -t tmpfs -o size=600m tmpfs /tmp/fill &&
dd if=/dev/zero of=/tmp/fill/f bs=1M count=480 2>/dev/null || exit 1
for b in $(cat /tmp/dA); do echo online_movable > $M/memory$b/state || exit 1; done
settle; echo "dA: $(cat /tmp/dA | tr "\n" " ") dB: $(cat /tmp/dB | tr "\n" " ")"; zs'
CTL 'cat > /tmp/pick.conf <<EOF
[rebalance]
headroom = 900M
release_headroom = 1G
EOF' >/dev/null
lcheck "memzone rebalance --once harvests a block of dA (least occupied), not dB (higher address)" 60 '
"$MZ_BIN" rebalance --once --dry-run --json --config /tmp/pick.conf > /tmp/pick.json 2>&1; cat /tmp/pick.json
"$MZ_BIN" rebalance --once --config /tmp/pick.conf > /tmp/pick.out 2>&1; rc=$?; cat /tmp/pick.out
[ $rc = 0 ] || exit 1
b=$(sed -n "s/.*ok: memory\([0-9]*\) moved from Movable.*/\1/p" /tmp/pick.out)
[ -n "$b" ] && grep -qx "$b" /tmp/dA && [ "$(bzone $b)" = Normal ]'

# ---- user pressure: memory filled with tmpfs pages (no swap) and a writer throttled by a cgroup's
# memory.high really stall (PSI), but the kernel zones are not short of kernel memory and Movable is
# full: a conversion helps nothing, so no block may leave Movable (zoneinfo sampled every second).
# Before dC, so that little is left to fill; memzoned runs for this phase only.
lcheck "user-memory pressure (tmpfs fill, memory.high-throttled writer) stalls (PSI some avg10 >= 1%) but no block leaves Movable, oom_kill unchanged" 180 '
"$MZ_DAEMON" --log stderr > /tmp/memzoned-up.log 2>&1 </dev/null &
t=$(ns); while [ ! -s /run/memzone/state ]; do [ $(ms_since $t) -gt 20000 ] && { cat /tmp/memzoned-up.log; exit 1; }; sleep 0.1; done
oom0=$(awk "/^oom_kill /{print \$2}" /proc/vmstat)
for b in $(hot_blocks); do echo "$b $(bzone $b)"; done > /tmp/up-z0
kn0=$(kernel_pages)
mkdir -p /tmp/up && mount -t tmpfs -o size=16g,huge=always tmpfs /tmp/up || exit 1
fill=$(( $(awk "/^MemFree:/{print \$2}" /proc/meminfo) / 1024 - 200 ))
t=$(ns); fallocate -l $((fill * 1048576)) /tmp/up/fill || exit 1
echo "tmpfs fill (fallocate, huge pages) $fill MiB in $(ms_since $t) ms; zones: $(zs)"
CG=/sys/fs/cgroup
grep -q "^cgroup2 $CG " /proc/mounts || mount -t cgroup2 cgroup2 $CG || exit 1
echo +memory > $CG/cgroup.subtree_control && mkdir -p $CG/hog && echo 16M > $CG/hog/memory.high || exit 1
sh -c "echo \$\$ > $CG/hog/cgroup.procs; while :; do dd if=/dev/zero of=/tmp/hog bs=1M count=64; rm -f /tmp/hog; done" > /dev/null 2>&1 < /dev/null &
max=0 kmax=$kn0 t=$(ns)
while [ $(ms_since $t) -lt 15000 ]; do
    p=$(awk -F "[ =]" "/^some/{print \$3}" /proc/pressure/memory)
    max=$(awk -v a=$max -v b=$p "BEGIN{print (b > a) ? b : a}")
    k=$(kernel_pages); [ $k -gt $kmax ] && kmax=$k
    sleep 1
done
echo "free at the end: $(awk "/^MemFree:/{print \$2 / 1024}" /proc/meminfo) MiB; $(grep ^some /proc/pressure/memory)"
echo 1 > $CG/hog/cgroup.kill; sleep 1; rmdir $CG/hog
rm -f /tmp/up/fill /tmp/hog; umount /tmp/up
pid=$(cat /run/memzone/memzoned.lock); kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.1; done; rm -f /run/memzone/state
grep -c "grow-kernel" /tmp/memzoned-up.log | sed "s/^/memzoned grow-kernel lines: /"
for b in $(hot_blocks); do echo "$b $(bzone $b)"; done > /tmp/up-z1
oom1=$(awk "/^oom_kill /{print \$2}" /proc/vmstat)
left=$(awk "NR == FNR { z[\$1] = \$2; next } z[\$1] == \"Movable\" && \$2 != \"Movable\" { printf \"memory%s=%s \", \$1, \$2 }" /tmp/up-z0 /tmp/up-z1)
echo "PSI some avg10 max $max%; kernel managed $((kn0 / 256)) MiB, at most $((kmax / 256)) MiB; oom_kill $oom0 -> $oom1; left Movable: ${left:-none}"
awk -v m=$max "BEGIN { exit !(m >= 1) }" && [ -z "$left" ] && [ $kmax -le $kn0 ] && [ "$oom1" = "$oom0" ]' 6
# ---- ramp: page tables at 64 MiB/s to twice the boot kernel memory
CTL 'snap c' >/dev/null
dimm_add dC 3G || vm_bail "dimm_add dC"
gcheck "dC: 24 blocks online Movable" 'wait_new_online c 24 60000 && settle' || vm_bail "dC not online"
gcheck "memzoned starts (its pid in memzoned.lock, first state file)" '
"$MZ_DAEMON" --log stderr > /tmp/memzoned.log 2>&1 </dev/null &
t=$(ns); while [ ! -s /run/memzone/state ]; do [ $(ms_since $t) -gt 20000 ] && { cat /tmp/memzoned.log; exit 1; }; sleep 0.1; done
cat /run/memzone/memzoned.lock'
target_mib=$(CTL 'echo $(( $(cat /tmp/boot-kernel-pages) * 2 / 256 ))' | tr -d '\r\n ')
diag "boot kernel memory: $((target_mib / 2)) MiB; page-table target: $target_mib MiB"
t0=$(date +%s.%N)
lcheck "loadgen pt at 64 MiB/s reaches ${target_mib} MiB of page tables with oom_kill unchanged" 300 "
oom0=\$(awk '/^oom_kill /{print \$2}' /proc/vmstat)
echo \$oom0 > /tmp/oom0
loadgen pt --target ${target_mib}M --rate 64 --hold 25 > /tmp/lg.log 2>&1 </dev/null &
t=\$(ns)
while ! grep -q holding /tmp/lg.log; do
    [ \$(ms_since \$t) -gt 240000 ] && break
    grep -q -e done -e Killed /tmp/lg.log && break
    sleep 0.5
done
tail -n 3 /tmp/lg.log
oom1=\$(awk '/^oom_kill /{print \$2}' /proc/vmstat)
echo \"oom_kill \$oom0 -> \$oom1; zones: \$(zs)\"
grep -q holding /tmp/lg.log && [ \"\$oom1\" = \"\$oom0\" ]"
diag "ramp to ${target_mib} MiB: $(_since "$t0")s"
gcheck "the kernel zones grew past twice the boot kernel memory" '
kn=$(kernel_pages); echo "kernel now $((kn / 256)) MiB, boot $(( $(cat /tmp/boot-kernel-pages) / 256 )) MiB"
[ "$kn" -ge $(( $(cat /tmp/boot-kernel-pages) * 2 )) ]'
lcheck "memzoned harvested blocks (moves logged with their reason), no failure left a block offline" 60 '
grep -c "moved from Movable" /tmp/memzoned.log; grep "moved from Movable" /tmp/memzoned.log | head -n 3
grep -q "moved from Movable" /tmp/memzoned.log && [ -z "$(blocks $(hot_blocks) | grep offline)" ]'

# ---- release: the page tables go, the blocks come back to Movable
lcheck "after loadgen releases its page tables, memzoned gives blocks back to Movable" 300 '
t=$(ns); while ! grep -q released /tmp/lg.log; do [ $(ms_since $t) -gt 90000 ] && exit 1; sleep 0.5; done
mv0=$(movable_pages)
t=$(ns); while [ $(movable_pages) -le $mv0 ]; do [ $(ms_since $t) -gt 120000 ] && break; sleep 1; done
echo "movable $((mv0 / 256)) MiB -> $(( $(movable_pages) / 256 )) MiB; zones: $(zs)"
grep -E "moved from (Normal|DMA32) to Movable|refused" /tmp/memzoned.log | head -n 5
[ $(movable_pages) -gt $mv0 ]'
# memzoned may be in the middle of its next give-back (a block going-offline): stop it first
# (SIGTERM ends the move it is making)
gcheck "oom_kill never moved; every hot-added block is online" '
pid=$(cat /run/memzone/memzoned.lock); kill $pid; t=$(ns)
while kill -0 $pid 2>/dev/null; do [ $(ms_since $t) -gt 30000 ] && { echo "memzoned did not stop"; exit 1; }; sleep 0.1; done
oom=$(awk "/^oom_kill /{print \$2}" /proc/vmstat); off=$(blocks $(hot_blocks) | grep offline)
echo "oom_kill $(cat /tmp/oom0) -> $oom; offline: ${off:-none}; zones: $(zs)"
[ "$oom" = "$(cat /tmp/oom0)" ] && [ -z "$off" ]'
CTL 'tail -n 15 /tmp/memzoned.log' | sed 's/^/# /'
vm_finish
