//! Endpoints for the signed-in user: status, refresh, logout, their sessions.

use crate::core::audit::EndedBy;
use crate::core::config::Config;
use crate::core::cookie::SessionCookie;
use crate::core::session::{IdpLink, Reason, Session};
use crate::core::token;
use crate::edge::cookie::{stamp, CookieChange};
use crate::edge::ending;
use crate::edge::request::Incoming;
use crate::edge::respond;
use crate::edge::session_object;
use crate::edge::validate::{validate, Live, Validation};
use crate::platform;
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use crate::store::StoreError;
use serde_json::{json, Value};
use worker::{Env, Response, Result};

/// A response with the cookie change and, for a live session, its expiry headers.
fn stamped(resp: Result<Response>, cfg: &Config, live: Option<&Live>, cookie: &CookieChange) -> Result<Response> {
    let resp = resp?;
    stamp(resp.headers(), cfg, live, cookie)?;
    Ok(resp)
}

fn reply(status: u16, body: &Value, cfg: &Config, live: Option<&Live>, cookie: &CookieChange) -> Result<Response> {
    stamped(respond::json(status, body), cfg, live, cookie)
}

/// 503 with the cookie change validation asked for.
fn store_down(cfg: &Config, cookie: &CookieChange) -> Result<Response> {
    stamped(respond::store_unavailable(), cfg, None, cookie)
}

/// 401 for a session the store refused: its cookie is cleared.
fn refused(cfg: &Config, reason: Reason) -> Result<Response> {
    stamped(respond::unauthenticated(reason), cfg, None, &CookieChange::Clear)
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
    match v {
        Validation::Valid { live, .. } if live.session.user.is_some() => Ok((live, cookie)),
        // A guest session carries a cart, not an identity.
        Validation::Valid { live, .. } => Err(stamped(respond::unauthenticated(Reason::Missing), cfg, Some(&live), &cookie)),
        Validation::StoreDown => Err(store_down(cfg, &cookie)),
        Validation::Invalid(reason) => Err(stamped(respond::unauthenticated(reason), cfg, None, &cookie)),
        Validation::NoCookie => Err(stamped(respond::unauthenticated(Reason::Missing), cfg, None, &cookie)),
    }
}

