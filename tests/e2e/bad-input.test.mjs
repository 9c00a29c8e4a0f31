// A table-driven bad-input suite against the real runtime (built Wasm in
// workerd via miniflare, SQLite Durable Objects, recording origin on loopback).
//
// Every case names a request, the expected status and the expected JSON body (or a
// predicate on it). For every case the suite also checks two invariants:
//   (a) the origin never received a request carrying an identity the gate did not
//       validate: identity headers (X-Session-*) and the assertion's `sub`/`sid` only
//       ever name a session this suite logged in (a legit handle) and, per case, only the
//       session the case expects; spoofed markers ("mallory", 6.6.6.6) never get through;
//   (b) a set of other live sessions, logged in before the suite, still validate.
//
// Statuses marked "runtime" are answered by workerd/miniflare (or by the origin's own
// HTTP server) before the gate's code runs; they were observed with miniflare
// 4.20260426.0 and are accepted from a small set of equivalent refusals.
//
// Set SG_VERBOSE=1 to see workerd's log lines.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import crypto from "node:crypto";
import { startGate, startOrigin, sessionCookie, isCleared, tmpdir, SECRETS, COOKIE } from "./harness.mjs";
import { mintToken, storeIdOf, flipBit } from "./tokens.mjs";

const quiet = process.env.SG_VERBOSE ? {} : { handleRuntimeStdio: (out, err) => { out.resume(); err.resume(); } };
const JSON_ACCEPT = { accept: "application/json" };
const ADMIN = `Bearer ${SECRETS.ADMIN_TOKEN}`;
const OLD_KEY = "retired-session-secret-0123456789abcdef-01";
const MISSING = { error: "unauthenticated", reason: "missing" };
const INVALID = { error: "unauthenticated", reason: "invalid" };
const AMBIGUOUS = { error: "unauthenticated", reason: "ambiguous_session" };
const REVOKED = { error: "unauthenticated", reason: "revoked" };
const CROSS_SITE = { error: "cross_site_request" };
const UNAUTHORIZED = { error: "unauthorized" };
const BAD_PERCENT = { error: "bad_request", detail: "path has a malformed percent-encoding" };
// Refusals by the runtime (workerd's HTTP parser) of a request it will not parse or pass
// on: plain-text or empty bodies. Every refusal of the gate is JSON, so a case that
// expects one of these fails when the gate answers instead (a gate panic is a 500 with
// {"error":"internal"}, not the runtime's "Internal Server Error").
const HEADERS_NOT_VALID = "ERROR: The headers sent by your client are not valid.";
const SPOOF_MARKERS = /mallory|6\.6\.6\.6/i;

let origin;
let gate;
let port;
/** handle -> user of every session this suite logged in: the only identities allowed. */
const legit = new Map();
/** Live sessions that no case may disturb. */
const others = [];
/** The retired-key session: logged in under OLD_KEY, which the suite's gate no longer knows. */
let retired;
/** Observed status of every case, printed at the end. */
const observed = [];

// ---------------------------------------------------------------------------------------
// helpers

function token(cookie) {
  return cookie.slice(cookie.indexOf("=") + 1);
}

async function register(cookie, user) {
  const res = await gate.fetch("/.sessiongate/status", { cookie });
  const s = await res.json();
  assert.equal(s.authenticated, true, `status of ${user}: ${JSON.stringify(s)}`);
  assert.equal(s.user, user);
  legit.set(s.session, user);
  return s.session;
}

async function loginLegit(user, opts = {}) {
  const cookie = await gate.login(user, opts);
  const handle = await register(cookie, user);
  return { user, cookie, handle };
}

/** Sends a command from the origin (as the response to a request carrying `cookie`). */
async function command(cookie, cmd, path = "/app/cmd") {
  const res = await gate.fetch(path, { cookie, command: cmd, headers: JSON_ACCEPT });
  await res.arrayBuffer();
  return res;
}

/** HS256 check of the assertion with node's crypto (sync); returns the claims. */
function assertionClaims(jwt) {
  assert.ok(typeof jwt === "string" && jwt.split(".").length === 3, "every forwarded request carries an assertion");
  const [h, p, sig] = jwt.split(".");
  const want = crypto.createHmac("sha256", SECRETS.ORIGIN_SECRET).update(`${h}.${p}`).digest("base64url");
  assert.equal(sig, want, "assertion signed by the gate under ORIGIN_SECRET");
  return JSON.parse(Buffer.from(p, "base64url").toString());
}

const IDENTITY_HEADERS = [
  "x-session-user", "x-session-id", "x-session-roles", "x-session-auth-time",
  "x-session-data", "x-session-elevated-until", "x-session-binding",
];
const CLIENT_ADDRESS_HEADERS = ["x-forwarded-for", "forwarded", "x-real-ip", "true-client-ip", "remote-user", "x-forwarded-user"];

/**
 * Invariant (a) for the requests the origin recorded during one case. `expected` is the
 * user whose validated session the case may forward (null: no identity at all).
 */
function checkOriginSawOnlyValidated(recs, expected, caseName) {
  for (const rec of recs) {
    const h = rec.headers;
    const where = `${caseName}: ${rec.method} ${rec.path}`;
    for (const [name, value] of Object.entries(h)) {
      if (name.startsWith("x-session-") || CLIENT_ADDRESS_HEADERS.includes(name)) {
        assert.doesNotMatch(String(value), SPOOF_MARKERS, `${where}: spoofed ${name} reached the origin`);
      }
      if (name.startsWith("x-session-")) {
        assert.ok(IDENTITY_HEADERS.includes(name) || name === "x-session-assertion", `${where}: unexpected ${name} at the origin`);
      }
    }
    const claims = assertionClaims(h["x-session-assertion"]);
    const present = IDENTITY_HEADERS.filter((n) => h[n] !== undefined);
    if (present.length === 0) {
      assert.equal(claims.sub, undefined, `${where}: assertion names a user without identity headers`);
      assert.equal(claims.sid, undefined, `${where}: assertion names a session without identity headers`);
      assert.equal(expected, null, `${where}: expected ${expected}'s identity, got none`);
      continue;
    }
    const id = h["x-session-id"];
    assert.ok(legit.has(id), `${where}: identity ${id} (${h["x-session-user"]}) was never validated by this suite`);
    assert.equal(h["x-session-user"], legit.get(id), `${where}: user does not match the validated session`);
    assert.equal(h["x-session-user"], expected ?? undefined, `${where}: identity of the wrong session`);
    assert.equal(claims.sub, h["x-session-user"], `${where}: assertion sub`);
    assert.equal(claims.sid, id, `${where}: assertion sid`);
  }
}

