"""The verdicts, in one table: severity (worst wins in a matrix cell), colour, JUnit shape.

A row per verdict, like an X-macro table: every other module reads from here
so that adding a verdict is a one-line change.
"""

# name,        severity, background, foreground, junit element ("" = passed)
_TABLE = (
    ("PASS",        0, "#2e7d32", "#ffffff", ""),
    ("SKIP",        1, "#9e9e9e", "#ffffff", "skipped"),
    ("UNSUPPORTED", 2, "#5c7a99", "#ffffff", "skipped"),
    ("NON-STRICT",  3, "#ef8f00", "#000000", ""),
    ("FAIL",        4, "#c62828", "#ffffff", "failure"),
    ("ERROR",       5, "#4a148c", "#ffffff", "error"),
)

VERDICTS = tuple(row[0] for row in _TABLE)
SEVERITY = {row[0]: row[1] for row in _TABLE}
COLOUR = {row[0]: (row[2], row[3]) for row in _TABLE}
JUNIT = {row[0]: row[4] for row in _TABLE}
# A clause with no case for an implementation still gets its cell.
NONE_COLOUR = ("#eeeeee", "#555555")


def worst(verdicts):
    """The most severe verdict of an iterable, or None when it is empty."""
    best = None
    for v in verdicts:
        if best is None or SEVERITY[v] > SEVERITY[best]:
            best = v
    return best


def css_class(verdict):
    return "v-" + (verdict or "none").lower().replace("-", "")
