"""The per-case context (`h` in the cases): the adapter session, the peers,
the judge, and the evidence that goes with the verdict.

Cases use it as:  observe through h (sockets, Begin/End, peers), then judge
with h.check(lambda profile: ...).  Everything a case opens is closed at the
end, even when it failed.
"""
import time

import pytest

from . import net
from .adapter import AdapterFailure, Unsupported
from .verdict import Judge

FAMILY = {"v4": "inet", "v6": "inet6"}
TYPE = {"udp": "dgram", "tcp": "stream"}
BEGIN = {"send": "begin_send", "send_to": "begin_send_to"}
END = {"send": "end_send", "send_to": "end_send_to"}
CALLBACK_TIMEOUT = 5.0
AUTO = object()   # BeginSendTo's remoteEP: the stream's peer, or what the case gives


class SetupFailure(AssertionError):
    """A step the case needs (socket, bind, connect...) threw: the
    implementation failed before the clause could be checked."""


def text(s):
    return {"text": s}


def hexbuf(b):
    return {"hex": bytes(b).hex()}


def pat(length, seed=0):
    return {"pattern": {"length": length, "seed": seed}}


def buffer_bytes(buf):
    if buf is None:
        return None
    if "text" in buf:
        return buf["text"].encode("ascii")
    if "hex" in buf:
        return bytes.fromhex(buf["hex"])
    p = buf["pattern"]
    return net.pattern(p["length"], p["seed"])


