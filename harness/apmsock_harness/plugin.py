"""The pytest plugin: options, the adapter fixtures, verdicts, results file.

Each worker (xdist or not) keeps one adapter process per implementation and
restarts it after a case broke it.  Verdicts are computed where the report is
made (on the worker) and travel with the report, so the controller can write
the results file and show them in pytest's progress line.

--profile both: one execution, two verdict sets (verdict.py).  The report
carries the documented verdict, and under "portable" what differs for the
portable profile; --results-json then holds {"documented": run, "portable":
run}, two runs as two executions would have written them.
"""
import types
import datetime
import json
import os
import re
import time

import pytest

from . import catalogue, net, registry, selection, signature
from .files import write_file
from .adapter import Adapter, AdapterFailure, ProtocolMismatch, Unsupported
from .case import Case

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUITE_VERSION = "1.0"
CLAUSE_NAME_RE = re.compile(r"^test_([A-Z]+)_(\d\d)_?(.*)$")


def pytest_addoption(parser):
    g = parser.getgroup("apmsock")
    g.addoption("--impl", default=os.environ.get("APMSOCK_IMPL"),
                help="implementation to run (fixtures/implementations.yaml; default reference)")
    g.addoption("--profile", default="documented", choices=("documented", "portable", "both"),
                help="expectation profile (SPEC section 4); both: the two from one execution")
    g.addoption("--adapter", default=None,
                help="adapter program to use instead of the registry's (also $APMSOCK_ADAPTER)")
    g.addoption("--impl-file", default=None, metavar="PATH",
                help="an implementation outside the suite: one registry entry in a YAML file")
    g.addoption("--adapter-cmd", default=None, metavar="CMD",
                help="the command that starts the adapter (shell words), for --impl NAME")
    g.addoption("--adapter-cwd", default=None, metavar="DIR",
                help="the folder --adapter-cmd starts in (default: the current one)")
    g.addoption("--shard", default=None, metavar="K/N",
                help="run only shard K of N (deterministic, balanced by family)")
    g.addoption("--repeat", type=int, default=1, metavar="N", help="run every selected case N times")
    g.addoption("--case", action="append", default=[], metavar="CASE_ID",
                help="run only this case (exact case id, e.g. 'CONN-07[no_bind-udp-v4]'); repeatable")
    g.addoption("--results-json", default=None, help="write the run's results file here")
    g.addoption("--list-cases", action="store_true", help="print every case id with its clause and level, run nothing")
    g.addoption("--request-timeout", type=float, default=5.0,
                help="seconds an adapter has to answer one request")


def pytest_configure(config):
    config.addinivalue_line("markers", "clause(id): the catalogue clause a case checks")
    config.addinivalue_line("markers", "needs(*caps): adapter capabilities the case needs")
    config._apmsock_results = []
    config._apmsock_started = time.time()
    config._apmsock_catalogue = None
    try:
        config._apmsock_catalogue = catalogue.load(catalogue.default_path(ROOT))
    except catalogue.CatalogueError as e:
        raise pytest.UsageError(str(e))
    try:
        config._apmsock_impl = impl_of(config)
        if config.getoption("shard"):
            selection.parse_shard(config.getoption("shard"))
            config.pluginmanager.register(Shard(), "apmsock-shard")
    except (registry.RegistryError, selection.SelectionError) as e:
        raise pytest.UsageError(str(e))
    if config.getoption("repeat") < 1:
        raise pytest.UsageError("--repeat must be 1 or more")


def impl_of(config):
    return registry.resolve(ROOT, config.getoption("impl"), config.getoption("adapter"),
                            config.getoption("impl_file"), config.getoption("adapter_cmd"),
                            cwd=config.getoption("adapter_cwd"))


REPEAT = "_apmsock_repeat"
REPEAT_ID = re.compile(r"^apmrep\d+$")


def pytest_generate_tests(metafunc):
    n = metafunc.config.getoption("repeat")
    if n > 1 and metafunc.definition.get_closest_marker("clause") is not None:
        metafunc.fixturenames.append(REPEAT)
        metafunc.parametrize(REPEAT, range(1, n + 1), indirect=True, ids=["apmrep%d" % i for i in range(1, n + 1)])


