"""BCAST-01/02, FLAGS-01, CONN-13 and SIZE-03 beyond loopback: on the virtual
network of apmsock_harness/topology.py (hosts A and B on 192.0.2.0/24, MTU
1500, router R, host C on 198.51.100.0/24; IPv6 from 2001:db8::/32).  The
adapter runs in host A; the peers in B and C.  SKIP where the network
cannot be built (not root, no `ip`, no veth)."""
import json
import select
import socket
import subprocess

import pytest

from apmsock_harness import net, setups, topology
from apmsock_harness.case import expect_error, text, pat, buffer_bytes

SE = "System.Net.Sockets.SocketException"
IPS = ("v4", "v6")
METHODS = ("send", "send_to")
MAX_DGRAM = {"v4": 65507, "v6": 65527}
ADDR = topology.ADDR
BROADCASTS = {"subnet": topology.SEGMENT1_BROADCAST, "limited": topology.LIMITED_BROADCAST}


def receiver(h, host, ip="v4", wildcard=False, port=0, rcvbuf=None):
    """A UDP receiver inside host B or C (the wildcard address for broadcasts)."""
    addr = ("0.0.0.0" if ip == "v4" else "::") if wildcard else ADDR[host][ip]
    return h.add_peer(h.topo.in_host(host, lambda: net.UdpReceiver(ip, address=addr, port=port,
                                                                   rcvbuf=rcvbuf)))


def at(host, ip, port):
    return {"address": ADDR[host][ip], "port": port}


def sentinel_to(h, s, r, host, ip="v4"):
    """A unicast sentinel from the adapter's socket to r: the next and only
    datagram r gets, so nothing sent before it reached r."""
    sent = h.sentinel()
    h.send_all("send_to", s, {"hex": sent.hex()}, endpoint=at(host, ip, r.port))
    r.expect_only_sentinel(sent)


def tx_packets(h, host="A", dev="eth0"):
    p = subprocess.run(["ip", "-n", h.topo.ns[host], "-s", "-j", "link", "show", dev],
                       stdout=subprocess.PIPE, text=True, timeout=10)
    return json.loads(p.stdout)[0]["stats64"]["tx"]["packets"]


# ---------------------------------------------------------------- BCAST
@pytest.mark.clause("BCAST-01")
@pytest.mark.parametrize("dest", sorted(BROADCASTS))
def test_BCAST_01_segment_without_option(h_net, dest):
    h = h_net
    rb = receiver(h, "B", wildcard=True)
    s = h.socket("v4", "udp")
    out = h.outcome("send_to", s, text("broadcast"), endpoint={"address": BROADCASTS[dest], "port": rb.port})
    h.check(lambda p: expect_error(out, SE, "AccessDenied", where="end" if p == "documented" else None,
                                   what="BeginSendTo to %s without SocketOptionName.Broadcast" % BROADCASTS[dest]))
    sentinel_to(h, s, rb, "B")


@pytest.mark.clause("BCAST-02")
@pytest.mark.parametrize("dest", sorted(BROADCASTS))
@pytest.mark.parametrize("method", METHODS)
def test_BCAST_02_segment_with_option(h_net, method, dest):
    h = h_net
    rb = receiver(h, "B", wildcard=True)
    rc = receiver(h, "C", wildcard=True, port=rb.port)
    s = h.socket("v4", "udp")
    h.option(s, "broadcast", 1)
    bep = {"address": BROADCASTS[dest], "port": rb.port}
    if method == "send":
        setups.connect(h, s, bep)
    n = h.send_all(method, s, text("to everyone"), endpoint=bep)
    assert n == 11, "End returned %s of 11" % n
    data, src = rb.recv(what="the %s broadcast on host B" % BROADCASTS[dest])
    assert data == b"to everyone", "host B got %r" % data
    h.info(source_seen_by_B=list(src))
    # beyond the router: C's next datagram is the unicast sentinel
    sentinel_to(h, s, rc, "C")


# ---------------------------------------------------------------- FLAGS
@pytest.mark.clause("FLAGS-01")
@pytest.mark.parametrize("method", METHODS)
def test_FLAGS_01_net_dont_route_onlink(h_net, method):
    h = h_net
    rb = receiver(h, "B")
    s = setups.udp_sender(h, "v4", connect_to=rb.endpoint if method == "send" else None)
    n = h.send_all(method, s, text("on link"), endpoint=rb.endpoint, flags=0x4)
    assert n == 7, "End returned %s of 7" % n
    data, _ = rb.recv(what="the DontRoute datagram to on-link host B")
    assert data == b"on link", "host B got %r" % data


