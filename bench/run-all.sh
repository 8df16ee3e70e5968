#!/bin/bash
# bench/run-all.sh - every benchmark of issue 8, then bench/RESULTS.md and its plots.
#
#   bench/run-all.sh [--build DIR] [--results DIR] [--smoke] [--only "STEP..."]
#
# Steps (in this order; --only picks some):
#   helper   bench/helper-cost.py: `memzone online` vs 1024/16384/131072 blocks, 1 and 8 nodes (item 1)
#   scaling  bench/online-scaling.sh (online-helper engineer's): 2 nodes, 1000 helpers at once (item 1)
#   daemon   bench/daemon-footprint.sh (rebalancer engineer's): memzoned CPU/PSS/RSS, 1 and 8 nodes (item 2)
#   lockhold bench/lock-hold.py: how long memzoned holds /run/memzone/lock per give-back, 131072 blocks (issue 14)
#   hotadd   bench/vm/hotadd-latency.sh: kernel / plain rule / memzone / memzoned, DIMM, virtio-mem, burst (item 3)
#   guestcost bench/vm/helper-guest-cost.sh: where one helper's time goes inside the guest (item 3)
#   move     bench/vm/move-latency.sh: offline/online of one block, memzoned's reaction (item 5)
#   policy   bench/vm/policy-quality.sh: OOM vs unpluggable for the 5 policies (a)-(e), in the issue's memory layout and with a boot ZONE_NORMAL (item 4);
#            BENCH_POLICY_LAYOUTS=mixed: virtio-mem + 2 DIMMs, what becomes of memzoned's harvests per release_delay (issue 16)
# then bench/report.py writes RESULTS.md and the gnuplot figures.
#
# Full run: raw results in bench/results/ (JSON, sample tables), bench/RESULTS.md, bench/*.png/svg, the
# step logs in BUILDDIR/bench-logs/
# (about 80 minutes under TCG on 2 CPUs). --smoke: one short iteration of the fixture-tree benchmarks
# and one short VM boot (hot-add 1 GiB per method), results and report in a temporary directory
# (--results to keep them), the committed RESULTS.md untouched; a couple of minutes.
# --build: a configured and built tree (default: the current directory). Exit status 1 when a step
# failed or the report could not be written.
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
build=. results='' smoke=0 only=''
while [ $# -gt 0 ]; do
    case $1 in
        --build) build=$2; shift 2 ;;
        --results) results=$2; shift 2 ;;
        --smoke) smoke=1; shift ;;
        --only) only=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-all: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" 2>/dev/null && pwd) || { echo "run-all: no build dir" >&2; exit 2; }
[ -x "$build/memzone" ] || { echo "run-all: $build/memzone missing: configure and make first" >&2; exit 2; }
if [ -z "$results" ]; then
    if [ $smoke = 1 ]; then results=$(mktemp -d /tmp/memzone-bench-smoke.XXXXXX); own_results=1
    else results=$HERE/results; fi
fi
mkdir -p "$results/samples"
results=$(cd "$results" && pwd)
# step logs: with the results of a smoke run, in the build dir for a full run (not published)
if [ $smoke = 1 ]; then logs=$results/logs; else logs=$build/bench-logs; fi
mkdir -p "$logs"
if [ $smoke = 1 ]; then report=$results/RESULTS.md plots=$results
else report=$HERE/RESULTS.md plots=$HERE; fi
steps=${only:-helper scaling daemon lockhold hotadd guestcost move policy}

log() { printf '%s run-all: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
notes=()
failed=0
prep=$(mktemp -d /tmp/memzone-bench-prep.XXXXXX)
# shellcheck disable=SC2317  # called by the trap
cleanup() { rm -rf "$prep"; [ "${own_results:-0}" = 1 ] && [ "${keep:-0}" = 0 ] && rm -rf "$results"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
export MEMZONE_BUILDDIR=$build BENCH_VM_PREP=$prep/vm

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
t_start=$(date +%s) d_start=$(date '+%Y-%m-%d %H:%M %Z') load_start=$(loadavg)
commit_start=$(git -C "$TOP" describe --always --dirty --abbrev=12 2>/dev/null || echo '?')

# run STEP CMD...: one benchmark, its stderr in $logs/STEP.log; a failure is noted, the run goes on
run() {
    local step=$1 t0 rc; shift
    case " $steps " in *" $step "*) ;; *) return 0 ;; esac
    log "$step: $*"
    t0=$(date +%s)
    "$@" 2> >(tee "$logs/$step.log" >&2)
    rc=$?
    log "$step: exit $rc after $(( $(date +%s) - t0 )) s"
    if [ $rc -ne 0 ]; then
        failed=1
        notes+=("$step: exit status $rc (its log: $logs/$step.log); what it measured is reported as is")
    fi
}
# policy.jsonl is not removed: policy-quality.sh replaces the records of the layouts, kernels and
# configurations it runs (BENCH_POLICY_*) and keeps the others (a rerun of one layout keeps the rest)
for s in hotadd guestcost move; do case " $steps " in *" $s "*) rm -f "$results/$s.jsonl" ;; esac; done

