// A new session ID on every change of privilege, end to end (built Wasm in
// workerd, SQLite Durable Objects, recording origin, real HTTP). Includes the races:
// requests with the old ID racing a regeneration / logout / logout_all.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGate, sessionCookie, setCookieHeader, isCleared, identity, COOKIE } from "./harness.mjs";
import { nextSecond } from "./waiting.mjs";
import {
  body, assertion, expect401, command, auditEvents, adminSessions, handleOf, tokenOf, race, assertRace,
} from "./session-helpers.mjs";

let gate;
before(async () => {
  gate = await startGate({ vars: { SENSITIVE_PATHS: "/payments/*" } });
});
after(async () => {
  await gate?.dispose();
});

const IP = "203.0.113.20";
const UA = "LifecycleBrowser/1";

test("regenerate password_change: new ID, data and identity migrate, old ID dead at once, audit event", async () => {
  const old = await gate.login("pw-user", { roles: ["user", "billing"], data: { cart: [1, 2] }, ip: IP, ua: UA });
  const handle = await handleOf(gate, old, { ip: IP, ua: UA });
  const r = await command(gate, old, { action: "regenerate", reason: "password_change" }, { ip: IP, ua: UA });
  assert.equal(r.status, 200);
  assert.equal(r.res.headers.get("x-session-command"), null, "command stripped");
  assert.ok(r.cookie && r.cookie !== old, "a new ID is issued");
  assert.notEqual(tokenOf(r.cookie), "");
  assert.match(setCookieHeader(r.res), /; HttpOnly; Secure; SameSite=Lax$/);
  assert.equal(r.res.headers.get("cache-control"), "no-store");
  await expect401(await gate.fetch("/app", { cookie: old, ip: IP, ua: UA }), "revoked", "old ID");
  gate.origin.clear();
  const res = await gate.fetch("/app", { cookie: r.cookie, ip: IP, ua: UA });
  assert.equal(res.status, 200);
  assert.equal(setCookieHeader(res), null);
  const id = identity(gate.origin.last());
  assert.equal(id.user, "pw-user");
  assert.equal(id.roles, "user,billing", "roles kept on password_change");
  assert.deepEqual(JSON.parse(id.data), { cart: [1, 2] }, "data migrated");
  const events = await auditEvents(gate, "pw-user");
  const regen = events.filter((e) => e.event === "session_regenerated" && e.reason === "password_change");
  assert.equal(regen.length, 1, JSON.stringify(events));
  assert.equal(regen[0].user, "pw-user");
  assert.equal(regen[0].ip, IP);
  assert.equal(regen[0].user_agent, UA);
  assert.ok(typeof regen[0].session === "string" && regen[0].session.length > 0);
  assert.ok(![tokenOf(old), tokenOf(r.cookie)].some((t) => JSON.stringify(events).includes(t)), "no token in the audit log");
  assert.ok(handle);
});

test("regenerate permission_change replaces the roles: the origin sees the new X-Session-Roles and assertion roles", async () => {
  const old = await gate.login("perm-user", { roles: ["user"], data: { theme: "dark" } });
  const r = await command(gate, old, { action: "regenerate", reason: "permission_change", roles: ["admin", "auditor"] });
  assert.equal(r.status, 200);
  assert.ok(r.cookie && r.cookie !== old);
  await expect401(await gate.fetch("/app", { cookie: old }), "revoked", "old ID");
  gate.origin.clear();
  assert.equal((await gate.fetch("/app/admin", { cookie: r.cookie })).status, 200);
  const rec = gate.origin.last();
  assert.equal(identity(rec).roles, "admin,auditor", "roles replaced, not merged");
  assert.deepEqual((await assertion(rec)).roles, ["admin", "auditor"]);
  assert.deepEqual(JSON.parse(identity(rec).data), { theme: "dark" });
  // Dropping privileges works the same way.
  const r2 = await command(gate, r.cookie, { action: "regenerate", reason: "permission_change", roles: [] });
  assert.equal(r2.status, 200);
  assert.ok(r2.cookie && r2.cookie !== r.cookie);
  gate.origin.clear();
  await (await gate.fetch("/app", { cookie: r2.cookie })).arrayBuffer();
  assert.equal(identity(gate.origin.last()).roles, "");
  await expect401(await gate.fetch("/app", { cookie: r.cookie }), "revoked");
  const events = await auditEvents(gate, "perm-user");
  assert.equal(events.filter((e) => e.event === "session_regenerated" && e.reason === "permission_change").length, 2);
});

