// Edge sign-in with OpenID Connect (issue 13) against a real, certified OpenID provider
// (panva's oidc-provider) on loopback: the whole flow, return_to, guest data carried
// over, state replay, two tabs at once, step-up with max_age=0, RP-initiated logout, and
// back-channel logout started by the provider's own end-session endpoint.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGate, identity, sessionCookie, setCookieHeader } from "./harness.mjs";
import { body, auditEvents } from "./session-helpers.mjs";
import {
  startIdp, signIn, startLogin, finishLogin, driveProvider, confirmProviderLogout, eventually, Jar, flowCookie,
  CLIENT_ID, CLIENT_SECRET, ACCOUNTS, FLOW_COOKIE,
} from "./oidc-support.mjs";
import { parseOffer } from "./dbsc-client.mjs";

let idp;
let gate;
before(async () => {
  idp = await startIdp();
  gate = await startGate({
    vars: {
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      // What a user who only adds the OIDC variables has: no LOGIN_URL.
      LOGIN_URL: undefined,
      SENSITIVE_PATHS: "/payments/*",
    },
  });
  idp.configure(gate.base);
});
after(async () => {
  await gate?.dispose();
  await idp?.close();
});

async function whoami(cookie) {
  gate.origin.clear();
  const res = await gate.fetch("/app/whoami", { cookie, headers: { accept: "application/json" } });
  const b = await body(res);
  return { status: res.status, body: b, id: res.status === 200 ? identity(gate.origin.last()) : null };
}

test("whole flow: a navigation without a session starts sign-in at the provider and comes back signed in", async () => {
  const nav = await gate.fetch("/app/report?x=1", { headers: { "sec-fetch-mode": "navigate" } });
  await nav.arrayBuffer();
  assert.equal(nav.status, 302);
  assert.equal(nav.headers.get("location"), "/.sessiongate/login?return_to=/app/report%3Fx%3D1&reason=missing", "LOGIN_URL defaults to the edge sign-in");

  const { start, authUrl, flow, res, back } = await signIn(gate, idp, { returnTo: "/app/report?x=1" });
  assert.equal(start.headers.get("cache-control"), "no-store");
  const a = new URL(authUrl);
  assert.equal(a.origin + a.pathname, `${idp.issuer}/auth`);
  const p = a.searchParams;
  assert.equal(p.get("response_type"), "code");
  assert.equal(p.get("client_id"), CLIENT_ID);
  assert.equal(p.get("redirect_uri"), `${gate.base}/.sessiongate/oidc/callback`);
  assert.equal(p.get("scope"), "openid profile email");
  assert.equal(p.get("code_challenge_method"), "S256");
  assert.match(p.get("code_challenge"), /^[A-Za-z0-9_-]{43}$/);
  assert.match(p.get("state"), /^[A-Za-z0-9_-]{43}$/, "256-bit state");
  assert.match(p.get("nonce"), /^[A-Za-z0-9_-]{43}$/, "256-bit nonce");
  assert.notEqual(p.get("state"), p.get("nonce"));
  assert.equal(p.get("prompt"), null);
  assert.match(flow.header, new RegExp(`^${FLOW_COOKIE}[A-Za-z0-9]{16}=[A-Za-z0-9_-]{43}; Max-Age=600; Path=/; Secure; HttpOnly; SameSite=Lax$`));
  assert.equal(new URL(back).searchParams.get("iss"), idp.issuer, "RFC 9207 iss in the response");

  assert.equal(res.status, 302, await res.clone().text());
  assert.equal(res.headers.get("location"), "/app/report?x=1");
  const cookie = sessionCookie(res);
  assert.ok(cookie, "a session cookie");
  assert.match(setCookieHeader(res), /; HttpOnly/);
  const cleared = res.headers.getSetCookie().find((c) => c.startsWith(flow.pair.split("=")[0] + "="));
  assert.equal(cleared, `${flow.pair.split("=")[0]}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax`, "flow cookie cleared");

  const w = await whoami(cookie);
  assert.equal(w.status, 200);
  assert.equal(w.id.user, "alice");
  assert.equal(w.id.roles, "admin,ops", "roles from the roles claim (userinfo)");
  const data = JSON.parse(w.id.data);
  assert.deepEqual(data, { idp: { email: ACCOUNTS.alice.email, name: ACCOUNTS.alice.name, iss: idp.issuer, sub: "alice" } });
  const events = await auditEvents(gate, "alice");
  assert.ok(events.some((e) => e.event === "session_created" && e.reason === "login"), "created like a login command");
});