if [ $smoke = 1 ]; then
    run helper python3 "$HERE/helper-cost.py" --memzone "$build/memzone" --out "$results/helper-cost.json" \
        --sizes 1024,2048 --nodes 1,8 --runs 3 --callgrind-runs 1
    [ -f "$build/tests/shim/kmodel.so" ] || make -C "$build" tests/shim/kmodel.so >/dev/null 2>&1
    run lockhold python3 "$HERE/lock-hold.py" --memzoned "$build/memzoned" --kmodel "$build/tests/shim/kmodel.so" \
        --out "$results/lock-hold.json" --blocks 1024 --givebacks 1
    steps=${steps/scaling/}; steps=${steps/daemon/}; steps=${steps/guestcost/}; steps=${steps/move/}
    steps=${steps/policy/}
    BENCH_ROUNDS=1 BENCH_KERNELS=6.1 BENCH_HOTADD_SIZE=1G BENCH_BURST=none \
        run hotadd bash "$HERE/vm/hotadd-latency.sh" "$results/hotadd.jsonl"
else
    run helper python3 "$HERE/helper-cost.py" --memzone "$build/memzone" --out "$results/helper-cost.json"
    if [ -x "$HERE/online-scaling.sh" ] || [ -f "$HERE/online-scaling.sh" ]; then
        [ -f "$build/tests/shim/kmodel.so" ] || make -C "$build" tests/shim/kmodel.so >/dev/null 2>&1
        run scaling bash -c 'bash "$1" "$2" > "$3.tmp" && mv "$3.tmp" "$3"' _ "$HERE/online-scaling.sh" "$build" \
            "$results/online-scaling.txt"
    else
        notes+=("scaling: bench/online-scaling.sh is not in the tree")
    fi
    if [ -f "$HERE/daemon-footprint.sh" ]; then
        # 131072 blocks, 1 and 8 nodes, 60 s each at the default 1 s interval (issue 8, item 2)
        run daemon bash -c 'rm -f "$3"/daemon-footprint*; rc=0
            for k in 1 8; do
                bash "$1" --memzoned "$2/memzoned" --blocks 131072 --nodes $k --seconds 60 \
                    --json "$3/daemon-footprint-$k.json" >> "$3/daemon-footprint.txt" || rc=1
            done; exit $rc' _ "$HERE/daemon-footprint.sh" "$build" "$results"
    else
        daemon_note="bench/daemon-footprint.sh (the rebalancer engineer's) was not in the tree when this ran"
    fi
    [ -f "$build/tests/shim/kmodel.so" ] || make -C "$build" tests/shim/kmodel.so >/dev/null 2>&1
    run lockhold python3 "$HERE/lock-hold.py" --memzoned "$build/memzoned" --kmodel "$build/tests/shim/kmodel.so" \
        --out "$results/lock-hold.json" --blocks 131072 --givebacks 3
    run hotadd bash "$HERE/vm/hotadd-latency.sh" "$results/hotadd.jsonl"
    run guestcost bash "$HERE/vm/helper-guest-cost.sh" "$results/guestcost.jsonl"
    run move bash "$HERE/vm/move-latency.sh" "$results/move.jsonl"
    run policy bash "$HERE/vm/policy-quality.sh" "$results/policy.jsonl" "$results/samples"
fi

# ---- meta.json + report
kernels=''
if [ -f "$prep/vm/env" ]; then
    for v in VM_KDIR_6_1 VM_KDIR_6_12; do
        d=$(bash -c '. "$1"; echo "${!2}"' _ "$prep/vm/env" "$v")
        [ -f "$d/package" ] && kernels="$kernels $(cut -d' ' -f1 "$d/package" | sed 's/^linux-image-//')"
    done
