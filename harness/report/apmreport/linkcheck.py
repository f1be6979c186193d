"""Every local link of the generated pages resolves: the file exists and so does the anchor."""

import html.parser
import os
import urllib.parse


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.hrefs, self.cells = set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag == "td" and "cell" in (a.get("class") or "").split() and a.get("data-clause"):
            self.cells.append(a)


def parse(path):
    p = _Page()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p


def parse_text(text):
    p = _Page()
    p.feed(text)
    return p


def broken_links(start, follow=True, foreign=("coverage",)):
    """[(page, href, why)] for every local link reachable from `start` that does not resolve.
    Pages under a `foreign` folder (gcovr's) must exist but are not ours to check inside."""
    root = os.path.dirname(os.path.abspath(start))
    skip = tuple(os.path.join(root, f) + os.sep for f in foreign)
    todo, seen, bad, cache = [os.path.abspath(start)], set(), [], {}

    def page(path):
        if path not in cache:
            cache[path] = parse(path)
        return cache[path]

    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        for href in page(cur).hrefs:
            u = urllib.parse.urlparse(href)
            if u.scheme in ("http", "https", "mailto", "data", "javascript") or u.netloc:
                bad.append((cur, href, "not a local link (the report must work offline)"))
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(cur), urllib.parse.unquote(u.path))) \
                if u.path else cur
            if not os.path.exists(target):
                bad.append((cur, href, "no such file"))
                continue
            frag = urllib.parse.unquote(u.fragment)
            if target.endswith(".html"):
                if frag and not target.startswith(skip) and frag not in page(target).ids:
                    bad.append((cur, href, "no anchor #%s in %s" % (frag, target)))
                if follow and not target.startswith(skip):
                    todo.append(target)
    return bad
