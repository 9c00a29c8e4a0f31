// CPU profile of the gate inside workerd, under wrk load: where the gate's own time goes.
//
//   node bench/profile.mjs [--target c|e|d] [--seconds 5] [--build DIR] [--top 40] [--tree] [--bare | --contract]
//   node bench/profile.mjs --instructions N [--rounds 3] [--warm 4000] [--keep DIR] [--build DIR] [--bare | --contract]
//
// --instructions: instead of sampling, count the instructions workerd executes per request
// (valgrind's callgrind, switched on around N requests at a time, after a warm-up), by
// kind of code. Counts do not depend on the machine's load, so two targets counted one
// after the other compare to a few per cent where timings need many runs; they are not
// time (a JS loop V8 has not optimised yet counts more than it costs). Needs valgrind.
// --keep DIR copies each round's callgrind dump there (round-1.out, ...), for
// callgrind_annotate or a function-by-function diff of two targets.
//
// DIR is a scripts/build.sh output that still has its name section (scripts/build.sh strips
// it; `make profile` builds one into target/profile-build). The profile comes from
// workerd's V8 inspector (CDP Profiler domain), so it shows Wasm functions by their
// Rust names next to the JS glue and the runtime's own built-ins.
import { Miniflare } from "miniflare";
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const arg = (n, d) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? args[i + 1] : d;
};
const TARGET = arg("target", "c");
const SECONDS = Number(arg("seconds", 5));
const BUILD = path.resolve(arg("build", path.join(ROOT, "target/profile-build")));
const TOP = Number(arg("top", 40));
// --bare / --contract: profile a reference worker (bench/workers/baseline) instead: the
// pass-through (a), or the contract floor (f) with a session cookie and User-Agent as (c).
const BARE = args.includes("--bare");
const CONTRACT = args.includes("--contract");
const REF = BARE || CONTRACT;
const INSTRUCTIONS = Number(arg("instructions", 0));
const COMPILING = "V8 compiling (tiering up)";
const COLLECTING = "V8 garbage collection";
/** What a round costs without the two lumpy parts (V8's compiler, its collector). */
const steadyOf = (round) => round.total - (round.kinds.get(COMPILING) ?? 0) - (round.kinds.get(COLLECTING) ?? 0);

