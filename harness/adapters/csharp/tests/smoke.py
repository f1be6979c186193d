#!/usr/bin/python3
"""Smoke test of the C# adapter, either build: pipes sessions through it and
checks that it speaks harness/PROTOCOL.md (framing, errors, threads,
callbacks, quit) and really drives the runtime's Socket (bytes reach loopback
peers).  It checks the adapter, not the runtime's conformance: that is the
harness's job.

    /usr/bin/python3 harness/adapters/csharp/tests/smoke.py \
        --adapter "mono build/release/bin/apmsock-mono-adapter.exe"
    /usr/bin/python3 harness/adapters/csharp/tests/smoke.py \
        --adapter "dotnet build/release/bin/dotnet/apmsock-dotnet-adapter.dll"

Prints one line per test and closes with 'N passed, N failed'."""
import argparse
import os
import socket
import sys
import threading
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Adapter, AdapterError, ep  # noqa: E402

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def udp_receiver(family=socket.AF_INET, addr="127.0.0.1"):
    r = socket.socket(family, socket.SOCK_DGRAM)
    r.bind((addr, 0))
    r.settimeout(5)
    return r


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def hello(a):
    return a.ok("hello", {"protocol": "1.0"})


@test
def hello_reports_identity_and_capabilities(a):
    h = hello(a)
    check(h["implementation"] in ("mono-System.Net.Sockets", "dotnet-System.Net.Sockets"), h)
    check(h["protocol"].split(".")[0] == "1", h)
    check(h["version"][:1].isdigit(), "version is the runtime's: %r" % h["version"])
    # the runtime's own description (RuntimeInformation.FrameworkDescription on .NET)
    want = "Mono " if h["implementation"].startswith("mono") else ".NET "
    check(h.get("runtime", "").startswith(want), "runtime %r does not start %r" % (h.get("runtime"), want))
    for cap in ("udp", "tcp", "ipv4", "threads", "broadcast", "blocking", "send_buffer"):
        check(cap in h["capabilities"], "capability %s missing: %s" % (cap, h))
    for cap in ("policy", "stats", "trace"):
        check(cap not in h["capabilities"], "capability %s claimed: %s" % (cap, h))
    check(h["thread"].startswith("managed:"), h)


@test
def ASYNC_03_send_to_delivers_and_callback_ends(a):
    main = hello(a)["thread"]
    r = udp_receiver()
    s = a.ok("socket", {"family": "inet", "type": "dgram"})["socket"]
    b = a.ok("begin_send_to", {"socket": s, "buffer": {"text": "hi there"}, "offset": 3, "size": 5,
                               "flags": 0, "endpoint": ep("127.0.0.1", r.getsockname()[1]),
                               "callback": True, "end_in_callback": True, "state": "st-1"})
    check(b["thread"] == main, "begin ran on the main thread: %s" % b)
    ev = a.callback(b["result"])
    check(ev["seq"] == 1 and ev["state"] == "st-1" and ev["is_completed"] is True, ev)
    check(ev["end"] == {"ok": True, "bytes": 5}, ev)
    check(ev["thread"].startswith("managed:"), ev)
    data, _ = r.recvfrom(100)
    check(data == b"there", data)
    st = a.ok("status", {"result": b["result"]})
    check(st["is_completed"] is True and st["state"] == "st-1", st)
    check(a.ok("wait", {"result": b["result"], "timeout_ms": 1000}) == {"signaled": True}, "wait")
    le = a.ok("local_endpoint", {"socket": s})["endpoint"]
    check(le["port"] != 0, le)


