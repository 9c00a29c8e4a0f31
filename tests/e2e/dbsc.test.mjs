// Device Bound Session Credentials end to end (built Wasm in workerd, SQLite Durable
// Objects, recording origin, HTTPS through miniflare): a DBSC client written from the
// spec with `jose` (dbsc-client.mjs) registers, refreshes across short intervals, and a
// second client holding copies of its cookies but not its key is locked out once the
// device cookie expires. Every forged proof is refused with its detail, bad input never
// gets a 500, and the binding follows the session through regeneration but not into
// another user's login.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGate, SECRETS } from "./harness.mjs";
import { body, assertion, auditEvents, adminSessions } from "./session-helpers.mjs";
import { DbscClient, keyPair, proofJwt, mintChallenge, parseChallenge, parseOffer } from "./dbsc-client.mjs";

const INTERVAL = 3; // DEVICE_PROOF_INTERVAL, seconds
const JSON_ACCEPT = { accept: "application/json" };
const NAVIGATE = { "sec-fetch-mode": "navigate", accept: "text/html" };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Until every device cookie issued so far has expired, by the gate's clock and the jar's. */
const pastInterval = () => sleep(INTERVAL * 1000 + 1200);

let gate;
before(async () => {
  gate = await startGate({ vars: { DEVICE_PROOF_INTERVAL: `${INTERVAL}s`, STATIC_PATHS: "/public/static/*" } });
});
after(async () => {
  await gate?.dispose();
});

/** A client signed in as `user` and registered; returns it. */
async function bound(user) {
  const c = await new DbscClient(gate).init();
  await c.login(user);
  const res = await c.register();
  assert.equal(res.status, 200, JSON.stringify(await body(res.clone())));
  return c;
}

async function whoami(c, opts = {}) {
  gate.origin.clear();
  const res = await c.fetch("/app/whoami", { headers: JSON_ACCEPT, ...opts });
  const b = await body(res);
  return { res, status: res.status, body: b, rec: gate.origin.last() };
}

test("a login over HTTPS offers registration with a fresh 128-bit challenge; plain HTTP does not", async () => {
  const c = await new DbscClient(gate).init();
  const res = await c.login("offer-user");
  const offer = parseOffer(res.headers.get("secure-session-registration"));
  assert.deepEqual(offer.algs, ["ES256", "RS256"]);
  assert.equal(offer.path, "/.sessiongate/dbsc/register");
  assert.ok(Buffer.from(offer.challenge, "base64url").length >= 16 + 16, "at least 128 random bits plus its tag");
  const again = await new DbscClient(gate).init();
  const res2 = await again.login("offer-user");
  assert.notEqual(parseOffer(res2.headers.get("secure-session-registration")).challenge, offer.challenge);
  const plain = await gate.fetch("/login", { method: "POST", command: { action: "login", user: "offer-user" } });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get("secure-session-registration"), null, "no offer over plain HTTP");
  // An ordinary request on the (unbound) session carries no offer.
  assert.equal((await c.fetch("/app", { headers: JSON_ACCEPT })).headers.get("secure-session-registration"), null);
});

