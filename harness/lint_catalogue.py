#!/usr/bin/python3
"""lint-catalogue: every clause of fixtures/clauses.yaml has a case, and every
case cites a clause the catalogue has.

Citations are read from both suites:
  - the C suite: test names `test_<FAM>_<NN>...` in conformance/*.c and the
    clause tokens (`ARG_01`, "ARG-01") of the test-list X-macro tables in
    conformance/*.h (comments stripped);
  - the harness: `@pytest.mark.clause("CONN-07")` markers and test functions
    named `test_<FAM>_<NN>_...` in harness/cases/*.py, and the `clause:`
    fields of the case tables in fixtures/cases/*.yaml.
The catalogue itself is checked too: its shape, and -- when a folder of the seed
documents is given (--seeds DIR, $APMSOCK_SEEDS, `make lint-catalogue SEEDS_DIR=DIR`) --
every quoted sentence verbatim against them; without one it says that check was skipped.
The seeds are not part of the project; CI passes them when it has a copy.
fixtures/socket-errors.yaml must agree with the header's X-macro tables (errtable.py).
fixtures/peers.yaml (the peer suites' tests) may name only harness cases that exist (peers.py).
Exit status: 0 clean, 1 findings, 2 the catalogue or a table is malformed or the seed
folder given does not exist.
"""
import argparse
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import yaml  # noqa: E402

from apmsock_harness import catalogue, errtable  # noqa: E402
import peers  # noqa: E402

FAM = "|".join(catalogue.FAMILIES)
C_TEST_RE = re.compile(r"\btest_(%s)_(\d\d)(?![0-9])" % FAM)
C_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9])\"?(%s)[-_](\d\d)(?![0-9])" % FAM)
PY_MARK_RE = re.compile(r"mark\.clause\(\s*[\"']([A-Z]+-\d\d)[\"']")
PY_NAME_RE = re.compile(r"^\s*def\s+test_(%s)_(\d\d)(?![0-9])" % FAM, re.M)
COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
PY_DEF_RE = re.compile(r"^def\s+(test_\w+)\s*\(", re.M)
PY_TABLE_RE = re.compile(r"metafunc\.function\.__name__\s*==\s*[\"'](test_\w+)[\"']")


def _add(found, cid, where):
    found.setdefault(cid, set()).add(where)


