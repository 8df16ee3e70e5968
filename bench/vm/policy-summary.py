#!/usr/bin/env python3
"""policy-summary.py SAMPLES.tsv [--oom-end N] [--blocks B.tsv] [--devices D.tsv] [--giveback G.tsv] -
the figures of one policy-quality run as one JSON object. From the guest sampler's table (mzprobe sample):
  oom_kills            vmstat oom_kill, last - first (or --oom-end, vmstat's count read after the
                       samples, - first, when larger)
  allocstall           kernel-zone direct-reclaim stalls, last - first
  min_kernel_margin_mib lowest (kernel free - kernel high watermark) seen
  max_psi_some10       highest PSI memory "some avg10"
  peak_pagetables_mib  highest PageTables (how far the ramp got)
  moves                zone changes of hot-added blocks during the samples
  movable_end / kernel_end / offline_end   hot-added blocks by zone at the last sample
  spike_moves          hot-added blocks that went to a kernel zone / back to Movable before the release
                       (page tables below half their peak after it): give-backs in the middle of a
                       spike that are harvested again seconds later are churn
From the guest's block table (--blocks; guest-funcs.sh pq_block_table: block, device, zone, harvested
0/1, kpageflags classes or "-", the kernel's answer to an offline or "-"), "harvest":
  harvested            blocks memzoned moved out of Movable (its log; their zones are the guest's)
  given_back           of them, in Movable at the end
  refused              of them, in a kernel zone with slab, page-table or reserved pages (the kernel
                       cannot migrate those: it refuses the offline)
  kept_returnable      of them, in a kernel zone with no such page: memzoned kept a block the kernel
                       would take back (0 for a good policy)
  offline_end          of them, offline at the end
  kernel_pinned / kernel_free   every hot-added block in a kernel zone, harvested or not: with / without
                       such pages (meaningful without memzoned too)
  trial_refused / trial_ok      of the hot-added blocks in a kernel zone, those whose offline the kernel
                       refused / did when asked: the check of the kpageflags verdict
  returnable_refused   kept_returnable blocks whose offline the kernel refused all the same (pages
                       without a flag, e.g. vmalloc)
and "devices" (--devices; policy-quality.sh unplug_devices: id, kind, MiB, unplugged, seconds[,
virtio-mem plugged MiB before and after]) with each device's blocks, its blocks in a kernel zone and
its harvested blocks at the end. From the give-back timeline (--giveback: ms since the release,
harvested so far, of them Movable, ...), "giveback_at": harvested blocks in Movable 1, 2, 5 and 10 min
after the release (the last sample at or before; null past the end of the watch, unless the watch
ended early with every harvested block back, which stays so).
"""
import json
import sys

PINNING = ("slab", "pgtable", "reserved")
GIVEBACK_AT_S = (60, 120, 300, 600)