test("return_to: a path on this site is kept, anything else becomes /", async () => {
  for (const [rt, want] of [["/app/x?y=1#z", "/app/x?y=1#z"], ["//evil.example/x", "/"], ["https://evil.example/", "/"], ["/\\evil.example", "/"], [null, "/"]]) {
    const { res } = await signIn(gate, idp, { returnTo: rt });
    await res.arrayBuffer();
    assert.equal(res.status, 302, String(rt));
    assert.equal(res.headers.get("location"), want, `return_to ${rt}`);
  }
});

test("guest data is carried over into the signed-in session, and the guest ID dies", async () => {
  const guestRes = await gate.fetch("/public/cart", { method: "POST", command: { action: "set_data", data: { cart: [1, 2] } } });
  await guestRes.arrayBuffer();
  const guest = sessionCookie(guestRes);
  assert.ok(guest, "a guest session");
  const { res } = await signIn(gate, idp, { login: "bob", cookie: guest });
  await res.arrayBuffer();
  assert.equal(res.status, 302);
  const cookie = sessionCookie(res);
  assert.ok(cookie && cookie !== guest, "a new ID");
  const w = await whoami(cookie);
  assert.equal(w.id.user, "bob");
  const data = JSON.parse(w.id.data);
  assert.deepEqual(data.cart, [1, 2], "guest data carried over");
  assert.equal(data.idp.sub, "bob");
  const old = await gate.fetch("/.sessiongate/status", { cookie: guest });
  assert.deepEqual(await body(old), { authenticated: false, reason: "revoked" }, "the guest ID is dead");
});

test("a replayed callback fails with reason state and creates no session", async () => {
  const { res, back, flow } = await signIn(gate, idp);
  await res.arrayBuffer();
  assert.equal(res.status, 302);
  const again = await finishLogin(gate, back, [flow.pair]);
  assert.equal(again.status, 401);
  assert.deepEqual(await body(again), { error: "login_failed", reason: "state", detail: "unknown, expired or already used state" });
  assert.equal(sessionCookie(again), null, "no session cookie");
  // Without the flow cookie (another browser): refused too.
  const s2 = await startLogin(gate);
  const back2 = await driveProvider(idp, s2.authUrl, new Jar());
  const stolen = await finishLogin(gate, back2, []);
  assert.equal(stolen.status, 401);
  assert.deepEqual(await body(stolen), { error: "login_failed", reason: "state", detail: "no flow cookie for this state" });
  assert.equal(sessionCookie(stolen), null);
  // A navigation gets a page with a "try again" link.
  const u = new URL(back2);
  const page = await gate.fetch(u.pathname + u.search, { headers: { "sec-fetch-mode": "navigate" } });
  assert.equal(page.status, 401);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  const html = await page.text();
  assert.match(html, /Sign-in failed/);
  assert.match(html, /<a href="\/.sessiongate\/login\?return_to=\/">Try again<\/a>/);
  assert.equal(sessionCookie(page), null);
});

test("two tabs signing in at once both succeed", async () => {
  const jar = new Jar();
  const a = await startLogin(gate, { returnTo: "/tab-a" });
  const b = await startLogin(gate, { returnTo: "/tab-b" });
  assert.notEqual(a.flow.pair.split("=")[0], b.flow.pair.split("=")[0], "one flow cookie per tab");
  const backA = await driveProvider(idp, a.authUrl, jar);
  const backB = await driveProvider(idp, b.authUrl, jar);
  const both = [a.flow.pair, b.flow.pair];
  const [rb, ra] = await Promise.all([finishLogin(gate, backB, both), finishLogin(gate, backA, both)]);
  await ra.arrayBuffer();
  await rb.arrayBuffer();
  assert.equal(ra.status, 302);
  assert.equal(rb.status, 302);
  assert.equal(ra.headers.get("location"), "/tab-a");
  assert.equal(rb.headers.get("location"), "/tab-b");
  assert.equal((await whoami(sessionCookie(ra))).status, 200);
  assert.equal((await whoami(sessionCookie(rb))).status, 200);
});

