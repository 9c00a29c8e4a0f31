// Raw HTTP/1.1 over node:net: the request goes out exactly as drawn (fetch and node:http
// would normalise the method, the path and the headers), one connection a request.
import net from "node:net";

export const USER_AGENT = "sessiongate-differential";

/** The bytes of a variant (generator.mjs) for `host`, with `cookie` when given. */
export function serialize(v, { host, cookie } = {}) {
  const lines = [`${v.method} ${v.target} HTTP/1.1`, `Host: ${host}`, `User-Agent: ${USER_AGENT}`, "Accept: application/json"];
  if (cookie) lines.push(`Cookie: ${cookie}`);
  for (const [k, val] of v.headers) lines.push(`${k}: ${val}`);
  const body = v.body ?? Buffer.alloc(0);
  let payload = body;
  if (v.framing === "length") lines.push(`Content-Length: ${body.length}`);
  if (v.framing === "chunked") {
    lines.push("Transfer-Encoding: chunked");
    const parts = [];
    let at = 0;
    for (const n of v.chunks) {
      parts.push(Buffer.from(`${n.toString(16)}\r\n`, "latin1"), body.subarray(at, at + n), Buffer.from("\r\n"));
      at += n;
    }
    parts.push(Buffer.from("0\r\n\r\n"));
    payload = Buffer.concat(parts);
  }
  lines.push("Connection: close");
  return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"), payload]);
}

/**
 * Sends `bytes` to 127.0.0.1:`port`; resolves { status, headers (lower-case name -> [values]) }
 * once the whole answer is in (by its Content-Length or chunked framing; `head`: the
 * request was a HEAD, so no body follows), or { status: null, error } when the connection
 * fails or no answer came in `timeoutMs`. Reading the answer to its end before hanging up
 * keeps the servers' logs free of broken pipes; not every server closes on
 * `Connection: close` at once, so the framing says when it is complete.
 */
export function send(port, bytes, { head = false, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    let done = false;
    const sock = net.connect(port, "127.0.0.1");
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(result);
    };
    const whatCame = (error) => parse(Buffer.concat(chunks)) ?? { status: null, error };
    const timer = setTimeout(() => finish(whatCame("timeout")), timeoutMs);
    sock.on("connect", () => sock.write(bytes));
    sock.on("data", (d) => {
      chunks.push(d);
      const buf = Buffer.concat(chunks);
      const res = parse(buf);
      if (res && complete(res, buf, head)) finish(res);
    });
    sock.on("error", (e) => finish(whatCame(e.code ?? e.message)));
    sock.on("close", () => finish(whatCame("closed without an answer")));
  });
}

function complete(res, buf, head) {
  if (res.status === null) return true;
  const body = buf.subarray(res.bodyAt);
  if (head || res.status === 204 || res.status === 304) return true;
  if (/chunked/i.test(res.headers["transfer-encoding"]?.join(",") ?? "")) return body.subarray(-5).toString("latin1") === "0\r\n\r\n";
  const length = res.headers["content-length"]?.[0];
  return length !== undefined && body.length >= Number(length);
}

function parse(buf) {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const [statusLine, ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) return { status: null, error: `not HTTP: ${statusLine.slice(0, 80)}` };
  const status = Number(m[1]);
  if (status === 100) {
    const rest = parse(buf.subarray(end + 4));
    return rest && { ...rest, bodyAt: rest.bodyAt + end + 4 };
  }
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    if (i <= 0) continue;
    (headers[l.slice(0, i).trim().toLowerCase()] ??= []).push(l.slice(i + 1).trim());
  }
  return { status, headers, bodyAt: end + 4 };
}

/** The dispatch a framework's reporting route announced in X-Differential, or null. */
export function dispatched(res) {
  const h = res.headers?.["x-differential"]?.[0];
  if (!h) return null;
  try {
    return JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
  } catch {
    return { h: "unreadable", m: "?", p: h };
  }
}
