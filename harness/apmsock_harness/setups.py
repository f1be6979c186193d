"""Building blocks the cases share: an adapter socket wired to a harness peer."""
import os
import re
import threading
import time

from . import net
from .case import SetupFailure, pat

LOOP = net.LOOPBACK
SMALL_BUF = 4096          # SO_SNDBUF / SO_RCVBUF that make a stream fill up
BLOCKING_SEND = 4 << 20   # a stream send that cannot complete while the peer does not read


def udp_receiver(h, ip="v4", **kw):
    return h.add_peer(net.UdpReceiver(ip, **kw))


def udp_sender(h, ip="v4", connect_to=None, how="connect"):
    s = h.socket(ip, "udp")
    if connect_to is not None:
        connect(h, s, connect_to, how)
    return s


def connect(h, s, ep, how="connect"):
    if how != "connect":
        h.require(how)
    h.ok("connect", socket=s, endpoint=ep, how=how)


def tcp_pair(h, ip="v4", how="connect", blocked=False, sndbuf=None):
    """An adapter stream socket connected to a harness peer.  how: connect,
    begin_connect (adapter is the client), accept, begin_accept (adapter
    accepts).  blocked: small buffers on both ends so a large send stays
    pending until the peer reads.  Returns (socket, TcpConn)."""
    rcv = SMALL_BUF if blocked else None
    if how in ("connect", "begin_connect"):
        lst = h.add_peer(net.TcpListener(ip, rcvbuf=rcv))
        s = h.socket(ip, "tcp")
        if blocked or sndbuf:
            h.option(s, "send_buffer", sndbuf or SMALL_BUF)
        connect(h, s, lst.endpoint, how)
        conn = h.add_peer(lst.accept())
        h.peer_of[s] = lst.endpoint
        return s, conn
    h.require(how) if how != "accept" else None
    ls = h.socket(ip, "tcp")
    h.ok("bind", socket=ls, endpoint={"address": LOOP[ip], "port": 0})
    h.ok("listen", socket=ls, backlog=4)
    ep = h.ok("local_endpoint", socket=ls)["endpoint"]
    if not ep or not ep.get("port"):
        raise SetupFailure("listening socket has no local endpoint: %r" % (ep,))
    conn = h.add_peer(net.tcp_connect(ep, rcvbuf=rcv))
    s = h.ok("accept", socket=ls, how=how)["socket"]
    h.sockets.append(s)
    if blocked or sndbuf:
        h.option(s, "send_buffer", sndbuf or SMALL_BUF)
    name = conn.sock.getsockname()
    h.peer_of[s] = {"address": name[0], "port": name[1]}
    return s, conn


class Drain:
    """Reads a stream on a thread until stopped (bounded in time), so the
    adapter's sends can complete."""

    def __init__(self, conn, limit_s=20.0):
        self.conn = conn
        self.stop_flag = threading.Event()
        self.limit_s = limit_s
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        deadline = time.monotonic() + self.limit_s
        while not self.stop_flag.is_set() and time.monotonic() < deadline:
            self.conn.read_available(0.05)
            if self.conn.eof:
                break

    def stop(self):
        self.stop_flag.set()
        self.t.join(self.limit_s)
        self.conn.read_available(0)
        return bytes(self.conn.data)


def sentinel_to(h, s, receiver, method="send_to"):
    """Sends a sentinel datagram from s and checks that it is the next and
    only datagram the receiver gets: whatever s sent before it (the failed
    send) was not delivered.  Should BeginSend refuse the sentinel (some
    implementations drop the default host after a failed send), BeginSendTo
    on the same socket keeps the ordering; that is recorded, not judged here."""
    sent = h.sentinel()
    if method == "send":
        r = h.begin("send", s, {"hex": sent.hex()})
        if r.ok:
            e = h.end("send", s, r.result["result"])
            if e.ok:
                receiver.expect_only_sentinel(sent)
                return
            h.info(sentinel_send_threw=e.error)
        else:
            h.info(sentinel_send_threw=r.error)
    h.send_all("send_to", s, {"hex": sent.hex()}, endpoint=receiver.endpoint)
    receiver.expect_only_sentinel(sent)


def stream_quiet(h, s, conn, method="send"):
    """Nothing reached the stream peer: a follow-up send's bytes come first.
    If the follow-up send is refused, a bounded read must find nothing."""
    out = h.outcome(method, s, {"text": "after"})
    if out["error"] is None:
        got = conn.read_exact(5)
        assert got == b"after", ("the peer got %r before the follow-up send's bytes: "
                                 "the failed send put bytes on the wire" % got)
        return
    h.info(follow_up_send_threw=out["error"])
    got = conn.read_available(0.5)
    assert got == b"", "the failed send put %r on the wire" % got


def pending_check(h, result, ms=300):
    """True when the operation is still pending after a bounded wait."""
    r = h.ok("wait", result=result, timeout_ms=ms, timeout=ms / 1000.0 + 5.0)
    return not r["signaled"]


_SE = None


def socket_error_table():
    """{SocketError name: number} parsed from the contract header's X-macro
    table: the one errno <-> SocketError table (ERR-03)."""
    global _SE
    if _SE is None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(root, "reference", "include", "apmsock.h"), encoding="utf-8") as f:
            text = f.read()
        _SE = {m.group(1): int(m.group(2))
               for m in re.finditer(r'XX\(\s*[A-Z_]+\s*,\s*"(\w+)"\s*,\s*(-?\d+)\s*,', text)}
    return _SE


def payload(n, seed=7):
    return pat(n, seed)
