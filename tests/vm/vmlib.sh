# shellcheck shell=bash
# vmlib.sh - sourced by tests/vm/scenarios/*.sh, tests/vm/run.sh and tests/vm/demo.sh.
#
# Boots a stock Debian 12 kernel under QEMU (TCG) with a busybox + systemd-udevd initramfs that holds
# memzone's installed tree, hot-adds memory over QMP and runs scripts in the guest over ttyS1.
# Nothing here touches the host's memory blocks: every sysfs write happens inside the guest.
#
# Environment (all optional):
#   VM_MODE          6.1 | 6.12 | 6.12-offline (6.12 booted with memhp_default_state=offline); default 6.1
#   VM_INITRD        prebuilt initramfs (run.sh builds one per run); else vm_prepare builds it
#   MEMZONE_VM_STAGE a `make install DESTDIR=...` tree to use as is
#   MEMZONE_BUILDDIR the build dir to `make install DESTDIR=tmp` from (default: top srcdir if configured)
#   MEMZONE_VM_CACHE kernel cache (default /var/cache/memzone-vm), see fetch-kernel.sh
#   MEMZONE_VM_LOGDIR keep each VM's console log here
#   ACCEL            tcg (default) | kvm (only on hosts with working KVM; adds -cpu host)
#   VM_WATCHDOG      seconds after which a VM is killed no matter what (default 300)
#   VM_BOOT_TRIES    boot attempts when the guest dies or hangs before its control shell (default 3)
#   VM_VERBOSE=1     print guest output of passing checks too (as TAP diagnostics)
#   VM_TAP_DIR       shared TAP state (counter, failures) when run.sh aggregates scenarios
#
# API:  vm_boot [--mem 1G] [--append "..."] [--kernel 6.1|6.12] [--virtio-mem SIZE] [--smp N]
#               [--conf FILE] [--memzone-init] [--no-boot-cmds] [--no-memzone] [--no-coldplug]
#         --conf FILE: memzone.conf written before anything of memzone runs; --memzone-init: run
#         `memzone init` at boot; --no-boot-cmds: skip the `memzone init` lines of installed units;
#         --no-memzone: memzone's udev rules set aside before udevd starts, no boot commands;
#         --no-coldplug: skip the boot-time `udevadm trigger --action=add` replay of memory blocks
#       vm_shutdown;  CTL [--timeout S] 'script';  QMP [--timeout S] [--wait-event EV[:DEV]] json...
#       dimm_add ID SIZE;  dimm_add_many SIZE ID...;  dimm_del ID [TIMEOUT_S];  vmem_resize SIZE [TIMEOUT_S]
#       wait_blocks_online N [TIMEOUT_S]   (N hot-added blocks online, then udev settled)
#       TAP: pass DESC; fail DESC [DIAG]; skip DESC REASON; todo DESC REASON; check DESC CMD...;
#            gcheck DESC 'guest script'
#            diag TEXT...; vm_finish (plan when standalone, exit status); vm_bail [REASON]
# Guest helpers available in every CTL script: tests/vm/guest/funcs.sh.

VM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_TOP=$(cd "$VM_HERE/../.." && pwd)
VM_MODE=${VM_MODE:-6.1}
VM_SCENARIO=${VM_SCENARIO:-$(basename "$0" .sh)}
VM_DIR='' VM_QEMU_PID='' VM_WATCHDOG_PID='' VM_BOOT_SECS='' VM_KERNEL_REL=''
VM_T0=$(date +%s.%N)
VM_FAILS=0

# ------------------------------------------------------------------ TAP
if [ -z "${VM_TAP_DIR:-}" ]; then
    VM_TAP_DIR=$(mktemp -d /tmp/mzvm-tap.XXXXXX)
    VM_TAP_OWN=1
    echo 0 > "$VM_TAP_DIR/count"
