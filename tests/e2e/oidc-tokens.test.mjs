// Every ID-token and logout-token rule of edge sign-in (issue 13) refused with its
// documented reason: tokens signed by this test's own keys (jose), served by a small stub
// provider (discovery, JWKS, token endpoint), each proven to create or end no session.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { SignJWT, UnsecuredJWT, generateKeyPair, exportJWK } from "jose";
import { startGate, sessionCookie, rawFetch } from "./harness.mjs";
import { body, adminSessions } from "./session-helpers.mjs";
import { startLogin, CLIENT_ID, CLIENT_SECRET } from "./oidc-support.mjs";

const EVENT = "http://schemas.openid.net/event/backchannel-logout";
const now = () => Math.floor(Date.now() / 1000);

let stub;
let gate;
let keys;

/** The stub provider: what a real one serves, with the ID token the test chose. */
async function startStub() {
  const s = { next: null, tokenStatus: 200, tokenRequests: [], jwksFetches: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const json = (status, v) => { res.statusCode = status; res.setHeader("content-type", "application/json"); res.end(JSON.stringify(v)); };
      const url = new URL(req.url, s.issuer);
      if (url.pathname === "/.well-known/openid-configuration") {
        return json(200, {
          issuer: s.issuer,
          authorization_endpoint: `${s.issuer}/auth`,
          token_endpoint: `${s.issuer}/token`,
          jwks_uri: `${s.issuer}/jwks`,
          response_types_supported: ["code"],
          token_endpoint_auth_methods_supported: ["client_secret_basic"],
          code_challenge_methods_supported: ["S256"],
          authorization_response_iss_parameter_supported: true,
        });
      }
      if (url.pathname === "/jwks") {
        s.jwksFetches++;
        return json(200, { keys: [keys.es.pub, keys.rs.pub, keys.ed.pub] });
      }
      if (url.pathname === "/token") {
        s.tokenRequests.push({ headers: req.headers, body: new URLSearchParams(Buffer.concat(chunks).toString()) });
        if (s.tokenStatus !== 200) return json(s.tokenStatus, { error: "invalid_grant" });
        return json(200, { access_token: "at-1", token_type: "Bearer", expires_in: 60, id_token: s.next });
      }
      json(404, { error: "not_found" });
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  s.issuer = `http://127.0.0.1:${server.address().port}`;
  s.close = () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); });
  return s;
}

async function keyPair(alg, kid, opts) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...opts });
  return { alg, kid, privateKey, pub: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

before(async () => {
  keys = {
    es: await keyPair("ES256", "es-1"),
    rs: await keyPair("RS256", "rs-1"),
    ed: await keyPair("EdDSA", "ed-1", { crv: "Ed25519" }),
    rogue: await keyPair("ES256", "es-1"),
  };
  stub = await startStub();
  gate = await startGate({
    vars: {
      OIDC_ISSUER: stub.issuer,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      // The user id is the email: a sid-only logout token must still find the session.
      OIDC_USER_CLAIM: "email",
      LOGIN_URL: undefined,
    },
  });
});
after(async () => {
  await gate?.dispose();
  await stub?.close();
});

/** A token with `claims` under `key` (header overrides in `header`). */
function sign(claims, { key = keys.es, header = {} } = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header }).sign(key.privateKey);
}

function idClaims(nonce, over = {}) {
  const t = now();
  return { iss: stub.issuer, aud: CLIENT_ID, exp: t + 300, iat: t, nonce, sub: "carol", sid: "sid-carol", email: "carol@example.test", email_verified: true, ...over };
}

/** A sign-in whose token endpoint answers with `make(nonce)`; the callback's response. */
async function attempt(make, { query } = {}) {
  const s = await startLogin(gate);
  const p = new URL(s.authUrl).searchParams;
  stub.next = await make(p.get("nonce"));
  const q = query ?? `code=c-1&state=${p.get("state")}&iss=${encodeURIComponent(stub.issuer)}`;
  return gate.fetch(`/.sessiongate/oidc/callback?${q}`, { cookie: s.flow.pair, headers: { accept: "application/json" } });
}

async function expectFailed(res, reason, detail, msg) {
  const b = await body(res);
  assert.equal(res.status, 401, `${msg}: ${JSON.stringify(b)}`);
  assert.deepEqual(b, { error: "login_failed", reason, detail }, msg);
  assert.equal(sessionCookie(res), null, `${msg}: no session cookie`);
}

