// The demo's live page in a real browser (issue 14): a clock over a WebSocket through the
// gate stays connected while the session lives, and shows "session ended" within 2 s
// when the session is revoked from another browser context.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useStack, loginViaForm, status, artifact } from "./support.mjs";

const env = useStack();

test("the live page stays connected while the session lives and shows session ended when another context revokes it", async () => {
  const laptop = await env.browser.newContext();
  const phone = await env.browser.newContext();
  try {
    const [pl, pp] = await Promise.all([laptop.newPage(), phone.newPage()]);
    for (const p of [pl, pp]) await loginViaForm(p, env.stack.base);
    const laptopSession = (await status(pl)).session;

    await pl.goto(env.stack.base + "/live");
    await pl.waitForFunction(() => document.getElementById("live-status").dataset.state === "open", null, { timeout: 10_000 });
    // The clock ticks: two different readings from the origin, and the socket stays open.
    const first = await pl.waitForFunction(() => /^\d\d:\d\d:\d\d$/.test(document.getElementById("clock").textContent) && document.getElementById("clock").textContent, null, { timeout: 10_000 });
    const t1 = await first.jsonValue();
    await pl.waitForFunction((t) => document.getElementById("clock").textContent !== t, t1, { timeout: 10_000 });
    assert.equal(await pl.getAttribute("#live-status", "data-state"), "open");

    // Revoke the laptop's session from the phone's devices page.
    await pp.goto(env.stack.base + "/devices");
    await pp.waitForSelector(`#sessions .session-row[data-id="${laptopSession}"] .revoke`);
    const t0 = Date.now();
    await pp.click(`#sessions .session-row[data-id="${laptopSession}"] .revoke`);
    await pl.waitForFunction(() => document.getElementById("live-status").dataset.state === "ended", null, { timeout: 10_000 });
    const ms = Date.now() - t0;
    console.log(`live page: session ended shown ${ms} ms after the revoke click`);
    assert.equal(await pl.textContent("#live-status"), "session ended (revoked)");
    assert.ok(ms <= 2000 + 500, `shown after ${ms} ms (2 s bound, plus the click's own round trip)`);
    await pl.screenshot({ path: artifact("live-ended.png"), fullPage: true });

    // The phone's own live page still connects.
    await pp.goto(env.stack.base + "/live");
    await pp.waitForFunction(() => document.getElementById("live-status").dataset.state === "open", null, { timeout: 10_000 });
  } finally {
    await Promise.all([laptop.close(), phone.close()]);
  }
});
