// What counts as activity on requests (issue 14): IDLE_EXEMPT_PATHS are validated and
// refused like any other path, but do not slide the idle timer, so background polling
// does not keep an abandoned session alive.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGate } from "./harness.mjs";
import { body } from "./session-helpers.mjs";

const IDLE_S = 4;
let gate;
before(async () => {
  gate = await startGate({ vars: { IDLE_TIMEOUT: `${IDLE_S}s`, IDLE_EXEMPT_PATHS: "/api/notifications,POST /api/poll" } });
});
after(async () => gate?.dispose());

/** Polls `path` every 250 ms until a non-200 or `ms` pass; the answers' times. */
async function poll(path, cookie, ms, method = "GET") {
  const t0 = performance.now();
  for (;;) {
    const res = await gate.fetch(path, { method, cookie, headers: { accept: "application/json" } });
    const b = await body(res);
    const at = performance.now() - t0;
    if (res.status !== 200) return { status: res.status, body: b, at };
    if (at > ms) return { status: 200, at };
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("polling an exempt path does not stop the idle timeout: 401 idle_timeout after IDLE_TIMEOUT, the origin saw the polls", async () => {
  const cookie = await gate.login("exempt-poller");
  gate.origin.clear();
  const r = await poll("/api/notifications", cookie, (IDLE_S + 4) * 1000);
  assert.deepEqual({ status: r.status, body: r.body }, { status: 401, body: { error: "unauthenticated", reason: "idle_timeout" } });
  // Whole seconds: the session ends between IDLE-1 and IDLE (+ the poll period) after login.
  assert.ok(r.at >= (IDLE_S - 1) * 1000 && r.at <= (IDLE_S + 1) * 1000, `ended after ${Math.round(r.at)} ms`);
  assert.ok(gate.origin.requests.length >= 8, "the polls were forwarded while the session lived");
  assert.ok(gate.origin.requests.every((q) => q.headers["x-session-user"] === "exempt-poller"), "with the identity");
});

test("method-scoped: POST to the exempt pattern does not slide, GET there does; other paths slide", async () => {
  const a = await gate.login("exempt-post");
  let r = await poll("/api/poll", a, (IDLE_S + 4) * 1000, "POST");
  assert.deepEqual({ status: r.status, body: r.body }, { status: 401, body: { error: "unauthenticated", reason: "idle_timeout" } });
  for (const path of ["/api/poll", "/api/notifications/1", "/app"]) {
    const c = await gate.login("exempt-other");
    r = await poll(path, c, (IDLE_S + 2) * 1000);
    assert.equal(r.status, 200, `${path} counts as activity: still valid after ${Math.round(r.at)} ms (${JSON.stringify(r.body)})`);
  }
});

test("an exempt path is still refused without a session", async () => {
  const res = await gate.fetch("/api/notifications", { headers: { accept: "application/json" } });
  assert.equal(res.status, 401);
  assert.deepEqual(await body(res), { error: "unauthenticated", reason: "missing" });
});

for (const bad of ["api/notifications", "GET /api/*x", "G3T /api"]) {
  test(`IDLE_EXEMPT_PATHS=${JSON.stringify(bad)}: 500 config naming the variable, nothing forwarded`, async () => {
    const g = await startGate({ vars: { IDLE_EXEMPT_PATHS: bad } });
    try {
      const res = await g.fetch("/public/x");
      const b = await body(res);
      assert.equal(res.status, 500, JSON.stringify(b));
      assert.equal(b.error, "config");
      assert.ok(b.detail.startsWith("IDLE_EXEMPT_PATHS: "), b.detail);
      assert.equal(g.origin.requests.length, 0);
    } finally {
      await g.dispose();
    }
  });
}
