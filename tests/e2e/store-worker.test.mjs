// The session store in a Worker of its own (wrangler.store.toml): it has no variables, so
// every session call brings the gate's policy (`x-sessiongate-policy`), the object refuses
// a call without a valid one and changes nothing, adopts the policy of a redeployed gate
// on its next call, and keeps the last one for the alarms that fire with no call at all.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { startGate, startOrigin, gateWorker, STORE_WORKER, sessionCookie, tmpdir, ROOT, SECRETS } from "./harness.mjs";
import { body, expect401, auditEvents, adminSessions } from "./session-helpers.mjs";
import { until, pastSecond, sleep } from "./waiting.mjs";

const MESSAGE = "x-store-message";
const POLICY = "x-sessiongate-policy";
const quiet = process.env.SG_VERBOSE ? {} : { handleRuntimeStdio: (out, err) => { out.resume(); err.resume(); } };

/** The policy the gate sends with IDLE_TIMEOUT=30m, ABSOLUTE_TIMEOUT=24h and the defaults. */
const GOOD_POLICY = {
  timeouts: { idle: 1800, absolute: 86400, elevated: 900, slide_interval: 60, warning_window: 120 },
  bind_ip: "flag",
  bind_ua: "flag",
  max_sessions: 0,
};

test("the gate's bundle holds no Durable Object class; the store's holds SessionStore and no fetch handler", () => {
  const exportsOf = (f) => fs.readFileSync(path.join(ROOT, f), "utf8").match(/export\{([^}]*)\}/)[1];
  assert.doesNotMatch(exportsOf("build/index.js"), /SessionStore/);
  assert.match(exportsOf("build/store/index.js"), /as SessionStore\b/);
  assert.doesNotMatch(fs.readFileSync(path.join(ROOT, "build/store/index.js"), "utf8"), /prototype\.fetch=/);
  assert.match(fs.readFileSync(path.join(ROOT, "build/index.js"), "utf8"), /prototype\.fetch=/);
});

test("a session call without the gate's policy, or with a bad one, is refused and changes nothing", async () => {
  const gate = await startGate({ vars: { ADMIN_TOKEN: SECRETS.ADMIN_TOKEN }, miniflare: quiet });
  try {
    const cookie = await gate.login("policy-user");
    const ns = await gate.mf.getDurableObjectNamespace("SESSIONS", "store");
    const stub = ns.get(ns.idFromName("user:policy-user"));
    // Each of these would end every session of the user if the object accepted it.
    const destroyAll = JSON.stringify({ destroy_all: { caller: null, except: null, by: "admin", client: { ip: "", ua: "", https: false } } });
    const call = async (headers) => {
      const res = await stub.fetch("https://session-store/", { headers: { [MESSAGE]: destroyAll, ...headers } });
      return { status: res.status, body: await res.json() };
    };
    assert.deepEqual(await call({}), { status: 400, body: { error: "store", detail: "no policy sent with a session call" } });
    const malformed = await call({ [POLICY]: "{not json" });
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.detail, /^malformed policy: /);
    const unknown = await call({ [POLICY]: JSON.stringify({ ...GOOD_POLICY, extra: 1 }) });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.detail, /^malformed policy: unknown field `extra`/);
    const zero = await call({ [POLICY]: JSON.stringify({ ...GOOD_POLICY, timeouts: { ...GOOD_POLICY.timeouts, idle: 0 } }) });
    assert.deepEqual(zero, { status: 400, body: { error: "store", detail: "invalid policy: idle must be at least 1 second" } });
    // Nothing ended, and the object still runs by the gate's policy.
    assert.equal((await adminSessions(gate, "policy-user")).length, 1);
    const res = await gate.fetch("/app", { cookie });
    assert.equal(res.status, 200, JSON.stringify(await body(res)));
    // The same message with the gate's policy is carried out: the check above refused the
    // policy, not the message.
    const done = await call({ [POLICY]: JSON.stringify(GOOD_POLICY) });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.done.count, 1, JSON.stringify(done.body));
    assert.equal((await adminSessions(gate, "policy-user")).length, 0);
  } finally {
    await gate.dispose();
  }
});

