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
 * One call to the object, resolving with its answer's text. `body`, when given, travels
 * in the x-store-message header, as the gate sends its small store messages.
 */
export function objectText(stub, url, body) {
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

/**
 * What the gate must read of every request (the contract: the session cookie, the
 * binding's IP and user agent, the CSRF and navigation signals, the X-Session-* names a
 * client may not send), in one call, as the gate's readRequest.
 */
export function contractRead(req) {
  const h = req.headers;
  const out = [req.url, req.method];
  const own = [];
  for (const n of h.keys()) if (n.startsWith("x-session-")) own.push(n);
  out.push(own.join(","));
  for (const n of ["cookie", "cf-connecting-ip", "user-agent", "origin", "sec-fetch-site", "sec-fetch-mode", "accept"]) out.push(h.get(n) ?? "\0");
  return out.join("\n");
}

export function contractForward(req, url, set) {
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

/** objectText with the store deadline, as the gate's storeCall. */
export function contractObjectText(stub, url, body) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject("store timeout"), 5000);
    objectText(stub, url, body).then(
      (text) => {
        clearTimeout(timer);
        resolve(text);
      },
      (e) => {
        clearTimeout(timer);
        reject(String(e));
      },
    );
  });
}
