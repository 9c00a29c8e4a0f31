// The outside security review's findings, one test each (SECURITY.md, "Outside review").
// Every test here failed against the gate before the fixes: the attack it sends went
// through. Each asserts the exact status and body, and that the origin saw nothing it
// should not have.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startGate, COOKIE, identity, isCleared, sessionCookie } from "./harness.mjs";
import { body, command, assertion, forwardedVia } from "./session-helpers.mjs";

const SENSITIVE = "/admin/*,POST /account/password,DELETE /account,GET /reports/*";
const PARTNER = "https://partner.example";
const JSON_ACCEPT = { accept: "application/json" };
const REAUTH = { error: "reauthentication_required" };
const CROSS_SITE = { error: "cross_site_request" };

const logs = [];
let gate;
let user; // a signed-in, non-elevated session
before(async () => {
  gate = await startGate({
    vars: { SENSITIVE_PATHS: SENSITIVE, PUBLIC_PATHS: "/login,/public,/public/*,/,/hooks/*", ALLOWED_ORIGINS: PARTNER },
    miniflare: { handleStructuredLogs: (l) => { logs.push(String(l.message)); } },
  });
  user = await gate.login("review-user");
});
after(async () => {
  await gate?.dispose();
});

/** Sends each request; every one must be refused with `status`/`want` and none forwarded. */
async function refusedAll(cases, status, want) {
  gate.origin.clear();
  for (const [what, p, opts] of cases) {
    const res = await gate.fetch(p, { cookie: user, ...opts, headers: { ...JSON_ACCEPT, ...(opts?.headers ?? {}) } });
    const b = await body(res);
    assert.equal(res.status, status, `${what}: ${res.status} ${JSON.stringify(b)}`);
    assert.deepEqual(b, want, what);
  }
  assert.deepEqual(gate.origin.requests.map((r) => `${r.method} ${r.path}`), [], "nothing reached the origin");
}

const forwarded = (p, opts = {}) => forwardedVia(gate, p, { cookie: user, ...opts });

/** One raw HTTP/1.1 request, for header lines no HTTP client sends (repeated Cookie). */
function rawStatus(lines) {
  return new Promise((resolve, reject) => {
    const s = net.connect(new URL(gate.base).port, "127.0.0.1");
    let buf = "";
    s.on("data", (d) => (buf += d.toString("latin1")));
    s.on("end", () => resolve(Number(buf.split(" ")[1])));
    s.on("error", reject);
    s.end(lines.join("\r\n") + "\r\n\r\n");
  });
}

/** JSON with every non-ASCII character escaped: a header value any HTTP stack carries. */
const asciiJson = (v) => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));

/** The origin answers every request with this X-Session-Command (bigger than a request header may be). */
const replyWith = (cmd) => (req, res) => {
  res.setHeader("x-session-command", asciiJson(cmd));
  res.setHeader("content-type", "application/json");
  res.end("{}");
};

