#!/usr/bin/env python3
"""compact.py RAW > TRACE - keep what the pressure replay reads from a raw trace of record.sh.

Every sample keeps, verbatim and in order, the lines the pressure model reads: for each zone with
memory its zoneinfo header, free pages, watermarks and sizes (empty zones are dropped); the
unmovable-memory lines of node meminfo; the allocation/compaction stall and oom_kill counters of
vmstat; PSI.
The first and the last sample are kept whole ("@@T MS raw"), so the replay can check that the
trimmed text parses to the same numbers as the full text. Times become milliseconds of uptime.
"""
import re
import sys

ZONEINFO_KEEP = ('Node', 'pages', 'min', 'low', 'high', 'spanned', 'present', 'managed')
MEMINFO_KEEP = ('KernelStack', 'PageTables', 'SecPageTables', 'SUnreclaim')
VMSTAT_KEEP = re.compile(r'^(allocstall\w*|compactstall|oom_kill) ')


FILES = {'/proc/zoneinfo': 'zoneinfo', '/sys/devices/system/node/node0/meminfo': 'meminfo',
         '/proc/vmstat': 'vmstat', '/proc/pressure/memory': 'psi'}


def empty_zones(lines):
    """indexes of the lines of zones with no managed pages"""
    drop, start, managed = set(), None, None
    for i, l in enumerate(lines + ['Node end']):
        w = l.split()
        if w and w[0] == 'Node':
            if start is not None and managed == 0:
                drop.update(range(start, i))
            start, managed = i, None
        elif w[:1] == ['managed'] and len(w) == 2:
            managed = int(w[1])
    return drop


def keep(name, line):
    w = line.split()
    if not w:
        return False
    if name == 'zoneinfo':
        return w[0] in ZONEINFO_KEEP
    if name == 'meminfo':
        key = w[2] if w[0] == 'Node' and len(w) > 2 else w[0]
        return key.rstrip(':') in MEMINFO_KEEP
    if name == 'vmstat':
        return bool(VMSTAT_KEEP.match(line))
    return True


def main():
    samples, events, log = [], [], []
    cur = None
    fname = None
    for line in open(sys.argv[1], errors='replace'):
        line = line.rstrip('\n')
        if line.startswith('@@T '):
            cur = {'t': int(round(float(line.split()[1]) * 1000)), 'files': [], 'events': []}
            samples.append(cur)
            fname = None
        elif line.startswith('@@F ') or (line.startswith('==> ') and line.endswith(' <==')):
            fname = line[4:].strip() if line.startswith('@@F ') else FILES.get(line[4:-4], line[4:-4])
            cur['files'].append((fname, []))
        elif line.startswith('@@E '):
            (cur['events'] if cur else events).append(line)
        elif line.startswith('@@L '):
            log.append(line)
        elif cur is not None and fname is not None:
            cur['files'][-1][1].append(line)
    out = sys.stdout
    out.write('# memzone pressure trace v1 (tests/traces/record.sh + compact.py)\n')
    for i, s in enumerate(samples):
        raw = i == 0 or i == len(samples) - 1
        out.write('@@T %d%s\n' % (s['t'], ' raw' if raw else ''))
        for name, lines in s['files']:
            out.write('@@F %s\n' % name)
            while lines and not lines[-1].strip():   # the blank line head puts between files
                lines.pop()
            drop = empty_zones(lines) if name == 'zoneinfo' and not raw else set()
            for i, l in enumerate(lines):
                if i not in drop and (raw or keep(name, l)):
                    out.write(l + '\n')
        for e in s['events']:
            out.write(e + '\n')
    for l in log:
        out.write(l + '\n')


if __name__ == '__main__':
    main()