test("a good token signs in (ES256, RS256 and EdDSA), with PKCE and client_secret_basic at the token endpoint", async () => {
  for (const key of [keys.es, keys.rs, keys.ed]) {
    const res = await attempt((nonce) => sign(idClaims(nonce), { key }));
    await res.arrayBuffer();
    assert.equal(res.status, 302, key.alg);
    assert.ok(sessionCookie(res), key.alg);
  }
  const t = stub.tokenRequests.at(-1);
  assert.equal(t.headers.authorization, `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`);
  assert.equal(t.body.get("grant_type"), "authorization_code");
  assert.match(t.body.get("code_verifier"), /^[A-Za-z0-9_-]{43}$/);
  assert.equal(t.body.get("redirect_uri"), `${gate.base}/.sessiongate/oidc/callback`);
  assert.equal(t.body.get("client_secret"), null, "the secret travels only in Basic");
});

test("every ID-token rule refuses with reason id_token and the check's name; no session is created", async () => {
  const cases = [
    ["iss", (n) => sign(idClaims(n, { iss: `${stub.issuer}/other` }))],
    ["aud", (n) => sign(idClaims(n, { aud: "someone-else" }))],
    ["azp", (n) => sign(idClaims(n, { aud: [CLIENT_ID, "other"] }))],
    ["exp", (n) => sign(idClaims(n, { exp: now() - 120 }))],
    ["iat", (n) => sign(idClaims(n, { iat: now() + 300 }))],
    ["nonce", (n) => sign(idClaims(n, { nonce: "not-the-nonce" }))],
    ["nonce", (n) => { const c = idClaims(n); delete c.nonce; return sign(c); }],
    ["alg_none", (n) => new UnsecuredJWT(idClaims(n)).encode()],
    ["alg_hmac", (n) => new SignJWT(idClaims(n)).setProtectedHeader({ alg: "HS256", kid: "es-1" }).sign(new TextEncoder().encode("x".repeat(32)))],
    ["unknown_kid", (n) => sign(idClaims(n), { header: { kid: "nobody" } })],
    ["signature", (n) => sign(idClaims(n), { key: keys.rogue })],
    ["sub", (n) => { const c = idClaims(n); delete c.sub; return sign(c); }],
    ["user_claim", (n) => { const c = idClaims(n); delete c.email; return sign(c); }],
    // OIDC_USER_CLAIM is email here: an address the provider did not verify is no identity.
    ["email_not_verified", (n) => sign(idClaims(n, { email_verified: false }))],
    ["email_not_verified", (n) => sign(idClaims(n, { email_verified: "false" }))],
  ];
  for (const [detail, make] of cases) {
    const res = await attempt(make);
    await expectFailed(res, "id_token", detail, detail);
  }
  // Only the good sign-ins of the previous test exist.
  assert.equal((await adminSessions(gate, "carol@example.test")).length, 3);
});

test("an unknown kid refetches the JWKS at most once per 30 s", async () => {
  const before = stub.jwksFetches;
  await expectFailed(await attempt((n) => sign(idClaims(n), { header: { kid: "rotated" } })), "id_token", "unknown_kid", "first");
  await expectFailed(await attempt((n) => sign(idClaims(n), { header: { kid: "rotated-2" } })), "id_token", "unknown_kid", "second");
  assert.ok(stub.jwksFetches - before <= 1, `JWKS fetched ${stub.jwksFetches - before} times`);
});

