// WebSockets through the gate (issue 14): the handshake is validated like any request,
// cross-site handshakes with the cookie are refused, the origin's handshake carries the
// identity and the assertion, frames and closes pass both ways unchanged, and a socket
// closes (4401 toward the client, 1001 toward the origin) within 2 s of its session's
// end, whatever ended it. Real workerd, real DO storage, a real `ws` origin on loopback.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startGate, identity } from "./harness.mjs";
import { assertion, command, auditEvents, adminSessions, handleOf } from "./session-helpers.mjs";
import { startWsOrigin, connect, within, until } from "./live-helpers.mjs";
import { SECRETS } from "./harness.mjs";

const SENSITIVE = "/live/admin/*";
/** The bound: a socket closes within 2 s of its session's end. */
const CLOSE_WITHIN_MS = 2000;
/** Measured close latencies, printed at the end for the report. */
const latencies = {};

let origin;
let gate;
before(async () => {
  origin = await startWsOrigin();
  gate = await startGate({
    origin,
    vars: { SENSITIVE_PATHS: SENSITIVE, ALLOWED_ORIGINS: "https://partner.example", ELEVATED_TIMEOUT: "10m" },
  });
});
after(async () => {
  await gate?.dispose();
  await origin?.close();
  console.log(`close latencies (ms): ${JSON.stringify(latencies)}`);
});

const admin = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };

/** Opens a socket and checks it is open (one echo round trip). */
async function open(g, path, opts) {
  const c = await connect(g, path, opts);
  assert.ok(c.ws, `handshake refused: ${JSON.stringify(c)}`);
  c.ws.send("ping-" + path);
  assert.equal((await c.next()).text, "ping-" + path);
  return c;
}

/** Ends a session with `end()` and checks `c` closes with 4401 session_ended:<reason> in time, the origin's side with 1001. */
async function expectEnded(c, reason, end, name) {
  const originSide = origin.sockets.find((s) => s.ws.readyState <= 1 && s.received.some((m) => m.data.toString() === "mark-" + name));
  const t0 = performance.now();
  await end();
  const closed = await within(c.closed, CLOSE_WITHIN_MS + 3000, `${name}: close`);
  const ms = Math.round(closed.at - t0);
  latencies[name] = ms;
  assert.deepEqual({ code: closed.code, reason: closed.reason }, { code: 4401, reason: `session_ended:${reason}` }, name);
  assert.ok(ms <= CLOSE_WITHIN_MS, `${name}: closed after ${ms} ms`);
  if (originSide) {
    const o = await until(() => originSide.closed, 3000, `${name}: origin side closed`);
    assert.equal(o.code, 1001, `${name}: the origin's side is told 1001`);
  }
}

/** Marks the origin's side of `c` so `expectEnded` can find it. */
async function mark(c, name) {
  c.ws.send("mark-" + name);
  assert.equal((await c.next()).text, "mark-" + name);
}

