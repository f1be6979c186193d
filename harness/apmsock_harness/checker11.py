"""The protocol 1.1 checks of `harness/conform --check-adapter` (PROTOCOL.md, "Protocol 1.1").

Each runs only when hello advertised its capability (else SKIP), and fuzzes the new
request shapes: requests written without waiting (pipelining), a latch released and a
latch never released (hold: the adapter's own bound must end it), nested scripts, a
script that closes its own socket and then uses it, malformed scripts (protocol_error,
and the adapter goes on), the synchronous send_to, and a small bench run (its reply and its datagrams). Sends go to a UDP socket of the
checker's own on 127.0.0.1, port 0. Every wait is bounded.
"""
import socket

from .checker import brief

BASE = 100   # request ids of these checks: above the 1.0 checks', below none
FAILED = ("error", "protocol_error", "unsupported")


class _Ids:
    def __init__(self, start):
        self.n = start

    def __call__(self):
        self.n += 1
        return self.n


def _receiver():
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("127.0.0.1", 0))
    r.settimeout(2.0)
    return r, {"address": "127.0.0.1", "port": r.getsockname()[1]}


def _call(s, rid, op, args):
    if not s.write(s.request_line(rid, op, args)):
        return None
    rep, _ = s.reply_to(rid)
    return rep


def _udp_socket(s, ids):
    rep = _call(s, ids(), "socket", {"family": "inet", "type": "dgram"})
    return ((rep or {}).get("result") or {}).get("socket") if (rep or {}).get("ok") else None


def _begin(sock, ep, **extra):
    a = {"socket": sock, "buffer": {"text": "x"}, "offset": 0, "size": 1, "flags": 0,
         "endpoint": ep, "callback": True, "state": None}
    a.update(extra)
    return a


def _event(s, pred, timeout):
    msgs, _ = s.collect(lambda m: any(pred(x) for x in m), timeout)
    return next((x for x in msgs if pred(x)), None)


def _seen_event(s, pred):
    from .checker import parse
    return next((m for m in (parse(line) for line in s.lines) if pred(m)), None)


def _wait_event(s, pred, timeout):
    return _seen_event(s, pred) or _event(s, pred, timeout) or _seen_event(s, pred)


def _needs(st, cap, udp=True):
    caps = st.get("caps", set())
    if cap not in caps:
        return "SKIP", "capability %s not advertised" % cap
    if udp and not {"udp", "ipv4"} <= caps:
        return "SKIP", "%s advertised, but no udp+ipv4 to try it on" % cap
    return None


def check_pipelining(s, st):
    skip = _needs(st, "pipelining", udp=False)
    if skip:
        return skip
    ids = list(range(BASE + 1, BASE + 17))
    if not s.write("".join(s.request_line(i, "hello", {"protocol": "1.1"}) for i in ids)):
        return "FAIL", "the adapter stopped reading"
    msgs, why = s.collect(lambda m: set(ids) <= {x.get("id") for x in m})
    if why:
        return "FAIL", "16 requests written at once: %s" % why
    order = [x["id"] for x in msgs if x.get("id") in ids]
    if order != ids:
        return "FAIL", "replies of one thread out of order: %s" % order
    return "PASS", "16 requests written at once, 16 replies in request order"


