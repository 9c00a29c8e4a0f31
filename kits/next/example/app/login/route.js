import { login } from "../../../src/index.js";
import { users, checkPassword, json, form } from "../users.js";

const FORM = `<!doctype html><title>Sign in</title>
<form method="post" action="/login">
  <label>User <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Sign in</button>
</form>`;

export function GET() {
  return new Response(FORM, { headers: { "content-type": "text/html; charset=utf-8" } });
}

export async function POST(request) {
  const { username, password } = await form(request);
  if (!checkPassword(username, password)) return json({ error: "invalid_credentials" }, 401);
  const res = new Response(null, { status: 303, headers: { location: "/app" } });
  return login(res, { user: username, roles: users.get(username).roles, data: { theme: "dark" } });
}
