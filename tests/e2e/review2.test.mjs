// The second outside review's findings on the gate (SECURITY.md, "Outside review", rows
// R2-1 to R2-7), one test each; test names start with the finding's number. Every test
// here failed against the gate before its fix: the attack went through. The bounded
// reads of finding 2 are in bounded-reads.test.mjs (they measure workerd's memory).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGate, SECRETS, sessionCookie, rawFetch } from "./harness.mjs";
import { body, command, forwardedVia } from "./session-helpers.mjs";
import { startWsOrigin, connect } from "./live-helpers.mjs";

const SENSITIVE = "DELETE /account/*,POST /account/password";
const JSON_ACCEPT = { accept: "application/json" };
const REAUTH = { error: "reauthentication_required" };
const ADMIN = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };

const logs = [];
let gate;
let wsOrigin;
let user; // a signed-in, non-elevated session
before(async () => {
  wsOrigin = await startWsOrigin();
  gate = await startGate({
    origin: wsOrigin,
    vars: { SENSITIVE_PATHS: SENSITIVE, MAX_CONNECTIONS_PER_SESSION: "3" },
    miniflare: { handleStructuredLogs: (l) => { logs.push(String(l.message)); } },
  });
  user = await gate.login("review2-user");
});
after(async () => {
  await gate?.dispose();
  await wsOrigin?.close();
});

/** Sends each request; every one must be refused with `status`/`want` and none forwarded. */
async function refusedAll(cases, status, want, cookie = user) {
  gate.origin.clear();
  for (const [what, p, opts] of cases) {
    const res = await gate.fetch(p, { cookie, ...opts, headers: { ...JSON_ACCEPT, ...(opts?.headers ?? {}) } });
    const b = await body(res);
    assert.equal(res.status, status, `${what}: ${res.status} ${JSON.stringify(b)}`);
    assert.deepEqual(b, want, what);
  }
  assert.deepEqual(gate.origin.requests.map((r) => `${r.method} ${r.path} ${r.body.slice(0, 40)}`), [], "nothing reached the origin");
}

const forwarded = (p, opts = {}) => forwardedVia(gate, p, { cookie: user, ...opts });

const post = (headers, b, extra = {}) => ({ method: "POST", headers, body: b, ...extra });
const sized = (headers, b) => post({ ...headers, "content-length": String(Buffer.byteLength(b)) }, b);

