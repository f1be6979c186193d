# conformance/build.mk: the C conformance suite (Check), compiled against the
# contract header only and linked against one implementation of it.
#
#   make check-c                     the suite against the reference, then the
#                                    faulty-implementation proof (release only)
#   make conformance-c IMPL_LIB=/path/libother.so [IMPL=name]
#                                    the suite against another implementation
#                                    (.so, or .a plus IMPL_LIBS=its dependencies);
#                                    test failures do not stop make: the verdicts
#                                    are in $(REPORTS)/c/
# Outputs: $(REPORTS)/c/check-<impl>.check.xml (Check's own XML, not JUnit), .tap,
# info-<impl>.log (what the INFO clauses recorded), and the run's one JUnit file
# $(REPORTS)/junit/c-<impl>-documented.xml.  asan/tsan runs are self-tests of the
# reference, not runs to report: $(REPORTS)/selftest/c-asan/ and c-tsan/, no JUnit.

CONF_SRCS := $(wildcard conformance/*.c)
# The allocation counter is shared with the benchmark: reference/test-support/.
CONF_OBJS := $(CONF_SRCS:conformance/%.c=$(B)/obj/conformance/%.o) $(TS_ALLOC_OBJ)
CONF_HDRS := $(wildcard conformance/*.h) $(REF_INC)/apmsock.h $(TS_INC)/alloc-count.h
CONF_BIN  := $(B)/bin/apmsock-conformance
# Sanitizer runs get their own folder so that they never overwrite the
# release run's reports (the coverage run sets REPORTS itself).
CONF_OUT   = $(if $(filter asan tsan,$(VARIANT)),$(REPORTS)/selftest/c-$(VARIANT),$(REPORTS)/c)
CONF_JUNIT = $(if $(filter asan tsan,$(VARIANT)),,$(REPORTS)/junit/c-$(1)-documented.xml)

# Sanitizer reports inside a forked test must fail that test: halt at the
# first report and exit with a status Check reports as an early exit.
CONF_SAN_ENV := ASAN_OPTIONS=halt_on_error=1:exitcode=66:detect_leaks=1:abort_on_error=0 \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=67 \
                TSAN_OPTIONS=halt_on_error=1:exitcode=68:second_deadlock_stack=1:atexit_sleep_ms=0
CONF_TIMEOUT_MULT_release := 1
CONF_TIMEOUT_MULT_asan := 3
CONF_TIMEOUT_MULT_tsan := 4
CONF_TIMEOUT_MULT_cov := 2
CONF_ENV = $(CONF_SAN_ENV) CK_FORK=yes CK_TIMEOUT_MULTIPLIER=$(or $(CONF_TIMEOUT_MULT_$(VARIANT)),2)

# The implementation: the reference by default, IMPL_LIB otherwise.
IMPL_LIB ?=
IMPL_LIBS ?= $(UV_LIBS) -pthread
ifeq ($(strip $(IMPL_LIB)),)
CONF_IMPL_NAME := reference
CONF_IMPL_BIN  := $(CONF_BIN)
else
CONF_IMPL_NAME := $(or $(IMPL),$(patsubst lib%,%,$(basename $(notdir $(IMPL_LIB)))))
CONF_IMPL_BIN  := $(B)/bin/apmsock-conformance-$(CONF_IMPL_NAME)
endif
# How to link a library: a shared one by path with its directory as rpath,
# a static one with its dependencies.
conf_link = $(if $(filter %.a,$(1)),$(1) $(IMPL_LIBS),$(abspath $(1)) -Wl,-rpath,$(abspath $(dir $(1))))

.PHONY: check-c check-c-reference conformance-c conformance-c-bin
all: $(CONF_BIN)
test: check-c

$(B)/obj/conformance/%.o: conformance/%.c $(CONF_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -I$(REF_INC) -I$(TS_INC) -Iconformance -c $< -o $@

$(CONF_BIN): $(CONF_OBJS) $(REF_SO)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CONF_OBJS) $(call conf_link,$(REF_SO)) $(CHECK_LIBS)

ifneq ($(strip $(IMPL_LIB)),)
$(CONF_IMPL_BIN): $(CONF_OBJS) $(IMPL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CONF_OBJS) $(call conf_link,$(IMPL_LIB)) $(CHECK_LIBS)
endif

# $(1) binary, $(2) implementation name, $(3) output directory.  Leaves the
# runner's status in $$rc: 0 passed, 1 tests failed, other: the run broke.
define conf_run
mkdir -p $(3) && rm -f $(3)/check-$(2).check.xml $(3)/check-$(2).tap $(3)/info-$(2).log $(call CONF_JUNIT,$(2)) && \
$(1) --list > $(3)/list-$(2).txt && \
start=$$(date +%s%N); \
$(CONF_ENV) CF_INFO_LOG=$(3)/info-$(2).log $(1) --xml $(3)/check-$(2).check.xml --tap $(3)/check-$(2).tap; rc=$$?; \
echo "conformance-c: $(2): runner exit $$rc in $$(( ($$(date +%s%N) - start) / 1000000 )) ms"; \
$(PYTHON) conformance/check2junit.py --impl $(2) $(if $(IMPL_LIB),--library $(IMPL_LIB)) \
  --tap $(3)/check-$(2).tap --list $(3)/list-$(2).txt \
  $(if $(wildcard fixtures/clauses.yaml),--clauses fixtures/clauses.yaml) --info $(3)/info-$(2).log \
  $(3)/check-$(2).check.xml $(call CONF_JUNIT,$(2)) || rc=3
endef

check-c-reference: $(CONF_BIN)
	@$(call conf_run,$(CONF_BIN),reference,$(CONF_OUT)); exit $$rc

conformance-c-bin: $(CONF_IMPL_BIN)
conformance-c: $(CONF_IMPL_BIN)
	@$(call conf_run,$(CONF_IMPL_BIN),$(CONF_IMPL_NAME),$(CONF_OUT)); [ $$rc -le 1 ]

include fixtures/faulty/faulty.mk

# The faulty proof needs uninstrumented timing and a plain libc: release only.
check-c: check-c-reference $(if $(filter release,$(VARIANT)),check-c-faulty)
