# shellcheck shell=sh disable=SC1091,SC2012,SC2046,SC2119,SC2120,SC2002
# (word splitting of block lists is intended; scripts run in the guest only)
# /etc/memfuncs.sh in the memzone VM-test guest: sourced before every control-channel script.
# busybox sh; keep it POSIX.
. /etc/memzone-vm.env          # MZ_CONF MZ_BIN MZ_DAEMON (paths as installed from the stage tree)
M=/sys/devices/system/memory

ns() { awk '/^now at/{print $3; exit}' /proc/timer_list; }     # CLOCK_MONOTONIC ns (busybox date has no %N)
ms_since() { echo $(( ($(ns) - $1) / 1000000 )); }
block_size() { printf '%d\n' "0x$(cat $M/block_size_bytes)"; }

# ---- blocks
all_blocks() { ls $M | sed -n 's/^memory\([0-9][0-9]*\)$/\1/p' | sort -n; }
hot_blocks() { all_blocks | grep -vxF -f /run/mzvm/boot-blocks; }   # present now, not at boot
nblocks() { all_blocks | wc -l; }
bstate() { cat "$M/memory$1/state"; }
# zone of an online block (Normal, Movable, DMA32, none), or "offline"
bzone() { if [ "$(cat "$M/memory$1/state")" = online ]; then cat "$M/memory$1/valid_zones"; else echo offline; fi; }
# "ID STATE ZONE-OR-VALID-ZONES" per block (all blocks without arguments)
blocks() { [ $# -gt 0 ] || set -- $(all_blocks); for b; do echo "$b $(bstate "$b") $(cat "$M/memory$b/valid_zones")"; done; }
showblocks() { blocks "$@" | awk '{z=""; for(i=3;i<=NF;i++) z=z (i>3?" ":"") $i; printf "  memory%-4s %-8s [%s]\n", $1, $2, z}'; }
# snapshots of the block list, to attribute new blocks to the device just added
snap() { all_blocks > "/tmp/snap.$1"; }
new_since() { all_blocks | grep -vxF -f "/tmp/snap.$1"; }
between() { grep -vxF -f "/tmp/snap.$1" "/tmp/snap.$2"; }     # blocks in snapshot $2 that were not in $1
# blocks of the list not in zone $1 (or not online)
not_in_zone() { z=$1; shift; for b; do [ "$(bzone "$b")" = "$z" ] || echo "memory$b=$(bzone "$b")"; done; }
online_count() { n=0; for b; do [ "$(bstate "$b")" = online ] && n=$((n + 1)); done; echo $n; }

# ---- waits (timeouts in ms); return 1 on timeout
wait_nblocks() { t=$(ns); while [ "$(nblocks)" -lt "$1" ]; do [ "$(ms_since "$t")" -gt "${2:-20000}" ] && return 1; sleep 0.02; done; }
wait_new_blocks() { t=$(ns); while [ "$(new_since "$1" | wc -l)" -lt "$2" ]; do [ "$(ms_since "$t")" -gt "${3:-20000}" ] && return 1; sleep 0.02; done; }
# wait until N hot-added blocks are online and udev is idle
wait_hot_online() {
    t=$(ns)
    while [ "$(online_count $(hot_blocks))" -lt "$1" ]; do [ "$(ms_since "$t")" -gt "${2:-30000}" ] && return 1; sleep 0.02; done
    settle
}
# wait_new_online SNAP N [MS]: N blocks appeared since snapshot SNAP and all of them are online; udev idle
wait_new_online() {
    t=$(ns)
    while [ "$(new_since "$1" | wc -l)" -lt "$2" ] || [ "$(online_count $(new_since "$1"))" -lt "$(new_since "$1" | wc -l)" ]; do
        if [ "$(ms_since "$t")" -gt "${3:-30000}" ]; then
            echo "timeout: $(new_since "$1" | wc -l)/$2 blocks appeared, $(online_count $(new_since "$1")) online"
            showblocks $(new_since "$1"); return 1
        fi
        sleep 0.05
    done
    settle
}
settle() { udevadm settle --timeout="${1:-30}"; }

# ---- zones (pages, summed over nodes).  kernel = every zone but Movable and Device
zone_managed() { awk -v z="$1" '/^Node/{zn=$4} $1=="managed" && zn==z {s+=$2} END{print s+0}' /proc/zoneinfo; }
movable_pages() { zone_managed Movable; }
kernel_pages() { awk '/^Node/{zn=$4} $1=="managed" && zn!="Movable" && zn!="Device" {s+=$2} END{print s+0}' /proc/zoneinfo; }
zs() { awk '/^Node/{zn=$4} $1=="managed" && $2>0 {printf "%s=%dMiB ", zn, $2*4/1024} END{print ""}' /proc/zoneinfo; }
# present pages, what the cap counts (the kernel's auto-movable and memzone's ratio_basis): the boot
# basis is smaller still, so a check against all kernel present pages is looser, never wrong
zone_present() { awk -v z="$1" '/^Node/{zn=$4} $1=="present" && zn==z {s+=$2} END{print s+0}' /proc/zoneinfo; }
kernel_present_pages() { awk '/^Node/{zn=$4} $1=="present" && zn!="Movable" && zn!="Device" {s+=$2} END{print s+0}' /proc/zoneinfo; }
# ratio_ok PERCENT: movable <= PERCENT% of kernel, both in present pages (prints the numbers)
ratio_ok() {
    mv=$(zone_present Movable) kn=$(kernel_present_pages)
    echo "movable=$((mv / 256))MiB kernel=$((kn / 256))MiB ratio=$((mv * 100 / kn))% cap=$1%"
    [ $((mv * 100)) -le $(($1 * kn)) ]
}

# ---- uevents logged by /etc/udev/rules.d/99-memzone-vm-events.rules
nevents() { cat /tmp/memevents 2>/dev/null | grep -c "^$1 memory$2 "; }     # nevents ACTION BLOCK

# ---- memzone
# mzconf <<EOF ... EOF: the new policy, then `memzone init` as an administrator runs it after an
# edit (memzone.conf(5)): it hands an expressible policy to the kernel or takes it back
mzconf() { mkdir -p "$(dirname "$MZ_CONF")" && cat > "$MZ_CONF" && { "$MZ_BIN" init > /tmp/mzconf-init.log 2>&1; true; }; }
mzlog() { dmesg | grep memzone; }
# memzone kernel-log lines at level <= $1 (0 emerg .. 7 debug), raw "<N>" prefix stripped
mzlog_level() { dmesg -r | awk -v max="$1" 'match($0, /^<[0-9]+>/) { n = substr($0, 2, RLENGTH - 2) % 8; if (n <= max && /memzone/) print n ": " substr($0, RLENGTH + 1) }'; }
# start the rebalancer in the background (for rebalancer scenarios); its log goes to /tmp/memzoned.log
start_memzoned() { "$MZ_DAEMON" "$@" > /tmp/memzoned.log 2>&1 < /dev/null & echo $! > /run/mzvm/memzoned.pid; }
stop_memzoned() { [ -f /run/mzvm/memzoned.pid ] && kill "$(cat /run/mzvm/memzoned.pid)" 2>/dev/null; rm -f /run/mzvm/memzoned.pid; }
# held FILE: some process holds a flock on FILE (memzoned's liveness locks: memzoned.lock for its
# life, memzoned.decides while it decides new memory); tested as status does, without waiting
held() { [ -e "$1" ] && command -v flock >/dev/null && ! flock -n -s "$1" true; }
mzd_decides() { held /run/memzone/memzoned.decides; }
# mzd_wait_decides [MS]: until a memzoned decides new memory (at most MS, default 20000)
mzd_wait_decides() { t=$(ns); until mzd_decides; do [ $(ms_since $t) -gt "${1:-20000}" ] && return 1; sleep 0.05; done; }
# mzd_wait_gone [MS]: until no memzoned holds memzoned.lock
mzd_wait_gone() { t=$(ns); while held /run/memzone/memzoned.lock; do [ $(ms_since $t) -gt "${1:-20000}" ] && return 1; sleep 0.05; done; }

# ---- what pins a block in a kernel zone, read from the kernel (not from memzone)
# page_causes B: "slab=N pgtable=N reserved=N" of memory block B, from /proc/kpageflags (a page
# counts once: reserved, else page table, else slab); the kernel refuses to offline a kernel-zone
# block holding any of them
page_causes() {
    n=$(( $(block_size) / 4096 ))
    dd if=/proc/kpageflags bs=8 skip=$(( $1 * n )) count=$n 2>/dev/null | od -An -tu8 -w8 -v |
        awk 'BEGIN { p[0] = 1; for (i = 1; i <= 40; i++) p[i] = p[i - 1] * 2 }
            function bit(v, k) { return int(v / p[k]) - 2 * int(v / p[k] / 2) }
            { f = $1 + 0; if (bit(f, 32)) r++; else if (bit(f, 26)) t++; else if (bit(f, 7)) s++ }
            END { printf "slab=%d pgtable=%d reserved=%d\n", s, t, r }'
}
pinned_pages() { page_causes "$1" | awk -F'[ =]' '{ print $2 + $4 + $6 }'; }
# harvested: blocks memzoned moved out of Movable (its log, /tmp/memzoned.log), one per line
harvested() { sed -n 's/.*memory\([0-9]*\) moved from Movable.*/\1/p' /tmp/memzoned.log | sort -un; }
# kernel_hot: hot-added blocks online in a kernel zone now
kernel_hot() { for b in $(hot_blocks); do z=$(bzone "$b"); [ "$z" != Movable ] && [ "$z" != offline ] && echo "$b"; done; }
# returnable_kept: hot-added kernel-zone blocks with no slab, page-table or reserved page (memzoned
# could give them back), as "memoryB" words
returnable_kept() { for b in $(kernel_hot); do [ "$(pinned_pages "$b")" = 0 ] && echo "memory$b"; done; }
# giveback_settled MS: until no returnable block has been kept for 15 s in a row (at most MS);
# prints how long it took, or what was still kept
giveback_settled() {
    t=$(ns); since=''
    while [ "$(ms_since $t)" -lt "$1" ]; do
        k=$(returnable_kept)
        if [ -z "$k" ]; then
            [ -z "$since" ] && since=$(ns)
            [ "$(ms_since $since)" -ge 15000 ] && { echo "settled after $(ms_since $t) ms"; return 0; }
        else
            since=''
        fi
        sleep 2
    done
    echo "still kept after $1 ms, with no slab, page-table or reserved page: $k"
    return 1
}
# status_pinned_ok: `memzone status` lists exactly the hot-added kernel-zone blocks as pinned, each
# with a cause; every block the kernel shows slab, page-table or reserved pages on names one of them
status_pinned_ok() {
    "$MZ_BIN" status > /tmp/status.txt 2>&1
    sed -n 's/^  pinned: memory\([0-9]*\) since [^:]*:[^:]*:[^:]*: \(.*\)$/\1 \2/p' /tmp/status.txt > /tmp/pinned.txt
    kernel_hot > /tmp/kh.txt
    ok=0
    for b in $(cat /tmp/kh.txt); do
        line=$(grep "^$b " /tmp/pinned.txt); c=$(page_causes "$b")
        echo "memory$b: kernel: $c; status: ${line#* }"
        [ -n "$line" ] || ok=1
        case "$c" in *"slab=0 pgtable=0 reserved=0"*) ;; *) echo "$line" | grep -qE 'slab|page-table|reserved' || ok=1 ;; esac
    done
    extra=$(cut -d' ' -f1 /tmp/pinned.txt | grep -vxF -f /tmp/kh.txt)
    [ -z "$extra" ] || { echo "status lists blocks not in a kernel zone: $extra"; ok=1; }
    return $ok
}
# pt_spike MIB HOLD_S: loadgen builds MIB MiB of page tables at 64 MiB/s, holds them HOLD_S seconds and
# releases them (waits for the release, at most 200 s); true when it reached its target with vmstat's
# oom_kill unchanged
pt_spike() {
    oom0=$(awk '/^oom_kill /{print $2}' /proc/vmstat)
    loadgen pt --target "${1}M" --rate 64 --hold "$2" > /tmp/lg.log 2>&1 </dev/null &
    t=$(ns)
    while ! grep -q released /tmp/lg.log; do
        [ "$(ms_since $t)" -gt 200000 ] && break
        grep -q -e done -e Killed /tmp/lg.log && break
        sleep 0.5
    done
    tail -n 3 /tmp/lg.log
    oom1=$(awk '/^oom_kill /{print $2}' /proc/vmstat)
    echo "oom_kill $oom0 -> $oom1; zones: $(zs)"
    grep -q holding /tmp/lg.log && [ "$oom1" = "$oom0" ]
}
