// Live connections for the end-to-end tests: a real WebSocket origin (the `ws` package,
// on the recording origin's port, loopback) and a `ws` client (Node 20 has no
// WebSocket client of its own). Not a test file itself.
import { WebSocketServer, WebSocket } from "ws";
import { startOrigin } from "./harness.mjs";

/**
 * The recording origin, plus WebSocket upgrades: it accepts every handshake (choosing
 * the first subprotocol offered), records its headers in `handshakes`, echoes every
 * message but two text commands: `close:<code>:<reason>` (it closes) and `tick:<ms>`
 * (it sends `tick` every <ms>). `sockets` lists its side of every socket with its close.
 */
export async function startWsOrigin() {
  const origin = await startOrigin();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 << 20, handleProtocols: (set) => [...set][0] ?? false });
  origin.handshakes = [];
  origin.sockets = [];
  origin.server.on("upgrade", (req, socket, head) => {
    origin.handshakes.push({ path: req.url, headers: req.headers });
    wss.handleUpgrade(req, socket, head, (ws) => {
      const entry = { ws, path: req.url, closed: null, received: [] };
      origin.sockets.push(entry);
      ws.on("message", (data, isBinary) => {
        entry.received.push({ data, isBinary });
        const text = isBinary ? null : data.toString();
        if (text?.startsWith("tick:")) {
          // The origin talks on its own, every <ms>, until the socket closes.
          const t = setInterval(() => ws.readyState === 1 && ws.send("tick"), Number(text.slice(5)));
          ws.on("close", () => clearInterval(t));
        } else if (text?.startsWith("close:")) {
          const [, code, reason] = text.split(":");
          ws.close(Number(code), reason);
        } else {
          ws.send(data, { binary: isBinary });
        }
      });
      ws.on("close", (code, reason) => {
        entry.closed = { code, reason: reason.toString(), at: performance.now() };
      });
    });
  });
  const close = origin.close;
  origin.close = async () => {
    for (const s of origin.sockets) s.ws.terminate();
    wss.close();
    await close();
  };
  return origin;
}

/**
 * Opens a WebSocket through the gate. Resolves `{ ws, protocol, headers, next(), closed }`
 * once open (`headers`: the 101's), where `next()` is the next message and `closed` a promise of `{code, reason, at}`;
 * or `{ status, body }` when the handshake is refused.
 */
export function connect(gate, path, { cookie, origin, protocols, headers = {} } = {}) {
  const url = gate.base.replace(/^http/, "ws") + path;
  const h = { ...headers };
  if (cookie) h.cookie = cookie;
  if (origin) h.origin = origin;
  const ws = new WebSocket(url, protocols ?? [], { headers: h, maxPayload: 16 << 20, perMessageDeflate: false });
  const queue = [];
  const waiting = [];
  ws.on("message", (data, isBinary) => {
    const m = { data, isBinary, text: isBinary ? null : data.toString() };
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  let upgradeHeaders = null;
  ws.on("upgrade", (res) => (upgradeHeaders = res.headers));
  const closed = new Promise((resolve) => {
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString(), at: performance.now() }));
  });
  return new Promise((resolve, reject) => {
    ws.on("open", () =>
      resolve({
        ws,
        protocol: ws.protocol,
        headers: upgradeHeaders,
        closed,
        next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r))),
      }),
    );
    ws.on("unexpected-response", (_req, res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode, body, headers: res.headers });
      });
    });
    ws.on("error", (e) => reject(e));
  });
}

/** Rejects if `p` does not settle within `ms`. */
export function within(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(t),
  );
}

/** Polls `check` (async, truthy when done) until `ms` pass. */
export async function until(check, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
