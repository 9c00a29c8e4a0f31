import { withSessiongate, hasRole } from "../../../src/index.js";
import { json } from "../users.js";

// SENSITIVE_PATHS=/admin on the gate: only an elevated session gets here.
export const GET = withSessiongate((request, context, s) => {
  if (!s.user) return json({ error: "unauthenticated", reason: "not_signed_in" }, 401);
  if (!hasRole(s, "admin")) return json({ error: "forbidden", reason: "role_required" }, 403);
  return json({ sensitive: true, user: s.user, elevatedUntil: s.elevatedUntil });
});
