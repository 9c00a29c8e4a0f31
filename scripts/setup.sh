#!/usr/bin/env bash
# Installs what sessiongate needs, idempotently: each tool is checked at its pinned
# version and skipped when present. Sources: rustup, crates.io, npm, Debian, PyPI only.
#   scripts/setup.sh         everything `make test` needs
#   scripts/setup.sh --dev   only what `make dev` needs (no Debian packages, no virtualenv)
# The independent steps (the wasm-bindgen CLI, npm ci, apt-get, the kits' virtualenv) run
# at the same time, each with its own log, and the time each took is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

FOR_DEV=
[ "${1:-}" = --dev ] && FOR_DEV=1
# The wasm-bindgen CLI must match the library exactly: read it from Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
KITS_PY_PINS="Django==5.2.19 PyJWT==2.15.1 cryptography==50.0.2"
# `build` with a setuptools that builds wheels itself, for the kits' release artefacts
# (kits/release.sh, tier 6).
KITS_PY_TOOLS="build==1.6.1 setuptools==84.2.1"

say() { printf '\033[1;34msetup:\033[0m %s\n' "$*"; }
die() { printf '\033[1;31msetup:\033[0m %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo not found; install Rust with rustup first"
command -v npm >/dev/null || die "npm not found; install Node.js 20+ first"
export PATH="$HOME/.cargo/bin:$PATH"
# Where `cargo install` puts the CLI, and where scripts/build.sh looks for it.
WASM_BINDGEN="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin/wasm-bindgen"

# Version of an installed tool ("0.2.130" or "name 0.2.130"), or nothing.
version_of() { "$1" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1; }

# --- the steps, each a function run in the background by `step` ---

rust_target() { rustup target add wasm32-unknown-unknown; }

# Only the `wasm-bindgen` binary, without the test runner's TLS stack (rustls and ring,
# which only its WebDriver downloads use), with a profile for a tool: optimised a little,
# not much, because a fresh machine waits for this compile and the CLI then runs under a
# second per build (measured: about 220 CPU seconds to compile instead of 296, and 0.45 s
# a build instead of 0.25, the same bytes out; docs/testing.md). Its own target directory
# under target/, kept, so that a version bump recompiles only what changed. Not --locked:
# its lockfile pins a yanked webpki-roots.
wasm_bindgen_cli() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_INCREMENTAL=false \
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --no-default-features \
    --bin wasm-bindgen --target-dir target/tools --force
}

npm_packages() {
  npm ci --no-audit --no-fund
  sha256sum package-lock.json | cut -d' ' -f1 > node_modules/.package-lock.sha
}