def check_hold(s, st):
    skip = _needs(st, "hold")
    if skip:
        return skip
    ids = _Ids(BASE + 20)
    rcv, ep = _receiver()
    try:
        sock = _udp_socket(s, ids)
        if not sock:
            return "FAIL", "no socket to try hold on"
        # Begin's reply is not awaited before the release: an implementation may run
        # the callback inline inside Begin, and the hold then blocks Begin itself.
        # never released: the adapter's own bound must end it
        b1 = ids()
        s.write(s.request_line(b1, "begin_send_to", _begin(sock, ep, hold={"latch": "chk-never", "timeout_ms": 300})))
        held = _wait_event(s, lambda m: m.get("event") == "held", s.timeout)
        if not held:
            return "FAIL", "no 'held' event: " + brief(_seen_event(s, lambda m: m.get("id") == b1) or {"_garbage": "no reply"})
        r1 = held.get("result")
        cb = _wait_event(s, lambda m: m.get("event") == "callback" and m.get("result") == r1, s.timeout + 0.3)
        if cb is None or (cb.get("hold") or {}).get("by") != "timeout":
            return "FAIL", "a latch never released: wanted hold.by = timeout, got %s" % (
                brief(cb) if cb else "no callback event")
        if not _wait_event(s, lambda m: m.get("id") == b1, s.timeout):
            return "FAIL", "begin_send_to with hold not answered"
        # released: the callback goes on at once
        b2 = ids()
        s.write(s.request_line(b2, "begin_send_to", _begin(sock, ep, hold={"latch": "chk-L", "timeout_ms": 30000})))
        held = _wait_event(s, lambda m: m.get("event") == "held" and m.get("latch") == "chk-L", s.timeout)
        if not held:
            return "FAIL", "no 'held' event for the second hold"
        r2 = held.get("result")
        rel = _call(s, ids(), "release_latch", {"latch": "chk-L"})
        if not (rel or {}).get("ok") or rel["result"].get("waiters") != 1:
            return "FAIL", "release_latch with one callback waiting: " + brief(rel or {"_garbage": "no reply"})
        cb = _wait_event(s, lambda m: m.get("event") == "callback" and m.get("result") == r2, s.timeout)
        if cb is None or (cb.get("hold") or {}).get("by") != "release_latch":
            return "FAIL", "a released latch: wanted hold.by = release_latch, got %s" % (
                brief(cb) if cb else "no callback event")
        if not _wait_event(s, lambda m: m.get("id") == b2, s.timeout):
            return "FAIL", "begin_send_to with a released hold not answered"
        bad = _call(s, ids(), "begin_send_to", _begin(sock, ep, hold={"latch": "", "timeout_ms": 0}))
        if bad is None or bad.get("ok") is not False or "protocol_error" not in bad:
            return "FAIL", "a malformed hold wants protocol_error, got " + brief(bad or {"_garbage": "no reply"})
        _call(s, ids(), "close", {"socket": sock})
        return "PASS", "never released: ended by its bound (by: timeout); released: by release_latch; malformed: protocol_error"
    finally:
        rcv.close()


def _well_formed(outcomes, n):
    if not isinstance(outcomes, list) or len(outcomes) != n:
        return "wanted %d outcomes, got %r" % (n, outcomes)
    for o in outcomes:
        if not isinstance(o, dict) or not isinstance(o.get("op"), str) or not isinstance(o.get("ok"), bool):
            return "an outcome without op and boolean ok: %r" % (o,)
        if o["ok"] is False and len([k for k in FAILED if k in o]) != 1:
            return "a failed outcome wants exactly one of error/protocol_error/unsupported: %r" % (o,)
    return None


def check_callback_script(s, st):
    skip = _needs(st, "callback_script")
    if skip:
        return skip
    ids = _Ids(BASE + 40)
    rcv, ep = _receiver()
    try:
        sock = _udp_socket(s, ids)
        if not sock:
            return "FAIL", "no socket to try callback_script on"
        # nested three deep: each level ends its own operation and begins the next
        inner = []
        for _ in range(3):
            inner = [{"op": "end_send_to", "args": {"socket": sock, "result": "$self"}},
                     {"op": "begin_send_to", "args": _begin(sock, ep, callback_script=inner)}] if inner else \
                [{"op": "end_send_to", "args": {"socket": sock, "result": "$self"}}]
        rep = _call(s, ids(), "begin_send_to", _begin(sock, ep, callback_script=inner))
        if not (rep or {}).get("ok"):
            return "FAIL", "begin_send_to with a nested script: " + brief(rep or {"_garbage": "no reply"})
        r1 = rep["result"]["result"]
        cb = _wait_event(s, lambda m: m.get("event") == "callback" and m.get("result") == r1, s.timeout)
        if cb is None:
            return "FAIL", "no callback event for the nested script's operation"
        why = _well_formed(cb.get("script"), 2)
        if why:
            return "FAIL", "nested script: " + why
        if not cb["script"][0]["ok"]:
            return "FAIL", "End($self) inside the callback threw: " + brief(cb["script"][0])
        # a script that closes its own socket, then uses it
        sock2 = _udp_socket(s, ids)
        script = [{"op": "close", "args": {"socket": sock2}},
                  {"op": "end_send_to", "args": {"socket": sock2, "result": "$self"}},
                  {"op": "begin_send_to", "args": _begin(sock2, ep, callback=False)},
                  {"op": "status", "args": {"result": "$self"}}]
        rep = _call(s, ids(), "begin_send_to", _begin(sock2, ep, callback_script=script))
        r2 = ((rep or {}).get("result") or {}).get("result")
        cb = r2 and _wait_event(s, lambda m: m.get("event") == "callback" and m.get("result") == r2, s.timeout)
        if not cb:
            return "FAIL", "no callback event for the script that closes its own socket"
        why = _well_formed(cb.get("script"), 4)
        if why:
            return "FAIL", "self-closing script: " + why
        # malformed scripts: protocol_error, no operation, and the adapter goes on
        deep = []
        for _ in range(6):
            deep = [{"op": "begin_send_to", "args": _begin(sock, ep, callback_script=deep)}]
        for bad in ("not a list", [{"op": "quit"}], [{"op": "close", "args": 3}], deep):
            rep = _call(s, ids(), "begin_send_to", _begin(sock, ep, callback_script=bad))
            if rep is None or rep.get("ok") is not False or "protocol_error" not in rep:
                return "FAIL", "a malformed script %s wants protocol_error, got %s" % (
                    brief({"_garbage": repr(bad)}, 40), brief(rep or {"_garbage": "no reply"}))
        if _call(s, ids(), "close", {"socket": sock}) is None:
            return "FAIL", "the adapter stopped answering after malformed scripts"
        return "PASS", "nested 3 deep, a script closing its own socket (4 outcomes), 4 malformed scripts refused"
    finally:
        rcv.close()


