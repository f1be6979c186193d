#!/usr/bin/env bash
# `make conformance`: build, run the C suite and the harness against IMPL, write
# reports/, exit with the gate's code (docs/DESIGN.md section 4):
#   0 results match the baseline, 1 regression, 2 only unexpected passes,
#   3 harness error (something could not run or its output is broken), 4 usage.
# Every step runs even when an earlier one found a regression, so the report is whole;
# the exit code is the worst of the steps (usage > harness error > regression > unexpected pass).
# The C suite and the harness are independent (their own processes, ports 0, files): they run
# side by side, the C suite's lines held back in a log and printed whole after the harness's;
# the harness judges both profiles in one execution (harness/conform --profile both).
set -uo pipefail
cd "$(dirname "$0")/../.."

IMPL=${IMPL:-reference}
IMPL_LIB=${IMPL_LIB:-}
COMPARE=${COMPARE:-}
# An implementation outside the suite (harness/conform --impl-file / --adapter-cmd),
# and a baseline anywhere: nothing in the checkout is edited.
IMPL_FILE=${IMPL_FILE:-}
ADAPTER_CMD=${ADAPTER_CMD:-}
BASELINE=${BASELINE:-}
REPORTS=${REPORTS:-reports}
PYTHON=${PYTHON:-/usr/bin/python3}
MAKE=${MAKE:-make}
RUNNER=${RUNNER:-harness/conform}
APM_REPORT="$PYTHON harness/report/apm-report"

say() { printf 'conformance: %s\n' "$*"; }
steps=()
record() { steps+=("$1=$2"); }

case $IMPL in
  ''|*[!A-Za-z0-9_.-]*) say "usage: IMPL must be an implementation id like reference or mono, not '$IMPL'"; exit 4 ;;
esac
if [ -n "$COMPARE" ] && [ ! -r "$COMPARE" ]; then
  say "usage: COMPARE=$COMPARE: no such file"; exit 4
fi
if [ -n "$BASELINE" ] && [ ! -r "$BASELINE" ]; then
  say "usage: BASELINE=$BASELINE: no such file"; exit 4
fi
if [ -n "$IMPL_FILE" ] && [ ! -r "$IMPL_FILE" ]; then
  say "usage: IMPL_FILE=$IMPL_FILE: no such file"; exit 4
