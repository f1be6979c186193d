"""Cases the peer suites imply (fixtures/peers.yaml): ARG-11 (DnsEndPoint),
CONN-14..17 (dual mode, its default, LocalEndPoint at Begin, Connected after a
failed send), BCAST-03 (Windows' connect to broadcast), END-06 (End(null) on a
disposed socket), CANCEL-05..07 (Begin racing Dispose, what the peer sees when
a socket goes away with data pending)."""
import select
import socket
import time

import pytest

from apmsock_harness import net, setups
from apmsock_harness.case import expect_error, text, pat, buffer_bytes

SE = "System.Net.Sockets.SocketException"
ODE = "System.ObjectDisposedException"
METHODS = ("send", "send_to")
BEGIN = {"send": "begin_send", "send_to": "begin_send_to"}


def _brief(out):
    e = out["error"] or {}
    return {"at": out["at"], "error": e.get("type"), "socket_error": e.get("socket_error"),
            "param": e.get("param"), "bytes": out["bytes"]}


def _peer_end(conn, limit=8.0):
    """Reads the stream to its end: ("fin", n bytes) or ("reset", n bytes);
    ("open", n) if neither came within limit."""
    n = len(conn.data)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not select.select([conn.sock], [], [], 0.2)[0]:
            continue
        try:
            chunk = conn.sock.recv(1 << 20)
        except ConnectionResetError:
            return "reset", n
        if not chunk:
            return "fin", n
        conn.data += chunk
        n += len(chunk)
    return "open", n


# ---------------------------------------------------------------- ARG-11
@pytest.mark.clause("ARG-11")
@pytest.mark.needs("dns_endpoint")
def test_ARG_11_dns_endpoint(h):
    r = setups.udp_receiver(h)
    s = setups.udp_sender(h)
    out = h.outcome("send_to", s, text("by name"), endpoint={"host": "localhost", "port": r.endpoint["port"]})
    got = r.pending()
    h.info(outcome=_brief(out), delivered=[d.hex() for d in got])

    def judge(p):
        if p == "portable" and out["error"] is None:
            return   # resolved and sent: recorded
        expect_error(out, "System.ArgumentException", param="remoteEP" if p == "documented" else None,
                     where="begin" if p == "documented" else None, what="BeginSendTo with a DnsEndPoint")
        assert not got, "a refused DnsEndPoint still sent %r" % got
    h.check(judge)


# ---------------------------------------------------------------- CONN-14/15
@pytest.mark.clause("CONN-14")
@pytest.mark.needs("dual_mode", "ipv6", "ipv4")
@pytest.mark.parametrize("method", METHODS)
def test_CONN_14_dual_mode_to_v4(h, method):
    r4 = setups.udp_receiver(h, "v4")
    s = h.socket("v6", "udp")
    h.option(s, "dual_mode", 1)
    if method == "send":
        setups.connect(h, s, r4.endpoint)
    out = h.outcome(method, s, text("dual mode"), endpoint=r4.endpoint)
    assert out["error"] is None, "%s to an IPv4 endpoint on a dual-mode socket threw %s" % (
        BEGIN[method], _brief(out))
    assert out["bytes"] == 9, "End returned %r of 9" % out["bytes"]
    data, _ = r4.recv(what="the datagram sent through the dual-mode socket")
    assert data == b"dual mode", "the IPv4 receiver got %r" % data


@pytest.mark.clause("CONN-15")
@pytest.mark.needs("dual_mode", "ipv6")
def test_CONN_15_dual_mode_default(h):
    got = {}
    for proto in ("udp", "tcp"):
        s = h.socket("v6", proto)
        r = h.call("get_option", socket=s, name="dual_mode")
        got[proto] = r.result.get("value") if r.ok else (r.error or {}).get("type")
    h.info(dual_mode_default=got)


# ---------------------------------------------------------------- CONN-16
@pytest.mark.clause("CONN-16")
def test_CONN_16_local_endpoint_at_begin(h):
    r = setups.udp_receiver(h)
    s = h.socket("v4", "udp")
    before = h.ok("local_endpoint", socket=s)["endpoint"]
    b = h.begin("send_to", s, text("where from"), endpoint=r.endpoint, callback=False)
    assert b.ok, "BeginSendTo threw %s" % b.error
    at_begin = h.ok("local_endpoint", socket=s)["endpoint"]
    e = h.end("send_to", s, b.result["result"])
    assert e.ok, "EndSendTo threw %s" % e.error
    after = h.ok("local_endpoint", socket=s)["endpoint"]
    _, src = r.recv()
    h.info(before_begin=before, after_begin=at_begin, after_end=after, receiver_saw=list(src[:2]))

    def judge(p):
        le = at_begin if p == "documented" else after
        when = "as soon as BeginSendTo returned" if p == "documented" else "after EndSendTo"
        assert le and le.get("port"), "LocalEndPoint %s: %r" % (when, le)
        assert le["port"] == src[1], "LocalEndPoint %s has port %s, the receiver saw %s" % (when, le["port"], src[1])
    h.check(judge)