/** Invariant (b): every other live session still validates, with its own identity. */
async function checkOthersAlive(caseName) {
  await Promise.all(others.map(async (o) => {
    const res = await gate.fetch("/app/_alive", { cookie: o.cookie, headers: JSON_ACCEPT });
    const text = await res.text();
    assert.equal(res.status, 200, `${caseName}: session of ${o.user} no longer validates: ${text}`);
    const seen = JSON.parse(text).headers;
    assert.equal(seen["x-session-user"], o.user, `${caseName}: ${o.user}'s identity`);
    assert.equal(seen["x-session-id"], o.handle, `${caseName}: ${o.user}'s handle`);
  }));
}

/**
 * A raw HTTP/1.1 exchange over a socket, for what node:http refuses to send (CR, LF,
 * control characters in headers, absolute-form targets). Returns a WHATWG Response.
 */
function rawSocket(requestText) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (complete) => {
      if (done) return;
      const sep = buf.indexOf("\r\n\r\n");
      if (sep < 0) {
        if (complete) { done = true; reject(new Error(`no HTTP response: ${JSON.stringify(buf.toString("latin1"))}`)); }
        return;
      }
      const head = buf.subarray(0, sep).toString("latin1").split("\r\n");
      const status = Number(head[0].split(" ")[1]);
      const headers = new Headers();
      for (const line of head.slice(1)) {
        const i = line.indexOf(":");
        headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      let body = buf.subarray(sep + 4);
      if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
        const parts = [];
        let rest = body;
        let ended = false;
        for (;;) {
          const eol = rest.indexOf("\r\n");
          if (eol < 0) break;
          const size = parseInt(rest.subarray(0, eol).toString(), 16);
          if (size === 0) { ended = true; break; }
          if (!(size > 0) || rest.length < eol + 4 + size) break;
          parts.push(rest.subarray(eol + 2, eol + 2 + size));
          rest = rest.subarray(eol + 4 + size);
        }
        if (!ended && !complete) return;
        body = Buffer.concat(parts);
      } else if (headers.has("content-length")) {
        const n = Number(headers.get("content-length"));
        if (body.length < n && !complete) return;
        body = body.subarray(0, n);
      } else if (!complete) {
        return;
      }
      done = true;
      s.destroy();
      const nullBody = [101, 204, 205, 304].includes(status);
      resolve(new Response(nullBody ? null : body, { status, headers }));
    };
    s.setTimeout(10_000, () => s.destroy(new Error("raw socket timed out")));
    s.on("data", (d) => { buf = Buffer.concat([buf, d]); finish(false); });
    s.on("error", (e) => { if (!done) { done = true; reject(e); } });
    s.on("end", () => finish(true));
    s.on("close", () => finish(true));
    s.write(Buffer.from(requestText, "latin1"));
  });
}

function rawRequest(target, headerLines = [], method = "GET") {
  const head = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Connection: close", "User-Agent: node", "Accept: application/json", ...headerLines];
  return rawSocket(head.join("\r\n") + "\r\n\r\n");
}

/** The origin answers with this X-Session-Command (too big for a request header). */
function originCommand(cmd) {
  const value = typeof cmd === "string" ? cmd : JSON.stringify(cmd);
  return (req, res) => {
    res.setHeader("x-session-command", value);
    res.setHeader("content-type", "application/json");
    res.end("{}");
  };
}

function nested(levels) {
  let v = 1;
  for (let i = 0; i < levels; i++) v = { n: v };
  return v;
}

function returnTo(location) {
  const u = new URL(location, "https://gate.test");
  return { url: u, returnTo: u.searchParams.get("return_to") };
}

/** The predicate for a login redirect: same site, return_to a single-slash relative path. */
function safeLoginRedirect(expectedReturnTo) {
  return (body, res) => {
    const loc = res.headers.get("location");
    assert.ok(loc && loc.startsWith("/login?"), `Location ${loc} is the configured LOGIN_URL`);
    const { url, returnTo: rt } = returnTo(loc);
    assert.equal(url.host, "gate.test", "the redirect stays on this site");
    assert.ok(rt.startsWith("/") && !rt.startsWith("//") && !rt.startsWith("/\\"), `return_to ${rt} is one relative path`);
    assert.equal(new URL(rt, "https://gate.test").host, "gate.test", "return_to resolves to this site");
    if (expectedReturnTo) assert.equal(rt, expectedReturnTo);
    assert.equal(url.searchParams.get("reason"), "missing");
  };
}

function originEcho(check) {
  return (body) => {
    assert.ok(body && typeof body === "object" && body.headers, `origin echo expected, got ${JSON.stringify(body)}`);
    check?.(body);
  };
}

// ---------------------------------------------------------------------------------------
// the table
//
// A case: { name, req(ctx) -> { path, opts } | { raw: text }, prepare(ctx) (optional,
// runs before, may log sessions in), status (number or array), body (deep-equal object
// or predicate (json, res)), identity (user whose validated session may reach the origin,
// default null), reaches (does the origin's handler run; default: false), cleared
// (the gate clears the cookie), origin (custom origin handler), after(ctx) (extra checks),
// todo (a known gate bug: reported, not failing). }

const junk = (n) => `junk=${"a".repeat(n)}`;
const olive = () => others[0];
const oscar = () => others[1];

