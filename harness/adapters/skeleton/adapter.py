#!/usr/bin/python3
"""A skeleton apmsock adapter: the protocol (harness/PROTOCOL.md) is done, the operations
are yours to fill in. Python 3 standard library only; copy this file anywhere.

What is done, and what each part promises:
  - the loop: one JSON object per stdin line, one reply per request carrying its id,
    every stdout line written whole under one lock and flushed;
  - malformed lines: not JSON, or no readable positive integer id -> {"id": null, "ok": false,
    "protocol_error"}; an op nobody defined -> protocol_error with the request's id;
  - threads: `thread_start` / `thread_exit` and the request's `thread` field (each named
    thread runs its requests in order, so a blocked End holds up that thread only);
  - names: sockets "s1", results "r1", threads "t1", never reused;
  - values: buffers (null, hex, text, pattern) and endpoints decoded for you;
  - answers: return a dict (ok), raise Threw(...) (the implementation threw), Unsupported
    (a capability you lack), ProtocolError (the request itself is wrong);
  - events: callback_event() numbers callbacks in the order they ran;
  - hello and quit.
What is yours: every function under "OPERATIONS" raises Unsupported until you write it.
List in CAPABILITIES only what works: a case needing a missing capability is UNSUPPORTED,
not FAIL. Check your work with
    harness/conform --check-adapter --adapter-cmd 'python3 path/to/adapter.py'
then run the cases with --adapter-cmd instead of --check-adapter (harness/adapters/skeleton/README.md).
"""
import json
import os
import queue
import re
import sys
import threading

PROTOCOL = "1.0"
IMPLEMENTATION = "my-implementation"   # what your hello says you are
VERSION = "0.0"
CONTRACT = "1.0"                        # the behaviour contract you follow (PROTOCOL.md, "contract")
CAPABILITIES = []                       # e.g. ["udp", "ipv4", "threads"] once they work


# ---------------------------------------------------------------- answers
class Threw(Exception):
    """The implementation threw: the reply is {"ok": false, "error": {...}}."""

    def __init__(self, type_, message="", param=None, socket_error=None, errno_value=None):
        super().__init__(message)
        code = SOCKET_ERRORS.get(socket_error, {}).get("code") if socket_error else None
        self.error = {"type": type_, "param": param, "socket_error": socket_error,
                      "socket_error_code": code, "errno": errno_value, "message": message}


class Unsupported(Exception):
    """A capability the adapter lacks: {"ok": false, "unsupported": why}."""


class ProtocolError(Exception):
    """The request is wrong (unknown name, bad argument): {"ok": false, "protocol_error": why}."""