/** Polls the Worker log for an audit line; a deadline, not a fixed sleep. */
async function logLine(pred, ms = 30_000) {
  const until = Date.now() + ms;
  for (;;) {
    const hit = logs.flatMap((m) => m.split("\n")).map((l) => { try { return JSON.parse(l); } catch { return null; } }).find((l) => l && pred(l));
    if (hit || Date.now() > until) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("1. step-up holds on every reading: encoded trailing dots, whitespace, NUL, format suffixes", async () => {
  const paths = ["/admin%2e", "/admin%2E", "/admin.", "/admin%20", "/admin%09", "/admin%0a", "/admin%0D", "/admin%00", "/admin%2e%20",
    "/Admin%2E", "/admin.json", "/admin/users.json", "/admin/users%2ejson", "/admin%2ejson", "/admin/x.tar.gz", "/admin/x%2e/"];
  await refusedAll(paths.map((p) => [`GET ${p}`, p, {}]), 403, REAUTH);
  await refusedAll(["/account/password%2e", "/account/password%20", "/account/password.json", "/account/password%00"].map((p) => [`POST ${p}`, p, { method: "POST" }]), 403, REAUTH);
  // What is not the sensitive path stays an ordinary protected (or public) path.
  await forwarded("/administrator.json");
  await forwarded("/adminx%2e");
  await forwarded("/public/logo.png", { cookie: undefined });
});

test("2. step-up holds through method overrides: headers, _method in the query and in a form body", async () => {
  const post = (headers, extra = {}) => ({ method: "POST", headers, ...extra });
  const form = { "content-type": "application/x-www-form-urlencoded" };
  await refusedAll([
    ["X-HTTP-Method-Override", "/account", post({ "x-http-method-override": "DELETE" })],
    ["X-HTTP-Method", "/account", post({ "x-http-method": "delete" })],
    ["X-Method-Override", "/account", post({ "x-method-override": "DELETE" })],
    ["X_HTTP_Method_Override (runtime keeps the name)", "/account", post({ "x-http-method-override": "PUT, DELETE" })],
    ["_method in the query", "/account?_method=DELETE", post({})],
    ["encoded _method in the query", "/account?%5Fmethod=delete", post({})],
    ["_method in a form body", "/account", post(form, { body: "name=x&_method=DELETE" })],
    ["_method in a form body with charset", "/account", post({ "content-type": "application/x-www-form-urlencoded; charset=UTF-8" }, { body: "_method=delete" })],
    ["a format suffix and an override", "/account.json", post({ "x-http-method-override": "DELETE" })],
    ["_method in a multipart body", "/account", post({ "content-type": "multipart/form-data; boundary=XyZ" },
      { body: '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n--XyZ--\r\n' })],
  ], 403, REAUTH);
  // A form without an override is forwarded with its body intact (read from a copy).
  const rec = await forwarded("/account", post(form, { body: "name=x&city=Z%C3%BCrich" }));
  assert.equal(rec.body, "name=x&city=Z%C3%BCrich");
  assert.equal(rec.method, "POST");
  // Too long to read on a path where it matters: refused, not guessed.
  const big = "a=" + "x".repeat(70 * 1024) + "&_method=DELETE";
  await refusedAll([["64 KiB+ form body", "/account", post(form, { body: big })]], 413,
    { error: "request_too_large", detail: "a POST body to this path is read for _method, and is longer than 65536 bytes" });
  // Where no method-scoped pattern applies the body is not read at all.
  const other = await forwarded("/app/upload", post(form, { body: big }));
  assert.equal(other.body.length, big.length);
});

test("3. a foreign Origin is cross-site whatever Sec-Fetch-Site claims; same-site alone is not same-origin", async () => {
  const cases = [];
  for (const site of ["same-site", "same-origin", "none", "garbage"]) {
    cases.push([`POST /app Sec-Fetch-Site ${site} + evil Origin`, "/app", { method: "POST", headers: { "sec-fetch-site": site, origin: "https://evil.example.com" } }]);
  }
  cases.push(["same-site without Origin", "/app", { method: "POST", headers: { "sec-fetch-site": "same-site" } }]);
  cases.push(["log out everywhere, same-site + evil Origin", "/.sessiongate/sessions", { method: "DELETE", headers: { "sec-fetch-site": "same-site", origin: "https://evil.example.com" } }]);
  cases.push(["logout, same-origin + evil Origin", "/.sessiongate/logout", { method: "POST", headers: { "sec-fetch-site": "same-origin", origin: "https://evil.example.com" } }]);
  await refusedAll(cases, 403, CROSS_SITE);
  assert.equal((await gate.fetch("/app", { cookie: user })).status, 200, "the session lives");
  // A listed sibling passes with its Origin; our own origin passes.
  await forwarded("/app", { method: "POST", headers: { "sec-fetch-site": "same-site", origin: PARTNER } });
  await forwarded("/app", { method: "POST", headers: { "sec-fetch-site": "same-origin", origin: gate.base } });
});

test("4. login CSRF: a login command answering a cross-site POST is not applied", async () => {
  gate.origin.clear();
  const res = await gate.fetch("/login", {
    method: "POST",
    command: { action: "login", user: "attacker" },
    headers: { "sec-fetch-site": "cross-site", origin: "https://evil.example.com", ...JSON_ACCEPT },
  });
  assert.equal(res.status, 403);
  assert.deepEqual(await body(res), CROSS_SITE);
  assert.deepEqual(res.headers.getSetCookie(), [], "no cookie set");
  const line = await logLine((l) => l.event === "cross_site_request" && /login_command_refused/.test(l.reason ?? ""));
  assert.ok(line, "audited");
  // The same with only a foreign Origin, and with only Sec-Fetch-Site.
  for (const headers of [{ origin: "https://evil.example.com" }, { "sec-fetch-site": "cross-site" }]) {
    const r = await gate.fetch("/login", { method: "POST", command: { action: "login", user: "attacker" }, headers });
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.deepEqual(await body(r), CROSS_SITE);
    assert.equal(sessionCookie(r), null);
  }
  // A same-origin login works, and a cross-site webhook that starts no session passes.
  const ok = await gate.fetch("/login", { method: "POST", command: { action: "login", user: "csrf-ok" }, headers: { "sec-fetch-site": "same-origin", origin: gate.base } });
  assert.equal(ok.status, 200);
  assert.ok(sessionCookie(ok));
  await ok.arrayBuffer();
  const hook = await forwarded("/hooks/stripe", { cookie: undefined, method: "POST", body: "{}", headers: { "sec-fetch-site": "cross-site", origin: "https://hooks.example" } });
  assert.equal(hook.body, "{}");
});

test("5. identity headers spelled with underscores never reach the origin", async () => {
  const spoof = { "X_Session_User": "admin", "X-Session_Roles": "admin", "x_session_assertion": "forged", "Remote_User": "admin", "X_Forwarded_User": "admin", "X_Forwarded_For": "10.9.9.9", "X_Forwarded_Host": "evil.example" };
  for (const cookie of [undefined, user]) {
    const rec = await forwarded("/public/x", { cookie, headers: spoof });
    const names = Object.keys(rec.headers);
    assert.deepEqual(names.filter((n) => n.includes("_")), [], `underscore names forwarded: ${names}`);
    if (cookie) assert.equal(rec.headers["x-session-user"], "review-user");
    else assert.equal(rec.headers["x-session-user"], undefined);
  }
});

test("6. routing and scheme headers are stripped", async () => {
  const names = ["X-Original-URL", "X-Rewrite-URL", "X-Forwarded-Prefix", "X-Forwarded-Ssl", "X-Forwarded-Scheme", "X-Forwarded-Port",
    "X-Forwarded-Server", "Front-End-Https", "X-Url-Scheme", "X-Original-URI", "X-Forwarded-Uri", "X-Host", "X-Forwarded-Email"];
  const headers = Object.fromEntries(names.map((n) => [n, n === "X-Original-URL" || n === "X-Rewrite-URL" ? "/admin/users" : "on"]));
  const rec = await forwarded("/public/x", { headers });
  for (const n of names) assert.equal(rec.headers[n.toLowerCase()], undefined, n);
  assert.equal(rec.headers["x-forwarded-proto"], "http", "the gate's own value");
});

test("7. HEAD is GET for step-up", async () => {
  gate.origin.clear();
  const res = await gate.fetch("/reports/q3", { method: "HEAD", cookie: user, headers: JSON_ACCEPT });
  assert.equal(res.status, 403);
  const get = await gate.fetch("/reports/q3", { cookie: user, headers: JSON_ACCEPT });
  assert.equal(get.status, 403);
  assert.deepEqual(await body(get), REAUTH);
  assert.equal(gate.origin.requests.length, 0);
  await forwarded("/reports/q3", { method: "POST" });
});

test("8. the gate's cookie in a second Cookie header is found and stripped", async () => {
  const token = user.slice(COOKIE.length + 1);
  const port = new URL(gate.base).port;
  gate.origin.clear();
  const status = await rawStatus(["GET /public/page HTTP/1.1", `Host: 127.0.0.1:${port}`, "Connection: close", "User-Agent: node", "Cookie: a=1", `Cookie: ${COOKIE}=${token}`]);
  assert.equal(status, 200);
  const rec = gate.origin.last();
  assert.ok(!JSON.stringify(rec.headers).includes(token), `token forwarded: ${rec.headers.cookie}`);
  assert.equal(rec.headers.cookie, "a=1");
  assert.equal(rec.headers["x-session-user"], "review-user", "the session was read from it, not ignored");
});

test("9. logout with a valid and a junk cookie ends the valid session", async () => {
  for (const order of [(v) => `${v}; ${COOKIE}=junk`, (v) => `${COOKIE}=junk; ${v}`]) {
    const victim = await gate.login("logout-twice");
    const res = await gate.fetch("/.sessiongate/logout", { method: "POST", cookie: order(victim), headers: JSON_ACCEPT });
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { authenticated: false });
    assert.ok(isCleared(res));
    const after = await gate.fetch("/app", { cookie: victim, headers: JSON_ACCEPT });
    assert.equal(after.status, 401);
    assert.deepEqual(await body(after), { error: "unauthenticated", reason: "revoked" });
  }
});

test("10. identities are unambiguous: edge whitespace refused, non-ASCII percent-encoded", async () => {
  for (const cmd of [{ action: "login", user: " judy" }, { action: "login", user: "judy " }, { action: "login", user: "judy", roles: [" admin"] }]) {
    const r = await command(gate, undefined, cmd, { path: "/login" });
    assert.equal(r.status, 502, JSON.stringify(cmd));
    assert.equal(r.body.error, "invalid_origin_command");
    assert.match(r.body.detail, /starts or ends with whitespace/);
    assert.equal(r.cookie, null);
  }
  const names = ["jösé", "jÃ¶sÃ©", "j%C3%B6s%C3%A9", "a+b"];
  const seen = new Set();
  for (const name of names) {
    const res = await gate.fetch("/login", { method: "POST", command: asciiJson({ action: "login", user: name, roles: ["rôle"] }) });
    assert.equal(res.status, 200, JSON.stringify(await body(res)));
    const c = sessionCookie(res);
    const rec = await forwarded("/app", { cookie: c });
    const header = rec.headers["x-session-user"];
    assert.match(header, /^[\x20-\x7e]+$/, "printable ASCII");
    assert.equal(decodeURIComponent(header), name, "decodes to the user id");
    assert.equal((await assertion(rec)).sub, name, "the assertion's sub is the same id");
    assert.equal(decodeURIComponent(rec.headers["x-session-roles"]), "rôle");
    seen.add(header);
  }
  assert.equal(seen.size, names.length, "no two ids share a header value");
});

test("11. session data is bounded as the X-Session-Data header an origin receives", async () => {
  const g = await startGate(); // the default SESSION_DATA_MAX
  try {
    const c = await g.login("data-user");
    // 16,000 bytes of UTF-8 emoji: 48,000 bytes once escaped for the header.
    g.origin.setHandler(replyWith({ action: "set_data", data: { e: "\u{1F600}".repeat(4000) } }));
    let res = await g.fetch("/app", { cookie: c });
    const b = await body(res);
    assert.equal(res.status, 502);
    assert.equal(b.error, "invalid_origin_command");
    assert.match(b.detail, /X-Session-Data.*8000/);
    // At the bound, a Node origin with its default header limits serves the page.
    const data = { n: "x".repeat(8000 - JSON.stringify({ n: "" }).length) };
    g.origin.setHandler(replyWith({ action: "set_data", data }));
    res = await g.fetch("/app", { cookie: c });
    assert.equal(res.status, 200, JSON.stringify(await body(res)));
    g.origin.setHandler(null);
    res = await g.fetch("/app", { cookie: c });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(identity(g.origin.last()).data, JSON.stringify(data));
  } finally {
    await g.dispose();
  }
});

test("12. error details name the field, never the origin's value", async () => {
  for (const cmd of [
    { action: "login", user: "u", persistent: "sk_live_abc" },
    { action: "sk_live_abc" },
    { action: "regenerate", reason: "sk_live_abc" },
    { action: "login", user: "u", roles: ["sk_live_abc,x"] },
    { action: "login", user: "u", sk_live_abc: 1 },
  ]) {
    const r = await command(gate, undefined, cmd, { path: "/login" });
    assert.equal(r.status, 502, JSON.stringify(cmd));
    assert.equal(r.body.error, "invalid_origin_command");
    if (!("sk_live_abc" in cmd)) assert.ok(!JSON.stringify(r.body).includes("sk_live_abc"), JSON.stringify(r.body));
  }
  const r = await command(gate, undefined, { action: "login", user: "u", persistent: "sk_live_abc" }, { path: "/login" });
  assert.deepEqual(r.body, { error: "invalid_origin_command", detail: 'command 0 (login): "persistent" must be true or false' });
});

test("13. TRACE is refused, never forwarded (TRACK never reaches the Worker)", async () => {
  gate.origin.clear();
  for (const method of ["TRACE", "trace"]) {
    for (const p of ["/public/echo", "/app", "/.sessiongate/status"]) {
      const res = await gate.fetch(p, { method, cookie: user });
      assert.equal(res.status, 405, `${method} ${p}`);
      assert.deepEqual(await body(res), { error: "method_not_allowed" });
    }
  }
  // workerd answers an unknown method itself, before the Worker runs: 501 and no JSON.
  const track = await gate.fetch("/public/echo", { method: "TRACK", cookie: user });
  assert.equal(track.status, 501);
  assert.equal(track.headers.get("content-type")?.includes("application/json") ?? false, false, "the runtime's answer, not the gate's");
  await track.arrayBuffer();
  assert.equal(gate.origin.requests.length, 0);
});
