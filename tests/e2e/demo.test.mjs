// The bundled demo origin behind the real gate (built Wasm in workerd, SQLite Durable
// Objects): the flows a newcomer clicks through after `make dev`, driven over HTTP the
// way a browser would (HTML navigations, form posts, one cookie per client).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { startGate, sessionCookie, setCookieHeader, SECRETS } from "./harness.mjs";
import { startDemoOrigin } from "../../demo/origin.mjs";

const ALICE = { user: "alice", password: "correct-horse-battery" };

let gate;
let demo;
before(async () => {
  demo = await startDemoOrigin({ port: 0, secret: SECRETS.ORIGIN_SECRET });
  gate = await startGate({
    origin: demo,
    vars: { PUBLIC_PATHS: "/,/login,/cart,/static/*,/favicon.ico", STATIC_PATHS: "/static/*,/favicon.ico", SENSITIVE_PATHS: "/account/*" },
  });
});
after(async () => {
  await gate?.dispose();
  await demo?.close();
});

/** One browser: sends HTML navigations and form posts, keeps the gate's cookie like a jar. */
function client() {
  const c = {
    cookie: null,
    async go(path, { form, method = form ? "POST" : "GET" } = {}) {
      const headers = { accept: "text/html,application/xhtml+xml" };
      let body;
      if (form) {
        headers["content-type"] = "application/x-www-form-urlencoded";
        body = new URLSearchParams(form).toString();
      }
      const res = await gate.fetch(path, { method, headers, body, cookie: c.cookie ?? undefined });
      const set = sessionCookie(res);
      if (set !== null) c.cookie = set.endsWith("=") ? null : set;
      return { status: res.status, location: res.headers.get("location"), setCookie: setCookieHeader(res), html: await res.text() };
    },
    login(creds = ALICE, extra = {}) {
      return c.go("/login", { form: { ...creds, return_to: "/app", ...extra } });
    },
  };
  return c;
}

