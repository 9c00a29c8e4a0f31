// What the runtime's calls on the hot path cost in workerd, one against another: each
// variant runs 50,000 times inside one request (workerd's clocks stand still while a
// request computes, so the time is taken outside, by Node), 7 rounds taken in turn, the
// median in ns per iteration. For choosing between ways of doing the same I/O in io.js
// (docs/performance.md, "2026-12-08"); not a test, and the figures move with the machine.
//
//   node bench/io-costs.mjs [--n 50000] [--rounds 7]
import { Miniflare } from "miniflare";

const args = process.argv.slice(2);
const arg = (n, d) => (args.includes(`--${n}`) ? Number(args[args.indexOf(`--${n}`) + 1]) : d);
const N = arg("n", 50000);
const ROUNDS = arg("rounds", 7);

// The gate's readRequest two ways, the floor's, and the parts they are made of; a store
// call's two headers as fetch takes them, against the same text in the URL.
const WORKER = `
const encoder = new TextEncoder();
const scan = { prefix: "x-session-", names: new Set("forwarded,x-forwarded-for,x-forwarded-host,x-forwarded-proto,x-real-ip,x-http-method-override,x-http-method,x-method-override".split(",")) };
const values = "cookie,cf-connecting-ip,user-agent,sec-fetch-mode,accept,sec-fetch-site,origin,content-type,upgrade,x-http-method-override,x-http-method,x-method-override".split(",");
const position = new Map(values.map((n, i) => [n, i]));
const droppable = (n) => { const m = n.includes("_") ? n.replaceAll("_", "-") : n; return m.startsWith(scan.prefix) || scan.names.has(m); };
const POLICY = '{"timeouts":{"idle":1800,"absolute":86400,"elevation":300,"slide_interval":60,"warning":120},"bind_ip":"off","bind_ua":"warn","max_sessions":0}';
const MESSAGE = '{"validate":{"hash":"w79m4zRBxRtCpJFkutBhAwAAAAAAAAAAAAAAAAAAAAAAAAA","client":{"ip":"","ua":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","https":false},"slide":true}}';
const TEXT = "x".repeat(400);
const B64 = btoa(POLICY + MESSAGE).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
const V = {
  "read: keys() walk + a get per header": (req) => {
    const h = req.headers; const drop = [];
    for (const n of h.keys()) if (droppable(n)) drop.push(n);
    const out = [req.url, req.method, drop.join(",")];
    for (const n of values) out.push(h.get(n) ?? "\\0");
    return encoder.encode(out.join("\\n")).length;
  },
  "read: one forEach walk": (req) => {
    const drop = []; const vals = new Array(values.length).fill("\\0");
    req.headers.forEach((v, n) => { const i = position.get(n); if (i !== undefined) vals[i] = v; if (droppable(n)) drop.push(n); });
    return encoder.encode([req.url, req.method, drop.join(","), ...vals].join("\\n")).length;
  },
  "part: keys() walk alone": (req) => { let k = 0; for (const n of req.headers.keys()) k += n.length; return k; },
  "part: 12 gets alone": (req) => { let k = 0; for (const n of values) k += (req.headers.get(n) ?? "").length; return k; },
  "part: encode 400 characters": () => encoder.encode(TEXT).length,
  "store call: 2 headers in a plain object": () => new Request("https://session-store/", { headers: { "x-store-policy": POLICY, "x-store-message": MESSAGE } }).method.length,
  "store call: the same text in the URL": () => new Request("https://session-store/call/" + B64).method.length,
  "store call: no headers, no text": () => new Request("https://session-store/").method.length,
};
export default {
  async fetch(req) {
    const u = new URL(req.url);
    const f = V[u.searchParams.get("v")];
    const n = Number(u.searchParams.get("n"));
    let x = 0;
    for (let i = 0; i < n; i++) x += f(req);
    return new Response(String(x));
  },
};
`;

const mf = new Miniflare({ modules: true, script: WORKER, compatibilityDate: "2026-04-20" });
await mf.ready;
// The bench's request: a Chrome User-Agent and a session cookie.
const headers = {
  "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  cookie: `__Host-session=${"a".repeat(130)}`,
};
const names = [...WORKER.matchAll(/^ {2}"([^"]+)":/gm)].map((m) => m[1]);
const run = async (v, n) => {
  const t = process.hrtime.bigint();
  const r = await mf.dispatchFetch(`http://x/?v=${encodeURIComponent(v)}&n=${n}`, { headers });
  if (r.status !== 200) throw new Error(`${v}: ${r.status} ${await r.text()}`);
  await r.text();
  return Number(process.hrtime.bigint() - t) / n;
};
for (const v of names) await run(v, Math.min(N, 20000)); // warm-up: let V8 optimise each
const times = Object.fromEntries(names.map((v) => [v, []]));
for (let r = 0; r < ROUNDS; r++) for (const v of names) times[v].push(await run(v, N));
for (const v of names) {
  const s = times[v].sort((a, b) => a - b);
  console.log(`${s[s.length >> 1].toFixed(0).padStart(6)} ns  ${v}   (rounds ${s[0].toFixed(0)}-${s[s.length - 1].toFixed(0)})`);
}
await mf.dispose();
