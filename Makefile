# apmsock: the one entry point.  `make help` lists the targets.
#
# Build outputs go to build/$(VARIANT)/ so that the plain, sanitizer and
# coverage builds never mix objects:
#   release  -O2, the default
#   asan     AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan     ThreadSanitizer
#   cov      gcov instrumentation for the coverage report
# Each top-level folder contributes its rules through its build.mk.

VARIANT ?= release
B       := build/$(VARIANT)
REPORTS ?= reports
# Python tools come from Debian's packages: never the pyenv python on PATH.
PYTHON  ?= /usr/bin/python3
# Python keeps its compiled modules (__pycache__/, ignored by git).  Some
# machines' environments set PYTHONDONTWRITEBYTECODE, and then every pytest
# process compiled and assert-rewrote the suite again: about 0.5 s of CPU
# each, some 2 s of a harness run.  An empty value is "unset" to Python.
export PYTHONDONTWRITEBYTECODE :=
PREFIX  ?= /usr/local

CC      ?= gcc
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 -g -pthread -fPIC $(WARN)
CFLAGS_release := -O2
CFLAGS_asan    := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
CFLAGS_tsan    := -O1 -fsanitize=thread
CFLAGS_cov     := -O0 --coverage -fprofile-update=atomic
LDFLAGS_asan   := -fsanitize=address,undefined
LDFLAGS_tsan   := -fsanitize=thread
LDFLAGS_cov    := --coverage
ALL_CFLAGS  = $(BASE_CFLAGS) $(CFLAGS_$(VARIANT)) $(CFLAGS)
ALL_LDFLAGS = -pthread $(LDFLAGS_$(VARIANT)) $(LDFLAGS)

UV_CFLAGS    := $(shell pkg-config --cflags libuv 2>/dev/null)
UV_LIBS      := $(shell pkg-config --libs libuv 2>/dev/null || echo -luv)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

.DEFAULT_GOAL := all
.PHONY: all test deps help clean sanitize tsan bench install conformance coverage

all:

# make test's longest parts first (the proofs against faulty builds, the
# harness's self-tests): two at a time, a long part started last would run
# alone at the end.  The build.mk files add the rest.  The C faulty proof
# runs beside the others: check-faulty.py reruns a test that ran out of its
# shortened time under load alone, at its whole timeout.
test: $(if $(filter release,$(VARIANT)),check-harness-faulty) check-harness-self \
      $(if $(filter release,$(VARIANT)),check-c-faulty)

-include reference/build.mk
-include harness/adapters/reference/build.mk
-include conformance/build.mk
-include harness/build.mk
-include harness/report/build.mk
-include harness/adapters/csharp/build.mk
-include mutation/build.mk
-include harness/bench/build.mk

# Every test of the project.  Its parts are independent (own processes, ports
# bound to 0, own report files), so `make test` runs TEST_JOBS of them side by
# side, each part's output printed whole when it ends (--output-sync); TEST_JOBS=1
# runs them one after the other.  Only for the goal `test`, and only when the
# caller gave no -j of their own.
TEST_JOBS ?= 2
ifeq ($(MAKECMDGOALS),test)
ifeq ($(filter -j% j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(TEST_JOBS) --output-sync=target
endif
endif
test:

deps:
	./scripts/deps.sh

sanitize:
	$(MAKE) VARIANT=asan check-c

tsan:
	$(MAKE) VARIANT=tsan check-c

clean:
	rm -rf build reports/*/ reports/*.json reports/*.xml reports/*.html reports/*.png

help:
	@echo "make deps         install the Debian packages the project needs (idempotent)"
	@echo "make              build the reference library, its adapter and the suites"
	@echo "make test         every test of the project"
	@echo "make conformance  run both suites against IMPL (default: reference), write reports/"
	@echo "make sanitize     the C suite under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make tsan         the C suite under ThreadSanitizer"
	@echo "make bench        the reference as users write it, against raw sockets and libuv -> reports/bench.json"
	@echo "make bench-impls  every implementation's bench op against raw sendto() -> reports/performance.html [BENCH_REPS=15]"
	@echo "make coverage     gcovr coverage of reference/ -> reports/coverage/"
	@echo "make mutation [MUTANTS=N SEED=S MUTATION_SANITIZERS=1]   mutants of reference/src against both suites -> reports/mutation/"
	@echo "make install PREFIX=/usr/local   library, header and pkg-config file"
	@echo ""
	@echo "make conformance variables:"
	@echo "  IMPL=NAME            implementation id (default reference; fixtures/implementations.yaml)"
	@echo "  IMPL_LIB=PATH        a C library to check with the C suite (and its adapter, if registered)"
	@echo "  IMPL_FILE=PATH       an implementation outside the suite: one registry entry in a YAML file"
	@echo "  ADAPTER_CMD='CMD'    the command that starts IMPL's adapter (an implementation outside the suite)"
	@echo "  BASELINE=PATH        the baseline to gate on, anywhere (default fixtures/baselines/IMPL.yaml)"
	@echo "  COMPARE=PATH         an older results.json: also write reports/compare.html"
	@echo "  REPORTS=DIR          where reports go (default reports)"
	@echo "  HARNESS_WORKERS=N    the harness's pytest-xdist workers (default 4)"
	@echo "  VARIANT=NAME         the build: release (default), asan, tsan, cov; PYTHON=/usr/bin/python3"
	@echo "  (harness/conform --help: shards, --repeat, --last-failed, --write-baseline, --update-baseline)"
	@echo "exit codes of make conformance and harness/conform (make itself says Error 1 or 2; the code"
	@echo "is in reports/gate.json): 0 match the baseline, 1 regression, 2 only unexpected passes,"
	@echo "3 harness error, 4 usage error"
