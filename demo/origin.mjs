// The bundled demo origin: what a newcomer sees behind the gate after `make dev`.
//
// A plain node:http server that authenticates users itself (two fixed demo users) and
// tells the gate what happened through `X-Session-Command`. It trusts identity only
// when the request carries a valid `X-Session-Assertion`, so the pages that need a user
// can only be reached through the gate. It verifies the way the README says: with the
// gate's public keys (`/.sessiongate/jwks.json`, ES256 or EdDSA), or with ORIGIN_SECRET
// when the gate runs with ASSERTION_ALG=HS256.
//
//   node demo/origin.mjs                 # 127.0.0.1:$PORT (8788); JWKS from $GATE_URL (http://127.0.0.1:8787),
//                                        # or ORIGIN_SECRET when .dev.vars says ASSERTION_ALG=HS256
//   const o = await startDemoOrigin({ port: 0, jwksUrl });  // tests (or { secret } for HS256)
import http from "node:http";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { jwtVerify, createRemoteJWKSet } from "jose";
import { WebSocketServer } from "ws";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Demo users, documented in the README. Passwords are compared as SHA-256 digests in constant time. */
const USERS = {
  alice: { password: "correct-horse-battery", roles: ["admin", "user"] },
  bob: { password: "hunter2-hunter2", roles: ["user"] },
};

const PRODUCTS = ["Green tea", "Espresso beans", "Dark chocolate", "Sourdough loaf"];

/** Why the gate sent someone to the login page (`?reason=`), in words. */
const REASONS = {
  missing: "Please sign in to continue.",
  invalid: "Your session was not valid. Please sign in again.",
  idle_timeout: "You were signed out after a period of inactivity.",
  absolute_timeout: "Your session reached its maximum lifetime. Please sign in again.",
  revoked: "This session was ended (signed out elsewhere or by an administrator).",
  binding_mismatch: "Your session was ended because your network or browser changed.",
  device_proof_required: "This browser could not prove it is the device this session is bound to. Please sign in again.",
};

/** Headers the gate stamps on forwarded requests, shown on /app. */
const GATE_HEADERS = [
  "x-session-user",
  "x-session-id",
  "x-session-roles",
  "x-session-auth-time",
  "x-session-data",
  "x-session-elevated-until",
  "x-session-binding",
  "x-forwarded-for",
  "x-session-assertion",
];

const MAX_BODY = 16 * 1024;
/** The gate signs with a 60 s lifetime and its own verifier allows 5 s of skew: match it. */
const CLOCK_TOLERANCE_S = 5;

// ---------------------------------------------------------------------------------------
// HTML: a tagged template that escapes every interpolated value unless it is already HTML.

