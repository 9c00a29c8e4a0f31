// Test-only (tests/differential/, on with SESSIONGATE_DIFFERENTIAL=1, never by default):
// route handlers that report what Next.js dispatched, the handler, the method and the
// path, in an `X-Differential` response header (base64url JSON {h, m, p}; a header, so
// HEAD answers carry it too). Off, they answer 404 as if they were not there. With them
// on, proxy.js lets every request through unverified: the differential tier measures the
// gate's reading alone, and the kit knows nothing of SENSITIVE_PATHS anyway.
export const differentialOn = () => process.env.SESSIONGATE_DIFFERENTIAL === "1";

export function reportingHandlers(handler) {
  const report = (request) => {
    if (!differentialOn()) return Response.json({ error: "not_found" }, { status: 404 });
    const seen = { h: handler, m: request.method, p: request.nextUrl.pathname };
    return Response.json(seen, { headers: { "x-differential": Buffer.from(JSON.stringify(seen)).toString("base64url") } });
  };
  return { GET: report, HEAD: report, POST: report, PUT: report, PATCH: report, DELETE: report, OPTIONS: report };
}
