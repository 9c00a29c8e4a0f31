// Bounded reads (issue 25, the second review's finding 2): every body the gate reads
// stops at its bound while reading, so a 100 MB chunked body (no Content-Length to
// check first) is answered without workerd's memory growing. Each endpoint that takes
// a POST or DELETE gets the same body; workerd's resident memory is read from
// /proc/<pid>/status (VmRSS) of the workerd processes miniflare started for this file.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import { startGate, SECRETS } from "./harness.mjs";

const MB = 1024 * 1024;
const TOTAL = 100 * MB;
/** "a few MB": what workerd may grow by while answering one 100 MB body. */
const GROWTH_MAX = 16 * MB;

let gate;
let user;
before(async () => {
  gate = await startGate({
    vars: {
      SENSITIVE_PATHS: "DELETE /account/*",
      // Edge sign-in on (its back-channel endpoint exists); the provider is never reached:
      // the body is refused first.
      OIDC_ISSUER: "http://127.0.0.1:9",
      OIDC_CLIENT_ID: "gate",
    },
  });
  user = await gate.login("bounded-user");
});
after(async () => {
  await gate?.dispose();
});

/** Every process below `pid` (children, grandchildren, ...). */
function descendants(pid) {
  const out = [];
  const walk = (p) => {
    for (const task of fs.readdirSync(`/proc/${p}/task`)) {
      let kids = "";
      try {
        kids = fs.readFileSync(`/proc/${p}/task/${task}/children`, "utf8");
      } catch {
        continue;
      }
      for (const k of kids.split(" ").filter(Boolean)) {
        out.push(Number(k));
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

/** workerd's resident memory, in bytes (every workerd process of this file's gate). */
function workerdRss() {
  let total = 0;
  for (const pid of descendants(process.pid)) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "workerd") continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // Gone meanwhile.
    }
  }
  assert.ok(total > 0, "workerd's memory is readable");
  return total;
}

/**
 * Sends a chunked body of up to `total` bytes (no Content-Length), stopping as soon as
 * the answer arrives; resolves with the status, the answer's body and the bytes sent.
 */
function pushChunked(path, { method = "POST", headers = {}, total = TOTAL } = {}) {
  const u = new URL(gate.base + path);
  return new Promise((resolve, reject) => {
    let answered = false;
    let sent = 0;
    const req = http.request(
      { host: u.hostname, port: u.port, method, path, agent: false, headers: { "user-agent": "node", ...headers, "transfer-encoding": "chunked" } },
      (res) => {
        answered = true;
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          req.destroy();
          resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString(), sent });
        });
      },
    );
    req.on("error", (e) => {
      if (!answered) reject(e);
    });
    const chunk = Buffer.alloc(64 * 1024, "a");
    const pump = () => {
      while (!answered && sent < TOTAL && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

const admin = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };
const form = { "content-type": "application/x-www-form-urlencoded" };

// [name, path, request options, expected status, expected JSON body (or a check)]
const ENDPOINTS = () => [
  ["the back-channel logout endpoint", "/.sessiongate/oidc/backchannel-logout", { headers: form }, 400,
    { error: "invalid_logout_token", detail: "body too large" }],
  ["a POST read for _method (no Content-Type)", "/account/data", { headers: { cookie: user, accept: "application/json" } }, 413,
    { error: "request_too_large", detail: "a POST body to this path is read for _method, and is longer than 65536 bytes" }],
  ["a form POST read for _method", "/account/data", { headers: { ...form, cookie: user, accept: "application/json" } }, 413,
    { error: "request_too_large", detail: "a POST body to this path is read for _method, and is longer than 65536 bytes" }],
  ["POST /.sessiongate/refresh (body not read)", "/.sessiongate/refresh", { headers: { cookie: user, "sec-fetch-site": "same-origin" } }, 200, null],
  ["DELETE /.sessiongate/admin/users/{user}/sessions (body not read)", "/.sessiongate/admin/users/nobody/sessions", { method: "DELETE", headers: admin }, 200, null],
  ["POST /.sessiongate/logout (body not read)", "/.sessiongate/logout", { headers: { "sec-fetch-site": "same-origin" } }, 200, null],
];

test("R2-2. a 100 MB chunked body to every endpoint that reads or takes one is answered without workerd's memory growing", async () => {
  for (const [name, path, opts, status, want] of ENDPOINTS()) {
    // Warm: the endpoint's code paths loaded, its answer checked on a small body.
    const small = await pushChunked(path, { ...opts, total: 1024 });
    assert.ok(small.status < 500, `${name}: warm-up ${small.status} ${small.body}`);
    const before = workerdRss();
    const t0 = Date.now();
    const r = await pushChunked(path, opts);
    const ms = Date.now() - t0;
    const grown = workerdRss() - before;
    assert.equal(r.status, status, `${name}: ${r.status} ${r.body}`);
    if (want) assert.deepEqual(JSON.parse(r.body), want, name);
    assert.ok(grown < GROWTH_MAX, `${name}: workerd grew by ${(grown / MB).toFixed(1)} MB answering it`);
    console.log(`${name}: ${r.status} after ${(r.sent / MB).toFixed(1)} MB sent, ${ms} ms, workerd ${grown >= 0 ? "+" : ""}${(grown / MB).toFixed(1)} MB`);
  }
});
