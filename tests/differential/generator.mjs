// Request variants for the differential tier: the ways a request can make a framework run
// another method or another path than it seems to, drawn from a seed. A variant is
//   { method, target, headers: [[name, value], ...], body: Buffer | null,
//     framing: "length" | "chunked" | "none", chunks: [sizes] }
// and is sent byte for byte as drawn (client.mjs), so what no fetch() would send, a lower-
// case method, a raw space or UTF-8 in the path, duplicated headers, is sent all the same.
// The gate under test is configured by CONFIG; the frameworks' reporting routes
// (kits/*/example/differential.*) are account (/account/:id), vault (/vault, /vault/...),
// pub (/pub/:x) and other (everything else).
import zlib from "node:zlib";
import { rng } from "./random.mjs";

export const CONFIG = {
  PUBLIC_PATHS: "/login,/public,/pub/*",
  LOGIN_URL: "/login",
  SENSITIVE_PATHS: "DELETE|PATCH /account/*,/vault/*",
};

// ---- paths ------------------------------------------------------------------------------

const BASES = [
  [30, ["account", "data"]],
  [8, ["account", "me"]],
  [10, ["vault"]],
  [8, ["vault", "keys"]],
  [8, ["pub", "x"]],
  [5, ["public"]],
  [6, ["things"]],
  [2, []],
];

// A public prefix walked out of: every spelling of `..` and of `/` a server might honour.
const ESCAPES = [
  "/pub/../{t}", "/pub/..%2f{t}", "/pub/..%2F{t}", "/pub/%2e%2e/{t}", "/pub/%2E%2E/{t}", "/pub/.%2e/{t}",
  "/pub/%2e./{t}", "/pub/..;/{t}", "/pub;/../{t}", "/pub/x/../../{t}", "/pub%2f..%2f{t}", "/pub/..%5c{t}",
  "/pub/..\\{t}", "/pub\\..\\{t}", "/pub/%252e%252e/{t}", "/pub/..%252f{t}", "/pub/%c0%ae%c0%ae/{t}",
  "/pub/..%c0%af{t}", "/pub/x%2f..%2f..%2f{t}", "/public/../{t}", "/public/..%2f{t}", "/pub/.../{t}",
  "/pub/..%00/{t}", "/pub/..%09/{t}", "/pub/%2e%2e%3b/{t}", "/pub//../{t}", "/pub/x/..//../{t}",
  "/./pub/../{t}", "/pub/%2e%2e%2f{t}", "/pub/..%u002f{t}",
];

// Unicode look-alikes (percent-encoded UTF-8) of letters in the routes' names.
const LOOKALIKES = {
  a: ["%EF%BD%81", "%D0%B0", "%C3%A0", "%E1%B4%80"], c: ["%D1%81", "%EF%BD%83", "%E2%85%BD"],
  o: ["%D0%BE", "%EF%BD%8F", "%CE%BF"], u: ["%EF%BD%95", "%CA%8B", "%C5%AB"], n: ["%EF%BD%8E", "%D5%B8"],
  t: ["%EF%BD%94", "%D1%82"], v: ["%E2%85%B4", "%EF%BD%96", "%D1%B5"], l: ["%E2%85%BC", "%C4%BA", "%C5%80", "%EF%BD%8C"],
  d: ["%E2%85%BE", "%EF%BD%84", "%D4%81"], e: ["%D0%B5", "%EF%BD%85", "%C3%A9"], k: ["%E2%84%AA", "%EF%BD%8B", "%D0%BA"],
  s: ["%C5%BF", "%EF%BD%93", "%D1%95"], i: ["%C4%B1", "%EF%BD%89", "%D1%96"], m: ["%EF%BD%8D", "%E2%85%BF"],
  p: ["%D1%80", "%EF%BD%90"], b: ["%EF%BD%82", "%D0%AC"], h: ["%D2%BB", "%EF%BD%88"], g: ["%C9%A1", "%EF%BD%87"],
  y: ["%D1%83", "%EF%BD%99"], r: ["%D0%B3", "%EF%BD%92"], x: ["%D1%85", "%EF%BD%98"],
};