test("registration: instructions, a device cookie with the session cookie's attributes, device_bound everywhere", async () => {
  const c = await new DbscClient(gate).init();
  await c.login("reg-user");
  const res = await c.register();
  const b = await body(res);
  assert.equal(res.status, 200, JSON.stringify(b));
  const { handle } = { handle: b.session_identifier };
  assert.match(handle, /^[A-Za-z0-9_-]{22}$/);
  assert.deepEqual(b, {
    session_identifier: handle,
    refresh_url: "/.sessiongate/dbsc/refresh",
    scope: { include_site: false },
    credentials: [{ type: "cookie", name: "__Host-session-device", attributes: "Path=/; HttpOnly; Secure; SameSite=Lax" }],
  });
  const sc = res.headers.getSetCookie().find((s) => s.startsWith("__Host-session-device="));
  assert.match(sc, new RegExp(`^__Host-session-device=[A-Za-z0-9_-]{54}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=${INTERVAL}$`));

  const w = await whoami(c);
  assert.equal(w.status, 200);
  assert.equal(w.rec.headers["x-session-id"], handle);
  assert.equal((await assertion(w.rec)).device_bound, true, "the assertion says the session is device-bound");
  assert.doesNotMatch(w.rec.headers.cookie ?? "", /__Host-session(-device)?=/, "neither the session nor the device cookie reaches the origin");

  const list = await body(await c.fetch("/.sessiongate/sessions", { headers: JSON_ACCEPT }));
  assert.equal(list.sessions.find((s) => s.id === handle).device_bound, true);
  assert.equal((await adminSessions(gate, "reg-user")).find((s) => s.id === handle).device_bound, true);
  const ev = (await auditEvents(gate, "reg-user")).find((e) => e.event === "device_bound");
  assert.equal(ev.session, handle);
  assert.equal(ev.reason, "ES256");

  // An unbound session's assertion has no device_bound claim.
  const other = await new DbscClient(gate).init();
  await other.login("reg-user");
  assert.equal((await assertion((await whoami(other)).rec)).device_bound, undefined);
});

test("an RS256 key registers and refreshes too", async () => {
  const c = await new DbscClient(gate, { alg: "RS256" }).init();
  await c.login("rsa-user");
  assert.equal((await c.register()).status, 200);
  c.jar.delete(c.deviceCookieName);
  assert.equal((await c.refresh()).status, 200);
  assert.equal((await whoami(c)).status, 200);
});

test("refresh across several intervals: each expiry is renewed by a proof; refresh does not slide the idle timer", async () => {
  const c = await bound("interval-user");
  for (let i = 0; i < 3; i++) {
    await pastInterval();
    assert.equal(c.cookie(c.deviceCookieName), null, "the jar dropped the expired device cookie");
    const refused = await whoami(c);
    assert.equal(refused.status, 401);
    assert.deepEqual(refused.body, { error: "unauthenticated", reason: "device_proof_required" });
    assert.ok(!refused.res.headers.getSetCookie().some((s) => s.startsWith("__Host-session=")), "the session cookie is kept");
    assert.equal(gate.origin.requests.length, 0, "the request did not reach the origin");
    const before = await body(await c.fetch("/.sessiongate/status", { headers: JSON_ACCEPT }));
    assert.deepEqual(before, { authenticated: false, reason: "device_proof_required" });
    const r = await c.refresh();
    assert.equal(r.status, 200, `interval ${i}: ${JSON.stringify(await body(r.clone()))}`);
    assert.ok(c.cookie(c.deviceCookieName), "a new device cookie");
    const ok = await whoami(c);
    assert.equal(ok.status, 200, `interval ${i}`);
  }
  const s1 = await body(await c.fetch("/.sessiongate/status", { headers: JSON_ACCEPT }));
  c.jar.delete(c.deviceCookieName);
  assert.equal((await c.refresh()).status, 200);
  const s2 = await body(await c.fetch("/.sessiongate/status", { headers: JSON_ACCEPT }));
  assert.equal(s2.idle_expires_at, s1.idle_expires_at, "a refresh is not activity");
});

