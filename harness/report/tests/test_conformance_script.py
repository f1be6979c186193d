"""harness/report/conformance.sh, the recipe of `make conformance`, with stand-ins for make
and the harness runner: every step runs, the exit code is the worst step's, gate.json says why."""
import json
import os
import subprocess


from conftest import DATA, REPORT

SCRIPT = os.path.join(REPORT, "conformance.sh")

CHECK_XML = """<?xml version="1.0"?>
<testsuites xmlns="http://check.sourceforge.net/ns"><datetime>2026-11-22 00:00:00</datetime>
<suite><title>apmsock</title>
<test result="%s"><path>.</path><fn>t.c:1</fn><id>test_CONN_07_udp_v4_send_to</id><iteration>0</iteration>
<duration>0.01</duration><description>CONN</description><message>%s</message></test>
</suite><duration>0.01</duration></testsuites>
"""


def _stub(path, body):
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)
    return str(path)


def run(tmp_path, runner_exit=0, c_result="success", build_ok=True, impl="reference", runner_writes=True,
        extra_env=None):
    reports = tmp_path / "reports"
    (tmp_path / "check.xml").write_text(CHECK_XML % (c_result, "Passed" if c_result == "success" else "boom"))
    make = _stub(tmp_path / "make", """
for a in "$@"; do case $a in
  all) exit %d ;;
  conformance-c) mkdir -p "%s/c"; cp "%s/check.xml" "%s/c/check-%s.check.xml"; exit 0 ;;
esac; done; exit 0
""" % (0 if build_ok else 2, reports, tmp_path, reports, impl))
    src = os.path.join(DATA, "runs", "reference-harness-documented.json")
    runner = _stub(tmp_path / "conform", """
printf '%%s\\n' "$@" >> "%s/runner-args"
while [ $# -gt 0 ]; do case $1 in --impl) i=$2; shift 2;; --profile) p=$2; shift 2;; --reports) r=$2; shift 2;; *) shift;; esac; done
[ "$p" = both ] && p="documented portable"
for p in $p; do %s; done
exit %d
""" % (tmp_path, 'sed "s/\\"profile\\": \\"documented\\"/\\"profile\\": \\"$p\\"/" "%s" > "$r/runs/$i-harness-$p.json"' % src
       if runner_writes else ":", runner_exit))
    env = dict(os.environ, IMPL=impl, REPORTS=str(reports), MAKE=make, RUNNER=runner,
               PYTHON="/usr/bin/python3", IMPL_LIB="", COMPARE="", IMPL_FILE="", ADAPTER_CMD="", BASELINE="")
    env.update(extra_env or {})
    p = subprocess.run(["bash", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    gate = json.loads((reports / "gate.json").read_text()) if (reports / "gate.json").exists() else None
    return p, gate, reports


def test_all_match_is_exit_0_and_a_whole_report(tmp_path):
    p, gate, reports = run(tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert gate["steps"] == {"c-suite": 0, "harness": 0, "report": 0}
    assert sorted(os.listdir(reports / "runs")) == ["reference-c-documented.json", "reference-harness-documented.json",
                                                    "reference-harness-portable.json"]
    assert (reports / "index.html").exists() and (reports / "junit" / "c-reference-documented.xml").exists()
    # one harness execution for both profiles, beside the C suite, whose lines come whole after it
    assert "--profile\nboth" in (tmp_path / "runner-args").read_text()
    assert p.stdout.index("harness, both profiles") < p.stdout.index("C suite against")


def test_c_suite_failure_is_a_regression_and_the_harness_still_runs(tmp_path):
    p, gate, reports = run(tmp_path, c_result="failure")
    assert p.returncode == 1
    assert gate["steps"]["c-suite"] == 1 and gate["steps"]["harness"] == 0
    assert (reports / "index.html").exists()


def test_worst_step_wins(tmp_path):
    p, gate, _ = run(tmp_path, runner_exit=2, c_result="failure")
    assert p.returncode == 1  # regression outranks an unexpected pass


def test_runner_that_writes_nothing_is_a_harness_error(tmp_path):
    p, gate, _ = run(tmp_path, runner_exit=0, runner_writes=False)
    assert p.returncode == 3 and "wrote no run file" in p.stdout


def test_build_failure_is_a_harness_error(tmp_path):
    p, gate, _ = run(tmp_path, build_ok=False)
    assert p.returncode == 3 and "build failed" in p.stdout


def test_unknown_implementation_is_a_usage_error(tmp_path):
    p, gate, _ = run(tmp_path, impl="no-such-impl")
    assert p.returncode == 4 and "neither in fixtures/implementations.yaml" in p.stdout


def test_bad_impl_name_is_a_usage_error(tmp_path):
    p, gate, _ = run(tmp_path, impl="../etc")
    assert p.returncode == 4


def test_outside_implementation_passes_through(tmp_path):
    """ADAPTER_CMD and BASELINE reach the harness runner as they were given; an
    implementation outside the registry is no usage error then; the C suite is skipped."""
    bl = tmp_path / "mine.yaml"
    bl.write_text("expected: []\n")
    p, gate, reports = run(tmp_path, impl="mine", extra_env={"ADAPTER_CMD": "/x/my adapter --fast",
                                                              "BASELINE": str(bl)})
    assert p.returncode == 0, p.stdout + p.stderr
    args = (tmp_path / "runner-args").read_text().splitlines()
    assert "--adapter-cmd\n/x/my adapter --fast\n--baseline\n%s" % bl in "\n".join(args), args
    assert gate["steps"] == {"harness": 0, "report": 0}


def test_missing_baseline_file_is_a_usage_error(tmp_path):
    p, gate, _ = run(tmp_path, extra_env={"BASELINE": str(tmp_path / "absent.yaml")})
    assert p.returncode == 4 and "BASELINE" in p.stdout
