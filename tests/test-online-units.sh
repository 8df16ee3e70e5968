#!/bin/bash
# test-online-units.sh - the generated udev rule and boot unit: substituted, well-formed, wired to the
# helper, skipping coldplug replays of online blocks, and ordered before udev's coldplug.
# shellcheck disable=SC2154 # top_srcdir comes from make check's environment
. "$top_srcdir/tests/test-online-lib.sh"

rule=$top_builddir/rules/60-memzone.rules
unit=$top_builddir/systemd/memzone-init.service
if [ ! -f "$rule" ] || [ ! -f "$unit" ]; then
	echo "Bail out! run make first ($rule, $unit)"
	exit 1
fi

# ---- the rule
check "rule: every @VAR@ substituted" bash -c "! grep -n '@[a-z]*@' '$rule'"
# udev 252 has no `udevadm verify`: check each rule line is KEY[{attr}] OP \"value\" pairs
check "rule: every line is KEY OP \"value\", ..." bash -c "! grep -v '^#' '$rule' | grep -v '^\$' | grep -vE \
	'^[A-Z_]+(\{[^}]*\})?(==|!=|=|\+=|:=)\"[^\"]*\"(, [A-Z_]+(\{[^}]*\})?(==|!=|=|\+=|:=)\"[^\"]*\")*\$'"
check "rule: only memory add events" grep -qx 'ACTION!="add", GOTO="memzone_end"' "$rule"
check "rule: only the memory subsystem" grep -qx 'SUBSYSTEM!="memory", GOTO="memzone_end"' "$rule"
check "rule: only memoryN devices" grep -qx 'KERNEL!="memory\[0-9\]\*", GOTO="memzone_end"' "$rule"
check "rule: coldplug replays of blocks that are not offline are skipped" \
	grep -qx 'ENV{SYNTH_UUID}=="?\*", ATTR{state}!="offline", GOTO="memzone_end"' "$rule"
# the helper of the first block of a device leaves run/memzone/onlined/memoryN.ZONE for the blocks it
# onlined ahead of their events (test-online.sh checks the names match valid_zones)
check "rule: events of blocks onlined ahead by their device's first helper are skipped" \
	grep -qx 'ATTR{state}=="online", TEST=="/run/memzone/onlined/\$kernel.\$attr{valid_zones}", GOTO="memzone_end"' "$rule"
check "rule: ... and that skip comes before the RUN" bash -c "grep -n . '$rule' | grep -E 'TEST==|^[0-9]+:RUN' | head -1 | grep -q TEST"
run=$(sed -n 's/^RUN+="\(.*\)"$/\1/p' "$rule")
case $run in
/*/memzone\ online\ \$kernel) ok 0 "rule: runs the installed helper by absolute path ($run)" ;;
*) ok 1 "rule: runs the installed helper by absolute path ($run)" ;;
esac
check "rule: the GOTO label exists" grep -qx 'LABEL="memzone_end"' "$rule"
check "rule: no ATTR{state} assignment of its own (the helper decides)" \
	bash -c "! grep -v '^#' '$rule' | grep -q 'ATTR{state}=\"'"
check "rule: documents how distribution rules are overridden" grep -q "udev-masks" "$rule"
# what udev would pass: $kernel of a memory device is memoryN, which the helper accepts as is
tree rule --blocks 20 --nodes 1 --hotplug dimm:1
F=$(dev first_block 0)
mz online "memory$F"
is "$rc/$(state "$F")" 0/online "the helper takes \$kernel as udev passes it"

# ---- the boot unit
check "unit: every @VAR@ substituted" bash -c "! grep -n '@[a-z]*@' '$unit'"
check "unit: runs 'memzone init'" grep -qE '^ExecStart=/.*/memzone init$' "$unit"
check "unit: stopping it restores auto_online_blocks ('memzone init --restore')" grep -qE '^ExecStop=/.*/memzone init --restore$' "$unit"
check "rule: an offline event marks the block (MEMZONE_OFFLINED=1), an online event clears it" \
	bash -c "grep -qx 'ACTION==\"offline\", ENV{MEMZONE_OFFLINED}=\"1\", GOTO=\"memzone_end\"' '$rule' && grep -qx 'ACTION==\"online\", ENV{MEMZONE_OFFLINED}=\"\", GOTO=\"memzone_end\"' '$rule'"
check "rule: an add of a block marked offlined this boot starts no helper" \
	bash -c "grep -qx 'ENV{MEMZONE_OFFLINED}==\"1\", GOTO=\"memzone_end\"' '$rule'"
check "unit: oneshot" grep -qx 'Type=oneshot' "$unit"
check "unit: no default dependencies (runs in early boot)" grep -qx 'DefaultDependencies=no' "$unit"
before=$(sed -n 's/^Before=//p' "$unit")
for u in systemd-udevd.service systemd-udev-trigger.service sysinit.target; do
	case " $before " in
	*" $u "*) ok 0 "unit: ordered before $u" ;;
	*) ok 1 "unit: ordered before $u" ;;
	esac
done
# local-fs/remount-fs can wait for device units, which need udev: ordering after them is a cycle
check "unit: not ordered after anything that waits for udev" \
	bash -c "! grep -E '^After=.*(local-fs|remount-fs|udev|systemd-fsck)' '$unit'"
check "unit: only where the kernel has memory hotplug" \
	grep -qx 'ConditionPathExists=/sys/devices/system/memory/auto_online_blocks' "$unit"
# PrivateTmp= (and the *Directory= settings) add mount dependencies: /tmp or /var/tmp can wait for udev
check "unit: no setting that adds a mount dependency (PrivateTmp=, *Directory=)" \
	bash -c "! grep -E '^(PrivateTmp|RuntimeDirectory|StateDirectory|CacheDirectory|LogsDirectory|WorkingDirectory)=' '$unit'"
check "unit: writes only the memory blocks, memory_hotplug's parameters and /run" \
	grep -qx 'ReadWritePaths=/sys/devices/system/memory -/sys/module/memory_hotplug/parameters /run' "$unit"
# (its systemd-analyze security exposure is checked with memzoned's, in test-memzoned-unit.sh)
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|^\(Exec[A-Za-z]*=\).*/memzone |\1$MEMZONE |" "$unit" >"$TMP/memzone-init.service"
	if systemd-analyze verify --man=no "$TMP/memzone-init.service" >"$TMP/verify" 2>&1; then
		ok 0 "unit: systemd-analyze verify"
	else
		ok 1 "unit: systemd-analyze verify"
		sed 's/^/#   /' "$TMP/verify"
	fi
else
	ok 0 "# SKIP systemd-analyze not available"
fi

done_testing
