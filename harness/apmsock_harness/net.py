"""Loopback peers: the harness's end of every conversation with an adapter.

Only 127.0.0.1, ::1 and 127.255.255.255 in the host namespace; ports are
always 0 and read back.  Every receive is bounded in time and fails with a
message saying what did not arrive.
"""
import ctypes
import functools
import os
import select
import socket
import threading
import time

LOOPBACK = {"v4": "127.0.0.1", "v6": "::1"}
FAMILY = {"v4": socket.AF_INET, "v6": socket.AF_INET6}
BROADCAST_V4 = "127.255.255.255"
CLONE_NEWNET = 0x40000000
# The private namespace of FLAGS-01: lo only, TEST-NET-3 reached through a
# gateway on lo (so it counts as routed), and nothing of it in the host.
NETNS_SETUP = ("ip link set lo up && ip route add 203.0.113.1/32 dev lo scope link"
               " && ip route add 203.0.113.0/24 via 203.0.113.1 dev lo")
OFFLINK_V4 = "203.0.113.77"


class PeerError(AssertionError):
    """A peer did not see what the case expected (a FAIL, not an ERROR)."""


def endpoint(addr):
    return {"address": addr[0], "port": addr[1]}


@functools.lru_cache(maxsize=16)
def pattern(length, seed):
    """The bytes of {"pattern": {"length", "seed"}}: byte i is (seed+i) % 251.
    Cached: the cases compare against the same few multi-megabyte patterns
    hundreds of times (bytes are immutable, so sharing one is safe)."""
    base = bytes((seed + i) % 251 for i in range(251))
    reps = length // 251 + 1
    return (base * reps)[:length]


def describe(data, limit=64):
    if len(data) <= limit:
        return data.hex()
    return "%d bytes: %s..." % (len(data), data[:limit].hex())


def first_difference(got, want):
    n = min(len(got), len(want))
    for i in range(n):
        if got[i] != want[i]:
            return i
    return n if len(got) != len(want) else -1


class Peer:
    """Base: a record of what this peer saw, for the evidence."""

    def __init__(self, label):
        self.label = label
        self.received = []
        if not hasattr(self, "sock"):
            self.sock = None

    def evidence(self):
        return {"peer": self.label, "received": [describe(d) for d in self.received[:50]]}

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


