"""CONN-01..CONN-13: connection-oriented and connectionless sends."""
import pytest

from apmsock_harness import net, setups
from apmsock_harness.case import expect_error, text, pat, buffer_bytes

SE = "System.Net.Sockets.SocketException"
IPS = ("v4", "v6")
METHODS = ("send", "send_to")
CONNECT_HOWS = ("connect", "begin_connect", "accept", "begin_accept")


@pytest.mark.clause("CONN-01")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_01_stream_not_connected(h, ip):
    s = h.socket(ip, "tcp")
    out = h.outcome("send", s, text("hello"))
    h.check(lambda p: expect_error(out, SE, "NotConnected", where="begin" if p == "documented" else None,
                                   what="BeginSend on an unconnected stream socket"))


@pytest.mark.clause("CONN-02")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_02_stream_send_to_not_connected(h, ip):
    lst = h.add_peer(net.TcpListener(ip))
    s = h.socket(ip, "tcp")
    out = h.outcome("send_to", s, text("hello"), endpoint=lst.endpoint)
    h.check(lambda p: expect_error(out, SE, "NotConnected", where="begin" if p == "documented" else None,
                                   what="BeginSendTo on an unconnected stream socket"))
    assert not lst.pending_connection(), "BeginSendTo connected to remoteEP"


@pytest.mark.clause("CONN-03")
@pytest.mark.parametrize("how", CONNECT_HOWS)
@pytest.mark.parametrize("ip", IPS)
def test_CONN_03_send_after(h, ip, how):
    s, conn = setups.tcp_pair(h, ip, how)
    # "the remote host established in the ... method": the socket's own
    # record of it (RemoteEndPoint) is the peer's address, for the socket
    # that connected and for the one that Accept made.
    remote = h.ok("remote_endpoint", socket=s)["endpoint"] or {}
    want_ep = h.peer_of[s]
    assert (remote.get("address"), remote.get("port")) == (want_ep["address"], want_ep["port"]), \
        "RemoteEndPoint after %s is %r, the peer is %r" % (how, remote, want_ep)
    buf = pat(100000, 11)
    r = h.begin("send", s, buf)
    assert r.ok, "BeginSend on a connected socket threw %s" % r.error
    conn.start_reading(100000)
    e = h.end("send", s, r.result["result"])
    assert e.ok, "EndSend threw %s" % e.error
    assert e.result["bytes"] == 100000, "EndSend returned %s of 100000" % e.result["bytes"]
    got = conn.join()
    want = buffer_bytes(buf)
    assert got == want, "the peer's bytes differ from offset %d" % net.first_difference(got, want)


@pytest.mark.clause("CONN-04")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_04_send_to_ignores_remote_ep(h, ip):
    s, conn = setups.tcp_pair(h, ip)
    other = h.add_peer(net.TcpListener(ip))
    n = h.send_all("send_to", s, text("to the connected peer"), endpoint=other.endpoint)
    assert n == 21, "EndSendTo returned %s of 21" % n
    got = conn.read_exact(21)
    assert got == b"to the connected peer", "the connected peer got %r" % got
    assert not other.pending_connection(), "remoteEP received a connection"


@pytest.mark.clause("CONN-05")
@pytest.mark.parametrize("how", ("connect", "begin_connect"))
@pytest.mark.parametrize("ip", IPS)
def test_CONN_05_datagram_default_host(h, ip, how):
    r = setups.udp_receiver(h, ip)
    s = setups.udp_sender(h, ip, connect_to=r.endpoint, how=how)
    n = h.send_all("send", s, text("default host"))
    assert n == 12, "EndSend returned %s of 12" % n
    data, src = r.recv()
    assert data == b"default host", "the default host got %r" % data
    h.info(source_port=src[1], local_endpoint=h.ok("local_endpoint", socket=s)["endpoint"])


@pytest.mark.clause("CONN-06")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_06_datagram_not_connected(h, ip):
    r = setups.udp_receiver(h, ip)
    s = h.socket(ip, "udp")
    out = h.outcome("send", s, text("nowhere"))
    h.check(lambda p: expect_error(out, SE, "NotConnected", where="begin" if p == "documented" else None,
                                   what="BeginSend on an unconnected datagram socket"))
    setups.sentinel_to(h, s, r)


