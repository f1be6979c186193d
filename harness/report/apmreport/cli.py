"""Command line of the report step. Exit codes follow docs/DESIGN.md section 4:
0 match, 1 regression, 2 only unexpected passes, 3 harness error (broken input), 4 usage."""

import argparse
import glob
import os
import re
import subprocess
import sys

from . import ReportError, checkxml, gate, junit, merge, runfiles
from .catalogue import Baseline, Catalogue
# The pages' modules (Jinja2 and its templates) are imported by the commands
# that render: `combine` and `convert-check` run in every `make conformance`
# and need none of them (~0.15 s of imports each time).
from apmsock_harness import baseline as harness_baseline
from apmsock_harness.files import write_file


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("apm-report: usage error: %s\n" % message)
        sys.exit(gate.EXIT_USAGE)


def _catalogue(path, runs):
    if path and os.path.exists(path):
        cat = Catalogue.load(path)
    else:
        if path:
            sys.stderr.write("apm-report: warning: %s not found; clauses listed without sentences\n" % path)
        cat = Catalogue.from_runs(runs)
    missing = cat.add_uncatalogued(runs)
    if missing:
        sys.stderr.write("apm-report: warning: runs cite clauses missing from the catalogue: %s\n"
                         % ", ".join(missing))
    return cat


def contract_version(header="reference/include/apmsock.h"):
    try:
        with open(header, encoding="utf-8") as f:
            m = re.search(r'#define\s+APMSOCK_CONTRACT_VERSION\s+"([^"]+)"', f.read())
            return m.group(1) if m else None
    except OSError:
        return None


def suite_version():
    """The suite is this repository: its revision names the suite's version."""
    try:
        p = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], capture_output=True,
                           text=True, timeout=10, cwd=os.path.dirname(os.path.abspath(__file__)))
        return p.stdout.strip() or None if p.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _write(path, text):
    write_file(path, text)


def cmd_convert_check(a):
    paths = []
    for p in a.xml:
        hits = sorted(glob.glob(p))
        if not hits:
            raise ReportError("%s: no such Check XML file (did the C suite run?)" % p)
        paths += hits
    if len(paths) > 1:
        foreign = [p for p in paths if checkxml.is_junit(p)]
        if foreign and len(foreign) < len(paths):
            sys.stderr.write("apm-report: skipping JUnit (not Check) files: %s\n" % ", ".join(foreign))
            paths = [p for p in paths if p not in foreign]
    cat = Catalogue.load(a.catalogue) if a.catalogue and os.path.exists(a.catalogue) else None
    run = checkxml.convert(paths, a.impl, a.name, a.version, cat,
                           contract_version=contract_version(a.header),
                           expect_list=a.expect_list, info_log=a.info_log)
    if a.library:
        run["implementation"]["library"] = a.library
    bl = Baseline.load(a.baseline) if a.baseline else Baseline([], None)
    refused = harness_baseline.refuse_placeholders(bl.entries, a.baseline) if a.baseline else None
    if refused:
        sys.stderr.write("apm-report: usage error: %s\n" % refused)
        return gate.EXIT_USAGE
    code = gate.evaluate(run, bl)
    runfiles.validate_run(run, a.out)
    runfiles.write_json(a.out, run)
    g = run["gate"]
    diffs = g["differences"]
    print("apm-report: %s: %d case(s), gate %s%s%s" % (
        a.out, len(run["cases"]), g["status"],
        "".join("\n  %s: expected %s, got %s" % (d["case_id"], d["expected"], d["actual"]) for d in diffs[:30]),
        "\n  ... and %d more (reports/findings.html)" % (len(diffs) - 30) if len(diffs) > 30 else ""))
    return code