# ---------------------------------------------------------------- CONN-17
@pytest.mark.clause("CONN-17")
@pytest.mark.parametrize("method", METHODS)
def test_CONN_17_connected_after_failed_send(h, method):
    s, conn = setups.tcp_pair(h)
    has = "connected" in h.a.capabilities
    before = h.ok("connected", socket=s)["connected"] if has else None
    conn.reset()
    failed = None
    for i in range(8):  # the first sends may still be accepted before the RST is seen
        out = h.outcome(method, s, text("after reset %d" % i))
        if out["error"] is not None:
            failed = out
            break
    assert failed is not None, "no send failed after the peer reset the connection (8 tries)"
    after = h.ok("connected", socket=s)["connected"] if has else None
    later = h.outcome(method, s, text("later"))
    h.info(connected_before=before, connected_after_failure=after, failure=_brief(failed),
           later_send=_brief(later), connected_property="recorded" if has else "the adapter has no Connected")


# ---------------------------------------------------------------- BCAST-03
@pytest.mark.clause("BCAST-03")
def test_BCAST_03_connect_to_broadcast_without_option(h):
    r = setups.udp_receiver(h, "v4", address="0.0.0.0")
    s = h.socket("v4", "udp")
    c = h.call("connect", socket=s, endpoint=r.endpoint_at(net.BROADCAST_V4), how="connect")
    info = {"connect": "ok" if c.ok else {"type": c.type, "socket_error": c.socket_error}}
    if c.ok:
        info["broadcast_option"] = h.ok("get_option", socket=s, name="broadcast")["value"]
        info["begin_send"] = _brief(h.outcome("send", s, text("bcast")))
        info["delivered"] = [d.hex() for d in r.pending()]
    h.info(**info)


# ---------------------------------------------------------------- END-06
@pytest.mark.clause("END-06")
@pytest.mark.parametrize("method", METHODS)
def test_END_06_null_result_on_disposed(h, method):
    s = h.socket("v4", "udp")
    h.ok("close", socket=s)
    h.sockets.remove(s)
    e = h.end(method, s, None)
    assert not e.ok, "End(null) on a closed socket returned %r" % e.result
    h.info(threw=e.type, param=(e.error or {}).get("param"))


# ---------------------------------------------------------------- CANCEL-05..07
@pytest.mark.clause("CANCEL-05")
@pytest.mark.needs("threads", "pipelining")
@pytest.mark.parametrize("proto", ("udp", "tcp"))
def test_CANCEL_05_begin_racing_dispose(h, proto):
    t, _ = h.thread()
    seen = {"begin_ok": 0, "begin_threw": {}}
    for i in range(12):
        if proto == "udp":
            r = setups.udp_receiver(h)
            s = setups.udp_sender(h)
            buf, ep = text("race %d" % i), r.endpoint
        else:
            s, conn = setups.tcp_pair(h, blocked=True)
            buf, ep = pat(setups.BLOCKING_SEND, i), h.peer_of[s]
        state = h.unique_state("race")
        b = h.a.send(BEGIN["send_to"] if proto == "udp" else BEGIN["send"],
                     h.begin_args("send_to" if proto == "udp" else "send", s, buf, endpoint=ep, state=state),
                     thread=t)
        c = h.a.send("close", {"socket": s})
        b, c = h.a.collect([b, c], timeout=15.0)
        h.sockets.remove(s)
        assert c.ok, "Close threw %s" % c.error
        if not b.ok:
            assert b.type in (ODE, SE), "Begin racing Dispose threw %s" % b.type
            seen["begin_threw"][b.type] = seen["begin_threw"].get(b.type, 0) + 1
            assert not [e for e in h.callbacks() if e.get("state") == state], \
                "a Begin that threw still ran a callback"
            continue
        seen["begin_ok"] += 1
        res = b.result["result"]
        assert h.wait_callback(res, timeout=10.0), "an operation begun while the socket was disposed never completed"
        e = h.end("send_to" if proto == "udp" else "send", s, res, timeout=10.0)
        assert e.ok or e.type in (ODE, SE), "End threw %s" % e.type
        n = len(h.callbacks(res))
        assert n == 1, "the callback of an operation that raced Dispose ran %d times" % n
    h.info(**seen)


@pytest.mark.clause("CANCEL-06")
@pytest.mark.parametrize("ip", ("v4",))
def test_CANCEL_06_disposed_with_send_pending(h, ip):
    s, conn = setups.tcp_pair(h, ip, blocked=True)
    b = h.begin("send", s, pat(setups.BLOCKING_SEND, 9))
    assert b.ok, "BeginSend threw %s" % b.error
    res = b.result["result"]
    pending = setups.pending_check(h, res, 200)
    h.ok("close", socket=s)
    h.sockets.remove(s)
    assert h.wait_callback(res, timeout=10.0), "the pending operation never completed after Close"
    how, n = _peer_end(conn)
    h.info(pending_at_close=pending, peer_saw=how, bytes_before=n, of=setups.BLOCKING_SEND)
    assert how != "open", "the peer saw neither a reset nor FIN within 8 s of Close"


@pytest.mark.clause("CANCEL-07")
@pytest.mark.parametrize("method", METHODS)
def test_CANCEL_07_shutdown_both_with_unread_data(h, method):
    s, conn = setups.tcp_pair(h)
    bufs = [pat(16384, i) for i in range(4)]
    for b in bufs:
        assert h.send_all(method, s, b) == 16384, "a send of 16384 bytes returned less"
    h.ok("shutdown", socket=s, how="both")
    how, n = _peer_end(conn)
    want = b"".join(buffer_bytes(b) for b in bufs)
    assert how == "fin", "after Shutdown(Both) the peer saw %s after %d bytes, not the data then FIN" % (how, n)
    assert bytes(conn.data) == want, "the peer got %d bytes, not the %d sent before Shutdown(Both)" % (
        len(conn.data), len(want))
