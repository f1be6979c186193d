# harness/: the pytest loopback harness (cases, adapter driver, runner) and
# the clause catalogue's lint.  Targets:
#   lint-catalogue   every clause has a case (C suite or harness), every case
#                    cites a known clause, every sentence is verbatim (with
#                    SEEDS_DIR=the seed documents' folder), the error table
#                    data agrees with the header
#   check-harness-self  the harness's own tests (fake adapters included)
#   check-harness    a full run against the reference, both profiles from one
#                    execution (conform --profile both), gated on
#                    fixtures/baselines/reference.yaml (empty); beside
#                    check-harness-self under make test's -j
#   check-harness-faulty  the reference adapter linked with each faulty build
#                    of the reference (fixtures/faulty/): the harness must
#                    catch each fault, and only it (release variant only)
#   check-harness-sanitizers  the full harness against the reference adapter
#                    built with ASan+UBSan and with TSan (halt on the first
#                    report: it shows as ERROR(crash) on the case)
#   check-network    the virtual network leaves nothing behind (runs, SIGINT,
#                    SIGTERM) and is SKIP without root
#   conform-harness  IMPL=reference|mono|dotnet PROFILE=both|documented|portable (default both)

HARNESS_DIR  := harness
HARNESS_IMPL ?= $(or $(IMPL),reference)
# The seed documents are not part of the project: give their folder to have the
# catalogue's quotes checked verbatim (make lint-catalogue SEEDS_DIR=DIR, or
# $APMSOCK_SEEDS); without one the lint says it skipped that check.
SEEDS_DIR    ?=

.PHONY: lint-catalogue check-harness check-harness-self check-harness-faulty conform-harness \
        check-harness-sanitizers check-network

lint-catalogue:
	$(PYTHON) $(HARNESS_DIR)/lint_catalogue.py $(if $(SEEDS_DIR),--seeds $(SEEDS_DIR))

# The end-to-end self-tests (selftest/test_byo_e2e.py) drive the reference adapter.
check-harness-self: $(REF_ADAPTER)
	$(PYTHON) -m pytest $(HARNESS_DIR)/selftest -q -n 2

# Two workers, not conform's four: under make test the parts already fill
# both cores, and each extra worker only adds its import and collection.
check-harness: $(REF_ADAPTER)
	$(PYTHON) $(HARNESS_DIR)/conform --impl reference --profile both --adapter $(REF_ADAPTER) -q -n 2 \
	  --reports $(REPORTS)

# The reference adapter's objects linked with a faulty library instead of
# the reference archive (rules and FAULTS from fixtures/faulty/faulty.mk).
HARNESS_FAULTY := $(FAULTS:%=$(B)/bin/apmsock-adapter-faulty-%)

$(B)/bin/apmsock-adapter-faulty-%: $(ADAPTER_OBJS) $(B)/lib/libapmsock-faulty-%.so
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(ADAPTER_OBJS) $(B)/lib/libapmsock-faulty-$*.so \
	  -Wl,-rpath,$(abspath $(B)/lib) $(UV_LIBS) $(JANSSON_LIBS) -pthread

check-harness-faulty: $(HARNESS_FAULTY)
	$(PYTHON) $(HARNESS_DIR)/selftest/check_faulty.py --bin-dir $(B)/bin --out $(REPORTS)/selftest/harness-faulty $(FAULTS)

check-harness-sanitizers:
	$(MAKE) VARIANT=asan adapter
	$(MAKE) VARIANT=tsan adapter
	ASAN_OPTIONS=halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(PYTHON) $(HARNESS_DIR)/conform --impl reference --adapter build/asan/bin/apmsock-adapter -q \
	  --request-timeout 15 --results $(REPORTS)/selftest/harness-sanitizers/asan.json --no-junit
	TSAN_OPTIONS=halt_on_error=1 \
	  $(PYTHON) $(HARNESS_DIR)/conform --impl reference --adapter build/tsan/bin/apmsock-adapter -q \
	  --request-timeout 15 --results $(REPORTS)/selftest/harness-sanitizers/tsan.json --no-junit

# The virtual network (network namespaces + veth, apmsock_harness/topology.py)
# leaves nothing behind: whole runs of its cases, completed and interrupted
# with SIGINT and SIGTERM, and its SKIP without root.  Its cases themselves
# run in check-harness (a few seconds).
check-network: $(REF_ADAPTER)
	$(PYTHON) -m pytest $(HARNESS_DIR)/selftest/lifecycle_network.py -q -n 2

conform-harness:
	$(PYTHON) $(HARNESS_DIR)/conform --impl $(HARNESS_IMPL) --profile $(or $(PROFILE),both) --reports $(REPORTS)

test: lint-catalogue check-harness-self check-harness $(if $(filter release,$(VARIANT)),check-harness-faulty)
