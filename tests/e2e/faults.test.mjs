// Faults. (a) The session store errors or hangs: protected paths fail
// closed with 503 store_unavailable and are never forwarded; public paths are still
// served, without identity. (b) The origin is down or slow: 502 / 504 with a clear body,
// and the session is untouched. (Restart with persisted storage: timeouts.test.mjs.)
//
// Store faults need no hook in the gate: miniflare runs two workers, and the gate's
// SESSIONS binding points at the `Faulty` class of a small JS worker. Each Faulty object
// keeps a failure mode in its own storage ("error": HTTP 500, "throw": an exception,
// "garbage": 200 with a body that is not JSON, "hang": no answer for 20 s); the faulty
// worker's /id?name=...&mode=... returns the object's id, so a test mints a genuine
// token (right key) that points at a failing object.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { Miniflare } from "miniflare";
import { startGate, startOrigin, gateWorker, rawFetch, sessionCookie, setCookieHeader, tmpdir, SECRETS, COOKIE } from "./harness.mjs";
import { until } from "./waiting.mjs";
import { mintToken } from "./tokens.mjs";

const quiet = process.env.SG_VERBOSE ? {} : { handleRuntimeStdio: (out, err) => { out.resume(); err.resume(); } };
const JSON_ACCEPT = { accept: "application/json" };
const STORE_DOWN = { error: "store_unavailable" };
const IDENTITY = ["x-session-user", "x-session-id", "x-session-roles", "x-session-auth-time", "x-session-data", "x-session-binding"];

const FAULTY_WORKER = `
export class Faulty {
  constructor(state) { this.state = state; }
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/mode") {
      await this.state.storage.put("mode", url.searchParams.get("m"));
      return new Response("ok");
    }
    globalThis.storeCalls = (globalThis.storeCalls || 0) + 1;
    const mode = (await this.state.storage.get("mode")) || "error";
    if (mode === "hang") {
      await new Promise((r) => setTimeout(r, 20000));
      return new Response("too late", { status: 500 });
    }
    if (mode === "throw") throw new Error("boom");
    if (mode === "garbage") return new Response("{not json", { status: 200 });
    return new Response("store exploded", { status: 500 });
  }
}
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/id") {
      const id = env.NS.idFromName(url.searchParams.get("name"));
      const mode = url.searchParams.get("mode");
      if (mode) await env.NS.get(id).fetch("https://faulty/mode?m=" + mode);
      return Response.json({ id: id.toString() });
    }
    if (url.pathname === "/calls") return Response.json({ calls: globalThis.storeCalls || 0 });
    return new Response("not found", { status: 404 });
  },
};`;

function identityOf(rec) {
  return Object.fromEntries(IDENTITY.filter((h) => rec.headers[h] !== undefined).map((h) => [h, rec.headers[h]]));
}

// ---------------------------------------------------------------------------------------
// (a) the session store fails

let origin;
let mf;
let base;
let faulty;

before(async () => {
  origin = await startOrigin();
  const gate = gateWorker({
    vars: { STORE_TIMEOUT: "1s" },
    originUrl: origin.url,
    durableObjects: { SESSIONS: { className: "Faulty", scriptName: "faulty", useSQLite: true } },
  });
  mf = new Miniflare({
    ...quiet,
    workers: [
      gate,
      {
        name: "faulty",
        modules: true,
        script: FAULTY_WORKER,
        compatibilityDate: "2026-04-20",
        durableObjects: { NS: { className: "Faulty", useSQLite: true } },
      },
    ],
  });
  base = (await mf.ready).href.replace(/\/$/, "");
  faulty = await mf.getWorker("faulty");
  await (await rawFetch(base + "/public/warm-up")).arrayBuffer(); // compile the Wasm before timing anything
  origin.clear();
});

after(async () => {
  await mf?.dispose();
  await origin?.close();
});

/** The id of the Faulty object `name`, after setting its failure mode. */
async function faultyObject(name, mode) {
  const res = await faulty.fetch(`http://faulty/id?name=${encodeURIComponent(name)}&mode=${mode}`);
  return (await res.json()).id;
}

