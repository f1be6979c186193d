"""Baselines by command: `conform --write-baseline PATH` and
`conform --update-baseline PATH` (format: baseline.py).

write   a new file from one run: an entry per non-PASS case with its
        verdict, mode, signature, the run's profile and baseline.PLACEHOLDER
        as the reason, which the gate refuses until a person writes why.
        An existing file is never overwritten (use update).
update  never clobbers: an entry that still holds keeps its reason (and
        gains the signature it lacked); a new deviation is added with the
        placeholder; an entry whose case now passes in this profile is
        removed (or, if it also covers the other profile, narrowed to it);
        an entry whose verdict, mode or signature changed gets the
        placeholder back, with the old reason kept after "was:", so that a
        person checks it.  Only the cases of the run are touched (a partial
        run updates its selection), only suite harness, and clause-wide
        entries are left to a person.  The file's leading comment is kept.

Design note: both return the list of changes (the "diff"), one line each,
which conform prints; the file is written atomically (files.write_file).
"""
import json
import os
import re


from . import baseline
from .files import write_file
from .files import load_yaml

OTHER = {"documented": "portable", "portable": "documented"}


def _observed(c):
    """(verdicts, modes, signatures) a case showed: several under --repeat."""
    rep = c.get("repeat") or {}
    verdicts = sorted(rep.get("verdicts") or {c["verdict"]: 1}, key=lambda v: (v == "PASS", v))
    modes = sorted({m for m in (rep.get("modes") or [c.get("mode")]) if m})
    sigs = sorted({s for s in (rep.get("signatures") or [c.get("signature")]) if s})
    return verdicts, modes, sigs


def _one_or_list(xs):
    return xs[0] if len(xs) == 1 else list(xs)


def _entry(c, profile):
    verdicts, modes, sigs = _observed(c)
    e = {"case_id": c["case_id"], "verdict": _one_or_list(verdicts)}
    if modes:
        e["mode"] = _one_or_list(modes)
    if sigs:
        e["signature"] = _one_or_list(sigs)
    e["profile"] = profile
    e["suite"] = "harness"
    e["reason"] = baseline.PLACEHOLDER
    return e


def _holds(e, c):
    """Does entry e still describe what case c showed (every repetition)?"""
    verdicts, modes, sigs = _observed(c)
    if not set(verdicts) <= set(baseline.alternatives(e["verdict"])):
        return False
    if "mode" in e and not set(modes) <= set(baseline.alternatives(e["mode"])):
        return False
    if e.get("signature") and sigs and not set(sigs) <= set(baseline.alternatives(e["signature"])):
        return False
    return True


def _line(mark, e):
    bits = ["verdict " + baseline.show(e["verdict"])]
    if e.get("mode"):
        bits.append("mode " + baseline.show(e["mode"]))
    if e.get("signature"):
        bits.append("signature " + baseline.show(e["signature"]))
    if e.get("profile"):
        bits.append("profile " + e["profile"])
    return "%s %s: %s" % (mark, e.get("case_id") or e.get("clause"), ", ".join(bits))


def update_entries(entries, cases, profile):
    """(new entries, changes) after a run of `profile`."""
    entries = [dict(e) for e in entries]
    changes = []
    for c in cases:
        e = baseline.expected_for(entries, c["case_id"], c["clause"], profile, "harness")
        verdicts, _, sigs = _observed(c)
        if verdicts == ["PASS"]:
            if e is None or not e.get("case_id") or "PASS" in baseline.alternatives(e["verdict"]):
                continue
            if e.get("profile") is None:
                e["profile"] = OTHER[profile]
                changes.append(_line("~", e) + "  (passes in %s now: narrowed)" % profile)
            else:
                entries.remove(e)
                changes.append(_line("-", e) + "  (passes now)")
            continue
        if e is not None and _holds(e, c):
            if sigs and not e.get("signature") and e.get("case_id"):
                e["signature"] = _one_or_list(sigs)
                changes.append(_line("~", e) + "  (signature recorded, reason kept)")
            continue
        new = _entry(c, profile)
        if e is not None and e.get("case_id"):
            new["reason"] = "%s (was: %s)" % (baseline.PLACEHOLDER, e.get("reason"))
            if e.get("profile") is None:
                e["profile"] = OTHER[profile]
                changes.append(_line("~", e) + "  (still holds in %s only)" % OTHER[profile])
                entries.insert(entries.index(e) + 1, new)
                changes.append(_line("+", new))
            else:
                entries[entries.index(e)] = new
                changes.append(_line("~", new) + "  (changed: was %s; check the reason)"
                               % _line("", e).split(": ", 1)[1])
        else:
            twin = _twin(entries, new, profile)
            if twin is not None:
                del twin["profile"]   # the same deviation in both profiles: one entry, its reason kept
                changes.append(_line("~", twin) + "  (holds in both profiles)")
            else:
                entries.append(new)
                changes.append(_line("+", new))
    return entries, changes


def _twin(entries, new, profile):
    """The entry of the same case in the other profile that says the same."""
    for e in entries:
        if e.get("case_id") == new["case_id"] and e.get("profile") == OTHER[profile] \
                and e.get("suite", "harness") == "harness" \
                and all(e.get(k) == new.get(k) for k in ("verdict", "mode", "signature")):
            return e
    return None


def _header(path):
    """The leading comment block of an existing file."""
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.startswith("#"):
                    break
                out.append(line.rstrip("\n"))
    except OSError:
        pass
    return out


_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def _scalar(v):
    if v is None:
        return "null"
    if isinstance(v, (list, tuple)):
        return "[%s]" % ", ".join(_scalar(x) for x in v)
    if isinstance(v, bool) or isinstance(v, (int, float)):
        return json.dumps(v)
    v = str(v)
    if _PLAIN.match(v) and v.lower() not in ("null", "true", "false", "yes", "no", "on", "off", "y", "n"):
        return v
    return json.dumps(v, ensure_ascii=False)   # a JSON string is a YAML double-quoted scalar


def flow(e):
    """One entry on one line, in the hand-written style of the baselines:
    {case_id: "X[y]", verdict: FAIL, mode: assertion, reason: "..."}"""
    return "{%s}" % ", ".join("%s: %s" % (k, _scalar(v)) for k, v in e.items())


def dump(path, impl, entries, header):
    lines = list(header) + ["implementation: %s" % impl]
    if not entries:
        lines.append("expected: []")
    else:
        lines.append("expected:")
        for e in entries:
            lines.append("  - " + flow(e))
    write_file(path, "\n".join(lines) + "\n")


def write(path, impl, cases, profile):
    if os.path.exists(path):
        raise baseline.BaselineError("%s exists; --update-baseline changes an existing baseline "
                                     "without losing its reasons" % path)
    entries, changes = update_entries([], cases, profile)
    header = ["# %s's expected non-PASS verdicts, written by harness/conform --write-baseline." % impl,
              "# Replace every placeholder reason with why the deviation is expected: the gate",
              "# refuses the placeholder.  Format: harness/apmsock_harness/baseline.py in apmsock."]
    dump(path, impl, entries, header)
    return changes


def update(path, impl, cases, profile):
    if not os.path.exists(path):
        raise baseline.BaselineError("%s: no such baseline (--write-baseline makes a new one)" % path)
    entries = baseline.load(path)
    with open(path, encoding="utf-8") as f:
        doc = load_yaml(f)
    name = doc.get("implementation", impl) if isinstance(doc, dict) else impl
    entries, changes = update_entries(entries, cases, profile)
    if changes:
        dump(path, name, entries, _header(path))
    return changes
