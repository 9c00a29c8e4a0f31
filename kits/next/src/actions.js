// Sign-in from a server action. A server action's response cannot carry the
// X-Session-Command header the gate reads, so the action leaves a short-lived signed
// ticket in an HttpOnly cookie and redirects to a route handler of the application
// (`completeSignIn`, at /sessiongate/signin by default), whose Response carries the
// login command and goes on to return_to:
//
//   // app/login/actions.js
//   "use server";
//   import { signInFromAction } from "@sessiongate/next/actions";
//   export async function signInAction(formData) {
//     const u = await users.check(formData.get("username"), formData.get("password"));
//     if (!u) return { error: "Wrong user name or password" };
//     await signInFromAction({ user: u.id, roles: u.roles, returnTo: formData.get("return_to") });
//   }
//   // app/sessiongate/signin/route.js   (in the gate's PUBLIC_PATHS)
//   export { completeSignIn as GET } from "@sessiongate/next/actions";
//
// The ticket is HMAC-SHA256 signed under SESSIONGATE_TICKET_SECRET (set it, 32+
// characters, when the application runs as more than one process), lives 60 s and is
// used once.
import crypto from "node:crypto";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { login, safeReturnTo, CommandError, checkCommand } from "./index.js";

export const TICKET_COOKIE = "sessiongate-signin";
export const COMPLETE_PATH = "/sessiongate/signin";
const LIFETIME_SECONDS = 60;
const used = new Map();

function ticketKey() {
  const configured = process.env.SESSIONGATE_TICKET_SECRET;
  if (configured) {
    if (configured.length < 32) throw new TypeError("sessiongate: SESSIONGATE_TICKET_SECRET must be at least 32 characters");
    return Buffer.from(configured);
  }
  // One process: a key of its own (set SESSIONGATE_TICKET_SECRET for several).
  globalThis.__sessiongateTicketKey ??= crypto.randomBytes(32);
  return globalThis.__sessiongateTicketKey;
}

const mac = (body) => crypto.createHmac("sha256", ticketKey()).update(body).digest("base64url");

/**
 * In a server action: signs `user` in (as `login()` would) by way of the completion
 * route, then redirects there (this throws Next's redirect, as `redirect()` does).
 * Checks the command now, so a bad user id throws CommandError in the action.
 */
export async function signInFromAction({ user, roles = [], data, persistent = false, returnTo, completePath = COMPLETE_PATH } = {}) {
  const command = { action: "login", user, roles, ...(data === undefined ? {} : { data }), persistent };
  checkCommand(command);
  const body = Buffer.from(JSON.stringify({
    command, returnTo: safeReturnTo(returnTo, "/"), exp: Math.floor(Date.now() / 1000) + LIFETIME_SECONDS,
    nonce: crypto.randomBytes(16).toString("base64url"),
  })).toString("base64url");
  const secure = (await headers()).get("x-forwarded-proto") === "https";
  (await cookies()).set(TICKET_COOKIE, `${body}.${mac(body)}`, {
    httpOnly: true, sameSite: "lax", secure, path: completePath, maxAge: LIFETIME_SECONDS,
  });
  redirect(completePath);
}

function readTicket(value) {
  const [body, sig] = String(value ?? "").split(".");
  if (!body || !sig) return null;
  const want = Buffer.from(mac(body));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !crypto.timingSafeEqual(want, got)) return null;
  let t;
  try {
    t = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof t?.exp !== "number" || t.exp < now || used.has(t.nonce)) return null;
  for (const [n, exp] of used) if (exp < now) used.delete(n);
  used.set(t.nonce, t.exp);
  return t;
}

/**
 * The completion route handler (GET): with a valid ticket, 303 to its return_to with the
 * login command; without one, 303 to `/login`. The ticket cookie is cleared either way.
 */
export async function completeSignIn(request) {
  const cookie = request.headers.get("cookie") ?? "";
  const value = cookie.split(/;\s*/).find((c) => c.startsWith(`${TICKET_COOKIE}=`))?.slice(TICKET_COOKIE.length + 1);
  const t = readTicket(value);
  const path = new URL(request.url).pathname;
  const clear = `${TICKET_COOKIE}=; Path=${path}; Max-Age=0; HttpOnly; SameSite=Lax`;
  if (!t) return new Response(null, { status: 303, headers: { location: "/login", "set-cookie": clear, "cache-control": "no-store" } });
  const res = new Response(null, { status: 303, headers: { location: t.returnTo, "set-cookie": clear, "cache-control": "no-store" } });
  const { user, roles, data, persistent } = t.command;
  return login(res, { user, roles, ...(data === undefined ? {} : { data }), persistent });
}

export { CommandError };
