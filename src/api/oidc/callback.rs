//! `GET /.sessiongate/oidc/callback`: the provider's answer. The state is taken (single
//! use) and must belong to this browser's flow cookie; the code is exchanged with the
//! PKCE verifier; the ID token is verified; then the session starts exactly as the
//! `login` command starts one (or, for a step-up, is elevated exactly as `elevate`
//! does), and the browser goes back to `return_to`. Any failure creates no session.

use super::failure::{failed, LoginFailure};
use super::login::flow_cookie;
use super::{redirect_uri, unavailable};
use crate::core::config::Config;
use crate::core::cookie;
use crate::core::oidc::claims::{self, Mapped};
use crate::core::oidc::flow::{self, FlowRecord, FLOW_LIFETIME};
use crate::core::oidc::form;
use crate::core::oidc::id_token::{self, Expected, Identity};
use crate::core::oidc::settings::OidcSettings;
use crate::core::session::IdpLink;
use crate::edge::cookie::{stamp, CookieChange};
use crate::edge::idp::{self, Exchange, TokenFailure};
use crate::edge::request::Incoming;
use crate::edge::validate::{validate, Live, Validation};
use crate::edge::{kv, log, respond};
use crate::platform;
use crate::proxy::commands::{self, Applied, ApplyError, FromIdp, IdpLogin};
use crate::store::kv::{object_name, KvRequest, KvResponse};
use worker::{Env, Response, Result};

/// What a failed step answers with.
type Step<T> = std::result::Result<T, Result<Response>>;

/// The request's flow: its cookie, its record (taken: a second use finds nothing).
struct Flow {
    record: FlowRecord,
    clear: String,
}

fn store_down(e: impl std::fmt::Display) -> Result<Response> {
    log::failure("store_unavailable", &e.to_string());
    respond::store_unavailable()
}

async fn take_flow(env: &Env, cfg: &Config, inc: &Incoming, q: &[(String, String)]) -> Step<Flow> {
    let fail = |detail: &str, clear: Option<&str>| Err(failed(inc, LoginFailure::State, detail, "/", clear));
    let Some(state) = form::single(q, "state").filter(|s| !s.is_empty() && s.len() <= 128) else {
        return fail("no state", None);
    };
    let name = flow::cookie_name(state);
    let clear = flow_cookie(&name, "", 0);
    let binding = inc
        .cookie_header
        .as_deref()
        .and_then(|h| cookie::values(h, &name).next().map(str::to_string));
    let Some(binding) = binding else {
        return fail("no flow cookie for this state", None);
    };
    let take = KvRequest::Take { key: state.to_string() };
    let record = match kv::call(env, cfg, &object_name("flow", &[state]), &take).await {
        Ok(KvResponse::Value(Some(v))) => FlowRecord::decode(&v),
        Ok(_) => None,
        Err(e) => return Err(store_down(e)),
    };
    let Some(record) = record else {
        return fail("unknown, expired or already used state", Some(&clear));
    };
    if !record.bound_to(&binding) {
        return fail("the flow cookie does not match the state", Some(&clear));
    }
    if platform::now() > record.started_at + FLOW_LIFETIME {
        return fail("expired", Some(&clear));
    }
    Ok(Flow { record, clear })
}

pub async fn callback(env: &Env, cfg: &Config, s: &OidcSettings, inc: &Incoming) -> Result<Response> {
    let q = form::parse(&inc.query);
    let flow = match take_flow(env, cfg, inc, &q).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    match signed_in(env, cfg, s, inc, &q, &flow).await {
        Ok(resp) => Ok(resp),
        Err(r) => r,
    }
}

