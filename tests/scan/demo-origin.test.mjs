// (a) The demo origin reached directly, without the gate in front of it.
//
// The demo origin is built to sit behind sessiongate: it sets no cookie of its own (the gate
// issues sessions from its X-Session-Command answers) and trusts identity only with a valid
// X-Session-Assertion. Reached directly, the scan must show exactly that: the gate-only
// command header leaks to the client, no session cookie exists, plain HTTP on loopback,
// and - to its credit - spoofed identity headers get nowhere.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemoOrigin } from "../../demo/origin.mjs";
import { SECRETS } from "../e2e/harness.mjs";
import { buildScanner, scan, findingKeys, LOGIN, CREDENTIALS } from "./scan-helpers.mjs";

let demo;
before(async () => {
  buildScanner();
  demo = await startDemoOrigin({ port: 0, secret: SECRETS.ORIGIN_SECRET });
});
after(() => demo?.close());

test("the demo origin reached directly: exactly the expected findings", async () => {
  const r = await scan([demo.url, ...LOGIN, "--json", "--fail-on", "high"], CREDENTIALS);
  assert.ok(r.report, `no JSON report: ${r.stdout}\n${r.stderr}`);
  assert.deepEqual(findingKeys(r.report), [
    "origin-command-exposed X-Session-Command high",
    "session-cookie-not-found login info",
    `transport-no-hsts ${demo.url} info`,
    `transport-no-https-redirect ${demo.url} info`,
  ]);
  assert.equal(r.report.grade, "D");
  assert.equal(r.code, 1);
  assert.equal(r.report.session_cookie, null);
  const exposed = r.report.findings.find((f) => f.id === "origin-command-exposed");
  assert.match(exposed.observed, /^POST \/login -> 303 carried X-Session-Command \(value not shown\)$/);
  const missing = r.report.findings.find((f) => f.id === "session-cookie-not-found");
  assert.match(missing.observed, /POST \/login user=\$SCAN_USER password=\$SCAN_PASSWORD -> 303 Location: \/app; no cookie was set/);
  // Identity headers were probed and refused: the origin trusts only a verified assertion.
  assert.ok(r.report.passed.some((p) => p.startsWith("identity headers (X-Session-User, X-Forwarded-User, Remote-User)")), r.report.passed.join("\n"));
});

test("without a login recipe: no session cookie on the public pages", async () => {
  const r = await scan([demo.url, "--json"]);
  assert.deepEqual(findingKeys(r.report), [
    "session-cookie-not-found site info",
    `transport-no-hsts ${demo.url} info`,
    `transport-no-https-redirect ${demo.url} info`,
  ]);
  assert.equal(r.report.grade, "A");
  assert.equal(r.code, 0);
});
