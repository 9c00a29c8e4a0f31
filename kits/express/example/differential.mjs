// Test-only (tests/differential/, on with SESSIONGATE_DIFFERENTIAL=1, never by default):
// routes that report what Express dispatched, the handler, the method after
// method-override and the path, in an `X-Differential` response header (base64url JSON
// {h, m, p}; a header, so HEAD answers carry it too). Mounted before the kit's
// verification: the differential tier measures the gate's reading alone, and the kit
// knows nothing of SENSITIVE_PATHS anyway.
//
// method-override configured as its README shows, for each of its sources: `_method` in
// a parsed form body, the `X-HTTP-Method-Override` header, `_method` in the query.
import express from "express";
import methodOverride from "method-override";

function report(handler) {
  return (req, res) => {
    const seen = { h: handler, m: req.method, p: req.path };
    res.set("x-differential", Buffer.from(JSON.stringify(seen)).toString("base64url"));
    res.json(seen);
  };
}

export function differential() {
  const r = express.Router();
  r.use(express.urlencoded({ extended: false }));
  r.use(methodOverride((req) => {
    if (req.body && typeof req.body === "object" && "_method" in req.body) {
      const method = req.body._method;
      delete req.body._method;
      return method;
    }
    return undefined;
  }));
  r.use(methodOverride("X-HTTP-Method-Override"));
  r.use(methodOverride("_method"));
  r.all("/account/:id", report("account"));
  r.all(["/vault", "/vault/*rest"], report("vault"));
  r.all("/pub/:x", report("pub"));
  // Everything else but the sign-in the tier needs: a handler the configuration protects.
  r.use((req, res, next) => (req.path === "/login" ? next() : report("other")(req, res)));
  return r;
}
