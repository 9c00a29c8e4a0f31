//! The proxy flow for everything that is not the gate's own endpoint: classify, validate,
//! decide (`core::policy`), forward (`forward`) or refuse, then apply the origin's
//! command (`commands`) and finish its response (`finish`).

pub(crate) mod commands;
mod connection;
mod finish;
mod forward;

use crate::core::audit::{AuditEvent, EventKind};
use crate::core::command::{self, Command};
use crate::core::config::Config;
use crate::core::method;
use crate::core::policy::{self, Access, Decision, SessionState};
use crate::edge::cookie::{stamp, CookieChange};
use crate::edge::io::{self, BodyError, ForwardError, RawResponse};
use crate::edge::keys::KeyFailure;
use crate::edge::log;
use crate::edge::request::Incoming;
use crate::edge::respond::{self, raw};
use crate::edge::session_object;
use crate::edge::validate::{self, Live, Validation};
use crate::platform;
use crate::store::protocol::Request as StoreRequest;
use commands::ApplyError;
use worker::{web_sys, Env, Response, Result};

/// One proxied request.
pub async fn run(req: web_sys::Request, env: &Env, cfg: &Config, mut inc: Incoming) -> Result<web_sys::Response> {
    let mut access = inc.access(cfg);
    // STATIC_PATHS (public by configuration) skip the session object entirely.
    let is_static = access == Access::Public && cfg.static_paths.matches_all(&inc.readings);
    let slides = policy::counts_as_activity(cfg, inc.method(), &inc.readings);
    let v = if is_static {
        Validation::NoCookie
    } else {
        validate::validate(env, cfg, &inc, slides).await
    };
    let cookie = CookieChange::after(&v);
    let now = platform::now();
    let mut decision = policy::decide(cfg, access, v.state(now), inc.navigation, &inc.path_and_query());
    // The body is read only when its `_method` could turn this forward into a refusal.
    if decision == Decision::Forward && body_may_matter(cfg, &inc, access, &v, now) {
        if let Err(own) = read_body_methods(&req, &mut inc).await {
            return raw(own.and_then(|r| stamped(r, cfg, v.live(), &cookie)));
        }
        access = inc.access(cfg);
        decision = policy::decide(cfg, access, v.state(now), inc.navigation, &inc.path_and_query());
    }
    if decision != Decision::Forward {
        return raw(stamped(respond::decision(&decision)?, cfg, v.live(), &cookie));
    }
    let live = v.into_live();
    let (url, aud) = forward::target(cfg, &inc);
    let edits = match forward::origin_edits(&inc, cfg, live.as_ref(), &url, &aud, platform::now()).await {
        Ok(edits) => edits,
        // A key that cannot be imported is a configuration error; nothing is forwarded.
        Err(KeyFailure::Config(e)) => return raw(respond::config_error(&e)),
        Err(KeyFailure::Sign(detail)) => return Err(worker::Error::RustError(detail)),
    };
    let resp = match io::forward(&req, &url, &edits, cfg.origin_timeout_ms).await {
        Ok(r) => r,
        Err(failure) => return raw(stamped(origin_failed(cfg, failure)?, cfg, live.as_ref(), &cookie)),
    };
    if inc.websocket && resp.status() == 101 {
        return connection::websocket(env, cfg, &resp, live.as_ref(), &cookie, slides).await;
    }
    let answer = io::read_response(&resp);
    let Some(raw_cmd) = answer.command.clone() else {
        let done = finish::finish(resp, &answer, cfg, inc.https, live.as_ref(), &cookie);
        return connection::stream(env, cfg, done, live.as_ref(), answer.content_type.as_deref()).await;
    };
    if is_static {
        let detail = "commands are not applied on STATIC_PATHS, where no session is read";
        return raw(invalid_command(env, cfg, &inc, None, &cookie, detail).await);
    }
    let origin = Origin { resp, answer, raw_cmd };
    raw_or(apply_command(env, cfg, &inc, origin, live, cookie).await)
}

/// The origin's response that carries a command.
struct Origin {
    resp: web_sys::Response,
    answer: RawResponse,
    raw_cmd: String,
}

