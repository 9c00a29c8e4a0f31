// (b) The demo origin behind the gate, in the real runtime (workerd via miniflare, real
// SQLite Durable Objects): every session check passes. What remains is inherent to
// plain-HTTP loopback, where the harness runs the gate with REQUIRE_HTTPS=false:
//   - transport-no-https-redirect (info): the gate answers http:// itself instead of a 308;
//     in production REQUIRE_HTTPS=true (the default) sends the 308;
//   - transport-no-hsts (info): over http:// an HSTS header would be ignored by browsers anyway;
//     with REQUIRE_HTTPS=true the gate adds max-age=31536000 to HTTPS responses
//     (tests/e2e/hsts.test.mjs).
// The scanner reports both as info on loopback hosts and as high/medium anywhere else.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemoOrigin } from "../../demo/origin.mjs";
import { startGate, SECRETS, COOKIE } from "../e2e/harness.mjs";
import { buildScanner, scan, findingKeys, LOGIN, CREDENTIALS } from "./scan-helpers.mjs";

let demo;
let gate;
before(async () => {
  buildScanner();
  demo = await startDemoOrigin({ port: 0, secret: SECRETS.ORIGIN_SECRET });
  gate = await startGate({
    origin: demo,
    vars: {
      PUBLIC_PATHS: "/,/login,/cart,/static/*,/favicon.ico",
      SENSITIVE_PATHS: "/account/*",
      // Short, so that the idle probe below takes seconds rather than half an hour.
      IDLE_TIMEOUT: "3s",
    },
  });
  // Warm up workerd (the first request is slow) before anything is timed.
  await (await gate.fetch("/")).arrayBuffer();
});
after(async () => {
  await gate?.dispose();
  await demo?.close();
});

test("the demo origin behind the gate is clean but for plain-HTTP loopback", async () => {
  const r = await scan([gate.base, ...LOGIN, "--idle-probe", "5s", "--json", "--fail-on", "low"], CREDENTIALS);
  assert.ok(r.report, `no JSON report: ${r.stdout}\n${r.stderr}`);
  assert.deepEqual(findingKeys(r.report), [`transport-no-hsts ${gate.base} info`, `transport-no-https-redirect ${gate.base} info`]);
  assert.equal(r.report.grade, "A");
  assert.equal(r.code, 0, "nothing at or above low");
  assert.equal(r.report.session_cookie, COOKIE);

  // The session IDs: the gate's 130-character base64url tokens. Logins of one user share the
  // first 44 characters (version byte + the user's Durable Object id); the rest varies.
  const a = r.report.session_id_analysis;
  assert.equal(a.samples, 20);
  assert.equal(a.distinct, 20);
  assert.equal(a.min_len, 130);
  assert.equal(a.max_len, 130);
  assert.equal(a.alphabet, "base64url");
  assert.equal(a.constant_prefix, 44);
  assert.ok(a.estimated_bits >= 256, `estimated ${a.estimated_bits} bits`);
  assert.equal(a.sequential, null);
  assert.equal(a.time_based, null);

  const passed = r.report.passed.join("\n");
  assert.match(passed, /fixation: logging in with a planted __Host-session cookie issued a fresh ID/);
  assert.match(passed, /logout: the old ID is refused afterwards \(GET \/app -> 302\)/);
  assert.match(passed, /idle timeout: refused after 5s idle \(GET \/app -> 302\)/);
  assert.match(passed, /identity headers \(X-Session-User, X-Forwarded-User, Remote-User\) from the client: not reflected, open nothing/);
  assert.deepEqual(r.report.skipped, []);
});
