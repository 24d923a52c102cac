# The README's two commands. Each installs what is missing (Debian packages), then builds.
.PHONY: all deps build run test soak bench fuzz clean

all: build

deps:
	@scripts/install-deps

build: deps
	@scripts/build release

run: build
	@scripts/run-target

test: deps
	@scripts/run-tests

# The long runs (meson suite "soak"), not part of test: tests/crash with 100 kill points,
# test_leaks with 10,000 reloads and connections.
soak: deps
	@scripts/build sanitize
	@meson test -C build-san --suite soak --print-errorlogs

# Every fuzzer (libFuzzer targets and the network fuzzer) for about MINUTES minutes of wall
# time in all, two at a time, corpora kept in build-fuzz/corpus; not part of test (which
# runs each for 15 s).
MINUTES ?= 10
fuzz: deps
	@scripts/run-fuzz --minutes $(MINUTES)

# Performance against the socket floor and SPDK's figures (bench/README.md); not part of test.
bench: deps
	@scripts/build release
	@bench/run
	@echo "fio through the libnvmf engine (ioengine=external):"
	@bench/fio-engine.sh --start-target --only randread-4k-qd32
	@bench/fio-engine.sh --start-target --only randwrite-4k-qd32
	@echo "two paths (network namespaces, veth links of 200 Mbit/s): multipath round-robin and MPTCP:"
	@if [ "$$(id -u)" = 0 ]; then bench/paths.sh; else echo "bench/paths.sh skipped: needs root"; fi

clean:
	rm -rf build build-san build-fuzz build.log build-san.log build-fuzz.log
