# The C# adapter: one source (src/*.cs) that wraps the runtime's own
# System.Net.Sockets.Socket behind the adapter protocol (harness/PROTOCOL.md),
# built twice: with mcs for Mono, and with the .NET SDK for .NET
# (adapter.csproj).  Each build is optional: without its compiler `make`
# goes on and says in one line why that adapter was not built.

CSHARP_DIR   := harness/adapters/csharp
MONO_DIR     := $(CSHARP_DIR)
CSHARP_SRCS  := $(wildcard $(CSHARP_DIR)/src/*.cs)
MONO_SRCS    := $(CSHARP_SRCS)
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

# The .NET build.  .NET is not a Debian package: the SDK is optional, like a
# browser for a web test (CI requires it, see .ci/run).  The SDK writes its
# output and its obj/ under build/$(VARIANT)/, never into the source tree;
# --disable-build-servers leaves no MSBuild or compiler server running.
DOTNET         ?= dotnet
DOTNET_ADAPTER := $(B)/bin/dotnet/apmsock-dotnet-adapter.dll
DOTNET_OBJ     := $(B)/obj/dotnet-adapter
HAVE_DOTNET    := $(shell command -v $(DOTNET) >/dev/null 2>&1 && echo yes)
DOTNET_ENV     := DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

.PHONY: dotnet-adapter check-dotnet-adapter
all: dotnet-adapter
test: check-dotnet-adapter

ifeq ($(HAVE_DOTNET),yes)
dotnet-adapter: $(DOTNET_ADAPTER)

$(DOTNET_ADAPTER): $(CSHARP_SRCS) $(CSHARP_DIR)/adapter.csproj $(CSHARP_DIR)/build.mk
	@mkdir -p $(dir $@) $(DOTNET_OBJ)
	$(DOTNET_ENV) $(DOTNET) build $(CSHARP_DIR)/adapter.csproj -c Release --nologo -v q \
	  --disable-build-servers -o $(dir $@) -p:BaseIntermediateOutputPath=$(abspath $(DOTNET_OBJ))/
	@touch $@

check-dotnet-adapter: $(DOTNET_ADAPTER)
	$(PYTHON) $(CSHARP_DIR)/tests/smoke.py --adapter "$(DOTNET) $(DOTNET_ADAPTER)"
else
dotnet-adapter:
	@echo "note: $(DOTNET) not found: the .NET adapter is not built (the .NET SDK is optional; install it to run IMPL=dotnet)"

check-dotnet-adapter:
	@echo "note: $(DOTNET) not found: the .NET adapter is not built and check-dotnet-adapter is skipped (the .NET SDK is optional)"
endif