/// Reading the status does not slide the idle timer.
pub async fn status(env: &Env, cfg: &Config, inc: &Incoming) -> Result<Response> {
    let v = validate(env, cfg, inc, false).await;
    let cookie = CookieChange::after(&v);
    match &v {
        Validation::Valid { live, .. } if live.session.user.is_some() => reply(200, &status_body(live, cfg), cfg, Some(live), &cookie),
        Validation::Valid { live, .. } => reply(200, &json!({"authenticated": false}), cfg, Some(live), &cookie),
        Validation::StoreDown => store_down(cfg, &cookie),
        Validation::Invalid(reason) => reply(200, &json!({"authenticated": false, "reason": reason.as_str()}), cfg, None, &cookie),
        Validation::NoCookie => reply(200, &json!({"authenticated": false, "reason": "missing"}), cfg, None, &cookie),
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
    if let SessionCookie::Several(values) = &inc.session_cookie {
        return logout_each(env, cfg, inc, values).await;
    }
    let mut ended = None;
    match validate(env, cfg, inc, false).await {
        Validation::StoreDown => return store_down(cfg, &CookieChange::Keep),
        Validation::Valid { live, .. } => match destroy(env, cfg, inc, &live.store_id, live.hash.clone()).await {
            Ok(s) => ended = s,
            Err(_) => return store_down(cfg, &CookieChange::Keep),
        },
        Validation::Invalid(_) | Validation::NoCookie => {}
    }
    logged_out(cfg, inc, ended.and_then(|s| s.idp)).await
}

/// The logout answer; for a session signed in at the edge, RP-initiated logout at the
/// provider too: `end_session_url` in the JSON, or a 303 there for a browser form post.
/// (A session the origin started has no ID token to hint with, and nothing to end there.)
async fn logged_out(cfg: &Config, inc: &Incoming, link: Option<IdpLink>) -> Result<Response> {
    let url = match (&cfg.oidc, &link) {
        (Some(s), Some(_)) => {
            // Boxed as `dyn`: the provider call stays out of the logout's state machine.
            let fut: std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>> + '_>> =
                Box::pin(super::oidc::end_session_url(s, inc, link.as_ref()));
            fut.await
        }
        _ => None,
    };
    match url {
        Some(u) if inc.navigation => stamped(respond::redirect(303, &u), cfg, None, &CookieChange::Clear),
        Some(u) => reply(
            200,
            &json!({"authenticated": false, "end_session_url": u}),
            cfg,
            None,
            &CookieChange::Clear,
        ),
        None => reply(200, &json!({"authenticated": false}), cfg, None, &CookieChange::Clear),
    }
}

/// `Cookie: s=<valid>; s=junk`: validation trusts neither value, but a logout that
/// answered 200 while `<valid>` lives would lie, so every value signed by us is ended.
async fn logout_each(env: &Env, cfg: &Config, inc: &Incoming, values: &[String]) -> Result<Response> {
    let mut link = None;
    for t in values.iter().filter_map(|raw| token::verify_keyed(raw, cfg.token_macs()).ok()) {
        match destroy(env, cfg, inc, &t.store_id, t.storage_hash()).await {
            Ok(s) => link = link.or(s.and_then(|s| s.idp)),
            Err(_) => return store_down(cfg, &CookieChange::Keep),
        }
    }
    logged_out(cfg, inc, link).await
}

/// Ends one session by its storage hash (a dead or unknown one is already ended) and
/// hands it back when it was live.
async fn destroy(
    env: &Env,
    cfg: &Config,
    inc: &Incoming,
    store_id: &[u8; 32],
    hash: String,
) -> std::result::Result<Option<Session>, StoreError> {
    let msg = StoreRequest::Destroy {
        hash,
        by: EndedBy::User,
        client: inc.client.clone(),
    };
    match ending::end(env, cfg, store_id, &msg).await? {
        Some(StoreResponse::Done { session, .. }) => Ok(session),
        _ => Ok(None),
    }
}

pub async fn list(env: &Env, cfg: &Config, inc: &Incoming) -> Result<Response> {
    let (l, cookie) = match signed_in(env, cfg, inc, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let msg = StoreRequest::List {
        caller: Some(l.hash.clone()),
    };
    match session_object::call(env, cfg, &l.store_id, &msg).await {
        Ok(StoreResponse::Sessions { sessions }) => reply(200, &json!({ "sessions": sessions }), cfg, Some(&l), &cookie),
        Ok(StoreResponse::Rejected { reason, .. }) => refused(cfg, reason),
        _ => store_down(cfg, &cookie),
    }
}

pub async fn revoke(env: &Env, cfg: &Config, inc: &Incoming, id: &str) -> Result<Response> {
    let (l, cookie) = match signed_in(env, cfg, inc, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !token::is_handle(id) {
        return stamped(respond::error(404, "not_found"), cfg, Some(&l), &cookie);
    }
    let own = l.session.handle == id;
    let msg = StoreRequest::DestroyHandle {
        caller: Some(l.hash.clone()),
        handle: id.to_string(),
        by: EndedBy::User,
        client: inc.client.clone(),
    };
    match session_object::call(env, cfg, &l.store_id, &msg).await {
        Ok(StoreResponse::Done { .. }) if own => reply(200, &json!({"revoked": 1}), cfg, None, &CookieChange::Clear),
        Ok(StoreResponse::Done { .. }) => reply(200, &json!({"revoked": 1}), cfg, Some(&l), &cookie),
        Ok(StoreResponse::NotFound) => stamped(respond::error(404, "not_found"), cfg, Some(&l), &cookie),
        Ok(StoreResponse::Rejected { reason, .. }) => refused(cfg, reason),
        _ => store_down(cfg, &cookie),
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
    match session_object::call(env, cfg, &l.store_id, &msg).await {
        Ok(StoreResponse::Done { count, .. }) => reply(200, &json!({"revoked": count}), cfg, None, &CookieChange::Clear),
        Ok(StoreResponse::Rejected { reason, .. }) => refused(cfg, reason),
        _ => store_down(cfg, &cookie),
    }
}
