#!/usr/bin/env bash
# make bench: the gate side by side with its floor, in workerd, in front of nginx, under wrk.
#   1. builds the three reference workers (bench/workers/baseline: bare, floor, contract
#      floor) offline like the gate (scripts/worker/build.mjs), skipped when up to date;
#      the gate's own release build (build/) comes from `make build`;
#   2. bench/run.mjs: nginx + one miniflare process (workerd) with the references and the gate,
#      wrk at a fixed connection count, several runs, medians, storage writes, bundle
#      size, startup;
#   3. bench/websocket.mjs: the WebSocket row, messages per second through the gate versus a
#      reference relay with no session logic, and the Durable Object requests meanwhile;
#   4. criterion micro-benchmarks of the hot pure functions (benches/hot_paths.rs).
# Options (environment): BENCH_RUNS=3 BENCH_DURATION=5 BENCH_CONNECTIONS=16 BENCH_THREADS=2
#   BENCH_WARMUP=2, BENCH_SKIP_CRITERION=1, BENCH_DIAG=1 (adds row b2: the floor speaking
#   the gate's JSON store protocol, to split c/b into protocol and gate logic). Everything
#   is bounded in time, loopback only, and every process it starts is stopped on exit,
#   Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1;34mbench:\033[0m %s\n' "$*"; }

for t in wrk node cargo; do
  command -v "$t" >/dev/null || { echo "bench: $t is missing; run make setup" >&2; exit 1; }
done
[ -x "${NGINX:-/usr/sbin/nginx}" ] || { echo "bench: nginx is missing (Debian nginx-light); run make setup" >&2; exit 1; }
[ -f build/index_bg.wasm ] && [ -f build/index.js ] || { echo "bench: build/ is missing; run make build (make bench does)" >&2; exit 1; }

# The reference workers, built exactly like the gate (scripts/build.sh): offline, with
# the pinned wasm-bindgen CLI, npm's wasm-opt and esbuild.
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin/wasm-bindgen}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
baseline=bench/workers/baseline
build_baseline() { # $1 = bare|floor, $2.. = extra cargo options
  local kind=$1; shift
  local out="$baseline/build/$kind/index_bg.wasm"
  if [ -f "$out" ] && [ -z "$(find "$baseline/src" "$baseline/Cargo.toml" "$baseline/Cargo.lock" -newer "$out" -print -quit)" ]; then
    return 0
  fi
  say "building the $kind reference worker (release, offline)"
  local log; log=$(mktemp)
  if ! CARGO_NET_OFFLINE=true timeout 900 node scripts/worker/build.mjs --crate "$baseline" --out-dir "build/$kind" "$@" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; echo "bench: building the $kind worker failed" >&2; exit 1
  fi
  rm -f "$log"
}
build_baseline bare
build_baseline floor --features floor
build_baseline contract --features contract
[ "${BENCH_DIAG:-}" != 1 ] || build_baseline floor-json --features json

# The runtime benchmark in its own process group, so that nginx, workerd and wrk all go
# when this script ends, however it ends.
say "runtime benchmark (about 3 minutes)"
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sessiongate-bench-XXXXXX")
export BENCH_TMP
setsid node bench/run.mjs "$@" &
pid=$!
stop() {
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.3; done # let it clean up
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -rf "$BENCH_TMP"
}
trap 'stop; exit 130' INT TERM HUP
trap stop EXIT
rc=0
wait "$pid" || rc=$?
trap - EXIT
rm -rf "$BENCH_TMP"
[ "$rc" -eq 0 ] || { echo "bench: the runtime benchmark failed ($rc)" >&2; exit "$rc"; }

say "WebSocket relay (bench/websocket.mjs, about 40 s)"
timeout 300 node bench/websocket.mjs || { echo "bench: the WebSocket benchmark failed" >&2; exit 1; }

if [ "${BENCH_SKIP_CRITERION:-}" != 1 ]; then
  say "native micro-benchmarks (criterion, benches/hot_paths.rs; compiles once, then about 40 s)"
  out=$(mktemp)
  if ! timeout 900 cargo bench --bench hot_paths -- --warm-up-time 1 --measurement-time 2 >"$out" 2>"$out.err"; then
    cat "$out" "$out.err" >&2; rm -f "$out" "$out.err"; echo "bench: cargo bench failed" >&2; exit 1
  fi
  node bench/criterion-table.mjs <"$out"
  rm -f "$out" "$out.err"
fi
