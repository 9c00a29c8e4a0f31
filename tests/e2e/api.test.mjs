// The gate's own endpoints under /.sessiongate/ end to end: built
// Wasm in workerd, SQLite Durable Objects, a recording origin on loopback, real HTTP.
// Nothing under /.sessiongate/ may ever reach the origin.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startGate, sessionCookie, isCleared, SECRETS, COOKIE } from "./harness.mjs";
import { clock, sleep, until, pastSecond, bracketed } from "./waiting.mjs";
import { body } from "./session-helpers.mjs";

const JSON_ACCEPT = { accept: "application/json" };
const ADMIN = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };
const SESSION_FIELDS = ["created_at", "current", "device_bound", "elevated_until", "flagged", "id", "ip", "last_seen_at", "user_agent"];
const STATUS_FIELDS = ["absolute_expires_at", "authenticated", "elevated_until", "idle_expires_at", "session", "user", "warning", "warning_window"];


const now = () => Math.floor(Date.now() / 1000);

/** Every request the origin saw whose path is under the gate's prefix (must stay empty). */
const leaked = (gate) => gate.origin.requests.filter((r) => /^\/+\.sessiongate/i.test(decodeURIComponent(r.path)));

// ---------------------------------------------------------------------------------------
// Default timeouts (30m idle, 24h absolute), ADMIN_TOKEN configured.

