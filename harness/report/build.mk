# harness/report: the report step (results.json, JUnit, the HTML matrix and
# findings), the gate target `make conformance`, and `make coverage`.
#
#   make conformance                 the reference: C suite + harness (both profiles)
#   make conformance IMPL=mono       another implementation through its adapter
#   make conformance IMPL=x IMPL_LIB=path/libx.a   a C library: C suite + its adapter if any
#   make conformance COMPARE=old-results.json      also write reports/compare.html
#   make conformance IMPL_FILE=path/impl.yaml [BASELINE=path/baseline.yaml]
#   make conformance IMPL=name ADAPTER_CMD='cmd args' [BASELINE=path]
#                                    an implementation outside the suite (nothing in the checkout edited)
#   make report                      rebuild reports/ from reports/runs/*.json only
#   make coverage                    gcovr over reference/src, gate on the thresholds
#   make check-report                the report code's own tests (+ headless Chromium)
#
# make itself can only exit 0 or 2: the gate's exact code (docs/DESIGN.md section 4) is
# the recipe's ("Error 1" in make's message), reports/gate.json, and the exit
# code of harness/report/conformance.sh when called directly.

REPORT_DIR   := harness/report
APM_REPORT   := $(PYTHON) $(REPORT_DIR)/apm-report
IMPL         ?= reference
IMPL_LIB     ?=
COMPARE      ?=
IMPL_FILE    ?=
ADAPTER_CMD  ?=
BASELINE     ?=
# The coverage gate, in one place.
COV_LINE_MIN   ?= 95
COV_BRANCH_MIN ?= 85

.PHONY: conformance coverage report check-report check-report-browser
test: check-report

conformance:
	+@IMPL='$(IMPL)' IMPL_LIB='$(IMPL_LIB)' COMPARE='$(COMPARE)' REPORTS='$(REPORTS)' \
	  IMPL_FILE='$(IMPL_FILE)' ADAPTER_CMD='$(subst ','\'',$(ADAPTER_CMD))' BASELINE='$(BASELINE)' \
	  PYTHON='$(PYTHON)' MAKE='$(MAKE)' $(REPORT_DIR)/conformance.sh

report:
	$(APM_REPORT) build --reports $(REPORTS) $(if $(COMPARE),--compare $(COMPARE))

coverage:
	+@REPORTS='$(REPORTS)' PYTHON='$(PYTHON)' MAKE='$(MAKE)' \
	  COV_LINE_MIN='$(COV_LINE_MIN)' COV_BRANCH_MIN='$(COV_BRANCH_MIN)' $(REPORT_DIR)/coverage.sh

# Every report test but the headless-Chromium one, two workers (each test
# works in its own tmp_path).  The browser test is about 30 s of CPU, half of
# check-report's: it runs in check-report-browser, which CI runs once, on the
# final report of every implementation, rather than twice.
check-report:
	$(PYTHON) -m pytest -c $(REPORT_DIR)/pytest.ini -q -n 2 \
	  --ignore=$(REPORT_DIR)/tests/test_browser.py $(REPORT_DIR)/tests

# The browser test (skipped without Chromium): the synthetic report and, once
# `make conformance` has written one, the project's reports/index.html.
check-report-browser:
	$(PYTHON) -m pytest -c $(REPORT_DIR)/pytest.ini -q $(REPORT_DIR)/tests/test_browser.py
