// Idle and absolute timeouts enforced together, sliding, alarms and restarts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { startGate, startOrigin, gateOptions, rawFetch, sessionCookie, isCleared, tmpdir, sleep, SECRETS } from "./harness.mjs";

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

test("idle timeout slides with activity and ends an idle session", async () => {
  const gate = await startGate({ vars: { IDLE_TIMEOUT: "3s" } });
  try {
    const active = await gate.login("ann");
    const idle = await gate.login("ben");
    for (let i = 0; i < 5; i++) {
      await sleep(1000);
      assert.equal(await reason(gate, active), "valid", `active session alive after ${i + 1}s`);
    }
    assert.equal(await reason(gate, idle), "idle_timeout", "untouched for 5 s > 3 s");
    await sleep(3500);
    assert.equal(await reason(gate, active), "idle_timeout");
  } finally {
    await gate.dispose();
  }
});

test("the absolute timeout ends a session however active it is", async () => {
  const gate = await startGate({ vars: { IDLE_TIMEOUT: "30s", ABSOLUTE_TIMEOUT: "3s" } });
  try {
    const cookie = await gate.login("cat");
    const started = Date.now();
    let last = "valid";
    while (Date.now() - started < 5000 && last === "valid") {
      last = await reason(gate, cookie);
      await sleep(250);
    }
    assert.equal(last, "absolute_timeout");
    const lived = Date.now() - started;
    assert.ok(lived >= 2000 && lived <= 4500, `ended after ${lived} ms`);
  } finally {
    await gate.dispose();
  }
});

test("an alarm deletes the expired session and writes its timeout event even if the user never returns", async () => {
  const gate = await startGate({ vars: { IDLE_TIMEOUT: "2s" } });
  try {
    const cookie = await gate.login("dan");
    await sleep(4000);
    const res = await gate.fetch("/.sessiongate/admin/users/dan/audit?limit=10", { headers: admin });
    assert.equal(res.status, 200);
    const { events } = await res.json();
    const timeout = events.find((e) => e.event === "idle_timeout");
    assert.ok(timeout, `idle_timeout written by the alarm: ${JSON.stringify(events)}`);
    assert.equal(timeout.user, "dan");
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
  const vars = { IDLE_TIMEOUT: "6s", ABSOLUTE_TIMEOUT: "1h" };
  let gate = await startGate({ origin, persist, vars });
  const live = await gate.login("eve");
  const doomed = await gate.login("fay");
  const revoked = await gate.login("gil");
  await (await gate.fetch("/app", { cookie: revoked, command: { action: "logout" } })).arrayBuffer();
  for (let i = 0; i < 7; i++) {
    await sleep(1000);
    assert.equal(await reason(gate, live), "valid");
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