describe("signed-in user endpoints and the admin API", () => {
  let gate;
  before(async () => {
    gate = await startGate();
  });
  after(async () => {
    assert.deepEqual(leaked(gate), [], "no /.sessiongate/ request reached the origin");
    await gate?.dispose();
  });

  const status = async (cookie, opts = {}) => {
    const res = await gate.fetch("/.sessiongate/status", { cookie, headers: JSON_ACCEPT, ...opts });
    return { res, body: await body(res) };
  };
  const list = async (cookie, opts = {}) => {
    const res = await gate.fetch("/.sessiongate/sessions", { cookie, headers: JSON_ACCEPT, ...opts });
    return { res, body: await body(res) };
  };
  const handleOf = async (cookie) => (await status(cookie)).body.session;
  const alive = async (cookie) => (await status(cookie)).body.authenticated === true;

  test("GET status: signed in -> every field; no or dead cookie -> authenticated false", async () => {
    const t0 = now();
    const cookie = await gate.login("sam", { roles: ["user"] });
    const { res, body: b } = await status(cookie);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^application\/json/);
    assert.deepEqual(Object.keys(b).sort(), STATUS_FIELDS);
    assert.equal(b.authenticated, true);
    assert.equal(b.user, "sam");
    assert.match(b.session, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(!cookie.includes(b.session), "the handle is not the token");
    assert.ok(b.idle_expires_at >= t0 + 1800 && b.idle_expires_at <= now() + 1800, `idle_expires_at ${b.idle_expires_at}`);
    assert.ok(b.absolute_expires_at >= t0 + 86400 && b.absolute_expires_at <= now() + 86400);
    assert.equal(b.elevated_until, null);
    assert.equal(b.warning, null);
    assert.equal(res.headers.get("x-session-warning"), null);
    assert.equal(sessionCookie(res), null, "status sets no cookie");
    // The handle in status is the one the origin sees as X-Session-Id.
    gate.origin.clear();
    await (await gate.fetch("/app", { cookie })).arrayBuffer();
    assert.equal(gate.origin.last().headers["x-session-id"], b.session);

    const anon = await status(undefined);
    assert.equal(anon.res.status, 200);
    assert.equal(anon.body.authenticated, false);
    assert.deepEqual(Object.keys(anon.body).filter((k) => !["authenticated", "reason"].includes(k)), [], "nothing else leaks");
    assert.equal(anon.res.headers.get("x-session-expires-in"), null);

    const forged = await status(`${COOKIE}=${"A".repeat(130)}`);
    assert.equal(forged.res.status, 200);
    assert.equal(forged.body.authenticated, false);
    assert.ok(isCleared(forged.res), "an invalid cookie is cleared");
  });

  test("POST refresh answers the status of the slid session; without a session 401", async () => {
    const cookie = await gate.login("sam");
    const res = await gate.fetch("/.sessiongate/refresh", { method: "POST", cookie, headers: JSON_ACCEPT });
    assert.equal(res.status, 200);
    const b = await body(res);
    assert.deepEqual(Object.keys(b).sort(), STATUS_FIELDS);
    assert.equal(b.authenticated, true);
    assert.equal(b.user, "sam");
    assert.ok(Number(res.headers.get("x-session-expires-in")) > 1790);
    const none = await gate.fetch("/.sessiongate/refresh", { method: "POST", headers: JSON_ACCEPT });
    assert.equal(none.status, 401);
    assert.deepEqual(await body(none), { error: "unauthenticated", reason: "missing" });
  });

  test("POST logout ends this session only, clears the cookie; the old ID is revoked", async () => {
    const cookie = await gate.login("lou");
    const other = await gate.login("lou");
    const res = await gate.fetch("/.sessiongate/logout", { method: "POST", cookie, headers: JSON_ACCEPT });
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { authenticated: false });
    assert.ok(isCleared(res), "cookie cleared with Max-Age=0");
    const sc = res.headers.getSetCookie().find((c) => c.startsWith(COOKIE + "="));
    assert.match(sc, /; Path=\//);
    assert.match(sc, /; HttpOnly/);
    assert.match(sc, /; Secure/);
    assert.match(sc, /; SameSite=Lax/);
    assert.doesNotMatch(sc, /Domain/i);

    const after = await status(cookie);
    assert.deepEqual(after.body, { authenticated: false, reason: "revoked" });
    const app = await gate.fetch("/app", { cookie, headers: JSON_ACCEPT });
    assert.equal(app.status, 401);
    assert.deepEqual(await body(app), { error: "unauthenticated", reason: "revoked" });
    assert.ok(await alive(other), "the user's other session lives on");
    // Logging out again (or without any session) is harmless.
    const again = await gate.fetch("/.sessiongate/logout", { method: "POST", cookie, headers: JSON_ACCEPT });
    assert.equal(again.status, 200);
    assert.ok(isCleared(again));
  });

  test("GET sessions lists every live session of this user (and only theirs) with exact fields", async () => {
    const t0 = now();
    const a = await gate.login("mia", { ip: "203.0.113.10", ua: "Browser/A" });
    const b = await gate.login("mia", { ip: "198.51.100.20", ua: "Browser/B" });
    const c = await gate.login("mia", { ip: "192.0.2.30", ua: "Browser/C" });
    await gate.login("noa", { ip: "203.0.113.99", ua: "Other/1" });
    const { res, body: out } = await list(a, { ip: "203.0.113.10", ua: "Browser/A" });
    assert.equal(res.status, 200);
    assert.ok(Number(res.headers.get("x-session-expires-in")) > 1790);
    assert.deepEqual(Object.keys(out), ["sessions"]);
    assert.equal(out.sessions.length, 3);
    const byUa = Object.fromEntries(out.sessions.map((s) => [s.user_agent, s]));
    assert.deepEqual(Object.keys(byUa).sort(), ["Browser/A", "Browser/B", "Browser/C"]);
    for (const s of out.sessions) {
      assert.deepEqual(Object.keys(s).sort(), SESSION_FIELDS);
      assert.match(s.id, /^[A-Za-z0-9_-]{22}$/);
      assert.ok(s.created_at >= t0 && s.created_at <= now());
      assert.ok(s.last_seen_at >= s.created_at && s.last_seen_at <= now());
      assert.equal(s.flagged, false);
      assert.equal(s.elevated_until, null);
    }
    assert.equal(byUa["Browser/A"].ip, "203.0.113.10");
    assert.equal(byUa["Browser/B"].ip, "198.51.100.20");
    assert.equal(byUa["Browser/C"].ip, "192.0.2.30");
    assert.deepEqual(out.sessions.filter((s) => s.current).map((s) => s.user_agent), ["Browser/A"], "exactly the caller's is current");
    assert.equal(byUa["Browser/A"].id, await handleOf(a));
    assert.equal(byUa["Browser/B"].id, await handleOf(b));
    assert.equal(byUa["Browser/C"].id, await handleOf(c));
    // Seen from B, B is current.
    const fromB = (await list(b, { ip: "198.51.100.20", ua: "Browser/B" })).body.sessions;
    assert.deepEqual(fromB.filter((s) => s.current).map((s) => s.user_agent), ["Browser/B"]);
    // A change of network flags the session and shows the new address.
    await (await gate.fetch("/app", { cookie: c, ip: "100.64.7.7", ua: "Browser/C" })).arrayBuffer();
    const flagged = (await list(a, { ip: "203.0.113.10", ua: "Browser/A" })).body.sessions.find((s) => s.user_agent === "Browser/C");
    assert.equal(flagged.flagged, true);
    assert.equal(flagged.ip, "100.64.7.7");

    const none = await list(undefined);
    assert.equal(none.res.status, 401);
    assert.deepEqual(none.body, { error: "unauthenticated", reason: "missing" });
  });

  test("DELETE sessions/{id}: another own session, then the own one (cookie cleared)", async () => {
    const a = await gate.login("kim");
    const b = await gate.login("kim");
    const hb = await handleOf(b);
    let res = await gate.fetch(`/.sessiongate/sessions/${hb}`, { method: "DELETE", cookie: a, headers: JSON_ACCEPT });
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { revoked: 1 });
    assert.equal(sessionCookie(res), null, "the caller keeps its cookie");
    assert.ok(Number(res.headers.get("x-session-expires-in")) > 0);
    assert.deepEqual((await status(b)).body, { authenticated: false, reason: "revoked" });
    assert.ok(await alive(a));
    assert.deepEqual((await list(a)).body.sessions.map((s) => s.id), [await handleOf(a)]);
    // The same handle again: gone.
    res = await gate.fetch(`/.sessiongate/sessions/${hb}`, { method: "DELETE", cookie: a, headers: JSON_ACCEPT });
    assert.equal(res.status, 404);
    assert.deepEqual(await body(res), { error: "not_found" });
    // Its own handle: a logout, with the cookie cleared.
    const ha = await handleOf(a);
    res = await gate.fetch(`/.sessiongate/sessions/${ha}`, { method: "DELETE", cookie: a, headers: JSON_ACCEPT });
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { revoked: 1 });
    assert.ok(isCleared(res));
    assert.deepEqual((await status(a)).body, { authenticated: false, reason: "revoked" });
  });

  test("DELETE sessions/{id} of another user's session: 404 and nothing changes", async () => {
    const mine = await gate.login("ray");
    const theirs = await gate.login("zoe");
    const theirs2 = await gate.login("zoe");
    const h = await handleOf(theirs);
    const before = (await list(theirs)).body.sessions.map((s) => s.id).sort();
    for (const id of [h, "not-a-handle", "A".repeat(22), encodeURIComponent("../sessions")]) {
      const res = await gate.fetch(`/.sessiongate/sessions/${id}`, { method: "DELETE", cookie: mine, headers: JSON_ACCEPT });
      assert.equal(res.status, 404, id);
      assert.deepEqual(await body(res), { error: "not_found" });
      assert.equal(sessionCookie(res), null);
    }
    assert.ok(await alive(theirs), "the other user's session is untouched");
    assert.ok(await alive(theirs2));
    assert.ok(await alive(mine));
    assert.deepEqual((await list(theirs)).body.sessions.map((s) => s.id).sort(), before);
    // Without a session: 401, not 404.
    const res = await gate.fetch(`/.sessiongate/sessions/${h}`, { method: "DELETE", headers: JSON_ACCEPT });
    assert.equal(res.status, 401);
    assert.ok(await alive(theirs));
  });

  test("DELETE sessions logs this user out everywhere, atomically, and nobody else", async () => {
    const cookies = [await gate.login("uma"), await gate.login("uma"), await gate.login("uma")];
    const bystander = await gate.login("vic");
    const res = await gate.fetch("/.sessiongate/sessions", { method: "DELETE", cookie: cookies[1], headers: JSON_ACCEPT });
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { revoked: 3 });
    assert.ok(isCleared(res));
    for (const c of cookies) {
      const r = await gate.fetch("/app", { cookie: c, headers: JSON_ACCEPT });
      assert.equal(r.status, 401);
      assert.deepEqual(await body(r), { error: "unauthenticated", reason: "revoked" });
    }
    assert.ok(await alive(bystander));
    const none = await gate.fetch("/.sessiongate/sessions", { method: "DELETE", headers: JSON_ACCEPT });
    assert.equal(none.status, 401);
  });

  test("state-changing endpoints refuse cross-site requests (403 cross_site_request) and change nothing", async () => {
    const cookie = await gate.login("xan");
    const other = await gate.login("xan");
    const hOther = await handleOf(other);
    const attempts = [
      ["POST", "/.sessiongate/logout", { "sec-fetch-site": "cross-site" }],
      ["POST", "/.sessiongate/logout", { origin: "https://evil.example" }],
      ["POST", "/.sessiongate/refresh", { "sec-fetch-site": "cross-site" }],
      ["DELETE", "/.sessiongate/sessions", { "sec-fetch-site": "cross-site" }],
      ["DELETE", `/.sessiongate/sessions/${hOther}`, { "sec-fetch-site": "cross-site", origin: "https://evil.example" }],
    ];
    for (const [method, p, headers] of attempts) {
      const res = await gate.fetch(p, { method, cookie, headers: { ...JSON_ACCEPT, ...headers } });
      assert.equal(res.status, 403, `${method} ${p} ${JSON.stringify(headers)}`);
      assert.deepEqual(await body(res), { error: "cross_site_request" });
      assert.equal(sessionCookie(res), null, "no cookie change");
    }
    assert.ok(await alive(cookie));
    assert.ok(await alive(other));
    // A sibling subdomain (same-site) is another origin.
    const sibling = await gate.fetch("/.sessiongate/refresh", { method: "POST", cookie, headers: { ...JSON_ACCEPT, "sec-fetch-site": "same-site" } });
    assert.equal(sibling.status, 403);
    assert.deepEqual(await body(sibling), { error: "cross_site_request" });
    // Same-origin and user-typed (none) are fine.
    for (const site of ["same-origin", "none"]) {
      const res = await gate.fetch("/.sessiongate/refresh", { method: "POST", cookie, headers: { ...JSON_ACCEPT, "sec-fetch-site": site } });
      assert.equal(res.status, 200, site);
      await res.arrayBuffer();
    }
    const res = await gate.fetch("/.sessiongate/logout", { method: "POST", cookie, headers: { "sec-fetch-site": "same-origin", origin: gate.base } });
    assert.equal(res.status, 200);
    assert.ok(isCleared(res));
  });

  test("GET client.js serves the dependency-free script", async () => {
    const res = await gate.fetch("/.sessiongate/client.js");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^(application|text)\/javascript/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    const js = await res.text();
    assert.ok(js.length > 500 && js.length < 20000, `size ${js.length}`);
    assert.doesNotMatch(js, /\bimport\b|\brequire\(/, "no dependencies");
    assert.match(js, /\/\.sessiongate/);
    assert.match(js, /Stay signed in/);
    assert.match(js, /sessiongate-banner/);
    assert.match(js, /\|\| "\/login";/, "the gate's LOGIN_URL is filled in");
    assert.doesNotMatch(js, /\/\*LOGIN_URL\*\//);
    new Function(js); // parses as a classic script
  });

  test("client.js goes to the configured LOGIN_URL, safely quoted", async () => {
    const other = await startGate({ vars: { LOGIN_URL: "/sign-in?from=\"x\"", PUBLIC_PATHS: "/sign-in" } });
    try {
      const js = await (await other.fetch("/.sessiongate/client.js")).text();
      assert.ok(js.includes('|| "/sign-in?from=\\"x\\"";'), js.slice(0, 600));
      new Function(js);
    } finally {
      await other.dispose();
    }
  });

  test("unknown /.sessiongate/ paths are 404 and never forwarded, with or without a session", async () => {
    const cookie = await gate.login("yan");
    gate.origin.clear();
    for (const p of ["/.sessiongate", "/.sessiongate/", "/.sessiongate/nope", "/.sessiongate/nope/deeper", "/.sessiongate/admin/nope", "/.sessiongate/users/yan/sessions", "/.sessiongate/./nope", "//.sessiongate/nope", "/.sessiongate/x/../nope"]) {
      for (const c of [undefined, cookie]) {
        const res = await gate.fetch(p, { cookie: c, headers: JSON_ACCEPT });
        const b = await body(res);
        // The admin subtree asks for the token first (401) before telling 404 apart.
        const expected = p.startsWith("/.sessiongate/admin") ? 401 : 404;
        assert.equal(res.status, expected, `${p} cookie=${!!c}`);
        assert.equal(b.error, expected === 404 ? "not_found" : "unauthorized");
      }
    }
    for (const m of ["POST", "PUT", "DELETE", "PATCH"]) {
      const res = await gate.fetch("/.sessiongate/whatever", { method: m, cookie, headers: JSON_ACCEPT });
      assert.equal(res.status, 404, m);
      await res.arrayBuffer();
    }
    // A wrong method on a known endpoint is not forwarded either.
    const res = await gate.fetch("/.sessiongate/status", { method: "POST", cookie, headers: JSON_ACCEPT });
    assert.equal(res.status, 405);
    await res.arrayBuffer();
    assert.equal(gate.origin.requests.length, 0, "nothing reached the origin");
  });

  test(
    "a path that decodes to /.sessiongate/ (%2F) is not forwarded to the origin",
    async () => {
      const cookie = await gate.login("yan");
      gate.origin.clear();
      const res = await gate.fetch("/.sessiongate%2fstatus", { cookie, headers: JSON_ACCEPT });
      await res.arrayBuffer();
      const seen = gate.origin.requests.map((r) => r.path);
      gate.origin.clear(); // keep the suite-wide leak check about the endpoints above
      assert.deepEqual(seen, []);
    },
  );

  // -- admin -------------------------------------------------------------------------

  test("admin: a missing, wrong, truncated or extended token is 401 and changes nothing", async () => {
    const cookie = await gate.login("ada");
    const h = await handleOf(cookie);
    const tok = SECRETS.ADMIN_TOKEN;
    const bad = [
      {},
      { authorization: "" },
      { authorization: "Bearer" },
      { authorization: "Bearer " },
      { authorization: `Bearer ${tok.slice(0, -1)}` },
      { authorization: `Bearer ${tok.slice(0, 16)}` },
      { authorization: `Bearer ${tok}x` },
      { authorization: `Bearer ${tok.slice(0, -1)}X` },
      { authorization: `Basic ${Buffer.from("admin:" + tok).toString("base64")}` },
      { authorization: tok },
      { authorization: `Token ${tok}` },
    ];
    for (const headers of bad) {
      for (const [method, p] of [
        ["GET", "/.sessiongate/admin/users/ada/sessions"],
        ["DELETE", `/.sessiongate/admin/users/ada/sessions/${h}`],
        ["DELETE", "/.sessiongate/admin/users/ada/sessions"],
        ["GET", "/.sessiongate/admin/users/ada/audit"],
      ]) {
        const res = await gate.fetch(p, { method, headers: { ...JSON_ACCEPT, ...headers } });
        assert.equal(res.status, 401, `${method} ${p} ${JSON.stringify(headers)}`);
        assert.deepEqual(await body(res), { error: "unauthorized" });
      }
    }
    // A valid user session is no admin credential.
    const res = await gate.fetch("/.sessiongate/admin/users/ada/sessions", { cookie, headers: JSON_ACCEPT });
    assert.equal(res.status, 401);
    await res.arrayBuffer();
    assert.ok(await alive(cookie));
  });

  test("admin: list a user's sessions, revoke one, revoke all", async () => {
    const a = await gate.login("bea", { ip: "203.0.113.1", ua: "UA/1" });
    const b = await gate.login("bea", { ip: "203.0.113.2", ua: "UA/2" });
    const c = await gate.login("bea", { ip: "203.0.113.3", ua: "UA/3" });
    const bystander = await gate.login("cy");
    let res = await gate.fetch("/.sessiongate/admin/users/bea/sessions", { headers: ADMIN });
    assert.equal(res.status, 200);
    let out = await body(res);
    assert.deepEqual(Object.keys(out), ["sessions"]);
    assert.equal(out.sessions.length, 3);
    for (const s of out.sessions) {
      assert.deepEqual(Object.keys(s).sort(), SESSION_FIELDS);
      assert.equal(s.current, false, "no session is the admin's own");
    }
    assert.deepEqual(out.sessions.map((s) => s.user_agent).sort(), ["UA/1", "UA/2", "UA/3"]);
    const hb = await handleOf(b);
    assert.ok(out.sessions.some((s) => s.id === hb));

    res = await gate.fetch(`/.sessiongate/admin/users/bea/sessions/${hb}`, { method: "DELETE", headers: ADMIN });
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { revoked: 1 });
    assert.deepEqual((await status(b)).body, { authenticated: false, reason: "revoked" });
    assert.ok(await alive(a));
    // Unknown / already revoked / malformed / another user's handle: 404.
    const hcy = await handleOf(bystander);
    for (const id of [hb, "A".repeat(22), "nope", hcy]) {
      res = await gate.fetch(`/.sessiongate/admin/users/bea/sessions/${id}`, { method: "DELETE", headers: ADMIN });
      assert.equal(res.status, 404, id);
      assert.deepEqual(await body(res), { error: "not_found" });
    }
    assert.ok(await alive(bystander));

    res = await gate.fetch("/.sessiongate/admin/users/bea/sessions", { method: "DELETE", headers: ADMIN });
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { revoked: 2 });
    for (const ck of [a, c]) assert.deepEqual((await status(ck)).body, { authenticated: false, reason: "revoked" });
    assert.ok(await alive(bystander));
    res = await gate.fetch("/.sessiongate/admin/users/bea/sessions", { headers: ADMIN });
    assert.deepEqual(await body(res), { sessions: [] });
    // A user who never signed in: an empty list, nothing to revoke.
    res = await gate.fetch("/.sessiongate/admin/users/nobody-ever/sessions", { headers: ADMIN });
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { sessions: [] });
    // Unknown admin routes and methods.
    for (const [method, p] of [
      ["GET", "/.sessiongate/admin/users/bea"],
      ["POST", "/.sessiongate/admin/users/bea/sessions"],
      ["GET", "/.sessiongate/admin/whatever"],
    ]) {
      res = await gate.fetch(p, { method, headers: ADMIN });
      assert.equal(res.status, 404, `${method} ${p}`);
      await res.arrayBuffer();
    }
  });

  test("admin: audit is paged newest first with limit and before/next_before", async () => {
    // 1 login + 4 logins + 2 revocations + logout-all of 3 = a known history.
    const first = await gate.login("dee", { ip: "203.0.113.50", ua: "UA/audit" });
    for (let i = 0; i < 4; i++) await gate.login("dee", { ip: "203.0.113.50", ua: "UA/audit" });
    const h = await handleOf(first);
    await (await gate.fetch(`/.sessiongate/admin/users/dee/sessions/${h}`, { method: "DELETE", headers: ADMIN })).arrayBuffer();
    await (await gate.fetch("/.sessiongate/admin/users/dee/sessions", { method: "DELETE", headers: ADMIN })).arrayBuffer();

    let res = await gate.fetch("/.sessiongate/admin/users/dee/audit", { headers: ADMIN });
    assert.equal(res.status, 200);
    const all = await body(res);
    assert.deepEqual(Object.keys(all).sort(), ["events", "next_before"]);
    assert.equal(all.next_before, null, "everything fits the default page");
    const ids = all.events.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((x, y) => y - x), "newest first");
    assert.equal(new Set(ids).size, ids.length);
    const names = all.events.map((e) => e.event);
    assert.equal(names.filter((n) => n === "session_created").length, 5);
    assert.equal(names.filter((n) => n === "revoked").length, 5, names.join(","));
    assert.equal(names.at(-1), "session_created", "oldest is the first login");
    assert.equal(names[0], "revoked");
    for (const e of all.events) {
      assert.equal(e.user, "dee");
      assert.equal(typeof e.time, "number");
      assert.match(e.session, /^[A-Za-z0-9_-]{22}$/);
    }
    const single = all.events.find((e) => e.event === "revoked" && e.session === h);
    assert.equal(single.reason, "admin");

    // Pages of 3: concatenated they are the whole history, in order.
    const paged = [];
    let before;
    let pages = 0;
    for (;;) {
      const q = `limit=3${before !== undefined ? `&before=${before}` : ""}`;
      res = await gate.fetch(`/.sessiongate/admin/users/dee/audit?${q}`, { headers: ADMIN });
      assert.equal(res.status, 200);
      const page = await body(res);
      assert.ok(page.events.length <= 3);
      paged.push(...page.events);
      pages++;
      if (page.next_before === null) break;
      assert.equal(page.next_before, page.events.at(-1).id, "next_before is the last id of the page");
      before = page.next_before;
      assert.ok(pages < 10);
    }
    assert.deepEqual(paged, all.events);
    assert.equal(pages, Math.ceil((all.events.length + 1) / 3), "a short page ends the listing");

    res = await gate.fetch(`/.sessiongate/admin/users/dee/audit?limit=1&before=${ids[2]}`, { headers: ADMIN });
    const one = await body(res);
    assert.deepEqual(one.events, [all.events[3]]);
    assert.equal(one.next_before, ids[3]);

    for (const q of ["limit=0", "limit=1001", "limit=abc", "limit=-1", "before=xyz"]) {
      res = await gate.fetch(`/.sessiongate/admin/users/dee/audit?${q}`, { headers: ADMIN });
      assert.equal(res.status, 400, q);
      assert.equal((await body(res)).error, "bad_request");
    }
  });

  test("user actions show up in the user's audit trail", async () => {
    const a = await gate.login("eve");
    const b = await gate.login("eve");
    const hb = await handleOf(b);
    await (await gate.fetch(`/.sessiongate/sessions/${hb}`, { method: "DELETE", cookie: a })).arrayBuffer();
    await (await gate.fetch("/.sessiongate/logout", { method: "POST", cookie: a })).arrayBuffer();
    const res = await gate.fetch("/.sessiongate/admin/users/eve/audit?limit=10", { headers: ADMIN });
    const { events } = await body(res);
    assert.deepEqual(events.slice(0, 2).map((e) => [e.event, e.reason]), [["logout", "user"], ["revoked", "user"]]);
    assert.equal(events[1].session, hb);
  });
});

