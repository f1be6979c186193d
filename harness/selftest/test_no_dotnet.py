"""A machine without the .NET SDK (a plain Debian box): the build and the
tests go on and say so in one line, and IMPL=dotnet is a usage error (exit 4)
whose one line names the missing `dotnet`.  Simulated with a PATH whose
directories hold every program of the real PATH except dotnet."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


@pytest.fixture(scope="module")
def no_dotnet_env(tmp_path_factory):
    bindir = tmp_path_factory.mktemp("path-without-dotnet")
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            target = bindir / name
            if name != "dotnet" and not os.path.lexists(target):
                os.symlink(os.path.join(d, name), target)
    env = dict(os.environ, PATH=str(bindir))
    for k in ("IMPL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"):
        env.pop(k, None)
    return env


def _run(cmd, env, **kw):
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, **kw)


def test_make_says_in_one_line_why_the_dotnet_adapter_is_not_built(no_dotnet_env):
    p = _run(["make", "--no-print-directory", "dotnet-adapter", "check-dotnet-adapter"], no_dotnet_env)
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    assert len(lines) == 2 and all(l.startswith("note: dotnet not found") for l in lines), p.stdout
    assert "not built" in lines[0]


def test_conform_impl_dotnet_exits_4_naming_dotnet(no_dotnet_env):
    p = _run([sys.executable, os.path.join(ROOT, "harness", "conform"), "--impl", "dotnet"], no_dotnet_env)
    assert p.returncode == 4, (p.stdout, p.stderr)
    err = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(err) == 1 and "dotnet not found on PATH" in err[0] and ".NET SDK" in err[0], p.stderr


def test_make_conformance_impl_dotnet_exits_4_with_one_line(no_dotnet_env):
    p = _run([os.path.join(ROOT, "harness", "report", "conformance.sh")], dict(no_dotnet_env, IMPL="dotnet"))
    assert p.returncode == 4, (p.stdout, p.stderr)
    out = [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]
    assert len(out) == 1 and "dotnet not found on PATH" in out[0], out