@pytest.mark.clause("CONN-06")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_06_send_to_sets_no_default_host(h, ip):
    """BeginSendTo sends without establishing a default remote host: a
    BeginSend after it is as unconnected as before (Wine's test_getpeername:
    sendto() leaves a UDP socket without a peer)."""
    r = setups.udp_receiver(h, ip)
    s = h.socket(ip, "udp")
    setups.sentinel_to(h, s, r)
    out = h.outcome("send", s, text("nowhere"))
    h.check(lambda p: expect_error(out, SE, "NotConnected", where="begin" if p == "documented" else None,
                                   what="BeginSend on a datagram socket that has only used BeginSendTo"))
    setups.sentinel_to(h, s, r)


@pytest.mark.clause("CONN-07")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_07_no_bind(h, ip):
    r = setups.udp_receiver(h, ip)
    s = h.socket(ip, "udp")
    n = h.send_all("send_to", s, text("who am i"), endpoint=r.endpoint)
    assert n == 8, "EndSendTo returned %s of 8" % n
    data, src = r.recv()
    local = h.ok("local_endpoint", socket=s)["endpoint"]
    h.info(local_endpoint=local, receiver_saw={"address": src[0], "port": src[1]})
    assert local is not None, "LocalEndPoint is null after EndSendTo"
    assert local["port"] != 0, "LocalEndPoint port is 0 after EndSendTo"
    assert local["port"] == src[1], "LocalEndPoint port %d, the receiver saw port %d" % (local["port"], src[1])
    assert local["address"] == src[0], \
        "LocalEndPoint address %s is not the source address the receiver saw (%s)" % (local["address"], src[0])


@pytest.mark.clause("CONN-08")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_08_override_once(h, ip):
    r1 = setups.udp_receiver(h, ip)
    r2 = setups.udp_receiver(h, ip)
    s = setups.udp_sender(h, ip, connect_to=r1.endpoint)
    h.send_all("send_to", s, text("override"), endpoint=r2.endpoint)
    h.send_all("send", s, text("default"))
    d2, _ = r2.recv(what="the BeginSendTo datagram at remoteEP")
    assert d2 == b"override", "remoteEP got %r" % d2
    d1, _ = r1.recv(what="the BeginSend datagram at the default host")
    assert d1 == b"default", "the default host got %r first: the BeginSendTo datagram went there" % d1
    assert not r1.pending() and not r2.pending(), "extra datagrams arrived"


@pytest.mark.clause("CONN-09")
@pytest.mark.parametrize("how", ("connect", "begin_connect"))
@pytest.mark.parametrize("ip", IPS)
def test_CONN_09_reconnect(h, ip, how):
    r1 = setups.udp_receiver(h, ip)
    r2 = setups.udp_receiver(h, ip)
    s = setups.udp_sender(h, ip, connect_to=r1.endpoint)
    h.send_all("send", s, text("first"))
    setups.connect(h, s, r2.endpoint, how)
    h.send_all("send", s, text("second"))
    d1, _ = r1.recv()
    d2, _ = r2.recv(what="the datagram sent after the second Connect")
    assert d1 == b"first" and d2 == b"second", "first host got %r, second %r" % (d1, d2)
    assert not r1.pending(), "the old default host got a datagram after Connect changed it"


@pytest.mark.clause("CONN-10")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_10_several_hosts(h, ip):
    rs = [setups.udp_receiver(h, ip) for _ in range(3)]
    s = h.socket(ip, "udp")
    for i, r in enumerate(rs):
        h.send_all("send_to", s, text("host %d" % i), endpoint=r.endpoint)
    for i, r in enumerate(rs):
        d, _ = r.recv()
        assert d == ("host %d" % i).encode(), "receiver %d got %r" % (i, d)
        assert not r.pending(), "receiver %d got more than its datagram" % i


@pytest.mark.clause("CONN-11")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
def test_CONN_11_large_stream_send(h, ip, method):
    size = 4 << 20
    s, conn = setups.tcp_pair(h, ip, sndbuf=65536)
    buf = pat(size, 5)
    conn.start_reading(size, timeout=15.0)
    r = h.begin(method, s, buf, endpoint={"address": net.LOOPBACK[ip], "port": 9})
    assert r.ok, "Begin threw %s" % r.error
    e = h.end(method, s, r.result["result"], timeout=15.0)
    assert e.ok, "End threw %s" % e.error
    assert e.result["bytes"] == size, "End returned %s of %d" % (e.result["bytes"], size)
    got = conn.join()
    want = buffer_bytes(buf)
    assert got == want, "the peer's bytes differ from offset %d" % net.first_difference(got, want)


