// WebSockets through the gate (issue 14): the handshake is validated like any request,
// cross-site handshakes with the cookie are refused, the origin's handshake carries the
// identity and the assertion, frames and closes pass both ways unchanged, and a socket
// closes (4401 toward the client, 1001 toward the origin) within 2 s of its session's
// end, whatever ended it. Real workerd, real DO storage, a real `ws` origin on loopback.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startGate, identity, tmpdir, COOKIE } from "./harness.mjs";
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

  test("with REQUIRE_HTTPS=true a plain ws:// handshake gets the 308 to https and nothing reaches the origin", async () => {
    const g = await startGate({ origin, vars: { REQUIRE_HTTPS: "true" } });
    try {
      origin.handshakes.length = 0;
      const r = await connect(g, "/live/chat?x=1");
      assert.equal(r.status, 308);
      assert.equal(r.headers.location, `https://${new URL(g.base).host}/live/chat?x=1`);
      assert.equal(origin.handshakes.length, 0);
    } finally {
      await g.dispose();
    }
  });

  test("the 101 carries the gate's cookie change (a token re-signed under the current key) and X-Session-Expires-In", async () => {
    const persist = tmpdir();
    const oldKey = "old-session-secret-0123456789abcdef-01234";
    let g = await startGate({ origin, persist, vars: { SESSION_SECRET: oldKey } });
    const cookie = await g.login("ws-rotated");
    await g.dispose();
    g = await startGate({ origin, persist, vars: { SESSION_SECRET_PREVIOUS: oldKey } });
    try {
      const c = await open(g, "/live/rotated", { cookie });
      const sc = [c.headers["set-cookie"]].flat().filter(Boolean);
      assert.equal(sc.length, 1, JSON.stringify(c.headers));
      assert.ok(sc[0].startsWith(`${COOKIE}=`) && sc[0].split(";")[0] !== cookie, "re-signed under the current key");
      assert.match(sc[0], /HttpOnly/);
      assert.match(c.headers["x-session-expires-in"], /^\d+$/);
      c.ws.close();
      await c.closed;
      // The new cookie is the same session: it opens a socket too.
      const again = await open(g, "/live/rotated", { cookie: sc[0].split(";")[0] });
      again.ws.close();
      await again.closed;
    } finally {
      await g.dispose();
    }
  });

  test("a public path needs no session: the socket is relayed with no identity", async () => {
    origin.handshakes.length = 0;
    const c = await open(gate, "/public/feed");
    const h = origin.handshakes[0];
    assert.equal(h.headers["x-session-user"], undefined);
    assert.equal(h.headers["x-session-id"], undefined);
    assert.ok(h.headers["x-session-assertion"], "an assertion without identity, as for any public request");
    c.ws.close(1000, "done");
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
  });

  test("a guest's socket on a public path closes (revoked) when a login takes the guest session over; the user's new socket opens", async () => {
    const { cookie: guest } = await command(gate, undefined, { action: "set_data", data: { cart: { tea: 1 } } }, { path: "/public/cart" });
    assert.ok(guest, "a guest session");
    const c = await open(gate, "/public/feed", { cookie: guest });
    await mark(c, "guest_login");
    let user;
    await expectEnded(
      c,
      "revoked",
      async () => {
        const r = await command(gate, guest, { action: "login", user: "ws-guest", roles: ["user"] }, { path: "/login" });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        user = r.cookie;
      },
      "guest_login_takeover",
    );
    const again = await open(gate, "/public/feed", { cookie: user });
    again.ws.close();
    await again.closed;
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

describe("the session ends: its sockets close with 4401 within 2 s", () => {
  test("logout (the origin's command on another request of the session); audit connection_closed with reason and handle", async () => {
    const cookie = await gate.login("ws-end-logout");
    const handle = await handleOf(gate, cookie);
    const c = await open(gate, "/live/a", { cookie });
    await mark(c, "logout");
    await expectEnded(c, "revoked", () => command(gate, cookie, { action: "logout" }), "logout");
    const events = await until(
      async () => (await auditEvents(gate, "ws-end-logout")).filter((e) => e.event === "connection_closed"),
      3000,
      "connection_closed",
    );
    assert.equal(events.length, 1);
    assert.equal(events[0].session, handle);
    assert.equal(events[0].reason, "revoked");
    assert.equal(events[0].user, "ws-end-logout");
  });

  test("logout through the gate's own endpoint", async () => {
    const cookie = await gate.login("ws-end-logout-api");
    const c = await open(gate, "/live/a", { cookie });
    await mark(c, "logout_endpoint");
    await expectEnded(c, "revoked", async () => (await gate.fetch("/.sessiongate/logout", { method: "POST", cookie })).arrayBuffer(), "logout_endpoint");
  });

  test("logout_all closes every socket of every session of the user", async () => {
    const a = await gate.login("ws-end-all");
    const b = await gate.login("ws-end-all");
    const ca = await open(gate, "/live/a", { cookie: a });
    const cb = await open(gate, "/live/b", { cookie: b });
    await mark(ca, "logout_all");
    const t0 = performance.now();
    await expectEnded(ca, "revoked", () => command(gate, b, { action: "logout_all" }), "logout_all");
    const closedB = await within(cb.closed, CLOSE_WITHIN_MS + 3000, "b closes");
    assert.equal(closedB.code, 4401);
    assert.ok(closedB.at - t0 <= CLOSE_WITHIN_MS);
  });

  test("logout_others closes the other sessions' sockets, not the caller's (which is regenerated)", async () => {
    const a = await gate.login("ws-end-others");
    const b = await gate.login("ws-end-others");
    const ca = await open(gate, "/live/a", { cookie: a });
    const cb = await open(gate, "/live/b", { cookie: b });
    await mark(ca, "logout_others");
    await expectEnded(ca, "revoked", () => command(gate, b, { action: "logout_others" }), "logout_others");
    cb.ws.send("still-here");
    assert.equal((await cb.next()).text, "still-here", "the caller's socket stays open");
    assert.equal(cb.ws.readyState, 1);
    cb.ws.close();
    await cb.closed;
  });

  test("a user revokes another of their sessions from the session list", async () => {
    const a = await gate.login("ws-end-user");
    const b = await gate.login("ws-end-user");
    const ha = await handleOf(gate, a);
    const ca = await open(gate, "/live/a", { cookie: a });
    await mark(ca, "user_revoke");
    await expectEnded(
      ca,
      "revoked",
      async () => {
        const r = await gate.fetch(`/.sessiongate/sessions/${ha}`, { method: "DELETE", cookie: b });
        assert.equal(r.status, 200, await r.text());
      },
      "user_revoke",
    );
  });

  test("an administrator revokes the session", async () => {
    const a = await gate.login("ws-end-admin");
    const ha = await handleOf(gate, a);
    const ca = await open(gate, "/live/a", { cookie: a });
    await mark(ca, "admin_revoke");
    await expectEnded(
      ca,
      "revoked",
      async () => {
        const r = await gate.fetch(`/.sessiongate/admin/users/ws-end-admin/sessions/${ha}`, { method: "DELETE", headers: admin });
        assert.equal(r.status, 200, await r.text());
      },
      "admin_revoke",
    );
  });

  test("a regeneration (password change, elevation, a new login over the session) keeps the socket open; the moved session's end still closes it", async () => {
    const cookie = await gate.login("ws-regen");
    const c = await open(gate, "/live/a", { cookie });
    const r1 = await command(gate, cookie, { action: "regenerate", reason: "password_change" });
    assert.equal(r1.status, 200);
    const r2 = await command(gate, r1.cookie, { action: "elevate" });
    assert.equal(r2.status, 200);
    const r3 = await command(gate, r2.cookie, { action: "login", user: "ws-regen", roles: ["user"] });
    assert.equal(r3.status, 200);
    assert.ok(r3.cookie && r3.cookie !== r2.cookie);
    c.ws.send("after-regenerations");
    assert.equal((await c.next()).text, "after-regenerations", "still open after three regenerations");
    assert.equal(c.ws.readyState, 1);
    await mark(c, "after_login_over");
    await expectEnded(c, "revoked", () => command(gate, r3.cookie, { action: "logout" }), "logout_after_regenerations");
  });

  test("a session limit eviction closes the evicted session's sockets only", async () => {
    const g = await startGate({ origin, vars: { MAX_SESSIONS_PER_USER: "2" } });
    try {
      const a = await g.login("ws-limit");
      const b = await g.login("ws-limit");
      const ca = await open(g, "/live/a", { cookie: a });
      const cb = await open(g, "/live/b", { cookie: b });
      const t0 = performance.now();
      await g.login("ws-limit");
      const first = await within(Promise.race([ca.closed.then((x) => ["a", x]), cb.closed.then((x) => ["b", x])]), CLOSE_WITHIN_MS + 3000, "eviction closes");
      const [which, closed] = first;
      latencies.session_limit = Math.round(closed.at - t0);
      assert.deepEqual({ code: closed.code, reason: closed.reason }, { code: 4401, reason: "session_ended:revoked" });
      assert.ok(closed.at - t0 <= CLOSE_WITHIN_MS);
      const survivor = which === "a" ? cb : ca;
      survivor.ws.send("alive");
      assert.equal((await survivor.next()).text, "alive", "the other session's socket stays open");
      assert.equal((await adminSessionsOf(g, "ws-limit")).length, 2);
      survivor.ws.close();
      await survivor.closed;
    } finally {
      await g.dispose();
    }
  });

  test("fifty sockets over ten sessions: ending one session closes exactly its five sockets", async () => {
    const sessions = [];
    for (let i = 0; i < 10; i++) sessions.push(await gate.login(`ws-fifty-${i % 5}`)); // two sessions per user object
    const sockets = [];
    for (let s = 0; s < 10; s++) {
      for (let k = 0; k < 5; k++) sockets.push({ s, c: await open(gate, `/live/s${s}/k${k}`, { cookie: sessions[s] }) });
    }
    assert.equal(sockets.length, 50);
    const target = 7; // shares its object with session 2
    const t0 = performance.now();
    await command(gate, sessions[target], { action: "logout" });
    const mine = sockets.filter((x) => x.s === target);
    const closes = await within(Promise.all(mine.map((x) => x.c.closed)), CLOSE_WITHIN_MS + 3000, "the five close");
    latencies.fifty_sockets_slowest = Math.round(Math.max(...closes.map((c) => c.at)) - t0);
    for (const c of closes) assert.deepEqual({ code: c.code, reason: c.reason }, { code: 4401, reason: "session_ended:revoked" });
    assert.ok(latencies.fifty_sockets_slowest <= CLOSE_WITHIN_MS, `slowest ${latencies.fifty_sockets_slowest} ms`);
    const others = sockets.filter((x) => x.s !== target);
    await Promise.all(
      others.map(async (x, i) => {
        x.c.ws.send("alive-" + i);
        assert.equal((await x.c.next()).text, "alive-" + i);
      }),
    );
    assert.ok(others.every((x) => x.c.ws.readyState === 1), "no other socket closed");
    for (const x of others) x.c.ws.close();
    await Promise.all(others.map((x) => x.c.closed));
  });
});

async function adminSessionsOf(g, user) {
  const r = await g.fetch(`/.sessiongate/admin/users/${user}/sessions`, { headers: admin });
  return (await r.json()).sessions;
}

describe("timeouts, binding and activity", () => {
  const IDLE_S = 4;
  let g;
  before(async () => {
    g = await startGate({ origin, vars: { IDLE_TIMEOUT: `${IDLE_S}s`, ABSOLUTE_TIMEOUT: "9s", BIND_IP: "reject", IDLE_EXEMPT_PATHS: "/live/poll/*" } });
  });
  after(async () => g?.dispose());

  test("idle timeout: an open socket with no client messages does not keep the session alive, even while the origin talks", async () => {
    const cookie = await g.login("ws-idle");
    const c = await connect(g, "/live/idle", { cookie });
    const opened = performance.now();
    assert.ok(c.ws);
    c.ws.send(`tick:300`); // the origin talks every 300 ms from now on: not activity
    const closed = await within(c.closed, IDLE_S * 1000 + 5000, "idle close");
    assert.deepEqual({ code: closed.code, reason: closed.reason }, { code: 4401, reason: "session_ended:idle_timeout" });
    // The end is the last activity (this message, at most one slide interval after the
    // handshake) plus IDLE_TIMEOUT, in whole seconds.
    const late = Math.round(closed.at - (opened + IDLE_S * 1000));
    latencies.idle_timeout = late;
    assert.ok(late <= CLOSE_WITHIN_MS, `closed ${late} ms after the idle end`);
    assert.ok(closed.at - opened >= (IDLE_S - 1) * 1000, "not before the session's end");
    const r = await connect(g, "/live/idle", { cookie });
    assert.deepEqual({ status: r.status, body: r.body }, { status: 401, body: { error: "unauthenticated", reason: "idle_timeout" } }, "an expired session's handshake is refused");
  });

  test("client messages count as activity (the session outlives IDLE_TIMEOUT), with at most one store request per slide interval; absolute timeout closes it", async () => {
    const cookie = await g.login("ws-absolute");
    const loggedIn = performance.now();
    const c = await connect(g, "/live/busy", { cookie });
    assert.ok(c.ws);
    const stats = async () => (await (await g.fetch("/.sessiongate/admin/users/ws-absolute/stats", { headers: admin })).json());
    const before = await stats();
    let sent = 0;
    const timer = setInterval(() => {
      if (c.ws.readyState === 1) {
        for (let i = 0; i < 20; i++) c.ws.send("m" + sent++);
      }
    }, 100);
    const closed = await within(c.closed, 15000, "absolute close");
    clearInterval(timer);
    const lived = closed.at - loggedIn;
    assert.deepEqual({ code: closed.code, reason: closed.reason }, { code: 4401, reason: "session_ended:absolute_timeout" });
    assert.ok(lived > (IDLE_S + 1) * 1000, `client messages kept it past the idle timeout (lived ${Math.round(lived)} ms)`);
    latencies.absolute_timeout = Math.round(lived - 9000);
    assert.ok(lived - 9000 <= CLOSE_WITHIN_MS, `closed ${Math.round(lived - 9000)} ms after the absolute end`);
    const after = await stats();
    const requests = after.requests - before.requests;
    const seconds = lived / 1000;
    assert.ok(sent > 500, `sent ${sent}`);
    // Slide interval = 1 s here: one activity report a second at most (plus slack for timing).
    assert.ok(requests <= Math.ceil(seconds) + 1, `${requests} store requests for ${sent} messages over ${seconds.toFixed(1)} s`);
    console.log(`activity: ${sent} messages, ${requests} store requests, ${after.rows_written - before.rows_written} rows written, ${seconds.toFixed(1)} s`);
    // rows_written counts SQLite rows with their index entries: one session write is 2
    // (the row and its expires_at index entry), as bench/run.mjs calibrates.
    assert.ok(after.rows_written - before.rows_written <= 2 * (Math.ceil(seconds) + 1), "at most one session write per slide interval");
  });

  test("on IDLE_EXEMPT_PATHS, neither the handshake nor the client's messages slide the idle timer", async () => {
    const cookie = await g.login("ws-exempt");
    const c = await connect(g, "/live/poll/notifications", { cookie });
    const opened = performance.now();
    assert.ok(c.ws);
    let sent = 0;
    const timer = setInterval(() => c.ws.readyState === 1 && c.ws.send("poll" + sent++), 100);
    const closed = await within(c.closed, IDLE_S * 1000 + 5000, "exempt idle close");
    clearInterval(timer);
    assert.deepEqual({ code: closed.code, reason: closed.reason }, { code: 4401, reason: "session_ended:idle_timeout" });
    assert.ok(sent > 20, `the client kept talking (${sent} messages)`);
    assert.ok(closed.at - opened <= (IDLE_S + 1) * 1000 + CLOSE_WITHIN_MS, `closed ${Math.round(closed.at - opened)} ms after the handshake`);
  });

  test("binding rejection (BIND_IP=reject): a request from another network ends the session and closes its socket", async () => {
    const ip = "198.51.100.7";
    const cookie = await g.login("ws-binding", { ip });
    const c = await open(g, "/live/b", { cookie, headers: { "cf-connecting-ip": ip } });
    await mark(c, "binding");
    await expectEnded(
      c,
      "binding_mismatch",
      async () => {
        const r = await g.fetch("/app", { cookie, ip: "203.0.113.99", headers: { accept: "application/json" } });
        assert.equal(r.status, 401);
        await r.arrayBuffer();
      },
      "binding_rejection",
    );
  });
});
