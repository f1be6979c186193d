#!/usr/bin/python3
"""Records what Mono's Socket does, clause by clause, through the adapter.
It asserts nothing about Mono (the harness judges conformance): it prints one
line per probe, `CLAUSE: observation`, the evidence behind the findings in
../README.md.  Every wait is bounded.

    /usr/bin/python3 harness/adapters/csharp/tests/probe.py \
        [--adapter "mono build/release/bin/apmsock-mono-adapter.exe"] [-k CLAUSE]
"""
import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Adapter, AdapterError, ep  # noqa: E402

PROBES = []


def probe(fn):
    PROBES.append(fn)
    return fn


def short(r):
    """One reply, shortened to what a finding needs."""
    if r.get("ok"):
        return "ok %s" % r["result"]
    if "error" in r:
        e = r["error"]
        s = e["type"].split(".")[-1]
        if e.get("param"):
            s += "(param=%s)" % e["param"]
        if e.get("socket_error"):
            s += "(%s %s)" % (e["socket_error"], e["socket_error_code"])
        return s
    return str(r)


def udp(a, fam="inet"):
    return a.ok("socket", {"family": fam, "type": "dgram"})["socket"]


def recv(fam=socket.AF_INET, addr="127.0.0.1"):
    r = socket.socket(fam, socket.SOCK_DGRAM)
    r.bind((addr, 0))
    r.settimeout(3)
    return r


def drain(r, limit=10):
    """Datagrams already queued, up to limit; ends with a sentinel."""
    out = []
    for _ in range(limit):
        try:
            out.append(r.recvfrom(70000)[0])
        except socket.timeout:
            break
        if out[-1] == b"SENTINEL":
            break
    return out


def send_to(a, s, buf, size, port, addr="127.0.0.1", flags=0, **kw):
    args = {"socket": s, "buffer": buf, "offset": 0, "size": size, "flags": flags,
            "endpoint": ep(addr, port) if port is not None else None,
            "callback": True, "end_in_callback": False, "state": None}
    args.update(kw)
    return a.call("begin_send_to", args)


def begin_end(a, op, s, **args):
    """Begin then End; says where an error surfaced."""
    base = {"socket": s, "offset": 0, "flags": 0, "callback": True, "state": None}
    base.update(args)
    b = a.call(op, base)
    if not b.get("ok"):
        return "Begin: " + short(b)
    e = a.call("end_" + op[6:], {"socket": s, "result": b["result"]["result"]})
    return "Begin ok, End: " + short(e)


def tcp_pair(a, fam="inet", addr="127.0.0.1"):
    """A connected pair inside the adapter: (client, accepted)."""
    l = a.ok("socket", {"family": fam, "type": "stream"})["socket"]
    a.ok("bind", {"socket": l, "endpoint": ep(addr, 0)})
    a.ok("listen", {"socket": l, "backlog": 4})
    port = a.ok("local_endpoint", {"socket": l})["endpoint"]["port"]
    c = a.ok("socket", {"family": fam, "type": "stream"})["socket"]
    a.ok("connect", {"socket": c, "endpoint": ep(addr, port), "how": "connect"})
    s = a.ok("accept", {"socket": l, "how": "accept"})["socket"]
    return c, s