fi
_tap_next() { local n; n=$(( $(cat "$VM_TAP_DIR/count") + 1 )); echo "$n" > "$VM_TAP_DIR/count"; echo "$n"; }
_tap_desc() { printf '[%s] %s: %s' "$VM_MODE" "$VM_SCENARIO" "$*" | tr '\n#' '  '; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
pass() { echo "ok $(_tap_next) - $(_tap_desc "$1")"; }
skip() { echo "ok $(_tap_next) - $(_tap_desc "$1") # SKIP ${2:-}"; }
todo() { echo "not ok $(_tap_next) - $(_tap_desc "$1") # TODO ${2:-}"; }   # known gap: XFAIL, not a failure
fail() {
    echo "not ok $(_tap_next) - $(_tap_desc "$1")"
    VM_FAILS=$((VM_FAILS + 1)); echo "$VM_SCENARIO" >> "$VM_TAP_DIR/fails"
    [ -n "${2:-}" ] && diag "$2"
    vm_context
}
# check DESC CMD...   (host-side command)
check() {
    local d=$1 out; shift
    if out=$("$@" 2>&1); then pass "$d"; else fail "$d" "command failed: $*
$out"; fi
}
# gcheck DESC SCRIPT  (guest script; its output is shown on failure, or always with VM_VERBOSE=1)
gcheck() {
    local out rc
    out=$(CTL "$2" 2>&1); rc=$?
    if [ $rc -eq 0 ]; then pass "$1"; [ "${VM_VERBOSE:-0}" = 1 ] && diag "$out"; return 0; fi
    fail "$1" "guest rc=$rc:
$out"
    return 1
}
# lcheck DESC TIMEOUT_S CMD [LINES]: gcheck with a longer guest timeout; the last lines of the guest's output are always shown
lcheck() {
    local out rc
    out=$(CTL --timeout "$2" "$3" 2>&1); rc=$?
    if [ $rc -eq 0 ]; then pass "$1"; diag "$(printf '%s\n' "$out" | tail -n "${4:-4}")"; return 0; fi
    fail "$1" "guest rc=$rc:
$out"
    return 1
}
# print what helps to debug a failure: console tail, memzone's kernel-log lines, recent uevents, blocks
VM_CONTEXT_SHOWN=0
vm_context() {
    [ -n "$VM_DIR" ] || return 0
    VM_CONTEXT_SHOWN=$((VM_CONTEXT_SHOWN + 1))
    [ $VM_CONTEXT_SHOWN -gt 3 ] && { diag "(context shown 3 times already)"; return 0; }
    diag "---- guest console (last 25 lines)"
    diag "$(tail -n 25 "$VM_DIR/console.log" 2>/dev/null | tr -d '\r')"
    if [ -n "$VM_QEMU_PID" ] && kill -0 "$VM_QEMU_PID" 2>/dev/null; then
        diag "---- guest: dmesg | grep memzone (last 40)"
        diag "$(CTL --timeout 20 'mzlog | tail -n 40; echo "---- /tmp/memevents (last 20)"; tail -n 20 /tmp/memevents 2>/dev/null
echo "---- hot-added blocks"; showblocks $(hot_blocks); echo "zones: $(zs)"' 2>&1)"
    else
        diag "(qemu is not running)"
        diag "$(tail -n 5 "$VM_DIR/qemu.out" 2>/dev/null)"
    fi
}
# vm_bail [REASON]: stop the scenario after a failure that makes its remaining checks meaningless
# (e.g. blocks never came online): finishes it (failures already counted) and exits
vm_bail() {
    diag "[$VM_MODE] $VM_SCENARIO: stopping here${1:+: $1}"
    vm_finish; exit
}
vm_finish() {
    local el; el=$(_since "$VM_T0")
    diag "[$VM_MODE] $VM_SCENARIO: boot ${VM_BOOT_SECS:-?}s, total ${el}s, $VM_FAILS failed"
    vm_shutdown
    if [ "${VM_TAP_OWN:-0}" = 1 ]; then
        echo "1..$(cat "$VM_TAP_DIR/count")"
        rm -rf "$VM_TAP_DIR"
    fi
    [ "$VM_FAILS" -eq 0 ]
}

# ------------------------------------------------------------------ small helpers
_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}'; }
# to_bytes 512M -> 536870912
to_bytes() {
    local v=$1 n m=1
    case $v in
        *[kK]) m=1024;; *[mM]) m=$((1024 * 1024));; *[gG]) m=$((1024 * 1024 * 1024));;
    esac
    n=${v%[kKmMgG]}
    [[ $n =~ ^[0-9]+$ ]] || { echo "to_bytes: bad size $v" >&2; return 1; }
    echo $((n * m))
}

