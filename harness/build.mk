# harness/: the pytest loopback harness (cases, adapter driver, runner) and
# the clause catalogue's lint.  Targets:
#   lint-catalogue   every clause has a case (C suite or harness), every case
#                    cites a known clause, every sentence is verbatim
#   check-harness    the harness's own tests (fake adapters included), then a
#                    full run against the reference in both profiles, gated
#                    on fixtures/baselines/reference.yaml (empty)
#   conform-harness  IMPL=reference|mono PROFILE=documented|portable

HARNESS_DIR  := harness
HARNESS_IMPL ?= $(or $(IMPL),reference)
SEEDS_DIR    ?= $(firstword $(wildcard shared/seeds ../shared/seeds /work/shared/seeds))

.PHONY: lint-catalogue check-harness check-harness-self conform-harness

lint-catalogue:
	$(PYTHON) $(HARNESS_DIR)/lint_catalogue.py $(if $(SEEDS_DIR),--seeds $(SEEDS_DIR))

check-harness-self:
	$(PYTHON) -m pytest $(HARNESS_DIR)/selftest -q -n 2

check-harness: check-harness-self $(REF_ADAPTER)
	$(PYTHON) $(HARNESS_DIR)/conform --impl reference --profile documented --adapter $(REF_ADAPTER) -q --reports $(REPORTS)
	$(PYTHON) $(HARNESS_DIR)/conform --impl reference --profile portable --adapter $(REF_ADAPTER) -q --reports $(REPORTS)

conform-harness:
	$(PYTHON) $(HARNESS_DIR)/conform --impl $(HARNESS_IMPL) --profile $(or $(PROFILE),documented) --reports $(REPORTS)

test: lint-catalogue check-harness
