// The audit log. Events stored per user (bounded), read through the admin
// API, each also one JSON line in the Worker's log; timeout events written by the
// Durable Object alarm at the moment of expiry even if the user never returns.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGate, COOKIE, SECRETS, sleep } from "./harness.mjs";
import { until as pollFor } from "./waiting.mjs";
import { body, command, audit, auditEvents, adminSessions, handleOf, tokenOf, nowSec } from "./session-helpers.mjs";

const logs = [];
const capture = { handleStructuredLogs: (l) => { logs.push(l); } };
/** Audit lines the Worker logged, parsed. */
function auditLines() {
  const out = [];
  for (const l of logs) {
    for (const line of String(l.message).split("\n")) {
      try {
        const v = JSON.parse(line);
        if (v && v.sessiongate === "audit") out.push(v);
      } catch { /* not JSON */ }
    }
  }
  return out;
}
const FIELDS = ["event", "id", "ip", "reason", "session", "time", "user", "user_agent"];

let gate;
const tokens = [];
before(async () => {
  gate = await startGate({ vars: { SENSITIVE_PATHS: "/payments/*", BIND_UA: "reject" }, miniflare: capture });
});
after(async () => {
  await gate?.dispose();
});

const IP = "203.0.113.30";
const UA = "AuditBrowser/1";
const o = { ip: IP, ua: UA };

