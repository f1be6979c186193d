"""Failure signatures: a stable key of the check that failed.

A non-PASS verdict says *that* a case failed; its signature says *which
check* failed, so that the gate can tell "still failing, same way" from
"failing for a new reason".  The key is made from the code, never from the
message text (messages carry values: byte counts, ports, exception text):

  assertion  the chain of harness frames from the case down to the failing
             check; each frame contributes its function name and the source
             of the statement it was in (for an `assert`, its condition
             without the message), parsed with ast, so that moving the code
             (line numbers) or rewording a message changes nothing.  Readable
             part: the innermost check; then '#' and 8 hex of a hash of the
             whole chain (two calls of one helper differ there).
  error      error:<mode>[:<signal>] (crash, timeout, garbage, protocol);
             an unexpected exception: error:<ExceptionType>#<hash>.
  others     unsupported:<what is missing>, skip.

A case may also give a key itself: h.check(fn, key="...") (verdict.Judge).
Design note: only frames whose file is under harness/ count, so pytest's
and Python's internals (which change between versions) never enter a key.
"""
import ast
import hashlib
import os
import re

HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Frames that only pass a failure on: they are the same for every check.
_PASS_ON = {("verdict.py", "check"), ("case.py", "check")}
_ast_cache = {}


def _statements(path):
    if path not in _ast_cache:
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), path)
            _ast_cache[path] = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
        except (OSError, SyntaxError, ValueError):
            _ast_cache[path] = []
    return _ast_cache[path]


def _statement_key(path, lineno):
    """The normalized source of the innermost statement holding lineno."""
    best = None
    for n in _statements(path):
        end = getattr(n, "end_lineno", n.lineno) or n.lineno
        if n.lineno <= lineno <= end:
            if best is None or (n.lineno, -end) >= (best.lineno, -(best.end_lineno or best.lineno)):
                best = n
    if best is None:
        return "?"
    if isinstance(best, ast.Assert):
        return "assert " + ast.unparse(best.test)
    if isinstance(best, ast.Raise):
        exc = best.exc.func if isinstance(best.exc, ast.Call) else best.exc
        return "raise " + (ast.unparse(exc) if exc is not None else "")
    for field in ("test", "iter", "items"):   # a compound statement: its header only
        if hasattr(best, field) and getattr(best, "body", None) is not None:
            v = getattr(best, field)
            return "%s %s" % (type(best).__name__.lower(),
                              ", ".join(ast.unparse(x) for x in v) if isinstance(v, list) else ast.unparse(v))
    return ast.unparse(best)


def _frames(tb):
    out = []
    while tb is not None:
        code = tb.tb_frame.f_code
        path = os.path.abspath(code.co_filename)
        if path.startswith(HARNESS + os.sep) and (os.path.basename(path), code.co_name) not in _PASS_ON:
            out.append((code.co_name, _statement_key(path, tb.tb_lineno)))
        tb = tb.tb_next
    return out


def _short(s, n=100):
    s = re.sub(r"\s+", " ", s).strip()
    return s if len(s) <= n else s[:n - 3] + "..."


def of_exception(exc):
    """The signature of a check that raised exc (with its traceback)."""
    key = getattr(exc, "apmsock_key", None)
    if key:
        return str(key)
    chain = _frames(exc.__traceback__)
    digest = hashlib.sha1("|".join("%s:%s" % f for f in chain).encode()).hexdigest()[:8]
    if isinstance(exc, AssertionError):
        if not chain:
            return "assert #" + digest
        fn, stmt = chain[-1]
        return "%s: %s #%s" % (fn, _short(stmt), digest)
    return "error:%s#%s" % (type(exc).__name__, digest)


def of_error(mode, signal=None):
    return "error:%s%s" % (mode, ":" + signal if signal else "")


def of_unsupported(message):
    """unsupported:<the missing capability or registry feature>."""
    m = re.search(r"(?:capabilit(?:y|ies)|feature) ([\w, -]+)", message or "")
    return "unsupported:" + (m.group(1).replace(" ", "") if m else "adapter")
