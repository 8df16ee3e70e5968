#!/bin/bash
# 09-memzoned-online.sh - while memzoned runs it decides new memory itself, from the kernel's own
# uevents, and the helper the udev rule starts exits at once (memzoned holds its flock on
# run/memzone/memzoned.decides). Liveness is the kernel's: killed with events it had not read,
# memzoned decides every offline block at its next start; killed, its pid taken by another
# process and its configuration broken (the restart fails), the helper decides new memory.
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 2G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = movable
EOF
dmesg -c >/dev/null
start_memzoned --log stderr
mzd_wait_decides
snap a' >/dev/null
gcheck "memzoned started and holds its locks (memzoned.lock with its pid, memzoned.decides); its link for the rule resolves" '
readlink /run/memzone/memzoned.online
[ "$(cat /run/memzone/memzoned.lock)" = "$(cat /run/mzvm/memzoned.pid)" ] && held /run/memzone/memzoned.lock &&
mzd_decides && grep -q "onlining new memory" /tmp/memzoned.log && [ -e /run/memzone/memzoned.online ]'

t0=$(date +%s.%N)
check "hot-add DIMM dA 8G (64 blocks)" dimm_add dA 8G
gcheck "dA's 64 blocks come online, in ZONE_MOVABLE" '
wait_new_online a 64 90000 || exit 1
bad=$(not_in_zone Movable $(new_since a)); [ -z "$bad" ] || { echo "not Movable: $bad"; exit 1; }'
diag "device_add 8G -> 64 blocks online: $(_since "$t0")s"
gcheck "memzoned decided each block once, and each helper exited at once (no decision logged)" '
n=$(grep -c "memzoned: memory[0-9]*: online_movable" /tmp/memzoned.log)
h=$(dmesg | grep -c "memzone\[[0-9]*\]: memory")
echo "memzoned: $n decisions; helpers: $h log lines"
bad=0
for b in $(new_since a); do [ "$(nevents online $b)" = 1 ] || { echo "memory$b onlined $(nevents online $b) times"; bad=1; }; done
[ "$n" = 64 ] && [ "$h" = 0 ] && [ $bad = 0 ]'

# the window a kill can hit: events whose helpers exited (memzoned holds memzoned.decides) that
# memzoned has not read yet. A stopped memzoned holds them as long as needed. 9G is 72 blocks: the
# catch-up decides them in chunks of 64, so it crosses a chunk boundary.
CTL 'snap b; kill -STOP $(cat /run/mzvm/memzoned.pid)' >/dev/null
check "hot-add DIMM dB 9G while memzoned is stopped (SIGSTOP)" dimm_add dB 9G
gcheck "... its 72 blocks stay offline: their helpers exited, the stopped memzoned holds memzoned.decides" '
wait_new_blocks b 72 30000 && settle || exit 1
sleep 1; n=$(online_count $(new_since b)); echo "$n online"; [ "$n" = 0 ]'
gcheck "memzoned killed there (SIGKILL): the kernel dropped its locks, its pid stays in memzoned.lock" '
pid=$(cat /run/mzvm/memzoned.pid); kill -KILL $pid; kill -CONT $pid 2>/dev/null; sleep 0.5
! held /run/memzone/memzoned.lock && ! mzd_decides && [ "$(cat /run/memzone/memzoned.lock)" = "$pid" ]'
gcheck "restarted, memzoned decides every offline block, each once (two chunks)" '
start_memzoned --log stderr
t=$(ns); until [ "$(online_count $(new_since b))" = 72 ]; do [ $(ms_since $t) -gt 30000 ] && break; sleep 0.05; done
grep -m1 "offline block(s) at start" /tmp/memzoned.log
bad=0
for b in $(new_since b); do [ "$(nevents online $b)" = 1 ] || { echo "memory$b onlined $(nevents online $b) times"; bad=1; }; done
[ "$(online_count $(new_since b))" = 72 ] && [ -z "$(not_in_zone Movable $(new_since b))" ] && [ $bad = 0 ]'

# (a) the pid of a SIGKILLed memzoned taken by another process, (b) its configuration broken
gcheck "memzoned SIGKILLed again, its pid taken by a sleeper (ns_last_pid): status says not running" '
mzd_wait_decides; pid=$(cat /run/mzvm/memzoned.pid); kill -KILL $pid; sleep 0.5
for i in $(seq 50); do
    echo $((pid - 1)) > /proc/sys/kernel/ns_last_pid; sleep 3600 >/dev/null 2>&1 </dev/null & s=$!
    [ $s = $pid ] && break; kill $s
