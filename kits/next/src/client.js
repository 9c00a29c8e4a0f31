"use client";
// Client helpers for pages behind sessiongate: the session as the gate sees it
// (GET /.sessiongate/status, which does not slide the idle timer), and sign-in and
// sign-out from the browser. The gate holds the session: nothing here reads a cookie.
import { useCallback, useEffect, useState } from "react";

const GATE = "/.sessiongate";

/**
 * `const { status, data, update } = useSession()`: status "loading", "authenticated" or
 * "unauthenticated"; data the gate's status JSON ({ user, session, idle_expires_at,
 * elevated_until, ... } or { reason }). `update()` asks again. Options: `base` (the
 * gate's endpoints, "/app/.sessiongate" under COOKIE_PATH=/app), `refetchInterval` (ms).
 */
export function useSession({ base = GATE, refetchInterval } = {}) {
  const [state, setState] = useState({ status: "loading", data: null });
  const update = useCallback(async () => {
    try {
      const res = await fetch(`${base}/status`, { credentials: "same-origin", headers: { accept: "application/json" }, cache: "no-store" });
      const data = await res.json();
      setState({ status: data?.authenticated ? "authenticated" : "unauthenticated", data });
      return data;
    } catch {
      setState({ status: "unauthenticated", data: null });
      return null;
    }
  }, [base]);
  useEffect(() => {
    update();
    if (!refetchInterval) return undefined;
    const t = setInterval(update, refetchInterval);
    return () => clearInterval(t);
  }, [update, refetchInterval]);
  return { ...state, update };
}

/** The current page (path and query), where a sign-in comes back to. */
function here() {
  return `${window.location.pathname}${window.location.search}`;
}

/**
 * Goes to the application's login page (the gate's LOGIN_URL) with ?return_to=, as the
 * gate sends a visitor without a session: `signIn()` comes back to this page.
 */
export function signIn({ loginUrl = "/login", returnTo = here() } = {}) {
  const sep = loginUrl.includes("?") ? "&" : "?";
  window.location.assign(`${loginUrl}${sep}return_to=${encodeURIComponent(returnTo)}`);
}

/**
 * Ends the gate's session (POST /.sessiongate/logout), then goes to `redirectTo` (or to
 * the identity provider's logout page when the gate names one). Resolves to the gate's JSON.
 */
export async function signOut({ base = GATE, redirectTo = "/", redirect = true } = {}) {
  const res = await fetch(`${base}/logout`, { method: "POST", credentials: "same-origin", headers: { accept: "application/json" } });
  const body = await res.json().catch(() => ({}));
  if (redirect) window.location.assign(body?.end_session_url ?? redirectTo);
  return body;
}
