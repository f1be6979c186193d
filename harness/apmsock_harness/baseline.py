"""Baselines (fixtures/baselines/<impl>.yaml) and the gate.

    implementation: mono
    expected:
      - case_id: "SIZE-01[udp-v4]"    # or clause: SIZE-01 (all its cases)
        verdict: NON-STRICT
        mode: null                    # optional; compared when given
        profile: documented           # optional; default: both profiles
        suite: harness                # optional; entries for suite c are ignored here
        reason: "Mono throws MessageSize from BeginSendTo"
      - case_id: "CANCEL-04[every_pending_completes-v4-send_to]"
        verdict: [FAIL, PASS]           # intermittent: any of these matches
        reason: "..."

Also read, so that every tool that reads baselines accepts the same files: a
bare list of entries, the list under `cases`, `baseline` or `entries` instead
of `expected`, `case` for `case_id`, and a mapping case_id -> entry:

    "CONN-07[no_bind-v4]": {verdict: FAIL, mode: assertion, reason: "..."}

The gate passes when results equal the baseline: a non-PASS verdict not
listed, a listed case with another verdict or mode (regression), and a listed
case that passes (unexpected pass) all fail it.  harness/conform and the
report step (harness/report, the C suite's run) both gate with compare().
"""
import yaml

from .verdict import VERDICTS, MODES

# Exit codes of docs/DESIGN.md section 4, for every tool that gates a run.
EXIT_MATCH, EXIT_REGRESSION, EXIT_UNEXPECTED_PASS, EXIT_HARNESS, EXIT_USAGE = 0, 1, 2, 3, 4
EXIT = {"match": EXIT_MATCH, "regression": EXIT_REGRESSION, "unexpected_pass": EXIT_UNEXPECTED_PASS}

_LIST_KEYS = ("expected", "cases", "baseline", "entries")
# Top-level keys of the mapping shape that describe the file, not a case.
_META_KEYS = ("implementation", "impl", "profile", "suite", "version")


class BaselineError(Exception):
    pass


def _entries(doc, path):
    """The entries of any accepted shape, as a list (not yet checked)."""
    if doc is None:
        return []
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        raise BaselineError("%s: expected a mapping with 'expected'" % path)
    for key in _LIST_KEYS:
        if key in doc:
            entries = doc[key] or []
            break
    else:
        entries = {k: v for k, v in doc.items() if k not in _META_KEYS}
    if isinstance(entries, dict):
        for k, v in entries.items():
            if v is not None and not isinstance(v, dict):
                raise BaselineError("%s: %s: expected a mapping {verdict, mode?, reason}, got %r"
                                    % (path, k, v))
        entries = [dict(v or {}, case_id=k) for k, v in entries.items()]
    if not isinstance(entries, list):
        raise BaselineError("%s: 'expected' must be a list" % path)
    out = []
    for e in entries:
        if isinstance(e, dict) and "case" in e and "case_id" not in e:
            e = {("case_id" if k == "case" else k): v for k, v in e.items()}
        out.append(e)
    return out


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except FileNotFoundError:
        raise BaselineError("%s: no such baseline" % path)
    except OSError as e:
        raise BaselineError("%s: cannot read: %s" % (path, e.strerror))
    except yaml.YAMLError as e:
        raise BaselineError("%s: not YAML: %s" % (path, e))
    entries = _entries(doc, path)
    for i, e in enumerate(entries):
        where = "%s: entry %d" % (path, i + 1)
        if not isinstance(e, dict):
            raise BaselineError("%s: must be a mapping" % where)
        if not e.get("case_id") and not e.get("clause"):
            raise BaselineError("%s: names no case_id or clause (give exactly one of case_id or clause)"
                                % where)
        if e.get("case_id") and e.get("clause"):
            raise BaselineError("%s: names both case_id and clause (give exactly one of case_id or clause)"
                                % where)
        # An intermittent finding lists every verdict it may take
        # (`verdict: [FAIL, PASS]`); PASS is allowed only in such a list.
        vs = e.get("verdict") if isinstance(e.get("verdict"), list) else [e.get("verdict")]
        if not vs or any(v not in VERDICTS for v in vs) or vs == ["PASS"]:
            raise BaselineError("%s (%s): verdict must be one of %s, or a list of verdicts"
                                % (where, e.get("case_id") or e.get("clause"),
                                   ", ".join(v for v in VERDICTS if v != "PASS")))
        if "mode" in e and e["mode"] not in MODES:
            raise BaselineError("%s: unknown mode %r" % (where, e["mode"]))
        if not e.get("reason"):
            raise BaselineError("%s (%s): every expected verdict needs a reason"
                                % (where, e.get("case_id") or e.get("clause")))
        if e.get("profile") not in (None, "documented", "portable"):
            raise BaselineError("%s: unknown profile %r" % (where, e["profile"]))
    return entries


def expected_for(entries, case_id, clause, profile, suite="harness"):
    """The entry that applies to a case: an exact case_id wins over a clause."""
    found = None
    for e in entries:
        if e.get("suite", suite) != suite:
            continue
        if e.get("profile") not in (None, profile):
            continue
        if e.get("case_id") == case_id:
            return e
        if e.get("clause") == clause and found is None:
            found = e
    return found


def compare(cases, entries, profile, suite="harness"):
    """cases: result records (case_id, clause, verdict, mode).  Returns
    (status, differences); status is match, regression or unexpected_pass."""
    diffs = []
    regression = unexpected = False
    for c in cases:
        e = expected_for(entries, c["case_id"], c["clause"], profile, suite)
        actual = c["verdict"] + ("/" + c["mode"] if c.get("mode") else "")
        if e is None:
            if c["verdict"] != "PASS":
                regression = True
                diffs.append({"case_id": c["case_id"], "expected": "PASS", "actual": actual,
                              "reason": "new non-PASS verdict: " + (c.get("message") or "")[:200]})
            continue
        if isinstance(e["verdict"], list):
            # intermittent: any listed verdict matches (the mode, when
            # given, applies to the non-PASS ones)
            if c["verdict"] not in e["verdict"] or (c["verdict"] != "PASS" and "mode" in e
                                                    and c.get("mode") != e["mode"]):
                regression = True
                diffs.append({"case_id": c["case_id"], "expected": "|".join(e["verdict"]), "actual": actual,
                              "reason": "changed verdict or mode (baseline: %s)" % e["reason"]})
            continue
        want = e["verdict"] + ("/" + e["mode"] if e.get("mode") else "")
        if c["verdict"] == "PASS":
            unexpected = True
            diffs.append({"case_id": c["case_id"], "expected": want, "actual": "PASS",
                          "reason": "unexpected pass (baseline: %s)" % e["reason"]})
        elif c["verdict"] != e["verdict"] or ("mode" in e and c.get("mode") != e["mode"]):
            regression = True
            diffs.append({"case_id": c["case_id"], "expected": want, "actual": actual,
                          "reason": "changed verdict or mode (baseline: %s)" % e["reason"]})
    status = "regression" if regression else ("unexpected_pass" if unexpected else "match")
    return status, diffs

