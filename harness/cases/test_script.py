"""Cases that need protocol 1.1 (PROTOCOL.md, "Protocol 1.1"): work inside a
callback (callback_script), a callback held on a latch (hold), many requests in
flight (pipelining), and the synchronous send mixed with Begin (sync_send).
On a 1.0 adapter each is UNSUPPORTED."""
import pytest

from apmsock_harness import setups
from apmsock_harness.case import pat, text, buffer_bytes

SE = "System.Net.Sockets.SocketException"
ODE = "System.ObjectDisposedException"
METHODS = ("send", "send_to")
END = {"send": "end_send", "send_to": "end_send_to"}
BEGIN = {"send": "begin_send", "send_to": "begin_send_to"}
HOLD_MS = 10000   # the adapter's own bound on every hold of these cases


@pytest.mark.clause("CANCEL-04")
@pytest.mark.needs("callback_script", "hold", "threads")
@pytest.mark.parametrize("method", METHODS)
def test_CANCEL_04_close_from_a_callback(h, method):
    """A callback ends its own operation and closes the socket while another
    operation is pending: that one completes exactly once, aborted."""
    s, conn = setups.tcp_pair(h, "v4", blocked=True)
    latch = h.unique_state("close-cb")
    script = [{"op": END[method], "args": {"socket": s, "result": "$self"}},
              {"op": "close", "args": {"socket": s}}]
    # Begin's reply is not awaited: an implementation may run the callback
    # (and so the hold) inline inside Begin, on the thread that called it.
    a = h.a.send(BEGIN[method], h.begin_args(method, s, text("first"), callback_script=script,
                                             hold={"latch": latch, "timeout_ms": HOLD_MS}),
                 thread=h.thread()[0])
    held = h.a.wait_for(lambda evs: next((e for e in evs if e.get("event") == "held"
                                          and e.get("latch") == latch), None), 5.0, h.mark_events)
    assert held, "the first operation's callback never ran"
    ra = held["result"]
    b = h.begin(method, s, pat(setups.BLOCKING_SEND, 5))
    assert b.ok, "the second Begin threw %s" % b.error
    rb = b.result["result"]
    h.release_latch(latch)
    a = h.a.collect([a], timeout=HOLD_MS / 1000.0 + 5)[0]
    assert a.ok, "the first Begin threw %s" % a.error
    cba = h.wait_callback(ra)
    assert cba, "the held callback did not finish after its latch was released"
    outs = cba[0].get("script") or []
    assert len(outs) == 2 and outs[0].get("ok"), "End inside the callback: %r" % (outs[:1],)
    assert outs[0]["result"].get("bytes") == 5, "End inside the callback returned %r" % outs[0]["result"]
    assert outs[1].get("ok"), "Close inside the callback threw %r" % outs[1].get("error")
    h.sockets.remove(s)
    cbb = h.wait_callback(rb, timeout=10.0)
    assert cbb, "the pending operation never completed after the callback closed the socket"
    e = h.end(method, s, rb, timeout=10.0)
    assert not e.ok, "End of the operation aborted by Close (from a callback) returned %r" % e.result
    assert e.type in (ODE, SE), "End after Close threw %s" % e.type
    if e.type == SE:
        assert e.socket_error == "OperationAborted", "End after Close: SocketError %s" % e.socket_error
    for r in (ra, rb):
        assert len(h.callbacks(r)) == 1, "a callback ran %d times" % len(h.callbacks(r))


@pytest.mark.clause("ASYNC-08")
@pytest.mark.needs("callback_script")
@pytest.mark.parametrize("method", METHODS)
def test_ASYNC_08_begin_from_a_callback(h, method):
    """Each callback ends its operation and begins the next (nested scripts,
    three deep): the peer gets the three payloads in that order."""
    s, conn = setups.tcp_pair(h)
    ep = h.peer_of[s]
    parts = [pat(3000, seed) for seed in (11, 12, 13)]
    script = []
    for buf in reversed(parts[1:]):
        args = h.begin_args(method, s, buf, endpoint=ep, callback_script=script)
        script = [{"op": END[method], "args": {"socket": s, "result": "$self"}},
                  {"op": BEGIN[method], "args": args}]
    r = h.begin(method, s, parts[0], endpoint=ep, callback_script=script)
    assert r.ok, "Begin threw %s" % r.error
    want = b"".join(buffer_bytes(p) for p in parts)
    got = conn.read_exact(len(want), timeout=10.0)
    cb = h.wait_callback(r.result["result"])
    assert cb, "the first callback never ran"
    names = [r.result["result"]]
    for depth in range(2):
        outs = cb[0].get("script") or []
        assert len(outs) == 2 and outs[0].get("ok") and outs[1].get("ok"), \
            "level %d of the chain: End/Begin inside the callback: %r" % (depth + 1, outs)
        names.append(outs[1]["result"]["result"])
        cb = h.wait_callback(names[-1])
        assert cb, "the callback of the operation begun inside a callback never ran"
    assert got == want, "the peer got the three sends out of order or mixed"
    for n in names:
        assert len(h.callbacks(n)) == 1, "a callback ran %d times" % len(h.callbacks(n))


