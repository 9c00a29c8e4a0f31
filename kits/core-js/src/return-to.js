// Where to send the browser after a sign-in: the gate's `return_to` (the page a visitor
// without a session asked for, which the gate puts on LOGIN_URL) when it is a path on this
// site, else a fallback. The rules are the gate's own (src/core/oidc/flow.rs,
// safe_return_to): one leading `/`, never `//host` or `/\host`, no control characters,
// whitespace or backslashes (browsers drop tabs and newlines, turning `/\t/evil` into
// `//evil`), at most 2048 characters.
export const MAX_RETURN_TO = 2048;

/** `raw` (the decoded `return_to` value) if it is a local path, else `fallback`. */
export function safeReturnTo(raw, fallback = "/") {
  if (typeof raw !== "string") return fallback;
  const ok = raw.startsWith("/") && !raw.startsWith("//") && !raw.startsWith("/\\") && raw.length <= MAX_RETURN_TO
    && !/[\\\s\p{Cc}]/u.test(raw);
  return ok ? raw : fallback;
}
