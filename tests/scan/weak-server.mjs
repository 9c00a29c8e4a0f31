// A deliberately weak web application, for sessiongate-scan's end-to-end tests.
// Every session mistake the scanner looks for, on purpose. NEVER deploy anything like it.
//
//   - sequential session IDs (a counter: 4711001, 4711002, ...), issued to every visitor;
//   - cookie `SESSIONID=<id>; Path=/`: no HttpOnly, no Secure, no SameSite, no __Host- prefix;
//   - login keeps the pre-login ID (session fixation);
//   - login redirects to /account?sid=<id> (ID in a URL), /account prints the ID (ID in the body);
//   - /account also trusts `X-Forwarded-User` from anyone (identity header accepted);
//   - logout only clears the browser's cookie: the session stays valid on the server;
//   - no idle timeout; plain HTTP, no HSTS.
//
//   node tests/scan/weak-server.mjs          # 127.0.0.1:$PORT (8790)
//   const w = await startWeakServer();       # tests: { url, close() }
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const WEAK_USER = { user: "alice", password: "correct-horse-battery" };

export function startWeakServer({ port = 0 } = {}) {
  let counter = 4711000;
  const sessions = new Map(); // id -> { user: string | null }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url, "http://weak.invalid");
      const cookieId = /(?:^|;\s*)SESSIONID=([^;]*)/.exec(req.headers.cookie ?? "")?.[1];
      let id = sessions.has(cookieId) ? cookieId : null;
      const headers = { "content-type": "text/html; charset=utf-8" };
      if (!id) {
        id = String(++counter);
        sessions.set(id, { user: null });
        headers["set-cookie"] = `SESSIONID=${id}; Path=/`;
      }
      // The session may also come from the URL (the classic ;jsessionid / ?sid= mistake).
      const urlId = url.searchParams.get("sid");
      const sid = urlId && sessions.has(urlId) ? urlId : id;
      const session = sessions.get(sid);
      const proxyUser = req.headers["x-forwarded-user"]; // "set by our proxy" - or by anyone
      const user = session.user ?? proxyUser ?? null;
      const send = (status, body, extra = {}) => {
        res.writeHead(status, { ...headers, ...extra });
        res.end(body);
      };

      if (req.method === "GET" && url.pathname === "/") {
        return send(200, `<h1>Weak shop</h1><p>${user ? `Hello, ${user}` : "Hello, guest"}</p><a href="/login">Sign in</a>`);
      }
      if (req.method === "GET" && url.pathname === "/login") {
        return send(200, `<form method="post" action="/login"><input name="user"><input name="password" type="password"><button>Sign in</button></form>`);
      }
      if (req.method === "POST" && url.pathname === "/login") {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        if (form.get("user") !== WEAK_USER.user || form.get("password") !== WEAK_USER.password) {
          return send(401, "<p>Wrong user or password</p>");
        }
        session.user = WEAK_USER.user; // no new ID: fixation
        return send(302, "", { location: `/account?sid=${sid}` });
      }
      if (req.method === "GET" && url.pathname === "/account") {
        if (!user) return send(302, "", { location: "/login" });
        return send(200, `<h1>Account</h1><p>Signed in as ${user}</p><p>Your session: ${sid}</p>`);
      }
      if (req.method === "POST" && url.pathname === "/logout") {
        // Only the browser forgets; the server keeps the session alive.
        return send(302, "", { location: "/", "set-cookie": "SESSIONID=; Path=/; Max-Age=0" });
      }
      return send(404, "<p>Not found</p>");
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const actual = server.address().port;
      resolve({
        server,
        port: actual,
        url: `http://127.0.0.1:${actual}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const w = await startWeakServer({ port: Number(process.env.PORT || 8790) });
  console.log(`weak server listening on ${w.url} (deliberately insecure; tests only)`);
}
