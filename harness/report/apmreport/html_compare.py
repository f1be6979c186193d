"""reports/compare.html: what changed since an older results.json."""

from .compare import _fmt, summary_text
from .html_common import esc, page

SECTIONS = (("new_failures", "New failures"), ("new_passes", "New passes"),
            ("changed", "Changed verdict or mode"), ("added", "Added cases"), ("removed", "Removed cases"))


def render(res, old_name, old_generated, new_generated):
    parts = ["<h1>Compare</h1>", "<p>old: %s (generated %s) · new: generated %s</p><p><b>%s</b></p>" % (
        esc(old_name), esc(old_generated), esc(new_generated), esc(summary_text(res)))]
    for key, title in SECTIONS:
        rows = "".join('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            esc(key), esc(k[0]), esc(k[1]), esc(k[2]), esc(k[3]), esc(_fmt(a)), esc(_fmt(b))) for k, a, b in res[key])
        parts.append('<h2 id="%s">%s (%d)</h2>' % (esc(key), esc(title), len(res[key])))
        if rows:
            parts.append("<table><tr><th>implementation</th><th>suite</th><th>profile</th><th>case</th>"
                         "<th>before</th><th>now</th></tr>%s</table>" % rows)
    return page("apmsock compare", "\n".join(parts))