class Case:
    _states = 0

    def __init__(self, adapter, profile, clause, level):
        self.a = adapter
        self.profile = profile
        self.clause = clause
        self.level = level
        self.judge = Judge(profile)
        self.peers = []
        self.sockets = []
        self.threads = []
        self.infos = {}
        self.timeline = []
        self.reset_policy = False
        self.reset_trace = False
        self._t0 = time.monotonic()
        self.mark_exchange = len(adapter.exchange) if adapter else 0
        self.mark_events = len(adapter.events) if adapter else 0
        self.mark_stderr = adapter.stderr_mark() if adapter else 0
        self._sentinels = 0
        self.peer_of = {}   # stream socket -> its peer's endpoint (remoteEP for send_to)

    # ---------------------------------------------------------- bookkeeping
    def note(self, what):
        self.timeline.append({"t": round(time.monotonic() - self._t0, 4), "what": what})

    def info(self, **kv):
        self.infos.update(kv)

    def check(self, fn, key=None):
        """key: this check's failure signature, when the one made from its
        code (signature.py) is not the right identity."""
        self.judge.check(fn, key=key)

    def require(self, *caps):
        missing = [c for c in caps if c not in self.a.capabilities]
        if missing:
            raise Unsupported("the adapter lacks capability %s" % ", ".join(missing))

    def add_peer(self, peer):
        self.peers.append(peer)
        return peer

    def evidence(self, full=True):
        a = self.a
        ev = {"timeline": self.timeline}
        if a is not None:
            ex = a.exchange[self.mark_exchange:]
            if not full and len(ex) > 40:
                ex = ex[:40] + [{"dir": "<", "line": "... %d more lines" % (len(ex) - 40)}]
            t0 = ex[0].get("t", 0.0) if ex else 0.0
            ev["exchange"] = [{"dir": e["dir"], "line": e["line"], "t": round(e.get("t", t0) - t0, 4)}
                              if "t" in e else {"dir": e["dir"], "line": e["line"]} for e in ex]
            if a.failure is not None and a.failure.mode in ("crash", "timeout", "garbage", "protocol") \
                    and str(a.failure) != "adapter stopped":
                ev["exchange"].append({"dir": "!", "line": "adapter broke (%s): %s" % (a.failure.mode, a.failure)})
            err = a.stderr_text(self.mark_stderr)
            if err:
                ev["stderr"] = err[-8000:]
        ev["peers"] = [p.evidence() for p in self.peers]
        if self.infos:
            ev["info"] = self.infos
        return ev

    def cleanup(self):
        for p in self.peers:
            p.close()
        a = self.a
        if a is None or not a.alive:
            return
        try:
            for t in self.threads:
                a.call("thread_exit", {"thread": t}, timeout=5.0)
            for s in self.sockets:
                a.call("close", {"socket": s})
            if self.reset_policy:
                a.call("policy", {"deny": None})
            if self.reset_trace:
                a.call("trace", {"on": False})
        except (AdapterFailure, Unsupported):
            pass

    # ---------------------------------------------------------- requests
    def call(self, op, run_on=None, timeout=None, **args):
        """A request; `run_on` names the adapter thread to run it on."""
        return self.a.call(op, args, thread=run_on, timeout=timeout)

    def ok(self, op, run_on=None, timeout=None, **args):
        r = self.call(op, run_on=run_on, timeout=timeout, **args)
        if not r.ok:
            raise SetupFailure("%s %s threw %s: %s" % (op, args, r.type, (r.error or {}).get("message")))
        return r.result

    def socket(self, ip, proto):
        self.require(proto, "ipv4" if ip == "v4" else "ipv6")
        s = self.ok("socket", family=FAMILY[ip], type=TYPE[proto])["socket"]
        self.sockets.append(s)
        return s

    def option(self, s, name, value):
        self.require(name)
        self.ok("set_option", socket=s, name=name, value=value)

    def thread(self):
        self.require("threads")
        r = self.ok("thread_start")
        self.threads.append(r["thread"])
        return r["thread"], r.get("identity")

    def thread_exit(self, t):
        self.ok("thread_exit", thread=t, timeout=10.0)
        self.threads.remove(t)

    def begin_args(self, method, s, buf, offset=0, size=None, flags=0, endpoint=AUTO,
                   callback=True, end_in_callback=False, state=None, **extra):
        """The args of a Begin request; extra: protocol 1.1's hold, callback_script."""
        if size is None:
            b = buffer_bytes(buf)
            size = len(b) if b is not None else 0
        args = {"socket": s, "buffer": buf, "offset": offset, "size": size, "flags": flags,
                "callback": callback, "end_in_callback": end_in_callback, "state": state}
        if method == "send_to":
            args["endpoint"] = self.peer_of.get(s) if endpoint is AUTO else endpoint
        args.update(extra)
        return args

    def begin(self, method, s, buf, offset=0, size=None, flags=0, endpoint=AUTO,
              callback=True, end_in_callback=False, state=None, thread=None, **extra):
        args = self.begin_args(method, s, buf, offset, size, flags, endpoint, callback,
                               end_in_callback, state, **extra)
        return self.a.call(BEGIN[method], args, thread=thread)

    def sync_send(self, method, s, buf, endpoint=AUTO, flags=0, thread=None):
        """Socket.Send / SendTo, the synchronous call (protocol 1.1, `sync_send`)."""
        self.require("sync_send")
        args = self.begin_args(method, s, buf, flags=flags, endpoint=endpoint)
        for k in ("callback", "end_in_callback", "state"):
            del args[k]
        return self.a.call("send" if method == "send" else "send_to", args, thread=thread)

    def release_latch(self, latch):
        return self.ok("release_latch", latch=latch)

    def wait_event(self, kind, result, timeout=CALLBACK_TIMEOUT):
        """The first `kind` event ("held", "callback") of result; None after timeout."""
        def have(evs):
            return next((e for e in evs if e.get("event") == kind and e.get("result") == result), None)
        return self.a.wait_for(have, timeout, self.mark_events)

    def end(self, method, s, result, thread=None, timeout=None):
        return self.call(END[method], run_on=thread, timeout=timeout, socket=s, result=result)

    def send_all(self, method, s, buf, endpoint=AUTO, flags=0):
        """Begin + End that must both succeed; returns the byte count."""
        r = self.begin(method, s, buf, endpoint=endpoint, flags=flags)
        if not r.ok:
            raise SetupFailure("%s threw %s" % (BEGIN[method], r.error))
        e = self.end(method, s, r.result["result"])
        if not e.ok:
            raise SetupFailure("%s threw %s" % (END[method], e.error))
        return e.result["bytes"]

    def outcome(self, method, s, buf, endpoint=AUTO, flags=0, offset=0, size=None,
                callback=True, timeout=None):
        """Begin then (if it started) End: {"at": "begin"|"end"|None, "error",
        "bytes", "result", "begin", "end"}.  The place an error surfaced is what
        the profiles judge."""
        b = self.begin(method, s, buf, offset=offset, size=size, flags=flags,
                       endpoint=endpoint, callback=callback)
        out = {"begin": b, "end": None, "at": None, "error": None, "bytes": None,
               "result": None}
        if not b.ok:
            out["at"], out["error"] = "begin", b.error
            self.note("%s threw %s%s" % (BEGIN[method], (b.error or {}).get("type"),
                                         ":" + str(b.error.get("socket_error")) if (b.error or {}).get("socket_error") else ""))
            return out
        out["result"] = b.result["result"]
        e = self.end(method, s, out["result"], timeout=timeout)
        out["end"] = e
        if e.ok:
            out["bytes"] = e.result.get("bytes")
            self.note("%s returned %s" % (END[method], out["bytes"]))
        else:
            out["at"], out["error"] = "end", e.error
            self.note("%s threw %s%s" % (END[method], (e.error or {}).get("type"),
                                         ":" + str(e.error.get("socket_error")) if (e.error or {}).get("socket_error") else ""))
        return out

    # ---------------------------------------------------------- events
    def callbacks(self, result=None):
        evs = self.a.events_of("callback", self.mark_events)
        if result is None:
            return evs
        return [e for e in evs if e.get("result") == result]

    def wait_callback(self, result, timeout=CALLBACK_TIMEOUT, count=1):
        """The callback events of result once there are `count` of them; None
        after timeout."""
        start = self.mark_events

        def have(evs):
            got = [e for e in evs if e.get("event") == "callback" and e.get("result") == result]
            return got if len(got) >= count else None

        return self.a.wait_for(have, timeout, start)

    def traces(self):
        return [e.get("record", {}) for e in self.a.events_of("trace", self.mark_events)]

    def unique_state(self, tag):
        """A state string no other case uses: callbacks of an earlier case on
        the same adapter may still arrive (End can return before the callback
        runs), so a case recognises its own by state or result name."""
        Case._states += 1
        return "%s-%d-%d" % (tag, id(self) & 0xffff, Case._states)

    def sentinel(self):
        self._sentinels += 1
        return ("SENTINEL-%d" % self._sentinels).encode()


def expect_error(out, type_, socket_error=None, param=None, where=None, what=""):
    """Assertion helper: the outcome threw type_ (with socket_error, param)
    from `where` ("begin", "end" or None for either)."""
    err = out["error"]
    label = what or "the operation"
    assert err is not None, "%s: expected %s%s, but it succeeded (%s bytes)" % (
        label, type_.rsplit(".", 1)[-1], " " + socket_error if socket_error else "", out.get("bytes"))
    assert err.get("type") == type_, "%s: expected %s, got %s (%s)" % (
        label, type_, err.get("type"), err.get("message"))
    if socket_error is not None:
        assert err.get("socket_error") == socket_error, "%s: expected SocketError %s, got %s (%s)" % (
            label, socket_error, err.get("socket_error"), err.get("socket_error_code"))
    if param is not None:
        assert err.get("param") == param, "%s: expected ParamName %r, got %r" % (
            label, param, err.get("param"))
    if where is not None:
        assert out["at"] == where, "%s: %s surfaced from %s, the documents say from %s" % (
            label, socket_error or type_, out["at"].capitalize() if out["at"] else "?",
            where.capitalize())


def skip_unsupported(e):
    pytest.skip("UNSUPPORTED: %s" % e)
