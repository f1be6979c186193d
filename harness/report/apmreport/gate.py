"""The gate: a run against its baseline, and the exit codes of docs/DESIGN.md section 4.

The rules are the harness runner's own code (harness/apmsock_harness/baseline.py: compare),
so that both suites gate alike: any non-PASS verdict the baseline does not list (an ERROR
included: the implementation crashed or hung under a test) is a regression, as is a changed
verdict or mode; a PASS where the baseline expects otherwise is an unexpected pass. Exit 3 is
kept for a harness that could not produce results at all.
"""

from apmsock_harness import baseline as harness_baseline
from apmsock_harness.baseline import (EXIT_HARNESS, EXIT_MATCH, EXIT_REGRESSION,
                                      EXIT_UNEXPECTED_PASS, EXIT_USAGE)

# Worst first: the combined exit code of several steps is the first one present here.
_PRECEDENCE = (EXIT_USAGE, EXIT_HARNESS, EXIT_REGRESSION, EXIT_UNEXPECTED_PASS, EXIT_MATCH)


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


def evaluate(run, baseline):
    """Fill run["gate"] from the baseline (a catalogue.Baseline); return the exit code."""
    status, diffs = harness_baseline.compare(run["cases"], baseline.entries, run["profile"], run["suite"])
    run["gate"] = {"baseline": baseline.path, "status": status, "differences": diffs}
    return harness_baseline.EXIT[status]