/** A genuine token (signed with SESSION_SECRET) for an object in the given mode. */
async function cookieFor(mode, name = `${mode}-object`) {
  return `${COOKIE}=${mintToken(await faultyObject(name, mode), SECRETS.SESSION_SECRET)}`;
}

async function storeCalls() {
  return (await (await faulty.fetch("http://faulty/calls")).json()).calls;
}

function req(path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.command) headers["x-test-command"] = JSON.stringify(opts.command);
  return rawFetch(base + path, { method: opts.method || "GET", headers, body: opts.body });
}

async function timed(p) {
  const t0 = performance.now();
  const res = await p;
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { res, body, ms: performance.now() - t0 };
}

const MODES = ["error", "throw", "garbage", "hang"];

for (const mode of MODES) {
  test(`store ${mode}: protected paths fail closed (503 store_unavailable), never forwarded, cookie kept`, async () => {
    const cookie = await cookieFor(mode);
    const before = await storeCalls();
    origin.clear();
    const [api, nav, post] = await Promise.all([
      timed(req("/app/data", { cookie, headers: JSON_ACCEPT })),
      timed(req("/app/page", { cookie, headers: { "sec-fetch-mode": "navigate", accept: "text/html" } })),
      timed(req("/app/form", { method: "POST", cookie, body: "a=1", headers: { "content-type": "application/x-www-form-urlencoded" } })),
    ]);
    for (const { res, body, ms } of [api, nav, post]) {
      assert.equal(res.status, 503, JSON.stringify(body));
      assert.deepEqual(body, STORE_DOWN);
      assert.equal(setCookieHeader(res), null, "a store outage does not clear (or set) the cookie");
      // The store hangs for 20 s: the gate gives up at its 1 s STORE_TIMEOUT, long before.
      if (mode === "hang") assert.ok(ms >= 900 && ms < 10_000, `answered after ${Math.round(ms)} ms, STORE_TIMEOUT is 1s`);
    }
    assert.equal(origin.requests.length, 0, "nothing reached the origin");
    assert.ok((await storeCalls()) > before, "the gate did consult the (failing) store");
  });

  test(`store ${mode}: public paths are still served, without identity`, async () => {
    const cookie = await cookieFor(mode);
    origin.clear();
    const { res, body } = await timed(req("/public/page?x=1", { cookie, headers: { ...JSON_ACCEPT, "X-Session-User": "mallory" } }));
    assert.equal(res.status, 200);
    assert.equal(body.path, "/public/page?x=1");
    assert.equal(setCookieHeader(res), null);
    assert.equal(origin.requests.length, 1);
    assert.deepEqual(identityOf(origin.requests[0]), {}, "no identity at the origin");
    assert.equal(origin.requests[0].headers.cookie, undefined, "the gate's cookie is stripped");
    const res2 = await req("/", { cookie });
    assert.equal(res2.status, 200, "the public root too");
    await res2.arrayBuffer();
  });

  test(`store ${mode}: the gate's own endpoints answer 503`, async () => {
    const cookie = await cookieFor(mode);
    origin.clear();
    const answers = await Promise.all([
      timed(req("/.sessiongate/status", { cookie })),
      timed(req("/.sessiongate/refresh", { method: "POST", cookie })),
      timed(req("/.sessiongate/logout", { method: "POST", cookie })),
      timed(req("/.sessiongate/sessions", { cookie })),
      timed(req("/.sessiongate/admin/users/anyone/sessions", { headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } })),
    ]);
    for (const { res, body } of answers) {
      assert.equal(res.status, 503, JSON.stringify(body));
      assert.deepEqual(body, STORE_DOWN);
    }
    assert.equal(origin.requests.length, 0);
  });
}

test("a login while the user's store fails: 503, no cookie issued, nothing half-done", async () => {
  for (const mode of ["error", "hang"]) {
    const user = `${mode}-user`;
    await faultyObject(`user:${user}`, mode);
    origin.clear();
    const { res, body, ms } = await timed(req("/login", { method: "POST", command: { action: "login", user } }));
    assert.equal(res.status, 503, `${mode}: ${JSON.stringify(body)}`);
    assert.deepEqual(body, STORE_DOWN);
    assert.equal(sessionCookie(res), null, `${mode}: no cookie`);
    assert.equal(res.headers.get("x-session-command"), null);
    if (mode === "hang") assert.ok(ms >= 900 && ms < 10_000, `${ms} ms`);
    // /login is public: the origin was asked (and saw no identity), the gate refused to issue.
    assert.equal(origin.requests.length, 1);
    assert.deepEqual(identityOf(origin.requests[0]), {});
  }
});

