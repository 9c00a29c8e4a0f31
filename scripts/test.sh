#!/usr/bin/env bash
# Runs every test tier (the build and set-up are done by `make test` before this), keeps
# going after a failing tier so one run shows everything, and ends with one summed line
# "make test: N passed, M failed" after each runner's own summary.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp -d "${TMPDIR:-/tmp}/sessiongate-test-XXXXXX")
trap 'rm -rf "$log"' EXIT
status=0
silent_failures=0
tier() {
  local name=$1; shift
  local file
  file="$log/$(echo "$name" | tr -c 'a-z0-9' _).log"
  echo "== $name"
  if ! "$@" 2>&1 | tee "$file"; then
    status=1
    echo "== $name: FAILED"
    # A tier that fails before its runner counts anything (a test crate that does not
    # compile, a runner that crashes) must still show in the total.
    if ! grep -qE '^test result: .* [1-9][0-9]* failed;|^ℹ fail [1-9]|^FAILED \(|[1-9][0-9]* failures|[1-9][0-9]* errors' "$file"; then
      silent_failures=$((silent_failures + 1))
    fi
  fi
}
# A tier started in the background now and reported, in its turn, by tier_report.
started_name= started_file= started_pid=
tier_start() {
  started_name=$1; shift
  started_file="$log/$(echo "$started_name" | tr -c 'a-z0-9' _).log"
  ( "$@" > "$started_file" 2>&1; echo $? > "$started_file.rc" ) &
  started_pid=$!
}
tier_report() {
  wait "$started_pid"
  echo "== $started_name"
  cat "$started_file"
  if [ "$(cat "$started_file.rc" 2>/dev/null)" != 0 ]; then
    status=1
    echo "== $started_name: FAILED"
    silent_failures=$((silent_failures + 1))
  fi
}
tier "tier 0: every test README.md and SECURITY.md cite exists" \
  node --test --test-reporter=spec tests/docs/
# The fuzz targets are their own crate, so `cargo test` never compiles them; checking
# them on stable catches a target that no longer matches the parsers' API (running
# them needs nightly: `make fuzz`). Not --locked: the main crate is a path dependency,
# so a dependency added there must not fail this tier; cargo records it in fuzz/Cargo.lock.
# It runs beside tier 1 (its own target directory, fuzz/target, so no lock is shared):
# tier 1's test run keeps about one of two cores busy (docs/testing.md, "A fresh machine").
tier_start "tier 1b: the fuzz targets compile (cargo check, stable)" \
  cargo check --manifest-path fuzz/Cargo.toml --bins
tier "tier 1: unit and property tests (native cargo test)" cargo test --all-targets
tier_report
tier "tier 2: end-to-end in workerd (miniflare) with real Durable Objects and a real origin" \
  node --test --test-concurrency=1 --test-reporter=spec tests/e2e/
tier "tier 3: real Chromium against the gate and the demo origin" \
  node --test --test-concurrency=1 --test-reporter=spec tests/browser/
tier "tier 4: sessiongate-scan against the demo origin, the gate and a weak server" \
  node --test --test-concurrency=1 --test-reporter=spec tests/scan/
tier "tier 5: wrangler deploy --dry-run" bash scripts/deploy-dry-run.sh
tier "tier 6: origin kits (Express, Next.js, Django, Rack) behind the real gate" bash scripts/test-kits.sh
# Issue 25: seeded request variants (a fixed seed, DIFF_VARIANTS per framework) through the
# real gate to each kit's example application; no framework may dispatch a request to a
# handler the configuration guards unless the gate required the session or step-up for it.
tier "tier 7: the differential tier (the gate reads requests as the frameworks do)" \
  node --test --test-concurrency=1 --test-reporter=spec tests/differential/

# Sum the runners' own counts: cargo's "test result: ... N passed; M failed" and node's
# "ℹ pass N" / "ℹ fail M", Python unittest's "Ran N tests" / "FAILED (failures=F, errors=E)"
# and minitest's "N runs, A assertions, F failures, E errors"; the fuzz-target check and
# the dry run count as one check each.
read -r passed failed < <(cat "$log"/*.log | awk '
  /^test result: / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
  /^ℹ pass [0-9]+$/ { p += $3 }
  /^ℹ fail [0-9]+$/ { f += $3 }
  /^Ran [0-9]+ tests? in / { p += $2 }
  /^FAILED \(/ { n = split($0, kv, /[(), =]+/); for (i = 1; i < n; i++) if (kv[i] == "failures" || kv[i] == "errors") { p -= kv[i+1]; f += kv[i+1] } }
  /^[0-9]+ runs, [0-9]+ assertions, [0-9]+ failures, [0-9]+ errors/ { p += $1 - $5 - $7; f += $5 + $7 }
  END { print p + 0, f + 0 }')
if grep -q "^ *Finished" "$log"/tier_1b*.log 2>/dev/null; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
if grep -q "deploy dry-run ok" "$log"/tier_5*.log 2>/dev/null; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
failed=$((failed + silent_failures))
[ "$failed" -eq 0 ] || status=1
note=""
[ "$silent_failures" -eq 0 ] || note=" ($silent_failures of them a tier that failed without a count: see its log above)"
echo "make test: $passed passed, $failed failed$note"
exit $status
