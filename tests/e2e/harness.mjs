// Test harness: the built Wasm (build/index.js, and the store Worker in build/store/) in
// workerd through miniflare's API, real SQLite-backed Durable Objects, and a real
// recording origin on loopback. No mocks.
//
//   const gate = await startGate({ vars: { IDLE_TIMEOUT: "10s" } });
//   const res = await gate.fetch("/app", { cookie });
//   gate.origin.requests   // what the origin received
//   await gate.dispose();
//
// The recording origin answers every request with JSON {method, path, headers, body}.
// A test steers its reply with request headers that the gate passes through:
//   x-test-command: <json>     -> origin replies with X-Session-Command: <json>
//   x-test-status: <n>         -> reply status
//   x-test-delay: <ms>         -> reply after a delay
//   x-test-set-cookie: <value> -> origin sets this cookie
import { Miniflare } from "miniflare";
import http from "node:http";
import path from "node:path";
import fs from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SECRETS = {
  SESSION_SECRET: "test-session-secret-0123456789abcdef-0123",
  ORIGIN_SECRET: "test-origin-secret-0123456789abcdef-01234",
  ADMIN_TOKEN: "test-admin-token-0123456789abcdef-0123456",
};
export const COOKIE = "__Host-session";

export function startOrigin(handler) {
  const requests = [];
  let custom = handler;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const rec = { method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(rec);
      if (custom && custom(req, res, rec) !== false) return;
      const delay = Number(req.headers["x-test-delay"] || 0);
      setTimeout(() => {
        if (req.headers["x-test-command"]) res.setHeader("x-session-command", req.headers["x-test-command"]);
        if (req.headers["x-test-set-cookie"]) res.setHeader("set-cookie", req.headers["x-test-set-cookie"]);
        res.setHeader("content-type", "application/json");
        res.statusCode = Number(req.headers["x-test-status"] || 200);
        res.end(JSON.stringify(rec));
      }, delay);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        server,
        requests,
        port: server.address().port,
        url: `http://127.0.0.1:${server.address().port}`,
        setHandler(h) { custom = h; },
        last() { return requests[requests.length - 1]; },
        clear() { requests.length = 0; },
        close() { return new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }); },
      });
    });
  });
}

export const DEFAULT_VARS = {
  // The suites written before issue 15 check assertions with ORIGIN_SECRET (HS256) and
  // keep doing so; jwks.test.mjs runs the default, ES256, and EdDSA with their JWKS.
  ASSERTION_ALG: "HS256",
  REQUIRE_HTTPS: "false",
  PUBLIC_PATHS: "/login,/public,/public/*,/",
  LOGIN_URL: "/login",
  ...SECRETS,
};

/**
 * The gate's own Worker: build/index.js, its SESSIONS binding on the `SessionStore` class
 * of the store Worker (`durableObjects` replaces it, e.g. with a faulty store).
 */
export function gateWorker({ vars = {}, originUrl, durableObjects } = {}) {
  const bindings = { ...DEFAULT_VARS, ...(originUrl ? { ORIGIN_URL: originUrl } : {}), ...vars };
  for (const k of Object.keys(bindings)) if (bindings[k] === undefined) delete bindings[k];
  return {
    name: "gate",
    scriptPath: path.join(ROOT, "build/index.js"),
    modulesRoot: ROOT,
    modules: true,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2026-04-20",
    durableObjects: durableObjects ?? { SESSIONS: { className: "SessionStore", scriptName: "store", useSQLite: true } },
    bindings,
  };
}

/** The session store's Worker (build/store/): the `SessionStore` class, no variables. */
export const STORE_WORKER = {
  name: "store",
  scriptPath: path.join(ROOT, "build/store/index.js"),
  modulesRoot: ROOT,
  modules: true,
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
  compatibilityDate: "2026-04-20",
  durableObjects: { SESSIONS: { className: "SessionStore", useSQLite: true } },
};

/**
 * Miniflare options for the deployment as wrangler.toml and wrangler.store.toml make it:
 * the gate (the entry) and the store Worker; `persist` is a directory for Durable
 * Object state.
 */
