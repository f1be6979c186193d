"""Where a C file can be mutated, and how.

A light tokenizer (comments, strings, character literals and preprocessor
lines are never mutated) walks one file and yields Mutant records, one per
site and replacement.  Operators, named as the report shows them:

  ROR    relational operator replaced (<  <=, >  >=, ==  !=)
  LCR    logical connector replaced (&&  ||)
  NEG    the condition of an if/while negated
  ERR    an error kind or SocketError constant replaced by another
  CALL   a call statement deleted
  CONST  an integer literal +1 / -1
  RET    an early return deleted

Only function bodies are mutated (a '{' that follows ')' at file level opens
one), and never a line with a coverage-exclusion marker: those lines are
reached only by races or allocation failure, so no suite can be asked to
kill their mutants.
"""
import hashlib
import re
from dataclasses import dataclass, field

EXCLUDE_MARKERS = ("GCOVR_EXCL", "LCOV_EXCL")

ROR = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
LCR = {"&&": "||", "||": "&&"}

# The contract's error kinds, in the header's order (APMSOCK_KIND_MAP).
KINDS = ["OK", "ARGUMENT_NULL", "ARGUMENT_OUT_OF_RANGE", "ARGUMENT", "INVALID_OPERATION",
         "OBJECT_DISPOSED", "SOCKET", "SECURITY", "NOT_SUPPORTED"]

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<number>0[xX][0-9a-fA-F]+[uUlL]*|\d+(?:\.\d+)?[uUlLfF]*)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<op>->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!~<>=?:;,.(){}\[\]])
  | (?P<other>.)