class Html {
  constructor(s) {
    this.s = s;
  }
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function fragment(v) {
  if (v instanceof Html) return v.s;
  if (Array.isArray(v)) return v.map(fragment).join("");
  if (v === null || v === undefined || v === false) return "";
  return escapeHtml(v);
}

function html(strings, ...values) {
  return new Html(strings.reduce((out, s, i) => out + fragment(values[i - 1]) + s));
}

const STYLE = `
:root{--bg:#f6f7fb;--card:#fff;--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--brand:#4f46e5;--ok:#047857;--okbg:#d1fae5;--bad:#b91c1c;--badbg:#fee2e2;--warn:#92400e;--warnbg:#fef3c7}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--brand)}
header{background:#111827;color:#fff}
nav{max-width:980px;margin:0 auto;padding:.8rem 1.2rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
nav a{color:#d1d5db;text-decoration:none}nav a:hover,nav a[aria-current]{color:#fff}
nav .brand{color:#fff;font-weight:700;letter-spacing:.01em;margin-right:.6rem}
nav .who{margin-left:auto;display:flex;gap:.8rem;align-items:center;color:#d1d5db}
nav form{margin:0}
main{max-width:980px;margin:2rem auto;padding:0 1.2rem}
h1{font-size:1.7rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:0 0 .8rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.8rem;padding:1.3rem 1.5rem;margin-bottom:1.2rem;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:1.2rem}.grid .card{margin:0}
.muted{color:var(--muted)}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:999px;font-size:.8rem;font-weight:600;background:var(--line);color:var(--ink)}
.badge.ok{background:var(--okbg);color:var(--ok)}.badge.bad{background:var(--badbg);color:var(--bad)}.badge.warn{background:var(--warnbg);color:var(--warn)}
.notice{padding:.8rem 1rem;border-radius:.6rem;margin-bottom:1rem;background:#e0e7ff;color:#3730a3}
.notice.bad{background:var(--badbg);color:var(--bad)}.notice.ok{background:var(--okbg);color:var(--ok)}
table{width:100%;border-collapse:collapse;font-size:.93rem}
th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
code{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;padding:.1rem .3rem;border-radius:.3rem}
code.wrap{display:block;word-break:break-all;white-space:pre-wrap}
label{display:block;font-weight:600;margin:.8rem 0 .3rem}
label.check{font-weight:400;display:flex;gap:.5rem;align-items:center}
input[type=text],input[type=password],select{width:100%;max-width:360px;padding:.55rem .7rem;border:1px solid #d1d5db;border-radius:.45rem;font:inherit}
button,.button{display:inline-block;background:var(--brand);color:#fff;border:0;border-radius:.45rem;padding:.55rem 1rem;font:inherit;font-weight:600;cursor:pointer;text-decoration:none}
button.secondary{background:#e5e7eb;color:var(--ink)}button.danger{background:var(--bad)}
nav button{background:#374151;padding:.35rem .8rem}
.actions{display:flex;gap:.6rem;flex-wrap:wrap;margin-top:1rem}
footer{max-width:980px;margin:2rem auto;padding:0 1.2rem;color:var(--muted);font-size:.85rem}
`;

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 2 4 7v8c0 7.5 5.1 13.4 12 15 6.9-1.6 12-7.5 12-15V7z" fill="#4f46e5"/><path d="m11 16 4 4 7-8" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

// ---------------------------------------------------------------------------------------
// The assertion: the only thing that makes identity headers trustworthy.

/** Host of an authority without its port (`[::1]:8788` -> `::1`), like the gate's audience. */
function hostOf(authority = "") {
  const v6 = /^\[([^\]]*)\]/.exec(authority);
  return v6 ? v6[1] : authority.replace(/:\d+$/, "");
}

/**
 * Verifies `X-Session-Assertion` with a standard JWT library, then checks that it was
 * issued for this very request (method and URL), so a captured assertion can't be
 * replayed against another page. -> {status: "missing"|"verified"|"failed", claims?, why?}
 */
async function checkAssertion(req, verifier) {
  const token = req.headers["x-session-assertion"];
  if (!token) return { status: "missing" };
  try {
    const { payload } = await jwtVerify(token, verifier.key, {
      issuer: "sessiongate",
      // The gate's audience is this origin's host, or with COOKIE_DOMAIN (one gate in
      // front of several hosts) the host the browser asked for, which the gate sends in
      // X-Forwarded-Host.
      audience: [hostOf(req.headers.host), hostOf(req.headers["x-forwarded-host"])].filter(Boolean),
      algorithms: verifier.algorithms,
      clockTolerance: CLOCK_TOLERANCE_S,
    });
    if (payload.htm !== req.method) {
      return { status: "failed", why: `issued for ${payload.htm}, used for ${req.method}` };
    }
    const issued = new URL(String(payload.htu));
    const here = new URL(req.url, issued);
    if (issued.pathname !== here.pathname || issued.search !== here.search) {
      return { status: "failed", why: `issued for ${issued.pathname}${issued.search}, used for ${req.url}` };
    }
    return { status: "verified", claims: payload };
  } catch (e) {
    return { status: "failed", why: e.code ? `${e.code}: ${e.message}` : e.message };
  }
}

/** The signed-in user according to a verified assertion, or null. */
function viewerOf(check) {
  const c = check.claims;
  return c?.sub ? { user: c.sub, roles: c.roles ?? [], sid: c.sid, elevatedUntil: c.elev } : null;
}

/** Session data from the gate (`X-Session-Data`), read only on requests that came through it. */
function sessionData(req, check) {
  if (check.status !== "verified") return {};
  // The assertion carries the data's SHA-256: data that does not match it did not come
  // with this assertion from the gate.
  const raw = req.headers["x-session-data"];
  const digest = raw === undefined ? undefined : crypto.createHash("sha256").update(raw).digest("base64url");
  if (digest !== check.claims.data_sha256) return {};
  try {
    const d = JSON.parse(raw ?? "{}");
    return d && typeof d === "object" && !Array.isArray(d) ? d : {};
  } catch {
    return {};
  }
}