const SUFFIXES = [
  ".", "..", "%2e", "%2E", "%20", "%09", "%00", "%0a", "%0d", "%0d%0a", "~", ".json", ".html", "%2ejson", ";", ";x=1",
  ";jsessionid=1", "/", "//", "%2f", "%5c", "\\", "/.", "/%2e", "::$DATA", "%c0%ae", "%ef%bc%8e", "+", "%3b", "%23", "?",
  "#", "%3f", "%ff", "%e2%80%8b", "%c2%a0",
];

function encodeChar(r, ch) {
  const hex = ch.charCodeAt(0).toString(16).padStart(2, "0");
  return "%" + (r.chance(0.5) ? hex.toUpperCase() : hex.toLowerCase());
}

function mutateSegment(r, seg) {
  if (!seg) return seg;
  switch (r.int(8)) {
    case 0: { // percent-encode some characters
      return [...seg].map((c) => (r.chance(0.4) ? encodeChar(r, c) : c)).join("");
    }
    case 1: { // double-encode one character
      const i = r.int(seg.length);
      return seg.slice(0, i) + "%25" + encodeChar(r, seg[i]).slice(1) + seg.slice(i + 1);
    }
    case 2: return r.chance(0.5) ? seg.toUpperCase() : seg[0].toUpperCase() + seg.slice(1);
    case 3: { // a look-alike letter
      const i = r.int(seg.length);
      const alts = LOOKALIKES[seg[i].toLowerCase()];
      return alts ? seg.slice(0, i) + r.pick(alts) + seg.slice(i + 1) : seg;
    }
    case 4: return seg + r.pick(SUFFIXES);
    case 5: return seg + ";" + r.pick(["", "x", "a=b", "..", "/"]);
    case 6: { // raw UTF-8 look-alike, unencoded on the wire
      const i = r.int(seg.length);
      const alts = LOOKALIKES[seg[i].toLowerCase()];
      return alts ? seg.slice(0, i) + decodeURIComponent(r.pick(alts)) + seg.slice(i + 1) : seg;
    }
    default: return seg.length > 1 && r.chance(0.5) ? seg.slice(0, -1) + seg.slice(-1).toUpperCase() : seg;
  }
}