// ---------------------------------------------------------------------------------------

describe("without ADMIN_TOKEN configured the admin API does not exist", () => {
  let gate;
  before(async () => {
    gate = await startGate({ vars: { ADMIN_TOKEN: undefined } });
  });
  after(async () => {
    await gate?.dispose();
  });

  test("every admin route answers 404, with or without a token", async () => {
    const cookie = await gate.login("fay");
    gate.origin.clear();
    for (const headers of [{}, ADMIN, { authorization: "Bearer x" }]) {
      for (const [method, p] of [
        ["GET", "/.sessiongate/admin/users/fay/sessions"],
        ["DELETE", "/.sessiongate/admin/users/fay/sessions"],
        ["DELETE", "/.sessiongate/admin/users/fay/sessions/AAAAAAAAAAAAAAAAAAAAAA"],
        ["GET", "/.sessiongate/admin/users/fay/audit?limit=5"],
        ["GET", "/.sessiongate/admin"],
      ]) {
        const res = await gate.fetch(p, { method, cookie, headers: { ...JSON_ACCEPT, ...headers } });
        assert.equal(res.status, 404, `${method} ${p} ${JSON.stringify(headers)}`);
        assert.deepEqual(await body(res), { error: "not_found" });
      }
    }
    const res = await gate.fetch("/.sessiongate/status", { cookie });
    assert.equal((await body(res)).authenticated, true, "nothing was revoked");
    assert.equal(gate.origin.requests.length, 0);
  });
});

