"""reports/mutation/: mutation.json (every judged mutant and the scores) and
index.html (the scores, then the survivors by file with the clauses that
should have caught each), rendered from a Jinja2 template with autoescaping."""
import json
import os
from collections import OrderedDict

import jinja2

from . import results

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")


def build(records, equivalents, meta):
    summary = results.score(records, equivalents)
    by_file = OrderedDict()
    for r in sorted(records, key=lambda r: (r["file"], r["line"], r["col"])):
        if r["status"] == "SURVIVED":
            r["likely_clauses"] = results.likely_clauses(r, records)
            by_file.setdefault(r["file"], []).append(r)
    return {"meta": meta, "scores": summary, "survivors_by_file": by_file,
            "equivalents": [r for r in records if r["status"] == "EQUIVALENT"],
            "mutants": records}


def write(out_dir, doc):
    os.makedirs(out_dir, exist_ok=True)
    _atomic(os.path.join(out_dir, "mutation.json"), json.dumps(doc, indent=1, sort_keys=True))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined)
    html = env.get_template("mutation.html.j2").render(**doc)
    _atomic(os.path.join(out_dir, "index.html"), html)


def _atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
