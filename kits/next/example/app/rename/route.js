import { withSessiongate, login, CommandError } from "../../../src/index.js";
import { json, form } from "../users.js";

// A new user id for this session: an invalid one throws here, before the gate's 502.
export const POST = withSessiongate(async (request, context, s) => {
  if (!s.user) return json({ error: "unauthenticated", reason: "not_signed_in" }, 401);
  const { user } = await form(request);
  try {
    return login(json({ renamed: user }), { user, roles: s.roles, data: s.data });
  } catch (e) {
    if (e instanceof CommandError) return json({ error: "invalid_command", detail: e.message }, 400);
    throw e;
  }
});
