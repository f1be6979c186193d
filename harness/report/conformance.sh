#!/usr/bin/env bash
# `make conformance`: build, run the C suite and the harness against IMPL, write
# reports/, exit with the gate's code (SPEC section 4):
#   0 results match the baseline, 1 regression, 2 only unexpected passes,
#   3 harness error (something could not run or its output is broken), 4 usage.
# Every step runs even when an earlier one found a regression, so the report is whole;
# the exit code is the worst of the steps (usage > harness error > regression > unexpected pass).
set -uo pipefail
cd "$(dirname "$0")/../.."

IMPL=${IMPL:-reference}
IMPL_LIB=${IMPL_LIB:-}
COMPARE=${COMPARE:-}
REPORTS=${REPORTS:-reports}
PYTHON=${PYTHON:-/usr/bin/python3}
MAKE=${MAKE:-make}
RUNNER=${RUNNER:-harness/conform}
APM_REPORT="$PYTHON harness/report/apm-report"
BASELINE=fixtures/baselines/$IMPL.yaml

say() { printf 'conformance: %s\n' "$*"; }
steps=()
record() { steps+=("$1=$2"); }

case $IMPL in
  ''|*[!A-Za-z0-9_.-]*) say "usage: IMPL must be an implementation id like reference or mono, not '$IMPL'"; exit 4 ;;
esac
if [ -n "$COMPARE" ] && [ ! -r "$COMPARE" ]; then
  say "usage: COMPARE=$COMPARE: no such file"; exit 4
fi

say "build"
if ! $MAKE --no-print-directory all; then
  say "the build failed: nothing can run (harness error)"; exit 3
fi

mkdir -p "$REPORTS/runs" "$REPORTS/junit"
# A run that dies must not leave an older run's file to be reported as current.
rm -f "$REPORTS"/runs/"$IMPL"-*.json "$REPORTS"/junit/*-"$IMPL"-*.xml

# The C suite checks C libraries only: the reference, or IMPL_LIB.
if [ "$IMPL" = reference ] || [ -n "$IMPL_LIB" ]; then
  say "C suite against ${IMPL_LIB:-the reference}"
  rm -f "$REPORTS"/c/*.xml
  $MAKE --no-print-directory conformance-c ${IMPL_LIB:+IMPL_LIB="$IMPL_LIB"} REPORTS="$REPORTS"
  c_make=$?
  shopt -s nullglob
  xml=("$REPORTS"/c/*.xml)
  shopt -u nullglob
  if [ ${#xml[@]} -eq 0 ]; then
    say "the C suite wrote no XML under $REPORTS/c/ (make exited $c_make): harness error"
    record c-suite 3
  else
    $APM_REPORT convert-check "${xml[@]}" --impl "$IMPL" ${IMPL_LIB:+--library "$IMPL_LIB"} \
      --baseline "$BASELINE" --out "$REPORTS/runs/$IMPL-c-documented.json"
    record c-suite $?
  fi
else
  say "C suite skipped: $IMPL is not a C library (give IMPL_LIB=path to check one)"
fi

for profile in documented portable; do
  say "harness, $profile profile"
  if [ ! -x "$RUNNER" ]; then
    say "$RUNNER is missing: harness error"; record "harness-$profile" 3; continue
  fi
  "$RUNNER" --impl "$IMPL" --profile "$profile" --reports "$REPORTS"
  rc=$?
  if [ ! -s "$REPORTS/runs/$IMPL-harness-$profile.json" ] && [ "$rc" -ne 4 ]; then
    say "the harness wrote no run file (exit $rc): harness error"; rc=3
  fi
  record "harness-$profile" "$rc"
done

say "reports"
$APM_REPORT build --reports "$REPORTS" ${COMPARE:+--compare "$COMPARE"}
record report $?

$APM_REPORT combine --impl "$IMPL" --write "$REPORTS/gate.json" "${steps[@]}"
gate=$?
say "see $REPORTS/index.html and $REPORTS/findings.html"
exit "$gate"
