// What the session object reads of a call, in one crossing, as UTF-8 bytes: a Uint8Array
// is copied into the Wasm's memory natively, where each string the worker crate returns
// (a header's value, the URL) is copied by wasm-bindgen's glue one character at a time.

const encoder = new TextEncoder();

/**
 * The call's URL, the value of `policyHeader`, of `messageHeader` ("\0" when absent:
 * neither can occur in a header value) and "1" when it asks for an upgrade, else "0",
 * separated by "\n". A URL under `callBase` carries policy and message itself
 * (store::call_url): its headers are not read for them.
 */
export function head(req, callBase, policyHeader, messageHeader) {
  const h = req.headers;
  const url = req.url;
  const upgrade = h.has("upgrade") ? "1" : "0";
  if (url.startsWith(callBase)) return encoder.encode(`${url}\n\0\n\0\n${upgrade}`);
  return encoder.encode([url, h.get(policyHeader) ?? "\0", h.get(messageHeader) ?? "\0", upgrade].join("\n"));
}
