// Named regression cases, run before the seeded variants: each a request that took (or, for
// the first review's, once took) a framework to a handler the configuration makes
// sensitive past a session that had not stepped up. `frameworks` names those that run it
// as DELETE or PATCH when it is sent to them directly; the tier checks that too, so a case
// cannot silently stop testing anything. Same shape as generator.mjs's variants.
import zlib from "node:zlib";

const FORM = "application/x-www-form-urlencoded";
const post = (name, frameworks, { headers = [], body = null, target = "/account/data", framing } = {}) => ({
  name, frameworks, method: "POST", target, headers,
  body: body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, "latin1"),
  framing: framing ?? (body === null ? "none" : "length"), chunks: [],
});
const multipart = (type) => ({
  headers: [["Content-Type", `${type}; boundary=b`]],
  body: '--b\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n--b--\r\n',
});

export const REGRESSIONS = [
  // The first outside review (fixed before this tier existed).
  post("review 1: X-HTTP-Method-Override: DELETE", ["express", "rails"], { headers: [["X-HTTP-Method-Override", "DELETE"]] }),
  post("review 1: _method=DELETE in a URL-encoded body", ["express", "rails"], { headers: [["Content-Type", FORM]], body: "_method=DELETE" }),
  post("review 1: _method=DELETE in the query", ["express"], { target: "/account/data?_method=DELETE" }),
  post("a URL-encoded body over the gate's read cap with _method=DELETE at its end", ["express", "rails"], {
    headers: [["Content-Type", FORM]], body: `pad=${"a".repeat(70_000)}&_method=DELETE`,
  }),
  // The second outside review, item 1; found again by the seeded variants (seed 25, #711 and #1757).
  post("review 2: _method=DELETE in a POST body without Content-Type (Rack reads it as a form)", ["rails"], { body: "_method=DELETE" }),
  post("review 2: _method=DELETE under a listed media type (form, text/plain: Rack cuts at the comma)", ["rails"], {
    headers: [["Content-Type", `${FORM}, text/plain`]], body: "_method=DELETE",
  }),
  // Found by this tier (seed 25).
  post("differential: X_HTTP_METHOD_OVERRIDE: DELETE (Rack's env folds _ and - into HTTP_X_HTTP_METHOD_OVERRIDE; #1297)", ["rails"], {
    headers: [["X_HTTP_METHOD_OVERRIDE", "DELETE"]],
  }),
  post("differential: X-HTTP_Method-Override: DELETE (#137)", ["rails"], { headers: [["X-HTTP_Method-Override", "DELETE"]] }),
  post("differential: _method in a multipart/related body (Rack parses related and mixed as forms; #1903)", ["rails"], multipart("multipart/related")),
  post("differential: _method in a multipart/mixed body", ["rails"], multipart("multipart/mixed")),
  post("differential: a space after & before _method (Rack's separator takes it; #1757)", ["rails"], {
    headers: [["Content-Type", FORM]], body: "x=1& _method=DELETE",
  }),
  post("differential: _method=DELETE and a trailing NUL (Rack strips it; #524)", ["rails"], { headers: [["Content-Type", FORM]], body: "_method=DELETE\0" }),
  post("differential: [_method]=DELETE (Rack's and qs's nested names read it as _method)", ["rails", "express"], {
    headers: [["Content-Type", FORM]], body: "[_method]=DELETE",
  }),
  post("differential: ]]_method=DELETE (Rack drops leading brackets)", ["rails"], { headers: [["Content-Type", FORM]], body: "]]_method=DELETE" }),
  post("differential: a gzip-encoded URL-encoded body (body-parser inflates it)", ["express"], {
    headers: [["Content-Type", FORM], ["Content-Encoding", "gzip"]], body: zlib.gzipSync("_method=DELETE"),
  }),
  post("differential: a deflate-encoded URL-encoded body", ["express"], {
    headers: [["Content-Type", FORM], ["Content-Encoding", "deflate"]], body: zlib.deflateSync("_method=DELETE"),
  }),
  post("differential: a brotli-encoded URL-encoded body", ["express"], {
    headers: [["Content-Type", FORM], ["Content-Encoding", "br"]], body: zlib.brotliCompressSync("_method=DELETE"),
  }),
];
