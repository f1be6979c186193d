# harness/bench: `make bench-impls`, the bench op (harness/PROTOCOL.md) of every
# registered implementation that advertises it, against raw sendto() measured in
# the same run (apmsock-rawsend) -> $(REPORTS)/bench-impls.json and
# $(REPORTS)/performance.html.  Long (minutes): not part of `make test` or CI.
#   BENCH_REPS=15 BENCH_OPS=5000 BENCH_IMPLS="reference mono dotnet"

BENCH_DIR  := harness/bench
RAWSEND    := $(B)/bin/apmsock-rawsend
BENCH_REPS ?= 15
BENCH_OPS  ?= 10000
BENCH_IMPLS ?=

.PHONY: bench-impls rawsend
all: rawsend
rawsend: $(RAWSEND)

$(RAWSEND): $(BENCH_DIR)/rawsend.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS)

# The adapters are built first (each only when its compiler is there: the
# driver skips, with a note, an implementation whose runtime is missing).
bench-impls: $(RAWSEND) adapter mono-adapter dotnet-adapter
	$(PYTHON) $(BENCH_DIR)/impls.py --rawsend $(RAWSEND) --reps $(BENCH_REPS) --ops $(BENCH_OPS) \
	  --reports $(REPORTS) $(foreach i,$(BENCH_IMPLS),--impl $(i))