# ------------------------------------------------------------------ preparation (stage, kernels, initramfs)
# Sets VM_STAGE, VM_STAGE_NOTE (why the stage is empty/partial, if it is), VM_INITRD.
vm_make_stage() {
    local dir=$1 b log
    VM_STAGE_NOTE=''
    if [ -n "${MEMZONE_VM_STAGE:-}" ]; then VM_STAGE=$MEMZONE_VM_STAGE; return 0; fi
    VM_STAGE=$dir/stage; mkdir -p "$VM_STAGE"
    b=${MEMZONE_BUILDDIR:-}
    if [ -z "$b" ] && [ -f "$VM_TOP/Makefile" ]; then b=$VM_TOP; fi
    if [ -z "$b" ] || [ ! -f "$b/Makefile" ]; then
        VM_STAGE_NOTE="no configured build dir (set MEMZONE_BUILDDIR): guest has no memzone"
        return 0
    fi
    log=$dir/make-install.log
    if ! make -C "$b" install DESTDIR="$VM_STAGE" > "$log" 2>&1; then
        VM_STAGE_NOTE="make -C $b install DESTDIR=... failed: $(tail -n 5 "$log" | tr '\n' ' ')"
        rm -rf "$VM_STAGE"; mkdir -p "$VM_STAGE"
    fi
}
vm_fetch_kernel() {  # vm_fetch_kernel 6.1|6.12: sets and exports VM_KDIR_6_1 / VM_KDIR_6_12 (once)
    local var=VM_KDIR_${1//./_} d
    [ -n "${!var:-}" ] && return 0
    d=$("$VM_HERE/fetch-kernel.sh" "$1" | tail -n 1) && [ -d "$d" ] || return 1
    printf -v "$var" '%s' "$d"
    export "${var?}"
}
vm_kernel_dir() { local var=VM_KDIR_${1//./_}; echo "${!var}"; }
vm_prepare() {
    [ -n "${VM_INITRD:-}" ] && [ -s "$VM_INITRD" ] && return 0
    VM_PREP_DIR=$(mktemp -d /tmp/mzvm-prep.XXXXXX); VM_PREP_OWN=1
    vm_make_stage "$VM_PREP_DIR"
    [ -n "$VM_STAGE_NOTE" ] && echo "vmlib: $VM_STAGE_NOTE" >&2
    if ! vm_fetch_kernel 6.1 || ! vm_fetch_kernel 6.12; then
        echo "vmlib: cannot fetch kernels" >&2; return 1
    fi
    VM_INITRD=$VM_PREP_DIR/initrd.gz
    "$VM_HERE/mkinitramfs.sh" -k "$VM_KDIR_6_1" -k "$VM_KDIR_6_12" "$VM_STAGE" "$VM_INITRD" || return 1
    export VM_INITRD VM_STAGE VM_STAGE_NOTE
}
# vm_has_memzone: the stage installs memzone and its udev rule
vm_has_memzone() {
    [ -n "${VM_STAGE:-}" ] || return 1
    { [ -x "$VM_STAGE/usr/sbin/memzone" ] || [ -x "$VM_STAGE/usr/local/sbin/memzone" ]; } &&
        [ -n "$(find "$VM_STAGE" -path '*/rules.d/*memzone*.rules' 2>/dev/null | head -n1)" ]
}
# vm_require_memzone: in scenarios that test memzone itself; emits one SKIP and exits when absent
vm_require_memzone() {
    vm_has_memzone && return 0
    skip "all checks" "memzone binary or udev rule not in the stage tree${VM_STAGE_NOTE:+ ($VM_STAGE_NOTE)}"
    vm_finish; exit 0
}

# ------------------------------------------------------------------ VM lifecycle
vm_cleanup() {
    local rc=$?
    vm_shutdown
    [ "${VM_TAP_OWN:-0}" = 1 ] && rm -rf "$VM_TAP_DIR"
    [ "${VM_PREP_OWN:-0}" = 1 ] && rm -rf "$VM_PREP_DIR"
    exit $rc
}
trap vm_cleanup EXIT
trap 'exit 130' INT TERM

vm_boot() {
    local mem=1G append='' kernel='' vmem='' smp=2 conf='' init='' nocoldplug='' numa='' mode_append='' kdir img extra=()
    while [ $# -gt 0 ]; do
        case $1 in
            --mem) mem=$2; shift 2 ;;
            --append) append="$append $2"; shift 2 ;;
            --kernel) kernel=$2; shift 2 ;;
            --virtio-mem) vmem=$2; shift 2 ;;
            --smp) smp=$2; shift 2 ;;
            --conf) conf=$2; shift 2 ;;
            --memzone-init) init=1; shift ;;
            --no-boot-cmds) append="$append mzvm.noinit=1"; shift ;;
            --no-memzone) append="$append mzvm.nomemzone=1"; shift ;;
            --no-coldplug) nocoldplug=1; shift ;;
            --numa) numa=1; shift ;;   # node 0: the CPUs and boot memory; node 1: neither (CXL-like)
            *) echo "vm_boot: unknown option $1" >&2; return 2 ;;
        esac
    done
    case $VM_MODE in
        6.1) : "${kernel:=6.1}" ;;
        6.12) : "${kernel:=6.12}" ;;
        6.12-offline) : "${kernel:=6.12}"; mode_append=memhp_default_state=offline ;;
        *) echo "vm_boot: unknown VM_MODE $VM_MODE" >&2; return 2 ;;
    esac
    vm_prepare && vm_fetch_kernel "$kernel" || return 1
    kdir=$(vm_kernel_dir "$kernel")
    VM_KERNEL_REL=$(cut -d' ' -f1 "$kdir/package"); VM_KERNEL_REL=${VM_KERNEL_REL#linux-image-}
    img=$kdir/vmlinux; [ -s "$img" ] || img=$kdir/vmlinuz
    [ -n "$conf" ] && append="$append mzvm.conf=$(base64 -w0 < "$conf")"
    [ -n "$init" ] && append="$append mzvm.init=1"
    [ -n "$nocoldplug" ] && append="$append mzvm.nocoldplug=1"
    [ -n "$vmem" ] && extra+=(-object "memory-backend-ram,id=vmem0,size=$(to_bytes "$vmem")"
                             -device "virtio-mem-pci,id=vm0,memdev=vmem0,node=0,requested-size=0")
    # a memory-only node: no CPUs, no boot memory; DIMMs reach it with dimm_add ID SIZE 1
    [ -n "$numa" ] && extra+=(-object "memory-backend-ram,id=m0,size=$(to_bytes "$mem")"
                              -numa "node,nodeid=0,cpus=0-$((smp - 1)),memdev=m0" -numa node,nodeid=1)
    [ -n "$VM_DIR" ] && vm_shutdown
    # A TCG guest with 2 vCPUs occasionally dies during boot (e.g. "Oops: int3" while the kernel
    # patches its own code, cross-modifying code under multi-threaded TCG): boot again, bounded.
    local try tries=${VM_BOOT_TRIES:-3} why
    for try in $(seq "$tries"); do
        if _vm_launch "$img" "$smp" "$mem" "$mode_append $append" "${extra[@]}"; then
            [ "$try" -gt 1 ] && diag "[$VM_MODE] $VM_SCENARIO: booted at attempt $try"
            grep -a '@@WARN' "$VM_DIR/console.log" | sed 's/^/# /'
            return 0
        fi
        why=$(grep -a -m1 -E 'Oops|BUG:|Kernel panic|invalid opcode|general protection' "$VM_DIR/console.log" | tr -d '\r')
        diag "[$VM_MODE] $VM_SCENARIO: boot attempt $try/$tries failed: ${why:-no control shell in time}"
        if [ "$try" -lt "$tries" ]; then VM_LOG_SUFFIX=-boot$try-failed vm_shutdown; fi
    done
    return 1
}
# _vm_launch IMG SMP MEM APPEND [QEMU ARGS...]: start qemu + watchdog, wait for the control shell
_vm_launch() {
    local img=$1 smp=$2 mem=$3 append=$4 cpu t0 i; shift 4
    cpu=(-cpu max); [ "${ACCEL:-tcg}" = kvm ] && cpu=(-cpu host)
    VM_DIR=$(mktemp -d /tmp/mzvm.XXXXXX)     # short: unix socket paths are limited to 107 bytes
    VM_CONTEXT_SHOWN=0
    t0=$(date +%s.%N)
    # -m ...,slots,maxmem: ACPI pc-dimm hotplug.  The device-memory region starts above RAM (4 GiB with
    # -m 1G); a virtio-mem device gets the first part of it, DIMMs follow.
    qemu-system-x86_64 -machine pc -accel "${ACCEL:-tcg}" "${cpu[@]}" -smp "$smp" -m "$mem,slots=16,maxmem=64G" \
        -nodefaults -nic none -display none -no-reboot \
        -kernel "$img" -initrd "$VM_INITRD" \
        -append "console=ttyS0 quiet panic=-1 $append" \
        -serial "file:$VM_DIR/console.log" \
        -chardev "socket,id=ctl,path=$VM_DIR/ctl.sock,server=on,wait=off" -serial chardev:ctl \
        -qmp "unix:$VM_DIR/qmp.sock,server=on,wait=off" \
        "$@" > "$VM_DIR/qemu.out" 2>&1 &
    VM_QEMU_PID=$!
    # watchdog: the VM dies after VM_WATCHDOG seconds whatever happens to this script
    local wd=${VM_WATCHDOG:-300} qpid=$VM_QEMU_PID
    ( trap 'kill $sp 2>/dev/null; exit 0' TERM; sleep "$wd" & sp=$!; wait $sp
      echo "vmlib: WATCHDOG: killing qemu $qpid after ${wd}s" >&2; kill -KILL "$qpid" ) 2>/dev/null &
    VM_WATCHDOG_PID=$!
    for i in $(seq 1800); do          # 90 s
        grep -q '@@CTL-READY' "$VM_DIR/console.log" 2>/dev/null && break
        kill -0 "$VM_QEMU_PID" 2>/dev/null || break
        sleep 0.05
        : "$i"
    done
    if ! grep -q '@@CTL-READY' "$VM_DIR/console.log" 2>/dev/null; then
        echo "vmlib: guest did not reach the control shell" >&2
        tail -n 30 "$VM_DIR/qemu.out" "$VM_DIR/console.log" >&2
        return 1
    fi
    VM_BOOT_SECS=$(_since "$t0")
}

