"""The `bench` op's reply (PROTOCOL.md, "bench") and the receiver that counts its datagrams.

Shared by the protocol checker (checker11.check_bench) and `make bench-impls`
(harness/bench/impls.py): `problems()` says what is wrong with a reply, `Receiver`
drains a UDP socket on 127.0.0.1 port 0 in a thread of the caller's process (a process
other than the adapter's) and counts datagrams by their first byte, the workload's tag.
"""
import socket
import threading
import time

TAG_UNTIMED, TAG_DOCUMENTED, TAG_SYNC = 1, 2, 3
WORKLOADS = {"documented": TAG_DOCUMENTED, "sync": TAG_SYNC}
ALLOC_UNITS = ("allocations", "bytes")
ALLOC_SCOPES = ("process", "thread")
SO_RCVBUFFORCE = 33   # Linux; not in Python's socket module


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _latency(where, lat, n, out):
    if not isinstance(lat, dict):
        out.append("%s: wants {n, p50, p99}, got %r" % (where, lat))
        return
    if lat.get("n") != n:
        out.append("%s.n: %r, asked for %d" % (where, lat.get("n"), n))
    p50, p99 = lat.get("p50"), lat.get("p99")
    if n == 0:
        if p50 is not None or p99 is not None:
            out.append("%s: no sample, so p50 and p99 are null" % where)
    elif not (_num(p50) and _num(p99) and 0 <= p50 <= p99):
        out.append("%s: p50 %r and p99 %r want numbers, 0 <= p50 <= p99" % (where, p50, p99))


def problems(r, ops, first_uses):
    """What is wrong with a bench result asked with `ops` and `first_uses`; [] when nothing."""
    out = []
    if not isinstance(r, dict):
        return ["the result is not an object: %r" % (r,)]
    if r.get("ops") != ops:
        out.append("ops: %r, asked for %d" % (r.get("ops"), ops))
    if not (_int(r.get("rounds")) and 1 <= r["rounds"] <= ops):
        out.append("rounds: %r, wants 1..ops" % (r.get("rounds"),))
    if not (_int(r.get("untimed_sent")) and r["untimed_sent"] >= first_uses):
        out.append("untimed_sent: %r, wants an integer >= first_uses (%d)" % (r.get("untimed_sent"), first_uses))
    if not _int(r.get("size")):
        out.append("size: %r, wants an integer" % (r.get("size"),))
    alloc = r.get("alloc", "missing")
    if alloc is not None and not (isinstance(alloc, dict) and alloc.get("unit") in ALLOC_UNITS
                                  and alloc.get("scope") in ALLOC_SCOPES and isinstance(alloc.get("how"), str)):
        out.append("alloc: %r, wants null or {unit: allocations|bytes, scope: process|thread, how}" % (alloc,))
    wl = r.get("workloads")
    if not isinstance(wl, dict):
        return out + ["workloads: %r, wants an object" % (wl,)]
    for name, tag in WORKLOADS.items():
        w = wl.get(name)
        if not isinstance(w, dict):
            out.append("workloads.%s: missing" % name)
            continue
        where = "workloads." + name
        if w.get("tag") != tag:
            out.append("%s.tag: %r, wants %d" % (where, w.get("tag"), tag))
        if not isinstance(w.get("what"), str) or not w["what"]:
            out.append("%s.what: wants a string saying how it was done" % where)
        if w.get("sent") != ops:
            out.append("%s.sent: %r, asked for %d" % (where, w.get("sent"), ops))
        secs, rate = w.get("seconds"), w.get("rate")
        if not (_num(secs) and secs > 0 and _num(rate) and rate > 0):
            out.append("%s: seconds %r and rate %r want positive numbers" % (where, secs, rate))
        elif abs(rate * secs - ops) > max(1.0, 0.01 * ops):
            out.append("%s: rate %r is not sent / seconds (%r / %r)" % (where, rate, ops, secs))
        apo = w.get("alloc_per_op", "missing")
        if alloc is None and apo is not None:
            out.append("%s.alloc_per_op: %r, but alloc is null: nothing is counted" % (where, apo))
        if alloc is not None and apo is not None and not (_num(apo) and apo >= 0):
            out.append("%s.alloc_per_op: %r, wants null or a number >= 0" % (where, apo))
        if name == "documented":
            lat = w.get("latency_us")
            if not isinstance(lat, dict):
                out.append("%s.latency_us: wants {first, steady}" % where)
            else:
                _latency(where + ".latency_us.first", lat.get("first"), first_uses, out)
                _latency(where + ".latency_us.steady", lat.get("steady"), ops, out)
            ci = w.get("callbacks_inline")
            if not (_int(ci) and 0 <= ci <= ops):
                out.append("%s.callbacks_inline: %r, wants 0..ops" % (where, ci))
    return out


class Receiver:
    """A UDP socket on 127.0.0.1, port 0, drained by a thread that counts datagrams per tag.

    Its receive buffer is made large (SO_RCVBUFFORCE as root, else what SO_RCVBUF
    allows). With `defer_for=N` and a buffer that holds N datagrams, the thread drains
    only inside take(), after a run: the datagrams wait in the kernel meanwhile, so the
    receiver takes no CPU from the sender it measures (on a loaded 2-core machine it
    would). Otherwise it drains all the time. Only the thread writes the counts.
    """

    TRUESIZE = 1536   # what one small datagram costs the receive buffer, at most

    def __init__(self, rcvbuf=64 << 20, defer_for=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for opt in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, opt, rcvbuf)
                break
            except OSError:
                continue
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.endpoint = {"address": "127.0.0.1", "port": self.sock.getsockname()[1]}
        got = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        self.deferred = defer_for > 0 and got >= defer_for * self.TRUESIZE
        self.counts = {}
        self.total = 0
        self._base = {}
        self._stop = threading.Event()
        self._drain = threading.Event()
        if not self.deferred:
            self._drain.set()
        self._thread = threading.Thread(target=self._run, name="bench-receiver", daemon=True)
        self._thread.start()

    def _run(self):
        buf = bytearray(65536)
        counts = self.counts
        while not self._stop.is_set():
            if not self._drain.wait(0.1):
                continue
            try:
                n = self.sock.recv_into(buf)
            except socket.timeout:
                continue
            except OSError:
                return
            tag = buf[0] if n else 0
            counts[tag] = counts.get(tag, 0) + 1
            self.total += 1

    def take(self, expected, quiet=0.5, limit=10.0):
        """The counts per tag since the last take: once `expected` datagrams came, or none
        came for `quiet` s (some were lost), and at most after `limit` s."""
        self._drain.set()
        deadline = time.monotonic() + limit
        start = sum(self._base.values())
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline and self.total - start < expected:
            if self.total != seen:
                seen, since = self.total, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            self._stop.wait(0.01)
        if self.deferred:
            self._drain.clear()
        counts = dict(self.counts)
        out = {t: n - self._base.get(t, 0) for t, n in counts.items() if n - self._base.get(t, 0)}
        self._base = counts
        return out

    def close(self):
        self._stop.set()
        self._drain.set()
        self._thread.join(2)
        self.sock.close()