/// Parses and applies the command, then finishes the origin's response; any refusal is
/// the gate's own answer instead.
async fn apply_command(
    env: &Env,
    cfg: &Config,
    inc: &Incoming,
    o: Origin,
    live: Option<Live>,
    cookie: CookieChange,
) -> std::result::Result<web_sys::Response, Result<Response>> {
    let cmds = match command::parse(&o.raw_cmd, cfg.session_data_max) {
        Ok(cmds) => cmds,
        Err(detail) => return Err(invalid_command(env, cfg, inc, live.as_ref(), &cookie, &detail).await),
    };
    // Login CSRF: a cross-site form post carries no SameSite=Lax cookie, so the entry's
    // check let it through; it must not sign the browser in (as the attacker).
    if inc.is_cross_site_request(cfg) && cmds.iter().any(|c| matches!(c, Command::Login { .. } | Command::Elevate)) {
        return Err(respond::cross_site(inc, "login_command_refused"));
    }
    match commands::apply(env, cfg, inc, cmds, live.clone(), cookie.clone()).await {
        Ok(done) => Ok(finish::finish(o.resp, &o.answer, cfg, inc.https, done.live.as_ref(), &done.cookie)),
        Err(ApplyError::Invalid(detail)) => Err(invalid_command(env, cfg, inc, live.as_ref(), &cookie, &detail).await),
        Err(ApplyError::Store(e)) => {
            log::failure("store_unavailable", &e.to_string());
            Err(respond::store_unavailable().and_then(|r| stamped(r, cfg, live.as_ref(), &cookie)))
        }
    }
}

fn raw_or(r: std::result::Result<web_sys::Response, Result<Response>>) -> Result<web_sys::Response> {
    match r {
        Ok(resp) => Ok(resp),
        Err(own) => raw(own),
    }
}

/// Whether the body's `_method` could change the decision to forward: see
/// `Incoming::body_may_matter`; an elevated session passes a sensitive path anyway.
fn body_may_matter(cfg: &Config, inc: &Incoming, access: Access, v: &Validation, now: u64) -> bool {
    let elevated = matches!(v.state(now), SessionState::Authenticated { elevated: true });
    !elevated && inc.body_may_matter(cfg, access)
}

/// Adds the `_method`s of the body, whatever its type, to the request's methods. The
/// body is read from a clone, bounded: what cannot be read whole cannot be classified,
/// so is refused rather than forwarded.
async fn read_body_methods(req: &web_sys::Request, inc: &mut Incoming) -> std::result::Result<(), Result<Response>> {
    match io::read_body(req, method::BODY_READ_MAX).await {
        Ok(body) => {
            method::body::add_body_overrides(&mut inc.methods, &body);
            Ok(())
        }
        Err(BodyError::TooLarge) => Err(respond::error_detail(
            413,
            "request_too_large",
            &format!(
                "a POST body to this path is read for _method, and is longer than {} bytes",
                method::BODY_READ_MAX
            ),
        )),
        Err(BodyError::Encoded) => Err(respond::error_detail(
            415,
            "unsupported_content_encoding",
            "a POST body to this path is read for _method, and cannot be read under a Content-Encoding",
        )),
        Err(BodyError::Unreadable(detail)) => {
            log::failure("body_unreadable", &detail);
            Err(respond::error_detail(400, "bad_request", "the request body could not be read"))
        }
    }
}

/// 504 when the origin is late, 502 when it cannot be reached.
fn origin_failed(cfg: &Config, failure: ForwardError) -> Result<Response> {
    match failure {
        ForwardError::Timeout => respond::error_detail(
            504,
            "origin_timeout",
            &format!("the origin did not answer within {} ms", cfg.origin_timeout_ms),
        ),
        ForwardError::Failed(detail) => {
            log::failure("origin_unreachable", &detail);
            respond::error_detail(502, "origin_unreachable", "the origin could not be reached")
        }
        // As when the assertion cannot be made before forwarding: nothing was sent.
        ForwardError::Unsigned => Err(worker::Error::RustError("WebCrypto could not sign the assertion".into())),
    }
}

fn stamped(resp: Response, cfg: &Config, live: Option<&Live>, cookie: &CookieChange) -> Result<Response> {
    stamp(resp.headers(), cfg, live, cookie)?;
    Ok(resp)
}

/// 502 `invalid_origin_command`: nothing of the command was applied; audit it.
async fn invalid_command(
    env: &Env,
    cfg: &Config,
    inc: &Incoming,
    live: Option<&Live>,
    cookie: &CookieChange,
    detail: &str,
) -> Result<Response> {
    let detail: String = detail.chars().take(300).collect();
    let mut e = AuditEvent::new(platform::now(), EventKind::InvalidOriginCommand)
        .reason(detail.clone())
        .client(&inc.client.ip, &inc.client.ua);
    match live {
        Some(l) => {
            e.user = l.session.user.clone();
            e.session = Some(l.session.handle.clone());
            // The object stores the event and writes its log line.
            let record = StoreRequest::Record { event: e.clone() };
            if session_object::call(env, cfg, &l.store_id, &record).await.is_err() {
                log::event(&e);
            }
        }
        None => log::event(&e),
    }
    stamped(respond::error_detail(502, "invalid_origin_command", &detail)?, cfg, live, cookie)
}
