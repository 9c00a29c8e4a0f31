// The Next.js kit (kits/next) behind the real gate: its example application under
// `next start` (a production build), with ES256 (verified through the gate's JWKS URL)
// and with HS256. The build takes about half a minute on two cores, so it is kept in
// kits/next/example/.next (gitignored) and redone only when a source it depends on (the
// example, the kit, the Node kit core, Next's version) changed since it was made.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { kitSuite, startStack, json } from "./support.mjs";
import { buildOnce, EXAMPLE, NEXT_BIN } from "./next-build.mjs";
import { rawFetch } from "../e2e/harness.mjs";

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
