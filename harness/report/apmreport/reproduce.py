"""The command that re-runs one case, per suite. One place, so it follows the runners' CLIs:
harness/conform selects a case by its exact id (--case); the C suite's runner by the test
function's name (--only GLOB, conformance/runner.c)."""

import shlex

HARNESS = "harness/conform --impl {impl} --profile {profile} --case {case_id}"
C_REFERENCE = "make conformance-c-bin && build/release/bin/apmsock-conformance --only {function}"
C_LIBRARY = ("make conformance-c-bin IMPL_LIB={lib} IMPL={impl} && "
             "build/release/bin/apmsock-conformance-{impl} --only {function}")


def command(run, case):
    impl = run["implementation"]["id"]
    if run["suite"] == "harness":
        cmd = HARNESS.format(impl=shlex.quote(impl), profile=shlex.quote(run["profile"]),
                             case_id=shlex.quote(case["case_id"]))
        # an implementation outside the suite is started the way its run was
        src = run["implementation"]
        if src.get("impl_file"):
            cmd += " --impl-file " + shlex.quote(src["impl_file"])
        elif src.get("adapter_cmd"):
            cmd += " --adapter-cmd " + shlex.quote(src["adapter_cmd"])
        return cmd
    info = (case.get("evidence") or {}).get("info") or {}
    fn = shlex.quote(info.get("function") or "test_" + case["clause"].replace("-", "_") + "_*")
    lib = run["implementation"].get("library")
    if lib:
        return C_LIBRARY.format(lib=shlex.quote(lib), impl=shlex.quote(impl), function=fn)
    return C_REFERENCE.format(function=fn)