export function gateOptions({ vars = {}, originUrl, persist } = {}) {
  return {
    workers: [gateWorker({ vars, originUrl }), STORE_WORKER],
    durableObjectsPersist: persist ?? false,
  };
}

export async function startGate({ vars = {}, persist, origin, miniflare = {} } = {}) {
  const org = origin ?? (await startOrigin());
  const mf = new Miniflare({ ...gateOptions({ vars, originUrl: org.url, persist }), ...miniflare });
  const base = await mf.ready;
  const gate = {
    mf,
    origin: org,
    base: base.href.replace(/\/$/, ""),
    /** Real HTTP to the gate. opts: method, headers, cookie, body, ip, ua, https (via dispatchFetch). */
    async fetch(p, opts = {}) {
      const headers = { ...(opts.headers || {}) };
      if (opts.cookie) headers.cookie = opts.cookie;
      if (opts.ip) headers["cf-connecting-ip"] = opts.ip;
      if (opts.ua) headers["user-agent"] = opts.ua;
      if (opts.command) headers["x-test-command"] = typeof opts.command === "string" ? opts.command : JSON.stringify(opts.command);
      const init = { method: opts.method || "GET", headers, body: opts.body, redirect: "manual" };
      if (opts.https) return mf.dispatchFetch(`https://gate.test${p}`, init);
      return rawFetch(gate.base + p, init);
    },
    /** Logs `user` in through an origin login command; returns the `name=value` cookie. */
    async login(user, { roles = ["user"], data, persistent, cookie, ip, ua, https } = {}) {
      const command = { action: "login", user, roles, ...(data ? { data } : {}), ...(persistent ? { persistent } : {}) };
      const res = await gate.fetch("/login", { method: "POST", command, cookie, ip, ua, https });
      await res.arrayBuffer();
      const c = sessionCookie(res);
      if (res.status !== 200 || !c) throw new Error(`login failed: ${res.status} ${res.headers.get("set-cookie")}`);
      return c;
    },
    async dispose() {
      await mf.dispose();
      if (!origin) await org.close();
    },
  };
  return gate;
}

/**
 * HTTP/1.1 over node:http, returning a WHATWG Response. Unlike fetch (undici), it sends
 * exactly the headers given (undici forces Sec-Fetch-Mode and Accept-Language) and the
 * path exactly as written (no URL normalisation of `..` or `//`).
 */
export function rawFetch(url, { method = "GET", headers = {}, body } = {}) {
  const u = new URL(url);
  const rawPath = url.slice(url.indexOf("/", u.protocol.length + 2));
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: rawPath, headers: { "user-agent": "node", ...headers }, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const h = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        const nullBody = [101, 204, 205, 304].includes(res.statusCode);
        resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status: res.statusCode, headers: h }));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body !== undefined && body !== null) req.write(body);
    req.end();
  });
}

/** The gate's `name=value` from a response's Set-Cookie, or null. "" when cleared. */
export function sessionCookie(res) {
  for (const sc of res.headers.getSetCookie()) {
    if (sc.startsWith(COOKIE + "=")) return sc.split(";")[0];
  }
  return null;
}

export function setCookieHeader(res) {
  return res.headers.getSetCookie().find((sc) => sc.startsWith(COOKIE + "=")) ?? null;
}

export function isCleared(res) {
  const sc = setCookieHeader(res);
  return sc !== null && /Max-Age=0/.test(sc) && sc.startsWith(COOKIE + "=;");
}

export function tmpdir(prefix = "sessiongate-") {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Identity headers the origin saw on a recorded request. */
export function identity(rec) {
  const h = rec.headers;
  return {
    user: h["x-session-user"],
    id: h["x-session-id"],
    roles: h["x-session-roles"],
    authTime: h["x-session-auth-time"],
    data: h["x-session-data"],
    elevatedUntil: h["x-session-elevated-until"],
    binding: h["x-session-binding"],
    assertion: h["x-session-assertion"],
  };
}