@pytest.fixture
def _apmsock_repeat(request):
    """The repetition number under --repeat (not part of the case id)."""
    return request.param


def case_id(item):
    m = item.get_closest_marker("clause")
    if m is None:
        return None, None
    clause = m.args[0]
    name = getattr(item, "originalname", None) or item.name.split("[")[0]
    nm = CLAUSE_NAME_RE.match(name)
    parts = []
    if nm and nm.group(3):
        parts.append(nm.group(3))
    cs = getattr(item, "callspec", None)
    if cs is not None:
        pid = "-".join(t for t in cs.id.split("-") if not REPEAT_ID.match(t))
        if pid.startswith(clause + "-"):
            pid = pid[len(clause) + 1:]
        if pid:
            parts.append(pid)
    return clause, "%s[%s]" % (clause, "-".join(parts) or "main")


def pytest_collection_modifyitems(session, config, items):
    wanted = set(config.getoption("case"))
    cat = config._apmsock_catalogue or {}
    keep, drop = [], []
    for item in items:
        clause, cid = case_id(item)
        if clause is not None:
            if clause not in cat:
                raise pytest.UsageError("%s cites clause %s, which fixtures/clauses.yaml lacks"
                                        % (item.nodeid, clause))
            item._apmsock = {"clause": clause, "case_id": cid, "level": cat[clause].level}
            item.user_properties.append(("clause", clause))
            item.user_properties.append(("level", cat[clause].level))
            item.user_properties.append(("case_id", cid))
            # -k takes the ids as written everywhere: -k CONN-07, -k 'CONN-07[no_bind-v4]'
            item.extra_keyword_matches.update((clause, cid))
        if clause is None and os.path.basename(os.path.dirname(str(item.path))) == "cases":
            raise pytest.UsageError("%s cites no clause: mark it @pytest.mark.clause(\"ID\")" % item.nodeid)
        if wanted and (clause is None or cid not in wanted):
            drop.append(item)
        else:
            keep.append(item)
    if wanted:
        missing = wanted - {getattr(i, "_apmsock", {}).get("case_id") for i in keep}
        if missing:
            raise pytest.UsageError("no such case: %s" % ", ".join(sorted(missing)))
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


