#!/usr/bin/python3
"""Smoke test of apmsock-adapter: scripted sessions piped through the
program, every reply and event checked.  It tests the adapter's plumbing
(framing, names, buffers, threads, events, malformed input, quit), not the
clauses: those are the harness's.  Loopback only, ports chosen by the
kernel, every wait bounded; no sleeps.

usage: smoke.py PATH-TO-apmsock-adapter
"""
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

WAIT_S = 10.0          # the longest any single reply or event may take

failures = []
checks = 0


def check(cond, what, evidence=None):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print(f"FAIL {what}" + (f": {evidence!r}" if evidence is not None else ""), flush=True)


class Adapter:
    def __init__(self, path):
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        self.replies = {}
        self.events = []
        self.garbage = []
        self.next_id = 1
        self.stderr = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.put(raw)
        self.lines.put(None)

    def _read_err(self):
        self.stderr = self.proc.stderr.read()

    def _pump(self, deadline):
        """Takes one line off stdout; False on timeout or end of output."""
        try:
            raw = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return False
        if raw is None:
            self.lines.put(None)
            return False
        try:
            msg = json.loads(raw)
            if not isinstance(msg, dict):
                raise ValueError("not an object")
        except ValueError:
            self.garbage.append(raw)
            return True
        if "id" in msg:
            self.replies[msg["id"]] = msg
        else:
            self.events.append(msg)
        return True

    def send_raw(self, text):
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def request(self, op, args=None, thread=None, wait=True):
        rid = self.next_id
        self.next_id += 1
        req = {"id": rid, "op": op, "args": {} if args is None else args}
        if thread is not None:
            req["thread"] = thread
        self.send_raw(json.dumps(req))
        return self.reply(rid) if wait else rid

    def reply(self, rid):
        deadline = time.monotonic() + WAIT_S
        while rid not in self.replies:
            if not self._pump(deadline):
                raise AssertionError(f"no reply to request {rid} within {WAIT_S}s; "
                                     f"stderr: {self.stderr[-2000:]!r}")
        return self.replies.pop(rid)

    def ok(self, op, args=None, thread=None):
        rep = self.request(op, args, thread)
        check(rep.get("ok") is True and "result" in rep, f"{op} ok", rep)
        return rep.get("result", {})

    def event(self, pred, what):
        deadline = time.monotonic() + WAIT_S
        while True:
            for i, ev in enumerate(self.events):
                if pred(ev):
                    return self.events.pop(i)
            if not self._pump(deadline):
                raise AssertionError(f"no {what} event within {WAIT_S}s; events: {self.events}")

    def finish(self, quit=True):
        if quit:
            self.ok("quit")
        self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = "hung"
        deadline = time.monotonic() + WAIT_S
        while self._pump(deadline):
            pass
        check(code == 0, "adapter exits 0", (code, self.stderr[-2000:]))
        check(not self.garbage, "no garbage on stdout", self.garbage)


def ep(sock):
    host, port = sock.getsockname()[:2]
    return {"address": host, "port": port}


