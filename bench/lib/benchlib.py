"""benchlib.py - what every memzone benchmark script shares: statistics, host facts, result files.

Results are JSON files (one per benchmark) in an output directory; bench/report.py turns them into
bench/RESULTS.md. Python 3 standard library only.
"""
import json
import os
import platform
import statistics
import subprocess
import time


def summary(values):
    """{"median", "min", "max", "n"} of a list of numbers (None for an empty list)."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def ratio(a, b):
    """a / b, or None when either is missing or b is zero."""
    if a is None or b in (None, 0):
        return None
    return a / b


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return None


def host_facts():
    """What the numbers were measured on: CPU, CPUs, kernel, memory, load at the time."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "mem_gib": round(mem_kb / 1048576, 1) if mem_kb else None,
        "loadavg": loadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def tool_version(argv):
    """First line of `argv` output, or None when the tool is missing."""
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20,
                             universal_newlines=True).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.splitlines()[0].strip() if out else None


def write_result(path, result):
    """Write one benchmark's result atomically (a half-written file must not reach the report)."""
    result.setdefault("host", host_facts())
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def read_result(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
