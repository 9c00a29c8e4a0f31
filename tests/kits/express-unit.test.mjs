// Issue 16: the Express kit's command writers and guards on a real node:http server (no
// gate): several commands in one response become one X-Session-Command array, in order;
// a bad one throws in the handler and leaves the header as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import {
  login, logout, regenerate, elevate, setData, logoutOthers, logoutAll, requireRole, CommandError, sessiongate,
} from "../../kits/express/src/index.js";

/** Runs `handler(req, res)` in a real server; returns {status, command header, body}. */
async function serve(handler, { session } = {}) {
  const server = http.createServer((req, res) => {
    if (session !== undefined) req.sessiongate = session;
    try {
      handler(req, res);
      if (!res.writableEnded) res.end("ok");
    } catch (e) {
      res.statusCode = 500;
      res.end(e instanceof CommandError ? `CommandError: ${e.message}` : String(e));
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/`);
    return { status: res.status, command: res.headers.get("x-session-command"), body: await res.text() };
  } finally {
    server.close();
  }
}

const alice = { user: "alice", roles: ["user"], data: {} };

test("one response, several commands: one JSON array in order", async () => {
  const r = await serve((req, res) => {
    login(res, { user: "alice", roles: ["user"], data: { theme: "dark" }, persistent: true });
    setData(res, { cart: [1] });
    elevate(res);
  }, { session: null });
  assert.equal(r.status, 200);
  assert.equal(r.command, '[{"action":"login","user":"alice","roles":["user"],"data":{"theme":"dark"},"persistent":true},{"action":"set_data","data":{"cart":[1]}},{"action":"elevate"}]');
});

test("each writer's wire form", async () => {
  const cases = [
    [(res) => logout(res), '[{"action":"logout"}]'],
    [(res) => regenerate(res), '[{"action":"regenerate","reason":"password_change"}]'],
    [(res) => regenerate(res, { roles: ["admin"] }), '[{"action":"regenerate","reason":"permission_change","roles":["admin"]}]'],
    [(res) => logoutOthers(res), '[{"action":"logout_others"}]'],
    [(res) => logoutAll(res), '[{"action":"logout_all"}]'],
    [(res) => login(res, { user: "jösé" }), '[{"action":"login","user":"j\\u00f6s\\u00e9","roles":[],"persistent":false}]'],
  ];
  for (const [write, want] of cases) {
    const r = await serve((req, res) => write(res), { session: alice });
    assert.equal(r.status, 200);
    assert.equal(r.command, want);
  }
});

test("invalid input throws in the handler; the commands written before it stay as they were", async () => {
  const cases = [
    [(res) => login(res, { user: "al\nice" }), "sessiongate command: user contains control characters"],
    [(res) => login(res, { user: "alice", data: [1] }), "sessiongate command: data must be an object"],
    [(res) => setData(res, new Map()), "sessiongate command: data must be an object"],
    [(res) => setData(res, { n: NaN }), "sessiongate command: data.n is not a finite number"],
    [(res) => setData(res, { big: "x".repeat(8000) }), "sessiongate command: data is 8010 bytes as the X-Session-Data header, more than the 8000 allowed (SESSION_DATA_MAX)"],
    [(res) => login(res, { user: "alice", persistent: "yes" }), 'sessiongate command: login: "persistent" must be true or false'],
    [(res) => regenerate(res, { reason: "password_change", roles: ["a"] }), 'sessiongate command: password_change takes no "roles"'],
  ];
  for (const [write, message] of cases) {
    const r = await serve((req, res) => { setData(res, { a: 1 }); write(res); }, { session: alice });
    assert.equal(r.status, 500);
    assert.equal(r.body, `CommandError: ${message}`);
    assert.equal(r.command, '[{"action":"set_data","data":{"a":1}}]', "the bad command was not appended");
  }
});

test("commands that need a signed-in session throw without one, unless a login precedes them", async () => {
  for (const write of [elevate, logoutOthers, logoutAll, (res) => regenerate(res)]) {
    const r = await serve((req, res) => write(res), { session: null });
    assert.equal(r.status, 500);
    assert.match(r.body, /^CommandError: sessiongate command: \w+ needs a signed-in session and the request has none$/);
  }
  const r = await serve((req, res) => { login(res, { user: "bob" }); elevate(res); }, { session: { user: null, roles: [] } });
  assert.equal(r.command, '[{"action":"login","user":"bob","roles":[],"persistent":false},{"action":"elevate"}]');
  const after = await serve((req, res) => { logout(res); elevate(res); }, { session: alice });
  assert.equal(after.status, 500, "elevate after logout");
});

test("after the headers are sent, a writer throws instead of losing the command", async () => {
  const r = await serve((req, res) => {
    res.writeHead(200);
    res.write("x");
    assert.throws(() => logout(res), /the response's headers are already sent/);
    res.end();
  }, { session: alice });
  assert.equal(r.command, null);
});

test("requireRole: 401 without a user, 403 without the role, next() with it", async () => {
  const guard = requireRole("admin", "owner");
  const run = (session) => serve((req, res) => guard(req, res, () => res.end("passed")), { session });
  let r = await run(null);
  assert.equal(r.status, 401);
  assert.equal(r.body, '{"error":"unauthenticated","reason":"not_signed_in"}');
  r = await run(alice);
  assert.equal(r.status, 403);
  assert.equal(r.body, '{"error":"forbidden","reason":"role_required"}');
  r = await run({ ...alice, roles: ["owner"] });
  assert.equal(r.body, "passed");
});

test("the middleware refuses to start without exactly one key source and an audience", () => {
  const saved = { ...process.env };
  for (const k of ["SESSIONGATE_JWKS_URL", "SESSIONGATE_SECRET", "SESSIONGATE_AUDIENCE"]) delete process.env[k];
  try {
    assert.throws(() => sessiongate({ audience: "app.example" }), /exactly one of jwksUrl .* or secret/);
    assert.throws(() => sessiongate({ audience: "app.example", secret: "s", jwksUrl: "https://g/.sessiongate/jwks.json" }), /exactly one/);
    assert.throws(() => sessiongate({ secret: "s" }), /audience .* is required/);
    assert.equal(typeof sessiongate({ secret: "s", audience: "app.example" }), "function");
  } finally {
    Object.assign(process.env, saved);
  }
});
