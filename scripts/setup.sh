#!/usr/bin/env bash
# Installs what sessiongate needs, idempotently: each tool is checked at its pinned
# version and skipped when present. Sources: rustup, crates.io, npm, Debian only.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
# The wasm-bindgen CLI must match the library exactly: read it from Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)

say() { printf '\033[1;34msetup:\033[0m %s\n' "$*"; }

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust with rustup first" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: npm not found; install Node.js 20+ first" >&2; exit 1; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Version of an installed tool ("0.8.7" or "name 0.8.7" depending on the tool), or nothing.
version_of() { "$1" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1; }

if [ "$(version_of worker-build)" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (about 10 minutes on 2 cores, once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --force
fi

if [ "$(version_of wasm-bindgen)" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes, once)"
  # Not --locked: its lockfile pins a yanked webpki-roots.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# npm packages from the committed lockfile; reinstall only when the lockfile changed.
stamp=node_modules/.package-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -L node_modules ]; then
  # A git worktree sharing another checkout's packages: npm ci would delete and refill
  # that checkout's node_modules through the link.
  say "node_modules is a link to $(readlink node_modules): npm ci skipped"
elif [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

# Debian packages: the browser tests and the benchmark (checked by their binaries), and
# the origin kits' Rack example (tier 6: Ruby, Rack, the `jwt` gem, a server, minitest).
# One apt-get run for whatever is missing. Django comes from PyPI into a virtualenv of its
# own (.venv-kits, gitignored); Python here may be 3.11, so Django is the 5.2 LTS (6.x
# needs 3.12).
missing=()
for pair in chromium:/usr/bin/chromium wrk:/usr/bin/wrk nginx-light:/usr/sbin/nginx; do
  pkg=${pair%%:*}; bin=${pair#*:}
  [ -x "$bin" ] || missing+=("$pkg")
done
for pkg in ruby ruby-rack ruby-jwt puma ruby-minitest; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# ruby-rails (Rails 6.1) for the Rack kit's Rails application in tier 6, without its
# recommends (a JavaScript runtime, databases, documentation).
rails_missing=()
dpkg -s ruby-rails >/dev/null 2>&1 || rails_missing=(ruby-rails)
if [ $((${#missing[@]} + ${#rails_missing[@]})) -gt 0 ] && [ "${SESSIONGATE_SKIP_APT:-}" != 1 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  say "installing Debian packages: ${missing[*]} ${rails_missing[*]}"
  $SUDO apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ${#rails_missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${rails_missing[@]}" >/dev/null
  fi
fi
# The Django kit's virtualenv: its dependencies, and `build` with a setuptools that
# builds wheels itself (kits/release.sh). The same pins as wheel files in
# .venv-kits/wheelhouse, from which tier 6 installs the kit's wheel into a fresh
# virtualenv without reaching PyPI.
KITS_PY_PINS="Django==5.2.19 PyJWT==2.15.1 cryptography==50.0.2"
KITS_PY_TOOLS="build==1.6.1 setuptools==84.2.1"
kits_venv=.venv-kits
kits_want="$(python3 --version 2>&1) $KITS_PY_PINS $KITS_PY_TOOLS wheelhouse"
if [ ! -x "$kits_venv/bin/python" ] || [ "$(cat "$kits_venv/.pins" 2>/dev/null)" != "$kits_want" ]; then
  say "creating the Django kit's virtualenv ($kits_venv: $KITS_PY_PINS $KITS_PY_TOOLS)"
  rm -rf "$kits_venv"
  python3 -m venv "$kits_venv"
  # shellcheck disable=SC2086 # the pins are separate words
  "$kits_venv/bin/pip" install --quiet --disable-pip-version-check $KITS_PY_PINS $KITS_PY_TOOLS
  # shellcheck disable=SC2086
  "$kits_venv/bin/pip" download --quiet --disable-pip-version-check --dest "$kits_venv/wheelhouse" $KITS_PY_PINS
  echo "$kits_want" > "$kits_venv/.pins"
fi

# Local secrets for wrangler dev, from the example (fake values, never committed).
if [ ! -f .dev.vars ]; then
  say "creating .dev.vars from .dev.vars.example (local development secrets)"
  cp .dev.vars.example .dev.vars
fi
# A development ES256 key for the assertions (ASSERTION_ALG defaults to ES256), made here
# on this machine and kept only in .dev.vars (gitignored): one line, newlines as \n.
if ! grep -q '^[[:space:]]*ASSERTION_SIGNING_KEY[[:space:]]*=' .dev.vars; then
  say "generating a development ES256 assertion key into .dev.vars"
  node -e '
    const { generateKeyPairSync } = require("node:crypto");
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).trim().replace(/\n/g, "\\n");
    console.log(`ASSERTION_SIGNING_KEY="${pem}"`);
  ' >> .dev.vars
fi
say "ready"
