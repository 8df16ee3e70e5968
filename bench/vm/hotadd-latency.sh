#!/bin/bash
# hotadd-latency.sh OUT.jsonl - hot-add to online, side by side in one boot (issue 8, item 3).
#
# Who onlines the new blocks (switched at runtime in the same guest, see guest-funcs.sh):
#   kernel   the kernel itself: auto_online_blocks=online_movable (what memhp_default_state=
#            online_movable sets at boot), no udev rule
#   plain    a distribution-style udev rule: ATTR{state}=="offline", ATTR{state}="online"
#   memzone  memzone's installed udev rule (memzone online, built-in default policy), in userspace
#            mode (auto_online_blocks=offline)
#   kmode    the same rule and policy after `memzone init`: the kernel mode (the kernel onlines in the
#            add path with online_policy=auto-movable; the helper audits)
#   memzoned memzone's installed rule with memzoned running (installed binary, default config,
#            started before and waited for until /run/memzone/memzoned.online resolves): memzoned
#            decides the new blocks from the kernel's uevents, the rule starts no helper. Every
#            other method stops memzoned first (and waits until its link is gone).
# Per round and kernel, three fresh VMs (boot memory 4 GiB, so that the memmap of 64 GiB of
# hot-added memory fits):
#   A  one DIMM of BENCH_HOTADD_SIZE per method, then the virtio-mem device grown by the same size
#      per method (one device, grown four times);
#   B  a burst of BENCH_BURST DIMMs back to back in one QMP session, kernel, memzone, kmode and memzoned;
#   C  the same burst, plain and memzone.
# The order of the methods rotates with the round, so none always goes first into an empty machine.
# Time = first QMP command sent -> the guest's probe saw the last block's "online" uevent (host
# clock), plus the probe's own guest-side figures. One JSON line per hot-add into OUT.jsonl; a
# memzoned line also has "memzoned": memzoned's decision lines and the helpers' kernel-log lines
# during that hot-add (the latter should be 0).
#
# Environment: BENCH_ROUNDS (default 3), BENCH_KERNELS (default "6.1 6.12"), BENCH_HOTADD_SIZE
# (default 8G), BENCH_BURST (COUNTxSIZE, default 8x1G; "none" skips B and C), MEMZONE_BUILDDIR or
# MEMZONE_VM_STAGE, BENCH_VM_PREP (shared preparation dir), ACCEL (tcg).
set -u -o pipefail
. "$(dirname "$0")/benchvm.sh"

