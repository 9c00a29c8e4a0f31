// Concurrency and load, against the built Wasm in workerd with real SQLite
// Durable Objects and the recording origin.
//
// (a) Many parallel requests race a regeneration, a logout, a log-out-everywhere and an
//     admin revocation. Every request's start time is recorded; once the command's
//     response has arrived, no request that starts later may validate with a dead ID, and
//     no request answered 200 with a dead ID unless it started before that moment.
// (b) A bounded, seeded load test: 200 sessions, requests mixed with logins, logouts,
//     regenerations, log-outs-everywhere and admin revocations, at most 16 in flight.
//     The model tracks when each ID died; it asserts zero stale acceptances (a request
//     that started after its ID's death answered 200), zero lost live sessions (an ID no
//     kill had started for answered 401) and zero 5xx, and prints the counts.
//     LOAD_OPS (default 2000) operations run, however long they take: the test checks
//     the correctness of a fixed amount of work, not a rate, so a slow machine makes it
//     slower, never different.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGate, startOrigin, sessionCookie, isCleared, tmpdir, SECRETS } from "./harness.mjs";

const quiet = process.env.SG_VERBOSE ? {} : { handleRuntimeStdio: (out, err) => { out.resume(); err.resume(); } };
const JSON_ACCEPT = { accept: "application/json" };
const ADMIN = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };
const now = () => performance.now();

let gate;
before(async () => {
  gate = await startGate({ miniflare: quiet });
});
after(async () => {
  await gate?.dispose();
});

async function handleOf(cookie) {
  const s = await (await gate.fetch("/.sessiongate/status", { cookie })).json();
  assert.equal(s.authenticated, true);
  return s.session;
}

// ---------------------------------------------------------------------------------------
// (a) races

/**
 * Fires `waves[0]` requests staggered around the command, then `waves[1]` more right
 * after the command's response. `victims` are the cookies whose IDs the command kills.
 */
async function race({ victims, user, fire, waves = [28, 12] }) {
  const results = [];
  const one = (cookie, i) => {
    const start = now();
    return gate.fetch(`/app/race/${i}`, { cookie, headers: JSON_ACCEPT }).then(async (res) => {
      const end = now();
      const body = await res.json();
      results.push({ i, start, end, status: res.status, body });
    });
  };
  const pending = [];
  let cmd;
  for (let i = 0; i < waves[0]; i++) {
    pending.push(one(victims[i % victims.length], i));
    if (i === Math.floor(waves[0] / 3)) {
      const cmdStart = now();
      cmd = fire().then((res) => ({ res, cmdStart, cmdEnd: now() }));
    }
    if (i % 4 === 3) await new Promise((r) => setImmediate(r));
  }
  const { res: cmdRes, cmdStart, cmdEnd } = await cmd;
  for (let i = 0; i < waves[1]; i++) pending.push(one(victims[i % victims.length], waves[0] + i));
  await Promise.all(pending);

  const before = results.filter((r) => r.end < cmdStart);
  const overlapping = results.filter((r) => r.start <= cmdEnd && r.end >= cmdStart);
  const later = results.filter((r) => r.start > cmdEnd);
  const stale = results.filter((r) => r.status === 200 && r.start > cmdEnd);
  const errors = results.filter((r) => r.status >= 500);
  console.log(
    `  race: ${results.length} requests, ${before.length} finished before the command, ${overlapping.length} overlapped it, ` +
      `${later.length} started after its response; 200: ${results.filter((r) => r.status === 200).length}, ` +
      `401: ${results.filter((r) => r.status === 401).length}`,
  );
  assert.equal(errors.length, 0, `5xx: ${JSON.stringify(errors.map((r) => r.body))}`);
  // Without requests in flight while the command ran, this would test no race at all.
  // Requests fired after the command started (everything after the first third of the
  // first wave) are in flight before its round trip to the origin can have finished.
  assert.ok(overlapping.length >= 1, "some requests overlapped the command");
  assert.equal(stale.length, 0, `requests that started after the command's response validated the dead ID: ${stale.map((r) => r.i)}`);
  assert.ok(later.length >= waves[1], "the second wave started after the command's response");
  for (const r of later) assert.deepEqual(r.body, { error: "unauthenticated", reason: "revoked" }, `request ${r.i}`);
  for (const r of before) assert.equal(r.status, 200, `request ${r.i} ended before the command started, the ID was live`);
  for (const r of results) {
    if (r.status === 200) {
      assert.ok(r.start <= cmdEnd, `request ${r.i} answered 200 but started after the command's response`);
      assert.equal(r.body.headers["x-session-user"], user, "a validated request carries its own user");
    } else {
      assert.equal(r.status, 401, `request ${r.i}: ${r.status}`);
      assert.deepEqual(r.body, { error: "unauthenticated", reason: "revoked" }, `request ${r.i}`);
      assert.ok(r.end >= cmdStart, `request ${r.i} was refused although it ended before the command started`);
    }
  }
  return cmdRes;
}

