// The differential tier (issue 25): the gate must read every request at least as strictly
// as the framework that dispatches it. Seeded request variants (generator.mjs) go through
// the real gate to each kit's example application, without a session and with one that has
// not stepped up; each framework reports the handler, method and path it dispatched
// (kits/*/example/differential.*), and no request may reach a handler the configuration
// protects (or makes sensitive) unless the gate required the session (or the step-up).
//
//   DIFF_VARIANTS=2000 (per framework)  DIFF_SEED=25  DIFF_FRAMEWORKS="express rails"
//   DIFF_CONCURRENCY=4  DIFF_ONLY=<index>  (`make fuzz` runs DIFF_VARIANTS=20000)
//
// Every disagreement goes to test-artifacts/differential-<framework>.json with the request.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../e2e/harness.mjs";
import { variant } from "./generator.mjs";
import { serialize, send, dispatched } from "./client.mjs";
import { violation, required } from "./oracle.mjs";
import { FRAMEWORKS, startFramework } from "./frameworks.mjs";
import { REGRESSIONS } from "./regressions.mjs";

const COUNT = Number(process.env.DIFF_VARIANTS ?? 2000);
const SEED = Number(process.env.DIFF_SEED ?? 25);
const CONCURRENCY = Number(process.env.DIFF_CONCURRENCY ?? 4);
const ONLY = process.env.DIFF_ONLY === undefined ? null : Number(process.env.DIFF_ONLY);
const NAMES = (process.env.DIFF_FRAMEWORKS ?? Object.keys(FRAMEWORKS).join(" ")).split(/[\s,]+/).filter(Boolean);
// Requests that got no answer at all (a server that hung up) say nothing either way; more
// than this share of them means the tier is not testing what it claims.
const MAX_UNANSWERED = 0.01;

/** Sends one variant directly and through the gate with and without the session. */
async function probe(stack, v) {
  const opts = { head: v.method.toUpperCase() === "HEAD" };
  const direct = await send(stack.appPort, serialize(v, { host: `127.0.0.1:${stack.appPort}` }), opts);
  const host = `127.0.0.1:${stack.gatePort}`;
  const none = await send(stack.gatePort, serialize(v, { host }), opts);
  const user = await send(stack.gatePort, serialize(v, { host, cookie: stack.cookie }), opts);
  const out = { direct: dispatched(direct), results: [], unanswered: 0 };
  for (const [session, res] of [["none", none], ["user", user]]) {
    if (res.status === null) out.unanswered++;
    const seen = dispatched(res);
    out.results.push({ session, status: res.status, error: res.error, seen, violation: violation(session, seen) });
  }
  return out;
}

function describeRequest(v) {
  const bytes = serialize(v, { host: "gate" }).toString("latin1");
  return bytes.length > 1500 ? bytes.slice(0, 1500) + `... (${bytes.length} bytes)` : bytes;
}

async function pool(items, n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

function writeArtifact(name, found) {
  const dir = path.join(ROOT, "test-artifacts");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `differential-${name}.json`), JSON.stringify(found, null, 2));
}

