# reference/build.mk: the reference implementation of apmsock.h on libuv.
# Included by the top-level Makefile ($(B), $(ALL_CFLAGS), $(UV_CFLAGS), ...).

REF_INC  := reference/include
REF_A    := $(B)/lib/libapmsock.a
REF_SO   := $(B)/lib/libapmsock.so
REF_SRCS := $(wildcard reference/src/*.c)
REF_OBJS := $(REF_SRCS:reference/src/%.c=$(B)/obj/reference/%.o)
REF_HDRS := $(REF_INC)/apmsock.h reference/src/apmsock-int.h
REF_LIBS := $(UV_LIBS) -pthread
REF_BENCH := $(B)/bin/apmsock-bench

include reference/test-support/build.mk

.PHONY: reference bench-reference install-reference
all: reference
reference: $(REF_A) $(REF_SO)

$(B)/obj/reference/%.o: reference/src/%.c $(REF_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(UV_CFLAGS) -fvisibility=hidden -I$(REF_INC) -c $< -o $@

$(REF_A): $(REF_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(REF_SO): $(REF_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared $(ALL_LDFLAGS) -o $@ $^ $(REF_LIBS)

# `make bench`: the reference as users write it, against raw sockets and
# libuv in the same run.  BENCH_STRICT=1 makes a missed target fail.
bench: bench-reference
bench-reference: $(REF_BENCH)
	@mkdir -p $(REPORTS)
	$(REF_BENCH) $(REPORTS)/bench.json

REF_BENCH_SRCS := $(filter-out reference/bench/hotpath.c,$(wildcard reference/bench/*.c))
$(REF_BENCH): $(REF_BENCH_SRCS) reference/bench/bench.h $(TS_ALLOC_OBJ) $(REF_A) $(REF_INC)/apmsock.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(UV_CFLAGS) -I$(REF_INC) -I$(TS_INC) $(REF_BENCH_SRCS) $(TS_ALLOC_OBJ) \
	  -o $@ $(ALL_LDFLAGS) $(REF_A) $(REF_LIBS)

# `make install PREFIX=... DESTDIR=...`: the libraries, the contract header
# and a pkg-config file.
REF_VERSION := 1.0.0

install: install-reference
install-reference: $(REF_A) $(REF_SO)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 644 $(REF_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(REF_SO) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(REF_INC)/apmsock.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(REF_VERSION)|' reference/apmsock.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/apmsock.pc
