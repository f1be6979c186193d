"""The matrix behind index.html: implementations x clauses, from results.json."""

import collections

from .runfiles import run_stem, sort_runs
from .verdicts import worst


class Matrix:
    def __init__(self, doc, catalogue, reference="reference"):
        self.doc = doc
        self.catalogue = catalogue
        self.reference = reference
        self.runs = sort_runs(doc["runs"], reference)
        self.impls = []
        for r in self.runs:
            i = r["implementation"]["id"]
            if i not in self.impls:
                self.impls.append(i)
        self.impl_info = {}
        for r in self.runs:
            self.impl_info.setdefault(r["implementation"]["id"], r["implementation"])
        # The documented profile judges a cell; portable runs are shown beside it.
        self.primary_profile = {}
        for i in self.impls:
            profs = {r["profile"] for r in self.runs if r["implementation"]["id"] == i}
            self.primary_profile[i] = "documented" if "documented" in profs else "portable"

    def runs_of(self, impl):
        return [r for r in self.runs if r["implementation"]["id"] == impl]

    def cases(self, impl, clause, primary_only=True):
        """[(run, case)] of one implementation and clause."""
        out = []
        for r in self.runs_of(impl):
            if primary_only and r["profile"] != self.primary_profile[impl]:
                continue
            out += [(r, c) for c in r["cases"] if c["clause"] == clause]
        return out

    def cell(self, impl, clause):
        pairs = self.cases(impl, clause)
        counts = collections.Counter(c["verdict"] for _, c in pairs)
        per_run = []
        for r in self.runs_of(impl):
            vs = [c["verdict"] for c in r["cases"] if c["clause"] == clause]
            if vs:
                per_run.append((r, worst(vs), collections.Counter(vs)))
        return {"verdict": worst(counts.elements()), "counts": counts, "per_run": per_run}

    def group(self, impl, clause_ids):
        """Summary of a set of clauses for one implementation."""
        clause_verdicts = collections.Counter()
        case_counts = collections.Counter()
        for cid in clause_ids:
            cell = self.cell(impl, cid)
            clause_verdicts[cell["verdict"] or "none"] += 1
            case_counts.update(cell["counts"])
        return {"verdict": worst(case_counts.elements()), "clauses": clause_verdicts,
                "cases": case_counts, "n": len(clause_ids)}

    def levels(self):
        by = collections.OrderedDict((lv, []) for lv in ("MUST", "SHOULD", "INFO"))
        for cid, rec in self.catalogue.clauses.items():
            by.setdefault(rec["level"], []).append(cid)
        return [(k, v) for k, v in by.items() if v]

    @staticmethod
    def stem(run):
        return run_stem(run)
