// Cross-site request forgery. Unsafe methods carrying the session cookie are refused
// with 403 {"error":"cross_site_request"} when Origin is neither ours nor in
// ALLOWED_ORIGINS (whatever Sec-Fetch-Site says) or, without Origin, when Sec-Fetch-Site
// is anything but same-origin or none.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGate } from "./harness.mjs";
import { body, handleOf } from "./session-helpers.mjs";

const PARTNER = "https://partner.example";
let gate;
let cookie;
before(async () => {
  gate = await startGate({ vars: { ALLOWED_ORIGINS: `${PARTNER}, https://admin.example` } });
  cookie = await gate.login("csrf-user");
});
after(async () => {
  await gate?.dispose();
});

const UNSAFE = ["POST", "PUT", "PATCH", "DELETE"];

async function blocked(res, what) {
  const b = await body(res);
  assert.equal(res.status, 403, `${what}: expected 403, got ${res.status} ${JSON.stringify(b)}`);
  assert.deepEqual(b, { error: "cross_site_request" }, what);
}

test("Sec-Fetch-Site: cross-site on an unsafe method with the cookie is refused; nothing reaches the origin", async () => {
  gate.origin.clear();
  for (const method of UNSAFE) {
    await blocked(await gate.fetch("/app/transfer", { method, cookie, headers: { "sec-fetch-site": "cross-site" } }), method);
    await blocked(await gate.fetch("/app/transfer", { method, cookie, headers: { "sec-fetch-site": "Cross-Site", origin: gate.base } }), `${method} (Origin ours but Sec-Fetch-Site decides)`);
  }
  // A public path is no exception while the cookie rides along.
  await blocked(await gate.fetch("/public/form", { method: "POST", cookie, headers: { "sec-fetch-site": "cross-site" } }), "public path");
  // A login CSRF carrying the victim's cookie cannot swap the session.
  await blocked(await gate.fetch("/login", { method: "POST", cookie, command: { action: "login", user: "attacker" }, headers: { "sec-fetch-site": "cross-site" } }), "login");
  assert.equal(gate.origin.requests.length, 0);
  assert.equal((await gate.fetch("/app", { cookie })).status, 200, "the session is untouched");
});

test("a foreign Origin is refused whatever Sec-Fetch-Site says; without Origin only same-origin and none pass", async () => {
  for (const site of ["same-origin", "same-site", "none", "garbage"]) {
    await blocked(await gate.fetch("/app/save", { method: "POST", cookie, headers: { "sec-fetch-site": site, origin: "https://evil.example" } }), `${site} + foreign Origin`);
  }
  await blocked(await gate.fetch("/app/save", { method: "POST", cookie, headers: { "sec-fetch-site": "same-site" } }), "same-site alone (a sibling subdomain)");
  for (const site of ["same-origin", "none"]) {
    const res = await gate.fetch("/app/save", { method: "POST", cookie, headers: { "sec-fetch-site": site } });
    assert.equal(res.status, 200, site);
    await res.arrayBuffer();
  }
  for (const site of ["same-site", "cross-site"]) {
    const res = await gate.fetch("/app/save", { method: "POST", cookie, headers: { "sec-fetch-site": site, origin: PARTNER } });
    assert.equal(res.status, 200, `${site} from an ALLOWED_ORIGINS origin`);
    await res.arrayBuffer();
  }
});

test("without Sec-Fetch-Site: a foreign Origin is refused, our own origin and ALLOWED_ORIGINS pass", async () => {
  for (const method of UNSAFE) {
    for (const origin of ["https://evil.example", "null", `${gate.base}.evil.example`, gate.base.replace(/:\d+$/, ":1"), "https://partner.example.evil", "http://partner.example"]) {
      await blocked(await gate.fetch("/app/save", { method, cookie, headers: { origin } }), `${method} Origin ${origin}`);
    }
    for (const origin of [gate.base, PARTNER, "https://admin.example"]) {
      const res = await gate.fetch("/app/save", { method, cookie, headers: { origin } });
      assert.equal(res.status, 200, `${method} Origin ${origin}`);
      await res.arrayBuffer();
    }
  }
});

test("own origin is scheme-exact: over https the gate's origin is https://<host>", async () => {
  // Its own session (an HTTPS request would give the shared plain-HTTP session a new ID).
  const tls = await gate.login("csrf-tls", { https: true });
  let res = await gate.fetch("/app/save", { method: "POST", cookie: tls, https: true, headers: { origin: "https://gate.test" } });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  res = await gate.fetch("/app/save", { method: "POST", cookie: tls, https: true, headers: { origin: "http://gate.test" } });
  await blocked(res, "http origin against an https gate");
});

test("requests with neither header pass; safe methods and requests without the cookie are not checked", async () => {
  let res = await gate.fetch("/app/save", { method: "POST", cookie });
  assert.equal(res.status, 200, "neither Sec-Fetch-Site nor Origin");
  await res.arrayBuffer();
  for (const method of ["GET", "HEAD", "OPTIONS"]) {
    res = await gate.fetch("/app/read", { method, cookie, headers: { "sec-fetch-site": "cross-site", origin: "https://evil.example" } });
    assert.equal(res.status, 200, method);
    await res.arrayBuffer();
  }
  res = await gate.fetch("/public/form", { method: "POST", headers: { "sec-fetch-site": "cross-site", origin: "https://evil.example" } });
  assert.equal(res.status, 200, "no session cookie: nothing to forge");
  await res.arrayBuffer();
  // Other cookies alone do not count as the session cookie.
  res = await gate.fetch("/public/form", { method: "POST", cookie: "theme=dark", headers: { "sec-fetch-site": "cross-site" } });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});

test("the gate's own endpoints are protected too: a cross-site 'log out everywhere' does nothing", async () => {
  const victim = await gate.login("csrf-victim");
  const handle = await handleOf(gate, victim);
  await blocked(await gate.fetch("/.sessiongate/sessions", { method: "DELETE", cookie: victim, headers: { "sec-fetch-site": "cross-site" } }), "DELETE /.sessiongate/sessions");
  await blocked(await gate.fetch(`/.sessiongate/sessions/${handle}`, { method: "DELETE", cookie: victim, headers: { origin: "https://evil.example" } }), "DELETE one session");
  await blocked(await gate.fetch("/.sessiongate/logout", { method: "POST", cookie: victim, headers: { origin: "https://evil.example" } }), "POST logout");
  assert.equal((await gate.fetch("/app", { cookie: victim })).status, 200, "still signed in");
});
