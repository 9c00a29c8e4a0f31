import { login, safeReturnTo } from "../../../src/index.js";
import { users, checkPassword, json, form } from "../users.js";

const attr = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The gate sends a visitor without a session here with ?return_to=<the page asked for>;
// the form carries it to the POST, which goes back there after the sign-in.
export function GET(request) {
  const returnTo = safeReturnTo(new URL(request.url).searchParams.get("return_to"), "/app");
  return new Response(`<!doctype html><title>Sign in</title>
<form method="post" action="/login">
  <input type="hidden" name="return_to" value="${attr(returnTo)}">
  <label>User <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Sign in</button>
</form>`, { headers: { "content-type": "text/html; charset=utf-8" } });
}

export async function POST(request) {
  const { username, password, return_to: returnTo } = await form(request);
  if (!checkPassword(username, password)) return json({ error: "invalid_credentials" }, 401);
  const res = new Response(null, { status: 303, headers: { location: safeReturnTo(returnTo, "/app") } });
  return login(res, { user: username, roles: users.get(username).roles, data: { theme: "dark" } });
}
