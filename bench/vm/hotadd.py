#!/usr/bin/env python3
"""hotadd.py - time one hot-add in the benchmark VM, from the QMP command to the last block online.

  hotadd.py VM_DIR NEW_BLOCKS TIMEOUT_S QMP_JSON...

Opens QMP (VM_DIR/qmp.sock) and the guest control channel (VM_DIR/ctl.sock, protocol of
tests/vm/vmctl.py), starts `mzprobe uevents --new NEW_BLOCKS` in the guest and waits for its READY,
then sends the QMP commands back to back (each waits for its reply) and waits for the probe's DONE.
Prints one JSON object:
  host_ms   first QMP command sent -> DONE line received (host CLOCK_MONOTONIC)
  qmp_ms    first QMP command sent -> last QMP reply
  guest     the probe's DONE fields (ms after its READY, guest clock): first_add_ms, last_add_ms,
            all_online_ms, added, online_events, zones
Exit 1 when a QMP command failed or the probe timed out (the JSON then has "error").
"""
import base64
import json
import os
import re
import socket
import sys
import time


def qmp_open(path, timeout):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    f = s.makefile("rw")

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise ConnectionError("QMP connection closed")
            m = json.loads(line)
            if "event" not in m:
                return m

    reply()  # greeting
    f.write('{"execute":"qmp_capabilities"}\n')
    f.flush()
    reply()
    return s, f, reply


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    vm_dir, new, timeout, cmds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
    qs, qf, qreply = qmp_open(os.path.join(vm_dir, "qmp.sock"), timeout)
    cs = socket.socket(socket.AF_UNIX)
    cs.settimeout(timeout + 30)
    cs.connect(os.path.join(vm_dir, "ctl.sock"))
    cid = "hb%d%d" % (os.getpid(), int(time.monotonic() * 1000) % 100000)
    script = "mzprobe uevents --new %d --timeout %g" % (new, timeout)
    cs.sendall(("%s %s\n" % (cid, base64.b64encode(script.encode()).decode())).encode())
    rc_pat = re.compile(r"@@RC " + cid + r" (\d+)\n")
    buf = ""
    while "READY\n" not in buf:
        d = cs.recv(4096)
        if not d:
            sys.exit("hotadd: control channel closed before READY")
        buf += d.decode(errors="replace")
    buf = buf.split("READY\n", 1)[1]

    result = {"cmds": len(cmds)}
    t0 = time.monotonic()
    for c in cmds:
        qf.write(c + "\n")
        qf.flush()
        r = qreply()
        if "error" in r:
            result["error"] = "QMP: %s" % json.dumps(r["error"])
            break
    result["qmp_ms"] = (time.monotonic() - t0) * 1000
    done_at = None
    while not rc_pat.search(buf):
        d = cs.recv(4096)
        if not d:
            result.setdefault("error", "control channel closed")
            break
        buf += d.decode(errors="replace")
        if done_at is None and re.search(r"^(DONE|TIMEOUT) ", buf, re.M):
            done_at = time.monotonic()
    if done_at is not None:
        result["host_ms"] = (done_at - t0) * 1000
    m = re.search(r"^(DONE|TIMEOUT) (.*)$", buf, re.M)
    if m:
        fields = dict(kv.split("=", 1) for kv in m.group(2).split())
        for k, v in fields.items():
            try:
                fields[k] = float(v) if "." in v else int(v)
            except ValueError:
                pass
        result["guest"] = fields
        if m.group(1) == "TIMEOUT":
            result.setdefault("error", "probe timeout: %s" % m.group(2))
    else:
        result.setdefault("error", "no probe result: %s" % buf.strip()[-300:])
    qs.close()
    cs.close()
    print(json.dumps(result, sort_keys=True))
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
