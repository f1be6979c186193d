"""Read, check and merge run files (reports/runs/<impl>-<suite>-<profile>.json)."""

import copy
import datetime
import glob
import json
import os

from apmsock_harness.files import write_file

from . import SCHEMA_VERSION, ReportError

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA_PATH = os.path.join(HERE, "results.schema.json")

_schema_cache = {}


def schema():
    if "root" not in _schema_cache:
        with open(SCHEMA_PATH, encoding="utf-8") as f:
            _schema_cache["root"] = json.load(f)
    return _schema_cache["root"]


def _validator(ref):
    # imported here: it is needed only to explain a file fastjsonschema
    # refused (or without fastjsonschema), and its import is ~0.2 s of a
    # report build's ~1 s
    import jsonschema
    root = schema()
    sub = {"$schema": root["$schema"], "$defs": root["$defs"], "$ref": ref}
    return jsonschema.Draft202012Validator(root if ref == "#" else sub)


def _fast_validator(ref):
    """The schema compiled to Python by fastjsonschema: a run file of the
    whole harness takes 11 ms against jsonschema's 140, and a report build
    checks every run file.  fastjsonschema knows drafts up to 7, so it gets
    the schema without its 2020-12 "$schema"; the schema uses no keyword whose
    meaning changed between the two (no "$ref" beside other keywords, no
    "prefixItems" or "unevaluated*"), and tests/test_schema.py holds both
    validators to the same verdicts."""
    key = ("fast", ref)
    if key not in _schema_cache:
        # a copy (the compiler annotates what it is given), without "$id"
        # too: every "$ref" is local, and with the id it fetched the URL
        root = {k: v for k, v in copy.deepcopy(schema()).items() if k not in ("$schema", "$id")}
        _schema_cache[key] = _fastjsonschema().compile(root if ref == "#" else
                                                    {"$defs": root["$defs"], "$ref": ref})
    return _schema_cache[key]


def _fastjsonschema():
    """The module, or None (jsonschema alone gives the same verdicts, about
    13x slower).  Imported on first use: `combine` never validates."""
    if "fastjsonschema" not in _schema_cache:
        try:
            import fastjsonschema
        except ImportError:
            fastjsonschema = None
        _schema_cache["fastjsonschema"] = fastjsonschema
    return _schema_cache["fastjsonschema"]


def _errors(doc, ref):
    fastjsonschema = _fastjsonschema()
    if fastjsonschema is not None:
        try:
            _fast_validator(ref)(doc)
            return []
        except fastjsonschema.JsonSchemaException:
            pass  # jsonschema says where and why
    errs = sorted(_validator(ref).iter_errors(doc), key=lambda e: list(e.absolute_path))
    out = []
    for e in errs[:10]:
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        out.append("  at %s: %s" % (where, e.message))
    if len(errs) > 10:
        out.append("  ... and %d more" % (len(errs) - 10))
    return out


def validate_run(run, source="run"):
    errs = _errors(run, "#/$defs/run")
    if errs:
        raise ReportError("%s: not a valid run file (harness/report/results.schema.json):\n%s"
                          % (source, "\n".join(errs)))
    _unique_case_ids(run, source)


def _unique_case_ids(run, source):
    seen = set()
    for c in run["cases"]:
        if c["case_id"] in seen:
            raise ReportError("%s: case_id %r appears twice; case ids are unique in a run"
                              % (source, c["case_id"]))
        seen.add(c["case_id"])


def validate_results(doc, source="results.json"):
    errs = _errors(doc, "#")
    if errs:
        raise ReportError("%s: not valid against harness/report/results.schema.json:\n%s"
                          % (source, "\n".join(errs)))
    for r in doc["runs"]:
        _unique_case_ids(r, source)  # the schema checked each run already


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise ReportError("%s: cannot read: %s" % (path, e.strerror))
    except json.JSONDecodeError as e:
        raise ReportError("%s: not JSON: %s (line %d column %d)" % (path, e.msg, e.lineno, e.colno))
    except UnicodeDecodeError as e:
        raise ReportError("%s: not UTF-8: %s" % (path, e))


def load_run(path):
    run = load_json(path)
    validate_run(run, path)
    return run


def run_key(run):
    return (run["implementation"]["id"], run["suite"], run["profile"])


def run_stem(run):
    """The file stem a run is known by everywhere: <impl>-<suite>-<profile>."""
    return "%s-%s-%s" % run_key(run)


def _impl_order(impl_id, reference):
    return (0 if impl_id == reference else 1, impl_id)


def sort_runs(runs, reference="reference"):
    suites = {"c": 0, "harness": 1}
    profiles = {"documented": 0, "portable": 1}
    return sorted(runs, key=lambda r: (_impl_order(r["implementation"]["id"], reference),
                                       suites[r["suite"]], profiles[r["profile"]]))


def load_runs(runs_dir):
    """Every *.json in runs_dir; a broken file is an error, never silently skipped."""
    paths = sorted(glob.glob(os.path.join(runs_dir, "*.json")))
    runs = []
    keys = {}
    for p in paths:
        r = load_run(p)
        k = run_key(r)
        if k in keys:
            raise ReportError("%s and %s are the same run (%s); remove one"
                              % (keys[k], p, "-".join(k)))
        keys[k] = p
        runs.append(r)
    return runs


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge(runs, catalogue=None, suite_version=None, contract_version=None, generated=None,
          suite_revision=None, owned=False):
    """The reports/results.json document: every run, levels filled in from
    the catalogue.  owned: the runs are the caller's to give away (a report
    build that just read and checked them), so they are neither copied nor
    the result checked again: a copy and a check of the whole document were
    0.35 s of each build, and tests/test_junit.py validates a built file."""
    if not owned:
        runs = [json.loads(json.dumps(r)) for r in runs]  # never modify the caller's data
    # The C suite knows only the id it was given; the adapter's hello knows name and version.
    known = {}
    for r in runs:
        impl = r["implementation"]
        if impl.get("name") and impl.get("name") != impl["id"]:
            known.setdefault(impl["id"], impl)
    for r in runs:
        impl, k = r["implementation"], known.get(r["implementation"]["id"])
        if k is not None:
            for f in ("name", "version"):
                if not impl.get(f) or impl.get(f) == impl["id"]:
                    impl[f] = k.get(f)
    for r in runs:
        for c in r["cases"]:
            if not c.get("level") and catalogue and c["clause"] in catalogue.clauses:
                c["level"] = catalogue.clauses[c["clause"]]["level"]
    sv = suite_version or _first(runs, "suite_version") or "unknown"
    cv = contract_version or _first(runs, "contract_version") or "unknown"
    doc = {"schema_version": SCHEMA_VERSION, "suite_version": sv, "contract_version": cv,
           "generated": generated or now_utc(), "runs": sort_runs(runs)}
    if suite_revision:
        doc["suite_revision"] = suite_revision
    if not owned:
        validate_results(doc)
    return doc


def _first(runs, key):
    for r in runs:
        if r.get(key):
            return r[key]
    return None


def write_json(path, doc):
    # No indent: with one, json uses its pure-Python encoder, which took 0.6 s
    # of a report build over the three implementations' evidence; the file is
    # for programs (jq reads it either way), the HTML pages for people.
    write_file(path, json.dumps(doc) + "\n")
