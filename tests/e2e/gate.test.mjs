// The gate's core contract, end to end: built Wasm in workerd, SQLite Durable
// Objects, a recording origin on loopback, real HTTP.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { jwtVerify } from "jose";
import { startGate, sessionCookie, setCookieHeader, isCleared, identity, tmpdir, SECRETS, COOKIE } from "./harness.mjs";
import { body } from "./session-helpers.mjs";

let gate;
let persist;
before(async () => {
  persist = tmpdir();
  gate = await startGate({ persist, vars: { SESSION_DATA_MAX: "16384" } });
});
after(async () => {
  await gate?.dispose();
});


test("protected paths are denied by default: JSON 401 for APIs, 302 to login for navigations", async () => {
  gate.origin.clear();
  let res = await gate.fetch("/app", { headers: { accept: "application/json" } });
  assert.equal(res.status, 401);
  assert.deepEqual(await body(res), { error: "unauthenticated", reason: "missing" });
  res = await gate.fetch("/app/reports?year=2026", { headers: { "sec-fetch-mode": "navigate" } });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/login?return_to=/app/reports%3Fyear%3D2026&reason=missing");
  res = await gate.fetch("/app", { headers: { accept: "text/html,application/xhtml+xml" } });
  assert.equal(res.status, 302);
  assert.equal(gate.origin.requests.length, 0, "nothing reached the origin");
});

test("public paths are forwarded without identity but with a signed assertion", async () => {
  gate.origin.clear();
  const res = await gate.fetch("/public/page?x=1", { headers: { "x-session-user": "mallory", "X-Session-Roles": "admin" } });
  assert.equal(res.status, 200);
  const rec = gate.origin.last();
  assert.equal(rec.path, "/public/page?x=1");
  assert.equal(rec.headers["x-session-user"], undefined, "spoofed identity stripped");
  assert.equal(rec.headers["x-session-roles"], undefined);
  const { payload } = await jwtVerify(rec.headers["x-session-assertion"], new TextEncoder().encode(SECRETS.ORIGIN_SECRET), {
    issuer: "sessiongate", audience: "127.0.0.1", algorithms: ["HS256"],
  });
  assert.equal(payload.htm, "GET");
  assert.equal(payload.htu, `${gate.origin.url}/public/page?x=1`);
  assert.equal(payload.exp - payload.iat, 60);
  assert.equal(payload.sub, undefined);
});

