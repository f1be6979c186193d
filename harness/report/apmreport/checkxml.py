"""The C suite's Check XML (srunner_set_xml) -> a run file of suite "c".

Test functions are named test_<FAMILY>_<NN>_<variant> (test_CONN_07_udp_v6): the
clause is CONN-07 and the case id CONN-07[udp_v6]. Check's own verdicts map as
  success -> PASS
  failure -> FAIL, mode assertion
  error   -> ERROR, mode timeout ("Test timeout expired") or crash (a signal, an early exit)
"""

import collections
import datetime
import re
import signal as _signal
import xml.etree.ElementTree as ET

from . import ReportError
from .catalogue import FAMILIES

NAME_RE = re.compile(r"^test_(%s)_([0-9]{2})(?:_(.+))?$" % "|".join(FAMILIES))
SIGNAL_RE = re.compile(r"Received signal (\d+)")


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _child(el, name):
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _text(el, name, default=""):
    c = _child(el, name)
    return (c.text or "").strip() if c is not None and c.text is not None else default


CHECK_NS = "http://check.sourceforge.net/ns"


def is_junit(path):
    """True for a well-formed XML file that is not Check's (e.g. the suite's JUnit beside it)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return False  # let parse_files report it
    return not root.tag.startswith("{%s}" % CHECK_NS) and _local(root.tag) in ("testsuites", "testsuite")


def parse_name(fn_name):
    """test_CONN_07_udp_v6 -> ("CONN-07", "udp_v6"); None if the name cites no clause."""
    m = NAME_RE.match(fn_name)
    if not m:
        return None
    return "%s-%s" % (m.group(1), m.group(2)), m.group(3) or ""


def _signal_name(num):
    try:
        return _signal.Signals(num).name
    except ValueError:
        return "SIG%d" % num


def _case(test, catalogue):
    result = test.get("result", "")
    name = _text(test, "id")
    parsed = parse_name(name)
    if parsed is None:
        return None, name
    clause, variant = parsed
    msg = _text(test, "message")
    try:
        dur = float(_text(test, "duration", "-1"))
    except ValueError:
        dur = -1.0
    case = {"case_id": None, "clause": clause, "variant": variant,
            "level": None, "verdict": None, "mode": None, "signal": None,
            "duration_s": round(dur, 6) if dur >= 0 else None, "message": msg,
            "evidence": {"info": {"function": name, "tcase": _text(test, "description"),
                                  "source": _text(test, "fn"),
                                  "iteration": int(_text(test, "iteration", "0") or 0),
                                  "check_result": result}}}
    if catalogue is not None and clause in catalogue.clauses:
        case["level"] = catalogue.clauses[clause]["level"]
    if result == "success":
        case["verdict"] = "PASS"
    elif result == "failure":
        case["verdict"], case["mode"] = "FAIL", "assertion"
    elif result == "error":
        case["verdict"] = "ERROR"
        m = SIGNAL_RE.search(msg)
        if "timeout" in msg.lower():
            case["mode"] = "timeout"
        elif m:
            case["mode"], case["signal"] = "crash", _signal_name(int(m.group(1)))
        else:
            case["mode"] = "crash"  # early exit, or Check could not say
    else:
        raise ReportError("unknown Check result %r for %s" % (result, name))
    return case, name


def parse_files(paths, catalogue=None, expect_list=None):
    """Every <test> of the files, in order; raises ReportError with the file on bad input."""
    cases, uncited, stamps = [], [], []
    total_duration = 0.0
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except OSError as e:
            raise ReportError("%s: cannot read: %s" % (path, e.strerror))
        except ET.ParseError as e:
            raise ReportError("%s: not well-formed XML (is the C suite's output cut short?): %s"
                              % (path, e))
        if _local(root.tag) != "testsuites":
            raise ReportError("%s: not a Check XML log (root <%s>, expected <testsuites>)"
                              % (path, _local(root.tag)))
        stamps.append(_text(root, "datetime"))
        try:
            total_duration += max(0.0, float(_text(root, "duration", "0")))
        except ValueError:
            pass
        for suite in root.iter():
            if _local(suite.tag) != "suite":
                continue
            title = _text(suite, "title")
            for test in suite:
                if _local(test.tag) != "test":
                    continue
                case, name = _case(test, catalogue)
                if case is None:
                    uncited.append(name)
                    continue
                case["evidence"]["info"]["suite"] = title
                cases.append(case)
    if uncited:
        raise ReportError("C suite tests that cite no clause (expected test_<FAMILY>_<NN>_<variant>): "
                          + ", ".join(sorted(set(uncited))))
    if expect_list:
        cases += _missing_cases(read_list(expect_list), cases, catalogue)
    _assign_ids(cases)
    started = _started(stamps)
    return cases, started, total_duration


def _assign_ids(cases):
    """CLAUSE[variant]; loop tests (same function, several iterations) get #iteration."""
    per_fn = collections.Counter(c["evidence"]["info"]["function"] for c in cases)
    seen = collections.Counter()
    for c in cases:
        info = c["evidence"]["info"]
        variant = c.pop("variant")
        if per_fn[info["function"]] > 1 or info["iteration"]:
            variant = "%s#%d" % (variant, info["iteration"]) if variant else "#%d" % info["iteration"]
        cid = "%s[%s]" % (c["clause"], variant) if variant else c["clause"]
        seen[cid] += 1
        if seen[cid] > 1:  # same function in two suites: keep both, distinctly
            cid = "%s~%d" % (cid, seen[cid])
        c["case_id"] = cid