function unescape(s) {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** A row of the /app page: the header value or the JSON of a claim. */
function headerShown(html, name) {
  const m = new RegExp(`data-header="${name}"><td><code>[^<]*</code></td><td><code class="[^"]*">([^<]*)</code>`).exec(html);
  return m ? unescape(m[1]) : undefined;
}
function claimShown(html, name) {
  const m = new RegExp(`data-claim="${name}"><td><code>[^<]*</code></td><td>([^<]*)`).exec(html);
  return m ? JSON.parse(unescape(m[1]).trim()) : undefined;
}
function cartShown(html) {
  return [...html.matchAll(/<li>([^<]*) × (\d+)<\/li>/g)].map((m) => `${unescape(m[1])} x${m[2]}`);
}

test("a guest cart survives login, and the guest session dies with it", async () => {
  const b = client();
  let r = await b.go("/cart", { form: { item: "Green tea" } });
  assert.equal(r.status, 303);
  assert.equal(r.location, "/");
  assert.ok(b.cookie, "the gate started an anonymous session for the cart");
  await b.go("/cart", { form: { item: "Green tea" } });
  await b.go("/cart", { form: { item: "Dark chocolate" } });
  r = await b.go("/");
  assert.deepEqual(cartShown(r.html), ["Green tea x2", "Dark chocolate x1"]);
  assert.match(r.html, /You are browsing as a guest/);

  r = await b.go("/app");
  assert.equal(r.status, 302, "a guest session opens no protected page");
  const guestCookie = b.cookie;

  r = await b.login();
  assert.equal(r.status, 303);
  assert.equal(r.location, "/app");
  assert.notEqual(b.cookie, guestCookie, "login issues a new session ID");
  r = await b.go("/");
  assert.match(r.html, /You are signed in as <strong>alice<\/strong>/);
  assert.deepEqual(cartShown(r.html), ["Green tea x2", "Dark chocolate x1"], "cart migrated into alice's session");

  const old = client();
  old.cookie = guestCookie;
  r = await old.go("/");
  assert.deepEqual(cartShown(r.html), [], "the guest session ID no longer works");
  assert.match(r.html, /Your cart is empty/);
});

test("login: a wrong password gets the form again and no session; the right one a session cookie", async () => {
  const b = client();
  let r = await b.login({ user: "alice", password: "hunter2-hunter2" });
  assert.equal(r.status, 401);
  assert.match(r.html, /id="login-error"[^>]*>Wrong user name or password/);
  assert.match(r.html, /id="login-form"/);
  assert.equal(b.cookie, null);
  r = await b.login({ user: "mallory", password: "anything" });
  assert.equal(r.status, 401);
  assert.equal(b.cookie, null);

  r = await b.login();
  assert.equal(r.status, 303);
  assert.ok(b.cookie);
  assert.doesNotMatch(r.setCookie, /Max-Age/, "a browser-session cookie unless 'keep me signed in'");

  const kept = client();
  r = await kept.login({ user: "bob", password: "hunter2-hunter2" }, { persistent: "1" });
  assert.equal(r.status, 303);
  assert.match(r.setCookie, /Max-Age=86400/, "'keep me signed in' asks for a persistent cookie (ABSOLUTE_TIMEOUT 24h)");
});

test("/app shows alice's identity headers and the assertion verified by jose", async () => {
  const b = client();
  await b.login();
  const r = await b.go("/app");
  assert.equal(r.status, 200);
  assert.match(r.html, /id="assertion-result">verified</);
  assert.match(r.html, /<script src="\/\.sessiongate\/client\.js" defer><\/script>/);
  assert.equal(headerShown(r.html, "x-session-user"), "alice");
  assert.equal(headerShown(r.html, "x-session-roles"), "admin,user");
  assert.equal(headerShown(r.html, "x-session-binding"), "ok");
  assert.equal(claimShown(r.html, "sub"), "alice");
  assert.deepEqual(claimShown(r.html, "roles"), ["admin", "user"]);
  assert.equal(claimShown(r.html, "iss"), "sessiongate");
  assert.equal(claimShown(r.html, "aud"), "127.0.0.1");
  assert.equal(claimShown(r.html, "htm"), "GET");
  assert.equal(claimShown(r.html, "htu"), `${demo.url}/app`);
  assert.equal(claimShown(r.html, "sid"), headerShown(r.html, "x-session-id"));
  assert.ok(!r.html.includes(b.cookie.split("=")[1]), "the session token never reaches the origin");
});

test("the demo origin reached directly, not through the gate, refuses pages that need a user", async () => {
  const forged = { "x-session-user": "alice", "x-session-roles": "admin,user", "x-session-id": "whatever" };
  let res = await fetch(`${demo.url}/app`, { headers: forged });
  assert.equal(res.status, 403);
  let html = await res.text();
  assert.match(html, /Not through the gate/);
  assert.match(html, /id="assertion-status">missing</);
  assert.doesNotMatch(html, /Signed in as/);

  // Well-formed, but signed with another key.
  const wrongKey = new TextEncoder().encode("not-the-origin-secret-0123456789abcdef");
  const token = await new SignJWT({ htm: "GET", htu: `${demo.url}/app`, sub: "alice", roles: ["admin"] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("sessiongate")
    .setAudience("127.0.0.1")
    .setIssuedAt()
    .setExpirationTime("60s")
    .sign(wrongKey);
  res = await fetch(`${demo.url}/devices`, { headers: { ...forged, "x-session-assertion": token } });
  assert.equal(res.status, 403);
  html = await res.text();
  assert.match(html, /id="assertion-error">ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);

  res = await fetch(`${demo.url}/logout`, { method: "POST", headers: forged });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("x-session-command"), null);

  res = await fetch(`${demo.url}/`);
  assert.equal(res.status, 200, "public pages still render");
  assert.match(await res.text(), /id="assertion-status">missing</);
});

test("return_to is followed only when it is a path on this site", async () => {
  const b = client();
  const r = await b.go("/login?return_to=https://evil.example/steal");
  assert.match(r.html, /name="return_to" value="https:\/\/evil\.example\/steal"/);
  for (const bad of ["https://evil.example/steal", "//evil.example", "/\\evil.example", "/\t/evil.example", "javascript:alert(1)"]) {
    const res = await b.login(ALICE, { return_to: bad });
    assert.equal(res.status, 303);
    assert.equal(res.location, "/app", `return_to=${JSON.stringify(bad)}`);
  }
  const res = await b.login(ALICE, { return_to: "/devices?tab=all" });
  assert.equal(res.location, "/devices?tab=all");
});

test("/account/password needs a fresh password confirmation, then ends the other sessions", async () => {
  const b = client();
  const laptop = client();
  await b.login();
  await laptop.login();

  let r = await b.go("/account/password");
  assert.equal(r.status, 302);
  const to = new URL(r.location, "http://x");
  assert.equal(to.pathname, "/login");
  assert.equal(to.searchParams.get("reauth"), "1");
  assert.equal(to.searchParams.get("return_to"), "/account/password");

  r = await b.go(r.location);
  assert.equal(r.status, 200);
  assert.match(r.html, /id="login-notice">For your security, confirm your password to continue/);
  assert.match(r.html, /name="user"[^>]*value="alice"/);
  assert.match(r.html, /name="reauth" value="1"/);

  r = await b.login({ user: "alice", password: "wrong-password" }, { reauth: "1", return_to: "/account/password" });
  assert.equal(r.status, 401);
  assert.equal((await b.go("/account/password")).status, 302, "still not elevated");

  const beforeElevation = b.cookie;
  r = await b.login(ALICE, { reauth: "1", return_to: "/account/password" });
  assert.equal(r.status, 303);
  assert.equal(r.location, "/account/password");
  assert.notEqual(b.cookie, beforeElevation, "elevation issues a new session ID");

  r = await b.go("/account/password");
  assert.equal(r.status, 200);
  assert.match(r.html, /id="password-form"/);
  assert.match(r.html, /id="elevated-until"/);

  r = await b.go("/account/password", { form: { new_password: "short", confirm: "short" } });
  assert.equal(r.status, 400);
  assert.equal(r.setCookie, null, "a refused change changes no session");

  const beforeChange = b.cookie;
  r = await b.go("/account/password", { form: { new_password: "a-much-better-secret", confirm: "a-much-better-secret" } });
  assert.equal(r.status, 200);
  assert.match(r.html, /id="password-changed"/);
  assert.notEqual(b.cookie, beforeChange, "password change regenerates the session ID");
  assert.equal((await b.go("/app")).status, 200, "this session goes on");

  r = await laptop.go("/app");
  assert.equal(r.status, 302, "the other session was signed out");
  assert.equal(new URL(r.location, "http://x").searchParams.get("reason"), "revoked");
  assert.equal(laptop.cookie, null, "and its cookie cleared");
});

test("logout ends the session and clears the cookie", async () => {
  const b = client();
  await b.login();
  const cookie = b.cookie;
  let r = await b.go("/app");
  assert.match(r.html, /<form method="post" action="\/logout"><button type="submit" id="logout">/);

  r = await b.go("/logout", { form: {} });
  assert.equal(r.status, 303);
  assert.equal(r.location, "/");
  assert.match(r.setCookie, /Max-Age=0/);
  assert.equal(b.cookie, null);

  const replay = client();
  replay.cookie = cookie;
  r = await replay.go("/app");
  assert.equal(r.status, 302, "the old cookie opens nothing");
  r = await b.go("/");
  assert.match(r.html, /You are browsing as a guest/);
});

test("/devices renders its hooks, and the gate API it calls lists this session", async () => {
  const b = client();
  await b.login();
  const r = await b.go("/devices");
  assert.equal(r.status, 200);
  for (const hook of ['id="sessions"', 'id="logout-everywhere"', 'className = "revoke', '"/.sessiongate/sessions"']) {
    assert.ok(r.html.includes(hook), hook);
  }
  const res = await gate.fetch("/.sessiongate/sessions", { cookie: b.cookie, headers: { accept: "application/json" } });
  assert.equal(res.status, 200);
  const { sessions } = await res.json();
  const current = sessions.filter((s) => s.current);
  assert.equal(current.length, 1);
  for (const field of ["id", "created_at", "last_seen_at", "ip", "user_agent", "flagged", "elevated_until"]) {
    assert.ok(field in current[0], `session field ${field}`);
  }
});
