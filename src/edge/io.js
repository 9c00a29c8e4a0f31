// The gate's I/O with the runtime, batched. Every decision stays in Rust; these helpers
// only move bytes, so that a request crosses the Wasm/JS boundary a handful of times
// instead of once per header (each crossing copies and re-encodes strings, and the
// runtime's timers and streams driven from Wasm cost several times their JS price).
//
// Lists travel as one string: fields separated by "\n", absent values as "\0". Neither
// can occur in a URL or a header value (the Headers API rejects CR, LF and NUL).
//
// Text that goes into the Wasm (what is read of a request and of a response, the store's
// reply) goes as UTF-8 bytes: a Uint8Array is copied into the Wasm's memory natively,
// where a string returned to Rust is copied by wasm-bindgen's glue one character at a
// time in JS, which under callgrind was the largest single cost the gate added over its
// floor (docs/performance.md).
//
// What is the same on every request (the header lists, the rejection values, the store
// call's header names) comes from Rust once per isolate (`requestReader`, `context`): a
// request passes those objects, not their strings again (each string argument is
// decoded from the Wasm's memory on every call, and a list's cache key hashed).

const ABSENT = "\0";
const encoder = new TextEncoder();

/**
 * What `readRequest` looks for, made once per isolate: the drop candidates (`prefix`,
 * and the comma-joined `listed`) and the comma-joined headers whose values it returns,
 * each with its position.
 */
export function requestReader(prefix, listed, names) {
  const values = names.split(",");
  return { ...scan(prefix, listed), count: values.length, position: new Map(values.map((n, i) => [n, i])) };
}

/**
 * The per-isolate context of the other helpers: `response`: [prefix, listed, command]
 * (what `readResponse` looks for); `tags`: the rejection values [originTimeout,
 * signFailed]; `store`: [binding, foreign] (the store binding's name in `env`, the
 * rejection value for an id of another namespace).
 */
export function context(response, tags, store) {
  return {
    response: { ...scan(response[0], response[1]), command: response[2] },
    originTimeout: tags[0],
    signFailed: tags[1],
    store: { binding: store[0], foreign: store[1] },
  };
}

function scan(prefix, listed) {
  return { prefix, names: new Set(listed.split(",")) };
}

/**
 * Whether the header `n` starts with `scan.prefix` or is in `scan.names`, with `_` read
 * as `-` (servers that map headers to CGI variables do); the names are returned as sent,
 * and Rust (headers::dropped_from_client) decides again.
 */
function droppable(n, scan) {
  const m = n.includes("_") ? n.replaceAll("_", "-") : n;
  return m.startsWith(scan.prefix) || scan.names.has(m);
}

// The request's headers are walked once with `forEach`, which hands each value over with
// its name: measured in workerd, a `keys()` walk plus a `get` per wanted header took a
// third longer (a `get` is a runtime call, about 0.2 us, for a header present or not).
// workerd's walk joins a header's repeated values as `get` does. A response's few wanted
// headers are cheaper to ask for (`readResponse`): there the walk was no faster.

/**
 * url, method, the header names present among those the gate drops, then the value of
 * each header of the reader's `values`; as UTF-8 bytes.
 */
export function readRequest(req, r) {
  const drop = [];
  const values = new Array(r.count).fill(ABSENT);
  req.headers.forEach((v, n) => {
    const i = r.position.get(n);
    if (i !== undefined) values[i] = v;
    if (droppable(n, r)) drop.push(n);
  });
  return encoder.encode([req.url, req.method, drop.join(","), ...values].join("\n"));
}

/**
 * The names present among the context's `response` names, then the command header's
 * value, then the content type, then each Set-Cookie; as UTF-8 bytes.
 */
export function readResponse(resp, ctx) {
  const h = resp.headers;
  const r = ctx.response;
  const names = [];
  for (const n of h.keys()) if (droppable(n, r)) names.push(n);
  return encoder.encode([names.join(","), h.get(r.command) ?? ABSENT, h.get("content-type") ?? ABSENT, ...h.getSetCookie()].join("\n"));
}

function edit(source, drop, set, append) {
  const h = new Headers(source);
  if (drop) for (const n of drop.split(",")) h.delete(n);
  if (set) {
    const kv = set.split("\n");
    for (let i = 0; i + 1 < kv.length; i += 2) h.set(kv[i], kv[i + 1]);
  }
  if (append) {
    const kv = append.split("\n");
    for (let i = 0; i + 1 < kv.length; i += 2) h.append(kv[i], kv[i + 1]);
  }
  return h;
}

/**
 * The request body as text, read from a clone when `keep` (so the original still
 * streams to the origin); rejects with `tooLarge` past `max` bytes (declared or read:
 * the read stops there and cancels the stream), with `encoded` under a Content-Encoding.
 */