test("cookies copied to a client without the key work until the device cookie expires, then never again", async () => {
  const victim = await bound("stolen-user");
  const thief = await victim.thief();
  const handle = victim.instructions.session_identifier;
  assert.equal((await whoami(thief)).status, 200, "within the interval the copies work (the honest limit)");
  const stale = thief.jar.get(thief.deviceCookieName).value;
  await pastInterval();
  // The thief keeps sending the device cookie's value whatever its Max-Age said.
  const raw = `__Host-session=${thief.jar.get("__Host-session").value}; __Host-session-device=${stale}`;
  const api = await whoami(thief, { cookie: raw });
  assert.equal(api.status, 401);
  assert.deepEqual(api.body, { error: "unauthenticated", reason: "device_proof_required" });
  // A forged or another session's device cookie is no better.
  const other = await bound("stolen-other");
  const foreign = `__Host-session=${thief.jar.get("__Host-session").value}; __Host-session-device=${other.cookie(other.deviceCookieName)}`;
  assert.equal((await whoami(thief, { cookie: foreign })).status, 401, "another session's device cookie");
  assert.equal((await whoami(thief, { cookie: `${foreign.split(";")[0]}; __Host-session-device=${"A".repeat(54)}` })).status, 401, "forged");

  // The thief cannot refresh: the challenge comes, a proof by any other key is refused.
  const first = await thief.askChallenge();
  assert.equal(first.status, 403);
  const { challenge, id } = parseChallenge(first.headers.get("secure-session-challenge"));
  assert.equal(id, handle);
  const jwt = await thief.proof(challenge);
  const res = await thief.fetch("/.sessiongate/dbsc/refresh", { method: "POST", headers: { "sec-secure-session-id": id, "secure-session-response": jwt } });
  assert.equal(res.status, 403);
  assert.deepEqual(await body(res), { error: "invalid_device_proof", detail: "signature" });
  assert.equal(thief.cookie(thief.deviceCookieName), null, "no device cookie for the thief");
  const failed = (await auditEvents(gate, "stolen-user")).filter((e) => e.event === "device_proof_failed");
  assert.ok(failed.some((e) => e.reason === "signature" && e.session === handle), JSON.stringify(failed));

  // The session itself is unchanged: the browser with the key carries on.
  assert.equal((await victim.refresh()).status, 200);
  assert.equal((await whoami(victim)).status, 200);

  // A navigation is sent to sign in, as for any other reason. (Plain HTTP here: the
  // runtime's fetch behind HTTPS forces Sec-Fetch-Mode: cors.)
  const nav = await gate.fetch("/app/page", { cookie: raw, headers: NAVIGATE });
  assert.equal(nav.status, 302, "a navigation is sent to sign in");
  assert.match(nav.headers.get("location"), /^\/login\?return_to=\/app\/page&reason=device_proof_required$/);
  assert.equal(nav.headers.getSetCookie().length, 0, "the session cookie is not cleared");
});