done
echo "memzoned was $pid, the sleeper is $s; memzoned.lock says $(cat /run/memzone/memzoned.lock)"
[ $s = $pid ] && kill -0 $s && [ "$(cat /run/memzone/memzoned.lock)" = "$pid" ] || exit 1
echo $s > /run/mzvm/sleeper
"$MZ_BIN" status > /tmp/st.txt; grep -E "decided by|running" /tmp/st.txt
grep -q "new memory decided by: udev helper" /tmp/st.txt && ! grep -q "running, pid" /tmp/st.txt'
gcheck "... the rule's shortcut link is left behind and resolves no more (its map_files entry died with memzoned)" '
ls -l /run/memzone/memzoned.online; [ -L /run/memzone/memzoned.online ] && [ ! -e /run/memzone/memzoned.online ]'
CTL 'snap r; dmesg -c >/dev/null' >/dev/null
check "hot-add DIMM dR 1G: memzoned dead, its pid alive in another process, its link left" dimm_add dR 1G
gcheck "... udev's helper onlines every block" '
wait_new_online r 8 60000 || exit 1
h=$(dmesg | grep -c "memzone\[[0-9]*\]: memory"); echo "helpers: $h log lines"; [ "$h" -ge 8 ]'
gcheck "configuration made invalid: a new memzoned exits 3 (it decides no new memory)" '
cp "$MZ_CONF" /tmp/good.conf; printf "[online]\ndefault_zone = sideways\n" > "$MZ_CONF"
"$MZ_DAEMON" --log stderr > /tmp/mzd-bad.log 2>&1 < /dev/null; rc=$?
echo "memzoned exit $rc: $(head -n 2 /tmp/mzd-bad.log)"; [ $rc = 3 ] && ! held /run/memzone/memzoned.lock'
# the same adds heard from a private network namespace (memzoned.service's PrivateNetwork=) and from
# the host's: the kernel's group reaches both, udevd's re-broadcast (the "udev" group) only its own
CTL 'snap c; dmesg -c >/dev/null
unshare -n udevadm monitor --kernel --udev -s memory > /tmp/mon-netns.txt 2>&1 < /dev/null & echo $! > /run/mzvm/mon1
udevadm monitor --udev -s memory > /tmp/mon-host.txt 2>&1 < /dev/null & echo $! > /run/mzvm/mon2
sleep 1' >/dev/null
check "hot-add DIMM dC 1G: memzoned dead, its pid alive in another process, the config invalid" dimm_add dC 1G
gcheck "... udev's helper onlines every block (built-in defaults, as with a broken config; exit 3)" '
wait_new_online c 8 60000 || exit 1
h=$(dmesg | grep -c "memzone\[[0-9]*\]: memory")
echo "helpers: $h log lines; zones: $(for b in $(new_since c); do bzone $b; done | sort | uniq -c | tr "\n" " ")"
dmesg | grep -m1 "built-in defaults"
[ "$h" -ge 8 ] && [ -z "$(blocks $(new_since c) | awk "\$2 != \"online\"")" ]'

gcheck "a private network namespace hears the kernel's adds, not udevd's re-broadcast (memzoned listens to the kernel's group)" '
sleep 1; kill $(cat /run/mzvm/mon1) $(cat /run/mzvm/mon2)
k=$(grep -c "^KERNEL.* add .*/memory[0-9]" /tmp/mon-netns.txt); u=$(grep -c "^UDEV.* add " /tmp/mon-netns.txt)
h=$(grep -c "^UDEV.* add .*/memory[0-9]" /tmp/mon-host.txt)
echo "private namespace: $k kernel adds, $u udev adds; host namespace: $h udev adds"
[ "$k" -ge 8 ] && [ "$u" = 0 ] && [ "$h" -ge 8 ]'

gcheck "the configuration back, memzoned started and stopped cleanly (SIGTERM): both locks free" '
kill $(cat /run/mzvm/sleeper); cp /tmp/good.conf "$MZ_CONF"
start_memzoned --log stderr; mzd_wait_decides || { cat /tmp/memzoned.log; exit 1; }
stop_memzoned; mzd_wait_gone && ! mzd_decides && [ ! -s /run/memzone/memzoned.lock ]'
vm_finish
