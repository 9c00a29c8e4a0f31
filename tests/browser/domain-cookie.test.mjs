// COOKIE_DOMAIN in a real browser: the __Secure- cookie with Domain is stored once and
// sent to both subdomains, over real (self-signed) HTTPS, with two host names mapped to
// loopback; page scripts never see it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, launch, loginViaForm, USER } from "./support.mjs";

const DOMAIN = "example.test";
let stack;
let browser;
let port;
before(async () => {
  stack = await startStack({ COOKIE_DOMAIN: DOMAIN }, { https: true });
  port = new URL(stack.base).port;
  browser = await launch([`--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1, MAP ${DOMAIN} 127.0.0.1`]);
});
after(async () => {
  await browser?.close();
  await stack?.close();
});

const url = (host, p) => `https://${host}.${DOMAIN}:${port}${p}`;

test("one sign-in on app. is the session on admin.; the Domain cookie is HttpOnly and Secure", async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  try {
    const login = await loginViaForm(page, url("app", ""));
    assert.equal(login.status(), 303);
    const raw = (await login.headersArray()).filter((h) => h.name.toLowerCase() === "set-cookie").map((h) => h.value).find((v) => v.startsWith("__Secure-session="));
    assert.ok(raw, "the login response sets __Secure-session");
    assert.match(raw, /; Domain=example\.test; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    assert.equal(await page.textContent("#who"), USER);

    // What DevTools (Application -> Cookies) shows: one cookie, Domain column .example.test.
    const cookies = (await context.cookies()).filter((c) => c.name.startsWith("__Secure-session"));
    assert.equal(cookies.length, 1, JSON.stringify(cookies));
    const [c] = cookies;
    assert.equal(c.domain, `.${DOMAIN}`, "a domain cookie: leading dot in DevTools' Domain column");
    assert.equal(c.path, "/");
    assert.equal(c.httpOnly, true);
    assert.equal(c.secure, true);
    assert.equal(c.sameSite, "Lax");
    assert.equal((await context.cookies(url("admin", "/"))).filter((x) => x.name === c.name).length, 1, "sent to admin. too");

    await page.goto(url("admin", "/app"));
    assert.equal(new URL(page.url()).host, `admin.${DOMAIN}:${port}`, "not sent to a login page");
    assert.equal(await page.textContent("#who"), USER, "signed in on the sibling host");
    assert.equal(await page.textContent("#assertion-status"), "verified");
    for (const host of ["app", "admin"]) {
      await page.goto(url(host, "/"));
      assert.ok(!(await page.evaluate(() => document.cookie)).includes("__Secure-session"), `document.cookie on ${host}. never shows it`);
    }

    // Log out from admin.: the cookie is gone for app. as well.
    const status = await page.evaluate(() => fetch("/.sessiongate/logout", { method: "POST", headers: { accept: "application/json" } }).then((r) => r.status));
    assert.equal(status, 200);
    assert.equal((await context.cookies()).filter((x) => x.name === c.name).length, 0, "cleared with the same Domain");
    await page.goto(url("app", "/app"));
    assert.equal(new URL(page.url()).pathname, "/login", "app. sends the browser to sign in again");
  } finally {
    await context.close();
  }
});
