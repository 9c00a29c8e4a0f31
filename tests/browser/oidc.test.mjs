// Edge sign-in in a real browser: from a protected page of the demo, through the demo's
// login page ("Sign in with the identity provider"), the provider's login and consent
// screens (panva's oidc-provider, demo/idp.mjs), back to the page signed in, with the
// session cookie as DevTools shows it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import Provider from "oidc-provider";
import { startGate, SECRETS } from "../e2e/harness.mjs";
import { startDemoOrigin } from "../../demo/origin.mjs";
import { demoProviderConfig } from "../../demo/idp.mjs";
import { launch, gateCookie, status, DEMO_VARS, COOKIE } from "./support.mjs";

const CLIENT_ID = "sessiongate-browser";
const CLIENT_SECRET = "browser-test-client-secret-0123456789";

let server;
let demo;
let gate;
let browser;
before(async () => {
  let handler = (req, res) => { res.statusCode = 503; res.end(); };
  server = http.createServer((req, res) => handler(req, res));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  demo = await startDemoOrigin({ port: 0, secret: SECRETS.ORIGIN_SECRET, edgeSignIn: true });
  gate = await startGate({
    origin: demo,
    vars: { ...DEMO_VARS, OIDC_ISSUER: issuer, OIDC_CLIENT_ID: CLIENT_ID, OIDC_CLIENT_SECRET: CLIENT_SECRET, LOGIN_URL: "/login" },
  });
  handler = new Provider(issuer, demoProviderConfig({ gateUrl: gate.base, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })).callback();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await gate?.dispose();
  await demo?.close();
  await new Promise((r) => { server?.closeAllConnections?.(); server?.close(() => r()); });
});

test("edge sign-in in Chromium: protected page, the provider's login and consent, back signed in with a hardened cookie", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(gate.base + "/app");
    assert.equal(new URL(page.url()).pathname, "/login", "a protected page sends the browser to the login page");
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith("/interaction/")), page.click("#idp-login")]);
    // The provider's development login screen, then its consent screen.
    await page.fill('input[name="login"]', "alice");
    await page.fill('input[name="password"]', "any password");
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith("/interaction/")), page.click('button[type="submit"]')]);
    await Promise.all([page.waitForURL(gate.base + "/app"), page.click('button[type="submit"]')]);
    assert.equal(await page.textContent("#who"), "alice");
    assert.equal(await page.textContent("#assertion-status"), "verified");

    const c = await gateCookie(context);
    assert.ok(c, "the gate's cookie is stored");
    assert.equal(c.name, COOKIE);
    assert.equal(c.httpOnly, true);
    assert.equal(c.secure, true);
    assert.equal(c.sameSite, "Lax");
    assert.equal(c.path, "/");
    assert.equal(c.domain, "127.0.0.1");
    assert.equal(c.expires, -1, "a browser-session cookie");
    assert.match(c.value, /^[A-Za-z0-9_-]{100,199}$/);
    const flows = (await context.cookies()).filter((k) => k.name.startsWith("__Host-sessiongate-oidc-"));
    assert.deepEqual(flows, [], "the flow cookie is gone");
    assert.ok(!(await page.evaluate(() => document.cookie)).includes(c.value), "script cannot read the session cookie");
    const s = await status(page);
    assert.equal(s.authenticated, true);
    assert.equal(s.user, "alice");
  } finally {
    await context.close();
  }
});
