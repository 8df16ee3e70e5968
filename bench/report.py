#!/usr/bin/env python3
"""report.py RESULTS_DIR OUT.md [--plots DIR] - bench/RESULTS.md from the result files of run-all.sh.

RESULTS_DIR holds what the benchmark scripts wrote:
  meta.json              run-all.sh: commit, commands, host, QEMU, accelerator, load, durations
  helper-cost.json       helper-cost.py (item 1)
  lock-hold.json         lock-hold.py (issue 14: the lock held per give-back)
  online-scaling.txt     bench/online-scaling.sh output (item 1, parallel helpers), optional
  daemon-footprint.txt   bench/daemon-footprint.sh output (item 2), optional
  hotadd.jsonl           vm/hotadd-latency.sh (item 3)
  move.jsonl             vm/move-latency.sh (item 5)
  policy.jsonl, samples/ vm/policy-quality.sh (item 4) and its sample tables
Plots (gnuplot, pngcairo + svg) of item 4 go to --plots DIR (default: the directory of OUT.md).
Every number in the report comes from these files; nothing is typed in by hand.
"""
import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib  # noqa: E402

# e-rd0 and e-rd10: (e) with a shorter release_delay than its 60 s, listed before it (issue 16, item 2)
CONFIG_ORDER = ["a", "b", "c", "d", "e-rd0", "e-rd10", "e", "e301", "e500"]
# memory layouts of the policy benchmark other than the (policy-quality.sh): shown apart
LAYOUT_LABEL = {"normal512": "with a boot ZONE_NORMAL (max-ram-below-4g=512M)",
                "mixed": "with virtio-mem and two DIMMs"}
# their sections: number and title
LAYOUT_SECTION = {"normal512": ("4b", "The same with a boot ZONE_NORMAL (max-ram-below-4g=512M)"),
                  "mixed": ("4c", "virtio-mem and two DIMMs: what becomes of the harvested blocks")}
METHODS = ["kernel", "plain", "memzone", "kmode", "memzoned"]


