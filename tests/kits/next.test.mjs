// The Next.js kit (kits/next) behind the real gate: its example application under
// `next start` (a production build), with ES256 (verified through the gate's JWKS URL)
// and with HS256. The build takes about half a minute on two cores, so it is kept in
// kits/next/example/.next (gitignored) and redone only when a source it depends on (the
// example, the kit, the Node kit core, Next's version) changed since it was made.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { kitSuite, startStack, json, ROOT } from "./support.mjs";
import { rawFetch } from "../e2e/harness.mjs";

const EXAMPLE = path.join(ROOT, "kits/next/example");
const NEXT_BIN = path.join(ROOT, "node_modules/next/dist/bin/next");
const STAMP = path.join(EXAMPLE, ".next/sessiongate-sources.sha256");

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === ".next" || e.name === "node_modules" ? [] : files(p);
    return [p];
  });
}

function sourcesDigest() {
  const h = crypto.createHash("sha256");
  h.update(JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/next/package.json"), "utf8")).version);
  for (const dir of ["kits/next/example", "kits/next/src", "kits/core-js/src"]) {
    for (const f of files(path.join(ROOT, dir)).sort()) h.update(path.relative(ROOT, f)).update("\0").update(fs.readFileSync(f));
  }
  return h.digest("hex");
}

function buildOnce() {
  const want = sourcesDigest();
  if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, "utf8") === want && fs.existsSync(path.join(EXAMPLE, ".next/BUILD_ID"))) return;
  const r = spawnSync(process.execPath, [NEXT_BIN, "build"], {
    cwd: EXAMPLE, encoding: "utf8", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, timeout: 15 * 60_000,
  });
  assert.equal(r.status, 0, `next build failed:\n${r.stdout}\n${r.stderr}`);
  fs.writeFileSync(STAMP, want);
}

const start = (alg) => startStack({
  alg, command: process.execPath, args: [NEXT_BIN, "start", "-H", "127.0.0.1"], // the port from PORT
  cwd: EXAMPLE, env: { NEXT_TELEMETRY_DISABLED: "1" },
});

before(buildOnce, { timeout: 16 * 60_000 });

for (const alg of ["ES256", "HS256"]) {
  describe(`next kit, ${alg}`, () => {
    kitSuite(`next ${alg}`, () => start(alg));
  });
}

describe("next kit: a server component", () => {
  let stack;
  before(async () => { stack = await start("ES256"); });
  after(async () => { await stack?.stop(); });

  test("renders the verified identity from headers(), and refuses a request that did not come through the gate", async () => {
    const { gate, app } = stack;
    const body = "username=alice&password=wonderland";
    const res = await gate.fetch("/login", {
      method: "POST", body,
      headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(body.length) },
    });
    assert.equal(res.status, 303);
    const cookie = res.headers.getSetCookie()[0].split(";")[0];
    const page = await gate.fetch("/profile", { cookie, headers: { accept: "text/html" } });
    const html = await page.text();
    assert.equal(page.status, 200, html.slice(0, 500));
    assert.match(html, /Signed in as <span id="user">alice<\/span>/);
    assert.match(html, /Roles: <span id="roles">user, admin<\/span>/);
    const direct = await rawFetch(app.url + "/profile", { headers: { "x-session-user": "alice" } });
    assert.equal(direct.status, 401);
    assert.deepEqual(await json(direct), { error: "unauthenticated", reason: "missing_assertion" });
  });
});
