// Binding to the client. BIND_IP / BIND_UA = off | flag | reject; IPv4
// compares by /24, IPv6 by /64. The client address is CF-Connecting-IP.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startGate, identity, isCleared } from "./harness.mjs";
import { body, assertion, expect401, auditEvents, adminSessions, handleOf } from "./session-helpers.mjs";

const gates = [];
async function gateWith(vars) {
  const g = await startGate({ vars });
  gates.push(g);
  return g;
}
after(async () => {
  for (const g of gates) await g.dispose();
});

const IP = "203.0.113.10";
const UA = "BindBrowser/1";

async function seen(gate, cookie, ip, ua, path = "/app") {
  gate.origin.clear();
  const res = await gate.fetch(path, { cookie, ip, ua, headers: { accept: "application/json" } });
  const b = await body(res);
  return { res, status: res.status, body: b, rec: gate.origin.requests.at(-1) };
}

test("flag (the default): same /24 and same UA is ok; no bind claim; not flagged", async () => {
  const gate = await gateWith({});
  const cookie = await gate.login("bind-ok", { ip: IP, ua: UA });
  for (const ip of [IP, "203.0.113.250", "203.0.113.1"]) {
    const s = await seen(gate, cookie, ip, UA);
    assert.equal(s.status, 200);
    assert.equal(identity(s.rec).binding, "ok", ip);
    assert.equal((await assertion(s.rec)).bind, undefined);
  }
  const [row] = await adminSessions(gate, "bind-ok");
  assert.equal(row.flagged, false);
  assert.equal((await auditEvents(gate, "bind-ok")).filter((e) => e.event === "binding_changed").length, 0);
});

test("flag: an IP change is forwarded with X-Session-Binding: ip-changed, bind claim, flagged session, one audit event", async () => {
  const gate = await gateWith({});
  const cookie = await gate.login("bind-ip", { ip: IP, ua: UA });
  const handle = await handleOf(gate, cookie, { ip: IP, ua: UA });
  const moved = "198.51.100.7";
  for (let i = 0; i < 3; i++) {
    const s = await seen(gate, cookie, moved, UA);
    assert.equal(s.status, 200, "flag does not block");
    assert.equal(identity(s.rec).binding, "ip-changed");
    assert.equal((await assertion(s.rec)).bind, "ip-changed");
  }
  // Another address in the same new /24 is not another change.
  assert.equal(identity((await seen(gate, cookie, "198.51.100.99", UA)).rec).binding, "ip-changed");
  const events = (await auditEvents(gate, "bind-ip")).filter((e) => e.event === "binding_changed");
  assert.equal(events.length, 1, `one event per change, got ${JSON.stringify(events)}`);
  assert.equal(events[0].session, handle);
  assert.equal(events[0].ip, moved);
  assert.equal(events[0].user_agent, UA);
  assert.match(events[0].reason, /ip-changed/);
  // Visible in the user's own list and the admin list.
  const own = await body(await gate.fetch("/.sessiongate/sessions", { cookie, ip: moved, ua: UA }));
  assert.equal(own.sessions.length, 1);
  assert.equal(own.sessions[0].flagged, true);
  const [row] = await adminSessions(gate, "bind-ip");
  assert.equal(row.flagged, true);
  assert.equal(row.id, handle);
});

test("flag: a User-Agent change gives ua-changed; both at once name both", async () => {
  const gate = await gateWith({});
  const cookie = await gate.login("bind-ua", { ip: IP, ua: UA });
  let s = await seen(gate, cookie, IP, "OtherBrowser/9");
  assert.equal(s.status, 200);
  assert.equal(identity(s.rec).binding, "ua-changed");
  assert.equal((await assertion(s.rec)).bind, "ua-changed");
  s = await seen(gate, cookie, IP, "OtherBrowser/9");
  assert.equal(identity(s.rec).binding, "ua-changed");
  let events = (await auditEvents(gate, "bind-ua")).filter((e) => e.event === "binding_changed");
  assert.equal(events.length, 1);
  assert.match(events[0].reason, /ua-changed/);
  assert.equal(events[0].user_agent, "OtherBrowser/9");
  s = await seen(gate, cookie, "192.0.2.44", "ThirdBrowser/3");
  assert.equal(s.status, 200);
  const b = identity(s.rec).binding;
  assert.ok(b.includes("ip-changed") && b.includes("ua-changed"), b);
  events = (await auditEvents(gate, "bind-ua")).filter((e) => e.event === "binding_changed");
  assert.equal(events.length, 2, "one more event for the new change");
  assert.equal((await adminSessions(gate, "bind-ua"))[0].flagged, true);
});

