"""`make check-network` (named explicitly, not collected by make test):
nothing of a run survives it, completed or interrupted with SIGINT (Ctrl-C)
or SIGTERM: no namespace, no host interface, no process of its session
(adapters, strace); and without root the network cases are SKIP with the
reason."""
import os
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
sys.path.insert(0, HERE)

from apmsock_harness import registry, topology  # noqa: E402

from test_topology import host_state, needs_net, ours, fresh_run_tag  # noqa: E402


def _adapter_ready():
    try:
        argv, prog = registry.command(ROOT, "reference")
    except registry.RegistryError:
        return False
    return os.path.exists(prog)


def session_procs(sid):
    """(pid, name) of every live process of session sid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if rest[0] != "Z" and int(rest[3]) == sid:
            out.append((int(d), name))
    return out


def _run_and_signal(sig, run, cases="test_network.py", k=None, ready=None):
    """Starts harness cases in their own session, waits (bounded) until
    ready() (default: the run's namespaces exist), then signals the whole
    process group as a terminal does for Ctrl-C.  Returns (exit status,
    output, processes of the session still alive afterwards)."""
    env = dict(os.environ, **{topology.RUN_ENV: run})
    ready = ready or (lambda pid: len(ours(run)) >= 4)  # each xdist worker builds its own 4
    p = subprocess.Popen([sys.executable, "-m", "pytest", os.path.join(HARNESS, "cases", cases),
                          "--impl", "reference", "-n", "2", "-q", "-p", "no:randomly"] + (["-k", k] if k else []),
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        deadline = time.monotonic() + 30.0
        while not ready(p.pid) and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)   # polling /proc and /run/netns, bounded by the deadline
        assert ready(p.pid), "the run was not ready within 30 s (exit %s)" % p.poll()
        if sig is not None:
            os.killpg(p.pid, sig)
        out, _ = p.communicate(timeout=60)
        deadline = time.monotonic() + 5.0
        while session_procs(p.pid) and time.monotonic() < deadline:
            time.sleep(0.01)   # children may take a moment to be reaped
        left = session_procs(p.pid)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
    return p.returncode, out.decode("utf-8", "replace"), left


@needs_net
@pytest.mark.skipif(not _adapter_ready(), reason="SKIP: the reference adapter is not built")
@pytest.mark.parametrize("sig", (None, signal.SIGINT, signal.SIGTERM), ids=("complete", "sigint", "sigterm"))
def test_run_leaves_nothing(sig):
    before = host_state()
    run = fresh_run_tag()
    rc, out, left = _run_and_signal(sig, run, k=None if sig else "BCAST or SIZE")
    assert left == [], "processes of the run still alive after %s: %s" % (sig, left)
    if sig is None:
        assert rc == 0, "the network cases failed against the reference:\n" + out[-3000:]
    assert ours(run) == [], "left behind after %s: %s\n%s" % (sig, ours(run), out[-2000:])
    after = host_state()
    added = sorted(set(after["links"]) - set(before["links"]))
    assert added == [], "host interfaces left behind: %s" % added


@pytest.mark.skipif(shutil.which("strace") is None, reason="SKIP: strace is not installed")
@pytest.mark.skipif(not _adapter_ready(), reason="SKIP: the reference adapter is not built")
def test_fault_run_interrupted_leaves_no_strace():
    """SIGINT while strace is attached to an adapter (the FAULT-06 burst):
    no strace and no adapter of the run survives."""
    def strace_attached(pid):
        return any(name == "strace" for _, name in session_procs(pid))
    rc, out, left = _run_and_signal(signal.SIGINT, fresh_run_tag(), cases="test_fault.py", k="FAULT_06",
                                    ready=strace_attached)
    assert left == [], "processes of the run still alive after SIGINT: %s\n%s" % (left, out[-2000:])


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0,
                    reason="SKIP: needs root and setpriv to run as an unprivileged user")
@pytest.mark.skipif(not _adapter_ready(), reason="SKIP: the reference adapter is not built")
def test_not_root_is_skip_with_reason():
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        sys.executable, "-m", "pytest", os.path.join(HARNESS, "cases", "test_network.py"),
                        "--impl", "reference", "-n", "0", "-q", "-rs"],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                       env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out[-3000:]
    assert "passed" not in out and "failed" not in out, out[-3000:]
    assert "needs root to make network namespaces" in out, out[-3000:]


