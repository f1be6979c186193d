"""A private copy of the project in which one mutant at a time is built and
judged.  The working tree is never written: each worker copies the files git
knows about (tracked and untracked-but-not-ignored) under build/mutation/,
builds there, and after each mutant puts the pristine file back.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

PYTHON = "/usr/bin/python3"
HARNESS_PROFILE = "documented"
# --sanitizers: the C suite also under ASan+UBSan (a freed record still
# used, a leak) and under TSan (a lock deleted: a race no plain run shows),
# for the mutants the plain C suite and the harness did not kill.
SANITIZER_VARIANTS = ("asan", "tsan")
_NOT_OK = re.compile(r"^not ok \d+ - [^:]*:[^:]*:(test_[A-Z]+_\d+)_?(\S*)")


def project_files(root):
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root,
                         capture_output=True, check=True).stdout.decode()
    return [f for f in out.split("\0") if f]


def suites_fingerprint(root):
    """What a judgement depends on besides the mutant: every project file but
    the mutated sources, the tool, prose, and the equivalents (read when the
    scores are made, never by a suite).  Records judged under another
    fingerprint are not reused, so editing a test never leaves a stale
    "SURVIVED" behind."""
    h = hashlib.sha1()
    for rel in sorted(project_files(root)):
        if rel.startswith(("reference/src/", "mutation/", "reports/")) or rel.endswith(".md") \
                or rel == "fixtures/mutation-equivalents.yaml":
            continue
        path = os.path.join(root, rel)
        if os.path.isfile(path):
            h.update(rel.encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:12]


def run_bounded(argv, cwd, timeout, env=None):
    """(exit status or None on timeout, seconds, combined output).  The child
    gets its own process group, ended whole on timeout: the C suite forks
    and the harness starts adapters."""
    _become_subreaper()
    start = time.monotonic()
    # Output to a file, not a pipe: a forked test that made its own process
    # group (Check does) and outlived the kill would hold a pipe open forever.
    with tempfile.TemporaryFile() as log:
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        _ACTIVE.add(p.pid)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        try:
            os.killpg(p.pid, signal.SIGKILL)  # whatever of its group is left, timeout or not
        except OSError:
            pass
        p.wait()
        _ACTIVE.discard(p.pid)
        kill_strays(cwd)
        log.seek(0)
        out = log.read()
    return rc, time.monotonic() - start, out.decode(errors="replace")


_ACTIVE = set()  # the suites other workers are running now: children, not strays


def _become_subreaper():
    """Orphans of the suites (a test child in a process group of its own,
    whose parent was killed) become our children instead of init's, so they
    can be found by their parent and ended."""
    import ctypes
    PR_SET_CHILD_SUBREAPER = 36
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def kill_strays(cwd):
    """Ends every process a finished suite left behind: orphans handed to us
    (subreaper) and anything else still working in this workspace."""
    root = os.path.realpath(cwd)
    me = os.getpid()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        pid = int(pid)
        if pid == me:
            continue
        try:
            with open("/proc/%d/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if pid in _ACTIVE:
            continue
        ours = ppid == me
        if not ours:
            try:
                where = os.path.realpath(os.readlink("/proc/%d/cwd" % pid))
                ours = where == root or where.startswith(root + os.sep)
            except OSError:
                pass
        if ours:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
            if ppid == me:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass


def clause_of_test(name):
    """test_CONN_07_udp_v4 -> CONN-07"""
    m = re.match(r"test_([A-Z]+)_(\d+)", name)
    return "%s-%s" % m.groups() if m else name


class Workspace:
    def __init__(self, root, path, sanitizers=False):
        self.root = root
        self.path = path
        self.sanitizers = sanitizers
        self.limits = {}

    # -- set-up -------------------------------------------------------------
    def create(self):
        if os.path.isdir(self.path):
            shutil.rmtree(self.path)
        for rel in project_files(self.root):
            src = os.path.join(self.root, rel)
            if not os.path.isfile(src):
                continue  # deleted in the work tree but still tracked
            dst = os.path.join(self.path, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)

    def build(self, timeout=600, sanitizers=None):
        targets = ["build/release/bin/apmsock-conformance", "build/release/bin/apmsock-adapter"]
        rc, _, out = run_bounded(["make", "-s", "-j1"] + targets, self.path, timeout)
        if rc != 0:
            return False, out
        return self.build_sanitizers(timeout) if (self.sanitizers if sanitizers is None else sanitizers) \
            else (True, "")

    def build_sanitizers(self, timeout=600):
        for variant in SANITIZER_VARIANTS:
            rc, _, out = run_bounded(["make", "-s", "-j1", "VARIANT=" + variant,
                                      "build/%s/bin/apmsock-conformance" % variant], self.path, timeout)
            if rc != 0:
                return False, out
        return True, ""

    def calibrate(self):
        """Runs every suite on the unmutated build; each suite's limit is
        three times its clean time plus a margin for a loaded machine."""
        times = {}
        for suite in self.suites():
            verdict = self.run_suite(suite, timeout=900)
            if verdict["killed"]:
                raise RuntimeError("the unmutated tree fails the %s suite (%s): fix that first"
                                   % (suite, ", ".join(verdict["failed"][:5]) or verdict["how"]))
            times[suite] = verdict["seconds"]
        self.limits = {s: 3 * t + 20 for s, t in times.items()}
        return times

    # -- one mutant ---------------------------------------------------------
    def suites(self):
        return ["c", "harness"] + (["c-" + v for v in SANITIZER_VARIANTS] if self.sanitizers else [])

    def judge(self, mutant, source):
        """Builds the mutant and runs every suite; returns the record."""
        target = os.path.join(self.path, mutant.file)
        try:
            with open(target, "w") as f:
                f.write(mutant.apply(source))
            ok, out = self.build(sanitizers=False)
            if not ok:
                return {"status": "STILLBORN", "build": out[-400:]}
            suites = {s: self.run_suite(s, self.limits.get(s, 600)) for s in ("c", "harness")}
            # The sanitizer builds only judge what the plain suites let
            # through (a deleted lock, a leak): building and running them
            # for every mutant tripled a run for no kill the plain suites
            # had not made already.
            if self.sanitizers and not any(v["killed"] for v in suites.values()):
                ok, out = self.build_sanitizers()
                if not ok:
                    return {"status": "STILLBORN", "build": out[-400:]}
                for s in self.suites()[2:]:
                    suites[s] = self.run_suite(s, self.limits.get(s, 600))
        finally:
            with open(target, "w") as f:
                f.write(source)
        killed_by = [s for s, v in suites.items() if v["killed"]]
        return {"status": "KILLED" if killed_by else "SURVIVED", "killed_by": killed_by, "suites": suites}

    def run_suite(self, suite, timeout):
        if suite == "c" or suite.startswith("c-"):
            return self._run_c(suite, timeout)
        return self._run_harness(timeout)

    def _run_c(self, suite, timeout):
        variant = suite[2:] if suite.startswith("c-") else "release"
        tap = os.path.join(self.path, "build", "mutation-%s.tap" % suite)
        env = dict(os.environ, CK_FORK="yes", CK_TIMEOUT_MULTIPLIER="1" if variant == "release" else "3",
                   ASAN_OPTIONS="halt_on_error=1:exitcode=66:detect_leaks=1",
                   UBSAN_OPTIONS="halt_on_error=1:exitcode=67",
                   TSAN_OPTIONS="halt_on_error=1:exitcode=68")
        binary = os.path.join("build", variant, "bin", "apmsock-conformance")
        rc, secs, out = run_bounded([binary, "--tap", tap], self.path, timeout, env)
        failed = []
        if os.path.exists(tap):
            with open(tap) as f:
                for line in f:
                    m = _NOT_OK.match(line)
                    if m:
                        failed.append(clause_of_test(m.group(1)))
        return self._verdict(rc, secs, sorted(set(failed)))

    def _run_harness(self, timeout):
        reports = os.path.join(self.path, "build", "mutation-reports")
        shutil.rmtree(reports, ignore_errors=True)
        argv = [PYTHON, "harness/conform", "--impl", "reference", "--profile", HARNESS_PROFILE,
                "--adapter", "build/release/bin/apmsock-adapter", "-n", "1", "-q",
                "--reports", reports]
        rc, secs, out = run_bounded(argv, self.path, timeout)
        failed = set()
        for path in glob.glob(os.path.join(reports, "runs", "*.json")):
            try:
                with open(path) as f:
                    failed.update(departures(json.load(f)))
            except (OSError, ValueError):
                pass
        if rc == 4:
            raise RuntimeError("harness/conform reports a usage error in the workspace:\n" + out[-800:])
        return self._verdict(rc, secs, sorted(failed))

    @staticmethod
    def _verdict(rc, secs, failed):
        if rc is None:
            how = "timeout"
        elif rc == 0 and not failed:
            how = None
        elif failed:
            how = "failed"
        else:
            how = "exit %d" % rc
        return {"killed": how is not None, "how": how, "seconds": round(secs, 1), "failed": failed}


def departures(run):
    """The clauses of the cases whose verdict departs from the reference's
    baseline: what the gate a user's CI runs would report.  A case the
    baseline expects not to pass (ARG-11 is UNSUPPORTED: the reference's
    adapter takes no DNS endpoint) is no kill while it stays as expected;
    a run without a gate (an older runner) falls back to every non-PASS."""
    by_id = {c.get("case_id"): c for c in run.get("cases", [])}
    gate = run.get("gate")
    if isinstance(gate, dict) and isinstance(gate.get("differences"), list):
        ids = [d.get("case_id") for d in gate["differences"]]
    else:
        ids = [c.get("case_id") for c in run.get("cases", []) if c.get("verdict") != "PASS"]
    return {(by_id.get(i) or {}).get("clause") or i for i in ids}
