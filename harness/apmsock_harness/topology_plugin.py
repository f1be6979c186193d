"""The pytest side of the virtual network (topology.py): one topology per
worker, built on first use, an adapter running inside host A, and the
teardown on every exit path.

Design notes:
- The controller fixes the run tag in pytest_configure, before xdist starts
  its workers, so every worker's namespaces share the run's prefix; the
  controller sweeps that prefix at unconfigure and at exit, which also covers
  a worker killed before its own teardown ran.
- Exit paths: normal end (session fixture finalizer), KeyboardInterrupt
  (pytest runs the finalizers; atexit as a second line), SIGTERM/SIGHUP (a
  handler tears down, then the default action runs), SIGKILL (the next
  build's sweep_stale removes what is left).
- The adapter pool here is separate from plugin.py's: cases on the topology
  never share an adapter with the loopback cases.
"""
import atexit
import os
import signal

import pytest

from . import plugin, topology
from .case import Case

_LIVE = []          # topologies built by this process (for atexit/signals)
_HANDLED = []


def _teardown_all():
    for t in list(_LIVE):
        t.teardown()
        _LIVE.remove(t)
    if _IS_CONTROLLER and os.environ.get(topology.RUN_ENV):
        try:
            topology.sweep(os.environ[topology.RUN_ENV])
        except Exception:  # best effort at exit
            pass


def _on_signal(signum, frame):
    _teardown_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers():
    if _HANDLED:
        return
    _HANDLED.append(True)
    atexit.register(_teardown_all)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _on_signal)
        except (ValueError, OSError):  # not the main thread
            pass


_IS_CONTROLLER = False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    global _IS_CONTROLLER
    if not hasattr(config, "workerinput"):
        _IS_CONTROLLER = True
        topology.run_tag()   # inherited by the xdist workers started later
        _install_handlers()


def pytest_unconfigure(config):
    _teardown_all()


class NetPool(plugin.Pool):
    """The implementation's adapter, started inside host A."""

    def __init__(self, config, topo):
        super().__init__(config)
        self.topo = topo

    def argv(self):
        return self.topo.exec_argv("A", super().argv())

    def started(self, a):
        # The cases send broadcasts (255.255.255.255 too) that must never
        # leave host A: refuse an adapter that is not in A's namespace.
        if not self.topo.holds(a.pid, "A"):
            a.stop(1.0)
            self.adapter = None
            pytest.exit("the adapter for the network cases is not inside host A's namespace: "
                        "refusing to send from the host's namespace", returncode=3)


@pytest.fixture(scope="session")
def topology_net(request):
    """This worker's topology, or the reason it cannot exist (a string)."""
    why = topology.Topology.check_possible()
    if why:
        yield why
        return
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    t = topology.Topology(worker)
    _install_handlers()
    _LIVE.append(t)
    try:
        t.build()
    except topology.TopologyUnavailable as e:
        _LIVE.remove(t)
        yield "cannot build the virtual network: %s" % e
        return
    yield t
    t.teardown()
    if t in _LIVE:
        _LIVE.remove(t)


@pytest.fixture(scope="session")
def net_pool(request, topology_net):
    if isinstance(topology_net, str):
        yield None
        return
    pool = NetPool(request.config, topology_net)
    yield pool
    pool.close()   # before the topology's teardown (fixture order)


@pytest.fixture
def h_net(request, topology_net, net_pool):
    """A case context on the adapter inside host A; h.topo is the network.
    SKIP with the reason where the network cannot be built."""
    if isinstance(topology_net, str):
        pytest.skip("SKIP: %s" % topology_net)
    info = getattr(request.node, "_apmsock", None) or {}
    case = Case(None, request.config.getoption("profile"), info.get("clause"), info.get("level"))
    request.node._apmsock_case = case
    case.a = net_pool.get()
    case.topo = topology_net
    case.mark_exchange = len(case.a.exchange)
    case.mark_events = len(case.a.events)
    case.mark_stderr = case.a.stderr_mark()
    plugin._apply_needs(request.node, case)
    yield case
    case.cleanup()
