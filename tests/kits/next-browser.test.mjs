// Issue 28: the Next.js kit's client side in a real browser (Debian's Chromium through
// playwright-core) behind the real gate, deployed as the kit README says:
// /_next/static/* in PUBLIC_PATHS and STATIC_PATHS (a page hydrates before anyone signed
// in), compress: false. useSession() reads /.sessiongate/status, a server action signs in
// (signInFromAction and the completion route), signOut() ends the gate's session, and
// signIn() goes to the login page with return_to, which the login route honours.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startStack, ROOT } from "./support.mjs";
import { buildOnce, EXAMPLE, NEXT_BIN } from "./next-build.mjs";
import { launch } from "../browser/support.mjs";
import { sessionCookie } from "../e2e/harness.mjs";

describe("next kit in a browser: useSession, a server action's sign-in, signOut, signIn", () => {
  let stack;
  let browser;
  before(async () => {
    buildOnce();
    stack = await startStack({
      alg: "ES256", command: process.execPath, args: [NEXT_BIN, "start", "-H", "127.0.0.1"], cwd: EXAMPLE,
      env: { NEXT_TELEMETRY_DISABLED: "1" },
      vars: { PUBLIC_PATHS: "/login,/public,/welcome,/sessiongate/signin,/_next/static/*", STATIC_PATHS: "/_next/static/*" },
    });
    browser = await launch();
  }, { timeout: 16 * 60_000 });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test("hydrates without a session, signs in from a server action, shows the session, signs out, signIn carries return_to", async () => {
    const { gate } = stack;
    const page = await browser.newPage();
    await page.goto(`${gate.base}/welcome`);
    await page.waitForFunction(() => document.querySelector("#status")?.textContent === "unauthenticated", null, { timeout: 30_000 });

    await page.fill("#username", "alice");
    await page.fill("#password", "wonderland");
    await Promise.all([page.waitForURL(`${gate.base}/welcome`, { timeout: 30_000 }), page.click("#action-sign-in")]);
    await page.waitForFunction(() => document.querySelector("#status")?.textContent === "authenticated", null, { timeout: 30_000 });
    assert.equal(await page.textContent("#who"), "alice");
    const cookies = await page.context().cookies();
    assert.ok(cookies.some((c) => c.name === "__Host-session" || c.name.endsWith("session")), JSON.stringify(cookies.map((c) => c.name)));
    assert.ok(!cookies.some((c) => c.name === "sessiongate-signin" && c.value), "the ticket is used and cleared");

    await page.click("#sign-out");
    await page.waitForFunction(() => document.querySelector("#status")?.textContent === "unauthenticated", null, { timeout: 30_000 });

    await Promise.all([page.waitForURL(/\/login\?return_to=/, { timeout: 30_000 }), page.click("#sign-in")]);
    assert.equal(new URL(page.url()).searchParams.get("return_to"), "/welcome");
    await page.fill("input[name=username]", "bob");
    await page.fill("input[name=password]", "builder");
    await Promise.all([page.waitForURL(`${gate.base}/welcome`, { timeout: 30_000 }), page.click("button")]);
    await page.waitForFunction(() => document.querySelector("#who")?.textContent === "bob", null, { timeout: 30_000 });
  });

  test("a forged sign-in ticket signs nobody in", async () => {
    const { gate } = stack;
    const forged = Buffer.from(JSON.stringify({ command: { action: "login", user: "mallory", roles: [] }, returnTo: "/", exp: 9e9, nonce: "n" })).toString("base64url");
    for (const value of ["e30.AAAA", `${forged}.${"A".repeat(43)}`, ""]) {
      const res = await gate.fetch("/sessiongate/signin", { cookie: `sessiongate-signin=${value}` });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/login");
      assert.equal(sessionCookie(res), null, "no session");
    }
  });
});
