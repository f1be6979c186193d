"""The clause catalogue (fixtures/clauses.yaml) and the baselines (fixtures/baselines/<impl>.yaml)."""

import os
import re

import yaml

from . import ReportError

FAMILIES = ("ARG", "ERR", "CONN", "BCAST", "SIZE", "FLAGS", "ASYNC", "END", "CANCEL",
            "TRACE", "CTX", "SEC", "EX")
LEVELS = ("MUST", "SHOULD", "INFO")
CLAUSE_RE = re.compile(r"^(%s)-[0-9]{2}$" % "|".join(FAMILIES))


def family_of(clause_id):
    return clause_id.rsplit("-", 1)[0]


def _load_yaml(path):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except OSError as e:
        raise ReportError("%s: cannot read: %s" % (path, e.strerror))
    except yaml.YAMLError as e:
        raise ReportError("%s: not YAML: %s" % (path, e))


class Catalogue:
    """clauses: id -> record, in catalogue order; families: family -> [ids]."""

    def __init__(self, records, seeds=None, source="catalogue"):
        self.source = source
        self.seeds = seeds or {}
        self.clauses = {}
        for i, rec in enumerate(records):
            if not isinstance(rec, dict) or "id" not in rec:
                raise ReportError("%s: clause #%d has no id" % (source, i + 1))
            cid = rec["id"]
            if not CLAUSE_RE.match(str(cid)):
                raise ReportError("%s: clause id %r is not of the form FAMILY-NN" % (source, cid))
            if cid in self.clauses:
                raise ReportError("%s: clause %s appears twice" % (source, cid))
            level = rec.get("level")
            if level not in LEVELS:
                raise ReportError("%s: clause %s: level %r is not one of %s"
                                  % (source, cid, level, ", ".join(LEVELS)))
            rec = dict(rec)
            rec.setdefault("family", family_of(cid))
            rec.setdefault("title", "")
            rec.setdefault("sentence", "")
            rec.setdefault("seed", [])
            if isinstance(rec["seed"], str):
                rec["seed"] = [rec["seed"]]
            rec.setdefault("expectation", {})
            if isinstance(rec["expectation"], str):
                rec["expectation"] = {"documented": rec["expectation"]}
            self.clauses[cid] = rec

    @classmethod
    def load(cls, path):
        doc = _load_yaml(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("clauses"), list):
            raise ReportError("%s: expected a mapping with a 'clauses' list" % path)
        return cls(doc["clauses"], doc.get("seeds"), path)

    @classmethod
    def from_runs(cls, runs):
        """No catalogue file: a bare catalogue of the clauses the runs cite (no sentences)."""
        recs, seen = [], set()
        for r in runs:
            for c in r["cases"]:
                if c["clause"] not in seen:
                    seen.add(c["clause"])
                    recs.append({"id": c["clause"], "level": c.get("level") or "MUST"})
        order = {f: i for i, f in enumerate(FAMILIES)}
        recs.sort(key=lambda x: (order[family_of(x["id"])], x["id"]))
        return cls(recs, source="(from the runs)")

    def add_uncatalogued(self, runs):
        """Clauses cited by runs but missing from the catalogue: listed, marked, never dropped."""
        missing = []
        for r in runs:
            for c in r["cases"]:
                cid = c["clause"]
                if cid not in self.clauses:
                    self.clauses[cid] = {"id": cid, "family": family_of(cid), "title": "",
                                         "sentence": "", "seed": [], "expectation": {},
                                         "level": c.get("level") or "MUST", "uncatalogued": True}
                    missing.append(cid)
        return missing

    def families(self):
        """[(family, [clause ids])] in the order of FAMILIES, clauses in catalogue order."""
        by = {}
        for cid, rec in self.clauses.items():
            by.setdefault(rec["family"], []).append(cid)
        order = {f: i for i, f in enumerate(FAMILIES)}
        return sorted(by.items(), key=lambda kv: order.get(kv[0], len(order)))


class Baseline:
    """Expected non-PASS verdicts of one implementation, with their reasons.

    Accepted shapes (the harness helper owns the files):
      expected: [{case_id | clause, verdict, mode?, signal?, suite?, profile?, reason}]
    or a mapping case_id -> {verdict, mode?, reason}. An entry with only `clause` covers every
    case of that clause; entries without suite/profile apply to every suite/profile.
    """

    def __init__(self, entries, path=None):
        self.path = path
        self.entries = entries

    @classmethod
    def load(cls, path):
        if not os.path.exists(path):
            return cls([], None)
        doc = _load_yaml(path)
        if doc is None:
            return cls([], path)
        entries = None
        if isinstance(doc, dict):
            for key in ("expected", "cases", "baseline", "entries"):
                if key in doc:
                    entries = doc[key] or []
                    break
            if entries is None:
                rest = {k: v for k, v in doc.items()
                        if k not in ("implementation", "impl", "profile", "suite", "version")}
                entries = [dict(v or {}, case_id=k) for k, v in rest.items() if isinstance(v, dict)]
        elif isinstance(doc, list):
            entries = doc
        if isinstance(entries, dict):
            entries = [dict(v or {}, case_id=k) for k, v in entries.items()]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ReportError("%s: expected a list of {case_id or clause, verdict, reason}" % path)
        for e in entries:
            if not (e.get("case_id") or e.get("clause") or e.get("case")):
                raise ReportError("%s: entry %r names no case_id or clause" % (path, e))
        return cls(entries, path)

    def lookup(self, suite, profile, case):
        """The entry that covers this case, or None (= expected PASS)."""
        best = None
        for e in self.entries:
            if e.get("suite") not in (None, suite) or e.get("profile") not in (None, profile):
                continue
            cid = e.get("case_id") or e.get("case")
            if cid is not None:
                if cid == case["case_id"]:
                    return e
            elif e.get("clause") == case["clause"]:
                best = best or e
        return best
