"""The adapter protocol checker: `harness/conform --check-adapter --adapter-cmd 'CMD ARGS'`.

Before a new adapter meets any clause case, this drives it over the bare protocol
(PROTOCOL.md) and gives each rule a one-line verdict, so its author learns "my framing is
wrong" rather than 300 ERROR(garbage) cases. The checks, in the order they run:

  hello           the first request is answered: ok, same protocol major, implementation,
                  version, contract, capabilities (strings), thread (a string)
  framing         every stdout line is one JSON object ending in \\n; two requests written
                  at once get two replies; a blank line gets none
  unknown-op      an op nobody defined gets ok:false with protocol_error (or unsupported)
                  carrying the request's id, and the adapter goes on
  malformed-json  a line that is not JSON gets {"id": null, "ok": false, "protocol_error"};
                  valid JSON with an integer beyond 64 bits is answered with its own id
  error-shape     every ok:false reply holds exactly one of error / unsupported /
                  protocol_error; an `error` (End(null) on a UDP socket provokes one) has
                  type, param, socket_error, socket_error_code, errno, message
  one-reply-per-id  over the whole session: every id answered exactly once, no reply to an
                  id never sent, no reply without an id except to unreadable lines
  pipelining, hold, callback-script, sync-send, bench
                  protocol 1.1, each only when advertised (else SKIP): checker11.py
  quit            quit is answered, then the adapter exits 0 and closes its stdout

The checker talks to the process itself (not through adapter.Adapter, which stops at the
first garbage line): it has to see what the adapter does after a broken rule too.
Every wait is bounded (--request-timeout, default 5 s). The adapter leads its own process
group, which is killed at the end.

Exit status (README contract): 0 every check passed (SKIP is not a failure), 1 a check
failed, 3 the checker itself broke, 4 usage (no command, or it cannot be started).
"""
import io
import json
import os
import queue
import signal
import subprocess
import threading
import time

from .adapter import PROTOCOL_VERSION

ERROR_KEYS = ("type", "param", "socket_error", "socket_error_code", "errno", "message")
FAILED_KINDS = ("error", "unsupported", "protocol_error")
EXIT_OK, EXIT_FAIL, EXIT_HARNESS, EXIT_USAGE = 0, 1, 3, 4


class CannotStart(Exception):
    pass


