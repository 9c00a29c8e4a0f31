// The reference workers' I/O, one JS call per step, as the gate's (src/gate/io.js):
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
