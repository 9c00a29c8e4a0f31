#!/usr/bin/env bash
# `wrangler deploy --dry-run`: builds and checks the bundle as a deploy would, offline.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d "${TMPDIR:-/tmp}/sessiongate-deploy-XXXXXX")
if npx wrangler deploy --dry-run --outdir "$out" > "$out.log" 2>&1 && grep -q "SessionStore" "$out.log"; then
  echo "deploy dry-run ok: bundle in $out ($(du -sh "$out" | cut -f1))"
  rm -f "$out.log"
else
  cat "$out.log"
  echo "deploy dry-run FAILED"
  exit 1
fi
