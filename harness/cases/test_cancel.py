"""CANCEL-01..CANCEL-04: thread exit and disposal."""
import time

import pytest

from apmsock_harness import setups
from apmsock_harness.case import expect_error, text, pat, buffer_bytes

SE = "System.Net.Sockets.SocketException"
METHODS = ("send", "send_to")


@pytest.mark.clause("CANCEL-01")
@pytest.mark.needs("threads")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", ("v4", "v6"))
def test_CANCEL_01_thread_exit_aborts(h, ip, method):
    s, conn = setups.tcp_pair(h, ip, blocked=True)
    t, ident = h.thread()
    r = h.begin(method, s, pat(setups.BLOCKING_SEND, 3), thread=t)
    assert r.ok, "Begin on thread %s threw %s" % (t, r.error)
    res = r.result["result"]
    assert setups.pending_check(h, res, 100), "the send completed although the peer read nothing"
    h.thread_exit(t)
    cb = h.wait_callback(res, timeout=5.0)
    drain = None
    if not cb:
        # no cancellation on thread exit (portable): let it finish normally
        drain = setups.Drain(conn)
        cb = h.wait_callback(res, timeout=15.0)
    e = h.end(method, s, res, timeout=15.0)
    if drain:
        drain.stop()
    out = {"error": e.error, "at": "end", "bytes": e.result.get("bytes") if e.ok else None}
    h.info(cancelled=drain is None)
    assert cb, "the operation never completed (no callback) after its thread exited"
    assert len(h.callbacks(res)) == 1, "the callback ran %d times" % len(h.callbacks(res))

    def judge(p):
        if p == "portable" and drain is not None:
            assert e.ok and e.result["bytes"] == setups.BLOCKING_SEND, "End: %r" % (e.result or e.error)
            return
        assert drain is None, "the operation was still pending 5 s after the thread that began it exited"
        expect_error(out, SE, "OperationAborted", what="End of an operation cancelled by thread exit")
    h.check(judge)


@pytest.mark.clause("CANCEL-02")
@pytest.mark.needs("threads")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("proto", ("udp", "tcp"))
def test_CANCEL_02_completed_unaffected(h, proto, method):
    if proto == "udp":
        rcv = setups.udp_receiver(h)
        s = setups.udp_sender(h, connect_to=rcv.endpoint if method == "send" else None)
        ep = rcv.endpoint
    else:
        s, conn = setups.tcp_pair(h)
        ep = h.peer_of[s]
    t, _ = h.thread()
    r = h.begin(method, s, text("done before exit"), endpoint=ep, thread=t)
    assert r.ok, "Begin threw %s" % r.error
    res = r.result["result"]
    assert h.wait_callback(res), "the operation did not complete"
    h.thread_exit(t)
    e = h.end(method, s, res)
    assert e.ok and e.result["bytes"] == 16, "End after the thread exited: %r" % (e.result or e.error)
    assert len(h.callbacks(res)) == 1, "the callback ran %d times" % len(h.callbacks(res))


@pytest.mark.clause("CANCEL-03")
@pytest.mark.needs("threads")
@pytest.mark.parametrize("method", METHODS)
def test_CANCEL_03_other_threads_unaffected(h, method):
    s, conn = setups.tcp_pair(h, "v4", blocked=True)
    t1, _ = h.thread()
    t2, _ = h.thread()
    ra = h.begin(method, s, pat(setups.BLOCKING_SEND, 1), thread=t1)
    small = pat(1024, 77)
    rb = h.begin(method, s, small, thread=t2)
    assert ra.ok and rb.ok, "Begin threw %s / %s" % (ra.error, rb.error)
    h.thread_exit(t1)
    drain = setups.Drain(conn)
    cb = h.wait_callback(rb.result["result"], timeout=15.0)
    e = h.end(method, s, rb.result["result"], timeout=15.0)
    h.end(method, s, ra.result["result"], timeout=15.0)
    data = drain.stop()
    assert cb, "the other thread's operation did not complete"
    assert e.ok and e.result["bytes"] == 1024, "the other thread's End: %r" % (e.result or e.error)
    assert data.endswith(buffer_bytes(small)), "the other thread's bytes are not the last 1024 bytes of the stream"
    h.thread_exit(t2)