// ---------------------------------------------------------------------------------------

describe("idle timer: status reads do not slide it, refresh does", () => {
  let gate;
  before(async () => {
    gate = await startGate({ vars: { IDLE_TIMEOUT: "4s", WARNING_WINDOW: "0s" } });
  });
  after(async () => {
    await gate?.dispose();
  });

  // Whole seconds must pass here, but no check bets on the machine's speed: the loops run
  // until a deadline the gate reported has passed (under a generous overall deadline), and
  // every timing check compares the gate's reported times with the clock readings taken
  // around the request that the gate answered (the gate decided somewhere in between).

  test("polling status every second for 5 s: the session still expires (idle_timeout)", async () => {
    const cookie = await gate.login("gil");
    const seen = [];
    let first;
    // Reads every second until the session is refused (about 5 s): had reads slid the 4 s
    // idle timer, this would poll until the deadline of `until` and fail.
    const dead = await until(async () => {
      const r = await bracketed(async () => body(await gate.fetch("/.sessiongate/status", { cookie, headers: JSON_ACCEPT })));
      seen.push(r.value);
      if (!r.value.authenticated) return r;
      first ??= r.value.idle_expires_at;
      assert.equal(r.value.idle_expires_at, first, "reading status never moves idle_expires_at");
      assert.ok(r.before < first, `authenticated when sent at ${r.before.toFixed(2)}, after the deadline ${first}`);
      await sleep(1000);
      return null;
    }, "the session to time out");
    assert.equal(seen[0].authenticated, true, "authenticated right after the login");
    // At least two reads a second apart saw the same deadline (on a quiet machine, four).
    assert.ok(seen.filter((b) => b.authenticated).length >= 2, `read ${seen.length - 1} times while it lived`);
    assert.deepEqual(dead.value, { authenticated: false, reason: "idle_timeout" });
    assert.ok(dead.after >= first, `refused at ${dead.after.toFixed(2)}, before the deadline ${first}`);
    const res = await gate.fetch("/app", { cookie, headers: JSON_ACCEPT });
    assert.equal(res.status, 401);
    assert.deepEqual(await body(res), { error: "unauthenticated", reason: "idle_timeout" });
  });

  test("POST refresh every half second for 6 s keeps the session alive and moves idle_expires_at", async () => {
    const login = await bracketed(() => gate.login("gus"));
    const cookie = login.value;
    const expiries = [];
    // Past the login's own idle deadline (at most login + 4 s) by 2 s, refreshing every
    // 500 ms: an 8-fold margin on the 4 s idle timeout.
    while (clock() < login.after + 6) {
      const r = await bracketed(() => gate.fetch("/.sessiongate/refresh", { method: "POST", cookie, headers: JSON_ACCEPT }));
      const res = r.value;
      assert.equal(res.status, 200, `refresh #${expiries.length}`);
      const b = await body(res);
      assert.equal(b.authenticated, true);
      assert.ok(b.idle_expires_at >= Math.floor(r.before) + 4 && b.idle_expires_at <= Math.floor(r.after) + 4, `slid to the refresh + 4 s: ${b.idle_expires_at}`);
      expiries.push(b.idle_expires_at);
      await sleep(500);
    }
    assert.ok(expiries.at(-1) >= expiries[0] + 4, `idle_expires_at moved: ${expiries}`);
    const alive = await bracketed(async () => body(await gate.fetch("/.sessiongate/status", { cookie, headers: JSON_ACCEPT })));
    assert.equal(alive.value.authenticated, true, "alive 6 s after login with a 4 s idle timeout");
    assert.ok(alive.before >= login.after + 6);
    // And then it times out once left alone, at its reported deadline.
    await pastSecond(alive.value.idle_expires_at);
    const dead = await gate.fetch("/.sessiongate/status", { cookie, headers: JSON_ACCEPT });
    assert.deepEqual(await body(dead), { authenticated: false, reason: "idle_timeout" });
  });
});

