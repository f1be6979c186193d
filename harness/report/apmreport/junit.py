"""JUnit XML for each run, written from the run file: one writer, one shape for both suites.

Who reads it: CI dashboards (Jenkins' JUnit and xunit plugins, GitLab, GitHub annotations).
What they key on, and what we put there:
  testcase name       = the case ID (CONN-07[udp-v6-send_to]), as every other report says it;
  testcase classname  = apmsock.<impl>.<suite>.<profile>.<FAMILY>, so two implementations or
                        profiles never merge into one history on a dashboard;
  failure/error       = FAIL -> <failure>, ERROR -> <error> (the harness, adapter or test
                        process broke), SKIP and UNSUPPORTED -> <skipped>; PASS and NON-STRICT
                        have none (the gate judges NON-STRICT through the baseline);
  message             = the first line of the case's message (the assertion); the element's
                        text = verdict and mode, the whole message, an evidence summary and
                        the command that reruns the case.
Where the clause, level, verdict, mode and signal live: NOT in <properties> of a testcase
(Jenkins' strict schema refuses them) but as the first line of the testcase's <system-out>,
`apmsock: clause=CONN-07 level=MUST verdict=FAIL mode=assertion signal=-`; the run's own
facts (implementation, suite, profile, gate) are <properties> of the <testsuite>.
Both schemas are checked: harness/report/junit.xsd (ours) and junit-10.xsd (Jenkins').
"""

import os
import re
import xml.etree.ElementTree as ET

from apmsock_harness.files import write_file

from . import ReportError, reproduce
from .verdicts import JUNIT

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XSD_PATH = os.path.join(_HERE, "junit.xsd")
JENKINS_XSD_PATH = os.path.join(_HERE, "junit-10.xsd")
EVIDENCE_CAP = 64 * 1024
SUMMARY_EXCHANGE = 12      # last exchange lines quoted in a failure's body
HEADER = "apmsock:"        # first line of a testcase's <system-out>
HEADER_KEYS = ("clause", "level", "verdict", "mode", "signal")
CLASSNAME_RE = re.compile(r"^apmsock\.[^.]+\.[^.]+\.[^.]+\.[A-Z]+$")
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(s):
    return _BAD_XML.sub("\ufffd", s if isinstance(s, str) else str(s))


def classname(run, case):
    return "apmsock.%s.%s.%s.%s" % (run["implementation"]["id"], run["suite"], run["profile"],
                                    case["clause"].rsplit("-", 1)[0])


def header_line(case):
    vals = {"clause": case["clause"], "level": case.get("level") or "MUST",
            "verdict": case["verdict"], "mode": case.get("mode"), "signal": case.get("signal")}
    return HEADER + " " + " ".join("%s=%s" % (k, vals[k] or "-") for k in HEADER_KEYS)


def parse_header(text):
    """{clause, level, verdict, mode, signal} from a testcase's <system-out>, {} if it has none."""
    first = (text or "").split("\n", 1)[0]
    if not first.startswith(HEADER):
        return {}
    out = {}
    for tok in first[len(HEADER):].split():
        k, _, v = tok.partition("=")
        out[k] = None if v == "-" else v
    return out


def _evidence_lines(case, exchange_tail=None):
    ev = case.get("evidence") or {}
    out = []
    for t in ev.get("timeline") or []:
        out.append("t=%s %s" % (t.get("t"), t.get("what")))
    for p in ev.get("peers") or []:
        out.append("peer %s received: %s" % (p.get("peer"),
                                             ", ".join(str(r) for r in p.get("received") or []) or "nothing"))
    ex = ev.get("exchange") or []
    if exchange_tail is not None and len(ex) > exchange_tail:
        out.append("... %d earlier protocol lines (the full exchange is in <system-out>)"
                   % (len(ex) - exchange_tail))
        ex = ex[-exchange_tail:]
    for x in ex:
        out.append("%s %s" % (x.get("dir", "?"), x.get("line", "")))
    return out


def _cap(text):
    if len(text) > EVIDENCE_CAP:
        text = text[:EVIDENCE_CAP] + "\n... (cut; the full evidence is in the run's results file)"
    return _clean(text)


def _body(run, case):
    """The text of a <failure>/<error>: what failed, the evidence in short, how to rerun it."""
    head = case["verdict"] + (" (%s%s)" % (case["mode"], ", " + case["signal"] if case.get("signal") else "")
                              if case.get("mode") else "")
    parts = ["%s: %s" % (head, case.get("message") or "(no message)")]
    ev = _evidence_lines(case, SUMMARY_EXCHANGE)
    if ev:
        parts.append("evidence:\n" + "\n".join("  " + x for x in ev))
    parts.append("reproduce: " + reproduce.command(run, case))
    return _cap("\n".join(parts))


