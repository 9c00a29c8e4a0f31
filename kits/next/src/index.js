// Next.js glue for the sessiongate kit core. Two layers, both verifying:
// - `sessiongateProxy()` for proxy.js (Next 16; middleware.js before): every request,
//   with its exact method, before any route renders; 401 JSON without a valid assertion.
// - `await sessiongate(request | headers())` in route handlers and server components:
//   the identity, verified again from the assertion itself (so a route the proxy's
//   matcher misses is still protected). Given headers() the method is not known: a
//   server action (Next-Action header) must have been signed for POST, anything else
//   for GET or HEAD, the methods pages render for; nor is the URL, which the proxy and a
//   route handler's Request check against the assertion's htu.
import { verifier, SessiongateError, CommandList, CommandError, checkCommand, writers, LIMITS, logRefusal, safeReturnTo } from "../../core-js/src/index.js"; // vendored as ./core/ in the published package (kits/release.sh)

export { SessiongateError, CommandError, LIMITS, safeReturnTo, checkCommand };

const verifiers = new Map();

/** One verifier (and JWKS cache) per configuration, kept for the process. */
function verifierFor(options) {
  const key = JSON.stringify([options.jwksUrl, options.secret, options.audience, options.algorithms, options.issuer, options.checkUrl,
    process.env.SESSIONGATE_JWKS_URL, process.env.SESSIONGATE_SECRET, process.env.SESSIONGATE_AUDIENCE]);
  let v = verifiers.get(key);
  if (!v) {
    v = verifier(options);
    verifiers.set(key, v);
  }
  return v;
}

const isRequest = (x) => typeof x?.method === "string" && typeof x?.headers?.get === "function";

/**
 * The verified identity { user, roles, sessionId, authTime, elevatedUntil, data, binding, claims }.
 * `source`: the route handler's Request, or headers() (awaited or not). Throws a
 * SessiongateError (status 401 / 503) without a valid assertion, or resolves to null
 * when `anonymous: true` and there is no assertion at all.
 */
export async function sessiongate(source, options = {}) {
  const src = await source;
  const headers = isRequest(src) ? src.headers : src;
  if (typeof headers?.get !== "function") throw new TypeError("sessiongate(): pass the Request or headers()");
  const header = (name) => headers.get(name) ?? undefined;
  if (options.anonymous && !header("x-session-assertion")) return null;
  const verify = verifierFor(options);
  if (isRequest(src)) return verify({ method: src.method, header, url: src.url });
  if (options.method) return verify({ method: options.method, header });
  // headers() carries no method: the ones this render can be for.
  const allowed = header("next-action") !== undefined ? ["POST"] : ["GET", "HEAD"];
  let last;
  for (const method of allowed) {
    try {
      return await verify({ method, header });
    } catch (e) {
      if (!(e instanceof SessiongateError) || e.reason !== "method_mismatch") throw e;
      last = e;
    }
  }
  throw last;
}

function refusal(err) {
  return new Response(JSON.stringify(err.body), {
    status: err.status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/**
 * `export const proxy = sessiongateProxy({ anonymousPaths: ["/public"] })` in proxy.js.
 * Returns undefined (the request goes on) or the 401 / 503 JSON response.
 */
export function sessiongateProxy(options = {}) {
  const anonymousPaths = new Set(options.anonymousPaths ?? []);
  return async function proxy(request) {
    const path = new URL(request.url).pathname;
    if ((options.anonymous || anonymousPaths.has(path)) && !request.headers.get("x-session-assertion")) return undefined;
    try {
      await verifierFor(options)({ method: request.method, header: (n) => request.headers.get(n) ?? undefined, url: request.url });
      return undefined;
    } catch (e) {
      if (e instanceof SessiongateError) {
        logRefusal(e, { method: request.method, url: request.url }, options.log);
        return refusal(e);
      }
      throw e;
    }
  };
}

/** Wraps a route handler: 401 JSON unless verified; the identity is the third argument. */
export function withSessiongate(handler, options = {}) {
  return async function sessiongateRoute(request, context) {
    let identity;
    try {
      identity = await sessiongate(request, options);
    } catch (e) {
      if (e instanceof SessiongateError) {
        logRefusal(e, { method: request.method, url: request.url }, options.log);
        return refusal(e);
      }
      throw e;
    }
    return handler(request, context, identity);
  };
}

/** Whether the identity is signed in with one of `roles`. */
export const hasRole = (identity, ...roles) => Boolean(identity?.user) && roles.some((r) => identity.roles.includes(r));

// Command writers on a route handler's Response (or NextResponse). A Response does not
// know its request, so the sequence rule (elevate, regenerate, logout_others and
// logout_all need a signed-in session) is checked when `session` is given to `commands`.
const lists = new WeakMap();

/** Declares the response's request session (the identity) and the gate's SESSION_DATA_MAX. */
export function commands(response, { session, dataBytes = LIMITS.dataBytes } = {}) {
  if (lists.get(response)?.items.length) throw new TypeError("sessiongate: call commands() before the first command");
  const signedIn = session === undefined ? undefined : Boolean(session?.user);
  const list = new CommandList({ signedIn, dataBytes });
  lists.set(response, list);
  return response;
}

function append(response, cmd) {
  if (!lists.has(response)) commands(response);
  response.headers.set("x-session-command", lists.get(response).add(cmd));
  return response;
}

export const { login, logout, regenerate, elevate, setData, logoutOthers, logoutAll } = writers(append);
