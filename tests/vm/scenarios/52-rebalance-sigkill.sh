#!/bin/bash
# 52-rebalance-sigkill.sh - memzoned is killed with SIGKILL in the middle of a move, at the moment
# /run/memzone shows a move in flight (the intent record); restarted, it finishes or rolls back the
# move: every block is online again, none is left offline.
#
# Blocks holding tmpfs pages take ~1 s to offline under TCG (page migration), which leaves time to
# kill during the offline; later rounds kill a little later, after the offline, while the online
# runs or just after. Each round: pressure (headroom above kernel free) makes memzoned harvest a
# Movable block; the guest polls for the intent record and kills at once (or after a delay).
# A kill between the offline and the online (a window of microseconds) is reproduced by hand first:
# the block offline, its intent record written, memzoned started.
# vm-modes: 6.1 6.12-offline
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 1G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = movable
[rebalance]
interval = 300ms
headroom = 5G
release_headroom = 6G
moves_per_minute = 20
backoff_initial = 1s
EOF
echo offline > $M/auto_online_blocks' >/dev/null
CTL 'snap d' >/dev/null
dimm_add d1 4G || vm_bail "dimm_add d1"
lcheck "32 blocks online Movable, 1 GiB of tmpfs pages in them" 120 '
wait_new_online d 32 90000 && settle && new_since d > /tmp/d1 || exit 1
mkdir -p /tmp/fill && mount -t tmpfs -o size=1800m tmpfs /tmp/fill &&
dd if=/dev/zero of=/tmp/fill/f bs=1M count=1024 2>/dev/null || exit 1
zs' || vm_bail "no DIMM"

# the state a kill between the offline and the online leaves (too short a window to hit from a shell)
lcheck "a block left offline with its intent record: memzoned's start completes the move first" 90 '
b=$(tail -n 1 /tmp/d1)
echo offline > $M/memory$b/state || exit 1
printf "version=1\nblock=%s\nfrom=Movable\nto=Normal\nstarted=%s\npid=1\n" $b $(date +%s) > /run/memzone/intent
"$MZ_DAEMON" --log stderr > /tmp/mzd0.log 2>&1 </dev/null &
pid=$!
t=$(ns); while [ -e /run/memzone/intent ] || [ "$(bstate $b)" != online ]; do
    [ $(ms_since $t) -gt 60000 ] && break; sleep 0.1; done
kill -TERM $pid; wait $pid
grep -m1 "interrupted move" /tmp/mzd0.log
[ "$(bstate $b)" = online ] && [ "$(bzone $b)" = Normal ] && [ ! -e /run/memzone/intent ]'

for delay in 0 0 200 500 900; do
    lcheck "round (kill ${delay} ms after the intent record appears): after a restart every block is online" 150 "
kill_after=$delay
\"\$MZ_DAEMON\" --log stderr > /tmp/mzd.log 2>&1 </dev/null &
pid=\$!
t=\$(ns); while [ ! -e /run/memzone/intent ]; do
    [ \$(ms_since \$t) -gt 60000 ] && { echo 'no move started'; tail -n 5 /tmp/mzd.log; kill \$pid; exit 1; }
done
[ \$kill_after -gt 0 ] && usleep \$((kill_after * 1000))
kill -KILL \$pid; wait \$pid 2>/dev/null
b=\$(sed -n 's/^block=//p' /run/memzone/intent 2>/dev/null)
echo \"kill after $delay ms: intent \$( [ -e /run/memzone/intent ] && echo \"left, block \$b\" || echo cleared), offline then: \$(blocks \$(cat /tmp/d1) | awk '\$2 != \"online\" {print \$1}' | tr '\n' ' ')\" | tee -a /tmp/kills
\"\$MZ_DAEMON\" --log stderr > /tmp/mzd2.log 2>&1 </dev/null &
pid=\$!
t=\$(ns); while [ -e /run/memzone/intent ] || [ ! -s /run/memzone/state ] || ! grep -q '^pid='\$pid /run/memzone/state; do
    [ \$(ms_since \$t) -gt 60000 ] && { echo 'no recovery'; tail -n 5 /tmp/mzd2.log; break; }; sleep 0.1
done
kill -TERM \$pid; wait \$pid
grep -m1 'interrupted move' /tmp/mzd2.log
off=\$(blocks \$(cat /tmp/d1) | awk '\$2 != \"online\" {print \$1}')
[ -z \"\$off\" ] || { echo \"still offline: \$off\"; exit 1; }
[ ! -e /run/memzone/intent ]"
done
diag "$(CTL 'cat /tmp/kills')"
vm_finish
