#!/bin/bash
# 09-memzoned-online.sh - while memzoned runs it decides new memory itself, from the kernel's own
# uevents, and the udev rule starts no helper (run/memzone/memzoned.online resolves); killed with
# events the rule skipped for it, memzoned decides every offline block at its next start; stopped
# cleanly, it hands new memory back to the helper.
. "$(dirname "$0")/../vmlib.sh"
vm_require_memzone
vm_boot --mem 2G || { fail "VM boots"; vm_finish; exit; }

CTL 'mzconf <<EOF
[online]
default_zone = movable
EOF
dmesg -c >/dev/null
start_memzoned --log stderr
t=$(ns); until [ -e /run/memzone/memzoned.online ]; do [ $(ms_since $t) -gt 20000 ] && break; sleep 0.05; done
snap a' >/dev/null
gcheck "memzoned started and says it onlines new memory (run/memzone/memzoned.online -> /proc/PID)" '
[ "$(readlink /run/memzone/memzoned.online)" = "/proc/$(cat /run/mzvm/memzoned.pid)" ] &&
grep -q "onlining new memory" /tmp/memzoned.log'

t0=$(date +%s.%N)
check "hot-add DIMM dA 8G (64 blocks)" dimm_add dA 8G
gcheck "dA's 64 blocks come online, in ZONE_MOVABLE" '
wait_new_online a 64 90000 || exit 1
bad=$(not_in_zone Movable $(new_since a)); [ -z "$bad" ] || { echo "not Movable: $bad"; exit 1; }'
diag "device_add 8G -> 64 blocks online: $(_since "$t0")s"
gcheck "memzoned decided each block once, and udev started no helper" '
n=$(grep -c "memzoned: memory[0-9]*: online_movable" /tmp/memzoned.log)
h=$(dmesg | grep -c "memzone\[[0-9]*\]: memory")
echo "memzoned: $n decisions; helpers: $h log lines"
bad=0
for b in $(new_since a); do [ "$(nevents online $b)" = 1 ] || { echo "memory$b onlined $(nevents online $b) times"; bad=1; }; done
[ "$n" = 64 ] && [ "$h" = 0 ] && [ $bad = 0 ]'

# the window a kill can hit: events the rule skipped (memzoned lives: the link resolves) that
# memzoned has not read yet. A stopped memzoned holds them as long as needed. 9G is 72 blocks: the
# catch-up decides them in chunks of 64, so it crosses a chunk boundary.
CTL 'snap b; kill -STOP $(cat /run/mzvm/memzoned.pid)' >/dev/null
check "hot-add DIMM dB 9G while memzoned is stopped (SIGSTOP)" dimm_add dB 9G
gcheck "... its 72 blocks stay offline: the rule skipped them for the stopped memzoned" '
wait_new_blocks b 72 30000 && settle || exit 1
sleep 1; n=$(online_count $(new_since b)); echo "$n online"; [ "$n" = 0 ]'
gcheck "memzoned killed there (SIGKILL): the link is left, resolving no more" '
pid=$(cat /run/mzvm/memzoned.pid); kill -KILL $pid; kill -CONT $pid 2>/dev/null; sleep 0.5
[ -L /run/memzone/memzoned.online ] && [ ! -e /run/memzone/memzoned.online ]'
gcheck "restarted, memzoned finds the link left behind and onlines every offline block, each once (two chunks)" '
start_memzoned --log stderr
t=$(ns); until [ "$(online_count $(new_since b))" = 72 ]; do [ $(ms_since $t) -gt 30000 ] && break; sleep 0.05; done
grep -m1 "did not stop cleanly" /tmp/memzoned.log
bad=0
for b in $(new_since b); do [ "$(nevents online $b)" = 1 ] || { echo "memory$b onlined $(nevents online $b) times"; bad=1; }; done
[ "$(online_count $(new_since b))" = 72 ] && [ -z "$(not_in_zone Movable $(new_since b))" ] && [ $bad = 0 ]'

gcheck "memzoned stopped cleanly (SIGTERM): the link is gone" '
stop_memzoned; t=$(ns); while [ -e /run/memzone/memzoned.online ]; do [ $(ms_since $t) -gt 20000 ] && break; sleep 0.05; done
[ ! -e /run/memzone/memzoned.online ] && [ ! -L /run/memzone/memzoned.online ]'
CTL 'snap c' >/dev/null
check "hot-add DIMM dC 1G without memzoned" dimm_add dC 1G
gcheck "... udev's helper onlines it, as before memzoned ran" '
wait_new_online c 8 60000 || exit 1
h=$(dmesg | grep -c "memzone\[[0-9]*\]: memory")
echo "helpers: $h log lines"; [ "$h" -ge 8 ] && [ -z "$(not_in_zone Movable $(new_since c))" ]'
vm_finish
