// The expiry warning in a real browser: /.sessiongate/client.js
// on the demo's /app, with IDLE_TIMEOUT 20s and WARNING_WINDOW 15s.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { useStack, loginViaForm, gateCookie, status, artifact } from "./support.mjs";

const IDLE = 20;
const WINDOW = 15;

const env = useStack({ IDLE_TIMEOUT: `${IDLE}s`, WARNING_WINDOW: `${WINDOW}s` });

/** Seconds shown in "Your session expires in m:ss". */
function shown(text) {
  const m = /Your session expires in (\d+):(\d\d)/.exec(text ?? "");
  assert.ok(m, `banner text: ${JSON.stringify(text)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('the banner appears, "Stay signed in" extends the session, and doing nothing lands on the login page with the reason', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1000, height: 600 } });
  const page = await context.newPage();
  try {
    await loginViaForm(page, env.stack.base);
    const loggedIn = Date.now();
    assert.equal(new URL(page.url()).pathname, "/app");

    const banner = page.locator("#sessiongate-banner");
    await banner.waitFor({ state: "visible", timeout: (IDLE + 30) * 1000 });
    assert.equal(await banner.getAttribute("role"), "alert");
    const stay = page.getByRole("button", { name: "Stay signed in" });
    assert.ok(await stay.isVisible());
    const left = shown(await banner.textContent());
    assert.ok(left > 0 && left <= IDLE, `shows ${left} s`);
    assert.equal(await page.getByRole("alert").filter({ hasText: "Your session expires in" }).count(), 1, "exposed as an alert");

    // Let a few seconds pass so a slide is visible in whole seconds, then take the picture.
    await sleep(Math.max(0, 3500 - (Date.now() - loggedIn)));
    await page.screenshot({ path: artifact("banner.png") });
    await banner.screenshot({ path: artifact("banner-element.png") });
    assert.ok(fs.statSync(artifact("banner.png")).size > 10_000);

    const before = await status(page);
    assert.equal(before.authenticated, true);
    const clicked = Date.now() / 1000;
    await stay.click();
    // Poll (under a deadline generous for a loaded machine) until the refresh shows.
    const deadline = Date.now() + 30_000;
    let after = before;
    while (after.idle_expires_at <= before.idle_expires_at && Date.now() < deadline) {
      await sleep(200);
      after = await status(page);
    }
    assert.ok(after.idle_expires_at > before.idle_expires_at, `idle_expires_at ${before.idle_expires_at} -> ${after.idle_expires_at}`);
    // Slid to the refresh's second + IDLE; the refresh came after the click.
    assert.ok(after.idle_expires_at >= Math.floor(clicked) + IDLE, `slid to ${after.idle_expires_at}, clicked at ${clicked}`);
    assert.equal(after.absolute_expires_at, before.absolute_expires_at, "the absolute limit never moves");
    // Whatever the banner shows now counts down from the new deadline (a second of slack
    // for the page's own timer), however long the polling took.
    if (await banner.isVisible()) {
      const left = shown(await banner.textContent());
      assert.ok(left >= after.idle_expires_at - Math.ceil(Date.now() / 1000) - 1 && left <= IDLE, `countdown restarted: ${left}`);
    }

    // Now do nothing: at the idle deadline the page goes to the login page with the reason.
    await page.waitForURL(/reason=idle_timeout/, { timeout: (IDLE + 30) * 1000 });
    const u = new URL(page.url());
    assert.equal(u.pathname, "/login");
    assert.equal(u.searchParams.get("return_to"), "/app");
    assert.ok(Date.now() / 1000 >= after.idle_expires_at - 1, "not before the deadline");
    assert.match(await page.textContent("#login-notice"), /inactivity/, "the reason is shown");
    assert.equal(await gateCookie(context), undefined, "the expired cookie was cleared");
    assert.equal((await status(page)).authenticated, false);
  } finally {
    await context.close();
  }
});

test(
  "the banner waits for WARNING_WINDOW and goes away after Stay signed in",
  async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    try {
      await loginViaForm(page, env.stack.base);
      const s = await status(page);
      // Outside the window (more than 15 s left): no banner.
      // A second for the page's script to run, checked while over WINDOW s are left
      // (the login left IDLE = WINDOW + 5 s: 4 s of slack for a slow machine).
      await sleep(1000);
      const leftNow = Math.min(s.idle_expires_at, s.absolute_expires_at) - Date.now() / 1000;
      assert.ok(leftNow > WINDOW + 1, `only ${leftNow.toFixed(1)} s left: the machine took too long to check outside the window`);
      assert.equal(await page.locator("#sessiongate-banner").count(), 0, `banner shown with ${leftNow.toFixed(1)} s left`);
      // Inside the window it appears, showing at most the window.
      const banner = page.locator("#sessiongate-banner");
      await banner.waitFor({ state: "visible", timeout: (IDLE - WINDOW + 30) * 1000 });
      assert.ok(shown(await banner.textContent()) <= WINDOW);
      await page.getByRole("button", { name: "Stay signed in" }).click();
      await banner.waitFor({ state: "detached", timeout: 30_000 });
      await sleep(1000);
      assert.equal(await banner.count(), 0, "does not come back right away");
    } finally {
      await context.close();
    }
  },
);
