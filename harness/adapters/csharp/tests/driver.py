"""A minimal adapter driver for the C# adapter's own tests (the real harness
lives in harness/; this one only has to pipe a session and read it back).
Every wait is bounded; a missing reply fails with the lines seen so far."""
import json
import queue
import shlex
import subprocess
import threading
import time

TIMEOUT = 10.0


class AdapterError(AssertionError):
    pass


class Adapter:
    def __init__(self, command):
        self.proc = subprocess.Popen(
            shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, bufsize=0)
        self.lines = queue.Queue()
        self.replies = {}
        self.events = []
        self.garbage = []
        self.next_id = 1
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace"))
        self.lines.put(None)

    def _read_err(self):
        for raw in self.proc.stderr:
            self.stderr.append(raw.decode("utf-8", "replace"))

    def _pump(self, deadline):
        """Take one line (bounded by deadline); False at EOF or timeout."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            line = self.lines.get(timeout=left)
        except queue.Empty:
            return False
        if line is None:
            self.lines.put(None)
            return False
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
        except ValueError:
            self.garbage.append(line)
            return True
        if "event" in obj and "id" not in obj:
            self.events.append(obj)
        else:
            self.replies[obj.get("id")] = obj
        return True

    def send_raw(self, text):
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def post(self, op, args=None, thread=None):
        rid = self.next_id
        self.next_id += 1
        req = {"id": rid, "op": op, "args": args or {}}
        if thread:
            req["thread"] = thread
        self.send_raw(json.dumps(req))
        return rid

    def reply(self, rid, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while rid not in self.replies:
            if not self._pump(deadline):
                raise AdapterError("no reply to id %r within %.1fs; stderr: %s"
                                   % (rid, timeout, "".join(self.stderr)[-2000:]))
        return self.replies.pop(rid)

    def call(self, op, args=None, thread=None, timeout=TIMEOUT):
        return self.reply(self.post(op, args, thread), timeout)

    def ok(self, op, args=None, thread=None, timeout=TIMEOUT):
        r = self.call(op, args, thread, timeout)
        if r.get("ok") is not True:
            raise AdapterError("%s failed: %s" % (op, r))
        return r["result"]

    def error(self, op, args=None, thread=None, timeout=TIMEOUT):
        r = self.call(op, args, thread, timeout)
        if r.get("ok") is not False or "error" not in r:
            raise AdapterError("%s: expected an error, got %s" % (op, r))
        return r["error"]

    def callback(self, result, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if ev.get("event") == "callback" and ev.get("result") == result:
                    return ev
            if not self._pump(deadline):
                raise AdapterError("no callback for %s within %.1fs" % (result, timeout))

    def wait_exit(self, timeout=TIMEOUT):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AdapterError("adapter did not exit within %.1fs" % timeout)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def ep(addr, port):
    return {"address": addr, "port": port}