test("state, provider error, token exchange and RFC 9207 iss failures", async () => {
  const s = await startLogin(gate);
  const st = new URL(s.authUrl).searchParams.get("state");
  let res = await gate.fetch(`/.sessiongate/oidc/callback?code=c&state=${st}x&iss=${encodeURIComponent(stub.issuer)}`, { cookie: s.flow.pair });
  await expectFailed(res, "state", "unknown, expired or already used state", "tampered state");
  res = await attempt(() => "unused", { query: "code=c" });
  await expectFailed(res, "state", "no state", "no state");
  const s2 = await startLogin(gate);
  const st2 = new URL(s2.authUrl).searchParams.get("state");
  res = await gate.fetch(`/.sessiongate/oidc/callback?error=access_denied&state=${st2}&iss=${encodeURIComponent(stub.issuer)}`, { cookie: s2.flow.pair });
  await expectFailed(res, "idp_error", "access_denied", "provider error");
  const s3 = await startLogin(gate);
  const st3 = new URL(s3.authUrl).searchParams.get("state");
  res = await gate.fetch(`/.sessiongate/oidc/callback?code=c&state=${st3}&iss=${encodeURIComponent("http://127.0.0.1:1")}`, { cookie: s3.flow.pair });
  await expectFailed(res, "state", "iss", "mix-up: another issuer's response");
  stub.tokenStatus = 400;
  try {
    res = await attempt((n) => sign(idClaims(n)));
    await expectFailed(res, "token_exchange", "invalid_grant", "code refused");
  } finally {
    stub.tokenStatus = 200;
  }
});

test("the provider unreachable: 503 idp_unavailable on the login route only; sessions still validate", async () => {
  const down = await startGate({ vars: { OIDC_ISSUER: "http://127.0.0.1:9", OIDC_CLIENT_ID: CLIENT_ID, LOGIN_URL: undefined } });
  try {
    const res = await down.fetch("/.sessiongate/login?return_to=/app");
    assert.equal(res.status, 503);
    assert.deepEqual(await body(res), { error: "idp_unavailable" });
    const cookie = await down.login("origin-user");
    const app = await down.fetch("/app", { cookie });
    await app.arrayBuffer();
    assert.equal(app.status, 200, "validation never calls the provider");
  } finally {
    await down.dispose();
  }
});

test("a bad OIDC variable is the usual 500 config error naming it", async () => {
  const bad = await startGate({ vars: { OIDC_ISSUER: "http://id.example.com", OIDC_CLIENT_ID: CLIENT_ID } });
  try {
    const res = await bad.fetch("/app");
    assert.equal(res.status, 500);
    const b = await body(res);
    assert.equal(b.error, "config");
    assert.match(b.detail, /^OIDC_ISSUER: /);
  } finally {
    await bad.dispose();
  }
});

/** A session signed in with `sid` and `sub`; its cookie. */
async function signedIn(sid, sub = "carol") {
  const res = await attempt((n) => sign(idClaims(n, { sid, sub })));
  await res.arrayBuffer();
  assert.equal(res.status, 302);
  return sessionCookie(res);
}

function logoutClaims(over = {}) {
  const t = now();
  return { iss: stub.issuer, aud: CLIENT_ID, iat: t, exp: t + 120, jti: `jti-${Math.random()}`, sid: "sid-L", events: { [EVENT]: {} }, ...over };
}

const signLogout = (claims, opts = {}) => sign(claims, { ...opts, header: { typ: "logout+jwt", ...(opts.header ?? {}) } });

function backchannel(token, headers = {}) {
  return rawFetch(`${gate.base}/.sessiongate/oidc/backchannel-logout`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ logout_token: token }).toString(),
  });
}

async function alive(cookie) {
  const res = await gate.fetch("/app", { cookie, headers: { accept: "application/json" } });
  await res.arrayBuffer();
  return res.status === 200;
}

