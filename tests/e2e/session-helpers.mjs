// Helpers that drive and inspect sessions through the gate, for the end-to-end tests.
// Not a test file itself (node --test only picks up *.test.mjs here).
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { jwtVerify } from "jose";
import { SECRETS, COOKIE, sessionCookie, isCleared } from "./harness.mjs";

export async function body(res) {
  const t = await res.text();
  try { return JSON.parse(t); } catch { return t; }
}

export const nowSec = () => Math.floor(Date.now() / 1000);

/** Verifies an assertion the origin received; returns its payload. */
export async function assertion(rec) {
  const { payload } = await jwtVerify(rec.headers["x-session-assertion"], new TextEncoder().encode(SECRETS.ORIGIN_SECRET), {
    issuer: "sessiongate", audience: "127.0.0.1", algorithms: ["HS256"],
  });
  return payload;
}

/** Expects a JSON 401 with the given reason (and a cleared cookie). */
export async function expect401(res, reason, msg = "") {
  const b = await body(res);
  assert.equal(res.status, 401, `${msg} expected 401 ${reason}, got ${res.status} ${JSON.stringify(b)}`);
  assert.deepEqual(b, { error: "unauthenticated", reason }, msg);
  assert.ok(isCleared(res), `${msg} a dead cookie is cleared`);
}

/** Sends one origin command on a request; returns {res, cookie (new or null), body}. */
export async function command(gate, cookie, cmd, opts = {}) {
  const res = await gate.fetch(opts.path ?? "/account/action", { method: "POST", cookie, command: cmd, ...opts });
  const b = await body(res);
  return { res, status: res.status, cookie: sessionCookie(res), body: b };
}

/** Admin API: a user's audit events (newest first). */
export async function audit(gate, user, { limit, before } = {}) {
  const q = new URLSearchParams();
  if (limit !== undefined) q.set("limit", String(limit));
  if (before !== undefined && before !== null) q.set("before", String(before));
  const qs = q.toString() ? `?${q}` : "";
  const res = await gate.fetch(`/.sessiongate/admin/users/${encodeURIComponent(user)}/audit${qs}`, {
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` },
  });
  const b = await body(res);
  assert.equal(res.status, 200, `audit ${user}: ${res.status} ${JSON.stringify(b)}`);
  return b;
}

export async function auditEvents(gate, user, limit = 1000) {
  return (await audit(gate, user, { limit })).events;
}

/** Admin API: a user's live sessions. */
export async function adminSessions(gate, user) {
  const res = await gate.fetch(`/.sessiongate/admin/users/${encodeURIComponent(user)}/sessions`, {
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` },
  });
  const b = await body(res);
  assert.equal(res.status, 200, `sessions ${user}: ${res.status} ${JSON.stringify(b)}`);
  return b.sessions;
}

/** The session handle (X-Session-Id) the origin sees for this cookie. */
export async function handleOf(gate, cookie, opts = {}) {
  gate.origin.clear();
  const res = await gate.fetch("/app/whoami", { cookie, ...opts });
  await res.arrayBuffer();
  assert.equal(res.status, 200, "handleOf: session must be valid");
  return gate.origin.last().headers["x-session-id"];
}

export function tokenOf(cookie) {
  return cookie.slice(COOKIE.length + 1);
}

/**
 * Races `n` requests with `oldCookie` against `runCommand` (a function returning a
 * promise that resolves when the command's response has fully arrived). A quarter of the
 * racing requests start the moment the command is sent (in flight while it runs, however
 * long it takes), a quarter once its response has arrived (after it, however long it
 * took), and the rest spread over `spreadMs`, so the race has requests before, during
 * and after the command on a fast machine and on a slow one. Returns the timings and
 * results.
 */
export async function race(gate, oldCookie, runCommand, { n = 30, spreadMs = 300, path = "/app/race", reqOpts = {} } = {}) {
  const t0 = performance.now();
  let cmdDone = Infinity;
  let cmdStart = 0;
  let sent;
  const cmdSent = new Promise((r) => (sent = r));
  const cmd = (async () => {
    await new Promise((r) => setTimeout(r, 20));
    cmdStart = performance.now();
    const out = runCommand();
    sent();
    const result = await out;
    cmdDone = performance.now();
    return result;
  })();
  const racers = [];
  for (let i = 0; i < n; i++) {
    const delay = (spreadMs * i) / (n - 1);
    racers.push((async () => {
      if (i % 4 === 0) await cmdSent;
      else if (i % 4 === 1) await cmd;
      else await new Promise((r) => setTimeout(r, delay));
      const start = performance.now();
      const res = await gate.fetch(path, { cookie: oldCookie, headers: { accept: "application/json" }, ...reqOpts });
      const b = await body(res);
      return { i, start: start - t0, end: performance.now() - t0, status: res.status, body: b, setCookies: res.headers.getSetCookie() };
    })());
  }
  const [cmdResult, results] = await Promise.all([cmd, Promise.all(racers)]);
  return { cmdResult, results, cmdStart: cmdStart - t0, cmdDone: cmdDone - t0 };
}

/** Asserts the race contract: every request that started after the command answered got 401 revoked. */
export function assertRace({ results, cmdDone, cmdStart }, { minAfter = 5 } = {}) {
  const after = results.filter((r) => r.start >= cmdDone);
  const summary = results.map((r) => `${r.start.toFixed(0)}ms:${r.status}`).join(" ");
  assert.ok(after.length >= minAfter, `the race must have requests after the command (cmd ${cmdStart.toFixed(0)}-${cmdDone.toFixed(0)}ms): ${summary}`);
  for (const r of after) {
    assert.equal(r.status, 401, `request started at ${r.start.toFixed(1)}ms, after the command answered at ${cmdDone.toFixed(1)}ms, got ${r.status} ${JSON.stringify(r.body)}; all: ${summary}`);
    assert.deepEqual(r.body, { error: "unauthenticated", reason: "revoked" });
  }
  // No racing request with the old ID may be handed a live cookie.
  for (const r of results) {
    for (const sc of r.setCookies) {
      if (sc.startsWith(COOKIE + "=")) assert.match(sc, /^__Host-session=;.*Max-Age=0/, `racer ${r.i} got a live cookie: ${sc}`);
    }
  }
  return { after: after.length, ok: results.filter((r) => r.status === 200).length };
}

/** What the origin received for `p` through `gate`, asserting that the gate forwarded it
 *  (200, exactly one request at the origin). */
export async function forwardedVia(gate, p, opts = {}) {
  gate.origin.clear();
  const res = await gate.fetch(p, opts);
  const b = await body(res);
  assert.equal(res.status, 200, `${p}: ${res.status} ${JSON.stringify(b)}`);
  assert.equal(gate.origin.requests.length, 1, `${p} reached the origin`);
  return gate.origin.last();
}
