"""The gate: a run against its baseline, and the exit codes of SPEC section 4.

Same rules as the harness runner's (harness/apmsock_harness/baseline.py), so that both
suites gate alike: any non-PASS verdict the baseline does not list (an ERROR included: the
implementation crashed or hung under a test) is a regression, as is a changed verdict or
mode; a PASS where the baseline expects otherwise is an unexpected pass. Exit 3 is kept for
a harness that could not produce results at all.
"""

EXIT_MATCH, EXIT_REGRESSION, EXIT_UNEXPECTED_PASS, EXIT_HARNESS, EXIT_USAGE = 0, 1, 2, 3, 4
# Worst first: the combined exit code of several steps is the first one present here.
_PRECEDENCE = (EXIT_USAGE, EXIT_HARNESS, EXIT_REGRESSION, EXIT_UNEXPECTED_PASS, EXIT_MATCH)
STATUS_EXIT = {"match": EXIT_MATCH, "regression": EXIT_REGRESSION,
               "unexpected_pass": EXIT_UNEXPECTED_PASS, "error": EXIT_HARNESS}


def combine(codes):
    """One exit code for several steps: usage > harness error > regression > unexpected pass."""
    codes = [int(c) for c in codes]
    for c in codes:
        if c not in _PRECEDENCE:
            return EXIT_HARNESS  # a tool died some other way (a signal, a shell error)
    for c in _PRECEDENCE:
        if c in codes:
            return c
    return EXIT_MATCH


def _shape(verdict, mode=None):
    return verdict + ("/" + mode if mode else "")


def evaluate(run, baseline):
    """Fill run["gate"] from the baseline; return the exit code."""
    diffs = []
    regression = unexpected = False
    for c in run["cases"]:
        e = baseline.lookup(run["suite"], run["profile"], c)
        actual = _shape(c["verdict"], c.get("mode"))
        if e is None:
            if c["verdict"] != "PASS":
                regression = True
                diffs.append({"case_id": c["case_id"], "expected": "PASS", "actual": actual,
                              "reason": "new non-PASS verdict: " + (c.get("message") or "")[:200]})
            continue
        want = _shape(e.get("verdict", "FAIL"), e.get("mode"))
        if c["verdict"] == "PASS":
            unexpected = True
            diffs.append({"case_id": c["case_id"], "expected": want, "actual": "PASS",
                          "reason": "unexpected pass (baseline: %s)" % e.get("reason")})
        elif c["verdict"] != e.get("verdict", "FAIL") or ("mode" in e and c.get("mode") != e["mode"]):
            regression = True
            diffs.append({"case_id": c["case_id"], "expected": want, "actual": actual,
                          "reason": "changed verdict or mode (baseline: %s)" % e.get("reason")})
    status = "regression" if regression else ("unexpected_pass" if unexpected else "match")
    run["gate"] = {"baseline": baseline.path, "status": status, "differences": diffs}
    return STATUS_EXIT[status]
