"""BCAST-01/02 (loopback broadcast 127.255.255.255), SIZE-01..04 (oversize,
largest and empty datagrams, with sentinels), FLAGS-01/02."""
import pytest

from apmsock_harness import net, setups
from apmsock_harness.case import expect_error, text, pat, buffer_bytes

SE = "System.Net.Sockets.SocketException"
IPS = ("v4", "v6")
METHODS = ("send", "send_to")
MAX_DGRAM = {"v4": 65507, "v6": 65527}


# ---------------------------------------------------------------- BCAST
@pytest.mark.clause("BCAST-01")
def test_BCAST_01_without_option(h):
    r = setups.udp_receiver(h, "v4", address="0.0.0.0")
    s = h.socket("v4", "udp")
    out = h.outcome("send_to", s, text("broadcast"), endpoint=r.endpoint_at(net.BROADCAST_V4))
    h.info(local_endpoint_after=h.ok("local_endpoint", socket=s)["endpoint"])
    h.check(lambda p: expect_error(out, SE, "AccessDenied", where="end" if p == "documented" else None,
                                   what="BeginSendTo to 127.255.255.255 without SocketOptionName.Broadcast"))
    sent = h.sentinel()
    h.send_all("send_to", s, {"hex": sent.hex()}, endpoint=r.endpoint_at("127.0.0.1"))
    r.expect_only_sentinel(sent)


@pytest.mark.clause("BCAST-02")
@pytest.mark.parametrize("method", METHODS)
def test_BCAST_02_with_option(h, method):
    r = setups.udp_receiver(h, "v4", address="0.0.0.0")
    s = h.socket("v4", "udp")
    h.option(s, "broadcast", 1)
    got = h.ok("get_option", socket=s, name="broadcast")["value"]
    assert got == 1, "SocketOptionName.Broadcast reads back %r after setting it to 1" % got
    bep = r.endpoint_at(net.BROADCAST_V4)
    if method == "send":
        setups.connect(h, s, bep)
    n = h.send_all(method, s, text("to everyone"), endpoint=bep)
    assert n == 11, "End returned %s of 11" % n
    data, _ = r.recv(what="the broadcast datagram")
    assert data == b"to everyone", "the wildcard receiver got %r" % data


# ---------------------------------------------------------------- SIZE
@pytest.mark.clause("SIZE-01")
@pytest.mark.parametrize("over", (1, 4096), ids=("max_plus_1", "max_plus_4096"))
@pytest.mark.parametrize("ip", IPS)
def test_SIZE_01_send_to_oversize(h, ip, over):
    r = setups.udp_receiver(h, ip)
    s = h.socket(ip, "udp")
    out = h.outcome("send_to", s, pat(MAX_DGRAM[ip] + over), endpoint=r.endpoint)
    h.check(lambda p: expect_error(out, SE, "MessageSize", where="end" if p == "documented" else None,
                                   what="BeginSendTo of %d bytes" % (MAX_DGRAM[ip] + over)))
    setups.sentinel_to(h, s, r)


@pytest.mark.clause("SIZE-02")
@pytest.mark.parametrize("over", (1, 4096), ids=("max_plus_1", "max_plus_4096"))
@pytest.mark.parametrize("ip", IPS)
def test_SIZE_02_send_oversize(h, ip, over):
    r = setups.udp_receiver(h, ip)
    s = setups.udp_sender(h, ip, connect_to=r.endpoint)
    out = h.outcome("send", s, pat(MAX_DGRAM[ip] + over))
    h.check(lambda p: expect_error(out, SE, "MessageSize", where="begin" if p == "documented" else None,
                                   what="BeginSend of %d bytes" % (MAX_DGRAM[ip] + over)))
    setups.sentinel_to(h, s, r, "send")


@pytest.mark.clause("SIZE-03")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
def test_SIZE_03_largest(h, ip, method):
    r = setups.udp_receiver(h, ip, rcvbuf=1 << 20)
    s = setups.udp_sender(h, ip, connect_to=r.endpoint if method == "send" else None)
    buf = pat(MAX_DGRAM[ip], 17)
    n = h.send_all(method, s, buf, endpoint=r.endpoint)
    assert n == MAX_DGRAM[ip], "End returned %s of %d" % (n, MAX_DGRAM[ip])
    data, _ = r.recv(what="the %d-byte datagram" % MAX_DGRAM[ip])
    assert data == buffer_bytes(buf), "received %d bytes, differing from offset %d" % (
        len(data), net.first_difference(data, buffer_bytes(buf)))


@pytest.mark.clause("SIZE-04")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
def test_SIZE_04_empty(h, ip, method):
    r = setups.udp_receiver(h, ip)
    s = setups.udp_sender(h, ip, connect_to=r.endpoint if method == "send" else None)
    n = h.send_all(method, s, {"hex": ""}, endpoint=r.endpoint)
    assert n == 0, "End returned %s for an empty datagram" % n
    data, _ = r.recv(what="the empty datagram")
    assert data == b"", "expected an empty datagram, got %r" % data


# ---------------------------------------------------------------- FLAGS
def _ns_receiver(h):
    return h.add_peer(net.in_netns(h.a.pid, lambda: net.UdpReceiver("v4")))


@pytest.mark.clause("FLAGS-01")
@pytest.mark.parametrize("method", METHODS)
def test_FLAGS_01_dont_route_offlink(h_netns, method):
    h = h_netns
    off = {"address": net.OFFLINK_V4, "port": 9}
    s = setups.udp_sender(h, "v4", connect_to=off if method == "send" else None)
    routed = h.outcome(method, s, text("routed"), endpoint=off)
    assert routed["error"] is None, "without DontRoute the send to the routed TEST-NET address threw %s" % routed["error"]
    out = h.outcome(method, s, text("not routed"), endpoint=off, flags=0x4)
    h.check(lambda p: expect_error(out, SE, "NetworkUnreachable",
                                   where=("begin" if method == "send" else "end") if p == "documented" else None,
                                   what="DontRoute send to an off-link address"))


@pytest.mark.clause("FLAGS-01")
@pytest.mark.parametrize("method", METHODS)
def test_FLAGS_01_dont_route_onlink(h_netns, method):
    h = h_netns
    r = _ns_receiver(h)
    s = setups.udp_sender(h, "v4", connect_to=r.endpoint if method == "send" else None)
    n = h.send_all(method, s, text("on link"), endpoint=r.endpoint, flags=0x4)
    assert n == 7, "End returned %s of 7" % n
    data, _ = r.recv(what="the DontRoute datagram to the on-link peer")
    assert data == b"on link", "the on-link peer got %r" % data


@pytest.mark.clause("FLAGS-02")
@pytest.mark.parametrize("method", METHODS)
def test_FLAGS_02_out_of_band(h, method):
    s, conn = setups.tcp_pair(h)
    out = h.outcome(method, s, text("!"), flags=0x1)
    urgent = None
    normal = b""
    if out["error"] is None:
        # the urgent byte is either readable with MSG_OOB or inline
        for _ in range(50):
            urgent = conn.urgent()
            if urgent:
                break
            normal = conn.read_available(0.05)
            if normal:
                break
    h.info(outcome={"at": out["at"], "error": out["error"], "bytes": out["bytes"]},
           urgent=urgent.hex() if urgent else None, inline=normal.hex() if normal else None)