test("R2-1. step-up holds through _method in a body of any type: untyped, listed, cased, parameterised, malformed, JSON, multipart, chunked or sized", async () => {
  const mp = (type) => [{ "content-type": type }, '--b\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n--b--\r\n'];
  await refusedAll([
    // The review's two requests.
    ["no Content-Type (Rack reads a POST without one as a form)", "/account/data", post({}, "_method=DELETE")],
    ["a listed media type (Rack cuts at , too)", "/account/data", post({ "content-type": "application/x-www-form-urlencoded, text/plain" }, "_method=DELETE")],
    // The family.
    ["no Content-Type, sized", "/account/data", sized({}, "_method=DELETE")],
    ["text/plain", "/account/data", post({ "content-type": "text/plain" }, "_method=DELETE")],
    ["cased and spaced", "/account/data", post({ "content-type": "APPLICATION/X-WWW-FORM-URLENCODED ; charset=utf-8" }, "_method=delete")],
    ["malformed", "/account/data", post({ "content-type": ";;=" }, "_method=DELETE")],
    ["empty", "/account/data", post({ "content-type": "" }, "_method=DELETE")],
    ["; separated pairs", "/account/data", post({}, "a=1;_method=DELETE")],
    ["spaces after &", "/account/data", post({}, "a=1&  _method=DELETE")],
    ["percent-encoded name", "/account/data", post({}, "%5Fmethod=DELETE")],
    ["bracketed name (Rack's nested params)", "/account/data", post({}, "[_method]=DELETE")],
    ["padded value", "/account/data", post({}, "_method=+delete+")],
    ["a final NUL (Rack strips it)", "/account/data", post({}, "_method=DELETE\0")],
    ["repeated, the last one wins in Rack", "/account/data", post({}, "_method=PATCH&_method=DELETE")],
    ["JSON (express.json and a body getter)", "/account/data", post({ "content-type": "application/json" }, '{"_method":"DELETE"}')],
    ["multipart/form-data", "/account/data", post(...mp("multipart/form-data; boundary=b"))],
    ["multipart/mixed (Rack parses it)", "/account/data", post(...mp("multipart/mixed; boundary=b"))],
    ["multipart without a type", "/account/data", post({}, mp("x")[1])],
    ["a quoted, escaped multipart name", "/account/data", post({}, '--b\r\nContent-Disposition: form-data; name="_m\\ethod"\r\n\r\nDELETE\r\n--b--')],
    ["a _method the gate cannot read is any method", "/account/data", post({}, "--b\r\nContent-Disposition: form-data; name=\"_method\"\n\nDELETE")],
    ["X-HTTP-Method-Override beside a body", "/account/data", post({ "x-http-method-override": "DELETE" }, "a=1")],
  ], 403, REAUTH);
  // Under a Content-Encoding the bytes are not the text a framework inflates: refused.
  await refusedAll([["gzip", "/account/data", post({ "content-encoding": "gzip" }, "x")]], 415, {
    error: "unsupported_content_encoding",
    detail: "a POST body to this path is read for _method, and cannot be read under a Content-Encoding",
  });
  // Too long to read: refused, chunked (no length to check first) or sized.
  const big = "a=" + "x".repeat(70 * 1024) + "&_method=DELETE";
  const tooLarge = { error: "request_too_large", detail: "a POST body to this path is read for _method, and is longer than 65536 bytes" };
  await refusedAll([["64 KiB+ chunked", "/account/data", post({}, big)], ["64 KiB+ sized", "/account/data", sized({}, big)]], 413, tooLarge);
  // An override header spelled with `_` is dropped, not forwarded for a CGI server to read.
  const under = await forwarded("/account/data", post({ "X_HTTP_Method_Override": "DELETE" }, "name=x"));
  assert.equal(under.method, "POST");
  assert.deepEqual(Object.keys(under.headers).filter((n) => n.includes("method")), []);
  // What names no other method is forwarded as sent, its body intact.
  for (const [type, b] of [[undefined, "name=x"], ["application/json", '{"title":"x"}'], ["text/plain", "hello"]]) {
    const rec = await forwarded("/account/data", post(type ? { "content-type": type } : {}, b));
    assert.equal(rec.body, b);
    assert.equal(rec.method, "POST");
  }
  const patch = await forwarded("/account/data", post({}, "_method=PATCH"));
  assert.equal(patch.body, "_method=PATCH", "a Rails update form on the path needs no step-up");
  // An elevated session passes anyway: its body is not read, however long.
  const other = await gate.login("review2-elevated");
  const el = await command(gate, other, { action: "elevate" });
  const elevated = el.cookie ?? other;
  const rec = await forwarded("/account/data", { cookie: elevated, ...post({}, big) });
  assert.equal(rec.body.length, big.length);
});

/** A request to `g` as if addressed to `host` (the Host header picks the virtual host). */
function at(g, host, p, opts = {}) {
  const port = new URL(g.base).port;
  const headers = { host: `${host}:${port}`, ...(opts.headers ?? {}) };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.ip) headers["cf-connecting-ip"] = opts.ip;
  if (opts.ua) headers["user-agent"] = opts.ua;
  if (opts.command) headers["x-test-command"] = JSON.stringify(opts.command);
  return rawFetch(`${g.base}${p}`, { method: opts.method ?? "GET", headers, body: opts.body });
}

test("R2-3. COOKIE_DOMAIN: two values of the session cookie naming different sessions are refused, neither cleared, and logged", async () => {
  const g = await startGate({
    vars: { COOKIE_DOMAIN: "example.test" },
    miniflare: { handleStructuredLogs: (l) => { logs.push(String(l.message)); } },
  });
  try {
    const name = "__Secure-session";
    const APP = "app.example.test";
    const pairOf = (res) => res.headers.getSetCookie().find((c) => c.startsWith(name + "="))?.split(";")[0] ?? null;
    const login = async (u, opts = {}) => {
      const res = await at(g, APP, "/login", { method: "POST", command: { action: "login", user: u }, ...opts });
      await res.arrayBuffer();
      const pair = pairOf(res);
      assert.ok(pair, `login ${u}: ${res.status}`);
      return pair;
    };
    const victim = await login("victim");
    const mallory = await login("mallory");
    // The review's scenario: a sibling host (evil.example.test) planted mallory's cookie
    // with a more specific Path, so the browser sends both, mallory's first.
    for (const cookie of [`${mallory}; ${victim}`, `${victim}; ${mallory}`]) {
      g.origin.clear();
      for (const headers of [{ accept: "application/json" }, { accept: "text/html", "sec-fetch-mode": "navigate" }]) {
        const res = await at(g, APP, "/app/account", { cookie, headers });
        assert.equal(res.status, 401, headers.accept);
        assert.deepEqual(await body(res), { error: "unauthenticated", reason: "ambiguous_session" });
        assert.equal(pairOf(res), null, "neither value is cleared");
      }
      assert.equal(g.origin.requests.length, 0, "nothing forwarded");
    }
    const lines = () => logs.flatMap((m) => m.split("\n")).map((l) => { try { return JSON.parse(l); } catch { return null; } });
    assert.ok(lines().some((l) => l && l.event === "ambiguous_session"), "an ambiguous_session log line");
    // The same session twice, or ours beside a value the gate never signed, is that session.
    for (const cookie of [`${victim}; ${victim}`, `${name}=planted-junk; ${victim}`]) {
      const res = await at(g, APP, "/app", { cookie });
      assert.equal(res.status, 200, cookie);
      assert.equal((await res.json()).headers["x-session-user"], "victim");
    }

    // A guest session planted from elsewhere (another network and browser) carries no
    // data into the victim's login; one the victim started does.
    const victimSide = { ip: "203.0.113.5", ua: "Victim/1" };
    const guest = async (from) => {
      const res = await at(g, APP, "/public/cart", { method: "POST", command: { action: "set_data", data: { cart: ["item"] } }, ...from });
      await res.arrayBuffer();
      return pairOf(res);
    };
    const dataAfterLogin = async (cookie) => {
      const pair = await login("victim", { cookie, ...victimSide });
      const app = await at(g, APP, "/app", { cookie: pair, ...victimSide });
      return (await app.json()).headers["x-session-data"];
    };
    assert.equal(await dataAfterLogin(await guest({ ip: "198.51.100.9", ua: "Mallory/1" })), undefined, "the planted cart is not the victim's");
    assert.equal(await dataAfterLogin(await guest({ ip: "203.0.113.7", ua: "Victim/1" })), JSON.stringify({ cart: ["item"] }), "the victim's own cart carries over");
  } finally {
    await g.dispose();
  }
});

