// "Your devices" in a real browser: every session of the user with
// a revoke button, and "Log out everywhere" in one browser context ending the session in
// another.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { useStack, loginViaForm, gateCookie, status, artifact } from "./support.mjs";
import { SECRETS } from "../e2e/harness.mjs";

const env = useStack();

const UA = {
  laptop: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
  phone: "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
  tablet: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36 Edg/156.0",
};

test("the devices page lists each session; revoke ends one; Log out everywhere ends the session in another context", async () => {
  const laptop = await env.browser.newContext({ userAgent: UA.laptop, viewport: { width: 1100, height: 640 } });
  const phone = await env.browser.newContext({ userAgent: UA.phone });
  const tablet = await env.browser.newContext({ userAgent: UA.tablet });
  try {
    const [pl, pp, pt] = await Promise.all([laptop.newPage(), phone.newPage(), tablet.newPage()]);
    for (const p of [pl, pp, pt]) await loginViaForm(p, env.stack.base);
    const handles = { laptop: (await status(pl)).session, phone: (await status(pp)).session, tablet: (await status(pt)).session };

    await pl.goto(env.stack.base + "/devices");
    await pl.waitForFunction(() => document.querySelectorAll("#sessions .session-row").length === 3);
    const rows = await pl.$$eval("#sessions .session-row", (trs) =>
      trs.map((tr) => ({ id: tr.dataset.id, current: tr.classList.contains("current"), text: tr.innerText, button: tr.querySelector(".revoke")?.textContent })),
    );
    assert.deepEqual(rows.map((r) => r.id).sort(), Object.values(handles).sort());
    const current = rows.filter((r) => r.current);
    assert.deepEqual(current.map((r) => r.id), [handles.laptop], "this device is marked");
    assert.match(current[0].text, /this device/);
    assert.equal(current[0].button, "Sign out here");
    assert.match(rows.find((r) => r.id === handles.phone).text, /Android/);
    assert.match(rows.find((r) => r.id === handles.tablet).text, /Edge on Windows/);
    assert.match(await pl.textContent("#devices-note"), /3 active sessions/);
    await pl.screenshot({ path: artifact("devices.png"), fullPage: true });
    assert.ok(fs.statSync(artifact("devices.png")).size > 10_000);

    // Revoke the tablet's session from the laptop.
    await pl.click(`#sessions .session-row[data-id="${handles.tablet}"] .revoke`);
    await pl.waitForFunction(() => document.querySelectorAll("#sessions .session-row").length === 2);
    await pt.goto(env.stack.base + "/app");
    let u = new URL(pt.url());
    assert.equal(u.pathname, "/login");
    assert.equal(u.searchParams.get("reason"), "revoked");
    assert.equal(await gateCookie(tablet), undefined, "the dead cookie was cleared");
    assert.match(await pt.textContent("#login-notice"), /ended/);

    // The phone is still in.
    await pp.goto(env.stack.base + "/app");
    assert.equal(new URL(pp.url()).pathname, "/app");

    // Log out everywhere, from the laptop.
    await Promise.all([pl.waitForURL(/\/login/), pl.click("#logout-everywhere")]);
    assert.equal(await gateCookie(laptop), undefined);
    await pp.goto(env.stack.base + "/app");
    u = new URL(pp.url());
    assert.equal(u.pathname, "/login", "the second context is signed out");
    assert.equal(u.searchParams.get("return_to"), "/app");
    assert.equal(u.searchParams.get("reason"), "revoked");
    assert.equal(await gateCookie(phone), undefined);
    const r = await env.stack.gate.fetch("/.sessiongate/admin/users/alice/sessions", { headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } });
    assert.deepEqual(await r.json(), { sessions: [] }, "no session of alice is left");
  } finally {
    await Promise.all([laptop.close(), phone.close(), tablet.close()]);
  }
});