vm_shutdown() {
    [ -n "$VM_DIR" ] || return 0
    if [ -n "$VM_QEMU_PID" ] && kill -0 "$VM_QEMU_PID" 2>/dev/null; then
        python3 "$VM_HERE/vmctl.py" qmp "$VM_DIR/qmp.sock" --timeout 5 '{"execute":"quit"}' >/dev/null 2>&1
        local i
        for i in $(seq 50); do kill -0 "$VM_QEMU_PID" 2>/dev/null || break; sleep 0.1; : "$i"; done
        kill -TERM "$VM_QEMU_PID" 2>/dev/null                       # by PID only, never by name
        for i in $(seq 30); do kill -0 "$VM_QEMU_PID" 2>/dev/null || break; sleep 0.1; : "$i"; done
        kill -KILL "$VM_QEMU_PID" 2>/dev/null
    fi
    [ -n "$VM_QEMU_PID" ] && wait "$VM_QEMU_PID" 2>/dev/null
    if [ -n "$VM_WATCHDOG_PID" ]; then kill "$VM_WATCHDOG_PID" 2>/dev/null; wait "$VM_WATCHDOG_PID" 2>/dev/null; fi
    if [ -n "${MEMZONE_VM_LOGDIR:-}" ]; then
        mkdir -p "$MEMZONE_VM_LOGDIR"
        cp "$VM_DIR/console.log" "$MEMZONE_VM_LOGDIR/$VM_MODE-$VM_SCENARIO${VM_LOG_SUFFIX:-}.console.log" 2>/dev/null
    fi
    if [ "${VM_KEEP:-0}" = 1 ]; then echo "vmlib: kept $VM_DIR" >&2; else rm -rf "$VM_DIR"; fi
    VM_DIR='' VM_QEMU_PID='' VM_WATCHDOG_PID=''
}