// ---------------------------------------------------------------------------------------

describe("expiry headers and warnings (IDLE_TIMEOUT 10s, ABSOLUTE_TIMEOUT 12s, WARNING_WINDOW 8s)", () => {
  let gate;
  before(async () => {
    gate = await startGate({ vars: { IDLE_TIMEOUT: "10s", ABSOLUTE_TIMEOUT: "12s", WARNING_WINDOW: "8s" } });
  });
  after(async () => {
    await gate?.dispose();
  });

  const expiresIn = (res) => {
    const v = res.headers.get("x-session-expires-in");
    assert.match(v ?? "", /^\d+$/, "X-Session-Expires-In is a whole number of seconds");
    return Number(v);
  };

  /**
   * The gate's expiry header and warning for a response it decided somewhere in the
   * bracket [before, after], for a session whose idle deadline lies in [idleLow, idleHigh]
   * and whose absolute deadline is absAt: X-Session-Expires-In is the earlier deadline
   * minus the gate's second, X-Session-Warning is set inside the 8 s window and names the
   * nearer limit. Exact whatever the time the request took.
   */
  const expectExpiry = (res, r, { idleLow, idleHigh, absAt }, what) => {
    const v = expiresIn(res);
    const low = Math.min(idleLow, absAt) - Math.floor(r.after);
    const high = Math.min(idleHigh, absAt) - Math.floor(r.before);
    assert.ok(v >= low && v <= high, `${what}: expires in ${v}, expected ${low}..${high}`);
    const w = res.headers.get("x-session-warning");
    if (v > 8) assert.equal(w, null, `${what}: outside the window`);
    else assert.equal(w, absAt <= idleLow ? "absolute" : "idle", `${what}: inside the window`);
    return v;
  };

  test("X-Session-Expires-In on every response with a valid session; no header without one", async () => {
    const cookie = await gate.login("hal");
    const login = await gate.fetch("/login", { method: "POST", command: { action: "login", user: "hal" } });
    assert.ok(expiresIn(login) >= 9 && expiresIn(login) <= 10, "the login response itself");
    await login.arrayBuffer();
    const { absolute_expires_at: absAt, idle_expires_at: idleAt } = await body(await gate.fetch("/.sessiongate/status", { cookie }));
    // Forwarded requests and refresh slide the idle deadline to the gate's second + 10 s;
    // status and the sessions list leave it where the last sliding request put it.
    let idle = { idleLow: idleAt, idleHigh: idleAt, absAt };
    for (const [what, slides, send] of [
      ["GET /app", true, () => gate.fetch("/app", { cookie })],
      ["GET /public/page", true, () => gate.fetch("/public/page", { cookie })],
      ["origin 500", true, () => gate.fetch("/app", { cookie, headers: { "x-test-status": "500" } })],
      ["origin 404", true, () => gate.fetch("/app", { cookie, headers: { "x-test-status": "404" } })],
      ["status", false, () => gate.fetch("/.sessiongate/status", { cookie })],
      ["refresh", true, () => gate.fetch("/.sessiongate/refresh", { method: "POST", cookie })],
      ["sessions", false, () => gate.fetch("/.sessiongate/sessions", { cookie })],
    ]) {
      const r = await bracketed(send);
      if (slides) idle = { idleLow: Math.floor(r.before) + 10, idleHigh: Math.floor(r.after) + 10, absAt };
      expectExpiry(r.value, r, idle, what);
      await r.value.arrayBuffer();
    }
    for (const res of [await gate.fetch("/public/page"), await gate.fetch("/.sessiongate/status"), await gate.fetch("/app", { headers: JSON_ACCEPT })]) {
      assert.equal(res.headers.get("x-session-expires-in"), null);
      assert.equal(res.headers.get("x-session-warning"), null);
      await res.arrayBuffer();
    }
    // The origin can't fake them: it sends both, and the gate drops them.
    gate.origin.setHandler((req, res) => {
      res.setHeader("x-session-expires-in", "99999");
      res.setHeader("x-session-warning", "idle");
      return false;
    });
    try {
      const spoof = await gate.fetch("/public/page");
      assert.equal(spoof.status, 200);
      assert.equal(spoof.headers.get("x-session-expires-in"), null);
      assert.equal(spoof.headers.get("x-session-warning"), null);
      await spoof.arrayBuffer();
    } finally {
      gate.origin.setHandler(null);
    }
  });

  test("inside the window: X-Session-Warning: idle, status warning idle; refresh clears it", async () => {
    const cookie = await gate.login("ida");
    let r = await bracketed(() => gate.fetch("/.sessiongate/status", { cookie }));
    let b = await body(r.value);
    const { absolute_expires_at: absAt, idle_expires_at: idleAt } = b;
    const untouched = { idleLow: idleAt, idleHigh: idleAt, absAt };
    expectExpiry(r.value, r, untouched, "right after the login");
    assert.equal(b.warning, r.value.headers.get("x-session-warning"));
    // Status reads do not slide: poll them until the idle deadline is 8 s away or less.
    r = await until(async () => {
      const x = await bracketed(() => gate.fetch("/.sessiongate/status", { cookie }));
      if (x.value.headers.get("x-session-warning") !== null) return x;
      await x.value.arrayBuffer();
      await sleep(200);
      return null;
    }, "the idle warning");
    b = await body(r.value);
    assert.equal(b.warning, "idle");
    assert.equal(r.value.headers.get("x-session-warning"), "idle");
    assert.ok(expectExpiry(r.value, r, untouched, "in the window") <= 8);
    assert.ok(r.after >= idleAt - 9, `warned at ${r.after.toFixed(2)}, more than 8 s before ${idleAt}`);
    // (A forwarded request is activity: it slides the timer out of the idle window.)
    r = await bracketed(() => gate.fetch("/public/page", { cookie }));
    expectExpiry(r.value, r, { idleLow: Math.floor(r.before) + 10, idleHigh: Math.floor(r.after) + 10, absAt }, "after activity");
    assert.notEqual(r.value.headers.get("x-session-warning"), "idle");
    await r.value.arrayBuffer();
    // Refresh slides: 10 s idle again, but the absolute limit (12 s after login) is now nearer.
    r = await bracketed(() => gate.fetch("/.sessiongate/refresh", { method: "POST", cookie }));
    b = await body(r.value);
    assert.ok(b.idle_expires_at >= Math.floor(r.before) + 10 && b.idle_expires_at <= Math.floor(r.after) + 10, `slid to ${b.idle_expires_at}`);
    expectExpiry(r.value, r, { idleLow: b.idle_expires_at, idleHigh: b.idle_expires_at, absAt }, "after refresh");
    assert.notEqual(b.warning, "idle", "the idle warning is gone after the slide");
    assert.notEqual(r.value.headers.get("x-session-warning"), "idle");
  });

  test("near the absolute limit: X-Session-Warning: absolute; refresh can't help", async () => {
    const login = await bracketed(() => gate.login("ike"));
    const cookie = login.value;
    const { absolute_expires_at: absAt } = await body(await gate.fetch("/.sessiongate/status", { cookie }));
    assert.ok(absAt >= Math.floor(login.before) + 12 && absAt <= Math.floor(login.after) + 12, `absolute expiry ${absAt}`);
    // Stay active (a request every 500 ms: idle never comes near) until the absolute
    // limit is 7 s away or less, inside the 8 s window.
    while (clock() < absAt - 7) {
      await sleep(500);
      await (await gate.fetch("/app", { cookie })).arrayBuffer();
    }
    let r = await bracketed(() => gate.fetch("/.sessiongate/refresh", { method: "POST", cookie }));
    const b = await body(r.value);
    assert.equal(r.value.status, 200);
    assert.equal(b.absolute_expires_at, absAt, "refresh never moves the absolute limit");
    assert.ok(b.absolute_expires_at < b.idle_expires_at);
    assert.equal(b.warning, "absolute");
    assert.equal(r.value.headers.get("x-session-warning"), "absolute");
    expectExpiry(r.value, r, { idleLow: b.idle_expires_at, idleHigh: b.idle_expires_at, absAt }, "refresh near the limit");
    r = await bracketed(() => gate.fetch("/app", { cookie }));
    assert.equal(r.value.headers.get("x-session-warning"), "absolute");
    await r.value.arrayBuffer();
    // At the absolute limit the session ends whatever the activity.
    await pastSecond(absAt);
    const res = await gate.fetch("/.sessiongate/refresh", { method: "POST", cookie, headers: JSON_ACCEPT });
    assert.equal(res.status, 401);
    assert.deepEqual(await body(res), { error: "unauthenticated", reason: "absolute_timeout" });
    assert.ok(isCleared(res));
  });

  test(
    "gate-answered errors for a valid session (404, 405, 403 cross-site, client.js) carry X-Session-Expires-In",
    async () => {
      const cookie = await gate.login("jo");
      for (const [method, p, headers] of [
        ["GET", "/.sessiongate/nope", {}],
        ["POST", "/.sessiongate/status", {}],
        ["POST", "/.sessiongate/logout", { "sec-fetch-site": "cross-site" }],
        ["GET", "/.sessiongate/client.js", {}],
      ]) {
        const res = await gate.fetch(p, { method, cookie, headers });
        await res.arrayBuffer();
        assert.ok(res.headers.get("x-session-expires-in"), `${method} ${p}`);
      }
    },
  );
});