test("every lifecycle step writes its event with time, user, handle, IP, user agent and reason", async () => {
  const t0 = nowSec();
  const u = "aud-user";
  const s1 = await gate.login(u, o);
  tokens.push(s1);
  const h1 = await handleOf(gate, s1, o);
  const s1b = await gate.login(u, { ...o, cookie: s1 }); // login over an existing session
  tokens.push(s1b);
  const pw = await command(gate, s1b, { action: "regenerate", reason: "password_change" }, o);
  const perm = await command(gate, pw.cookie, { action: "regenerate", reason: "permission_change", roles: ["admin"] }, o);
  const elev = await command(gate, perm.cookie, { action: "elevate" }, o);
  tokens.push(pw.cookie, perm.cookie, elev.cookie);
  const bad = await command(gate, elev.cookie, { action: "fly" }, o);
  assert.equal(bad.status, 502);
  // More sessions of the same user, ended in every way there is.
  const s2 = await gate.login(u, { ip: "198.51.100.2", ua: "Second/1" });
  const s3 = await gate.login(u, { ip: "198.51.100.3", ua: "Third/1" });
  const s4 = await gate.login(u, { ip: "198.51.100.4", ua: "Fourth/1" });
  const s5 = await gate.login(u, { ip: "198.51.100.5", ua: "Fifth/1" });
  const s6 = await gate.login(u, { ip: "198.51.100.6", ua: "Sixth/1" });
  tokens.push(s2, s3, s4, s5, s6);
  const h2 = await handleOf(gate, s2, { ip: "198.51.100.2", ua: "Second/1" });
  const h3 = await handleOf(gate, s3, { ip: "198.51.100.3", ua: "Third/1" });
  const h4 = await handleOf(gate, s4, { ip: "198.51.100.4", ua: "Fourth/1" });
  const h6 = await handleOf(gate, s6, { ip: "198.51.100.6", ua: "Sixth/1" });
  // binding_changed: another network (IP binding flags); then binding reject (UA).
  assert.equal((await gate.fetch("/app", { cookie: s6, ip: "192.0.2.66", ua: "Sixth/1" })).status, 200);
  assert.equal((await gate.fetch("/app", { cookie: s6, ip: "192.0.2.66", ua: "Thief/1" })).status, 401);
  // User revokes one of their sessions by handle; admin revokes another.
  let res = await gate.fetch(`/.sessiongate/sessions/${h2}`, { method: "DELETE", cookie: elev.cookie, ...o });
  assert.equal(res.status, 200, JSON.stringify(await body(res)));
  res = await gate.fetch(`/.sessiongate/admin/users/${u}/sessions/${h3}`, { method: "DELETE", headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` }, ip: "10.9.9.9", ua: "AdminTool/1" });
  assert.equal(res.status, 200, JSON.stringify(await body(res)));
  // logout of s4 (origin command) and of s5 (gate endpoint).
  assert.ok((await command(gate, s4, { action: "logout" }, { ip: "198.51.100.4", ua: "Fourth/1" })).status === 200);
  res = await gate.fetch("/.sessiongate/logout", { method: "POST", cookie: s5, ip: "198.51.100.5", ua: "Fifth/1" });
  assert.equal(res.status, 200);
  // logout_others from the elevated session, then logout_all.
  const s7 = await gate.login(u, { ip: "198.51.100.7", ua: "Seventh/1" });
  tokens.push(s7);
  assert.equal((await command(gate, elev.cookie, { action: "logout_others" }, o)).status, 200);
  const s8 = await gate.login(u, { ip: "198.51.100.8", ua: "Eighth/1" });
  tokens.push(s8);
  assert.equal((await command(gate, s8, { action: "logout_all" }, { ip: "198.51.100.8", ua: "Eighth/1" })).status, 200);

  const events = await auditEvents(gate, u);
  // Newest first, ids strictly decreasing.
  for (let i = 1; i < events.length; i++) assert.ok(events[i - 1].id > events[i].id, "newest first");
  for (const e of events) {
    assert.deepEqual(Object.keys(e).sort(), FIELDS, JSON.stringify(e));
    assert.equal(e.user, u);
    assert.ok(e.time >= t0 && e.time <= nowSec(), `time ${e.time}`);
    assert.match(e.session, /^[A-Za-z0-9_-]{16,}$/, "a public handle");
    assert.ok(typeof e.ip === "string" && e.ip.length > 0, JSON.stringify(e));
    assert.ok(typeof e.user_agent === "string" && e.user_agent.length > 0, JSON.stringify(e));
  }
  const find = (event, pred = () => true) => events.filter((e) => e.event === event && pred(e));
  const one = (event, pred, what) => {
    const f = find(event, pred);
    assert.equal(f.length, 1, `${what ?? event}: ${JSON.stringify(events.map((e) => [e.event, e.reason, e.session]))}`);
    return f[0];
  };
  const created = one("session_created", (e) => e.session === h1, "session_created of the first login");
  assert.equal(created.ip, IP);
  assert.equal(created.user_agent, UA);
  one("session_regenerated", (e) => e.reason === "password_change");
  one("session_regenerated", (e) => e.reason === "permission_change");
  one("session_elevated");
  const inv = one("invalid_origin_command");
  assert.ok(inv.reason && inv.reason.length > 0, "the detail is the reason");
  assert.equal(inv.ip, IP);
  const bc = one("binding_changed", (e) => e.session === h6);
  assert.equal(bc.ip, "192.0.2.66");
  const rb = one("revoked", (e) => e.reason === "binding");
  assert.equal(rb.session, h6);
  assert.equal(rb.user_agent, "Thief/1");
  one("revoked", (e) => e.reason === "user" && e.session === h2, "revoked by the user");
  const ra = one("revoked", (e) => e.reason === "admin" && e.session === h3, "revoked by an admin");
  assert.equal(ra.ip, "10.9.9.9");
  const lo = find("logout");
  assert.deepEqual(lo.map((e) => e.session).sort(), [h4, (await handleOfDead(events, "Fifth/1"))].sort(), "logout events for s4 and s5");
  assert.equal(find("revoked", (e) => e.reason === "logout_others").length, 1, "logout_others ended s7");
  assert.equal(find("revoked", (e) => e.reason === "logout_all").length, 2, "logout_all ended the elevated session and s8");
  // Never the token.
  const dump = JSON.stringify(events);
  for (const t of tokens.filter(Boolean)) assert.ok(!dump.includes(tokenOf(t)), "no token in the audit log");
});

/** Handle of the session created with the given user agent, from its session_created event. */
async function handleOfDead(events, ua) {
  const e = events.find((x) => x.event === "session_created" && x.user_agent === ua);
  assert.ok(e, `session_created for ${ua}`);
  return e.session;
}

/**
 * Log lines reach the test asynchronously (workerd -> miniflare -> this process), so a
 * test waits for the lines it needs, polling, under a deadline generous enough for a
 * loaded machine, instead of sleeping a fixed time that a slow machine may overrun.
 */
async function until(done, what, ms = 15_000) {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) assert.fail(`after ${ms} ms still waiting for ${typeof what === "function" ? what() : what}`);
    await sleep(20);
  }
}

test("every stored event is also one JSON line in the Worker's log", async () => {
  const stored = await auditEvents(gate, "aud-user");
  assert.ok(stored.length > 10);
  const unlogged = () => {
    const lines = auditLines();
    return stored.filter(({ id, ...rest }) => !lines.some((l) => Object.entries(rest).every(([k, v]) => JSON.stringify(l[k]) === JSON.stringify(v))));
  };
  await until(() => unlogged().length === 0, () => `log lines for ${JSON.stringify(unlogged())}`);
  for (const l of logs) assert.ok(!String(l.message).includes("\n{"), "one event per line");
  const dump = logs.map((l) => l.message).join("\n");
  for (const t of tokens.filter(Boolean)) assert.ok(!dump.includes(tokenOf(t)), "no token in the log");
});

test("forged_token goes to the Worker log only (it has no user)", async () => {
  const cookie = await gate.login("forge-victim", o);
  const v = tokenOf(cookie);
  const altered = v.slice(0, 50) + (v[50] === "A" ? "B" : "A") + v.slice(51);
  const before = auditLines().filter((l) => l.event === "forged_token").length;
  const res = await gate.fetch("/app", { cookie: `${COOKIE}=${altered}`, ip: "192.0.2.99", ua: "Forger/1" });
  assert.equal(res.status, 401);
  await until(() => auditLines().filter((l) => l.event === "forged_token").length > before, "the forged_token log line");
  const forged = auditLines().filter((l) => l.event === "forged_token");
  assert.equal(forged.length, before + 1);
  const line = forged.at(-1);
  assert.equal(line.user, null);
  assert.equal(line.ip, "192.0.2.99");
  assert.equal(line.user_agent, "Forger/1");
  assert.ok(line.time > 0);
  assert.ok(!JSON.stringify(line).includes(altered), "the forged value is not logged");
  assert.equal((await auditEvents(gate, "forge-victim")).filter((e) => e.event === "forged_token").length, 0);
});

test("the admin audit API pages newest first with limit / before and checks its input", async () => {
  const all = await auditEvents(gate, "aud-user");
  const seen = [];
  let before;
  for (;;) {
    const page = await audit(gate, "aud-user", { limit: 4, before });
    seen.push(...page.events);
    if (!page.next_before) break;
    assert.equal(page.events.length, 4);
    before = page.next_before;
  }
  assert.deepEqual(seen.map((e) => e.id), all.map((e) => e.id));
  for (const q of ["limit=0", "limit=1001", "limit=x", "before=abc"]) {
    const res = await gate.fetch(`/.sessiongate/admin/users/aud-user/audit?${q}`, { headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } });
    assert.equal(res.status, 400, q);
    await res.arrayBuffer();
  }
  const res = await gate.fetch("/.sessiongate/admin/users/aud-user/audit", { headers: { authorization: "Bearer wrong-token-wrong-token-wrong-token" } });
  assert.equal(res.status, 401);
  await res.arrayBuffer();
});

test("retention is bounded: a user keeps the newest 1000 events", async () => {
  const u = "aud-many";
  const batch = [
    { action: "login", user: u },
    ...Array.from({ length: 7 }, () => ({ action: "regenerate", reason: "password_change" })),
  ];
  let cookie;
  const first = await command(gate, undefined, batch, { path: "/login" });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  cookie = first.cookie;
  const firstEvents = await auditEvents(gate, u);
  assert.equal(firstEvents.length, 8, "8 events per batch");
  const oldest = firstEvents.at(-1);
  for (let i = 0; i < 130; i++) {
    const r = await command(gate, cookie, batch, { path: "/login" });
    assert.equal(r.status, 200);
    cookie = r.cookie;
  }
  const page = await audit(gate, u, { limit: 1000 });
  assert.equal(page.events.length, 1000);
  const rest = await audit(gate, u, { limit: 1000, before: page.next_before ?? page.events.at(-1).id });
  assert.equal(rest.events.length, 0, "nothing older than the newest 1000");
  assert.ok(!page.events.some((e) => e.id === oldest.id), "the oldest event was dropped");
  assert.equal((await gate.fetch("/app", { cookie })).status, 200);
});

test("timeout events are written by the alarm at the moment of expiry, even if the user never returns", async () => {
  // IDLE 3s and ABSOLUTE 6s; the alarm's events carry the time it ran, which on a loaded
  // machine may be later than the deadline: checked here is that it is never earlier,
  // and no later than the moment the event was first seen.
  const g = await startGate({ vars: { IDLE_TIMEOUT: "3s", ABSOLUTE_TIMEOUT: "6s" }, miniflare: capture });
  try {
    const idle = await g.login("aud-idle", o);
    const idleCreated = (await auditEvents(g, "aud-idle"))[0];
    const active = await g.login("aud-abs", o);
    const absCreated = (await auditEvents(g, "aud-abs"))[0];
    // The absolute timeout counts from the session's creation by the gate's clock (its
    // cookie's Max-Age does too), which may be a second before the object's event time.
    const absStart = (await adminSessions(g, "aud-abs"))[0].created_at;
    const timeoutOf = async (user, event) => (await auditEvents(g, user)).filter((e) => e.event === event);
    // Keep aud-abs active (a request every 300 ms, never idle) until 5 s after its
    // creation, so its idle deadline (>= +7 s) comes after its absolute one (+6 s); never
    // touch aud-idle again. Its event is read from the admin API, which leaves it alone.
    let idleEvents = [];
    while (Math.floor(Date.now() / 1000) < absCreated.time + 5 || !idleEvents.length) {
      if (Math.floor(Date.now() / 1000) < absCreated.time + 5) {
        const r = await g.fetch("/app", { cookie: active, ...o });
        assert.equal(r.status, 200);
        await r.arrayBuffer();
      }
      idleEvents = await timeoutOf("aud-idle", "idle_timeout");
      if (Date.now() / 1000 > idleCreated.time + 60) assert.fail("no idle_timeout event 60 s after the session's creation");
      await sleep(300);
    }
    let seen = Date.now() / 1000;
    assert.equal(idleEvents.length, 1, "idle_timeout written by the alarm");
    assert.equal(idleEvents[0].session, idleCreated.session);
    assert.ok(idleEvents[0].time >= idleCreated.time + 3 && idleEvents[0].time <= seen, `idle_timeout at ${idleEvents[0].time}, created ${idleCreated.time}, seen ${seen}`);
    await until(() => auditLines().some((l) => l.event === "idle_timeout" && l.user === "aud-idle"), "the idle_timeout log line");
    // Coming back now: the tombstone (kept ABSOLUTE_TIMEOUT after the end) gives the reason.
    let res = await g.fetch("/app", { cookie: idle, ...o });
    assert.deepEqual(await body(res), { error: "unauthenticated", reason: "idle_timeout" });
    // aud-abs: without touching it, wait for the alarm's event of its absolute expiry.
    const absEvents = await pollFor(async () => {
      const ev = (await auditEvents(g, "aud-abs")).filter((e) => e.event === "absolute_timeout" || e.event === "idle_timeout");
      return ev.length ? ev : null;
    }, "aud-abs's timeout event");
    seen = Date.now() / 1000;
    assert.deepEqual(absEvents.map((e) => e.event), ["absolute_timeout"], JSON.stringify(absEvents));
    assert.ok(absEvents[0].time >= absStart + 6 && absEvents[0].time <= seen, `absolute_timeout at ${absEvents[0].time}, created ${absStart}, seen ${seen}`);
    await until(() => auditLines().some((l) => l.event === "absolute_timeout" && l.user === "aud-abs"), "the absolute_timeout log line");
    // The rejection reason matches, and coming back writes no second event.
    res = await g.fetch("/app", { cookie: active, ...o });
    assert.deepEqual(await body(res), { error: "unauthenticated", reason: "absolute_timeout" });
    assert.equal((await timeoutOf("aud-idle", "idle_timeout")).length, 1);
    assert.equal((await timeoutOf("aud-abs", "absolute_timeout")).length, 1);
  } finally {
    await g.dispose();
  }
});

test("a login as another user over a live session records the end of the first user's session in their log", async () => {
  const alice = await gate.login("aud-alice", o);
  const h = await handleOf(gate, alice, o);
  const bob = await gate.login("aud-bob", { ...o, cookie: alice });
  assert.ok(bob && bob !== alice);
  assert.equal((await gate.fetch("/app", { cookie: alice, ...o })).status, 401, "alice's ID is dead");
  const events = await auditEvents(gate, "aud-alice");
  const ended = events.filter((e) => e.session === h && e.event !== "session_created");
  assert.equal(ended.length, 1, `alice's session ${h} ended without an audit event: ${JSON.stringify(events.map((e) => [e.event, e.reason]))}`);
});