test("malformed regenerate commands change nothing (502, old ID still valid, no cookie)", async () => {
  const cookie = await gate.login("bad-regen");
  for (const cmd of [
    { action: "regenerate", reason: "permission_change" },
    { action: "regenerate", reason: "password_change", roles: ["x"] },
    { action: "regenerate", reason: "whim" },
    { action: "regenerate" },
    { action: "elevate", until: 5 },
  ]) {
    const r = await command(gate, cookie, cmd);
    assert.equal(r.status, 502, JSON.stringify(cmd));
    assert.equal(r.body.error, "invalid_origin_command");
    assert.equal(r.cookie, null);
  }
  // Commands that need a session, on a request without one.
  for (const action of ["regenerate", "elevate", "logout_others", "logout_all"]) {
    const cmd = action === "regenerate" ? { action, reason: "password_change" } : { action };
    const r = await command(gate, undefined, cmd, { path: "/public/x" });
    assert.equal(r.status, 502, action);
    assert.equal(r.cookie, null);
  }
  assert.equal((await gate.fetch("/app", { cookie })).status, 200);
});

test("elevate issues a new ID and kills the old one", async () => {
  const old = await gate.login("elev-user", { data: { k: 1 } });
  const r = await command(gate, old, { action: "elevate" });
  assert.equal(r.status, 200);
  assert.ok(r.cookie && r.cookie !== old);
  await expect401(await gate.fetch("/payments/1", { cookie: old }), "revoked");
  gate.origin.clear();
  assert.equal((await gate.fetch("/payments/1", { cookie: r.cookie })).status, 200);
  assert.deepEqual(JSON.parse(identity(gate.origin.last()).data), { k: 1 });
  const events = await auditEvents(gate, "elev-user");
  assert.ok(events.some((e) => e.event === "session_elevated"), JSON.stringify(events));
  assert.ok(events.some((e) => e.event === "session_regenerated"));
});

test("logout_others keeps the current session and ends every other session of the user", async () => {
  const a = await gate.login("multi", { ip: "198.51.100.1", ua: "A" });
  const b = await gate.login("multi", { ip: "198.51.100.2", ua: "B" });
  const c = await gate.login("multi", { ip: "198.51.100.3", ua: "C" });
  const other = await gate.login("bystander");
  const hb = await handleOf(gate, b, { ip: "198.51.100.2", ua: "B" });
  const ha = await handleOf(gate, a, { ip: "198.51.100.1", ua: "A" });
  const hc = await handleOf(gate, c, { ip: "198.51.100.3", ua: "C" });
  assert.equal((await adminSessions(gate, "multi")).length, 3);

  const r = await command(gate, b, { action: "logout_others" }, { ip: "198.51.100.2", ua: "B" });
  assert.equal(r.status, 200);
  assert.ok(!isCleared(r.res), "the current session is not cleared");
  const current = r.cookie ?? b; // a new ID is allowed (see the todo test below)
  await expect401(await gate.fetch("/app", { cookie: a, ip: "198.51.100.1", ua: "A" }), "revoked", "session A");
  await expect401(await gate.fetch("/app", { cookie: c, ip: "198.51.100.3", ua: "C" }), "revoked", "session C");
  gate.origin.clear();
  assert.equal((await gate.fetch("/app", { cookie: current, ip: "198.51.100.2", ua: "B" })).status, 200, "current session kept");
  assert.equal(identity(gate.origin.last()).user, "multi");
  assert.equal((await gate.fetch("/app", { cookie: other })).status, 200, "another user is unaffected");

  const sessions = await adminSessions(gate, "multi");
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].id, hb);
  const own = await gate.fetch("/.sessiongate/sessions", { cookie: current, ip: "198.51.100.2", ua: "B" });
  const list = (await body(own)).sessions;
  assert.equal(list.length, 1);
  assert.equal(list[0].current, true);

  const revoked = (await auditEvents(gate, "multi")).filter((e) => e.event === "revoked" && e.reason === "logout_others");
  assert.deepEqual(revoked.map((e) => e.session).sort(), [ha, hc].sort());
});

