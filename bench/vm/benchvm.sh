# shellcheck shell=bash
# benchvm.sh - sourced by the benchmark VM scripts (bench/vm/*.sh): the VM harness of tests/vm plus
# what benchmarks need on top of it. Not part of memzone.
#
#   bench_vm_prepare   stage (make install DESTDIR of $MEMZONE_BUILDDIR, or $MEMZONE_VM_STAGE) + the
#                      guest probe (mzprobe.c, static) + bench guest functions, kernels, initramfs;
#                      once per $BENCH_VM_PREP dir (run-all.sh shares one between the scripts)
#   bench_hotadd NEW TIMEOUT_S JSON...   time QMP commands until NEW blocks are online (hotadd.py);
#                      prints the result JSON
#   gctl 'script'      CTL with the bench guest functions (guest-funcs.sh) sourced
#   blog MSG           progress on stderr (stdout of the scripts is left to results)
# Results: JSON lines appended to $BENCH_OUT by each script (bench/report.py reads them).

BENCH_VM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TOP=$(cd "$BENCH_VM_HERE/../.." && pwd)
# tests/vm/vmlib.sh: vm_boot, CTL, QMP, dimm helpers, the qemu watchdog and cleanup trap
# shellcheck source=../../tests/vm/vmlib.sh
. "$BENCH_TOP/tests/vm/vmlib.sh"

# vm_boot has no way to pass QEMU options, and its virtio-mem backend is a plain memory-backend-ram:
# a backend larger than the host's RAM + swap (a 24 GiB virtio-mem device on a 23 GiB host) fails
# the kernel's overcommit heuristic. The guest touches only what it uses, so reserve=off
# (MAP_NORESERVE) is safe. vmlib starts qemu by name in a background subshell; this function is
# found before $PATH and exec's the real binary, so $! stays qemu's PID (vmlib kills it by PID).
# BENCH_QEMU_MACHINE, when set, replaces vmlib's "-machine pc" (another memory layout, e.g.
# "pc,max-ram-below-4g=512M": policy-quality.sh). BENCH_QEMU_MAXMEM and BENCH_QEMU_SLOTS, when set,
# replace vmlib's maxmem=64G and slots=16 (hotadd-latency.sh: four methods' DIMMs and virtio-mem
# growth in one boot need more memory, three bursts of 8 DIMMs more slots).
qemu-system-x86_64() {
    local a prev='' out=()
    for a; do
        case $a in memory-backend-ram,id=vmem0,*) a="$a,reserve=off" ;; esac
        [ "$prev" = -machine ] && [ -n "${BENCH_QEMU_MACHINE:-}" ] && a=$BENCH_QEMU_MACHINE
        [ "$prev" = -m ] && [ -n "${BENCH_QEMU_MAXMEM:-}" ] && [[ $a =~ ^(.*,)?maxmem=[^,]*(,.*)?$ ]] &&
            a="${BASH_REMATCH[1]}maxmem=$BENCH_QEMU_MAXMEM${BASH_REMATCH[2]}"
        [ "$prev" = -m ] && [ -n "${BENCH_QEMU_SLOTS:-}" ] && [[ $a =~ ^(.*,)?slots=[^,]*(,.*)?$ ]] &&
            a="${BASH_REMATCH[1]}slots=$BENCH_QEMU_SLOTS${BASH_REMATCH[2]}"
        prev=$a
        out+=("$a")
    done
    exec qemu-system-x86_64 "${out[@]}"
}

blog() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
gctl() { local to=60; [ "${1:-}" = --timeout ] && { to=$2; shift 2; }
         CTL --timeout "$to" ". /usr/share/memzone-bench/funcs.sh
$1"; }

bench_vm_prepare() {
    local p=${BENCH_VM_PREP:-}
    if [ -z "$p" ]; then BENCH_VM_PREP=$(mktemp -d /tmp/mzbench-prep.XXXXXX); p=$BENCH_VM_PREP; BENCH_VM_PREP_OWN=1; fi
    export BENCH_VM_PREP
    # shellcheck disable=SC1091
    if [ -s "$p/initrd.gz" ] && [ -s "$p/env" ]; then . "$p/env"; export VM_INITRD VM_STAGE VM_KDIR_6_1 VM_KDIR_6_12; return 0; fi
    mkdir -p "$p"
    vm_make_stage "$p" || return 1
    [ -n "$VM_STAGE_NOTE" ] && { blog "bench: $VM_STAGE_NOTE"; return 1; }
    mkdir -p "$VM_STAGE/usr/bin" "$VM_STAGE/usr/share/memzone-bench"
    "${CC:-gcc}" -O2 -static -Wall -o "$VM_STAGE/usr/bin/mzprobe" "$BENCH_VM_HERE/mzprobe.c" ||
        { blog "bench: cannot build the static guest probe (glibc's libc.a: libc6-dev)"; return 1; }
    cp "$BENCH_VM_HERE/guest-funcs.sh" "$VM_STAGE/usr/share/memzone-bench/funcs.sh"
    if ! vm_fetch_kernel 6.1 || ! vm_fetch_kernel 6.12; then blog "bench: cannot fetch kernels"; return 1; fi
    "$BENCH_TOP/tests/vm/mkinitramfs.sh" -k "$VM_KDIR_6_1" -k "$VM_KDIR_6_12" "$VM_STAGE" "$p/initrd.gz" 2>"$p/mkinitramfs.log" ||
        { blog "bench: mkinitramfs failed: $(tail -n 3 "$p/mkinitramfs.log")"; return 1; }
    VM_INITRD=$p/initrd.gz
    printf 'VM_INITRD=%q\nVM_STAGE=%q\nVM_KDIR_6_1=%q\nVM_KDIR_6_12=%q\n' "$VM_INITRD" "$VM_STAGE" \
        "$VM_KDIR_6_1" "$VM_KDIR_6_12" > "$p/env"
    export VM_INITRD VM_STAGE VM_KDIR_6_1 VM_KDIR_6_12
}

bench_vm_cleanup() {
    vm_shutdown
    [ "${BENCH_VM_PREP_OWN:-0}" = 1 ] && rm -rf "$BENCH_VM_PREP"
    [ "${VM_TAP_OWN:-0}" = 1 ] && rm -rf "$VM_TAP_DIR"
}
bench_vm_exit() { local rc=$?; bench_vm_cleanup; exit $rc; }
trap bench_vm_exit EXIT

bench_hotadd() {  # bench_hotadd NEW TIMEOUT_S JSON...
    python3 "$BENCH_VM_HERE/hotadd.py" "$VM_DIR" "$@"
}

# bench_record KEY=STRING... KEY:=JSON... : one JSON object as a line of $BENCH_OUT
bench_record() {
    python3 - "$@" >> "$BENCH_OUT" <<'PY'
import json, sys
rec = {}
for a in sys.argv[1:]:
    k, _, v = a.partition("=")
    if k.endswith(":"):
        try:
            rec[k[:-1]] = json.loads(v)
        except ValueError:
            rec[k[:-1]] = {"unparsed": v}
    else:
        rec[k] = v
print(json.dumps(rec, sort_keys=True))
PY
}

# accel: what QEMU runs the guest with, for the report
bench_accel() { echo "${ACCEL:-tcg}"; }
