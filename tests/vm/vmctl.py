#!/usr/bin/env python3
"""vmctl.py - host side of the memzone VM test harness (QMP + guest control channel).

  vmctl.py qmp SOCK [--timeout S] [--wait-event NAME[:DEVICE]] JSON...
      Sends each QMP command (after qmp_capabilities) and prints one line per reply (the "return"
      value as JSON, or the whole reply when it is an error).  Exit 1 if any reply was an error.
      --wait-event: after the commands, wait on the same connection (QMP events only reach the
      connection open at that moment) for an event NAME, optionally with data.device == DEVICE.
      Exit 2 on timeout (the events seen are listed on stderr).  VMCTL_EVENTS=1 logs every event.
  vmctl.py ctl SOCK [--timeout S] SCRIPT
      Runs SCRIPT with sh in the guest (ttyS1 protocol: "<id> <base64>\\n" -> output + "@@RC <id> <rc>\\n"),
      prints its output, exits with its exit code (2 on timeout, 255 if the channel closed).
"""
import base64
import json
import os
import re
import socket
import sys
import time


def usage():
    sys.exit(__doc__)


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        usage()
    mode, sock = args[0], args[1]
    args = args[2:]
    wait_event, timeout = None, 60.0
    while args and args[0].startswith('--'):
        if len(args) < 2:
            usage()
        if args[0] == '--wait-event':
            wait_event = args[1]
        elif args[0] == '--timeout':
            timeout = float(args[1])
        else:
            usage()
        args = args[2:]
    deadline = time.monotonic() + timeout
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        if mode == 'qmp':
            return qmp(s, args, wait_event, deadline)
        if mode == 'ctl':
            if len(args) != 1:
                usage()
            return ctl(s, args[0], deadline)
        usage()
    except socket.timeout:
        print('vmctl: %s timeout after %.0fs' % (mode, timeout), file=sys.stderr)
        return 2
    except (ConnectionError, FileNotFoundError) as e:
        print('vmctl: %s: %s' % (mode, e), file=sys.stderr)
        return 255


def qmp(s, cmds, wait_event, deadline):
    f = s.makefile('rw')
    seen = []

    def msg():
        s.settimeout(max(0.1, deadline - time.monotonic()))
        line = f.readline()
        if not line:
            raise ConnectionError('qmp connection closed')
        m = json.loads(line)
        if 'event' in m:
            seen.append(m)
            if os.environ.get('VMCTL_EVENTS'):
                print('  qmp event: %s' % json.dumps(m), file=sys.stderr)
        return m

    def reply():
        while True:
            m = msg()
            if 'event' not in m:
                return m

    reply()  # greeting
    f.write('{"execute":"qmp_capabilities"}\n')
    f.flush()
    reply()
    rc = 0
    for c in cmds:
        f.write(c + '\n')
        f.flush()
        r = reply()
        if 'error' in r:
            rc = 1
            print(json.dumps(r))
        else:
            print(json.dumps(r.get('return')))
    if wait_event and rc == 0:
        name, _, dev = wait_event.partition(':')

        def match(ev):
            return ev['event'] == name and (not dev or ev.get('data', {}).get('device') == dev)

        try:
            while not any(match(e) for e in seen):
                if time.monotonic() > deadline:
                    raise socket.timeout()
                msg()
        except socket.timeout:
            print('vmctl: no %s; events seen: %s' % (wait_event, json.dumps([e['event'] for e in seen])),
                  file=sys.stderr)
            raise
    return rc


def ctl(s, script, deadline):
    cid = '%d%d' % (os.getpid(), int(time.monotonic() * 1000) % 100000)
    s.sendall(('%s %s\n' % (cid, base64.b64encode(script.encode()).decode())).encode())
    buf = b''
    pat = re.compile(rb'@@RC ' + cid.encode() + rb' (\d+)\n')
    while True:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        d = s.recv(65536)
        if not d:
            sys.stdout.write(buf.decode(errors='replace'))
            print('vmctl: control channel closed', file=sys.stderr)
            return 255
        buf += d
        m = pat.search(buf)
        if m:
            break
    # drop replies of earlier commands that timed out on the host side
    out = re.sub(rb'@@RC \d+ \d+\n', b'', buf[:m.start()])
    sys.stdout.write(out.decode(errors='replace'))
    return int(m.group(1))


if __name__ == '__main__':
    sys.exit(main())