def pattern(n, seed):
    period = bytes((seed + i) % 251 for i in range(251))
    return (period * (n // 251 + 1))[:n]


def udp_receiver(family=socket.AF_INET, host="127.0.0.1"):
    r = socket.socket(family, socket.SOCK_DGRAM)
    r.bind((host, 0))
    r.settimeout(WAIT_S)
    return r


def err_type(rep):
    return (rep.get("error") or {}).get("type")


def test_malformed(a):
    a.send_raw("this is not json")
    rep = a.reply(None)
    check("protocol_error" in rep and rep.get("ok") is False, "not JSON -> protocol_error", rep)
    a.send_raw("[1, 2]")
    check("protocol_error" in a.reply(None), "not an object -> protocol_error")
    # Valid JSON with an integer beyond the parser's range: the id is readable, so it is echoed.
    a.send_raw('{"id": 777001, "op": "begin_send", "args": {"socket": "s1", "size": 99999999999999999999}}')
    rep = a.reply(777001)
    check("protocol_error" in rep and rep.get("ok") is False, "huge integer -> protocol_error with the id", rep)
    a.send_raw('{"id": 777002, "id": 777003, "op": "hello", "x": 99999999999999999999}')
    check("protocol_error" in a.reply(None), "two ids: not readable -> id null")
    rep = a.request("no_such_op")
    check("protocol_error" in rep, "unknown op -> protocol_error", rep)
    rep = a.request("bind", {})
    check("protocol_error" in rep, "missing args -> protocol_error", rep)
    rep = a.request("close", {"socket": "s999"})
    check("protocol_error" in rep, "unknown socket name -> protocol_error", rep)
    rep = a.request("status", {"result": "r999"})
    check("protocol_error" in rep, "unknown result name -> protocol_error", rep)
    rep = a.request("socket", {"family": "inet"}, thread="t999")
    check("protocol_error" in rep, "unknown thread -> protocol_error", rep)
    rep = a.request("socket", {"family": "appletalk", "type": "dgram"})
    check("protocol_error" in rep, "unknown family -> protocol_error", rep)
    s = a.ok("socket", {"family": "inet", "type": "dgram"})["socket"]
    bad_buffers = [{"hex": "abc"}, {"hex": "zz"}, {"text": 5}, {"text": "caf\u00e9"},
                   {"pattern": {"length": -1, "seed": 0}}, {"hex": "00", "text": "x"}, 7]
    for b in bad_buffers:
        rep = a.request("begin_send_to", {"socket": s, "buffer": b, "offset": 0, "size": 0,
                                          "flags": 0, "endpoint": {"address": "127.0.0.1", "port": 9}})
        check("protocol_error" in rep, f"bad buffer {b!r} -> protocol_error", rep)
    rep = a.request("begin_send_to", {"socket": s, "buffer": {"text": "x"}, "offset": 0, "size": 1,
                                      "flags": 0, "endpoint": {"address": "localhost", "port": 9}})
    check("protocol_error" in rep, "endpoint not a literal -> protocol_error", rep)
    rep = a.request("begin_send_to", {"socket": s, "buffer": {"text": "x"}, "offset": 0,
                                      "size": 2 ** 31, "flags": 0,
                                      "endpoint": {"address": "127.0.0.1", "port": 9}})
    check("protocol_error" in rep, "size beyond int32 -> protocol_error", rep)
    a.ok("close", {"socket": s})


def test_udp(a, family, host):
    fam = "inet" if family == socket.AF_INET else "inet6"
    r = udp_receiver(family, host)
    s = a.ok("socket", {"family": fam, "type": "dgram"})["socket"]
    hello_thread = a.main_thread
    res = a.ok("begin_send_to", {"socket": s, "buffer": {"text": "hi"}, "offset": 0, "size": 2,
                                 "flags": 0, "endpoint": ep(r), "callback": True,
                                 "end_in_callback": True, "state": "st-1"})
    check(res.get("thread") == hello_thread, f"{fam}: begin reply carries the caller's thread", res)
    check(isinstance(res.get("completed_synchronously"), bool), "completed_synchronously is a bool", res)
    name = res.get("result")
    ev = a.event(lambda e: e.get("event") == "callback" and e.get("result") == name, "callback")
    check(ev.get("end") == {"ok": True, "bytes": 2}, f"{fam}: End in the callback returns 2", ev)
    check(ev.get("state") == "st-1" and ev.get("is_completed") is True, "callback state, completed", ev)
    check(ev.get("thread") not in (None, hello_thread), "callback on another thread", ev)
    check(isinstance(ev.get("seq"), int) and ev["seq"] >= 1, "callback seq", ev)
    data, src = r.recvfrom(70000)
    check(data == b"hi", f"{fam}: receiver got the bytes", data)
    local = a.ok("local_endpoint", {"socket": s})["endpoint"]
    check(local is not None and local["port"] == src[1], f"{fam}: local endpoint is the source", (local, src))

    # No callback: End, then the IAsyncResult ops.
    res = a.ok("begin_send_to", {"socket": s, "buffer": {"pattern": {"length": 1000, "seed": 7}},
                                 "offset": 10, "size": 900, "flags": 0, "endpoint": ep(r),
                                 "callback": False, "state": None})
    name = res["result"]
    check(a.ok("end_send_to", {"socket": s, "result": name}) == {"bytes": 900}, "end_send_to bytes")
    data = r.recv(70000)
    check(data == pattern(1000, 7)[10:910], f"{fam}: pattern buffer, offset and size honoured")
    st = a.ok("status", {"result": name})
    check(st == {"is_completed": True, "completed_synchronously": st.get("completed_synchronously"),
                 "state": None}, "status after End", st)
    check(a.ok("wait", {"result": name, "timeout_ms": 0}) == {"signaled": True}, "wait signaled")
    rep = a.request("end_send_to", {"socket": s, "result": name})
    check(err_type(rep) == "System.InvalidOperationException", "second End", rep)
    a.ok("release", {"result": name})
    rep = a.request("status", {"result": name})
    check(err_type(rep) == "System.ArgumentException", "status after release", rep)

    # Exceptions come back as error objects.
    rep = a.request("end_send_to", {"socket": s, "result": None})
    check(err_type(rep) == "System.ArgumentNullException" and rep["error"]["param"] == "asyncResult",
          "End(null)", rep)
    rep = a.request("begin_send_to", {"socket": s, "buffer": None, "offset": 0, "size": 0,
                                      "flags": 0, "endpoint": ep(r)})
    check(err_type(rep) == "System.ArgumentNullException" and rep["error"]["param"] == "buffer",
          "null buffer", rep)
    rep = a.request("begin_send_to", {"socket": s, "buffer": {"text": ""}, "offset": 0, "size": 0,
                                      "flags": 0, "endpoint": None})
    check(err_type(rep) == "System.ArgumentNullException" and rep["error"]["param"] == "remoteEP",
          "null endpoint", rep)
    rep = a.request("begin_send", {"socket": s, "buffer": {"text": "x"}, "offset": 0, "size": 1,
                                   "flags": 0})
    e = rep.get("error") or {}
    check(e.get("type") == "System.Net.Sockets.SocketException" and e.get("socket_error") == "NotConnected"
          and e.get("socket_error_code") == 10057, "unconnected BeginSend", rep)
    # An empty array is not the null array.
    res = a.ok("begin_send_to", {"socket": s, "buffer": {"hex": ""}, "offset": 0, "size": 0,
                                 "flags": 0, "endpoint": ep(r)})
    check(a.ok("end_send_to", {"socket": s, "result": res["result"]}) == {"bytes": 0}, "empty datagram")
    check(r.recv(10) == b"", f"{fam}: empty datagram received")
    a.ok("close", {"socket": s})
    rep = a.request("begin_send_to", {"socket": s, "buffer": {"text": "x"}, "offset": 0, "size": 1,
                                      "flags": 0, "endpoint": ep(r)})
    check(err_type(rep) == "System.ObjectDisposedException", "Begin after close", rep)
    r.close()


def test_tcp(a):
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(WAIT_S)
    s = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("connect", {"socket": s, "endpoint": ep(lst), "how": "begin_connect"})
    peer, _ = lst.accept()
    peer.settimeout(WAIT_S)
    n = 200000
    res = a.ok("begin_send", {"socket": s, "buffer": {"pattern": {"length": n, "seed": 3}},
                              "offset": 0, "size": n, "flags": 0, "callback": True})
    got = bytearray()
    while len(got) < n:
        chunk = peer.recv(65536)
        if not chunk:
            break
        got += chunk
    check(bytes(got) == pattern(n, 3), "tcp: peer received every byte in order", len(got))
    check(a.ok("end_send", {"socket": s, "result": res["result"]}) == {"bytes": n}, "tcp end_send")
    a.event(lambda e: e.get("event") == "callback" and e.get("result") == res["result"], "tcp callback")
    remote = a.ok("remote_endpoint", {"socket": s})["endpoint"]
    check(remote == ep(lst), "remote_endpoint", remote)
    a.ok("shutdown", {"socket": s, "how": "send"})
    check(peer.recv(10) == b"", "tcp: shutdown(send) reaches the peer")
    peer.close()
    lst.close()
    a.ok("close", {"socket": s})

    # The adapter's side listens and accepts.
    l2 = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("bind", {"socket": l2, "endpoint": {"address": "127.0.0.1", "port": 0}})
    a.ok("listen", {"socket": l2, "backlog": 4})
    where = a.ok("local_endpoint", {"socket": l2})["endpoint"]
    c = socket.create_connection((where["address"], where["port"]), timeout=WAIT_S)
    acc = a.ok("accept", {"socket": l2, "how": "begin_accept"})["socket"]
    res = a.ok("begin_send", {"socket": acc, "buffer": {"text": "This is a test"}, "offset": 0,
                              "size": 14, "flags": 0})
    check(a.ok("end_send", {"socket": acc, "result": res["result"]}) == {"bytes": 14}, "accepted send")
    got = b""
    while len(got) < 14:
        chunk = c.recv(64)
        if not chunk:
            break
        got += chunk
    check(got == b"This is a test", "accepted socket delivers", got)
    a.ok("set_option", {"socket": acc, "name": "no_delay", "value": 1})
    check(a.ok("get_option", {"socket": acc, "name": "no_delay"}).get("value") == 1, "get_option")
    c.close()
    a.ok("close", {"socket": acc})
    a.ok("close", {"socket": l2})


def test_threads_trace_stats_policy(a):
    r = udp_receiver()
    t = a.ok("thread_start")
    check(t.get("thread") == "t1" and t.get("identity") not in (None, a.main_thread), "thread_start", t)
    s = a.ok("socket", {"family": "inet", "type": "dgram"}, thread="t1")["socket"]
    a.ok("trace", {"on": True})
    res = a.ok("begin_send_to", {"socket": s, "buffer": {"text": "abc"}, "offset": 0, "size": 3,
                                 "flags": 0, "endpoint": ep(r), "callback": True,
                                 "end_in_callback": True, "state": "x"}, thread="t1")
    check(res.get("thread") == t.get("identity"), "request ran on t1", res)
    ev = a.event(lambda e: e.get("event") == "callback" and e.get("result") == res["result"], "callback")
    check(ev.get("thread") != t.get("identity"), "callback not on the Begin thread", ev)
    begin = a.event(lambda e: e.get("event") == "trace" and e["record"]["event"] == "begin", "trace begin")
    check(begin["record"] == {"socket": s, "operation": "BeginSendTo", "event": "begin", "size": 3,
                              "outcome": "Success"}, "trace begin record", begin)
    a.event(lambda e: e.get("event") == "trace" and e["record"]["event"] == "complete", "trace complete")
    a.ok("trace", {"on": False})
    check(r.recv(10) == b"abc", "datagram from t1 arrives")

    stats = a.ok("stats")
    check(set(stats) == {"heap_allocations", "context_cache_hits", "context_cache_misses",
                         "operations_started", "operations_completed"}, "stats keys", stats)
    check(stats.get("operations_started", 0) >= 1, "stats count operations", stats)

    a.ok("policy", {"deny": [ep(r)]})
    rep = a.request("begin_send_to", {"socket": s, "buffer": {"text": "no"}, "offset": 0, "size": 2,
                                      "flags": 0, "endpoint": ep(r)})
    check(err_type(rep) == "System.Security.SecurityException", "policy denies", rep)
    a.ok("policy", {"deny": None})
    res = a.ok("begin_send_to", {"socket": s, "buffer": {"text": "ok"}, "offset": 0, "size": 2,
                                 "flags": 0, "endpoint": ep(r)})
    a.ok("end_send_to", {"socket": s, "result": res["result"]})
    check(r.recv(10) == b"ok", "policy null allows again")

    a.ok("thread_exit", {"thread": "t1"})
    rep = a.request("socket", {"family": "inet", "type": "dgram"}, thread="t1")
    check("protocol_error" in rep, "request to an exited thread -> protocol_error", rep)
    rep = a.request("thread_exit", {"thread": "t1"})
    check("protocol_error" in rep, "second thread_exit -> protocol_error", rep)
    r.close()


def recv_exactly(sock, n):
    got = bytearray()
    while len(got) < n:
        chunk = sock.recv(min(1 << 20, n - len(got)))
        if not chunk:
            break
        got += chunk
    return bytes(got)


def test_pending(a):
    """A send that cannot complete until the peer reads: a blocked End holds
    up its own thread only; thread_exit aborts the exiting thread's send."""
    big = 16 << 20
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(WAIT_S)
    s = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("set_option", {"socket": s, "name": "send_buffer", "value": 4096})
    a.ok("connect", {"socket": s, "endpoint": ep(lst)})
    peer, _ = lst.accept()
    peer.settimeout(WAIT_S)
    t = a.ok("thread_start")["thread"]
    res = a.ok("begin_send", {"socket": s, "buffer": {"pattern": {"length": big, "seed": 1}},
                              "offset": 0, "size": big, "flags": 0, "state": "big"})
    rid = a.request("end_send", {"socket": s, "result": res["result"]}, thread=t, wait=False)
    check(a.ok("wait", {"result": res["result"], "timeout_ms": 0}) == {"signaled": False},
          "wait times out while the send is pending")
    st = a.ok("status", {"result": res["result"]})
    check(st.get("is_completed") is False and st.get("state") == "big", "status while pending", st)
    check(rid not in a.replies, "End still blocked on its thread")
    check(recv_exactly(peer, big) == pattern(big, 1), "peer reads the whole pending send")
    check(a.reply(rid) == {"id": rid, "ok": True, "result": {"bytes": big}}, "blocked End returns")

    # CANCEL-01 through the adapter: the thread that began it exits.
    t2 = a.ok("thread_start")["thread"]
    res = a.ok("begin_send", {"socket": s, "buffer": {"pattern": {"length": big, "seed": 2}},
                              "offset": 0, "size": big, "flags": 0, "callback": True,
                              "end_in_callback": True}, thread=t2)
    a.ok("thread_exit", {"thread": t2})
    ev = a.event(lambda e: e.get("event") == "callback" and e.get("result") == res["result"],
                 "callback of the aborted send")
    err = (ev.get("end") or {}).get("error") or {}
    check(err.get("socket_error") == "OperationAborted" and err.get("socket_error_code") == 995,
          "thread exit aborts its pending send", ev)
    a.ok("thread_exit", {"thread": t})
    peer.close()
    lst.close()
    a.ok("close", {"socket": s})


# Requests the fuzz never makes: they may block by design (accept, End,
# wait) or end the session.  Endpoints in the pool are loopback only.
FUZZ_OPS = ["hello", "socket", "bind", "connect", "listen", "set_option", "get_option",
            "local_endpoint", "remote_endpoint", "shutdown", "close", "begin_send",
            "begin_send_to", "status", "release", "trace", "stats", "policy", "thread_exit"]
FUZZ_KEYS = ["socket", "endpoint", "buffer", "offset", "size", "flags", "callback",
             "end_in_callback", "state", "result", "family", "type", "name", "value", "how",
             "backlog", "on", "deny", "thread", "timeout_ms", "protocol"]
FUZZ_VALUES = [None, True, False, 0, 1, -1, 2 ** 31, -2 ** 63, 1.5, "", "s1", "s2", "r1", "r2",
               "t1", "inet", "inet6", "dgram", "stream", "send", "broadcast", "blocking",
               [], {}, [None], {"address": "127.0.0.1", "port": 0},
               {"address": "::1", "port": 0}, {"address": "127.0.0.1"},
               {"address": "::1", "port": 70000}, {"hex": "00ff"}, {"text": "abc"},
               {"pattern": {"length": 5, "seed": -3}}, {"pattern": {"length": 2 ** 40, "seed": 0}}]


def test_fuzz(a, rounds=600):
    """Random requests from a fixed seed, each a valid request with one or
    two arguments replaced or dropped: every one gets a well-formed reply
    and the adapter stays up."""
    import random
    rng = random.Random(20261122)
    r = udp_receiver()
    u = a.ok("socket", {"family": "inet", "type": "dgram"})["socket"]
    t = a.ok("socket", {"family": "inet6", "type": "stream"})["socket"]
    res = a.ok("begin_send_to", {"socket": u, "buffer": {"text": "f"}, "offset": 0, "size": 1,
                                 "flags": 0, "endpoint": ep(r)})["result"]
    a.ok("end_send_to", {"socket": u, "result": res})
    loop0 = {"address": "127.0.0.1", "port": 0}
    buf = {"pattern": {"length": 8, "seed": 0}}
    templates = {
        "hello": {"protocol": "1.0"},
        "socket": {"family": "inet", "type": "dgram"},
        "bind": {"socket": u, "endpoint": loop0},
        "connect": {"socket": u, "endpoint": ep(r), "how": "connect"},
        "listen": {"socket": t, "backlog": 1},
        "set_option": {"socket": u, "name": "broadcast", "value": 1},
        "get_option": {"socket": t, "name": "dual_mode"},
        "local_endpoint": {"socket": u},
        "remote_endpoint": {"socket": t},
        "shutdown": {"socket": t, "how": "both"},
        "close": {"socket": t},
        "begin_send": {"socket": u, "buffer": buf, "offset": 0, "size": 8, "flags": 0,
                       "callback": True, "end_in_callback": True, "state": "z"},
        "begin_send_to": {"socket": u, "buffer": buf, "offset": 0, "size": 8, "flags": 0,
                          "endpoint": ep(r), "callback": True, "state": None},
        "status": {"result": res},
        "release": {"result": res},
        "trace": {"on": True},
        "stats": {},
        "policy": {"deny": [ep(r)]},
        "thread_exit": {"thread": "t1"},
    }
    ok = 0
    for _ in range(rounds):
        op = rng.choice(FUZZ_OPS)
        args = dict(templates[op])
        for _ in range(rng.randint(0, 2)):
            key = rng.choice(list(args) + FUZZ_KEYS[:3]) if args else rng.choice(FUZZ_KEYS)
            if rng.random() < 0.2:
                args.pop(key, None)
            else:
                args[key] = rng.choice(FUZZ_VALUES)
        rep = a.request(op, args)
        if not (isinstance(rep.get("ok"), bool) and
                (rep["ok"] or {"error", "unsupported", "protocol_error"} & set(rep))):
            check(False, "fuzz: well-formed reply", rep)
            return
        ok += "protocol_error" not in rep
    check(ok > rounds // 3, "fuzz: most requests reached the library", ok)
    for line in ["", "   ", "{", "null", '{"id": 0, "op": "hello"}', '{"id": "7", "op": "hello"}',
                 '{"id": 1.5, "op": "hello"}', '{"op": "hello"}', '{"id": 99999, "op": 5}',
                 '{"id": 99998, "op": "hello", "args": []}', '{"id":1,"id":2,"op":"hello"}']:
        a.send_raw(line)
    a.ok("trace", {"on": False})
    a.ok("policy", {"deny": None})
    check(a.ok("hello", {"protocol": "1.1"}).get("protocol") == "1.1", "alive after the fuzz")
    r.close()


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def main():
    path = sys.argv[1]
    a = Adapter(path)
    try:
        hello = a.ok("hello", {"protocol": "1.0"})
        check(hello.get("protocol") == "1.1" and hello.get("implementation"), "hello", hello)
        for cap in ("udp", "tcp", "ipv4", "ipv6", "threads", "trace", "stats", "policy"):
            check(cap in hello.get("capabilities", []), f"capability {cap}", hello)
        a.main_thread = hello.get("thread")
        test_malformed(a)
        test_udp(a, socket.AF_INET, "127.0.0.1")
        if ipv6_available():
            test_udp(a, socket.AF_INET6, "::1")
        test_tcp(a)
        test_threads_trace_stats_policy(a)
        test_pending(a)
        test_fuzz(a)
        a.finish()
    except AssertionError as e:
        failures.append(str(e))
        print(f"FAIL {e}", flush=True)
        a.proc.kill()

    # End of input is a quit without a reply; a thread still open is ended.
    b = Adapter(path)
    try:
        b.ok("hello", {"protocol": "1.0"})
        b.ok("thread_start")
        b.finish(quit=False)
    except AssertionError as e:
        failures.append(str(e))
        print(f"FAIL {e}", flush=True)
        b.proc.kill()

    # quit while a thread is blocked in End on a send nobody reads: the
    # adapter unblocks it (closing the socket aborts the send) and exits.
    c = Adapter(path)
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        lst.settimeout(WAIT_S)
        c.ok("hello", {"protocol": "1.0"})
        t = c.ok("thread_start")["thread"]
        s = c.ok("socket", {"family": "inet", "type": "stream"})["socket"]
        c.ok("set_option", {"socket": s, "name": "send_buffer", "value": 4096})
        c.ok("connect", {"socket": s, "endpoint": ep(lst)})
        peer, _ = lst.accept()
        big = 16 << 20
        res = c.ok("begin_send", {"socket": s, "buffer": {"pattern": {"length": big, "seed": 0}},
                                  "offset": 0, "size": big, "flags": 0})
        rid = c.request("end_send", {"socket": s, "result": res["result"]}, thread=t, wait=False)
        started = time.monotonic()
        c.finish()
        check(time.monotonic() - started < 5, "quit with a blocked thread is bounded")
        rep = c.replies.get(rid, {})
        check(rep.get("ok") is False and "error" in rep, "the blocked End got its abort", rep)
        peer.close()
    except AssertionError as e:
        failures.append(str(e))
        print(f"FAIL {e}", flush=True)
        c.proc.kill()
    finally:
        lst.close()

    if a.stderr.strip():
        print("adapter stderr:\n" + a.stderr.decode(errors="replace")[-4000:])
    print(f"adapter smoke: {checks - len(failures)}/{checks} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