test("parallel requests racing a regeneration: the old ID is dead once the command answers", async () => {
  const cookie = await gate.login("rae");
  const handle = await handleOf(cookie);
  const res = await race({
    victims: [cookie],
    user: "rae",
    fire: () => gate.fetch("/app/password", { method: "POST", cookie, command: { action: "regenerate", reason: "password_change" } }),
  });
  assert.equal(res.status, 200);
  const next = sessionCookie(res);
  assert.ok(next && next !== cookie, "a new ID");
  const ok = await gate.fetch("/app/after", { cookie: next });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).headers["x-session-id"], handle, "the session lives on under the new ID");
});

test("parallel requests racing a logout", async () => {
  const cookie = await gate.login("lou");
  const other = await gate.login("lou");
  const res = await race({
    victims: [cookie],
    user: "lou",
    fire: () => gate.fetch("/app/logout", { method: "POST", cookie, command: { action: "logout" } }),
  });
  assert.equal(res.status, 200);
  assert.ok(isCleared(res));
  assert.equal((await gate.fetch("/app", { cookie: other })).status, 200, "the user's other session is untouched");
});

test("parallel requests on two sessions racing a log-out-everywhere", async () => {
  const a = await gate.login("lea");
  const b = await gate.login("lea");
  const bystander = await gate.login("leon");
  const res = await race({
    victims: [a, b],
    user: "lea",
    fire: () => gate.fetch("/app/security", { method: "POST", cookie: a, command: { action: "logout_all" } }),
  });
  assert.equal(res.status, 200);
  assert.ok(isCleared(res));
  assert.equal((await gate.fetch("/app", { cookie: bystander })).status, 200, "another user is untouched");
});