const REF_DIR = path.join(ROOT, "bench/workers/baseline/build", CONTRACT ? "contract" : "bare");
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/** FLOOR_ALG/FLOOR_KEY for the contract floor: ES256 (a PKCS#8 DER key in base64), or HS256 with PROFILE_ALG=HS256. */
function floorSigning() {
  if (process.env.PROFILE_ALG === "HS256") return { FLOOR_ALG: "HS256", FLOOR_KEY: "bench-origin-secret-0123456789abcdef-01234" };
  const der = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "der" });
  return { FLOOR_ALG: "ES256", FLOOR_KEY: der.toString("base64") };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((res, rej) => {
    const s = net.createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
const get = (url, headers = {}) =>
  new Promise((res, rej) => {
    const r = http.request(url, { headers, agent: false }, (resp) => {
      let b = "";
      resp.on("data", (c) => (b += c));
      resp.on("end", () => res({ status: resp.statusCode, headers: resp.headers, body: b }));
    });
    r.on("error", rej);
    r.end();
  });

for (const f of [path.join(REF ? REF_DIR : BUILD, "index.js")]) {
  if (!fs.existsSync(f)) throw new Error(`missing ${f}: run \`make profile\` (or \`make bench\` once, for --bare / --contract)`);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sessiongate-profile-"));
fs.chmodSync(tmp, 0o755);
const www = path.join(tmp, "www");
fs.mkdirSync(www);
fs.writeFileSync(path.join(www, "hello.txt"), "hello from the origin\n");
const nginxPort = await freePort();
fs.writeFileSync(
  path.join(tmp, "nginx.conf"),
  fs.readFileSync(path.join(ROOT, "bench/nginx.conf"), "utf8").replaceAll("@PORT@", String(nginxPort)).replaceAll("@ROOT@", www).replaceAll("@TMP@", tmp),
);
const nginx = spawn("/usr/sbin/nginx", ["-p", tmp, "-c", path.join(tmp, "nginx.conf"), "-e", "stderr"], { stdio: "ignore" });
if (INSTRUCTIONS) {
  // workerd under callgrind, counting nothing until told to (callgrind_control).
  // The binary miniflare runs (the `workerd` package exports its path, as CommonJS).
  const mod = await import("workerd");
  const workerd = typeof mod.default === "string" ? mod.default : mod.default.default;
  const wrapper = path.join(tmp, "workerd-callgrind.sh");
  fs.writeFileSync(
    wrapper,
    `#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file --callgrind-out-file=${tmp}/callgrind.%p -q ${workerd} "$@" 2>>${tmp}/valgrind.log\n`,
    { mode: 0o755 },
  );
  process.env.MINIFLARE_WORKERD_PATH = wrapper;
}
let mf;
async function cleanup() {
  nginx.kill("SIGTERM");
  if (mf) await mf.dispose().catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.on("SIGINT", async () => {
  await cleanup();
  process.exit(130);
});

try {
  const inspectorPort = await freePort();
  mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    inspectorPort,
    workers: [
      {
        name: "gate",
        scriptPath: path.join(REF ? REF_DIR : BUILD, "index.js"),
        modulesRoot: REF ? REF_DIR : BUILD,
        modules: true,
        modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
        compatibilityDate: "2026-04-20",
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        durableObjects: BARE ? {} : CONTRACT ? { FLOOR: { className: "FloorStore", scriptName: "store", useSQLite: true } } : { SESSIONS: { className: "SessionStore", scriptName: "store", useSQLite: true } },
        bindings: {
          ORIGIN_URL: `http://127.0.0.1:${nginxPort}`,
          REQUIRE_HTTPS: "false",
          PUBLIC_PATHS: "/login,/public,/public/*",
          IDLE_TIMEOUT: "30m",
          ABSOLUTE_TIMEOUT: "24h",
          SESSION_SECRET: "bench-session-secret-0123456789abcdef-0123",
          ORIGIN_SECRET: "bench-origin-secret-0123456789abcdef-01234",
          ADMIN_TOKEN: "bench-admin-token-0123456789abcdef-0123456",
          // ES256, the default, with a key made for this run; PROFILE_ALG=HS256 profiles the shared secret.
          ...(process.env.PROFILE_ALG === "HS256"
            ? { ASSERTION_ALG: "HS256" }
            : { ASSERTION_SIGNING_KEY: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }) }),
          // The contract floor signs as (f) and (fh) of bench/run.mjs do, with the same algorithm.
          ...(CONTRACT ? floorSigning() : {}),
        },
      },
      // The session object's own Worker (build/store/), as deployed: its isolate is a
      // target of its own in the profile.
      // The contract floor's object, in a Worker of its own as in bench/run.mjs.
      ...(CONTRACT
        ? [
            {
              name: "store",
              scriptPath: path.join(REF_DIR, "index.js"),
              modulesRoot: REF_DIR,
              modules: true,
              modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
              compatibilityDate: "2026-04-20",
              durableObjects: { FLOOR: { className: "FloorStore", useSQLite: true } },
            },
          ]
        : []),
      ...(BARE || REF
        ? []
        : [
            {
              name: "store",
              scriptPath: path.join(BUILD, "store/index.js"),
              modulesRoot: path.join(BUILD, "store"),
              modules: true,
              modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
              compatibilityDate: "2026-04-20",
              durableObjects: { SESSIONS: { className: "SessionStore", useSQLite: true } },
            },
          ]),
    ],
    handleRuntimeStdio() {},
  });
  await mf.ready;
  const gate = (await mf.unsafeGetDirectURL("gate")).href.replace(/\/$/, "");
  const login = REF ? null : await get(`${gate}/public/login-bench`, { "user-agent": UA });
  const cookie = REF ? `__Host-session=${"A".repeat(130)}` : [].concat(login.headers["set-cookie"] ?? []).find((c) => c.startsWith("__Host-session="));
  if (!cookie) throw new Error(`login failed: ${login.status} ${login.body}`);
  // The same request as bench/run.mjs sends: a session cookie and a browser's User-Agent.
  const headers =
    TARGET === "c" || REF
      ? { cookie: cookie.split(";")[0], "user-agent": UA }
      : TARGET === "d"
        ? { cookie: `__Host-session=A${"b".repeat(129)}`, "user-agent": UA }
        : { "user-agent": UA };
  const url = TARGET === "e" ? `${gate}/public/x` : `${gate}/app`;
  const probe = await get(url, headers);
  console.log(`target ${TARGET}: ${url} -> ${probe.status}`);
  if (INSTRUCTIONS) await countInstructions(url, headers, probe.status);
  else await sample(url, headers, inspectorPort);
} finally {
  await cleanup();
}

