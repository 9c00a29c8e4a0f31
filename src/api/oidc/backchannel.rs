//! `POST /.sessiongate/oidc/backchannel-logout` (OIDC Back-Channel Logout 1.0): the
//! provider's servers, with a form-encoded `logout_token`. The token is verified (§2.6),
//! its `jti` claimed once, then every session it names ends: by `sid` (with `sub` too,
//! only that user's), or by `sub` alone, every session of that user from this issuer.
//! Sessions are found through the indexes the callback writes (`oidc-sid`, `oidc-sub`),
//! so a token carrying only a `sid` works whatever `OIDC_USER_CLAIM` is.

use super::unavailable;
use crate::core::audit::EndedBy;
use crate::core::config::Config;
use crate::core::oidc::form;
use crate::core::oidc::logout_token::{self, LogoutRequest};
use crate::core::oidc::settings::OidcSettings;
use crate::edge::idp::{self, TokenFailure};
use crate::edge::io::{self, BodyError};
use crate::edge::request::Incoming;
use crate::edge::{ending, kv, log, respond, session_object};
use crate::platform;
use crate::store::kv::{object_name, KvRequest, KvResponse};
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use crate::store::StoreError;
use serde_json::json;
use worker::{Request, Response, Result};

/// The largest body read.
const MAX_BODY: usize = 64 * 1024;

fn invalid(detail: &str) -> Result<Response> {
    log::failure("invalid_logout_token", detail);
    respond::error_detail(400, "invalid_logout_token", detail)
}

fn store_down(e: StoreError) -> Result<Response> {
    log::failure("store_unavailable", &e.to_string());
    respond::store_unavailable()
}

pub async fn backchannel(req: Request, env: &worker::Env, cfg: &Config, s: &OidcSettings, inc: &Incoming) -> Result<Response> {
    let is_form = inc
        .content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return invalid("not a form post");
    }
    // Bounded while reading: a chunked body declares no length.
    let body = match io::take_body(req.inner(), MAX_BODY).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return invalid("body too large"),
        Err(BodyError::Encoded) => return invalid("a Content-Encoding is not read"),
        Err(BodyError::Unreadable(_)) => return invalid("body unreadable"),
    };
    let pairs = form::parse(&body);
    let Some(token) = form::single(&pairs, "logout_token") else {
        return invalid("no logout_token");
    };
    let d = match idp::discovery(s).await {
        Ok(d) => d,
        Err(e) => return unavailable(&e),
    };
    let jws = match idp::verify(&d, token).await {
        Ok(j) => j,
        Err(TokenFailure::Refused(e)) => return invalid(&e.to_string()),
        Err(TokenFailure::Unavailable(e)) => return unavailable(&e),
    };
    let lr = match logout_token::check(jws.typ.as_deref(), &jws.claims, &s.issuer, &s.client_id, platform::now()) {
        Ok(r) => r,
        Err(e) => return invalid(&e.to_string()),
    };
    let claim = KvRequest::Claim {
        key: lr.jti.clone(),
        until: lr.replay_until,
    };
    let jtis = object_name("jti", &[&s.issuer]);
    match kv::call(env, cfg, &jtis, &claim).await {
        Ok(KvResponse::Claimed(true)) => {}
        Ok(_) => return invalid(&logout_token::LogoutTokenError::Replayed.to_string()),
        Err(e) => return store_down(e),
    }
    match end_named(env, cfg, s, inc, &lr).await {
        Ok(count) => respond::json(200, &json!({ "ended": count })),
        Err(e) => {
            // Not done: the provider's retry of this token must not be taken for a replay.
            let _ = kv::call(env, cfg, &jtis, &KvRequest::Take { key: lr.jti.clone() }).await;
            store_down(e)
        }
    }
}

/// The users whose sessions the token names, from the indexes.
async fn users(env: &worker::Env, cfg: &Config, s: &OidcSettings, lr: &LogoutRequest) -> std::result::Result<Vec<String>, StoreError> {
    let (name, want_sub) = match (&lr.sid, &lr.sub) {
        (Some(sid), sub) => (object_name("sid", &[&s.issuer, sid]), sub.as_deref()),
        (None, Some(sub)) => (object_name("sub", &[&s.issuer, sub]), None),
        (None, None) => return Ok(vec![]),
    };
    match kv::call(env, cfg, &name, &KvRequest::All).await? {
        KvResponse::Values(rows) => Ok(rows
            .into_iter()
            .filter(|(_, sub)| want_sub.is_none_or(|w| w == sub))
            .map(|(user, _)| user)
            .collect()),
        other => Err(StoreError::Unexpected(format!("kv answered {other:?}"))),
    }
}

/// Ends the named sessions in each user's object; the number ended.
async fn end_named(
    env: &worker::Env,
    cfg: &Config,
    s: &OidcSettings,
    inc: &Incoming,
    lr: &LogoutRequest,
) -> std::result::Result<u32, StoreError> {
    let mut count = 0;
    for user in users(env, cfg, s, lr).await? {
        let msg = StoreRequest::DestroyIdp {
            iss: s.issuer.clone(),
            sub: lr.sub.clone(),
            sid: lr.sid.clone(),
            by: EndedBy::BackchannelLogout,
            client: inc.client.clone(),
        };
        let store_id = session_object::user_store(env, &user)?;
        if let Some(StoreResponse::Done { count: n, .. }) = ending::end(env, cfg, &store_id, &msg).await? {
            count += n;
        }
    }
    Ok(count)
}