test("every forged registration is refused with its detail and audited, and nothing is stored", async () => {
  const c = await new DbscClient(gate).init();
  await c.login("forge-reg");
  const offer = c.lastOffer;
  const sessionValue = c.jar.get("__Host-session").value;
  const other = await keyPair("ES256");
  const rsaSmall = await keyPair("RS256", { modulusLength: 1024 }).catch(() => null);
  const privateJwk = await (await import("jose")).exportJWK(c.key.privateKey);
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const cases = [
    ["another key", await proofJwt(c.key.privateKey, "ES256", offer.challenge, { jwk: other.jwk }), "signature"],
    ["alg none", `${enc({ alg: "none", typ: "dbsc+jwt", jwk: c.key.jwk })}.${enc({ jti: offer.challenge })}.`, "alg"],
    ["HS256", await new (await import("jose")).SignJWT({ jti: offer.challenge }).setProtectedHeader({ alg: "HS256", typ: "dbsc+jwt", jwk: c.key.jwk }).sign(new TextEncoder().encode(SECRETS.SESSION_SECRET)), "alg"],
    ["missing jwk", await c.proof(offer.challenge), "jwk_missing"],
    ["private jwk", await proofJwt(c.key.privateKey, "ES256", offer.challenge, { jwk: privateJwk }), "jwk_private"],
    ["wrong typ", await proofJwt(c.key.privateKey, "ES256", offer.challenge, { typ: "JWT", jwk: c.key.jwk }), "typ"],
    ["jwk of another type", await proofJwt(c.key.privateKey, "ES256", offer.challenge, { jwk: { kty: "RSA", n: "AQAB", e: "AQAB" } }), "jwk_mismatch"],
    ["unknown jti", await c.proof("not-a-challenge-of-this-gate", { withJwk: true }), "jti_unknown"],
    ["a refresh challenge", await c.proof(mintChallenge(sessionValue, "refresh", Math.floor(Date.now() / 1000) + 300), { withJwk: true }), "jti_unknown"],
    ["stale jti", await c.proof(mintChallenge(sessionValue, "register", Math.floor(Date.now() / 1000) - 1), { withJwk: true }), "jti_stale"],
    ["another session's challenge", await c.proof((await (async () => { const o = await new DbscClient(gate).init(); await o.login("forge-reg"); return o.lastOffer.challenge; })()), { withJwk: true }), "jti_unknown"],
    ["malformed", "not.a.jwt!", "malformed"],
    ["two parts", "abc.def", "malformed"],
    ["oversized", `${enc({ alg: "ES256", typ: "dbsc+jwt", pad: "x".repeat(9000) })}.${enc({ jti: offer.challenge })}.AAAA`, "too_large"],
  ];
  if (rsaSmall) cases.push(["RSA-1024", await proofJwt(rsaSmall.privateKey, "RS256", offer.challenge, { jwk: rsaSmall.jwk }), "jwk_mismatch"]);
  for (const [name, jwt, detail] of cases) {
    const res = await c.fetch(offer.path, { method: "POST", headers: { "secure-session-response": jwt } });
    assert.equal(res.status, 400, name);
    assert.deepEqual(await body(res), { error: "invalid_device_proof", detail }, name);
    assert.equal(c.cookie(c.deviceCookieName), null, `${name}: no device cookie`);
  }
  const none = await c.fetch(offer.path, { method: "POST" });
  assert.deepEqual([none.status, await body(none)], [400, { error: "invalid_device_proof", detail: "missing" }]);
  assert.equal((await adminSessions(gate, "forge-reg")).every((s) => !s.device_bound), true, "nothing was stored");
  assert.equal((await whoami(c)).status, 200, "the unbound session works as before");

  // The genuine proof still registers; then its challenge is spent and the session bound.
  assert.equal((await c.register({ offer })).status, 200);
  const replay = await c.fetch(offer.path, { method: "POST", headers: { "secure-session-response": await c.proof(offer.challenge, { withJwk: true }) } });
  assert.deepEqual([replay.status, await body(replay)], [400, { error: "invalid_device_proof", detail: "jti_used" }]);
  // No session: 401.
  const anon = await gate.fetch(offer.path, { method: "POST", https: true, headers: { "secure-session-response": "x.y.z" } });
  assert.deepEqual([anon.status, await body(anon)], [401, { error: "unauthenticated", reason: "missing" }]);

  // Every refusal is a security event on the session: audited with its detail.
  const handle = (await adminSessions(gate, "forge-reg")).find((s) => s.device_bound).id;
  const failed = (await auditEvents(gate, "forge-reg")).filter((e) => e.event === "device_proof_failed" && e.session === handle).map((e) => e.reason);
  for (const d of [...new Set([...cases.map(([, , detail]) => detail), "missing", "jti_used"])]) {
    assert.ok(failed.includes(d), `audited ${d}: ${failed}`);
  }
});

