// The assertion keys in the runtime's WebCrypto. Rust has already classified them
// (core::signing::material); here they are imported, once per isolate, published as a
// JWKS, and used to sign. JSON and SHA-256 of the JWKS are done here too, so that none of
// it adds to the Wasm.
// WebCrypto keeps P-256 and Ed25519 arithmetic out of the Wasm (100 KiB gzipped with
// RustCrypto) and runs it natively (docs/performance.md: Assertion signatures).

const ALGORITHMS = {
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
  EdDSA: { import: { name: "Ed25519" }, sign: { name: "Ed25519" } },
};

/** A JWK's key members only: an input's `alg`, `key_ops` or `ext` cannot disagree with the import. */
function keyData(format, data) {
  if (format !== "jwk") return data;
  const { kty, crv, x, y, d } = JSON.parse(new TextDecoder().decode(data));
  return { kty, crv, x, ...(y === undefined ? {} : { y }), ...(d === undefined ? {} : { d }) };
}

// The runtime's own encoder (Uint8Array.prototype.toBase64): it runs on every signed
// request, where btoa over a spread and three regex passes took 6.6 µs (a CPU profile,
// docs/performance.md).
const b64url = (bytes) => new Uint8Array(bytes).toBase64({ alphabet: "base64url", omitPadding: true });

/**
 * RFC 7638: SHA-256 of the required members in lexicographic order without whitespace
 * (crv, kty, x, y for EC; crv, kty, x for OKP), base64url. JSON.stringify keeps this
 * insertion order; the e2e tests check the result against jose's calculateJwkThumbprint,
 * and core/jwk.rs against the RFC's example.
 */
async function thumbprint(jwk) {
  const members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, ...(jwk.y === undefined ? {} : { y: jwk.y }) };
  return b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(members))));
}

class KeyImportError extends Error {
  constructor(previous, message) {
    super(message);
    this.previous = previous;
  }
}

/**
 * Imports a key for `alg` ("ES256" | "EdDSA") from `format` ("pkcs8" | "spki" | "jwk"):
 * for a private key a non-extractable signing CryptoKey (null for a public one), and the
 * published JWK ({kty, crv, x, y?, kid, alg, use}). A private key must sign something
 * its public half verifies, so a JWK whose x/y are not d's public key is refused.
 * Throws a short message without key material.
 */
async function importOne(alg, format, data, isPrivate, previous) {
  const a = ALGORITHMS[alg];
  const input = keyData(format, data);
  let pub;
  let key = null;
  try {
    const usage = isPrivate ? ["sign"] : ["verify"];
    const exportable = await crypto.subtle.importKey(format, input, a.import, true, usage);
    const e = await crypto.subtle.exportKey("jwk", exportable);
    pub = { kty: e.kty, crv: e.crv, x: e.x, ...(e.y ? { y: e.y } : {}) };
    if (isPrivate) key = await crypto.subtle.importKey(format, input, a.import, false, ["sign"]);
  } catch {
    throw new KeyImportError(previous, `the runtime's WebCrypto refused it as ${format} for ${alg}`);
  }
  if (key) {
    let ok = false;
    try {
      const check = await crypto.subtle.importKey("jwk", pub, a.import, false, ["verify"]);
      const probe = new TextEncoder().encode("sessiongate key check");
      ok = await crypto.subtle.verify(a.sign, check, await crypto.subtle.sign(a.sign, key, probe), probe);
    } catch {
      ok = false;
    }
    if (!ok || (format === "jwk" && (input.x !== pub.x || input.y !== pub.y))) {
      throw new KeyImportError(previous, "its public part does not match its private part");
    }
  }
  return { key, jwk: { ...pub, kid: await thumbprint(pub), alg, use: "sig" } };
}

/**
 * `signer(input)` resolves to the JWS `input.signature` (base64url of the 64-byte
 * signature: ES256's r || s, what WebCrypto's ECDSA returns, or Ed25519's).
 */
function signerFor(alg, key) {
  const params = ALGORITHMS[alg].sign;
  const encoder = new TextEncoder();
  return async (input) => {
    const sig = await crypto.subtle.sign(params, key, encoder.encode(input));
    if (sig.byteLength !== 64) throw new Error(`a ${sig.byteLength}-byte signature`);
    return `${input}.${b64url(sig)}`;
  };
}

/**
 * The signer and the JWKS: {signer, kid, previousKid, jwks} with `jwks` the body of
 * /.sessiongate/jwks.json (current first). Thrown errors carry `previous` (which
 * variable) and a message without key material.
 */
export async function importKeys(alg, format, data, prevAlg, prevFormat, prevData, prevPrivate) {
  const current = await importOne(alg, format, data, true, false);
  const keys = [current.jwk];
  if (prevAlg) keys.push((await importOne(prevAlg, prevFormat, prevData, prevPrivate, true)).jwk);
  return { signer: signerFor(alg, current.key), kid: current.jwk.kid, previousKid: keys[1]?.kid ?? "", jwks: JSON.stringify({ keys }) };
}
