"""What conform checks before it starts pytest, so that a usage error is
one line and exit 4 under any -n: with pytest-xdist, an error raised in a
worker's collection or session becomes the controller's INTERNALERROR
(exit 3) instead.

  case_ids   the case ids the suite has (one collection, without xdist)
  hello      start the adapter once: another protocol major is a usage error
"""
import os
import subprocess
import sys

from .adapter import Adapter, AdapterFailure, ProtocolMismatch


class PreflightError(Exception):
    pass


def case_ids(harness_dir, root, impl_args):
    """Every case id, in collection order (conform --list without selection)."""
    cmd = [sys.executable, "-m", "pytest", os.path.join(harness_dir, "cases"), "-q", "--no-header",
           "-p", "no:xdist", "--list-cases"] + impl_args
    p = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300)
    if p.returncode not in (0, 5):
        tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-1:] or ["?"]
        raise PreflightError("cannot list the cases (pytest exited %d): %s" % (p.returncode, tail[0]))
    ids = []
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 4 and "[" in parts[0] and "::" in parts[-1]:
            ids.append(parts[0])
    return ids


def unknown_cases(wanted, known):
    known = set(known)
    return [c for c in wanted if c not in known]


def hello(impl, timeout=30.0):
    """Starts the adapter, says hello, stops it.  Raises PreflightError on
    another protocol major; a crash is left to the run (it becomes each
    case's ERROR(crash), with the evidence)."""
    a = Adapter(impl.argv, cwd=impl.cwd, timeout=timeout, name="preflight")
    try:
        a.start(timeout=timeout)
    except ProtocolMismatch as e:
        raise PreflightError(str(e))
    except AdapterFailure:
        return None
    finally:
        a.stop(2.0)
    return a.hello
