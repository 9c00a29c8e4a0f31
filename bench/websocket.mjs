// `make bench`, WebSocket row (issue 14): messages per second relayed through the gate
// versus a reference worker that relays the same socket with no session logic, both in
// ONE workerd (miniflare's API) in front of the same `ws` echo origin on loopback, and
// the number of Durable Object requests the gate made during the run.
//
//   node bench/websocket.mjs [--runs 3] [--duration 5] [--clients 8] [--window 32]
//
// Each client keeps `window` messages in flight (send, await the echo, send the next), so
// the figure is the relays' throughput, not the loopback's latency. Target: gate /
// reference >= 0.8. The DO count is the session objects' own request counter (admin
// stats): per socket, the handshake's validation and the watch's opening, then one
// activity touch per slide interval, never one per message. BENCH_WS_IDLE=30s makes the
// slide interval 1 s, to see the touches.
import { Miniflare } from "miniflare";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer, WebSocket } from "ws";
import { STORE_WORKER } from "../tests/e2e/harness.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? args[i + 1] : process.env[`BENCH_WS_${name.toUpperCase()}`];
  return v === undefined ? def : Number(v);
};
const RUNS = opt("runs", 3);
const DURATION = opt("duration", 5);
const CLIENTS = opt("clients", 8);
const WINDOW = opt("window", 32);
const SECRETS = {
  SESSION_SECRET: "bench-session-secret-0123456789abcdef-0123",
  ORIGIN_SECRET: "bench-origin-secret-0123456789abcdef-01234",
  ADMIN_TOKEN: "bench-admin-token-0123456789abcdef-0123456",
};
const IDLE_TIMEOUT = process.env.BENCH_WS_IDLE ?? "30m";
const SLIDE_S = Math.min(60, Math.max(1, Math.floor(parseDuration(IDLE_TIMEOUT) / 30)));

