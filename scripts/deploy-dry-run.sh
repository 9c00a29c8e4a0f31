#!/usr/bin/env bash
# `wrangler deploy --dry-run` of both Workers (the store, then the gate, in the order a
# deploy takes): builds and checks each bundle as a deploy would, offline.
set -uo pipefail
cd "$(dirname "$0")/.."
# config, what its log must mention (the class it exports, or the binding to it)
check() {
  local config=$1 expect=$2
  local out
  out=$(mktemp -d "${TMPDIR:-/tmp}/sessiongate-deploy-XXXXXX")
  if npx wrangler deploy --dry-run --config "$config" --outdir "$out" > "$out.log" 2>&1 && grep -q -- "$expect" "$out.log"; then
    echo "deploy dry-run ok ($config): bundle in $out ($(du -sh "$out" | cut -f1))"
    rm -f "$out.log"
  else
    cat "$out.log"
    echo "deploy dry-run FAILED ($config)"
    return 1
  fi
}
status=0
check wrangler.store.toml "SessionStore" || status=1
check wrangler.toml "sessiongate-store" || status=1
exit $status
