#!/bin/bash
# test-memzoned-unit.sh - memzoned.service and the tmpfiles.d snippet: the settings the daemon's safety
# depends on, and the sandbox's `systemd-analyze security` exposure (<= 2.0), with memzone-init.service's. TAP.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?}"
UNIT=$top_builddir/systemd/memzoned.service
TMPFILES=$top_builddir/systemd/tmpfiles.d/memzone.conf

n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
has() { grep -qx -- "$1" "$UNIT"; }
check_has() { has "$1"; ok $? "unit: $1${2:+ ($2)}"; }

[ -f "$UNIT" ] && [ -f "$TMPFILES" ] || { echo "Bail out! build systemd/memzoned.service and the tmpfiles snippet first"; exit 1; }

check_has 'Type=notify' 'READY/RELOADING/STOPPING come from sd_notify'
check_has 'ExecReload=/bin/kill -HUP $MAINPID'
check_has 'RestartPreventExitStatus=2 3' 'a bad command line or config is not fixed by restarting'
grep -q '^ExecStart=/.*/memzoned$' "$UNIT"
ok $? "unit: ExecStart is the installed memzoned (@sbindir@ substituted)"
! grep -q '^RuntimeDirectory=' "$UNIT"
ok $? "unit: no RuntimeDirectory= (systemd would delete the intent record on stop)"
grep -qx 'd /run/memzone 0755 root root -' "$TMPFILES"
ok $? "tmpfiles.d creates /run/memzone and never cleans it"

# WatchdogSec and TimeoutStopSec must outlast a move bounded by the default offline_timeout (10s)
wd=$(sed -n 's/^WatchdogSec=\([0-9]*\)s$/\1/p' "$UNIT")
ts=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$UNIT")
[ -n "$wd" ] && [ "$wd" -gt 10 ]
ok $? "unit: WatchdogSec=${wd}s is above offline_timeout (10s)"
[ -n "$ts" ] && [ "$ts" -gt 10 ]
ok $? "unit: TimeoutStopSec=${ts}s lets a move in flight finish"
check_has 'ProtectSystem=strict'
check_has 'ReadWritePaths=/sys/devices/system/memory /run/memzone' 'the only writable places'
check_has 'NoNewPrivileges=yes'
check_has 'CapabilityBoundingSet=CAP_SYS_ADMIN' 'iomem addresses and kpageflags; nothing else'
check_has 'RestrictAddressFamilies=AF_UNIX AF_NETLINK' 'journal/sd_notify and the kernel uevents'
check_has 'PrivateNetwork=yes' 'kernel uevents reach a network namespace of the initial user namespace'
check_has 'SystemCallFilter=@system-service'

if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
	# both units run as root: memzoned.service and the boot-time memzone-init.service
	for u in "$UNIT" "$top_builddir/systemd/memzone-init.service"; do
		out=$(systemd-analyze security --offline=yes "$u" 2>&1)
		level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		printf '%s\n' "$out" | grep '✗' | sed 's/^/# /'
		awk -v l="${level:-99}" 'BEGIN { exit !(l <= 2.0) }'
		ok $? "systemd-analyze security $(basename "$u"): exposure ${level:-unknown} <= 2.0"
	done
else
	echo "ok $((n += 1)) - systemd-analyze security # SKIP no systemd-analyze with --offline (systemd >= 250)"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
