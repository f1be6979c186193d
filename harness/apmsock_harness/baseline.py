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

Intermittent expectations: `verdict` may be a list of alternatives (WPT's
`[PASS, FAIL]`), e.g. `verdict: [FAIL, PASS]` for a racy case; any of them
matches, and the gate reports such matches apart ("intermittent, as
expected").  `mode` may be a list as well.

Signatures: `signature:` (optional; a string or a list) is the key of the
check that failed (signature.py).  When given, a case with the expected
verdict but another signature is a changed failure (a regression).
Entries without one are matched on verdict and mode, as before.

A reason equal to PLACEHOLDER (what --write-baseline writes) is refused by
the gate (usage error) until a person replaces it.
"""
import yaml

from .verdict import VERDICTS, MODES
from .files import load_yaml

# Exit codes of docs/DESIGN.md section 4, for every tool that gates a run.
EXIT_MATCH, EXIT_REGRESSION, EXIT_UNEXPECTED_PASS, EXIT_HARNESS, EXIT_USAGE = 0, 1, 2, 3, 4
EXIT = {"match": EXIT_MATCH, "regression": EXIT_REGRESSION, "unexpected_pass": EXIT_UNEXPECTED_PASS}

_LIST_KEYS = ("expected", "cases", "baseline", "entries")
# Top-level keys of the mapping shape that describe the file, not a case.
_META_KEYS = ("implementation", "impl", "profile", "suite", "version")


# What --write-baseline/--update-baseline put where a person must write why.
PLACEHOLDER = "TODO: say why this deviation is expected (the gate refuses this placeholder)"


class BaselineError(Exception):
    pass


def alternatives(v):
    """A verdict, mode or signature field as a tuple of alternatives."""
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return (v,)


def show(v):
    """An expected field as the text the gate prints: FAIL or [FAIL, PASS]."""
    if isinstance(v, (list, tuple)):
        return "[%s]" % ", ".join("null" if x is None else str(x) for x in v)
    return str(v)


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
            doc = load_yaml(f)
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
        _check_verdict(e, where)
        if "mode" in e and (not alternatives(e["mode"]) or any(m not in MODES for m in alternatives(e["mode"]))):
            raise BaselineError("%s: unknown mode %r" % (where, e["mode"]))
        if "signature" in e and (not alternatives(e["signature"]) or
                                 not all(isinstance(x, str) and x for x in alternatives(e["signature"]))):
            raise BaselineError("%s: signature must be a string or a list of strings" % where)
        if not e.get("reason"):
            raise BaselineError("%s (%s): every expected verdict needs a reason"
                                % (where, e.get("case_id") or e.get("clause")))
        if e.get("profile") not in (None, "documented", "portable"):
            raise BaselineError("%s: unknown profile %r" % (where, e["profile"]))
    return entries


def _check_verdict(e, where):
    v = e.get("verdict")
    alts = alternatives(v)
    ok = bool(alts) and all(isinstance(x, str) and x in VERDICTS for x in alts) and len(set(alts)) == len(alts)
    if ok and not isinstance(v, (list, tuple)):
        ok = v != "PASS"            # a lone PASS is no deviation
    if ok and isinstance(v, (list, tuple)):
        ok = alts != ("PASS",)
    if not ok:
        raise BaselineError("%s (%s): verdict must be one of %s, or a list of alternatives such as "
                            "[FAIL, PASS]" % (where, e.get("case_id") or e.get("clause"),
                                              ", ".join(x for x in VERDICTS if x != "PASS")))


def placeholders(entries):
    """The entries whose reason is still --write-baseline's placeholder."""
    return [e.get("case_id") or e.get("clause") for e in entries
            if str(e.get("reason", "")).strip().startswith(PLACEHOLDER)]


def refuse_placeholders(entries, path):
    """A usage error line when a person still has to write reasons."""
    todo = placeholders(entries)
    if not todo:
        return None
    return ("baseline %s: %d entr%s still %s the placeholder reason; write why each deviation is expected: %s"
            % (path, len(todo), "y" if len(todo) == 1 else "ies", "has" if len(todo) == 1 else "have",
               ", ".join(todo[:20]) + (" ... (%d more)" % (len(todo) - 20) if len(todo) > 20 else "")))


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
    """cases: result records (case_id, clause, verdict, mode, signature?).
    Returns (status, differences); status is match, regression or
    unexpected_pass."""
    g = gate(cases, entries, profile, suite)
    return g["status"], g["differences"]


def _actual(c):
    return c["verdict"] + ("/" + c["mode"] if c.get("mode") else "")


def _want(e):
    return show(e["verdict"]) + ("/" + show(e["mode"]) if e.get("mode") else "")


def _diff(d, c):
    if c.get("signature"):
        d["signature"] = c["signature"]
    return d


def gate(cases, entries, profile, suite="harness"):
    """The whole gate: {"status", "differences", "intermittent"}.
    intermittent: cases that matched one of several listed verdicts."""
    diffs, intermittent = [], []
    regression = unexpected = False
    for c in cases:
        e = expected_for(entries, c["case_id"], c["clause"], profile, suite)
        actual = _actual(c)
        if e is None:
            if c["verdict"] != "PASS":
                regression = True
                diffs.append(_diff({"case_id": c["case_id"], "expected": "PASS", "actual": actual,
                                    "reason": "new non-PASS verdict: " + (c.get("message") or "")[:200]}, c))
            continue
        verdicts = alternatives(e["verdict"])
        want = _want(e)
        if c["verdict"] not in verdicts:
            if c["verdict"] == "PASS":
                unexpected = True
                diffs.append({"case_id": c["case_id"], "expected": want, "actual": "PASS",
                              "reason": "unexpected pass (baseline: %s)" % e["reason"]})
            else:
                regression = True
                diffs.append(_diff({"case_id": c["case_id"], "expected": want, "actual": actual,
                                    "reason": "changed verdict or mode (baseline: %s)" % e["reason"]}, c))
            continue
        if c["verdict"] != "PASS":
            if "mode" in e and c.get("mode") not in alternatives(e["mode"]):
                regression = True
                diffs.append(_diff({"case_id": c["case_id"], "expected": want, "actual": actual,
                                    "reason": "changed verdict or mode (baseline: %s)" % e["reason"]}, c))
                continue
            if e.get("signature") and c.get("signature") is not None \
                    and c["signature"] not in alternatives(e["signature"]):
                regression = True
                diffs.append(_diff({"case_id": c["case_id"], "expected": want + " " + show(e["signature"]),
                                    "actual": actual + " " + c["signature"],
                                    "reason": "changed failure: the same verdict, but another check failed "
                                              "(baseline: %s)" % e["reason"]}, c))
                continue
        if len(verdicts) > 1:
            intermittent.append({"case_id": c["case_id"], "expected": want, "actual": actual})
    status = "regression" if regression else ("unexpected_pass" if unexpected else "match")
    return {"status": status, "differences": diffs, "intermittent": intermittent}