test("set_data without a session while guest stores fail: 503, no cookie", async () => {
  // Guest objects get fresh unique ids, whose mode is the default: "error".
  origin.clear();
  const { res, body } = await timed(req("/public/cart", { method: "POST", command: { action: "set_data", data: { cart: [1] } } }));
  assert.equal(res.status, 503, JSON.stringify(body));
  assert.deepEqual(body, STORE_DOWN);
  assert.equal(sessionCookie(res), null);
});

test("a hanging store does not pile requests up: 12 parallel requests all fail within the deadline", async () => {
  const cookie = await cookieFor("hang", "hang-pile");
  origin.clear();
  const t0 = performance.now();
  const all = await Promise.all(Array.from({ length: 12 }, (_, i) => timed(req(`/app/${i}`, { cookie, headers: JSON_ACCEPT }))));
  const total = performance.now() - t0;
  for (const { res, body } of all) {
    assert.equal(res.status, 503);
    assert.deepEqual(body, STORE_DOWN);
  }
  // Each waited for the 1 s STORE_TIMEOUT; piled up behind one another they would take
  // 12 s. Half of that leaves a loaded machine 5 s of slack and still fails a pile-up.
  for (const { ms } of all) assert.ok(ms >= 900, `answered after ${Math.round(ms)} ms, before the store deadline`);
  assert.ok(total < 6000, `all answered in ${Math.round(total)} ms`);
  assert.equal(origin.requests.length, 0);
});

// ---------------------------------------------------------------------------------------
// (b) the origin is down or slow: the session is untouched

async function closedPort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

async function status(gate, cookie) {
  const res = await gate.fetch("/.sessiongate/status", { cookie });
  return res.json();
}

test("origin down: 502 origin_unreachable with a clear body, the session is untouched", async () => {
  const persist = tmpdir();
  const up = await startOrigin();
  let gate = await startGate({ origin: up, persist, miniflare: quiet });
  const cookie = await gate.login("olga", { roles: ["user"] });
  const handle = (await status(gate, cookie)).session;
  await gate.dispose();
  up.clear();

  const dead = `http://127.0.0.1:${await closedPort()}`;
  gate = await startGate({ origin: up, persist, vars: { ORIGIN_URL: dead, ORIGIN_TIMEOUT: "1s" }, miniflare: quiet });
  try {
    const attempts = [
      ["/app/page", { cookie, headers: JSON_ACCEPT }],
      ["/app/page", { cookie, headers: { "sec-fetch-mode": "navigate" } }],
      ["/app/logout", { method: "POST", cookie, command: { action: "logout" } }],
      ["/public/x", { cookie }],
      ["/login", { method: "POST", command: { action: "login", user: "olga" } }],
    ];
    for (const [p, opts] of attempts) {
      const res = await gate.fetch(p, opts);
      assert.equal(res.status, 502, p);
      assert.deepEqual(await res.json(), { error: "origin_unreachable", detail: "the origin could not be reached" });
      assert.equal(sessionCookie(res), null, `${p}: no cookie change`);
    }
    const s = await status(gate, cookie);
    assert.equal(s.authenticated, true, "the session still validates");
    assert.equal(s.session, handle);
    assert.equal(s.user, "olga");
    assert.equal(up.requests.length, 0, "the real origin saw nothing");
  } finally {
    await gate.dispose();
  }
  // And with the origin back, the same session is forwarded as before.
  gate = await startGate({ origin: up, persist, miniflare: quiet });
  try {
    up.clear();
    const res = await gate.fetch("/app/back", { cookie });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).headers["x-session-id"], handle);
  } finally {
    await gate.dispose();
    await up.close();
  }
});

