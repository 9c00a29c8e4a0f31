// The documented way to run the gate in front of your own application (README, "Run it
// for your own app"): `npm run gate -- --var ORIGIN_URL:<your app>` from the project root,
// that is real `wrangler dev` with both Workers (wrangler.toml and wrangler.store.toml),
// wrangler.toml's defaults, the repository's .dev.vars (secrets only, as `make setup`
// writes it) and nothing of the demo's. In front of it, a plain node:http application on
// loopback that logs users in with `X-Session-Command` and verifies every request's
// assertion with the gate's JWKS (the kits' core), as the README tells an origin to.
// The test adds only a free port and a temporary state directory to the command.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { verifier } from "@sessiongate/kit-core";
import { ROOT, COOKIE, rawFetch, sessionCookie, isCleared, tmpdir } from "./harness.mjs";

/** The secrets .dev.vars may hold; any other name there would override wrangler.toml. */
const SECRETS = ["SESSION_SECRET", "SESSION_SECRET_PREVIOUS", "ORIGIN_SECRET", "ADMIN_TOKEN", "ASSERTION_SIGNING_KEY", "ASSERTION_SIGNING_KEY_PREVIOUS", "OIDC_CLIENT_SECRET"];
const START_DEADLINE_MS = 240_000; // wrangler dev's first start, on a loaded 2-core machine

const names = (file) =>
  fs.readFileSync(file, "utf8").split(/\r?\n/).map((l) => /^\s*([A-Za-z_]\w*)\s*=/.exec(l)?.[1]).filter(Boolean);

/** Your application: a login form that tells the gate who signed in, and a page for users. */
function startApp() {
  let verify;
  const seen = [];
  const server = http.createServer(async (req, res) => {
    const body = [];
    for await (const c of req) body.push(c);
    const reply = (status, headers, json) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(json));
    };
    if (req.url === "/login" && req.method === "GET") return reply(200, {}, { page: "login form" });
    if (req.url === "/login" && req.method === "POST") {
      const user = new URLSearchParams(Buffer.concat(body).toString()).get("user");
      const command = { action: "login", user, roles: ["user"] };
      return reply(303, { location: "/app", "x-session-command": JSON.stringify(command) }, { signedIn: user });
    }
    try {
      const identity = await verify({ method: req.method, url: req.url, header: (n) => req.headers[n] });
      seen.push(identity);
      return reply(200, {}, { user: identity.user, roles: identity.roles });
    } catch (e) {
      return reply(e.status ?? 401, {}, { error: "unauthenticated", reason: e.code ?? String(e) });
    }
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url,
        seen,
        useGate(gateUrl) { verify = verifier({ jwksUrl: `${gateUrl}/.sessiongate/jwks.json`, audience: "127.0.0.1" }); },
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

let app, gate, base, state;
let output = "";

before(async () => {
  assert.ok(fs.existsSync(path.join(ROOT, ".dev.vars")), ".dev.vars is missing: run `make setup` (it creates it from .dev.vars.example)");
  app = await startApp();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  app.useGate(base);
  state = tmpdir("sessiongate-local-run-");
  gate = spawn("npm", ["run", "--silent", "gate", "--", "--var", `ORIGIN_URL:${app.url}`,
    "--port", String(port), "--persist-to", state, "--show-interactive-dev-session=false"], {
    cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  gate.stdout.on("data", (d) => (output += d));
  gate.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => gate.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    const res = await rawFetch(`${base}/login`).catch(() => null);
    if (res) { await res.arrayBuffer(); break; }
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 500))]);
    if (code !== undefined) throw new Error(`npm run gate exited (${code}) before answering:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm run gate did not answer within ${START_DEADLINE_MS / 1000} s:\n${output}`);
  }
});

after(async () => {
  if (gate?.exitCode === null) {
    const gone = new Promise((r) => gate.once("exit", r));
    try { process.kill(-gate.pid, "SIGTERM"); } catch { /* already gone */ }
    const timer = setTimeout(() => { try { process.kill(-gate.pid, "SIGKILL"); } catch { /* gone */ } }, 10_000);
    await gone;
    clearTimeout(timer);
  }
  await app?.close();
  if (state) fs.rmSync(state, { recursive: true, force: true });
});

test(".dev.vars.example, which `make setup` copies to .dev.vars, holds secrets only", () => {
  const held = names(path.join(ROOT, ".dev.vars.example"));
  assert.deepEqual(held.filter((n) => !SECRETS.includes(n)), []);
  assert.ok(held.includes("SESSION_SECRET"));
});

test("wrangler dev starts both Workers: the gate and its session store", () => {
  // Without wrangler.store.toml the store Worker is not part of the session, and a login
  // gets 503 store_unavailable (the sign-in below shows the binding works).
  assert.match(output, /sessiongate has access to the following bindings/);
  assert.match(output, /sessiongate-store has access to the following bindings/);
});

test("signing in through your app's login command, then a page only users see, then logout", async () => {
  // Without a session: an API call gets 401; a browser navigation goes to LOGIN_URL
  // (wrangler.toml's default, /login, which its PUBLIC_PATHS lets through).
  const api = await rawFetch(`${base}/app`, { headers: { accept: "application/json" } });
  assert.equal(api.status, 401);
  assert.equal((await api.json()).error, "unauthenticated");
  const nav = await rawFetch(`${base}/app`, { headers: { accept: "text/html", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" } });
  await nav.arrayBuffer();
  assert.equal(nav.status, 302);
  assert.match(nav.headers.get("location"), /^\/login\b/);
  const form = await rawFetch(`${base}/login`);
  assert.equal(form.status, 200);
  assert.deepEqual(await form.json(), { page: "login form" });

  // Your login form posts to your app; its X-Session-Command makes the gate's session.
  const login = await rawFetch(`${base}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: "user=alice",
  });
  assert.equal(login.status, 303, await login.clone().text());
  assert.equal(login.headers.get("location"), "/app");
  assert.equal(login.headers.get("x-session-command"), null, "the command never reaches the browser");
  const cookie = sessionCookie(login);
  assert.ok(cookie?.startsWith(`${COOKIE}=`), `no session cookie: ${login.headers.getSetCookie()}`);

  // The page: your app verified the ES256 assertion with the gate's JWKS (the key
  // `make setup` generated into .dev.vars) and sees the user.
  const page = await rawFetch(`${base}/app`, { headers: { cookie } });
  assert.equal(page.status, 200, await page.clone().text());
  assert.deepEqual(await page.json(), { user: "alice", roles: ["user"] });
  assert.equal(app.seen.at(-1).claims.iss, "sessiongate");
  const jwks = await (await rawFetch(`${base}/.sessiongate/jwks.json`)).json();
  assert.deepEqual(jwks.keys.map((k) => k.alg), ["ES256"]);

  const logout = await rawFetch(`${base}/.sessiongate/logout`, { method: "POST", headers: { cookie, origin: base } });
  await logout.arrayBuffer();
  assert.equal(logout.status, 200);
  assert.ok(isCleared(logout));
  const after = await rawFetch(`${base}/app`, { headers: { cookie, accept: "application/json" } });
  assert.equal(after.status, 401);
  assert.equal((await after.json()).error, "unauthenticated");
});