for (const name of NAMES) {
  describe(`differential: ${name}`, () => {
    let stack;
    const found = [];
    before(async () => { stack = await startFramework(name); }, { timeout: 20 * 60_000 });
    after(async () => {
      writeArtifact(name, found);
      await stack?.stop();
    });

    test(`${name}: controls: the reporting routes answer, the gate refuses and forwards as configured`, async () => {
      const v = (method, target, extra = {}) => ({ method, target, headers: [], body: null, framing: "none", chunks: [], ...extra });
      let r = await probe(stack, v("GET", "/pub/x"));
      assert.deepEqual(r.results.map((x) => x.seen?.h), ["pub", "pub"], "a public page is dispatched with or without a session");
      r = await probe(stack, v("GET", "/account/data"));
      assert.deepEqual(r.direct, { h: "account", m: "GET", p: "/account/data" });
      assert.deepEqual(r.results.map((x) => x.seen?.h ?? x.status), [401, "account"], "protected: the session is required");
      r = await probe(stack, v("DELETE", "/account/data"));
      assert.equal(r.direct.m, "DELETE");
      assert.deepEqual(r.results.map((x) => x.seen?.h ?? x.status), [401, 403], "sensitive: the step-up is required");
      // The framework's own method override is on where it has one (so a leak would show).
      const body = Buffer.from("_method=DELETE");
      r = await probe(stack, v("POST", "/account/data", { body, framing: "length", headers: [["Content-Type", "application/x-www-form-urlencoded"]] }));
      assert.equal(r.direct.m, FRAMEWORKS[name].override ? "DELETE" : "POST", "the framework's method override");
      assert.deepEqual(r.results.map((x) => x.seen?.h ?? x.status), [401, 403]);
    });

    test(`${name}: ${REGRESSIONS.length} named regression cases`, async () => {
      const broken = [];
      for (const c of REGRESSIONS) {
        const v = c;
        const r = await probe(stack, v);
        if (c.frameworks.includes(name)) {
          assert.ok(r.direct && required(r.direct) === "sensitive", `${c.name}: sent directly, ${name} runs it as a sensitive request (${JSON.stringify(r.direct)})`);
        }
        for (const x of r.results.filter((y) => y.violation)) {
          broken.push(`${c.name} [${x.session}]: gate answered ${x.status}, ${name} dispatched ${JSON.stringify(x.seen)}: ${x.violation}`);
          found.push({ regression: c.name, session: x.session, gate: x.status, dispatched: x.seen, request: describeRequest(v) });
        }
      }
      assert.deepEqual(broken, []);
    });

    const indices = ONLY === null ? Array.from({ length: COUNT }, (_, i) => i) : [ONLY];
    test(`${name}: ${indices.length} seeded variants (seed ${SEED})`, { timeout: 30 * 60_000 }, async (t) => {
      const started = Date.now();
      const stats = { requests: 0, unanswered: 0, directGuarded: 0, directSensitive: 0, forwardedNone: 0, forwardedUser: 0 };
      const broken = [];
      await pool(indices, CONCURRENCY, async (i) => {
        const v = variant(SEED, i);
        const r = await probe(stack, v);
        stats.requests += 3;
        stats.unanswered += r.unanswered;
        if (r.direct && required(r.direct) !== "public") stats.directGuarded++;
        if (r.direct && required(r.direct) === "sensitive") stats.directSensitive++;
        for (const x of r.results) {
          if (x.seen) stats[x.session === "none" ? "forwardedNone" : "forwardedUser"]++;
          if (!x.violation) continue;
          broken.push(`#${i} [${x.session}] ${v.method} ${v.target}: gate answered ${x.status}, ${name} dispatched ${JSON.stringify(x.seen)}`);
          found.push({ index: i, seed: SEED, session: x.session, gate: x.status, dispatched: x.seen, request: describeRequest(v) });
        }
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      t.diagnostic(`${name}: ${indices.length} variants, ${stats.requests} requests in ${seconds} s; sent directly, ${stats.directGuarded} reach a guarded handler (${stats.directSensitive} a sensitive one); through the gate ${stats.forwardedNone} dispatched without a session, ${stats.forwardedUser} with one; ${stats.unanswered} unanswered`);
      assert.ok(stats.unanswered <= MAX_UNANSWERED * 2 * indices.length, `${stats.unanswered} requests through the gate got no answer`);
      assert.ok(ONLY !== null || stats.directSensitive > indices.length / 20, "the variants reach sensitive handlers when sent directly (the tier can fail)");
      assert.equal(broken.length, 0, `${broken.length} disagreements (test-artifacts/differential-${name}.json):\n${broken.slice(0, 30).join("\n")}`);
    });
  });
}
