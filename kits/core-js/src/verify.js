// Verifies what the gate stamped on a request, as the README's origin contract says:
// the X-Session-Assertion JWT (signature through the gate's JWKS or the HS256 secret,
// iss, aud, exp, iat, htm equal to the request's method, htu its path and query) and X-Session-Data against
// the assertion's data_sha256. Identity is read from the signed claims only, never from
// the plain X-Session-User / -Roles headers, so nothing a client can write is trusted.
import crypto from "node:crypto";
import { createRemoteJWKSet, jwtVerify } from "jose";

export const ISSUER = "sessiongate";
/** Clock skew tolerated, as the gate's own `verify` does. */
export const LEEWAY_SECONDS = 5;

/** Why a request is refused: `status` 401 (or 503 when the JWKS cannot be fetched). */
export class SessiongateError extends Error {
  constructor(reason, message, { status = 401, cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = "SessiongateError";
    this.status = status;
    this.reason = reason;
  }

  /** The JSON body every kit answers with. */
  get body() {
    return { error: statusError(this.status), reason: this.reason };
  }
}

function statusError(status) {
  return status === 503 ? "sessiongate_unavailable" : "unauthenticated";
}

function env(name) {
  return typeof process !== "undefined" ? process.env[name] || undefined : undefined;
}

/** Options with the environment's defaults, checked once at start-up. */
function configure(options) {
  const jwksUrl = options.jwksUrl ?? (options.secret === undefined ? env("SESSIONGATE_JWKS_URL") : undefined);
  const secret = options.secret ?? (jwksUrl === undefined ? env("SESSIONGATE_SECRET") : undefined);
  const audience = options.audience ?? env("SESSIONGATE_AUDIENCE");
  if ((jwksUrl === undefined) === (secret === undefined)) {
    throw new TypeError("sessiongate: give exactly one of jwksUrl (the gate's /.sessiongate/jwks.json, ES256/EdDSA) or secret (ORIGIN_SECRET, HS256)");
  }
  // The origin's own host: not derived from the request's Host header, which whoever
  // reaches the origin directly can set to another origin's name.
  if (typeof audience !== "string" || audience === "") {
    throw new TypeError("sessiongate: audience (the origin's host as the gate's ORIGIN_URL names it) is required");
  }
  const key = jwksUrl !== undefined
    ? createRemoteJWKSet(new URL(jwksUrl), options.jwksOptions)
    : new TextEncoder().encode(secret);
  const algorithms = options.algorithms ?? (jwksUrl !== undefined ? ["ES256", "EdDSA"] : ["HS256"]);
  return {
    key, algorithms, audience,
    issuer: options.issuer ?? ISSUER,
    leeway: options.clockTolerance ?? LEEWAY_SECONDS,
    checkUrl: options.checkUrl !== false,
  };
}

/** A network failure reaching the JWKS (jose's JOSE errors carry a `code`; fetch's do not). */
function unreachable(e) {
  return e?.code === "ERR_JWKS_TIMEOUT" || (e?.code === undefined && e instanceof TypeError);
}

function digest(raw) {
  // Header values reach Node as latin1: these are the bytes that were sent.
  return crypto.createHash("sha256").update(Buffer.from(raw, "latin1")).digest("base64url");
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function decoded(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a malformed escape: compared as it is
  }
}

/** Path and query of a request target (`/p?q`, or absolute), percent-decoded. */
function target(url) {
  const rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "").replace(/#.*$/, "");
  const q = rest.indexOf("?");
  return q < 0 ? [decoded(rest), ""] : [decoded(rest.slice(0, q)), decoded(rest.slice(q + 1))];
}

/**
 * Whether the request's target is the one the assertion was issued for (`htu`): path and
 * query, compared percent-decoded (the gate's URL and the one the origin receives may
 * escape differently), so a captured assertion cannot be replayed to another page.
 */
function sameTarget(htu, url) {
  if (typeof htu !== "string") return false;
  const [p1, q1] = target(htu);
  const [p2, q2] = target(url);
  return p1 === p2 && q1 === q2;
}

/**
 * Returns `verify({ method, header, url })`, where `header(name)` gives a lower-case
 * header's value or undefined and `url` the request target as received (path and query;
 * checked against `htu` unless `checkUrl: false`, or when not given). It resolves to the
 * identity or throws a SessiongateError.
 */
export function verifier(options = {}) {
  const cfg = configure(options);
  return async function verify({ method, header, url }) {
    const token = header("x-session-assertion");
    if (token === undefined || token === null || token === "") {
      throw new SessiongateError("missing_assertion", "no X-Session-Assertion: the request did not come through the gate");
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, cfg.key, {
        issuer: cfg.issuer,
        audience: cfg.audience,
        algorithms: cfg.algorithms,
        clockTolerance: cfg.leeway,
        requiredClaims: ["exp", "iat", "htm"],
      }));
    } catch (e) {
      if (unreachable(e)) {
        throw new SessiongateError("jwks_unavailable", "the gate's JWKS could not be fetched", { status: 503, cause: e });
      }
      throw new SessiongateError("invalid_assertion", `X-Session-Assertion refused (${e.code ?? e.name})`, { cause: e });
    }
    const now = Math.floor(Date.now() / 1000);
    if (payload.iat > now + cfg.leeway) {
      throw new SessiongateError("invalid_assertion", "X-Session-Assertion issued in the future");
    }
    if (payload.htm !== method) {
      throw new SessiongateError("method_mismatch", "X-Session-Assertion was issued for another method");
    }
    if (cfg.checkUrl && url !== undefined && !sameTarget(payload.htu, url)) {
      throw new SessiongateError("url_mismatch", "X-Session-Assertion was issued for another URL");
    }
    const raw = header("x-session-data");
    const claimed = payload.data_sha256;
    const present = raw !== undefined && raw !== null;
    if (present !== (claimed !== undefined) || (present && !sameText(digest(raw), claimed))) {
      throw new SessiongateError("data_mismatch", "X-Session-Data does not match the assertion");
    }
    return identity(payload, present ? JSON.parse(raw) : {});
  };
}

/** The identity, from signed claims only. */
function identity(c, data) {
  const user = c.sub ?? null;
  return {
    user,
    roles: user === null ? [] : (c.roles ?? []),
    sessionId: c.sid ?? null,
    authTime: c.auth_time ?? null,
    elevatedUntil: c.elev ?? null,
    data,
    binding: user === null ? null : (c.bind ?? "ok"),
    claims: c,
  };
}