class Session:
    """One adapter process: raw lines in, every stdout line kept in order."""

    def __init__(self, argv, timeout, env=None, cwd=None):
        self.timeout = timeout
        self.lines = []            # every stdout line (str, without \n), in order
        self.unterminated = False  # stdout ended inside a line
        self.sent = {}             # id -> op of every request with an id
        self._q = queue.Queue()
        self.stderr = bytearray()
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, bufsize=0, env=env, cwd=cwd,
                                         start_new_session=True)
        except OSError as e:
            raise CannotStart("cannot start %s: %s" % (" ".join(argv), e))
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_out(self):
        out = io.BufferedReader(self.proc.stdout, buffer_size=1 << 16)  # a byte per read() otherwise
        while True:
            raw = out.readline()
            if not raw:
                break
            if not raw.endswith(b"\n"):
                self.unterminated = True
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            self._q.put(line)
        self._q.put(None)  # end of stdout

    def _read_err(self):
        while True:
            chunk = self.proc.stderr.read(4096)
            if not chunk:
                break
            self.stderr += chunk
            del self.stderr[:-65536]

    def write(self, text):
        """Writes raw text; False when the adapter no longer reads."""
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def request_line(self, rid, op, args=None):
        self.sent[rid] = op
        return json.dumps({"id": rid, "op": op, "args": {} if args is None else args}) + "\n"

    def collect(self, want, timeout=None):
        """Reads lines until want(list of parsed messages so far) is true, stdout ends or
        the timeout elapses. Returns (messages, reason): reason None, "eof" or "timeout".
        A line that is not a JSON object is kept as {"_garbage": line}."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        got = []
        while not want(got):
            left = deadline - time.monotonic()
            if left <= 0:
                return got, "timeout"
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                return got, "timeout"
            if line is None:
                self._q.put(None)  # stays at end of stdout for later calls
                return got, "eof"
            got.append(parse(line))
        return got, None

    def reply_to(self, rid, timeout=None):
        msgs, why = self.collect(lambda m: any(x.get("id") == rid for x in m), timeout)
        for m in msgs:
            if m.get("id") == rid:
                return m, msgs
        return None, msgs

    def end(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            pass
        for t in self._threads:
            t.join(self.timeout)


def parse(line):
    try:
        msg = json.loads(line)
    except ValueError:
        return {"_garbage": line}
    return msg if isinstance(msg, dict) else {"_garbage": line}


def brief(msg, n=160):
    text = msg["_garbage"] if "_garbage" in msg else json.dumps(msg, separators=(",", ":"))
    return text if len(text) <= n else text[:n] + "..."


# ---------------------------------------------------------------- the checks
# Each takes the session and the shared state, returns (verdict, one line).

def check_hello(s, st):
    if not s.write(s.request_line(1, "hello", {"protocol": PROTOCOL_VERSION})):
        return "FAIL", "the adapter does not read its stdin"
    rep, msgs = s.reply_to(1)
    if rep is None:
        return "FAIL", "no reply to hello (id 1) within %.1f s%s" % (
            s.timeout, "; it printed: " + brief(msgs[0]) if msgs else "")
    if rep.get("ok") is not True or not isinstance(rep.get("result"), dict):
        return "FAIL", "hello not ok: " + brief(rep)
    r = rep["result"]
    missing = [k for k in ("implementation", "version", "protocol", "contract", "capabilities", "thread")
               if k not in r]
    if missing:
        return "FAIL", "hello's result lacks " + ", ".join(missing)
    if str(r["protocol"]).split(".")[0] != PROTOCOL_VERSION.split(".")[0]:
        return "FAIL", "protocol %r: the harness speaks %s (same major needed)" % (r["protocol"], PROTOCOL_VERSION)
    caps = r["capabilities"]
    if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
        return "FAIL", "capabilities must be a list of strings, got %r" % (caps,)
    if not isinstance(r["thread"], str) or not r["thread"]:
        return "FAIL", "thread must be a non-empty string (the main thread's identity)"
    st["caps"] = set(caps)
    return "PASS", "%s %s, protocol %s, contract %s, capabilities: %s" % (
        r["implementation"], r["version"], r["protocol"], r["contract"], ", ".join(caps) or "none")


def check_framing(s, st):
    # two requests in one write, a blank line between: two replies, nothing for the blank
    if not s.write(s.request_line(2, "hello", {"protocol": PROTOCOL_VERSION}) + "\n"
                   + s.request_line(3, "hello", {"protocol": PROTOCOL_VERSION})):
        return "FAIL", "the adapter stopped reading"
    msgs, why = s.collect(lambda m: {2, 3} <= {x.get("id") for x in m})
    if why:
        return "FAIL", "two requests written at once: %s after %d line(s)%s" % (
            "no more output" if why == "eof" else "timeout", len(msgs),
            " (" + brief(msgs[-1]) + ")" if msgs else "")
    bad = [line for line in s.lines if "_garbage" in parse(line)]
    if bad:
        return "FAIL", "a stdout line that is not one JSON object: %r" % bad[0][:160]
    if s.unterminated:
        return "FAIL", "a stdout line without its \\n"
    return "PASS", "one JSON object per line; two requests in one write got two replies"


def check_unknown_op(s, st):
    if not s.write(s.request_line(4, "no_such_op_apmsock_check", {})):
        return "FAIL", "the adapter stopped reading"
    rep, msgs = s.reply_to(4)
    if rep is None:
        return "FAIL", "no reply to an unknown op (id 4)"
    if rep.get("ok") is not False or not ({"protocol_error", "unsupported"} & set(rep)):
        return "FAIL", "an unknown op wants ok:false with protocol_error, got " + brief(rep)
    return "PASS", "answered " + ("protocol_error" if "protocol_error" in rep else
                                  "unsupported (protocol_error is the documented answer)")


def check_malformed(s, st):
    if not s.write("this is not json {\n"):
        return "FAIL", "the adapter stopped reading"
    msgs, why = s.collect(lambda m: len(m) >= 1)
    if why:
        return "FAIL", "no answer to a line that is not JSON (%s)" % why
    rep = msgs[0]
    if not ("id" in rep and rep["id"] is None and rep.get("ok") is False and "protocol_error" in rep):
        return "FAIL", 'a line that is not JSON wants {"id": null, "ok": false, "protocol_error": ...}, got ' \
            + brief(rep)
    # valid JSON, an id it can read, a number beyond 64 bits elsewhere
    if not s.write('{"id": 5, "op": "hello", "args": {"protocol": "%s", "x": 99999999999999999999}}\n'
                   % PROTOCOL_VERSION):
        return "FAIL", "the adapter stopped reading"
    s.sent[5] = "hello"
    rep, msgs = s.reply_to(5)
    if rep is None:
        return "FAIL", "a request with an integer beyond 64 bits was not answered with its id (5): " \
            + (brief(msgs[0]) if msgs else "no reply")
    return "PASS", "not JSON -> id null + protocol_error; a huge integer elsewhere -> answered with its id"


def check_error_shape(s, st):
    note = ""
    if {"udp", "ipv4"} <= st.get("caps", set()):
        if not s.write(s.request_line(6, "socket", {"family": "inet", "type": "dgram"})):
            return "FAIL", "the adapter stopped reading"
        rep, _ = s.reply_to(6)
        sock = ((rep or {}).get("result") or {}).get("socket") if (rep or {}).get("ok") else None
        if sock:
            s.write(s.request_line(7, "end_send", {"socket": sock, "result": None}))
            rep, _ = s.reply_to(7)
            if rep is None:
                return "FAIL", "no reply to end_send with a null result (id 7)"
            if rep.get("ok") is not False or "error" not in rep:
                if "unsupported" not in rep:
                    return "FAIL", "EndSend(null) must throw (ArgumentNullException): " + brief(rep)
                note = "; end_send unsupported, so no error object was provoked"
            elif (rep["error"] or {}).get("type") != "System.ArgumentNullException":
                return "FAIL", "EndSend(null) threw %r, documented: System.ArgumentNullException" \
                    % (rep["error"] or {}).get("type")
            s.write(s.request_line(8, "close", {"socket": sock}))
            s.reply_to(8)
        else:
            note = "; socket not created (%s), so no error object was provoked" % brief(rep or {"_garbage": "no reply"})
    else:
        note = "; no udp+ipv4 capability, so no error object was provoked"
    seen = [parse(line) for line in s.lines]
    failed = [m for m in seen if m.get("ok") is False]
    for m in failed:
        kinds = [k for k in FAILED_KINDS if k in m]
        if len(kinds) != 1:
            return "FAIL", "an ok:false reply wants exactly one of %s: %s" % ("/".join(FAILED_KINDS), brief(m))
        if "error" in m:
            e = m["error"]
            if not isinstance(e, dict):
                return "FAIL", "'error' must be an object: " + brief(m)
            lack = [k for k in ERROR_KEYS if k not in e]
            if lack:
                return "FAIL", "an error object lacks %s (null when unknown): %s" % (", ".join(lack), brief(m))
            if not isinstance(e["type"], str) or not e["type"].startswith("System."):
                return "FAIL", "error.type must be the .NET exception's full name: " + brief(m)
        if "unsupported" in m and not isinstance(m["unsupported"], str):
            return "FAIL", "'unsupported' must be a string saying why: " + brief(m)
    for m in seen:
        if m.get("ok") is True and not isinstance(m.get("result", {}), dict):
            return "FAIL", "'result' must be an object: " + brief(m)
        if "id" in m and not isinstance(m.get("ok"), bool):
            return "FAIL", "a reply without boolean 'ok': " + brief(m)
    return "PASS", "%d failed repl%s, each well-formed%s" % (len(failed), "y" if len(failed) == 1 else "ies", note)


def check_quit(s, st):
    if not s.write(s.request_line(9, "quit", {})):
        return "FAIL", "the adapter stopped reading before quit"
    rep, _ = s.reply_to(9)
    if rep is None or rep.get("ok") is not True:
        return "FAIL", "quit not answered ok: " + (brief(rep) if rep else "no reply")
    try:
        rc = s.proc.wait(s.timeout)
    except subprocess.TimeoutExpired:
        return "FAIL", "still running %.1f s after quit" % s.timeout
    _, why = s.collect(lambda m: False, timeout=s.timeout)
    if why != "eof":
        return "FAIL", "stdout still open after quit"
    if rc != 0:
        return "FAIL", "exit status %s after quit, documented: 0" % rc
    return "PASS", "answered, exit status 0"


def check_one_reply_per_id(s, st):
    counts = {}
    unaddressed = 0
    for line in s.lines:
        m = parse(line)
        if "_garbage" in m or "event" in m and "id" not in m:
            continue
        if m.get("id") is None:
            unaddressed += 1
            continue
        counts[m["id"]] = counts.get(m["id"], 0) + 1
    twice = sorted(i for i, n in counts.items() if n > 1 and isinstance(i, int))
    unknown = sorted((i for i in counts if i not in s.sent), key=str)
    missing = sorted(i for i in s.sent if i not in counts)
    if twice:
        return "FAIL", "answered more than once: id %s" % twice[0]
    if unknown:
        return "FAIL", "a reply to id %r, never sent" % (unknown[0],)
    if missing:
        return "FAIL", "never answered: id %s (%s)" % (missing[0], s.sent[missing[0]])
    if unaddressed > 1:
        return "FAIL", "%d replies with id null; one line was unreadable" % unaddressed
    return "PASS", "%d requests, %d replies, each id once" % (len(s.sent), sum(counts.values()))


def _checks():
    from .checker11 import CHECKS_11   # it imports from this module
    return (("hello", check_hello), ("framing", check_framing), ("unknown-op", check_unknown_op),
            ("malformed-json", check_malformed), ("error-shape", check_error_shape)) + CHECKS_11 + \
        (("quit", check_quit), ("one-reply-per-id", check_one_reply_per_id))


def run(argv, timeout=5.0, env=None, cwd=None, out=print):
    """Runs every check against the adapter argv; prints one line each; returns the exit code."""
    try:
        s = Session(argv, timeout, env=env, cwd=cwd)
    except CannotStart as e:
        out("check-adapter: usage error: %s" % e)
        return EXIT_USAGE
    st, verdicts = {}, []
    try:
        for name, fn in _checks():
            if verdicts and verdicts[0] == "FAIL" and name != "one-reply-per-id":
                verdict, line = "SKIP", "hello failed"
            else:
                try:
                    verdict, line = fn(s, st)
                except Exception as e:  # the checker's own bug: say so, never a false PASS
                    out("check-adapter: %-17s checker error: %r" % (name, e))
                    return EXIT_HARNESS
            verdicts.append(verdict)
            out("check-adapter: %-17s %-4s %s" % (name, verdict, line))
    finally:
        s.end()
    err = bytes(s.stderr).decode("utf-8", "replace").strip()
    failed = verdicts.count("FAIL")
    if failed and err:
        out("check-adapter: the adapter's stderr ends: %s" % err[-300:].replace("\n", " | "))
    out("check-adapter: %s: %d of %d checks passed" % ("FAIL" if failed else "ok",
                                                       verdicts.count("PASS"), len(verdicts)))
    return EXIT_FAIL if failed else EXIT_OK
