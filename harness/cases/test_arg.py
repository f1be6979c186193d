"""ARG-01..ARG-10: argument exceptions from Begin, run from the table in
fixtures/cases/arg.yaml through the adapter."""
import os

import pytest
import yaml

from apmsock_harness import setups
from apmsock_harness.case import expect_error, pat

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "fixtures", "cases", "arg.yaml"), encoding="utf-8") as _f:
    TABLE = yaml.safe_load(_f)

METHODS = ("send", "send_to")


def _rows(key, with_clause):
    out = []
    for row in TABLE[key]:
        for m in row.get("methods", METHODS):
            marks = [pytest.mark.clause(row["clause"] if with_clause else "ARG-09")]
            out.append(pytest.param(row, m, id="%s-%s-%s" % (row.get("clause", "ARG-09"), row["name"], m),
                                    marks=marks))
    return out


def _buffer(row):
    n = row["buffer_length"]
    return None if n is None else pat(n, 3)


def _setup(h, method, ip="v4"):
    r = setups.udp_receiver(h, ip)
    s = setups.udp_sender(h, ip, connect_to=r.endpoint if method == "send" else None)
    return s, r


def _bad_begin(h, method, s, r, row):
    return h.begin(method, s, _buffer(row), offset=row["offset"], size=row["size"],
                   endpoint=None if row.get("null_endpoint") else r.endpoint, state="arg")


def _no_side_effect(h, s, r, method, begin):
    """ARG-10: no result, no callback, nothing on the wire."""
    assert begin.result.get("result") is None, "a Begin that threw returned a result %r" % begin.result
    setups.sentinel_to(h, s, r, method)
    stray = [e for e in h.callbacks() if e.get("state") == "arg"]
    assert not stray, "a Begin that threw ran a callback: %r" % stray[0]


def test_ARG_table(h, row, method):
    s, r = _setup(h, method)
    b = _bad_begin(h, method, s, r, row)
    if row["expect"] == "ok":
        assert b.ok, "Begin with legal boundaries threw %s" % b.error
        e = h.end(method, s, b.result["result"])
        assert e.ok, "End threw %s" % e.error
        assert e.result["bytes"] == row["size"], "End returned %s, size was %d" % (e.result["bytes"], row["size"])
        data, _ = r.recv(what="the datagram")
        want = _buffer_bytes(row)
        assert data == want, "the receiver got %r, expected %r" % (data, want)
        return
    out = {"error": b.error, "at": "begin" if not b.ok else None, "bytes": None}
    if b.ok:
        # the wrong outcome; finish it to say where (if anywhere) it threw
        e = h.end(method, s, b.result["result"])
        if e.ok:
            out["bytes"] = e.result.get("bytes")
        else:
            out["at"], out["error"] = "end", e.error
    expect_error(out, row["expect"], param=row["param"], where="begin",
                 what="Begin(offset=%s, size=%s)" % (row["offset"], row["size"]))
    _no_side_effect(h, s, r, method, b)


def _buffer_bytes(row):
    from apmsock_harness.net import pattern
    return pattern(row["buffer_length"], 3)[row["offset"]:row["offset"] + row["size"]]


def pytest_generate_tests(metafunc):
    if metafunc.function.__name__ == "test_ARG_table":
        metafunc.parametrize(("row", "method"), _rows("rows", True))
    elif metafunc.function.__name__ == "test_ARG_09_several_bad":
        metafunc.parametrize(("row", "method"), _rows("several", False))


def test_ARG_09_several_bad(h, row, method):
    s, r = _setup(h, method)
    if row.get("closed"):
        h.ok("close", socket=s)
    b = _bad_begin(h, method, s, r, row)
    if b.ok:
        h.end(method, s, b.result["result"])
    h.info(reported={"type": (b.error or {}).get("type"), "param": (b.error or {}).get("param")},
           arguments={k: row[k] for k in ("buffer_length", "offset", "size")})
    assert not b.ok, "Begin with several bad arguments did not throw"


@pytest.mark.clause("ARG-10")
@pytest.mark.parametrize("method", METHODS)
def test_ARG_10_no_side_effect(h, method):
    s, r = _setup(h, method)
    before = h.ok("stats") if "stats" in h.a.capabilities else None
    bad = [(None, 0, 4), (pat(8), -1, 1), (pat(8), 0, 9), (pat(8), 9, 0)]
    for buf, off, size in bad:
        b = h.begin(method, s, buf, offset=off, size=size, endpoint=r.endpoint, state="arg")
        assert not b.ok, "Begin(offset=%d, size=%d) did not throw" % (off, size)
        assert b.result.get("result") is None, "a Begin that threw returned a result"
    _no_side_effect(h, s, r, method, b)
    if before is not None:
        after = h.ok("stats")
        # the sentinel started (and completed) exactly one operation
        started = after["operations_started"] - before["operations_started"]
        assert started == 1, "%d operations started for 4 bad Begins and 1 sentinel" % started
