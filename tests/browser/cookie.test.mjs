// The session cookie as a real browser stores it: log in through the
// demo's form in headless Chromium and read the cookie the way DevTools shows it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useStack, loginViaForm, gateCookie, status, COOKIE } from "./support.mjs";

const env = useStack();

/** What DevTools (Application -> Cookies) must show for the gate's cookie. */
function assertHardened(c, { persistent = false } = {}) {
  assert.ok(c, "the gate's cookie is stored");
  assert.equal(c.name, COOKIE);
  assert.equal(c.httpOnly, true, "HttpOnly");
  assert.equal(c.secure, true, "Secure");
  assert.equal(c.sameSite, "Lax", "SameSite as configured (default Lax)");
  assert.equal(c.path, "/", "Path=/");
  assert.equal(c.domain, "127.0.0.1", "host-only: no Domain attribute, so no leading dot");
  assert.ok(!c.domain.startsWith("."));
  assert.match(c.value, /^[A-Za-z0-9_-]{100,199}$/);
  if (!persistent) assert.equal(c.expires, -1, "a browser-session cookie (no Expires / Max-Age)");
}

test("login through the form: a hardened, host-only, HttpOnly session cookie whose value changes across login", async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  try {
    // A guest cart starts an anonymous session: the pre-login cookie.
    await page.goto(env.stack.base + "/");
    assert.equal(await gateCookie(context), undefined, "no cookie before anything needs one");
    await page.selectOption("#item", "Green tea");
    await Promise.all([page.waitForURL(env.stack.base + "/"), page.click('button[name="op"][value="add"]')]);
    const guest = await gateCookie(context);
    assertHardened(guest);
    assert.match(await page.textContent("#cart"), /Green tea × 1/);

    const login = await loginViaForm(page, env.stack.base);
    assert.equal(login.status(), 303);
    const setCookie = (await login.headersArray()).filter((h) => h.name.toLowerCase() === "set-cookie").map((h) => h.value);
    const raw = setCookie.find((v) => v.startsWith(COOKIE + "="));
    assert.ok(raw, `Set-Cookie for ${COOKIE} on the login response: ${setCookie}`);
    assert.match(raw, /; Path=\/(;|$)/);
    assert.match(raw, /; HttpOnly(;|$)/);
    assert.match(raw, /; Secure(;|$)/);
    assert.match(raw, /; SameSite=Lax(;|$)/);
    assert.doesNotMatch(raw, /Domain=|Max-Age=|Expires=/i);
    assert.equal(new URL(page.url()).pathname, "/app");
    assert.equal(await page.textContent("#who"), "alice");
    assert.equal(await page.textContent("#assertion-status"), "verified");

    const first = await gateCookie(context);
    assertHardened(first);
    assert.notEqual(first.value, guest.value, "login issued a new session ID");
    assert.equal((await context.cookies()).filter((c) => c.name === COOKIE).length, 1, "exactly one gate cookie");

    // Script can't read it.
    const visible = await page.evaluate(() => document.cookie);
    assert.ok(!visible.includes(COOKIE), `document.cookie = ${JSON.stringify(visible)}`);
    assert.ok(!visible.includes(first.value));

    // The guest cart survived the login; the guest ID is dead.
    await page.goto(env.stack.base + "/");
    assert.match(await page.textContent("#cart"), /Green tea × 1/);
    const r = await env.stack.gate.fetch("/.sessiongate/status", { cookie: `${COOKIE}=${guest.value}` });
    assert.equal((await r.json()).authenticated, false);

    // Signing in again (already signed in) issues yet another ID; the previous one is revoked.
    await loginViaForm(page, env.stack.base);
    const second = await gateCookie(context);
    assertHardened(second);
    assert.notEqual(second.value, first.value);
    const old = await env.stack.gate.fetch("/.sessiongate/status", { cookie: `${COOKIE}=${first.value}` });
    assert.deepEqual(await old.json(), { authenticated: false, reason: "revoked" });
    assert.equal((await status(page)).authenticated, true);
  } finally {
    await context.close();
  }
});

test('"Keep me signed in" makes it a persistent cookie expiring with the absolute timeout', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  try {
    await loginViaForm(page, env.stack.base, { persistent: true });
    const c = await gateCookie(context);
    assertHardened(c, { persistent: true });
    const expected = Date.now() / 1000 + 24 * 3600; // ABSOLUTE_TIMEOUT default 24h
    assert.ok(Math.abs(c.expires - expected) < 60, `expires ${c.expires}, expected about ${expected}`);
    const s = await status(page);
    assert.ok(Math.abs(c.expires - s.absolute_expires_at) < 5, "the cookie lives as long as the session may");
  } finally {
    await context.close();
  }
});

test("a navigation without a session goes to the login page and back after login; logout removes the cookie from the browser", async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(env.stack.base + "/app?tab=1");
    const u = new URL(page.url());
    assert.equal(u.pathname, "/login");
    assert.equal(u.searchParams.get("return_to"), "/app?tab=1");
    assert.equal(u.searchParams.get("reason"), "missing");
    assert.match(await page.textContent("#login-notice"), /Please sign in/);
    // Sign in from there: back to where we wanted to go.
    await page.fill("#user", "alice");
    await page.fill("#password", "correct-horse-battery");
    await Promise.all([page.waitForURL(/\/app\?tab=1$/), page.click('#login-form button[type="submit"]')]);
    // The gate logs out (POST /.sessiongate/logout from the page): the browser drops the cookie.
    const res = await page.evaluate(() => fetch("/.sessiongate/logout", { method: "POST" }).then((r) => r.status));
    assert.equal(res, 200);
    assert.equal(await gateCookie(context), undefined);
  } finally {
    await context.close();
  }
});
