# The Mono adapter: a C# program that wraps Mono's own
# System.Net.Sockets.Socket behind the adapter protocol (harness/PROTOCOL.md).
# Built with mcs when Mono is installed; without it `make` goes on and says why.

MONO_DIR     := harness/adapters/mono
MONO_SRCS    := $(wildcard $(MONO_DIR)/src/*.cs)
MONO_ADAPTER := $(B)/bin/apmsock-mono-adapter.exe
MCS          ?= mcs
MONO         ?= mono
HAVE_MCS     := $(shell command -v $(MCS) >/dev/null 2>&1 && echo yes)

.PHONY: mono-adapter check-mono-adapter

ifeq ($(HAVE_MCS),yes)
all: mono-adapter

mono-adapter: $(MONO_ADAPTER)

$(MONO_ADAPTER): $(MONO_SRCS) $(MONO_DIR)/build.mk
	@mkdir -p $(dir $@)
	$(MCS) -nologo -warnaserror+ -optimize+ -debug -target:exe -r:System.dll -out:$@ $(MONO_SRCS)

# The adapter's own smoke test: one session piped through it, replies checked.
check-mono-adapter: $(MONO_ADAPTER)
	$(PYTHON) $(MONO_DIR)/tests/smoke.py --adapter "$(MONO) $(MONO_ADAPTER)"
else
all: mono-adapter

mono-adapter:
	@echo "note: mcs not found: the Mono adapter is not built (install mono-mcs and mono-runtime, or run 'make deps')"

check-mono-adapter:
	@echo "note: mcs not found: check-mono-adapter skipped (install mono-mcs and mono-runtime)"
endif

# What Mono does, clause by clause (evidence for the findings in README.md);
# prints observations, judges nothing.  FLAGS-01 needs root (unshare -n).
.PHONY: probe-mono-adapter
probe-mono-adapter: mono-adapter
	$(PYTHON) $(MONO_DIR)/tests/probe.py --adapter "$(MONO) $(MONO_ADAPTER)"
	$(PYTHON) $(MONO_DIR)/tests/probe.py --netns -k FLAGS_01 --adapter "$(MONO) $(MONO_ADAPTER)"
