// Verifies what the gate stamped on a request, as the README's origin contract says:
// the X-Session-Assertion JWT (signature through the gate's JWKS or the HS256 secret,
// iss, aud, exp, iat, htm equal to the request's method, htu its path and query) and X-Session-Data against
// the assertion's data_sha256. Identity is read from the signed claims only, never from
// the plain X-Session-User / -Roles headers, so nothing a client can write is trusted.
import crypto from "node:crypto";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";

export const ISSUER = "sessiongate";
/** Clock skew tolerated, as the gate's own `verify` does. */
export const LEEWAY_SECONDS = 5;

/** Why a request is refused: `status` 401 (or 503 when the JWKS cannot be fetched). */
export class SessiongateError extends Error {
  constructor(reason, message, { status = 401, cause, detail } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = "SessiongateError";
    this.status = status;
    this.reason = reason;
    /** What was expected and what came (`aud: expected "a", got "b"`): for logs, never the client. */
    this.detail = detail ?? message;
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

/**
 * Writes a refusal's reason to the log: `console.warn` unless `log` is a function (or
 * false), so a developer sees why a request got 401 without writing a hook. The line
 * names the method and path (never the query or the token) and what was expected and got.
 */
export function logRefusal(err, { method, url }, log = console.warn) {
  if (log === false || !(err instanceof SessiongateError)) return;
  log(`sessiongate: ${err.status} ${err.reason} for ${method} ${logPath(url)}: ${err.detail}`);
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

/**
 * Path and query of a request target (`/p?q`, or absolute) as components: the path's
 * segments and the query's name/value pairs, each percent-decoded on its own, so an
 * escaped separator (`%2F`, `%26`, `%3D`) never becomes one.
 */
export function targetParts(url) {
  const rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "").replace(/#.*$/, "");
  const q = rest.indexOf("?");
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? "" : rest.slice(q + 1);
  const segments = path.split("/").map(decoded);
  const pairs = query === "" ? [] : query.split("&").map((p) => {
    const i = p.indexOf("=");
    return i < 0 ? [decoded(p)] : [decoded(p.slice(0, i)), decoded(p.slice(i + 1))];
  });
  return JSON.stringify([segments, pairs]);
}

/**
 * Whether the request's target is the one the assertion was issued for (`htu`), component
 * by component (the gate's URL and the one the origin receives may escape characters
 * differently, never separators), so a captured assertion cannot be replayed to another page.
 */
export function sameTarget(htu, url) {
  return typeof htu === "string" && targetParts(htu) === targetParts(url);
}

/** A value as a short quoted text for a log line (claims are unverified input there). */
export function quoted(v) {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The path (no query: it may carry secrets) of a request target, for a log line. */
function logPath(url) {
  return String(url ?? "").replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "").replace(/[?#].*$/s, "").slice(0, 200);
}

/** The reason of a jose refusal, with what was expected and what came. */
function joseDetail(e, token, algorithms) {
  let header = {};
  try { header = decodeProtectedHeader(token); } catch { /* malformed: said below */ }
  switch (e.code) {
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return `malformed: ${e.message}`;
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return `alg: expected one of ${quoted(algorithms)}, got ${quoted(header.alg)}`;
    case "ERR_JWKS_NO_MATCHING_KEY":
      return `kid: no key of the gate's JWKS has kid ${quoted(header.kid)} for alg ${quoted(header.alg)}`;
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return `signature: not made by the configured key (alg ${quoted(header.alg)}, kid ${quoted(header.kid)})`;
    case "ERR_JWT_EXPIRED":
      return `exp: expired at ${quoted(e.payload?.exp)}, now ${Math.floor(Date.now() / 1000)}`;
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return `${e.claim ?? "claims"}: ${e.message} (got ${quoted(e.payload?.[e.claim])})`;
    default:
      return `${e.code ?? e.name}: ${e.message}`;
  }
}

/** The longest span `exp - iat` accepted: the gate issues assertions for 60 s. */
export const MAX_LIFETIME_SECONDS = 60;

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
        algorithms: cfg.algorithms,
        clockTolerance: cfg.leeway,
        requiredClaims: ["exp", "iat", "htm"],
      }));
    } catch (e) {
      if (unreachable(e)) {
        throw new SessiongateError("jwks_unavailable", "the gate's JWKS could not be fetched", { status: 503, cause: e, detail: `jwks: ${e.message}` });
      }
      // Every other failure, whatever the header held (a kid that is not a string, an
      // unknown crit, an alg of another key type), is the client's 401.
      throw new SessiongateError("invalid_assertion", `X-Session-Assertion refused (${e.code ?? e.name})`, { cause: e, detail: joseDetail(e, token, cfg.algorithms) });
    }
    const invalid = (detail) => new SessiongateError("invalid_assertion", `X-Session-Assertion refused (${detail.split(":")[0]})`, { detail });
    if (payload.iss !== cfg.issuer) throw invalid(`iss: expected ${quoted(cfg.issuer)}, got ${quoted(payload.iss)}`);
    // Only the one expected string: the gate never issues an array.
    if (typeof payload.aud !== "string" || payload.aud !== cfg.audience) {
      throw invalid(`aud: expected ${quoted(cfg.audience)}, got ${quoted(payload.aud)}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (payload.iat > now + cfg.leeway) {
      throw invalid(`iat: issued in the future (${payload.iat}, now ${now})`);
    }
    if (payload.exp - payload.iat > MAX_LIFETIME_SECONDS) {
      throw invalid(`exp: a lifetime of ${payload.exp - payload.iat} s, expected at most ${MAX_LIFETIME_SECONDS} s`);
    }
    if (payload.htm !== method) {
      throw new SessiongateError("method_mismatch", "X-Session-Assertion was issued for another method", {
        detail: `htm: expected ${quoted(method)}, got ${quoted(payload.htm)}`,
      });
    }
    if (cfg.checkUrl && url !== undefined && !sameTarget(payload.htu, url)) {
      throw new SessiongateError("url_mismatch", "X-Session-Assertion was issued for another URL", {
        detail: `htu: expected the path and query of ${quoted(logPath(url))}, got ${quoted(typeof payload.htu === "string" ? logPath(payload.htu) : payload.htu)}`,
      });
    }
    const raw = header("x-session-data");
    const claimed = payload.data_sha256;
    const present = raw !== undefined && raw !== null;
    if (present !== (claimed !== undefined) || (present && !sameText(digest(raw), claimed))) {
      throw new SessiongateError("data_mismatch", "X-Session-Data does not match the assertion", {
        detail: `data_sha256: ${present ? "X-Session-Data" : "no X-Session-Data"} ${claimed === undefined ? "without the claim" : "does not match the claim"}`,
      });
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
    deviceBound: user !== null && c.device_bound === true,
    claims: c,
  };
}
