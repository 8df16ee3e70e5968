#!/bin/bash
# bench/online-scaling.sh - what one udev event costs: the whole `memzone online` process against
# trees of 1024, 16384 and 131072 blocks (the helper must not scan blocks, so the time should not
# grow with the tree), then 1000 helpers started at once on one tree (all onlined, cap held).
#
#   bench/online-scaling.sh [BUILDDIR] [TMPDIR]     (BUILDDIR holds ./memzone and tests/shim/kmodel.so)
#
# Trees come from tests/fixtures/mktree.py (the 131072-block one takes a few seconds and ~1M
# inodes). Per tree, RUNS helpers each online one block of a 64-block DIMM against plain state
# files (the helper alone, no kernel model), interleaved across the trees; the median wall and CPU
# time of the whole process are reported, and instructions from valgrind --tool=callgrind when it
# is installed (the figure that does not depend on the machine's load). Never run against a live
# /sys: everything stays under TMPDIR.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-.}" && pwd)
work=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/memzone-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
MEMZONE=$build/memzone
KMODEL=$build/tests/shim/kmodel.so
RUNS=${RUNS:-32}
[ -x "$MEMZONE" ] || { echo "no $MEMZONE: build first (make; make tests/shim/kmodel.so)" >&2; exit 1; }

mktree() { python3 "$here/tests/fixtures/mktree.py" "$@" >/dev/null; }
field() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"][int(sys.argv[3])][sys.argv[2]])' \
		"$1/mktree.json" "$2" "$3"
}
now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

sizes=(1024 16384 131072)
for n in "${sizes[@]}"; do
	mktree "$work/t$n" --blocks "$n" --nodes 2 --hotplug dimm:64@1
	mkdir -p "$work/t$n/etc"
	: >"$work/t$n/etc/memzone.conf"
done
sync # a fresh 131072-block tree is ~1M dirty inodes: let writeback finish before timing

# Interleaved rounds (one helper per tree per round) so that load from elsewhere hits every size
# alike. Wall time and CPU time (user + system, from wait4) of the whole process.
python3 - "$MEMZONE" "$RUNS" "${sizes[@]/#/$work/t}" <<'PY'
import json, os, statistics, subprocess, sys, time
memzone, runs, trees = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
first = {t: json.load(open(t + "/mktree.json"))["devices"][0]["first_block"] for t in trees}
wall = {t: [] for t in trees}
cpu = {t: [] for t in trees}
for i in range(runs + 1):
    for t in trees:
        b = first[t] + 1 + i % 62
        args = [memzone, "online", "memory%d" % b, "--root", t, "--config", t + "/etc/memzone.conf",
                "--allow-insecure-config", "--log", "stderr"]
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, ru = os.wait4(p.pid, 0)
        if i:  # round 0 warms the page and dentry caches
            wall[t].append((time.perf_counter() - t0) * 1e6)
            cpu[t].append((ru.ru_utime + ru.ru_stime) * 1e6)
        # plain state files: put the block back offline for a later round
        with open(t + "/sys/devices/system/memory/memory%d/state" % b, "w") as f:
            f.write("offline\n")
print("%-8s %12s %10s %12s   (one helper process, %d runs each)" % ("blocks", "wall_med_us", "wall_min_us",
                                                                     "cpu_med_us", runs))
for t in trees:
    print("%-8s %12.0f %10.0f %12.0f" % (t.rsplit("/t", 1)[1], statistics.median(wall[t]), min(wall[t]),
                                          statistics.median(cpu[t])))
a, b = statistics.median(wall[trees[0]]), statistics.median(wall[trees[-1]])
ca, cb = statistics.median(cpu[trees[0]]), statistics.median(cpu[trees[-1]])
print("t(%s)/t(%s) = %.2f wall, %.2f cpu (medians)" % (trees[-1].rsplit("/t", 1)[1], trees[0].rsplit("/t", 1)[1],
                                                         b / a, cb / ca))
PY
if command -v valgrind >/dev/null; then
	printf '%-8s %14s   (valgrind --tool=callgrind, one run)\n' blocks instructions
	for n in "${sizes[@]}"; do
		t=$work/t$n
		b=$(($(field "$t" first_block 0) + 63))
		ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$MEMZONE" online "memory$b" --root "$t" \
			--config "$t/etc/memzone.conf" --allow-insecure-config --log stderr 2>&1 |
			sed -n 's/.*Collected : *\([0-9]*\).*/\1/p')
		printf '%-8s %14s\n' "$n" "$ir"
	done
fi
rm -rf "$work"/t*

# 1000 helpers at once on one tree (1200 blocks: the 301% cap is reached), through the kernel model
t=$work/par
mktree "$t" --blocks 1200 --nodes 2 --hotplug dimm:64@1 --hotplug dimm:64@1 --hotplug dimm:64@0 \
	--hotplug dimm:64@0 --hotplug virtio_mem:744@1
mkdir -p "$t/etc"
printf '[online]\nlock_timeout = 60s\n' >"$t/etc/memzone.conf"
ids=()
for d in 0 1 2 3 4; do
	mapfile -t -O "${#ids[@]}" ids < <(seq "$(field "$t" first_block $d)" "$(field "$t" last_block $d)")
done
exec 4>"$work/barrier"
flock -x 4
pids=()
for b in "${ids[@]}"; do
	(
		exec 4>&-
		flock -s "$work/barrier" true
		KMODEL_ROOT=$t LD_PRELOAD=$KMODEL exec "$MEMZONE" online "memory$b" --root "$t" \
			--config "$t/etc/memzone.conf" --allow-insecure-config --log stderr -q 2>>"$work/par.err"
	) &
	pids+=($!)
done
a=$(now_us)
flock -u 4
exec 4>&-
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
z=$(now_us)
online=0
for b in "${ids[@]}"; do
	[ "$(head -n1 "$t/sys/devices/system/memory/memory$b/state")" = online ] && online=$((online + 1))
done
twice=$(awk '$2 ~ /^online/ { n[$1]++ } END { for (b in n) if (n[b] > 1) c++; print c + 0 }' "$t/proc/.kmodel.log")
crossed=$(awk '{ for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
	v["movable"] * 100 > 301 * v["kernel"] || v["node_movable"] * 100 > 301 * v["node_kernel"] { c++ }
	END { print c + 0 }' "$t/proc/.kmodel.log")
echo
echo "parallel: ${#ids[@]} helpers started at once: $online onlined, $bad non-zero exits, $twice onlined twice,"
echo "          $crossed transitions over the 301% cap, $(((z - a) / 1000)) ms wall," \
	"$(wc -l <"$work/par.err") log lines (-q)"
tail -n1 "$t/proc/.kmodel.log"
