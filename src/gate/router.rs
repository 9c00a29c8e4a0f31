//! One request through the gate.

use super::apply::{self, ApplyError, CookieChange};
use super::forward::{self, OriginFailure};
use super::io;
use super::parse::{self, ParseError};
use super::reject;
use super::store;
use super::validate::{self, log_event, log_untrusted_event, Live};
use crate::api;
use crate::core::audit::{AuditEvent, EventKind};
use crate::core::command;
use crate::core::policy::{self, Decision};
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
    let read = io::read_request(&req, parse::READ);
    if cfg.require_https {
        if let Some(u) = crate::core::url::split(&read.url).filter(|u| u.scheme == "http") {
            return raw(reject::redirect(308, &format!("https://{}{}{}", u.authority, u.path, u.query)));
        }
    }
    let inc = match parse::parse(read, &cfg) {
        Ok(i) => i,
        Err(ParseError::BadPath(e)) => return raw(reject::error_detail(400, "bad_request", &e.to_string())),
        Err(ParseError::BadUrl) => return raw(reject::error_detail(400, "bad_request", "unparseable URL")),
    };
    let own = |p: &str| p == "/.sessiongate" || p.starts_with("/.sessiongate/");
    if own(&inc.path) {
        return raw(api::route(Request::from(req), &env, &cfg, &inc).await);
    }
    if inc.readings.iter().any(|p| own(p)) {
        // `/.sessiongate%2F...`: the gate's namespace under another reading; never forwarded.
        return raw(reject::error(404, "not_found"));
    }
    if inc.is_cross_site(&cfg) {
        log_untrusted_event(
            AuditEvent::new(platform::now(), EventKind::CrossSiteRequest)
                .reason(inc.origin_header.clone().unwrap_or_default())
                .client(&inc.client.ip, &inc.client.ua),
        );
        return raw(reject::error(403, "cross_site_request"));
    }

    let access = inc.access(&cfg);
    let v = validate::validate(&env, &cfg, &inc, true).await;
    let mut cookie = CookieChange::after(&v);
    let decision = policy::decide(&cfg, access, v.state, inc.navigation, &inc.path_and_query());
    if decision != Decision::Forward {
        let resp = reject::decision(&decision)?;
        return raw(stamped(resp, &cfg, v.live.as_ref(), &cookie));
    }

    let now = platform::now();
    let (url, aud) = forward::target(&cfg, &inc);
    let edits = forward::origin_edits(&inc, &cfg, v.live.as_ref(), &url, &aud, now);
    let resp = match forward::forward(&req, &url, &edits, cfg.origin_timeout_ms).await {
        Ok(r) => r,
        Err(OriginFailure::Timeout) => {
            let r = reject::error_detail(
                504,
                "origin_timeout",
                &format!("the origin did not answer within {} ms", cfg.origin_timeout_ms),
            )?;
            return raw(stamped(r, &cfg, v.live.as_ref(), &cookie));
        }
        Err(OriginFailure::Unreachable(detail)) => {
            worker::console_error!("{}", json!({"sessiongate": "origin_unreachable", "detail": detail}));
            let r = reject::error_detail(502, "origin_unreachable", "the origin could not be reached")?;
            return raw(stamped(r, &cfg, v.live.as_ref(), &cookie));
        }
    };

    let answer = io::read_response(&resp);
    let mut live = v.live;
    if let Some(raw_cmd) = &answer.command {
        let parsed = command::parse(raw_cmd, cfg.session_data_max);
        let result = match parsed {
            Ok(cmds) => apply::apply(&env, &cfg, &inc, cmds, live.clone(), cookie.clone()).await,
            Err(detail) => Err(ApplyError::Invalid(detail)),
        };
        match result {
            Ok(applied) => {
                live = applied.live;
                cookie = applied.cookie;
            }
            Err(ApplyError::Invalid(detail)) => return raw(invalid_command(&env, &cfg, &inc, live.as_ref(), &cookie, &detail).await),
            Err(ApplyError::Store(e)) => {
                worker::console_error!("{}", json!({"sessiongate": "store_unavailable", "detail": e.to_string()}));
                return raw(stamped(reject::error(503, "store_unavailable")?, &cfg, live.as_ref(), &cookie));
            }
        }
    }
    Ok(apply::finish(resp, &answer, &cfg, inc.https, live.as_ref(), &cookie))
}

/// The runtime's response for one the gate built with the worker crate.
fn raw(resp: Result<Response>) -> Result<web_sys::Response> {
    resp.map(web_sys::Response::from)
}

fn stamped(resp: Response, cfg: &crate::core::config::Config, live: Option<&Live>, cookie: &CookieChange) -> Result<Response> {
    apply::stamp(resp.headers(), cfg, live, cookie)?;
    Ok(resp)
}

/// 502 `invalid_origin_command`: nothing of the command was applied; audit it.
async fn invalid_command(
    env: &Env,
    cfg: &crate::core::config::Config,
    inc: &parse::Incoming,
    live: Option<&Live>,
    cookie: &CookieChange,
    detail: &str,
) -> Result<Response> {
    let detail: String = detail.chars().take(300).collect();
    let mut e = AuditEvent::new(platform::now(), EventKind::InvalidOriginCommand)
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
