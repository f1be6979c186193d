"""What every page shares: escaping, the stylesheet (inline: the pages open from disk
with no server and no external asset), verdict badges, anchors."""

import html
import re

from .verdicts import COLOUR, NONE_COLOUR, VERDICTS, css_class


def esc(s):
    return html.escape("" if s is None else str(s), quote=True)


def _css():
    rules = []
    for v in VERDICTS:
        bg, fg = COLOUR[v]
        rules.append(".%s{background:%s;color:%s}" % (css_class(v), bg, fg))
    rules.append(".v-none{background:%s;color:%s}" % NONE_COLOUR)
    return """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.2em 2em;color:#222}
h1{font-size:1.5em;margin:.2em 0} h2{font-size:1.2em;margin-top:1.6em} h3{font-size:1.05em}
nav a{margin-right:1.2em} table{border-collapse:collapse;margin:.6em 0}
th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}
th{background:#f4f4f4} tr.fam th{background:#263238;color:#fff;font-size:1.05em}
td.cell{min-width:9em;text-align:center} td.cell a{color:inherit}
.cell .word{font-weight:bold;display:block} .cell .counts{font-size:.85em;display:block}
.runlinks a{display:inline-block;font-size:.8em;padding:0 4px;margin:1px;border-radius:3px;
  border:1px solid rgba(255,255,255,.6);text-decoration:none}
.badge{display:inline-block;padding:0 6px;border-radius:3px;font-weight:bold;font-size:.9em}
.level{font-size:.8em;color:#555;border:1px solid #aaa;border-radius:3px;padding:0 3px}
blockquote{margin:.4em 0;padding:.3em .8em;border-left:4px solid #90a4ae;background:#f7f9fa}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.5em;overflow-x:auto;white-space:pre-wrap;
  word-break:break-all;max-height:30em}
code.cmd{background:#111;color:#eee;padding:2px 6px;display:inline-block;white-space:pre-wrap;
  word-break:break-all;max-width:100%;box-sizing:border-box}
table.findings{width:100%;table-layout:fixed} table.findings td{overflow-wrap:anywhere}
table.findings col.c1{width:7em} table.findings col.c2{width:22%} table.findings col.c3{width:16%}
table.findings col.c5{width:13%} table.findings col.c6{width:24%}
.new{color:#b71c1c;font-weight:bold} .muted{color:#777} article{border-top:1px solid #ddd;padding:.4em 0}
table.exchange td.dir{width:1.5em;text-align:center;font-weight:bold}
table.exchange td{font-family:monospace;font-size:.85em}
""" + "\n".join(rules)


CSS = _css()


def page(title, body, nav_prefix=""):
    p = nav_prefix
    nav = ('<nav><a href="%sindex.html">Matrix</a><a href="%sfindings.html">Findings</a>'
           '<a href="%sclauses.html">Clauses</a></nav>' % (p, p, p))
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>%s</title><style>%s</style></head><body>%s\n%s\n</body></html>\n'
            % (esc(title), CSS, nav, body))


def badge(verdict, text=None):
    return '<span class="badge %s">%s</span>' % (css_class(verdict), esc(text or verdict or "none"))


def legend():
    return ("<p>Legend: " + " ".join(badge(v) for v in reversed(VERDICTS))
            + ' <span class="badge v-none">no case</span> (a cell shows the worst verdict'
            ' over the clause\'s cases, with counts)</p>')


_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


def case_anchors(cases):
    """case_id -> a unique HTML id, readable (CONN-07[udp-v6] -> case-CONN-07_udp-v6_)."""
    out, used = {}, set()
    for c in cases:
        base = "case-" + _SLUG.sub("_", c["case_id"])
        a, n = base, 1
        while a in used:
            n += 1
            a = "%s~%d" % (base, n)
        used.add(a)
        out[c["case_id"]] = a
    return out


def clause_anchor(clause_id):
    return "clause-" + clause_id


def counts_text(counter):
    order = sorted(counter.items(), key=lambda kv: -VERDICTS.index(kv[0]))
    return " · ".join("%d %s" % (n, v) for v, n in order)
