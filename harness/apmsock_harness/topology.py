"""A virtual multi-host network made of network namespaces and veth pairs.

    A 192.0.2.10  2001:db8:1::10 --+
                                   +-- br0 [R] 192.0.2.1 / 2001:db8:1::1   (segment 1, MTU 1500)
    B 192.0.2.20  2001:db8:1::20 --+
                                       c0  [R] 198.51.100.1 / 2001:db8:2::1 (segment 2)
    C 198.51.100.30 2001:db8:2::30 ----+

R bridges A and B on segment 1 and routes between the two segments.  Every
interface is created directly inside a namespace this run made (`ip -n NS
link add ... peer ... netns NS2`), so nothing ever appears in the host's
namespace, and only documentation addresses are used.

Design notes (invariants):
- Names are unique per run: "apmsock-<run>-<part>-<host>", where <run> is
  the controlling process's pid and a random tag (APMSOCK_TOPO_RUN, set once
  by the pytest controller and inherited by xdist workers) and <part> tells
  the workers apart.  sweep(run) removes every namespace of one run, so the
  controller can clean up after a worker that died without its own teardown.
- A namespace whose <run> pid is dead is left over from a killed run: the
  next build removes it (sweep_stale), so even SIGKILL leaks only until then.
- teardown() first kills the processes still inside (only ours can be: the
  namespaces are this run's), since a process keeps its namespace and veths
  alive after `ip netns del`.  It never raises and may run twice.
- Whoever calls build() owns the Topology and must call teardown(); the
  pytest plugin (topology_plugin.py) does so from the session fixture, from
  atexit and from its SIGTERM/SIGHUP handler.
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time

from . import net

NETNS_DIR = "/run/netns"
PREFIX = "apmsock-"
RUN_ENV = "APMSOCK_TOPO_RUN"

HOSTS = ("A", "B", "R", "C")
ADDR = {
    "A": {"v4": "192.0.2.10", "v6": "2001:db8:1::10"},
    "B": {"v4": "192.0.2.20", "v6": "2001:db8:1::20"},
    "R": {"v4": "192.0.2.1", "v6": "2001:db8:1::1"},
    "R2": {"v4": "198.51.100.1", "v6": "2001:db8:2::1"},
    "C": {"v4": "198.51.100.30", "v6": "2001:db8:2::30"},
}
SEGMENT1_BROADCAST = "192.0.2.255"
LIMITED_BROADCAST = "255.255.255.255"   # used inside the namespaces only
MTU = 1500


class TopologyUnavailable(Exception):
    """The topology cannot be built here (not root, no `ip`, no veth...):
    the cases that need it are SKIP with this reason."""


def run_tag():
    """This run's tag: inherited from the controller, or made here."""
    tag = os.environ.get(RUN_ENV)
    if not tag:
        tag = "%d-%s" % (os.getpid(), secrets.token_hex(3))
        os.environ[RUN_ENV] = tag
    return tag


def _ip(*args, check=True, batch=None):
    """Runs `ip args`; with batch (a list of command lines), `ip args -batch -`
    runs them all in one process, stopping at the first that fails: each `ip`
    process costs about 6 ms of CPU here, and a topology takes some forty."""
    argv = ["ip"] + list(args) + (["-batch", "-"] if batch is not None else [])
    p = subprocess.run(argv, input="".join(line + "\n" for line in batch) if batch is not None else None,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, text=True)
    if check and p.returncode != 0:
        what = " ".join(args) + (" -batch [%s]" % "; ".join(batch) if batch is not None else "")
        raise TopologyUnavailable("ip %s: %s" % (what, (p.stderr or p.stdout).strip()[:300]))
    return p


def namespaces():
    """Names of every network namespace `ip netns` knows."""
    try:
        return sorted(n for n in os.listdir(NETNS_DIR))
    except OSError:
        return []


def ns_pids(name):
    """The processes inside namespace `name` (what `ip netns pids` prints,
    read from /proc here rather than by starting a process)."""
    try:
        st = os.stat(os.path.join(NETNS_DIR, name))
    except OSError:
        return []
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                n = os.stat("/proc/%s/ns/net" % d)
            except OSError:
                continue  # gone, or not ours to look at
            if (n.st_dev, n.st_ino) == (st.st_dev, st.st_ino):
                pids.append(int(d))
    return pids


def delete_ns(*names):
    """Kills what still runs inside (ours by construction), then deletes
    the namespaces, all in one `ip` process (-force: past one that fails)."""
    for name in names:
        for _ in range(3):
            pids = [p for p in ns_pids(name) if p != os.getpid()]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and any(_alive(p) for p in pids):
                time.sleep(0.02)  # bounded: a SIGKILLed process goes within ms
    if names:
        _ip("-force", check=False, batch=["netns del " + n for n in names])


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def sweep(run):
    """Deletes every namespace of run `run`; returns their names."""
    gone = [n for n in namespaces() if n.startswith(PREFIX + run + "-")]
    delete_ns(*gone)
    return gone


def sweep_stale():
    """Deletes the namespaces of runs whose controlling pid is dead."""
    stale = []
    for n in namespaces():
        m = re.match(re.escape(PREFIX) + r"(\d+)-[0-9a-f]+-", n)
        if m and not os.path.exists("/proc/%s" % m.group(1)):
            stale.append(n)
    delete_ns(*stale)


def in_ns(name, fn, timeout=10.0):
    """Runs fn() on a thread that joined namespace `name`, so the sockets
    it makes live there; returns fn's value (or raises its error)."""
    return net.in_netns_file(os.path.join(NETNS_DIR, name), fn, timeout)