test("every forged refresh proof is refused with its detail and audited; the session is unchanged", async () => {
  const c = await bound("forge-refresh");
  const handle = c.instructions.session_identifier;
  const sessionValue = c.jar.get("__Host-session").value;
  const url = c.instructions.refresh_url;
  const challenge = async () => parseChallenge((await c.askChallenge()).headers.get("secure-session-challenge")).challenge;
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const jose = await import("jose");
  const other = await keyPair("ES256");
  const post = (jwt, id = handle) => c.fetch(url, { method: "POST", headers: { "sec-secure-session-id": id, "secure-session-response": jwt } });

  const used = await challenge();
  assert.equal((await post(await c.proof(used))).status, 200, "the genuine proof");
  const cases = [
    ["another key", async () => proofJwt(other.privateKey, "ES256", await challenge()), "signature"],
    ["alg none", async () => `${enc({ alg: "none", typ: "dbsc+jwt" })}.${enc({ jti: await challenge() })}.`, "alg"],
    ["HS256", async () => new jose.SignJWT({ jti: await challenge() }).setProtectedHeader({ alg: "HS256", typ: "dbsc+jwt" }).sign(new TextEncoder().encode(SECRETS.SESSION_SECRET)), "alg"],
    ["RS256 for an ES256 key", async () => proofJwt((await keyPair("RS256")).privateKey, "RS256", await challenge()), "alg"],
    ["wrong typ", async () => c.proof(await challenge(), { header: { typ: "JWT" } }), "typ"],
    ["private jwk", async () => c.proof(await challenge(), { header: { jwk: { ...c.key.jwk, d: "AAAA" } } }), "jwk_private"],
    ["unknown jti", async () => c.proof("made-up"), "jti_unknown"],
    ["a registration challenge", async () => c.proof(mintChallenge(sessionValue, "register", Math.floor(Date.now() / 1000) + 300)), "jti_unknown"],
    ["used jti", async () => c.proof(used), "jti_used"],
    ["stale jti", async () => c.proof(mintChallenge(sessionValue, "refresh", Math.floor(Date.now() / 1000) - 1)), "jti_stale"],
    ["malformed", async () => "%%%", "malformed"],
    ["oversized", async () => "a".repeat(9000), "too_large"],
  ];
  for (const [name, make, detail] of cases) {
    const res = await post(await make());
    assert.equal(res.status, 403, name);
    assert.deepEqual(await body(res), { error: "invalid_device_proof", detail }, name);
  }
  // Another session's identifier: the proof is refused (and a malformed one at once).
  const stranger = await bound("forge-refresh");
  const otherId = stranger.instructions.session_identifier;
  const ask = await c.askChallenge("not a session id");
  assert.deepEqual([ask.status, await body(ask)], [403, { error: "invalid_device_proof", detail: "session_identifier" }]);
  const res = await post(await c.proof(await challenge()), otherId);
  assert.deepEqual([res.status, await body(res)], [403, { error: "invalid_device_proof", detail: "session_identifier" }]);

  const failed = (await auditEvents(gate, "forge-refresh")).filter((e) => e.event === "device_proof_failed" && e.session === handle).map((e) => e.reason);
  for (const d of ["signature", "alg", "typ", "jwk_private", "jti_unknown", "jti_used", "jti_stale", "malformed", "too_large", "session_identifier"]) {
    assert.ok(failed.includes(d), `audited ${d}: ${failed}`);
  }
  assert.equal((await c.refresh()).status, 200, "the session and its key are unchanged");
  assert.equal((await whoami(c)).status, 200);
});

