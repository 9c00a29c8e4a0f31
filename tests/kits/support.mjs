// Issue 16: each origin kit's example application behind the real gate (the built Wasm
// in workerd, real Durable Objects), all on loopback:
//
//   client --HTTP--> gate --HTTP--> wire --HTTP--> example app (a child process)
//
// `wire` is a plain HTTP relay between the gate and the application that records what
// the gate sent and can alter it on the way (the "X-Session-Data altered" case). Every
// example application serves the same routes (see kits/*/example), so one scenario
// (`kitSuite`) runs against each of them:
//   GET  /login      the sign-in form           POST /login    username, password
//   GET  /app        the identity as JSON       POST /password current_password, new_password
//   POST /reauth     password (step-up)         GET  /admin    sensitive, role admin
//   POST /rename     user (an invalid one: 400) POST /logout
//   GET  /public     served without the gate too, without identity
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";
import { spawn } from "node:child_process";
import { SignJWT } from "jose";
import { startGate, rawFetch, sessionCookie, isCleared, SECRETS, ROOT } from "../e2e/harness.mjs";

export { ROOT };
export const JWKS_PATH = "/.sessiongate/jwks.json";
export const AUDIENCE = "127.0.0.1";
const DEADLINE_MS = 120_000;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** The relay between gate and application. `tamper(headers)` may edit the forwarded headers. */
export function startWire(target) {
  const wire = { requests: [], tamper: null };
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers };
    wire.tamper?.(headers);
    wire.requests.push({ method: req.method, path: req.url, headers });
    const up = http.request({ host: "127.0.0.1", port: target, method: req.method, path: req.url, headers, agent: false }, (r) => {
      res.writeHead(r.statusCode, r.rawHeaders);
      r.pipe(res);
    });
    up.on("error", () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      wire.url = `http://127.0.0.1:${server.address().port}`;
      wire.last = () => wire.requests[wire.requests.length - 1];
      wire.close = () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); });
      resolve(wire);
    });
  });
}

/** Polls `fn` until it returns a truthy value, under a generous deadline (the machine is shared). */
export async function until(what, fn, deadline = DEADLINE_MS) {
  const end = Date.now() + deadline;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

/** Gate variables and the application's environment for one assertion algorithm. */
export function algorithm(alg) {
  if (alg === "HS256") {
    return { vars: { ASSERTION_ALG: "HS256" }, appEnv: () => ({ SESSIONGATE_SECRET: SECRETS.ORIGIN_SECRET }) };
  }
  const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    vars: { ASSERTION_ALG: "ES256", ASSERTION_SIGNING_KEY: privateKey.export({ type: "pkcs8", format: "pem" }), ORIGIN_SECRET: undefined },
    appEnv: (gate) => ({ SESSIONGATE_JWKS_URL: gate.base + JWKS_PATH }),
  };
}

/**
 * Starts gate, wire and the example application (`command`, `args`, `env`, `cwd`), and
 * waits until the application answers. Returns { gate, wire, app: { url, port, proc, log } }.
 */
