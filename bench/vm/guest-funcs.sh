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
#            $BENCH_MZD_LOG): it decides new blocks from the kernel's uevents and the rule, seeing
#            /run/memzone/memzoned.online resolve, starts no helper; auto_online_blocks=offline
#   none     nobody (blocks stay offline)
# Every method but memzoned stops a running memzoned first (and waits until its link is gone), so
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

# bench_memzoned_start: memzoned in the background, until its link /run/memzone/memzoned.online
# resolves (it listens to uevents then); a running one is kept
BENCH_MZD_LINK=/run/memzone/memzoned.online
BENCH_MZD_LOG=/tmp/bench-memzoned.log
bench_memzoned_start() {
    [ -e "$BENCH_MZD_LINK" ] && return 0
    "$MZ_DAEMON" --log stderr >> "$BENCH_MZD_LOG" 2>&1 < /dev/null &
    t=$(ns); until [ -e "$BENCH_MZD_LINK" ]; do
        [ "$(ms_since "$t")" -gt 30000 ] && { echo "memzoned made no $BENCH_MZD_LINK: $(tail -n 3 "$BENCH_MZD_LOG")" >&2; return 1; }
        sleep 0.02; done
}
# bench_memzoned_stop: SIGTERM to the memzoned the link names (whoever started it), until the link
# is gone and the process has exited (a zombie counts as exited)
bench_memzoned_stop() {
    pid=$(readlink "$BENCH_MZD_LINK" 2>/dev/null | sed -n 's|^/proc/\([0-9][0-9]*\)$|\1|p')
    [ -n "$pid" ] && [ -e "/proc/$pid" ] && kill "$pid"
    t=$(ns); while [ -e "$BENCH_MZD_LINK" ] || [ -L "$BENCH_MZD_LINK" ] ||
                   { [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null; }; do
        [ "$(ms_since "$t")" -gt 20000 ] && { echo "memzoned ($pid) did not stop: $(ls -l "$BENCH_MZD_LINK" 2>&1)" >&2; return 1; }
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

# block_pages B: what the pages of memory block B are, from /proc/kpageflags (one line):
#   free (buddy), lru (user and page-cache pages: movable), slab, pgtable, reserved, noflags (in use
#   by the kernel without a page flag: vmalloc, kernel stacks, ...), other
# -- why an offline is refused: slab and other unmovable pages cannot be migrated away
block_pages() {
    n=$(( $(block_size) / 4096 ))
    dd if=/proc/kpageflags bs=8 skip=$(( $1 * n )) count=$n 2>/dev/null | od -An -tu8 -w8 -v |
        awk -v b="$1" 'BEGIN { p[0] = 1; for (i = 1; i <= 40; i++) p[i] = p[i - 1] * 2 }
            function bit(v, k) { return int(v / p[k]) - 2 * int(v / p[k] / 2) }
            { f = $1 + 0
              if (bit(f, 10)) c["free"]++
              else if (bit(f, 32)) c["reserved"]++
              else if (bit(f, 7)) c["slab"]++
              else if (bit(f, 26)) c["pgtable"]++
              else if (bit(f, 5)) c["lru"]++
              else if (f == 0) c["noflags"]++
              else c["other"]++ }
            END { printf "memory%s:", b; for (k in c) printf " %s=%d", k, c[k]; printf "\n" }'
}
