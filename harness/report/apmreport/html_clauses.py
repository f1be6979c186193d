"""reports/clauses.html: every clause's verbatim sentence, its seed, level and expectation."""

from .html_common import esc, page


def render(catalogue):
    parts = ["<h1>The clauses</h1>",
             "<p>From %s. The sentences are quoted verbatim from the seeds; “(derived)” marks "
             "a clause the documents imply.</p>" % esc(catalogue.source)]
    for fam, ids in catalogue.families():
        parts.append("<h2>%s</h2>" % esc(fam))
        for cid in ids:
            rec = catalogue.clauses[cid]
            exp = rec.get("expectation") or {}
            exp_html = "".join("<li><b>%s</b>: %s</li>" % (esc(k), esc(v)) for k, v in exp.items())
            seeds = ", ".join("%s%s" % (s, (" — " + catalogue.seeds[s]) if s in catalogue.seeds else "")
                              for s in rec.get("seed") or []) or "(derived)"
            parts.append('<section id="%s"><h3>%s <span class="level">%s</span> %s%s</h3>'
                         '<blockquote class="sentence">%s</blockquote><p class="muted">seed: %s</p>'
                         '<ul>%s</ul></section>' % (
                             esc(cid), esc(cid), esc(rec["level"]), esc(rec.get("title")),
                             ' <span class="new">not in the catalogue</span>' if rec.get("uncatalogued") else "",
                             esc(rec.get("sentence") or "—"), esc(seeds), exp_html))
    return page("apmsock clauses", "\n".join(parts))
