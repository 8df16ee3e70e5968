# shellcheck shell=sh disable=SC2034
# /usr/share/memzone-bench/funcs.sh in the benchmark guest: sourced by the bench scripts' CTL
# scripts after the harness's /etc/memfuncs.sh (busybox sh, POSIX). Not part of memzone.
M=/sys/devices/system/memory
BENCH_PLAIN_RULE=/etc/udev/rules.d/40-bench-plain-online.rules
BENCH_MZ_MASK=/etc/udev/rules.d/60-memzone.rules

# bench_quiet: no per-uevent logger (it forks a shell per memory event, which would slow the
# udev-based onlining methods more than the kernel's); the probe listens to uevents itself
bench_quiet() { rm -f /etc/udev/rules.d/99-memzone-vm-events.rules; udevadm control --reload; }

# bench_method kernel|plain|memzone|kmode|memzoned|none: who onlines the next hot-added blocks
#   kernel   auto_online_blocks=online_movable (as memhp_default_state=online_movable), no udev rule
#   plain    a distribution-style rule: ACTION=="add", ATTR{state}=="offline", ATTR{state}="online"
#   memzone  memzone's installed rule (60-memzone.rules -> memzone online), auto_online_blocks=offline:
#            memzone decides in userspace
#   kmode    memzone's installed rule and default configuration after `memzone init`: the kernel mode
#            (online_policy=auto-movable, auto_online_blocks=online; the helper audits each block)
#   memzoned memzone's installed rule and memzoned running (installed binary, default config, log in
#            $BENCH_MZD_LOG): it decides new blocks from the kernel's uevents; the helper the rule
#            starts exits at once while memzoned holds memzoned.decides; auto_online_blocks=offline
#   none     nobody (blocks stay offline)
# Every method but memzoned stops a running memzoned first (and waits until its lock is free), so
# that they stay what they were without it.
bench_method() {
    case $1 in memzoned) ;; *) bench_memzoned_stop || return 1 ;; esac
    rm -f "$BENCH_PLAIN_RULE" "$BENCH_MZ_MASK"
    # the kernel's own onlining policy back (the boot's `memzone init` hands it the default policy)
    "$MZ_BIN" init --restore > /dev/null 2>&1
    case $1 in
        kmode) "$MZ_BIN" init > /tmp/bench-kmode-init.log 2>&1
               [ "$(cat $M/auto_online_blocks) $(cat /sys/module/memory_hotplug/parameters/online_policy)" = "online auto-movable" ] ||
                   { echo "kmode: memzone init did not hand the policy to the kernel: $(tail -n 2 /tmp/bench-kmode-init.log)" >&2; return 1; } ;;
        kernel) ln -s /dev/null "$BENCH_MZ_MASK"; echo online_movable > $M/auto_online_blocks ;;
        plain) ln -s /dev/null "$BENCH_MZ_MASK"; echo offline > $M/auto_online_blocks
               echo 'SUBSYSTEM=="memory", ACTION=="add", ATTR{state}=="offline", ATTR{state}="online"' > "$BENCH_PLAIN_RULE" ;;
        memzone|memzoned) echo offline > $M/auto_online_blocks ;;
        none) ln -s /dev/null "$BENCH_MZ_MASK"; echo offline > $M/auto_online_blocks ;;
        *) echo "bench_method: unknown method $1" >&2; return 2 ;;
    esac
    udevadm control --reload && udevadm settle --timeout=30 || return 1
    [ "$1" != memzoned ] || bench_memzoned_start
}

