"""The virtual network leaves nothing behind after a build and teardown, and
names why it cannot be built.  The slower proofs (whole runs, interrupted
with SIGINT or SIGTERM, and as non-root) are in lifecycle_network.py
(`make check-network`)."""
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.dirname(HERE)
ROOT = os.path.dirname(HARNESS)
sys.path.insert(0, HARNESS)

from apmsock_harness import registry, topology  # noqa: E402

needs_net = pytest.mark.skipif(topology.Topology.check_possible() is not None,
                               reason="SKIP: %s" % topology.Topology.check_possible())


def host_state():
    """The host namespace's interfaces and the namespaces `ip netns` knows."""
    links = subprocess.run(["ip", "-o", "link", "show"], stdout=subprocess.PIPE, text=True,
                           timeout=10).stdout
    names = sorted(line.split(":")[1].strip() for line in links.splitlines() if ":" in line)
    return {"links": names, "netns": topology.namespaces()}


def ours(run):
    return [n for n in topology.namespaces() if n.startswith(topology.PREFIX + run + "-")]


def fresh_run_tag():
    # the pid part is ours (alive), so no concurrent sweep_stale removes it
    return "%d-%s" % (os.getpid(), secrets.token_hex(3))


@needs_net
def test_build_and_teardown_leave_nothing(monkeypatch):
    before = host_state()
    monkeypatch.setenv(topology.RUN_ENV, fresh_run_tag())
    t = topology.Topology("self")
    t.build()
    try:
        assert len(ours(t.run)) == 4, topology.namespaces()
        assert host_state()["links"] == before["links"], "the topology put an interface in the host namespace"
    finally:
        t.teardown()
    t.teardown()   # twice is harmless
    assert ours(t.run) == []
    added = sorted(set(host_state()["links"]) - set(before["links"]))
    assert added == [], "host interfaces left behind: %s" % added


@needs_net
def test_the_network_adapter_runs_inside_host_a(monkeypatch):
    """The network cases broadcast to 255.255.255.255: their adapter must be
    started inside host A (the pool's argv), and a process outside A is
    refused (holds), never used from the host's namespace."""
    from apmsock_harness import topology_plugin

    class Config:
        _apmsock_impl = registry.resolve(ROOT, "reference")

    monkeypatch.setenv(topology.RUN_ENV, fresh_run_tag())
    t = topology.Topology("self")
    t.build()
    try:
        pool = topology_plugin.NetPool(Config(), t)
        argv = pool.argv()
        assert argv[:4] == ["ip", "netns", "exec", t.ns["A"]], argv
        # "ready" is printed once `ip` has entered A and exec'd the shell
        inside = subprocess.Popen(t.exec_argv("A", ["sh", "-c", "echo ready; exec sleep 30"]),
                                  stdout=subprocess.PIPE, text=True)
        try:
            import select
            assert select.select([inside.stdout], [], [], 10)[0], "the process in A did not start in 10 s"
            assert inside.stdout.readline().strip() == "ready"
            assert t.holds(inside.pid, "A") and not t.holds(inside.pid, "B")
        finally:
            inside.kill()
            inside.wait()
        assert not t.holds(os.getpid(), "A"), "the test itself is in the host namespace"
    finally:
        t.teardown()


def test_check_possible_names_the_reason(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/sbin/ip")
    assert "needs root" in topology.Topology.check_possible()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert "iproute2" in topology.Topology.check_possible()


def test_no_veth_is_skip(tmp_path):
    """Where the network cannot be made (here: an `ip` that fails as it does
    without veth or privileges), every case on it is SKIP with the reason."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "ip").write_text("#!/bin/sh\necho 'RTNETLINK answers: Operation not supported' >&2\nexit 2\n")
    (fake_bin / "ip").chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (fake_bin, os.environ["PATH"]))
    p = subprocess.run([sys.executable, "-m", "pytest", os.path.join(HARNESS, "cases", "test_network.py"),
                        "--impl", "reference", "--adapter", "/bin/false", "-n", "0", "-q", "-rs"],
                       cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out[-3000:]
    assert "16 skipped" in out and "cannot build the virtual network" in out and "Operation not supported" in out, \
        out[-3000:]
