// The reference workers' I/O, one JS call per step, as the gate's (src/edge/io.js):
// the floor must be as lean at I/O as the gate, or c/b would flatter the gate.

/** The request to the origin: the client's headers but Host, method and body as sent. */
export function pass(req, url) {
  const headers = new Headers(req.headers);
  headers.delete("host");
  const init = { method: req.method, headers, redirect: "manual" };
  if (req.method !== "GET" && req.method !== "HEAD") init.body = req.body;
  return fetch(url, init);
}

/**
 * One call to the object `name` of `env.FLOOR`, resolving with its answer's text.
 * `body`, when given, travels in the x-store-message header.
 */
export function objectText(env, name, url, body) {
  // The stub made here, as the gate's storeCall makes its own.
  const stub = env.FLOOR.get(env.FLOOR.idFromName(name));
  const init = body === undefined ? undefined : { headers: { "x-store-message": body } };
  return stub.fetch(url, init).then((r) => {
    if (r.status !== 200) throw new Error(`floor object answered ${r.status}`);
    return r.text();
  });
}

// (f) only: the gate's contract I/O with constant values (see lib.rs, feature "contract").
// Shaped like the gate's own helpers (src/edge/io.js): a header copy with edits, the
// origin deadline, the response headers the gate must read, a new response.
function edited(source, drop, set) {
  const h = new Headers(source);
  for (const n of drop) h.delete(n);
  const kv = set.split("\n");
  for (let i = 0; i + 1 < kv.length; i += 2) h.set(kv[i], kv[i + 1]);
  return h;
}

const encoder = new TextEncoder();

/**
 * What the gate must read of every request (the contract: the session cookie, the
 * binding's IP and user agent, the CSRF and navigation signals, the X-Session-* names a
 * client may not send), in one call, as UTF-8 bytes, as the gate's readRequest: one
 * `forEach` walk, which hands each value over with its name (cheaper than a `keys()`
 * walk and a `get` per header).
 */
const READ = new Map(["cookie", "cf-connecting-ip", "user-agent", "origin", "sec-fetch-site", "sec-fetch-mode", "accept"].map((n, i) => [n, i]));
export function contractRead(req) {
  const own = [];
  const values = new Array(READ.size).fill("\0");
  req.headers.forEach((v, n) => {
    const i = READ.get(n);
    if (i !== undefined) values[i] = v;
    if (n.startsWith("x-session-")) own.push(n);
  });
  return encoder.encode([req.url, req.method, own.join(","), ...values].join("\n"));
}

// The honest floor's signature (FLOOR_ALG ES256 or EdDSA): the same WebCrypto calls as
// the gate's src/edge/keys.js, the key imported once per isolate, the signature's
// base64url by the runtime's own encoder, as the gate's.
const SIGN = {
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
  EdDSA: { import: { name: "Ed25519" }, sign: { name: "Ed25519" } },
};
const b64url = (bytes) => new Uint8Array(bytes).toBase64({ alphabet: "base64url", omitPadding: true });

/** A signer for `alg` from a PKCS#8 key in base64 (DER): `signer(input)` resolves to `input.signature`. */
export async function floorSigner(alg, pkcs8b64) {
  const a = SIGN[alg];
  if (!a) throw new Error(`FLOOR_ALG ${alg}: ES256 or EdDSA here (HS256 signs in the Wasm)`);
  const key = await crypto.subtle.importKey("pkcs8", Uint8Array.fromBase64(pkcs8b64), a.import, false, ["sign"]);
  const encoder = new TextEncoder();
  return async (input) => {
    const sig = await crypto.subtle.sign(a.sign, key, encoder.encode(input));
    if (sig.byteLength !== 64) throw new Error(`a ${sig.byteLength}-byte signature`);
    return `${input}.${b64url(sig)}`;
  };
}

/**
 * The forward of the contract floor. `signer`, when given, signs `input` first and the
 * result travels as X-Session-Assertion: one promise awaited on the hot path, as the
 * gate's forward (src/edge/io.js) awaits its signature inside the same call.
 */
export function contractForward(req, url, set, signer, input) {
  if (!signer) return contractSend(req, url, set);
  return signer(input).then((assertion) => contractSend(req, url, `${set}\nx-session-assertion\n${assertion}`));
}

function contractSend(req, url, set) {
  const ctl = new AbortController();
  // Host, and the session cookie: the gate's own cookie never reaches the origin.
  const init = { method: req.method, headers: edited(req.headers, ["host", "cookie"], set), redirect: "manual", signal: ctl.signal };
  if (req.method !== "GET" && req.method !== "HEAD") init.body = req.body;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ctl.abort();
      reject("origin timeout");
    }, 30000);
    fetch(url, init).then(
      (resp) => {
        clearTimeout(timer);
        resolve(resp);
      },
      (e) => {
        clearTimeout(timer);
        reject(String(e));
      },
    );
  });
}

export function contractFinish(resp, set) {
  const h = resp.headers;
  // What the gate must look at in every answer: the X-Session-* names the origin may not
  // set (its command among them), and the cookies it sets.
  const own = [];
  for (const n of h.keys()) if (n.startsWith("x-session-")) own.push(n);
  if (own.length > 0 || h.getSetCookie().length > 99) throw new Error("unexpected");
  return new Response(resp.body, { status: resp.status, statusText: resp.statusText, headers: edited(h, own, set) });
}

/**
 * The object's answer as bytes (an ArrayBuffer), with the store deadline, shaped as the
 * gate's storeCall: the stub (of the object `name` in `env.FLOOR`) made here, the call
 * and its deadline in one promise.
 */
export function contractObjectText(env, name, url, body) {
  const ns = env.FLOOR;
  const stub = ns.get(ns.idFromName(name));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject("store timeout"), 5000);
    const fail = (e) => {
      clearTimeout(timer);
      reject(String(e));
    };
    const init = body === undefined ? undefined : { headers: { "x-store-message": body } };
    stub
      .fetch(url, init)
      .then((r) =>
        r.arrayBuffer().then((buf) => {
          clearTimeout(timer);
          if (r.status === 200) resolve(buf);
          else reject(`floor object answered ${r.status}`);
        }),
      )
      .catch(fail);
  });
}