class Shard:
    """--shard K/N, after every other selection (-k, --case: trylast): the
    shard splits what was selected (selection.py).  A plugin object of its
    own, so that the plugin can have a second collection hook."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        k, n = selection.parse_shard(config.getoption("shard"))
        ids = sorted({i._apmsock["case_id"] for i in items if getattr(i, "_apmsock", None)})
        where = selection.shard_of(ids, n)
        keep = [i for i in items if getattr(i, "_apmsock", None) and where[i._apmsock["case_id"]] == k]
        drop = [i for i in items if not (getattr(i, "_apmsock", None) and where[i._apmsock["case_id"]] == k)]
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session):
    config = session.config
    if not config.getoption("list_cases") or hasattr(config, "workerinput"):
        return
    tr = config.pluginmanager.get_plugin("terminalreporter")
    for item in session.items:
        info = getattr(item, "_apmsock", None)
        if info is not None:
            tr.write_line("%-55s %-8s %-6s %s" % (info["case_id"], info["clause"], info["level"], item.nodeid))


def pytest_runtestloop(session):
    if session.config.getoption("list_cases"):
        return True  # listed, nothing to run
    return None


# ---------------------------------------------------------------- adapters
class Pool:
    """One adapter per worker, restarted when a case broke it."""

    def __init__(self, config):
        self.config = config
        self.adapter = None
        self.start_error = None

    def argv(self):
        """How to start the adapter; a pool that runs it elsewhere (inside a
        network namespace) wraps this."""
        return list(self.config._apmsock_impl.argv)

    def started(self, a):
        """Hook: called once the adapter answered hello."""

    def get(self):
        a = self.adapter
        if a is not None and a.alive:
            return a
        if a is not None:
            a.stop(1.0)
        impl = self.config._apmsock_impl
        missing = registry.program_missing(impl)
        if missing:
            pytest.exit(missing, returncode=4)
        a = Adapter(self.argv(), cwd=impl.cwd, timeout=self.config.getoption("request_timeout"),
                    name=impl.name)
        self.adapter = a
        try:
            a.start(timeout=30.0)
        except ProtocolMismatch as e:
            pytest.exit(str(e), returncode=4)
        self.started(a)
        return a

    def close(self):
        if self.adapter is not None:
            self.adapter.stop(2.0)


@pytest.fixture(scope="session")
def adapter_pool(request):
    pool = Pool(request.config)
    yield pool
    pool.close()


@pytest.fixture
def h(request, adapter_pool):
    """The case context on the shared adapter of this worker."""
    info = getattr(request.node, "_apmsock", None) or {}
    case = Case(None, request.config.getoption("profile"), info.get("clause"), info.get("level"))
    request.node._apmsock_case = case
    case.a = adapter_pool.get()
    case.mark_exchange = len(case.a.exchange)
    case.mark_events = len(case.a.events)
    case.mark_stderr = case.a.stderr_mark()
    _apply_needs(request.node, case)
    yield case
    case.cleanup()


@pytest.fixture
def fresh(request):
    """Starts a case context on a fresh adapter of its own: fresh(env={...})
    adds environment variables, fresh(netns=True) runs it in a private
    network namespace (SKIP when none can be made).  Stopped at the end."""
    info = getattr(request.node, "_apmsock", None) or {}
    config = request.config
    made = []

    def start(env=None, netns=False):
        case = Case(None, config.getoption("profile"), info.get("clause"), info.get("level"))
        request.node._apmsock_case = case
        impl = config._apmsock_impl
        argv = impl.argv
        full_env = dict(os.environ, **(env or {})) if env else None
        a = Adapter(net.netns_argv(argv) if netns else argv, env=full_env, cwd=impl.cwd,
                    timeout=config.getoption("request_timeout"), name="fresh")
        case.a = a
        made.append(case)
        try:
            a.start(timeout=30.0)
        except AdapterFailure:
            a.stop(1.0)  # joins the stderr reader: the reason is in what it read
            err = a.stderr_text()
            if netns and ("unshare" in err or "Operation not permitted" in err or "RTNETLINK" in err):
                pytest.skip("SKIP: cannot make a private network namespace: %s" % err.strip()[:300])
            raise
        case.mark_exchange = len(a.exchange)
        case.mark_events = len(a.events)
        _apply_needs(request.node, case)
        return case

    yield start
    for case in made:
        case.cleanup()
        case.a.stop(2.0)


@pytest.fixture
def h_netns(fresh):
    """A case context on a fresh adapter inside a private network namespace
    (FLAGS-01)."""
    return fresh(netns=True)


@pytest.fixture
def impl_features(request):
    """What the registry says the implementation has beyond the protocol
    (fixtures/implementations.yaml `features`)."""
    return set(request.config._apmsock_impl.features)


def _apply_needs(node, case):
    m = node.get_closest_marker("needs")
    if m is not None:
        case.require(*m.args)


# ---------------------------------------------------------------- verdicts
def _classify(report, call, case):
    """(verdict, mode, signal, message) of a finished phase."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if report.passed:
        if case is not None and case.judge.nonstrict:
            return "NON-STRICT", None, None, case.judge.nonstrict[0]
        return "PASS", None, None, ""
    if isinstance(exc, Unsupported):
        return "UNSUPPORTED", None, None, str(exc)
    if report.skipped:
        msg = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        msg = msg.replace("Skipped: ", "")
        if msg.startswith("UNSUPPORTED"):
            return "UNSUPPORTED", None, None, msg
        return "SKIP", None, None, msg
    if isinstance(exc, AdapterFailure):
        return "ERROR", exc.mode, exc.signal_name, str(exc)
    text = str(exc) if exc is not None else str(report.longrepr)
    if exc is not None and type(exc).__name__ == "Failed" and text.startswith("Timeout"):
        return "ERROR", "timeout", None, "case exceeded its time limit: " + text.splitlines()[0]
    if isinstance(exc, AssertionError):
        return "FAIL", "assertion", None, (text.splitlines() or [""])[0]
    return "ERROR", "protocol", None, "%s: %s" % (type(exc).__name__, text.splitlines()[0] if text else "")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    info = getattr(item, "_apmsock", None)
    if info is None:
        return
    case = getattr(item, "_apmsock_case", None)
    if call.excinfo is not None and isinstance(call.excinfo.value, Unsupported):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, "UNSUPPORTED: %s" % call.excinfo.value)
    if report.when == "teardown":
        if report.failed:
            # a broken cleanup breaks no verdict, but is told
            report.apmsock_teardown = str(call.excinfo.value) if call.excinfo else "teardown failed"
        # The verdict and its evidence are made: the case and what its peers
        # received (megabytes for the stream cases) can go, rather than stay
        # until the session ends (a run's workers grew to ~270 MiB each).
        item.__dict__.pop("_apmsock_case", None)
        return
    if report.when == "setup" and report.passed:
        return
    verdict, mode, sig, message = _classify(report, call, case)
    key = _signature(verdict, mode, sig, message, call, case)
    if verdict in ("PASS", "NON-STRICT", "FAIL") and case is not None and case.a is not None \
            and case.a.failure is not None:
        # the adapter broke during the case (e.g. died in a callback after
        # the last reply): that is the case's verdict
        f = case.a.failure
        verdict, mode, sig, message = "ERROR", f.mode, f.signal_name, str(f)
        key = signature.of_error(mode, sig)
    full = _full(verdict, case)
    evidence = case.evidence(full=full) if case is not None else {}
    if case is not None and case.a is not None and case.a.hello:
        impl = {"name": case.a.hello.get("implementation"), "version": case.a.hello.get("version"),
                "protocol": case.a.hello.get("protocol"), "contract": case.a.hello.get("contract")}
    else:
        impl = None
    report.apmsock = {
        "case_id": info["case_id"], "clause": info["clause"], "level": info["level"],
        "verdict": verdict, "mode": mode, "signal": sig, "signature": key,
        "duration_s": round(report.duration, 4), "message": message[:500],
        "evidence": evidence, "nodeid": item.nodeid, "impl": impl,
    }
    if item.config.getoption("profile") == "both":
        report.apmsock["portable"] = _portable(verdict, mode, sig, key, message, call, case, full, evidence)
    # junitxml reads the properties from the teardown report, made from the item
    props = [("verdict", verdict)] + ([("mode", mode)] if mode else [])
    report.user_properties.extend(props)
    item.user_properties.extend(props)