/**
 * Guest cart `{product: quantity}`, keeping only products this shop sells, in catalogue
 * order (the gate stores data as a JSON object and need not keep key order).
 */
function cartOf(data) {
  const stored = data.cart && typeof data.cart === "object" ? data.cart : {};
  const cart = {};
  for (const item of PRODUCTS) {
    const qty = stored[item];
    if (Number.isInteger(qty) && qty > 0) cart[item] = qty;
  }
  return cart;
}

// ---------------------------------------------------------------------------------------
// Responses

/** JSON for a header value: non-ASCII escaped, since header values are bytes, not text. */
function headerJson(value) {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

function commandHeaders(command) {
  return command ? { "x-session-command": headerJson(command) } : {};
}

function redirect(res, location, command) {
  res.writeHead(303, { location, "cache-control": "no-store", ...commandHeaders(command) });
  res.end();
}

/** A whole HTML page. `script` is inline JS, allowed by a per-response CSP nonce. */
function page(res, ctx, { status = 200, title, active, main, script, command }) {
  const nonce = crypto.randomBytes(16).toString("base64");
  const viewer = viewerOf(ctx.check);
  const link = (href, label) => html`<a href="${href}" ${active === href ? new Html('aria-current="page"') : ""}>${label}</a>`;
  const badge = { verified: "ok", failed: "bad", missing: "warn" }[ctx.check.status];
  const body = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · sessiongate demo</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<style nonce="${nonce}">${new Html(STYLE)}</style>
${viewer ? html`<script src="/.sessiongate/client.js" defer></script>` : ""}
</head>
<body>
<header><nav>
  <a class="brand" href="/">sessiongate demo</a>
  ${link("/", "Home")} ${link("/app", "App")} ${link("/live", "Live")} ${link("/devices", "Devices")} ${link("/account/password", "Account")}
  <span class="who">${
    viewer
      ? html`<span>Signed in as <strong id="who">${viewer.user}</strong></span>
    <form method="post" action="/logout"><button type="submit" id="logout">Log out</button></form>`
      : html`<a href="/login">Sign in</a>`
  }</span>
</nav></header>
<main>
<h1>${title}</h1>
${main}
</main>
<footer>Served by the demo origin. Assertion on this request: <span class="badge ${badge}" id="assertion-status">${ctx.check.status}</span></footer>
${script ? html`<script nonce="${nonce}">${new Html(script)}</script>` : ""}
</body>
</html>
`;
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    ...commandHeaders(command),
  });
  res.end(body.s);
}

// ---------------------------------------------------------------------------------------
// Pages

/** Where to go after login: only a relative path on this site, never another origin. */
function safeReturnTo(value) {
  // Printable ASCII only: browsers drop tabs and newlines, which would turn "/\t/evil" into "//evil".
  if (typeof value !== "string" || !/^\/[\x21-\x7e]*$/.test(value)) return "/app";
  if (value.startsWith("//") || value.startsWith("/\\")) return "/app";
  const base = "http://origin.invalid";
  return new URL(value, base).origin === base ? value : "/app";
}

function passwordMatches(user, password) {
  const digest = (s) => crypto.createHash("sha256").update(String(s)).digest();
  const known = Object.hasOwn(USERS, user);
  // Unknown users cost the same comparison, so timing doesn't tell which names exist.
  const expected = known ? USERS[user].password : crypto.randomBytes(16).toString("hex");
  return crypto.timingSafeEqual(digest(expected), digest(password)) && known;
}

function time(unix) {
  return unix ? new Date(unix * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "";
}

function home(req, res, ctx) {
  const viewer = viewerOf(ctx.check);
  const cart = cartOf(sessionData(req, ctx.check));
  const items = Object.entries(cart);
  page(res, ctx, {
    title: "Welcome",
    active: "/",
    main: html`
<div class="card">
  <p>This page is served by a small Node origin that sits behind <strong>sessiongate</strong>, a Cloudflare Worker.
  The gate keeps server-side sessions in Durable Objects and forwards only requests it has validated, stamped with
  identity headers and a signed assertion (<code>X-Session-Assertion</code>). The origin never sees the session cookie.</p>
  <p id="signed-in">${
    viewer
      ? html`You are signed in as <strong>${viewer.user}</strong> <span class="muted">(roles: ${viewer.roles.join(", ")})</span>.`
      : html`You are browsing as a guest. <a href="/login">Sign in</a> to open the protected pages.`
  }</p>
</div>
<div class="grid">
  <div class="card">
    <h2>Guest cart</h2>
    <p class="muted">Works without an account: the gate keeps it in an anonymous session and carries it over when you sign in.</p>
    ${
      items.length
        ? html`<ul id="cart">${items.map(([item, qty]) => html`<li>${item} × ${qty}</li>`)}</ul>`
        : html`<p id="cart">Your cart is empty.</p>`
    }
    <form method="post" action="/cart">
      <label for="item">Product</label>
      <select id="item" name="item">${PRODUCTS.map((p) => html`<option>${p}</option>`)}</select>
      <div class="actions">
        <button type="submit" name="op" value="add">Add to cart</button>
        ${items.length ? html`<button type="submit" name="op" value="empty" class="secondary">Empty cart</button>` : ""}
      </div>
    </form>
  </div>
  <div class="card">
    <h2>Try it</h2>
    <ul>
      <li><a href="/app">App</a>: the identity headers and the verified assertion this origin received.</li>
      <li><a href="/devices">Your devices</a>: every session of your account; end any of them.</li>
      <li><a href="/account/password">Change password</a>: a sensitive page; the gate asks for your password again first.</li>
    </ul>
    <h2>Demo users</h2>
    <table>
      <tr><th>user</th><th>password</th><th>roles</th></tr>
      ${Object.entries(USERS).map(([u, d]) => html`<tr><td>${u}</td><td><code>${d.password}</code></td><td>${d.roles.join(", ")}</td></tr>`)}
    </table>
  </div>
</div>`,
  });
}

/** POST /cart: the cart lives in session data; `set_data` replaces the `cart` key. */
function updateCart(req, res, ctx) {
  const cart = cartOf(sessionData(req, ctx.check));
  if (ctx.form.get("op") === "empty") return redirect(res, "/", { action: "set_data", data: { cart: null } });
  const item = ctx.form.get("item");
  if (!PRODUCTS.includes(item)) return errorPage(res, ctx, 400, "Unknown product", "Pick a product from the list.");
  cart[item] = (cart[item] ?? 0) + 1;
  redirect(res, "/", { action: "set_data", data: { cart } });
}

// Set when the gate in front signs users in with an identity provider too (OIDC_ISSUER):
// the login page then offers both ways in.
let EDGE_SIGN_IN = false;

function loginPage(res, ctx, { status = 200, error, user = "" } = {}) {
  const q = ctx.url.searchParams;
  const form = ctx.form ?? new URLSearchParams();
  const reauth = (form.get("reauth") ?? q.get("reauth")) === "1";
  const returnTo = form.get("return_to") ?? q.get("return_to") ?? "";
  const viewer = viewerOf(ctx.check);
  const notice = error
    ? html`<div class="notice bad" role="alert" id="login-error">${error}</div>`
    : reauth
      ? html`<div class="notice" id="login-notice">For your security, confirm your password to continue.</div>`
      : REASONS[q.get("reason")]
        ? html`<div class="notice" id="login-notice">${REASONS[q.get("reason")]}</div>`
        : "";
  page(res, ctx, {
    status,
    title: reauth ? "Confirm your password" : "Sign in",
    main: html`
${notice}
<div class="card">
  ${viewer && !reauth ? html`<p>You are already signed in as <strong>${viewer.user}</strong>. Signing in again starts a new session.</p>` : ""}
  <form method="post" action="/login" id="login-form">
    <input type="hidden" name="return_to" value="${returnTo}">
    ${reauth ? html`<input type="hidden" name="reauth" value="1">` : ""}
    <label for="user">User</label>
    <input type="text" id="user" name="user" autocomplete="username" required value="${user || (reauth && viewer ? viewer.user : "")}">
    <label for="password">Password</label>
    <input type="password" id="password" name="password" autocomplete="current-password" required>
    ${reauth ? "" : html`<label class="check"><input type="checkbox" id="persistent" name="persistent" value="1"> Keep me signed in</label>`}
    <div class="actions"><button type="submit">${reauth ? "Confirm" : "Sign in"}</button></div>
  </form>
  <p class="muted">Demo users: <code>alice</code> / <code>correct-horse-battery</code> (admin) and <code>bob</code> / <code>hunter2-hunter2</code>.</p>
  ${EDGE_SIGN_IN ? html`<p>Or let the gate sign you in: <a class="button" id="idp-login" href="/.sessiongate/login?${reauth ? "reauth=1&" : ""}return_to=${encodeURIComponent(returnTo || "/app")}">Sign in with the identity provider</a></p>` : ""}
</div>`,
  });
}

/**
 * POST /login: the origin authenticates, the gate issues the session. Re-entering the
 * password of the user who is already signed in (`reauth=1`) elevates that session
 * instead of starting a new one; the gate regenerates the ID either way.
 */
function login(req, res, ctx) {
  const user = ctx.form.get("user") ?? "";
  if (!passwordMatches(user, ctx.form.get("password") ?? "")) {
    return loginPage(res, ctx, { status: 401, error: "Wrong user name or password.", user });
  }
  const viewer = viewerOf(ctx.check);
  const command =
    ctx.form.get("reauth") === "1" && viewer?.user === user
      ? { action: "elevate" }
      : { action: "login", user, roles: USERS[user].roles, persistent: ctx.form.get("persistent") === "1" };
  redirect(res, safeReturnTo(ctx.form.get("return_to")), command);
}

function app(req, res, ctx) {
  const claims = ctx.check.claims;
  page(res, ctx, {
    title: "App",
    active: "/app",
    main: html`
<div class="card">
  <h2>Assertion: <span class="badge ok" id="assertion-result">verified</span></h2>
  <p class="muted">Checked with <code>jose</code>: ${ctx.verifier.label}, issuer <code>sessiongate</code>,
  audience <code>${hostOf(req.headers.host)}</code>, not expired, and issued for this method and URL.</p>
  <table id="claims">
    <tr><th>claim</th><th>value</th></tr>
    ${Object.entries(claims).map(
      ([k, v]) => html`<tr data-claim="${k}"><td><code>${k}</code></td><td>${JSON.stringify(v)}${
        ["iat", "exp", "auth_time", "elev"].includes(k) ? html` <span class="muted">${time(v)}</span>` : ""
      }</td></tr>`,
    )}
  </table>
</div>
<div class="card">
  <h2>Headers from the gate</h2>
  <table id="headers">
    <tr><th>header</th><th>value</th></tr>
    ${GATE_HEADERS.map(
      (h) => html`<tr data-header="${h}"><td><code>${h}</code></td><td>${
        req.headers[h] === undefined
          ? html`<span class="muted">not sent</span>`
          : html`<code class="${h === "x-session-assertion" ? "wrap" : ""}">${req.headers[h]}</code>`
      }</td></tr>`,
    )}
  </table>
</div>`,
  });
}

const DEVICES_SCRIPT = `
"use strict";
const rows = document.getElementById("sessions");
const note = document.getElementById("devices-note");

function ago(unix) {
  const s = Math.max(0, Math.round(Date.now() / 1000 - unix));
  if (s < 60) return "just now";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return new Date(unix * 1000).toLocaleString();
}

function device(ua) {
  const browser = [["Edg/", "Edge"], ["Firefox/", "Firefox"], ["Chrome/", "Chrome"], ["Safari/", "Safari"], ["curl/", "curl"], ["node", "Node.js"]].find(([t]) => ua.includes(t));
  const os = [["Android", "Android"], ["iPhone", "iOS"], ["Windows", "Windows"], ["Mac OS X", "macOS"], ["Linux", "Linux"]].find(([t]) => ua.includes(t));
  return [browser && browser[1], os && os[1]].filter(Boolean).join(" on ") || ua || "Unknown device";
}

function cell(row, text, title) {
  const td = row.insertCell();
  td.textContent = text;
  if (title) td.title = title;
  return td;
}

function badge(td, text, kind) {
  const b = document.createElement("span");
  b.className = "badge " + kind;
  b.textContent = text;
  td.append(b, " ");
}

// The gate answers 401 once this session is gone: the login page says why.
async function call(method, path) {
  const res = await fetch("/.sessiongate/sessions" + path, { method, credentials: "same-origin", headers: { accept: "application/json" } });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) {
    location.assign("/login?return_to=%2Fdevices&reason=" + encodeURIComponent(body.reason || "missing"));
    throw new Error("signed out");
  }
  if (!res.ok) throw new Error(body.error || "HTTP " + res.status);
  return body;
}

async function load() {
  const { sessions } = await call("GET", "");
  sessions.sort((a, b) => b.current - a.current || b.last_seen_at - a.last_seen_at);
  rows.replaceChildren();
  for (const s of sessions) {
    const row = rows.insertRow();
    row.className = "session-row" + (s.current ? " current" : "") + (s.flagged ? " flagged" : "");
    row.dataset.id = s.id;
    cell(row, device(s.user_agent), s.user_agent);
    cell(row, s.ip || "unknown");
    cell(row, ago(s.created_at), new Date(s.created_at * 1000).toLocaleString());
    cell(row, ago(s.last_seen_at), new Date(s.last_seen_at * 1000).toLocaleString());
    const flags = row.insertCell();
    if (s.current) badge(flags, "this device", "ok");
    if (s.flagged) badge(flags, "flagged: network or browser changed", "bad");
    if (s.elevated_until && s.elevated_until * 1000 > Date.now()) badge(flags, "elevated", "warn");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "revoke secondary";
    button.textContent = s.current ? "Sign out here" : "Revoke";
    button.addEventListener("click", () => revoke(s));
    row.insertCell().append(button);
  }
  note.textContent = sessions.length === 1 ? "1 active session." : sessions.length + " active sessions.";
}

async function revoke(s) {
  await call("DELETE", "/" + encodeURIComponent(s.id));
  if (s.current) location.assign("/login");
  else await load();
}

document.getElementById("logout-everywhere").addEventListener("click", async () => {
  await call("DELETE", "");
  location.assign("/login");
});

load().catch((e) => { note.textContent = "Could not load your sessions: " + e.message; });
`;

// A live page: a clock over a WebSocket through the gate. The gate closes the socket with
// 4401 `session_ended:<reason>` the moment the session ends (another device revoked it,
// a timeout), and the page says so.
const LIVE_SCRIPT = `
const status = document.getElementById("live-status");
const clock = document.getElementById("clock");
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live/clock");
ws.addEventListener("open", () => { status.textContent = "connected"; status.dataset.state = "open"; });
ws.addEventListener("message", (e) => { clock.textContent = e.data; });
ws.addEventListener("close", (e) => {
  if (e.code === 4401) {
    status.textContent = "session ended (" + e.reason.replace(/^session_ended:/, "") + ")";
    status.dataset.state = "ended";
  } else {
    status.textContent = "disconnected (" + e.code + ")";
    status.dataset.state = "closed";
  }
});
`;

function livePage(req, res, ctx) {
  page(res, ctx, {
    title: "Live",
    active: "/live",
    main: html`
<div class="card">
  <p>The origin's clock, over a WebSocket through the gate: <strong id="clock">…</strong></p>
  <p>Connection: <span id="live-status" data-state="connecting" aria-live="polite">connecting…</span></p>
  <p class="muted">Sign this session out from another device (Your devices): the gate closes the socket at once.</p>
</div>`,
    script: LIVE_SCRIPT,
  });
}

/** WebSocket upgrades: `/live/clock` for a request that came through the gate with a signed-in user. */
function upgrade(wss, verifier) {
  return async (req, socket, head) => {
    const url = new URL(req.url, "http://origin.invalid");
    const check = await checkAssertion(req, verifier);
    if (url.pathname !== "/live/clock" || !viewerOf(check)) {
      socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const tick = () => ws.readyState === 1 && ws.send(new Date().toISOString().slice(11, 19));
      tick();
      const t = setInterval(tick, 500);
      ws.on("close", () => clearInterval(t));
    });
  };
}

function devices(req, res, ctx) {
  page(res, ctx, {
    title: "Your devices",
    active: "/devices",
    main: html`
<div class="card">
  <p>Every session signed in as <strong>${viewerOf(ctx.check).user}</strong>, as the gate's session store sees it.
  A session is <em>flagged</em> when its network or browser changed since sign-in.</p>
  <p class="muted" id="devices-note" aria-live="polite">Loading…</p>
  <table>
    <thead><tr><th>device</th><th>IP</th><th>signed in</th><th>last seen</th><th>status</th><th></th></tr></thead>
    <tbody id="sessions"></tbody>
  </table>
  <div class="actions"><button type="button" class="danger" id="logout-everywhere">Log out everywhere</button></div>
</div>`,
    script: DEVICES_SCRIPT,
  });
}

function passwordPage(res, ctx, { status = 200, error } = {}) {
  const until = viewerOf(ctx.check).elevatedUntil;
  page(res, ctx, {
    status,
    title: "Change password",
    active: "/account/password",
    main: html`
${error ? html`<div class="notice bad" role="alert" id="password-error">${error}</div>` : ""}
<div class="card">
  <p>A sensitive page: the gate lets you in only for a short while after you confirmed your password
  ${until ? html`(elevated until <strong id="elevated-until">${time(until)}</strong>)` : ""}.</p>
  <form method="post" action="/account/password" id="password-form">
    <label for="new_password">New password</label>
    <input type="password" id="new_password" name="new_password" autocomplete="new-password" minlength="12" required>
    <label for="confirm">Repeat it</label>
    <input type="password" id="confirm" name="confirm" autocomplete="new-password" minlength="12" required>
    <div class="actions"><button type="submit">Change password</button></div>
  </form>
  <p class="muted">Demo only: the demo users' passwords stay as they are.</p>
</div>`,
  });
}

/** POST /account/password: a new session ID, and every other session of the user ends (ASVS 7.4.3). */
function changePassword(req, res, ctx) {
  const next = ctx.form.get("new_password") ?? "";
  if (next.length < 12) return passwordPage(res, ctx, { status: 400, error: "Use at least 12 characters." });
  if (next !== ctx.form.get("confirm")) return passwordPage(res, ctx, { status: 400, error: "The two passwords differ." });
  page(res, ctx, {
    title: "Password changed",
    active: "/account/password",
    command: [{ action: "regenerate", reason: "password_change" }, { action: "logout_others" }],
    main: html`
<div class="notice ok" id="password-changed">Your password was changed.</div>
<div class="card">
  <p>This browser got a new session ID, and every other session of your account was signed out.
  Check <a href="/devices">Your devices</a>.</p>
</div>`,
  });
}

function logout(req, res) {
  redirect(res, "/", { action: "logout" });
}

function errorPage(res, ctx, status, title, message) {
  page(res, ctx, { status, title, main: html`<div class="card"><p>${message}</p></div>` });
}

/** Wraps a page that needs a signed-in user: without a valid assertion it did not come through the gate. */
function needsUser(handler) {
  return (req, res, ctx) => {
    if (ctx.check.status !== "verified") {
      return page(res, ctx, {
        status: 403,
        title: "Not through the gate",
        main: html`
<div class="notice bad" id="not-through-gate">This page is only served to requests that came through sessiongate.</div>
<div class="card">
  <p>The request carried ${
    ctx.check.status === "missing"
      ? html`no <code>X-Session-Assertion</code>`
      : html`an <code>X-Session-Assertion</code> that did not verify: <code id="assertion-error">${ctx.check.why}</code>`
  }. Identity headers without a valid assertion could come from anyone, so this origin ignores them.</p>
</div>`,
      });
    }
    if (!viewerOf(ctx.check)) return errorPage(res, ctx, 403, "Not signed in", "The gate forwarded this request without a signed-in user.");
    return handler(req, res, ctx);
  };
}

const ROUTES = {
  "/": { GET: home },
  "/cart": { POST: updateCart },
  "/login": { GET: (req, res, ctx) => loginPage(res, ctx), POST: login },
  "/app": { GET: needsUser(app) },
  "/live": { GET: needsUser(livePage) },
  "/devices": { GET: needsUser(devices) },
  "/account/password": { GET: needsUser((req, res, ctx) => passwordPage(res, ctx)), POST: needsUser(changePassword) },
  "/logout": { POST: needsUser(logout) },
  "/favicon.ico": {
    GET: (req, res) => {
      res.writeHead(200, { "content-type": "image/svg+xml", "cache-control": "public, max-age=86400" });
      res.end(FAVICON);
    },
  },
};

function readForm(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error("body too large"), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))));
    req.on("error", reject);
  });
}

async function handle(req, res, verifier) {
  const url = new URL(req.url, "http://origin.invalid");
  const ctx = { url, verifier, check: await checkAssertion(req, verifier), form: null };
  const route = ROUTES[url.pathname];
  // HEAD is answered like GET; node drops the body.
  const handler = route?.[req.method === "HEAD" ? "GET" : req.method];
  if (!route) return errorPage(res, ctx, 404, "Not found", "There is no such page in this demo.");
  if (!handler) {
    res.writeHead(405, { allow: Object.keys(route).join(", "), "content-type": "text/plain" });
    return res.end("method not allowed\n");
  }
  if (req.method === "POST") ctx.form = await readForm(req);
  return handler(req, res, ctx);
}

// ---------------------------------------------------------------------------------------
// Start-up

/** A value from the repo's .dev.vars (`NAME="value"` lines), or undefined. */
export function devVar(name, file = path.join(ROOT, ".dev.vars")) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_]\w*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[1] === name) return m[2].replace(/^(["'])(.*)\1$/, "$2");
  }
  return undefined;
}

/**
 * How assertions are verified: with the gate's JWKS (`jwksUrl`; the public keys are
 * fetched on first use and refetched when an unknown `kid` shows up after a rotation), or
 * with the HS256 secret. Each admits only its own algorithms, so a token cannot choose.
 */
function verifierFor({ jwksUrl, secret }) {
  if (jwksUrl) {
    return { key: createRemoteJWKSet(new URL(jwksUrl)), algorithms: ["ES256", "EdDSA"], label: html`the gate's public key from <code>${jwksUrl}</code>` };
  }
  if (!secret) throw new Error("demo origin: neither a JWKS URL nor ORIGIN_SECRET (ASSERTION_ALG=HS256) is set");
  return { key: new TextEncoder().encode(secret), algorithms: ["HS256"], label: html`HS256 under <code>ORIGIN_SECRET</code>` };
}