@pytest.mark.clause("CANCEL-04")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", ("v4", "v6"))
def test_CANCEL_04_close_with_pending(h, ip, method):
    s, conn = setups.tcp_pair(h, ip, blocked=True)
    before = h.ok("stats") if "stats" in h.a.capabilities else None
    done = h.begin(method, s, text("first"))
    assert done.ok and h.wait_callback(done.result["result"]), "the first operation did not complete"
    pend = [h.begin(method, s, pat(setups.BLOCKING_SEND, i)) for i in (1, 2)]
    assert all(p.ok for p in pend), "Begin threw"
    h.ok("close", socket=s)
    h.sockets.remove(s)
    for p in pend:
        cb = h.wait_callback(p.result["result"])
        assert cb, "a pending operation's callback did not run after Close"
    ends = [h.end(method, s, p.result["result"]) for p in pend]
    for e in ends:
        assert not e.ok, "End of an operation aborted by Close returned %r" % e.result
        assert e.type in ("System.ObjectDisposedException", SE), "End after Close threw %s" % e.type
        if e.type == SE:
            assert e.socket_error == "OperationAborted", "End after Close: SocketError %s" % e.socket_error
    first = h.end(method, s, done.result["result"])
    assert first.ok and first.result["bytes"] == 5, "the operation completed before Close lost its result: %r" % (
        first.result or first.error)
    for p in pend + [done]:
        n = len(h.callbacks(p.result["result"]))
        assert n == 1, "a callback ran %d times" % n
    if before is not None:
        after = h.ok("stats")
        started = after["operations_started"] - before["operations_started"]
        completed = after["operations_completed"] - before["operations_completed"]
        # counters are process-wide: an earlier case's operation may still
        # finish meanwhile, so completions are at least this case's three
        assert started == 3 and completed >= 3, \
            "operations started %d, completed %d (expected 3 and at least 3)" % (started, completed)


# How many operations are pending at Close in the case below: Mono 6.8 loses
# a pending BeginSendTo at Close in a few percent of operations, so several
# per case make it show more often (it stays intermittent: its baseline
# lists both verdicts).
PENDING_AT_CLOSE = 6
CLOSE_COMPLETION_S = 10.0


@pytest.mark.clause("CANCEL-04")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", ("v4", "v6"))
def test_CANCEL_04_every_pending_completes(h, ip, method):
    """Close with several sends pending: every one of them completes, i.e. its
    callback runs and IsCompleted turns true, within a bounded wait.  Only
    that: what End then reports is close_with_pending's question."""
    s, conn = setups.tcp_pair(h, ip, blocked=True)
    pend = [h.begin(method, s, pat(setups.BLOCKING_SEND if i == 0 else 1 << 16, i))
            for i in range(PENDING_AT_CLOSE)]
    assert all(p.ok for p in pend), "Begin threw: %r" % [p.error for p in pend if not p.ok]
    assert setups.pending_check(h, pend[0].result["result"], 100), \
        "the first send completed although the peer read nothing"
    h.ok("close", socket=s)
    h.sockets.remove(s)
    deadline = time.monotonic() + CLOSE_COMPLETION_S
    lost = []
    for p in pend:
        res = p.result["result"]
        if not h.wait_callback(res, timeout=max(0.0, deadline - time.monotonic())):
            lost.append((res, h.ok("status", result=res).get("is_completed")))
    h.info(lost=lost)
    assert not lost, "%d of %d operations pending at Close never completed within %.0f s " \
        "(no callback; IsCompleted: %s)" % (len(lost), len(pend), CLOSE_COMPLETION_S,
                                            ", ".join("%s %s" % l for l in lost))
    for p in pend:
        n = len(h.callbacks(p.result["result"]))
        assert n == 1, "a callback ran %d times" % n


