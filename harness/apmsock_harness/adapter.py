"""The adapter driver: one adapter process, JSON lines over its stdin/stdout.

Requests carry ids; a reader thread dispatches replies by id and collects
events, so requests that block on one adapter thread (an End on a pending
operation) do not hold up the others.  Every wait is bounded.  The full
exchange is kept as evidence.  An adapter that exits, is killed by a signal,
stops answering or prints something that is not a protocol line is *broken*:
the pending and all later requests raise AdapterFailure with the mode
(crash, timeout, garbage, protocol) and the caller restarts it.

Invariant: the adapter leads its own process group (a new session), and
every end of it -- quit, kill on a broken case -- ends the whole group, so
nothing an adapter started (a runtime's helper, a shell's child) outlives
it, holds its stdout open, or keeps sending into the next case.
"""
import io
import json
import os
import signal
import subprocess
import threading
import time

PROTOCOL_VERSION = "1.1"
LINE_LOG_LIMIT = 4000      # characters of one line kept in the exchange log
STDERR_LIMIT = 64 * 1024   # bytes of stderr kept (the tail)
EXCHANGE_LIMIT = 20000     # lines kept in the exchange log


class AdapterFailure(Exception):
    """The adapter broke: mode is crash, timeout, garbage or protocol."""

    def __init__(self, mode, message, signal_name=None):
        super().__init__(message)
        self.mode = mode
        self.signal_name = signal_name


class Unsupported(Exception):
    """The adapter lacks a capability or answered `unsupported`."""


class ProtocolMismatch(Exception):
    """hello reported another protocol major version: a usage error."""


class Reply:
    __slots__ = ("id", "op", "ok", "result", "error", "raw", "t")

    def __init__(self, msg, op, t):
        self.id = msg.get("id")
        self.op = op
        self.ok = bool(msg.get("ok"))
        self.result = msg.get("result") or {}
        self.error = msg.get("error")
        self.raw = msg
        self.t = t

    @property
    def type(self):
        return (self.error or {}).get("type")

    @property
    def socket_error(self):
        return (self.error or {}).get("socket_error")

    def __repr__(self):
        if self.ok:
            return "<%s ok %s>" % (self.op, self.result)
        return "<%s threw %s>" % (self.op, self.error)


def parse_line(line):
    """One stdout line -> ('reply', msg) | ('event', msg); ValueError for
    anything that is not a protocol line."""
    try:
        msg = json.loads(line)
    except ValueError as e:
        raise ValueError("not JSON: %s" % e)
    if not isinstance(msg, dict):
        raise ValueError("not a JSON object")
    if "id" in msg and msg["id"] is None and msg.get("ok") is False and "protocol_error" in msg:
        # the adapter could not read the id of a line we sent (PROTOCOL.md,
        # lead's ruling): the answer to that malformed line
        return "unaddressed", msg
    if "id" in msg:
        if not isinstance(msg["id"], int) or isinstance(msg["id"], bool) or msg["id"] <= 0:
            raise ValueError("id must be a positive integer")
        if not isinstance(msg.get("ok"), bool):
            raise ValueError("reply without boolean 'ok'")
        if msg["ok"] and not isinstance(msg.get("result", {}), dict):
            raise ValueError("'result' must be an object")
        if not msg["ok"] and not any(k in msg for k in ("error", "unsupported", "protocol_error")):
            raise ValueError("failed reply without error, unsupported or protocol_error")
        if not msg["ok"] and "error" in msg and not isinstance(msg["error"], dict):
            raise ValueError("'error' must be an object")
        return "reply", msg
    if isinstance(msg.get("event"), str):
        return "event", msg
    raise ValueError("neither a reply (id) nor an event")


def signal_name(returncode):
    if returncode is not None and returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return "signal %d" % -returncode
    return None


class Pending:
    def __init__(self, adapter, rid, op):
        self.adapter = adapter
        self.id = rid
        self.op = op
        self.done = threading.Event()
        self.reply = None

    def wait(self, timeout=None):
        """The reply; AdapterFailure when the adapter broke or did not answer
        within timeout (then the adapter is broken: mode timeout)."""
        a = self.adapter
        if timeout is None:
            timeout = a.timeout
        if not self.done.wait(timeout):
            a._break(AdapterFailure(
                "timeout", "no reply to request %d (%s) within %.1f s" % (self.id, self.op, timeout)))
        if self.reply is None:
            raise a.failure
        return self.reply

    def ready(self):
        return self.done.is_set()


