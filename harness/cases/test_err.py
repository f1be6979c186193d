"""ERR-01..ERR-05: socket errors."""
import pytest

from apmsock_harness import net, setups
from apmsock_harness.case import expect_error, text, pat

SE = "System.Net.Sockets.SocketException"
IPS = ("v4", "v6")
METHODS = ("send", "send_to")


def _where(method):
    """Transmission errors: Begin for BeginSend, End for BeginSendTo."""
    return "begin" if method == "send" else "end"


def _portable_socket_error(out, name, what):
    expect_error(out, SE, name, what=what)


@pytest.mark.clause("ERR-01")
@pytest.mark.parametrize("flags", [0x4000, 0x400, 0x800], ids=["undefined_0x4000", "broadcast_0x400", "multicast_0x800"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
@pytest.mark.parametrize("proto", ("udp", "tcp"))
def test_ERR_01_invalid_flags(h, proto, ip, method, flags):
    if proto == "udp":
        r = setups.udp_receiver(h, ip)
        s = setups.udp_sender(h, ip, connect_to=r.endpoint if method == "send" else None)
        ep = r.endpoint
    else:
        s, conn = setups.tcp_pair(h, ip)
        ep = h.peer_of[s]
    out = h.outcome(method, s, text("flagged"), endpoint=ep, flags=flags)
    h.info(socket_error=(out["error"] or {}).get("socket_error"))

    def judge(p):
        expect_error(out, SE, where="begin" if p == "documented" else None,
                     what="send with flags 0x%x" % flags)
    h.check(judge)
    if proto == "udp":
        setups.sentinel_to(h, s, r, method)
    else:
        setups.stream_quiet(h, s, conn, method)


@pytest.mark.clause("ERR-01")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
def test_ERR_01_out_of_band_datagram(h, ip, method):
    r = setups.udp_receiver(h, ip)
    s = setups.udp_sender(h, ip, connect_to=r.endpoint if method == "send" else None)
    out = h.outcome(method, s, text("oob"), endpoint=r.endpoint, flags=0x1)
    h.info(socket_error=(out["error"] or {}).get("socket_error"))
    h.check(lambda p: expect_error(out, SE, where="begin" if p == "documented" else None,
                                   what="OutOfBand on a datagram socket"))
    setups.sentinel_to(h, s, r, method)


@pytest.mark.clause("ERR-02")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
def test_ERR_02_after_shutdown_send(h, ip, method):
    s, conn = setups.tcp_pair(h, ip)
    h.ok("shutdown", socket=s, how="send")
    out = h.outcome(method, s, text("late"))
    h.check(lambda p: expect_error(out, SE, "Shutdown", where=_where(method) if p == "documented" else None,
                                   what="send after Shutdown(Send)"))
    got = conn.read_available(1.0)
    assert got == b"", "the peer received %r after Shutdown(Send)" % got


@pytest.mark.clause("ERR-02")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
def test_ERR_02_peer_reset(h, ip, method):
    s, conn = setups.tcp_pair(h, ip)
    conn.reset()
    out = None
    for i in range(8):  # the first sends may still be accepted before the RST is seen
        out = h.outcome(method, s, text("after reset %d" % i))
        if out["error"] is not None:
            break
    h.info(attempts=i + 1)
    h.check(lambda p: expect_error(out, SE, "ConnectionReset", where=_where(method) if p == "documented" else None,
                                   what="send to a peer that reset the connection"))


@pytest.mark.clause("ERR-03")
def test_ERR_03_error_codes(h):
    """Every SocketException seen carries a SocketError name and the WSA
    number of that name (the header's table), and an errno."""
    table = setups.socket_error_table()
    seen = []
    r = setups.udp_receiver(h)
    s = setups.udp_sender(h)
    seen.append(h.outcome("send", s, text("x")))                               # NotConnected
    seen.append(h.outcome("send_to", s, pat(65508), endpoint=r.endpoint))      # MessageSize
    b = setups.udp_receiver(h, address="0.0.0.0")
    seen.append(h.outcome("send_to", s, text("b"), endpoint=b.endpoint_at(net.BROADCAST_V4)))  # AccessDenied
    t = h.socket("v4", "tcp")
    seen.append(h.outcome("send", t, text("x")))                               # NotConnected (stream)
    errors = [o["error"] for o in seen if o["error"] is not None]
    assert errors, "none of the error scenarios threw"
    for e in errors:
        if e.get("type") != SE:
            continue
        name, code = e.get("socket_error"), e.get("socket_error_code")
        assert name in table, "SocketError name %r is not a .NET SocketError" % name
        assert code == table[name], "%s carries ErrorCode %r, SocketError.%s is %d" % (name, code, name, table[name])
        assert isinstance(e.get("errno"), int) and e["errno"] > 0, "%s carries no native errno (%r)" % (name, e.get("errno"))
    h.info(errors=[(e.get("socket_error"), e.get("socket_error_code"), e.get("errno")) for e in errors])
    names = {e.get("socket_error") for e in errors}
    # Which name a send on an unconnected socket gets is CONN-01/CONN-06's
    # question (Linux says EDESTADDRREQ/EPIPE, Windows WSAENOTCONN); here it
    # must only be a SocketException with a consistent code and an errno.
    for (what, o) in (("udp send unconnected", seen[0]), ("tcp send unconnected", seen[3])):
        assert o["error"] is not None and o["error"].get("type") == SE, \
            "%s: expected a SocketException, got %r" % (what, o["error"])
    for want in ("MessageSize", "AccessDenied"):
        assert want in names, "no SocketException %s among %s" % (want, sorted(n for n in names if n))


@pytest.mark.clause("ERR-04")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
@pytest.mark.parametrize("proto", ("udp", "tcp"))
def test_ERR_04_disposed(h, proto, ip, method):
    r = setups.udp_receiver(h, ip)
    if proto == "udp":
        s = setups.udp_sender(h, ip, connect_to=r.endpoint if method == "send" else None)
    else:
        s, _ = setups.tcp_pair(h, ip)
    h.ok("close", socket=s)
    state = h.unique_state("closed")
    b = h.begin(method, s, text("closed"), endpoint=r.endpoint, state=state)
    out = {"error": b.error, "at": "begin" if not b.ok else None, "bytes": None}
    if b.ok:
        e = h.end(method, s, b.result["result"])
        out["at"], out["error"] = ("end", e.error) if not e.ok else (None, None)
    expect_error(out, "System.ObjectDisposedException", where="begin", what="Begin on a closed socket")
    # a marker operation's callback shows the callbacks so far have arrived
    m = setups.udp_sender(h, ip)
    mr = h.begin("send_to", m, text("marker"), endpoint=r.endpoint)
    assert mr.ok and h.wait_callback(mr.result["result"]), "the marker operation did not complete"
    h.end("send_to", m, mr.result["result"])
    data, _ = r.recv(what="the marker datagram")
    assert data == b"marker", "the receiver got %r before the marker: the closed socket sent it" % data
    assert not [c for c in h.callbacks() if c.get("state") == state], "a Begin on a closed socket ran a callback"
    got = r.pending()
    assert not got, "a closed socket sent %r" % got


@pytest.mark.clause("ERR-05")
@pytest.mark.parametrize("method", ("send_to",))
def test_ERR_05_v6_endpoint_on_v4_socket(h, method):
    r6 = setups.udp_receiver(h, "v6")
    s = setups.udp_sender(h, "v4")
    out = h.outcome("send_to", s, text("fam"), endpoint=r6.endpoint)
    h.check(lambda p: expect_error(out, SE, "AddressFamilyNotSupported",
                                   where="begin" if p == "documented" else None,
                                   what="BeginSendTo with an IPv6 endpoint on an IPv4 socket"))
    got = r6.pending()
    assert not got, "the IPv6 receiver got %r" % got


@pytest.mark.clause("ERR-05")
def test_ERR_05_v4_endpoint_on_v6_only_socket(h):
    """INFO part of ERR-05: recorded, never failed."""
    r4 = setups.udp_receiver(h, "v4")
    s = h.socket("v6", "udp")
    if "dual_mode" in h.a.capabilities:
        h.call("set_option", socket=s, name="dual_mode", value=0)
    out = h.outcome("send_to", s, text("fam"), endpoint=r4.endpoint)
    h.info(outcome={"at": out["at"], "error": out["error"], "bytes": out["bytes"]},
           delivered=[d.hex() for d in r4.pending()])


@pytest.mark.clause("ERR-05")
@pytest.mark.needs("dual_mode")
def test_ERR_05_v4_endpoint_on_dual_mode_socket(h):
    """INFO part of ERR-05: with DualMode on, an IPv4 endpoint is not of
    another family for the socket; what happens is recorded."""
    r4 = setups.udp_receiver(h, "v4")
    s = h.socket("v6", "udp")
    h.option(s, "dual_mode", 1)
    got = h.ok("get_option", socket=s, name="dual_mode")["value"]
    out = h.outcome("send_to", s, text("dual"), endpoint=r4.endpoint)
    delivered = []
    if out["error"] is None:
        delivered = [r4.recv(what="the datagram sent through the dual-mode socket")[0].hex()]
    h.info(dual_mode_read_back=got, outcome={"at": out["at"], "error": out["error"], "bytes": out["bytes"]},
           delivered=delivered)


@pytest.mark.clause("ERR-04")
@pytest.mark.parametrize("ip", IPS)
def test_ERR_04_disposed_socket_calls(h, ip):
    """The instance is disposed for every call, not only Begin: Bind,
    Connect, Listen and the options of a closed socket throw
    ObjectDisposedException and leave the peers untouched."""
    lst = h.add_peer(net.TcpListener(ip))
    s = h.socket(ip, "tcp")
    h.ok("close", socket=s)
    calls = [
        ("bind", dict(endpoint={"address": net.LOOPBACK[ip], "port": 0})),
        ("connect", dict(endpoint=lst.endpoint, how="connect")),
        ("listen", dict(backlog=4)),
        ("set_option", dict(name="send_buffer", value=8192)),
        ("get_option", dict(name="send_buffer")),
    ]
    for op, args in calls:
        r = h.call(op, socket=s, **args)
        expect_error({"error": r.error, "at": None, "bytes": None}, "System.ObjectDisposedException",
                     what="%s on a closed socket" % op)
    assert not lst.pending_connection(), "Connect on a closed socket reached the listener"