@probe
def ARG(a):
    s = udp(a)
    base = {"buffer": {"text": "abcd"}, "size": 4}
    cases = [("ARG-01 buffer null", dict(base, buffer=None)),
             ("ARG-02 offset -1", dict(base, offset=-1)),
             ("ARG-03 offset 5 > Length 4", dict(base, offset=5, size=0)),
             ("ARG-04 size -1", dict(base, size=-1)),
             ("ARG-05 size 5 > Length-offset", dict(base, size=5)),
             ("ARG-08 offset 1 + size int.Max", dict(base, offset=1, size=2 ** 31 - 1)),
             ("ARG-06 offset==Length, size 0", dict(base, offset=4, size=0)),
             ("ARG-07 remoteEP null", dict(base)),
             ("ARG-09 closed + buffer null + endpoint null + offset -1", dict(base, buffer=None, offset=-1))]
    r = recv()
    port = r.getsockname()[1]
    for name, args in cases:
        args = dict(args)
        args.setdefault("offset", 0)
        sock = s
        if name.startswith("ARG-09"):
            sock = udp(a)
            a.ok("close", {"socket": sock})
        if name.startswith("ARG-07") or name.startswith("ARG-09"):
            args["endpoint"] = None
        else:
            args["endpoint"] = ep("127.0.0.1", port)
        print("  %s: send_to %s" % (name, begin_end(a, "begin_send_to", sock, **args)))
    c = udp(a)
    a.ok("connect", {"socket": c, "endpoint": ep("127.0.0.1", port), "how": "connect"})
    for name, args in cases[:7]:
        args = dict(args)
        args.setdefault("offset", 0)
        print("  %s: send %s" % (name, begin_end(a, "begin_send", c, **args)))


@probe
def ERR_01(a):
    r = recv()
    port = r.getsockname()[1]
    s = udp(a)
    for flags in (0x4000, 0x400, 0x800, 0x1):
        print("  ERR-01 udp send_to flags %#x: %s" % (flags, begin_end(
            a, "begin_send_to", s, buffer={"text": "f"}, size=1, flags=flags, endpoint=ep("127.0.0.1", port))))
    for flags in (0x4000, 0x400, 0x800):
        c, srv = tcp_pair(a)
        print("  ERR-01 tcp send flags %#x: %s; then a plain BeginSend: %s" % (flags, begin_end(
            a, "begin_send", c, buffer={"text": "f"}, size=1, flags=flags),
            begin_end(a, "begin_send", c, buffer={"text": "g"}, size=1)))
    c = udp(a)
    a.ok("connect", {"socket": c, "endpoint": ep("127.0.0.1", port), "how": "connect"})
    print("  ERR-01 connected udp send flags 0x4000: %s; then a plain BeginSend: %s; BeginSendTo: %s" % (
        begin_end(a, "begin_send", c, buffer={"text": "f"}, size=1, flags=0x4000),
        begin_end(a, "begin_send", c, buffer={"text": "g"}, size=1),
        begin_end(a, "begin_send_to", c, buffer={"text": "h"}, size=1, endpoint=ep("127.0.0.1", port))))


@probe
def ERR_02(a):
    c, srv = tcp_pair(a)
    a.ok("shutdown", {"socket": c, "how": "send"})
    print("  ERR-02 send after Shutdown(Send): " + begin_end(a, "begin_send", c, buffer={"text": "x"}, size=1))
    import struct
    lst, port = py_peer()
    c = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("connect", {"socket": c, "endpoint": ep("127.0.0.1", port), "how": "connect"})
    p, _ = lst.accept()
    p.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    p.close()  # linger 0: the close sends RST
    outcomes = []
    for i in range(5):
        outcomes.append(begin_end(a, "begin_send", c, buffer={"text": "x"}, size=1))
        if not outcomes[-1].endswith("{'bytes': 1}"):
            break
    print("  ERR-02 sends after the peer reset: " + " | ".join(outcomes))


@probe
def ERR_04_END_05(a):
    s = udp(a)
    a.ok("close", {"socket": s})
    print("  ERR-04 Begin on closed: " + begin_end(a, "begin_send_to", s, buffer={"text": "x"}, size=1,
                                                   endpoint=ep("127.0.0.1", 9)))
    r = recv()
    s = udp(a)
    b = send_to(a, s, {"text": "x"}, 1, r.getsockname()[1])
    a.callback(b["result"]["result"])
    a.ok("close", {"socket": s})
    print("  END-05 End of a completed op after Close: " + short(
        a.call("end_send_to", {"socket": s, "result": b["result"]["result"]})))


