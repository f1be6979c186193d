"""The clause catalogue (fixtures/clauses.yaml): load it and check its shape.

A malformed catalogue is reported with the record that is wrong, so that
whoever edits the data knows where to look.
"""
import os
import re

import yaml
from .files import load_yaml

LEVELS = ("MUST", "SHOULD", "INFO")
FAMILIES = ("ARG", "ERR", "CONN", "BCAST", "SIZE", "FLAGS", "ASYNC", "END",
            "CANCEL", "TRACE", "CTX", "SEC", "EX", "FAULT")
ID_RE = re.compile(r"^([A-Z]+)-(\d\d)$")
PROFILES = ("documented", "portable")


class CatalogueError(Exception):
    """The catalogue file is malformed; the message names the record."""


class Clause:
    __slots__ = ("id", "family", "title", "seed", "sentence", "also", "level",
                 "expectation", "note")

    def __init__(self, rec):
        self.id = rec["id"]
        self.family = rec["family"]
        self.title = rec.get("title", "")
        self.seed = list(rec.get("seed") or [])
        self.sentence = rec["sentence"]
        self.also = list(rec.get("also") or [])
        self.level = rec["level"]
        self.expectation = dict(rec["expectation"])
        self.note = rec.get("note")

    def expect(self, profile):
        return self.expectation.get(profile) or self.expectation["documented"]

    def as_dict(self):
        """The record as a plain mapping, for code that renders it (harness/report)."""
        return {k: getattr(self, k) for k in self.__slots__}


def _where(i, rec):
    rid = rec.get("id") if isinstance(rec, dict) else None
    return "record %d (%s)" % (i + 1, rid or "no id")


def load(path, seeds_dir=None):
    """Returns {id: Clause} in file order.  With seeds_dir, every quoted
    sentence must occur verbatim in its seed file."""
    return load_document(path, seeds_dir)[1]


def load_document(path, seeds_dir=None):
    """Like load, and also returns the 'seeds' mapping (seed file name ->
    description): (seeds, {id: Clause})."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = load_yaml(f)
    except OSError as e:
        raise CatalogueError("%s: cannot read: %s" % (path, e))
    except yaml.YAMLError as e:
        raise CatalogueError("%s: not valid YAML: %s" % (path, e))
    if not isinstance(doc, dict) or not isinstance(doc.get("clauses"), list):
        raise CatalogueError("%s: expected a mapping with a 'clauses' list" % path)
    seeds = doc.get("seeds") or {}
    if not isinstance(seeds, dict):
        raise CatalogueError("%s: 'seeds' must map a seed file name to a description" % path)
    seed_text = {}
    if seeds_dir:
        for name in seeds:
            p = os.path.join(seeds_dir, name)
            try:
                with open(p, encoding="utf-8") as f:
                    seed_text[name] = f.read()
            except OSError as e:
                raise CatalogueError("%s: seed %s cannot be read: %s" % (path, name, e))
    out = {}
    for i, rec in enumerate(doc["clauses"]):
        where = "%s: %s" % (path, _where(i, rec))
        if not isinstance(rec, dict):
            raise CatalogueError("%s: a clause must be a mapping" % where)
        for key in ("id", "family", "sentence", "level", "expectation"):
            if key not in rec:
                raise CatalogueError("%s: missing field '%s'" % (where, key))
        m = ID_RE.match(str(rec["id"]))
        if not m:
            raise CatalogueError("%s: id must look like CONN-07" % where)
        if rec["id"] in out:
            raise CatalogueError("%s: duplicate id %s" % (where, rec["id"]))
        if rec["family"] not in FAMILIES or m.group(1) != rec["family"]:
            raise CatalogueError("%s: family '%s' must be one of %s and match the id"
                                 % (where, rec["family"], ", ".join(FAMILIES)))
        if rec["level"] not in LEVELS:
            raise CatalogueError("%s: level '%s' must be one of %s"
                                 % (where, rec["level"], ", ".join(LEVELS)))
        exp = rec["expectation"]
        if not isinstance(exp, dict) or not isinstance(exp.get("documented"), str):
            raise CatalogueError("%s: expectation needs a 'documented' string" % where)
        for k in exp:
            if k not in PROFILES:
                raise CatalogueError("%s: expectation for unknown profile '%s'" % (where, k))
        seed = rec.get("seed")
        if not isinstance(seed, list):
            raise CatalogueError("%s: seed must be a list of seed file names" % where)
        for s in seed:
            if s not in seeds:
                raise CatalogueError("%s: seed '%s' is not listed under 'seeds'" % (where, s))
        sentence = rec["sentence"]
        if not isinstance(sentence, str) or not sentence:
            raise CatalogueError("%s: sentence must be a non-empty string" % where)
        if sentence == "(derived)":
            if seed:
                raise CatalogueError("%s: a (derived) clause cites no seed" % where)
        else:
            if not seed:
                raise CatalogueError("%s: a quoted sentence needs its seed" % where)
            if seed_text and sentence not in seed_text[seed[0]]:
                raise CatalogueError("%s: sentence is not verbatim in %s: %r"
                                     % (where, seed[0], sentence[:80]))
        for a in rec.get("also") or []:
            if not isinstance(a, dict) or "seed" not in a or "text" not in a:
                raise CatalogueError("%s: each 'also' entry needs seed and text" % where)
            if a["seed"] not in seeds:
                raise CatalogueError("%s: also-seed '%s' is not listed" % (where, a["seed"]))
            if seed_text and a["text"] not in seed_text[a["seed"]]:
                raise CatalogueError("%s: also-text is not verbatim in %s: %r"
                                     % (where, a["seed"], a["text"][:80]))
        out[rec["id"]] = Clause(rec)
    return seeds, out


def default_path(root):
    return os.path.join(root, "fixtures", "clauses.yaml")
