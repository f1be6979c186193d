"""ARG-01..ARG-10: argument exceptions from Begin, run from the table in
fixtures/cases/arg.yaml through the adapter."""
import os

import pytest

from apmsock_harness import setups
from apmsock_harness.case import expect_error, pat
from apmsock_harness.files import load_yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "fixtures", "cases", "arg.yaml"), encoding="utf-8") as _f:
    TABLE = load_yaml(_f)

METHODS = ("send", "send_to")
# a datagram socket over IPv4 and a stream over IPv6 cover both kinds and families
TARGETS = ("udp-v4", "tcp-v6")


def _rows(key, with_clause):
    out = []
    for row in TABLE[key]:
        for m in row.get("methods", METHODS):
            for t in TARGETS:
                marks = [pytest.mark.clause(row["clause"] if with_clause else "ARG-09")]
                out.append(pytest.param(row, m, t, marks=marks,
                                        id="%s-%s-%s-%s" % (row.get("clause", "ARG-09"), row["name"], t, m)))
    return out


def _buffer(row):
    n = row["buffer_length"]
    return None if n is None else pat(n, 3)


class Target:
    """The adapter socket under test and the harness peer that watches it."""

    def __init__(self, h, method, target):
        self.h, self.method = h, method
        self.state = h.unique_state("arg")
        proto, ip = target.split("-")
        self.udp = proto == "udp"
        if self.udp:
            self.peer = setups.udp_receiver(h, ip)
            self.s = setups.udp_sender(h, ip, connect_to=self.peer.endpoint if method == "send" else None)
            self.endpoint = self.peer.endpoint
        else:
            self.s, self.peer = setups.tcp_pair(h, ip)
            self.endpoint = h.peer_of[self.s]

    def receive(self, n):
        if self.udp:
            return self.peer.recv(what="the datagram")[0]
        return self.peer.read_exact(n) if n else b""

    def nothing_sent(self):
        if self.udp:
            setups.sentinel_to(self.h, self.s, self.peer, self.method)
        else:
            setups.stream_quiet(self.h, self.s, self.peer, self.method)


def _bad_begin(h, t, row):
    return h.begin(t.method, t.s, _buffer(row), offset=row["offset"], size=row["size"],
                   endpoint=None if row.get("null_endpoint") else t.endpoint, state=t.state)


def _no_side_effect(h, t, begin):
    """ARG-10: no result, no callback, nothing on the wire."""
    assert begin.result.get("result") is None, "a Begin that threw returned a result %r" % begin.result
    t.nothing_sent()
    stray = [e for e in h.callbacks() if e.get("state") == t.state]
    assert not stray, "a Begin that threw ran a callback: %r" % stray[0]


def test_ARG_table(h, row, method, target):
    t = Target(h, method, target)
    b = _bad_begin(h, t, row)
    if row["expect"] == "ok":
        assert b.ok, "Begin with legal boundaries threw %s" % b.error
        e = h.end(method, t.s, b.result["result"])
        assert e.ok, "End threw %s" % e.error
        assert e.result["bytes"] == row["size"], "End returned %s, size was %d" % (e.result["bytes"], row["size"])
        data = t.receive(row["size"])
        want = _buffer_bytes(row)
        assert data == want, "the peer got %r, expected %r" % (data, want)
        return
    out = {"error": b.error, "at": "begin" if not b.ok else None, "bytes": None}
    if b.ok:
        # the wrong outcome; finish it to say where (if anywhere) it threw
        e = h.end(method, t.s, b.result["result"])
        if e.ok:
            out["bytes"] = e.result.get("bytes")
        else:
            out["at"], out["error"] = "end", e.error
    expect_error(out, row["expect"], param=row["param"], where="begin",
                 what="Begin(offset=%s, size=%s)" % (row["offset"], row["size"]))
    _no_side_effect(h, t, b)


def _buffer_bytes(row):
    from apmsock_harness.net import pattern
    return pattern(row["buffer_length"], 3)[row["offset"]:row["offset"] + row["size"]]


def pytest_generate_tests(metafunc):
    if metafunc.function.__name__ == "test_ARG_table":
        metafunc.parametrize(("row", "method", "target"), _rows("rows", True))
    elif metafunc.function.__name__ == "test_ARG_09_several_bad":
        metafunc.parametrize(("row", "method", "target"), _rows("several", False))


def test_ARG_09_several_bad(h, row, method, target):
    t = Target(h, method, target)
    if row.get("closed"):
        h.ok("close", socket=t.s)
    b = _bad_begin(h, t, row)
    if b.ok:
        h.end(method, t.s, b.result["result"])
    h.info(reported={"type": (b.error or {}).get("type"), "param": (b.error or {}).get("param")},
           arguments={k: row[k] for k in ("buffer_length", "offset", "size")})
    assert not b.ok, "Begin with several bad arguments did not throw"


@pytest.mark.clause("ARG-10")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("target", TARGETS)
def test_ARG_10_no_side_effect(h, target, method):
    t = Target(h, method, target)
    before = h.ok("stats") if "stats" in h.a.capabilities else None
    bad = [(None, 0, 4), (pat(8), -1, 1), (pat(8), 0, 9), (pat(8), 9, 0)]
    for buf, off, size in bad:
        b = h.begin(method, t.s, buf, offset=off, size=size, endpoint=t.endpoint, state=t.state)
        assert not b.ok, "Begin(offset=%d, size=%d) did not throw" % (off, size)
        assert b.result.get("result") is None, "a Begin that threw returned a result"
    _no_side_effect(h, t, b)
    if before is not None:
        after = h.ok("stats")
        # the sentinel started (and completed) exactly one operation
        started = after["operations_started"] - before["operations_started"]
        assert started == 1, "%d operations started for 4 bad Begins and 1 sentinel" % started
