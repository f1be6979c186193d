"""The command that re-runs one case, per suite. One place, so it follows the runners' CLIs."""

import shlex

# The harness runner selects one case by its exact case id; the C suite by Check's
# CK_RUN_CASE (the test case group) and, where the suite supports it, the function.
HARNESS = "harness/conform --impl {impl} --profile {profile} --case {case_id}"
C_SUITE = "make conformance-c{lib} CK_RUN_CASE={tcase} CK_RUN_TEST={function}"


def command(run, case):
    impl = run["implementation"]["id"]
    if run["suite"] == "harness":
        return HARNESS.format(impl=shlex.quote(impl), profile=shlex.quote(run["profile"]),
                              case_id=shlex.quote(case["case_id"]))
    info = (case.get("evidence") or {}).get("info") or {}
    lib = run.get("implementation", {}).get("library")
    return C_SUITE.format(lib=(" IMPL_LIB=" + shlex.quote(lib)) if lib else "",
                          tcase=shlex.quote(info.get("tcase") or "?"),
                          function=shlex.quote(info.get("function") or "?"))