def load_socket_errors():
    """{SocketError name: {"code", "errno"}} from fixtures/socket-errors.yaml when this file
    sits in the apmsock checkout (one flow mapping per line: read without a YAML library)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                        "fixtures", "socket-errors.yaml")
    table = {}
    try:
        with open(path, encoding="utf-8") as f:
            for m in re.finditer(r"\{name: (\w+), code: (-?\d+), errno: (\w+)", f.read()):
                table[m.group(1)] = {"code": int(m.group(2)),
                                     "errno": None if m.group(3) == "null" else m.group(3)}
    except OSError:
        pass
    return table


SOCKET_ERRORS = load_socket_errors()
ERRNO_TO_SOCKET_ERROR = {v["errno"]: k for k, v in SOCKET_ERRORS.items() if v["errno"]}


# ---------------------------------------------------------------- output
_out_lock = threading.Lock()
_seq = [0]


def write_line(obj):
    line = json.dumps(obj, separators=(",", ":")) + "\n"
    with _out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def callback_event(result, thread, is_completed, state, end=None):
    """Call from inside the AsyncCallback: {"event": "callback", ...}; seq numbers the
    callbacks in the order they ran. end: {"ok": True, "bytes": n} or {"ok": False, "error": {...}}
    when the request asked for end_in_callback."""
    with _out_lock:
        _seq[0] += 1
        ev = {"event": "callback", "seq": _seq[0], "result": result, "thread": thread,
              "is_completed": is_completed, "state": state}
        if end is not None:
            ev["end"] = end
        sys.stdout.write(json.dumps(ev, separators=(",", ":")) + "\n")
        sys.stdout.flush()


def log_event(message):
    write_line({"event": "log", "message": message})


def thread_identity():
    """The opaque identity of the calling thread (equal strings: same thread)."""
    return "tid:%d" % threading.get_native_id()


# ---------------------------------------------------------------- names and values
class Names:
    """Objects by the names the adapter gives them: s1, r1, t1 ... never reused."""

    def __init__(self, prefix):
        self.prefix, self.n, self.objs, self.lock = prefix, 0, {}, threading.Lock()

    def add(self, obj):
        with self.lock:
            self.n += 1
            name = "%s%d" % (self.prefix, self.n)
            self.objs[name] = obj
            return name

    def get(self, name, what):
        with self.lock:
            if name not in self.objs:
                raise ProtocolError("unknown %s %r" % (what, name))
            return self.objs[name]

    def drop(self, name):
        with self.lock:
            self.objs.pop(name, None)


SOCKETS, RESULTS = Names("s"), Names("r")


def arg(args, key, kind=None):
    if key not in args:
        raise ProtocolError("argument %r missing" % key)
    v = args[key]
    if kind is not None and not isinstance(v, kind):
        raise ProtocolError("argument %r: wrong type" % key)
    return v


def buffer_arg(b):
    """The byte[]: None (null), or bytes from {"hex"}, {"text"} or {"pattern": {length, seed}}."""
    if b is None:
        return None
    if not isinstance(b, dict) or len(b) != 1:
        raise ProtocolError("a buffer is null or one of hex, text, pattern")
    (kind, v), = b.items()
    try:
        if kind == "hex":
            return bytes.fromhex(v)
        if kind == "text":
            return v.encode("ascii")
        if kind == "pattern" and v["length"] >= 0:
            return bytes((v["seed"] + i) % 251 for i in range(v["length"]))
    except (TypeError, ValueError, KeyError, AttributeError, UnicodeEncodeError):
        pass
    raise ProtocolError("bad buffer %r" % (b,))


def endpoint_arg(ep):
    """(address, port) or None for the null endpoint."""
    if ep is None:
        return None
    try:
        return ep["address"], int(ep["port"])
    except (TypeError, KeyError, ValueError):
        raise ProtocolError("bad endpoint %r" % (ep,))


# ---------------------------------------------------------------- OPERATIONS (yours)
# Each takes the request's args (a dict) and returns the result dict, or raises
# Threw / Unsupported / ProtocolError. They run on the thread the request names
# (the main worker without one). PROTOCOL.md gives every op's args and result.

def op_socket(args):           # {"family": "inet"|"inet6", "type": "stream"|"dgram"} -> {"socket": SOCKETS.add(s)}
    raise Unsupported("socket: not implemented yet")


def op_bind(args):             # {"socket", "endpoint"} -> {}
    raise Unsupported("bind: not implemented yet")


def op_connect(args):          # {"socket", "endpoint", "how": "connect"|"begin_connect"} -> {}
    raise Unsupported("connect: not implemented yet")


def op_listen(args):           # {"socket", "backlog"} -> {}
    raise Unsupported("listen: not implemented yet")


def op_accept(args):           # {"socket", "how"} -> {"socket": name of the new socket}
    raise Unsupported("accept: not implemented yet")


def op_set_option(args):       # {"socket", "name", "value"} -> {}
    raise Unsupported("set_option: not implemented yet")


def op_get_option(args):       # {"socket", "name"} -> {"value"}
    raise Unsupported("get_option: not implemented yet")


def op_local_endpoint(args):   # {"socket"} -> {"endpoint": {...} or None}
    raise Unsupported("local_endpoint: not implemented yet")


def op_remote_endpoint(args):  # {"socket"} -> {"endpoint": {...} or None}
    raise Unsupported("remote_endpoint: not implemented yet")


def op_shutdown(args):         # {"socket", "how": "send"|"receive"|"both"} -> {}
    raise Unsupported("shutdown: not implemented yet")


def op_close(args):            # {"socket"} -> {}
    raise Unsupported("close: not implemented yet")


def op_begin_send(args):
    # {"socket", "buffer", "offset", "size", "flags", "callback", "end_in_callback", "state"}
    # -> {"result": RESULTS.add(ar), "thread": thread_identity(), "completed_synchronously": bool}
    # The AsyncCallback, when asked for, calls callback_event(...) (after End, with
    # end_in_callback); it may run before this reply is written: that is allowed.
    raise Unsupported("begin_send: not implemented yet")


def op_begin_send_to(args):    # as begin_send, plus "endpoint" (may be None)
    raise Unsupported("begin_send_to: not implemented yet")


def op_end_send(args):         # {"socket", "result": name or None} -> {"bytes": n}
    raise Unsupported("end_send: not implemented yet")


def op_end_send_to(args):      # as end_send
    raise Unsupported("end_send_to: not implemented yet")


def op_status(args):           # {"result"} -> {"is_completed", "completed_synchronously", "state"}
    raise Unsupported("status: not implemented yet")


def op_wait(args):             # {"result", "timeout_ms"} -> {"signaled"}; timeout_ms -1: no limit
    raise Unsupported("wait: not implemented yet")


def op_release(args):          # {"result"} -> {}; the harness is done with it: drop what you hold
    raise Unsupported("release: not implemented yet")


def op_trace(args):            # {"on": bool} -> {}; capability "trace"
    raise Unsupported("trace: not implemented yet")


def op_stats(args):            # {} -> counters; capability "stats"
    raise Unsupported("stats: not implemented yet")


def op_cleanup(args):          # {} -> {}; capability "cleanup": the implementation's process-wide teardown
    raise Unsupported("cleanup: not implemented yet")


def op_policy(args):           # {"deny": [endpoint, ...] or None} -> {}; capability "policy"
    raise Unsupported("policy: not implemented yet")


# ---------------------------------------------------------------- the loop (done)
def op_hello(args):
    return {"implementation": IMPLEMENTATION, "version": VERSION, "protocol": PROTOCOL,
            "contract": CONTRACT, "capabilities": CAPABILITIES, "thread": MAIN.identity}


OPS = {name[3:]: fn for name, fn in globals().items() if name.startswith("op_")}


def run_request(req):
    rid, op, args = req["id"], req["op"], req["args"]
    try:
        reply = {"id": rid, "ok": True, "result": OPS[op](args)}
    except Threw as e:
        reply = {"id": rid, "ok": False, "error": e.error}
    except Unsupported as e:
        reply = {"id": rid, "ok": False, "unsupported": str(e)}
    except ProtocolError as e:
        reply = {"id": rid, "ok": False, "protocol_error": str(e)}
    except Exception as e:  # the adapter's own bug: say so on the protocol, keep going
        reply = {"id": rid, "ok": False, "protocol_error": "adapter bug: %r" % (e,)}
    write_line(reply)


class Worker:
    """One thread running its requests in order; None in its queue ends it."""

    def __init__(self, name):
        self.name, self.q, self.identity = name, queue.Queue(), None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)

    def _main(self):
        self.identity = thread_identity()
        self.ready.set()
        while True:
            req = self.q.get()
            if req is None:
                return
            run_request(req)


MAIN = Worker("main")
THREADS = Names("t")
JOINERS = []   # thread_exit replies still to come: quit answers after them


def _no_duplicates(pairs):
    """A key given twice makes the line unreadable (which "id" was meant?)."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key given twice")
    return dict(pairs)


