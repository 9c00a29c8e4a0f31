// Step-up. SENSITIVE_PATHS need an elevated session; elevation lasts
// ELEVATED_TIMEOUT, does not slide, and never outlives the absolute timeout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGate, identity, isCleared } from "./harness.mjs";
import { sleep, nextSecond, pastSecond } from "./waiting.mjs";
import { body, assertion, expect401, command, auditEvents, nowSec } from "./session-helpers.mjs";

const SENSITIVE = "POST /account/password,/payments/*";
let gate;
before(async () => {
  gate = await startGate({ vars: { SENSITIVE_PATHS: SENSITIVE, ELEVATED_TIMEOUT: "3s" } });
});
after(async () => {
  await gate?.dispose();
});

test("a valid but non-elevated session: 403 reauthentication_required for APIs, 302 reauth for navigations; nothing reaches the origin", async () => {
  const cookie = await gate.login("step-user");
  gate.origin.clear();
  for (const [method, p] of [["GET", "/payments/42"], ["POST", "/payments/42/refund"], ["GET", "/payments"], ["POST", "/account/password"], ["DELETE", "/payments/1"]]) {
    const res = await gate.fetch(p, { method, cookie, headers: { accept: "application/json" } });
    assert.equal(res.status, 403, `${method} ${p}`);
    assert.deepEqual(await body(res), { error: "reauthentication_required" });
    assert.ok(!isCleared(res), "the session itself stays");
  }
  let res = await gate.fetch("/payments/42?tab=card&x=1", { cookie, headers: { "sec-fetch-mode": "navigate" } });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/login?reauth=1&return_to=/payments/42%3Ftab%3Dcard%26x%3D1");
  res = await gate.fetch("/payments/7", { cookie, headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
  assert.equal(res.status, 302, "Accept preferring text/html is a navigation");
  assert.equal(res.headers.get("location"), "/login?reauth=1&return_to=/payments/7");
  res = await gate.fetch("//payments/../payments/9", { cookie, headers: { "sec-fetch-mode": "navigate" } });
  assert.equal(res.status, 302, "normalised path still sensitive");
  assert.match(res.headers.get("location"), /^\/login\?reauth=1&return_to=\/payments\/9$/);
  assert.equal(gate.origin.requests.length, 0, "nothing reached the origin");
  // A client cannot claim elevation itself.
  res = await gate.fetch("/payments/1", { cookie, headers: { accept: "application/json", "x-session-elevated-until": "9999999999", "X-Session-Assertion": "x" } });
  assert.equal(res.status, 403);
  await res.arrayBuffer();
  gate.origin.clear();
  await (await gate.fetch("/app", { cookie, headers: { "x-session-elevated-until": "9999999999" } })).arrayBuffer();
  assert.equal(identity(gate.origin.last()).elevatedUntil, undefined, "spoofed X-Session-Elevated-Until stripped");
  // Method-prefixed pattern: GET /account/password is merely protected.
  res = await gate.fetch("/account/password", { cookie });
  assert.equal(res.status, 200);
  assert.equal((await gate.fetch("/app", { cookie })).status, 200, "still signed in");
});

test("without a session a sensitive path is an ordinary protected path (401 / 302 to login)", async () => {
  let res = await gate.fetch("/payments/1", { headers: { accept: "application/json" } });
  assert.equal(res.status, 401);
  assert.deepEqual(await body(res), { error: "unauthenticated", reason: "missing" });
  res = await gate.fetch("/payments/1", { headers: { "sec-fetch-mode": "navigate" } });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/login?return_to=/payments/1&reason=missing");
});

test("elevated: the origin receives X-Session-Elevated-Until and the assertion carries elev", async () => {
  const login = await gate.login("elev-ok");
  const t = nowSec();
  const r = await command(gate, login, { action: "elevate" }, { path: "/account/reauth" });
  assert.equal(r.status, 200);
  assert.ok(r.cookie && r.cookie !== login);
  gate.origin.clear();
  const res = await gate.fetch("/payments/42", { cookie: r.cookie });
  assert.equal(res.status, 200);
  const rec = gate.origin.last();
  const until = Number(identity(rec).elevatedUntil);
  assert.ok(Number.isInteger(until), `X-Session-Elevated-Until: ${identity(rec).elevatedUntil}`);
  assert.ok(until >= t + 2 && until <= nowSec() + 3, `elevated until ${until}, now ${nowSec()}, ELEVATED_TIMEOUT 3s`);
  const p = await assertion(rec);
  assert.equal(p.elev, until);
  assert.equal(p.sub, "elev-ok");
  assert.ok(Math.abs(Number(identity(rec).authTime) - t) <= 1, "re-authentication updates auth_time");
  assert.equal((await gate.fetch("/account/password", { method: "POST", cookie: r.cookie })).status, 200);
  // A non-sensitive path also gets the header while elevated.
  gate.origin.clear();
  await (await gate.fetch("/app", { cookie: r.cookie })).arrayBuffer();
  assert.equal(identity(gate.origin.last()).elevatedUntil, String(until));
  // Status endpoint shows it too.
  const st = await body(await gate.fetch("/.sessiongate/status", { cookie: r.cookie }));
  assert.equal(st.elevated_until, until);
  const events = await auditEvents(gate, "elev-ok");
  assert.equal(events.filter((e) => e.event === "session_elevated").length, 1);
});

test("elevation does not slide: constant Elevated-Until under activity, then 403 again while the session lives", async () => {
  const login = await gate.login("elev-slide");
  const { cookie } = await command(gate, login, { action: "elevate" });
  const seen = new Set();
  let until;
  // Requests every 400 ms until the first 403 (under a 60 s deadline, so a slow shared
  // machine cannot end the loop early). The gate decides at some instant between sending
  // and receiving, so an accepted request is checked against the time it was sent and a
  // refusal against the time it came back: neither depends on how long they took.
  const started = Date.now();
  let ended = false;
  while (Date.now() < started + 60_000) {
    gate.origin.clear();
    const sent = nowSec();
    const res = await gate.fetch("/payments/1", { cookie, headers: { accept: "application/json" } });
    const b = await body(res);
    if (res.status === 200) {
      until = Number(identity(gate.origin.last()).elevatedUntil);
      seen.add(until);
      assert.ok(sent < until, `served as elevated at or after elevated_until: sent ${sent}, until ${until}`);
    } else {
      assert.equal(res.status, 403, JSON.stringify(b));
      assert.deepEqual(b, { error: "reauthentication_required" });
      assert.ok(until !== undefined, "was elevated first");
      assert.ok(nowSec() >= until, `elevation ended early: now ${nowSec()}, until ${until}`);
      ended = true;
      break;
    }
    await sleep(400);
  }
  assert.ok(ended, "elevation ended despite activity");
  assert.equal(seen.size, 1, `Elevated-Until never moved: ${[...seen]}`);
  // The session itself is still valid, just no longer elevated.
  gate.origin.clear();
  assert.equal((await gate.fetch("/app", { cookie })).status, 200);
  assert.equal(identity(gate.origin.last()).elevatedUntil, undefined);
  const p = await assertion(gate.origin.last());
  assert.equal(p.elev, undefined);
  // Elevating again works (a fresh step-up).
  const again = await command(gate, cookie, { action: "elevate" });
  assert.ok(again.cookie);
  assert.equal((await gate.fetch("/payments/1", { cookie: again.cookie })).status, 200);
});

test("a regeneration (password_change) of an elevated session does not extend the elevation", async () => {
  // Its own gate with a 30 s elevation: the regenerated session must still be elevated
  // when it is checked, however slow the machine, so the check has one right answer.
  const g = await startGate({ vars: { SENSITIVE_PATHS: SENSITIVE, ELEVATED_TIMEOUT: "30s" } });
  try {
    const login = await g.login("elev-regen");
    const { cookie } = await command(g, login, { action: "elevate" });
    g.origin.clear();
    await (await g.fetch("/payments/1", { cookie })).arrayBuffer();
    const until = Number(identity(g.origin.last()).elevatedUntil);
    // A later second: an elevation that slid or restarted would now end later.
    await nextSecond();
    const r = await command(g, cookie, { action: "regenerate", reason: "password_change" });
    assert.ok(r.cookie);
    g.origin.clear();
    const sent = nowSec();
    const res = await g.fetch("/payments/1", { cookie: r.cookie });
    assert.ok(sent < until, `checked at ${sent}, after the elevation's end ${until}: the machine took over 30 s`);
    assert.equal(res.status, 200, "the elevation carries over to the new ID");
    await res.arrayBuffer();
    assert.equal(Number(identity(g.origin.last()).elevatedUntil), until, "and does not slide");
  } finally {
    await g.dispose();
  }
});

test("elevation never outlives the absolute timeout", async () => {
  const g = await startGate({ vars: { SENSITIVE_PATHS: SENSITIVE, ELEVATED_TIMEOUT: "15m", ABSOLUTE_TIMEOUT: "4s", IDLE_TIMEOUT: "1h" } });
  try {
    const login = await g.login("elev-abs");
    const st0 = await body(await g.fetch("/.sessiongate/status", { cookie: login }));
    const absoluteAt = st0.absolute_expires_at;
    assert.ok(absoluteAt <= nowSec() + 4);
    const { cookie, status } = await command(g, login, { action: "elevate" });
    assert.equal(status, 200);
    g.origin.clear();
    assert.equal((await g.fetch("/payments/1", { cookie })).status, 200);
    const rec = g.origin.last();
    const until = Number(identity(rec).elevatedUntil);
    assert.ok(until <= absoluteAt, `elevated until ${until} > absolute expiry ${absoluteAt}`);
    assert.ok((await assertion(rec)).elev <= absoluteAt);
    const st = await body(await g.fetch("/.sessiongate/status", { cookie }));
    assert.equal(st.absolute_expires_at, absoluteAt, "elevation does not extend the session either");
    assert.ok(st.elevated_until <= absoluteAt);
    // Past the absolute timeout the session is gone: 401, not a 403 step-up and not 200.
    await pastSecond(absoluteAt);
    g.origin.clear();
    await expect401(await g.fetch("/payments/1", { cookie, headers: { accept: "application/json" } }), "absolute_timeout");
    assert.equal(g.origin.requests.length, 0);
  } finally {
    await g.dispose();
  }
});

// Sensitive patterns fail open: a spelling of a sensitive path that the origin serves as
// the same route but the gate does not match reaches the origin without step-up.
async function stepUpRequired(cookie, method, p) {
  gate.origin.clear();
  const res = await gate.fetch(p, { method, cookie, headers: { accept: "application/json" } });
  const b = await body(res);
  return { ok: res.status === 403 && b?.error === "reauthentication_required", got: `${res.status} ${JSON.stringify(b).slice(0, 60)} origin saw ${gate.origin.last()?.path ?? "nothing"}` };
}

test("step-up cannot be bypassed with a trailing slash (Express, and most routers, serve /x/ as /x)", async () => {
  const cookie = await gate.login("step-bypass");
  const failures = [];
  for (const [method, p] of [["POST", "/account/password/"], ["POST", "/account/password%2F"], ["POST", "/account/password/."], ["POST", "/account/password//"]]) {
    const r = await stepUpRequired(cookie, method, p);
    if (!r.ok) failures.push(`${method} ${p} -> ${r.got}`);
  }
  assert.deepEqual(failures, [], "non-elevated session reached a sensitive route");
});

test("step-up cannot be bypassed with ;path parameters (Tomcat / Jetty / Spring strip them)", async () => {
  const cookie = await gate.login("step-bypass2");
  const failures = [];
  for (const [method, p] of [["POST", "/account/password;x=1"], ["GET", "/payments;a=1/1"], ["POST", "/account;x/password"]]) {
    const r = await stepUpRequired(cookie, method, p);
    if (!r.ok) failures.push(`${method} ${p} -> ${r.got}`);
  }
  assert.deepEqual(failures, [], "non-elevated session reached a sensitive route");
});

test("step-up for origins that match paths case-insensitively or trim trailing dots/spaces (IIS, ASP.NET)", async () => {
  const cookie = await gate.login("step-bypass3");
  const failures = [];
  for (const [method, p] of [["POST", "/Account/Password"], ["GET", "/PAYMENTS/1"], ["POST", "/account/password."], ["POST", "/account/password%20"]]) {
    const r = await stepUpRequired(cookie, method, p);
    if (!r.ok) failures.push(`${method} ${p} -> ${r.got}`);
  }
  assert.deepEqual(failures, []);
});
