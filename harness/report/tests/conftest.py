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
    """Runs apm-report; returns (exit code, stdout, stderr)."""
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