def handle_line(line):
    """One stdin line; True when it ends the session (quit)."""
    if not line.strip():
        return False
    try:
        req = json.loads(line, object_pairs_hook=_no_duplicates)
    except ValueError as e:
        write_line({"id": None, "ok": False, "protocol_error": "not JSON: %s" % e})
        return False
    rid = req.get("id") if isinstance(req, dict) else None
    if not isinstance(rid, int) or isinstance(rid, bool) or rid <= 0:
        write_line({"id": None, "ok": False, "protocol_error": "a request needs a positive integer id"})
        return False
    op, args = req.get("op"), req.get("args", {})
    if not isinstance(op, str) or not isinstance(args, dict):
        write_line({"id": rid, "ok": False, "protocol_error": "op must be a string, args an object"})
        return False
    if op == "quit":
        return True
    if op == "thread_start":
        w = Worker("worker")
        name = THREADS.add(w)
        w.thread.start()
        w.ready.wait()
        write_line({"id": rid, "ok": True, "result": {"thread": name, "identity": w.identity}})
        return False
    if op == "thread_exit":
        try:
            w = THREADS.get(args.get("thread"), "thread")
        except ProtocolError as e:
            write_line({"id": rid, "ok": False, "protocol_error": str(e)})
            return False
        THREADS.drop(args.get("thread"))

        def join_then_reply():   # the reply says the thread has ended
            w.q.put(None)
            w.thread.join()
            write_line({"id": rid, "ok": True, "result": {}})
        joiner = threading.Thread(target=join_then_reply, daemon=True)
        JOINERS.append(joiner)
        joiner.start()
        return False
    if op not in OPS:
        write_line({"id": rid, "ok": False, "protocol_error": "unknown op %r" % op[:64]})
        return False
    worker = MAIN
    if req.get("thread") is not None:
        try:
            worker = THREADS.get(req["thread"], "thread")
        except ProtocolError as e:
            write_line({"id": rid, "ok": False, "protocol_error": str(e)})
            return False
    worker.q.put({"id": rid, "op": op, "args": args})
    return False


def main():
    MAIN.thread.start()
    MAIN.ready.wait()
    quit_id = None
    for line in sys.stdin:
        if handle_line(line):
            quit_id = json.loads(line)["id"]
            break
    # quit or end of input: finish what was queued, end the threads, then answer quit
    for w in [MAIN] + list(THREADS.objs.values()):
        w.q.put(None)
    MAIN.thread.join()
    for j in JOINERS:
        j.join()
    # clean up your implementation here (close what is still open)
    if quit_id is not None:
        write_line({"id": quit_id, "ok": True, "result": {}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