def build_reports(reports, catalogue_path=None, baselines_dir=None, compare_path=None,
                  reference="reference", generated=None, header="reference/include/apmsock.h",
                  baseline_files=None, peers_path="fixtures/peers.yaml"):
    from . import html_clauses, html_compare, html_differences, html_evidence, html_findings, html_index, html_peers
    from .compare import compare, summary_text
    from .model import Matrix
    runs = runfiles.load_runs(os.path.join(reports, "runs"))
    try:
        peers = html_peers.load(peers_path)
    except html_peers.PeersError as e:
        raise ReportError(str(e))
    cat = _catalogue(catalogue_path, runs)
    rev = suite_version()
    doc = runfiles.merge(runs, cat, contract_version=contract_version(header), generated=generated,
                         suite_version=None if any(r.get("suite_version") for r in runs) else rev,
                         suite_revision=rev, owned=True)
    baselines = {}  # read before anything is written: a broken baseline leaves no half report
    for r in doc["runs"]:
        impl = r["implementation"]["id"]
        if impl not in baselines:
            given = (baseline_files or {}).get(impl)   # an implementation outside the suite
            baselines[impl] = (Baseline.load(given) if given else
                               Baseline.load(os.path.join(baselines_dir, impl + ".yaml"))
                               if baselines_dir else Baseline([], None))
    runfiles.write_json(os.path.join(reports, "results.json"), doc)
    jpaths = []
    for r in doc["runs"]:
        path, _ = junit.ensure(r, os.path.join(reports, "junit"))
        jpaths.append(path)
    junit.check(jpaths)
    m = Matrix(doc, cat, reference)
    for r in doc["runs"]:
        _write(os.path.join(reports, "evidence", runfiles.run_stem(r) + ".html"),
               html_evidence.render(r, cat, baselines.get(r["implementation"]["id"])))
    _write(os.path.join(reports, "clauses.html"), html_clauses.render(cat))
    _write(os.path.join(reports, "findings.html"), html_findings.render(m, baselines))
    _write(os.path.join(reports, "differences.html"), html_differences.render(m, baselines))
    _write(os.path.join(reports, "peers.html"), html_peers.render(
        m, baselines, peers, os.path.join(os.path.dirname(peers_path or ""), "cases")))
    comp = None
    if compare_path:
        old = runfiles.load_json(compare_path)
        runfiles.validate_results(old, compare_path)
        res = compare(old, doc)
        _write(os.path.join(reports, "compare.html"),
               html_compare.render(res, compare_path, old["generated"], doc["generated"]))
        comp = {"old": compare_path, "text": summary_text(res), "result": res}
    _write(os.path.join(reports, "index.html"), html_index.render(m, comp, reports))
    return doc, m, comp


def cmd_build(a):
    files = {}
    for tok in a.baseline or []:
        impl, sep, path = tok.partition("=")
        if not sep or not impl or not path:
            raise ReportError("build: --baseline %r is not IMPL=PATH" % tok)
        files[impl] = path
    doc, m, comp = build_reports(a.reports, a.catalogue, a.baselines, a.compare, a.reference,
                                 baseline_files=files, peers_path=a.peers)
    print("apm-report: %s/index.html: %d run(s), %d implementation(s), %d clause(s)"
          % (a.reports, len(doc["runs"]), len(m.impls), len(m.catalogue.clauses)))
    if comp:
        from .compare import text as compare_text
        print(compare_text(comp["result"], a.compare))
    return 0


def cmd_compare(a):
    from .compare import compare, text as compare_text
    old, new = runfiles.load_json(a.old), runfiles.load_json(a.new)
    runfiles.validate_results(old, a.old)
    runfiles.validate_results(new, a.new)
    print(compare_text(compare(old, new), a.old))
    return 0


def cmd_validate(a):
    for p in a.files:
        if p.endswith(".xml"):
            junit.check([p])
        else:
            doc = runfiles.load_json(p)
            if "runs" in doc:
                runfiles.validate_results(doc, p)
            else:
                runfiles.validate_run(doc, p)
        print("apm-report: %s: valid" % p)
    return 0


