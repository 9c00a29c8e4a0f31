// Device proofs (Device Bound Session Credentials) verified in the runtime's WebCrypto:
// the Wasm carries no P-256 or RSA arithmetic (core/dbsc checked the JWT's shape and
// rewrote the key; here it is only imported and used).

const ALGORITHMS = {
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } },
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: { name: "RSASSA-PKCS1-v1_5" } },
};

/**
 * Whether `signature` (base64url, as in the JWS) is `alg`'s signature by the public key
 * `jwk` (JSON) over `input` (the JWS's `header.payload`). Anything the runtime refuses
 * (a point off the curve, a malformed signature) is a signature that does not verify.
 */
export async function verifyProof(alg, jwk, input, signature) {
  const a = ALGORITHMS[alg];
  if (!a) return false;
  try {
    const key = await crypto.subtle.importKey("jwk", JSON.parse(jwk), a.import, false, ["verify"]);
    const sig = Uint8Array.fromBase64(signature, { alphabet: "base64url" });
    return await crypto.subtle.verify(a.verify, key, sig, new TextEncoder().encode(input));
  } catch {
    return false;
  }
}
