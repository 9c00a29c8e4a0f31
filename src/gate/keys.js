// The assertion keys in the runtime's WebCrypto. Rust has already classified them
// (core::signing::material); here they are imported, once per isolate, and used to sign.
// WebCrypto keeps P-256 and Ed25519 arithmetic out of the Wasm (100 KiB gzipped with
// RustCrypto) and runs it natively (docs/performance.md: Assertion signatures).

const ALGORITHMS = {
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
  EdDSA: { import: { name: "Ed25519" }, sign: { name: "Ed25519" } },
};

function keyData(format, data) {
  return format === "jwk" ? JSON.parse(new TextDecoder().decode(data)) : data;
}

/**
 * Imports a key for `alg` ("ES256" | "EdDSA") from `format` ("pkcs8" | "spki" | "jwk")
 * and returns { key, x, y }: for a private key a non-extractable signing CryptoKey (null
 * for a public one), and the public key's base64url coordinates (y is "" for Ed25519).
 * A private key must sign something its public half verifies, so a JWK whose x/y are
 * not d's public key is refused here. Throws a short message without key material.
 */
export async function importKey(alg, format, data, isPrivate) {
  const a = ALGORITHMS[alg];
  const input = keyData(format, data);
  let publicJwk;
  let key = null;
  try {
    const usage = isPrivate ? ["sign"] : ["verify"];
    const exportable = await crypto.subtle.importKey(format, input, a.import, true, usage);
    const exported = await crypto.subtle.exportKey("jwk", exportable);
    publicJwk = { kty: exported.kty, crv: exported.crv, x: exported.x, ...(exported.y ? { y: exported.y } : {}) };
    if (isPrivate) key = await crypto.subtle.importKey(format, input, a.import, false, ["sign"]);
  } catch {
    throw new Error(`the runtime's WebCrypto refused it as ${format} for ${alg}`);
  }
  if (key) {
    let ok = false;
    try {
      const pub = await crypto.subtle.importKey("jwk", publicJwk, a.import, false, ["verify"]);
      const probe = new TextEncoder().encode("sessiongate key check");
      ok = await crypto.subtle.verify(a.sign, pub, await crypto.subtle.sign(a.sign, key, probe), probe);
    } catch {
      ok = false;
    }
    if (!ok) throw new Error("its public part does not match its private part");
    if (format === "jwk" && (input.x !== publicJwk.x || (input.y ?? "") !== (publicJwk.y ?? ""))) {
      throw new Error("its public members x, y are not the public key of its d");
    }
  }
  return { key, x: publicJwk.x, y: publicJwk.y ?? "" };
}

/** The 64-byte JWS signature of `data` (ES256: r || s, what WebCrypto's ECDSA returns). */
export async function sign(alg, key, data) {
  return new Uint8Array(await crypto.subtle.sign(ALGORITHMS[alg].sign, key, data));
}
