#!/usr/bin/python3
"""Converts the Check XML log of the C suite into JUnit XML.

    check2junit.py [--suite NAME] [--tap FILE] [--list FILE] [--clauses YAML] CHECK_XML JUNIT_XML

One <testcase> per Check test: name = the test function (test_CONN_07_udp_v6_send_to),
classname = apmsock.<suite>.<TCase>, properties clause (CONN-07), level (MUST/SHOULD/INFO,
from the catalogue fixtures/clauses.yaml when given), family, mode and signal.
An assertion failure becomes <failure>; a crash (signal), a timeout or an early exit
(e.g. a sanitizer report) becomes <error>.  --tap cross-checks the TAP log of the same
run; --list (the output of `apmsock-conformance --list`) checks that no test is missing,
so a run that died half way is an error, not a shorter pass.
Exit status: 0 converted, 3 the log is missing, unreadable or incomplete.  Stdlib only.
"""
import argparse
import re
import signal
import sys
import xml.etree.ElementTree as ET

NS = "{http://check.sourceforge.net/ns}"
NAME_RE = re.compile(r"^test_([A-Z]+)_(\d+)_")
SIGNAL_RE = re.compile(r"Received signal (\d+) \(([^)]*)\)")


def clause_of(name):
    m = NAME_RE.match(name)
    return f"{m.group(1)}-{m.group(2)}" if m else ""


def mode_of(result, message):
    """(mode, signal) of a Check result."""
    if result == "success":
        return "", ""
    m = SIGNAL_RE.search(message)
    if m:
        try:
            name = signal.Signals(int(m.group(1))).name
        except ValueError:
            name = m.group(2) or m.group(1)
        return "crash", name
    if "timeout" in message.lower():
        return "timeout", ""
    if result == "error":
        return "exit", ""
    return "assertion", ""


def read_check(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise SystemExit(f"check2junit: cannot read {path}: {exc}") from None
    tests = []
    for suite in root.iter(NS + "suite"):
        for t in suite.iter(NS + "test"):
            def text(tag):
                el = t.find(NS + tag)
                return (el.text or "") if el is not None else ""
            dur = text("duration")
            try:
                seconds = max(float(dur), 0.0)
            except ValueError:
                seconds = 0.0
            tests.append({
                "name": text("id"),
                "tcase": text("description"),
                "where": f"{text('path')}/{text('fn')}",
                "result": t.get("result", "error"),
                "message": text("message"),
                "time": seconds,
            })
    return tests


def read_levels(path):
    """{clause id: level} from the catalogue; a plain line scan (stdlib only)
    of its records: `- id: X` followed, within the record, by `level: Y`."""
    levels, current = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*-\s+id:\s*([A-Z]+-\d+)\s*$", line)
            if m:
                current = m.group(1)
                continue
            m = re.match(r"^\s+level:\s*([A-Z]+)\s*$", line)
            if m and current and current not in levels:
                levels[current] = m.group(1)
    return levels


def read_skips(path):
    """{test name: reason} from the INFO log: a test that could not run in
    this environment (e.g. no network namespace) passes in Check and says
    `INFO <clause> <test>: SKIP: <reason>`."""
    out = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"^INFO \S+ (\S+): SKIP: (.*)$", line.rstrip("\n"))
                if m:
                    out[m.group(1)] = m.group(2)
    except FileNotFoundError:
        pass
    return out


def read_tap(path):
    """{test name: ok?} from Check's TAP log."""
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^(ok|not ok) \d+ - [^:]*:[^:]*:([^:]+):", line)
            if m:
                out[m.group(2)] = m.group(1) == "ok"
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", default="c")
    ap.add_argument("--tap")
    ap.add_argument("--list")
    ap.add_argument("--clauses")
    ap.add_argument("--info", help="the INFO log of the run: its SKIP lines mark tests skipped")
    ap.add_argument("check_xml")
    ap.add_argument("junit_xml")
    args = ap.parse_args()
    try:
        tests = read_check(args.check_xml)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 3
    problems = []
    levels = read_levels(args.clauses) if args.clauses else {}
    skipped = read_skips(args.info) if args.info else {}
    if args.list:
        with open(args.list, encoding="utf-8") as f:
            wanted = [line.split("\t")[-1].strip() for line in f if line.strip()]
        missing = sorted(set(wanted) - {t["name"] for t in tests})
        if missing:
            problems.append(f"{len(missing)} tests missing from the log, e.g. {missing[:3]}")
    if args.tap:
        tap = read_tap(args.tap)
        for t in tests:
            ok = t["result"] == "success"
            if tap.get(t["name"], ok) != ok:
                problems.append(f"{t['name']}: XML and TAP disagree")

    root = ET.Element("testsuites", name=f"apmsock-{args.suite}")
    failures = sum(t["result"] == "failure" for t in tests)
    errors = sum(t["result"] not in ("success", "failure") for t in tests)
    nskipped = sum(t["result"] == "success" and t["name"] in skipped for t in tests)
    ts = ET.SubElement(root, "testsuite", name=f"apmsock.{args.suite}", tests=str(len(tests)),
                       failures=str(failures), errors=str(errors), skipped=str(nskipped),
                       time=f"{sum(t['time'] for t in tests):.6f}")
    for t in tests:
        mode, sig = mode_of(t["result"], t["message"])
        tc = ET.SubElement(ts, "testcase", name=t["name"],
                           classname=f"apmsock.{args.suite}.{t['tcase']}",
                           time=f"{t['time']:.6f}")
        props = ET.SubElement(tc, "properties")
        clause = clause_of(t["name"])
        for key, value in (("clause", clause), ("level", levels.get(clause, "")),
                           ("family", t["tcase"]),
                           ("mode", mode), ("signal", sig), ("where", t["where"])):
            if value:
                ET.SubElement(props, "property", name=key, value=value)
        if t["result"] == "success" and t["name"] in skipped:
            ET.SubElement(tc, "skipped", message=skipped[t["name"]])
        elif t["result"] == "failure":
            el = ET.SubElement(tc, "failure", message=t["message"], type="assertion")
            el.text = f"{t['where']}: {t['message']}"
        elif t["result"] != "success":
            el = ET.SubElement(tc, "error", message=t["message"], type=mode)
            el.text = f"{t['where']}: {t['message']}"
    ET.ElementTree(root).write(args.junit_xml, encoding="utf-8", xml_declaration=True)
    for p in problems:
        print(f"check2junit: {p}", file=sys.stderr)
    print(f"check2junit: {len(tests)} tests, {failures} failures, {errors} errors -> {args.junit_xml}")
    return 3 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