test("logout_others also issues a new ID for the kept session", async () => {
  const a = await gate.login("multi2");
  const b = await gate.login("multi2");
  const r = await command(gate, b, { action: "logout_others" });
  assert.equal(r.status, 200);
  assert.ok(r.cookie && r.cookie !== b, `expected a new ID, got Set-Cookie ${setCookieHeader(r.res)}`);
  await expect401(await gate.fetch("/app", { cookie: b }), "revoked");
  await expect401(await gate.fetch("/app", { cookie: a }), "revoked");
});

test("after a password change: [regenerate password_change, logout_others] in one command keeps only the new ID", async () => {
  const a = await gate.login("pw-others");
  const b = await gate.login("pw-others");
  const r = await command(gate, b, [{ action: "regenerate", reason: "password_change" }, { action: "logout_others" }]);
  assert.equal(r.status, 200);
  assert.ok(r.cookie && r.cookie !== b);
  assert.equal((await gate.fetch("/app", { cookie: r.cookie })).status, 200, "the new ID lives");
  await expect401(await gate.fetch("/app", { cookie: b }), "revoked", "the old ID of this session");
  await expect401(await gate.fetch("/app", { cookie: a }), "revoked", "the other session");
  assert.equal((await adminSessions(gate, "pw-others")).length, 1);
});

test("logout_all ends every session of the user, the current one included", async () => {
  const a = await gate.login("all-user", { ip: "198.51.100.11", ua: "A" });
  const b = await gate.login("all-user", { ip: "198.51.100.12", ua: "B" });
  const c = await gate.login("all-user", { ip: "198.51.100.13", ua: "C" });
  const handles = [
    await handleOf(gate, a, { ip: "198.51.100.11", ua: "A" }),
    await handleOf(gate, b, { ip: "198.51.100.12", ua: "B" }),
    await handleOf(gate, c, { ip: "198.51.100.13", ua: "C" }),
  ];
  const other = await gate.login("bystander2");
  const r = await command(gate, b, { action: "logout_all" }, { ip: "198.51.100.12", ua: "B" });
  assert.equal(r.status, 200);
  assert.ok(isCleared(r.res), "the current cookie is cleared");
  await expect401(await gate.fetch("/app", { cookie: a, ip: "198.51.100.11", ua: "A" }), "revoked", "A");
  await expect401(await gate.fetch("/app", { cookie: b, ip: "198.51.100.12", ua: "B" }), "revoked", "B (current)");
  await expect401(await gate.fetch("/app", { cookie: c, ip: "198.51.100.13", ua: "C" }), "revoked", "C");
  assert.equal((await gate.fetch("/app", { cookie: other })).status, 200, "another user is unaffected");
  assert.deepEqual(await adminSessions(gate, "all-user"), []);
  const revoked = (await auditEvents(gate, "all-user")).filter((e) => e.event === "revoked" && e.reason === "logout_all");
  assert.deepEqual(revoked.map((e) => e.session).sort(), [...handles].sort());
});

test("HTTP -> HTTPS: a session last used over plain HTTP gets a new ID on its first HTTPS request", async () => {
  const opts = { ip: IP, ua: UA };
  const old = await gate.login("tls-user", { roles: ["r1"], data: { d: 1 }, ...opts }); // over http
  assert.equal((await gate.fetch("/app", { cookie: old, ...opts })).status, 200);
  gate.origin.clear();
  const res = await gate.fetch("/app/secure", { cookie: old, https: true, ...opts });
  assert.equal(res.status, 200);
  const fresh = sessionCookie(res);
  assert.ok(fresh && fresh !== old, `a new ID on the first HTTPS request, got ${setCookieHeader(res)}`);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const id = identity(gate.origin.last());
  assert.equal(id.user, "tls-user");
  assert.equal(id.roles, "r1");
  assert.deepEqual(JSON.parse(id.data), { d: 1 });
  await expect401(await gate.fetch("/app", { cookie: old, https: true, ...opts }), "revoked", "old ID over https");
  await expect401(await gate.fetch("/app", { cookie: old, ...opts }), "revoked", "old ID over http");
  // Further HTTPS requests keep the new ID.
  for (let i = 0; i < 3; i++) {
    const r = await gate.fetch("/app", { cookie: fresh, https: true, ...opts });
    assert.equal(r.status, 200);
    assert.equal(setCookieHeader(r), null, `HTTPS request ${i} must not regenerate again`);
  }
  // Back to HTTP and again to HTTPS: again a new ID.
  assert.equal((await gate.fetch("/app", { cookie: fresh, ...opts })).status, 200);
  const again = await gate.fetch("/app", { cookie: fresh, https: true, ...opts });
  assert.equal(again.status, 200);
  const third = sessionCookie(again);
  assert.ok(third && third !== fresh);
  await expect401(await gate.fetch("/app", { cookie: fresh, https: true, ...opts }), "revoked");
  const events = (await auditEvents(gate, "tls-user")).filter((e) => e.event === "session_regenerated");
  assert.equal(events.length, 2, JSON.stringify(events));
});

