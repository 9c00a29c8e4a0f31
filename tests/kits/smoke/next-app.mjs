// The installed @sessiongate/next tarball, used as a Next.js route handler and proxy are
// (Web Request in, Response out), under node:http (tier 6, tests/kits/install.test.mjs).
import http from "node:http";
import { Readable } from "node:stream";
import { sessiongateProxy, withSessiongate, login, logout, safeReturnTo } from "@sessiongate/next";

const proxy = sessiongateProxy({ anonymousPaths: [] });
const routes = {
  "GET /login": () => new Response("<form method=post></form>", { headers: { "content-type": "text/html" } }),
  "POST /login": async (request) => {
    const f = new URLSearchParams(await request.text());
    if (f.get("password") !== "pw") return Response.json({ error: "invalid_credentials" }, { status: 401 });
    const res = new Response(null, { status: 303, headers: { location: safeReturnTo(f.get("return_to"), "/app") } });
    return login(res, { user: f.get("username"), roles: ["user"] });
  },
  "GET /app": withSessiongate((request, ctx, s) => Response.json({ user: s.user, roles: s.roles, kit: "next" })),
  "POST /logout": () => logout(Response.json({ signed_out: true })),
};

http.createServer(async (req, res) => {
  const url = `http://${req.headers.host}${req.url}`;
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : Readable.toWeb(req);
  const request = new Request(url, { method: req.method, headers: req.headers, body, duplex: "half" });
  const route = routes[`${req.method} ${new URL(url).pathname}`];
  const out = (await proxy(request)) ?? (route ? await route(request) : new Response("not found", { status: 404 }));
  res.writeHead(out.status, Object.fromEntries(out.headers));
  res.end(Buffer.from(await out.arrayBuffer()));
}).listen(Number(process.env.PORT), "127.0.0.1");