fi
runner_impl=()
if [ -n "$IMPL_FILE" ]; then
  # the file names the implementation (its id:, else its stem) unless IMPL is given
  if [ "$IMPL" = reference ]; then
    IMPL=$($PYTHON -c 'import sys; sys.path.insert(0, "harness")
from apmsock_harness import registry
print(registry.resolve(".", impl_file=sys.argv[1]).name)' "$IMPL_FILE") || { say "usage: IMPL_FILE=$IMPL_FILE is not an implementation file"; exit 4; }
  fi
  runner_impl+=(--impl-file "$IMPL_FILE")
fi
[ -n "$ADAPTER_CMD" ] && runner_impl+=(--adapter-cmd "$ADAPTER_CMD")
[ -n "$BASELINE" ] && runner_impl+=(--baseline "$BASELINE")
[ -n "$BASELINE" ] || BASELINE=fixtures/baselines/$IMPL.yaml

# The harness runs what fixtures/implementations.yaml knows how to start.
has_adapter=$($PYTHON -c 'import sys, yaml; d = yaml.safe_load(open("fixtures/implementations.yaml")) or {}
print("yes" if sys.argv[1] in (d.get("implementations") or {}) else "no")' "$IMPL" 2>/dev/null || echo unknown)
if [ -n "$IMPL_FILE$ADAPTER_CMD" ]; then
  profiles="both"
elif [ "$has_adapter" = no ] && [ -n "$IMPL_LIB" ]; then
  say "harness skipped: fixtures/implementations.yaml has no adapter for $IMPL (the C suite checked IMPL_LIB)"
  profiles=""
elif [ "$has_adapter" = no ]; then
  say "usage: $IMPL is neither in fixtures/implementations.yaml nor given as IMPL_FILE=, ADAPTER_CMD= or IMPL_LIB=path"
  exit 4
else
  profiles="both"
fi

# An implementation whose command needs an optional program (the .NET SDK):
# without it nothing of this run could mean anything, so one line and exit 4.
missing=$(cd harness && $PYTHON -c 'import sys; from apmsock_harness import registry
print(registry.missing_requirement("..", sys.argv[1]) or "")' "$IMPL" 2>/dev/null)
if [ -n "$missing" ]; then
  say "usage: $missing"; exit 4
fi

say "build"
if ! $MAKE --no-print-directory all; then
  say "the build failed: nothing can run (harness error)"; exit 3
fi

mkdir -p "$REPORTS/runs" "$REPORTS/junit"
# A run that dies must not leave an older run's file to be reported as current.
rm -f "$REPORTS"/runs/"$IMPL"-*.json "$REPORTS"/junit/*-"$IMPL"-*.xml

# The C suite checks C libraries only: the reference, or IMPL_LIB.  It runs in the
# background: its steps go to $c_steps (one name=code a line), its lines to $c_log.
c_log=$(mktemp) c_steps=$(mktemp)
trap 'rm -f "$c_log" "$c_steps"' EXIT
c_suite() {
  record() { printf '%s=%s\n' "$1" "$2" >> "$c_steps"; }
  say "C suite against ${IMPL_LIB:-the reference}"
  # conformance/build.mk writes $(REPORTS)/c/check-<impl>.check.xml (Check), .tap, and the run's
  # JUnit in $(REPORTS)/junit/; its make fails only when the run broke (a test failure is in the
  # XML, not in the status).
  xml=$REPORTS/c/check-$IMPL.check.xml
  rm -f "$xml"
  $MAKE --no-print-directory conformance-c ${IMPL_LIB:+IMPL_LIB="$IMPL_LIB"} IMPL="$IMPL" REPORTS="$REPORTS"
  c_make=$?
  if [ $c_make -ne 0 ]; then
    say "the C suite's run broke (make exited $c_make): harness error"
    record c-suite-run 3
  fi
  if [ ! -s "$xml" ]; then
    say "the C suite wrote no $xml: harness error"
    record c-suite 3
  else
    extra=()
    [ -s "$REPORTS/c/list-$IMPL.txt" ] && extra+=(--expect-list "$REPORTS/c/list-$IMPL.txt")
    [ -s "$REPORTS/c/info-$IMPL.log" ] && extra+=(--info-log "$REPORTS/c/info-$IMPL.log")
    $APM_REPORT convert-check "$xml" "${extra[@]}" --impl "$IMPL" ${IMPL_LIB:+--library "$IMPL_LIB"} \
      --baseline "$BASELINE" --out "$REPORTS/runs/$IMPL-c-documented.json"
    record c-suite $?
  fi
}
c_pid=
if [ "$IMPL" = reference ] || [ -n "$IMPL_LIB" ]; then
  c_suite > "$c_log" 2>&1 &
  c_pid=$!
  say "C suite started beside the harness (its output follows the harness's)"
else
  say "C suite skipped: $IMPL is not a C library (give IMPL_LIB=path to check one)"
fi

for profile in $profiles; do
  say "harness, both profiles from one execution"
  if [ ! -x "$RUNNER" ]; then
    say "$RUNNER is missing: harness error"; record harness 3; continue
  fi
  # One line per failing case: the evidence is in the report, and a foreign
  # implementation's expected failures would otherwise bury the gate's verdict.
  # HARNESS_WORKERS: the harness's xdist workers (default conform's 4: beside
  # the C suite, 4 measured 9.4-10.9 s, 3 10.2-10.8 s, 2 10.7-11.9 s).
  workers=${HARNESS_WORKERS:-}
  "$RUNNER" --impl "$IMPL" "${runner_impl[@]}" --profile "$profile" --reports "$REPORTS" \
    ${workers:+-n "$workers"} -- --tb=line
  rc=$?
  for p in documented portable; do
    if [ ! -s "$REPORTS/runs/$IMPL-harness-$p.json" ] && [ "$rc" -ne 4 ]; then
      say "the harness wrote no run file for $p (exit $rc): harness error"; rc=3
    fi
  done
  record harness "$rc"
done

if [ -n "$c_pid" ]; then
  wait "$c_pid"
  cat "$c_log"
  while IFS= read -r step; do steps+=("$step"); done < "$c_steps"
fi

say "reports"
$APM_REPORT build --reports "$REPORTS" ${COMPARE:+--compare "$COMPARE"} --baseline "$IMPL=$BASELINE"
record report $?

$APM_REPORT combine --impl "$IMPL" --write "$REPORTS/gate.json" "${steps[@]}"
gate=$?
say "see $REPORTS/index.html and $REPORTS/findings.html"
exit "$gate"
