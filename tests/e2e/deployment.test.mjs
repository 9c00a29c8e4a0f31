// Deployment shapes: one session across subdomains (COOKIE_DOMAIN), an application under
// a path (COOKIE_PATH), and static assets that never cost a session lookup (STATIC_PATHS).
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { jwtVerify } from "jose";
import { startGate, rawFetch, SECRETS } from "./harness.mjs";
import { body } from "./session-helpers.mjs";

const ADMIN = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };
const JSON_ACCEPT = { accept: "application/json" };

/** The session cookie (`name=value`) a response sets, and its whole Set-Cookie line. */
function setCookie(res, name) {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`)) ?? null;
  return { line, pair: line?.split(";")[0] ?? null };
}

/** A request to the gate as if addressed to `host` (the Host header picks the virtual host). */
function at(gate, host, p, opts = {}) {
  const port = new URL(gate.base).port;
  const headers = { host: `${host}:${port}`, ...(opts.headers ?? {}) };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.command) headers["x-test-command"] = JSON.stringify(opts.command);
  return rawFetch(`${gate.base}${p}`, { method: opts.method ?? "GET", headers, body: opts.body });
}

async function verifyAssertion(rec, audience) {
  const { payload } = await jwtVerify(rec.headers["x-session-assertion"], new TextEncoder().encode(SECRETS.ORIGIN_SECRET), {
    issuer: "sessiongate", audience, algorithms: ["HS256"],
  });
  return payload;
}

describe("COOKIE_DOMAIN: one session across subdomains", () => {
  let gate;
  before(async () => {
    gate = await startGate({ vars: { COOKIE_DOMAIN: "example.test", ALLOWED_ORIGINS: "http://shop.example.test", ADMIN_TOKEN: SECRETS.ADMIN_TOKEN } });
  });
  after(async () => gate?.dispose());

  test("signed in on app., the same session works on admin.; logout from admin. ends it on app.", async () => {
    let res = await at(gate, "app.example.test", "/login", { method: "POST", command: { action: "login", user: "sub-user" } });
    assert.equal(res.status, 200);
    const { line, pair } = setCookie(res, "__Secure-session");
    assert.ok(line, `a __Secure- cookie: ${res.headers.getSetCookie()}`);
    assert.match(line, /; Domain=example\.test; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    for (const host of ["app.example.test", "admin.example.test", "example.test"]) {
      gate.origin.clear();
      res = await at(gate, host, "/app", { cookie: pair });
      assert.equal(res.status, 200, host);
      await res.arrayBuffer();
      const rec = gate.origin.last();
      assert.equal(rec.headers["x-session-user"], "sub-user", host);
      const claims = await verifyAssertion(rec, host);
      assert.equal(claims.aud, host, "the assertion names the host that was asked");
      assert.equal(claims.htu, `${gate.origin.url}/app`);
    }
    res = await at(gate, "admin.example.test", "/.sessiongate/logout", { method: "POST", cookie: pair, headers: JSON_ACCEPT });
    assert.equal(res.status, 200);
    const cleared = setCookie(res, "__Secure-session").line;
    assert.match(cleared, /^__Secure-session=; Domain=example\.test; Path=\/; .*Max-Age=0$/, "cleared with the same Domain");
    res = await at(gate, "app.example.test", "/app", { cookie: pair, headers: JSON_ACCEPT });
    assert.equal(res.status, 401);
    assert.deepEqual(await body(res), { error: "unauthenticated", reason: "revoked" });
  });

  test("regeneration on one subdomain moves the session for all of them", async () => {
    let res = await at(gate, "app.example.test", "/login", { method: "POST", command: { action: "login", user: "regen-sub" } });
    const first = setCookie(res, "__Secure-session").pair;
    await res.arrayBuffer();
    res = await at(gate, "admin.example.test", "/account", { method: "POST", cookie: first, command: { action: "regenerate", reason: "password_change" } });
    assert.equal(res.status, 200);
    const second = setCookie(res, "__Secure-session");
    assert.match(second.line, /Domain=example\.test/);
    await res.arrayBuffer();
    res = await at(gate, "app.example.test", "/app", { cookie: first, headers: JSON_ACCEPT });
    assert.equal(res.status, 401, "the old ID is dead everywhere");
    await res.arrayBuffer();
    res = await at(gate, "app.example.test", "/app", { cookie: second.pair });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });

  test("a sibling subdomain is cross-site unless listed in ALLOWED_ORIGINS", async () => {
    let res = await at(gate, "app.example.test", "/login", { method: "POST", command: { action: "login", user: "csrf-sub" } });
    const pair = setCookie(res, "__Secure-session").pair;
    await res.arrayBuffer();
    res = await at(gate, "app.example.test", "/app/save", { method: "POST", cookie: pair, headers: { origin: "http://admin.example.test", "sec-fetch-site": "same-site" } });
    assert.equal(res.status, 403);
    assert.deepEqual(await body(res), { error: "cross_site_request" });
    res = await at(gate, "app.example.test", "/app/save", { method: "POST", cookie: pair, headers: { origin: "http://shop.example.test", "sec-fetch-site": "same-site" } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });

  test("a host outside COOKIE_DOMAIN is refused, never given a cookie the browser would drop", async () => {
    gate.origin.clear();
    for (const host of ["other.test", "evilexample.test", "example.test.evil"]) {
      const res = await at(gate, host, "/login", { method: "POST", command: { action: "login", user: "x" } });
      assert.equal(res.status, 421, host);
      assert.deepEqual(await body(res), { error: "misdirected_request", detail: "this host is not under COOKIE_DOMAIN" });
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
    assert.equal(gate.origin.requests.length, 0);
  });
});

describe("COOKIE_DOMAIN and COOKIE_PATH configuration errors", () => {
  for (const [vars, variable, detail] of [
    [{ COOKIE_DOMAIN: "co.uk" }, "COOKIE_DOMAIN", /public suffix/],
    [{ COOKIE_DOMAIN: "com" }, "COOKIE_DOMAIN", /public suffix/],
    [{ COOKIE_DOMAIN: "127.0.0.1" }, "COOKIE_DOMAIN", /IP address/],
    [{ COOKIE_DOMAIN: "example.test", COOKIE_NAME: "__Host-session" }, "COOKIE_NAME", /__Host- cookie cannot carry Domain/],
    [{ COOKIE_DOMAIN: "example.test", COOKIE_NAME: "sid" }, "COOKIE_NAME", /must use the __Secure- prefix/],
    [{ COOKIE_PATH: "/app", COOKIE_NAME: "__Host-session" }, "COOKIE_NAME", /Path other than \//],
    [{ COOKIE_PATH: "app" }, "COOKIE_PATH", /must start with \//],
    [{ STATIC_PATHS: "/app/*" }, "STATIC_PATHS", /not covered by PUBLIC_PATHS/],
    [{ STATIC_PATHS: "/public/*", SENSITIVE_PATHS: "/public/admin" }, "STATIC_PATHS", /overlaps the sensitive \/public\/admin/],
  ]) {
    test(`${JSON.stringify(vars)} -> 500 config naming ${variable}`, async () => {
      const gate = await startGate({ vars });
      try {
        const res = await gate.fetch("/public/x");
        const b = await body(res);
        assert.equal(res.status, 500, JSON.stringify(b));
        assert.equal(b.error, "config");
        assert.ok(b.detail.startsWith(`${variable}: `), b.detail);
        assert.match(b.detail, detail);
        assert.equal(gate.origin.requests.length, 0);
      } finally {
        await gate.dispose();
      }
    });
  }
});

describe("COOKIE_PATH: an application under /app/", () => {
  let gate;
  before(async () => {
    gate = await startGate({ vars: { COOKIE_PATH: "/app/", PUBLIC_PATHS: "/app/login,/public/*", LOGIN_URL: "/app/login" } });
  });
  after(async () => gate?.dispose());

  test("the cookie is scoped to /app, and the gate's endpoints live under /app/.sessiongate/", async () => {
    let res = await gate.fetch("/app/login", { method: "POST", command: { action: "login", user: "path-user" } });
    assert.equal(res.status, 200);
    const { line, pair } = setCookie(res, "__Secure-session");
    assert.equal(line.replace(/=[^;]*;/, "=<token>;"), "__Secure-session=<token>; Path=/app; HttpOnly; Secure; SameSite=Lax");
    await res.arrayBuffer();
    res = await gate.fetch("/app/.sessiongate/status", { cookie: pair });
    assert.equal(res.status, 200);
    const status = await body(res);
    assert.equal(status.authenticated, true);
    assert.equal(status.user, "path-user");
    res = await gate.fetch("/app/.sessiongate/client.js");
    assert.equal(res.status, 200);
    const js = await res.text();
    assert.ok(js.includes('var base = "/app/.sessiongate";'), "client.js calls the endpoints where the cookie reaches");
    assert.ok(js.includes('"/app/login"'));
    // The root namespace is still the gate's (never forwarded), for the admin API and client.js.
    gate.origin.clear();
    res = await gate.fetch("/.sessiongate/client.js");
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    res = await gate.fetch("/app/.sessiongate%2Fstatus");
    assert.equal(res.status, 404);
    await res.arrayBuffer();
    assert.equal(gate.origin.requests.length, 0);
    res = await gate.fetch("/app/.sessiongate/logout", { method: "POST", cookie: pair, headers: JSON_ACCEPT });
    assert.equal(res.status, 200);
    assert.match(setCookie(res, "__Secure-session").line, /^__Secure-session=; Path=\/app; .*Max-Age=0$/);
    await res.arrayBuffer();
    res = await gate.fetch("/app/home", { cookie: pair, headers: JSON_ACCEPT });
    assert.equal(res.status, 401);
    assert.deepEqual(await body(res), { error: "unauthenticated", reason: "revoked" });
  });
});

describe("STATIC_PATHS: assets without a session lookup", () => {
  let gate;
  before(async () => {
    gate = await startGate({ vars: { PUBLIC_PATHS: "/login,/static/*,/favicon.ico,/public/*", STATIC_PATHS: "/static/*,/favicon.ico" } });
  });
  after(async () => gate?.dispose());

  async function objectRequests(user) {
    const res = await gate.fetch(`/.sessiongate/admin/users/${user}/stats`, { headers: ADMIN });
    const b = await body(res);
    assert.equal(res.status, 200, JSON.stringify(b));
    assert.equal(typeof b.requests, "number");
    return b.requests;
  }

  test("a page of 20 assets costs no Durable Object request; the protected page still costs one", async () => {
    const cookie = await gate.login("static-user");
    const before = await objectRequests("static-user");
    gate.origin.clear();
    for (let i = 0; i < 20; i++) {
      const p = i === 0 ? "/favicon.ico" : `/static/asset-${i}.js`;
      const res = await gate.fetch(p, { cookie, headers: { "x-session-user": "mallory", X_Session_Roles: "admin" } });
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get("x-session-expires-in"), null, "no expiry header: no session was read");
      assert.deepEqual(res.headers.getSetCookie(), [], "the cookie is left alone");
      await res.arrayBuffer();
    }
    assert.equal(await objectRequests("static-user"), before, "no lookup for static paths");
    assert.equal(gate.origin.requests.length, 20);
    for (const rec of gate.origin.requests) {
      assert.equal(rec.headers.cookie, undefined, "the gate's cookie is stripped");
      assert.equal(rec.headers["x-session-user"], undefined);
      assert.deepEqual(Object.keys(rec.headers).filter((n) => n.includes("_")), []);
      const claims = await verifyAssertion(rec, "127.0.0.1");
      assert.equal(claims.sub, undefined, "an assertion without identity claims");
      assert.equal(claims.sid, undefined);
    }
    const res = await gate.fetch("/app", { cookie });
    assert.equal(res.status, 200);
    assert.ok(res.headers.get("x-session-expires-in"));
    await res.arrayBuffer();
    assert.equal(await objectRequests("static-user"), before + 1, "the protected page: exactly one lookup");
  });

  test("a path static under one reading but not another gets the full check", async () => {
    gate.origin.clear();
    // `/STATIC/x.js`: its lower-cased reading is static, the forwarded path is protected.
    for (const p of ["/static/..%2Fapp", "/static/%2e%2e/app", "/STATIC/x.js"]) {
      const res = await gate.fetch(p, { headers: JSON_ACCEPT });
      assert.equal(res.status, 401, p);
      assert.deepEqual(await body(res), { error: "unauthenticated", reason: "missing" }, p);
    }
    assert.equal(gate.origin.requests.length, 0);
  });

  test("an origin command on a static path is refused, not applied", async () => {
    const res = await gate.fetch("/static/login.js", { command: { action: "login", user: "via-static" } });
    assert.equal(res.status, 502);
    assert.deepEqual(await body(res), { error: "invalid_origin_command", detail: "commands are not applied on STATIC_PATHS, where no session is read" });
    assert.deepEqual(res.headers.getSetCookie(), []);
  });
});
