# harness/adapters/reference: apmsock-adapter, the reference library behind the
# adapter protocol (harness/PROTOCOL.md).  Built in every VARIANT with the
# variant's flags: the coverage report of reference/ counts the harness
# runs made through this program.

ADAPTER_DIR  := harness/adapters/reference
ADAPTER_SRCS := $(wildcard $(ADAPTER_DIR)/src/*.c)
ADAPTER_OBJS := $(patsubst $(ADAPTER_DIR)/src/%.c,$(B)/obj/adapter/%.o,$(ADAPTER_SRCS))
ADAPTER_INC  := $(or $(REF_INC),reference/include)
REF_ADAPTER  := $(B)/bin/apmsock-adapter

# JSON comes from Debian's libjansson-dev.
JANSSON_CFLAGS := $(shell pkg-config --cflags jansson 2>/dev/null)
JANSSON_LIBS   := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)

.PHONY: adapter check-adapter
all: adapter
test: check-adapter

adapter: $(REF_ADAPTER)

$(B)/obj/adapter/%.o: $(ADAPTER_DIR)/src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -I$(ADAPTER_INC) -I$(TS_INC) $(JANSSON_CFLAGS) -c -o $@ $<

# alloc-count.o counts the allocations of the `bench` op (ops_bench.c: weak
# symbols, so the adapters linked without it say null instead).
$(REF_ADAPTER): $(ADAPTER_OBJS) $(REF_A) $(TS_ALLOC_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(ADAPTER_OBJS) $(TS_ALLOC_OBJ) $(REF_A) $(UV_LIBS) $(JANSSON_LIBS) -pthread

# A scripted session through the adapter: every reply checked, bounded;
# then the protocol checker every new adapter meets first (harness/conform --check-adapter).
check-adapter: $(REF_ADAPTER)
	$(PYTHON) $(ADAPTER_DIR)/tests/smoke.py $(REF_ADAPTER)
	$(PYTHON) harness/conform --check-adapter --adapter-cmd $(REF_ADAPTER)

-include $(ADAPTER_OBJS:.o=.d)
