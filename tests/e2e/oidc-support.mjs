// Edge sign-in test support: a real OpenID provider (panva's oidc-provider, pinned in
// package.json, configured as the demo's: demo/idp.mjs) on loopback with a confidential
// client, PKCE, back-channel logout and its development login screens, driven with plain
// HTTP and a small cookie jar.
// Not a test file itself (node --test only picks up *.test.mjs).
import http from "node:http";
import assert from "node:assert/strict";
import Provider from "oidc-provider";
import { rawFetch } from "./harness.mjs";
import { demoProviderConfig, DEMO_ACCOUNTS } from "../../demo/idp.mjs";

export const CLIENT_ID = "sessiongate-test";
export const CLIENT_SECRET = "test-client-secret-0123456789abcdef";
export const FLOW_COOKIE = "__Host-sessiongate-oidc-";

/** The demo accounts (demo/idp.mjs): any password is accepted by the development login screen. */
export const ACCOUNTS = DEMO_ACCOUNTS;

/** A cookie jar for one browser's provider cookies (names only; every cookie is sent). */
export class Jar {
  constructor() { this.cookies = new Map(); }
  store(res) {
    for (const sc of res.headers.getSetCookie()) {
      const [nv, ...attrs] = sc.split(";");
      const i = nv.indexOf("=");
      const name = nv.slice(0, i).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, nv.slice(i + 1));
    }
  }
  header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "); }
}

/** Starts a listening server whose provider is configured once the gate's URL is known. */
export async function startIdp() {
  let handler = (req, res) => { res.statusCode = 503; res.end(); };
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const idp = {
    issuer,
    backchannel: [],
    /** Registers the gate (redirect, back-channel and post-logout URIs) as the client. */
    configure(gateBase) {
      const provider = new Provider(issuer, demoProviderConfig({ gateUrl: gateBase, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }));
      provider.on("backchannel.success", (ctx, client, accountId, sid) => idp.backchannel.push({ ok: true, accountId, sid }));
      provider.on("backchannel.error", (ctx, err, client, accountId, sid) => idp.backchannel.push({ ok: false, error: String(err), accountId, sid }));
      const cb = provider.callback();
      handler = (req, res) => cb(req, res);
      idp.provider = provider;
    },
    close() { return new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }); },
  };
  return idp;
}

const attr = (html, re) => { const m = html.match(re); return m ? m[1].replace(/&amp;/g, "&") : null; };

/**
 * Follows the provider from `url` like a browser: redirects, the development login form
 * (as `login`) and the consent form, until a redirect leaves the provider. Returns that URL.
 */
export async function driveProvider(idp, url, jar, { login = "alice" } = {}) {
  for (let step = 0; step < 20; step++) {
    const res = await rawFetch(url, { headers: { cookie: jar.header() } });
    jar.store(res);
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get("location"), url).href;
      await res.arrayBuffer();
      if (!next.startsWith(idp.issuer)) return next;
      url = next;
      continue;
    }
    const html = await res.text();
    assert.equal(res.status, 200, `provider page ${url}: ${res.status} ${html.slice(0, 300)}`);
    const action = attr(html, /<form[^>]*action="([^"]+)"/);
    const prompt = attr(html, /name="prompt" value="([a-z]+)"/);
    assert.ok(action && prompt, `no interaction form at ${url}: ${html.slice(0, 300)}`);
    const form = prompt === "login" ? { prompt, login, password: "any" } : { prompt };
    const post = await rawFetch(new URL(action, url).href, {
      method: "POST",
      headers: { cookie: jar.header(), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
    jar.store(post);
    assert.ok(post.status >= 300 && post.status < 400, `interaction ${prompt} answered ${post.status}`);
    url = new URL(post.headers.get("location"), url).href;
    await post.arrayBuffer();
    if (!url.startsWith(idp.issuer)) return url;
  }
  throw new Error("the provider never sent the browser back");
}

/** The flow cookie (`name=value`) a login response set, with its full Set-Cookie. */
export function flowCookie(res) {
  const sc = res.headers.getSetCookie().find((c) => c.startsWith(FLOW_COOKIE));
  return sc ? { pair: sc.split(";")[0], header: sc } : null;
}

/**
 * One browser signing in through the gate: `/.sessiongate/login`, the provider's
 * screens, the callback (with `cookie`, the browser's gate cookies). Returns the
 * callback's response and what the steps saw.
 */
export async function signIn(gate, idp, { login = "alice", returnTo = "/app", reauth = false, cookie, jar = new Jar() } = {}) {
  const start = await startLogin(gate, { returnTo, reauth, cookie });
  const back = await driveProvider(idp, start.authUrl, jar, { login });
  const res = await finishLogin(gate, back, [start.flow.pair, cookie]);
  return { ...start, back, res, jar };
}

export async function startLogin(gate, { returnTo = "/app", reauth = false, cookie } = {}) {
  const q = new URLSearchParams();
  if (reauth) q.set("reauth", "1");
  if (returnTo !== null) q.set("return_to", returnTo);
  const res = await gate.fetch(`/.sessiongate/login?${q}`, { cookie });
  await res.arrayBuffer();
  assert.equal(res.status, 302, "login sends the browser to the provider");
  const flow = flowCookie(res);
  assert.ok(flow, "login sets a flow cookie");
  return { start: res, authUrl: res.headers.get("location"), flow };
}

export async function finishLogin(gate, callbackUrl, cookies) {
  const u = new URL(callbackUrl);
  assert.equal(u.pathname, "/.sessiongate/oidc/callback", `provider sent the browser to ${callbackUrl}`);
  return gate.fetch(u.pathname + u.search, { cookie: cookies.filter(Boolean).join("; ") });
}

/** Confirms a logout at the provider's end-session page (the form's xsrf), returns the final redirect. */
export async function confirmProviderLogout(idp, url, jar) {
  const res = await rawFetch(url, { headers: { cookie: jar.header() } });
  jar.store(res);
  const html = await res.text();
  assert.equal(res.status, 200, `end_session page: ${res.status} ${html.slice(0, 300)}`);
  const action = attr(html, /<form[^>]*action="([^"]+)"/);
  const xsrf = attr(html, /name="xsrf" value="([^"]+)"/);
  assert.ok(action && xsrf, `no logout form: ${html.slice(0, 300)}`);
  const post = await rawFetch(new URL(action, url).href, {
    method: "POST",
    headers: { cookie: jar.header(), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ xsrf, logout: "yes" }).toString(),
  });
  jar.store(post);
  await post.arrayBuffer();
  assert.ok(post.status >= 300 && post.status < 400, `logout confirm answered ${post.status}`);
  return new URL(post.headers.get("location"), url).href;
}

/** Polls `check` (async, returns truthy when done) until a generous deadline. */
export async function eventually(check, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
