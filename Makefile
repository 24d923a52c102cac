# The README's two commands. Each installs what is missing (Debian packages), then builds.
.PHONY: all deps build run test bench clean

all: build

deps:
	@scripts/install-deps

build: deps
	@scripts/build release

run: build
	@scripts/run-target

test: deps
	@scripts/run-tests

# Performance against the socket floor and SPDK's figures (bench/README.md); not part of test.
bench: deps
	@scripts/build release
	@bench/run

clean:
	rm -rf build build-san build-fuzz build.log build-san.log build-fuzz.log
