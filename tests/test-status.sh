#!/bin/sh
# test-status.sh - `memzone status` on synthetic trees (devices, hot-removable, bad input, rules,
# daemon state) and on this machine's real /proc and /sys (read-only). Prints TAP.
set -u
: "${MEMZONE:?MEMZONE must name the memzone binary}"
: "${top_srcdir:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/test-status.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
export TZ=UTC
n=0
failed=0

ok() { # ok STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# json FILE PYTHON-EXPRESSION: true when the expression over the parsed document j holds
json() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print("#   false: %s" % sys.argv[2])
sys.exit(0 if ok else 1)' "$1" "$2"
}

# has FILE TEXT: a fixed string is in FILE (shows the file when not)
has() {
	if grep -qF -- "$2" "$1"; then
		return 0
	fi
	echo "#   '$2' not in $1:"
	sed 's/^/#   | /' "$1" | head -40
	return 1
}

put() { # put ROOT-RELATIVE-PATH CONTENT
	mkdir -p "$(dirname "$R/$1")"
	printf '%s\n' "$2" > "$R/$1"
}

block() { # block ID STATE VALID_ZONES [FIRMWARE_NODE]
	d=sys/devices/system/memory/memory$1
	put "$d/state" "$2"
	put "$d/valid_zones" "$3"
	put "$d/phys_device" 0
	ln -s ../../node/node0 "$R/$d/node0"
	mkdir -p "$R/sys/devices/system/node/node0"
	ln -s "../../memory/memory$1" "$R/sys/devices/system/node/node0/memory$1"
	if [ $# -ge 4 ]; then
		mkdir -p "$R/sys/devices/LNXSYSTM:00/LNXSYBUS:00/$4"
		ln -s "../../../LNXSYSTM:00/LNXSYBUS:00/$4" "$R/$d/firmware_node"
	fi
}

# A 1-node machine, 128 MiB blocks, 4 KiB pages:
#   0-7   boot, online Normal (1 GiB)
#   8-11  ACPI DIMM PNP0C80:00, online Movable            -> hot-removable 512M
#   12-15 virtio0: 12-13 online Movable, 14-15 offline    -> hot-removable 512M
#   16-17 dax0.0 (kmem), online Normal                    -> not removable
# zoneinfo: Normal 10 blocks (8 boot + 2 kmem) = 327680 pages present, 320000 managed;
#           Movable 6 blocks = 196608 pages.
make_tree() {
	R=$1
	rm -rf "$R"
	mkdir -p "$R"
	put proc/zoneinfo "Node 0, zone   Normal
  pages free     200000
        min      1000
        low      1250
        high     1500
        spanned  327680
        present  327680
        managed  320000
        protection: (0, 0)
Node 0, zone  Movable
  pages free     190000
        min      32
        low      40
        high     48
        spanned  196608
        present  196608
        managed  196608
        protection: (0, 0)"
	put proc/meminfo "MemTotal:        2066432 kB
MemFree:         1560000 kB"
	put proc/iomem "00000000-00000fff : Reserved
00001000-3fffffff : System RAM
40000000-5fffffff : System RAM
60000000-7fffffff : virtio0
  60000000-7fffffff : System RAM (virtio_mem)
80000000-8fffffff : CXL Window 0
  80000000-8fffffff : region0
    80000000-8fffffff : dax0.0
      80000000-8fffffff : System RAM (kmem)"
	put sys/devices/system/memory/block_size_bytes 8000000
	put sys/devices/system/memory/auto_online_blocks offline
	put sys/devices/system/node/has_cpu 0
	for i in 0 1 2 3 4 5 6 7; do block $i online Normal; done
	for i in 8 9 10 11; do block $i online Movable PNP0C80:00; done
	block 12 online Movable
	block 13 online Movable
	block 14 offline "Normal Movable"
	block 15 offline "Normal Movable"
	block 16 online Normal
	block 17 online Normal
}

run() { # run OUT ARGS...: memzone status into OUT (stderr into OUT.err); returns the exit code
	out=$1
	shift
	"$MEMZONE" status "$@" > "$out" 2> "$out.err"
}

# ---------------------------------------------------------------- devices and hot-removable
make_tree "$T/a"
run "$T/a.json" --root "$T/a" --json
ok $? "status --json on a tree with a DIMM, a virtio-mem and a kmem device"
json "$T/a.json" 'j["block_size"] == 134217728 and j["page_size"] == 4096 and j["page_size_from"] == "meminfo"'
ok $? "block size, page size inferred from MemTotal"
json "$T/a.json" 'j["nodes"][0]["blocks"] == {"online_kernel": 10, "online_movable": 6, "online_unknown": 0, "offline": 2, "other": 0}'
ok $? "blocks per zone: 10 kernel, 6 Movable, 2 offline"
json "$T/a.json" 'j["nodes"][0]["kernel_managed"] == 320000 * 4096 and j["nodes"][0]["movable_managed"] == 196608 * 4096'
ok $? "managed bytes = pages x 4096"
json "$T/a.json" 'j["nodes"][0]["movable_kernel_ratio_percent"] == 196608 * 100 // 320000'
ok $? "MOVABLE:KERNEL ratio floored like auto_movable_ratio (61%)"
json "$T/a.json" '[(d["source"], d["device"], d["blocks"], d["hot_removable"]) for d in j["devices"]] == [("dimm", "PNP0C80:00", 4, 512 << 20), ("virtio_mem", "virtio0", 4, 512 << 20), ("kmem", "dax0.0", 2, 0)]'
ok $? "devices: DIMM and virtio-mem wholly removable, kmem (kernel) not"
json "$T/a.json" 'j["total"]["hot_removable"] == 1 << 30 and j["nodes"][0]["hot_removable"] == 1 << 30'
ok $? "hot-removable 1G per node and system"
json "$T/a.json" '[d["start"] for d in j["devices"]] == [0x40000000, 0x60000000, 0x80000000] and j["devices"][1]["end"] == 0x7fffffff'
ok $? "device ranges from iomem"
json "$T/a.json" 'j["iomem"] == "ok" and "blocks" not in j and j["rebalancer"] == {"running": False, "pid": None, "state": None}'
ok $? "iomem ok, no blocks array without --blocks, no rebalancer"

run "$T/a.txt" --root "$T/a"
ok $? "status (text)"
has "$T/a.txt" "virtio_mem  virtio0" && has "$T/a.txt" "0x0000000060000000-0x000000007fffffff" &&
	grep -Eq '^total +10 +6 +0 +2 +0 +1G$' "$T/a.txt"
ok $? "text shows the device table and the per-node block counts with 1G hot-removable"
run "$T/a.bytes" --root "$T/a" --bytes
grep -Eq '^total +10 +6 +0 +2 +0 +1073741824$' "$T/a.bytes"
ok $? "--bytes prints exact bytes"

run "$T/a.blocks" --root "$T/a" --blocks
ok $? "--blocks"
[ "$(grep -c '^0x' "$T/a.blocks")" -eq 5 ]
ok $? "--blocks merges equal neighbours into 5 ranges"
grep -Eq '^0x0000000040000000-0x000000005fffffff +512M +online +8-11 +Movable +0 +dimm +PNP0C80:00$' "$T/a.blocks" &&
	grep -Eq '^0x0000000070000000-0x000000007fffffff +256M +offline +14-15 +Normal/Movable +0 +virtio_mem +virtio0$' "$T/a.blocks" &&
	has "$T/a.blocks" "Total offline memory: 256M"
ok $? "--blocks rows: range, size, state, blocks, zones, node, source, device"
run "$T/a.split" --root "$T/a" --blocks --split
[ "$(grep -c '^0x' "$T/a.split")" -eq 18 ]
ok $? "--split: one row per block"
run "$T/a.nomerge" --root "$T/a" --blocks --no-merge
cmp -s "$T/a.split" "$T/a.nomerge"
ok $? "--no-merge is --split"
run "$T/a.bj" --root "$T/a" --blocks --json
json "$T/a.bj" 'len(j["blocks"]) == 5 and j["blocks"][3] == {"start": 0x70000000, "end": 0x7fffffff, "size": 1 << 28, "first_block": 14, "last_block": 15, "state": "offline", "zones": ["Normal", "Movable"], "node": 0, "source": "virtio_mem", "device": "virtio0"}'
ok $? "--json --blocks: ranges with stable keys"

# ---------------------------------------------------------------- memzone's own cap
json "$T/a.json" 'j["policy"] == {"ratio_cap_percent": 301, "ratio_cap_key": "ratio", "ratio_scope": "both", "ratio_basis": "boot"}'
ok $? "policy: built-in cap 301% without a config file"
has "$T/a.txt" "memzone's cap: MOVABLE:KERNEL at most 301% (ratio; per node and system-wide; against boot-time kernel memory)"
ok $? "text shows the cap next to the ratios"
mkdir -p "$T/a/etc"
printf '[online]\nratio = 50\nratio_scope = node\n' > "$T/a/etc/memzone.conf"
run "$T/cap.json" --root "$T/a" --json --config "$T/a/etc/memzone.conf"
json "$T/cap.json" '[w["code"] for w in j["warnings"]] == ["no-memzone-rule", "ratio-above-cap"] and "node 0: MOVABLE:KERNEL 75% is above memzone" in j["warnings"][1]["message"] and j["policy"]["ratio_cap_percent"] == 50'
ok $? "a node above the configured cap (768M of movable = 75% > 50% of the 1G boot kernel memory, scope node): warning"
printf '[online]\nratio = 10x\n' > "$T/a/etc/memzone.conf"
run "$T/cap.json" --root "$T/a" --json --config "$T/a/etc/memzone.conf"
rc=$?
[ $rc -eq 0 ] && json "$T/cap.json" '"config-error" in [w["code"] for w in j["warnings"]] and "memzone.conf:2: key \x27ratio\x27" in [w for w in j["warnings"] if w["code"] == "config-error"][0]["message"] and j["policy"]["ratio_cap_percent"] == 301'
ok $? "a broken config: warning naming FILE:LINE, built-in cap, exit 0"
rm -r "$T/a/etc"

# ---------------------------------------------------------------- Prometheus
run "$T/a.prom" --root "$T/a" --prometheus
ok $? "--prometheus"
python3 - "$T/a.prom" <<'EOF'
import re, sys
typed, bad = set(), []
sample = re.compile(r'^([a-z_]+)(\{[a-z_]+="[^"\\]*"(,[a-z_]+="[^"\\]*")*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|[+-]Inf|NaN)$')
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    m = re.match(r"^# TYPE ([a-z_]+) (gauge|counter)$", line)
    if m:
        typed.add(m.group(1))
        continue
    if line.startswith("# HELP "):
        continue
    m = sample.match(line)
    if not m or m.group(1) not in typed:
        bad.append(line)
for b in bad:
    print("#   bad line: %r" % b)
sys.exit(1 if bad else 0)
EOF
ok $? "Prometheus exposition: every sample well-formed and after its TYPE line"
has "$T/a.prom" 'memzone_zone_managed_bytes{node="0",zone="kernel"} 1310720000' &&
	has "$T/a.prom" 'memzone_blocks{node="0",state="online",zone="movable"} 6' &&
	has "$T/a.prom" 'memzone_hot_removable_bytes 1073741824' &&
	has "$T/a.prom" 'memzone_movable_kernel_ratio_percent{node="0"} 61' &&
	has "$T/a.prom" 'memzone_warning{code="no-memzone-rule"} 1'
ok $? "Prometheus values: managed bytes, blocks, hot-removable, ratio, warnings"

# ---------------------------------------------------------------- read-only
(cd "$T/a" && find . -exec ls -ld --time-style=+%s.%N {} + | sort) > "$T/before"
run "$T/ro" --root "$T/a" --blocks --json
run "$T/ro" --root "$T/a" --prometheus
(cd "$T/a" && find . -exec ls -ld --time-style=+%s.%N {} + | sort) > "$T/after"
cmp -s "$T/before" "$T/after"
ok $? "status writes nothing into the tree (no file added, changed or touched)"

# ---------------------------------------------------------------- iomem zeroed / missing
make_tree "$T/z"
sed -E 's/^( *)[0-9a-f]+-[0-9a-f]+/\100000000-00000000/' "$T/a/proc/iomem" > "$T/z/proc/iomem"
run "$T/z.json" --root "$T/z" --json
ok $? "zeroed iomem: still works"
json "$T/z.json" 'j["iomem"] == "zeroed" and "iomem-zeroed" in [w["code"] for w in j["warnings"]]'
ok $? "zeroed iomem: warning"
json "$T/z.json" '[(d["source"], d["device"], d["blocks"], d["hot_removable"]) for d in j["devices"]] == [("dimm", "PNP0C80:00", 4, 512 << 20), ("other", None, 2, 256 << 20)]'
ok $? "zeroed iomem: DIMM from its firmware node, offline virtio blocks as 'other'"
json "$T/z.json" 'j["devices"][0]["start"] == 0x40000000 and j["devices"][0]["end"] == 0x5fffffff'
ok $? "zeroed iomem: DIMM range from its blocks"
rm "$T/z/proc/iomem"
run "$T/m.json" --root "$T/z" --json
json "$T/m.json" 'j["iomem"] == "missing" and "iomem-missing" in [w["code"] for w in j["warnings"]]'
ok $? "missing iomem: warning, exit 0"

# ---------------------------------------------------------------- RAM of another agent named in iomem
make_tree "$T/o"
printf '90000000-9fffffff : System RAM (hv_balloon)\n' >> "$T/o/proc/iomem"
R="$T/o"
block 18 online Movable
block 19 offline "Normal Movable"
run "$T/o.json" --root "$T/o" --json
json "$T/o.json" '[(d["source"], d["device"], d["blocks"], d["start"], d["end"], d["hot_removable"]) for d in j["devices"] if d["source"] == "other"] == [("other", None, 2, 0x90000000, 0x9fffffff, 256 << 20)]'
ok $? "an unnamed iomem range of another agent is one device, removable as a whole"
put sys/devices/system/memory/memory19/state online
put sys/devices/system/memory/memory19/valid_zones Normal
run "$T/o.json" --root "$T/o" --json
json "$T/o.json" '[(d["blocks"], d["kernel"], d["hot_removable"]) for d in j["devices"] if d["source"] == "other"] == [(2, 1, 0)]'
ok $? "one kernel block makes that device not removable"

# ---------------------------------------------------------------- blocks that vanish, bad input
make_tree "$T/v"
ln -s memory-gone "$T/v/sys/devices/system/memory/memory99"
ln -s ../../memory/memory98 "$T/v/sys/devices/system/node/node0/memory98"
run "$T/v.json" --root "$T/v" --json
ok $? "a block removed mid-scan (listed, then gone) is skipped, exit 0"
json "$T/v.json" 'sum(j["total"]["blocks"].values()) == 18'
ok $? "the vanished block is not counted"
mkdir "$T/v/sys/devices/system/memory/memory20"
run "$T/v2.json" --root "$T/v" --json
json "$T/v2.json" 'sum(j["total"]["blocks"].values()) == 18'
ok $? "a block directory without state (removed between readdir and open) is skipped"

make_tree "$T/g"
put sys/devices/system/memory/memory5/state "bogus"
run "$T/g.out" --root "$T/g"
[ $? -eq 1 ] && has "$T/g.out.err" "$T/g/sys/devices/system/memory/memory5/state: 'bogus' is not online, offline or going-offline" &&
	[ ! -s "$T/g.out" ]
ok $? "garbage state: exit 1, file and content named, nothing on stdout"
make_tree "$T/g"
put sys/devices/system/memory/memory9/valid_zones "Normal ??"
run "$T/g.out" --root "$T/g"
[ $? -eq 1 ] && has "$T/g.out.err" "memory9/valid_zones: 'Normal ??' is not a list of zones"
ok $? "garbage valid_zones: exit 1, named"
make_tree "$T/g"
put sys/devices/system/memory/block_size_bytes "zzz"
run "$T/g.out" --root "$T/g"
[ $? -eq 1 ] && has "$T/g.out.err" "block_size_bytes"
ok $? "garbage block_size_bytes: exit 1, named"
make_tree "$T/g"
: > "$T/g/proc/zoneinfo"
run "$T/g.out" --root "$T/g"
[ $? -eq 1 ] && has "$T/g.out.err" "$T/g/proc/zoneinfo"
ok $? "empty zoneinfo: exit 1, file named"
rm "$T/g/proc/zoneinfo"
run "$T/g.out" --root "$T/g" --json
[ $? -eq 1 ] && has "$T/g.out.err" "$T/g/proc/zoneinfo" && [ ! -s "$T/g.out" ]
ok $? "missing zoneinfo: exit 1, file named, no partial JSON"
make_tree "$T/g"
put sys/devices/system/node/has_cpu "0-"
run "$T/g.out" --root "$T/g"
[ $? -eq 1 ] && has "$T/g.out.err" "has_cpu: '0-' is not a node list"
ok $? "malformed has_cpu: exit 1, named"
make_tree "$T/g"
printf 'garbage line\n' > "$T/g/proc/iomem"
run "$T/g.out" --root "$T/g"
[ $? -eq 1 ] && has "$T/g.out.err" "iomem"
ok $? "malformed iomem: exit 1, named"

# ---------------------------------------------------------------- who onlines memory
make_tree "$T/r"
run "$T/r.json" --root "$T/r" --json
json "$T/r.json" '[w["code"] for w in j["warnings"]] == ["no-memzone-rule"] and j["hotplug"]["memzone_rule"] is None'
ok $? "no memzone rule: warning"
put usr/lib/udev/rules.d/60-memzone.rules 'SUBSYSTEM=="memory", ACTION=="add", RUN+="/usr/sbin/memzone online $kernel"'
run "$T/r.json" --root "$T/r" --json
json "$T/r.json" 'j["warnings"] == [] and j["hotplug"]["memzone_rule"] == "/usr/lib/udev/rules.d/60-memzone.rules"'
ok $? "rule in /usr/lib/udev/rules.d: found, no warning"
mkdir -p "$T/r/etc/udev/rules.d"
ln -s /dev/null "$T/r/etc/udev/rules.d/60-memzone.rules"
run "$T/r.json" --root "$T/r" --json
json "$T/r.json" '[w["code"] for w in j["warnings"]] == ["memzone-rule-masked"] and j["hotplug"]["memzone_rule_masked"]'
ok $? "rule masked by /etc/udev/rules.d -> /dev/null: warning"
rm "$T/r/etc/udev/rules.d/60-memzone.rules"
put lib/udev/rules.d/40-redhat.rules '# Memory hotadd request
SUBSYSTEM!="memory", GOTO="memory_hotplug_end"
ACTION!="add", GOTO="memory_hotplug_end"
ATTR{state}=="offline", ATTR{state}="online"
LABEL="memory_hotplug_end"'
put usr/lib/udev/rules.d/80-hotplug-cpu-mem.rules '# CPU only here
# SUBSYSTEM=="memory", ATTR{state}="online"
SUBSYSTEM=="cpu", ACTION=="add", ATTR{online}="1"'
run "$T/r.json" --root "$T/r" --json
json "$T/r.json" '[w["code"] for w in j["warnings"]] == ["distro-rule"] and j["hotplug"]["distro_rules"] == ["/lib/udev/rules.d/40-redhat.rules"]'
ok $? "distribution rule onlining memory: warning; one without an active memory rule: none"
run "$T/r.txt" --root "$T/r"
has "$T/r.txt" "warning: /lib/udev/rules.d/40-redhat.rules onlines hot-added memory too" &&
	has "$T/r.txt" "/usr/share/memzone/udev-masks/" && ! grep -q "ln -s /dev/null" "$T/r.txt"
ok $? "text names the rule and points to the replacement, not an empty mask"
ln -s /dev/null "$T/r/etc/udev/rules.d/40-redhat.rules"
run "$T/r.json" --root "$T/r" --json
json "$T/r.json" 'j["warnings"] == [] and j["hotplug"]["distro_rules"] == []'
ok $? "distribution rule masked in /etc: no warning"
put sys/devices/system/memory/auto_online_blocks online_movable
run "$T/r.json" --root "$T/r" --json
json "$T/r.json" '[w["code"] for w in j["warnings"]] == ["kernel-auto-online"] and j["hotplug"]["auto_online_blocks"] == "online_movable"'
ok $? "kernel auto-onlines: warning"
put sys/module/memory_hotplug/parameters/online_policy auto-movable
put sys/module/memory_hotplug/parameters/auto_movable_ratio 301
put sys/module/memory_hotplug/parameters/memmap_on_memory N
run "$T/r.txt" --root "$T/r"
has "$T/r.txt" "kernel memory_hotplug: online_policy=auto-movable auto_movable_ratio=301% memmap_on_memory=N" &&
	has "$T/r.txt" "kernel auto_online_blocks: online_movable"
ok $? "text shows the kernel's onlining settings"

# ---------------------------------------------------------------- who decides new memory
# memzoned holds a flock on run/memzone/memzoned.lock for its life (its pid in the file) and one on
# run/memzone/memzoned.decides while it decides new memory; the kernel drops them when it dies.
# Here a sleep holds them (killed with SIGKILL: nothing cleans up, the files stay).
make_tree "$T/o"
mkdir -p "$T/o/run/memzone"
# hold FILE: a process holding an exclusive flock on FILE, its pid in $held
hold() {
	sh -c 'exec 9>>"$1" && flock 9 && exec sleep 600' sh "$1" &
	held=$!
	for _ in $(seq 500); do flock -n -s "$1" true || return 0; sleep 0.01; done
	return 1
}
# nbm DIR NAME: JSON, text and Prometheus of the tree into $T/NAME.{json,txt,prom}
nbm() {
	run "$T/$2.json" --root "$1" --json && run "$T/$2.txt" --root "$1" && run "$T/$2.prom" --root "$1" --prometheus
}
nbm "$T/o" o
json "$T/o.json" 'j["hotplug"]["new_memory_by"] == "nobody" and [w["code"] for w in j["warnings"]] == ["no-memzone-rule"]' &&
	has "$T/o.txt" "  new memory decided by: nobody in memzone (the memzone udev rule is not installed and no memzoned decides new memory)" &&
	has "$T/o.prom" "memzone_new_memory_by_memzoned 0"
ok $? "no rule, no memzoned: nobody decides new memory (json, text, prometheus)"
put usr/lib/udev/rules.d/60-memzone.rules 'SUBSYSTEM=="memory", ACTION=="add", RUN+="/usr/sbin/memzone online $kernel"'
nbm "$T/o" o
json "$T/o.json" 'j["hotplug"]["new_memory_by"] == "udev_helper" and not j["rebalancer"]["running"] and j["warnings"] == []' &&
	has "$T/o.txt" "  new memory decided by: udev helper (memzone online, one process per block)" &&
	! grep -q "memzoned runs" "$T/o.txt" && has "$T/o.prom" "memzone_new_memory_by_memzoned 0"
ok $? "rule, no memzoned: the udev helper decides (json, text, prometheus)"
# files a killed memzoned left, the pid in them now a live process's (this shell's): nobody holds them
echo $$ > "$T/o/run/memzone/memzoned.lock"
: > "$T/o/run/memzone/memzoned.decides"
nbm "$T/o" o
json "$T/o.json" 'j["hotplug"]["new_memory_by"] == "udev_helper" and not j["rebalancer"]["running"] and j["rebalancer"]["pid"] is None and j["warnings"] == []' &&
	has "$T/o.prom" "memzone_rebalancer_running 0"
ok $? "lock files left with a reused pid in them: not running, the udev helper decides"
hold "$T/o/run/memzone/memzoned.lock"
life=$held
echo $life > "$T/o/run/memzone/memzoned.lock"
nbm "$T/o" o
json "$T/o.json" 'j["hotplug"]["new_memory_by"] == "udev_helper" and j["rebalancer"]["running"] and j["rebalancer"]["pid"] == '$life' and j["warnings"] == []' &&
	has "$T/o.txt" "  new memory decided by: udev helper (memzone online, one process per block); memzoned runs but does not decide new memory now: a move in progress" &&
	has "$T/o.prom" "memzone_rebalancer_running 1"
ok $? "memzoned.lock held, memzoned.decides not (a move): running, the udev helper decides, said in the text"
hold "$T/o/run/memzone/memzoned.decides"
decides=$held
nbm "$T/o" o
json "$T/o.json" 'j["hotplug"]["new_memory_by"] == "memzoned" and j["warnings"] == []' &&
	has "$T/o.txt" "  new memory decided by: memzoned (pid $life; the udev helper exits at once)" &&
	has "$T/o.prom" "# HELP memzone_new_memory_by_memzoned 1 while memzoned holds run/memzone/memzoned.decides" &&
	has "$T/o.prom" "# TYPE memzone_new_memory_by_memzoned gauge" && has "$T/o.prom" "memzone_new_memory_by_memzoned 1"
ok $? "both held: memzoned decides, no warning (json, text, prometheus)"
rm "$T/o/usr/lib/udev/rules.d/60-memzone.rules"
nbm "$T/o" o
json "$T/o.json" 'j["hotplug"]["new_memory_by"] == "memzoned" and [w["code"] for w in j["warnings"]] == ["no-memzone-rule"]' &&
	has "$T/o.prom" "memzone_new_memory_by_memzoned 1"
ok $? "without the rule memzoned still decides (it reads the kernel's uevents itself)"
ln -sf /dev/null "$T/o/usr/lib/udev/rules.d/60-memzone.rules"
kill -KILL $life $decides
wait $life $decides 2>/dev/null
echo $$ > "$T/o/run/memzone/memzoned.lock"
nbm "$T/o" o
json "$T/o.json" 'j["hotplug"]["new_memory_by"] == "nobody" and not j["rebalancer"]["running"] and [w["code"] for w in j["warnings"]] == ["memzone-rule-masked"]' &&
	has "$T/o.txt" "  new memory decided by: nobody in memzone (the memzone udev rule is masked and no memzoned decides new memory)"
ok $? "holders SIGKILLed, a live pid in the file, masked rule: not running, nobody decides new memory"
json "$T/o.json" 'j["hotplug"]["memzoned_online_link"] == "absent" and j["hotplug"]["memzoned_online_pid"] is None'
ok $? "no shortcut link: memzoned_online_link absent, no pid"
ln -s "/proc/$$/status" "$T/o/run/memzone/memzoned.online"
run "$T/o.json" --root "$T/o" --json
json "$T/o.json" 'j["hotplug"]["memzoned_online_link"] == "ok" and j["hotplug"]["memzoned_online_pid"] == '$$
ok $? "a shortcut link that resolves: ok, the pid of its /proc target"
ln -sfn "/proc/$life/map_files/7f0000000000-7f0000001000" "$T/o/run/memzone/memzoned.online"
run "$T/o.json" --root "$T/o" --json
json "$T/o.json" 'j["hotplug"]["memzoned_online_link"] == "dangling" and j["hotplug"]["memzoned_online_pid"] == '$life
ok $? "the link a killed memzoned left: dangling, its pid still named"
rm "$T/o/run/memzone/memzoned.online"

# ---------------------------------------------------------------- the rebalancer's state
make_tree "$T/d"
put run/memzone/state "# memzoned state
version=1
pid=4242
updated=1764111000
observe_only=0
moves_to_kernel=3
moves_to_movable=1
failures=2
rollbacks=1
some_future_key=ignored
node=0 grow-kernel kernel free 120M below high watermark 130M + headroom 64M
backoff=13 1764111300
move=1764110900 12 to-kernel ok 420 -
move=1764110990 13 to-movable rolled-back 10003 EBUSY"
hold "$T/d/run/memzone/memzoned.lock"
life=$held
echo $$ > "$T/d/run/memzone/memzoned.lock"
run "$T/d.json" --root "$T/d" --json
ok $? "status with a daemon state file"
json "$T/d.json" 'j["rebalancer"]["running"] and j["rebalancer"]["pid"] == '$$' and j["rebalancer"]["state"]["moves_to_kernel"] == 3 and j["rebalancer"]["state"]["rollbacks"] == 1'
ok $? "rebalancer running (memzoned.lock held), counters"
json "$T/d.json" 'j["policy"]["ratio_cap_key"] == "ratio" and j["policy"]["ratio_cap_percent"] == 301'
ok $? "while memzoned runs the cap is still ratio (the cap in force once it stops)"
json "$T/d.json" 'j["rebalancer"]["state"]["nodes"] == [{"node": 0, "verdict": "grow-kernel", "reason": "kernel free 120M below high watermark 130M + headroom 64M"}] and j["rebalancer"]["state"]["backoff"] == [{"block": 13, "until": 1764111300}]'
ok $? "pressure verdict with its reason, backoffs"
json "$T/d.json" 'j["rebalancer"]["state"]["moves"][1] == {"when": 1764110990, "block": 13, "direction": "to-movable", "result": "rolled-back", "duration_ms": 10003, "error": "EBUSY"}'
ok $? "last moves"
run "$T/d.txt" --root "$T/d"
has "$T/d.txt" "running, pid $$" && has "$T/d.txt" "node 0: grow-kernel - kernel free 120M" &&
	has "$T/d.txt" "moves: 3 to kernel, 1 to movable; 2 failed, 1 rolled back" &&
	has "$T/d.txt" "backoff: memory13 until 2025-11-25 22:55:00" &&
	grep -Eq '^ +2025-11-25 22:49:50 +memory13 +to-movable +rolled-back +10003ms +EBUSY$' "$T/d.txt"
ok $? "text: daemon pid, verdict, counters, backoff, last moves newest first"
run "$T/d.prom" --root "$T/d" --prometheus
has "$T/d.prom" 'memzone_moves_total{direction="to_kernel"} 3' && has "$T/d.prom" 'memzone_move_failures_total 2' &&
	has "$T/d.prom" 'memzone_pressure{node="0",verdict="grow-kernel"} 1' &&
	has "$T/d.prom" 'memzone_pressure{node="0",verdict="hold"} 0' && has "$T/d.prom" 'memzone_rebalancer_running 1'
ok $? "Prometheus: moves, failures, pressure verdicts"
kill -KILL $life
wait $life 2>/dev/null
run "$T/d.json" --root "$T/d" --json
json "$T/d.json" 'not j["rebalancer"]["running"] and "daemon-not-running" in [w["code"] for w in j["warnings"]]'
ok $? "state file but no live daemon: warning"
printf 'version=1\npid=1\nmove=12 banana\n' > "$T/d/run/memzone/state"
run "$T/d.out" --root "$T/d"
[ $? -eq 1 ] && has "$T/d.out.err" "$T/d/run/memzone/state:3: move: expected"
ok $? "corrupt state file: exit 1, FILE:LINE named"
printf 'version=2\npid=1\n' > "$T/d/run/memzone/state"
run "$T/d.out" --root "$T/d"
[ $? -eq 1 ] && has "$T/d.out.err" "version 2 is not supported"
ok $? "state file of another version: refused"
printf '\000\001\002garbage' > "$T/d/run/memzone/state"
run "$T/d.out" --root "$T/d"
[ $? -eq 1 ] && has "$T/d.out.err" "run/memzone/state"
ok $? "binary garbage state file: exit 1, no crash"

# ---------------------------------------------------------------- --blocks against util-linux's lsmem
# util-linux's own captures come with lsmem's expected output: `lsmem --all -o RANGE,SIZE,STATE,
# REMOVABLE,BLOCK,NODE,ZONES` lists every block. status needs a zoneinfo (any will do for --blocks).
for cap in util-linux-lsmem-x86_64-16g util-linux-lsmem-aarch64-16k-16g util-linux-lsmem-s390-zvm-6g; do
	rm -rf "$T/ul"
	python3 "$top_srcdir/tests/fixtures/expand-tree.py" "$top_srcdir/tests/fixtures/real-world/$cap" "$T/ul"
	mkdir -p "$T/ul/proc"
	cp "$top_srcdir/tests/fixtures/real-world/pcp-meminfo-root-001/zoneinfo" "$T/ul/proc/zoneinfo"
	run "$T/ul.out" --root "$T/ul" --blocks --split
	python3 - "$top_srcdir/tests/fixtures/real-world/$cap/lsmem-expected-output.txt" "$T/ul.out" <<'PY'
import sys
def rows(lines, cols):
    out = []
    for l in lines:
        f = l.split()
        if f and f[0].startswith("0x"):
            out.append(tuple(f[i] for i in cols))
    return out
text = open(sys.argv[1]).read()
sect = text.split("$ lsmem --all --output RANGE,SIZE,STATE,REMOVABLE,BLOCK,NODE,ZONES\n")[1].split("\n---")[0]
# lsmem: RANGE SIZE STATE REMOVABLE BLOCK NODE ZONES (REMOVABLE is empty for offline blocks)
want = []
for l in sect.splitlines():
    f = l.split()
    if f and f[0].startswith("0x"):
        if f[2] == "offline" and len(f) == 6:
            f.insert(3, "-")
        want.append((f[0], f[1], f[2], f[4], f[5], f[6].lower()))
# memzone: RANGE SIZE STATE BLOCK ZONES NODE SOURCE DEVICE
got = [(a, b, c, d, f, e.lower()) for a, b, c, d, e, f in rows(open(sys.argv[2]), range(6))]
if got != want or not want:
    for w, g in zip(want, got):
        if w != g:
            print("#   lsmem %s\n#   ours  %s" % (w, g))
            break
    print("#   %d rows expected, %d got" % (len(want), len(got)))
    sys.exit(1)
PY
	ok $? "$cap: every block's range, size, state, id, node and zones as util-linux's lsmem --all"
done

# ---------------------------------------------------------------- a capture without zoneinfo
python3 "$top_srcdir/tests/fixtures/expand-tree.py" "$top_srcdir/tests/fixtures/real-world/pcp-sysfs-numa-001" "$T/nz"
run "$T/nz.out" --root "$T/nz"
[ $? -eq 1 ] && has "$T/nz.out.err" "$T/nz/proc/zoneinfo"
ok $? "a sysfs-only capture: exit 1, the missing zoneinfo named"

# ---------------------------------------------------------------- command line
run "$T/u" --bogus
[ $? -eq 2 ]
ok $? "unknown option: exit 2"
run "$T/u" --split
[ $? -eq 2 ] && has "$T/u.err" "--split needs --blocks"
ok $? "--split without --blocks: exit 2"
run "$T/u" --json --prometheus
[ $? -eq 2 ]
ok $? "--json with --prometheus: exit 2"
run "$T/u" extra
[ $? -eq 2 ]
ok $? "stray argument: exit 2"
run "$T/u" --help
[ $? -eq 0 ] && has "$T/u" "--blocks" && has "$T/u" "--prometheus" && has "$T/u" "--no-merge"
ok $? "--help lists the options, exit 0"

# ---------------------------------------------------------------- this machine (read-only)
run "$T/real.txt"
ok $? "status on this machine's /proc and /sys: exit 0"
has "$T/real.txt" "Zones (managed memory"
ok $? "this machine: zone table printed"
run "$T/real.json" --json --blocks
ok $? "status --json --blocks on this machine: exit 0"
json "$T/real.json" 'j["page_size_from"] == "system" and len(j["nodes"]) >= 1 and j["total"]["kernel_managed"] > 0'
ok $? "this machine: page size from sysconf, kernel memory > 0"
run "$T/real.prom" --prometheus
ok $? "status --prometheus on this machine: exit 0"

echo "1..$n"
[ "$failed" -eq 0 ]
