#!/usr/bin/python3
"""Checks the C suite's Check XML log for completeness and writes the run's JUnit XML.

    check2junit.py [--impl NAME] [--library PATH] [--tap FILE] [--list FILE] [--clauses YAML]
                   [--info FILE] CHECK_XML [JUNIT_XML]

The JUnit is the one every apmsock run has (harness/report/apmreport/junit.py, from the
run that harness/report/apmreport/checkxml.py makes of the Check log): testcase name =
the case ID (CONN-07[udp_v6]), classname = apmsock.<impl>.c.documented.<FAMILY>, an
assertion failure -> <failure>, a crash (signal), timeout or early exit (e.g. a sanitizer
report) -> <error>, with the reproducer command in the body. Without JUNIT_XML (sanitizer
runs: self-test output, not a run to report) only the checks run.
--tap cross-checks the TAP log of the same run; --list (the output of
`apmsock-conformance --list`) checks that no test is missing, so a run that died half way
is an error, not a shorter pass.
Exit status: 0 converted, 3 the log is missing, unreadable or incomplete.
read_check() and mode_of() are stdlib only (fixtures/faulty/check-faulty.py uses them).
"""
import argparse
import os
import re
import signal
import sys
import xml.etree.ElementTree as ET

NS = "{http://check.sourceforge.net/ns}"
SIGNAL_RE = re.compile(r"Received signal (\d+) \(([^)]*)\)")
REPORT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "harness", "report")


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
    ap.add_argument("--impl", default="reference")
    ap.add_argument("--library", help="the library the suite was linked against (for the reproducer)")
    ap.add_argument("--tap")
    ap.add_argument("--list")
    ap.add_argument("--clauses")
    ap.add_argument("--info", help="the INFO log of the run (recorded lines go to each case's evidence)")
    ap.add_argument("check_xml")
    ap.add_argument("junit_xml", nargs="?")
    args = ap.parse_args()
    try:
        tests = read_check(args.check_xml)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 3
    problems = []
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
    failures = sum(t["result"] == "failure" for t in tests)
    errors = sum(t["result"] not in ("success", "failure") for t in tests)
    if args.junit_xml:
        sys.path.append(REPORT)
        from apmreport import ReportError, catalogue, checkxml, junit
        try:
            cat = catalogue.Catalogue.load(args.clauses) if args.clauses else None
            run = checkxml.convert([args.check_xml], args.impl, catalogue=cat, expect_list=args.list,
                                   info_log=args.info if args.info and os.path.exists(args.info) else None)
        except ReportError as exc:
            print(f"check2junit: {exc}", file=sys.stderr)
            return 3
        if args.library:
            run["implementation"]["library"] = args.library
        junit.write_to(run, args.junit_xml)
    for p in problems:
        print(f"check2junit: {p}", file=sys.stderr)
    print(f"check2junit: {len(tests)} tests, {failures} failures, {errors} errors"
          + (f" -> {args.junit_xml}" if args.junit_xml else ""))
    return 3 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