def _full(verdict, case):
    """Whether a verdict's evidence is the whole exchange."""
    return verdict not in ("PASS", "SKIP", "UNSUPPORTED") or case is not None and bool(case.infos)


def _portable(verdict, mode, sig, key, message, call, case, full, evidence):
    """What the portable profile's run differs in, from the documented
    verdict of a `both` execution: NON-STRICT and PASS pass; a check that
    failed both profiles fails with the portable failure's message and
    signature; everything else (ERROR, SKIP, UNSUPPORTED, a plain assert)
    is the same in both."""
    out = {"verdict": verdict, "mode": mode, "signal": sig, "signature": key, "message": message[:500]}
    if verdict in ("PASS", "NON-STRICT"):
        out.update(verdict="PASS", mode=None, signal=None, signature=None, message="")
    elif verdict == "FAIL" and case is not None and call.excinfo is not None:
        documented = call.excinfo.value
        portable = case.judge.portable_failure(documented)
        if portable is not None:
            portable = portable.with_traceback(_outer_then(documented.__traceback__, portable.__traceback__))
            out.update(signature=signature.of_exception(portable),
                       message=(str(portable).splitlines() or [""])[0][:500])
    if _full(out["verdict"], case) != full:
        out["evidence"] = case.evidence(full=not full) if case is not None else {}
    return out


