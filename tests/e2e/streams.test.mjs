// Streamed responses through the gate (issue 14): an event stream (or any body of
// unknown length) passes as a stream, its first event reaching the client before the
// origin has finished; a session's event stream is cut within 2 s of the session's end,
// its last event `event: session_ended` with the reason.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startGate, startOrigin, SECRETS } from "./harness.mjs";
import { command, handleOf } from "./session-helpers.mjs";
import { within } from "./live-helpers.mjs";

const CLOSE_WITHIN_MS = 2000;
let origin;
let gate;
/** Streams the origin holds open, by path: { res, closed } */
const held = new Map();
let release = () => {};

before(async () => {
  origin = await startOrigin((req, res) => {
    if (!req.url.startsWith("/stream/")) return false;
    const sse = !req.url.startsWith("/stream/plain");
    res.writeHead(200, sse ? { "content-type": "text/event-stream", "cache-control": "no-store" } : { "content-type": "application/octet-stream" });
    const entry = { res, closed: null };
    held.set(req.url, entry);
    res.on("close", () => (entry.closed = performance.now()));
    res.write(sse ? "data: first\n\n" : "chunk-1;");
    if (req.url.includes("/ticking")) {
      const t = setInterval(() => res.write("data: tick\n\n"), 200);
      res.on("close", () => clearInterval(t));
    } else {
      // Finishes only when the test says so.
      release = () => res.end(sse ? "data: last\n\n" : "chunk-2;");
    }
    return true;
  });
  gate = await startGate({ origin });
});
after(async () => {
  for (const { res } of held.values()) res.destroy();
  await gate?.dispose();
  await origin?.close();
});

/** GET through the gate, streaming: resolves at the response head with a reader of its chunks. */
function open(path, cookie) {
  return new Promise((resolve, reject) => {
    const u = new URL(gate.base + path);
    const req = http.get({ host: u.hostname, port: u.port, path, headers: { cookie, accept: "text/event-stream" }, agent: false }, (res) => {
      const chunks = [];
      let wake = null;
      const ended = new Promise((r) => {
        const done = (how) => () => r({ how, at: performance.now() });
        res.on("end", done("end"));
        res.on("aborted", done("aborted"));
        res.on("error", done("error"));
        res.on("close", done("close"));
      });
      res.on("data", (c) => {
        chunks.push(c.toString());
        wake?.();
      });
      const text = () => chunks.join("");
      resolve({
        res,
        ended,
        text,
        async until(s, ms = 5000) {
          const end = Date.now() + ms;
          while (!text().includes(s)) {
            if (Date.now() > end) throw new Error(`no ${JSON.stringify(s)} within ${ms} ms: ${JSON.stringify(text())}`);
            await new Promise((r) => {
              wake = r;
              setTimeout(r, 50);
            });
          }
        },
      });
    });
    req.on("error", reject);
  });
}

test("an event stream's first event reaches the client before the origin has finished", async () => {
  const cookie = await gate.login("stream-first");
  const s = await open("/stream/events", cookie);
  assert.equal(s.res.statusCode, 200);
  assert.equal(s.res.headers["content-type"], "text/event-stream");
  await s.until("data: first\n\n");
  assert.equal(held.get("/stream/events").res.writableEnded, false, "the origin has not finished yet");
  assert.ok(!s.text().includes("last"));
  release();
  const end = await within(s.ended, 5000, "stream end");
  assert.equal(end.how, "end");
  assert.equal(s.text(), "data: first\n\ndata: last\n\n");
});

test("a body of unknown length streams too (no session needed on a public path)", async () => {
  const s = await open("/stream/plain", "");
  assert.equal(s.res.statusCode, 401, "protected without a session");
  const cookie = await gate.login("stream-plain");
  const p = await open("/stream/plain", cookie);
  assert.equal(p.res.statusCode, 200);
  assert.equal(p.res.headers["content-length"], undefined);
  await p.until("chunk-1;");
  assert.equal(held.get("/stream/plain").res.writableEnded, false);
  release();
  await within(p.ended, 5000, "plain end");
  assert.equal(p.text(), "chunk-1;chunk-2;");
});

for (const [name, end] of [
  ["an administrator's revoke", async (cookie, user) => {
    const h = await handleOf(gate, cookie);
    const r = await gate.fetch(`/.sessiongate/admin/users/${user}/sessions/${h}`, { method: "DELETE", headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } });
    assert.equal(r.status, 200);
  }],
  ["logout", async (cookie) => {
    await command(gate, cookie, { action: "logout" });
  }],
]) {
  test(`a session's event stream is cut within 2 s of ${name}, and the origin's side is closed`, async () => {
    const user = "stream-cut-" + name.length;
    const cookie = await gate.login(user);
    const path = `/stream/ticking/${name.length}`;
    const s = await open(path, cookie);
    await s.until("data: tick\n\n");
    const t0 = performance.now();
    await end(cookie, user);
    const ended = await within(s.ended, CLOSE_WITHIN_MS + 3000, "cut");
    const ms = Math.round(ended.at - t0);
    console.log(`stream cut after ${name}: ${ms} ms (${ended.how})`);
    assert.ok(ms <= CLOSE_WITHIN_MS, `cut after ${ms} ms`);
    assert.ok(s.text().endsWith("\nevent: session_ended\ndata: revoked\n\n"), `the last event says why: ${JSON.stringify(s.text().slice(-80))}`);
    const o = held.get(path);
    await within(
      (async () => {
        while (o.closed === null) await new Promise((r) => setTimeout(r, 50));
      })(),
      3000,
      "the origin's stream is cancelled",
    );
  });
}