/** Instructions per request, by kind of code (see --instructions above). */
async function countInstructions(url, headers, status) {
  const rounds = Number(arg("rounds", 3));
  const warm = Number(arg("warm", 4000));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  // Keep-alive, as wrk: a connection the server closed between two requests is retried
  // (under valgrind, workerd is slow enough for the client's keep-alive to race it).
  const one = (retries = 3) =>
    new Promise((res, rej) => {
      const r = http.request(url, { headers, agent }, (resp) => {
        resp.resume();
        resp.on("end", () => (resp.statusCode === status ? res() : rej(new Error(`status ${resp.statusCode}`))));
      });
      r.on("error", (e) => (retries > 0 && e.code === "ECONNRESET" ? one(retries - 1).then(res, rej) : rej(e)));
      r.end();
    });
  const burst = async (n) => {
    for (let i = 0; i < n; i += 4) await Promise.all(Array.from({ length: Math.min(4, n - i) }, () => one()));
  };
  const pid = execFileSync("pgrep", ["-f", `callgrind-out-file=${tmp}`], { encoding: "utf8" }).trim().split("\n")[0];
  const control = (...a) => execFileSync("callgrind_control", [...a, pid], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  // V8 compiles the hot code in tiers as it runs: count only once it has settled.
  await burst(warm);
  const keep = arg("keep");
  if (keep) fs.mkdirSync(keep, { recursive: true });
  const counted = [];
  for (let r = 0; r < rounds; r++) {
    control("-z");
    control("-i", "on");
    await burst(INSTRUCTIONS);
    control("-i", "off");
    control("-d");
    const dumps = fs.readdirSync(tmp).filter((f) => /^callgrind\.\d+\.\d+$/.test(f));
    const last = path.join(tmp, dumps.sort((x, y) => Number(x.split(".").pop()) - Number(y.split(".").pop())).pop());
    const round = byKind(last, INSTRUCTIONS);
    if (keep) fs.copyFileSync(last, path.join(keep, `round-${r + 1}.out`));
    counted.push(round);
    const k = (n) => (n / 1e3).toFixed(1);
    console.log(`round ${r + 1}: ${k(round.total)}k instructions per request, ${k(steadyOf(round))}k without V8's compiler and collector`);
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const total = median(counted.map((r) => r.total));
  const steady = median(counted.map(steadyOf));
  console.log(`median ${(total / 1e3).toFixed(1)}k instructions per request, ${(steady / 1e3).toFixed(1)}k without V8's compiler and collector (${rounds} rounds of ${INSTRUCTIONS})`);
  const { kinds, fns } = counted[counted.length - 1];
  console.log("\nby kind (last round), instructions per request:");
  for (const [name, v] of [...kinds].sort((x, y) => y[1] - x[1])) console.log(`${(v / 1e3).toFixed(1).padStart(8)}k  ${name}`);
  console.log(`\ntop ${TOP} functions (last round; JIT code, which has no symbol here, by address), instructions per request:`);
  for (const [name, v] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, TOP)) console.log(`${(v / 1e3).toFixed(1).padStart(8)}k  ${name.slice(0, 140)}`);
}

/** One dump's instructions per request: in all, by kind of code, by function. */
function byKind(file, requests) {
  const annotated = execFileSync("callgrind_annotate", ["--inclusive=no", "--threshold=100", file], { encoding: "utf8", maxBuffer: 1 << 28 });
  const kinds = new Map();
  const fns = new Map();
  let total = 0;
  for (const line of annotated.split("\n")) {
    const m = line.match(/^\s*([\d,]+) \(\s*[\d.]+%\)\s+(?:\?\?\?:)?(.*)$/);
    if (!m) continue;
    const v = Number(m[1].replaceAll(",", "")) / requests;
    if (m[2].includes("PROGRAM TOTALS")) {
      total = v;
      continue;
    }
    const name = m[2].replace(/ \[[^\]]*\]$/, "");
    kinds.set(kindOf(name), (kinds.get(kindOf(name)) ?? 0) + v);
    fns.set(name, (fns.get(name) ?? 0) + v);
  }
  return { total, kinds, fns };
}

function kindOf(name) {
  if (/compiler::|turboshaft|maglev|Maglev|wasm::(Liftoff|Compil|WasmFullDecoder)|BytecodeGenerator|Parser|Scanner/.test(name)) return COMPILING;
  if (/Scavenger|heap::|Heap::|cppgc::|MarkCompact|Sweeper|Marking|MinorMS/.test(name)) return COLLECTING;
  if (name.startsWith("Builtins_")) return "V8 built-ins (interpreter and baseline JS included)";
  if (/^0x[0-9a-f]+$/.test(name)) return "JIT code (optimised JS, the Wasm)";
  if (/nistz256|sha256|SHA256|ecdsa|ECDSA|EVP_|bn_|BN_/.test(name)) return "crypto (BoringSSL)";
  if (/tcmalloc|operator new|operator delete|malloc|free/.test(name)) return "malloc";
  if (/memcpy|memset|memmove|memcmp|memchr|strlen/.test(name)) return "libc memory";
  if (/v8::/.test(name)) return "V8 runtime";
  if (/workerd::|jsg::/.test(name)) return "workerd API";
  if (/kj::|capnp::/.test(name)) return "kj / capnp (I/O, HTTP)";
  return "other";
}