def build(run):
    """An ElementTree of <testsuites> for one run."""
    impl = run["implementation"]["id"]
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total = 0.0
    root = ET.Element("testsuites", name="apmsock")
    suite = ET.SubElement(root, "testsuite", name="apmsock.%s.%s.%s" % (impl, run["suite"], run["profile"]))
    props = ET.SubElement(suite, "properties")
    for k, v in [("implementation", impl),
                 ("implementation_name", run["implementation"].get("name")),
                 ("implementation_version", run["implementation"].get("version")),
                 ("suite", run["suite"]), ("profile", run["profile"]),
                 ("protocol_version", run.get("protocol_version")),
                 ("gate", (run.get("gate") or {}).get("status")),
                 ("case_facts", "first line of each testcase's system-out: " + header_line(
                     {"clause": "CLAUSE", "level": "LEVEL", "verdict": "VERDICT", "mode": "MODE",
                      "signal": "SIGNAL"}))]:
        if v is not None and v != "":
            ET.SubElement(props, "property", name=k, value=_clean(v))
    for c in run["cases"]:
        tc = ET.SubElement(suite, "testcase", name=_clean(c["case_id"]), classname=_clean(classname(run, c)))
        if c.get("duration_s") is not None:
            tc.set("time", "%.6f" % c["duration_s"])
            total += c["duration_s"]
        counts["tests"] += 1
        kind = JUNIT[c["verdict"]]
        if kind:
            msg = (c.get("message") or "").strip().split("\n", 1)[0] or c["verdict"]
            el = ET.SubElement(tc, kind, message=_clean(msg))
            if kind == "skipped":
                el.text = _clean(c.get("message") or c["verdict"])
            else:
                el.set("type", c.get("mode") or c["verdict"].lower())
                el.text = _body(run, c)
            counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[kind]] += 1
        out = [header_line(c)]
        if c["verdict"] != "PASS":
            out.append("reproduce: " + reproduce.command(run, c))
        out += _evidence_lines(c)
        ET.SubElement(tc, "system-out").text = _cap("\n".join(out))
        stderr = (c.get("evidence") or {}).get("stderr")
        if stderr:
            ET.SubElement(tc, "system-err").text = _clean(stderr[-EVIDENCE_CAP:])
    for k, v in counts.items():
        suite.set(k, str(v))
        if k != "skipped":  # Jenkins' schema has no `skipped` on <testsuites>
            root.set(k, str(v))
    for el in (root, suite):
        el.set("time", "%.6f" % (run.get("duration_s") or total))
    if run.get("started"):
        suite.set("timestamp", run["started"])
    return ET.ElementTree(root)


def file_name(run):
    """<suite>-<impl>-<profile>.xml: the one JUnit file of a run in reports/junit/."""
    return "%s-%s-%s.xml" % (run["suite"], run["implementation"]["id"], run["profile"])


def write_to(run, path):
    """Writes the run's JUnit to path (atomically); returns path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tree = build(run)
    ET.indent(tree, space=" ")
    write_file(path, ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=True) + "\n")
    return path


def write(run, junit_dir):
    return write_to(run, os.path.join(junit_dir, file_name(run)))


def ensure(run, junit_dir):
    """The run's JUnit file, always (re)written from the run file, which is the truth the gate
    read: a producer's file written from an older or partial view never survives. Returns
    (path, what was done)."""
    path = os.path.join(junit_dir, file_name(run))
    existed = os.path.exists(path)
    write(run, junit_dir)
    return path, "rewritten" if existed else "written"


def _xsd_errors(path, xsd, label):
    try:
        from lxml import etree as LET
    except ImportError:  # python3-lxml is in scripts/deps.sh; without it only the rules below run
        return []
    schema = LET.XMLSchema(LET.parse(xsd))
    try:
        doc = LET.parse(path)
    except (OSError, LET.XMLSyntaxError) as e:
        return ["%s: not XML: %s" % (path, e)]
    if schema.validate(doc):
        return []
    return ["%s:%d: %s: %s" % (path, e.line, label, e.message) for e in schema.error_log]


def validate(path):
    """Errors (strings) of one JUnit file: our XSD, Jenkins' strict XSD, then the rules no
    XSD can say (the classname's shape, the case facts line, the outcome fitting the verdict)."""
    errors = _xsd_errors(path, XSD_PATH, "junit.xsd") + _xsd_errors(path, JENKINS_XSD_PATH, "junit-10.xsd")
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        return errors or ["%s: not XML: %s" % (path, e)]
    for tc in root.iter("testcase"):
        where = "%s: testcase %r" % (path, tc.get("name"))
        if not CLASSNAME_RE.match(tc.get("classname") or ""):
            errors.append("%s: classname %r is not apmsock.<impl>.<suite>.<profile>.<FAMILY>"
                          % (where, tc.get("classname")))
        facts = parse_header(tc.findtext("system-out"))
        for k in ("clause", "level", "verdict"):
            if not facts.get(k):
                errors.append("%s has no %s in its system-out's first line (%s ...)" % (where, k, HEADER))
        verdict = facts.get("verdict")
        if verdict in JUNIT:
            want = JUNIT[verdict]
            have = [k for k in ("failure", "error", "skipped") if tc.find(k) is not None]
            if have != ([want] if want else []):
                errors.append("%s: verdict %s wants %s, has %s"
                              % (where, verdict, want or "no outcome", have or "none"))
    return errors


def check(paths):
    errs = []
    for p in paths:
        errs += validate(p)
    if errs:
        raise ReportError("JUnit files not valid (harness/report/junit.xsd, junit-10.xsd, "
                          "apmreport/junit.py):\n  " + "\n  ".join(errs[:20]))
