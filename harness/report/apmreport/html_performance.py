"""reports/performance.html: `make bench-impls` (harness/bench/impls.py) as a page.

One section per workload of the bench op (PROTOCOL.md, "bench"): a table with each
implementation's median rate, its median ratio to raw sendto() (pairwise, same
repetition), delivered/sent, allocations per operation and, for the documented pattern,
the Begin-to-callback latencies of first use and steady state; and an inline SVG bar
chart of the ratios with raw sendto() at 1.0. The page is a Jinja2 template
(templates/performance.html.j2) with autoescaping on: every value of bench-impls.json is
escaped there; the chart's geometry is computed here, numbers only.
"""

import os

import jinja2
from markupsafe import Markup

from .html_common import CSS

WORKLOADS = (("documented", "The documented pattern: the callback ends and sets an event, the Begin thread waits"),
             ("sync", "The runtime's synchronous send of the same payload"))
CHART_W, LABEL_W, BAR_H, GAP = 640, 110, 22, 8

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _chart(rows):
    """Bars of the ratio to raw sendto(), with a rule at 1.0."""
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    top = max([1.0] + ratios) * 1.1
    span = CHART_W - LABEL_W - 70
    bars = []
    for i, r in enumerate(rows):
        y = GAP + i * (BAR_H + GAP)
        w = 0 if r["ratio"] is None else max(1.0, r["ratio"] / top * span)
        bars.append({"label": r["id"], "y": y, "w": round(w, 1), "text_y": y + BAR_H * 0.7,
                     "value": "n/a" if r["ratio"] is None else "%.2fx" % r["ratio"]})
    height = GAP + len(rows) * (BAR_H + GAP) + 18
    return {"width": CHART_W, "height": height, "label_w": LABEL_W, "bar_h": BAR_H, "bars": bars,
            "one_x": round(LABEL_W + 1.0 / top * span, 1), "axis_y": height - 4}


def _rows(doc, name):
    rows = []
    for i in doc.get("implementations") or []:
        w = (i.get("workloads") or {}).get(name) or {}
        alloc = i.get("alloc")
        rows.append({"id": i.get("id"), "runtime": i.get("runtime") or "%s %s" % (i.get("implementation"), i.get("version")),
                     "what": w.get("what"), "rate": w.get("rate_median"), "ratio": w.get("ratio_median"),
                     "delivered": w.get("delivered_ratio"), "alloc": w.get("alloc_per_op_median"),
                     "alloc_unit": alloc.get("unit") if alloc else None,
                     "alloc_scope": alloc.get("scope") if alloc else None,
                     "latency": w.get("latency_us"), "inline": w.get("callbacks_inline_fraction"),
                     "reps": i.get("repetitions")})
    return rows


def render(doc):
    sections = []
    for name, title in WORKLOADS:
        rows = _rows(doc, name)
        sections.append({"name": name, "title": title, "rows": rows, "chart": _chart(rows)})
    return _ENV.get_template("performance.html.j2").render(
        css=Markup(CSS), doc=doc, sections=sections, baseline=doc.get("baseline") or {},
        machine=doc.get("machine") or {})