def cmd_merge(a):
    runs = [runfiles.load_run(p) for p in a.runs]
    run = merge.merge(runs, a.runs)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    bpath = merge.baseline_of(runs, root, a.baseline)
    label = a.baseline or next(((r.get("gate") or {}).get("baseline") for r in runs
                                if (r.get("gate") or {}).get("baseline")), None)
    refused, code = merge.gate(run, bpath, label)
    if refused:
        sys.stderr.write("apm-report: usage error: %s\n" % refused)
        return code
    out = a.out or os.path.join(a.reports, "runs" if "partial" not in run else "partial",
                                runfiles.run_stem(run) + (".merged" if "partial" in run else "") + ".json")
    runfiles.validate_run(run, out)
    runfiles.write_json(out, run)
    counts = {}
    for c in run["cases"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    print("apm-report: merged %d run(s) into %s: %d cases (%s)%s, gate %s" % (
        len(runs), out, len(run["cases"]), ", ".join("%d %s" % (n, v) for v, n in sorted(counts.items())),
        "; partial: " + run["partial"]["selection"] if "partial" in run else "", run["gate"]["status"]))
    for d in run["gate"]["differences"][:30]:
        print("  %s: expected %s, got %s" % (d["case_id"], d["expected"], d["actual"]))
    inter = run["gate"]["intermittent"]
    if inter:
        print("apm-report: intermittent, as expected: %d case(s): %s" % (
            len(inter), ", ".join("%s (%s)" % (i["case_id"], i["actual"]) for i in inter)))
    return code


MEANING = {0: "match", 1: "regression", 2: "only unexpected passes", 3: "harness error", 4: "usage error"}


def cmd_combine(a):
    steps = {}
    for tok in a.steps:
        name, _, code = tok.rpartition("=")
        try:
            steps[name or "step%d" % (len(steps) + 1)] = int(code)
        except ValueError:
            raise ReportError("combine: %r is not NAME=CODE" % tok)
    code = gate.combine(steps.values())
    if a.write:
        runfiles.write_json(a.write, {"implementation": a.impl, "exit": code, "meaning": MEANING[code],
                                      "steps": steps, "generated": runfiles.now_utc()})
    print("gate%s: exit %d (%s); steps: %s" % (" for " + a.impl if a.impl else "", code, MEANING[code],
                                              ", ".join("%s=%d" % kv for kv in steps.items()) or "none"))
    return code


def main(argv=None):
    p = _Parser(prog="apm-report", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    c = sub.add_parser("convert-check", help="Check XML of the C suite -> a run file, gated on the baseline")
    c.add_argument("xml", nargs="+", help="Check XML file(s) or globs")
    c.add_argument("--impl", required=True)
    c.add_argument("--name")
    c.add_argument("--version")
    c.add_argument("--library", help="the library the suite was linked against (for the reproducer)")
    c.add_argument("--out", required=True)
    c.add_argument("--catalogue", default="fixtures/clauses.yaml")
    c.add_argument("--baseline")
    c.add_argument("--header", default="reference/include/apmsock.h")
    c.add_argument("--expect-list", help="the runner's --list output: tests missing from the log become ERROR")
    c.add_argument("--info-log", help="lines 'INFO <clause> <test>: text' attached to each case's evidence")
    c.set_defaults(fn=cmd_convert_check)
    b = sub.add_parser("build", help="reports/runs/*.json -> results.json, JUnit, HTML")
    b.add_argument("--reports", default="reports")
    b.add_argument("--catalogue", default="fixtures/clauses.yaml")
    b.add_argument("--baselines", default="fixtures/baselines")
    b.add_argument("--compare", metavar="OLD_RESULTS_JSON")
    b.add_argument("--baseline", action="append", metavar="IMPL=PATH",
                   help="the baseline of an implementation outside the suite (repeatable)")
    b.add_argument("--reference", default="reference")
    b.add_argument("--peers", default="fixtures/peers.yaml",
                   help="the peer-suite map for peers.html (a missing file: the page says so)")
    b.set_defaults(fn=cmd_build)
    k = sub.add_parser("compare", help="old results.json vs new: new failures, new passes, changed modes")
    k.add_argument("old")
    k.add_argument("new")
    k.set_defaults(fn=cmd_compare)
    v = sub.add_parser("validate", help="check run files, results.json (schema) or JUnit XML (XSD)")
    v.add_argument("files", nargs="+")
    v.set_defaults(fn=cmd_validate)
    mg = sub.add_parser("merge", help="shard runs (conform --shard K/N) -> the one run they are parts of, gated again")
    mg.add_argument("runs", nargs="+", help="the shards' run files")
    mg.add_argument("--out", help="default REPORTS/runs/<impl>-<suite>-<profile>.json when the shards are "
                    "complete, else REPORTS/partial/<...>.merged.json")
    mg.add_argument("--reports", default=os.environ.get("REPORTS", "reports"))
    mg.add_argument("--baseline", help="gate on this baseline (default: the one the shards were gated on)")
    mg.set_defaults(fn=cmd_merge)
    g = sub.add_parser("combine", help="one exit code for several steps' exit codes")
    g.add_argument("steps", nargs="*", help="NAME=CODE per step (or bare codes)")
    g.add_argument("--write", metavar="GATE_JSON")
    g.add_argument("--impl")
    g.set_defaults(fn=cmd_combine)
    a = p.parse_args(argv)
    try:
        return a.fn(a)
    except ReportError as e:
        sys.stderr.write("apm-report: error: %s\n" % e)
        return gate.EXIT_HARNESS