export BENCH_OUT=${1:?usage: hotadd-latency.sh OUT.jsonl}
ROUNDS=${BENCH_ROUNDS:-3}
KERNELS=${BENCH_KERNELS:-6.1 6.12}
SIZE=$(to_bytes "${BENCH_HOTADD_SIZE:-8G}") || exit 2
BURST=${BENCH_BURST:-8x1G}
METHODS=(kernel plain memzone kmode memzoned)
BURST_B=(kernel memzone kmode memzoned) BURST_C=(plain memzone)
# boot A: a DIMM and a virtio-mem growth of SIZE per method on top of 4 GiB; vmlib's maxmem=64G
# leaves 60 GiB of device memory, less than the 64 GiB of four methods at 8G. Boot B: a burst of
# COUNT DIMMs per method, more than vmlib's 16 slots for three methods of 8. (Only ever raised.)
maxmem_mib=$((4 * 1024 + 2 * ${#METHODS[@]} * (SIZE >> 20)))
[ "$maxmem_mib" -gt $((64 * 1024)) ] && export BENCH_QEMU_MAXMEM=${maxmem_mib}M
if [ "$BURST" != none ]; then
    n=${BURST%x*}
    [ $((n * ${#BURST_B[@]})) -gt 16 ] && export BENCH_QEMU_SLOTS=$((n * ${#BURST_B[@]}))
fi
bench_vm_prepare || exit 1

failures=0
rotate() {  # rotate N ITEM... -> the items starting at index N mod count
    local n=$1; shift
    local a=("$@") i
    for ((i = 0; i < ${#a[@]}; i++)); do echo "${a[(i + n) % ${#a[@]}]}"; done
}
boot() {  # boot NAME ARGS...: a fresh VM for one group of measurements
    local name=$1; shift
    if ! vm_boot "$@" >&2; then
        blog "hotadd: [$VM_MODE] round $round: boot $name failed"
        bench_record bench=hotadd kernel="$VM_MODE" round:="$round" boot="$name" error="boot failed"
        failures=$((failures + 1)); return 1
    fi
    BLOCK=$(gctl 'bench_quiet; block_size') || return 1
    blog "hotadd: [$VM_MODE $VM_KERNEL_REL] round $round boot $name up in ${VM_BOOT_SECS}s, block $((BLOCK >> 20)) MiB"
}
measure() {  # measure BOOT KIND METHOD NEW JSON...
    local b=$1 kind=$2 m=$3 new=$4 res rc out c0 c1 extra=(); shift 4
    if ! out=$(gctl "bench_method $m" 2>&1); then
        blog "hotadd: cannot switch the guest to method $m: $out"; failures=$((failures + 1)); return 1
    fi
    # memzoned: its decisions and the helpers started meanwhile (kernel log), before and after
    [ "$m" = memzoned ] && c0=$(gctl 'dmesg -c >/dev/null; bench_memzoned_count')
    res=$(bench_hotadd "$new" 240 "$@"); rc=$?
    [ -n "$res" ] || res='{"error": "hotadd.py gave no result"}'
    if [ "$m" = memzoned ]; then
        c1=$(gctl 'bench_memzoned_count')
        if [[ "$c0 $c1" =~ ^([0-9]+)\ [0-9]+\ ([0-9]+)\ ([0-9]+)$ ]]; then
            extra=("memzoned:={\"decisions\": $((BASH_REMATCH[2] - BASH_REMATCH[1])), \"helper_log_lines\": ${BASH_REMATCH[3]}}")
        else
            extra=("memzoned:={\"error\": \"no counts: $c0 / $c1\"}")
        fi
    fi
    bench_record bench=hotadd kernel="$VM_MODE" kernel_release="$VM_KERNEL_REL" accel="$(bench_accel)" round:="$round" \
        boot="$b" kind="$kind" method="$m" blocks:="$new" bytes:=$((new * BLOCK)) result:="$res" "${extra[@]}"
    blog "hotadd:   $kind $m: $res${extra[*]:+ ${extra[*]}}"
    [ $rc -eq 0 ] || failures=$((failures + 1))
}

for VM_MODE in $KERNELS; do
    for ((round = 1; round <= ROUNDS; round++)); do
        mapfile -t order < <(rotate "$round" "${METHODS[@]}")
        if boot A --mem 4G --virtio-mem $((${#METHODS[@]} * SIZE / 1048576))M; then
            new=$((SIZE / BLOCK))
            for m in "${order[@]}"; do
                mapfile -t cmds < <(_dimm_cmds "d-$m" "$SIZE")
                measure A dimm "$m" "$new" "${cmds[@]}"
            done
            grown=0
            for m in "${order[@]}"; do
                grown=$((grown + SIZE))
                measure A virtio_mem "$m" "$new" \
                    "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"vm0\",\"property\":\"requested-size\",\"value\":$grown}}"
            done
            vm_shutdown
        fi
        [ "$BURST" = none ] && continue
        n=${BURST%x*}; bsize=$(to_bytes "${BURST#*x}") || exit 2
        for pair in "${BURST_B[*]}" "${BURST_C[*]}"; do
            b=B; [ "$pair" = "${BURST_C[*]}" ] && b=C
            # shellcheck disable=SC2086
            mapfile -t pm < <(rotate "$round" $pair)
            boot "$b" --mem 4G || continue
            for m in "${pm[@]}"; do
                cmds=()
                for ((i = 1; i <= n; i++)); do mapfile -t -O ${#cmds[@]} cmds < <(_dimm_cmds "b-$m-$i" "$bsize"); done
                measure "$b" burst "$m" $((n * bsize / BLOCK)) "${cmds[@]}"
            done
            vm_shutdown
        done
    done
done
blog "hotadd: done, $failures failure(s)"
[ "$failures" -eq 0 ]
