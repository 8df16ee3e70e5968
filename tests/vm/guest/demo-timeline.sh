# shellcheck shell=sh disable=SC2154
# demo-timeline.sh - sourced in the guest by tests/vm/demo.sh (after funcs.sh; $target in MiB):
# runs loadgen's page-table ramp and prints the NORMAL/MOVABLE boundary every 2 s until memzoned
# has given back what it can after the release (or 150 s pass).
oom0=$(awk '/^oom_kill /{print $2}' /proc/vmstat)
loadgen pt --target "${target}M" --rate 64 --hold 10 > /tmp/lg.log 2>&1 < /dev/null &
t0=$(ns)
phase=ramp
mv0=$(movable_pages)
line() {
    awk -v t=$(( $(ms_since "$t0") / 1000 )) -v ph="$phase" -v moves="$(grep -c 'moved from' /tmp/memzoned.log)" '
        /^Node/ { z = $4 }
        $1 == "managed" { if (z == "Movable") mv += $2; else if (z != "Device") k += $2 }
        $1 == "pages" && $2 == "free" && z != "Movable" && z != "Device" { f += $3 }
        $1 == "min" && z != "Movable" && z != "Device" { mn += $2 }
        END { printf "   t=%3ds %-7s kernel %5d MiB  movable %5d MiB  kernel free %4d MiB (min %d)  moves %d\n",
                     t, ph, k / 256, mv / 256, f / 256, mn / 256, moves }' /proc/zoneinfo
}
while [ "$(ms_since "$t0")" -lt 150000 ]; do
    line
    if grep -q -e released -e Killed /tmp/lg.log; then
        phase=release
        # done once every harvested block is movable again, or nothing moved for 16 s (blocks that
        # picked up kernel allocations refuse to go offline: memzoned backs off from them)
        m=$(grep -c 'moved from' /tmp/memzoned.log)
        [ "$m" != "${last_m:-}" ] && { last_m=$m; t_move=$(ns); }
        [ "$(movable_pages)" -ge "$mv0" ] && break
        [ "$(ms_since "$t_move")" -ge 16000 ] && break
    elif grep -q holding /tmp/lg.log; then
        phase=hold
    fi
    sleep 2
done
line
echo "   oom kills during the run: $(( $(awk '/^oom_kill /{print $2}' /proc/vmstat) - oom0 ))"
echo "   memzoned's last moves:"
grep 'moved from' /tmp/memzoned.log | tail -n 8 | sed 's/^/     /'
stop_memzoned