@test
def bench_runs_both_workloads_and_sends_what_it_says(a):
    """The bench op (PROTOCOL.md "bench"): its reply is well-formed and every datagram it
    counts arrived, tagged by workload; the allocation counter is the Begin thread's."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
    from apmsock_harness.benchreply import Receiver, problems
    hello(a)
    rcv = Receiver(rcvbuf=1 << 20)
    try:
        res = a.ok("bench", {"endpoint": rcv.endpoint, "size": 64, "ops": 50, "warmup": 5, "first_uses": 2})
        check(problems(res, 50, 2) == [], problems(res, 50, 2))
        check(res["alloc"]["unit"] == "bytes" and res["alloc"]["scope"] == "thread", res["alloc"])
        got = rcv.take(res["untimed_sent"] + 100, quiet=1.0)
        check(got == {1: res["untimed_sent"], 2: 50, 3: 50}, "received per tag: %r" % got)
    finally:
        rcv.close()


@test
def ASYNC_04_no_callback_then_end(a):
    hello(a)
    r = udp_receiver()
    s = a.ok("socket", {"family": "inet", "type": "dgram"})["socket"]
    a.ok("connect", {"socket": s, "endpoint": ep("127.0.0.1", r.getsockname()[1]), "how": "connect"})
    b = a.ok("begin_send", {"socket": s, "buffer": {"hex": "00ff10"}, "offset": 0, "size": 3,
                            "flags": 0, "callback": False, "state": None})
    check(a.ok("end_send", {"socket": s, "result": b["result"]}) == {"bytes": 3}, "end_send")
    check(r.recvfrom(10)[0] == b"\x00\xff\x10", "payload")
    check(a.ok("status", {"result": b["result"]})["state"] is None, "null state")
    check(not any(e.get("event") == "callback" for e in a.events), a.events)


@test
def ARG_errors_carry_type_and_param(a):
    hello(a)
    s = a.ok("socket", {"family": "inet", "type": "dgram"})["socket"]
    base = {"socket": s, "buffer": {"text": "abc"}, "offset": 0, "size": 3, "flags": 0,
            "endpoint": ep("127.0.0.1", 9), "callback": True, "state": None}
    e = a.error("begin_send_to", dict(base, buffer=None))
    check(e["type"] == "System.ArgumentNullException" and e["param"] == "buffer", e)
    e = a.error("begin_send_to", dict(base, offset=-1))
    check(e["type"] == "System.ArgumentOutOfRangeException" and e["param"] == "offset", e)
    e = a.error("end_send", {"socket": s, "result": None})
    check(e["type"] == "System.ArgumentNullException" and e["param"] == "asyncResult", e)
    check(set(e) == {"type", "param", "socket_error", "socket_error_code", "errno", "message"}, e)


@test
def CONN_01_socket_error_fields(a):
    hello(a)
    s = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    r = a.call("begin_send", {"socket": s, "buffer": {"text": "x"}, "offset": 0, "size": 1,
                              "flags": 0, "callback": False, "state": None})
    # Mono throws from Begin, .NET from End: either way the fields are checked
    if r.get("ok"):
        e = a.error("end_send", {"socket": s, "result": r["result"]["result"]})
    else:
        e = r["error"]
    check(e["type"] == "System.Net.Sockets.SocketException", e)
    # Mono checks the state (NotConnected); .NET lets Linux say EPIPE (Shutdown)
    check((e["socket_error"], e["socket_error_code"]) in (("NotConnected", 10057), ("Shutdown", 10058)), e)


@test
def CONN_11_tcp_stream_pattern_arrives_in_order(a):
    hello(a)
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(5)
    got = bytearray()
    n = 3 * 1024 * 1024

    def reader():
        c, _ = lst.accept()
        c.settimeout(5)
        while len(got) < n:
            chunk = c.recv(65536)
            if not chunk:
                break
            got.extend(chunk)
        c.close()

    t = threading.Thread(target=reader)
    t.start()
    s = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("connect", {"socket": s, "endpoint": ep("127.0.0.1", lst.getsockname()[1]), "how": "begin_connect"})
    b = a.ok("begin_send", {"socket": s, "buffer": {"pattern": {"length": n, "seed": 7}}, "offset": 0,
                            "size": n, "flags": 0, "callback": True, "state": "big"})
    check(a.ok("end_send", {"socket": s, "result": b["result"]}, timeout=20) == {"bytes": n}, "end_send")
    t.join(10)
    check(not t.is_alive(), "reader finished")
    check(bytes(got) == bytes((7 + i) % 251 for i in range(n)), "pattern intact")
    a.callback(b["result"])


@test
def accept_and_begin_accept_name_new_sockets(a):
    hello(a)
    for how in ("accept", "begin_accept"):
        l = a.ok("socket", {"family": "inet6", "type": "stream"})["socket"]
        a.ok("bind", {"socket": l, "endpoint": ep("::1", 0)})
        a.ok("listen", {"socket": l, "backlog": 4})
        port = a.ok("local_endpoint", {"socket": l})["endpoint"]["port"]
        c = socket.create_connection(("::1", port), timeout=5)
        s2 = a.ok("accept", {"socket": l, "how": how})["socket"]
        check(a.ok("remote_endpoint", {"socket": s2})["endpoint"]["port"] == c.getsockname()[1], how)
        b = a.ok("begin_send", {"socket": s2, "buffer": {"text": how}, "offset": 0, "size": len(how),
                                "flags": 0, "callback": False, "state": None})
        a.ok("end_send", {"socket": s2, "result": b["result"]})
        c.settimeout(5)
        check(c.recv(100) == how.encode(), how)
        c.close()


@test
def options_round_trip(a):
    hello(a)
    s = a.ok("socket", {"family": "inet6", "type": "dgram"})["socket"]
    for name, v in (("broadcast", 1), ("blocking", 0), ("dual_mode", 1)):
        a.ok("set_option", {"socket": s, "name": name, "value": v})
        check(a.ok("get_option", {"socket": s, "name": name})["value"] == v, name)
    a.ok("set_option", {"socket": s, "name": "send_buffer", "value": 8192})
    check(a.ok("get_option", {"socket": s, "name": "send_buffer"})["value"] >= 8192, "send_buffer")
    t = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("set_option", {"socket": t, "name": "no_delay", "value": 1})
    check(a.ok("get_option", {"socket": t, "name": "no_delay"})["value"] == 1, "no_delay")


@test
def ERR_04_closed_socket_is_disposed(a):
    hello(a)
    s = a.ok("socket", {"family": "inet", "type": "dgram"})["socket"]
    a.ok("close", {"socket": s})
    e = a.error("begin_send_to", {"socket": s, "buffer": {"text": "x"}, "offset": 0, "size": 1, "flags": 0,
                                  "endpoint": ep("127.0.0.1", 9), "callback": False, "state": None})
    check(e["type"] == "System.ObjectDisposedException", e)


@test
def threads_run_requests_and_exit_after_join(a):
    main = hello(a)["thread"]
    t = a.ok("thread_start")
    check(t["identity"] != main and t["identity"].startswith("managed:"), t)
    r = udp_receiver()
    s = a.ok("socket", {"family": "inet", "type": "dgram"})["socket"]
    b = a.ok("begin_send_to", {"socket": s, "buffer": {"text": "t"}, "offset": 0, "size": 1, "flags": 0,
                               "endpoint": ep("127.0.0.1", r.getsockname()[1]), "callback": True,
                               "state": None}, thread=t["thread"])
    check(b["thread"] == t["identity"], "begin ran on the named thread: %s" % b)
    a.callback(b["result"])
    check(a.ok("thread_exit", {"thread": t["thread"]}) == {}, "thread_exit")
    r2 = a.call("local_endpoint", {"socket": s}, thread=t["thread"])
    check("protocol_error" in r2, r2)


@test
def blocked_thread_does_not_hold_up_main(a):
    hello(a)
    t = a.ok("thread_start")["thread"]
    l = a.ok("socket", {"family": "inet", "type": "stream"})["socket"]
    a.ok("bind", {"socket": l, "endpoint": ep("127.0.0.1", 0)})
    a.ok("listen", {"socket": l, "backlog": 1})
    port = a.ok("local_endpoint", {"socket": l})["endpoint"]["port"]
    pending = a.post("accept", {"socket": l, "how": "accept"}, thread=t)
    check(a.ok("socket", {"family": "inet", "type": "dgram"}) == {"socket": "s2"}, "main answers")
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    check(a.reply(pending)["ok"] is True, "accept finished")
    c.close()


@test
def malformed_requests_get_protocol_errors(a):
    hello(a)
    a.send_raw("this is not json")
    a.send_raw('{"op":"socket"}')
    a.send_raw("[1,2]")
    bad = [
        ("nosuchop", {}),
        ("socket", {"family": "appletalk", "type": "dgram"}),
        ("bind", {"socket": "s99", "endpoint": ep("127.0.0.1", 0)}),
        ("status", {"result": "r42"}),
        ("begin_send", {"socket": "s99"}),
        ("thread_exit", {"thread": "t9"}),
    ]
    for op, args in bad:
        r = a.call(op, args)
        check(r["ok"] is False and "protocol_error" in r, (op, r))
    s = a.ok("socket", {"family": "inet", "type": "dgram"})["socket"]
    for buf in ({"hex": "abc"}, {"hex": "zz"}, {"text": "\u00e9"}, {"pattern": {"length": -1, "seed": 0}}, 5):
        r = a.call("begin_send_to", {"socket": s, "buffer": buf, "offset": 0, "size": 0, "flags": 0,
                                     "endpoint": ep("127.0.0.1", 9), "callback": False, "state": None})
        check("protocol_error" in r, (buf, r))
    r = a.call("begin_send_to", {"socket": s, "buffer": None, "offset": 2 ** 40, "size": 0, "flags": 0,
                                 "endpoint": ep("127.0.0.1", 9)})
    check("protocol_error" in r, r)
    a.send_raw('{"id":1,"op":"socket","args":{"family":"inet","type":"dgram"}}')
    # id 1 was hello's: the duplicate gets a protocol error, not a socket.
    dup = a.reply(1)
    check("protocol_error" in dup, dup)
    nulls = [k for k, v in list(a.replies.items()) if k is None]
    check(nulls == [None], "unidentifiable lines answered with id null: %s" % a.replies)
    check(not a.garbage, a.garbage)
    check(a.ok("socket", {"family": "inet", "type": "dgram"})["socket"].startswith("s"), "still alive")


@test
def mutated_requests_never_break_the_adapter(a):
    """300 corrupted variants of valid requests (fixed seed): each line with an
    integer id gets exactly one reply, stdout stays protocol lines, and the
    adapter still answers afterwards."""
    import json
    import random
    rng = random.Random(4711)
    hello(a)
    s = a.ok("socket", {"family": "inet", "type": "dgram"})["socket"]
    valid = [
        {"op": "begin_send_to", "args": {"socket": s, "buffer": {"text": "abc"}, "offset": 0, "size": 3, "flags": 0,
                                         "endpoint": ep("127.0.0.1", 9), "callback": True, "state": "x"}},
        {"op": "set_option", "args": {"socket": s, "name": "send_buffer", "value": 9000}},
        {"op": "local_endpoint", "args": {"socket": s}},
        {"op": "status", "args": {"result": "r1"}},
    ]
    junk = [None, True, -1, 2 ** 63, 1.5, "", "\u0000", [], {}, {"hex": "zz"}, "s1\ud800", "\u00e9" * 3]
    next_id = 1000
    sent = []
    for i in range(300):
        req = json.loads(json.dumps(rng.choice(valid)))
        args = req["args"]
        key = rng.choice(sorted(args))
        if rng.random() < 0.5:
            args[key] = rng.choice(junk)
        else:
            del args[key]
        next_id += 1
        req["id"] = next_id
        line = json.dumps(req)
        if rng.random() < 0.2:
            cut = rng.randrange(1, len(line))
            # A cut line may or may not still parse: its reply is not counted.
            a.send_raw(line[:cut] + rng.choice(["", "}", "\\", "\"", "\x00", "[[[["]) + line[cut + 1:])
            continue
        a.send_raw(line)
        sent.append(next_id)
    a.send_raw("[" * 10000 + "]" * 10000)
    for rid in sent:
        r = a.reply(rid)
        check(r["ok"] in (True, False), r)
    check(not a.garbage, a.garbage[:3])
    check(a.ok("socket", {"family": "inet", "type": "dgram"})["socket"].startswith("s"), "still alive")


@test
def missing_capabilities_are_unsupported(a):
    hello(a)
    for op, args in (("trace", {"on": True}), ("stats", {}), ("policy", {"deny": None})):
        r = a.call(op, args)
        check(r["ok"] is False and "unsupported" in r, r)


@test
def quit_replies_and_exits_zero(a):
    hello(a)
    a.ok("socket", {"family": "inet", "type": "stream"})
    check(a.ok("quit") == {}, "quit reply")
    check(a.wait_exit() == 0, "exit status")


@test
def eof_exits_zero(a):
    hello(a)
    a.ok("thread_start")
    a.proc.stdin.close()
    check(a.wait_exit() == 0, "exit status")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", default="mono build/release/bin/apmsock-mono-adapter.exe")
    ap.add_argument("-k", default="")
    opts = ap.parse_args()
    passed = failed = 0
    for fn in TESTS:
        if opts.k not in fn.__name__:
            continue
        a = Adapter(opts.adapter)
        try:
            fn(a)
            if a.garbage:
                raise AdapterError("garbage on stdout: %r" % a.garbage)
            print("PASS", fn.__name__)
            passed += 1
        except Exception:
            print("FAIL", fn.__name__)
            traceback.print_exc(file=sys.stdout)
            failed += 1
        finally:
            a.close()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