/** The gate's JWKS URL, unless .dev.vars (or the environment) says ASSERTION_ALG=HS256. */
function defaultJwksUrl() {
  const alg = process.env.ASSERTION_ALG ?? devVar("ASSERTION_ALG") ?? "ES256";
  if (alg.toUpperCase() === "HS256") return undefined;
  return `${(process.env.GATE_URL ?? "http://127.0.0.1:8787").replace(/\/$/, "")}/.sessiongate/jwks.json`;
}

/**
 * Starts the demo origin on 127.0.0.1. `jwksUrl`: the gate's `/.sessiongate/jwks.json`;
 * `secret`: ORIGIN_SECRET, for a gate with ASSERTION_ALG=HS256. A test passes one of them;
 * run as a script, the JWKS URL is the default and ORIGIN_SECRET the HS256 fallback.
 */
export function startDemoOrigin({ port = 0, jwksUrl, secret, edgeSignIn } = {}) {
  if (edgeSignIn !== undefined) EDGE_SIGN_IN = edgeSignIn;
  const verifier = verifierFor({ jwksUrl, secret });
  const server = http.createServer((req, res) => {
    handle(req, res, verifier).catch((e) => {
      if (!e.status) console.error("demo origin:", e);
      if (!res.headersSent) res.writeHead(e.status ?? 500, { "content-type": "text/plain" });
      res.end(e.status ? `${e.message}\n` : "internal error\n");
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    upgrade(wss, verifier)(req, socket, head).catch(() => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const actual = server.address().port;
      resolve({
        server,
        port: actual,
        url: `http://127.0.0.1:${actual}`,
        close: () =>
          new Promise((done) => {
            for (const ws of wss.clients) ws.terminate();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const jwksUrl = defaultJwksUrl();
  const secret = jwksUrl ? undefined : process.env.ORIGIN_SECRET ?? devVar("ORIGIN_SECRET");
  const edgeSignIn = Boolean(process.env.OIDC_ISSUER ?? devVar("OIDC_ISSUER"));
  const origin = await startDemoOrigin({ port: Number(process.env.PORT || 8788), jwksUrl, secret, edgeSignIn });
  console.log(`demo origin listening on ${origin.url}`);
  const stop = () => origin.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