function parseDuration(s) {
  const m = /^(\d+)([smhd]?)$/.exec(s);
  return Number(m[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
}

// The reference: the same relay as the gate's (src/edge/live.js), without validation,
// watch or activity reports.
const REFERENCE = `
function closeLike(ws, code, reason) {
  try { if (code === 1005 || code === 1006 || code === 1015) ws.close(); else ws.close(code, reason); } catch {}
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const resp = await fetch(env.ORIGIN + u.pathname + u.search, { headers: req.headers });
    const origin = resp.webSocket;
    if (!origin) return resp;
    const [client, server] = Object.values(new WebSocketPair());
    origin.binaryType = "arraybuffer";
    server.binaryType = "arraybuffer";
    origin.accept();
    server.accept();
    server.addEventListener("message", (e) => { try { origin.send(e.data); } catch {} });
    origin.addEventListener("message", (e) => { try { server.send(e.data); } catch {} });
    server.addEventListener("close", (e) => closeLike(origin, e.code, e.reason));
    origin.addEventListener("close", (e) => closeLike(server, e.code, e.reason));
    return new Response(null, { status: 101, webSocket: client });
  },
};`;

function startOrigin() {
  // A login answers with the command the bench asked for (x-bench-command).
  const server = http.createServer((req, res) => {
    if (req.headers["x-bench-command"]) res.setHeader("x-session-command", req.headers["x-bench-command"]);
    res.end("ok");
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on("connection", (ws) => ws.on("message", (d, bin) => ws.send(d, { binary: bin })));
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r({ server, wss, url: `http://127.0.0.1:${server.address().port}` })));
}

/** Opens `n` sockets to `url`; runs them for `seconds` with `WINDOW` messages in flight each; messages relayed per second (both directions). */
async function load(url, headersOf, seconds) {
  const sockets = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: headersOf(i), perMessageDeflate: false });
      ws.on("open", () => resolve(ws));
      ws.on("unexpected-response", (_q, r) => reject(new Error(`handshake ${r.statusCode}`)));
      ws.on("error", reject);
    })),
  );
  const payload = "x".repeat(64);
  let echoes = 0;
  let running = true;
  const t0 = performance.now();
  for (const ws of sockets) {
    ws.on("message", () => {
      echoes++;
      if (running) ws.send(payload);
    });
    for (let k = 0; k < WINDOW; k++) ws.send(payload);
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  const elapsed = (performance.now() - t0) / 1000;
  const rate = (2 * echoes) / elapsed;
  await Promise.all(sockets.map((ws) => new Promise((r) => { ws.once("close", r); ws.close(); })));
  return rate;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const origin = await startOrigin();
const mf = new Miniflare({
  workers: [
    {
      name: "gate",
      scriptPath: path.join(ROOT, "build/index.js"),
      modulesRoot: ROOT,
      modules: true,
      modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
      compatibilityDate: "2026-04-20",
      durableObjects: { SESSIONS: { className: "SessionStore", scriptName: "store", useSQLite: true } },
      bindings: { ...SECRETS, ASSERTION_ALG: "HS256", REQUIRE_HTTPS: "false", PUBLIC_PATHS: "/login", ORIGIN_URL: origin.url, IDLE_TIMEOUT },
      unsafeDirectSockets: [{ port: 0 }],
    },
    {
      name: "reference",
      modules: true,
      script: REFERENCE,
      compatibilityDate: "2026-04-20",
      bindings: { ORIGIN: origin.url },
      unsafeDirectSockets: [{ port: 0 }],
    },
    STORE_WORKER,
  ],
  // The store Worker logs an audit line per login and binding change: not the bench's output.
  handleRuntimeStdio(out, err) {
    out.resume();
    err.resume();
  },
});
try {
  await mf.ready;
  const gateUrl = (await mf.unsafeGetDirectURL("gate")).href.replace(/\/$/, "");
  const refUrl = (await mf.unsafeGetDirectURL("reference")).href.replace(/\/$/, "");
  // One session per client, spread over users (two sessions per user object).
  const cookies = [];
  for (let i = 0; i < CLIENTS; i++) {
    const r = await fetch(`${gateUrl}/login`, { method: "POST", headers: { "x-bench-command": JSON.stringify({ action: "login", user: `ws-bench-${i >> 1}`, roles: ["user"] }) } });
    await r.arrayBuffer();
    const sc = r.headers.getSetCookie().find((c) => c.startsWith("__Host-session="));
    if (!sc) throw new Error(`login failed: ${r.status}`);
    cookies.push(sc.split(";")[0]);
  }
  const doRequests = async () => {
    let n = 0;
    for (let u = 0; u < Math.ceil(CLIENTS / 2); u++) {
      const r = await fetch(`${gateUrl}/.sessiongate/admin/users/ws-bench-${u}/stats`, { headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } });
      n += (await r.json()).requests;
    }
    return n;
  };
  const wsBase = (u) => u.replace(/^http/, "ws") + "/live/bench";
  await load(wsBase(refUrl), () => ({}), 1); // warm-up
  await load(wsBase(gateUrl), (i) => ({ cookie: cookies[i] }), 1);
  const gate = [];
  const ref = [];
  const doBefore = await doRequests();
  for (let run = 0; run < RUNS; run++) {
    ref.push(await load(wsBase(refUrl), () => ({}), DURATION));
    gate.push(await load(wsBase(gateUrl), (i) => ({ cookie: cookies[i] }), DURATION));
  }
  const doDuring = (await doRequests()) - doBefore;
  const g = median(gate);
  const f = median(ref);
  const sockets = RUNS * CLIENTS;
  const touches = CLIENTS * RUNS * Math.floor(DURATION / SLIDE_S);
  console.log(`WebSocket relay, ${CLIENTS} sockets x ${WINDOW} in flight, ${RUNS} runs of ${DURATION} s (medians):`);
  console.log(`  reference relay (no session logic): ${f.toFixed(0)} msg/s`);
  console.log(`  gate:                               ${g.toFixed(0)} msg/s`);
  console.log(`  gate / reference: ${(g / f).toFixed(3)} (target >= 0.8) ${g / f >= 0.8 ? "OK" : "UNDER"}`);
  console.log(`  Durable Object requests during the gate's runs: ${doDuring} for ${sockets} sockets and ${Math.round((g * DURATION * RUNS) / 2)} client messages (expected: ${sockets} handshake validations + ${sockets} watches + ${touches} activity touches, one per slide interval of ${SLIDE_S} s per socket; none per message)`);
} finally {
  await mf.dispose();
  origin.wss.close();
  origin.server.close();
}