# ------------------------------------------------------------------ channels
CTL() { local to=60; [ "${1:-}" = --timeout ] && { to=$2; shift 2; }
        python3 "$VM_HERE/vmctl.py" ctl "$VM_DIR/ctl.sock" --timeout "$to" "$1"; }
QMP() { python3 "$VM_HERE/vmctl.py" qmp "$VM_DIR/qmp.sock" "$@"; }

# ------------------------------------------------------------------ memory devices
_dimm_cmds() {   # _dimm_cmds ID BYTES [NODE] -> the two QMP commands
    printf '{"execute":"object-add","arguments":{"qom-type":"memory-backend-ram","id":"mem-%s","size":%s}}\n' "$1" "$2"
    printf '{"execute":"device_add","arguments":{"driver":"pc-dimm","id":"%s","memdev":"mem-%s"%s}}\n' "$1" "$1" \
        "${3:+,\"node\":$3}"
}
dimm_add() {     # dimm_add ID SIZE [NODE]
    local b; b=$(to_bytes "$2") || return 1
    local cmds; mapfile -t cmds < <(_dimm_cmds "$1" "$b" "${3:-}")
    QMP --timeout 30 "${cmds[@]}" >/dev/null
}
dimm_add_many() {   # dimm_add_many SIZE ID... : all in one QMP connection, back to back
    local b id cmds=(); b=$(to_bytes "$1") || return 1; shift
    for id; do mapfile -t -O ${#cmds[@]} cmds < <(_dimm_cmds "$id" "$b"); done
    QMP --timeout 60 "${cmds[@]}" >/dev/null
}
dimm_del() {     # dimm_del ID [TIMEOUT_S]: ACPI unplug, waits for DEVICE_DELETED (bounded), frees the backend
    QMP --timeout "${2:-30}" --wait-event "DEVICE_DELETED:$1" \
        "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"$1\"}}" >/dev/null || return 1
    QMP --timeout 10 "{\"execute\":\"object-del\",\"arguments\":{\"id\":\"mem-$1\"}}" >/dev/null
}
vmem_size() { QMP --timeout 10 '{"execute":"qom-get","arguments":{"path":"vm0","property":"size"}}'; }
vmem_resize() {  # vmem_resize SIZE [TIMEOUT_S]: set requested-size, wait until the guest plugged it
    local b i; b=$(to_bytes "$1") || return 1
    QMP --timeout 10 "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"vm0\",\"property\":\"requested-size\",\"value\":$b}}" >/dev/null || return 1
    for i in $(seq $(( ${2:-60} * 10 ))); do
        [ "$(vmem_size)" = "$b" ] && return 0
        sleep 0.1; : "$i"
    done
    echo "vmem_resize: plugged size $(vmem_size) != $b" >&2
    return 1
}
wait_blocks_online() {  # wait_blocks_online N [TIMEOUT_S]
    local to=${2:-30}
    CTL --timeout $((to + 40)) "wait_hot_online $1 $((to * 1000))"
}
