#!/usr/bin/env bash
# `make fuzz`: runs every cargo-fuzz target for FUZZ_SECONDS (default 60) seconds, one
# after the other, with its seeds and dictionary, and ends with a table of executions
# and findings per target. libFuzzer's instrumentation needs nightly Rust and
# cargo-fuzz; both are installed here, on first use, because nothing else needs them
# (`make test` only compiles the targets, on stable).
#   FUZZ_SECONDS=600 make fuzz          longer run
#   FUZZ_TARGETS="path token" make fuzz  some targets only
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}

say() { printf '\033[1;34mfuzz:\033[0m %s\n' "$*"; }

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  say "installing the nightly toolchain (libFuzzer instrumentation needs it)"
  rustup toolchain install nightly --profile minimal || exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz (a few minutes, once)"
  cargo install cargo-fuzz --locked || exit 1
fi

targets=${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}
out=$(mktemp -d "${TMPDIR:-/tmp}/sessiongate-fuzz-XXXXXX")
trap 'rm -rf "$out"' EXIT
status=0
summary=()
for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
  args=("-max_total_time=$seconds" "-timeout=10")
  [ -f "fuzz/dict/$t.dict" ] && args+=("-dict=fuzz/dict/$t.dict")
  say "$t for ${seconds}s"
  # -print_final_stats gives stat::number_of_executed_units, the figure docs/testing.md records.
  cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- "${args[@]}" -print_final_stats=1 \
    >"$out/$t.log" 2>&1
  rc=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$out/$t.log" | grep -oE '[0-9]+$' | tail -n 1)
  if [ "$rc" -eq 0 ]; then
    finding="none"
  else
    status=1
    finding="FOUND (exit $rc): $(ls -t "fuzz/artifacts/$t" 2>/dev/null | head -n 1)"
    tail -n 30 "$out/$t.log"
  fi
  summary+=("$(printf '%-10s %12s executions  %s' "$t" "${runs:-?}" "$finding")")
done
echo
say "${seconds}s per target:"
printf '  %s\n' "${summary[@]}"
exit $status
