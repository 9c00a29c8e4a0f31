// Edge sign-in's calls to the OpenID provider, and the provider's signatures checked in
// the runtime's WebCrypto (RS256, ES256, EdDSA): no RSA or curve code in the Wasm.
// Rust (core::oidc) has parsed the token, applied the algorithm allow-list and chosen
// the key; here the key is imported (once per isolate) and the signature verified.

import { readCapped } from "./io.js";

const VERIFY = {
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: { name: "RSASSA-PKCS1-v1_5" } },
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } },
  EdDSA: { import: { name: "Ed25519" }, verify: { name: "Ed25519" } },
};

// Imported provider keys by algorithm and JWK: a JWKS rotation adds entries; the bound
// keeps a misbehaving provider from growing it without end.
const imported = new Map();

/** True when `signature` over `data` verifies under the public JWK (JSON) for `alg`. */
export async function verify(alg, jwkJson, data, signature) {
  const a = VERIFY[alg];
  if (!a) return false;
  try {
    const id = alg + " " + jwkJson;
    let key = imported.get(id);
    if (!key) {
      key = await crypto.subtle.importKey("jwk", JSON.parse(jwkJson), a.import, false, ["verify"]);
      if (imported.size >= 32) imported.clear();
      imported.set(id, key);
    }
    return await crypto.subtle.verify(a.verify, key, signature, data);
  } catch {
    return false;
  }
}

// The largest provider answer read (discovery, JWKS, token response): a provider that
// sends more is failing, and reading it whole could exhaust the isolate's memory.
const ANSWER_MAX = 1024 * 1024;

/** The text of a response body, read up to `max` bytes; throws past it. */
async function cappedText(body, max) {
  if (body === null) return "";
  return new TextDecoder().decode(await readCapped(body, max, `answer larger than ${max} bytes`));
}

/**
 * One HTTP call to the provider with a deadline: {status, text, cacheControl,
 * contentType}. Throws a short string when the provider cannot be reached. Redirects
 * are not followed (a provider endpoint that redirects is misconfigured).
 */
export async function call(url, method, authorization, contentType, body, timeoutMs) {
  const headers = { accept: "application/json" };
  if (authorization) headers.authorization = authorization;
  if (contentType) headers["content-type"] = contentType;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const r = await fetch(url, { method, headers, body: body || undefined, redirect: "manual", signal: ctrl.signal });
    const text = await cappedText(r.body, ANSWER_MAX);
    return {
      status: r.status,
      text,
      cacheControl: r.headers.get("cache-control") ?? "",
      contentType: r.headers.get("content-type") ?? "",
    };
  } catch (e) {
    if (typeof e === "string") throw e;
    throw ctrl.signal.aborted ? `no answer within ${timeoutMs} ms` : String(e && e.message ? e.message : e);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One call to an edge sign-in record object (store::kv): the JSON answer's text.
 * Throws a short string when the object fails or misses the deadline.
 */
export async function kvCall(stub, url, body, timeoutMs) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    const r = await Promise.race([stub.fetch(url, { method: "POST", body }), deadline]);
    const text = await r.text();
    if (r.status !== 200) throw `status ${r.status}: ${text.slice(0, 200)}`;
    return text;
  } catch (e) {
    throw typeof e === "string" ? e : String(e && e.message ? e.message : e);
  } finally {
    clearTimeout(timer);
  }
}
