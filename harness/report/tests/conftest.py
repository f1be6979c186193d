import contextlib
import io
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
sys.path.insert(0, REPORT)


@pytest.fixture
def data():
    return DATA


def cli(*args, cwd=None):
    """Runs apm-report's main() in this process; returns (exit code, stdout,
    stderr).  In-process: a fresh interpreter per call cost ~0.3 s of
    imports, most of this suite's CPU.  cli_process() runs the real entry
    point where the process itself is what a test checks."""
    from apmreport import cli as report_cli
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = report_cli.main([str(a) for a in args])
            except SystemExit as e:  # argparse's usage errors
                rc = e.code if isinstance(e.code, int) else 1
    finally:
        os.chdir(here)
    return rc or 0, out.getvalue(), err.getvalue()


def cli_process(*args, cwd=None):
    """Runs the apm-report program; returns (exit code, stdout, stderr)."""
    p = subprocess.run([sys.executable, os.path.join(REPORT, "apm-report")] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=120, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def reports(tmp_path):
    """A reports/ dir holding the synthetic runs plus the C suite's sample converted."""
    r = tmp_path / "reports"
    shutil.copytree(os.path.join(DATA, "runs"), r / "runs")
    return r


def build(reports, *extra):
    return cli("build", "--reports", reports, "--catalogue", os.path.join(DATA, "clauses.yaml"),
               "--baselines", os.path.join(DATA, "baselines"), *extra)


@pytest.fixture
def built(reports):
    """reports/ built from the synthetic runs (the build must succeed)."""
    rc, out, err = build(reports)
    assert rc == 0, err
    return reports