test("IPv6 compares by /64", async () => {
  const gate = await gateWith({});
  const cookie = await gate.login("bind-v6", { ip: "2001:db8:1:2::1", ua: UA });
  let s = await seen(gate, cookie, "2001:db8:1:2:ffff:eeee:dddd:9", UA);
  assert.equal(identity(s.rec).binding, "ok");
  s = await seen(gate, cookie, "2001:db8:1:3::1", UA);
  assert.equal(s.status, 200);
  assert.equal(identity(s.rec).binding, "ip-changed");
});

test("off: nothing is compared", async () => {
  const gate = await gateWith({ BIND_IP: "off", BIND_UA: "off" });
  const cookie = await gate.login("bind-off", { ip: IP, ua: UA });
  const s = await seen(gate, cookie, "192.0.2.1", "Else/1");
  assert.equal(s.status, 200);
  assert.equal(identity(s.rec).binding, "ok");
  assert.equal((await assertion(s.rec)).bind, undefined);
  assert.equal((await adminSessions(gate, "bind-off"))[0].flagged, false);
  assert.equal((await auditEvents(gate, "bind-off")).filter((e) => e.event === "binding_changed").length, 0);
});

test("reject (IP): a different network revokes the session: 401 binding_mismatch, later revoked, audit event", async () => {
  const gate = await gateWith({ BIND_IP: "reject", BIND_UA: "off" });
  const cookie = await gate.login("rej-ip", { ip: IP, ua: UA });
  const handle = await handleOf(gate, cookie, { ip: IP, ua: UA });
  // Same /24 and another UA (UA binding off): fine.
  let s = await seen(gate, cookie, "203.0.113.77", "Else/1");
  assert.equal(s.status, 200);
  gate.origin.clear();
  const res = await gate.fetch("/app", { cookie, ip: "198.51.100.7", ua: UA, headers: { accept: "application/json" } });
  await expect401(res, "binding_mismatch");
  assert.equal(gate.origin.requests.length, 0, "the mismatching request never reached the origin");
  // Even from the original address the session is gone now.
  await expect401(await gate.fetch("/app", { cookie, ip: IP, ua: UA }), "revoked", "after the mismatch");
  assert.deepEqual(await adminSessions(gate, "rej-ip"), []);
  const events = await auditEvents(gate, "rej-ip");
  const rev = events.filter((e) => e.event === "revoked" && e.reason === "binding");
  assert.equal(rev.length, 1, JSON.stringify(events));
  assert.equal(rev[0].session, handle);
  assert.equal(rev[0].ip, "198.51.100.7");
});

test("reject (UA): a different User-Agent revokes; navigations get the login redirect with reason binding_mismatch", async () => {
  const gate = await gateWith({ BIND_IP: "flag", BIND_UA: "reject" });
  const cookie = await gate.login("rej-ua", { ip: IP, ua: UA });
  // The IP side only flags.
  let s = await seen(gate, cookie, "192.0.2.1", UA);
  assert.equal(s.status, 200);
  assert.equal(identity(s.rec).binding, "ip-changed");
  const res = await gate.fetch("/app/page", { cookie, ip: "192.0.2.1", ua: "Stolen/1", headers: { "sec-fetch-mode": "navigate" } });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/login?return_to=/app/page&reason=binding_mismatch");
  assert.ok(isCleared(res));
  await expect401(await gate.fetch("/app", { cookie, ip: IP, ua: UA }), "revoked");
  const rev = (await auditEvents(gate, "rej-ua")).filter((e) => e.event === "revoked" && e.reason === "binding");
  assert.equal(rev.length, 1);
  assert.equal(rev[0].user_agent, "Stolen/1");
});

test("flag: 15 parallel requests from a new network write exactly one binding_changed event", async () => {
  const gate = await gateWith({});
  const cookie = await gate.login("bind-par", { ip: IP, ua: UA });
  const res = await Promise.all(Array.from({ length: 15 }, () => gate.fetch("/app", { cookie, ip: "198.51.100.200", ua: UA })));
  assert.deepEqual(res.map((r) => r.status), Array(15).fill(200));
  await Promise.all(res.map((r) => r.arrayBuffer()));
  const events = (await auditEvents(gate, "bind-par")).filter((e) => e.event === "binding_changed");
  assert.equal(events.length, 1, JSON.stringify(events));
});
