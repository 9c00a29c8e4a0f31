#!/usr/bin/env bash
# Builds both Workers offline: cargo, the pinned wasm-bindgen CLI (cargo install), wasm-opt
# (npm binaryen) and esbuild (npm), driven by scripts/worker/build.mjs, which does what
# worker-build did with the entry module this repository keeps (scripts/worker/shim.js).
# Used by wrangler.toml's [build] command, so `npx wrangler dev/deploy` build the same way.
# Skips the build when build/ is newer than every input (FORCE=1 rebuilds anyway).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# The CLI scripts/setup.sh installs (`cargo install`, which honours CARGO_INSTALL_ROOT).
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin/wasm-bindgen}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
for b in "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do
  [ -x "$b" ] || { echo "build: $b is missing; run scripts/setup.sh (make setup)" >&2; exit 1; }
done

# Two Workers from one crate (Cargo.toml [features]): the gate in build/, the session
# store in build/store/ (the Durable Object class, bound by the gate with script_name).
inputs="src Cargo.toml Cargo.lock scripts/build.sh scripts/worker"

# LLVM inlines less than opt-level 3's default (threshold 250): at 150 the gate's Wasm was
# 297 KiB gzipped instead of 306 (the budget is 300), and a bench of the two builds side by
# side (`node bench/run.mjs --compare`) showed no CPU price, c/x 1.02 by throughput and 0.99
# by CPU per request (docs/performance.md). At 75 (device-bound sessions grew the gate) the
# same side-by-side bench against a 150 build gave c/x 0.991 by throughput and x/c 1.008 by
# CPU: no price measurable, and about 8 KiB less. Both Workers get the same flags, so that
# cargo reuses one build of the dependencies.
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C llvm-args=-inline-threshold=75"
fresh() {
  [ -z "${FORCE:-}" ] && [ -f "$1/index_bg.wasm" ] && [ -f "$1/index.js" ] \
    && [ -z "$(find $inputs -newer "$1/index_bg.wasm" -print -quit)" ]
}

# The build keeps the name section (function names) through its first wasm-opt pass: about
# 40 KB of the gzipped bundle. Strip it after wasm-bindgen has run (stripping before breaks
# externref), with one more -O2 pass over the bound module, which takes about 1.5 KiB more
# off the gzipped size (the budget is 300 KiB). KEEP_NAMES=1 (make profile) keeps the
# names, so CPU profiles show Rust function names.
build_one() {
  local dir=$1; shift
  node scripts/worker/build.mjs --out-dir "$dir" "$@"
  local out="$dir/index_bg.wasm"
  [ -n "${KEEP_NAMES:-}" ] || "$WASM_OPT_BIN" "$out" -O2 --strip-debug -o "$out"
  echo "build: $out $(wc -c < "$out") bytes, $(gzip -9 -c "$out" | wc -c) gzipped"
}

# One build at a time: `wrangler dev --config wrangler.toml --config wrangler.store.toml`
# runs each config's [build] command, possibly at once; the second then finds build/ fresh.
mkdir -p build
exec 9>build/.lock
flock 9

if fresh build && fresh build/store; then
  echo "build: build/ and build/store/ are up to date"
  exit 0
fi
# The gate first: its directory holds the store's.
build_one build "$@"
build_one build/store --no-default-features --features store "$@"