class Adapter:
    def __init__(self, argv, env=None, cwd=None, timeout=5.0, name="adapter"):
        self.argv = list(argv)
        self.env = env
        self.cwd = cwd
        self.timeout = timeout
        self.name = name
        self.proc = None
        self.failure = None
        self.hello = {}
        self.capabilities = set()
        self.exchange = []
        self.events = []
        self._stderr = bytearray()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._pending = {}
        self._next_id = 1
        self._t0 = time.monotonic()
        self._threads = []
        self.max_in_flight = 0     # most requests ever awaiting a reply at once

    # -------------------------------------------------------------- lifetime
    def start(self, timeout=None):
        """Starts the process and does the hello handshake."""
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=self.env, cwd=self.cwd, bufsize=0,
                start_new_session=True)
        except OSError as e:
            self.failure = AdapterFailure("crash", "cannot start %s: %s" % (self.argv, e))
            raise self.failure
        for fn in (self._read_stdout, self._read_stderr):
            t = threading.Thread(target=fn, daemon=True, name="%s-%s" % (self.name, fn.__name__))
            t.start()
            self._threads.append(t)
        r = self.call("hello", {"protocol": PROTOCOL_VERSION}, timeout=timeout)
        if not r.ok:
            self._break(AdapterFailure("protocol", "hello failed: %s" % (r.raw,)))
            raise self.failure
        self.hello = r.result
        theirs = str(r.result.get("protocol", ""))
        if theirs.split(".")[0] != PROTOCOL_VERSION.split(".")[0]:
            self.stop()
            raise ProtocolMismatch("adapter speaks protocol %r, the harness %s"
                                   % (theirs, PROTOCOL_VERSION))
        self.capabilities = set(r.result.get("capabilities") or [])
        return self.hello

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def alive(self):
        return self.failure is None and self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=2.0):
        """quit, then kill if it does not go; never raises, never hangs."""
        if self.proc is None:
            return
        if self.failure is None and self.proc.poll() is None:
            try:
                p = self.send("quit", {})
                p.done.wait(timeout)
            except AdapterFailure:
                pass
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self._kill_group()
        for t in self._threads:
            t.join(timeout)
        if self.failure is None:
            self.failure = AdapterFailure("crash", "adapter stopped")

    def kill(self):
        if self.proc is not None:
            self._kill_group()

    def _kill_group(self):
        """SIGKILL to the adapter's process group (it is the leader: pgid = pid), then
        reap the adapter.  The group outlives a leader that already exited while any
        child remains in it, so this runs after a clean quit too."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # nobody left in the group
        if self.proc.poll() is None:
            self.proc.kill()  # the leader alone, should the group be gone
        try:
            self.proc.wait(2.0)
        except subprocess.TimeoutExpired:
            pass

    def _break(self, failure):
        with self._lock:
            if self.failure is None:
                self.failure = failure
            pending = list(self._pending.values())
            self._pending.clear()
            self._cond.notify_all()
        for p in pending:
            p.done.set()
        self.kill()
        raise self.failure

    # -------------------------------------------------------------- I/O
    def _log(self, direction, line):
        if len(line) > LINE_LOG_LIMIT:
            line = line[:LINE_LOG_LIMIT] + "...(%d chars)" % len(line)
        if len(self.exchange) < EXCHANGE_LIMIT:
            self.exchange.append({"dir": direction, "line": line,
                                  "t": round(time.monotonic() - self._t0, 4)})

    def _read_stdout(self):
        # The pipes are unbuffered (bufsize=0, so a request is written at
        # once), and readline() on an unbuffered pipe reads one byte per
        # system call: about 400 us per reply on this machine, against 35 us
        # for the adapter's own round trip.  A buffered reader takes what
        # the pipe holds and still returns at each newline.
        f = io.BufferedReader(self.proc.stdout, buffer_size=1 << 16)
        failure = None
        while True:
            try:
                raw = f.readline()
            except (OSError, ValueError):
                raw = b""
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self._log("<", line)
            try:
                kind, msg = parse_line(line)
            except ValueError as e:
                failure = AdapterFailure("garbage", "adapter printed garbage (%s): %r" % (e, line[:200]))
                break
            if kind == "unaddressed":
                failure = AdapterFailure("protocol", "the adapter could not read a request: %s"
                                         % msg.get("protocol_error"))
                break
            if kind == "event":
                with self._lock:
                    msg["_t"] = round(time.monotonic() - self._t0, 4)
                    self.events.append(msg)
                    self._cond.notify_all()
                continue
            with self._lock:
                p = self._pending.pop(msg["id"], None)
            if p is None:
                failure = AdapterFailure("garbage", "reply to unknown id %r: %r" % (msg["id"], line[:200]))
                break
            p.reply = Reply(msg, p.op, time.monotonic() - self._t0)
            p.done.set()
        if failure is None:
            rc = None
            try:
                rc = self.proc.wait(2.0)
            except subprocess.TimeoutExpired:
                pass
            sig = signal_name(rc)
            if sig:
                failure = AdapterFailure("crash", "adapter killed by %s" % sig, sig)
            else:
                failure = AdapterFailure("crash", "adapter closed its stdout (exit status %s)" % rc)
        try:
            self._break(failure)
        except AdapterFailure:
            pass

    def _read_stderr(self):
        f = self.proc.stderr
        while True:
            try:
                chunk = f.read1(4096) if hasattr(f, "read1") else f.read(4096)
            except (OSError, ValueError):
                break
            if not chunk:
                break
            with self._lock:
                self._stderr += chunk
                if len(self._stderr) > STDERR_LIMIT:
                    del self._stderr[:len(self._stderr) - STDERR_LIMIT]
                self._cond.notify_all()

    def stderr_text(self, since=0):
        with self._lock:
            return bytes(self._stderr[since:]).decode("utf-8", "replace")

    def wait_stderr(self, pred, timeout=None):
        """Waits until pred(stderr text) is truthy (the stderr reader lags the
        replies); returns the last value, falsy after timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._lock:
            while True:
                v = pred(bytes(self._stderr).decode("utf-8", "replace"))
                left = deadline - time.monotonic()
                if v or left <= 0:
                    return v
                self._cond.wait(left)

    def stderr_mark(self):
        with self._lock:
            return len(self._stderr)

    # -------------------------------------------------------------- requests
    def send(self, op, args=None, thread=None):
        """Writes a request; returns a Pending to wait on."""
        if self.failure is not None:
            raise self.failure
        with self._lock:
            rid = self._next_id
            self._next_id += 1
            req = {"id": rid, "op": op, "args": args or {}}
            if thread is not None:
                req["thread"] = thread
            line = json.dumps(req, separators=(",", ":"))
            p = Pending(self, rid, op)
            self._pending[rid] = p
            self.max_in_flight = max(self.max_in_flight, len(self._pending))
            self._log(">", line)
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError) as e:
            rc = self.proc.poll()
            sig = signal_name(rc)
            self._break(AdapterFailure("crash", "cannot write to the adapter (%s; exit %s)" % (e, rc), sig))
        return p

    def call(self, op, args=None, thread=None, timeout=None):
        """Sends and waits.  Returns the Reply (ok or threw); raises
        Unsupported, or AdapterFailure(protocol) for a protocol_error."""
        return self._judge(self.send(op, args, thread).wait(timeout), op)

    # ---------------------------------------------------------- protocol 1.1
    def collect(self, pendings, timeout=None):
        """The replies of requests sent with send(), in the order given, each
        judged as call() judges it.  timeout bounds the whole wait."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        return [self._judge(p.wait(max(0.0, deadline - time.monotonic())), p.op) for p in pendings]

    def pipeline(self, requests, window=64, thread=None, timeout=None):
        """Sends (op, args) pairs without waiting for each reply, keeping at
        most `window` awaiting a reply (capability `pipelining`); returns the
        replies in request order.  Requests on one adapter thread run in the
        order sent (PROTOCOL.md); timeout bounds each reply."""
        sent, out = [], []
        for op, args in requests:
            if len(sent) - len(out) >= window:
                p = sent[len(out)]
                out.append(self._judge(p.wait(timeout), p.op))
            sent.append(self.send(op, args, thread))
        for p in sent[len(out):]:
            out.append(self._judge(p.wait(timeout), p.op))
        return out

    def _judge(self, r, op):
        if not r.ok and "unsupported" in r.raw:
            raise Unsupported("%s: %s" % (op, r.raw["unsupported"]))
        if not r.ok and "protocol_error" in r.raw:
            self._break(AdapterFailure("protocol", "%s: protocol_error: %s" % (op, r.raw["protocol_error"])))
        return r

    # -------------------------------------------------------------- events
    def wait_for(self, pred, timeout=None, start=0):
        """Waits until pred(events[start:]) is truthy; returns its value or
        None when timeout elapses.  Raises the failure if the adapter broke."""
        if timeout is None:
            timeout = self.timeout
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                v = pred(self.events[start:])
                if v:
                    return v
                if self.failure is not None:
                    raise self.failure
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def events_of(self, kind, start=0):
        with self._lock:
            return [e for e in self.events[start:] if e.get("event") == kind]
