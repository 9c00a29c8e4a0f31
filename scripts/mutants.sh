#!/usr/bin/env bash
# `make mutants`: mutation testing (cargo-mutants) of the pure logic: src/core, src/store
# and the scanner's parsers. One cargo-mutants run per source file, each testing its
# mutants with the tests named after that file (the lib's tests whose names contain
# <name>, e.g. `core::<name>::tests::*`, and those in tests/<name>_*.rs whose names
# contain <name>), in a scratch copy of the tree with the properties capped at 500
# cases: running the whole suite, with its 10,000-case properties, for every mutant
# would take a day on two cores. docs/testing.md explains each choice.
#   make mutants                                  every file below (hours on 2 cores)
#   make mutants ARGS="src/core/command.rs"       one file
#   MUTANTS_ARGS=--iterate make mutants           only what the last run missed or did not reach
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
  files=(src/core/*.rs src/core/signing/*.rs src/core/oidc/*.rs src/store/*.rs src/store/engine/mod.rs
    src/scan/cookie.rs src/scan/recipe.rs src/scan/http.rs src/scan/entropy.rs)
fi

# One scratch copy of the sources, mutated in place (cargo-mutants --in-place), with its
# own target/ kept between runs: the dependencies are built once, and no file's run
# copies the 4 GB target/ of the worktree (cargo-mutants' default copies the tree, with
# --copy-target the target too, for every run). The worktree itself is never mutated.
tree=mutants/tree
mkdir -p "$tree"
rm -rf "${tree:?}/src" "${tree:?}/tests" "${tree:?}/benches"
tar -c --exclude=./target --exclude=./mutants --exclude=./node_modules --exclude=./build \
  --exclude=./.git --exclude=./fuzz --exclude=./.wrangler . | tar -x -m -C "$tree"
# -m: the copies get the time of the copy, not the worktree's. With the worktree's older
# times, cargo took the last run's last mutant build for up to date, and the baseline
# ran a mutant (seen: a cache.rs mutant failing memory.rs's baseline).
# The properties' case counts capped (src/proptest_cases.rs): 10,000 cases cost 10 to
# 15 s per mutant; a mutant only the full count would catch is reported missed.
export PROPTEST_CASES_MAX=${PROPTEST_CASES_MAX:-500}

failed_runs=0
total_c=0 total_m=0 total_t=0 total_u=0
rows=()
start=$(date +%s)
for f in "${files[@]}"; do
  name=$(basename "$f" .rs)
  # A module in a directory (store/engine/mod.rs, core/signing/mod.rs) is named after its
  # directory; src/core/mod.rs and src/store/mod.rs hold declarations only.
  if [ "$name" = mod ]; then
    name=$(basename "$(dirname "$f")")
    case $f in src/core/mod.rs | src/store/mod.rs) continue ;; esac
  fi
  # The scanner's cookie.rs is not the core's: its own results and its own tests.
  filter=$name out=$PWD/mutants/$name prefix=$name
  case $f in
    src/scan/*) filter=scan::$name out=$PWD/mutants/scan_$name prefix=scan_$name ;;
    # The signer's parts (key.rs, material.rs) are tested together, in core::signing.
    src/core/signing/*) filter=core::signing out=$PWD/mutants/signing_$name prefix=signing ;;
  esac
  # Modules whose behaviour is tested under another module's name: verify() of ES256 and
  # EdDSA assertions is tested with the signer, in core::signing.
  filters=("$filter")
  # The in-memory store is the engine's and the cache's test double, with no tests of its
  # own: its behaviour is what their tests (and tests/audit_retention.rs) rely on.
  case $name in
    assertion) filters+=(core::signing) ;;
    memory) filters+=(store:: audit_) ;;
  esac
  # Their integration tests are named scan_<name>_... / signing_...: no `::` in the names.
  case $f in src/scan/* | src/core/signing/*) filters+=("$prefix") ;; esac
  mkdir -p "$out"
  t0=$(date +%s)
  # The file's tests: the lib's (filtered by name below) and tests/<name>_*.rs (for the
  # scanner's files tests/scan_<name>_*.rs). They go
  # to every cargo call (--cargo-arg): cargo-mutants' build step is otherwise a plain
  # `cargo test --no-run`, which relinks every test binary, the scanner and the cdylib
  # for each mutant (10 s of the 12 a mutant took here).
  # In place means one mutant at a time; nice leaves the CPU to whoever else needs it.
  targets=(--cargo-arg=--lib)
  # The signer's tests sign and verify ES256 hundreds of times (its properties); with
  # p256 unoptimised that is about 35 s a mutant. The dependencies are built optimised
  # for these files (the crate itself, where the mutants are, stays unoptimised): same
  # behaviour, and the scratch target/ keeps both builds, so this costs one extra build.
  case $name in memory) targets+=(--cargo-arg=--test=audit_retention) ;; esac
  case $f in src/core/signing/*) targets+=('--cargo-arg=--config=profile.dev.package."*".opt-level=2') ;; esac
  for t in "$tree"/tests/"$prefix"_*.rs; do [ -f "$t" ] && targets+=("--cargo-arg=--test=$(basename "$t" .rs)"); done
  # MUTANTS_ARGS: more cargo-mutants options, e.g. --iterate to test only the mutants a
  # previous run in the same output missed or did not reach.
  # shellcheck disable=SC2086
  (cd "$tree" && nice cargo mutants --in-place --no-shuffle --file "$f" --output "$out" \
    "${targets[@]}" ${MUTANTS_ARGS:-} -- -- "${filters[@]}")
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
