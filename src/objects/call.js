// What the session object reads of a call, in one crossing, as UTF-8 bytes: a Uint8Array
// is copied into the Wasm's memory natively, where each string the worker crate returns
// (a header's value, the URL) is copied by wasm-bindgen's glue one character at a time.

const encoder = new TextEncoder();

/**
 * The call's URL and "1" when it asks for an upgrade, else "0", then, unless the URL is
 * under `callBase` (which carries policy and message itself: store::call_url), the values
 * of `policyHeader` and `messageHeader` ("\0" when absent: neither can occur in a header
 * value), separated by "\n".
 */
export function head(req, callBase, policyHeader, messageHeader) {
  const h = req.headers;
  const url = req.url;
  const upgrade = h.has("upgrade") ? "1" : "0";
  if (url.startsWith(callBase)) return encoder.encode(`${url}\n${upgrade}`);
  return encoder.encode([url, upgrade, h.get(policyHeader) ?? "\0", h.get(messageHeader) ?? "\0"].join("\n"));
}