/** Samples every isolate under wrk load; self, inclusive and (--tree) call-tree shares. */
async function sample(url, headers, inspectorPort) {

  // Every isolate (the gate's, and the store Worker's with its Durable Object) is one inspector target.
  const list = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const sessions = await Promise.all(
    list.map(
      (t) =>
        new Promise((res, rej) => {
          const ws = new WebSocket(t.webSocketDebuggerUrl);
          let id = 0;
          const pending = new Map();
          ws.on("message", (m) => {
            const msg = JSON.parse(m);
            if (msg.id && pending.has(msg.id)) {
              pending.get(msg.id)(msg);
              pending.delete(msg.id);
            }
          });
          const send = (method, params = {}) =>
            new Promise((r) => {
              id += 1;
              pending.set(id, r);
              ws.send(JSON.stringify({ id, method, params }));
            });
          ws.on("open", () => res({ title: t.title, ws, send }));
          ws.on("error", rej);
        }),
    ),
  );
  for (const s of sessions) {
    await s.send("Profiler.enable");
    await s.send("Profiler.setSamplingInterval", { interval: 100 });
    await s.send("Profiler.start");
  }
  const wrkArgs = ["-t2", "-c16", `-d${SECONDS}s`];
  for (const [k, v] of Object.entries(headers)) wrkArgs.push("-H", `${k}: ${v}`);
  wrkArgs.push(url);
  const out = await new Promise((res) => {
    const w = spawn("wrk", wrkArgs);
    let o = "";
    w.stdout.on("data", (d) => (o += d));
    w.on("close", () => res(o));
  });
  console.log(out.split("\n").filter((l) => /Requests\/sec|Latency|Non-2xx/.test(l)).join("\n"));
  const requests = Number((out.match(/(\d+) requests in/) || [])[1] ?? 0);
  for (const s of sessions) {
    const { result } = await s.send("Profiler.stop");
    const nodes = result.profile.nodes;
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const self = new Map();
    let total = 0;
    const counts = new Map();
    for (const sid of result.profile.samples) counts.set(sid, (counts.get(sid) ?? 0) + 1);
    for (const [sid, c] of counts) {
      const n = byId.get(sid);
      const name = n.callFrame.functionName || `(anon ${path.basename(n.callFrame.url || "")}:${n.callFrame.lineNumber}:${n.callFrame.columnNumber})`;
      self.set(name, (self.get(name) ?? 0) + c);
      total += c;
    }
    // Inclusive time: a function counts once per sample in which it is on the stack.
    const parent = new Map();
    for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const incl = new Map();
    for (const [sid, c] of counts) {
      const seen = new Set();
      for (let id = sid; id !== undefined; id = parent.get(id)) {
        const n = byId.get(id);
        const name = n.callFrame.functionName || `(anon ${path.basename(n.callFrame.url || "")}:${n.callFrame.lineNumber}:${n.callFrame.columnNumber})`;
        if (seen.has(name)) continue;
        seen.add(name);
        incl.set(name, (incl.get(name) ?? 0) + c);
      }
    }
    const busy = total - (self.get("(idle)") ?? 0);
    // Samples are taken every 100 µs of wall time while the isolate runs, so busy samples
    // per request compare workers profiled the same way (not absolute CPU time).
    const perReq = requests ? `; ${(busy / requests).toFixed(3)} busy samples per request (${requests} requests)` : "";
    console.log(`\n== ${s.title}: ${total} samples${perReq}; self time (top ${TOP})`);
    // Two decimals: a Rust function is often under 0.1 % of a request, and a gap made of
    // a hundred such functions cannot be ranked at one.
    for (const [name, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
      console.log(`${((100 * c) / total).toFixed(2).padStart(6)}%  ${name.slice(0, 140)}`);
    }
    console.log(`\n== ${s.title}: inclusive (top ${TOP})`);
    for (const [name, c] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
      console.log(`${((100 * c) / total).toFixed(2).padStart(6)}%  ${name.slice(0, 140)}`);
    }
    if (args.includes("--tree")) {
      // Top-down call tree: each node's inclusive share, children over 0.5 %.
      const inclNode = new Map();
      const sum = (id) => {
        const n = byId.get(id);
        let v = counts.get(id) ?? 0;
        for (const c of n.children ?? []) v += sum(c);
        inclNode.set(id, v);
        return v;
      };
      const root = nodes[0].id;
      sum(root);
      const walk = (id, depth) => {
        const n = byId.get(id);
        const share = (100 * inclNode.get(id)) / total;
        if (share < 0.5 || depth > 40) return;
        const name = n.callFrame.functionName || "(anon)";
        console.log(`${" ".repeat(depth)}${share.toFixed(1)}% ${name.slice(0, 110)}`);
        for (const c of (n.children ?? []).sort((x, y) => inclNode.get(y) - inclNode.get(x))) walk(c, depth + 1);
      };
      console.log(`\n== ${s.title}: call tree`);
      walk(root, 0);
    }
    s.ws.close();
  }
}
