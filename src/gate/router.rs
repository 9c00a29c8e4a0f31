//! One request through the gate.

use super::apply::{self, ApplyError, CookieChange};
use super::forward::{self, OriginFailure};
use super::io::{self, BodyError};
use super::keys::KeyFailure;
use super::parse::{self, ParseError};
use super::reject;
use super::store;
use super::validate::{self, log_event, log_untrusted_event, Live, Validation};
use crate::api;
use crate::core::audit::AuditEvent;
use crate::core::command::{self, Command};
use crate::core::config::Config;
use crate::core::method;
use crate::core::policy::{self, Access, Decision};
use crate::platform;
use crate::store::protocol::Request as StoreRequest;
use serde_json::json;
use worker::{web_sys, Env, Request, Response, Result};

/// The hot path works on the runtime's own request and response objects through `io`;
/// only the gate's own endpoints and its error answers use the worker crate's types.
pub async fn handle(req: web_sys::Request, env: Env) -> Result<web_sys::Response> {
    let cfg = match platform::config(&env) {
        Ok(c) => c,
        Err(e) => return raw(reject::config_error(&e)),
    };
    let read = parse::read(&req);
    // TRACE echoes the request, gate-only headers included, back to the client.
    if read.method.eq_ignore_ascii_case("TRACE") || read.method.eq_ignore_ascii_case("TRACK") {
        return raw(reject::error(405, "method_not_allowed"));
    }
    if cfg.require_https {
        if let Some(u) = crate::core::url::split(&read.url).filter(|u| u.scheme == "http") {
            return raw(reject::redirect(308, &format!("https://{}{}{}", u.authority, u.path, u.query)));
        }
    }
    let mut inc = match parse::parse(read, &cfg) {
        Ok(i) => i,
        Err(ParseError::BadPath(e)) => return raw(reject::error_detail(400, "bad_request", &e.to_string())),
        Err(ParseError::BadUrl) => return raw(reject::error_detail(400, "bad_request", "unparseable URL")),
    };
    if !cfg.cookie_scope.covers_host(&inc.host) {
        // A cookie for COOKIE_DOMAIN set on this host would be dropped by the browser.
        return raw(reject::error_detail(
            421,
            "misdirected_request",
            "this host is not under COOKIE_DOMAIN",
        ));
    }
    let api_base = cfg.cookie_scope.api_base();
    if let Some(rest) = own_path(&inc.path, &api_base) {
        return raw(api::route(Request::from(req), &env, &cfg, &inc, rest).await);
    }
    if inc.readings.iter().any(|p| own_path(p, &api_base).is_some()) {
        // `/.sessiongate%2F...`: the gate's namespace under another reading; never forwarded.
        return raw(reject::error(404, "not_found"));
    }
    if inc.is_cross_site(&cfg) {
        return raw(cross_site(&inc, "cross_site_request"));
    }
    if let Some(kind) = inc.form_to_read(&cfg) {
        if let Err(resp) = read_form_methods(&req, &mut inc, kind).await {
            return raw(resp);
        }
    }
    proxy(req, &env, &cfg, inc).await
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

/// 403 `cross_site_request`, audited (flood-limited: anyone can send these).
fn cross_site(inc: &parse::Incoming, reason: &str) -> Result<Response> {
    let origin = inc.origin_header.as_deref().unwrap_or_default();
    log_untrusted_event(
        AuditEvent::new(platform::now(), "cross_site_request")
            .reason(format!("{reason} {origin}").trim_end().to_string())
            .client(&inc.client.ip, &inc.client.ua),
    );
    reject::error(403, "cross_site_request")
}

/// Adds the `_method`s of a URL-encoded body to the request's methods. The body is read
/// from a clone, bounded: what cannot be read whole cannot be classified, so is refused.
async fn read_form_methods(
    req: &web_sys::Request,
    inc: &mut parse::Incoming,
    kind: method::FormKind,
) -> std::result::Result<(), Result<Response>> {
    match io::read_body(req, method::FORM_READ_MAX).await {
        Ok(body) => {
            method::add_body_overrides(&mut inc.methods, kind, &body);
            Ok(())
        }
        Err(BodyError::TooLarge) => Err(reject::error_detail(
            413,
            "request_too_large",
            &format!(
                "a form body to this path is read for _method, and is longer than {} bytes",
                method::FORM_READ_MAX
            ),
        )),
        Err(BodyError::Unreadable(detail)) => {
            worker::console_error!("{}", json!({"sessiongate": "body_unreadable", "detail": detail}));
            Err(reject::error_detail(400, "bad_request", "the request body could not be read"))
        }
    }
}

/// Validate, decide, forward, apply the origin's command.
async fn proxy(req: web_sys::Request, env: &Env, cfg: &Config, inc: parse::Incoming) -> Result<web_sys::Response> {
    let access = inc.access(cfg);
    // STATIC_PATHS (public by configuration) skip the session object entirely.
    let is_static = access == Access::Public && cfg.static_paths.matches_all(&inc.readings);
    let v = if is_static {
        Validation::skipped()
    } else {
        validate::validate(env, cfg, &inc, true).await
    };
    let cookie = CookieChange::after(&v);
    let decision = policy::decide(cfg, access, v.state, inc.navigation, &inc.path_and_query());
    if decision != Decision::Forward {
        let resp = reject::decision(&decision)?;
        return raw(stamped(resp, cfg, v.live.as_ref(), &cookie));
    }

    let now = platform::now();
    let (url, aud) = forward::target(cfg, &inc);
    let edits = match forward::origin_edits(&inc, cfg, v.live.as_ref(), &url, &aud, now).await {
        Ok(edits) => edits,
        Err(KeyFailure::Config(e)) => return raw(reject::config_error(&e)),
        Err(KeyFailure::Sign(detail)) => return Err(worker::Error::RustError(detail)),
    };
    let resp = match forward::forward(&req, &url, &edits, cfg.origin_timeout_ms).await {
        Ok(r) => r,
        Err(failure) => return raw(stamped(origin_failed(cfg, failure)?, cfg, v.live.as_ref(), &cookie)),
    };
    let answer = io::read_response(&resp);
    let Some(raw_cmd) = &answer.command else {
        return Ok(apply::finish(resp, &answer, cfg, inc.https, v.live.as_ref(), &cookie));
    };
    if is_static {
        let detail = "commands are not applied on STATIC_PATHS, where no session is read";
        return raw(invalid_command(env, cfg, &inc, None, &cookie, detail).await);
    }
    let cmds = match command::parse(raw_cmd, cfg.session_data_max) {
        Ok(cmds) => cmds,
        Err(detail) => return raw(invalid_command(env, cfg, &inc, v.live.as_ref(), &cookie, &detail).await),
    };
    // Login CSRF: a cross-site form post carries no SameSite=Lax cookie, so the check
    // above let it through; it must not sign the browser in (as the attacker).
    if inc.is_cross_site_request(cfg) && cmds.iter().any(|c| matches!(c, Command::Login { .. } | Command::Elevate)) {
        return raw(cross_site(&inc, "login_command_refused"));
    }
    match apply::apply(env, cfg, &inc, cmds, v.live.clone(), cookie.clone()).await {
        Ok(applied) => Ok(apply::finish(resp, &answer, cfg, inc.https, applied.live.as_ref(), &applied.cookie)),
        Err(ApplyError::Invalid(detail)) => raw(invalid_command(env, cfg, &inc, v.live.as_ref(), &cookie, &detail).await),
        Err(ApplyError::Store(e)) => {
            worker::console_error!("{}", json!({"sessiongate": "store_unavailable", "detail": e.to_string()}));
            raw(stamped(reject::error(503, "store_unavailable")?, cfg, v.live.as_ref(), &cookie))
        }
    }
}

/// 504 when the origin is late, 502 when it cannot be reached.
fn origin_failed(cfg: &Config, failure: OriginFailure) -> Result<Response> {
    match failure {
        OriginFailure::Timeout => reject::error_detail(
            504,
            "origin_timeout",
            &format!("the origin did not answer within {} ms", cfg.origin_timeout_ms),
        ),
        OriginFailure::Unreachable(detail) => {
            worker::console_error!("{}", json!({"sessiongate": "origin_unreachable", "detail": detail}));
            reject::error_detail(502, "origin_unreachable", "the origin could not be reached")
        }
    }
}

/// The runtime's response for one the gate built with the worker crate.
fn raw(resp: Result<Response>) -> Result<web_sys::Response> {
    resp.map(web_sys::Response::from)
}

fn stamped(resp: Response, cfg: &Config, live: Option<&Live>, cookie: &CookieChange) -> Result<Response> {
    apply::stamp(resp.headers(), cfg, live, cookie)?;
    Ok(resp)
}

/// 502 `invalid_origin_command`: nothing of the command was applied; audit it.
async fn invalid_command(
    env: &Env,
    cfg: &Config,
    inc: &parse::Incoming,
    live: Option<&Live>,
    cookie: &CookieChange,
    detail: &str,
) -> Result<Response> {
    let detail: String = detail.chars().take(300).collect();
    let mut e = AuditEvent::new(platform::now(), "invalid_origin_command")
        .reason(detail.clone())
        .client(&inc.client.ip, &inc.client.ua);
    if let Some(l) = live {
        e.user = l.session.user.clone();
        e.session = Some(l.session.handle.clone());
        // The object stores the event and writes its log line.
        if store::call(env, &l.store_id, &StoreRequest::Record { event: e.clone() }, cfg.store_timeout_ms)
            .await
            .is_err()
        {
            log_event(&e);
        }
    } else {
        log_event(&e);
    }
    let resp = reject::error_detail(502, "invalid_origin_command", &detail)?;
    stamped(resp, cfg, live, cookie)
}
