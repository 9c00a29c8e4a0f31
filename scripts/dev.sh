#!/usr/bin/env bash
# `make dev`: the demo origin on 127.0.0.1:8788, the demo identity provider (demo/idp.mjs)
# on 127.0.0.1:8789 and the gate (`npm run gate`: wrangler dev with its session store
# Worker) on 127.0.0.1:8787 in front of them, Durable Object state kept in .wrangler/state.
# The demo's settings are passed here with --var, over wrangler.toml's defaults; .dev.vars
# holds only secrets. Ctrl-C (or SIGTERM) stops all three, children included.
set -euo pipefail
cd "$(dirname "$0")/.."

GATE_PORT=8787
ORIGIN_PORT=8788
IDP_PORT=8789
OIDC_ISSUER="http://127.0.0.1:$IDP_PORT"
OIDC_CLIENT_ID=sessiongate-demo
# Registered with the demo provider (demo/idp.mjs); public, like everything of the demo.
OIDC_CLIENT_SECRET=dev-only-oidc-client-secret-NOT-SECRET
# The demo's settings. LOGIN_URL stays the demo's own page, which offers both ways in
# (its form, or "Sign in with the identity provider").
DEMO_VARS=(
  "ORIGIN_URL:http://127.0.0.1:$ORIGIN_PORT"
  "PUBLIC_PATHS:/,/login,/cart,/static/*,/favicon.ico"
  "STATIC_PATHS:/static/*,/favicon.ico"
  "SENSITIVE_PATHS:/account/*"
  "LOGIN_URL:/login"
  "OIDC_ISSUER:$OIDC_ISSUER"
  "OIDC_CLIENT_ID:$OIDC_CLIENT_ID"
  "OIDC_CLIENT_SECRET:$OIDC_CLIENT_SECRET"
)
export WRANGLER_SEND_METRICS=false

say() { printf '\033[1;34mdev:\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mdev:\033[0m %s\n' "$*" >&2; exit 1; }

[ -f .dev.vars ] || die ".dev.vars is missing: run 'make dev' (its set-up creates it from .dev.vars.example)"
dev_var() { sed -n -E "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"?([^\"]*)\"?[[:space:]]*\$/\\1/p" .dev.vars | head -n1; }
# The demo origin verifies assertions with the gate's JWKS (ES256, the default), or, with
# ASSERTION_ALG=HS256 in the environment, with ORIGIN_SECRET from .dev.vars; the gate then
# gets ASSERTION_ALG=HS256 and no signing key (one set with HS256 is a config error).
ASSERTION_ALG=${ASSERTION_ALG:-ES256}
ORIGIN_SECRET=
if [ "${ASSERTION_ALG^^}" = HS256 ]; then
  ORIGIN_SECRET=$(dev_var ORIGIN_SECRET)
  [ -n "$ORIGIN_SECRET" ] || die "ASSERTION_ALG=HS256 but ORIGIN_SECRET is not set in .dev.vars"
  DEMO_VARS+=("ASSERTION_ALG:HS256" "ASSERTION_SIGNING_KEY:")
else
  grep -q '^[[:space:]]*ASSERTION_SIGNING_KEY[[:space:]]*=' .dev.vars || die "ASSERTION_SIGNING_KEY is not set in .dev.vars: run 'make setup'"
  DEMO_VARS+=("ASSERTION_ALG:$ASSERTION_ALG")
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in $GATE_PORT $ORIGIN_PORT $IDP_PORT; do
  listening "$port" && die "port $port is already in use (another 'make dev'?); stop that first"
done

# Each child runs in its own process group (setsid), so that stopping it also stops what
# it started (wrangler's workerd and esbuild), and so that Ctrl-C reaches only this script,
# which then stops them in order instead of leaving them to race.
groups=()
stop_all() {
  trap - INT TERM EXIT
  local pgid
  for pgid in "${groups[@]}"; do kill -TERM -- "-$pgid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pgid in "${groups[@]}"; do kill -0 -- "-$pgid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return
    sleep 0.1
  done
  for pgid in "${groups[@]}"; do kill -KILL -- "-$pgid" 2>/dev/null || true; done
}
trap 'echo; say "stopping"; stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

say "starting the demo origin on http://127.0.0.1:$ORIGIN_PORT"
ASSERTION_ALG="$ASSERTION_ALG" ORIGIN_SECRET="$ORIGIN_SECRET" OIDC_ISSUER="$OIDC_ISSUER" \
  GATE_URL="http://127.0.0.1:$GATE_PORT" PORT=$ORIGIN_PORT setsid node demo/origin.mjs &
origin_pid=$!
groups+=("$origin_pid")

say "starting the demo identity provider on $OIDC_ISSUER"
OIDC_CLIENT_ID="$OIDC_CLIENT_ID" OIDC_CLIENT_SECRET="$OIDC_CLIENT_SECRET" \
  GATE_URL="http://127.0.0.1:$GATE_PORT" PORT=$IDP_PORT setsid node demo/idp.mjs &
groups+=("$!")

say "starting the gate on http://127.0.0.1:$GATE_PORT (wrangler dev; the first start builds and takes a while)"
# The documented local command (package.json "gate": both Workers in one wrangler dev, as
# deployed), with the demo's settings.
var_args=()
for v in "${DEMO_VARS[@]}"; do var_args+=(--var "$v"); done
setsid npm run --silent gate -- --port "$GATE_PORT" --persist-to .wrangler/state \
  --show-interactive-dev-session=false "${var_args[@]}" &
gate_pid=$!
groups+=("$gate_pid")

# The banner comes once the gate answers, so it isn't buried in wrangler's start-up output.
until listening "$GATE_PORT"; do
  kill -0 "$gate_pid" 2>/dev/null || die "wrangler dev exited before the gate was up"
  kill -0 "$origin_pid" 2>/dev/null || die "the demo origin exited"
  sleep 0.5
done
cat <<EOF

  ──────────────────────────────────────────────────────────────
   sessiongate is running:  http://127.0.0.1:$GATE_PORT

   demo users   alice / correct-horse-battery   (admin, user)
                bob   / hunter2-hunter2         (user)
   identity provider  $OIDC_ISSUER ("Sign in with the identity
                provider" on the login page): alice or bob, any password

   gate :$GATE_PORT (wrangler dev)  ->  demo origin :$ORIGIN_PORT (node)
   sessions persist in .wrangler/state; Ctrl-C stops all three
  ──────────────────────────────────────────────────────────────

EOF

# Whichever stops first takes the other one down (the EXIT trap).
set +e
wait -n "$origin_pid" "$gate_pid"
status=$?
say "a process exited (status $status); stopping the other"
exit "$status"
