// Device Bound Session Credentials in Debian's Chromium (tier 3), by the recipe in the
// project's notes: real HTTPS on loopback with a certificate made now by openssl, the
// browser told to trust exactly that key (an SPKI allow-list: with plain
// --ignore-certificate-errors Chromium never registers), a host name mapped to loopback,
// persistent profiles, software keys standing in for a TPM. The browser signs in through
// the demo, registers on its own, and after the interval its navigation is held, refreshed
// with a signed proof and lands with its identity; the same cookies copied into a second
// profile stop working after the interval.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { startStack, loginViaForm, CHROMIUM, USER, BROWSER_ARGS } from "./support.mjs";
import { tmpdir } from "../e2e/harness.mjs";

const HOST = "app.example.test";
const INTERVAL = 6; // DEVICE_PROOF_INTERVAL, seconds
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let stack;
let dir;
let spki;
let base;
const profiles = [];

/** A self-signed P-256 certificate for HOST, and the base64 SHA-256 of its SPKI. */
function certificate(where) {
  const key = path.join(where, "key.pem");
  const cert = path.join(where, "cert.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${HOST}`, "-addext", `subjectAltName=DNS:${HOST}`,
  ], { stdio: "ignore" });
  const pem = fs.readFileSync(cert, "utf8");
  const der = new crypto.X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  return { key: fs.readFileSync(key, "utf8"), cert: pem, spki: crypto.createHash("sha256").update(der).digest("base64") };
}

before(async () => {
  dir = tmpdir("sessiongate-dbsc-");
  const c = certificate(dir);
  spki = c.spki;
  stack = await startStack({ DEVICE_PROOF_INTERVAL: `${INTERVAL}s` }, { https: true, httpsKey: c.key, httpsCert: c.cert });
  base = `https://${HOST}:${new URL(stack.base).port}`;
});
after(async () => {
  for (const p of profiles) await p.close().catch(() => {});
  await stack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A browser with a profile of its own on disk (DBSC sessions live in the profile). */
async function profile(name) {
  const ctx = await chromium.launchPersistentContext(path.join(dir, name), {
    executablePath: CHROMIUM,
    args: [
      ...BROWSER_ARGS,
      "--enable-features=DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false/ForceEnableForTesting/true,PersistDeviceBoundSessions,EnableBoundSessionCredentialsSoftwareKeysForManualTesting",
      `--ignore-certificate-errors-spki-list=${spki}`,
      `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
    ],
  });
  profiles.push(ctx);
  return ctx;
}

async function sessions(page) {
  return page.evaluate(() => fetch("/.sessiongate/sessions", { headers: { accept: "application/json" } }).then((r) => r.json()));
}

const device = async (ctx) => (await ctx.cookies(base)).find((c) => c.name === "__Host-session-device");

test("Chromium registers after signing in, refreshes transparently, and copied cookies die with the interval", async () => {
  const ctx = await profile("owner");
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const login = await loginViaForm(page, base);
  assert.equal(login.status(), 303);
  assert.match((await login.allHeaders())["secure-session-registration"] ?? "", /^\(ES256 RS256\);path="\/\.sessiongate\/dbsc\/register";challenge="/);
  assert.equal(await page.textContent("#who"), USER);

  // The browser registers in the background: the device cookie appears, the list says so.
  let listed;
  for (let i = 0; i < 100 && !(await device(ctx)); i++) await sleep(100);
  const first = await device(ctx);
  assert.ok(first, "the browser registered and holds the device cookie");
  assert.deepEqual([first.path, first.httpOnly, first.secure, first.sameSite], ["/", true, true, "Lax"]);
  listed = await sessions(page);
  const mine = listed.sessions.find((s) => s.current);
  assert.equal(mine.device_bound, true, JSON.stringify(listed));

  // After the interval, a navigation is held for a refresh and lands with its identity.
  await sleep(INTERVAL * 1000 + 1500);
  assert.equal(await device(ctx), undefined, "the device cookie expired");
  const nav = await page.goto(base + "/app");
  assert.equal(nav.status(), 200);
  assert.equal(new URL(page.url()).pathname, "/app", "not sent to sign in");
  assert.equal(await page.textContent("#who"), USER);
  const renewed = await device(ctx);
  assert.ok(renewed && renewed.value !== first.value, "a new device cookie, from a refresh signed by the browser's key");

  // The same cookies, copied into another profile (what an infostealer takes).
  const thief = await profile("thief");
  await thief.addCookies((await ctx.cookies(base)).map((c) => ({ ...c, expires: c.name.endsWith("-device") ? -1 : c.expires })));
  const tpage = thief.pages()[0] ?? (await thief.newPage());
  await tpage.goto(base + "/app");
  assert.equal(new URL(tpage.url()).pathname, "/app", "within the interval the copies work (the honest limit)");
  assert.equal(await tpage.textContent("#who"), USER);
  await sleep(INTERVAL * 1000 + 1500);
  await tpage.goto(base + "/app");
  const landed = new URL(tpage.url());
  assert.equal(landed.pathname, "/login", "after the interval the copies are refused");
  assert.equal(landed.searchParams.get("reason"), "device_proof_required");

  // The owner's browser is unaffected.
  await page.goto(base + "/app");
  assert.equal(new URL(page.url()).pathname, "/app");
  assert.equal(await page.textContent("#who"), USER);
});
