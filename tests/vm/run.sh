#!/bin/bash
# run.sh [--stage DIR] [SCENARIO...] - run the memzone real-kernel VM tests as one TAP stream (plan at
# the end).
#
# Every tests/vm/scenarios/*.sh (or the ones named) runs in a fresh VM for each kernel mode:
#   6.1           Debian 12's linux-image-amd64 (new memory blocks start offline)
#   6.12          Debian 12's linux-image-6.12-amd64 as shipped (kernel auto-onlines new memory)
#   6.12-offline  the same kernel booted with memhp_default_state=offline
# A scenario may restrict itself with a line "# vm-modes: 6.1 6.12".
#
# The guest gets memzone from a `make install DESTDIR=tmp` of $MEMZONE_BUILDDIR (default: the top
# srcdir when it is configured in-tree), or from --stage DIR / $MEMZONE_VM_STAGE as is.
# Environment: VM_MODES (default "6.1 6.12 6.12-offline"), VM_SCENARIOS (names, instead of arguments;
#   for `make check-vm VM_SCENARIOS=...`), MEMZONE_VM_LOGDIR (keep console logs),
#   MEMZONE_VM_CACHE, ACCEL, VM_VERBOSE; see vmlib.sh.  Exit status: 0 when every test passed.
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = --stage ]; then
    [ -d "${2:-}" ] || { echo "run.sh: --stage needs a directory" >&2; exit 2; }
    MEMZONE_VM_STAGE=$(cd "$2" && pwd); export MEMZONE_VM_STAGE; shift 2
fi
MODES=${VM_MODES:-6.1 6.12 6.12-offline}
T_RUN0=$(date +%s.%N)

# ---- prerequisites: without them, skip the whole suite (TAP "1..0 # SKIP")
missing=()
for b in qemu-system-x86_64 python3 udevadm dpkg-deb apt-get gzip xz "${CC:-gcc}"; do
    command -v "$b" >/dev/null || missing+=("$b")
done
command -v busybox >/dev/null || [ -x /bin/busybox ] || missing+=(busybox)
if [ ${#missing[@]} -gt 0 ]; then
    echo "1..0 # SKIP missing ${missing[*]} (apt-get install qemu-system-x86 busybox-static udev python3 xz-utils zstd gcc)"
    exit 0
fi

export VM_TAP_DIR
VM_TAP_DIR=$(mktemp -d /tmp/mzvm-run.XXXXXX)
echo 0 > "$VM_TAP_DIR/count"; : > "$VM_TAP_DIR/fails"
trap 'rm -rf "$VM_TAP_DIR"' EXIT
trap 'exit 130' INT TERM
n=0 failed=0
tap() {   # tap ok|not-ok DESC [DIAG]
    n=$(( $(cat "$VM_TAP_DIR/count") + 1 )); echo "$n" > "$VM_TAP_DIR/count"
    if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
    [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
    return 0
}

# vmlib provides the stage / kernel / initramfs preparation; sourcing it in a subshell-free way
# would install its EXIT trap, so reuse only its functions through a helper shell.
prep_out=$(
    VM_SCENARIO=prepare bash -c '
        . "$1/vmlib.sh"; trap - EXIT
        mkdir -p "$2"; vm_make_stage "$2"
        echo "STAGE_NOTE=$VM_STAGE_NOTE" >&3
        echo "STAGE=$VM_STAGE" >&3
        for k in 6.1 6.12; do
            if vm_fetch_kernel "$k"; then echo "KDIR_$k=$(vm_kernel_dir "$k")" >&3; fi
        done' _ "$HERE" "$VM_TAP_DIR/prep" 3>&1 1>&2
)
get() { printf '%s\n' "$prep_out" | sed -n "s/^$1=//p"; }
STAGE=$(get STAGE) STAGE_NOTE=$(get STAGE_NOTE) K61=$(get KDIR_6.1) K612=$(get KDIR_6.12)

if [ -n "$STAGE_NOTE" ]; then
    case $STAGE_NOTE in
        *failed*) tap not-ok "stage: make install into a DESTDIR for the guest" "$STAGE_NOTE" ;;
        *) echo "ok $(( $(cat "$VM_TAP_DIR/count") + 1 )) - stage: memzone build for the guest # SKIP $STAGE_NOTE"
           echo $(( $(cat "$VM_TAP_DIR/count") + 1 )) > "$VM_TAP_DIR/count" ;;
    esac
else
    tap ok "stage: make install DESTDIR for the guest ($(find "$STAGE" -type f | wc -l) files)"
fi
kfail=''
for k in 6.1 6.12; do
    d=$K61; [ $k = 6.12 ] && d=$K612
    if [ -n "$d" ]; then tap ok "kernel $k: $(cat "$d/package")"; else tap not-ok "kernel $k: fetch-kernel.sh $k"; kfail=1; fi
done
export VM_INITRD=$VM_TAP_DIR/initrd.gz VM_KDIR_6_1=$K61 VM_KDIR_6_12=$K612 VM_STAGE=$STAGE VM_STAGE_NOTE=$STAGE_NOTE
t0=$(date +%s.%N)
if [ -z "$kfail" ] && mk=$("$HERE/mkinitramfs.sh" -k "$K61" -k "$K612" "$STAGE" "$VM_INITRD" 2>&1); then
    tap ok "initramfs built in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')s" "$mk"
else
    tap not-ok "initramfs: mkinitramfs.sh" "${mk:-kernels missing}"
    echo "1..$(cat "$VM_TAP_DIR/count")"; exit 1
fi

# ---- scenarios x modes
if [ $# -eq 0 ] && [ -n "${VM_SCENARIOS:-}" ]; then     # e.g. VM_SCENARIOS="00-harness 03-burst"
    for s in $VM_SCENARIOS; do set -- "$@" "$HERE/scenarios/${s%.sh}.sh"; done
fi
if [ $# -gt 0 ]; then SCENARIOS=("$@"); else SCENARIOS=("$HERE"/scenarios/[0-9]*.sh); fi
TIMES=()
for s in "${SCENARIOS[@]}"; do
    name=$(basename "$s" .sh)
    smodes=$(sed -n 's/^# vm-modes:[[:space:]]*//p' "$s" | head -n1)
    for m in $MODES; do
        if [ -n "$smodes" ] && [[ " $smodes " != *" $m "* ]]; then continue; fi
        before=$(cat "$VM_TAP_DIR/count"); fbefore=$(wc -l < "$VM_TAP_DIR/fails")
        ts=$(date +%s.%N)
        VM_MODE=$m VM_SCENARIO=$name timeout --kill-after=15 "${VM_SCENARIO_TIMEOUT:-420}" bash "$s"
        rc=$?
        el=$(awk -v a="$ts" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
        TIMES+=("$(printf '%-32s %-13s %6ss' "$name" "$m" "$el")")
        after=$(cat "$VM_TAP_DIR/count"); fafter=$(wc -l < "$VM_TAP_DIR/fails")
        [ "$fafter" -gt "$fbefore" ] && failed=1
        if [ "$rc" -ne 0 ] && [ "$fafter" -eq "$fbefore" ]; then
            tap not-ok "[$m] $name: scenario exited with status $rc$([ "$rc" = 124 ] && echo ' (timeout)')"
        elif [ "$after" -eq "$before" ]; then
            tap not-ok "[$m] $name: scenario ran no test"
        fi
    done
done

echo "# ---- wall time per scenario and kernel mode"
printf '# %s\n' "${TIMES[@]}"
echo "# total $(awk -v a="$T_RUN0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b - a}')s"
echo "1..$(cat "$VM_TAP_DIR/count")"
exit $failed
