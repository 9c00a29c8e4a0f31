// Express (and plain node:http) glue for the sessiongate kit core: a middleware that
// verifies every request and sets req.sessiongate, guards for routes, and command
// writers that append to the response's one X-Session-Command array.
import { verifier, SessiongateError, CommandList, CommandError, writers, LIMITS, logRefusal, safeReturnTo } from "../../core-js/src/index.js"; // vendored as ./core/ in the published package (kits/release.sh)

export { SessiongateError, CommandError, LIMITS, safeReturnTo };

/** The middleware's `dataBytes` (the gate's SESSION_DATA_MAX, when not the default), per request. */
const DATA_BYTES = Symbol("sessiongate.dataBytes");

/**
 * `app.use(sessiongate({ jwksUrl, audience }))`. Without a valid assertion: 401 JSON,
 * unless `anonymous: true`, which lets requests without any assertion through with
 * `req.sessiongate = null` (one that is present but invalid is still refused).
 * `checkUrl: false` skips comparing the request's path and query with the assertion's
 * `htu` (for a proxy between gate and origin that rewrites paths).
 * `onError(err, req, res, next)` replaces the 401 / 503 answer; `dataBytes` is the gate's
 * SESSION_DATA_MAX when it is not the default 8000. Every refusal is logged with its
 * reason (`aud: expected "a", got "b"`) through `log` (default console.warn; false: none).
 */
export function sessiongate(options = {}) {
  const verify = verifier(options);
  const anonymous = options.anonymous === true;
  const dataBytes = options.dataBytes ?? LIMITS.dataBytes;
  return async function sessiongateMiddleware(req, res, next) {
    req[DATA_BYTES] = dataBytes;
    const assertion = req.headers["x-session-assertion"];
    if (anonymous && assertion === undefined) {
      req.sessiongate = null;
      return next();
    }
    try {
      // method-override rewrites req.method; the gate signed the method it forwarded.
      const method = req.originalMethod ?? req.method;
      req.sessiongate = await verify({ method, header: (name) => req.headers[name], url: req.originalUrl ?? req.url });
    } catch (err) {
      if (!(err instanceof SessiongateError)) return next(err);
      logRefusal(err, { method: req.method, url: req.originalUrl ?? req.url }, options.log);
      if (options.onError) return options.onError(err, req, res, next);
      return refuse(res, err);
    }
    return next();
  };
}

function refuse(res, err) {
  res.statusCode = err.status;
  res.setHeader("content-type", "application/json");
  res.setHeader("cache-control", "no-store");
  res.end(JSON.stringify(err.body));
}

/**
 * Where to send the browser after a sign-in: the `return_to` the gate added to LOGIN_URL
 * (carried through the login form as a hidden field, or still in the query), when it is
 * a path on this site; else `fallback`.
 */
export function returnTo(req, fallback = "/") {
  const raw = req.body?.return_to ?? req.query?.return_to;
  return safeReturnTo(Array.isArray(raw) ? raw[0] : raw, fallback);
}

/** A route guard: 401 unless the request is signed in. */
export function requireUser(req, res, next) {
  if (req.sessiongate?.user) return next();
  return refuse(res, new SessiongateError("not_signed_in", "this page needs a signed-in user"));
}

/** A route guard: 403 unless the signed-in user has one of `roles`. */
export function requireRole(...roles) {
  return function requireRoleMiddleware(req, res, next) {
    const s = req.sessiongate;
    if (!s?.user) return refuse(res, new SessiongateError("not_signed_in", "this page needs a signed-in user"));
    if (roles.some((r) => s.roles.includes(r))) return next();
    res.statusCode = 403;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ error: "forbidden", reason: "role_required" }));
  };
}

const lists = new WeakMap();

function append(res, cmd) {
  if (res.headersSent) throw new CommandError(`${cmd.action}: the response's headers are already sent`);
  let list = lists.get(res);
  if (!list) {
    // Known only where the middleware ran: req.sessiongate is then an object or null.
    const s = res.req?.sessiongate;
    const dataBytes = res.req?.[DATA_BYTES] ?? LIMITS.dataBytes;
    list = new CommandList({ signedIn: s === undefined ? undefined : Boolean(s?.user), dataBytes });
    lists.set(res, list);
  }
  res.setHeader("x-session-command", list.add(cmd));
  return res;
}

export const { login, logout, regenerate, elevate, setData, logoutOthers, logoutAll } = writers(append);
