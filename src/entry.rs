//! The one entry: the checks every request gets, each written once (configuration,
//! TRACE, the HTTPS redirect, reading the request, the host under COOKIE_DOMAIN, the
//! gate's own namespace, the cross-site check), then the gate's own endpoints (`api`)
//! or the proxy flow (`proxy`).

use crate::edge::request::{self, ParseError};
use crate::edge::respond::{self, raw};
use crate::{api, platform, proxy};
use worker::{web_sys, Env, Request, Result};

/// The hot path works on the runtime's own request and response objects through `io`;
/// only the gate's own endpoints and its error answers use the worker crate's types.
pub async fn handle(req: web_sys::Request, env: Env) -> Result<web_sys::Response> {
    let cfg = match platform::config(&env) {
        Ok(c) => c,
        Err(e) => return raw(respond::config_error(&e)),
    };
    let read = request::read(&req);
    // TRACE echoes the request, gate-only headers included, back to the client.
    if read.method.eq_ignore_ascii_case("TRACE") || read.method.eq_ignore_ascii_case("TRACK") {
        return raw(respond::error(405, "method_not_allowed"));
    }
    if cfg.require_https {
        if let Some(u) = crate::core::url::split(&read.url).filter(|u| u.scheme == "http") {
            return raw(respond::redirect(308, &format!("https://{}{}{}", u.authority, u.path, u.query)));
        }
    }
    let inc = match request::parse(read, &cfg) {
        Ok(i) => i,
        Err(ParseError::BadPath(e)) => return raw(respond::error_detail(400, "bad_request", &e.to_string())),
        Err(ParseError::BadUrl) => return raw(respond::error_detail(400, "bad_request", "unparseable URL")),
    };
    if !cfg.cookie_scope.covers_host(&inc.host) {
        // A cookie for COOKIE_DOMAIN set on this host would be dropped by the browser.
        return raw(respond::error_detail(
            421,
            "misdirected_request",
            "this host is not under COOKIE_DOMAIN",
        ));
    }
    let refusal = inc.is_cross_site(&cfg).then(|| respond::cross_site(&inc, "cross_site_request"));
    let api_base = cfg.cookie_scope.api_base();
    if let Some(rest) = own_path(&inc.path, api_base) {
        return raw(api::route(Request::from(req), &env, &cfg, &inc, rest, refusal).await);
    }
    if inc.readings.iter().any(|p| own_path(p, api_base).is_some()) {
        // `/.sessiongate%2F...`: the gate's namespace under another reading; never forwarded.
        return raw(respond::error(404, "not_found"));
    }
    if let Some(r) = refusal {
        return raw(r);
    }
    proxy::run(req, &env, &cfg, inc).await
}

/// The part of `path` after the gate's namespace (`/.sessiongate`, and `api_base` when
/// COOKIE_PATH moves it), or `None` for a path to forward.
fn own_path<'a>(path: &'a str, api_base: &str) -> Option<&'a str> {
    ["/.sessiongate", api_base]
        .into_iter()
        .find_map(|base| match path.strip_prefix(base) {
            Some("") => Some(""),
            Some(rest) => rest.strip_prefix('/'),
            None => None,
        })
}
