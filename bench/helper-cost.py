#!/usr/bin/env python3
"""helper-cost.py - what one udev event costs: the whole `memzone online` process against fixture
trees of 1024, 16384 and 131072 blocks with 1 and 8 NUMA nodes (issue 8, item 1).

  bench/helper-cost.py --memzone BUILD/memzone --out helper-cost.json
                       [--sizes 1024,16384,131072] [--nodes 1,8] [--runs 31] [--callgrind-runs 5]
                       [--workdir /dev/shm]

Trees come from tests/fixtures/mktree.py: boot blocks spread over the nodes plus one 64-block DIMM
(8 GiB, offline) on the last node. Two kinds of udev event are measured (the trees hold plain files,
no kernel model: what is measured is memzone alone):
  * first: the first event of the device. The helper onlines the DIMM's first block (the decision
    that weighs the whole device against the caps) and then sweeps the device's 63 other offline
    blocks, each decided on its own. All 64 blocks are put back to "offline" after every run;
  * later: the event of a block that the sweep already onlined, whose helper udev started before
    the marker existed (the udev rule skips the events that come after it): the helper finds
    run/memzone/onlined/memoryN.Movable, takes it and exits. The block is online in Movable and the
    marker is written again (fresh mtime) after every run.
  * wall and CPU time (user + system from wait4) of the whole process, RUNS rounds interleaved over
    the sizes of one node count, so load from elsewhere on a shared machine hits every size alike
    (round 0 only warms the caches); median, min, max;
  * instructions of the whole process (dynamic loader included) from valgrind --tool=callgrind,
    CALLGRIND_RUNS runs each: the figure that does not depend on the machine's load, used for the
    t(131072)/t(1024) ratio; perf stat instructions:u as well where the CPU exposes counters.
Trees for one node count exist at a time (a 131072-block tree is ~1.2M files, ~3 GiB of tmpfs).
Never touches a live /sys: everything stays under WORKDIR.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "lib"))
import benchlib  # noqa: E402


def mktree(dest, blocks, nodes):
    subprocess.run([sys.executable, os.path.join(TOP, "tests/fixtures/mktree.py"), dest, "--blocks", str(blocks),
                    "--nodes", str(nodes), "--hotplug", "dimm:64"], check=True, stdout=subprocess.DEVNULL)
    os.makedirs(os.path.join(dest, "etc"), exist_ok=True)
    open(os.path.join(dest, "etc/memzone.conf"), "w").close()  # built-in defaults, as shipped
    with open(os.path.join(dest, "mktree.json")) as f:
        dev = json.load(f)["devices"][0]
    return dev["first_block"], dev["last_block"]


EVENTS = ("first", "later")


class Tree:
    def __init__(self, path, blocks, nodes, device):
        self.path, self.blocks, self.nodes = path, blocks, nodes
        self.first, self.last = device
        self.event = "first"
        self.mem = os.path.join(path, "sys/devices/system/memory")
        self.marks = os.path.join(path, "run/memzone/onlined")
        self.new_event("first")

    def new_event(self, event):
        """Measure another kind of event on the same tree from now on."""
        self.event = event
        self.block = self.first if event == "first" else self.first + 1
        self.wall, self.cpu, self.instr, self.perf = [], [], [], []
        self.outcomes = {}
        if event == "later":
            for b in range(self.first, self.last + 1):
                self.write(b, "state", "online")
                self.write(b, "valid_zones", "Movable")
            self.mark()

    def write(self, block, attr, value):
        with open(os.path.join(self.mem, "memory%d" % block, attr), "w") as f:
            f.write(value + "\n")

    def read(self, block, attr):
        with open(os.path.join(self.mem, "memory%d" % block, attr)) as f:
            return f.read().strip()

    def mark(self):
        os.makedirs(self.marks, exist_ok=True)
        open(os.path.join(self.marks, "memory%d.Movable" % self.block), "w").close()

    def argv(self, memzone):
        return [memzone, "online", "memory%d" % self.block, "--root", self.path,
                "--config", os.path.join(self.path, "etc/memzone.conf"), "--allow-insecure-config",
                "--log", "stderr"]

    def reset(self):
        """Record what the run did and put the tree back as it was before it."""
        if self.event == "first":
            # the named block's write, and how many of the device's blocks were written online
            written = [self.read(b, "state") for b in range(self.first, self.last + 1)]
            outcome = "%s, %d/%d device blocks online_*" % (
                written[0], sum(w.startswith("online") and w != "online" for w in written), len(written))
            for b in range(self.first, self.last + 1):
                self.write(b, "state", "offline")
            shutil.rmtree(self.marks, ignore_errors=True)
        else:
            taken = not os.path.exists(os.path.join(self.marks, "memory%d.Movable" % self.block))
            outcome = "%s, marker %s" % (self.read(self.block, "state"), "taken" if taken else "left")
            self.write(self.block, "state", "online")
            self.mark()
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def timed_run(tree, memzone):
    """Exit code, wall and CPU microseconds of one helper process. posix_spawn (vfork + exec, as
    udevd starts RUN programs) keeps the python parent's size out of the figures."""
    argv = tree.argv(memzone)
    devnull = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=devnull)
    _, status, ru = os.wait4(pid, 0)
    wall = (time.perf_counter() - t0) * 1e6
    rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    return rc, wall, (ru.ru_utime + ru.ru_stime) * 1e6