@pytest.mark.clause("CONN-12")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
def test_CONN_12_blocking_stays_pending(h, ip, method):
    s, conn = setups.tcp_pair(h, ip, blocked=True)
    size = setups.BLOCKING_SEND
    buf = pat(size, 9)
    r = h.begin(method, s, buf)
    assert r.ok, "Begin threw %s" % r.error
    res = r.result["result"]
    assert setups.pending_check(h, res), "the send completed although the peer read nothing and the buffers are full"
    conn.start_reading(size, timeout=15.0)
    e = h.end(method, s, res, timeout=15.0)
    assert e.ok and e.result["bytes"] == size, "End after the peer read: %r" % (e.result or e.error)
    got = conn.join()
    assert got == buffer_bytes(buf), "the peer's bytes differ from offset %d" % net.first_difference(got, buffer_bytes(buf))


@pytest.mark.clause("CONN-12")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
def test_CONN_12_nonblocking_would_block(h, ip, method):
    s, conn = setups.tcp_pair(h, ip, blocked=True)
    assert h.ok("get_option", socket=s, name="blocking")["value"] == 1, "a new socket is not blocking"
    h.option(s, "blocking", 0)
    assert h.ok("get_option", socket=s, name="blocking")["value"] == 0, "Blocking reads back true after setting it false"
    out = None
    total = 0
    for i in range(256):  # 256 x 64 KiB is far above any loopback buffering
        b = h.begin(method, s, pat(65536, i % 251))
        if not b.ok:
            out = {"at": "begin", "error": b.error, "bytes": None}
            break
        res = b.result["result"]
        # a non-blocking socket never leaves a send waiting for buffer space
        assert not setups.pending_check(h, res, 2000), (
            "send %d on a full non-blocking socket stayed pending instead of failing with WouldBlock" % i)
        e = h.end(method, s, res)
        if not e.ok:
            out = {"at": "end", "error": e.error, "bytes": None}
            break
        total += e.result.get("bytes") or 0
    h.info(sends_before_error=i, bytes_accepted=total)
    assert out is not None, "256 sends of 64 KiB on a non-blocking socket whose peer does not read all succeeded"
    h.check(lambda p: expect_error(out, "System.Net.Sockets.SocketException", "WouldBlock",
                                   where=("begin" if method == "send" else "end") if p == "documented" else None,
                                   what="send on a full non-blocking socket"))


@pytest.mark.clause("CONN-13")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_13_no_listener(h, ip):
    port = net.unused_udp_port(ip)
    s = h.socket(ip, "udp")
    n = h.send_all("send_to", s, text("into the void"), endpoint={"address": net.LOOPBACK[ip], "port": port})
    assert n == 13, "EndSendTo returned %s of 13" % n


@pytest.mark.clause("CONN-01")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_01_after_refused_connect(h, ip):
    """A Connect that failed leaves the stream socket unconnected: Connect
    reports the refusal, and BeginSend then throws as on a socket never
    connected."""
    refuser = h.add_peer(net.TcpRefuser(ip))
    s = h.socket(ip, "tcp")
    c = h.call("connect", socket=s, endpoint=refuser.endpoint, how="connect")
    expect_error({"error": c.error, "at": None, "bytes": None}, SE, "ConnectionRefused",
                 what="Connect to a port nobody listens on")
    out = h.outcome("send", s, text("hello"))
    h.check(lambda p: expect_error(out, SE, where="begin" if p == "documented" else None,
                                   what="BeginSend after a refused Connect"))


@pytest.mark.clause("CONN-14")
@pytest.mark.needs("dual_mode")
def test_CONN_14_dual_mode_option_errors(h):
    """DualMode belongs to IPv6 sockets (NotSupportedException on IPv4), and
    once bound the kernel refuses to change it (SocketException): a refused
    change leaves the value it had."""
    s4 = h.socket("v4", "udp")
    r = h.call("set_option", socket=s4, name="dual_mode", value=1)
    expect_error({"error": r.error, "at": None, "bytes": None}, "System.NotSupportedException",
                 what="DualMode on an IPv4 socket")
    s6 = h.socket("v6", "udp")
    h.option(s6, "dual_mode", 0)
    h.ok("bind", socket=s6, endpoint={"address": net.LOOPBACK["v6"], "port": 0})
    r = h.call("set_option", socket=s6, name="dual_mode", value=1)
    expect_error({"error": r.error, "at": None, "bytes": None}, SE,
                 what="DualMode changed on a bound IPv6 socket")
    got = h.ok("get_option", socket=s6, name="dual_mode")["value"]
    assert got == 0, "DualMode reads back %r after a refused change to true" % got
