// Mints session tokens the way the gate does (src/core/token.rs), so tests can craft
// wrong-key, truncated or bit-flipped tokens and tokens for a chosen Durable Object id.
// Layout: version(1) | store id(32) | secret(32) | HMAC-SHA256(key, "sessiongate-token-v1\0" || first 65 bytes).
import crypto from "node:crypto";

export function mintToken(storeIdHex, key, secret = crypto.randomBytes(32)) {
  const body = Buffer.concat([Buffer.from([1]), Buffer.from(storeIdHex, "hex"), secret]);
  const tag = crypto.createHmac("sha256", key).update(Buffer.from("sessiongate-token-v1\0")).update(body).digest();
  return Buffer.concat([body, tag]).toString("base64url");
}

/** The Durable Object id (hex) a token points at. */
export function storeIdOf(token) {
  return Buffer.from(token, "base64url").subarray(1, 33).toString("hex");
}

/** Flips one bit of the decoded token and re-encodes it. */
export function flipBit(token, bit) {
  const raw = Buffer.from(token, "base64url");
  raw[bit >> 3] ^= 1 << (bit & 7);
  return raw.toString("base64url");
}