# bench_memzoned_start: memzoned in the background, until it holds /run/memzone/memzoned.decides
# (it listens to uevents then); a running one is kept
BENCH_MZD_LOCK=/run/memzone/memzoned.lock
BENCH_MZD_DECIDES=/run/memzone/memzoned.decides
BENCH_MZD_LOG=/tmp/bench-memzoned.log
bench_mzd_holds() { [ -e "$1" ] && ! flock -n -s "$1" true; }
bench_memzoned_start() {
    bench_mzd_holds "$BENCH_MZD_DECIDES" && return 0
    "$MZ_DAEMON" --log stderr >> "$BENCH_MZD_LOG" 2>&1 < /dev/null &
    t=$(ns); until bench_mzd_holds "$BENCH_MZD_DECIDES"; do
        [ "$(ms_since "$t")" -gt 30000 ] && { echo "memzoned took no $BENCH_MZD_DECIDES: $(tail -n 3 "$BENCH_MZD_LOG")" >&2; return 1; }
        sleep 0.02; done
}
# bench_memzoned_stop: SIGTERM to the memzoned whose pid its lock file holds (whoever started it),
# until its lock is free and the process has exited (a zombie counts as exited)
bench_memzoned_stop() {
    pid=''
    bench_mzd_holds "$BENCH_MZD_LOCK" && pid=$(sed -n 's/^\([0-9][0-9]*\)$/\1/p' "$BENCH_MZD_LOCK")
    [ -n "$pid" ] && [ -e "/proc/$pid" ] && kill "$pid"
    t=$(ns); while bench_mzd_holds "$BENCH_MZD_LOCK" ||
                   { [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null; }; do
        [ "$(ms_since "$t")" -gt 20000 ] && { echo "memzoned ($pid) did not stop" >&2; return 1; }
        sleep 0.02; done
}
# bench_memzoned_count: "DECISIONS HELPER_LINES": memzoned's decision lines in its log, and the
# helpers' (memzone online) lines in the kernel log since the last `dmesg -c`
bench_memzoned_count() {
    echo "$(grep -c 'memzoned: memory[0-9]*: online' "$BENCH_MZD_LOG" 2>/dev/null) $(dmesg | grep -c 'memzone\[[0-9]*\]: memory')"
}

# zone counts of the hot-added blocks: "Movable=N Normal=M offline=K"
hot_zones() { for b in $(hot_blocks); do bzone "$b"; done | sort | uniq -c | awk '{printf "%s=%d ", $2, $1}'; echo; }

# pages of a zone summed over nodes: zone_field ZONE managed|free
zone_field() { awk -v z="$1" -v f="$2" '/^Node/{zn=$4} zn==z && (($1=="pages" && $2==f) || $1==f) {s+=$NF} END{print s+0}' /proc/zoneinfo; }

# wait_loadgen LOG [MS]: until loadgen reports it is holding (its ramp is done)
wait_loadgen() { t=$(ns); until grep -q 'holding' "$1" 2>/dev/null; do
    [ "$(ms_since "$t")" -gt "${2:-120000}" ] && { echo "loadgen did not reach its hold: $(tail -n 2 "$1")"; return 1; }
    sleep 0.1; done; }

# move_once BLOCK FILL_MIB: online BLOCK movable (the only Movable block), fill it with FILL_MIB of
# anonymous memory (user pages go to the Movable zone first), then time "offline" and
# "online_kernel" on it. One line: MOVE fill_mib=.. used_pct=.. online_movable_us=.. offline_us=.. online_kernel_us=..
move_once() {
    b=$1 fill=$2 st=$M/memory$1/state
    om=$(mzprobe timewrite "$st" online_movable) || { echo "MOVE error=online_movable $om"; return 1; }
    lg=
    if [ "$fill" -gt 0 ]; then
        loadgen anon --target "${fill}M" --hold -1 > /tmp/move-lg.log 2>&1 < /dev/null &
        lg=$!
        wait_loadgen /tmp/move-lg.log 60000 || { kill $lg; return 1; }
    fi
    sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null     # page cache out of the block: what is in use is ours
    man=$(zone_field Movable managed) free=$(zone_field Movable free)
    used=$(awk -v m="$man" -v f="$free" 'BEGIN{printf "%.1f", m ? (m - f) * 100 / m : -1}')
    off=$(mzprobe timewrite "$st" offline)
    on=$(mzprobe timewrite "$st" online_kernel)
    [ -n "$lg" ] && { kill $lg; wait $lg 2>/dev/null; }
    echo "MOVE fill_mib=$fill used_pct=$used online_movable_us=$(echo "$om" | sed -n 's/.*us=\([0-9]*\) rc=0.*/\1/p')" \
         "offline_us=$(echo "$off" | sed -n 's/.*us=\([0-9]*\) rc=0.*/\1/p')" \
         "online_kernel_us=$(echo "$on" | sed -n 's/.*us=\([0-9]*\) rc=0.*/\1/p') offline_rc=$(echo "$off" | sed 's/.*rc=//')"
}

# block_pages B...: what the pages of memory blocks are, from /proc/kpageflags (one line each, by
# mzprobe pageflags: the awk loop this was took minutes a block under TCG):
#   free (buddy), lru (user and page-cache pages: movable), slab, pgtable, reserved, noflags (in use
#   by the kernel without a page flag: vmalloc, kernel stacks, ..., or free pages on per-CPU lists),
#   other
# -- why an offline is refused: slab, page-table and reserved pages cannot be migrated away
block_pages() { mzprobe pageflags "$@"; }

# ---- policy-quality.sh: which device a hot-added block belongs to, what memzoned harvested
# pq_add_dev ID: the blocks new since `snap ID` are device ID's (/tmp/pq-dev.ID)
pq_add_dev() { new_since "$1" > "/tmp/pq-dev.$1"; }
pq_dev_of() { for f in /tmp/pq-dev.*; do grep -qx "$1" "$f" 2>/dev/null && { echo "${f#/tmp/pq-dev.}"; return; }; done; echo -; }
# zones of device ID's blocks: "Movable=N Normal=M"
pq_dev_zones() { while read -r b; do bzone "$b"; done < "/tmp/pq-dev.$1" | sort | uniq -c | awk '{printf "%s=%d ", $2, $1}'; echo; }
# pq_harvested: the blocks memzoned moved out of Movable (its log: "memoryN moved from Movable to ..."),
# one a line; which zone they are in is read from sysfs, never from the log
pq_harvested() { sed -n 's/.*memory\([0-9][0-9]*\) moved from Movable.*/\1/p' /tmp/memzoned.log 2>/dev/null | sort -un; }
# pq_gb_sample MS: one line of the give-back timeline: MS, harvested so far, of them in Movable now,
# hot-added blocks Movable / in a kernel zone now
pq_gb_sample() {
    h=0 hm=0 hk=0 hv=0
    for b in $(pq_harvested); do h=$((h + 1)); [ "$(bzone "$b")" = Movable ] && hm=$((hm + 1)); done
    for b in $(hot_blocks); do case $(bzone "$b") in Movable) hv=$((hv + 1)) ;; offline) ;; *) hk=$((hk + 1)) ;; esac; done
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$h" "$hm" "$hv" "$hk"
}
# pq_block_table: one line per hot-added block, tab-separated: block, device, zone, harvested (0/1),
# its pages if it is in a kernel zone (block_pages), and what the kernel says when asked to offline
# it (ok, or the errno; the block is onlined to the kernel zone again at once): the check of the
# kpageflags verdict. "-" where not applicable.
pq_block_table() {
    pq_harvested > /tmp/pq-H
    for b in $(hot_blocks); do
        z=$(bzone "$b") h=0 pf=- tr=-
        grep -qx "$b" /tmp/pq-H && h=1
        case $z in
            Movable|offline) ;;
            *) pf=$(block_pages "$b" | cut -d: -f2- | sed 's/^ //')
               tr=$(mzprobe timewrite "$M/memory$b/state" offline | sed 's/.*rc=//')
               [ "$tr" = 0 ] && { tr=ok; echo online_kernel > "$M/memory$b/state" || tr=ok-not-onlined-again; } ;;
        esac
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$b" "$(pq_dev_of "$b")" "$z" "$h" "${pf:--}" "$tr"
    done
}