test("the gate's calls carry policy and message in the URL; a malformed call URL is refused and changes nothing; the header form still works", async () => {
  const gate = await startGate({ vars: { ADMIN_TOKEN: SECRETS.ADMIN_TOKEN }, miniflare: quiet });
  try {
    const cookie = await gate.login("url-user");
    const ns = await gate.mf.getDurableObjectNamespace("SESSIONS", "store");
    const stub = ns.get(ns.idFromName("user:url-user"));
    const b64 = (text) => Buffer.from(text).toString("base64url");
    const BASE = "https://session-store/s/";
    const destroyAll = JSON.stringify({ destroy_all: { caller: null, except: null, by: "admin", client: { ip: "", ua: "", https: false } } });
    const list = JSON.stringify({ list: { caller: null } });
    const call = async (url, init) => {
      const res = await stub.fetch(url, init);
      return { status: res.status, body: await res.json() };
    };
    const policy = b64(JSON.stringify(GOOD_POLICY));
    // Each of these would end every session of the user if the object accepted it.
    const refused = [
      [`${BASE}${b64(destroyAll)}`, "the call URL is not <policy>/<message>"],
      [`${BASE}/${b64(destroyAll)}`, "no policy in the call URL"],
      [`${BASE}${policy}/${b64(destroyAll)}/x`, "the call URL is not <policy>/<message>"],
      [`${BASE}${policy}/${b64(destroyAll)}?x=1`, "the call URL is not <policy>/<message>"],
      [`${BASE}${policy}=/${b64(destroyAll)}`, "the call URL's policy is not base64url"],
      [`${BASE}${policy}/${b64(destroyAll)}%20`, "the call URL's message is not base64url"],
      [`${BASE}${policy}/${b64(destroyAll)}=`, "the call URL's message is not base64url"],
      [`${BASE}${Buffer.from([0xc3]).toString("base64url")}/${b64(destroyAll)}`, "the call URL's policy is not UTF-8"],
    ];
    for (const [url, detail] of refused) assert.deepEqual(await call(url), { status: 400, body: { error: "store", detail } }, url);
    // A bad policy in the URL is judged as one in the header.
    const zero = await call(`${BASE}${b64(JSON.stringify({ ...GOOD_POLICY, timeouts: { ...GOOD_POLICY.timeouts, idle: 0 } }))}/${b64(destroyAll)}`);
    assert.deepEqual(zero, { status: 400, body: { error: "store", detail: "invalid policy: idle must be at least 1 second" } });
    // Headers do not stand in for a call URL's missing part.
    const noMessage = await call(`${BASE}${policy}/`, { headers: { [MESSAGE]: destroyAll, [POLICY]: JSON.stringify(GOOD_POLICY) } });
    assert.equal(noMessage.status, 400, JSON.stringify(noMessage.body));
    assert.match(noMessage.body.detail, /^bad store request: /);
    assert.equal((await adminSessions(gate, "url-user")).length, 1);
    assert.equal((await gate.fetch("/app", { cookie })).status, 200);
    // The message in the URL, or as the body of a call URL with no message segment, or the
    // header form (live connections, a store newer than its gate): all carried out.
    const inUrl = await call(`${BASE}${policy}/${b64(list)}`);
    assert.equal(inUrl.status, 200, JSON.stringify(inUrl.body));
    assert.equal(inUrl.body.sessions.sessions.length, 1);
    const inBody = await call(`${BASE}${policy}/`, { method: "POST", body: list });
    assert.deepEqual(inBody, inUrl);
    const inHeaders = await call("https://session-store/", { headers: { [MESSAGE]: list, [POLICY]: JSON.stringify(GOOD_POLICY) } });
    assert.deepEqual(inHeaders, inUrl);
    const done = await call(`${BASE}${policy}/${b64(destroyAll)}`);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.done.count, 1, JSON.stringify(done.body));
    assert.equal((await adminSessions(gate, "url-user")).length, 0);
  } finally {
    await gate.dispose();
  }
});

test("a redeployed gate's policy applies from its next call: IDLE_TIMEOUT 1h -> 3s", async () => {
  const persist = tmpdir("sessiongate-store-policy-");
  const origin = await startOrigin();
  let gate = await startGate({ origin, persist, vars: { IDLE_TIMEOUT: "1h" }, miniflare: quiet });
  try {
    const cookie = await gate.login("redeployed");
    await gate.dispose();
    gate = await startGate({ origin, persist, vars: { IDLE_TIMEOUT: "3s", ABSOLUTE_TIMEOUT: "1h" }, miniflare: quiet });
    const res = await gate.fetch("/app", { cookie });
    assert.equal(res.status, 200);
    const expiresIn = Number(res.headers.get("x-session-expires-in"));
    assert.ok(expiresIn <= 3, `the 3 s idle timeout governs the session: expires in ${expiresIn}`);
    await res.arrayBuffer();
    await pastSecond(Math.floor(Date.now() / 1000) + expiresIn + 1);
    await expect401(await gate.fetch("/app", { cookie }), "idle_timeout");
  } finally {
    await gate.dispose();
    await origin.close();
    fs.rmSync(persist, { recursive: true, force: true });
  }
});