test("parallel requests on two sessions racing an admin revocation", async () => {
  const a = await gate.login("abe");
  const b = await gate.login("abe");
  const res = await race({
    victims: [a, b],
    user: "abe",
    fire: () => gate.fetch("/.sessiongate/admin/users/abe/sessions", { method: "DELETE", headers: ADMIN }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { revoked: 2 });
});

/**
 * The gate itself moves a session to a fresh ID when a token under SESSION_SECRET_PREVIOUS
 * (key rotation) or a session started over plain HTTP (HTTPS upgrade) comes in. A browser
 * sends a page's requests in parallel: the session must survive that, so no parallel
 * request of the live session may be refused, and none may clear the cookie (a clearing
 * response that arrives after the one carrying the new ID logs the user out).
 */
async function parallelFirstUse(g, cookie, { https = false, n = 8, refusedOk = false } = {}) {
  const all = await Promise.all(Array.from({ length: n }, (_, i) =>
    g.fetch(`/app/page/${i}`, { cookie, https, headers: JSON_ACCEPT }).then(async (res) => ({ i, status: res.status, body: await res.text(), cleared: isCleared(res), renewed: sessionCookie(res) }))));
  const refused = all.filter((r) => r.status !== 200);
  const clearing = all.filter((r) => r.cleared);
  const renewed = all.filter((r) => r.renewed && !r.cleared);
  console.log(`  ${n} parallel first requests: ${n - refused.length} x 200, ${refused.length} refused (${[...new Set(refused.map((r) => r.body))].join(" ")}), ${clearing.length} clear the cookie, ${renewed.length} carry a new ID`);
  if (refusedOk) {
    // The first HTTPS request retires the ID that travelled over plain HTTP; siblings that
    // arrive after that are refused as revoked (and, per the contract, clear the cookie).
    assert.ok(refused.every((r) => JSON.parse(r.body).reason === "revoked"), "refused ones are revoked");
    assert.equal(renewed.length, 1, "exactly one response carries the new ID");
    assert.equal(clearing.length, refused.length, "only refused responses clear the cookie");
  } else {
    assert.equal(refused.length, 0, "a live session's parallel requests are all served");
    assert.equal(clearing.length, 0, "no parallel response clears the cookie");
  }
}

const ROTATION_BUG =
  "gate bug: the first request regenerates the ID (src/edge/validate.rs validate(): regenerate with reason key_rotation / https_upgrade); " +
  "its parallel siblings find the old ID revoked and answer 401 revoked with a clearing Set-Cookie";

test("parallel requests with a token under the previous key during a key rotation", async () => {
  const origin = await startOrigin();
  const persist = tmpdir();
  const oldKey = "old-session-secret-0123456789abcdef-01234";
  let g = await startGate({ origin, persist, vars: { SESSION_SECRET: oldKey }, miniflare: quiet });
  const cookie = await g.login("rot");
  await g.dispose();
  g = await startGate({ origin, persist, vars: { SESSION_SECRET_PREVIOUS: oldKey }, miniflare: quiet });
  try {
    await parallelFirstUse(g, cookie);
  } finally {
    await g.dispose();
    await origin.close();
  }
});

test("parallel first HTTPS requests of a session started over plain HTTP", async () => {
  const cookie = await gate.login("upg");
  await parallelFirstUse(gate, cookie, { https: true, refusedOk: true });
});

// ---------------------------------------------------------------------------------------
// (b) load

/** mulberry32: a small seeded PRNG, so every run draws the same operation mix. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("load: 200 sessions, mixed logins, logouts and revocations: no stale acceptance, no lost session, no 5xx", async () => {
  const USERS = 100;
  const SESSIONS = 200;
  const CONCURRENCY = 16;
  const OPS = Number(process.env.LOAD_OPS || 2_000);
  const rand = prng(7);
  const pick = (arr) => arr[Math.floor(rand() * arr.length)];

  const sessions = []; // { n, user, cookie, handle, killStart, diedAt, unknown }
  const live = new Set();
  const dead = [];
  const busyUsers = new Set();
  const c = { requests: 0, ok: 0, unauth: 0, fiveXX: 0, other: 0, stale: 0, lost: 0, wrongIdentity: 0, wrongReason: 0, logins: 0, logouts: 0, regenerations: 0, logoutAll: 0, adminRevokeAll: 0, adminRevokeOne: 0, killed: 0, opErrors: 0 };
  const problems = [];
  const note = (kind, detail) => { if (problems.length < 20) problems.push(`${kind}: ${JSON.stringify(detail)}`); };

  const addSession = (user, cookie) => {
    const s = { n: sessions.length, user, cookie, handle: null, killStart: null, diedAt: null, unknown: false };
    sessions.push(s);
    live.add(s);
    return s;
  };
  const startKill = (list, t) => { for (const s of list) { live.delete(s); s.killStart = t; } };
  const finishKill = (list, t, ok) => {
    for (const s of list) {
      if (ok) { s.diedAt = t; dead.push(s); c.killed++; } else { s.unknown = true; }
    }
  };
  const userSessions = (user) => [...live].filter((s) => s.user === user);

  async function request(s) {
    const start = now();
    const res = await gate.fetch(`/app/load/${s.n}`, { cookie: s.cookie, headers: JSON_ACCEPT });
    const end = now();
    const body = await res.json().catch(() => null);
    c.requests++;
    if (s.unknown) return;
    if (res.status === 200) {
      c.ok++;
      if (s.diedAt !== null && start > s.diedAt) { c.stale++; note("stale", { s: s.n, user: s.user, startedAfterDeathMs: start - s.diedAt }); }
      const h = body?.headers ?? {};
      if (h["x-session-user"] !== s.user || (s.handle && h["x-session-id"] !== s.handle)) { c.wrongIdentity++; note("identity", { s: s.n, want: s.user, got: h["x-session-user"] }); }
      s.handle ??= h["x-session-id"];
    } else if (res.status === 401) {
      c.unauth++;
      if (s.killStart === null || end < s.killStart) { c.lost++; note("lost", { s: s.n, user: s.user, body }); }
      else if (body?.reason !== "revoked") { c.wrongReason++; note("reason", { s: s.n, body }); }
    } else if (res.status >= 500) {
      c.fiveXX++;
      note("5xx", { status: res.status, body });
    } else {
      c.other++;
      note("other", { status: res.status, body });
    }
  }

  async function login(user) {
    const res = await gate.fetch("/login", { method: "POST", command: { action: "login", user, roles: ["user"] } });
    await res.arrayBuffer();
    const cookie = sessionCookie(res);
    if (res.status !== 200 || !cookie) { c.opErrors++; if (res.status >= 500) c.fiveXX++; note("login", res.status); return; }
    c.logins++;
    addSession(user, cookie);
  }

  /** A session-ending operation on `victims`; `run` returns the response. */
  async function kill(victims, run, okStatus = 200) {
    startKill(victims, now());
    const res = await run();
    const end = now();
    const body = await res.text();
    const ok = res.status === okStatus;
    if (!ok) { c.opErrors++; if (res.status >= 500) c.fiveXX++; note("kill", { status: res.status, body }); }
    finishKill(victims, end, ok);
    return { res, body, ok };
  }

  async function op() {
    const r = rand();
    const target = live.size && (rand() < 0.85 || dead.length === 0) ? pick([...live]) : pick(dead);
    if (r < 0.93 || !target) return target ? request(target) : undefined;
    let s = live.size ? pick([...live]) : null;
    const loggingIn = r < 0.965 || !s;
    if (loggingIn && (r >= 0.95 || !s)) s = null; // a login for any user, not one with a session at hand
    const user = s ? s.user : `user${Math.floor(rand() * USERS)}`;
    // Session-changing operations on one user never overlap: the model knows which IDs each kills.
    if (busyUsers.has(user)) return request(target);
    busyUsers.add(user);
    try {
      if (loggingIn) {
        await login(user);
      } else if (r < 0.975) {
        c.logouts++;
        await kill([s], () => gate.fetch(`/app/logout/${s.n}`, { method: "POST", cookie: s.cookie, command: { action: "logout" } }));
      } else if (r < 0.98) {
        c.regenerations++;
        const { res, ok } = await kill([s], () => gate.fetch(`/app/password/${s.n}`, { method: "POST", cookie: s.cookie, command: { action: "regenerate", reason: "password_change" } }));
        const next = sessionCookie(res);
        if (ok && next) { const n = addSession(s.user, next); n.handle = s.handle; }
      } else if (r < 0.985) {
        c.logoutAll++;
        await kill(userSessions(user), () => gate.fetch(`/app/security/${s.n}`, { method: "POST", cookie: s.cookie, command: { action: "logout_all" } }));
      } else if (r < 0.99) {
        c.adminRevokeAll++;
        const victims = userSessions(user);
        const { body, ok } = await kill(victims, () => gate.fetch(`/.sessiongate/admin/users/${user}/sessions`, { method: "DELETE", headers: ADMIN }));
        if (ok && JSON.parse(body).revoked !== victims.length) note("revoked count", { user, body, expected: victims.length });
      } else {
        const withHandle = userSessions(user).filter((x) => x.handle);
        if (!withHandle.length) return request(target);
        c.adminRevokeOne++;
        const v = pick(withHandle);
        await kill([v], () => gate.fetch(`/.sessiongate/admin/users/${user}/sessions/${v.handle}`, { method: "DELETE", headers: ADMIN }));
      }
    } finally {
      busyUsers.delete(user);
    }
  }

  async function pool(n, fn) {
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const stop = await fn(i);
        if (stop) next = n;
      }
    }));
  }

  const t0 = now();
  await pool(SESSIONS, (i) => login(`user${i % USERS}`));
  assert.equal(live.size, SESSIONS, `${SESSIONS} sessions logged in`);
  const tLogins = now() - t0;
  let ops = 0;
  const t1 = now();
  await pool(OPS, async (i) => {
    await op();
    ops++;
    if (i % 500 === 0) gate.origin.clear();
    return false;
  });
  const tOps = now() - t1;
  // Every session: live ones must still validate, dead ones must stay dead.
  const finalLive = [...live].filter((s) => !s.unknown);
  let finalLost = 0;
  let finalStale = 0;
  await pool(sessions.length, async (i) => {
    const s = sessions[i];
    if (s.unknown) return;
    const res = await gate.fetch(`/app/final/${s.n}`, { cookie: s.cookie, headers: JSON_ACCEPT });
    await res.arrayBuffer();
    if (s.diedAt === null && res.status !== 200) finalLost++;
    if (s.diedAt !== null && res.status !== 401) finalStale++;
  });
  gate.origin.clear();

  console.log(
    `  load: ${sessions.length} sessions (${SESSIONS} initial), ${ops} operations in ${Math.round(tOps)} ms after ${Math.round(tLogins)} ms of logins\n` +
      `  requests ${c.requests}: 2xx ${c.ok}, 401 ${c.unauth}, 5xx ${c.fiveXX}, other ${c.other}\n` +
      `  logins ${c.logins}, logouts ${c.logouts}, regenerations ${c.regenerations}, log-outs-everywhere ${c.logoutAll}, ` +
      `admin revoke-all ${c.adminRevokeAll}, admin revoke-one ${c.adminRevokeOne}; IDs killed ${c.killed}, operation errors ${c.opErrors}\n` +
      `  stale acceptances ${c.stale}, lost live sessions ${c.lost}, wrong identity ${c.wrongIdentity}, wrong reason ${c.wrongReason}; ` +
      `final sweep: ${finalLive.length} live (lost ${finalLost}), ${dead.length} dead (accepted ${finalStale})`,
  );
  if (problems.length) console.log("  first problems:\n    " + problems.join("\n    "));
  assert.equal(ops, OPS, "every operation ran");
  assert.ok(c.killed > 20 && c.unauth > 0, "the mix did kill sessions and replay them");
  assert.equal(c.stale, 0, "stale acceptances");
  assert.equal(c.lost, 0, "lost live sessions");
  assert.equal(c.fiveXX, 0, "5xx");
  assert.equal(c.other, 0, "unexpected statuses");
  assert.equal(c.wrongIdentity, 0, "identity of another session");
  assert.equal(c.wrongReason, 0, "dead IDs are refused as revoked");
  assert.equal(c.opErrors, 0, "every login, logout and revocation succeeded");
  assert.equal(finalLost, 0, "final sweep: live sessions validate");
  assert.equal(finalStale, 0, "final sweep: dead sessions stay dead");
});