class UdpReceiver(Peer):
    def __init__(self, ip="v4", address=None, port=0, rcvbuf=None):
        fam = FAMILY[ip]
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if address is None:
            address = LOOPBACK[ip]
        if address in ("0.0.0.0", "::"):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        name = self.sock.getsockname()
        self.address = name[0]
        self.port = name[1]
        super().__init__("udp-receiver %s:%d" % (self.address, self.port))
        self.sources = []

    @property
    def endpoint(self):
        return {"address": self.address, "port": self.port}

    def endpoint_at(self, address):
        return {"address": address, "port": self.port}

    def recv(self, timeout=3.0, what="a datagram"):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            raise PeerError("%s: %s did not arrive within %.1f s" % (self.label, what, timeout))
        data, src = self.sock.recvfrom(70000)
        self.received.append(data)
        self.sources.append(src)
        return data, src

    def pending(self):
        """Datagrams already queued, without waiting."""
        out = []
        for _ in range(1000):
            try:
                data, src = self.sock.recvfrom(70000, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            self.received.append(data)
            self.sources.append(src)
            out.append(data)
        return out

    def expect_only_sentinel(self, sentinel, timeout=3.0):
        """The sentinel is the next datagram and nothing follows it: proves that
        whatever was sent before it (the failed send) was not delivered."""
        data, _ = self.recv(timeout, "the sentinel datagram")
        if data != sentinel:
            raise PeerError("%s: expected the sentinel %r next, got %s: something was delivered"
                            % (self.label, sentinel, describe(data)))
        more = self.pending()
        if more:
            raise PeerError("%s: %d datagram(s) after the sentinel: %s"
                            % (self.label, len(more), describe(more[0])))


class TcpConn(Peer):
    def __init__(self, sock, label):
        super().__init__(label)
        self.sock = sock
        self.data = bytearray()
        self._reader = None
        self.eof = False

    def read_exact(self, n, timeout=5.0):
        # Straight into self.data, grown once to n: the cases read sends of
        # several MiB, and each intermediate copy of those (a chunk, the
        # grown array, a slice, its bytes) cost ~1000 page faults here.
        deadline = time.monotonic() + timeout
        have = len(self.data)
        if have < n:
            grown = bytearray(n)  # zeroed by the allocator, not by a copy
            grown[:have] = self.data
            self.data = grown
            view = memoryview(self.data)
            try:
                while have < n:
                    left = deadline - time.monotonic()
                    if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                        raise PeerError("%s: got %d of %d bytes within %.1f s"
                                        % (self.label, have, n, timeout))
                    k = self.sock.recv_into(view[have:n])
                    if k == 0:
                        self.eof = True
                        raise PeerError("%s: connection closed after %d of %d bytes"
                                        % (self.label, have, n))
                    have += k
            finally:
                view.release()
                del self.data[have:]  # what did not arrive is not data
        self.received = [self.data]  # described (length, first bytes) only if evidence is kept
        return bytes(memoryview(self.data)[:n])

    def read_available(self, timeout=0.0):
        """What arrived so far (waiting at most timeout for the first byte)."""
        if select.select([self.sock], [], [], timeout)[0]:
            for _ in range(10000):
                try:
                    chunk = self.sock.recv(1 << 20, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                except ConnectionError:
                    break
                if not chunk:
                    self.eof = True
                    break
                self.data += chunk
        self.received = [self.data]
        return bytes(self.data)

    def start_reading(self, n, timeout=10.0):
        """Reads n bytes on a thread; join() returns them or the error.
        A receive buffer shrunk to make the stream fill up (setups'
        blocked=True) is widened first: by now the case has seen its send
        pending, and through 4 KiB windows the megabytes that follow took
        0.3-0.5 s a case.  The bytes are still read and compared whole."""
        if self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < 64 * 1024:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
            except OSError:
                pass  # speed only: the small window still carries every byte
        result = {}

        def run():
            try:
                result["data"] = self.read_exact(n, timeout)
            except Exception as e:  # reported by join()
                result["error"] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()
        self._reader = (t, result, timeout)

    def join(self):
        t, result, timeout = self._reader
        t.join(timeout + 1.0)
        if t.is_alive():
            raise PeerError("%s: reader did not finish" % self.label)
        if "error" in result:
            raise result["error"]
        return result["data"]

    def urgent(self):
        """A byte of urgent (out-of-band) data, or None."""
        try:
            return self.sock.recv(1, socket.MSG_OOB | socket.MSG_DONTWAIT)
        except OSError:
            return None

    def reset(self):
        """Closes with RST (SO_LINGER 0) so the adapter's next send fails."""
        import struct
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()


class TcpListener(Peer):
    def __init__(self, ip="v4", rcvbuf=None):
        self.ip = ip
        self.sock = socket.socket(FAMILY[ip], socket.SOCK_STREAM)
        if rcvbuf:
            # Set before listen so the accepted socket inherits the small
            # window: a peer that does not read then fills the sender.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind((LOOPBACK[ip], 0))
        self.sock.listen(16)
        name = self.sock.getsockname()
        self.address, self.port = name[0], name[1]
        super().__init__("tcp-listener %s:%d" % (self.address, self.port))
        self.conns = []

    @property
    def endpoint(self):
        return {"address": self.address, "port": self.port}

    def accept(self, timeout=5.0):
        if not select.select([self.sock], [], [], timeout)[0]:
            raise PeerError("%s: no connection within %.1f s" % (self.label, timeout))
        s, src = self.sock.accept()
        c = TcpConn(s, "tcp-peer %s:%d<-%s:%d" % (self.address, self.port, src[0], src[1]))
        self.conns.append(c)
        return c

    def pending_connection(self):
        return bool(select.select([self.sock], [], [], 0)[0])

    def evidence(self):
        return {"peer": self.label, "received": [describe(bytes(c.data)) for c in self.conns]}

    def close(self):
        for c in self.conns:
            c.close()
        super().close()



class TcpRefuser(Peer):
    """A loopback TCP port held bound but never listening: a connection to it
    is refused (RST), and no other process can take the port meanwhile."""

    def __init__(self, ip="v4"):
        self.sock = socket.socket(FAMILY[ip], socket.SOCK_STREAM)
        self.sock.bind((LOOPBACK[ip], 0))
        name = self.sock.getsockname()
        self.address, self.port = name[0], name[1]
        super().__init__("tcp-refuser %s:%d" % (self.address, self.port))

    @property
    def endpoint(self):
        return {"address": self.address, "port": self.port}

def tcp_connect(ep, timeout=5.0, rcvbuf=None):
    """The harness as a TCP client of an adapter's listening socket."""
    fam = socket.AF_INET6 if ":" in ep["address"] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((ep["address"], ep["port"]))
    s.settimeout(None)
    return TcpConn(s, "tcp-client ->%s:%d" % (ep["address"], ep["port"]))


def unused_udp_port(ip="v4"):
    """A loopback port nobody listens on: bind, read it, close."""
    s = socket.socket(FAMILY[ip], socket.SOCK_DGRAM)
    s.bind((LOOPBACK[ip], 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- namespaces
def netns_argv(argv):
    """argv run inside a fresh network namespace set up for FLAGS-01."""
    return ["unshare", "-n", "sh", "-c", NETNS_SETUP + ' && exec "$@"', "sh"] + list(argv)


def in_netns(pid, fn, timeout=5.0):
    """Runs fn() on a thread that joined the network namespace of `pid`, so
    the sockets fn creates live there; returns fn's value."""
    return in_netns_file("/proc/%d/ns/net" % pid, fn, timeout)


def in_netns_file(path, fn, timeout=5.0):
    """in_netns for a namespace file (/proc/PID/ns/net, /run/netns/NAME)."""
    out = {}

    def run():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(path, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, "setns: %s" % os.strerror(e))
            finally:
                os.close(fd)
            out["value"] = fn()
        except BaseException as e:  # handed to the caller
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise RuntimeError("namespace helper thread did not finish")
    if "error" in out:
        raise out["error"]
    return out["value"]


def same_netns(pid):
    try:
        return os.readlink("/proc/%d/ns/net" % pid) == os.readlink("/proc/self/ns/net")
    except OSError:
        return True
