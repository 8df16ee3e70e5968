#!/bin/bash
# record.sh NAME OUTDIR - record a pressure trace in a QEMU guest for the replay tests (test-pressure).
#
# Boots Debian 12's 6.1 kernel (tests/vm/vmlib.sh) with 1 GiB of boot memory (all DMA32: the only
# kernel zone) plus a 2 GiB DIMM onlined as ZONE_MOVABLE, runs one workload while a guest shell loop
# dumps /proc/zoneinfo, node0 meminfo, /proc/vmstat and /proc/pressure/memory every 100 ms, and
# writes OUTDIR/NAME.trace (see tests/traces/README.md for the format). No memzone runs in the guest:
# the traces show what the kernel does without a rebalancer, so the replay can tell when the min
# watermark would have been crossed.
#
# NAME: ramp-64  page tables built at 64 MiB/s until the kernel zone runs out (OOM kills loadgen)
#       ramp-16  the same at 16 MiB/s
#       noisy    an idle-but-noisy guest: bursts of files (slab), anonymous memory, page cache, forks
#
# Needs what tests/vm/run.sh needs (qemu-system-x86_64, busybox-static, udev, python3). Takes 1-3 min.
# KEEP_RAW=1 keeps OUTDIR/NAME.raw (the untrimmed dump) next to the trace.
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=${1:?usage: record.sh ramp-64|ramp-16|noisy OUTDIR}
OUT=${2:?usage: record.sh NAME OUTDIR}
OUT=$(cd "$OUT" && pwd)

# the guest needs no memzone: an empty stage tree
STAGE_DIR=$(mktemp -d /tmp/mztrace-stage.XXXXXX)
export MEMZONE_VM_STAGE=$STAGE_DIR VM_MODE=6.1 VM_SCENARIO="trace-$NAME" VM_WATCHDOG=600
# shellcheck source=../vm/vmlib.sh
. "$HERE/../vm/vmlib.sh"
trap 'rm -rf "$STAGE_DIR"; vm_cleanup' EXIT

BASE=:
case $NAME in
    ramp-64) WORK='loadgen pt --target 1G --rate 64 --hold 5 > /tmp/loadgen.log 2>&1'; SECS=40 ;;
    ramp-16) WORK='loadgen pt --target 1G --rate 16 --hold 5 > /tmp/loadgen.log 2>&1'; SECS=90 ;;
    noisy)   WORK='noise > /tmp/loadgen.log 2>&1'; SECS=60
             # a steady 600 MiB of page tables first: kernel free sits ~130 MiB above the floor, the noise on top
             BASE='(echo 500 > /proc/self/oom_score_adj; exec loadgen pt --target 600M --hold -1 > /tmp/base.log 2>&1) & while ! grep -q holding /tmp/base.log; do sleep 0.2; done' ;;
    *) echo "record.sh: unknown trace $NAME" >&2; exit 2 ;;
esac

die() { echo "record.sh: $*" >&2; exit 1; }
vm_boot --mem 1G || die 'guest did not boot'
dimm_add d1 2G || die 'dimm_add failed'
CTL 'wait_nblocks 24 && for b in $(hot_blocks); do echo online_movable > $M/memory$b/state; done; zs' >&2 || die 'cannot online the DIMM'

# One sample: "@@T <uptime>" then the four files (compact.py names them).  uptime has 10 ms resolution.
CTL --timeout $((SECS + 120)) "
sample() {   # one fork: busybox head puts a header line before each file
    read up _ < /proc/uptime
    echo \"@@T \$up\"
    head -n 2000 /proc/zoneinfo /sys/devices/system/node/node0/meminfo /proc/vmstat /proc/pressure/memory
}
# idle-but-noisy: slab bursts, anonymous churn, page cache written and dropped, short-lived forks
noise() {
    i=0
    while [ \$i -lt $SECS ]; do
        case \$((i % 6)) in
            0) loadgen files --count 3000 --rate 6000 --hold 1 ;;
            1) loadgen anon --target 96M --rate 200 --hold 1 ;;
            2) dd if=/dev/zero of=/tmp/cache bs=1M count=64 2>/dev/null; sleep 1; rm -f /tmp/cache ;;
            3) for j in 1 2 3 4 5 6 7 8; do (cat /proc/meminfo > /dev/null) & done; wait; sleep 1 ;;
            4) loadgen pt --target 24M --rate 48 --hold 1 ;;
            5) sleep 1 ;;
        esac
        i=\$((i + 1))
    done
}
echo -1000 > /proc/self/oom_score_adj
$BASE
rm -f /tmp/trace.raw
sample >> /tmp/trace.raw
rm -f /tmp/work.done
( echo 1000 > /proc/self/oom_score_adj; $WORK; touch /tmp/work.done ) &
work=\$!
echo '@@E workload started' >> /tmp/trace.raw
end=\$(( \$(cut -d. -f1 /proc/uptime) + $SECS ))
while [ \$(cut -d. -f1 /proc/uptime) -lt \$end ]; do
    read a _ < /proc/uptime
    sample >> /tmp/trace.raw
    read b _ < /proc/uptime
    d=\$(( \${b%.*}\${b#*.} - \${a%.*}\${a#*.} ))       # centiseconds the sample took
    if [ -n \"\$work\" ] && [ -e /tmp/work.done ]; then
        echo '@@E workload ended' >> /tmp/trace.raw; work=
        end=\$(( \$(cut -d. -f1 /proc/uptime) + 5 ))
    fi
    [ \$d -lt 10 ] && usleep \$(( (10 - d) * 10000 ))   # one sample per 100 ms when the guest keeps up
done
[ -n \"\$work\" ] && { kill \$work; wait \$work; echo '@@E workload stopped' >> /tmp/trace.raw; }
sed 's/^/@@L /' /tmp/loadgen.log >> /tmp/trace.raw
gzip -c /tmp/trace.raw | base64 > /tmp/trace.b64
" >&2 || die "recording failed"
CTL --timeout 120 'cat /tmp/trace.b64' | base64 -d | gzip -dc > "$OUT/$NAME.raw" || die "cannot fetch the trace"
vm_shutdown
python3 "$HERE/compact.py" "$OUT/$NAME.raw" > "$OUT/$NAME.trace" || die "compact.py failed"
[ -n "${KEEP_RAW:-}" ] || rm -f "$OUT/$NAME.raw"
echo "record.sh: $OUT/$NAME.trace ($(grep -c '^@@T' "$OUT/$NAME.trace") samples)" >&2