test("an ended session answers continue:false and clears both cookies: logout, revocation", async () => {
  for (const end of ["logout", "revocation", "no cookie"]) {
    const user = `ended-${end.replace(" ", "-")}`;
    const c = await bound(user);
    const id = c.instructions.session_identifier;
    const cookies = c.cookieHeader();
    // A challenge fetched before the end, answered after it.
    const pending = parseChallenge((await c.askChallenge()).headers.get("secure-session-challenge")).challenge;
    if (end === "logout") assert.equal((await c.fetch("/.sessiongate/logout", { method: "POST", headers: JSON_ACCEPT })).status, 200);
    if (end === "revocation") {
      const r = await gate.fetch(`/.sessiongate/admin/users/${user}/sessions/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } });
      assert.equal(r.status, 200);
    }
    const cookie = end === "no cookie" ? "" : cookies;
    // The first request of a refresh gets its challenge from the cookie alone (no storage
    // access); the proof is where the end is found, and told.
    const first = await c.fetch(c.instructions.refresh_url, { method: "POST", cookie, headers: { "sec-secure-session-id": id } });
    if (end === "no cookie") {
      assert.equal(first.status, 200, end);
      assert.deepEqual(await body(first), { session_identifier: id, continue: false }, end);
    } else {
      assert.equal(first.status, 403, end);
      assert.ok(first.headers.get("secure-session-challenge"), end);
    }
    const attempts = [
      ["with a proof over a challenge from before", { "sec-secure-session-id": id, "secure-session-response": await c.proof(pending) }],
    ];
    for (const [how, headers] of attempts) {
      const res = await c.fetch(c.instructions.refresh_url, { method: "POST", cookie, headers });
      assert.equal(res.status, 200, `${end} ${how}`);
      assert.deepEqual(await body(res), { session_identifier: id, continue: false }, `${end} ${how}`);
      const cleared = res.headers.getSetCookie();
      for (const name of ["__Host-session", "__Host-session-device"]) {
        assert.ok(cleared.some((s) => s.startsWith(`${name}=;`) && /Max-Age=0/.test(s)), `${end} ${how}: ${name} cleared: ${cleared}`);
      }
    }
  }
});

test("the binding survives regeneration in the same browser; another user's login starts unbound with an offer", async () => {
  const c = await bound("regen-user");
  const handle = c.instructions.session_identifier;
  for (const cmd of [{ action: "regenerate", reason: "password_change" }, { action: "elevate" }, { action: "regenerate", reason: "permission_change", roles: ["admin"] }]) {
    const before = c.jar.get("__Host-session").value;
    const res = await c.fetch("/app/action", { method: "POST", command: cmd, headers: JSON_ACCEPT });
    assert.equal(res.status, 200, JSON.stringify(cmd));
    assert.notEqual(c.jar.get("__Host-session").value, before, "a new ID");
    assert.equal(res.headers.get("secure-session-registration"), null, `${cmd.action}: already bound, no offer`);
    const w = await whoami(c);
    assert.equal(w.status, 200);
    assert.equal(w.rec.headers["x-session-id"], handle);
    assert.equal((await assertion(w.rec)).device_bound, true);
    const without = await whoami(c, { cookie: `__Host-session=${c.jar.get("__Host-session").value}` });
    assert.equal(without.status, 401, `${cmd.action}: still needs the device cookie`);
  }
  c.jar.delete(c.deviceCookieName);
  assert.equal((await c.refresh()).status, 200, "the new ID refreshes with the same key");
  assert.equal((await whoami(c)).status, 200);

  const login = await c.login("someone-else");
  assert.ok(parseOffer(login.headers.get("secure-session-registration")), "the new user's session is offered binding");
  const w = await whoami(c, { cookie: `__Host-session=${c.jar.get("__Host-session").value}` });
  assert.equal(w.status, 200, "unbound: no device cookie needed");
  assert.equal(w.rec.headers["x-session-user"], "someone-else");
  assert.equal((await assertion(w.rec)).device_bound, undefined);
  assert.equal((await c.register()).status, 200, "and it can bind itself");
});

test("bad input to the endpoints is never a 500", async () => {
  const c = await bound("bad-input-user");
  const url = c.instructions.refresh_url;
  const inputs = [
    { method: "GET" },
    { method: "PUT" },
    { method: "POST", headers: { "sec-secure-session-id": "" } },
    { method: "POST", headers: { "sec-secure-session-id": "\"" } },
    { method: "POST", headers: { "sec-secure-session-id": "x".repeat(4000) } },
    { method: "POST", headers: { "secure-session-response": "" } },
    { method: "POST", headers: { "secure-session-response": "..." } },
    { method: "POST", headers: { "secure-session-response": "e30.e30.e30" } },
    { method: "POST", headers: { "secure-session-response": `${Buffer.from("{\"alg\":\"ES256\",\"typ\":\"dbsc+jwt\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}}").toString("base64url")}.e30.AA` } },
    // (A body is never read: one larger than the socket buffers is reset mid-write by the client.)
    { method: "POST", body: "x".repeat(8000) },
    { method: "POST", cookie: "__Host-session=garbage; __Host-session-device=garbage" },
    { method: "POST", cookie: "__Host-session=a; __Host-session=b" },
  ];
  for (const path of [url, "/.sessiongate/dbsc/register"]) {
    for (const i of inputs) {
      const what = `${path} ${JSON.stringify(i).slice(0, 120)}`;
      const res = await c.fetch(path, { ...i, cookie: i.cookie ?? c.cookieHeader() }).catch((e) => assert.fail(`${what}: ${e.cause?.message ?? e}`));
      assert.ok(res.status < 500, `${path} ${JSON.stringify(i).slice(0, 120)}: ${res.status} ${await res.text()}`);
    }
  }
  // A point that is not on the curve registers nothing.
  const fresh = await new DbscClient(gate).init();
  await fresh.login("bad-input-user");
  const bogus = { kty: "EC", crv: "P-256", x: Buffer.alloc(32, 1).toString("base64url"), y: Buffer.alloc(32, 2).toString("base64url") };
  const res = await fresh.register({ jwt: await fresh.proof(fresh.lastOffer.challenge, { header: { jwk: bogus } }) });
  assert.deepEqual([res.status, await body(res)], [400, { error: "invalid_device_proof", detail: "signature" }]);
});

test("static paths need no device cookie and no lookup", async () => {
  const c = await bound("static-user");
  const res = await c.fetch("/public/static/app.css", { cookie: `__Host-session=${c.jar.get("__Host-session").value}` });
  assert.equal(res.status, 200);
  assert.equal(gate.origin.last().headers["x-session-id"], undefined, "no session read on a static path");
});

test("DEVICE_BINDING=off: no offer, no endpoints", async () => {
  const off = await startGate({ vars: { DEVICE_BINDING: "off" } });
  try {
    const res = await off.fetch("/login", { method: "POST", https: true, command: { action: "login", user: "u" } });
    assert.equal(res.headers.get("secure-session-registration"), null);
    const cookie = res.headers.getSetCookie()[0].split(";")[0];
    assert.equal((await off.fetch("/.sessiongate/dbsc/register", { method: "POST", https: true, cookie })).status, 404);
    assert.equal((await off.fetch("/.sessiongate/dbsc/refresh", { method: "POST", https: true, cookie })).status, 404);
  } finally {
    await off.dispose();
  }
});

test("COOKIE_PATH and COOKIE_DOMAIN: the endpoints, scope and device cookie follow the session cookie", async () => {
  const scoped = await startGate({ vars: { COOKIE_PATH: "/app", COOKIE_DOMAIN: "gate.test", PUBLIC_PATHS: "/app/login", LOGIN_URL: "/app/login", DEVICE_PROOF_INTERVAL: `${INTERVAL}s` } });
  try {
    const c = await new DbscClient(scoped, { cookieName: "__Secure-session" }).init();
    const res = await c.fetch("/app/login", { method: "POST", command: { action: "login", user: "scoped-user" } });
    assert.equal(res.status, 200);
    assert.equal(c.lastOffer.path, "/app/.sessiongate/dbsc/register");
    const reg = await c.register();
    const b = await body(reg);
    assert.equal(reg.status, 200, JSON.stringify(b));
    assert.equal(b.refresh_url, "/app/.sessiongate/dbsc/refresh");
    const attrs = "Domain=gate.test; Path=/app; HttpOnly; Secure; SameSite=Lax";
    assert.deepEqual(b.credentials, [{ type: "cookie", name: "__Secure-session-device", attributes: attrs }]);
    const sessionSet = res.headers.getSetCookie().find((s) => s.startsWith("__Secure-session="));
    assert.ok(sessionSet.endsWith(`; ${attrs}`), sessionSet);
    const deviceSet = reg.headers.getSetCookie().find((s) => s.startsWith("__Secure-session-device="));
    assert.ok(deviceSet.endsWith(`; ${attrs}; Max-Age=${INTERVAL}`), deviceSet);
    c.jar.delete(c.deviceCookieName);
    assert.equal((await c.fetch("/app/x", { headers: JSON_ACCEPT })).status, 401);
    assert.equal((await c.refresh()).status, 200);
    assert.equal((await c.fetch("/app/x", { headers: JSON_ACCEPT })).status, 200);
  } finally {
    await scoped.dispose();
  }
});