test("every logout-token rule refuses with 400 invalid_logout_token and ends nothing; a good one ends the session once", async () => {
  const cookie = await signedIn("sid-L");
  const cases = [
    ["nonce", signLogout(logoutClaims({ nonce: "n" }))],
    ["events", (() => { const c = logoutClaims(); delete c.events; return signLogout(c); })()],
    ["aud", signLogout(logoutClaims({ aud: "someone-else" }))],
    ["iss", signLogout(logoutClaims({ iss: "http://127.0.0.1:1" }))],
    ["exp", signLogout(logoutClaims({ exp: now() - 120 }))],
    ["iat", signLogout(logoutClaims({ iat: now() + 300 }))],
    ["sub_or_sid", (() => { const c = logoutClaims(); delete c.sid; return signLogout(c); })()],
    ["jti", (() => { const c = logoutClaims(); delete c.jti; return signLogout(c); })()],
    ["typ", signLogout(logoutClaims(), { header: { typ: "at+jwt" } })],
    ["alg_none", new UnsecuredJWT(logoutClaims()).encode()],
    ["signature", signLogout(logoutClaims(), { key: keys.rogue })],
  ];
  for (const [detail, tokenP] of cases) {
    const res = await backchannel(await tokenP);
    const b = await body(res);
    assert.equal(res.status, 400, `${detail}: ${JSON.stringify(b)}`);
    assert.deepEqual(b, { error: "invalid_logout_token", detail }, detail);
    assert.ok(await alive(cookie), `${detail}: nothing ended`);
  }
  const good = await signLogout(logoutClaims({ jti: "jti-once" }));
  // From the provider's servers: exempt from the cross-site check.
  const res = await backchannel(good, { origin: "https://idp.example" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.deepEqual(await body(res), { ended: 1 });
  assert.equal(await alive(cookie), false, "no request with the ended session passes");
  const again = await backchannel(good);
  assert.equal(again.status, 400);
  assert.deepEqual(await body(again), { error: "invalid_logout_token", detail: "jti_replayed" });
});

test("sid alone (the user id being the email), sub alone, and sid with another user's sub", async () => {
  const a = await signedIn("sid-A");
  const b = await signedIn("sid-B");
  const other = await signedIn("sid-O", "dave");
  // sid with a sub that is not this session's: nothing.
  let res = await backchannel(await signLogout(logoutClaims({ sid: "sid-A", sub: "dave" })));
  assert.deepEqual(await body(res), { ended: 0 });
  assert.ok(await alive(a));
  // sid alone: only that session.
  res = await backchannel(await signLogout(logoutClaims({ sid: "sid-A" })));
  assert.deepEqual(await body(res), { ended: 1 });
  assert.equal(await alive(a), false);
  assert.ok(await alive(b));
  // sub alone: every session of that user from this issuer.
  const c = logoutClaims({ sub: "carol" });
  delete c.sid;
  res = await backchannel(await signLogout(c));
  assert.equal(res.status, 200);
  assert.equal(await alive(b), false);
  assert.ok(await alive(other), "another user's session stays");
});

test("back-channel logout refuses what is not a form post of a logout_token (400, nothing read beyond 64 KiB)", async () => {
  const cases = [
    ["not a form post", { "content-type": "application/json" }, JSON.stringify({ logout_token: "x" })],
    ["no logout_token", { "content-type": "application/x-www-form-urlencoded" }, "token=x"],
    ["body too large", { "content-type": "application/x-www-form-urlencoded" }, "logout_token=" + "a".repeat(70 * 1024)],
    ["malformed", { "content-type": "application/x-www-form-urlencoded" }, "logout_token=not.a.jwt"],
  ];
  for (const [detail, headers, payload] of cases) {
    const res = await rawFetch(`${gate.base}/.sessiongate/oidc/backchannel-logout`, { method: "POST", headers, body: payload });
    assert.equal(res.status, 400, detail);
    assert.deepEqual(await body(res), { error: "invalid_logout_token", detail }, detail);
  }
  const get = await gate.fetch("/.sessiongate/oidc/backchannel-logout");
  assert.equal(get.status, 405);
  assert.deepEqual(await body(get), { error: "method_not_allowed" });
});

test("R2-7. a browser holds at most 4 pending sign-ins: a fifth clears the oldest", async () => {
  const pending = [];
  for (let i = 0; i < 4; i++) {
    const s = await startLogin(gate, { cookie: pending.join("; ") || undefined });
    assert.deepEqual(s.start.headers.getSetCookie().filter((c) => /Max-Age=0/.test(c)), [], `attempt ${i + 1} clears nothing`);
    pending.push(s.flow.pair);
  }
  const fifth = await startLogin(gate, { cookie: pending.join("; ") });
  const oldest = pending[0].split("=")[0];
  const cleared = fifth.start.headers.getSetCookie().filter((c) => /Max-Age=0/.test(c));
  assert.deepEqual(cleared, [`${oldest}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax`], "the oldest attempt's cookie is cleared");
  const set = fifth.start.headers.getSetCookie().filter((c) => c.startsWith("__Host-sessiongate-oidc-") && /Max-Age=600/.test(c));
  assert.equal(set.length, 1, "and the new one set");
  assert.ok(!pending.some((p) => set[0].startsWith(p.split("=")[0] + "=")), "a new attempt's cookie");
});