function drawPath(r) {
  if (r.chance(0.18)) {
    const target = r.pick(["vault", "vault/keys", "account/data", "things", "account/me"]);
    let p = r.pick(ESCAPES).replace("{t}", target);
    if (r.chance(0.3)) p = p.replace(/\/(vault|account|things)/, (m) => "/" + mutateSegment(r, m.slice(1)));
    return p;
  }
  const segs = [...r.weighted(BASES)];
  const n = r.weighted([[35, 0], [35, 1], [20, 2], [10, 3]]);
  for (let k = 0; k < n && segs.length; k++) {
    const i = r.int(segs.length);
    segs[i] = mutateSegment(r, segs[i]);
  }
  let p = "/" + segs.join("/");
  if (r.chance(0.1)) p = p.replace(/\//g, (s, at) => (at > 0 && r.chance(0.5) ? "//" : s));
  if (r.chance(0.06)) p = "/" + p;
  if (r.chance(0.08)) p += "/";
  if (r.chance(0.06)) {
    const at = p.lastIndexOf("/");
    p = p.slice(0, at) + r.pick(["/.", "/x/..", "/%2e", "/x/%2e%2e", "/./.", "/x/..;"]) + p.slice(at);
  }
  return p;
}

// ---- methods and overrides --------------------------------------------------------------

const OVERRIDE_HEADERS = [
  [20, "X-HTTP-Method-Override"], [4, "x-http-method-override"], [3, "X-HTTP-METHOD-OVERRIDE"],
  [2, "X-Http-Method-Override"], [6, "X-HTTP-Method"], [6, "X-Method-Override"], [5, "X_HTTP_METHOD_OVERRIDE"],
  [2, "x_http_method_override"], [3, "X-HTTP_Method-Override"], [2, "X_HTTP_METHOD"], [2, "X_METHOD_OVERRIDE"],
  [2, "X-HTTP-Method-Override2"], [2, "_method"], [2, "X-Method"], [2, "Http-Method-Override"],
];

function casing(r, m) {
  switch (r.int(5)) {
    case 0: return m.toLowerCase();
    case 1: return m[0] + m.slice(1).toLowerCase();
    case 2: return [...m].map((c) => (r.chance(0.5) ? c.toLowerCase() : c)).join("");
    default: return m;
  }
}

/** A method as an override value names it, in any case, padded or listed. */
function methodToken(r) {
  const m = r.weighted([[45, "DELETE"], [25, "PATCH"], [6, "PUT"], [5, "GET"], [4, "POST"], [3, "HEAD"], [2, "LINK"], [2, "OPTIONS"]]);
  let v = casing(r, m);
  switch (r.int(12)) {
    case 0: return " " + v;
    case 1: return v + " ";
    case 2: return "\t" + v + "\t";
    case 3: return v + ", GET";
    case 4: return "GET, " + v;
    case 5: return v + ";";
    case 6: return v + "\0";
    case 7: return v + "," + v;
    default: return v;
  }
}

/** The same, written into a form value (percent-encoded spellings too). */
function formMethodValue(r) {
  const v = methodToken(r);
  switch (r.int(6)) {
    case 0: return [...v].map((c) => (r.chance(0.4) ? encodeChar(r, c) : encodeURIComponent(c))).join("");
    case 1: return encodeURIComponent(v).replace(/%20/g, "+");
    case 2: return "+" + encodeURIComponent(v.trim()) + "+";
    default: return encodeURIComponent(v);
  }
}

const PARAM_NAMES = [
  [40, "_method"], [5, "%5Fmethod"], [4, "%5fmethod"], [4, "_%6Dethod"], [2, "_%6detho%64"], [3, "_METHOD"], [2, "_Method"],
  [3, "+_method"], [3, "%20_method"], [3, "_method+"], [3, "_method[]"], [2, "_method[0]"], [2, "_method%00"], [2, "_method."],
  [2, "_method%5B%5D"], [2, "__method"], [2, "method"], [2, "_Method%20"], [3, "[_method]"], [2, "]]_method"],
  [2, "%5B_method%5D"], [2, "[[_method]]"], [2, "_method]"],
];

const SEPARATORS = [[60, "&"], [12, ";"], [6, "& "], [5, "; "], [4, "&&"], [3, "&amp;"], [3, "\n"], [3, "\r\n"], [2, ",", ], [2, "&\t"]];

function methodPairs(r) {
  const pairs = [];
  const n = r.weighted([[70, 1], [20, 2], [10, 3]]);
  for (let i = 0; i < n; i++) pairs.push(`${r.weighted(PARAM_NAMES)}=${formMethodValue(r)}`);
  if (r.chance(0.15)) pairs.splice(r.int(pairs.length + 1), 0, `_method=${r.pick(["POST", "GET", ""])}`);
  return pairs;
}

function joinPairs(r, pairs) {
  let out = "";
  pairs.forEach((p, i) => { out += (i ? r.weighted(SEPARATORS) : "") + p; });
  return out;
}

// ---- bodies and media types -------------------------------------------------------------

const FORM_TYPES = [
  [14, null], [14, "application/x-www-form-urlencoded"], [5, "application/x-www-form-urlencoded; charset=UTF-8"],
  [4, "APPLICATION/X-WWW-FORM-URLENCODED"], [3, "Application/X-Www-Form-Urlencoded;charset=utf-8"],
  [6, "application/x-www-form-urlencoded, text/plain"], [4, "text/plain, application/x-www-form-urlencoded"],
  [3, "application/x-www-form-urlencoded,"], [3, "application/x-www-form-urlencoded;"], [2, "application/x-www-form-urlencoded ;charset=utf-8"],
  [3, "application/x-www-form-urlencoded;;"], [2, "application/x-www-form-urlencoded\t"], [2, "application/x-www-form-urlencodedx"],
  [2, "application/x-www-form-urlencoded; charset=iso-8859-1"], [2, "application/x-www-form-urlencoded; charset=utf-16"],
  [2, "application/x-www-form-urlencoded; charset=\"utf-8\""], [2, "application/x-www-form-urlencoded/x"],
  [3, "text/plain"], [3, "application/json"], [2, "application/octet-stream"], [2, "*/*"], [2, "application/*"], [3, ""],
  [2, "x-www-form-urlencoded"], [2, "application/x-url-encoded"], [2, "application / x-www-form-urlencoded"],
  [2, "multipart/form-data"], [2, "text/html; x=application/x-www-form-urlencoded"],
  [2, "application/x-www-form-urlencoded\u00a0"],
];

const MULTIPART_TYPES = [
  [20, "multipart/form-data; boundary={b}"], [4, "multipart/form-data; boundary=\"{b}\""], [3, "Multipart/Form-Data; BOUNDARY={b}"],
  [3, "multipart/form-data;boundary={b};charset=utf-8"], [4, "multipart/mixed; boundary={b}"], [3, "multipart/related; boundary={b}"],
  [2, "multipart/alternative; boundary={b}"], [3, "multipart/form-data; boundary={b}, text/plain"], [3, "text/plain, multipart/form-data; boundary={b}"],
  [3, "multipart/form-data"], [3, null], [2, "multipart/form-data; boundary={b}; boundary=other"], [2, "multipart/form-data; charset=utf-8; boundary={b}"],
  [2, "multipart/x-mixed-replace; boundary={b}"], [2, "multipart/form-data ; boundary = {b}"],
];

const DISPOSITIONS = [
  [30, "form-data; name=\"{n}\""], [6, "form-data; name={n}"], [4, "form-data; NAME=\"{n}\""], [3, "Form-Data; Name=\"{n}\""],
  [3, "form-data; name = \"{n}\""], [3, "form-data; name=\"{n}\"; filename=\"m.txt\""], [3, "form-data; name*=UTF-8''{n}"],
  [2, "form-data; name='{n}'"], [2, "form-data;name=\"{n}\""], [2, "attachment; name=\"{n}\""], [2, "form-data; name=\"x\"; name=\"{n}\""],
  [2, "form-data; filename=\"x\"; name=\"{n}\""], [2, "form-data; name=\"{n}\\\"\""], [2, "form-data; name=\"%5Fmethod\""],
];

function multipartBody(r, boundary) {
  const eol = r.weighted([[85, "\r\n"], [15, "\n"]]);
  const parts = [];
  const n = r.weighted([[75, 1], [25, 2]]);
  for (let i = 0; i < n; i++) {
    const name = r.weighted([[80, "_method"], [5, "_METHOD"], [5, "_method[]"], [5, "%5Fmethod"], [5, " _method"], [4, "[_method]"]]);
    const disposition = r.weighted(DISPOSITIONS).replace("{n}", name);
    const headers = [`Content-Disposition: ${disposition}`];
    if (r.chance(0.15)) headers.push(r.pick(["Content-Type: text/plain", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"]));
    if (r.chance(0.1)) headers.reverse();
    parts.push({ headers, value: methodToken(r) });
  }
  if (r.chance(0.5)) parts.splice(r.int(parts.length + 1), 0, { headers: ['Content-Disposition: form-data; name="note"'], value: "hello" });
  let body = r.chance(0.1) ? "preamble" + eol : "";
  for (const p of parts) body += `--${boundary}${eol}${p.headers.join(eol)}${eol}${eol}${p.value}${eol}`;
  body += r.chance(0.9) ? `--${boundary}--${eol}` : "";
  return body;
}

function drawBody(r, headers) {
  const kind = r.weighted([[45, "form"], [25, "multipart"], [6, "json"], [4, "xml"], [20, "none"]]);
  if (kind === "none") return null;
  let text;
  if (kind === "form") {
    const pairs = methodPairs(r);
    if (r.chance(0.5)) pairs.splice(r.int(pairs.length + 1), 0, r.pick(["note=hello", "a=1", "utf8=%E2%9C%93", "x", "=y"]));
    if (r.chance(0.06)) pairs.unshift(`pad=${"a".repeat(r.pick([100, 5000, 70_000, 70_000]))}`);
    text = joinPairs(r, pairs);
    if (r.chance(0.05)) text += "\0";
    const type = r.weighted(FORM_TYPES);
    if (type !== null) headers.push(["Content-Type", type]);
    if (r.chance(0.04)) headers.push(["Content-Type", r.pick(["text/plain", "application/x-www-form-urlencoded"])]);
  } else if (kind === "multipart") {
    const boundary = r.pick(["b0undary", "----WebKitFormBoundaryx7", "a", "--x--", "b=1"]);
    text = multipartBody(r, boundary);
    const type = r.weighted(MULTIPART_TYPES);
    if (type !== null) headers.push(["Content-Type", type.replace("{b}", boundary)]);
  } else if (kind === "json") {
    text = JSON.stringify({ _method: methodToken(r).trim() || "DELETE" });
    headers.push(["Content-Type", r.pick(["application/json", "application/json; charset=utf-8", "text/json"])]);
  } else {
    text = `<r><_method>${methodToken(r)}</_method></r>`;
    headers.push(["Content-Type", r.pick(["application/xml", "text/xml"])]);
  }
  let body = Buffer.from(text, "latin1");
  if (r.chance(0.12)) {
    const enc = r.pick(["gzip", "deflate", "GZIP", "x-gzip", "br", "identity", "gzip, identity", "Deflate"]);
    headers.push(["Content-Encoding", enc]);
    const e = enc.toLowerCase();
    if (e.includes("gzip")) body = zlib.gzipSync(body);
    else if (e === "deflate") body = zlib.deflateSync(body);
    else if (e === "br") body = zlib.brotliCompressSync(body);
  }
  return body;
}

// ---- the variant ------------------------------------------------------------------------

export function variant(seed, index) {
  const r = rng(seed, index);
  const method = r.weighted([
    [60, "POST"], [5, "post"], [3, "Post"], [6, "DELETE"], [3, "delete"], [5, "PATCH"], [4, "patch"], [2, "Patch"],
    [4, "PUT"], [5, "GET"], [2, "HEAD"], [2, "OPTIONS"], [1, "PROPFIND"], [1, "LINK"],
  ]);
  let target = drawPath(r);
  const headers = [];
  if (r.chance(0.3)) {
    const pairs = methodPairs(r);
    if (r.chance(0.3)) pairs.unshift("q=1");
    target += "?" + joinPairs(r, pairs);
  } else if (r.chance(0.1)) {
    target += r.pick(["?", "?a=1", "?x=%2e%2e", "?_method"]);
  }
  const headerCount = r.weighted([[55, 0], [30, 1], [10, 2], [5, 3]]);
  for (let i = 0; i < headerCount; i++) {
    const name = r.weighted(OVERRIDE_HEADERS);
    const value = methodToken(r).replace(/\0/g, "");
    headers.push([name, value]);
    if (r.chance(0.2)) headers.push([r.chance(0.5) ? name : name.toLowerCase(), methodToken(r).replace(/\0/g, "")]);
  }
  const body = drawBody(r, headers);
  const framing = body === null ? (r.chance(0.1) ? "length" : "none") : r.weighted([[70, "length"], [30, "chunked"]]);
  const chunks = [];
  if (framing === "chunked") {
    let left = body.length;
    while (left > 0) {
      const n = Math.min(left, 1 + r.int(Math.max(1, r.pick([4, 64, 4096, 1 << 16]))));
      chunks.push(n);
      left -= n;
    }
  }
  // No chunk extensions (`5;x=1`): workerd refuses them before the gate runs.
  return { method, target, headers: r.shuffle(headers), body, framing, chunks };
}