def jsonl(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def text(path):
    try:
        with open(path) as f:
            return f.read().rstrip("\n")
    except OSError:
        return None


def fmt_stat(s, scale=1.0, digits=0, unit="", grouped=False):
    """'median (min–max, n)' of a summary dict"""
    if not s:
        return "–"

    def f(v):
        return ("{:,.%df}" if grouped else "{:.%df}").replace("%d", str(digits)) .format(v * scale)
    if s["n"] == 1:
        return f(s["median"]) + unit
    return "%s (%s–%s, n=%d)" % (f(s["median"]) + unit, f(s["min"]), f(s["max"]), s["n"])


def fmt_ratio(s):
    if not s:
        return "–"
    if s["n"] == 1:
        return "%.2f×" % s["median"]
    return "%.2f× (%.2f–%.2f)" % (s["median"], s["min"], s["max"])


def ramp_phases(t, pt, killed=False):
    """[(name, seconds)] of the load in a sample table: ramp start, hold (peak reached), release; a ramp
    that ended at its peak (killed) gets one mark there."""
    if not pt:
        return []
    base, peak = pt[0], max(pt)
    if peak - base < 65536:  # less than 64 MiB of page tables: no ramp to mark
        return []
    out = []
    i0 = next((i for i, v in enumerate(pt) if v >= base + 8192), None)
    ih = next((i for i, v in enumerate(pt) if v >= base + 0.98 * (peak - base)), None)
    if i0 is not None:
        out.append(("ramp", t[i0]))
    if ih is not None and ih > (i0 or 0):
        out.append(("hold", t[ih]))
        ir = next((i for i in range(ih, len(pt)) if pt[i] < base + 0.5 * (peak - base)), None)
        if ir is not None and ir - ih <= (6 if killed else 2):  # ended at its peak: killed (or stopped)
            out[-1] = ("OOM kill" if killed else "dropped", t[ir])
        elif ir is not None:
            out.append(("released" if pt[-1] < base + 65536 else "drop", t[ir]))
    return out


def libs_text(libs):
    """The shared libraries memzone was measured to load (helper-cost.json), as a phrase."""
    if libs is None:
        return "memzone's shared libraries"
    if not libs:
        return "no shared library"
    return ", ".join("`%s`" % x for x in libs)


def fmt_device(d):
    """one hot-added device's unplug: 'd1 ✓ (1.2 s)', 'd2 ✗ (3 pinned blocks)', 'vm0 ✗ 2048→384 MiB'"""
    t = "%s %s" % (d["id"], "✓" if d["unplugged"] else "✗")
    if d.get("plugged_before_mib") is not None and not d["unplugged"]:
        t += " %d→%d MiB" % (d["plugged_before_mib"], d["plugged_after_mib"])
    if not d["unplugged"]:
        why = []
        if d.get("harvested_kernel_end"):
            why.append("%d harvested block%s in a kernel zone" % (d["harvested_kernel_end"],
                                                                  "s" if d["harvested_kernel_end"] > 1 else ""))
        if d.get("kernel_end", 0) > d.get("harvested_kernel_end", 0):
            why.append("%d other block%s in a kernel zone" % (d["kernel_end"] - d["harvested_kernel_end"],
                                                              "s" if d["kernel_end"] - d["harvested_kernel_end"] > 1 else ""))
        if why:
            t += " (%s)" % ", ".join(why)
    return t


def verdict(ok):
    return "–" if ok is None else ("**met**" if ok else "**missed**")


class Report:
    def __init__(self, rdir, out, plots):
        self.rdir, self.out, self.plots = rdir, out, plots
        self.meta = benchlib.read_result(os.path.join(rdir, "meta.json")) or {}
        self.lines = []
        self.summary = []  # (claim, target, measured, verdict)
        self.facts = {}    # what the sections measured, for the interpretation

    def w(self, s=""):
        self.lines.append(s)

    # ---------------------------------------------------------------- header
    def header(self):
        m = self.meta
        h = m.get("host", {})
        self.w("# memzone benchmark results")
        self.w()
        self.w("Generated by `bench/run-all.sh` (issue 8); every figure below comes from the result files in")
        self.w("`bench/results/` and is rebuilt from them by `bench/report.py`. Reproduce:")
        self.w()
        self.w("```sh")
        for c in m.get("reproduce", ["bench/run-all.sh --build BUILDDIR"]):
            self.w(c)
        self.w("```")
        self.w()
        self.w("| | |")
        self.w("|---|---|")
        self.w("| memzone | `%s`%s |" % (m.get("commit", "?"), " (tree at the end: `%s`)" % m["commit_end"]
                                            if m.get("commit_end") not in (None, m.get("commit")) else ""))
        self.w("| date | %s → %s (%s min) |" % (m.get("start", "?"), m.get("end", "?"), m.get("minutes", "?")))
        self.w("| host | %s, %s CPUs, %s GiB RAM, Linux %s |" % (h.get("cpu", "?"), h.get("cpus", "?"),
                                                               h.get("mem_gib", "?"), h.get("kernel", "?")))
        self.w("| guests | QEMU %s, **%s** (%s), Debian 12 kernels %s |" % (
            m.get("qemu", "?"), m.get("accel", "TCG").upper(),
            "no KVM: every guest instruction is emulated, guest times are 10–50× a real machine's"
            if m.get("accel", "tcg") == "tcg" else "hardware virtualisation",
            ", ".join(m.get("guest_kernels", [])) or "?"))
        la = m.get("load_start"), m.get("load_end")
        self.w("| host load | shared with other engineers' builds and tests while measuring: load average %s at the "
               "start, %s at the end (2 CPUs); wall times are noisy, instruction counts are not |" % (
                   "/".join("%.1f" % x for x in la[0]) if la[0] else "?",
                   "/".join("%.1f" % x for x in la[1]) if la[1] else "?"))
        for rr in m.get("reruns", []):
            self.w("| rerun | `%s` at %s → %s (memzone `%s`, load %s) |" % (
                rr.get("steps"), rr.get("start"), rr.get("end"), rr.get("commit"),
                "/".join("%.1f" % x for x in rr.get("load_start") or []) or "not recorded"))
        self.w("| statistics | median (min–max, n = runs); ratios are taken between runs in the same boot / "
               "the same interleaved round, then summarised |")
        self.w()

    # ---------------------------------------------------------------- 1
    def helper_cost(self):
        r = benchlib.read_result(os.path.join(self.rdir, "helper-cost.json"))
        self.w("## 1. Helper cost vs machine size (fixture trees, no VM)")
        self.w()
        if not r:
            self.w("_Not run._")
            self.w()
            return
        events = [("first", "First event of a device", "the DIMM's first block: its decision weighs the whole "
                   "device against the caps, then the helper sweeps the device's %s other offline blocks, each "
                   "decided on its own; all of the device's blocks are reset to offline after every run"),
                  ("later", "Later event of the device", "a block the sweep already onlined, whose helper udev "
                   "started before the marker existed (the rule skips the events that come after it): the helper "
                   "takes `run/memzone/onlined/memoryN.Movable` and exits; the marker is written again after "
                   "every run")]
        # results from before the two kinds were told apart: one kind, the first block's event, with only
        # that block reset between runs (after the first run the sweep found nothing left to do)
        old = not any("event" in row for row in r["rows"])
        self.w("`memzone online memoryN` as udev runs it: a whole process (dynamic loader included), built-in "
               "default policy, against trees from `tests/fixtures/mktree.py` (boot blocks over the nodes + one "
               "offline 64-block DIMM on the last node). Trees are plain files: memzone alone is measured, not "
               "the kernel's onlining. Instructions from `%s` (%d runs each); wall/CPU time of %d interleaved "
               "rounds (CPU = user + system from wait4). %s" % (
                   "valgrind --tool=callgrind", r.get("callgrind_runs", 0), r.get("runs", 0),
                   "" if r.get("perf") else "`perf stat` has no instruction counter on this (virtual) CPU."))
        self.w()
        if old:
            events = [("first", "First block's event", "the DIMM's first block, only that block reset to "
                       "offline between runs (results of an older helper-cost.py: from the second run on, the "
                       "device's other blocks were online already and not swept again)")]
        libs = r.get("libraries")
        if libs is not None:
            self.facts["libraries"] = libs
        for event, title, what in events:
            rows = [row for row in r["rows"] if row.get("event", "first") == event]
            if not rows:
                continue
            self.w("### %s" % title)
            self.w()
            self.w("Every run: %s." % (what % (rows[0].get("device_blocks", 64) - 1) if "%s" in what else what))
            self.w()
            self.w("| blocks | nodes | instructions | CPU µs | wall µs | outcome (runs) |")
            self.w("|---:|---:|---:|---:|---:|---|")
            for row in rows:
                self.w("| %d | %d | %s | %s | %s | %s |" % (
                    row["blocks"], row["nodes"], fmt_stat(row["instructions"], grouped=True),
                    fmt_stat(row["cpu_us"]), fmt_stat(row["wall_us"]),
                    ", ".join("%s ×%d" % kv for kv in sorted(row["written"].items()))))
            self.w()
            for ra in [ra for ra in r["ratios"] if ra.get("event", "first") == event]:
                self.w("- %d node(s): t(%d)/t(%d) = **%.3f** in instructions, %.2f in CPU time, %.2f in wall time "
                       "(medians)." % (ra["nodes"], ra["large"], ra["small"], ra["instructions"] or float("nan"),
                                       ra["cpu"] or float("nan"), ra["wall"] or float("nan")))
                ok = ra["instructions"] is not None and ra["instructions"] <= 1.1
                self.summary.append(("helper cost t(%d)/t(%d), %s, %d node(s)" % (
                    ra["large"], ra["small"], title[0].lower() + title[1:], ra["nodes"]),
                    "≤ 1.1", "%.3f (instructions)" % ra["instructions"] if ra["instructions"] else "?",
                    verdict(ok if ra["instructions"] is not None else None)))
            big = [row for row in rows if row["blocks"] == max(x["blocks"] for x in rows)]
            for row in big:
                self.summary.append(("helper absolute cost, %s, %d blocks, %d node(s)" % (
                    title[0].lower() + title[1:], row["blocks"], row["nodes"]), "–",
                    "%s instructions, %s µs CPU (median)" % (
                        "{:,}".format(int(row["instructions"]["median"])) if row["instructions"] else "?",
                        "%.0f" % row["cpu_us"]["median"] if row["cpu_us"] else "?"), "–"))
            one = min(big, key=lambda row: row["nodes"]) if big else None
            if one and one["instructions"]:
                self.facts.setdefault("helper", {})[event] = {
                    "instr": one["instructions"]["median"], "cpu_us": one["cpu_us"]["median"],
                    "blocks": one["blocks"], "old": old, "small": min(x["blocks"] for x in rows),
                    "ratios": [ra["instructions"] for ra in r["ratios"]
                               if ra.get("event", "first") == event and ra["instructions"]]}
            self.w()
        base = r.get("baseline")
        if base and self.facts.get("helper"):
            self.facts["helper"]["base"] = base["median"]
        if base:
            self.w("- For scale: `memzone --version` (process start, the loader mapping and relocating %s; exit) "
                   "costs %s instructions; the rest of an `online` run is the decision and its I/O." % (
                       libs_text(libs), "{:,}".format(int(base["median"]))))
        scal = text(os.path.join(self.rdir, "online-scaling.txt"))
        if scal:
            self.w()
            self.w("`bench/online-scaling.sh` (online-helper engineer's script, 2 nodes, plus 1000 helpers started "
                   "at once through the kernel model), output as printed:")
            self.w()
            self.w("```")
            self.w(scal)
            self.w("```")
        self.w()

    # ---------------------------------------------------------------- 2
    def daemon(self):
        self.w("## 2. Daemon footprint (memzoned, fixture tree)")
        self.w()
        t = text(os.path.join(self.rdir, "daemon-footprint.txt"))
        js = [benchlib.read_result(p) for p in sorted(glob.glob(os.path.join(self.rdir, "daemon-footprint-*.json")))]
        js = sorted([j for j in js if j], key=lambda j: (j.get("blocks", 0), j.get("nodes", 0)))
        if not t and not js:
            why = self.meta.get("daemon_footprint_note") or "bench/daemon-footprint.sh was not run"
            self.w("_Not measured: %s._" % why)
            self.summary.append(("memzoned CPU share / PSS, 131072 blocks", "≤ 0.05 % of a core, ≤ 2 MiB PSS",
                                 "not measured", "–"))
            self.w()
            return
        self.w("`bench/daemon-footprint.sh` (the rebalancer engineer's script): memzoned on a `mktree.py` tree "
               "(`--root`, built-in defaults, interval 1 s, no udev; boot blocks plus one 64-block DIMM online "
               "Movable), 15 s to settle, then CPU from `/proc/PID/schedstat` over the measured seconds and "
               "PSS/RSS from `smaps_rollup` at the end. One run per node count.")
        self.w()
        if js:
            self.w("| blocks | nodes | seconds | ticks seen | CPU, % of a core | CPU µs per second | PSS, KiB "
                   "(anonymous) | RSS, KiB |")
            self.w("|---:|---:|---:|---:|---:|---:|---:|---:|")
            for j in js:
                self.w("| %s | %s | %s | %s | %.4f | %s | %s (%s) | %s |" % (
                    j.get("blocks"), j.get("nodes"), j.get("seconds"), j.get("ticks"), j.get("cpu_percent", 0),
                    j.get("cpu_us_per_second"), j.get("pss_kib"), j.get("pss_anon_kib"), j.get("rss_kib")))
                ok = j.get("cpu_percent", 99) <= 0.05 and j.get("pss_kib", 1 << 30) <= 2048
                self.summary.append(("memzoned footprint, %s blocks, %s node(s), 1 s interval" % (
                    j.get("blocks"), j.get("nodes")), "≤ 0.05 % of a core, ≤ 2 MiB PSS",
                    "%.4f %% CPU, %s KiB PSS" % (j.get("cpu_percent", 0), j.get("pss_kib")), verdict(ok)))
            self.w()
        if t:
            self.w("As printed:")
            self.w()
            self.w("```")
            self.w(t)
            self.w("```")
            self.w()

    # ---------------------------------------------------------------- 2b
    def lockhold(self):
        j = benchlib.read_result(os.path.join(self.rdir, "lock-hold.json"))
        if not j:
            return  # a step added after the published run: no section until it is measured
        self.w("### 2b. /run/memzone/lock held per give-back (memzoned, fixture tree)")
        self.w()
        self.w("`bench/lock-hold.py`: memzoned on a %s-block tree with the kernel model preloaded gives kernel "
               "blocks back; the lock is watched in `/proc/locks` every %s ms. udev's helpers wait for the lock "
               "at most `lock_timeout` (5 s) and then online without it." % (j.get("blocks"), j.get("poll_ms")))
        self.w()
        self.w("| build | holds, ms | median, ms | max, ms | the moves themselves, ms |")
        self.w("|---|---|---:|---:|---|")
        self.w("| %s | %s | %s | %s | %s |" % (
            j.get("label") or "this", ", ".join("%g" % h for h in j.get("holds_ms", [])), j.get("hold_median_ms"),
            j.get("hold_max_ms"), ", ".join("%g" % m for m in j.get("move_ms", []) if m is not None)))
        self.w()

    # ---------------------------------------------------------------- 3
    def hotadd(self):
        recs = jsonl(os.path.join(self.rdir, "hotadd.jsonl"))
        self.w("## 3. Hot-add to online (VM)")
        self.w()
        if not recs:
            self.w("_Not run._")
            self.w()
            return
        errs = [x for x in recs if x.get("error") or (x.get("result") or {}).get("error")]
        ok = [x for x in recs if x not in errs and "result" in x]
        sizes = sorted({(x["kind"], x["bytes"], x["blocks"]) for x in ok})
        mzd = [x for x in ok if x["method"] == "memzoned"]
        self.w("Who onlines the new blocks is switched at runtime in **one guest**: `kernel` = the kernel's own "
               "auto-online (`auto_online_blocks=online_movable`, what `memhp_default_state=online_movable` sets at "
               "boot), `plain` = a distribution-style rule (`ACTION==\"add\", ATTR{state}==\"offline\", "
               "ATTR{state}=\"online\"`), `memzone` = memzone's installed rule (`memzone online`, built-in default "
               "policy) deciding in userspace (`auto_online_blocks=offline`), `kmode` = the same after `memzone init` "
               "handed the default policy to the kernel (kernel mode: `online_policy=auto-movable`, "
               "`auto_online_blocks=online`; the helper audits each block)%s. The harness's per-uevent logger rule is removed first. Boot memory 4 GiB. Time = first "
               "QMP command sent → the guest saw the `online` uevent of the last new block (host clock; a static "
               "probe in the guest listens to the kernel's uevents, no polling). Per round the order of the methods "
               "rotates; the DIMMs and the virtio-mem growth of one round share a boot (boot A), the bursts "
               "compare kernel/memzone/kmode%s (boot B) and plain/memzone (boot C)." % (
                   ", `memzoned` = the same rule with memzoned running (installed binary, default configuration, "
                   "started before the hot-add and waited for until `/run/memzone/memzoned.online` resolved): "
                   "memzoned decides the new blocks from the kernel's uevents in its own process and the rule, "
                   "seeing the link, starts no helper; every other method stops memzoned first" if mzd else "",
                   "/memzoned" if any(x["method"] == "memzoned" and x["kind"] == "burst" for x in ok) else ""))
        self.w()
        def same_boot(rs, mine, over):
            """over's host_ms ÷ each of rs's, in the same boot and round"""
            out = []
            for x in rs:
                same = [y for y in mine if y["method"] == over and y["round"] == x["round"] and y["boot"] == x["boot"]]
                if same and x["result"].get("host_ms") and same[0]["result"].get("host_ms"):
                    out.append(same[0]["result"]["host_ms"] / x["result"]["host_ms"])
            return benchlib.summary(out)

        for k in sorted({x["kernel"] for x in ok}):
            rel = next((x.get("kernel_release") for x in ok if x["kernel"] == k), k)
            with_mzd = any(x["kernel"] == k for x in mzd)  # old result files: no memzoned column
            self.w("### kernel %s" % rel)
            self.w()
            self.w("| hot-add | method | device_add → all online, ms | first block seen → all online, ms | "
                   "memzone ÷ this method (same boot) |%s zones |" % (
                       " memzoned ÷ this method (same boot) |" if with_mzd else ""))
            self.w("|---|---|---:|---:|---:|%s---|" % ("---:|" if with_mzd else ""))
            for kind, nbytes, nblocks in sizes:
                mine = [x for x in ok if x["kernel"] == k and x["kind"] == kind and x["bytes"] == nbytes]
                if not mine:
                    continue
                label = {"dimm": "1 DIMM", "virtio_mem": "virtio-mem grow", "burst": "burst of DIMMs"}[kind]
                label += " %d GiB (%d blocks)" % (nbytes >> 30, nblocks) if nbytes >= 1 << 30 else \
                    " %d MiB (%d blocks)" % (nbytes >> 20, nblocks)
                if kind == "burst":
                    label += ", %d devices" % (mine[0]["result"].get("cmds", 0) // 2)
                for m in METHODS:
                    rs = [x for x in mine if x["method"] == m]
                    if not rs:
                        continue
                    host = benchlib.summary([x["result"].get("host_ms") for x in rs])
                    guest = benchlib.summary([x["result"]["guest"]["all_online_ms"] - x["result"]["guest"]["first_add_ms"]
                                              for x in rs if "guest" in x["result"]])
                    # memzone's column: the helper path over the others (not over memzoned, whose own
                    # column holds that ratio the other way round)
                    rsum = same_boot(rs, mine, "memzone") if m not in ("memzone", "memzoned") else None
                    dsum = same_boot(rs, mine, "memzoned") if m != "memzoned" else None
                    zones = sorted({x["result"]["guest"].get("zones", "?") for x in rs if "guest" in x["result"]})
                    self.w("| %s | %s | %s | %s | %s |%s %s |" % (
                        label, m, fmt_stat(host), fmt_stat(guest), fmt_ratio(rsum) if m not in ("memzone", "memzoned") else "",
                        (" %s |" % (fmt_ratio(dsum) if m != "memzoned" else "")) if with_mzd else "", ", ".join(zones)))
                    if rsum:
                        self.facts.setdefault("hotadd_" + m, []).append((label, k, rsum["median"]))
                        self.facts.setdefault("hotadd_ms", {})[(k, kind, m)] = host["median"] if host else None
                    if m in ("memzone", "memzoned") and host:
                        self.facts.setdefault("hotadd_ms", {})[(k, kind, m)] = host["median"]
                    if dsum:
                        self.facts.setdefault("hotadd_memzoned_" + m, []).append((label, k, dsum["median"]))
                    if m == "kernel" and rsum:
                        self.summary.append(("hot-add %s, memzone ÷ kernel auto-online (%s)" % (label, k), "≤ 1.1×",
                                             fmt_ratio(rsum), verdict(rsum["median"] <= 1.1)))
                    ksum = same_boot(rs, mine, "kmode") if m in ("kernel", "plain") else None
                    if ksum:
                        self.summary.append(("hot-add %s, memzone kernel mode ÷ %s (%s)" % (
                            label, "kernel auto-online" if m == "kernel" else "plain rule", k),
                            "≤ 1.1×" if m == "kernel" else "–", fmt_ratio(ksum),
                            verdict(ksum["median"] <= 1.1) if m == "kernel" else "–"))
                    if m == "kernel" and dsum:
                        self.summary.append(("hot-add %s, memzoned ÷ kernel auto-online (%s)" % (label, k),
                                             "≤ 1.1×", fmt_ratio(dsum), verdict(dsum["median"] <= 1.1)))
                    if m == "plain" and rsum:
                        self.summary.append(("hot-add %s, memzone ÷ plain rule (%s)" % (label, k), "–",
                                             fmt_ratio(rsum), "–"))
            self.w()
        if mzd:
            # what memzoned's runs did besides the time: its own decisions, and helpers in the kernel log
            cnt = [x.get("memzoned") or {} for x in mzd]
            dec = [c.get("decisions") for c in cnt]
            hl = [c.get("helper_log_lines") for c in cnt]
            zones = sorted({x["result"]["guest"].get("zones", "?") for x in mzd if "guest" in x["result"]})
            self.facts["memzoned_runs"] = {"n": len(mzd), "counted": sum(h is not None for h in hl),
                                           "no_helper": sum(h == 0 for h in hl),
                                           "all_decided": sum(d is not None and d == x["blocks"] for d, x in zip(dec, mzd)),
                                           "zones": zones}
            self.w("memzoned's hot-adds (%d): memzoned logged a decision for every new block in %d, the kernel log "
                   "showed no `memzone online` helper line in %d (%d counted); zones of the new blocks: %s." % (
                       len(mzd), self.facts["memzoned_runs"]["all_decided"], self.facts["memzoned_runs"]["no_helper"],
                       self.facts["memzoned_runs"]["counted"], ", ".join(zones)))
            mz_normal = any("Normal" in x["result"]["guest"].get("zones", "") for x in ok
                            if x["method"] == "memzone" and "guest" in x["result"])
            if mz_normal and not any("Normal" in z for z in zones):
                self.w("Where memzone's helper put some new blocks in ZONE_NORMAL (the movable memory hot-added "
                       "earlier in the boot had reached its ratio cap, `ratio` = 301 % of kernel memory by "
                       "default), memzoned put all of them movable, although the cap is `ratio` with or without "
                       "memzoned: the two ran at different points of the boot's interleaved rounds.")
                self.w()
        self.guest_cost()
        if errs:
            self.w("Failed measurements (%d): %s" % (len(errs), "; ".join(
                "%s %s %s round %s: %s" % (x.get("kernel"), x.get("kind", x.get("boot")), x.get("method", ""),
                                           x.get("round"), x.get("error") or x["result"].get("error")) for x in errs)))
            self.w()

    def guest_cost(self):
        recs = jsonl(os.path.join(self.rdir, "guestcost.jsonl"))
        if not recs:
            return
        self.w("### Where one helper's time goes in the guest")
        self.w()
        self.w("Each program started %s times one after the other in the guest the way udevd runs a `RUN+=` "
               "program (fork + exec + wait; `bench/vm/helper-guest-cost.sh`), and the kernel's own work: one "
               "`online_movable` write per block of a fresh 1 GiB DIMM, timed. ms, median (min–max)." %
               next((re.search(r"n=(\d+)", x["line"]).group(1) for x in recs if x["line"].startswith("SPAWN")), "?"))
        self.w()
        labels = [("true", "`/bin/true` (static busybox): any process"),
                  ("version", "`memzone --version`: memzone's process start (loader, %s)" % libs_text(
                      self.facts.get("libraries"))),
                  ("plan", "`memzone plan memoryN`: + read the state, decide for one offline block"),
                  ("leave", "`memzone online memoryN`, block already in its zone: lock, snapshot, decide, log"),
                  ("kernel-online", "the kernel onlining one 128 MiB block (`online_movable` write)")]
        kernels = sorted({x["kernel"] for x in recs})
        rel = {k: next(x.get("kernel_release", k) for x in recs if x["kernel"] == k) for k in kernels}
        self.w("| | " + " | ".join(rel[k] for k in kernels) + " |")
        self.w("|---|" + "---:|" * len(kernels))
        med = {}
        for what, label in labels:
            cells = []
            for k in kernels:
                rs = [x["line"] for x in recs if x["kernel"] == k and x["what"] == what]
                if what == "kernel-online":
                    vals = [int(m.group(1)) for m in (re.search(r"us=(\d+) rc=0", r) for r in rs) if m]
                    st = benchlib.summary(vals)
                else:
                    m = re.search(r"median_us=(\d+) min_us=(\d+) max_us=(\d+)", rs[0]) if rs else None
                    st = {"median": int(m.group(1)), "min": int(m.group(2)), "max": int(m.group(3)),
                          "n": int(re.search(r"n=(\d+)", rs[0]).group(1))} if m else None
                med[(k, what)] = st["median"] if st else None
                cells.append(fmt_stat(st, 1e-3, 1))
            self.w("| %s | %s |" % (label, " | ".join(cells)))
        self.w()
        for k in kernels:
            self.facts.setdefault("guest", {})[rel[k]] = {w: med.get((k, w)) for w, _ in labels}
        for k in kernels:
            lv, ko, vs = med.get((k, "leave")), med.get((k, "kernel-online")), med.get((k, "version"))
            if lv and ko and vs:
                self.w("- %s: one helper run costs ~%.0f ms here, %.0f ms of it process start and libraries; the "
                       "kernel's onlining of the block ~%.1f ms. A helper run for each of 64 blocks would add up "
                       "to ~%.1f s, which is why the first helper of a device decides all of its blocks in one "
                       "process and the rule starts none for the blocks it onlined ahead; the kernel's onlining of "
                       "64 blocks adds up to ~%.2f s." % (
                           rel[k], lv / 1000, vs / 1000, ko / 1000, 64 * (lv + ko) / 1e6, 64 * ko / 1e6))
        self.w()

    # ---------------------------------------------------------------- 4
    def policy(self):
        allrecs = [x for x in jsonl(os.path.join(self.rdir, "policy.jsonl")) if x.get("bench") == "policy"]
        self.w("## 4. Policy quality (VM)")
        self.w()
        if not allrecs:
            self.w("_Not run._")
            self.w()
            return
        # the layout (all boot memory below 4 GiB) is the headline; other layouts follow, apart
        self.policy_layout([x for x in allrecs if x.get("layout", "std") == "std"], "std")
        for lay in sorted(set(x.get("layout", "std") for x in allrecs) - {"std"},
                          key=lambda lay: (LAYOUT_SECTION.get(lay, ("4x",))[0], lay)):
            self.policy_layout([x for x in allrecs if x.get("layout") == lay], lay)

    def policy_layout(self, recs, layout):
        std = layout == "std"
        label = LAYOUT_LABEL.get(layout, "in memory layout %s" % layout)
        sfx = "" if std else " " + label
        if not std:
            num, title = LAYOUT_SECTION.get(layout, ("4x", "The same %s" % label))
            self.w("### %s. %s" % (num, title))
            self.w()
        failed = [x for x in recs if x.get("error") or not (x.get("summary") or {}).get("samples")]
        recs = [x for x in recs if x not in failed]
        if failed:
            self.w("Runs that failed and are left out: %s." % "; ".join(
                "(%s) run %s: %s" % (x.get("config"), x.get("run"), x.get("error") or "no samples") for x in failed))
            self.w()
        if not recs:
            return
        r0 = next((x for x in recs if "ramp" in x), recs[0])
        if layout == "mixed":
            self.intro_mixed(r0)
        elif not std:
            self.w("Not the issue's comparison (above, whose figures stand): the same benchmark with the same 1 GiB "
                   "of boot memory, but QEMU `-machine %s`, so part of it lies above 4 GiB and the guest boots with a "
                   "ZONE_NORMAL, as real servers do (most of their RAM is above 4 GiB); above, all of it is below 4 GiB "
                   "(DMA/DMA32 only) and the first hot-added blocks onlined to a kernel zone are the guest's only "
                   "ZONE_NORMAL. Boot zones (managed): %s. The DIMM lands above the boot memory (first hot-added "
                   "block: %s). Same ramp (%s): the boot memory holds as much as above." % (
                       r0.get("machine", "?"), (r0.get("boot_zones") or "?").strip(),
                       "memory%s" % r0["hot_first_block"] if r0.get("hot_first_block") is not None else "?",
                       r0.get("ramp", "?")))
            self.w()
        else:
            self.intro_policy(r0)
        kernels = sorted(set(x.get("kernel", "?") for x in recs))
        for k in kernels:
            mine = [x for x in recs if x.get("kernel", "?") == k]
            if len(kernels) > 1:
                self.w("Kernel %s (%s):" % (k, mine[0].get("kernel_release", "?")))
                self.w()
            self.policy_table(mine, layout, sfx + (" [%s]" % k if len(kernels) > 1 else ""))

    def intro_mixed(self, r0):
        self.w("Issue 16's second experiment as a benchmark (items 2 and 5): the same 1 GiB of boot memory (kernel "
               "zones DMA/DMA32 only), then a virtio-mem device grown to 2 GiB (16 blocks) and two 1 GiB DIMMs, d1 "
               "and d2 (hot-added: `%s`); zones per device at hot-add in the table. Ramp: page tables up to %s (`%s`), "
               "so that memzoned has to harvest several blocks. With memzoned the watch after the release lasts 10 minutes (shorter only once every "
               "harvested block is back in Movable and nothing moved for 90 s); every 5 s it samples the harvested "
               "blocks' zones (*given back after 1 / 2 / 5 / 10 min*). (e-rd0) and (e-rd10) are (e) with "
               "`[rebalance] release_delay` = 0 s and 10 s instead of its default 60 s. At the end, memzoned "
               "stopped, every hot-added block is read in the guest: its zone (sysfs), whether memzoned harvested it "
               "(its `memoryN moved from Movable` log lines, the only thing taken from memzoned), its pages when it "
               "is in a kernel zone (`/proc/kpageflags`) and the kernel's answer when asked to offline it (onlined "
               "to the kernel zone again at once). A harvested block is then *given back* (Movable), *refused by "
               "the kernel* (in a kernel zone with slab, page-table or reserved pages, which the kernel cannot "
               "migrate) or *kept while returnable* (in a kernel zone with none: 0 for a good policy); kernel allocations without a "
               "page flag can pin a block too, so the summary's verdict counts a kept block as returnable only when "
               "the kernel also offlined it when asked. Last, every "
               "device is unplugged: QMP `device_del` of each DIMM (60 s for DEVICE_DELETED), virtio-mem's "
               "`requested-size` set to 0 (60 s for its plugged size to follow; the size it reached is shown)." % (
                   r0.get("hotadd", "?"), r0.get("ramp_rule", "what the kernel zones manage once the devices are "
                                                          "online + 512 MiB"), r0.get("ramp", "?")))
        self.w()

    def intro_policy(self, r0):
        self.w("Each column in a fresh VM from the same initramfs (kernel %s, boot memory 1 GiB). Hot-add one "
               "%s DIMM (%s blocks), then ramp unmovable kernel memory with `loadgen pt` (page tables: %s; the boot "
               "memory holds ~0.9 GiB), release it, watch (20 s; with memzoned until it stops moving, at most 7 min), "
               "then QMP `device_del` of the DIMM. OOM kills = vmstat `oom_kill`; allocation failures = kernel "
               "`page allocation failure` lines; peak pressure = lowest kernel-zone free minus high watermark, highest "
               "PSI some avg10 and kernel direct-reclaim stalls; unpluggable = hot-added blocks in ZONE_MOVABLE "
               "after the release (before device_del); moves = zone changes of hot-added blocks." % (
                   r0.get("kernel_release", "?"), r0.get("hotadd", "?"), r0.get("blocks", "?"), r0.get("ramp", "?")))
        self.w()

    def policy_table(self, recs, layout, sfx):
        std = layout == "std"
        cols = sorted(recs, key=lambda x: (CONFIG_ORDER.index(x["config"]) if x["config"] in CONFIG_ORDER else 99,
                                           x.get("run", 0)))
        self.w("| | " + " | ".join("(%s) %s%s" % (x["config"], x.get("desc", ""),
                                                   " #%d" % x["run"] if len([y for y in recs if y["config"] == x["config"]]) > 1 else "")
                                    for x in cols) + " |")
        self.w("|---|" + "---|" * len(cols))

        def row(name, f):
            vals = []
            for x in cols:
                try:
                    vals.append(f(x))
                except (KeyError, TypeError, ValueError):
                    vals.append("–")
            self.w("| %s | %s |" % (name, " | ".join(vals)))

        def s(x):
            return x.get("summary") or {}

        def ramp_done(x):
            return "loadgen: done" in x.get("loadgen", "") and "released" in x.get("loadgen", "")

        if not std:
            row("boot zones (managed)", lambda x: x["boot_zones"].strip())
        row("zones at hot-add", lambda x: x["zones_added"].strip() or "–")
        if any(x.get("dev_zones_added") and len(s(x).get("devices") or []) > 1 for x in cols):
            row("… per device", lambda x: x["dev_zones_added"].strip().rstrip(";"))
        row("OOM kills during the ramp", lambda x: str(s(x)["oom_kills"]))
        row("allocation failures", lambda x: str(x["alloc_failures"]))
        row("ramp reached its target", lambda x: "yes" if ramp_done(x) else "**no** (%s)" % (
            "killed" if s(x).get("oom_kills") else (x.get("loadgen", "").splitlines() or ["?"])[-1]))
        row("peak page tables, MiB", lambda x: "%.0f" % s(x)["peak_pagetables_mib"])
        row("lowest kernel free − high wmark, MiB", lambda x: "%.0f" % s(x)["min_kernel_margin_mib"])
        row("max PSI some avg10, %", lambda x: "%.2f" % s(x)["max_psi_some10"])
        row("kernel reclaim stalls", lambda x: str(s(x)["allocstall"]))
        row("moves", lambda x: str(s(x)["moves"]))
        if any(s(x).get("spike_moves") and s(x).get("harvest") for x in cols):
            row("… before the release: to a kernel zone / back to Movable", lambda x: "%d / %d" % (
                s(x)["spike_moves"]["to_kernel"], s(x)["spike_moves"]["to_movable"]))
        row("after release: blocks Movable / kernel", lambda x: "%d / %d" % (s(x)["movable_end"], s(x)["kernel_end"]))
        row("**unpluggable after release**", lambda x: "**%.0f %%**" % (100.0 * s(x)["movable_end"] / x["blocks"]))
        devs = any(s(x).get("devices") for x in cols)
        if not devs:
            row("QMP device_del of the DIMM", lambda x: "**succeeded** (%.1f s)" % x["unplug_s"] if x["unplugged"]
                else "failed (no DEVICE_DELETED in %.0f s)" % x["unplug_s"])
        else:
            # each device on its own (issue 16): which of them the spike left unpluggable
            row("**devices unplugged after the spike**", lambda x: ", ".join(
                fmt_device(d) for d in s(x)["devices"]))
        row("zones after the unplugs" if devs else "zones after device_del",
            lambda x: x.get("zones_after_unplug", "").strip() or "(gone)")
        if any(s(x).get("harvest") for x in cols):
            self.harvest_rows(cols, row, s)
        self.w()
        for x in cols:
            no_oom = s(x).get("oom_kills") == 0 and x.get("alloc_failures") == 0 and ramp_done(x)
            unpl = 100.0 * s(x).get("movable_end", 0) / x["blocks"] if x.get("blocks") else 0
            facts = self.facts.setdefault("policy", {}) if std else \
                self.facts.setdefault("policy_layouts", {}).setdefault(layout, {})
            facts[x["config"] + (" [%s]" % x.get("kernel") if sfx.endswith("]") else "")] = {
                "harvest": s(x).get("harvest"), "giveback_at": s(x).get("giveback_at"),
                "devices": s(x).get("devices"), "release_delay": x.get("release_delay"),
                "oom_kills": s(x).get("oom_kills"),
                "desc": x.get("desc", ""), "no_oom": no_oom, "unpl": unpl, "unplugged": x.get("unplugged"),
                "moves": s(x).get("moves"), "pages": x.get("kernel_block_pages", ""),
                "zones_added": x.get("zones_added", "").strip(), "log": x.get("memzoned_log", ""),
                "peak_pt": s(x).get("peak_pagetables_mib"),
                "boot_kernel_mib": sum(int(n) for z, n in re.findall(r"(\w+)=(\d+)M", x.get("boot_zones") or "")
                                       if z in ("DMA", "DMA32", "Normal")) or None}
            both = no_oom and unpl >= 90
            daemon = x["config"].startswith("e")
            if layout == "mixed":
                self.summary_mixed(x, sfx, no_oom, daemon)
                continue
            tgt = "zero OOM and ≥ 90 % unpluggable" if daemon else "(comparison)"
            if not std:
                tgt = "(not the issue's layout) " + tgt
            self.summary.append(("policy (%s)%s %s" % (x["config"], sfx + ":" if sfx else "", x.get("desc", "")), tgt,
                                 "%s OOM, %.0f %% unpluggable, device_del %s" % (
                                     s(x).get("oom_kills", "?"), unpl, "ok" if x.get("unplugged") else "failed"),
                                 verdict(both) if daemon else ("both halves" if both else "fails one half")))
        for x in cols:
            if x.get("kernel_block_pages"):
                self.w("%s: the pages of the hot-added blocks left in a kernel zone after the release, from "
                       "/proc/kpageflags (4 KiB pages; free = buddy, lru = user and page-cache pages, which "
                       "offlining migrates; slab and pgtable = kernel memory offlining cannot migrate; noflags = no "
                       "page flag: kernel allocations such as vmalloc and kernel stacks, or free pages waiting on "
                       "per-CPU lists):" % ("(%s)%s" % (x["config"], sfx)))
                self.w()
                self.w("```")
                self.w(x["kernel_block_pages"])
                self.w("```")
                self.w()
            if x.get("memzoned_status"):
                self.w("(%s)%s: what `memzone status` said of the blocks memzoned wanted back before it stopped (its "
                       "own view, next to the guest's above):" % (x["config"], sfx))
                self.w()
                self.w("```")
                self.w(x["memzoned_status"])
                self.w("```")
                self.w()
            if x.get("memzoned_log"):
                self.w("memzoned's last lines in (%s)%s (first line: number of moves it logged):" % (x["config"], sfx))
                self.w()
                self.w("```")
                self.w(x["memzoned_log"])
                self.w("```")
                self.w()
        if std:
            self.plot_policy(recs)

    def summary_mixed(self, x, sfx, no_oom, daemon):
        """issue 16's targets: no OOM, no returnable block kept, no DIMM pinned by a harvest"""
        sm = x.get("summary") or {}
        h = sm.get("harvest") or {}
        devs = sm.get("devices") or []
        dimm_pinned = [d["id"] for d in devs if d["kind"] == "dimm" and d.get("harvested_kernel_end")]
        unpl = ", ".join(fmt_device(d) for d in devs)
        if daemon and h:
            # kept while returnable by kpageflags, less those whose offline the kernel refused when asked
            # (unmovable pages without a flag): what the kernel would really have taken back
            really = h["kept_returnable"] - h.get("returnable_refused", 0)
            meas = "%s OOM; harvested %d: %d given back, %d refused, %d kept returnable%s; %s" % (
                sm.get("oom_kills", "?"), h["harvested"], h["given_back"], h["refused"], h["kept_returnable"],
                " (the kernel refused %d of them when asked)" % h["returnable_refused"]
                if h.get("returnable_refused") else "", unpl)
            ok = no_oom and really == 0 and not dimm_pinned
            self.summary.append(("policy (%s)%s: %s" % (x["config"], sfx, x.get("desc", "")),
                                 "zero OOM, 0 returnable harvested blocks kept, no DIMM holds a harvested block",
                                 meas, verdict(ok)))
        else:
            self.summary.append(("policy (%s)%s: %s" % (x["config"], sfx, x.get("desc", "")), "(comparison)",
                                 "%s OOM; %s" % (sm.get("oom_kills", "?"), unpl or "?"),
                                 "no OOM" if no_oom else "OOM"))

    def harvest_rows(self, cols, row, s):
        """issue 16's columns: what became of the blocks memzoned harvested (from the guest's sysfs and
        kpageflags; only the list of harvests comes from memzoned's log)"""
        def h(x):
            if not x["config"].startswith("e"):
                raise KeyError("no memzoned")
            return s(x)["harvest"]

        row("release_delay", lambda x: x.get("release_delay") or "–")
        row("harvested by memzoned (blocks)", lambda x: str(h(x)["harvested"]))
        row("… given back (Movable at the end)", lambda x: str(h(x)["given_back"]))
        row("… refused by the kernel (slab / page-table / reserved pages on it)", lambda x: "%d%s" % (
            h(x)["refused"], " (%s)" % " ".join("memory%d" % b for b in h(x)["refused_blocks"])
            if h(x)["refused_blocks"] else ""))
        row("… **kept while returnable** (none of those pages)", lambda x: "**%d**%s%s" % (
            h(x)["kept_returnable"], " (%s)" % " ".join("memory%d" % b for b in h(x)["kept_returnable_blocks"])
            if h(x)["kept_returnable_blocks"] else "",
            "; the kernel refused the offline of %d of them all the same (pages without a flag)" %
            h(x)["returnable_refused"] if h(x).get("returnable_refused") else ""))
        if any(s(x).get("giveback_at") for x in cols):
            def at(x):
                g = s(x)["giveback_at"]
                return " / ".join("–" if g.get(k) is None else str(g[k]) for k in ("60", "120", "300", "600"))
            row("… given back 1 / 2 / 5 / 10 min after the release", at)
        row("hot-added blocks in a kernel zone at the end: pinned / not pinned", lambda x: "%d / %d" % (
            s(x)["harvest"]["kernel_pinned"], s(x)["harvest"]["kernel_free"]))
        row("… offline when asked at the end: refused / done", lambda x: "%d / %d" % (
            s(x)["harvest"]["trial_refused"], s(x)["harvest"]["trial_ok"]))

    def plot_policy(self, recs):
        if not shutil.which("gnuplot"):
            self.w("_No plot: gnuplot is not installed (apt-get install gnuplot-nox)._")
            self.w()
            return
        by = {x["config"]: x for x in recs if x.get("run", 1) == 1 and x.get("samples")}
        right = "e" if "e" in by else next((c for c in ("e500", "e301") if c in by), "e")
        pairs = [c for c in ("a", right) if c in by]
        made = []
        if pairs:
            made += self.gnuplot("policy-quality", [by[c] for c in pairs], 2)
        allc = [by[c] for c in CONFIG_ORDER if c in by]
        if len(allc) > 2:
            made += self.gnuplot("policy-quality-all", allc, 3)
        if made:
            png = [m for m in made if m.endswith(".png")]
            rel = os.path.relpath(self.plots, os.path.dirname(os.path.abspath(self.out)))
            self.w("![scenario 4 over time](%s)" % os.path.join(rel, os.path.basename(png[0])))
            self.w()
            self.w("Left: (%s) the kernel's auto-movable policy; right: (%s). Kernel and Movable = managed memory of "
                   "the zones; kernel free vs the high watermark of the kernel zones; page tables = the ramp; moves "
                   "(right axis) = hot-added blocks changing zone. All configurations: `%s`. SVG versions next to "
                   "the PNGs." % (pairs[0], pairs[-1], os.path.join(rel, "policy-quality-all.png")))
            self.w()

    def gnuplot(self, name, recs, ncols):
        nrows = (len(recs) + ncols - 1) // ncols
        files = []
        for x in recs:
            p = os.path.join(self.rdir, "samples", x["samples"])
            if os.path.exists(p):
                files.append((x, p))
        if not files:
            return []
        ymax = xmax = 0
        phases = {}
        moves_max = 8
        for _, p in files:
            t, pt, oom = [], [], []
            with open(p) as f:
                for line in f:
                    c = line.split("\t")
                    if c[0].isdigit():
                        ymax = max(ymax, (int(c[1]) + int(c[6])) / 1024)
                        xmax = max(xmax, int(c[0]) / 1000)
                        moves_max = max(moves_max, int(c[19]))
                        t.append(int(c[0]) / 1000)
                        pt.append(int(c[8]))
                        oom.append(int(c[11]))
            phases[p] = ramp_phases(t, pt, bool(oom) and oom[-1] > oom[0])
        made = []
        for term, ext, size in (("pngcairo font 'DejaVu Sans,9'", "png", "%d,%d" % (560 * ncols, 400 * nrows)),
                                ("svg font 'DejaVu Sans,10' dynamic", "svg", "%d,%d" % (560 * ncols, 400 * nrows))):
            out = os.path.join(self.plots, "%s.%s" % (name, ext))
            gp = ["set terminal %s size %s" % (term, size), "set output '%s'" % out,
                  "set datafile separator '\\t'", "set termoption noenhanced",
                  "set key outside bottom center horizontal maxrows 2 font ',8' samplen 2",
                  "set multiplot layout %d,%d" % (nrows, ncols), "set xlabel 'seconds'", "set ylabel 'MiB'",
                  "set yrange [0:%d]" % (int(ymax * 1.1) + 1), "set y2label 'moves'", "set y2tics", "set ytics nomirror",
                  "set xrange [0:%d]" % (int(xmax / 10 + 1) * 10), "set y2range [0:%d]" % int(moves_max * 1.3 + 1),
                  "set grid"]
            for x, p in files:
                s = x.get("summary") or {}
                title = "(%s) %s\\n%s OOM kills, %s of %s hot-added blocks Movable after the release, device_del %s" % (
                    x["config"], x.get("desc", ""), s.get("oom_kills", "?"), s.get("movable_end", "?"),
                    x.get("blocks", "?"), "ok" if x.get("unplugged") else "failed")
                gp.append("set title \"%s\" font ',9'" % title.replace('"', "'"))
                gp.append("unset arrow")
                gp.append("unset label")
                for phase, at in phases[p]:
                    gp.append("set arrow from %g, graph 0 to %g, graph 1 nohead dt 3 lc rgb '#555555'" % (at, at))
                    gp.append("set label '%s' at %g, graph 0.97 offset 0.4, 0 font ',8' tc rgb '#555555'" % (phase, at))
                gp.append("prev = -1")
                gp.append("plot '%s' every ::1 using ($1/1000):($2/1024) with lines lw 2 lc rgb '#1f5fbf' title 'kernel managed', "
                          "'' every ::1 using ($1/1000):($7/1024) with lines lw 2 lc rgb '#2ca02c' title 'Movable managed', "
                          "'' every ::1 using ($1/1000):($3/1024) with lines lc rgb '#ff7f0e' title 'kernel free', "
                          "'' every ::1 using ($1/1000):($6/1024) with lines dt 2 lc rgb '#d62728' title 'kernel high watermark', "
                          "'' every ::1 using ($1/1000):($9/1024) with lines lc rgb '#7f7f7f' title 'page tables (ramp)', "
                          "'' every ::1 using ($1/1000):20 axes x1y2 with steps lw 2 lc rgb '#9467bd' title 'moves', "
                          "'' every ::1 using ($1/1000):(d = (prev >= 0 ? $12 - prev : 0), prev = $12, d > 0 ? %d : 1/0) "
                          "with points pt 7 ps 1.5 lc rgb 'black' title 'OOM kill'" % (p, int(ymax * 0.15)))
            gp.append("unset multiplot")
            res = subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", universal_newlines=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if res.returncode == 0 and os.path.exists(out):
                made.append(out)
            else:
                print("report: gnuplot %s: %s" % (out, res.stderr.strip()[-500:]), file=sys.stderr)
        return made

    # ---------------------------------------------------------------- 5
    def moves(self):
        recs = jsonl(os.path.join(self.rdir, "move.jsonl"))
        self.w("## 5. Move latency (VM)")
        self.w()
        mv = [x for x in recs if x.get("bench") == "move"]
        rc = [x for x in recs if x.get("bench") == "react"]
        if not mv and not rc:
            self.w("_Not run._")
            self.w()
            return
        if mv:
            self.w("One 128 MiB block at a time is the only block of ZONE_MOVABLE; it is filled with anonymous memory "
                   "(`loadgen anon`, page cache dropped; *in use* is read from zoneinfo), then `offline` (migrates "
                   "what is in use to the boot memory) and `online_kernel` are written and timed in the guest "
                   "(`mzprobe timewrite`: one write(2)). Boot memory 2 GiB, no memzone involved.")
            self.w()
            self.w("| kernel | fill | in use, % | offline, ms | online_kernel, ms | offline refused |")
            self.w("|---|---:|---:|---:|---:|---:|")
            for k in sorted({x["kernel"] for x in mv}):
                rel = next((x.get("kernel_release") for x in mv if x["kernel"] == k), k)
                for fill in sorted({x["fill_pct"] for x in mv}):
                    rs = [dict(kv.split("=", 1) for kv in x["line"].split()[1:]) for x in mv
                          if x["kernel"] == k and x["fill_pct"] == fill and x.get("line")]
                    num = lambda d, key: float(d[key]) if d.get(key) not in (None, "") else None  # noqa: E731
                    self.w("| %s | %d %% | %s | %s | %s | %d |" % (
                        rel, fill, fmt_stat(benchlib.summary([num(d, "used_pct") for d in rs]), digits=1),
                        fmt_stat(benchlib.summary([num(d, "offline_us") for d in rs]), 1e-3, 1),
                        fmt_stat(benchlib.summary([num(d, "online_kernel_us") for d in rs]), 1e-3, 1),
                        sum(1 for d in rs if d.get("offline_rc") != "0")))
            self.w()
        if rc:
            self.w("memzoned's reaction: boot 1 GiB, a 2 GiB DIMM onlined Movable by memzone's rule, memzoned with "
                   "the built-in defaults (interval 1 s, floor = high watermark + 64 MiB), 15 s of warm-up, then "
                   "page tables are loaded while the guest samples every 100 ms. *step*: 768 MiB as fast as the "
                   "guest faults them; *ramp*: a steady rate up to 1 GiB. Onset = first sample with kernel free "
                   "below the floor; conversion = first sample with a hot-added block in a kernel zone.")
            self.w()
            self.w("| kernel | load | runs | onset → first conversion, s | load start → first conversion, s | "
                   "lowest kernel free − floor, MiB | OOM kills |")
            self.w("|---|---|---:|---:|---:|---:|---:|")
            for k in sorted({x["kernel"] for x in rc}):
                for shape in ("step", "ramp"):
                    rs = [x["result"] for x in rc if x["kernel"] == k and x.get("shape") == shape]
                    if not rs:
                        continue
                    load = next(x.get("load") for x in rc if x["kernel"] == k and x.get("shape") == shape)
                    react = benchlib.summary([r.get("reaction_ms") for r in rs])
                    nonset = sum(1 for r in rs if r.get("onset_ms") is None and r.get("first_move_ms") is not None)
                    self.w("| %s | %s: `%s` | %d | %s%s | %s | %s | %d |" % (
                        k, shape, load, len(rs), fmt_stat(react, 1e-3, 1),
                        " (%d run(s) converted before the floor was ever crossed)" % nonset if nonset else "",
                        fmt_stat(benchlib.summary([r.get("from_load_ms") for r in rs]), 1e-3, 1),
                        fmt_stat(benchlib.summary([r.get("min_margin_kib") for r in rs]), 1 / 1024, 0),
                        sum(int(r.get("oom_kills") or 0) for r in rs)))
                    # a run meets the target when the first conversion came at most 2 intervals after the
                    # floor was crossed, or before it was ever crossed (memzoned acted on the trend)
                    good = [r for r in rs if r.get("first_move_ms") is not None and
                            (r.get("onset_ms") is None or r["first_move_ms"] - r["onset_ms"] <= 2000)]
                    early = [r for r in rs if r.get("first_move_ms") is not None and
                             (r.get("onset_ms") is None or r["first_move_ms"] < r["onset_ms"])]
                    self.summary.append((
                        "pressure onset → first conversion (memzoned, %s, %s load)" % (k, shape), "≤ 2 intervals (2 s)",
                        "%d of %d runs converted before kernel free reached the floor%s; load start → first "
                        "conversion %s s" % (len(early), len(rs),
                                             ", the others %s s after" % fmt_stat(react, 1e-3, 1) if react else "",
                                             fmt_stat(benchlib.summary([r.get("from_load_ms") for r in rs]), 1e-3, 1)),
                        verdict(len(good) == len(rs))))
            self.w()
        if mv:
            for fill in sorted({x["fill_pct"] for x in mv}):
                rs = [dict(kv.split("=", 1) for kv in x["line"].split()[1:]) for x in mv
                      if x["fill_pct"] == fill and x.get("line")]
                s = benchlib.summary([float(d["offline_us"]) for d in rs if d.get("offline_us")])
                if s:
                    self.facts.setdefault("offline_ms", {})[fill] = s["median"] / 1000
                    self.summary.append(("offline a 128 MiB Movable block, %d %% in use" % fill, "–",
                                         "%.0f ms" % (s["median"] / 1000), "–"))

    # ---------------------------------------------------------------- interpretation
    def interpretation(self):
        f = self.facts
        out = []
        hs = f.get("helper") or {}
        h = hs.get("first")
        if h:
            share = (" %.0f %% of them (%s) are what any run of the binary costs: process start and the dynamic "
                     "loader mapping and relocating %s (`memzone --version`)." % (
                         100 * hs["base"] / h["instr"], "{:,}".format(int(hs["base"])),
                         libs_text(f.get("libraries")))) if hs.get("base") else ""
            later = hs.get("later")
            out.append("**Helper cost does not grow with the machine** (t(%d)/t(%d) = %s in instructions%s): "
                       "the helper reads one block, its device and per-node totals, never the list of blocks. "
                       "%s is %s instructions, %.1f ms of CPU on this host%s.%s" % (
                           h["blocks"], h["small"],
                           " and ".join("%.3f" % x for x in h["ratios"] + (later["ratios"] if later else [])),
                           ", first and later events" if later else "",
                           "The first block's event" if h["old"] else
                           "The first event of a 64-block device (64 decisions)", "{:,}".format(int(h["instr"])),
                           h["cpu_us"] / 1000,
                           "; a later event whose block was swept, %s instructions, %.1f ms" % (
                               "{:,}".format(int(later["instr"])), later["cpu_us"] / 1000) if later else "",
                           share))
        kr = f.get("hotadd_kernel")
        g = f.get("guest")
        if kr:
            worst, best = max(x[2] for x in kr), min(x[2] for x in kr)
            met = sum(x[2] <= 1.1 for x in kr)
            txt = ("**Hot-add: memzone's rule%s is %.1f–%.1f× the kernel's own onlining time** (target ≤ 1.1×, met "
                   "in %d of %d cases). udev handles every block's event; memzone's first helper of a device "
                   "onlines all of the device's offline blocks under one lock hold (a decision for each), and the "
                   "rule starts no process for the events of blocks it onlined ahead of them (their marker in "
                   "`/run/memzone/onlined`). What remains over the kernel is the decisions themselves and the "
                   "helpers udev started before the sweep had marked their blocks (each takes its marker and "
                   "exits); the plain rule writes `state` from udevd's worker without any process." % (
                       " (its helper, memzoned not running)" if f.get("hotadd_memzoned_kernel") else "",
                       best, worst, met, len(kr)))
            if g:
                k0 = sorted(g)[0]
                gk = g[k0]
                if gk.get("leave") and gk.get("kernel-online") and gk.get("version") and gk.get("true"):
                    txt += (" In this TCG guest (%s) a helper run costs ~%.0f ms: ~%.0f ms for any process "
                            "(`/bin/true`), ~%.0f ms more for memzone's loader and libraries, ~%.0f ms for its "
                            "own work; the kernel onlines a 128 MiB block in ~%.1f ms." % (
                                k0, gk["leave"] / 1000, gk["true"] / 1000, (gk["version"] - gk["true"]) / 1000,
                                (gk["leave"] - gk["version"]) / 1000, gk["kernel-online"] / 1000))
            if h and not h["old"]:
                txt += (" On this host's CPU without emulation the first event of a 64-block device, which decides "
                        "and onlines all of it, is ~%.1f ms of CPU (section 1, fixture tree without the kernel's "
                        "work); whether the whole is within 1.1× of the kernel on real hardware could not be "
                        "measured here (no KVM)." % (h["cpu_us"] / 1000))
            out.append(txt)
        dk = f.get("hotadd_memzoned_kernel")
        if dk:
            worst, best = max(x[2] for x in dk), min(x[2] for x in dk)
            met = sum(x[2] <= 1.1 for x in dk)
            dm = f.get("hotadd_memzoned_memzone") or []
            runs = f.get("memzoned_runs") or {}
            txt = ("**Hot-add with memzoned running: %.2f–%.2f× the kernel's own onlining time** (target ≤ 1.1×, "
                   "met in %d of %d cases%s). memzoned hears the kernel's own uevents (the netlink datagrams udevd "
                   "reads too) and decides the new blocks in its already running process, with the helper's code "
                   "under the same lock; the rule skips the helper while `/run/memzone/memzoned.online` resolves, "
                   "so the hot-add starts no process: none of the process starts, loader and libraries that make "
                   "the helper path slow. What remains over the kernel is memzoned's own work per block: reading "
                   "the uevent, deciding, and the write of `state` that the kernel's auto-online does inside the "
                   "add itself." % (
                       best, worst, met, len(dk),
                       "; %.2f–%.2f× memzone's helper path in the same boots" % (
                           min(x[2] for x in dm), max(x[2] for x in dm)) if dm else ""))
            dp = {(lab, k): r for lab, k, r in f.get("hotadd_memzoned_plain") or []}
            missed = [(lab, k, r) for lab, k, r in dk if r > 1.1 and (lab, k) in dp]
            if missed:
                txt += (" Where it misses, memzoned is %s the plain rule in the same boots (a udev rule writing "
                        "`state` from udevd's worker: no process, no decision, the cheapest onlining from "
                        "userspace), which there is itself ~%s the kernel: what is left is onlining from userspace "
                        "as such (the device's adds and each online from userspace take the memory-hotplug lock "
                        "in turn; the kernel's auto-online onlines inside the add), not memzone's decisions." % (
                            ", ".join("%.2f× (%s, %s)" % (dp[(lab, k)], lab.split(" 8 GiB")[0], k)
                                      for lab, k, r in missed),
                            ", ".join("%.2f×" % (r / dp[(lab, k)]) for lab, k, r in missed)))
            if runs.get("counted"):
                if runs["no_helper"] == runs["counted"] and runs["all_decided"] == runs["n"]:
                    txt += (" In each of its %d hot-adds memzoned logged a decision for every new block and the "
                            "kernel log showed no helper." % runs["n"])
                else:
                    txt += (" Of its %d hot-adds, memzoned logged a decision for every new block in %d; the kernel "
                            "log showed helper lines in %d (section 3)." % (
                                runs["n"], runs["all_decided"], runs["counted"] - runs["no_helper"]))
            out.append(txt)
        pol = f.get("policy") or {}
        if pol:
            others = ", ".join("(%s) %s" % (c, "OOM" if not v["no_oom"] else "%.0f %% unpluggable" % v["unpl"])
                               for c, v in pol.items() if not c.startswith("e"))
            out.append("**Policy quality**: the comparison columns each fail one half of the trade-off: %s." % others)
            for c, v in pol.items():
                if not c.startswith("e"):
                    continue
                txt = "(%s) %s: %s, %.0f %% of the hot-added memory unpluggable after the release, device_del %s, " \
                      "%s moves." % (c, v["desc"], "no OOM" if v["no_oom"] else "**OOM or allocation failures**",
                                     v["unpl"], "succeeded" if v["unplugged"] else "failed", v["moves"])
                if v["unpl"] < 90 and v["pages"]:
                    per = [dict((k, int(n)) for k, n in re.findall(r"(\w+)=(\d+)", line))
                           for line in v["pages"].splitlines() if line.startswith("memory")]
                    pinned = [b.get("slab", 0) + b.get("pgtable", 0) for b in per]
                    txt += (" The %d blocks memzoned harvested during the ramp stayed in the kernel zone, their "
                            "offline refused (or not tried: memzoned skips blocks whose kpageflags show pages the "
                            "kernel cannot migrate) although each is %.1f–%.1f %% free: the ramp needs more kernel "
                            "memory than the boot zones hold, so the harvested blocks take kernel allocations while "
                            "it runs (in this guest they are also its only ZONE_NORMAL: the boot memory is "
                            "DMA/DMA32), and a few long-lived pages pin a block: %d–%d slab or page-table pages per "
                            "block (kpageflags in section 4). Neither waiting, retrying, the order of give-backs nor "
                            "dropping caches freed them in the VM, and a boot ZONE_NORMAL does not change it "
                            "(section 4b)." % (
                                len(per), min(100.0 * b.get("free", 0) / max(1, sum(b.values())) for b in per),
                                max(100.0 * b.get("free", 0) / max(1, sum(b.values())) for b in per),
                                min(pinned), max(pinned)) if per else "")
                if v["unpl"] < 90:
                    txt += (" A failed ACPI unplug also puts the blocks it had offlined back online with the kernel's "
                            "default online type (ZONE_NORMAL here), see *zones after device_del*.")
                out.append(txt)
        for lay, pl in sorted((f.get("policy_layouts") or {}).items()):
            if lay == "mixed":
                out += self.interpret_mixed(pl)
                continue
            label = LAYOUT_LABEL.get(lay, "in memory layout %s" % lay)
            parts = []
            for c, v in pl.items():
                t = "(%s) %s: %s, %.0f %% unpluggable, device_del %s, %s moves" % (
                    c, v["desc"], "no OOM" if v["no_oom"] else "**OOM or allocation failures**", v["unpl"],
                    "succeeded" if v["unplugged"] else "failed", v["moves"])
                per = [dict((k, int(n)) for k, n in re.findall(r"(\w+)=(\d+)", line))
                       for line in (v["pages"] or "").splitlines() if line.startswith("memory")]
                if v["unpl"] < 100 and per:
                    t += (" (the %d hot-added blocks left in a kernel zone: %.1f–%.1f %% free, %d–%d slab or "
                          "page-table pages per block)" % (
                              len(per), min(100.0 * b.get("free", 0) / max(1, sum(b.values())) for b in per),
                              max(100.0 * b.get("free", 0) / max(1, sum(b.values())) for b in per),
                              min(b.get("slab", 0) + b.get("pgtable", 0) for b in per),
                              max(b.get("slab", 0) + b.get("pgtable", 0) for b in per)))
                parts.append(t)
            txt = ("**Policy quality %s** (section 4b; not the issue's comparison, whose figures are the ones "
                   "above): %s." % (label, "; ".join(parts)))
            e = pl.get("e") or {}
            if e.get("peak_pt") and e.get("boot_kernel_mib") and e["peak_pt"] > e["boot_kernel_mib"]:
                txt += (" The ramp (%.0f MiB of page tables at its peak) is more than the kernel zones of the boot "
                        "memory manage (%d MiB), so in this layout too it needs hot-added blocks in ZONE_NORMAL, "
                        "whatever order the free lists hand pages out in." % (e["peak_pt"], e["boot_kernel_mib"]))
            out.append(txt)
        if not out:
            return
        self.w("## What the numbers say")
        self.w()
        for o in out:
            self.w("- " + o)
        self.w()

    @staticmethod
    def interpret_mixed(pl):
        """section 4c in a few lines per kernel: where the harvests went, what came back and when, per
        release_delay (fact keys are "CONFIG" or, with several kernels, "CONFIG [KERNEL]")"""
        out = []
        kernels = sorted(set(c.partition(" ")[2].strip("[]") for c in pl))
        for k in kernels:
            mine = {c.partition(" ")[0]: v for c, v in pl.items() if c.partition(" ")[2].strip("[]") == k}
            parts = []
            for c in sorted(mine, key=lambda c: (CONFIG_ORDER.index(c) if c in CONFIG_ORDER else 99, c)):
                v = mine[c]
                h, devs = v.get("harvest"), v.get("devices") or []
                if not c.startswith("e") or not h:
                    parts.append("(%s) %s: %s; %s" % (c, v["desc"], "no OOM" if v["no_oom"] else "**OOM or allocation "
                                                      "failures** (%s OOM kills)" % v.get("oom_kills", "?"),
                                                      ", ".join(fmt_device(d) for d in devs) or "?"))
                    continue
                where = ", ".join("%d from %s" % (d["harvested"], d["id"]) for d in devs if d.get("harvested"))
                g = v.get("giveback_at") or {}
                parts.append("(%s) release_delay %s: %s, %d blocks harvested (%s), back in Movable after 1 / 2 / 5 / "
                             "10 min: %s; at the end %d given back, %d refused by the kernel, **%d kept while "
                             "returnable**%s; %s" % (
                                 c, v.get("release_delay") or "?", "no OOM" if v["no_oom"] else "**OOM or "
                                 "allocation failures**", h["harvested"], where or "none",
                                 " / ".join("–" if g.get(t) is None else str(g[t]) for t in ("60", "120", "300", "600")),
                                 h["given_back"], h["refused"], h["kept_returnable"],
                                 " (whose offline the kernel refused when asked: %d)" % h["returnable_refused"]
                                 if h.get("returnable_refused") else "",
                                 ", ".join(fmt_device(d) for d in devs) or "?"))
            if not parts:
                continue
            txt = "**Harvested blocks with virtio-mem and two DIMMs%s** (section 4c): %s." % (
                ", kernel " + k if k else "", "; ".join(parts))
            es = [(c, v) for c, v in mine.items() if c.startswith("e") and v.get("harvest")]
            if len(es) > 1:
                lo = min(v["harvest"]["refused"] for _, v in es)
                hi = max(v["harvest"]["refused"] for _, v in es)
                txt += (" Harvested blocks left pinned at the end: %d–%d across the release_delay settings (fewest: "
                        "%s)." % (lo, hi, ", ".join("(%s)" % c for c, v in es if v["harvest"]["refused"] == lo)))
            out.append(txt)
        return out

    # ---------------------------------------------------------------- out
    def write(self):
        self.header()
        body_start = len(self.lines)
        self.helper_cost()
        self.daemon()
        self.lockhold()
        self.hotadd()
        self.policy()
        self.moves()
        notes = self.meta.get("notes") or []
        if notes:
            self.w("## Notes")
            self.w()
            for n in notes:
                self.w("- " + n)
            self.w()
        body = self.lines[body_start:]
        self.lines = self.lines[:body_start]
        self.w("## Summary against the issue's targets")
        self.w()
        self.w("| claim | target | measured | verdict |")
        self.w("|---|---|---|---|")
        for c in self.summary:
            self.w("| %s | %s | %s | %s |" % c)
        self.w()
        self.interpretation()
        self.lines += body
        with open(self.out + ".tmp", "w") as f:
            f.write("\n".join(self.lines).rstrip("\n") + "\n")
        os.replace(self.out + ".tmp", self.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("out")
    ap.add_argument("--plots")
    a = ap.parse_args()
    plots = a.plots or os.path.dirname(os.path.abspath(a.out))
    os.makedirs(plots, exist_ok=True)
    Report(a.results, a.out, plots).write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