def _until_eof(conn, what, timeout=5.0):
    """Reads the stream until the adapter's side closed it (bounded)."""
    deadline = time.monotonic() + timeout
    while not conn.eof and time.monotonic() < deadline:
        conn.read_available(timeout=min(0.5, max(0.0, deadline - time.monotonic())))
    assert conn.eof, "%s: the peer saw no end of stream within %.0f s" % (what, timeout)


@pytest.mark.clause("CANCEL-04")
@pytest.mark.needs("cleanup", "stats")
@pytest.mark.parametrize("method", METHODS)
def test_CANCEL_04_library_cleanup(h, method):
    """The implementation's process-wide teardown (apmsock_cleanup for a C
    library) closes every socket still open, so it is CANCEL-04 for all of
    them at once: the pending operation completes once, aborted; the peer
    sees the stream end; the old socket is disposed; the counters start from
    zero; and the implementation works again afterwards."""
    s, conn = setups.tcp_pair(h, "v4", blocked=True)
    rcv = setups.udp_receiver(h)
    u = setups.udp_sender(h)
    done = h.begin(method, s, text("first"))
    assert done.ok and h.wait_callback(done.result["result"]), "the first operation did not complete"
    pend = h.begin(method, s, pat(setups.BLOCKING_SEND, 4))
    assert pend.ok, "Begin threw %s" % pend.error
    assert setups.pending_check(h, pend.result["result"], 100), "the send completed although the peer read nothing"
    h.ok("cleanup", timeout=10.0)
    cb = h.wait_callback(pend.result["result"])
    assert cb and len(cb) == 1, "the pending operation's callback ran %d times after cleanup" % len(cb or [])
    after = h.ok("stats")
    assert all(after[k] == 0 for k in after if isinstance(after[k], int)), \
        "counters after cleanup are not zero: %r" % after
    _until_eof(conn, "the stream socket open at cleanup")
    for sock in (s, u):
        out = h.outcome(method if sock == s else "send_to", sock, text("again"), endpoint=rcv.endpoint)
        expect_error(out, "System.ObjectDisposedException", where="begin",
                     what="Begin on a socket that cleanup closed")
    # the implementation starts anew: a new socket sends, and is counted
    n = setups.udp_sender(h)
    r = h.begin("send_to", n, text("anew"), endpoint=rcv.endpoint, end_in_callback=True)
    assert r.ok and h.wait_callback(r.result["result"]), "a send after cleanup did not complete"
    data, _ = rcv.recv(what="the datagram sent after cleanup")
    assert data == b"anew", "after cleanup the receiver got %r" % data
    st = h.ok("stats")
    assert st["operations_started"] == 1 and st["operations_completed"] == 1, \
        "after cleanup and one send: started %d, completed %d" % (st["operations_started"], st["operations_completed"])


@pytest.mark.clause("CANCEL-04")
@pytest.mark.needs("stats")
def test_CANCEL_04_closed_sockets_reused(fresh):
    """A closed socket gives its resources back: opening and closing more
    sockets than one allocation chunk holds (256 in the reference) allocates
    nothing once warm.  A fresh adapter, as in CTX-01's long run: what earlier
    cases left in a shared one decides where the table's next growth lands."""
    h = fresh()
    for _ in range(4):
        h.ok("close", socket=h.ok("socket", family="inet", type="dgram")["socket"])
    before = h.ok("stats")
    n = 300
    for _ in range(n):
        h.ok("close", socket=h.ok("socket", family="inet", type="dgram")["socket"])
    after = h.ok("stats")
    grew = after["heap_allocations"] - before["heap_allocations"]
    assert grew == 0, "%d heap allocations for %d socket opens and closes once warm" % (grew, n)