describe("handshake", () => {
  test("a session's handshake reaches the origin with identity and assertion; the client gets the origin's 101 and subprotocol", async () => {
    const cookie = await gate.login("ws-alice", { roles: ["user", "chat"] });
    const handle = await handleOf(gate, cookie);
    origin.handshakes.length = 0;
    const c = await connect(gate, "/live/chat?room=1", { cookie, protocols: ["chat.v2", "chat.v1"] });
    assert.ok(c.ws, JSON.stringify(c));
    assert.equal(c.protocol, "chat.v2", "the origin's chosen subprotocol reaches the client");
    assert.equal(origin.handshakes.length, 1);
    const h = origin.handshakes[0];
    assert.equal(h.path, "/live/chat?room=1");
    assert.deepEqual(h.headers["sec-websocket-protocol"].split(",").map((p) => p.trim()), ["chat.v2", "chat.v1"]);
    const id = identity(h);
    assert.equal(id.user, "ws-alice");
    assert.equal(id.roles, "user,chat");
    assert.equal(id.id, handle);
    assert.equal(h.headers.cookie, undefined, "the gate's cookie never reaches the origin");
    const claims = await assertion(h);
    assert.equal(claims.htm, "GET");
    assert.equal(claims.htu, `${origin.url}/live/chat?room=1`);
    assert.equal(claims.sub, "ws-alice");
    assert.equal(claims.sid, handle);
    c.ws.close();
    await c.closed;
  });

  test("frames pass both ways unchanged: text, unicode, binary of 1 MiB and more", async () => {
    const cookie = await gate.login("ws-frames");
    const c = await open(gate, "/live/echo", { cookie });
    for (const text of ["hello", "héllo wörld ✓ 日本語 🎉", "", "x".repeat(70000)]) {
      c.ws.send(text);
      const m = await c.next();
      assert.equal(m.isBinary, false);
      assert.equal(m.text, text);
    }
    for (const size of [1, 1 << 20, (1 << 20) + 12345]) {
      const bytes = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
      c.ws.send(bytes);
      const m = await c.next();
      assert.equal(m.isBinary, true, `binary ${size}`);
      assert.ok(Buffer.from(m.data).equals(bytes), `binary ${size} unchanged`);
    }
    const o = origin.sockets.at(-1);
    assert.ok(o.received.some((r) => r.isBinary && r.data.length === (1 << 20) + 12345), "the origin got the binary frame as binary");
    c.ws.close();
    await c.closed;
  });

  test("a close from the client reaches the origin with its code and reason, and the other way", async () => {
    const cookie = await gate.login("ws-close");
    let c = await open(gate, "/live/a", { cookie });
    const o = origin.sockets.at(-1);
    c.ws.close(4000, "client bye");
    await c.closed;
    const seen = await until(() => o.closed, 3000, "origin sees the close");
    assert.deepEqual({ code: seen.code, reason: seen.reason }, { code: 4000, reason: "client bye" });

    c = await open(gate, "/live/b", { cookie });
    c.ws.send("close:4002:origin bye");
    const got = await within(c.closed, 3000, "client sees the close");
    assert.deepEqual({ code: got.code, reason: got.reason }, { code: 4002, reason: "origin bye" });
  });

  test("refused handshakes never reach the origin: no session, ended session, cross-site Origin, sensitive path without step-up", async () => {
    const cookie = await gate.login("ws-refused");
    origin.handshakes.length = 0;
    let r = await connect(gate, "/live/chat");
    assert.deepEqual({ status: r.status, body: r.body }, { status: 401, body: { error: "unauthenticated", reason: "missing" } });

    r = await connect(gate, "/live/chat", { cookie, origin: "https://evil.example" });
    assert.deepEqual({ status: r.status, body: r.body }, { status: 403, body: { error: "cross_site_request" } });
    r = await connect(gate, "/live/chat", { cookie, origin: "https://sub.127.0.0.1.example" });
    assert.deepEqual({ status: r.status, body: r.body }, { status: 403, body: { error: "cross_site_request" } });

    r = await connect(gate, "/live/admin/feed", { cookie, origin: gate.base });
    assert.deepEqual({ status: r.status, body: r.body }, { status: 403, body: { error: "reauthentication_required" } });
    assert.equal(origin.handshakes.length, 0, "nothing reached the origin");

    // Allowed: the gate's own Origin, an ALLOWED_ORIGINS one, and none (not a browser).
    for (const o of [gate.base, "https://partner.example", undefined]) {
      const c = await open(gate, "/live/chat", { cookie, origin: o });
      c.ws.close();
      await c.closed;
    }
    assert.equal(origin.handshakes.length, 3);

    // A cross-site handshake without the cookie is no hijacking: it is an anonymous one.
    r = await connect(gate, "/live/chat", { origin: "https://evil.example" });
    assert.deepEqual({ status: r.status, body: r.body }, { status: 401, body: { error: "unauthenticated", reason: "missing" } });

    // After logout: 401 revoked.
    await command(gate, cookie, { action: "logout" });
    r = await connect(gate, "/live/chat", { cookie });
    assert.deepEqual({ status: r.status, body: r.body }, { status: 401, body: { error: "unauthenticated", reason: "revoked" } });
    assert.equal(origin.handshakes.length, 3);
  });

  test("an elevated session opens a socket on a sensitive path", async () => {
    const cookie = await gate.login("ws-elevated");
    const { cookie: elevated } = await command(gate, cookie, { action: "elevate" });
    assert.ok(elevated);
    const c = await open(gate, "/live/admin/feed", { cookie: elevated });
    c.ws.close();
    await c.closed;
  });
});
