import { withSessiongate, commands, regenerate, logoutOthers } from "../../../src/index.js";
import { users, checkPassword, json, form } from "../users.js";

export const POST = withSessiongate(async (request, context, s) => {
  if (!s.user) return json({ error: "unauthenticated", reason: "not_signed_in" }, 401);
  const f = await form(request);
  if (!checkPassword(s.user, f.current_password)) return json({ error: "invalid_credentials" }, 403);
  users.get(s.user).password = f.new_password;
  const res = commands(json({ password_changed: true }), { session: s });
  regenerate(res); // the session gets a new ID
  logoutOthers(res); // and the user's other sessions end
  return res;
});