test("a session created over HTTPS and only used over HTTPS keeps its ID", async () => {
  const opts = { ip: IP, ua: UA, https: true };
  const cookie = await gate.login("tls-only", opts);
  for (let i = 0; i < 3; i++) {
    const r = await gate.fetch("/app", { cookie, ...opts });
    assert.equal(r.status, 200);
    assert.equal(setCookieHeader(r), null);
  }
});

// ---------------------------------------------------------------------------------
// Races: requests with the old ID must never validate once the command has answered.

test("race: 30 requests with the old ID against regenerate(password_change)", async () => {
  const old = await gate.login("race-regen");
  let fresh;
  const out = await race(gate, old, async () => {
    const r = await command(gate, old, { action: "regenerate", reason: "password_change" }, { headers: { "x-test-delay": "60" } });
    assert.equal(r.status, 200);
    fresh = r.cookie;
    return r;
  });
  const { ok } = assertRace(out);
  assert.ok(ok >= 1, "some requests started before the command and were served");
  // Afterwards: a second wave with the old ID, all dead; the new ID lives.
  const wave = await Promise.all(Array.from({ length: 30 }, () => gate.fetch("/app", { cookie: old })));
  assert.deepEqual(wave.map((r) => r.status), Array(30).fill(401));
  assert.equal((await gate.fetch("/app", { cookie: fresh })).status, 200);
  assert.equal((await adminSessions(gate, "race-regen")).length, 1, "exactly one live session");
});

test("race: 30 requests with the old ID against elevate", async () => {
  const old = await gate.login("race-elev");
  let fresh;
  const out = await race(gate, old, async () => {
    const r = await command(gate, old, { action: "elevate" }, { headers: { "x-test-delay": "60" } });
    assert.equal(r.status, 200);
    fresh = r.cookie;
    return r;
  }, { path: "/app/x" });
  assertRace(out);
  assert.equal((await gate.fetch("/payments/1", { cookie: fresh })).status, 200);
  await expect401(await gate.fetch("/payments/1", { cookie: old }), "revoked");
});

test("race: 30 requests with the old ID against logout", async () => {
  const old = await gate.login("race-logout");
  const out = await race(gate, old, async () => {
    const r = await command(gate, old, { action: "logout" }, { headers: { "x-test-delay": "60" } });
    assert.equal(r.status, 200);
    assert.ok(isCleared(r.res));
    return r;
  });
  assertRace(out);
  assert.deepEqual(await adminSessions(gate, "race-logout"), []);
});

test("race: 30 requests with every ID of the user against logout_all", async () => {
  const cookies = [];
  for (let i = 0; i < 3; i++) cookies.push(await gate.login("race-all"));
  const out = await race(gate, cookies[0], async () => {
    const r = await command(gate, cookies[1], { action: "logout_all" }, { headers: { "x-test-delay": "60" } });
    assert.equal(r.status, 200);
    return r;
  });
  assertRace(out);
  for (const c of cookies) await expect401(await gate.fetch("/app", { cookie: c }), "revoked");
  assert.deepEqual(await adminSessions(gate, "race-all"), []);
});

