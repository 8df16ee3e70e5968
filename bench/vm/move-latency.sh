#!/bin/bash
# move-latency.sh OUT.jsonl - what one move costs, and how fast memzoned reacts (issue 8, item 5).
#
# Part 1, block moves (no memzone involved): boot 2 GiB, hot-add a DIMM of BENCH_MOVE_BLOCKS blocks,
# nobody onlines it. For each measurement one block is onlined movable (the only block in the
# Movable zone), filled with 0, 50 or 100 % of a block of anonymous memory (loadgen anon; user pages
# go to the Movable zone first; page cache dropped, the used share is read from zoneinfo), then
# "offline" (migrates what is in use to the boot memory) and "online_kernel" are written and each
# write is timed in the guest (mzprobe timewrite). Fill levels interleave; each block is used once.
# Part 2, memzoned's reaction: boot 1 GiB with memzone's rule, hot-add a 2 GiB DIMM (Movable under
# the default policy), start memzoned (default config: interval 1 s), let it warm up 15 s, then load
# page tables (loadgen pt) while sampling every 100 ms, in two shapes:
#   step  768 MiB as fast as the guest can fault them: kernel free falls through the floor at once;
#         pressure onset = first sample with kernel-zone free < high watermark + headroom (64 MiB,
#         memzoned's floor), reaction = onset -> first sample with a hot-added block in a kernel zone
#   ramp  BENCH_REACT_RATE MiB/s up to 1 GiB: memzoned may convert on the trend before the floor is
#         crossed (reaction < 0, or no onset at all); reported from the start of the load
# BENCH_REACT_RUNS fresh VMs per shape.
#
# Environment: BENCH_KERNELS (default "6.1"), BENCH_MOVE_REPS (per fill level, default 5),
# BENCH_REACT_RUNS (default 3; 0 skips part 2), BENCH_REACT_SHAPES (default "step ramp"),
# BENCH_REACT_RATE (MiB/s of page tables in the ramp, default 16).
set -u -o pipefail
. "$(dirname "$0")/benchvm.sh"

export BENCH_OUT=${1:?usage: move-latency.sh OUT.jsonl}
KERNELS=${BENCH_KERNELS:-6.1}
REPS=${BENCH_MOVE_REPS:-5}
REACT_RUNS=${BENCH_REACT_RUNS:-3}
RATE=${BENCH_REACT_RATE:-16}
SHAPES=${BENCH_REACT_SHAPES:-step ramp}
FILLS=(0 50 100)
bench_vm_prepare || exit 1
failures=0

for VM_MODE in $KERNELS; do
    # ---- part 1
    nblocks=$((REPS * ${#FILLS[@]}))
    if [ "$REPS" -le 0 ]; then
        :
    elif vm_boot --mem 2G --no-memzone >&2; then
        bs=$(gctl 'bench_quiet; bench_method none; block_size')
        blog "move: [$VM_MODE $VM_KERNEL_REL] up in ${VM_BOOT_SECS}s; DIMM of $nblocks blocks"
        gctl 'snap move' >/dev/null
        if dimm_add mv "$((nblocks * bs / 1048576))M" && gctl "wait_new_blocks move $nblocks 60000" >/dev/null; then
            blocks=$(gctl 'new_since move' | tr '\n' ' ')
            i=0
            for b in $blocks; do
                fill=${FILLS[i % ${#FILLS[@]}]}
                line=$(gctl --timeout 180 "move_once $b $((fill * bs / 100 / 1048576))" | grep '^MOVE') || true
                blog "move:   memory$b fill $fill%: ${line:-no result}"
                bench_record bench=move kernel="$VM_MODE" kernel_release="$VM_KERNEL_REL" accel="$(bench_accel)" \
                    block="$b" fill_pct:="$fill" line="${line:-}"
                [[ $line == *offline_rc=0* ]] || failures=$((failures + 1))
                i=$((i + 1))
            done
        else
            blog "move: DIMM hot-add failed"; failures=$((failures + 1))
        fi
        vm_shutdown
    else
        failures=$((failures + 1))
    fi

    # ---- part 2
    [ -x "$VM_STAGE/usr/sbin/memzoned" ] || { [ "$REACT_RUNS" -gt 0 ] && blog "move: no memzoned in the stage, part 2 skipped"; REACT_RUNS=0; }
    for ((run = 1; run <= REACT_RUNS; run++)); do for shape in $SHAPES; do
        case $shape in
            step) lg="loadgen pt --target 768M --hold 5" ;;
            ramp) lg="loadgen pt --target 1G --rate $RATE --hold 5" ;;
            *) blog "move: unknown shape $shape"; exit 2 ;;
        esac
        vm_boot --mem 1G >&2 || { failures=$((failures + 1)); continue; }
        gctl 'bench_quiet; snap r' >/dev/null
        if ! dimm_add r 2G || ! gctl 'wait_new_online r 16 90000' >/dev/null; then
            blog "move: react hot-add failed"; failures=$((failures + 1)); vm_shutdown; continue
        fi
        zones=$(gctl 'hot_zones')
        gctl "start_memzoned --log stderr; sleep 15
mzprobe sample --interval-ms 100 --until /tmp/stop-sampler > /tmp/react.tsv 2>&1 < /dev/null &
sleep 1
$lg > /tmp/react-lg.log 2>&1 < /dev/null &" >/dev/null
        # until a hot-added block is in a kernel zone, loadgen ended, or 150 s
        gctl --timeout 200 't=$(ns); while [ "$(ms_since $t)" -lt 150000 ]; do
    [ "$(tail -n 1 /tmp/react.tsv | cut -f18)" -gt 0 ] 2>/dev/null && break
    grep -q "loadgen: done" /tmp/react-lg.log && break; sleep 0.5; done; sleep 2; touch /tmp/stop-sampler; sleep 0.5' >/dev/null
        tsv=$(gctl 'cat /tmp/react.tsv')
        dlog=$(gctl 'tail -n 30 /tmp/memzoned.log')
        res=$(printf '%s\n' "$tsv" | python3 "$BENCH_VM_HERE/react.py" 65536)
        blog "move: [$VM_MODE] reaction, $shape, run $run: $res"
        bench_record bench=react kernel="$VM_MODE" kernel_release="$VM_KERNEL_REL" accel="$(bench_accel)" run:="$run" \
            shape="$shape" load="$lg" zones_before="$zones" result:="$res" memzoned_log="$dlog"
        vm_shutdown
    done; done
done
blog "move: done, $failures failure(s)"
[ "$failures" -eq 0 ]
