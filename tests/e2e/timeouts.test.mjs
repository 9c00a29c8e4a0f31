// Idle and absolute timeouts enforced together, sliding, alarms and restarts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { startGate, startOrigin, gateOptions, rawFetch, sessionCookie, isCleared, tmpdir, SECRETS } from "./harness.mjs";
import { clock, sleep, until, pastSecond, bracketed } from "./waiting.mjs";

const json = { accept: "application/json" };
const admin = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };

async function reason(gate, cookie) {
  const res = await gate.fetch("/app", { cookie, headers: json });
  if (res.status === 200) {
    await res.arrayBuffer();
    return "valid";
  }
  return (await res.json()).reason;
}

/** The session's status (reading it never slides the idle timer). */
async function status(gate, cookie) {
  const res = await gate.fetch("/.sessiongate/status", { cookie, headers: json });
  assert.equal(res.status, 200);
  return res.json();
}

// These tests need real seconds to pass (the timeouts are whole seconds), but none bets
// on how fast the machine is: each reads the deadline the gate reports, keeps a session
// alive with requests far more frequent than its idle timeout, and waits for a reported
// deadline to be past before looking (looking earlier would slide the idle timer).

test("idle timeout slides with activity and ends an idle session", async () => {
  const gate = await startGate({ vars: { IDLE_TIMEOUT: "3s" } });
  try {
    const active = await gate.login("ann");
    const idle = await gate.login("ben");
    const idleAt = (await status(gate, idle)).idle_expires_at;
    // `active` gets a request every 300 ms (its 3 s idle timer never comes near) until
    // ben's deadline is 2 s past: by then ann has lived longer than the idle timeout.
    let touches = 0;
    while (clock() < idleAt + 2) {
      assert.equal(await reason(gate, active), "valid", `active session alive after ${++touches} requests`);
      await sleep(300);
    }
    assert.equal(await reason(gate, idle), "idle_timeout", "untouched past its idle deadline");
    // Now left alone, `active` ends at its own reported deadline.
    const activeAt = (await status(gate, active)).idle_expires_at;
    assert.ok(activeAt > idleAt, `active's deadline ${activeAt} slid past ben's ${idleAt}`);
    await pastSecond(activeAt);
    assert.equal(await reason(gate, active), "idle_timeout");
  } finally {
    await gate.dispose();
  }
});

test("the absolute timeout ends a session however active it is", async () => {
  const gate = await startGate({ vars: { IDLE_TIMEOUT: "30s", ABSOLUTE_TIMEOUT: "3s" } });
  try {
    const login = await bracketed(() => gate.login("cat"));
    const cookie = login.value;
    const absAt = (await status(gate, cookie)).absolute_expires_at;
    assert.ok(absAt >= Math.floor(login.before) + 3 && absAt <= Math.floor(login.after) + 3, `absolute expiry ${absAt} is 3 s after the login`);
    // Requests every 250 ms until one is refused. The gate decides inside each bracket:
    // a request accepted must have been sent before the deadline, the refusal must have
    // come back after it, whatever the time each took.
    const refused = await until(async () => {
      const r = await bracketed(() => reason(gate, cookie));
      if (r.value === "valid") {
        assert.ok(r.before < absAt, `accepted at ${r.before.toFixed(2)}, deadline ${absAt}`);
        await sleep(250);
        return null;
      }
      return r;
    }, "the session to end");
    assert.equal(refused.value, "absolute_timeout");
    assert.ok(refused.after >= absAt, `refused at ${refused.after.toFixed(2)}, before the deadline ${absAt}`);
  } finally {
    await gate.dispose();
  }
});

test("an alarm deletes the expired session and writes its timeout event even if the user never returns", async () => {
  const gate = await startGate({ vars: { IDLE_TIMEOUT: "2s" } });
  try {
    const cookie = await gate.login("dan");
    const idleAt = (await status(gate, cookie)).idle_expires_at;
    // Only the admin API is read meanwhile: it never touches the session.
    const timeout = await until(async () => {
      const res = await gate.fetch("/.sessiongate/admin/users/dan/audit?limit=10", { headers: admin });
      assert.equal(res.status, 200);
      return (await res.json()).events.find((e) => e.event === "idle_timeout");
    }, "the alarm's idle_timeout event");
    assert.equal(timeout.user, "dan");
    assert.ok(timeout.time >= idleAt, `written at ${timeout.time}, not before the deadline ${idleAt}`);
    const list = await (await gate.fetch("/.sessiongate/admin/users/dan/sessions", { headers: admin })).json();
    assert.deepEqual(list.sessions, [], "expired session deleted");
    assert.equal(await reason(gate, cookie), "idle_timeout", "the tombstone keeps the reason");
  } finally {
    await gate.dispose();
  }
});