@pytest.mark.clause("ASYNC-02")
@pytest.mark.needs("hold", "threads")
@pytest.mark.parametrize("method", METHODS)
def test_ASYNC_02_held_callback_others_complete(h, method):
    """While one callback is blocked (held on a latch), another operation on
    the same socket still completes: its End returns and its datagram
    arrives.  Whether its callback also runs meanwhile is recorded (INFO): an
    implementation may run callbacks one at a time, in completion order."""
    rcv = setups.udp_receiver(h)
    s = setups.udp_sender(h, connect_to=rcv.endpoint if method == "send" else None)
    latch = h.unique_state("held")
    t, _ = h.thread()
    # Begin's reply is not awaited: the hold may run inline inside Begin.
    a = h.a.send(BEGIN[method], h.begin_args(method, s, text("held"), endpoint=rcv.endpoint,
                                             hold={"latch": latch, "timeout_ms": HOLD_MS}), thread=t)
    held = h.a.wait_for(lambda evs: next((e for e in evs if e.get("event") == "held"
                                          and e.get("latch") == latch), None), 5.0, h.mark_events)
    assert held, "the held operation's callback never ran"
    first, _ = rcv.recv()
    b = h.begin(method, s, text("other"), endpoint=rcv.endpoint)
    assert b.ok, "Begin while another callback is held threw %s" % b.error
    rb = b.result["result"]
    e = h.end(method, s, rb, timeout=5.0)
    second, _ = rcv.recv()
    cb_meanwhile = bool(h.wait_callback(rb, timeout=0.5))
    still_held = not h.callbacks(held["result"])
    h.release_latch(latch)
    ra = h.a.collect([a], timeout=HOLD_MS / 1000.0 + 5)[0]
    cba = h.wait_callback(held["result"])
    cbb = h.wait_callback(rb)
    h.info(other_callback_ran_while_held=cb_meanwhile)
    assert ra.ok, "the held operation's Begin threw %s" % ra.error
    assert e.ok and e.result.get("bytes") == 5, "End of the other operation while a callback was held: %r" % (
        e.result or e.error)
    assert (first, second) == (b"held", b"other"), "datagrams: %r" % ((first, second),)
    assert still_held, "the held callback finished before its latch was released"
    assert cba and cba[0].get("hold", {}).get("by") == "release_latch", "the held callback: %r" % (cba,)
    assert cbb and len(h.callbacks(rb)) == 1, "the other operation's callback ran %d times" % len(h.callbacks(rb))


@pytest.mark.clause("ASYNC-08")
@pytest.mark.needs("pipelining")
@pytest.mark.parametrize("method", METHODS)
def test_ASYNC_08_64_in_flight(h, method):
    """64 Begins written without waiting for replies on a stream the peer does
    not read: they are all outstanding at once (most still pending), then the
    peer reads and every operation completes once, in Begin order."""
    s, conn = setups.tcp_pair(h, blocked=True)
    ep = h.peer_of[s]
    bufs = [pat(32768, i) for i in range(64)]
    begins = h.a.pipeline([(BEGIN[method], h.begin_args(method, s, b, endpoint=ep)) for b in bufs], window=64)
    assert all(r.ok for r in begins), "a Begin threw: %r" % next(r.error for r in begins if not r.ok)
    names = [r.result["result"] for r in begins]
    status = h.a.pipeline([("status", {"result": n}) for n in names], window=64)
    pending = sum(1 for r in status if r.ok and not r.result.get("is_completed"))
    drain = setups.Drain(conn)
    ends = h.a.pipeline([(END[method], {"socket": s, "result": n}) for n in names], window=64,
                        timeout=20.0)
    drain.stop()
    want = b"".join(buffer_bytes(b) for b in bufs)
    got = conn.read_exact(len(want), timeout=10.0)   # what the drain had not read yet
    h.info(pending_after_64_begins=pending, max_requests_in_flight=h.a.max_in_flight)
    # the peer reads nothing until all 64 are begun: at most a few fit in the buffers
    assert pending >= 48, "only %d of 64 operations were still pending with the peer not reading" % pending
    assert all(e.ok and e.result.get("bytes") == 32768 for e in ends), \
        "an End: %r" % next((e.result or e.error) for e in ends if not (e.ok and e.result.get("bytes") == 32768))
    assert got == want, "the peer got %d bytes, not the 64 payloads in Begin order" % len(got)
    for n in names:   # End may return before the callback has run
        h.wait_callback(n)
        assert len(h.callbacks(n)) == 1, "a callback of %s ran %d times" % (n, len(h.callbacks(n)))


@pytest.mark.clause("ASYNC-10")
@pytest.mark.needs("sync_send")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("proto", ("udp", "tcp"))
def test_ASYNC_10_sync_and_async_mixed(h, proto, method):
    """Send/SendTo and BeginSend/BeginSendTo alternated on one socket, each
    Begin ended before the next call: the peer gets them in call order."""
    if proto == "udp":
        rcv = setups.udp_receiver(h)
        s = setups.udp_sender(h, connect_to=rcv.endpoint if method == "send" else None)
        ep = rcv.endpoint
    else:
        s, conn = setups.tcp_pair(h)
        ep = h.peer_of[s]
    bufs = [pat(700, i) for i in range(8)]
    for i, b in enumerate(bufs):
        if i % 2:
            n = h.send_all(method, s, b, endpoint=ep)
        else:
            r = h.sync_send(method, s, b, endpoint=ep)
            assert r.ok, "the synchronous %s threw %s" % ("Send" if method == "send" else "SendTo", r.error)
            n = r.result.get("bytes")
        assert n == 700, "call %d sent %r bytes" % (i, n)
    want = [buffer_bytes(b) for b in bufs]
    if proto == "udp":
        got = [rcv.recv()[0] for _ in bufs]
    else:
        data = conn.read_exact(sum(map(len, want)), timeout=10.0)
        got = [data[i * 700:(i + 1) * 700] for i in range(len(bufs))]
    order = [want.index(g) if g in want else None for g in got]
    assert got == want, "the peer got the calls in the order %s" % order
