"""The clause catalogue (fixtures/clauses.yaml) and the baselines (fixtures/baselines/<impl>.yaml),
read by the harness's code (harness/apmsock_harness: catalogue.py, baseline.py), so that both
suites accept the same files; a malformed one is a ReportError (exit 3) that names the place."""

import os
import re

from apmsock_harness import baseline as harness_baseline
from apmsock_harness import catalogue as harness_catalogue

from . import ReportError

FAMILIES = harness_catalogue.FAMILIES
LEVELS = harness_catalogue.LEVELS
CLAUSE_RE = re.compile(r"^(%s)-[0-9]{2}$" % "|".join(FAMILIES))


def family_of(clause_id):
    return clause_id.rsplit("-", 1)[0]


def _bare(cid, level, **extra):
    """The record of a clause known only from the runs: no sentence, no seed."""
    return dict({"id": cid, "family": family_of(cid), "title": "", "sentence": "", "seed": [],
                 "expectation": {}, "level": level or "MUST"}, **extra)


class Catalogue:
    """clauses: id -> record (a mapping), in catalogue order; seeds: seed file -> description."""

    def __init__(self, records, seeds=None, source="catalogue"):
        self.source = source
        self.seeds = seeds or {}
        self.clauses = {rec["id"]: rec for rec in records}

    @classmethod
    def load(cls, path):
        try:
            seeds, clauses = harness_catalogue.load_document(path)
        except harness_catalogue.CatalogueError as e:
            raise ReportError(str(e))
        return cls([c.as_dict() for c in clauses.values()], seeds, path)

    @classmethod
    def from_runs(cls, runs):
        """No catalogue file: a bare catalogue of the clauses the runs cite (no sentences)."""
        recs, seen = [], set()
        for r in runs:
            for c in r["cases"]:
                if c["clause"] not in seen:
                    seen.add(c["clause"])
                    recs.append(_bare(c["clause"], c.get("level")))
        order = {f: i for i, f in enumerate(FAMILIES)}
        recs.sort(key=lambda x: (order[x["family"]], x["id"]))
        return cls(recs, source="(from the runs)")

    def add_uncatalogued(self, runs):
        """Clauses cited by runs but missing from the catalogue: listed, marked, never dropped."""
        missing = []
        for r in runs:
            for c in r["cases"]:
                cid = c["clause"]
                if cid not in self.clauses:
                    self.clauses[cid] = _bare(cid, c.get("level"), uncatalogued=True)
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
    """Expected non-PASS verdicts of one implementation, with their reasons: the entries of
    harness_baseline.load (its docstring has the format). No file is an empty baseline."""

    def __init__(self, entries, path=None):
        self.path = path
        self.entries = entries

    @classmethod
    def load(cls, path):
        if not os.path.exists(path):
            return cls([], None)
        try:
            return cls(harness_baseline.load(path), path)
        except harness_baseline.BaselineError as e:
            raise ReportError(str(e))

    def lookup(self, suite, profile, case):
        """The entry that covers this case, or None (= expected PASS)."""
        return harness_baseline.expected_for(self.entries, case["case_id"], case["clause"], profile, suite)