""", re.S | re.X)


@dataclass
class Token:
    kind: str
    text: str
    start: int  # offset in the file
    line: int


@dataclass
class Mutant:
    file: str       # path relative to the project root
    line: int
    col: int
    operator: str
    before: str     # the source text replaced
    after: str      # what replaces it
    start: int      # offsets in the original file
    end: int
    function: str
    context: str = field(default="")  # the original line, stripped
    occurrence: int = 0  # how many identical sites (same line text) precede it

    @property
    def key(self):
        """Stable across edits elsewhere in the file: the line's text, not its
        number, names the site (an occurrence index separates repeats)."""
        h = hashlib.sha1("\0".join([self.file, self.context, self.operator, str(self.col),
                                    self.before, self.after, str(self.occurrence)]).encode())
        return h.hexdigest()[:12]

    def apply(self, source):
        return source[:self.start] + self.after + source[self.end:]

    def as_dict(self):
        return {"key": self.key, "file": self.file, "line": self.line, "col": self.col,
                "operator": self.operator, "before": self.before, "after": self.after,
                "function": self.function, "context": self.context}


def _blank_directives(source):
    """Preprocessor lines (with their continuations) become spaces, newlines
    kept, so offsets and line numbers stay those of the file."""
    out = []
    continued = False
    for text in source.split("\n"):
        if continued or text.lstrip().startswith("#"):
            continued = text.endswith("\\")
            out.append(" " * len(text))
        else:
            out.append(text)
    return "\n".join(out)


def tokenize(source):
    """Tokens outside preprocessor lines; comments and whitespace dropped."""
    text = _blank_directives(source)
    out = []
    line = 1
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m.lastgroup not in ("ws", "comment"):
            out.append(Token(m.lastgroup, m.group(), pos, line))
        line += m.group().count("\n")
        pos = m.end()
    return out


def _excluded_lines(lines):
    """1-based line numbers that carry a marker or sit in a START/STOP region."""
    out = set()
    region = False
    for i, text in enumerate(lines, 1):
        if any(m + "_START" in text for m in EXCLUDE_MARKERS):
            region = True
        if region or any(m in text for m in EXCLUDE_MARKERS):
            out.add(i)
        if any(m + "_STOP" in text for m in EXCLUDE_MARKERS):
            region = False
    return out


def _match_paren(tokens, i):
    """Index of the ')' that closes tokens[i] == '(' (None if unbalanced)."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].text == "(":
            depth += 1
        elif tokens[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    return None


def _bodies(tokens):
    """For each token index: the enclosing function's name, or None outside
    a function body; and the brace depth inside that body."""
    func = [None] * len(tokens)
    depth_in = [0] * len(tokens)
    depth = 0
    current = None
    body_depth = 0
    for i, t in enumerate(tokens):
        if t.text == "{":
            if depth == 0 and i > 0 and tokens[i - 1].text == ")":
                # the name is the identifier before the parameter list
                j = i - 1
                d = 0
                while j >= 0:
                    if tokens[j].text == ")":
                        d += 1
                    elif tokens[j].text == "(":
                        d -= 1
                        if d == 0:
                            break
                    j -= 1
                current = tokens[j - 1].text if j > 0 else "?"
                body_depth = 0
            depth += 1
            if current:
                body_depth += 1
        func[i] = current
        depth_in[i] = body_depth
        if t.text == "}":
            depth -= 1
            if current:
                body_depth -= 1
                if depth == 0:
                    current = None
    return func, depth_in


def mutants(relpath, source):
    """Every mutant of one file, in source order."""
    lines = source.split("\n")
    skip = _excluded_lines(lines)
    tokens = tokenize(source)
    func, depth = _bodies(tokens)
    line_start = [0]
    for text in lines:
        line_start.append(line_start[-1] + len(text) + 1)
    out = []

    def add(op, i_first, i_last, after, start=None, end=None):
        first, last = tokens[i_first], tokens[i_last]
        s = first.start if start is None else start
        e = last.start + len(last.text) if end is None else end
        if first.line in skip or last.line in skip:
            return
        out.append(Mutant(file=relpath, line=first.line, col=s - line_start[first.line - 1] + 1,
                          operator=op, before=source[s:e], after=after, start=s, end=e,
                          function=func[i_first] or "?", context=lines[first.line - 1].strip()))

    for i, t in enumerate(tokens):
        if func[i] is None or t.text == "{" and depth[i] == 1:
            continue
        prev = tokens[i - 1].text if i else ""
        if t.kind == "op" and t.text in ROR:
            add("ROR", i, i, ROR[t.text])
        elif t.kind == "op" and t.text in LCR:
            add("LCR", i, i, LCR[t.text])
        elif t.kind == "ident" and t.text in ("if", "while") and i + 1 < len(tokens) \
                and tokens[i + 1].text == "(":
            close = _match_paren(tokens, i + 1)
            if close is not None and close > i + 2:
                inner = source[tokens[i + 2].start:tokens[close - 1].start + len(tokens[close - 1].text)]
                add("NEG", i + 2, close - 1, "!(%s)" % inner)
        elif t.kind == "ident" and t.text.startswith("APMSOCK_"):
            after = _other_error(t.text)
            if after:
                add("ERR", i, i, after)
        elif t.kind == "number" and re.fullmatch(r"\d+[uUlL]*", t.text) and prev not in ("[",):
            value = int(re.match(r"\d+", t.text).group())
            suffix = t.text[len(str(value)):] if t.text.startswith(str(value)) else ""
            add("CONST", i, i, "%d%s" % (value + 1, suffix))
            if value > 0:
                add("CONST", i, i, "%d%s" % (value - 1, suffix))
        elif t.kind == "ident" and t.text == "return" and prev in (")", "{", ";", "}", "else"):
            semi = _statement_end(tokens, i)
            if semi is not None and _is_early(tokens, i, semi, depth):
                add("RET", i, semi, ";")
        elif t.kind == "ident" and prev in (";", "{", "}") and i + 1 < len(tokens) \
                and tokens[i + 1].text == "(" and t.text not in ("if", "while", "for", "switch",
                                                                   "return", "sizeof"):
            close = _match_paren(tokens, i + 1)
            if close is not None and close + 1 < len(tokens) and tokens[close + 1].text == ";":
                add("CALL", i, close + 1, ";")
    seen = {}
    for m in out:
        site = (m.context, m.operator, m.col, m.before, m.after)
        m.occurrence = seen.get(site, 0)
        seen[site] = m.occurrence + 1
    return out


def _other_error(name):
    if name.startswith("APMSOCK_SE_"):
        return "APMSOCK_SE_SOCKET_ERROR" if name != "APMSOCK_SE_SOCKET_ERROR" else "APMSOCK_SE_SUCCESS"
    kind = name[len("APMSOCK_"):]
    if kind in KINDS:
        return "APMSOCK_" + (KINDS[(KINDS.index(kind) + 1) % len(KINDS)] if kind != "OK" else "SOCKET")
    return None


def _statement_end(tokens, i):
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].text in "([":
            depth += 1
        elif tokens[j].text in ")]":
            depth -= 1
        elif tokens[j].text == ";" and depth == 0:
            return j
        elif tokens[j].text in "{}":
            return None
    return None


def _is_early(tokens, i, semi, depth):
    """A return inside a nested block or as the body of a one-line if: not the
    function's last word, so deleting it changes control flow and still
    compiles."""
    if depth[i] >= 2:
        return True
    return i > 0 and tokens[i - 1].text == ")"