test("race: regenerations racing logout_all leave no live session behind", async () => {
  // Requests that validated before logout_all carry commands (elevate, regenerate,
  // set_data) whose responses land after it: none may bring a session back.
  const cookie = await gate.login("race-mixed");
  const admin = await gate.login("race-mixed"); // logout_all comes from another session of the user
  const cmds = [
    { action: "elevate" },
    { action: "regenerate", reason: "password_change" },
    { action: "regenerate", reason: "permission_change", roles: ["x"] },
    { action: "set_data", data: { n: 1 } },
  ];
  const racers = Array.from({ length: 24 }, (_, i) => (async () => {
    await new Promise((r) => setTimeout(r, i * 4));
    const res = await gate.fetch("/app/cmd", {
      method: "POST", cookie, command: cmds[i % cmds.length], headers: { "x-test-delay": String(40 + (i % 5) * 20) },
    });
    return { status: res.status, body: res.status === 401 ? await res.json() : (await res.arrayBuffer(), null), cookie: sessionCookie(res) };
  })());
  await new Promise((r) => setTimeout(r, 30));
  const all = await command(gate, admin, { action: "logout_all" });
  assert.equal(all.status, 200);
  const results = await Promise.all(racers);
  // Each racer validated before logout_all (200: forwarded, its command applied or
  // dropped) or after it (401 revoked); how many of each depends on the machine's
  // speed, so only the set of outcomes is checked. Anything else (a 5xx) is a failure.
  for (const r of results) {
    assert.ok(r.status === 200 || r.status === 401, `racer status ${r.status}: ${JSON.stringify(results.map((x) => x.status))}`);
    if (r.status === 401) assert.deepEqual(r.body, { error: "unauthenticated", reason: "revoked" });
  }
  // Whatever the racers were handed, nothing of this user validates any more.
  assert.deepEqual(await adminSessions(gate, "race-mixed"), [], `racers: ${JSON.stringify(results.map((r) => r.status))}`);
  for (const r of results) {
    if (r.cookie) {
      const res = await gate.fetch("/app", { cookie: r.cookie });
      assert.equal(res.status, 401, "a cookie handed out in the race is dead");
      await res.arrayBuffer();
    }
  }
});

test("race: parallel first HTTPS requests of a plain-HTTP session: the old ID dies once, exactly one new ID", async () => {
  const opts = { ip: IP, ua: UA };
  const old = await gate.login("race-tls", opts);
  const results = await Promise.all(Array.from({ length: 20 }, async () => {
    const res = await gate.fetch("/app", { cookie: old, https: true, headers: { accept: "application/json" }, ...opts });
    return { status: res.status, body: await body(res), cookie: sessionCookie(res) };
  }));
  const issued = results.filter((r) => r.cookie && r.cookie.length > COOKIE.length + 1);
  assert.equal(issued.length, 1, `exactly one new ID: ${JSON.stringify(results.map((r) => [r.status, r.cookie?.slice(0, 30)]))}`);
  const fresh = issued[0].cookie;
  assert.equal((await gate.fetch("/app", { cookie: fresh, https: true, ...opts })).status, 200);
  await expect401(await gate.fetch("/app", { cookie: old, https: true, ...opts }), "revoked");
  assert.equal((await adminSessions(gate, "race-tls")).length, 1);
});

test("MAX_SESSIONS_PER_USER: a login past the limit ends the user's least recently used session, with an audit event", async () => {
  const limited = await startGate({ vars: { MAX_SESSIONS_PER_USER: "2" } });
  try {
    const first = await limited.login("lim");
    const second = await limited.login("lim");
    // Use the first again: the second becomes the least recently used (use is recorded
    // in whole seconds, so each step waits for the clock to reach a later second).
    await nextSecond();
    const h1 = await handleOf(limited, first);
    const h2 = await handleOf(limited, second);
    await nextSecond();
    await handleOf(limited, first);
    const third = await limited.login("lim");
    const dead = await limited.fetch("/app", { cookie: second, headers: { accept: "application/json" } });
    assert.equal(dead.status, 401, "the least recently used session is gone");
    assert.deepEqual(await body(dead), { error: "unauthenticated", reason: "revoked" });
    assert.equal(await handleOf(limited, first), h1, "the recently used one lives on");
    assert.ok(await handleOf(limited, third), "the new login works");
    const ended = (await auditEvents(limited, "lim")).filter((e) => e.event === "revoked");
    assert.equal(ended.length, 1);
    assert.equal(ended[0].session, h2);
    assert.equal(ended[0].reason, "session_limit");
    // Another user is not affected by lim's logins.
    const other = await limited.login("other");
    assert.ok(await handleOf(limited, other));
  } finally {
    await limited.dispose();
  }
});