test("step-up: a sensitive path sends the navigation to the provider with prompt=login and max_age=0, then elevates", async () => {
  const jar = new Jar();
  const { res } = await signIn(gate, idp, { login: "alice", jar });
  await res.arrayBuffer();
  const cookie = sessionCookie(res);
  const nav = await gate.fetch("/payments/7", { cookie, headers: { "sec-fetch-mode": "navigate" } });
  await nav.arrayBuffer();
  assert.equal(nav.status, 302);
  assert.equal(nav.headers.get("location"), "/.sessiongate/login?reauth=1&return_to=/payments/7");
  const before = await whoami(cookie);
  const step = await signIn(gate, idp, { login: "alice", reauth: true, returnTo: "/payments/7", cookie, jar });
  const p = new URL(step.authUrl).searchParams;
  assert.equal(p.get("prompt"), "login");
  assert.equal(p.get("max_age"), "0");
  assert.equal(step.res.status, 302, await step.res.clone().text());
  assert.equal(step.res.headers.get("location"), "/payments/7");
  const elevated = sessionCookie(step.res);
  assert.ok(elevated && elevated !== cookie, "elevation gives a new ID");
  gate.origin.clear();
  const ok = await gate.fetch("/payments/7", { cookie: elevated });
  await ok.arrayBuffer();
  assert.equal(ok.status, 200);
  const id = identity(gate.origin.last());
  assert.equal(id.user, "alice");
  assert.ok(Number(id.elevatedUntil) > Math.floor(Date.now() / 1000));
  assert.equal(JSON.parse(id.data).idp.sub, "alice", "the same session, data kept");
  assert.ok(Number(id.authTime) >= Number(before.id.authTime));
  const old = await gate.fetch("/.sessiongate/status", { cookie });
  assert.deepEqual(await body(old), { authenticated: false, reason: "revoked" }, "the pre-elevation ID is dead");
  const events = await auditEvents(gate, "alice");
  assert.ok(events.some((e) => e.event === "session_elevated"));
});

test("step-up as another user: reauth_user_mismatch, the session unchanged and not elevated", async () => {
  const { res } = await signIn(gate, idp, { login: "alice" });
  await res.arrayBuffer();
  const cookie = sessionCookie(res);
  const step = await signIn(gate, idp, { login: "bob", reauth: true, returnTo: "/payments/1", cookie, jar: new Jar() });
  assert.equal(step.res.status, 401);
  assert.deepEqual(await body(step.res), { error: "login_failed", reason: "reauth_user_mismatch", detail: "" });
  assert.equal(sessionCookie(step.res), null);
  const w = await whoami(cookie);
  assert.equal(w.id.user, "alice");
  assert.equal(w.id.elevatedUntil, undefined);
  const pay = await gate.fetch("/payments/1", { cookie, headers: { accept: "application/json" } });
  assert.equal(pay.status, 403);
  assert.deepEqual(await body(pay), { error: "reauthentication_required" });
});