@probe
def ERR_05(a):
    s = udp(a)
    print("  ERR-05 IPv6 endpoint on IPv4 socket: " + begin_end(
        a, "begin_send_to", s, buffer={"text": "x"}, size=1, endpoint=ep("::1", 9)))
    s6 = udp(a, "inet6")
    print("  ERR-05 IPv4 endpoint on IPv6 socket (DualMode default %s): %s" % (
        a.ok("get_option", {"socket": s6, "name": "dual_mode"})["value"],
        begin_end(a, "begin_send_to", s6, buffer={"text": "x"}, size=1, endpoint=ep("127.0.0.1", 9))))


@probe
def CONN(a):
    t = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    print("  CONN-01 BeginSend unconnected stream: " + begin_end(a, "begin_send", t, buffer={"text": "x"}, size=1))
    print("  CONN-02/EX-01 BeginSendTo unconnected stream: " + begin_end(
        a, "begin_send_to", t, buffer={"text": "This is a test"}, size=14, endpoint=ep("127.0.0.1", 9)))
    u = udp(a)
    print("  CONN-06 BeginSend unconnected dgram: " + begin_end(a, "begin_send", u, buffer={"text": "x"}, size=1))
    r = recv()
    u = udp(a)
    print("  CONN-07 LocalEndPoint before: %s" % a.ok("local_endpoint", {"socket": u})["endpoint"])
    print("  CONN-07 send_to without Bind: " + begin_end(a, "begin_send_to", u, buffer={"text": "x"}, size=1,
                                                         endpoint=ep("127.0.0.1", r.getsockname()[1])))
    src = r.recvfrom(10)[1]
    print("  CONN-07 LocalEndPoint after End: %s, receiver saw %s" % (
        a.ok("local_endpoint", {"socket": u})["endpoint"], src))
    print("  CONN-13 send_to a port nobody listens on: " + begin_end(
        a, "begin_send_to", udp(a), buffer={"text": "x"}, size=1, endpoint=ep("127.0.0.1", 9)))
    lst, port = py_peer()
    other, oport = py_peer()
    other.settimeout(0.2)
    c = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("connect", {"socket": c, "endpoint": ep("127.0.0.1", port), "how": "connect"})
    p, _ = lst.accept()
    res = begin_end(a, "begin_send_to", c, buffer={"text": "abc"}, size=3, endpoint=ep("127.0.0.1", oport))
    try:
        other.accept()
        elsewhere = "a connection arrived at remoteEP"
    except socket.timeout:
        elsewhere = "nothing at remoteEP"
    print("  CONN-04 BeginSendTo on connected stream, remoteEP elsewhere: %s; connected peer got %r; %s" % (
        res, read_n(p, 3, 2), elsewhere))