def c_citations(root):
    found = {}
    cdir = os.path.join(root, "conformance")
    for path in sorted(glob.glob(os.path.join(cdir, "*.c")) + glob.glob(os.path.join(cdir, "*.h"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            code = COMMENT_RE.sub(" ", f.read())
        rel = os.path.relpath(path, root)
        for m in C_TEST_RE.finditer(code):
            _add(found, "%s-%s" % m.groups(), rel)
        if path.endswith(".h") and "XX" in code:
            # the test-list tables: clause tokens inside the X-macro rows
            for line in code.splitlines():
                if re.search(r"\b(XX|CF_V\w*)\s*\(", line):
                    for m in C_TOKEN_RE.finditer(line):
                        _add(found, "%s-%s" % m.groups(), rel)
    return found


def uncited_tests(root):
    """Harness tests that cite no clause: no clause marker, no clause in the
    name, and not parametrized from a case table (pytest_generate_tests)."""
    out = []
    for path in sorted(glob.glob(os.path.join(root, "harness", "cases", "*.py"))):
        with open(path, encoding="utf-8") as f:
            code = f.read()
        tables = set(PY_TABLE_RE.findall(code))
        for m in PY_DEF_RE.finditer(code):
            name = m.group(1)
            head = code[:m.start()].rstrip().split("\n")
            decorators = []
            while head and head[-1].lstrip().startswith("@"):
                decorators.append(head.pop())
            if PY_NAME_RE.match("def %s(" % name) or name in tables or \
                    any(PY_MARK_RE.search(d) for d in decorators):
                continue
            out.append("%s::%s" % (os.path.relpath(path, root), name))
    return out


def py_citations(root):
    found = {}
    for path in sorted(glob.glob(os.path.join(root, "harness", "cases", "*.py"))):
        with open(path, encoding="utf-8") as f:
            code = f.read()
        rel = os.path.relpath(path, root)
        for m in PY_MARK_RE.finditer(code):
            _add(found, m.group(1), rel)
        for m in PY_NAME_RE.finditer(code):
            _add(found, "%s-%s" % m.groups(), rel)
    for path in sorted(glob.glob(os.path.join(root, "fixtures", "cases", "*.yaml"))):
        rel = os.path.relpath(path, root)
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f) or {}
        except yaml.YAMLError as e:
            raise catalogue.CatalogueError("%s: not valid YAML: %s" % (rel, e))
        for key, rows in doc.items():
            if not isinstance(rows, list):
                continue
            for i, row in enumerate(rows):
                if isinstance(row, dict) and "clause" in row:
                    if not catalogue.ID_RE.match(str(row["clause"])):
                        raise catalogue.CatalogueError("%s: %s row %d: clause %r is not an ID like ARG-01"
                                                       % (rel, key, i + 1, row["clause"]))
                    _add(found, row["clause"], rel)
    return found


def lint(root, seeds_dir, out=sys.stdout):
    """Returns the exit status; prints findings."""
    try:
        cat = catalogue.load(catalogue.default_path(root), seeds_dir)
        c = c_citations(root)
        py = py_citations(root)
    except catalogue.CatalogueError as e:
        print("lint-catalogue: malformed: %s" % e, file=out)
        return 2
    problems = []
    for cid in cat:
        if cid not in c and cid not in py:
            problems.append("%s has no case in either suite (clause: %s)" % (cid, cat[cid].title))
    for cid, where in sorted({**c, **py}.items()):
        if cid not in cat:
            srcs = sorted(c.get(cid, set()) | py.get(cid, set()))
            problems.append("%s is cited by %s but fixtures/clauses.yaml has no such clause"
                            % (cid, ", ".join(srcs)))
    if os.path.exists(errtable.default_path(root)):
        try:
            for d in errtable.check(root):
                problems.append("fixtures/socket-errors.yaml disagrees with reference/include/apmsock.h: " + d)
        except (OSError, errtable.TableError) as e:
            print("lint-catalogue: malformed: %s" % e, file=out)
            return 2
    try:
        problems.extend(peers.check(root))
    except (OSError, yaml.YAMLError, AttributeError, TypeError) as e:
        print("lint-catalogue: malformed: fixtures/peers.yaml: %s" % e, file=out)
        return 2
    for t in uncited_tests(root):
        problems.append("%s cites no clause (add @pytest.mark.clause(\"ID\") and name it test_<FAM>_<NN>_...)" % t)
    for p in problems:
        print("lint-catalogue: %s" % p, file=out)
    only_c = sorted(k for k in cat if k in c and k not in py)
    only_py = sorted(k for k in cat if k in py and k not in c)
    print("lint-catalogue: %d clauses; C suite cites %d, harness cites %d%s%s; %s"
          % (len(cat), len(set(c) & set(cat)), len(set(py) & set(cat)),
             "; C only: " + ", ".join(only_c) if only_c else "",
             "; harness only: " + ", ".join(only_py) if only_py else "",
             "%d problem(s)" % len(problems) if problems else "ok"), file=out)
    return 1 if problems else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.dirname(HERE), help="project root")
    ap.add_argument("--seeds", default=None,
                    help="folder of the seed documents (or $APMSOCK_SEEDS): the quoted sentences are "
                         "checked verbatim against them; without it that check is skipped")
    args = ap.parse_args(argv)
    seeds = args.seeds or os.environ.get("APMSOCK_SEEDS") or None
    if seeds is None:
        print("lint-catalogue: seed check skipped: no seed folder given "
              "(--seeds DIR, APMSOCK_SEEDS=DIR or make lint-catalogue SEEDS_DIR=DIR)")
    elif not os.path.isdir(seeds):
        print("lint-catalogue: usage error: seed folder %s does not exist" % seeds, file=sys.stderr)
        return 2
    else:
        print("lint-catalogue: checking the quoted sentences verbatim against %s" % seeds)
    return lint(args.root, seeds)


if __name__ == "__main__":
    sys.exit(main())