export async function startStack({ alg, command, args = [], env = {}, cwd = ROOT, ready = "/login", vars = {}, audience = AUDIENCE }) {
  const port = await freePort();
  const wire = await startWire(port);
  const a = algorithm(alg);
  const gate = await startGate({
    origin: { url: wire.url, close: async () => {} },
    vars: { PUBLIC_PATHS: "/login,/public", LOGIN_URL: "/login", SENSITIVE_PATHS: "/admin", ...a.vars, ...vars },
  });
  const log = [];
  const proc = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env, ...a.appEnv(gate), SESSIONGATE_AUDIENCE: audience, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout.on("data", (d) => log.push(String(d)));
  proc.stderr.on("data", (d) => log.push(String(d)));
  const app = { port, url: `http://127.0.0.1:${port}`, proc, log };
  const stack = {
    gate, wire, app,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      await gate.dispose();
      await wire.close();
    },
  };
  try {
    await until(`${command} to answer on ${app.url}`, async () => {
      if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode}: ${log.join("")}`);
      const res = await rawFetch(app.url + ready);
      await res.arrayBuffer();
      return true;
    });
  } catch (e) {
    await stack.stop();
    throw e;
  }
  return stack;
}

export async function json(res) {
  const t = await res.text();
  try { return JSON.parse(t); } catch { return t; }
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const form = (o) => new URLSearchParams(o).toString();

/** The CSRF token field of a form (Django's csrfmiddlewaretoken, Rails' authenticity_token): [name, value] or null. */
export function csrfField(html) {
  const m = /name="(csrfmiddlewaretoken|authenticity_token)" value="([^"]+)"/.exec(html);
  return m ? [m[1], m[2].replace(/&#x2B;|&#43;/g, "+").replace(/&#x2F;|&#47;/g, "/").replace(/&#x3D;|&#61;/g, "=")] : null;
}

/**
 * A browser-less client of the gate: keeps the session cookie and, as a browser does, the
 * application's own cookies (Django's csrftoken, Rails' session cookie), and sends the
 * CSRF token of the application's login form (csrfField) with its form posts.
 */
export function client(gate) {
  const c = {
    cookie: null,
    own: new Map(),
    csrf: undefined,
    cookies() {
      return [c.cookie, ...[...c.own].map(([k, v]) => `${k}=${v}`)].filter(Boolean).join("; ") || undefined;
    },
    keep(res) {
      for (const sc of res.headers.getSetCookie()) {
        const [pair] = sc.split(";");
        const i = pair.indexOf("=");
        const name = pair.slice(0, i);
        if (name !== c.cookie?.split("=")[0] && !name.startsWith("__Host-") && !name.startsWith("__Secure-")) c.own.set(name, pair.slice(i + 1));
      }
    },
    /** Reads the login form once, as a browser would before posting. */
    async prime() {
      const res = await gate.fetch("/login", { cookie: c.cookies(), headers: { accept: "text/html" } });
      c.keep(res);
      c.csrf = csrfField(await res.text());
    },
    async get(p, headers = {}) {
      const res = await gate.fetch(p, { cookie: c.cookies(), headers: { accept: "application/json", ...headers } });
      c.keep(res);
      return res;
    },
    async post(p, fields = {}, headers = {}) {
      if (c.csrf === undefined) await c.prime();
      // As a browser posts a form: with Content-Length (WSGI servers read no chunked body).
      const body = form(c.csrf ? { [c.csrf[0]]: c.csrf[1], ...fields } : fields);
      const res = await gate.fetch(p, {
        method: "POST", cookie: c.cookies(), body,
        headers: { ...FORM, "content-length": String(Buffer.byteLength(body)), accept: "application/json", ...headers },
      });
      c.keep(res);
      const set = sessionCookie(res);
      if (set !== null) c.cookie = isCleared(res) ? null : set;
      return res;
    },
  };
  return c;
}

/** Signs in through the application's own form; returns the client. */
export async function signIn(gate, username, password) {
  const c = client(gate);
  const page = await c.get("/login", { accept: "text/html" });
  assert.equal(page.status, 200);
  const html = await page.text();
  c.csrf = csrfField(html);
  assert.match(html, /<form[^>]*method="post"[^>]*action="\/login"/i, "the application's own login form");
  assert.match(html, /name="username"/);
  assert.match(html, /name="password"/);
  const res = await c.post("/login", { username, password });
  const b = await res.text();
  assert.equal(res.status, 303, `sign-in of ${username}: ${b}`);
  assert.equal(res.headers.get("location"), "/app");
  assert.ok(c.cookie, "the gate set its session cookie from the login command");
  return c;
}

export async function identityOf(c) {
  const res = await c.get("/app");
  const b = await json(res);
  assert.equal(res.status, 200, JSON.stringify(b));
  return b;
}

const nowSec = () => Math.floor(Date.now() / 1000);

/**
 * The scenario of issue 16 against one kit's example application, as node:test tests.
 * `start()` returns a stack (startStack). `label` names the kit and algorithm.
 */
export function kitSuite(label, start) {
  let stack;
  before(async () => { stack = await start(); });
  after(async () => { await stack?.stop(); });

  test(`${label}: sign in through the app's form, see the identity, change the password (new ID, others end), step up, log out`, async () => {
    const { gate } = stack;
    const a = await signIn(gate, "alice", "wonderland");
    const other = await signIn(gate, "alice", "wonderland");
    const me = await identityOf(a);
    const t = nowSec();
    assert.deepEqual(Object.keys(me).sort(), ["authTime", "binding", "data", "deviceBound", "elevatedUntil", "roles", "sessionId", "user"]);
    assert.equal(me.deviceBound, false, "a session without a device key (no DBSC client here)");
    assert.equal(me.user, "alice");
    assert.deepEqual(me.roles, ["user", "admin"]);
    assert.deepEqual(me.data, { theme: "dark" });
    assert.equal(me.binding, "ok");
    assert.equal(me.elevatedUntil, null);
    assert.match(me.sessionId, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(Math.abs(me.authTime - t) <= 30, `authTime ${me.authTime} is now (${t})`);
    const otherId = (await identityOf(other)).sessionId;
    assert.notEqual(otherId, me.sessionId, "two sign-ins, two sessions");

    // A wrong current password changes nothing.
    const oldCookie = a.cookie;
    let res = await a.post("/password", { current_password: "nope", new_password: "x" });
    assert.equal(res.status, 403);
    assert.deepEqual(await json(res), { error: "invalid_credentials" });
    assert.equal(a.cookie, oldCookie);

    res = await a.post("/password", { current_password: "wonderland", new_password: "looking-glass" });
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { password_changed: true });
    assert.notEqual(a.cookie, oldCookie, "regenerate: the session has a new ID (a new cookie; the old one is refused below)");
    const after = await identityOf(a);
    assert.equal(after.user, "alice");
    assert.equal(after.sessionId, me.sessionId, "the same session: its public handle stays");
    assert.deepEqual(after.data, { theme: "dark" }, "same session, same data");
    for (const [who, cookie] of [["the old ID", oldCookie], ["the other session", other.cookie]]) {
      res = await gate.fetch("/app", { cookie, headers: { accept: "application/json" } });
      assert.equal(res.status, 401, `${who} is refused`);
      assert.equal((await json(res)).error, "unauthenticated");
    }
    // The new password is the one that signs in now.
    res = await client(gate).post("/login", { username: "alice", password: "wonderland" });
    assert.equal(res.status, 401);
    assert.deepEqual(await json(res), { error: "invalid_credentials" });

    // Step-up: the sensitive page needs an elevated session (the gate's SENSITIVE_PATHS).
    res = await a.get("/admin");
    assert.equal(res.status, 403);
    assert.deepEqual(await json(res), { error: "reauthentication_required" });
    res = await a.post("/reauth", { password: "wonderland" });
    assert.equal(res.status, 403, "re-authentication with the old password fails");
    await res.arrayBuffer();
    const beforeElevate = a.cookie;
    res = await a.post("/reauth", { password: "looking-glass" });
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { elevated: true });
    assert.notEqual(a.cookie, beforeElevate, "elevate gives a new ID");
    res = await a.get("/admin");
    const admin = await json(res);
    assert.equal(res.status, 200, JSON.stringify(admin));
    assert.equal(admin.sensitive, true);
    assert.equal(admin.user, "alice");
    assert.ok(admin.elevatedUntil > nowSec(), "elevatedUntil is in the future");
    assert.equal((await identityOf(a)).elevatedUntil, admin.elevatedUntil);

    // Log out: the cookie is cleared and the session is gone.
    const last = a.cookie;
    res = await a.post("/logout");
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { signed_out: true });
    assert.equal(a.cookie, null, "the gate cleared its cookie");
    res = await gate.fetch("/app", { cookie: last, headers: { accept: "application/json" } });
    assert.equal(res.status, 401);
    assert.equal((await json(res)).error, "unauthenticated");
  });

  test(`${label}: the role check refuses a signed-in, elevated user without the role (403)`, async () => {
    const b = await signIn(stack.gate, "bob", "builder");
    let res = await b.post("/reauth", { password: "builder" });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    res = await b.get("/admin");
    assert.equal(res.status, 403);
    assert.deepEqual(await json(res), { error: "forbidden", reason: "role_required" });
  });

  test(`${label}: an invalid command raises in the application (400), before the gate would refuse it with 502`, async () => {
    const c = await signIn(stack.gate, "bob", "builder");
    const cookie = c.cookie;
    let res = await c.post("/rename", { user: "bo\r\nb" });
    assert.equal(res.status, 400);
    assert.deepEqual(await json(res), { error: "invalid_command", detail: "sessiongate command: user contains control characters" });
    res = await c.post("/rename", { user: " bob" });
    assert.equal(res.status, 400);
    assert.deepEqual(await json(res), { error: "invalid_command", detail: "sessiongate command: user starts or ends with whitespace" });
    assert.equal(c.cookie, cookie, "nothing changed");
    assert.equal((await identityOf(c)).user, "bob");
    res = await c.post("/rename", { user: "bobby" });
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { renamed: "bobby" });
    assert.notEqual(c.cookie, cookie);
    const me = await identityOf(c);
    assert.equal(me.user, "bobby");
    assert.deepEqual(me.data, { theme: "dark" });
  });

  test(`${label}: reached directly, without the gate, the app serves nobody (401), forged X-Session-* headers included`, async () => {
    const { app } = stack;
    const refused = async (res, reason, msg) => {
      const b = await json(res);
      assert.equal(res.status, 401, `${msg}: ${JSON.stringify(b)}`);
      assert.deepEqual(b, { error: "unauthenticated", reason }, msg);
    };
    await refused(await rawFetch(app.url + "/app"), "missing_assertion", "no assertion");
    await refused(await rawFetch(app.url + "/login"), "missing_assertion", "even the login form");
    const forgedIdentity = {
      "x-session-user": "alice", "x-session-roles": "user,admin", "x-session-id": "A".repeat(22),
      "x-session-auth-time": String(nowSec()), "x-session-elevated-until": String(nowSec() + 300),
      "x-session-data": '{"theme":"dark"}', "x-session-binding": "ok",
    };
    await refused(await rawFetch(app.url + "/app", { headers: forgedIdentity }), "missing_assertion", "identity headers alone");
    await refused(await rawFetch(app.url + "/admin", { headers: forgedIdentity }), "missing_assertion", "sensitive page");
    const claims = { sub: "alice", sid: "A".repeat(22), roles: ["user", "admin"], auth_time: nowSec(), htm: "GET", htu: app.url + "/app" };
    const sign = (key, alg, header = {}) => new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT", ...header })
      .setIssuer("sessiongate").setAudience(AUDIENCE).setIssuedAt().setExpirationTime("60s").sign(key);
    const otherKey = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const forged = [
      ["garbage", "x.y.z"],
      ["alg none", `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from(JSON.stringify({ ...claims, iss: "sessiongate", aud: AUDIENCE, iat: nowSec(), exp: nowSec() + 60 })).toString("base64url")}.`],
      ["another ES256 key", await sign(otherKey, "ES256", { kid: "made-up" })],
      ["HS256 under a guessed secret", await sign(new TextEncoder().encode("guessed-secret-guessed-secret-0123"), "HS256")],
    ];
    // The second review's headers (issue 25 item 5): each a 401, never a 500.
    const body = Buffer.from(JSON.stringify({ ...claims, iss: "sessiongate", aud: AUDIENCE, iat: nowSec(), exp: nowSec() + 60 })).toString("base64url");
    for (const h of ['{"alg":"ES256","kid":5}', '{"alg":"ES256","kid":{"a":1}}', '{"alg":"ES256","kid":"k","crit":["x-unknown"],"x-unknown":1}',
      '{"alg":"EdDSA","kid":"k"}', "[]", '{"alg":5}', "not json"]) {
      forged.push([`header ${h}`, `${Buffer.from(h).toString("base64url")}.${body}.${Buffer.from("signature").toString("base64url")}`]);
    }
    for (const [what, token] of forged) {
      await refused(await rawFetch(app.url + "/app", { headers: { ...forgedIdentity, "x-session-assertion": token } }), "invalid_assertion", what);
    }
    // The public page is served directly too, with nobody's identity.
    let res = await rawFetch(app.url + "/public", { headers: forgedIdentity });
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { user: null });
    res = await rawFetch(app.url + "/public", { headers: { ...forgedIdentity, "x-session-assertion": "x.y.z" } });
    await refused(res, "invalid_assertion", "a present but invalid assertion is refused on a public page too");
  });

  test(`${label}: a real assertion replayed directly to another method or page is refused; X-Session-Data altered or dropped on the way is refused`, async () => {
    const { gate, wire, app } = stack;
    const c = await signIn(gate, "bob", "builder");
    assert.equal((await identityOf(c)).user, "bob");
    const seen = wire.last();
    assert.equal(seen.path, "/app");
    const captured = { "x-session-assertion": seen.headers["x-session-assertion"], "x-session-data": seen.headers["x-session-data"] };
    // The same assertion, sent straight to the app with its method, is valid (within its 60 s)...
    let res = await rawFetch(app.url + "/app", { headers: captured });
    assert.equal(res.status, 200, "replayed with the same method");
    assert.equal((await json(res)).user, "bob");
    // ...but not for another page: not the sensitive one the gate would have stepped up
    // for, not with another query.
    for (const p of ["/admin", "/app?x=1", "/public", "/login"]) {
      res = await rawFetch(app.url + p, { headers: captured });
      const b = await json(res);
      assert.equal(res.status, 401, `GET ${p}: ${JSON.stringify(b)}`);
      assert.deepEqual(b, { error: "unauthenticated", reason: "url_mismatch" }, p);
    }
    // ...nor for another method.
    for (const [method, p] of [["POST", "/logout"], ["POST", "/app"], ["DELETE", "/app"]]) {
      res = await rawFetch(app.url + p, { method, headers: { ...captured, ...FORM }, body: "" });
      const b = await json(res);
      assert.equal(res.status, 401, `${method} ${p}: ${JSON.stringify(b)}`);
      assert.deepEqual(b, { error: "unauthenticated", reason: "method_mismatch" });
    }
    // Data altered, dropped, or added between the gate and the app.
    const cases = [
      ["altered", (h) => { h["x-session-data"] = h["x-session-data"].replace("dark", "lite"); }],
      ["dropped", (h) => { delete h["x-session-data"]; }],
      ["a space added", (h) => { h["x-session-data"] = h["x-session-data"].replace(":", ": "); }],
    ];
    try {
      for (const [what, tamper] of cases) {
        wire.tamper = tamper;
        res = await c.get("/app");
        const b = await json(res);
        assert.equal(res.status, 401, `${what}: ${JSON.stringify(b)}`);
        assert.deepEqual(b, { error: "unauthenticated", reason: "data_mismatch" }, what);
      }
      wire.tamper = (h) => { h["x-session-data"] = '{"theme":"dark"}'; };
      const anon = await gate.fetch("/public", { headers: { accept: "application/json" } });
      assert.deepEqual(await json(anon), { error: "unauthenticated", reason: "data_mismatch" }, "data added to an anonymous request");
      assert.equal(anon.status, 401);
    } finally {
      wire.tamper = null;
    }
    res = await c.get("/app");
    assert.equal(res.status, 200, "untouched, the same session works");
    assert.equal((await json(res)).user, "bob");
  });

  test(`${label}: the public page through the gate: anonymous, then the signed-in user`, async () => {
    const { gate } = stack;
    let res = await gate.fetch("/public", { headers: { accept: "application/json" } });
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { user: null });
    const c = await signIn(gate, "bob", "builder");
    res = await c.get("/public");
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { user: "bob" });
  });
}