fi
printf '%s\n' "${notes[@]}" > "$results/notes.txt"
BM_TOP=$TOP BM_COMMIT=$commit_start BM_LIB=$HERE/lib BM_START=$d_start BM_T0=$t_start BM_LOAD0=$load_start BM_KERNELS=$kernels \
BM_SMOKE=$smoke BM_DAEMON_NOTE=${daemon_note:-} BM_NOTES=$results/notes.txt BM_ONLY=$only python3 - "$results/meta.json" <<'PY'
import os, subprocess, sys, time
sys.dont_write_bytecode = True
sys.path.insert(0, os.environ["BM_LIB"])
import benchlib
e = os.environ
def sh(*a):
    try:
        return subprocess.run(a, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True).stdout.strip()
    except OSError:
        return ""
minutes = max(1, round((time.time() - int(e["BM_T0"])) / 60))
meta = {
    "commit": e["BM_COMMIT"],  # what the build was made from (the tree when the run started)
    "commit_end": sh("git", "-C", e["BM_TOP"], "describe", "--always", "--dirty", "--abbrev=12") or "?",
    "start": e["BM_START"], "end": time.strftime("%Y-%m-%d %H:%M %Z"), "minutes": minutes,
    "load_start": [float(x) for x in e["BM_LOAD0"].split()], "load_end": benchlib.loadavg()[:3],
    "host": benchlib.host_facts(),
    "qemu": (sh("qemu-system-x86_64", "--version").splitlines() or ["?"])[0].replace("QEMU emulator version ", ""),
    "accel": e.get("ACCEL", "tcg"),
    "guest_kernels": e["BM_KERNELS"].split(),
    "smoke": e["BM_SMOKE"] == "1",
    "daemon_footprint_note": e.get("BM_DAEMON_NOTE") or None,
    "notes": [n for n in open(e["BM_NOTES"]).read().splitlines() if n],
    "reproduce": [
        "git clone <memzone> && cd memzone && ./bootstrap          # autoreconf -fi",
        "mkdir build && cd build && ../configure --prefix=/usr --sysconfdir=/etc && make -j2",
        "make bench                # = ../bench/run-all.sh --build .  (about %d min here)" % minutes,
        "make check-bench-smoke    # one short iteration (fixture trees + one VM boot), a couple of minutes",
        "# packages: valgrind gnuplot-nox qemu-system-x86 busybox-static udev python3 xz-utils zstd gcc libc6-dev",
        "# VM steps fetch Debian 12's kernels once (tests/vm/fetch-kernel.sh); ACCEL=kvm where KVM works (default TCG)",
    ],
}
old = benchlib.read_result(sys.argv[1]) if e.get("BM_ONLY") else None
if old:
    # a partial rerun (--only): the full run's facts stay, the rerun is noted
    old.setdefault("reruns", []).append({"steps": e["BM_ONLY"], "start": meta["start"], "end": meta["end"],
                                         "commit": meta["commit"], "load_start": meta["load_start"],
                                         "load_end": meta["load_end"], "notes": meta["notes"]})
    old["notes"] = [n for n in old.get("notes", []) if n.split(":")[0] not in e["BM_ONLY"].split()] + meta["notes"]
    if meta["daemon_footprint_note"] is None and "daemon" in e["BM_ONLY"].split():
        old["daemon_footprint_note"] = None
    meta = old
benchlib.write_result(sys.argv[1], meta)
PY
rm -f "$results/notes.txt"
if python3 "$HERE/report.py" "$results" "$report" --plots "$plots"; then
    log "report: $report"
else
    log "report: report.py failed"; failed=1
fi
if [ $smoke = 1 ]; then
    # the report must hold the sections the smoke run fed, with numbers in them
    for want in '## 1. Helper cost' 'instructions' '## 3. Hot-add to online' '| memzone |' '| memzoned |' '## Summary'; do
        grep -qF -- "$want" "$report" || { log "smoke: '$want' missing from $report"; failed=1; }
    done
    # the committed results must still render (the report code and the result files agree)
    if [ -f "$HERE/results/meta.json" ]; then
        python3 "$HERE/report.py" "$HERE/results" "$results/committed-RESULTS.md" --plots "$results/committed-plots" ||
            { log "smoke: report.py cannot render bench/results"; failed=1; }
    fi
    if [ $failed = 0 ]; then log "smoke: ok"; else keep=1; log "smoke: FAILED, results kept in $results"; fi
fi
exit $failed
