// Issue 16: the Next.js kit's helpers without Next or the gate: command writers on a
// Response, and `sessiongate(headers())`'s method rule (a server action, with its
// Next-Action header, must have been signed for POST; a page render for GET or HEAD).
import { test } from "node:test";
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import {
  sessiongate, sessiongateProxy, withSessiongate, commands, login, elevate, logoutOthers, regenerate, setData, CommandError, SessiongateError,
} from "../../kits/next/src/index.js";

const SECRET = "test-origin-secret-0123456789abcdef-01234";
const opts = { secret: SECRET, audience: "origin.example" };
const sign = (htm, extra = {}) => new SignJWT({ htm, htu: "http://origin.example/x", sub: "alice", roles: ["user"], ...extra })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuer("sessiongate").setAudience("origin.example")
  .setIssuedAt().setExpirationTime("60s").sign(new TextEncoder().encode(SECRET));

test("writers append to one X-Session-Command array on the Response, in order", () => {
  const res = login(Response.json({}), { user: "alice", roles: ["user"], data: { a: 1 } });
  setData(res, { b: 2 });
  elevate(res);
  assert.equal(res.headers.get("x-session-command"),
    '[{"action":"login","user":"alice","roles":["user"],"data":{"a":1},"persistent":false},{"action":"set_data","data":{"b":2}},{"action":"elevate"}]');
  assert.throws(() => login(res, { user: "al\u0000ice" }), CommandError);
  assert.equal(JSON.parse(res.headers.get("x-session-command")).length, 3, "unchanged");
});

test("commands(response, {session}) checks the sequence against the request's session", () => {
  const anon = commands(Response.json({}), { session: null });
  assert.throws(() => elevate(anon), /elevate needs a signed-in session/);
  assert.throws(() => logoutOthers(anon), /logout_others needs a signed-in session/);
  const signed = commands(Response.json({}), { session: { user: "alice" } });
  regenerate(signed);
  logoutOthers(signed);
  assert.throws(() => commands(signed, { session: null }), /before the first command/);
});

test("sessiongate(headers()): GET or HEAD for a render, POST for a server action; a Request gives its method", async () => {
  const headers = async (token, extra = {}) => new Headers({ "x-session-assertion": token, ...extra });
  assert.equal((await sessiongate(headers(await sign("GET")), opts)).user, "alice");
  assert.equal((await sessiongate(headers(await sign("HEAD")), opts)).user, "alice");
  await assert.rejects(sessiongate(headers(await sign("POST")), opts), (e) => e instanceof SessiongateError && e.reason === "method_mismatch");
  assert.equal((await sessiongate(headers(await sign("POST"), { "next-action": "abc" }), opts)).user, "alice");
  await assert.rejects(sessiongate(headers(await sign("GET"), { "next-action": "abc" }), opts), (e) => e.reason === "method_mismatch");
  const req = new Request("http://origin.example/x", { method: "DELETE", headers: { "x-session-assertion": await sign("DELETE") } });
  assert.equal((await sessiongate(req, opts)).user, "alice");
  assert.equal(await sessiongate(new Headers(), { ...opts, anonymous: true }), null);
  await assert.rejects(sessiongate(new Headers(), opts), (e) => e.reason === "missing_assertion" && e.status === 401);
});

test("the proxy: undefined (go on) when verified, 401 JSON otherwise, anonymous paths without an assertion; the URL is the assertion's", async () => {
  const proxy = sessiongateProxy({ ...opts, anonymousPaths: ["/public"] });
  const req = async (p, method, token) => new Request(`http://origin.example${p}`, { method, headers: token ? { "x-session-assertion": token } : {} });
  assert.equal(await proxy(await req("/x", "GET", await sign("GET"))), undefined);
  let res = await proxy(await req("/x", "POST", await sign("GET")));
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: "unauthenticated", reason: "method_mismatch" });
  assert.equal(await proxy(await req("/public", "GET")), undefined);
  res = await proxy(await req("/public", "GET", "x.y.z"));
  assert.deepEqual([res.status, await res.json()], [401, { error: "unauthenticated", reason: "invalid_assertion" }]);
  res = await proxy(await req("/y", "GET", await sign("GET")));
  assert.deepEqual([res.status, await res.json()], [401, { error: "unauthenticated", reason: "url_mismatch" }], "issued for /x");
  res = await proxy(await req("/x", "GET"));
  assert.deepEqual([res.status, await res.json()], [401, { error: "unauthenticated", reason: "missing_assertion" }]);
});

test("the proxy and withSessiongate log each refusal with what was expected and what came (log option)", async () => {
  const lines = [];
  const proxy = sessiongateProxy({ ...opts, audience: "other.example", log: (l) => lines.push(l) });
  const token = await sign("GET");
  const res = await proxy(new Request("http://origin.example/x?secret=1", { headers: { "x-session-assertion": token } }));
  assert.equal(res.status, 401);
  assert.deepEqual(lines, ['sessiongate: 401 invalid_assertion for GET /x: aud: expected "other.example", got "origin.example"']);
  const route = withSessiongate(() => new Response("ok"), { ...opts, log: (l) => lines.push(l) });
  const r2 = await route(new Request("http://origin.example/x", { method: "POST", headers: { "x-session-assertion": token } }));
  assert.equal(r2.status, 401);
  assert.equal(lines[1], 'sessiongate: 401 method_mismatch for POST /x: htm: expected "POST", got "GET"');
});