def _started(stamps):
    for s in stamps:
        try:
            # Check writes local time without a zone; the suite runs in UTC in CI.
            t = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S")
            return t.strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            continue
    return None


def read_list(path):
    """The runner's --list output (FAMILY<TAB>test name per line): the tests the run should have."""
    names = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split()
                if parts:
                    names.append(parts[-1])
    except OSError as e:
        raise ReportError("%s: cannot read: %s" % (path, e.strerror))
    return names


def read_info_log(path):
    """function -> [what an INFO clause recorded] from lines "INFO <clause> <function>: text"."""
    out = collections.defaultdict(list)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"^INFO\s+\S+\s+(test_\w+):\s?(.*)$", line.rstrip("\n"))
                if m:
                    out[m.group(1)].append(m.group(2))
    except OSError as e:
        raise ReportError("%s: cannot read: %s" % (path, e.strerror))
    return out


def _missing_cases(expected, cases, catalogue):
    """Tests the runner lists but the log lacks: the run died before them. ERROR, never dropped."""
    have = {c["evidence"]["info"]["function"] for c in cases}
    out = []
    for name in expected:
        parsed = parse_name(name)
        if name in have or parsed is None:
            continue
        clause, variant = parsed
        out.append({"case_id": None, "clause": clause, "variant": variant,
                    "level": catalogue.clauses[clause]["level"] if catalogue and clause in catalogue.clauses else None,
                    "verdict": "ERROR", "mode": "crash", "signal": None, "duration_s": None,
                    "message": "missing from the Check log: the run stopped before this test",
                    "evidence": {"info": {"function": name, "iteration": 0, "check_result": "missing"}}})
    return out


def convert(paths, impl_id, impl_name=None, impl_version=None, catalogue=None, baseline=None,
            contract_version=None, suite_version=None, expect_list=None, info_log=None):
    """A run dict of suite "c", profile "documented" (the C suite checks the documents)."""
    cases, started, duration = parse_files(paths, catalogue, expect_list)
    if info_log:
        recorded = read_info_log(info_log)
        for c in cases:
            lines = recorded.get(c["evidence"]["info"]["function"])
            if lines:
                c["evidence"]["timeline"] = [{"t": None, "what": "recorded: " + x} for x in lines]
    if not cases:
        raise ReportError("%s: no test in the Check XML; the C suite ran nothing"
                          % ", ".join(paths))
    run = {"suite": "c",
           "implementation": {"id": impl_id, "name": impl_name or impl_id,
                              "version": impl_version},
           "protocol_version": None, "profile": "documented",
           "started": started, "duration_s": round(duration, 6),
           "sources": list(paths), "cases": cases}
    if contract_version:
        run["contract_version"] = contract_version
    if suite_version:
        run["suite_version"] = suite_version
    return run