test("with persisted storage, live sessions survive a restart and expired ones stay dead", async () => {
  const persist = tmpdir();
  const origin = await startOrigin();
  // 10 s idle: the restart (a new workerd) must fit in it with room to spare on a loaded machine.
  const vars = { IDLE_TIMEOUT: "10s", ABSOLUTE_TIMEOUT: "1h" };
  let gate = await startGate({ origin, persist, vars });
  const live = await gate.login("eve");
  const doomed = await gate.login("fay");
  const revoked = await gate.login("gil");
  await (await gate.fetch("/app", { cookie: revoked, command: { action: "logout" } })).arrayBuffer();
  const doomedAt = (await status(gate, doomed)).idle_expires_at;
  while (clock() < doomedAt + 0.5) {
    assert.equal(await reason(gate, live), "valid");
    await sleep(500);
  }
  await gate.dispose();
  gate = await startGate({ origin, persist, vars });
  try {
    assert.equal(await reason(gate, live), "valid", "live session survived the restart");
    assert.equal(await reason(gate, doomed), "idle_timeout", "expired session stayed dead");
    assert.equal(await reason(gate, revoked), "revoked", "logged-out session stayed dead");
  } finally {
    await gate.dispose();
    await origin.close();
  }
});

test("REQUIRE_HTTPS=true redirects plain HTTP with 308 before anything else", async () => {
  const gate = await startGate({ vars: { REQUIRE_HTTPS: "true" } });
  try {
    gate.origin.clear();
    const res = await gate.fetch("/app?x=1", { method: "POST" });
    assert.equal(res.status, 308);
    assert.equal(res.headers.get("location"), `${gate.base.replace("http:", "https:")}/app?x=1`);
    assert.equal(gate.origin.requests.length, 0);
    const ok = await gate.fetch("/public/x", { https: true });
    assert.equal(ok.status, 200);
  } finally {
    await gate.dispose();
  }
});

test("a bad configuration value is a 500 naming the variable and the accepted form", async () => {
  const origin = await startOrigin();
  const cases = [
    [{ IDLE_TIMEOUT: "soon" }, "IDLE_TIMEOUT", /30m/],
    [{ COOKIE_SAMESITE: "None" }, "COOKIE_SAMESITE", /Strict or Lax/],
    [{ SESSION_SECRET: "short" }, "SESSION_SECRET", /32 bytes/],
    [{ ORIGIN_SECRET: undefined }, "ORIGIN_SECRET", /32 bytes/],
    [{ BIND_IP: "sometimes" }, "BIND_IP", /off, flag or reject/],
    [{ PUBLIC_PATHS: "login" }, "PUBLIC_PATHS", /\/login/],
  ];
  try {
    for (const [vars, variable, accepted] of cases) {
      const mf = new Miniflare(gateOptions({ vars, originUrl: origin.url }));
      try {
        const base = (await mf.ready).href;
        for (const p of ["/app", "/public/x", "/.sessiongate/status"]) {
          const res = await rawFetch(base.replace(/\/$/, "") + p);
          assert.equal(res.status, 500, `${variable} on ${p}`);
          const body = await res.json();
          assert.equal(body.error, "config");
          assert.ok(body.detail.startsWith(`${variable}:`), body.detail);
          assert.match(body.detail, accepted);
          assert.ok(!body.detail.includes(SECRETS.SESSION_SECRET) && !body.detail.includes("short\""), "no secret echoed");
        }
      } finally {
        await mf.dispose();
      }
    }
    assert.equal(origin.requests.length, 0, "a misconfigured gate forwards nothing");
  } finally {
    await origin.close();
  }
});

test("with SESSION_SECRET_PREVIOUS, sessions survive a key rotation and move to the new key", async () => {
  const origin = await startOrigin();
  const persist = tmpdir();
  const oldKey = "old-session-secret-0123456789abcdef-01234";
  let gate = await startGate({ origin, persist, vars: { SESSION_SECRET: oldKey } });
  const cookie = await gate.login("gus");
  await gate.dispose();
  gate = await startGate({ origin, persist, vars: { SESSION_SECRET_PREVIOUS: oldKey } });
  try {
    const res = await gate.fetch("/app", { cookie });
    assert.equal(res.status, 200, "token under the previous key still validates");
    const renewed = sessionCookie(res);
    assert.ok(renewed && renewed !== cookie, "re-signed under the current key");
    assert.equal(await reason(gate, renewed), "valid");
    assert.equal(await reason(gate, cookie), "valid", "same session: the old-key token works while SESSION_SECRET_PREVIOUS is set");
  } finally {
    await gate.dispose();
  }
  gate = await startGate({ origin, persist, vars: {} });
  try {
    const res = await gate.fetch("/app", { cookie, headers: json });
    assert.deepEqual(await res.json(), { error: "unauthenticated", reason: "invalid" }, "a token under neither key is invalid");
    assert.ok(isCleared(res));
  } finally {
    await gate.dispose();
    await origin.close();
  }
});