test("RP-initiated logout: POST /.sessiongate/logout adds end_session_url; a form post gets 303 there", async () => {
  const jar = new Jar();
  const { res } = await signIn(gate, idp, { login: "alice", jar });
  await res.arrayBuffer();
  const cookie = sessionCookie(res);
  const out = await gate.fetch("/.sessiongate/logout", { method: "POST", cookie, headers: { accept: "application/json" } });
  const b = await body(out);
  assert.equal(out.status, 200);
  assert.equal(b.authenticated, false);
  const u = new URL(b.end_session_url);
  assert.equal(u.origin + u.pathname, `${idp.issuer}/session/end`);
  assert.equal(u.searchParams.get("client_id"), CLIENT_ID);
  assert.equal(u.searchParams.get("post_logout_redirect_uri"), `${gate.base}/`);
  assert.match(u.searchParams.get("id_token_hint"), /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.equal((await whoami(cookie)).status, 401, "the gate's session ended");
  // The provider accepts the URL and sends the browser back to the post-logout path.
  const final = await confirmProviderLogout(idp, b.end_session_url, jar);
  assert.equal(final, `${gate.base}/`);

  const second = await signIn(gate, idp, { login: "bob" });
  await second.res.arrayBuffer();
  const nav = await gate.fetch("/.sessiongate/logout", {
    method: "POST",
    cookie: sessionCookie(second.res),
    headers: { "sec-fetch-mode": "navigate", "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded" },
    body: "",
  });
  await nav.arrayBuffer();
  assert.equal(nav.status, 303);
  assert.ok(nav.headers.get("location").startsWith(`${idp.issuer}/session/end?id_token_hint=`));

  // A session the origin started has no ID token: its logout answers as before.
  const originLogin = await gate.login("origin-user");
  const plain = await gate.fetch("/.sessiongate/logout", { method: "POST", cookie: originLogin, headers: { accept: "application/json" } });
  assert.equal(plain.status, 200);
  assert.deepEqual(await body(plain), { authenticated: false });
});

test("back-channel logout from the provider's own end-session endpoint: the gate refuses the session at once", async () => {
  const jar = new Jar();
  const { res } = await signIn(gate, idp, { login: "alice", jar });
  await res.arrayBuffer();
  const cookie = sessionCookie(res);
  const other = await signIn(gate, idp, { login: "bob" });
  await other.res.arrayBuffer();
  const bobCookie = sessionCookie(other.res);
  assert.equal((await whoami(cookie)).status, 200);
  const seen = idp.backchannel.length;
  // The user signs out at the provider (no id_token_hint: the provider's own page).
  await confirmProviderLogout(idp, `${idp.issuer}/session/end?client_id=${CLIENT_ID}`, jar);
  const call = await eventually(() => idp.backchannel.slice(seen).find((c) => c.accountId === "alice"), "the provider's back-channel call");
  assert.equal(call.ok, true, `the gate accepted the logout token: ${call.error ?? ""}`);
  const w = await whoami(cookie);
  assert.equal(w.status, 401);
  assert.deepEqual(w.body, { error: "unauthenticated", reason: "revoked" });
  assert.equal((await whoami(bobCookie)).status, 200, "another user's session is untouched");
  const events = await auditEvents(gate, "alice");
  assert.ok(events.some((e) => e.event === "revoked" && e.reason === "backchannel_logout"), "audited");
});

// Last in the file: it registers the gate's HTTPS address with the provider for a while.
test("over HTTPS the callback's new session cookie comes with the device-binding offer; over plain HTTP it does not", async () => {
  const plain = await signIn(gate, idp, { login: "bob" });
  await plain.res.arrayBuffer();
  assert.equal(plain.res.status, 302);
  assert.equal(plain.res.headers.get("secure-session-registration"), null, "no offer over plain HTTP");

  idp.configure("https://gate.test");
  try {
    const start = await gate.fetch("/.sessiongate/login?return_to=/app", { https: true });
    await start.arrayBuffer();
    assert.equal(start.status, 302);
    const back = new URL(await driveProvider(idp, start.headers.get("location"), new Jar()));
    assert.equal(back.origin + back.pathname, "https://gate.test/.sessiongate/oidc/callback");
    const res = await gate.fetch(back.pathname + back.search, { cookie: flowCookie(start).pair, https: true });
    assert.equal(res.status, 302, await res.clone().text());
    assert.ok(sessionCookie(res), "a session cookie");
    const offer = parseOffer(res.headers.get("secure-session-registration"));
    assert.ok(offer, "an offer beside the new session cookie");
    assert.deepEqual(offer.algs, ["ES256", "RS256"]);
    assert.equal(offer.path, "/.sessiongate/dbsc/register");
    assert.ok(Buffer.from(offer.challenge, "base64url").length >= 16, "at least 128 bits");
  } finally {
    idp.configure(gate.base);
  }
});
