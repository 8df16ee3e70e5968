#!/bin/bash
# policy-quality.sh OUT.jsonl SAMPLES_DIR - both halves of the trade-off, per onlining policy (issue 8,
# item 4): does a kernel-memory ramp run into the OOM killer, and how much of the hot-added memory can
# be unplugged afterwards?
#
# Each configuration in a fresh VM (kernel 6.1, boot memory 1 GiB, same initramfs):
#   a  kernel auto-online, online_policy=auto-movable, auto_movable_ratio=301 (memzone's rule set aside)
#   b  kernel auto-online, everything online_movable
#   c  kernel auto-online, everything online_kernel
#   d  memzone's udev rule, built-in default policy, no memzoned
#   e  memzone's udev rule + memzoned, built-in defaults
#   e301, e500  (not run by default) the same with ratio = 301 or 500: how much a higher cap (the same
#         with or without memzoned) changes the result
# Timeline (the same for all): hot-add one 4 GiB DIMM (32 blocks) and wait for its blocks; sample
# every 500 ms (mzprobe sample -> SAMPLES_DIR/<config>-<run>.tsv); ramp unmovable kernel memory with
# `loadgen pt` (page tables: BENCH_RAMP_TARGET, default 1536M, at BENCH_RAMP_RATE MiB/s, default 16;
# the boot memory has ~0.9 GiB), hold it BENCH_HOLD seconds (30), release it (loadgen exits); then
# watch: BENCH_SETTLE seconds (20) without memzoned, with memzoned until no move for 90 s, every
# hot-added block Movable, or BENCH_RELEASE_MAX seconds (420). Finally QMP device_del of the DIMM
# (60 s for DEVICE_DELETED). Recorded: OOM kills (vmstat oom_kill), "page allocation failure" lines,
# whether loadgen reached its target, peak kernel-zone pressure (lowest kernel free - high watermark,
# highest PSI some avg10, kernel direct-reclaim stalls), blocks in Movable after the release, moves;
# with memzoned, what the pages of the hot-added blocks left in a kernel zone are (kpageflags).
#
# Memory layouts (BENCH_POLICY_LAYOUTS, default "std normal512"), the same 1 GiB of boot memory:
#   std        QEMU's default: all of it below 4 GiB, so the guest's boot memory is DMA/DMA32 only and
#              the first hot-added blocks onlined to a kernel zone are its only ZONE_NORMAL (the issue's
#              comparison: every configuration of BENCH_POLICY_CONFIGS runs in it)
#   normal512  -machine pc,max-ram-below-4g=512M: 512 MiB below 4 GiB, 512 MiB above it, a boot
#              ZONE_NORMAL of ~0.5 GiB as on real servers (where most RAM is above 4 GiB); the DIMM lands
#              above it (device memory starts at the next GiB after RAM). Runs the configurations of
#              BENCH_POLICY_CONFIGS_NORMAL512 (default "a b c d e"). The boot memory holds as much as
#              in std, so the ramp is the same.
# Sample tables of layouts other than std are named <config>-<layout>-<kernel>-<run>.tsv.
#
# Environment: BENCH_POLICY_CONFIGS (default "a b c d e"), BENCH_POLICY_CONFIGS_NORMAL512 (default
# "a b c d e"), BENCH_POLICY_LAYOUTS, BENCH_POLICY_RUNS (default 1), BENCH_KERNELS (default "6.1"), plus the
# ramp settings above.
set -u -o pipefail
. "$(dirname "$0")/benchvm.sh"

export BENCH_OUT=${1:?usage: policy-quality.sh OUT.jsonl SAMPLES_DIR}
SAMPLES=${2:?usage: policy-quality.sh OUT.jsonl SAMPLES_DIR}
CONFIGS=${BENCH_POLICY_CONFIGS:-a b c d e}
CONFIGS_NORMAL512=${BENCH_POLICY_CONFIGS_NORMAL512:-a b c d e}
LAYOUTS=${BENCH_POLICY_LAYOUTS:-std normal512}
RUNS=${BENCH_POLICY_RUNS:-1}
KERNELS=${BENCH_KERNELS:-6.1}
TARGET=${BENCH_RAMP_TARGET:-1536M}
RATE=${BENCH_RAMP_RATE:-16}
HOLD=${BENCH_HOLD:-30}
SETTLE=${BENCH_SETTLE:-20}
RELEASE_MAX=${BENCH_RELEASE_MAX:-420}
HOTADD=${BENCH_POLICY_HOTADD:-4G}
# vmlib kills a VM after VM_WATCHDOG seconds (default 300); a run with memzoned lasts up to
# boot + hot-add + ramp + hold + RELEASE_MAX + device_del
export VM_WATCHDOG=${VM_WATCHDOG:-$(( $(to_bytes "$TARGET") / 1048576 / RATE + HOLD + RELEASE_MAX + 400 ))}
mkdir -p "$SAMPLES"
bench_vm_prepare || exit 1
WORK=$(mktemp -d /tmp/mzbench-pq.XXXXXX)
pq_exit() { local rc=$?; rm -rf "$WORK"; bench_vm_cleanup; exit $rc; }
trap pq_exit EXIT
failures=0