def tsv(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def block_figures(path):
    rows = []
    for c in tsv(path):
        if len(c) < 6 or not c[0].isdigit():
            continue
        pages = {}
        if c[4] != "-":
            for kv in c[4].split():
                k, _, v = kv.partition("=")
                if v.isdigit():
                    pages[k] = int(v)
        kernel = c[2] not in ("Movable", "offline")
        rows.append({"block": int(c[0]), "device": c[1], "zone": c[2], "harvested": c[3] == "1", "kernel": kernel,
                     "pinned": kernel and sum(pages.get(k, 0) for k in PINNING) > 0, "trial": c[5]})
    h = [r for r in rows if r["harvested"]]
    hk = [r for r in h if r["kernel"]]
    k = [r for r in rows if r["kernel"]]
    tried = [r for r in k if r["trial"] != "-"]
    harvest = {
        "harvested": len(h),
        "given_back": sum(r["zone"] == "Movable" for r in h),
        "refused": sum(r["pinned"] for r in hk),
        "kept_returnable": sum(not r["pinned"] for r in hk),
        "offline_end": sum(r["zone"] == "offline" for r in h),
        "kernel_pinned": sum(r["pinned"] for r in k),
        "kernel_free": sum(not r["pinned"] for r in k),
        "trial_ok": sum(r["trial"] == "ok" or r["trial"].startswith("ok-") for r in tried),
        "trial_refused": sum(not (r["trial"] == "ok" or r["trial"].startswith("ok-")) for r in tried),
        "returnable_refused": sum(not r["pinned"] and r["trial"] not in ("-", "ok") and not r["trial"].startswith("ok-")
                                  for r in hk),
        "refused_blocks": sorted(r["block"] for r in hk if r["pinned"]),
        "kept_returnable_blocks": sorted(r["block"] for r in hk if not r["pinned"]),
    }
    return rows, harvest


def device_figures(path, rows):
    out = []
    for c in tsv(path):
        if len(c) < 5:
            continue
        mine = [r for r in rows if r["device"] == c[0]]
        d = {"id": c[0], "kind": c[1], "mib": int(c[2]), "unplugged": c[3] == "true", "seconds": float(c[4]),
             "blocks": len(mine), "kernel_end": sum(r["kernel"] for r in mine),
             "pinned_end": sum(r["pinned"] for r in mine),
             "harvested": sum(r["harvested"] for r in mine),
             "harvested_kernel_end": sum(r["harvested"] and r["kernel"] for r in mine)}
        if len(c) >= 7:
            d["plugged_before_mib"], d["plugged_after_mib"] = int(c[5]), int(c[6])
        out.append(d)
    return out


def giveback_figures(path):
    tl = []
    for c in tsv(path):
        if len(c) >= 3 and all(x.isdigit() for x in c[:3]):
            tl.append((int(c[0]), int(c[1]), int(c[2])))
    if not tl:
        return None, None
    tl.sort()
    end_ms, end_h, end_m = tl[-1]
    at = {}
    for s in GIVEBACK_AT_S:
        before = [x for x in tl if x[0] <= s * 1000]
        if s * 1000 > end_ms + 10000:
            # past the watch: known only when every harvested block was back (it stays so)
            at[str(s)] = end_m if end_h and end_m == end_h else None
        else:
            at[str(s)] = before[-1][2] if before else 0
    return at, {"watch_s": round(end_ms / 1000), "harvested": end_h, "given_back": end_m}


def main():
    args = {"--blocks": None, "--devices": None, "--giveback": None, "--oom-end": None}
    argv = sys.argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    samples = argv.pop(0)
    while argv:
        k = argv.pop(0)
        if k not in args or not argv:
            print(__doc__, file=sys.stderr)
            return 2
        args[k] = argv.pop(0)
    rows, header = [], None
    with open(samples) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if header is None:
                if fields and fields[0] == "t_ms":
                    header = fields
                continue
            if len(fields) != len(header):
                continue
            try:
                rows.append({k: float(v) for k, v in zip(header, fields)})
            except ValueError:
                continue
    if not rows:
        print(json.dumps({"error": "no samples"}))
        return 1
    first, last = rows[0], rows[-1]
    out = {
        "samples": len(rows),
        "duration_s": last["t_ms"] / 1000,
        "oom_kills": int(last["oom_kill"] - first["oom_kill"]),
        "allocstall": int(last["allocstall"] - first["allocstall"]),
        "min_kernel_margin_mib": round(min(r["kern_free_kb"] - r["kern_high_kb"] for r in rows) / 1024, 1),
        "max_psi_some10": max(r["psi_some10"] for r in rows),
        "peak_pagetables_mib": round(max(r["pagetables_kb"] for r in rows) / 1024, 1),
        "moves": int(last["moves"]),
        "movable_end": int(last["hot_movable"]),
        "kernel_end": int(last["hot_kernel"]),
        "offline_end": int(last["hot_offline"]),
        "max_kernel_managed_mib": round(max(r["kern_managed_kb"] for r in rows) / 1024, 1),
    }
    peak_i = max(range(len(rows)), key=lambda i: rows[i]["pagetables_kb"])
    rel_i = next((i for i in range(peak_i, len(rows)) if rows[i]["pagetables_kb"] < rows[peak_i]["pagetables_kb"] / 2),
                 len(rows))
    to_k = to_m = 0
    for a, b in zip(rows[:rel_i], rows[1:rel_i]):
        d = int(b["hot_kernel"] - a["hot_kernel"])
        to_k, to_m = to_k + max(d, 0), to_m + max(-d, 0)
    out["spike_moves"] = {"to_kernel": to_k, "to_movable": to_m}
    if args["--oom-end"] is not None:
        # vmstat's oom_kill at the end, read after the samples: kills the sampler did not see (itself)
        out["oom_kills"] = max(out["oom_kills"], int(args["--oom-end"]) - int(first["oom_kill"]))
    blocks = []
    if args["--blocks"]:
        blocks, out["harvest"] = block_figures(args["--blocks"])
    if args["--devices"]:
        out["devices"] = device_figures(args["--devices"], blocks)
    if args["--giveback"]:
        at, end = giveback_figures(args["--giveback"])
        if at is not None:
            out["giveback_at"], out["giveback_end"] = at, end
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
