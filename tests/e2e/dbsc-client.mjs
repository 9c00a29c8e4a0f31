// The browser's side of Device Bound Session Credentials, written from the W3C draft
// (webappsec-dbsc) with `jose`: a cookie jar that honours Max-Age, a key pair the
// "browser" never exports, registration from a `Secure-Session-Registration` offer, and
// the refresh dance (POST without a proof -> 403 + Secure-Session-Challenge -> POST with
// a proof over that challenge). Every request goes to the gate over HTTPS.
// Not a test file itself (node --test only picks up *.test.mjs here).
import crypto from "node:crypto";
import { generateKeyPair, exportJWK, SignJWT } from "jose";
import { SECRETS } from "./harness.mjs";

/** `Secure-Session-Registration: (ES256 RS256);path="...";challenge="..."` parsed. */
export function parseOffer(value) {
  if (!value) return null;
  const m = /^\(([^)]*)\);path="([^"]+)";challenge="([^"]+)"$/.exec(value);
  if (!m) throw new Error(`unexpected offer ${value}`);
  return { algs: m[1].split(" "), path: m[2], challenge: m[3] };
}

/** `Secure-Session-Challenge: "<c>";id="<id>"` parsed. */
export function parseChallenge(value) {
  const m = /^"([^"]+)";id="([^"]+)"$/.exec(value ?? "");
  if (!m) throw new Error(`unexpected challenge ${value}`);
  return { challenge: m[1], id: m[2] };
}

/** A proof JWT: `header` fields are added to (or override) `{alg, typ}`. */
export async function proofJwt(privateKey, alg, jti, header = {}) {
  return new SignJWT({ jti }).setProtectedHeader({ alg, typ: "dbsc+jwt", ...header }).sign(privateKey);
}

/** A key pair of `alg` with its public JWK. */
export async function keyPair(alg = "ES256", opts = {}) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...opts });
  return { alg, publicKey, privateKey, jwk: await exportJWK(publicKey) };
}

/**
 * The storage hash of a session cookie's ID (src/core/token.rs), which challenges are
 * issued to; and a challenge minted the way the gate does (src/core/dbsc/challenge.rs),
 * to test one that expired without waiting five minutes.
 */
export function storageHash(cookieValue) {
  const secret = Buffer.from(cookieValue, "base64url").subarray(33, 65);
  return crypto.createHash("sha256").update("sessiongate-storage-v1\0").update(secret).digest("hex");
}
export function mintChallenge(cookieValue, purpose, expiry, key = SECRETS.SESSION_SECRET) {
  const body = Buffer.alloc(24);
  crypto.randomBytes(16).copy(body);
  body.writeBigUInt64BE(BigInt(expiry), 16);
  const tag = crypto.createHmac("sha256", key)
    .update("sessiongate-dbsc-challenge-v1\0").update(purpose).update("\0")
    .update(storageHash(cookieValue)).update("\0").update(body).digest();
  return Buffer.concat([body, tag]).toString("base64url");
}

export class DbscClient {
  /** `gate`: from startGate; `name`: the session cookie's name. */
  constructor(gate, { cookieName = "__Host-session", alg = "ES256", ua = "DbscClient/1" } = {}) {
    this.gate = gate;
    this.cookieName = cookieName;
    this.alg = alg;
    this.ua = ua;
    this.jar = new Map(); // name -> { value, expires (ms) | Infinity }
    this.instructions = null;
    this.lastOffer = null;
  }

  async init() {
    this.key = await keyPair(this.alg);
    return this;
  }

  get deviceCookieName() {
    return `${this.cookieName}-device`;
  }

  cookie(name) {
    const c = this.jar.get(name);
    return c && c.expires > Date.now() ? c.value : null;
  }

  /** The Cookie header a browser would send now (expired cookies left out). */
  cookieHeader() {
    const now = Date.now();
    return [...this.jar].filter(([, c]) => c.expires > now).map(([n, c]) => `${n}=${c.value}`).join("; ");
  }

  /** Stores the response's Set-Cookie headers (Max-Age honoured, Max-Age=0 deletes). */
  absorb(res) {
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(";").map((s) => s.trim());
      const i = pair.indexOf("=");
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      const maxAge = attrs.find((a) => /^max-age=/i.test(a));
      const expires = maxAge ? Date.now() + Number(maxAge.split("=")[1]) * 1000 : Infinity;
      if (expires <= Date.now()) this.jar.delete(name);
      else this.jar.set(name, { value, expires });
    }
    const offer = res.headers.get("secure-session-registration");
    if (offer) this.lastOffer = parseOffer(offer);
    return res;
  }

  /** A request over HTTPS with the jar's cookies; the answer's cookies are kept. */
  async fetch(p, opts = {}) {
    const headers = { ...(opts.headers ?? {}) };
    const cookie = opts.cookie ?? this.cookieHeader();
    return this.absorb(await this.gate.fetch(p, { ...opts, headers, cookie: cookie || undefined, ua: opts.ua ?? this.ua, https: true }));
  }

  /** Signs in through an origin login command. */
  async login(user, extra = {}) {
    const res = await this.fetch("/login", { method: "POST", command: { action: "login", user, roles: ["user"], ...extra } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`login ${res.status}`);
    return res;
  }

  async proof(jti, { withJwk = false, header = {}, key = this.key } = {}) {
    return proofJwt(key.privateKey, key.alg, jti, { ...(withJwk ? { jwk: key.jwk } : {}), ...header });
  }

  /** Registers with the last offer (or the one given); resolves to the response. */
  async register({ offer = this.lastOffer, jwt } = {}) {
    const proof = jwt ?? (await this.proof(offer.challenge, { withJwk: true }));
    const res = await this.fetch(offer.path, { method: "POST", headers: { "secure-session-response": proof } });
    if (res.status === 200) this.instructions = await res.clone().json();
    return res;
  }

  /** The refresh's first request: no proof. */
  async askChallenge(id = this.instructions?.session_identifier) {
    return this.fetch(this.instructions.refresh_url, { method: "POST", headers: id ? { "sec-secure-session-id": id } : {} });
  }

  /** The whole refresh as a browser does it; resolves to the final response. */
  async refresh({ key = this.key, id = this.instructions?.session_identifier } = {}) {
    const first = await this.askChallenge(id);
    if (first.status !== 403 || !first.headers.get("secure-session-challenge")) return first;
    const { challenge } = parseChallenge(first.headers.get("secure-session-challenge"));
    const jwt = await this.proof(challenge, { key });
    const res = await this.fetch(this.instructions.refresh_url, {
      method: "POST",
      headers: { "sec-secure-session-id": id, "secure-session-response": jwt },
    });
    if (res.status === 200) {
      const b = await res.clone().json();
      if (b.continue !== false) this.instructions = b;
    }
    return res;
  }

  /** A second client holding copies of this one's cookies, without its key. */
  async thief() {
    const t = await new DbscClient(this.gate, { cookieName: this.cookieName, alg: this.alg, ua: this.ua }).init();
    for (const [n, c] of this.jar) t.jar.set(n, { ...c });
    t.instructions = this.instructions;
    return t;
  }
}