describe() {
    case $1 in
        a) echo "kernel auto-movable, ratio 301" ;;
        b) echo "kernel: everything online_movable" ;;
        c) echo "kernel: everything online_kernel" ;;
        d) echo "memzone helper only (defaults)" ;;
        e) echo "memzone helper + memzoned (defaults)" ;;
        e301|e500) echo "memzone helper + memzoned, ratio = ${1#e}" ;;
        *) return 1 ;;
    esac
}
boot_config() {  # boot_config CONFIG: vm_boot with what the configuration needs
    local conf=$WORK/memzone.conf
    : > "$conf"
    case $1 in
        a) vm_boot --mem 1G --no-memzone --append "memhp_default_state=online memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_ratio=301" ;;
        b) vm_boot --mem 1G --no-memzone --append memhp_default_state=online_movable ;;
        c) vm_boot --mem 1G --no-memzone --append memhp_default_state=online_kernel ;;
        d|e) vm_boot --mem 1G --conf "$conf" ;;
        e301|e500) printf '[online]\nratio = %s\n' "${1#e}" > "$conf"; vm_boot --mem 1G --conf "$conf" ;;
    esac
}
layout_machine() {  # layout_machine LAYOUT: QEMU's -machine value
    case $1 in
        std) echo pc ;;
        normal512) echo pc,max-ram-below-4g=512M ;;
        *) return 1 ;;
    esac
}
layout_configs() { case $1 in std) echo "$CONFIGS" ;; normal512) echo "$CONFIGS_NORMAL512" ;; esac; }
daemon() { case $1 in e|e301|e500) return 0 ;; *) return 1 ;; esac; }

for layout in $LAYOUTS; do
  BENCH_QEMU_MACHINE=$(layout_machine "$layout") || { blog "policy: unknown layout $layout"; exit 2; }
  export BENCH_QEMU_MACHINE
for VM_MODE in $KERNELS; do
  for ((run = 1; run <= RUNS; run++)); do
    for cfg in $(layout_configs "$layout"); do
        desc=$(describe "$cfg") || { blog "policy: unknown configuration $cfg"; exit 2; }
        tag=$cfg-$VM_MODE-$run
        [ "$layout" = std ] || tag=$cfg-$layout-$VM_MODE-$run
        if ! boot_config "$cfg" >&2; then
            bench_record bench=policy config="$cfg" layout="$layout" kernel="$VM_MODE" run:="$run" error="boot failed"
            failures=$((failures + 1)); continue
        fi
        blog "policy: [$VM_MODE $VM_KERNEL_REL] ($cfg) $desc, layout $layout (-machine $BENCH_QEMU_MACHINE): up in ${VM_BOOT_SECS}s"
        gctl 'bench_quiet; snap pq; echo "auto_online_blocks=$(cat $M/auto_online_blocks)"; cat /proc/cmdline' >&2
        # managed memory of each zone at boot: which zones the boot memory gives the kernel
        boot_zones=$(gctl 'for z in DMA DMA32 Normal Movable; do printf "%s=%dM " $z $(( $(zone_field $z managed) / 256 )); done; echo')
        blog "policy:   boot zones (managed): $boot_zones"
        if [ "$layout" != std ] && [ "$(gctl 'zone_field Normal managed')" = 0 ]; then
            bench_record bench=policy config="$cfg" layout="$layout" kernel="$VM_MODE" run:="$run" error="no boot ZONE_NORMAL: $boot_zones"
            failures=$((failures + 1)); vm_shutdown; continue
        fi
        daemon "$cfg" && gctl 'start_memzoned --log stderr; sleep 2' >/dev/null
        t_add=$(date +%s.%N)
        if ! dimm_add pq "$HOTADD"; then
            bench_record bench=policy config="$cfg" layout="$layout" kernel="$VM_MODE" run:="$run" error="device_add failed"
            failures=$((failures + 1)); vm_shutdown; continue
        fi
        nb=$(( $(to_bytes "$HOTADD") / $(gctl 'block_size') ))
        gctl --timeout 150 "wait_new_online pq $nb 120000" >/dev/null || blog "policy:   not every block came online"
        online_s=$(_since "$t_add")
        zones_added=$(gctl 'hot_zones')
        hot_first=$(gctl 'hot_blocks | sort -n | head -n 1')
        blog "policy:   $nb blocks online after ${online_s}s: $zones_added (first hot-added block: memory$hot_first)"
        gctl "sleep 3