/// Everything after the state: provider answer, tokens, session.
async fn signed_in(env: &Env, cfg: &Config, s: &OidcSettings, inc: &Incoming, q: &[(String, String)], flow: &Flow) -> Step<Response> {
    let rec = &flow.record;
    let fail = |why: LoginFailure, detail: &str| Err(failed(inc, why, detail, &rec.return_to, Some(&flow.clear)));
    if let Some(e) = form::single(q, "error") {
        return fail(LoginFailure::IdpError, &form::short(e));
    }
    let d = idp::discovery(s).await.map_err(|e| unavailable(&e))?;
    // RFC 9207: a provider that says it sends `iss` must send its own.
    let iss = form::single(q, "iss");
    if (d.iss_parameter || iss.is_some()) && iss != Some(s.issuer.as_str()) {
        return fail(LoginFailure::State, "iss");
    }
    let Some(code) = form::single(q, "code").filter(|c| !c.is_empty()) else {
        return fail(LoginFailure::TokenExchange, "no code");
    };
    let (raw_id_token, access_token) = match idp::exchange(s, &d, code, &rec.verifier, &redirect_uri(inc)).await {
        Err(e) => return Err(unavailable(&e)),
        Ok(Exchange::Refused(why)) => return fail(LoginFailure::TokenExchange, &why),
        Ok(Exchange::Tokens { id_token, access_token }) => (id_token, access_token),
    };
    let jws = match idp::verify(&d, &raw_id_token).await {
        Ok(j) => j,
        Err(TokenFailure::Refused(e)) => return fail(LoginFailure::IdToken, &e.to_string()),
        Err(TokenFailure::Unavailable(e)) => return Err(unavailable(&e)),
    };
    let expected = Expected {
        issuer: &s.issuer,
        client_id: &s.client_id,
        nonce: &rec.nonce,
        now: platform::now(),
        authenticated_after: rec.reauth_user.as_ref().map(|_| rec.started_at),
    };
    let identity = match id_token::check(&jws.claims, &expected) {
        Ok(i) => i,
        Err(e) => return fail(LoginFailure::IdToken, &e.to_string()),
    };
    let mut all = jws.claims;
    if !claims::missing(&all, s).is_empty() {
        if let Some(at) = &access_token {
            match idp::userinfo(&d, at).await {
                Err(e) => return Err(unavailable(&e)),
                Ok(Some(info)) if id_token::text(&info, "sub") != Some(identity.sub.as_str()) => {
                    return fail(LoginFailure::IdToken, "userinfo_sub");
                }
                Ok(Some(info)) => claims::fill_from_userinfo(&mut all, info),
                Ok(None) => {}
            }
        }
    }
    let mapped = match claims::map(&all, s, &s.issuer, &identity.sub) {
        Ok(m) => m,
        Err(e) => return fail(LoginFailure::IdToken, &e.to_string()),
    };
    let v = validate(env, cfg, inc, false).await;
    if matches!(v, Validation::StoreDown) {
        return Err(respond::store_unavailable());
    }
    let cookie = CookieChange::after(&v);
    let live = v.into_live();
    let applied = match (&rec.reauth_user, live) {
        // Step-up of a live session: same user, then `elevate`'s own path.
        (Some(expected_user), Some(l)) if l.session.user.as_ref() == Some(expected_user) => {
            if &mapped.user != expected_user {
                return fail(LoginFailure::ReauthUserMismatch, "");
            }
            commands::elevate_from_idp(env, cfg, inc, l, cookie).await
        }
        (Some(_), Some(_)) => return fail(LoginFailure::ReauthUserMismatch, "the session changed"),
        // A plain sign-in, or a step-up whose session has ended meanwhile.
        (_, live) => start(env, cfg, s, inc, live, cookie, mapped, identity, raw_id_token).await?,
    };
    let applied = match applied {
        Ok(a) => a,
        Err(ApplyError::Invalid(_)) => return fail(LoginFailure::IdToken, "session_data"),
        Err(ApplyError::Store(e)) => return Err(store_down(e)),
    };
    back_to(cfg, &rec.return_to, &applied, &flow.clear).map_err(Err)
}

/// The new session: the provider indexes first (so that a logout token arriving at once
/// finds it), then the `login` command's path.
#[allow(clippy::too_many_arguments, reason = "the callback's whole state, passed once")]
async fn start(
    env: &Env,
    cfg: &Config,
    s: &OidcSettings,
    inc: &Incoming,
    live: Option<Live>,
    cookie: CookieChange,
    mapped: Mapped,
    identity: Identity,
    raw_id_token: String,
) -> Step<std::result::Result<Applied, ApplyError>> {
    let until = platform::now() + cfg.absolute_timeout;
    let mut writes = vec![(object_name("sub", &[&s.issuer, &identity.sub]), String::new())];
    if let Some(sid) = &identity.sid {
        writes.push((object_name("sid", &[&s.issuer, sid]), identity.sub.clone()));
    }
    for (name, value) in writes {
        let put = KvRequest::Put {
            key: mapped.user.clone(),
            value,
            until,
        };
        if let Err(e) = kv::call(env, cfg, &name, &put).await {
            return Err(store_down(e));
        }
    }
    let login = IdpLogin {
        user: mapped.user,
        roles: mapped.roles,
        data: mapped.data,
        idp: FromIdp {
            link: IdpLink {
                iss: s.issuer.clone(),
                sub: identity.sub,
                sid: identity.sid,
                id_token: raw_id_token,
            },
            auth_time: identity.auth_time,
        },
    };
    Ok(commands::login_from_idp(env, cfg, inc, live, cookie, login).await)
}

/// 302 to `return_to` with the session cookie, the flow cookie cleared.
fn back_to(cfg: &Config, return_to: &str, applied: &Applied, clear: &str) -> Result<Response> {
    let resp = respond::redirect(302, return_to)?;
    stamp(resp.headers(), cfg, applied.live.as_ref(), &applied.cookie)?;
    resp.headers().append("set-cookie", clear)?;
    Ok(resp)
}
