#!/bin/bash
# helper-guest-cost.sh OUT.jsonl - where the time of one `memzone online` goes inside the guest, to
# explain item 3 (issue 8): process start, memzone's decision, the kernel's onlining of one block.
#
# One VM per kernel (boot memory 4 GiB), a 1 GiB DIMM that nobody onlines. In the guest, each program
# started BENCH_SPAWN_RUNS times one after the other the way udevd runs a RUN+= program (mzprobe
# spawn: fork + exec + wait):
#   /bin/true                       a static busybox applet: the floor of any process under this CPU
#   memzone --version               memzone's process start: dynamic loader, libsystemd, libudev, inih
#   memzone plan memoryN            + reading the state and the policy decision for one offline block
#                                   (no lock, no write)
#   memzone online memoryM          the whole helper on a block that is already online in its zone
#                                   (lock, fresh snapshot, decision "leave"; no kernel work)
# and the kernel's own work: `online_movable` written to each of the other blocks, timed (mzprobe
# timewrite). One JSON line per measurement.
#
# Environment: BENCH_KERNELS (default "6.1 6.12"), BENCH_SPAWN_RUNS (default 21).
set -u -o pipefail
. "$(dirname "$0")/benchvm.sh"

export BENCH_OUT=${1:?usage: helper-guest-cost.sh OUT.jsonl}
KERNELS=${BENCH_KERNELS:-6.1 6.12}
RUNS=${BENCH_SPAWN_RUNS:-21}
bench_vm_prepare || exit 1
failures=0

for VM_MODE in $KERNELS; do
    if ! vm_boot --mem 4G >&2; then failures=$((failures + 1)); continue; fi
    blog "guest-cost: [$VM_MODE $VM_KERNEL_REL] up in ${VM_BOOT_SECS}s"
    gctl 'bench_quiet; bench_method none; snap g' >/dev/null
    if ! dimm_add g 1G || ! gctl 'wait_new_blocks g 8 60000' >/dev/null; then
        blog "guest-cost: hot-add failed"; failures=$((failures + 1)); vm_shutdown; continue
    fi
    lines=$(gctl --timeout 600 'set -- $(new_since g); first=$1; shift
echo "true $(mzprobe spawn '"$RUNS"' /bin/true)"
echo "version $(mzprobe spawn '"$RUNS"' $MZ_BIN --version)"
echo "plan $(mzprobe spawn '"$RUNS"' $MZ_BIN plan memory$first)"
echo "kernel-online $(mzprobe timewrite $M/memory$first/state online_movable)"
echo "leave $(mzprobe spawn '"$RUNS"' $MZ_BIN online memory$first)"
for b; do echo "kernel-online $(mzprobe timewrite $M/memory$b/state online_movable)"; done')
    while read -r what rest; do
        [ -n "$what" ] || continue
        bench_record bench=guest-cost kernel="$VM_MODE" kernel_release="$VM_KERNEL_REL" accel="$(bench_accel)" \
            what="$what" line="$rest"
        case $rest in SPAWN*failed=0*|WRITE*rc=0) ;; *) blog "guest-cost: $what: $rest"; failures=$((failures + 1)) ;; esac
    done <<< "$lines"
    blog "guest-cost: $(echo "$lines" | tr '\n' ';')"
    vm_shutdown
done
blog "guest-cost: done, $failures failure(s)"
[ "$failures" -eq 0 ]