test("origin slow: 504 origin_timeout after ORIGIN_TIMEOUT, the session is untouched and late commands are never applied", async () => {
  const gate = await startGate({ vars: { ORIGIN_TIMEOUT: "1s" }, miniflare: quiet });
  try {
    const cookie = await gate.login("sam");
    const handle = (await status(gate, cookie)).session;
    // The origin answers /app/slow after 8 s (and counts its late answers), far past the
    // 1 s ORIGIN_TIMEOUT: the gate must answer first however loaded the machine is.
    let late = 0;
    gate.origin.setHandler((req, res, rec) => {
      if (!req.url.startsWith("/app/slow")) return false;
      setTimeout(() => {
        if (req.headers["x-test-command"]) res.setHeader("x-session-command", req.headers["x-test-command"]);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(rec));
        late++;
      }, 8000);
    });
    const cases = [
      ["plain request", {}],
      ["logout command", { command: { action: "logout" } }],
      ["log-out-everywhere command", { command: { action: "logout_all" } }],
      ["regeneration command", { command: { action: "regenerate", reason: "password_change" } }],
      ["login as someone else", { command: { action: "login", user: "mallory" } }],
    ];
    const results = await Promise.all(cases.map(async ([name, opts]) => {
      const t0 = performance.now();
      const res = await gate.fetch("/app/slow", { cookie, headers: JSON_ACCEPT, ...opts });
      return { name, res, body: await res.json(), ms: performance.now() - t0 };
    }));
    for (const { name, res, body, ms } of results) {
      assert.equal(res.status, 504, name);
      assert.deepEqual(body, { error: "origin_timeout", detail: "the origin did not answer within 1000 ms" }, name);
      assert.equal(sessionCookie(res), null, `${name}: no cookie change`);
      assert.ok(ms >= 900 && ms < 8000, `${name}: answered after ${Math.round(ms)} ms`);
    }
    // The origin's late answers, with their commands, arrive after the gate gave up.
    await until(() => late === cases.length, () => `the origin's late answers (${late} of ${cases.length})`);
    gate.origin.setHandler(null);
    const s = await status(gate, cookie);
    assert.equal(s.authenticated, true, "the session still validates");
    assert.equal(s.session, handle);
    assert.equal(s.user, "sam");
    const res = await gate.fetch("/app/after", { cookie });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).headers["x-session-id"], handle, "same session, same handle");
    const list = await (await gate.fetch("/.sessiongate/admin/users/mallory/sessions", { headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } })).json();
    assert.deepEqual(list.sessions, [], "the late login command created nothing");
  } finally {
    await gate.dispose();
  }
});

test("ORIGIN_TIMEOUT covers the time to the response headers only: a slow body streams through whole", async () => {
  const origin = await startOrigin((req, res) => {
    if (!req.url.startsWith("/app/stream")) return false;
    // Headers at once, then the body in four parts over ~2 s, past the 1 s deadline.
    res.writeHead(200, { "content-type": "text/plain" });
    let i = 0;
    const tick = setInterval(() => {
      res.write(`part ${i}\n`);
      if (++i === 4) {
        clearInterval(tick);
        res.end("end\n");
      }
    }, 500);
  });
  const gate = await startGate({ origin, vars: { ORIGIN_TIMEOUT: "1s" }, miniflare: quiet });
  try {
    const cookie = await gate.login("vic");
    const t0 = performance.now();
    const res = await gate.fetch("/app/stream", { cookie });
    assert.equal(res.status, 200);
    const body = await res.text();
    const ms = performance.now() - t0;
    assert.equal(body, "part 0\npart 1\npart 2\npart 3\nend\n", "every part arrived");
    assert.ok(ms >= 1500, `the body took ${Math.round(ms)} ms, longer than the 1 s deadline`);
  } finally {
    await gate.dispose();
    await origin.close();
  }
});

test("an origin's own 5xx passes through unchanged and leaves the session alone", async () => {
  const gate = await startGate({ miniflare: quiet });
  try {
    const cookie = await gate.login("uma");
    for (const code of [500, 502, 503]) {
      const res = await gate.fetch("/app/broken", { cookie, headers: { "x-test-status": String(code) } });
      assert.equal(res.status, code);
      assert.equal((await res.json()).headers["x-session-user"], "uma", "forwarded with identity, body untouched");
      assert.equal(sessionCookie(res), null);
    }
    assert.equal((await status(gate, cookie)).authenticated, true);
  } finally {
    await gate.dispose();
  }
});
