#!/usr/bin/env python3
"""policy-summary.py SAMPLES.tsv - the figures of one policy-quality run, from the guest sampler's
table (mzprobe sample), as one JSON object:
  oom_kills            vmstat oom_kill, last - first
  allocstall           kernel-zone direct-reclaim stalls, last - first
  min_kernel_margin_mib lowest (kernel free - kernel high watermark) seen
  max_psi_some10       highest PSI memory "some avg10"
  peak_pagetables_mib  highest PageTables (how far the ramp got)
  moves                zone changes of hot-added blocks during the samples
  movable_end / kernel_end / offline_end   hot-added blocks by zone at the last sample
"""
import json
import sys


def main():
    rows, header = [], None
    with open(sys.argv[1]) as f:
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
    print(json.dumps({
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
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
