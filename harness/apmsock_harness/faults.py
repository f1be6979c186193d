"""Syscall fault injection into a running adapter, from outside, with strace:
any implementation in any language can be tested the same way.

    inj = Injector(adapter_pid, "ENOBUFS", when="1").start()   # after set-up
    ... the sends under test ...
    inj.stop()

Design notes:
- strace attaches (-p, -f: every thread) only after the case's set-up, so
  socket(), connect() and the handshake are never touched; `when` counts
  from the attach, per thread and per syscall (strace's rule).
- Only the send syscalls (SENDS) are faulted.  Measured with `strace -f -c`
  on 20 BeginSend/BeginSendTo over UDP and TCP: the reference and Mono use
  sendto for both; .NET uses sendto and sendmsg.  `write` is the adapter's
  protocol channel (stdout) and is never touched.
- start() returns only once strace reported the attach (bounded wait on its
  stderr); an attach refused (no ptrace, no strace) raises Unavailable, which
  the cases turn into SKIP with the reason.
- stop() detaches (SIGTERM: strace lets the tracee go on) and reaps strace;
  every Injector started is stopped by its owner (the case fixture), and
  stop_all() at exit catches the rest: no strace outlives the run.
"""
import atexit
import shutil
import subprocess
import threading
import time

SENDS = ("sendto", "sendmsg")
_LIVE = set()
_LOCK = threading.Lock()


class Unavailable(Exception):
    """strace cannot inject here: the reason, for a SKIP."""


def check_possible():
    if shutil.which("strace") is None:
        return "strace is not installed (Debian package strace; make deps)"
    return None


class Injector:
    def __init__(self, pid, errno, when="1", syscalls=SENDS):
        self.pid = pid
        self.errno = errno
        self.when = when
        self.syscalls = tuple(syscalls)
        self.proc = None
        self.err = bytearray()
        self._cond = threading.Condition()
        self._reader = None

    def argv(self):
        calls = ",".join(self.syscalls)
        return ["strace", "-f", "-p", str(self.pid), "-o", "/dev/null", "-e", "signal=none",
                "-e", "trace=" + calls,
                "-e", "inject=%s:error=%s:when=%s" % (calls, self.errno, self.when)]

    def start(self, timeout=10.0):
        why = check_possible()
        if why:
            raise Unavailable(why)
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        with _LOCK:
            _LIVE.add(self)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        with self._cond:
            while b"attached" not in self.err and self.proc.poll() is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
        if b"attached" not in self.err:
            text = self.text()
            self.stop()
            raise Unavailable("strace could not attach to pid %d: %s" % (self.pid, text.strip()[:300]))
        return self

    def _read(self):
        f = self.proc.stderr
        while True:
            chunk = f.read1(4096)
            if not chunk:
                break
            with self._cond:
                self.err += chunk
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def text(self):
        with self._cond:
            return bytes(self.err).decode("utf-8", "replace")

    def stop(self, timeout=5.0):
        """Detaches and reaps strace; never raises."""
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()   # the kernel detaches the tracee when its tracer dies
                p.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)
        with _LOCK:
            _LIVE.discard(self)


def stop_all():
    with _LOCK:
        live = list(_LIVE)
    for inj in live:
        inj.stop()


atexit.register(stop_all)
