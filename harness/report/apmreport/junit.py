"""JUnit XML for each run, written from the run file so that every suite has one shape.

FAIL -> <failure>, ERROR (the harness, the adapter or the test process broke) -> <error>,
SKIP and UNSUPPORTED -> <skipped>; PASS and NON-STRICT have no outcome element (the gate
judges NON-STRICT through the baseline). Every testcase carries the properties clause,
level, verdict and, when set, mode and signal.
"""

import os
import re
import xml.etree.ElementTree as ET

from apmsock_harness.files import write_file

from . import ReportError
from .verdicts import JUNIT

XSD_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "junit.xsd")
EVIDENCE_CAP = 64 * 1024
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(s):
    return _BAD_XML.sub("\ufffd", s if isinstance(s, str) else str(s))


def _props(parent, pairs):
    props = ET.SubElement(parent, "properties")
    for k, v in pairs:
        if v is not None and v != "":
            ET.SubElement(props, "property", name=k, value=_clean(v))
    return props


def _evidence_text(case):
    ev = case.get("evidence") or {}
    out = []
    for x in ev.get("exchange") or []:
        out.append("%s %s" % (x.get("dir", "?"), x.get("line", "")))
    for p in ev.get("peers") or []:
        out.append("peer %s received: %s" % (p.get("peer"), ", ".join(str(r) for r in p.get("received") or []) or "nothing"))
    for t in ev.get("timeline") or []:
        out.append("t=%s %s" % (t.get("t"), t.get("what")))
    text = "\n".join(out)
    if len(text) > EVIDENCE_CAP:
        text = text[:EVIDENCE_CAP] + "\n... (cut; the full evidence is in results.json)"
    return _clean(text)


def build(run):
    """An ElementTree of <testsuites> for one run."""
    impl = run["implementation"]["id"]
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total = 0.0
    root = ET.Element("testsuites", name="apmsock")
    suite = ET.SubElement(root, "testsuite", name="apmsock.%s.%s.%s" % (impl, run["suite"], run["profile"]))
    _props(suite, [("implementation", impl),
                   ("implementation_name", run["implementation"].get("name")),
                   ("implementation_version", run["implementation"].get("version")),
                   ("suite", run["suite"]), ("profile", run["profile"]),
                   ("protocol_version", run.get("protocol_version")),
                   ("gate", (run.get("gate") or {}).get("status"))])
    for c in run["cases"]:
        fam = c["clause"].rsplit("-", 1)[0]
        tc = ET.SubElement(suite, "testcase", name=_clean(c["case_id"]),
                           classname="apmsock.%s.%s.%s.%s" % (impl, run["suite"], run["profile"], fam))
        if c.get("duration_s") is not None:
            tc.set("time", "%.6f" % c["duration_s"])
            total += c["duration_s"]
        _props(tc, [("clause", c["clause"]), ("level", c.get("level") or "MUST"),
                    ("verdict", c["verdict"]), ("mode", c.get("mode")), ("signal", c.get("signal"))])
        counts["tests"] += 1
        kind = JUNIT[c["verdict"]]
        if kind:
            msg = c.get("message") or c["verdict"]
            el = ET.SubElement(tc, kind, message=_clean(msg))
            if kind != "skipped":
                el.set("type", c.get("mode") or c["verdict"].lower())
                el.text = _clean("%s %s%s: %s" % (c["verdict"], c.get("mode") or "",
                                                 " (%s)" % c["signal"] if c.get("signal") else "", msg))
            counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[kind]] += 1
        ev = _evidence_text(c)
        if ev:
            ET.SubElement(tc, "system-out").text = ev
        stderr = (c.get("evidence") or {}).get("stderr")
        if stderr:
            ET.SubElement(tc, "system-err").text = _clean(stderr[-EVIDENCE_CAP:])
    for el in (root, suite):
        for k, v in counts.items():
            el.set(k, str(v))
        el.set("time", "%.6f" % (run.get("duration_s") or total))
    if run.get("started"):
        suite.set("timestamp", run["started"])
    return ET.ElementTree(root)


def file_name(run):
    """<suite>-<impl>-<profile>.xml: the name the harness runner writes its own JUnit under."""
    return "%s-%s-%s.xml" % (run["suite"], run["implementation"]["id"], run["profile"])


def disagreements(path, run):
    """Where a producer's JUnit and the run file disagree: a missing case, or an outcome
    element that does not fit the run's verdict (FAIL -> failure, ERROR -> error, ...)."""
    try:
        tcs = list(ET.parse(path).getroot().iter("testcase"))
    except (OSError, ET.ParseError) as e:
        return ["%s: %s" % (path, e)]
    verdicts = {c["case_id"]: c["verdict"] for c in run["cases"]}
    seen, out = set(), []
    for tc in tcs:
        props = {p.get("name"): p.get("value") for p in tc.findall("properties/property")}
        cid = props.get("case_id") or tc.get("name")
        if cid not in verdicts:
            continue
        seen.add(cid)
        want = JUNIT[verdicts[cid]]
        have = [k for k in ("failure", "error", "skipped") if tc.find(k) is not None]
        if have != ([want] if want else []):
            out.append("%s: verdict %s but %s" % (cid, verdicts[cid], have or "no outcome element"))
    missing = set(verdicts) - seen
    if missing:
        out.append("%d case(s) of the run missing, e.g. %s" % (len(missing), sorted(missing)[0]))
    return out


def ensure(run, junit_dir):
    """The run's JUnit file: a producer's file is kept when it is valid and complete,
    otherwise (re)written from the run file. Returns (path, what was done)."""
    path = os.path.join(junit_dir, file_name(run))
    if os.path.exists(path):
        errs = validate(path) or disagreements(path, run)
        if not errs:
            return path, "kept"
        write(run, junit_dir)
        return path, "rewritten from the run file (%s)" % "; ".join(errs[:3])
    write(run, junit_dir)
    return path, "written"


def write(run, junit_dir):
    os.makedirs(junit_dir, exist_ok=True)
    path = os.path.join(junit_dir, file_name(run))
    tree = build(run)
    ET.indent(tree, space=" ")
    write_file(path, ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=True) + "\n")
    return path


def validate(path):
    """Errors (strings) of one JUnit file: the XSD, then the rules the XSD cannot say."""
    errors = []
    try:
        from lxml import etree as LET
    except ImportError:  # python3-lxml comes with gcovr; without it only the rules below run
        LET = None
    if LET is not None:
        schema = LET.XMLSchema(LET.parse(XSD_PATH))
        try:
            doc = LET.parse(path)
        except (OSError, LET.XMLSyntaxError) as e:
            return ["%s: not XML: %s" % (path, e)]
        if not schema.validate(doc):
            errors += ["%s:%d: %s" % (path, e.line, e.message) for e in schema.error_log]
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        return errors or ["%s: not XML: %s" % (path, e)]
    for tc in root.iter("testcase"):
        where = "%s: testcase %r" % (path, tc.get("name"))
        props = {p.get("name"): p.get("value") for p in tc.findall("properties/property")}
        for k in ("clause", "level"):
            if not props.get(k):
                errors.append("%s has no property %s" % (where, k))
        verdict = props.get("verdict")
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
        raise ReportError("JUnit files not valid against harness/report/junit.xsd:\n  " + "\n  ".join(errs[:20]))