const CASES = [
  // -- oversized Cookie headers
  { name: "8 KB Cookie without a session cookie", req: () => ({ path: "/app", opts: { cookie: junk(8 * 1024) } }), status: 401, body: MISSING },
  { name: "16 KB Cookie without a session cookie", req: () => ({ path: "/app", opts: { cookie: junk(16 * 1024) } }), status: 401, body: MISSING },
  { name: "64 KB Cookie without a session cookie", req: () => ({ path: "/app", opts: { cookie: junk(64 * 1024) } }), status: 401, body: MISSING },
  {
    name: "128 KB Cookie (runtime: 431 header too large)",
    req: () => ({ path: "/app", opts: { cookie: junk(128 * 1024) + "; " + oscar().cookie } }),
    status: 431,
    body: "ERROR: header too large.",
  },
  {
    name: "8 KB of other cookies around a valid session cookie: forwarded, gate cookie stripped",
    req: () => ({ path: "/app/big", opts: { cookie: `${junk(8 * 1024)}; ${oscar().cookie}; b=2` } }),
    status: 200,
    reaches: true,
    identity: "oscar",
    body: originEcho((b) => assert.equal(b.headers.cookie, `${junk(8 * 1024)}; b=2`)),
  },
  {
    name: "16 KB of other cookies around a valid session: the origin's own HTTP server answers 431 (passed through)",
    req: () => ({ path: "/app/big", opts: { cookie: `${junk(16 * 1024)}; ${oscar().cookie}` } }),
    // node's default 16 KB header limit refuses the forwarded request before the recording
    // origin's handler runs, so nothing is recorded; the gate passes node's empty 431 on
    // (any refusal of the gate's own would be JSON).
    status: 431,
    reaches: false,
    identity: "oscar",
    body: "",
  },
  { name: "8 KB session cookie value", req: () => ({ path: "/app", opts: { cookie: oscar().cookie + "A".repeat(8 * 1024) } }), status: 401, body: INVALID, cleared: true },
  { name: "64 KB session cookie value", req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=${"A".repeat(64 * 1024)}` } }), status: 401, body: INVALID, cleared: true },

  // -- several session cookies
  // Several values of the gate's cookie: those not signed by the gate are ignored beside
  // one that is; two that name different sessions are refused as ambiguous, and neither
  // is cleared (issue 25: clearing one left a planted one in place).
  { name: "valid then forged session cookie in one header", req: () => ({ path: "/app", opts: { cookie: `${oscar().cookie}; ${COOKIE}=forged` } }), status: 200, reaches: true, identity: "oscar", body: originEcho(() => {}) },
  { name: "forged then valid session cookie in one header", req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=forged; ${oscar().cookie}` } }), status: 200, reaches: true, identity: "oscar", body: originEcho(() => {}) },
  { name: "the same valid session cookie twice", req: () => ({ path: "/app", opts: { cookie: `${oscar().cookie}; ${oscar().cookie}` } }), status: 200, reaches: true, identity: "oscar", body: originEcho(() => {}) },
  { name: "two users' valid session cookies in one header", req: () => ({ path: "/app", opts: { cookie: `${olive().cookie}; ${oscar().cookie}` } }), status: 401, body: AMBIGUOUS, notCleared: true },
  {
    name: "valid and forged session cookies in two Cookie header lines",
    req: () => ({ path: "/app", opts: { headers: { cookie: [oscar().cookie, `${COOKIE}=${flipBit(token(olive().cookie), 300)}`] } } }),
    status: 200,
    reaches: true,
    identity: "oscar",
    body: originEcho(() => {}),
  },
  {
    name: "two users' valid session cookies in two Cookie header lines",
    req: () => ({ path: "/app", opts: { headers: { cookie: [oscar().cookie, olive().cookie] } } }),
    status: 401,
    body: AMBIGUOUS,
    notCleared: true,
  },
  {
    name: "a cookie that differs only in case is not the gate's cookie",
    req: () => ({ path: "/app", opts: { cookie: `__host-session=${token(oscar().cookie)}` } }),
    status: 401,
    body: MISSING,
  },

  // -- malformed, truncated, bit-flipped, wrong-key tokens
  { name: "empty session cookie", req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=` } }), status: 401, body: INVALID, cleared: true },
  { name: "garbage token", req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=garbage` } }), status: 401, body: INVALID, cleared: true },
  { name: "token truncated by one character", req: () => ({ path: "/app", opts: { cookie: oscar().cookie.slice(0, -1) } }), status: 401, body: INVALID, cleared: true },
  { name: "token truncated to half", req: () => ({ path: "/app", opts: { cookie: oscar().cookie.slice(0, 80) } }), status: 401, body: INVALID, cleared: true },
  { name: "token with one character appended", req: () => ({ path: "/app", opts: { cookie: oscar().cookie + "A" } }), status: 401, body: INVALID, cleared: true },
  { name: "bit flipped in the version byte", req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=${flipBit(token(oscar().cookie), 1)}` } }), status: 401, body: INVALID, cleared: true },
  { name: "bit flipped in the store id", req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=${flipBit(token(oscar().cookie), 8 * 10 + 3)}` } }), status: 401, body: INVALID, cleared: true },
  { name: "bit flipped in the secret", req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=${flipBit(token(oscar().cookie), 8 * 50)}` } }), status: 401, body: INVALID, cleared: true },
  { name: "bit flipped in the tag", req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=${flipBit(token(oscar().cookie), 8 * 96 + 7)}` } }), status: 401, body: INVALID, cleared: true },
  {
    name: "non-canonical base64url (padding bits of the last character changed)",
    req: () => {
      const t = token(oscar().cookie);
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      const last = alphabet[alphabet.indexOf(t.at(-1)) ^ 1];
      return { path: "/app", opts: { cookie: `${COOKIE}=${t.slice(0, -1)}${last}` } };
    },
    status: 401,
    body: INVALID,
    cleared: true,
  },
  {
    name: "standard base64 alphabet with padding instead of base64url",
    req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=${Buffer.from(token(oscar().cookie), "base64url").toString("base64")}` } }),
    status: 401,
    body: INVALID,
    cleared: true,
  },
  {
    name: "token for a real user's store signed with a wrong key",
    req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=${mintToken(storeIdOf(token(olive().cookie)), "wrong-key-wrong-key-wrong-key-wrong-key-0")}` } }),
    status: 401,
    body: INVALID,
    cleared: true,
  },
  {
    name: "right key but an unknown secret in a real user's store",
    req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=${mintToken(storeIdOf(token(olive().cookie)), SECRETS.SESSION_SECRET)}` } }),
    status: 401,
    body: INVALID,
    cleared: true,
  },
  {
    name: "right key but a store id that is no Durable Object id of this namespace",
    req: () => ({ path: "/app", opts: { cookie: `${COOKIE}=${mintToken("ab".repeat(32), SECRETS.SESSION_SECRET)}` } }),
    status: 401,
    body: INVALID,
    cleared: true,
  },
  {
    name: "token signed with the retired key (SESSION_SECRET_PREVIOUS unset after rotation)",
    req: () => ({ path: "/app", opts: { cookie: retired } }),
    status: 401,
    body: INVALID,
    cleared: true,
  },
  {
    name: "retired-key token on a public path: served without identity, cookie cleared",
    req: () => ({ path: "/public/x", opts: { cookie: retired } }),
    status: 200,
    reaches: true,
    body: originEcho((b) => assert.equal(b.headers["x-session-user"], undefined)),
    cleared: true,
  },

  // -- control characters and CRLF in headers (raw socket)
  {
    name: "obs-fold continuation line carrying X-Session-User on a public path (runtime unfolds it: 200)",
    req: () => ({ raw: [`GET /public/fold HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Connection: close", "X-Foo: a", " X-Session-User: mallory"].join("\r\n") + "\r\n\r\n" }),
    status: 200,
    reaches: true,
    body: originEcho((b) => {
      assert.equal(b.path, "/public/fold");
      assert.match(b.headers["x-foo"], /^a\s+X-Session-User: mallory$/, "folded into X-Foo's value");
      assert.equal(b.headers["x-session-user"], undefined);
    }),
  },
  {
    name: "bare LF splitting a spoofed X-Session-User next to a valid cookie (runtime splits it: 200)",
    req: () => ({ raw: [`GET /app/lf HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Connection: close", "User-Agent: node", `Cookie: ${oscar().cookie}\nX-Session-User: mallory`].join("\r\n") + "\r\n\r\n" }),
    status: 200,
    reaches: true,
    identity: "oscar",
    // The runtime makes the LF a header break; the gate drops the client's X-Session-User.
    body: originEcho((b) => {
      assert.equal(b.path, "/app/lf");
      assert.equal(b.headers["x-session-user"], "oscar");
    }),
  },
  {
    name: "bare CR inside a header value (runtime: 400)",
    req: () => ({ raw: [`GET /app HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Connection: close", `Cookie: a=1\r${oscar().cookie}`].join("\r\n") + "\r\n\r\n" }),
    status: 400,
    body: HEADERS_NOT_VALID,
  },
  { name: "NUL in a header value (runtime: 400)", rawReq: () => rawRequest("/public/x", ["X-Foo: a\x00b"]), status: 400, body: HEADERS_NOT_VALID },
  { name: "\\x01 in a header value (runtime: 400)", rawReq: () => rawRequest("/public/x", ["X-Foo: a\x01b"]), status: 400, body: "" },
  { name: "DEL in a header value (runtime: 400)", rawReq: () => rawRequest("/public/x", ["X-Foo: a\x7fb"]), status: 400, body: "" },
  { name: "NUL inside the session token (runtime: 400)", rawReq: () => rawRequest("/app", [`Cookie: ${COOKIE}=${token(oscar().cookie).slice(0, 60)}\x00${token(oscar().cookie).slice(60)}`]), status: 400, body: HEADERS_NOT_VALID },
  {
    name: "control character appended to a valid session cookie (observed: 401)",
    rawReq: () => rawRequest("/app", [`Cookie: ${oscar().cookie}\x01`]),
    status: 401,
    body: INVALID,
  },
  { name: "CRLF injected into the request line (runtime: 400)", rawReq: () => rawRequest("/public/x\r\nX-Session-User: mallory"), status: 400, body: "ERROR: Invalid request line." },
  { name: "encoded CRLF in a protected path", req: () => ({ path: "/app/%0d%0aX-Session-User:%20mallory" }), status: 401, body: MISSING },
  {
    name: "encoded CRLF in a public path stays encoded",
    req: () => ({ path: "/public/%0d%0aX-Session-User:%20mallory" }),
    status: 200,
    reaches: true,
    body: originEcho((b) => assert.equal(b.path, "/public/%0D%0AX-Session-User:%20mallory")),
  },
  { name: "absolute-form request target (runtime: workerd answers 500 invalid URL)", rawReq: () => rawRequest("http://evil.example/login/../app"), status: 500, body: "Internal Server Error" },

  // -- control characters and CRLF in origin commands
  {
    name: "origin command: login whose user contains CRLF",
    req: () => ({ path: "/login", opts: { method: "POST", command: { action: "login", user: "eve\r\nX-Session-User: mallory" } } }),
    reaches: true,
    status: 502,
    body: (b) => { assert.equal(b.error, "invalid_origin_command"); assert.match(b.detail, /control characters/); },
    noCookie: true,
  },
  {
    name: "origin command: login whose role contains CRLF",
    req: () => ({ path: "/login", opts: { method: "POST", command: { action: "login", user: "eve", roles: ["user\r\nX-Session-Roles: admin"] } } }),
    reaches: true,
    status: 502,
    body: (b) => { assert.equal(b.error, "invalid_origin_command"); assert.match(b.detail, /control characters/); },
    noCookie: true,
  },
  {
    name: "origin command: login whose user contains NUL",
    req: () => ({ path: "/login", opts: { method: "POST", command: { action: "login", user: "eve\u0000mallory" } } }),
    reaches: true,
    status: 502,
    body: (b) => { assert.equal(b.error, "invalid_origin_command"); assert.match(b.detail, /control characters/); },
    noCookie: true,
  },
  {
    name: "origin command with a raw control character in the header (raw origin response)",
    req: () => ({ path: "/login", opts: { method: "POST" } }),
    origin: (req, res) => {
      res.socket.end('HTTP/1.1 200 OK\r\nX-Session-Command: {"action":"login","user":"eve\x01mallory"}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    },
    reaches: true,
    status: 502,
    // workerd passes the raw byte through; the gate's JSON parser refuses it.
    body: (b) => { assert.equal(b.error, "invalid_origin_command"); assert.match(b.detail, /control character/); },
    noCookie: true,
  },
  {
    name: "CRLF in set_data values is escaped in X-Session-Data, never a new header",
    prepare: async (ctx) => { ctx.dora = await loginLegit("dora"); },
    req: (ctx) => ({ path: "/app/note", opts: { cookie: ctx.dora.cookie, command: { action: "set_data", data: { note: "a\r\nX-Session-User: injected\u0000" } } } }),
    reaches: true,
    identity: "dora",
    status: 200,
    body: originEcho(),
    after: async (ctx) => {
      gate.origin.clear();
      const res = await gate.fetch("/app/note", { cookie: ctx.dora.cookie });
      assert.equal(res.status, 200);
      const seen = (await res.json()).headers;
      assert.equal(seen["x-session-user"], "dora");
      assert.deepEqual(JSON.parse(seen["x-session-data"]), { note: "a\r\nX-Session-User: injected\u0000" });
      assert.ok(/^[\x20-\x7e]*$/.test(seen["x-session-data"]), "X-Session-Data is printable ASCII");
    },
    afterIdentity: "dora",
  },

  // -- spoofed X-Session-* (any case) and X-Forwarded-For
  {
    name: "spoofed X-Session-* in mixed case on a public path: stripped",
    req: () => ({
      path: "/public/spoof",
      opts: { headers: { "X-SESSION-USER": "mallory", "x-Session-Id": "mallory-handle", "X-Session-Roles": "admin", "x-session-data": '{"who":"mallory"}', "X-Session-Assertion": "mallory.jwt.forged", "X-Session-Auth-Time": "0", "X-Session-Elevated-Until": "9999999999" } },
    }),
    status: 200,
    reaches: true,
    body: originEcho(),
  },
  {
    name: "spoofed X-Session-User and -Id (a real handle) without a cookie on a protected path",
    req: () => ({ path: "/app", opts: { headers: { "X-Session-User": olive().user, "X-Session-Id": olive().handle } } }),
    status: 401,
    body: MISSING,
  },
  {
    name: "spoofed identity, roles and client address next to a valid session: the gate's values win",
    req: () => ({
      path: "/app/spoof",
      opts: {
        cookie: oscar().cookie,
        headers: {
          "X-SESSION-USER": "mallory", "x-session-roles": "admin", "X-Session-Auth-Time": "0", "X-Session-Binding": "ok-mallory",
          "X-Session-Elevated-Until": "9999999999", "X-Forwarded-For": "6.6.6.6", Forwarded: "for=6.6.6.6", "X-Real-IP": "6.6.6.6",
          "True-Client-IP": "6.6.6.6", "Remote-User": "mallory", "X-Forwarded-User": "mallory",
        },
      },
    }),
    status: 200,
    reaches: true,
    identity: "oscar",
    body: originEcho((b) => {
      assert.equal(b.headers["x-session-roles"], "user");
      assert.equal(b.headers["x-session-elevated-until"], undefined);
      for (const h of ["forwarded", "x-real-ip", "true-client-ip", "remote-user", "x-forwarded-user"]) assert.equal(b.headers[h], undefined, h);
    }),
  },
  {
    name: "spoofed X-Forwarded-For on a public path is replaced by the connecting address",
    req: () => ({ path: "/public/xff", opts: { ip: "203.0.113.9", headers: { "X-Forwarded-For": "6.6.6.6, 10.0.0.1" } } }),
    status: 200,
    reaches: true,
    body: originEcho((b) => assert.equal(b.headers["x-forwarded-for"], "203.0.113.9")),
  },
  {
    name: "a client-sent X-Session-Command is stripped, never applied",
    req: () => ({ path: "/login", opts: { method: "POST", headers: { "X-Session-Command": JSON.stringify({ action: "login", user: "mallory" }) } } }),
    status: 200,
    reaches: true,
    body: originEcho((b) => assert.equal(b.headers["x-session-command"], undefined)),
    noCookie: true,
  },

  // -- path-normalisation bypasses
  ...[
    "/login/../app", "//app", "///app", "/login/%2e%2e/app", "/login/%2E%2E/app", "/public/%2e%2e/app", "/public/.%2e/app",
    "/public/..%2Fapp", "/public/..%2fapp", "/public%2F..%2Fapp", "/public/%5c..%5capp", "/public\\..\\app",
    "/LOGIN", "/Login", "/PUBLIC/x", "/login/", "/login%2F", "/%2e/app", "/public/..%2f..%2fapp", "/%6cogin/../app",
  ].map((p) => ({ name: `path bypass ${p}`, req: () => ({ path: p }), status: 401, body: MISSING })),
  {
    name: "path bypass /public/..;/app stays under /public (forwarded without identity, unchanged)",
    req: () => ({ path: "/public/..;/app", opts: { cookie: oscar().cookie } }),
    status: 200,
    reaches: true,
    identity: "oscar",
    body: originEcho((b) => assert.equal(b.path, "/public/..;/app")),
  },
  {
    name: "the gate's namespace under an encoded slash (/.sessiongate%2Fadmin/...) is never forwarded",
    req: () => ({ path: "/.sessiongate%2Fadmin/users/olive/sessions", opts: { headers: { authorization: ADMIN } } }),
    status: [404, 401],
    body: (b) => assert.ok(b.error === "not_found" || b.reason === "missing", JSON.stringify(b)),
  },
  { name: "malformed percent-encoding %zz", req: () => ({ path: "/app%zz" }), status: 400, body: BAD_PERCENT },
  { name: "malformed percent-encoding: lone % on a public path", req: () => ({ path: "/public/%" }), status: 400, body: BAD_PERCENT },
  { name: "malformed percent-encoding: truncated %2", req: () => ({ path: "/public/%2", opts: { cookie: oscar().cookie } }), status: 400, body: BAD_PERCENT },
  { name: "path longer than 4096 bytes", req: () => ({ path: "/public/" + "a".repeat(5000) }), status: 400, body: { error: "bad_request", detail: "path is longer than 4096 bytes" } },

  // -- open redirect through return_to
  ...[
    ["//evil.example/x", "/evil.example/x"],
    ["/\\evil.example/x", "/evil.example/x"],
    ["///evil.example", "/evil.example"],
    ["/%2F%2Fevil.example", "/%2F%2Fevil.example"],
    ["/%5C%5Cevil.example", "/%5C%5Cevil.example"],
    ["/app?next=//evil.example&x=https://evil.example", "/app?next=//evil.example&x=https://evil.example"],
  ].map(([p, rt]) => ({
    name: `open redirect via ${p}`,
    req: () => ({ path: p, opts: { headers: { "sec-fetch-mode": "navigate" } } }),
    status: 302,
    body: safeLoginRedirect(rt),
  })),

  // -- replay of dead IDs
  {
    name: "replay after logout",
    prepare: async (ctx) => {
      ctx.v = await loginLegit("rex");
      assert.ok(isCleared(await command(ctx.v.cookie, { action: "logout" })));
    },
    req: (ctx) => ({ path: "/app", opts: { cookie: ctx.v.cookie } }),
    status: 401, body: REVOKED, cleared: true,
  },
  {
    name: "replay after regeneration (password change)",
    prepare: async (ctx) => {
      ctx.v = await loginLegit("reg");
      const res = await command(ctx.v.cookie, { action: "regenerate", reason: "password_change" });
      ctx.next = sessionCookie(res);
      assert.ok(ctx.next && ctx.next !== ctx.v.cookie);
    },
    req: (ctx) => ({ path: "/app", opts: { cookie: ctx.v.cookie } }),
    status: 401, body: REVOKED, cleared: true,
    after: async (ctx) => {
      const res = await gate.fetch("/app/next", { cookie: ctx.next });
      assert.equal(res.status, 200, "the regenerated ID works");
      assert.equal((await res.json()).headers["x-session-user"], "reg");
    },
    afterIdentity: "reg",
  },
  {
    name: "replay after log-out-everywhere (the other session of the user)",
    prepare: async (ctx) => {
      ctx.a = await loginLegit("lou");
      ctx.b = await loginLegit("lou");
      assert.ok(isCleared(await command(ctx.a.cookie, { action: "logout_all" })));
    },
    req: (ctx) => ({ path: "/app", opts: { cookie: ctx.b.cookie } }),
    status: 401, body: REVOKED, cleared: true,
    after: async (ctx) => {
      const res = await gate.fetch("/app", { cookie: ctx.a.cookie, headers: JSON_ACCEPT });
      assert.deepEqual(await res.json(), REVOKED);
    },
  },
  {
    name: "replay after a new login from the same browser",
    prepare: async (ctx) => {
      ctx.v = await loginLegit("ned");
      ctx.next = await gate.login("ned", { cookie: ctx.v.cookie });
    },
    req: (ctx) => ({ path: "/app", opts: { cookie: ctx.v.cookie } }),
    status: 401, body: REVOKED, cleared: true,
  },
  {
    name: "replay after POST /.sessiongate/logout, from another address and browser",
    prepare: async (ctx) => {
      ctx.v = await loginLegit("lia");
      const res = await gate.fetch("/.sessiongate/logout", { method: "POST", cookie: ctx.v.cookie });
      assert.equal(res.status, 200);
    },
    req: (ctx) => ({ path: "/app", opts: { cookie: ctx.v.cookie, ip: "198.51.100.7", ua: "Other/2" } }),
    status: 401, body: REVOKED, cleared: true,
  },
  {
    name: "replay after an admin revocation",
    prepare: async (ctx) => {
      ctx.v = await loginLegit("ada");
      const res = await gate.fetch("/.sessiongate/admin/users/ada/sessions", { method: "DELETE", headers: { authorization: ADMIN } });
      assert.deepEqual(await res.json(), { revoked: 1 });
    },
    req: (ctx) => ({ path: "/public/x", opts: { cookie: ctx.v.cookie } }),
    status: 200, reaches: true, cleared: true,
    body: originEcho((b) => assert.equal(b.headers["x-session-user"], undefined)),
  },

  // -- the admin API
  { name: "admin API without a token", req: () => ({ path: "/.sessiongate/admin/users/olive/sessions" }), status: 401, body: UNAUTHORIZED },
  { name: "admin API with a wrong token", req: () => ({ path: "/.sessiongate/admin/users/olive/sessions", opts: { headers: { authorization: "Bearer wrong-admin-token-0123456789abcdef-01234" } } }), status: 401, body: UNAUTHORIZED },
  { name: "admin API with a truncated token", req: () => ({ path: "/.sessiongate/admin/users/olive/sessions", opts: { headers: { authorization: ADMIN.slice(0, -1) } } }), status: 401, body: UNAUTHORIZED },
  { name: "admin API with a token prefix only", req: () => ({ path: "/.sessiongate/admin/users/olive/sessions", opts: { headers: { authorization: ADMIN.slice(0, 12) } } }), status: 401, body: UNAUTHORIZED },
  { name: "admin API with the token plus a character", req: () => ({ path: "/.sessiongate/admin/users/olive/sessions", opts: { headers: { authorization: ADMIN + "x" } } }), status: 401, body: UNAUTHORIZED },
  { name: "admin API with the token as Basic credentials", req: () => ({ path: "/.sessiongate/admin/users/olive/sessions", opts: { headers: { authorization: `Basic ${SECRETS.ADMIN_TOKEN}` } } }), status: 401, body: UNAUTHORIZED },
  { name: "admin API with the token in the query string", req: () => ({ path: `/.sessiongate/admin/users/olive/sessions?token=${SECRETS.ADMIN_TOKEN}` }), status: 401, body: UNAUTHORIZED },
  { name: "admin API with an admin user's session cookie but no token", req: () => ({ path: "/.sessiongate/admin/users/oscar/sessions", opts: { cookie: olive().cookie } }), status: 401, body: UNAUTHORIZED },
  {
    name: "admin DELETE of a user's sessions with a truncated token changes nothing",
    req: () => ({ path: "/.sessiongate/admin/users/olive/sessions", opts: { method: "DELETE", headers: { authorization: ADMIN.slice(0, -3) } } }),
    status: 401, body: UNAUTHORIZED,
  },
  {
    name: "admin DELETE of one session by handle without a token changes nothing",
    req: () => ({ path: `/.sessiongate/admin/users/oscar/sessions/${oscar().handle}`, opts: { method: "DELETE" } }),
    status: 401, body: UNAUTHORIZED,
  },

  // -- cross-site requests
  { name: "cross-site POST (Sec-Fetch-Site: cross-site)", req: () => ({ path: "/app/transfer", opts: { method: "POST", cookie: oscar().cookie, body: "amount=1000", headers: { "sec-fetch-site": "cross-site" } } }), status: 403, body: CROSS_SITE },
  { name: "cross-site POST (Sec-Fetch-Site in upper case)", req: () => ({ path: "/app/transfer", opts: { method: "POST", cookie: oscar().cookie, headers: { "Sec-Fetch-Site": "Cross-Site" } } }), status: 403, body: CROSS_SITE },
  { name: "cross-site POST (foreign Origin, no Sec-Fetch-Site)", req: () => ({ path: "/app/transfer", opts: { method: "POST", cookie: oscar().cookie, headers: { origin: "https://evil.example" } } }), status: 403, body: CROSS_SITE },
  { name: "cross-site POST (Origin: null)", req: () => ({ path: "/app/transfer", opts: { method: "POST", cookie: oscar().cookie, headers: { origin: "null" } } }), status: 403, body: CROSS_SITE },
  { name: "cross-site PUT with a look-alike Origin", req: () => ({ path: "/app/x", opts: { method: "PUT", cookie: oscar().cookie, headers: { origin: `http://127.0.0.1:${port}.evil.example` } } }), status: 403, body: CROSS_SITE },
  { name: "cross-site POST to a public path with a session cookie", req: () => ({ path: "/public/form", opts: { method: "POST", cookie: oscar().cookie, headers: { "sec-fetch-site": "cross-site" } } }), status: 403, body: CROSS_SITE },
  { name: "cross-site POST /.sessiongate/logout cannot log a user out", req: () => ({ path: "/.sessiongate/logout", opts: { method: "POST", cookie: oscar().cookie, headers: { "sec-fetch-site": "cross-site" } } }), status: 403, body: CROSS_SITE },
  { name: "cross-site DELETE /.sessiongate/sessions cannot log a user out everywhere", req: () => ({ path: "/.sessiongate/sessions", opts: { method: "DELETE", cookie: olive().cookie, headers: { origin: "https://evil.example" } } }), status: 403, body: CROSS_SITE },
  { name: "Sec-Fetch-Site cross-site wins over a same-origin Origin", req: () => ({ path: "/app/x", opts: { method: "POST", cookie: oscar().cookie, headers: { "sec-fetch-site": "cross-site", origin: `http://127.0.0.1:${port}` } } }), status: 403, body: CROSS_SITE },

  // -- huge and deeply nested set_data payloads (sent by the origin)
  {
    name: "set_data larger than SESSION_DATA_MAX, no session",
    req: () => ({ path: "/public/cart", opts: { method: "POST" } }),
    origin: originCommand({ action: "set_data", data: { blob: "x".repeat(17_000) } }),
    reaches: true, status: 502, noCookie: true,
    body: (b) => { assert.equal(b.error, "invalid_origin_command"); assert.match(b.detail, /16384/); },
  },
  {
    name: "set_data larger than SESSION_DATA_MAX on a signed-in session changes nothing",
    prepare: async (ctx) => { ctx.v = await loginLegit("hugo", { data: { keep: 1 } }); },
    req: (ctx) => ({ path: "/app/cart", opts: { method: "POST", cookie: ctx.v.cookie } }),
    origin: originCommand({ action: "set_data", data: { blob: "x".repeat(40_000) } }),
    reaches: true, identity: "hugo", status: 502, noCookie: true,
    body: (b) => { assert.equal(b.error, "invalid_origin_command"); assert.match(b.detail, /16384/); },
    after: async (ctx) => {
      const res = await gate.fetch("/app/cart", { cookie: ctx.v.cookie });
      assert.deepEqual(JSON.parse((await res.json()).headers["x-session-data"]), { keep: 1 });
    },
    afterIdentity: "hugo",
  },
  {
    name: "set_data that grows the stored data past SESSION_DATA_MAX (merge checked in the store)",
    prepare: async (ctx) => {
      ctx.v = await loginLegit("gwen");
      gate.origin.setHandler(originCommand({ action: "set_data", data: { a: "x".repeat(10_000) } }));
      try {
        const res = await gate.fetch("/app/cart", { method: "POST", cookie: ctx.v.cookie });
        assert.equal(res.status, 200, "10 KB fits");
        await res.arrayBuffer();
      } finally {
        gate.origin.setHandler(null);
      }
    },
    req: (ctx) => ({ path: "/app/cart", opts: { method: "POST", cookie: ctx.v.cookie } }),
    origin: originCommand({ action: "set_data", data: { b: "y".repeat(10_000) } }),
    reaches: true, identity: "gwen", status: 502, noCookie: true,
    body: (b) => { assert.equal(b.error, "invalid_origin_command"); assert.match(b.detail, /16384/); },
    after: async (ctx) => {
      const res = await gate.fetch("/app/cart", { cookie: ctx.v.cookie });
      assert.deepEqual(Object.keys(JSON.parse((await res.json()).headers["x-session-data"])), ["a"]);
    },
    afterIdentity: "gwen",
  },
  {
    name: "set_data nested 200 levels deep",
    req: () => ({ path: "/public/cart", opts: { method: "POST", cookie: oscar().cookie } }),
    origin: originCommand({ action: "set_data", data: { deep: nested(200) } }),
    reaches: true, identity: "oscar", status: 502, noCookie: true,
    body: (b) => assert.equal(b.error, "invalid_origin_command"),
  },
  {
    name: "set_data nested 40 levels deep (under serde's limit, over the gate's)",
    req: () => ({ path: "/public/cart", opts: { method: "POST" } }),
    origin: originCommand({ action: "set_data", data: { deep: nested(40) } }),
    reaches: true, status: 502, noCookie: true,
    body: (b) => { assert.equal(b.error, "invalid_origin_command"); assert.match(b.detail, /nested/); },
  },
  {
    name: "login command with a 200-level nested data payload",
    req: () => ({ path: "/login", opts: { method: "POST" } }),
    origin: originCommand({ action: "login", user: "nina", data: { deep: nested(200) } }),
    reaches: true, status: 502, noCookie: true,
    body: (b) => assert.equal(b.error, "invalid_origin_command"),
  },
  {
    name: "origin command header larger than 64 KB",
    req: () => ({ path: "/public/cart", opts: { method: "POST" } }),
    origin: originCommand({ action: "set_data", data: { blob: "z".repeat(70_000) } }),
    reaches: true, status: 502, noCookie: true,
    // Refused by the 64 KiB header bound itself, before the data could meet SESSION_DATA_MAX.
    body: (b) => { assert.equal(b.error, "invalid_origin_command"); assert.match(b.detail, /longer than 65536 bytes/); },
  },

  // -- the outside review's families (SECURITY.md, "Outside review")
  {
    name: "spoofed identity headers spelled with underscores on a public path: stripped",
    req: () => ({ path: "/public/underscore", opts: { headers: { X_Session_User: "mallory", "X-Session_Roles": "admin", x_session_assertion: "forged", Remote_User: "mallory", X_Forwarded_Host: "evil.example" } } }),
    status: 200,
    reaches: true,
    body: originEcho((b) => assert.deepEqual(Object.keys(b.headers).filter((n) => n.includes("_")), [])),
  },
  {
    name: "routing and scheme headers (X-Original-URL, X-Forwarded-Ssl, ...) on a public path: stripped",
    req: () => ({ path: "/public/route", opts: { headers: { "X-Original-URL": "/app/admin", "X-Rewrite-URL": "/app/admin", "X-Forwarded-Prefix": "/app", "X-Forwarded-Ssl": "on", "Front-End-Https": "on", "X-Url-Scheme": "https", "X-Forwarded-Port": "443" } } }),
    status: 200,
    reaches: true,
    body: originEcho((b) => {
      for (const h of ["x-original-url", "x-rewrite-url", "x-forwarded-prefix", "x-forwarded-ssl", "front-end-https", "x-url-scheme", "x-forwarded-port"]) assert.equal(b.headers[h], undefined, h);
    }),
  },
  {
    name: "the session cookie in a second Cookie header line on a public path: read, and stripped from what is forwarded",
    rawReq: () => rawRequest("/public/two-cookies", ["Cookie: theme=dark", `Cookie: ${oscar().cookie}`]),
    status: 200,
    reaches: true,
    identity: "oscar",
    body: originEcho((b) => {
      assert.equal(b.headers.cookie, "theme=dark");
      assert.equal(b.headers["x-session-user"], "oscar");
    }),
  },
  { name: "TRACE on a public path", req: () => ({ path: "/public/echo", opts: { method: "TRACE" } }), status: 405, body: { error: "method_not_allowed" } },
  {
    name: "POST with a foreign Origin and Sec-Fetch-Site: same-site",
    req: () => ({ path: "/app/transfer", opts: { method: "POST", cookie: oscar().cookie, headers: { "sec-fetch-site": "same-site", origin: "https://evil.example" } } }),
    status: 403,
    body: CROSS_SITE,
  },
  {
    name: "origin command: login whose user has a leading space",
    req: () => ({ path: "/login", opts: { method: "POST", command: { action: "login", user: " oscar" } } }),
    reaches: true,
    status: 502,
    body: { error: "invalid_origin_command", detail: "user starts or ends with whitespace" },
    noCookie: true,
  },
  {
    name: "origin command whose error would echo a secret value",
    req: () => ({ path: "/login", opts: { method: "POST", command: { action: "login", user: "eve", persistent: "sk_live_abc" } } }),
    reaches: true,
    status: 502,
    body: { error: "invalid_origin_command", detail: 'command 0 (login): "persistent" must be true or false' },
    noCookie: true,
  },
];

// ---------------------------------------------------------------------------------------

before(async () => {
  origin = await startOrigin();
  const persist = tmpdir();
  // A session logged in under a key that is then retired (rotation complete,
  // SESSION_SECRET_PREVIOUS unset): its token must be refused as invalid.
  const old = await startGate({ origin, persist, vars: { SESSION_SECRET: OLD_KEY }, miniflare: quiet });
  retired = await old.login("rita");
  await old.dispose();
  gate = await startGate({ origin, persist, vars: { SESSION_DATA_MAX: "16384" }, miniflare: quiet });
  port = new URL(gate.base).port;
  others.push(await loginLegit("olive", { roles: ["admin", "user"] }));
  others.push(await loginLegit("oscar"));
  others.push(await loginLegit("olive"));
  others.push(await loginLegit("pia", { persistent: true, data: { cart: ["book"] } }));
  await checkOthersAlive("before the suite");
  gate.origin.clear();
});

after(async () => {
  console.log("observed statuses:");
  for (const [name, status] of observed) console.log(`  ${String(status).padEnd(4)} ${name}`);
  await gate?.dispose();
  await origin?.close();
});

test("the table has at least 40 cases", () => {
  assert.ok(CASES.length >= 40, `${CASES.length} cases`);
});

test("every case has its own name (the test is named by what it tries)", () => {
  const seen = new Set();
  for (const c of CASES) {
    assert.ok(!seen.has(c.name), `two cases named ${c.name}`);
    seen.add(c.name);
  }
});

for (const c of CASES) {
  test(`bad input: ${c.name}`, c.todo ? { todo: c.todo } : {}, async () => {
    const ctx = {};
    if (c.prepare) await c.prepare(ctx);
    gate.origin.clear();
    let res;
    if (c.origin) gate.origin.setHandler(c.origin);
    try {
      if (c.rawReq) res = await c.rawReq(ctx);
      else {
        const r = c.req(ctx);
        if (r.raw) res = await rawSocket(r.raw);
        else res = await gate.fetch(r.path, { ...r.opts, headers: { ...JSON_ACCEPT, ...(r.opts?.headers ?? {}) } });
      }
    } finally {
      if (c.origin) gate.origin.setHandler(null);
    }
    const text = await res.text();
    observed.push([c.name, res.status]);
    let body;
    try { body = JSON.parse(text); } catch { body = text; }
    const statuses = Array.isArray(c.status) ? c.status : [c.status];
    assert.ok(statuses.includes(res.status), `status ${res.status} not in ${statuses}: ${text.slice(0, 300)}`);
    if (typeof c.body === "function") c.body(body, res);
    else assert.deepEqual(body, c.body);
    if (c.cleared) assert.ok(isCleared(res), "the invalid cookie is cleared");
    if (c.notCleared) assert.equal(sessionCookie(res), null, "no value of the cookie is cleared or set");
    if (c.noCookie) assert.equal(sessionCookie(res), null, "no session cookie issued or changed");
    assert.equal(res.headers.get("x-session-command"), null, "commands never reach the client");

    // (a) what the origin received
    const recs = [...gate.origin.requests];
    if (c.reaches === true) assert.ok(recs.length >= 1, "the origin was reached");
    else if (!c.reaches) assert.equal(recs.length, 0, `nothing reaches the origin: ${recs.map((r) => r.path)}`);
    checkOriginSawOnlyValidated(recs, c.identity ?? null, c.name);
    if (c.after) {
      await c.after(ctx);
      checkOriginSawOnlyValidated([...gate.origin.requests], c.afterIdentity ?? null, `${c.name} (after)`);
    }
    // (b) the other live sessions are untouched
    gate.origin.clear();
    await checkOthersAlive(c.name);
    gate.origin.clear();
  });
}
