#!/bin/bash
# 03-burst.sh - (c) a burst: 4 DIMMs back to back in one QMP connection plus a virtio-mem grow of
# 2 GiB, with default_zone=auto ratio=301.  Every new block ends up online and was onlined exactly once
# (counted from the uevents the harness's udev rule logs; if the kernel auto-onlined the block, memzone
# may re-online it once: online - offline = 1 and online <= 2), and movable/kernel never goes above
# 3.01, also while the burst is being processed (sampled every 50 ms in the guest).
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 1G --virtio-mem 2G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = auto
ratio = 301
EOF
snap burst
cat $M/auto_online_blocks > /tmp/auto-online-at-burst
# ratio sampler: logs every sample where movable*100 > 301*kernel
( while [ ! -e /tmp/stop-sampler ]; do
      mv=$(zone_present Movable); kn=$(kernel_present_pages)
      [ $((mv * 100)) -gt $((301 * kn)) ] && echo "$(cut -d" " -f1 /proc/uptime) movable=$mv kernel=$kn" >> /tmp/ratio-violations
      sleep 0.05
  done ) >/dev/null 2>&1 </dev/null &' >/dev/null

t0=$(date +%s.%N)
mapfile -t cmds < <(for i in 1 2 3 4; do _dimm_cmds "b$i" $((512 << 20)); done
    echo "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"vm0\",\"property\":\"requested-size\",\"value\":$((2 << 30))}}")
check "burst: 4 x 512M DIMM device_add + virtio-mem requested-size 2G in one QMP session" \
    QMP --timeout 60 "${cmds[@]}"
gcheck "all 32 new blocks (16 DIMM + 16 virtio-mem) come online" 'wait_new_online burst 32 90000' || vm_bail "blocks did not come online"
diag "burst of 4 GiB (32 blocks) -> all online: $(_since "$t0")s"
CTL 'touch /tmp/stop-sampler; sleep 0.2' >/dev/null

gcheck "every block was onlined exactly once (no double onlining, none missed)" '
strict=0; [ "$(cat /tmp/auto-online-at-burst)" = offline ] && strict=1
echo "auto_online_blocks at burst time: $(cat /tmp/auto-online-at-burst)"
bad=0
for b in $(new_since burst); do
    on=$(nevents online $b); off=$(nevents offline $b); add=$(nevents add $b)
    if [ "$add" != 1 ] || [ $((on - off)) != 1 ] || [ "$on" -gt 2 ] || { [ $strict = 1 ] && [ "$on" != 1 ]; }; then
        echo "memory$b: add=$add online=$on offline=$off"; bad=1
    fi
done
[ $bad = 0 ]'
gcheck "movable/kernel <= 3.01 after the burst" 'echo "zones: $(zs)"; ratio_ok 301'
gcheck "movable/kernel never above 3.01 while the burst was processed" '
[ ! -s /tmp/ratio-violations ] || { head -n 5 /tmp/ratio-violations; exit 1; }'
vm_finish