def check_sync_send(s, st):
    skip = _needs(st, "sync_send")
    if skip:
        return skip
    ids = _Ids(BASE + 70)
    rcv, ep = _receiver()
    try:
        sock = _udp_socket(s, ids)
        rep = _call(s, ids(), "send_to", {"socket": sock, "buffer": {"text": "sync"}, "offset": 0,
                                          "size": 4, "flags": 0, "endpoint": ep})
        if not (rep or {}).get("ok") or rep["result"].get("bytes") != 4:
            return "FAIL", "send_to of 4 bytes: " + brief(rep or {"_garbage": "no reply"})
        try:
            got = rcv.recv(64)
        except OSError:
            got = None
        _call(s, ids(), "close", {"socket": sock})
        if got != b"sync":
            return "FAIL", "send_to returned 4 but the receiver got %r" % (got,)
        return "PASS", "send_to returned 4, the datagram arrived"
    finally:
        rcv.close()


def check_bench(s, st):
    """A small bench run: the reply's shape (benchreply.problems), the datagrams it says it
    sent arrived, and a malformed bench request is a protocol_error the adapter survives."""
    from .benchreply import Receiver, problems, WORKLOADS, TAG_UNTIMED
    skip = _needs(st, "bench")
    if skip:
        return skip
    ids = _Ids(BASE + 80)
    ops, first = 40, 3
    rcv = Receiver(rcvbuf=1 << 20)
    try:
        rid = ids()
        if not s.write(s.request_line(rid, "bench", {"endpoint": rcv.endpoint, "size": 64, "ops": ops,
                                                     "rounds": 2, "warmup": 5, "first_uses": first})):
            return "FAIL", "the adapter closed its stdin"
        rep, _ = s.reply_to(rid, timeout=max(s.timeout, 30.0))   # one run, bounded
        if not (rep or {}).get("ok"):
            return "FAIL", "bench of %d operations: %s" % (ops, brief(rep or {"_garbage": "no reply"}))
        bad = problems(rep.get("result"), ops, first)
        if bad:
            return "FAIL", "bench reply: " + "; ".join(bad[:3])
        r = rep["result"]
        want = {TAG_UNTIMED: r["untimed_sent"]}
        want.update({tag: ops for tag in WORKLOADS.values()})
        got = rcv.take(sum(want.values()), quiet=1.0)
        if got != want:
            return "FAIL", "the receiver counted %r datagrams per tag, the reply says %r were sent" % (got, want)
        rep = _call(s, ids(), "bench", {"endpoint": rcv.endpoint, "size": 64, "ops": 0})
        if rep is None or rep.get("ok") is not False or "protocol_error" not in rep:
            return "FAIL", "bench with ops 0 wants protocol_error, got %s" % brief(rep or {"_garbage": "no reply"})
        lat = r["workloads"]["documented"]["latency_us"]["steady"]
        return "PASS", "%d+%d operations, every datagram arrived; steady p50 %.1f us; ops 0 refused" % (
            ops, ops, lat["p50"])
    finally:
        rcv.close()


CHECKS_11 = (("pipelining", check_pipelining), ("hold", check_hold),
             ("callback-script", check_callback_script), ("sync-send", check_sync_send),
             ("bench", check_bench))
