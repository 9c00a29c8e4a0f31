// The example application of the Express kit, as its README describes it: its own
// login form, a page showing the identity, a password change, a step-up for a sensitive
// page and a logout. Behind the gate: ORIGIN_URL points here. Configuration from the
// environment: PORT, SESSIONGATE_AUDIENCE, and SESSIONGATE_JWKS_URL or SESSIONGATE_SECRET.
import express from "express";
import {
  sessiongate, requireUser, requireRole, login, logout, regenerate, elevate, logoutOthers, returnTo, CommandError,
} from "../src/index.js";

// A user store stands in for the application's database (passwords in clear only here).
const users = new Map([
  ["alice", { password: "wonderland", roles: ["user", "admin"] }],
  ["bob", { password: "builder", roles: ["user"] }],
]);
const checkPassword = (user, password) => users.get(user)?.password === password && typeof password === "string";

const app = express();
app.disable("x-powered-by");
app.use(express.urlencoded({ extended: false }));
// Test-only routes for tests/differential/ (see differential.mjs); off unless asked for.
if (process.env.SESSIONGATE_DIFFERENTIAL === "1") app.use((await import("./differential.mjs")).differential());

// A public page: served without the gate's assertion too, never with anyone's identity.
app.get("/public", sessiongate({ anonymous: true }), (req, res) => {
  res.json({ user: req.sessiongate?.user ?? null });
});

// Everything else needs the gate's assertion.
app.use(sessiongate());

const attr = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The gate sends a visitor without a session here with ?return_to=<the page asked for>;
// the form carries it to the POST, which goes back there after the sign-in.
app.get("/login", (req, res) => {
  res.type("html").send(`<!doctype html><title>Sign in</title>
<form method="post" action="/login">
  <input type="hidden" name="return_to" value="${attr(returnTo(req, "/app"))}">
  <label>User <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Sign in</button>
</form>`);
});

app.post("/login", (req, res) => {
  const { username, password } = req.body;
  if (!checkPassword(username, password)) return res.status(401).json({ error: "invalid_credentials" });
  login(res, { user: username, roles: users.get(username).roles, data: { theme: "dark" } });
  res.redirect(303, returnTo(req, "/app"));
});

app.get("/app", requireUser, (req, res) => {
  const { claims, ...identity } = req.sessiongate;
  res.json(identity);
});

app.post("/password", requireUser, (req, res) => {
  const { user } = req.sessiongate;
  if (!checkPassword(user, req.body.current_password)) return res.status(403).json({ error: "invalid_credentials" });
  users.get(user).password = req.body.new_password;
  regenerate(res); // the session gets a new ID
  logoutOthers(res); // and the user's other sessions end
  res.json({ password_changed: true });
});

app.post("/reauth", requireUser, (req, res) => {
  if (!checkPassword(req.sessiongate.user, req.body.password)) return res.status(403).json({ error: "invalid_credentials" });
  elevate(res);
  res.json({ elevated: true });
});

// SENSITIVE_PATHS=/admin on the gate: only an elevated session gets here.
app.get("/admin", requireRole("admin"), (req, res) => {
  res.json({ sensitive: true, user: req.sessiongate.user, elevatedUntil: req.sessiongate.elevatedUntil });
});

// A new user id for this session: an invalid one throws here, before the gate's 502.
app.post("/rename", requireUser, (req, res) => {
  try {
    login(res, { user: req.body.user, roles: req.sessiongate.roles, data: req.sessiongate.data });
  } catch (e) {
    if (e instanceof CommandError) return res.status(400).json({ error: "invalid_command", detail: e.message });
    throw e;
  }
  res.json({ renamed: req.body.user });
});

app.post("/logout", (req, res) => {
  logout(res);
  res.json({ signed_out: true });
});

const port = Number(process.env.PORT || 3000);
app.listen(port, "127.0.0.1", () => console.log(`express example on http://127.0.0.1:${port}`));
