//! Endpoints for the signed-in user: status, refresh, logout, their sessions.

use crate::core::audit::EndedBy;
use crate::core::config::Config;
use crate::core::policy::SessionState;
use crate::gate::apply::{stamp, CookieChange};
use crate::gate::parse::Incoming;
use crate::gate::reject;
use crate::gate::store;
use crate::gate::validate::{validate, Live};
use crate::platform;
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use serde_json::{json, Value};
use worker::{Env, Response, Result};

fn reply(status: u16, body: &Value, cfg: &Config, live: Option<&Live>, cookie: &CookieChange) -> Result<Response> {
    let resp = reject::json(status, body)?;
    stamp(resp.headers(), cfg, live, cookie)?;
    Ok(resp)
}

fn status_body(l: &Live, cfg: &Config) -> Value {
    let now = platform::now();
    json!({
        "authenticated": true,
        "user": l.session.user,
        "session": l.session.handle,
        "idle_expires_at": l.expiry.idle_at,
        "absolute_expires_at": l.expiry.absolute_at,
        "elevated_until": l.session.elevated_until.filter(|u| *u > now),
        "warning": l.expiry.warning(now, cfg.warning_window).map(|w| w.as_str()),
        "warning_window": cfg.warning_window,
    })
}

/// A signed-in session, or the response that refuses the request.
async fn signed_in(env: &Env, cfg: &Config, inc: &Incoming, slide: bool) -> std::result::Result<(Live, CookieChange), Result<Response>> {
    let v = validate(env, cfg, inc, slide).await;
    let cookie = CookieChange::after(&v);
    match (v.state, v.live) {
        (SessionState::Authenticated { .. }, Some(l)) => Ok((l, cookie)),
        (SessionState::StoreDown, _) => Err(reply(503, &json!({"error": "store_unavailable"}), cfg, None, &cookie)),
        (SessionState::Absent(reason), _) => Err(reply(
            401,
            &json!({"error": "unauthenticated", "reason": reason.as_str()}),
            cfg,
            None,
            &cookie,
        )),
        (_, live) => Err(reply(
            401,
            &json!({"error": "unauthenticated", "reason": "missing"}),
            cfg,
            live.as_ref(),
            &cookie,
        )),
    }
}

/// Reading the status does not slide the idle timer.
pub async fn status(env: &Env, cfg: &Config, inc: &Incoming) -> Result<Response> {
    let v = validate(env, cfg, inc, false).await;
    let cookie = CookieChange::after(&v);
    match (v.state, v.live.as_ref()) {
        (SessionState::Authenticated { .. }, Some(l)) => reply(200, &status_body(l, cfg), cfg, Some(l), &cookie),
        (SessionState::StoreDown, _) => reply(503, &json!({"error": "store_unavailable"}), cfg, None, &cookie),
        (SessionState::Absent(reason), _) => reply(200, &json!({"authenticated": false, "reason": reason.as_str()}), cfg, None, &cookie),
        _ => reply(200, &json!({"authenticated": false}), cfg, v.live.as_ref(), &cookie),
    }
}

/// "Stay signed in": counts as activity.
pub async fn refresh(env: &Env, cfg: &Config, inc: &Incoming) -> Result<Response> {
    match signed_in(env, cfg, inc, true).await {
        Ok((l, cookie)) => reply(200, &status_body(&l, cfg), cfg, Some(&l), &cookie),
        Err(r) => r,
    }
}

pub async fn logout(env: &Env, cfg: &Config, inc: &Incoming) -> Result<Response> {
    let v = validate(env, cfg, inc, false).await;
    if matches!(v.state, SessionState::StoreDown) {
        return reply(503, &json!({"error": "store_unavailable"}), cfg, None, &CookieChange::Keep);
    }
    if let Some(l) = v.live {
        let msg = StoreRequest::Destroy {
            hash: l.hash.clone(),
            by: EndedBy::User,
            client: inc.client.clone(),
        };
        if store::call(env, &l.store_id, &msg, cfg.store_timeout_ms).await.is_err() {
            return reply(503, &json!({"error": "store_unavailable"}), cfg, None, &CookieChange::Keep);
        }
    }
    reply(200, &json!({"authenticated": false}), cfg, None, &CookieChange::Clear)
}

pub async fn list(env: &Env, cfg: &Config, inc: &Incoming) -> Result<Response> {
    let (l, cookie) = match signed_in(env, cfg, inc, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match store::call(
        env,
        &l.store_id,
        &StoreRequest::List {
            caller: Some(l.hash.clone()),
        },
        cfg.store_timeout_ms,
    )
    .await
    {
        Ok(StoreResponse::Sessions { sessions }) => reply(200, &json!({ "sessions": sessions }), cfg, Some(&l), &cookie),
        Ok(StoreResponse::Rejected { reason, .. }) => reply(
            401,
            &json!({"error": "unauthenticated", "reason": reason.as_str()}),
            cfg,
            None,
            &CookieChange::Clear,
        ),
        _ => reply(503, &json!({"error": "store_unavailable"}), cfg, None, &cookie),
    }
}

pub async fn revoke(env: &Env, cfg: &Config, inc: &Incoming, id: &str) -> Result<Response> {
    let (l, cookie) = match signed_in(env, cfg, inc, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !crate::core::token::is_handle(id) {
        return reply(404, &json!({"error": "not_found"}), cfg, Some(&l), &cookie);
    }
    let own = l.session.handle == id;
    let msg = StoreRequest::DestroyHandle {
        caller: Some(l.hash.clone()),
        handle: id.to_string(),
        by: EndedBy::User,
        client: inc.client.clone(),
    };
    match store::call(env, &l.store_id, &msg, cfg.store_timeout_ms).await {
        Ok(StoreResponse::Done { .. }) if own => reply(200, &json!({"revoked": 1}), cfg, None, &CookieChange::Clear),
        Ok(StoreResponse::Done { .. }) => reply(200, &json!({"revoked": 1}), cfg, Some(&l), &cookie),
        Ok(StoreResponse::NotFound) => reply(404, &json!({"error": "not_found"}), cfg, Some(&l), &cookie),
        Ok(StoreResponse::Rejected { reason, .. }) => reply(
            401,
            &json!({"error": "unauthenticated", "reason": reason.as_str()}),
            cfg,
            None,
            &CookieChange::Clear,
        ),
        _ => reply(503, &json!({"error": "store_unavailable"}), cfg, None, &cookie),
    }
}

pub async fn logout_everywhere(env: &Env, cfg: &Config, inc: &Incoming) -> Result<Response> {
    let (l, cookie) = match signed_in(env, cfg, inc, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let msg = StoreRequest::DestroyAll {
        caller: Some(l.hash.clone()),
        except: None,
        by: EndedBy::LogoutAll,
        client: inc.client.clone(),
    };
    match store::call(env, &l.store_id, &msg, cfg.store_timeout_ms).await {
        Ok(StoreResponse::Done { count, .. }) => reply(200, &json!({"revoked": count}), cfg, None, &CookieChange::Clear),
        Ok(StoreResponse::Rejected { reason, .. }) => reply(
            401,
            &json!({"error": "unauthenticated", "reason": reason.as_str()}),
            cfg,
            None,
            &CookieChange::Clear,
        ),
        _ => reply(503, &json!({"error": "store_unavailable"}), cfg, None, &cookie),
    }
}