def _outer_then(outer, inner):
    """A traceback as the portable failure would have had it had it gone
    up the stack itself: outer's entries down to the Judge's check, then
    inner's (the portable judgement's own frames), so that its signature
    (signature.py: made from the harness frames) is the portable run's."""
    frames = []
    tb = outer
    while tb is not None and not (tb.tb_frame.f_code.co_name == "check"
                                  and os.path.basename(tb.tb_frame.f_code.co_filename) == "verdict.py"):
        frames.append(tb)
        tb = tb.tb_next
    out = inner
    for t in reversed(frames):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def _signature(verdict, mode, sig, message, call, case):
    """The failure signature of a verdict (signature.py); None for PASS."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if verdict == "PASS":
        return None
    if verdict == "NON-STRICT":
        errs = case.judge.nonstrict_errors if case is not None else []
        return signature.of_exception(errs[0]) if errs else "nonstrict"
    if verdict == "UNSUPPORTED":
        return signature.of_unsupported(message)
    if verdict == "SKIP":
        return "skip"
    if verdict == "ERROR" and (mode != "protocol" or isinstance(exc, AdapterFailure)):
        return signature.of_error(mode, sig)
    return signature.of_exception(exc) if exc is not None else signature.of_error(mode or "unknown")


def pytest_report_teststatus(report, config):
    r = getattr(report, "apmsock", None)
    if r is None or report.when not in ("call", "setup"):
        return None
    v = r["verdict"]
    if v == "NON-STRICT":
        return "nonstrict", "N", "NON-STRICT"
    if v == "UNSUPPORTED":
        return "unsupported", "U", "UNSUPPORTED"
    if v == "ERROR":
        return "failed", "E", "ERROR(%s)" % r["mode"]
    return None


def pytest_runtest_logreport(report):
    r = getattr(report, "apmsock", None)
    if r is not None and _CONFIG is not None:
        _CONFIG._apmsock_results.append(r)


_CONFIG = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    global _CONFIG
    _CONFIG = session.config


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):
        return
    path = config.getoption("results_json")
    if not path:
        return
    write_results(config, path, exitstatus)


CASE_KEYS = ("case_id", "clause", "level", "verdict", "mode", "signal", "signature", "duration_s",
             "message", "evidence")


def write_results(config, path, exitstatus):
    if config.getoption("profile") != "both":
        write_file(path, json.dumps(results_run(config, exitstatus, "documented"
                                                if config.getoption("profile") == "documented" else "portable")))
        return
    # a file for harness/conform only: json's C encoder, which has no indent
    write_file(path, json.dumps({p: results_run(config, exitstatus, p) for p in ("documented", "portable")}))


def results_run(config, exitstatus, profile):
    """The results of one profile; from a `both` execution, the portable
    verdicts are the documented ones overlaid with what differs."""
    cases = []
    impl_hello = None
    for r in sorted(config._apmsock_results, key=lambda r: r["case_id"]):
        if r.get("impl"):
            impl_hello = r["impl"]
        c = {k: r[k] for k in CASE_KEYS}
        if profile == "portable" and "portable" in r:
            c.update(r["portable"])
        cases.append(c)
    impl = config._apmsock_impl
    prog = impl.prog
    run = {
        "suite": "harness",
        "implementation": dict({"id": impl.name,
                                "name": (impl_hello or {}).get("name"),
                                "version": (impl_hello or {}).get("version"),
                                "adapter": os.path.relpath(prog, ROOT) if prog.startswith(ROOT + os.sep) else prog},
                               **impl.source),
        "protocol_version": (impl_hello or {}).get("protocol"),
        "contract_version": (impl_hello or {}).get("contract"),
        "suite_version": SUITE_VERSION,
        "profile": profile,
        "started": datetime.datetime.utcfromtimestamp(config._apmsock_started).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(time.time() - config._apmsock_started, 3),
        "pytest_exit": int(exitstatus),
        "cases": cases,
    }
    return run
