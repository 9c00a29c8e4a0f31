import { withSessiongate, commands, elevate } from "../../../src/index.js";
import { checkPassword, json, form } from "../users.js";

export const POST = withSessiongate(async (request, context, s) => {
  if (!s.user) return json({ error: "unauthenticated", reason: "not_signed_in" }, 401);
  if (!checkPassword(s.user, (await form(request)).password)) return json({ error: "invalid_credentials" }, 403);
  return elevate(commands(json({ elevated: true }), { session: s }));
});
