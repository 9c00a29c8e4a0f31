// The smallest Express application on the installed @sessiongate/express tarball (tier 6,
// tests/kits/install.test.mjs): copied into a fresh project outside the repository.
import express from "express";
import { sessiongate, requireUser, login, logout, returnTo } from "@sessiongate/express";

const app = express();
app.use(express.urlencoded({ extended: false }));
app.use(sessiongate());
app.get("/login", (req, res) => res.type("html").send(`<form method="post"><input name="return_to" value="${returnTo(req, "/app")}"></form>`));
app.post("/login", (req, res) => {
  if (req.body.password !== "pw") return res.status(401).json({ error: "invalid_credentials" });
  login(res, { user: req.body.username, roles: ["user"] });
  res.redirect(303, returnTo(req, "/app"));
});
app.get("/app", requireUser, (req, res) => res.json({ user: req.sessiongate.user, roles: req.sessiongate.roles, kit: "express" }));
app.post("/logout", (req, res) => { logout(res); res.json({ signed_out: true }); });
app.listen(Number(process.env.PORT), "127.0.0.1");