test("R2-4. client address headers are stripped: every one a framework or library reads", async () => {
  const names = ["Client-IP", "X-Client-IP", "X-Cluster-Client-IP", "Fastly-Client-IP", "True-Client-IP", "X-Real-IP", "Forwarded",
    "X-Forwarded", "Forwarded-For", "DO-Connecting-IP", "X-AppEngine-User-IP", "Cf-Pseudo-IPv4", "X_Client_IP"];
  const rec = await forwarded("/public/x", { cookie: undefined, headers: Object.fromEntries(names.map((n) => [n, "10.6.6.6"])), ip: "203.0.113.9" });
  assert.ok(!JSON.stringify(rec.headers).includes("10.6.6.6"), `a client address reached the origin: ${JSON.stringify(rec.headers)}`);
  assert.equal(rec.headers["x-forwarded-for"], "203.0.113.9", "the gate's own value");
});

test("R2-6. user ids . and .. are refused by the login command", async () => {
  for (const u of [".", ".."]) {
    const res = await gate.fetch("/login", { method: "POST", command: { action: "login", user: u }, headers: JSON_ACCEPT });
    const b = await body(res);
    assert.equal(res.status, 502, `${u}: ${JSON.stringify(b)}`);
    assert.deepEqual(b, { error: "invalid_origin_command", detail: "user is . or .., which the admin API cannot address" });
    assert.equal(sessionCookie(res), null);
  }
  const ok = await gate.login("...");
  const res = await gate.fetch("/.sessiongate/admin/users/.../sessions", { headers: ADMIN });
  assert.equal(res.status, 200, "three dots are an id the admin API reaches");
  assert.equal((await body(res)).sessions.length, 1);
  assert.ok(ok);
});

test("R2-7. flow cookies never reach the origin; sockets per session are bounded", async () => {
  const rec = await forwarded("/app", { cookie: `${user}; __Host-sessiongate-oidc-abc=binding; a=1` });
  assert.equal(rec.headers.cookie, "a=1");
  // WebSockets: MAX_CONNECTIONS_PER_SESSION=3 here; the fourth is refused with 429.
  const ws = (cookie) => connect(gate, "/socket", { cookie, origin: gate.base });
  const open = [];
  for (let i = 0; i < 3; i++) {
    const c = await ws(user);
    assert.ok(c.ws, `socket ${i}: ${JSON.stringify(c)}`);
    open.push(c);
  }
  const fourth = await ws(user);
  assert.equal(fourth.status, 429);
  assert.deepEqual(fourth.body, { error: "too_many_connections", detail: "this session holds as many WebSockets and event streams as MAX_CONNECTIONS_PER_SESSION allows" });
  const other = await ws(await gate.login("review2-other"));
  assert.ok(other.ws, "another session has its own count");
  other.ws.close();
  // A closed socket frees its place (the object sees the watch close).
  open[0].ws.close();
  await open[0].closed;
  let again;
  for (let i = 0; i < 50; i++) {
    again = await ws(user);
    if (again.ws) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(again.ws, "a place freed by a close");
  for (const c of [...open.slice(1), again]) c.ws.close();
});
