// X-Session-Command, written for the application and checked exactly as the gate's
// src/core/command.rs checks it, so a command the gate would refuse with 502
// invalid_origin_command throws here, in the handler that wrote it, instead.

/** The gate's bounds (src/core/command.rs; dataBytes is the gate's SESSION_DATA_MAX default). */
export const LIMITS = Object.freeze({
  headerBytes: 64 * 1024,
  userBytes: 256,
  roles: 64,
  roleBytes: 64,
  commands: 8,
  dataDepth: 32,
  dataBytes: 8000,
});

export class CommandError extends TypeError {
  constructor(message) {
    super(`sessiongate command: ${message}`);
    this.name = "CommandError";
  }
}

// Rust's char::is_control (Unicode Cc) and char::is_whitespace (White_Space), which
// the gate's checks use; JS's \s and trim() differ (U+FEFF).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const WS = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const EDGE_WS = new RegExp(`^[${WS}]|[${WS}]$`);

const utf8Bytes = (s) => Buffer.byteLength(s, "utf8");

function cleanText(what, s, max) {
  if (typeof s !== "string") throw new CommandError(`${what} must be a string`);
  if (s === "") throw new CommandError(`${what} is empty`);
  if (!s.isWellFormed()) throw new CommandError(`${what} is not valid Unicode (a lone surrogate)`);
  if (utf8Bytes(s) > max) throw new CommandError(`${what} is longer than ${max} bytes`);
  if (CONTROL.test(s)) throw new CommandError(`${what} contains control characters`);
  if (EDGE_WS.test(s)) throw new CommandError(`${what} starts or ends with whitespace`);
}

function checkRoles(roles) {
  if (!Array.isArray(roles)) throw new CommandError("roles must be an array of strings");
  if (roles.length > LIMITS.roles) throw new CommandError(`more than ${LIMITS.roles} roles`);
  for (const r of roles) {
    cleanText("a role", r, LIMITS.roleBytes);
    if (r.includes(",")) throw new CommandError("a role contains a comma (X-Session-Roles is comma-separated)");
  }
}

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v) &&
  [Object.prototype, null].includes(Object.getPrototypeOf(v));

/** JSON-representable as it is: what the gate receives is what the application wrote. */
function checkJson(v, path) {
  switch (typeof v) {
    case "string":
      if (!v.isWellFormed()) throw new CommandError(`${path} is not valid Unicode (a lone surrogate)`);
      return 0;
    case "boolean":
      return 0;
    case "number":
      if (!Number.isFinite(v)) throw new CommandError(`${path} is not a finite number`);
      return 0;
    case "object":
      if (v === null) return 0;
      if (Array.isArray(v)) {
        let d = 0;
        v.forEach((x, i) => {
          if (x === undefined) throw new CommandError(`${path}[${i}] is undefined`);
          d = Math.max(d, checkJson(x, `${path}[${i}]`));
        });
        return 1 + d;
      }
      if (!isPlainObject(v)) throw new CommandError(`${path} is not a plain object or array`);
      return 1 + objectDepth(v, path);
    default:
      throw new CommandError(`${path} is not JSON (${typeof v})`);
  }
}

function objectDepth(o, path) {
  let d = 0;
  for (const [k, x] of Object.entries(o)) {
    if (!k.isWellFormed()) throw new CommandError(`a key of ${path} is not valid Unicode`);
    if (x === undefined) continue; // dropped by JSON, as JSON.stringify does
    d = Math.max(d, checkJson(x, `${path}.${k.slice(0, 32)}`));
  }
  return d;
}

