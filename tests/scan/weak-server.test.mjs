// (c) A deliberately weak server: the scan must fail with exactly the weaknesses built into it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWeakServer } from "./weak-server.mjs";
import { buildScanner, scan, findingKeys, LOGIN, CREDENTIALS } from "./scan-helpers.mjs";

let weak;
before(async () => {
  buildScanner();
  weak = await startWeakServer();
});
after(() => weak?.close());

test("the weak server fails with exactly its built-in weaknesses", async () => {
  const r = await scan([weak.url, ...LOGIN, "--idle-probe", "2s", "--json", "--fail-on", "high"], CREDENTIALS);
  assert.ok(r.report, `no JSON report: ${r.stdout}\n${r.stderr}`);
  const origin = weak.url;
  assert.deepEqual(findingKeys(r.report), [
    "cookie-httponly-missing SESSIONID high",
    "cookie-prefix-missing SESSIONID low",
    "cookie-samesite-missing SESSIONID medium",
    "cookie-secure-missing SESSIONID high",
    "identity-header-accepted X-Forwarded-User critical",
    "idle-timeout-not-enforced SESSIONID medium",
    "login-id-not-regenerated SESSIONID high",
    "logout-session-alive SESSIONID high",
    "session-id-in-body SESSIONID medium",
    "session-id-in-url SESSIONID high",
    "session-id-low-entropy SESSIONID critical",
    "session-id-sequential SESSIONID critical",
    `transport-no-hsts ${origin} info`,
    `transport-no-https-redirect ${origin} info`,
  ]);
  assert.equal(r.report.grade, "F");
  assert.equal(r.code, 1, "--fail-on high must fail");
  assert.equal(r.report.session_cookie, "SESSIONID");
  const a = r.report.session_id_analysis;
  assert.equal(a.samples, 20);
  assert.equal(a.alphabet, "decimal");
  assert.match(a.sequential, /^decimal counter/);
  assert.ok(a.estimated_bits < 16, `estimated ${a.estimated_bits} bits`);

  const byId = Object.fromEntries(r.report.findings.map((f) => [f.id, f]));
  // Exact headers are quoted; ASVS references and fixes are present.
  assert.match(byId["cookie-httponly-missing"].observed, /-> Set-Cookie: SESSIONID=\d+; Path=\/$/);
  assert.equal(byId["cookie-httponly-missing"].asvs, "ASVS 5.0 V3.3.4");
  assert.match(byId["session-id-in-url"].observed, /POST \/login -> 302 Location: \/account\?sid=/);
  assert.match(byId["identity-header-accepted"].observed, /GET \/account with X-Forwarded-User: scanner-probe -> 200/);
  assert.equal(byId["login-id-not-regenerated"].asvs, "ASVS 5.0 V7.2.4");
  assert.equal(byId["logout-session-alive"].asvs, "ASVS 5.0 V7.4.1");
  for (const f of r.report.findings) assert.ok(f.why && f.fix && f.title, f.id);
});

test("the text report and exit codes", async () => {
  const r = await scan([weak.url, ...LOGIN, "--samples", "5"], CREDENTIALS);
  assert.equal(r.code, 0, "without --fail-on the scan itself succeeds");
  assert.match(r.stdout, /^sessiongate-scan report for http:\/\/127\.0\.0\.1:\d+\/\nGrade: F /);
  assert.match(r.stdout, /\[CRITICAL\] session-id-sequential: Session IDs are sequential \(SESSIONID\)/);
  assert.match(r.stdout, /fix: +Issue a new session ID at every login/);
  const crit = await scan([weak.url, "--fail-on", "critical", "--samples", "5"]);
  assert.equal(crit.code, 1);
});

test("credentials only from the environment", async () => {
  const literal = await scan([weak.url, "--login", "POST /login user=alice password=correct-horse-battery"]);
  assert.equal(literal.code, 2);
  assert.match(literal.stderr, /looks like a credential/);
  assert.doesNotMatch(literal.stderr, /correct-horse-battery/);
  const missing = await scan([weak.url, ...LOGIN], { SCAN_USER: "alice", SCAN_PASSWORD: "" });
  // An empty variable is still set: the login fails with 401, and the error says so without the value.
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /answered 401/);
  const unset = await scan([weak.url, ...LOGIN], { SCAN_USER: "alice" });
  assert.equal(unset.code, 2);
  assert.match(unset.stderr, /environment variable SCAN_PASSWORD .* is not set/);
});
