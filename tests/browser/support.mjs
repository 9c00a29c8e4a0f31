// Shared set-up for the real-browser tests: Debian's Chromium (/usr/bin/chromium) driven
// by playwright-core, against the gate (built Wasm in workerd via miniflare) in front of
// the demo origin. Nothing is downloaded: playwright's own browsers are never used.
import { before, after } from "node:test";
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";
import { startGate, SECRETS, ROOT, COOKIE } from "../e2e/harness.mjs";
import { startDemoOrigin } from "../../demo/origin.mjs";

export { COOKIE };
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const ARTIFACTS = path.join(ROOT, "test-artifacts");
export const USER = "alice";
export const PASSWORD = "correct-horse-battery";

export const DEMO_VARS = {
  PUBLIC_PATHS: "/,/login,/cart,/static/*,/favicon.ico",
  STATIC_PATHS: "/static/*,/favicon.ico",
  SENSITIVE_PATHS: "/account/*",
};

/** The demo origin behind a gate; `vars` are added to the demo's. */
/**
 * Registers before/after hooks that start the gate + demo stack and a browser for one
 * test file; the returned object's `stack` and `browser` are set once `before` ran.
 */
export function useStack(vars = {}) {
  const env = { stack: null, browser: null };
  before(async () => {
    env.stack = await startStack(vars);
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.stack?.close();
  });
  return env;
}

/** `miniflare`: extra Miniflare options (e.g. `{ https: true }` for a self-signed HTTPS gate). */
export async function startStack(vars = {}, miniflare = {}) {
  const demo = await startDemoOrigin({ port: 0, secret: SECRETS.ORIGIN_SECRET });
  const gate = await startGate({ origin: demo, vars: { ...DEMO_VARS, ...vars }, miniflare });
  return {
    gate,
    demo,
    base: gate.base,
    async close() {
      await gate.dispose();
      await demo.close();
    },
  };
}

/** `args`: extra Chromium switches (e.g. --host-resolver-rules for several host names). */
/** The flags every test browser starts with: headless in a container, nothing fetched from Google. */
export const BROWSER_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export async function launch(args = []) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (Debian package "chromium"; set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...BROWSER_ARGS, ...args],
  });
}

/** Signs in through the demo's form; resolves on the page the form redirects to. */
export async function loginViaForm(page, base, { user = USER, password = PASSWORD, persistent = false, path: p = "/login" } = {}) {
  await page.goto(base + p);
  await page.fill("#user", user);
  await page.fill("#password", password);
  if (persistent) await page.check("#persistent");
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/login"),
    page.click('#login-form button[type="submit"]'),
  ]);
  await page.waitForLoadState("load");
  return response;
}

/** The gate's cookie as DevTools shows it (CDP Network.getCookies), or undefined. */
export async function gateCookie(context) {
  return (await context.cookies()).find((c) => c.name === COOKIE);
}

/** GET /.sessiongate/status from inside the page (same-origin fetch, does not slide). */
export function status(page) {
  return page.evaluate(() => fetch("/.sessiongate/status", { headers: { accept: "application/json" } }).then((r) => r.json()));
}

export function artifact(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}