debian_packages() {
  $SUDO apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
  fi
  # Rails 6.1 for the Rack kit's Rails application (tier 6) and the differential tier,
  # without its recommends (a JavaScript runtime, databases, documentation).
  if [ ${#rails_missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${rails_missing[@]}"
  fi
}

kits_virtualenv() {
  rm -rf .venv-kits
  python3 -m venv .venv-kits
  # shellcheck disable=SC2086 # the pins are separate words
  .venv-kits/bin/pip install --quiet --disable-pip-version-check $KITS_PY_PINS $KITS_PY_TOOLS
  # The same pins as wheel files, from which tier 6 installs the kit's wheel into a fresh
  # virtualenv without reaching PyPI.
  # shellcheck disable=SC2086
  .venv-kits/bin/pip download --quiet --disable-pip-version-check --dest .venv-kits/wheelhouse $KITS_PY_PINS
  echo "$kits_want" > .venv-kits/.pins
}

logs=$(mktemp -d "${TMPDIR:-/tmp}/sessiongate-setup-XXXXXX")
trap 'rm -rf "$logs"' EXIT
names=() pids=()
step() { # name, what it installs; then the function runs in the background
  local name=$1; shift
  say "$name: $*"
  (
    set +e
    start=$(date +%s)
    ( set -e; "$name" ) > "$logs/$name.log" 2>&1
    rc=$?
    echo "$rc $(( $(date +%s) - start ))" > "$logs/$name.rc"
    exit $rc
  ) &
  names+=("$name") pids+=("$!")
}

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step rust_target "adding the wasm32-unknown-unknown target (rustup)"
fi

if [ "$(version_of "$WASM_BINDGEN")" != "$WASM_BINDGEN_VERSION" ]; then
  step wasm_bindgen_cli "wasm-bindgen-cli $WASM_BINDGEN_VERSION from crates.io (a few minutes on 2 cores, once)"
fi

want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -L node_modules ]; then
  # A git worktree sharing another checkout's packages: npm ci would delete and refill
  # that checkout's node_modules through the link.
  say "node_modules is a link to $(readlink node_modules): npm ci skipped"
elif [ "$(cat node_modules/.package-lock.sha 2>/dev/null)" != "$want" ]; then
  step npm_packages "npm packages from package-lock.json (npm ci)"
fi

if [ -z "$FOR_DEV" ]; then
  # Debian packages: the browser tests and the benchmark (checked by their binaries), and
  # the origin kits' Rack example (tier 6: Ruby, Rack, the `jwt` gem, a server, minitest).
  missing=()
  for pair in chromium:/usr/bin/chromium wrk:/usr/bin/wrk nginx-light:/usr/sbin/nginx; do
    pkg=${pair%%:*}; bin=${pair#*:}
    [ -x "$bin" ] || missing+=("$pkg")
  done
  for pkg in ruby ruby-rack ruby-jwt puma ruby-minitest; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  rails_missing=()
  dpkg -s ruby-rails >/dev/null 2>&1 || rails_missing=(ruby-rails)
  if [ $((${#missing[@]} + ${#rails_missing[@]})) -gt 0 ] && [ "${SESSIONGATE_SKIP_APT:-}" != 1 ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; sudo -v; fi # any password prompt now, not in the background
    step debian_packages "Debian packages: ${missing[*]} ${rails_missing[*]}"
  fi
  # Django comes from PyPI into a virtualenv of its own (.venv-kits, gitignored); Python
  # here may be 3.11, so Django is the 5.2 LTS (6.x needs 3.12).
  kits_want="$(python3 --version 2>&1) $KITS_PY_PINS $KITS_PY_TOOLS wheelhouse"
  if [ ! -x .venv-kits/bin/python ] || [ "$(cat .venv-kits/.pins 2>/dev/null)" != "$kits_want" ]; then
    step kits_virtualenv "the Django kit's virtualenv (.venv-kits: $KITS_PY_PINS)"
  fi
fi

# Local secrets for wrangler dev, from the example (fake values, never committed). Only
# secrets: the demo's settings are `make dev`'s (scripts/dev.sh), so that the same
# .dev.vars serves `npm run gate` in front of another application.
if [ ! -f .dev.vars ]; then
  say "creating .dev.vars from .dev.vars.example (local development secrets)"
  cp .dev.vars.example .dev.vars
else
  # A .dev.vars made from the earlier example also carried the demo's settings, which
  # would override wrangler.toml under `npm run gate`: drop exactly those lines.
  old_demo_lines=$(mktemp)
  cat > "$old_demo_lines" <<'EOF_DEMO'
# The bundled demo origin and plain-HTTP localhost.
ORIGIN_URL="http://127.0.0.1:8788"
REQUIRE_HTTPS="false"
PUBLIC_PATHS="/,/login,/cart,/static/*,/favicon.ico"
STATIC_PATHS="/static/*,/favicon.ico"
SENSITIVE_PATHS="/account/*"
# Edge sign-in with the demo identity provider that `make dev` starts on 127.0.0.1:8789
# (demo/idp.mjs). LOGIN_URL stays the demo's own page, which offers both ways in; remove it
# to send every navigation straight to the provider.
LOGIN_URL="/login"
OIDC_ISSUER="http://127.0.0.1:8789"
OIDC_CLIENT_ID="sessiongate-demo"
OIDC_CLIENT_SECRET="dev-only-oidc-client-secret-NOT-SECRET"
EOF_DEMO
  if grep -qxF -f "$old_demo_lines" .dev.vars; then
    say "removing the demo's settings from .dev.vars (make dev passes them itself now)"
    grep -vxF -f "$old_demo_lines" .dev.vars > .dev.vars.new || true
    mv .dev.vars.new .dev.vars
  fi
  rm -f "$old_demo_lines"
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

failed=0
for i in "${!names[@]}"; do
  wait "${pids[$i]}" || true
  read -r rc secs < "$logs/${names[$i]}.rc" || { rc=1; secs=?; }
  if [ "$rc" = 0 ]; then
    say "${names[$i]}: done in ${secs}s"
  else
    tail -n 40 "$logs/${names[$i]}.log" >&2
    printf '\033[1;31msetup:\033[0m %s failed (exit %s after %ss); its log is above\n' "${names[$i]}" "$rc" "$secs" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
[ "$(version_of "$WASM_BINDGEN")" = "$WASM_BINDGEN_VERSION" ] || die "$WASM_BINDGEN is not $WASM_BINDGEN_VERSION, which Cargo.lock wants"
say "ready"