@pytest.mark.clause("FLAGS-01")
@pytest.mark.parametrize("method", METHODS)
def test_FLAGS_01_net_dont_route_via_router(h_net, method):
    h = h_net
    rc = receiver(h, "C")
    s = setups.udp_sender(h, "v4", connect_to=rc.endpoint if method == "send" else None)
    n = h.send_all(method, s, text("routed"), endpoint=rc.endpoint)
    assert n == 6, "without DontRoute End returned %s of 6" % n
    data, _ = rc.recv(what="the routed datagram (no DontRoute) through R to host C")
    assert data == b"routed", "host C got %r" % data
    out = h.outcome(method, s, text("not routed"), endpoint=rc.endpoint, flags=0x4)
    h.check(lambda p: expect_error(out, SE, "NetworkUnreachable",
                                   where=("begin" if method == "send" else "end") if p == "documented" else None,
                                   what="DontRoute send to host C behind router R"))
    sentinel_to(h, s, rc, "C")


# ---------------------------------------------------------------- CONN-13
def _refused_seen(h, ip, port, timeout=3.0):
    """The harness's own connected socket in A sends to the same dead port and
    waits (bounded) for the ICMP error: once it is back, the adapter's
    earlier datagram's ICMP error is back too."""
    fam = socket.AF_INET if ip == "v4" else socket.AF_INET6

    def probe():
        s = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            s.connect((ADDR["C"][ip], port))
            s.send(b"probe")
            if not select.select([s], [], [], timeout)[0]:
                return None
            try:
                s.recv(16)
            except OSError as e:
                return e.errno
            return 0
        finally:
            s.close()
    return h.topo.in_host("A", probe)


@pytest.mark.clause("CONN-13")
@pytest.mark.parametrize("ip", IPS)
def test_CONN_13_net_no_listener(h_net, ip):
    h = h_net
    r = receiver(h, "C", ip)
    port = r.port
    r.close()           # nobody listens on C:port now
    s = h.socket(ip, "udp")
    n = h.send_all("send_to", s, text("into the void"), endpoint=at("C", ip, port))
    assert n == 13, "EndSendTo to host C where nothing listens returned %s of 13" % n
    # INFO: a connected socket's next send after the ICMP port unreachable
    c = h.socket(ip, "udp")
    setups.connect(h, c, at("C", ip, port))
    first = h.outcome("send", c, text("first"))
    assert first["error"] is None, "the first send to C where nothing listens threw %s" % first["error"]
    h.info(icmp_seen_by_harness=_refused_seen(h, ip, port))
    second = h.outcome("send", c, text("second"))
    third = h.outcome("send", c, text("third"))
    h.info(next_send_after_icmp={"at": second["at"], "error": second["error"], "bytes": second["bytes"]},
           send_after_that={"at": third["at"], "error": third["error"], "bytes": third["bytes"]})


# ---------------------------------------------------------------- SIZE-03
@pytest.mark.clause("SIZE-03")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ip", IPS)
def test_SIZE_03_net_fragmented(h_net, ip, method):
    h = h_net
    rb = receiver(h, "B", ip, rcvbuf=1 << 20)
    s = setups.udp_sender(h, ip, connect_to=rb.endpoint if method == "send" else None)
    buf = pat(MAX_DGRAM[ip], 23)
    before = tx_packets(h)
    n = h.send_all(method, s, buf, endpoint=rb.endpoint)
    assert n == MAX_DGRAM[ip], "End returned %s of %d" % (n, MAX_DGRAM[ip])
    data, _ = rb.recv(what="the %d-byte datagram across the 1500-byte link" % MAX_DGRAM[ip])
    frames = tx_packets(h) - before
    h.info(frames_on_link=frames)
    want = buffer_bytes(buf)
    assert data == want, "host B received %d bytes, differing from offset %d" % (
        len(data), net.first_difference(data, want))
    assert frames >= MAX_DGRAM[ip] // topology.MTU, (
        "A's eth0 sent %d frames for a %d-byte datagram: it did not cross the %d-byte link fragmented"
        % (frames, MAX_DGRAM[ip], topology.MTU))
