"""The gate: a run against its baseline, and the exit codes of SPEC section 4."""

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
            return EXIT_HARNESS  # a tool died some other way (make's 2 is mapped before this)
    for c in _PRECEDENCE:
        if c in codes:
            return c
    return EXIT_MATCH


def _shape(verdict, mode=None, signal=None):
    out = {"verdict": verdict}
    if mode:
        out["mode"] = mode
    if signal:
        out["signal"] = signal
    return out


def evaluate(run, baseline):
    """Fill run["gate"] from the baseline; return the exit code."""
    diffs = []
    worst = EXIT_MATCH
    for c in run["cases"]:
        e = baseline.lookup(run["suite"], run["profile"], c)
        exp = _shape("PASS") if e is None else _shape(e.get("verdict", "FAIL"), e.get("mode"),
                                                     e.get("signal"))
        act = _shape(c["verdict"], c.get("mode"), c.get("signal"))
        if c["verdict"] == "SKIP":
            continue  # the environment lacked something: not the implementation's doing
        if exp["verdict"] == act["verdict"] and ("mode" not in exp or exp.get("mode") == act.get("mode")) \
                and ("signal" not in exp or exp.get("signal") == act.get("signal")):
            continue
        if act["verdict"] == "PASS":
            kind = EXIT_UNEXPECTED_PASS
        elif act["verdict"] == "ERROR":
            kind = EXIT_HARNESS
        else:
            kind = EXIT_REGRESSION
        worst = combine([worst, kind])
        diffs.append({"case_id": c["case_id"], "expected": exp, "actual": act,
                      "reason": (e or {}).get("reason")})
    status = {EXIT_MATCH: "match", EXIT_UNEXPECTED_PASS: "unexpected_pass",
              EXIT_REGRESSION: "regression", EXIT_HARNESS: "error"}[worst]
    run["gate"] = {"baseline": baseline.path, "status": status, "differences": diffs}
    return worst
