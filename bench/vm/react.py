#!/usr/bin/env python3
"""react.py HEADROOM_KIB < samples.tsv - pressure onset and memzoned's first conversion, from the
guest sampler's table (mzprobe sample), as one JSON object:
  load_ms         first sample with page tables 8 MiB above the first sample's (the load began)
  onset_ms        first sample with kernel-zone free < high watermark + HEADROOM_KIB (memzoned's floor)
  first_move_ms   first sample with more hot-added blocks in a kernel zone than at the start
  reaction_ms     first_move_ms - onset_ms (negative: the conversion came before the floor was crossed,
                  e.g. on the unmovable-memory trend)
  min_margin_kib  lowest kernel free - (high + headroom) seen; oom_kills during the samples
"""
import json
import sys


def main():
    headroom = int(sys.argv[1]) if len(sys.argv) > 1 else 65536
    rows = []
    header = None
    for line in sys.stdin:
        f = line.rstrip("\n").split("\t")
        if header is None:
            if f and f[0] == "t_ms":
                header = f
            continue
        if len(f) != len(header):
            continue
        try:
            rows.append({k: float(v) for k, v in zip(header, f)})
        except ValueError:
            continue
    if not rows:
        print(json.dumps({"error": "no samples"}))
        return 1
    k0 = rows[0]["hot_kernel"]
    onset = next((r["t_ms"] for r in rows if r["kern_free_kb"] < r["kern_high_kb"] + headroom), None)
    pt0 = rows[0]["pagetables_kb"]
    load = next((r["t_ms"] for r in rows if r["pagetables_kb"] >= pt0 + 8192), None)
    move = next((r["t_ms"] for r in rows if r["hot_kernel"] > k0), None)
    res = {
        "samples": len(rows),
        "duration_ms": rows[-1]["t_ms"],
        "load_ms": load,
        "onset_ms": onset,
        "first_move_ms": move,
        "reaction_ms": move - onset if onset is not None and move is not None else None,
        "from_load_ms": move - load if load is not None and move is not None else None,
        "min_margin_kib": min(r["kern_free_kb"] - r["kern_high_kb"] - headroom for r in rows),
        "oom_kills": rows[-1]["oom_kill"] - rows[0]["oom_kill"],
        "moves": rows[-1]["moves"],
    }
    print(json.dumps(res, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
