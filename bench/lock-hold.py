#!/usr/bin/env python3
"""lock-hold.py - how long memzoned holds /run/memzone/lock for one give-back (issue 14, item 6).

  bench/lock-hold.py --memzoned BUILD/memzoned --kmodel BUILD/tests/shim/kmodel.so --out lock-hold.json
                     [--blocks 131072] [--givebacks 3] [--workdir /dev/shm] [--timeout 300]

udev's helpers wait for that lock at most lock_timeout (5 s by default) and then online without it:
every millisecond memzoned holds it is a millisecond a hot-added block may wait. The tree comes from
tests/fixtures/mktree.py: BLOCKS boot blocks on one node plus one 64-block DIMM the kernel onlined in
Normal (the give-back candidates), with unmovable kernel memory in the node's meminfo (the pressure
model needs a trend). memzoned runs on it (fast ticks, release_headroom low enough that it gives
kernel blocks back) with tests/shim/kmodel.so preloaded, the kernel model that carries out its state
writes. The lock is watched from outside, in /proc/locks (every --poll-ms): no change to the program
measured, so one build can be compared with another. Every hold memzoned takes is one give-back
(nothing else here takes the lock); reported: each hold, its median and maximum, the resolution (the
poll interval), and the duration of the move itself as memzoned logs it (offline + online through
the model: the part of a hold no scan can remove).
Never touches a live /sys: everything stays under WORKDIR.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "lib"))
import benchlib  # noqa: E402

CONF = """[rebalance]
interval = 100ms
trend_window = 1s
headroom = 16M
release_headroom = 64M
release_delay = 0
cooldown = 0
moves_per_minute = 600
"""


def mktree(dest, blocks):
    subprocess.run([sys.executable, os.path.join(TOP, "tests/fixtures/mktree.py"), dest, "--blocks", str(blocks),
                    "--nodes", "1", "--hotplug", "dimm:64=kernel"], check=True, stdout=subprocess.DEVNULL)
    os.makedirs(os.path.join(dest, "etc"), exist_ok=True)
    with open(os.path.join(dest, "etc/memzone.conf"), "w") as f:
        f.write(CONF)
    with open(os.path.join(dest, "sys/devices/system/node/node0/meminfo"), "a") as f:
        f.write("Node 0 SUnreclaim:       1024 kB\n")


def held_by(pid, ino):
    """Is the flock on inode ino held by pid (a line of /proc/locks without '->', which marks waiters)?"""
    with open("/proc/locks") as f:
        for line in f:
            w = line.split()
            if len(w) >= 6 and w[1] != "->" and w[4] == str(pid) and w[5].rsplit(":", 1)[-1] == str(ino):
                return True
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memzoned", required=True)
    ap.add_argument("--kmodel", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--blocks", type=int, default=131072)
    ap.add_argument("--givebacks", type=int, default=3)
    ap.add_argument("--poll-ms", type=float, default=0.5)
    ap.add_argument("--timeout", type=float, default=300, help="seconds for the whole run")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--label", default="", help="a name for the build measured (e.g. before / after)")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="memzone-lock-hold.", dir=a.workdir)
    tree = os.path.join(work, "tree")
    proc = None
    try:
        t0 = time.time()
        mktree(tree, a.blocks)
        subprocess.run(["sync"], check=False)  # a fresh big tree is ~1M dirty inodes
        sys.stderr.write("lock-hold: %d-block tree in %.1fs\n" % (a.blocks, time.time() - t0))
        log = open(os.path.join(work, "memzoned.log"), "w+")
        env = dict(os.environ, KMODEL_ROOT=tree, LD_PRELOAD=a.kmodel)
        proc = subprocess.Popen([a.memzoned, "--root", tree, "--config", tree + "/etc/memzone.conf",
                                 "--allow-insecure-config", "--log", "stderr"], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
        lockfile = os.path.join(tree, "run/memzone/lock")
        deadline = time.time() + a.timeout
        holds, since, ino = [], None, None
        poll = a.poll_ms / 1000.0
        while time.time() < deadline and proc.poll() is None and len(holds) < a.givebacks:
            if ino is None:
                try:
                    ino = os.stat(lockfile).st_ino
                except FileNotFoundError:
                    time.sleep(poll)
                    continue
            now = time.perf_counter()
            if held_by(proc.pid, ino):
                if since is None:
                    since = now
            elif since is not None:
                holds.append((now - since) * 1000.0)
                since = None
            time.sleep(poll)
        exited = proc.poll()
        if exited is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.seek(0)
        text = log.read()
        moves = [m for m in re.findall(r"memory\d+ moved from \S+ to Movable in (\S+)", text)]
        move_ms = [parse_ms(m) for m in moves]
        result = {
            "label": a.label,
            "memzoned": os.path.abspath(a.memzoned),
            "blocks": a.blocks,
            "poll_ms": a.poll_ms,
            "holds_ms": [round(h, 2) for h in holds],
            "hold_median_ms": round(statistics.median(holds), 2) if holds else None,
            "hold_max_ms": round(max(holds), 2) if holds else None,
            "givebacks_logged": len(moves),
            "move_ms": move_ms,
            "memzoned_exit_early": exited,
            "host": benchlib.host_facts(),
            "load": benchlib.loadavg()[:3],
        }
        benchlib.write_result(a.out, result)
        print("%s%d blocks: %d give-back lock holds: median %s ms, max %s ms (poll %.1f ms); the moves "
              "themselves: %s ms" % (a.label + ": " if a.label else "", a.blocks, len(holds),
                                     result["hold_median_ms"], result["hold_max_ms"], a.poll_ms,
                                     ", ".join("%g" % m for m in move_ms) or "none logged"))
        if not holds or not moves:
            sys.stderr.write("lock-hold: no give-back observed; memzoned said:\n" + text[-2000:])
            return 1
        return 0
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def parse_ms(s):
    """memzoned's durations: 12ms, 1.5s, 850us."""
    m = re.match(r"([0-9.]+)(us|ms|s|m)$", s)
    if not m:
        return None
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


if __name__ == "__main__":
    sys.exit(main())