mzprobe sample --interval-ms 500 --until /tmp/stop-sampler > /tmp/pq.tsv 2>&1 < /dev/null &
sleep 3
loadgen pt --target $TARGET --rate $RATE --hold $HOLD > /tmp/pq-lg.log 2>&1 < /dev/null &
echo \$! > /tmp/pq-lg.pid" >/dev/null
        # ramp + hold: until loadgen is gone (done, or killed by the OOM killer)
        limit=$(( $(to_bytes "$TARGET") / 1048576 / RATE + HOLD + 120 ))
        gctl --timeout $((limit + 30)) "t=\$(ns); while kill -0 \$(cat /tmp/pq-lg.pid) 2>/dev/null; do
    [ \"\$(ms_since \$t)\" -gt $((limit * 1000)) ] && { kill \$(cat /tmp/pq-lg.pid); echo overtime; break; }
    sleep 1; done" >&2
        t_rel=$(date +%s.%N)
        # after the release
        if daemon "$cfg"; then
            gctl --timeout $((RELEASE_MAX + 30)) "t=\$(ns); last=\$(tail -n 1 /tmp/pq.tsv | cut -f20); lt=\$t
while [ \"\$(ms_since \$t)\" -lt $((RELEASE_MAX * 1000)) ]; do
    sleep 2; r=\$(tail -n 1 /tmp/pq.tsv)
    [ \"\$(echo \"\$r\" | cut -f18)\" = 0 ] && [ \"\$(echo \"\$r\" | cut -f19)\" = 0 ] && { echo 'all hot-added blocks Movable'; break; }
    m=\$(echo \"\$r\" | cut -f20); [ \"\$m\" != \"\$last\" ] && { last=\$m; lt=\$(ns); }
    [ \"\$(ms_since \$lt)\" -gt 90000 ] && { echo 'no move for 90 s'; break; }
done" >&2
        else
            sleep "$SETTLE"
        fi
        release_s=$(_since "$t_rel")
        if ! kill -0 "$VM_QEMU_PID" 2>/dev/null; then
            blog "policy:   the VM died during the run: $(tail -n 2 "$VM_DIR/qemu.out" 2>/dev/null | tr '\n' ' ')"
            bench_record bench=policy config="$cfg" layout="$layout" desc="$desc" kernel="$VM_MODE" run:="$run" error="the VM died during the run"
            failures=$((failures + 1)); vm_shutdown; continue
        fi
        gctl 'touch /tmp/stop-sampler; sleep 1' >/dev/null
        gctl 'cat /tmp/pq.tsv' > "$SAMPLES/$tag.tsv"
        lg=$(gctl 'cat /tmp/pq-lg.log | tail -n 4')
        allocfail=$(gctl 'dmesg | grep -c "page allocation failure"')
        oomlines=$(gctl 'dmesg | grep -E "Out of memory|oom-kill|Killed process" | tail -n 4')
        zones_end=$(gctl 'hot_zones')
        dlog='' pages=''
        if daemon "$cfg"; then
            dlog=$(gctl 'stop_memzoned; sleep 0.5; grep -c " moved from " /tmp/memzoned.log; tail -n 12 /tmp/memzoned.log')
            # why the blocks memzoned harvested stayed in the kernel zone: what their pages are now
            pages=$(gctl --timeout 300 'for b in $(hot_blocks); do [ "$(bzone $b)" = Movable ] || block_pages $b; done')
        fi
        t_del=$(date +%s.%N)
        if dimm_del pq 60 2>/dev/null; then unplug=true; else unplug=false; fi
        del_s=$(_since "$t_del")
        left=$(gctl 'hot_zones')
        blog "policy:   after release: $zones_end; device_del: $unplug (${del_s}s); loadgen: $(echo "$lg" | tail -n 1)"
        summary=$(python3 "$BENCH_VM_HERE/policy-summary.py" "$SAMPLES/$tag.tsv")
        bench_record bench=policy config="$cfg" layout="$layout" machine="$BENCH_QEMU_MACHINE" boot_zones="$boot_zones" \
            hot_first_block:="${hot_first:-null}" desc="$desc" kernel="$VM_MODE" kernel_release="$VM_KERNEL_REL" \
            accel="$(bench_accel)" run:="$run" hotadd="$HOTADD" blocks:="$nb" ramp="$TARGET at $RATE MiB/s, hold ${HOLD}s" \
            online_s:="$online_s" release_s:="$release_s" zones_added="$zones_added" zones_end="$zones_end" \
            unplugged:="$unplug" unplug_s:="$del_s" zones_after_unplug="$left" loadgen="$lg" alloc_failures:="${allocfail:-0}" \
            oom_log="$oomlines" memzoned_log="$dlog" kernel_block_pages="$pages" samples="$tag.tsv" summary:="$summary"
        vm_shutdown
    done
  done
done
done
blog "policy: done, $failures failure(s)"
[ "$failures" -eq 0 ]