def py_peer():
    """A loopback TCP listener in this process: (listener, port)."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(5)
    return lst, lst.getsockname()[1]


def read_n(p, n, timeout=10):
    p.settimeout(timeout)
    got = bytearray()
    while len(got) < n:
        try:
            d = p.recv(1 << 16)
        except socket.timeout:
            break  # what arrived is the evidence
        if not d:
            break
        got.extend(d)
    return bytes(got)


@probe
def CONN_12(a):
    for blocking in (1, 0):
        lst, port = py_peer()
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
        a.ok("set_option", {"socket": c, "name": "send_buffer", "value": 4096})
        a.ok("connect", {"socket": c, "endpoint": ep("127.0.0.1", port), "how": "connect"})
        p, _ = lst.accept()
        a.ok("set_option", {"socket": c, "name": "blocking", "value": blocking})
        n = 4 * 1024 * 1024
        r = a.call("begin_send", {"socket": c, "buffer": {"pattern": {"length": n, "seed": 1}},
                                  "offset": 0, "size": n, "flags": 0, "callback": True, "state": None})
        if not r.get("ok"):
            print("  CONN-12 blocking=%d, 4 MiB, peer not reading: Begin: %s" % (blocking, short(r)))
            continue
        name = r["result"]["result"]
        w1 = a.ok("wait", {"result": name, "timeout_ms": 500})["signaled"]
        # ASYNC-05: End called while pending, on the main thread; the peer reads meanwhile.
        pending_end = a.post("end_send", {"socket": c, "result": name})
        got = read_n(p, n)
        e = a.reply(pending_end, timeout=15)
        w2 = a.ok("wait", {"result": name, "timeout_ms": 1000})["signaled"]
        print("  CONN-12 blocking=%d, 4 MiB, peer not reading: wait(500 ms)=%s; ASYNC-05 End while pending, "
              "then peer reads: %s; wait after=%s; peer got %d bytes intact=%s" % (
                  blocking, w1, short(e), w2, len(got), got == bytes((1 + i) % 251 for i in range(n))))
        p.close()


@probe
def CONN_05_08_09_10(a):
    r1, r2, r3 = recv(), recv(), recv()
    p1, p2, p3 = (x.getsockname()[1] for x in (r1, r2, r3))
    s = udp(a)
    a.ok("connect", {"socket": s, "endpoint": ep("127.0.0.1", p1), "how": "begin_connect"})
    begin_end(a, "begin_send", s, buffer={"text": "one"}, size=3)
    begin_end(a, "begin_send_to", s, buffer={"text": "two"}, size=3, endpoint=ep("127.0.0.1", p2))
    begin_end(a, "begin_send", s, buffer={"text": "three"}, size=5)
    a.ok("connect", {"socket": s, "endpoint": ep("127.0.0.1", p3), "how": "connect"})
    begin_end(a, "begin_send", s, buffer={"text": "four"}, size=4)
    u = udp(a)
    for i, port in enumerate((p1, p2, p3)):
        begin_end(a, "begin_send_to", u, buffer={"text": "to%d" % i}, size=3, endpoint=ep("127.0.0.1", port))
    for x in (r1, r2, r3):
        begin_end(a, "begin_send_to", udp(a), buffer={"text": "SENTINEL"}, size=8,
                  endpoint=ep("127.0.0.1", x.getsockname()[1]))
    print("  CONN-05/08/09/10 receivers got: r1=%s r2=%s r3=%s" % (drain(r1), drain(r2), drain(r3)))


@probe
def FLAGS_02(a):
    lst, port = py_peer()
    c = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("connect", {"socket": c, "endpoint": ep("127.0.0.1", port), "how": "connect"})
    p, _ = lst.accept()
    res = begin_end(a, "begin_send", c, buffer={"text": "U"}, size=1, flags=1)
    begin_end(a, "begin_send", c, buffer={"text": "n"}, size=1)
    p.settimeout(3)
    try:
        oob = p.recv(1, socket.MSG_OOB)
    except OSError as e:
        oob = repr(e)
    print("  FLAGS-02 OutOfBand on connected stream: %s; peer MSG_OOB read: %r; normal: %r" % (
        res, oob, p.recv(10)))


@probe
def BCAST(a):
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("0.0.0.0", 0))
    r.settimeout(3)
    port = r.getsockname()[1]
    s = udp(a)
    print("  BCAST-01 no option: " + begin_end(a, "begin_send_to", s, buffer={"text": "b"}, size=1,
                                               endpoint=ep("127.255.255.255", port)))
    print("  BCAST-01 LocalEndPoint afterwards: %s" % a.ok("local_endpoint", {"socket": s})["endpoint"])
    a.ok("set_option", {"socket": s, "name": "broadcast", "value": 1})
    print("  BCAST-02 with option: " + begin_end(a, "begin_send_to", s, buffer={"text": "B"}, size=1,
                                                 endpoint=ep("127.255.255.255", port)))
    begin_end(a, "begin_send_to", udp(a), buffer={"text": "SENTINEL"}, size=8, endpoint=ep("127.0.0.1", port))
    print("  BCAST received: %s" % drain(r, 3))


@probe
def SIZE(a):
    for fam, addr, sf, big in (("inet", "127.0.0.1", socket.AF_INET, 65507), ("inet6", "::1", socket.AF_INET6, 65527)):
        r = recv(sf, addr)
        port = r.getsockname()[1]
        s = udp(a, fam)
        print("  SIZE-01 %s send_to %d: %s" % (fam, big + 1, begin_end(
            a, "begin_send_to", s, buffer={"pattern": {"length": big + 1, "seed": 1}}, size=big + 1,
            endpoint=ep(addr, port))))
        print("  SIZE-03 %s send_to %d: %s" % (fam, big, begin_end(
            a, "begin_send_to", s, buffer={"pattern": {"length": big, "seed": 1}}, size=big, endpoint=ep(addr, port))))
        print("  SIZE-04 %s send_to 0: %s" % (fam, begin_end(
            a, "begin_send_to", s, buffer={"text": ""}, size=0, endpoint=ep(addr, port))))
        c = udp(a, fam)
        a.ok("connect", {"socket": c, "endpoint": ep(addr, port), "how": "connect"})
        print("  SIZE-02 %s send %d: %s" % (fam, big + 1, begin_end(
            a, "begin_send", c, buffer={"pattern": {"length": big + 1, "seed": 1}}, size=big + 1)))
        print("  SIZE-02 %s then BeginSend of 8 bytes on the same socket: %s" % (
            fam, begin_end(a, "begin_send", c, buffer={"text": "SENTINEL"}, size=8)))
        begin_end(a, "begin_send_to", udp(a, fam), buffer={"text": "SENTINEL"}, size=8, endpoint=ep(addr, port))
        print("  SIZE %s received sizes: %s" % (fam, [len(d) for d in drain(r)]))


@probe
def ASYNC(a):
    main = a.ok("hello", {"protocol": "1.0"})["thread"]
    r = recv()
    s = udp(a)
    sync = []
    same = 0
    for i in range(20):
        b = a.ok("begin_send_to", {"socket": s, "buffer": {"text": "a"}, "offset": 0, "size": 1, "flags": 0,
                                   "endpoint": ep("127.0.0.1", r.getsockname()[1]), "callback": True,
                                   "end_in_callback": True, "state": "st%d" % i})
        ev = a.callback(b["result"])
        sync.append(b["completed_synchronously"])
        same += ev["thread"] == main
        if ev["state"] != "st%d" % i or not ev["is_completed"] or not ev["end"].get("ok"):
            print("  ASYNC odd callback: %s" % ev)
    print("  ASYNC-02 callbacks on the caller's thread: %d/20; ASYNC-07 completed_synchronously: %s" % (
        same, sorted(set(sync))))


def stuffed_pair(a, py_rcvbuf=4096):
    """An adapter client connected to a Python peer that does not read yet."""
    lst, port = py_peer()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, py_rcvbuf)
    c = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("set_option", {"socket": c, "name": "send_buffer", "value": 4096})
    a.ok("connect", {"socket": c, "endpoint": ep("127.0.0.1", port), "how": "connect"})
    p, _ = lst.accept()
    return c, p


def end_of(a, name, timeout=10):
    try:
        ev = a.callback(name, timeout=timeout)
    except AdapterError:
        return "no callback in %ds" % timeout
    e = ev["end"]
    return "#%d %s" % (ev["seq"], "ok %d" % e["bytes"] if e["ok"] else short({"ok": False, "error": e["error"]}))


@probe
def ASYNC_06_CANCEL(a):
    a.ok("hello", {"protocol": "1.0"})
    c, p = stuffed_pair(a)
    t = a.ok("thread_start")["thread"]
    big = 4 * 1024 * 1024

    def begin(size, seed, thread=None):
        return a.ok("begin_send", {"socket": c, "buffer": {"pattern": {"length": size, "seed": seed}},
                                   "offset": 0, "size": size, "flags": 0, "callback": True,
                                   "end_in_callback": True, "state": str(seed)}, thread=thread)["result"]
    b = begin(big, 1, thread=t)
    w = a.ok("wait", {"result": b, "timeout_ms": 300})
    print("  ASYNC-06 wait(300 ms) on a pending 4 MiB send: %s" % w)
    others = [begin(1000, 10 + i) for i in range(3)]
    # CANCEL-02: an operation begun on t2 and completed before t2 exits.
    t2 = a.ok("thread_start")["thread"]
    r = recv()
    done = a.ok("begin_send_to", {"socket": udp(a), "buffer": {"text": "c2"}, "offset": 0, "size": 2, "flags": 0,
                                  "endpoint": ep("127.0.0.1", r.getsockname()[1]), "callback": True,
                                  "end_in_callback": False, "state": None}, thread=t2)["result"]
    a.callback(done)
    a.ok("thread_exit", {"thread": t2})
    a.ok("thread_exit", {"thread": t})
    print("  CANCEL-02 op completed before its thread exited, status after: %s" % a.ok("status", {"result": done}))
    w = a.ok("wait", {"result": b, "timeout_ms": 500})
    print("  CANCEL-01 after the beginning thread exited, wait(500 ms): %s, status %s" % (
        w, a.ok("status", {"result": b})))
    got = read_n(p, big + 3000)
    want = bytes((1 + i) % 251 for i in range(big)) + b"".join(
        bytes((10 + i + k) % 251 for k in range(1000)) for i in range(3))
    print("  CANCEL-01/03 once the peer reads: thread's op %s; main's ops %s; peer bytes in Begin order: %s" % (
        end_of(a, b), [end_of(a, x) for x in others], got == want))

    c, p = stuffed_pair(a)
    pend = [begin(big, 20)] + [begin(1000, 30 + i) for i in range(3)]
    a.ok("close", {"socket": c})
    print("  CANCEL-04 Close with ops pending, callbacks: %s" % [end_of(a, x, 5) for x in pend])
    print("  CANCEL-04 End after Close: " + short(a.call("end_send", {"socket": c, "result": pend[1]})))
    counts = {}
    for ev in a.events:
        counts[ev["result"]] = counts.get(ev["result"], 0) + 1
    print("  CANCEL-04 callbacks per result (all of the session): %s" % counts)


@probe
def ASYNC_08(a):
    import threading
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(5)
    n = 50
    got = bytearray()

    def reader():
        p, _ = lst.accept()
        p.settimeout(10)
        while len(got) < n * 100000:
            d = p.recv(1 << 16)
            if not d:
                break
            got.extend(d)
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    c = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("connect", {"socket": c, "endpoint": ep("127.0.0.1", lst.getsockname()[1]), "how": "connect"})
    names = [a.ok("begin_send", {"socket": c, "buffer": {"pattern": {"length": 100000, "seed": i}}, "offset": 0,
                                 "size": 100000, "flags": 0, "callback": True, "end_in_callback": True,
                                 "state": str(i)})["result"] for i in range(n)]
    order = [a.callback(x, timeout=20)["seq"] for x in names]
    th.join(10)
    want = b"".join(bytes((i + k) % 251 for k in range(100000)) for i in range(n))
    print("  ASYNC-08 %d pending sends: callbacks in Begin order: %s; peer got each op contiguously in order: %s" % (
        n, order == sorted(order), bytes(got) == want))


@probe
def END(a):
    r = recv()
    port = r.getsockname()[1]
    s1, s2 = udp(a), udp(a)
    def fresh():
        b = send_to(a, s1, {"text": "x"}, 1, port)["result"]["result"]
        a.callback(b)
        return b
    print("  END-02 EndSendTo with another socket's result: " + short(a.call("end_send_to", {"socket": s2, "result": fresh()})))
    print("  END-02 EndSend with a BeginSendTo result: " + short(a.call("end_send", {"socket": s1, "result": fresh()})))
    c = udp(a)
    a.ok("connect", {"socket": c, "endpoint": ep("127.0.0.1", port), "how": "connect"})
    bs = a.ok("begin_send", {"socket": c, "buffer": {"text": "y"}, "offset": 0, "size": 1, "flags": 0,
                             "callback": False, "state": None})["result"]
    print("  END-02 EndSendTo with a BeginSend result: " + short(a.call("end_send_to", {"socket": c, "result": bs})))
    b = fresh()
    print("  END-01 EndSend(null): " + short(a.call("end_send", {"socket": s1, "result": None})))
    print("  END-01 EndSendTo(null): " + short(a.call("end_send_to", {"socket": s1, "result": None})))
    print("  END-03 first EndSendTo: " + short(a.call("end_send_to", {"socket": s1, "result": b})))
    print("  END-03 second EndSendTo: " + short(a.call("end_send_to", {"socket": s1, "result": b})))


@probe
def FLAGS_01(a):
    # Needs the private namespace that --netns sets up: only lo, and a route
    # to TEST-NET-2 through a gateway.  Never run against the host's routes.
    if os.environ.get("APMSOCK_PROBE_NETNS") != "1":
        print("  FLAGS-01 skipped: run with --netns (root, unshare -n)")
        return
    s = udp(a)
    off = ep("198.51.100.7", 9)
    print("  FLAGS-01 off-link, no flag: " + begin_end(a, "begin_send_to", s, buffer={"text": "x"}, size=1, endpoint=off))
    print("  FLAGS-01 off-link, DontRoute: " + begin_end(a, "begin_send_to", s, buffer={"text": "x"}, size=1,
                                                        flags=4, endpoint=off))
    c = udp(a)
    a.ok("connect", {"socket": c, "endpoint": off, "how": "connect"})
    print("  FLAGS-01 off-link, connected, BeginSend DontRoute: " + begin_end(
        a, "begin_send", c, buffer={"text": "x"}, size=1, flags=4))
    r = recv()
    print("  FLAGS-01 on-link loopback, DontRoute: %s, received %s" % (begin_end(
        a, "begin_send_to", s, buffer={"text": "y"}, size=1, flags=4, endpoint=ep("127.0.0.1", r.getsockname()[1])),
        drain(r, 1)))


NETNS_SETUP = "ip link set lo up && ip route add 198.51.100.0/24 via 127.0.0.2 dev lo"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", default="mono build/release/bin/apmsock-mono-adapter.exe")
    ap.add_argument("-k", default="")
    ap.add_argument("--netns", action="store_true",
                    help="run inside a private network namespace (root): enables FLAGS-01")
    opts = ap.parse_args()
    if opts.netns and os.environ.get("APMSOCK_PROBE_NETNS") != "1":
        import shlex
        inner = "%s && APMSOCK_PROBE_NETNS=1 %s %s --adapter %s -k %s" % (
            NETNS_SETUP, shlex.quote(sys.executable), shlex.quote(os.path.abspath(__file__)),
            shlex.quote(opts.adapter), shlex.quote(opts.k))
        return os.spawnvp(os.P_WAIT, "unshare", ["unshare", "-n", "sh", "-c", inner])
    for fn in PROBES:
        if opts.k not in fn.__name__:
            continue
        print(fn.__name__)
        a = Adapter(opts.adapter)
        t0 = time.monotonic()
        try:
            fn(a)
        except Exception as e:  # a probe that breaks still lets the others run
            print("  probe broke: %r" % e)
        finally:
            a.close()
        print("  (%.1fs)" % (time.monotonic() - t0))


if __name__ == "__main__":
    sys.exit(main())
