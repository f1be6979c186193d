"""The expected .NET error vocabulary as data: fixtures/socket-errors.yaml.

Two tables an implementation in any language needs to answer as .NET does: the exception
types (`error.type` of the protocol) and the SocketError names with their numbers and the
POSIX errno each one stands for (`error.socket_error`, `socket_error_code`, `errno`).
The C reference keeps the same tables as X-macros in reference/include/apmsock.h
(APMSOCK_KIND_MAP, APMSOCK_SOCKET_ERROR_MAP); `make lint-catalogue` fails when the two
disagree (compare()), so the data file is the one a non-C adapter can trust.
"""
import os
import re

import yaml
from .files import load_yaml

KIND_RE = re.compile(r'XX\(\s*(\w+)\s*,\s*"([^"]*)"\s*\)')
SE_RE = re.compile(r'XX\(\s*(\w+)\s*,\s*"(\w+)"\s*,\s*(-?\d+)\s*,\s*(\w+)\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)', re.S)


class TableError(Exception):
    pass


def default_path(root):
    return os.path.join(root, "fixtures", "socket-errors.yaml")


def header_path(root):
    return os.path.join(root, "reference", "include", "apmsock.h")


def _macro(text, name):
    """The body of `#define NAME(XX) ...` (continuation lines joined)."""
    m = re.search(r"#define\s+%s\(XX\)((?:[^\n]*\\\n)*[^\n]*)" % name, text)
    if not m:
        raise TableError("no #define %s(XX) in the header" % name)
    return m.group(1).replace("\\\n", " ")


def from_header(text):
    """{"exceptions": [...], "socket_errors": [...]} as the header's X-macros say."""
    kinds = [{"kind": k, "type": t or None} for k, t in KIND_RE.findall(_macro(text, "APMSOCK_KIND_MAP"))]
    errors = [{"name": n, "code": int(c), "errno": None if e == "0" else e,
               "description": re.sub(r'"\s*"', "", d)}
              for _, n, c, e, d in SE_RE.findall(_macro(text, "APMSOCK_SOCKET_ERROR_MAP"))]
    if not kinds or not errors:
        raise TableError("the header's X-macro tables are empty or unreadable")
    return {"exceptions": kinds, "socket_errors": errors}


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = load_yaml(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise TableError("%s: %s" % (path, e))
    for key in ("exceptions", "socket_errors"):
        if not isinstance(doc.get(key), list):
            raise TableError("%s: expected a list '%s'" % (path, key))
    return doc


def compare(data, header):
    """Differences (strings) between the data file and the header; [] when they agree."""
    out = []
    for key, ident in (("exceptions", "kind"), ("socket_errors", "name")):
        mine = {r.get(ident): r for r in data[key]}
        theirs = {r[ident]: r for r in header[key]}
        for k in theirs:
            if k not in mine:
                out.append("%s: %s is in the header, not in the data" % (key, k))
        for k, r in mine.items():
            if k not in theirs:
                out.append("%s: %s is in the data, not in the header" % (key, k))
                continue
            for field, want in theirs[k].items():
                if r.get(field) != want:
                    out.append("%s: %s.%s is %r in the data, %r in the header" % (key, k, field, r.get(field), want))
        if [r.get(ident) for r in data[key]] != [r[ident] for r in header[key]]:
            if not out:
                out.append("%s: same rows, another order than the header's" % key)
    return out


def check(root):
    """Differences between fixtures/socket-errors.yaml and reference/include/apmsock.h."""
    with open(header_path(root), encoding="utf-8") as f:
        header = from_header(f.read())
    return compare(load(default_path(root)), header)