def callgrind_instructions(tree, memzone):
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + tree.argv(memzone),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True).stderr
    m = re.search(r"Collected\s*:\s*(\d+)", out)
    return int(m.group(1)) if m else None


def callgrind_version(memzone):
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", memzone, "--version"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True).stderr
    m = re.search(r"Collected\s*:\s*(\d+)", out)
    return int(m.group(1)) if m else None


def libraries(memzone):
    """The shared libraries the loader maps for memzone (ldd: NEEDED and what they pull in), without
    the vDSO and the loader itself; None when ldd cannot tell."""
    try:
        out = subprocess.run(["ldd", memzone], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    libs = []
    for line in out.splitlines():
        m = re.match(r"^\s*(\S+) => ", line)
        if m and not m.group(1).startswith("linux-vdso"):
            libs.append(m.group(1))
    return libs


def perf_supported():
    if not shutil.which("perf"):
        return False
    out = subprocess.run(["perf", "stat", "-x,", "-e", "instructions:u", "true"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, universal_newlines=True).stderr
    return bool(re.match(r"^\d+,", out.strip().splitlines()[-1] if out.strip() else ""))


def perf_instructions(tree, memzone):
    out = subprocess.run(["perf", "stat", "-x,", "-e", "instructions:u"] + tree.argv(memzone),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True).stderr
    for line in out.splitlines():
        m = re.match(r"^(\d+),", line)
        if m:
            return int(m.group(1))
    return None


def measure(trees, memzone, runs, cg_runs, use_perf, log):
    failures = 0
    for i in range(runs + 1):
        # rotate the order every round: no size always runs right after tree generation or first
        order = trees[i % len(trees):] + trees[:i % len(trees)]
        for t in order:
            rc, wall, cpu = timed_run(t, memzone)
            t.reset()
            if rc != 0:
                failures += 1
            if i:  # round 0 warms the page and dentry caches
                t.wall.append(wall)
                t.cpu.append(cpu)
    for t in trees:
        for _ in range(cg_runs):
            t.instr.append(callgrind_instructions(t, memzone))
            t.reset()
            if use_perf:
                t.perf.append(perf_instructions(t, memzone))
                t.reset()
        log("  %-5s %6d blocks, %d node(s): wall median %.0f us, cpu median %.0f us, %s instructions" % (
            t.event, t.blocks, t.nodes, benchlib.summary(t.wall)["median"] if t.wall else -1,
            benchlib.summary(t.cpu)["median"] if t.cpu else -1,
            benchlib.summary(t.instr)["median"] if benchlib.summary(t.instr) else "?"))
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--memzone", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sizes", default="1024,16384,131072")
    ap.add_argument("--nodes", default="1,8")
    ap.add_argument("--runs", type=int, default=31)
    ap.add_argument("--callgrind-runs", type=int, default=5)
    ap.add_argument("--workdir", default="/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir())
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    node_counts = [int(n) for n in args.nodes.split(",")]
    memzone = os.path.abspath(args.memzone)
    if not os.access(memzone, os.X_OK):
        sys.exit("helper-cost: no executable %s (build first)" % memzone)
    cg_runs = args.callgrind_runs if shutil.which("valgrind") else 0
    use_perf = perf_supported()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    log("helper-cost: sizes %s, nodes %s, %d timed rounds, %d callgrind runs%s" % (
        sizes, node_counts, args.runs, cg_runs, ", perf stat" if use_perf else " (perf: no instruction counter here)"))
    work = tempfile.mkdtemp(prefix="memzone-helper-cost.", dir=args.workdir)
    rows, failures = [], 0
    try:
        for k in node_counts:
            trees = []
            for n in sizes:
                path = os.path.join(work, "k%d-n%d" % (k, n))
                t0 = time.time()
                trees.append(Tree(path, n, k, mktree(path, n, k)))
                log("  tree %d blocks, %d node(s): %.1fs" % (n, k, time.time() - t0))
            subprocess.run(["sync"])  # a fresh big tree is many dirty inodes (on a disk-backed workdir)
            for event in EVENTS:
                for t in trees:
                    t.new_event(event)
                failures += measure(trees, memzone, args.runs, cg_runs, use_perf, log)
                for t in trees:
                    rows.append({"event": event, "blocks": t.blocks, "nodes": t.nodes, "block": t.block,
                                 "device_blocks": t.last - t.first + 1,
                                 "wall_us": benchlib.summary(t.wall), "cpu_us": benchlib.summary(t.cpu),
                                 "instructions": benchlib.summary(t.instr),
                                 "perf_instructions": benchlib.summary(t.perf), "written": t.outcomes})
            for t in trees:
                shutil.rmtree(t.path)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratios = []
    for event, k in [(e, k) for e in EVENTS for k in node_counts]:
        mine = [r for r in rows if r["nodes"] == k and r["event"] == event]
        lo, hi = min(mine, key=lambda r: r["blocks"]), max(mine, key=lambda r: r["blocks"])
        med = lambda r, key: r[key]["median"] if r[key] else None  # noqa: E731
        ratios.append({"event": event, "nodes": k, "small": lo["blocks"], "large": hi["blocks"],
                       "instructions": benchlib.ratio(med(hi, "instructions"), med(lo, "instructions")),
                       "wall": benchlib.ratio(med(hi, "wall_us"), med(lo, "wall_us")),
                       "cpu": benchlib.ratio(med(hi, "cpu_us"), med(lo, "cpu_us"))})
    # process start and exit alone, for scale: loader, shared libraries, option parsing
    baseline = benchlib.summary([callgrind_version(memzone) for _ in range(cg_runs)]) if cg_runs else None
    benchlib.write_result(args.out, {
        "bench": "helper-cost", "runs": args.runs, "callgrind_runs": cg_runs, "perf": use_perf,
        "valgrind": benchlib.tool_version(["valgrind", "--version"]) if cg_runs else None,
        "failures": failures, "rows": rows, "ratios": ratios, "baseline": baseline,
        "libraries": libraries(memzone)})
    for r in ratios:
        log("  %s event, nodes=%d: t(%d)/t(%d) instructions %s, wall %s" % (
            r["event"], r["nodes"], r["large"], r["small"],
            "%.3f" % r["instructions"] if r["instructions"] else "?", "%.2f" % r["wall"] if r["wall"] else "?"))
    if failures:
        log("helper-cost: %d helper runs exited non-zero" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