test("a live object adopts the policy a call brings: each call is judged by its gate's rules", async () => {
  // Two gates on one store (the README's warning: one store per gate): the object takes
  // each call's policy, without a restart, and keeps it for its alarms.
  const origin = await startOrigin();
  const mf = new Miniflare({
    ...quiet,
    workers: [
      gateWorker({ vars: { IDLE_TIMEOUT: "1h" }, originUrl: origin.url }),
      { ...gateWorker({ vars: { IDLE_TIMEOUT: "30s" }, originUrl: origin.url }), name: "gate-b" },
      STORE_WORKER,
    ],
  });
  try {
    await mf.ready;
    const a = await mf.getWorker("gate");
    const b = await mf.getWorker("gate-b");
    const login = await a.fetch("http://gate.test/login", { method: "POST", headers: { "x-test-command": JSON.stringify({ action: "login", user: "two-gates" }) } });
    assert.equal(login.status, 200);
    await login.arrayBuffer();
    const cookie = sessionCookie(login);
    const expiresIn = async (gate) => {
      const res = await gate.fetch("http://gate.test/app", { headers: { cookie } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      return Number(res.headers.get("x-session-expires-in"));
    };
    const viaB = await expiresIn(b);
    assert.ok(viaB <= 30, `gate-b's 30 s idle timeout: ${viaB}`);
    const viaA = await expiresIn(a);
    assert.ok(viaA > 30 && viaA <= 3600, `gate's 1 h idle timeout again: ${viaA}`);
    assert.ok((await expiresIn(b)) <= 30, "and gate-b's once more");
  } finally {
    await mf.dispose();
    await origin.close();
  }
});

test("after a restart, with no call at all, the alarm ends a session by the policy the object kept", async () => {
  const persist = tmpdir("sessiongate-store-alarm-");
  const origin = await startOrigin();
  const vars = { IDLE_TIMEOUT: "3s", ABSOLUTE_TIMEOUT: "1h", ADMIN_TOKEN: SECRETS.ADMIN_TOKEN };
  let gate = await startGate({ origin, persist, vars, miniflare: quiet });
  try {
    await gate.login("kept-policy");
    const created = (await auditEvents(gate, "kept-policy")).find((e) => e.event === "session_created");
    await gate.dispose();
    // A fresh workerd: the object starts with nothing in memory; no call reaches it until
    // the timeout is long past, so only its alarm, run by the stored policy, can end it.
    gate = await startGate({ origin, persist, vars, miniflare: quiet });
    await pastSecond(created.time + 3 + 3);
    const events = await until(async () => {
      const ev = (await auditEvents(gate, "kept-policy")).filter((e) => e.event === "idle_timeout");
      return ev.length ? ev : null;
    }, "the idle_timeout event");
    assert.equal(events.length, 1);
    assert.ok(events[0].time >= created.time + 3, `idle_timeout at ${events[0].time}, created ${created.time}`);
    // Written by the alarm near the deadline, not by the audit call that found it later.
    assert.ok(events[0].time <= created.time + 5, `idle_timeout at ${events[0].time}: by the alarm, created ${created.time}`);
  } finally {
    await gate.dispose();
    await origin.close();
    fs.rmSync(persist, { recursive: true, force: true });
  }
});

test("the store Worker has no variables: the gate's configuration is the only one", async () => {
  // A gate whose configuration is broken answers 500 config and never calls the store;
  // the store itself cannot be misconfigured (it reads nothing), so an object answers
  // the gate whatever the store Worker's environment.
  const gate = await startGate({ vars: { IDLE_TIMEOUT: "soon" }, miniflare: quiet });
  try {
    const res = await gate.fetch("/app");
    assert.equal(res.status, 500);
    assert.equal((await body(res)).error, "config");
    const ns = await gate.mf.getDurableObjectNamespace("SESSIONS", "store");
    const stub = ns.get(ns.idFromName("user:nobody"));
    const res2 = await stub.fetch("https://session-store/", {
      headers: { [MESSAGE]: JSON.stringify({ list: { caller: null } }), [POLICY]: JSON.stringify(GOOD_POLICY) },
    });
    assert.equal(res2.status, 200);
    assert.deepEqual(await res2.json(), { sessions: { sessions: [] } });
  } finally {
    await gate.dispose();
  }
});
