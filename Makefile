# sessiongate: two commands do everything on a fresh machine.
#   make dev   - install what is missing, build, run the gate on :8787 in front of the demo origin on :8788
#   make test  - install what is missing, build, run every test tier
SHELL := /bin/bash
.DEFAULT_GOAL := help
export WRANGLER_SEND_METRICS := false
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: help setup build dev test test-unit test-e2e test-browser test-scan test-deploy test-docs test-kits test-differential test-fuzz-build fuzz fuzz-differential mutants bench profile scan fmt lint clean

help:
	@echo "make dev    run the gate on http://127.0.0.1:8787 in front of the demo origin"
	@echo "make test   run every test tier (unit/property, end-to-end, browser, deploy dry-run)"
	@echo "make bench  benchmarks (see README: Performance)"
	@echo "make fuzz   run every fuzz target for FUZZ_SECONDS (default 60; installs nightly + cargo-fuzz on first use),"
	@echo "            then the differential tier with DIFF_VARIANTS (default 20000) per framework and a new seed"
	@echo "make mutants  mutation testing of src/core, src/store and the scanner's parsers (long; see docs/testing.md)"
	@echo "make profile  CPU profile of the gate in workerd under load (ARGS='--target c|d|e --tree')"

setup:
	@bash scripts/setup.sh

build: setup
	@bash scripts/build.sh

# Only what the demo needs (no Debian packages, no virtualenv), then the build and the demo.
dev:
	@bash scripts/setup.sh --dev
	@bash scripts/build.sh
	@bash scripts/dev.sh

# Tier 1's native test binaries compile while the Wasm builds: the build's LTO link and
# wasm-opt keep one core, the compile fills the other (cargo locks each profile's
# directory, so the two do not wait on each other). Tier 1 then finds them fresh; a
# compile error shows there, in its own tier. docs/testing.md, "A fresh machine".
test: setup
	@mkdir -p target; cargo test --all-targets --no-run >target/tests-compile.log 2>&1 & pid=$$!; \
	bash scripts/build.sh; built=$$?; wait $$pid; \
	[ $$built = 0 ] && bash scripts/test.sh

test-unit:
	@echo "== tier 1: unit and property tests (native cargo test)"
	cargo test --all-targets

test-e2e:
	@echo "== tier 2: end-to-end in workerd (miniflare) with real Durable Objects and a real origin"
	node --test --test-concurrency=1 --test-reporter=spec tests/e2e/

test-browser:
	@echo "== tier 3: real Chromium against the gate and the demo origin"
	node --test --test-concurrency=1 --test-reporter=spec tests/browser/

test-scan:
	@echo "== tier 4: sessiongate-scan against the demo origin, the gate and a weak server"
	node --test --test-concurrency=1 --test-reporter=spec tests/scan/

test-kits:
	@echo "== tier 6: origin kits (Express, Next.js, Django, Rack) behind the real gate"
	@bash scripts/test-kits.sh

test-differential:
	@echo "== tier 7: the differential tier: request variants through the gate to Express, Rails, Django, Next.js"
	node --test --test-concurrency=1 --test-reporter=spec tests/differential/

# More variants than `make test` draws, under a seed printed for reproduction (DIFF_SEED=n).
fuzz-differential: build
	DIFF_VARIANTS=$${DIFF_VARIANTS:-20000} DIFF_SEED=$${DIFF_SEED:-$$(date +%s)} bash -c 'echo "differential: seed $$DIFF_SEED, $$DIFF_VARIANTS variants per framework"; node --test --test-concurrency=1 --test-reporter=spec tests/differential/'

test-docs:
	node --test --test-reporter=spec tests/docs/

test-fuzz-build:
	cargo check --manifest-path fuzz/Cargo.toml --bins

fuzz:
	@bash scripts/fuzz.sh; s=$$?; $(MAKE) --no-print-directory fuzz-differential && exit $$s

mutants:
	@bash scripts/mutants.sh $(ARGS)

bench: build
	@bash bench/run.sh

# A build that keeps function names, profiled in workerd; build/ is restored afterwards.
profile:
	FORCE=1 KEEP_NAMES=1 bash scripts/build.sh
	rm -rf target/profile-build && mkdir -p target && cp -r build target/profile-build
	FORCE=1 bash scripts/build.sh
	node bench/profile.mjs $(ARGS)

scan:
	@test -n "$(URL)" || { echo "usage: make scan URL=https://your.site [ARGS='--json --fail-on high']"; exit 2; }
	cargo run --release --quiet --bin sessiongate-scan -- $(URL) $(ARGS)

test-deploy:
	@bash scripts/deploy-dry-run.sh

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib --no-default-features --features store -- -D warnings

clean:
	rm -rf build target .wrangler/state test-artifacts