/** JSON with every non-ASCII or DEL character escaped: the gate's `ascii_json`. */
export function asciiJson(v) {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** Session data: a plain object, at most 32 levels deep and `dataBytes` as X-Session-Data. */
export function checkData(data, dataBytes = LIMITS.dataBytes) {
  if (!isPlainObject(data)) throw new CommandError("data must be an object");
  const depth = 1 + objectDepth(data, "data");
  if (depth > LIMITS.dataDepth) {
    throw new CommandError(`data is nested ${depth} levels deep, more than ${LIMITS.dataDepth}`);
  }
  const size = asciiJson(data).length;
  if (size > dataBytes) {
    throw new CommandError(`data is ${size} bytes as the X-Session-Data header, more than the ${dataBytes} allowed (SESSION_DATA_MAX)`);
  }
}

const isBool = (v) => typeof v === "boolean";
const FIELDS = {
  login: { user: [true], roles: [false], data: [false], persistent: [false, isBool, "true or false"] },
  set_data: { data: [true] },
  regenerate: { reason: [true], roles: [false] },
  logout: {},
  elevate: {},
  logout_others: {},
  logout_all: {},
};
const ACTIONS = Object.keys(FIELDS).join(", ");
/** Commands that need a signed-in session (the request's or an earlier login's). */
const NEEDS_SESSION = new Set(["regenerate", "elevate", "logout_others", "logout_all"]);

/** Checks one wire command ({action, ...fields}) as the gate would; throws CommandError. */
export function checkCommand(cmd, { dataBytes = LIMITS.dataBytes } = {}) {
  if (!isPlainObject(cmd)) throw new CommandError("a command is a JSON object");
  const { action } = cmd;
  if (typeof action !== "string") throw new CommandError('"action" must be a string');
  const spec = Object.hasOwn(FIELDS, action) ? FIELDS[action] : undefined;
  if (!spec) throw new CommandError(`unknown action; accepted: ${ACTIONS}`);
  for (const [name, value] of Object.entries(cmd)) {
    if (name === "action" || value === undefined) continue;
    if (!Object.hasOwn(spec, name)) throw new CommandError(`${action}: unknown field ${JSON.stringify(name.slice(0, 32))}`);
    const [, shape, what] = spec[name];
    if (shape && !shape(value)) throw new CommandError(`${action}: "${name}" must be ${what}`);
  }
  for (const [name, [required]] of Object.entries(spec)) {
    if (required && cmd[name] === undefined) throw new CommandError(`${action}: missing "${name}"`);
  }
  if (action === "login") {
    cleanText("user", cmd.user, LIMITS.userBytes);
    if (cmd.roles !== undefined) checkRoles(cmd.roles);
    if (cmd.data !== undefined && cmd.data !== null) checkData(cmd.data, dataBytes);
  } else if (action === "set_data") {
    checkData(cmd.data, dataBytes);
  } else if (action === "regenerate") {
    const roles = cmd.roles ?? null;
    if (cmd.reason === "permission_change") {
      if (roles === null) throw new CommandError('permission_change needs "roles"');
      checkRoles(roles);
    } else if (cmd.reason === "password_change") {
      if (roles !== null) throw new CommandError('password_change takes no "roles"');
    } else {
      throw new CommandError("unknown regenerate reason; accepted: password_change, permission_change");
    }
  }
}

/** The wire command for each helper, from the application's arguments. */
export const build = {
  login({ user, roles = [], data, persistent = false } = {}) {
    return { action: "login", user, roles, ...(data === undefined ? {} : { data }), persistent };
  },
  logout: () => ({ action: "logout" }),
  /** With `roles`: a permission change (roles replaced); without: a password change. */
  regenerate({ roles, reason } = {}) {
    const r = reason ?? (roles === undefined || roles === null ? "password_change" : "permission_change");
    return { action: "regenerate", reason: r, ...(roles === undefined ? {} : { roles }) };
  },
  elevate: () => ({ action: "elevate" }),
  setData: (data) => ({ action: "set_data", data }),
  logoutOthers: () => ({ action: "logout_others" }),
  logoutAll: () => ({ action: "logout_all" }),
};

/**
 * The application-facing writers (`login(res, {...})`, `logout(res)`, ...) over a
 * framework's `append(res, command)`, so that every kit names and shapes them alike.
 */
export function writers(append) {
  return {
    login: (res, { user, roles, data, persistent } = {}) => append(res, build.login({ user, roles, data, persistent })),
    logout: (res) => append(res, build.logout()),
    regenerate: (res, { roles, reason } = {}) => append(res, build.regenerate({ roles, reason })),
    elevate: (res) => append(res, build.elevate()),
    setData: (res, data) => append(res, build.setData(data)),
    logoutOthers: (res) => append(res, build.logoutOthers()),
    logoutAll: (res) => append(res, build.logoutAll()),
  };
}

/**
 * The commands of one response, in order, each checked when added (with the sequence:
 * `regenerate`, `elevate`, `logout_others` and `logout_all` need a signed-in session).
 * `signedIn`: whether the request has one (undefined: not known, not checked).
 */
export class CommandList {
  constructor({ signedIn, dataBytes = LIMITS.dataBytes } = {}) {
    this.items = [];
    this.signedIn = signedIn;
    this.dataBytes = dataBytes;
  }

  add(cmd) {
    checkCommand(cmd, { dataBytes: this.dataBytes });
    if (this.items.length >= LIMITS.commands) throw new CommandError(`more than ${LIMITS.commands} commands`);
    let signedIn = this.signedIn;
    if (signedIn !== undefined) {
      if (NEEDS_SESSION.has(cmd.action) && !signedIn) {
        throw new CommandError(`${cmd.action} needs a signed-in session and the request has none`);
      }
      if (cmd.action === "login") signedIn = true;
      if (cmd.action === "logout" || cmd.action === "logout_all") signedIn = false;
    }
    const header = asciiJson([...this.items, cmd]);
    if (header.length > LIMITS.headerBytes) throw new CommandError(`command is longer than ${LIMITS.headerBytes} bytes`);
    this.items.push(cmd);
    this.signedIn = signedIn;
    return header;
  }

  /** The X-Session-Command value: one JSON array, in order, ASCII only. */
  header() {
    return asciiJson(this.items);
  }
}