export async function readBody(req, max, tooLarge, encoded, keep) {
  const coding = (req.headers.get("content-encoding") ?? "").trim().toLowerCase();
  if (coding !== "" && coding !== "identity") throw encoded;
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > max) throw tooLarge;
  if (req.body === null) return "";
  return new TextDecoder().decode(await readCapped(keep ? req.clone().body : req.body, max, tooLarge));
}

/** Every byte of `body`, a ReadableStream; rejects with `tooLarge` past `max` bytes. */
export async function readCapped(body, max, tooLarge) {
  const reader = body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      reader.cancel().catch(() => {});
      throw tooLarge;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}

/**
 * The request to the origin: the client's headers minus `drop`, plus `set`; body and
 * method as sent; redirects passed through. `signer`, when a function, signs `input`
 * and the header `signedName` gets the value it resolves to (WebCrypto signs here, so
 * the hot path awaits one promise instead of two); when signing fails nothing is sent
 * and the promise rejects with the context's `signFailed`. The deadline covers the time
 * to the response headers only: the timer is cleared once they arrive, so a long body (a
 * download, a stream) is never cut.
 */
export function forward(req, url, drop, set, timeoutMs, ctx, signedName, signer, input) {
  const headers = edit(req.headers, drop, set, "");
  if (typeof signer !== "function") return send(req, url, headers, timeoutMs, ctx.originTimeout);
  return signer(input).then(
    (value) => {
      headers.set(signedName, value);
      return send(req, url, headers, timeoutMs, ctx.originTimeout);
    },
    () => Promise.reject(ctx.signFailed),
  );
}

function send(req, url, headers, timeoutMs, timedOut) {
  const ctl = new AbortController();
  const init = { method: req.method, headers, redirect: "manual", signal: ctl.signal };
  if (req.method !== "GET" && req.method !== "HEAD") init.body = req.body;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ctl.abort();
      reject(timedOut);
    }, timeoutMs);
    fetch(url, init).then(
      (resp) => {
        clearTimeout(timer);
        resolve(resp);
      },
      (e) => {
        clearTimeout(timer);
        reject(ctl.signal.aborted ? timedOut : String(e && e.message ? e.message : e));
      },
    );
  });
}

/** The origin's response with the gate's header changes; the body streams through. */
export function finish(resp, drop, set, append, replaceCookies) {
  const h = edit(resp.headers, drop, set, "");
  if (replaceCookies !== undefined) {
    h.delete("set-cookie");
    if (replaceCookies) for (const c of replaceCookies.split("\n")) h.append("set-cookie", c);
  }
  if (append) {
    const kv = append.split("\n");
    for (let i = 0; i + 1 < kv.length; i += 2) h.append(kv[i], kv[i + 1]);
  }
  return new Response(resp.body, { status: resp.status, statusText: resp.statusText, headers: h });
}

/**
 * One call to the session object `id` (its 32 bytes) of `env`'s store binding, to the URL
 * `prefix + tail` (the policy and, in `tail`, the message: store::call_url), with `body`,
 * when given, as a POST body; resolve with the reply's bytes (an ArrayBuffer), reject
 * with the context's `foreign` when the id is not one of this namespace's, with a
 * description when the object errors, answers non-200 or does not answer in time. The
 * stub is made here: from Rust it took four crossings (the binding, its type check, the
 * id, the stub) on every validated request.
 */
export function storeCall(env, id, prefix, tail, body, ctx, timeoutMs) {
  const s = ctx.store;
  const ns = env[s.binding];
  if (typeof ns?.idFromString !== "function") return Promise.reject(`no Durable Object binding ${s.binding}`);
  let objectId;
  try {
    objectId = ns.idFromString(id.toHex());
  } catch {
    // Signed by us but minted by another deployment: no such object here.
    return Promise.reject(s.foreign);
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(`no answer within ${timeoutMs} ms`), timeoutMs);
    const fail = (e) => {
      clearTimeout(timer);
      reject(typeof e === "string" ? e : String(e && e.message ? e.message : e));
    };
    // No init at all for a message in the URL: the cheapest call the runtime makes.
    const init = body === undefined ? undefined : { method: "POST", body };
    let call;
    try {
      call = ns.get(objectId).fetch(prefix + tail, init);
    } catch (e) {
      fail(e);
      return;
    }
    call
      .then((r) =>
        r.arrayBuffer().then((buf) => {
          clearTimeout(timer);
          if (r.status === 200) resolve(buf);
          else reject(`status ${r.status}: ${new TextDecoder().decode(new Uint8Array(buf, 0, Math.min(buf.byteLength, 200)))}`);
        }),
      )
      .catch(fail);
  });
}