test("login issues a hardened browser-session cookie; a persistent login gets Max-Age = absolute timeout", async () => {
  const res = await gate.fetch("/login", { method: "POST", command: { action: "login", user: "alice", roles: ["admin", "user"] } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-session-command"), null, "command stripped before the client");
  const sc = setCookieHeader(res);
  assert.match(sc, new RegExp(`^${COOKIE}=[A-Za-z0-9_-]{130}; Path=/; HttpOnly; Secure; SameSite=Lax$`));
  assert.ok(sc.split(";")[0].length < 200, "cookie under 200 bytes");
  assert.doesNotMatch(sc, /Domain|Expires|Max-Age/i);
  const p = await gate.fetch("/login", { method: "POST", command: { action: "login", user: "alice", persistent: true } });
  assert.match(setCookieHeader(p), /; Max-Age=86400$/);
});

test("a valid session reaches the origin with identity, a verified assertion and nothing the client could spoof", async () => {
  const cookie = await gate.login("alice", { roles: ["admin", "user"], ip: "203.0.113.10", ua: "TestBrowser/1" });
  gate.origin.clear();
  const res = await gate.fetch("/app/page", {
    cookie: `theme=dark; ${cookie}; lang=en`,
    ip: "203.0.113.10",
    ua: "TestBrowser/1",
    headers: { "X-Session-User": "mallory", "x-session-id": "fake", "X-Forwarded-For": "10.0.0.1", "x-session-assertion": "forged" },
  });
  assert.equal(res.status, 200);
  const exp = Number(res.headers.get("x-session-expires-in"));
  assert.ok(exp > 1790 && exp <= 1800, `X-Session-Expires-In ${exp}`);
  const rec = gate.origin.last();
  const id = identity(rec);
  assert.equal(id.user, "alice");
  assert.equal(id.roles, "admin,user");
  assert.match(id.id, /^[A-Za-z0-9_-]{22}$/);
  assert.ok(!cookie.includes(id.id), "X-Session-Id is a handle, not the token");
  assert.equal(id.binding, "ok");
  assert.ok(Math.abs(Number(id.authTime) - Date.now() / 1000) < 10);
  assert.equal(rec.headers.cookie, "theme=dark; lang=en", "gate cookie removed, others kept");
  assert.equal(rec.headers["x-forwarded-for"], "203.0.113.10", "client address from CF-Connecting-IP, spoofed XFF dropped");
  assert.equal(rec.headers["x-forwarded-host"], new URL(gate.base).host, "the host and port the client addressed");
  assert.equal(rec.headers["x-forwarded-proto"], "http");
  const { payload } = await jwtVerify(id.assertion, new TextEncoder().encode(SECRETS.ORIGIN_SECRET), { issuer: "sessiongate", audience: "127.0.0.1" });
  assert.equal(payload.sub, "alice");
  assert.equal(payload.sid, id.id);
  assert.deepEqual(payload.roles, ["admin", "user"]);
  assert.equal(payload.auth_time, Number(id.authTime));
  assert.equal(payload.htu, `${gate.origin.url}/app/page`);
  await assert.rejects(jwtVerify(id.assertion, new TextEncoder().encode("x".repeat(40)), { issuer: "sessiongate" }));
});

test("login always issues a new ID and kills the old one at once", async () => {
  const first = await gate.login("bob");
  const second = await gate.login("bob", { cookie: first });
  assert.notEqual(first, second);
  let res = await gate.fetch("/app", { cookie: first, headers: { accept: "application/json" } });
  assert.equal(res.status, 401);
  assert.deepEqual(await body(res), { error: "unauthenticated", reason: "revoked" });
  assert.ok(isCleared(res), "a dead cookie is cleared");
  res = await gate.fetch("/app", { cookie: second });
  assert.equal(res.status, 200);
});

test("a guest cart (set_data) survives login; data never crosses users", async () => {
  let res = await gate.fetch("/public/cart", { method: "POST", command: { action: "set_data", data: { cart: ["book"] } } });
  const guest = sessionCookie(res);
  assert.ok(guest, "anonymous session started");
  res = await gate.fetch("/app", { cookie: guest, headers: { accept: "application/json" } });
  assert.equal(res.status, 401, "an anonymous session opens no protected path");
  assert.equal((await body(res)).reason, "missing");
  gate.origin.clear();
  res = await gate.fetch("/public/cart", { cookie: guest });
  assert.deepEqual(JSON.parse(gate.origin.last().headers["x-session-data"]), { cart: ["book"] });
  const user = await gate.login("carol", { cookie: guest, data: { theme: "dark" } });
  assert.notEqual(user, guest);
  gate.origin.clear();
  await gate.fetch("/app", { cookie: user });
  assert.deepEqual(JSON.parse(gate.origin.last().headers["x-session-data"]), { cart: ["book"], theme: "dark" });
  // The assertion binds the data: data_sha256 is SHA-256 (base64url) of the header as received.
  const signed = await assertionOf(gate.origin.last());
  const received = gate.origin.last().headers["x-session-data"];
  assert.equal(signed.data_sha256, crypto.createHash("sha256").update(received).digest("base64url"));
  res = await gate.fetch("/public/cart", { cookie: guest });
  assert.ok(isCleared(res), "the guest ID is dead after login");
  // carol's data must not follow a login as dave from carol's session.
  const dave = await gate.login("dave", { cookie: user });
  gate.origin.clear();
  await gate.fetch("/app", { cookie: dave });
  assert.equal(gate.origin.last().headers["x-session-data"], undefined);
  assert.equal((await assertionOf(gate.origin.last())).data_sha256, undefined, "no data, no data claim");
});

async function assertionOf(rec) {
  const key = new TextEncoder().encode(SECRETS.ORIGIN_SECRET);
  const { payload } = await jwtVerify(rec.headers["x-session-assertion"], key, { issuer: "sessiongate", audience: "127.0.0.1" });
  return payload;
}

test("logout destroys the session and clears the cookie; replaying the ID fails", async () => {
  const cookie = await gate.login("erin");
  let res = await gate.fetch("/account/logout", { method: "POST", cookie, command: { action: "logout" } });
  assert.equal(res.status, 200);
  assert.ok(isCleared(res));
  res = await gate.fetch("/app", { cookie, headers: { accept: "application/json" } });
  assert.deepEqual(await body(res), { error: "unauthenticated", reason: "revoked" });
});

test("forged and altered tokens are rejected as invalid without reaching the origin", async () => {
  const cookie = await gate.login("frank");
  const value = cookie.split("=")[1];
  const flipped = value.slice(0, 40) + (value[40] === "A" ? "B" : "A") + value.slice(41);
  gate.origin.clear();
  for (const bad of [flipped, value.slice(0, -1), "A".repeat(130), "garbage", value + "x"]) {
    const res = await gate.fetch("/app", { cookie: `${COOKIE}=${bad}`, headers: { accept: "application/json" } });
    assert.equal(res.status, 401);
    assert.deepEqual(await body(res), { error: "unauthenticated", reason: "invalid" });
    assert.ok(isCleared(res));
  }
  assert.equal(gate.origin.requests.length, 0);
  assert.equal((await gate.fetch("/app", { cookie })).status, 200, "the real session is unaffected");
});

test("paths are normalised before matching and forwarded normalised", async () => {
  gate.origin.clear();
  for (const p of ["/login/../app", "/public/..%2fapp", "/public/%2e%2e/app", "//app", "/LOGIN/../app"]) {
    const res = await gate.fetch(p, { headers: { accept: "application/json" } });
    assert.equal(res.status, 401, p);
    await res.arrayBuffer();
  }
  assert.equal(gate.origin.requests.length, 0);
  const cookie = await gate.login("gina");
  gate.origin.clear();
  await (await gate.fetch("/public/../app//x/./y", { cookie })).arrayBuffer();
  assert.equal(gate.origin.last().path, "/app/x/y");
});

test("a malformed origin command changes nothing and answers 502", async () => {
  const cookie = await gate.login("hank");
  for (const cmd of ['{"action":"fly"}', "not json", '{"action":"login"}', '{"action":"login","user":"a\\r\\nb"}']) {
    const res = await gate.fetch("/app", { cookie, command: cmd });
    assert.equal(res.status, 502, cmd);
    const b = await body(res);
    assert.equal(b.error, "invalid_origin_command");
    assert.ok(typeof b.detail === "string" && b.detail.length > 0);
    assert.equal(setCookieHeader(res), null, "no cookie change");
  }
  assert.equal((await gate.fetch("/app", { cookie })).status, 200);
});

test("session data is bounded", async () => {
  gate.origin.setHandler((req, res) => {
    res.setHeader("x-session-command", JSON.stringify({ action: "login", user: "ivy", data: { blob: "x".repeat(17000) } }));
    res.end("ok");
  });
  try {
    const res = await gate.fetch("/login", { method: "POST" });
    assert.equal(res.status, 502);
    assert.match((await body(res)).detail, /16384/);
    assert.equal(setCookieHeader(res), null);
  } finally {
    gate.origin.setHandler(null);
  }
});

test("the origin cannot set the gate's cookie or X-Session-* response headers", async () => {
  const cookie = await gate.login("jack");
  const res = await gate.fetch("/app", { cookie, headers: { "x-test-set-cookie": `${COOKIE}=attacker; Path=/` } });
  assert.equal(res.status, 200);
  assert.equal(setCookieHeader(res), null);
  const other = await gate.fetch("/app", { cookie, headers: { "x-test-set-cookie": "pref=1; Path=/" } });
  assert.deepEqual(other.headers.getSetCookie(), ["pref=1; Path=/"]);
});

test("storage holds only hashes of session IDs", async () => {
  const cookie = await gate.login("kate");
  const token = cookie.split("=")[1];
  const raw = Buffer.from(token, "base64url");
  const secret = raw.subarray(33, 65);
  const files = [];
  const walk = (d) => { for (const f of fs.readdirSync(d)) { const p = path.join(d, f); fs.statSync(p).isDirectory() ? walk(p) : files.push(p); } };
  walk(persist);
  assert.ok(files.some((f) => f.endsWith(".sqlite")), "durable object storage persisted");
  for (const f of files) {
    const content = fs.readFileSync(f);
    assert.equal(content.indexOf(token), -1, `token found in ${f}`);
    assert.equal(content.indexOf(secret), -1, `raw secret found in ${f}`);
    assert.equal(content.indexOf(secret.toString("hex")), -1, `hex secret found in ${f}`);
  }
});

test("a public response the gate has nothing to add to still loses the origin's X-Session-* headers and gate cookie", async () => {
  const { startOrigin } = await import("./harness.mjs");
  const origin = await startOrigin((req, res) => {
    if (!req.url.startsWith("/public/spoof")) return false;
    res.setHeader("x-session-user", "mallory");
    res.setHeader("x-session-expires-in", "999999");
    res.setHeader("set-cookie", [`${COOKIE}=planted; Path=/`, "theme=dark; Path=/"]);
    res.setHeader("x-origin-own", "kept");
    res.end("public body");
    return true;
  });
  const gate = await startGate({ origin });
  try {
    // Plain public page first: nothing to strip, nothing to add; passes as the origin sent it.
    const plain = await gate.fetch("/public/page");
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get("x-session-expires-in"), null);
    assert.equal(sessionCookie(plain), null);

    const res = await gate.fetch("/public/spoof");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "public body");
    assert.equal(res.headers.get("x-session-user"), null, "the origin's X-Session-User is dropped");
    assert.equal(res.headers.get("x-session-expires-in"), null, "the origin's X-Session-Expires-In is dropped");
    assert.equal(res.headers.get("x-origin-own"), "kept", "the origin's own headers pass");
    const cookies = res.headers.getSetCookie();
    assert.deepEqual(cookies, ["theme=dark; Path=/"], "the origin's own cookie passes, the gate's cookie does not");
  } finally {
    await gate.dispose();
    await origin.close();
  }
});
