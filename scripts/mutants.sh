#!/usr/bin/env bash
# `make mutants`: mutation testing (cargo-mutants) of the pure logic: src/core, src/store
# and the scanner's parsers. One cargo-mutants run per source file, each testing its
# mutants with the tests named after that file (the lib's tests whose names contain
# <name>, e.g. `core::<name>::tests::*`, and those in tests/<name>_*.rs whose names
# contain <name>): running the whole suite, with its
# 10,000-case properties, for every mutant would take a day on two cores.
#   make mutants                                  every file below (hours on 2 cores)
#   make mutants ARGS="src/core/command.rs"       one file
# Results: mutants/<name>/mutants.out/{caught,missed,timeout,unviable}.txt, and a
# summary at the end. docs/testing.md records the last figures and every survivor.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "mutants: installing cargo-mutants (a few minutes, once)"
  cargo install cargo-mutants --locked || exit 1
fi

if [ $# -gt 0 ]; then
  files=("$@")
else
  files=(src/core/*.rs src/store/*.rs src/scan/cookie.rs src/scan/recipe.rs src/scan/http.rs src/scan/entropy.rs)
fi

failed_runs=0
total_c=0 total_m=0 total_t=0 total_u=0
rows=()
start=$(date +%s)
for f in "${files[@]}"; do
  name=$(basename "$f" .rs)
  # mod.rs files hold declarations and a trait; their mutants, if any, are the modules'.
  [ "$name" = mod ] && continue
  # Not under target/: --copy-target would copy earlier results into every build tree.
  out=mutants/$name
  mkdir -p "$out"
  t0=$(date +%s)
  # --copy-target reuses the compiled dependencies (cargo-mutants refuses it together with
  # --gitignore, so git-ignored files are copied too: do not run `make fuzz` at the same
  # time, a fuzzer rewriting fuzz/corpus during the copy fails the run); --jobs 1 and
  # nice leave the other core to whoever else uses the machine.
  # The file's tests: the lib's (filtered by name below) and tests/<name>_*.rs. Building
  # only those test targets saves relinking every other one for each mutant.
  targets=(--lib)
  for t in tests/"$name"_*.rs; do [ -f "$t" ] && targets+=(--test "$(basename "$t" .rs)"); done
  nice cargo mutants --jobs 1 --copy-target=true --no-shuffle --file "$f" --output "$out" \
    -- "${targets[@]}" -- "$name"
  rc=$?
  # 0: all caught, 2: some missed, 3: some timed out; anything else is a failed run
  # (the unmutated tests failing, a usage error).
  case $rc in 0|2|3) ;; *) echo "mutants: cargo mutants failed on $f (exit $rc)"; failed_runs=1 ;; esac
  count() { local n; n=$(grep -c . "$out/mutants.out/$1.txt" 2>/dev/null); echo "${n:-0}"; }
  c=$(count caught) m=$(count missed) t=$(count timeout) u=$(count unviable)
  total_c=$((total_c + c)) total_m=$((total_m + m)) total_t=$((total_t + t)) total_u=$((total_u + u))
  rows+=("$(printf '%-28s caught %4d  missed %3d  timeout %3d  unviable %3d  %5ds' "$f" "$c" "$m" "$t" "$u" $(($(date +%s) - t0)))")
done
echo
printf '%s\n' "${rows[@]}"
viable=$((total_c + total_m + total_t))
if [ "$viable" -gt 0 ]; then
  # A timeout is a mutant the tests stopped (usually an endless loop), so it counts as caught.
  stopped=$((total_c + total_t))
  percent=$((stopped * 100 / viable))
  echo "mutants: caught $stopped of $viable viable ($percent %), missed $total_m, unviable $total_u, in $(($(date +%s) - start)) s"
fi
[ "$total_m" -eq 0 ] && [ "$failed_runs" -eq 0 ]