class Topology:
    def __init__(self, part="main"):
        self.run = run_tag()
        self.part = re.sub(r"[^A-Za-z0-9]", "", part)[:12] or "main"
        self.ns = {h: "%s%s-%s-%s" % (PREFIX, self.run, self.part, h) for h in HOSTS}
        self.built = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------ lifetime
    @staticmethod
    def check_possible():
        """None, or why the topology cannot be built here."""
        if shutil.which("ip") is None:
            return "no `ip` (iproute2) on PATH"
        if os.geteuid() != 0:
            return "needs root to make network namespaces (euid %d)" % os.geteuid()
        return None

    def build(self):
        why = self.check_possible()
        if why:
            raise TopologyUnavailable(why)
        sweep_stale()
        try:
            self._build()
            self.built = True
            self._probe()
        except BaseException:
            self.teardown()
            raise
        return self

    def _build(self):
        # One `ip` process per namespace: R makes the bridge and the three
        # veth pairs (each host's end created straight into its namespace).
        ns = self.ns
        _ip(batch=["netns add " + ns[h] for h in HOSTS])
        for h in HOSTS:
            # no duplicate address detection: addresses usable at once.  Set
            # before any interface exists: "default" applies to new ones.
            self.sysctl(h, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                        "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0")
        self.sysctl("R", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
        r = ["link set lo up", "link add br0 mtu %d type bridge" % MTU]
        for h, port in (("A", "a0"), ("B", "b0"), ("C", "c0")):
            r.append("link add %s mtu %d type veth peer name eth0 mtu %d netns %s" % (port, MTU, MTU, ns[h]))
        r += ["link set %s master br0" % port for port in ("a0", "b0")]
        r += ["link set %s up" % dev for dev in ("br0", "a0", "b0", "c0")]
        for addr, dev in ((ADDR["R"]["v4"] + "/24", "br0"), (ADDR["R"]["v6"] + "/64", "br0"),
                          (ADDR["R2"]["v4"] + "/24", "c0"), (ADDR["R2"]["v6"] + "/64", "c0")):
            r.append("addr add %s dev %s nodad" % (addr, dev))
        _ip("-n", ns["R"], batch=r)
        for h, gw in (("A", "R"), ("B", "R"), ("C", "R2")):
            _ip("-n", ns[h], batch=[
                "link set lo up",
                "addr add %s/24 dev eth0 broadcast +" % ADDR[h]["v4"],
                "addr add %s/64 dev eth0 nodad" % ADDR[h]["v6"],
                "link set eth0 up",
                "route add default via " + ADDR[gw]["v4"],
                "route add ::/0 via " + ADDR[gw]["v6"]])

    def sysctl(self, host, *settings):
        """Writes /proc/sys entries inside a host's namespace."""
        def write():
            for s in settings:
                key, value = s.split("=", 1)
                path = "/proc/sys/" + key.replace(".", "/")
                try:
                    with open(path, "w") as f:
                        f.write(value)
                except OSError as e:
                    raise TopologyUnavailable("sysctl %s in %s: %s" % (s, host, e))
        # /proc/sys/net follows the reading thread's network namespace
        in_ns(self.ns[host], write)

    def _probe(self):
        """A datagram A -> B and A -> C (through R), v4 and v6, each within a
        bounded wait: the network works before any case relies on it."""
        for ip in ("v4", "v6"):
            for dst in ("B", "C"):
                rx = self.udp_socket(dst, ip)
                try:
                    port = rx.getsockname()[1]
                    deadline = time.monotonic() + 5.0
                    tx = self.udp_socket("A", ip, bind=False)
                    try:
                        got = False
                        while not got and time.monotonic() < deadline:
                            tx.sendto(b"probe", (ADDR[dst][ip], port))
                            rx.settimeout(0.2)
                            try:
                                got = rx.recv(16) == b"probe"
                            except socket.timeout:
                                pass
                    finally:
                        tx.close()
                    if not got:
                        raise TopologyUnavailable("the topology does not carry %s datagrams from A to %s"
                                                  % (ip, dst))
                finally:
                    rx.close()

    def teardown(self):
        """Removes every namespace of this topology; never raises."""
        with self._lock:
            try:
                delete_ns(*[self.ns[h] for h in ("A", "B", "C", "R")
                            if os.path.exists(os.path.join(NETNS_DIR, self.ns[h]))])
            except Exception:  # best effort on every exit path
                pass
            self.built = False

    # ------------------------------------------------------------ use
    def exec_argv(self, host, argv):
        """argv run inside a host's namespace (`ip netns exec` execs it, so
        the process's pid is the program's)."""
        return ["ip", "netns", "exec", self.ns[host]] + list(argv)

    def holds(self, pid, host):
        """Whether process pid lives in host's network namespace."""
        try:
            mine = os.stat("/proc/%d/ns/net" % pid)
            theirs = os.stat(os.path.join(NETNS_DIR, self.ns[host]))
        except (OSError, TypeError, KeyError):
            return False
        return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)

    def udp_socket(self, host, ip="v4", bind=True, address=None, port=0):
        fam = socket.AF_INET if ip == "v4" else socket.AF_INET6

        def make():
            s = socket.socket(fam, socket.SOCK_DGRAM)
            if bind:
                s.bind((address if address is not None else ADDR[host][ip], port))
            return s
        return in_ns(self.ns[host], make)

    def in_host(self, host, fn):
        return in_ns(self.ns[host], fn)

    def describe(self):
        return {"namespaces": dict(self.ns), "addresses": ADDR}
