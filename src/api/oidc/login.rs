//! `GET /.sessiongate/login?return_to=<path>[&reauth=1]`: a new sign-in attempt, its
//! record stored under the state (single use), the browser bound to it with a flow
//! cookie, and a 302 to the provider.

use super::{redirect_uri, unavailable};
use crate::core::config::Config;
use crate::core::oidc::flow::{self, FlowRecord, FlowSecrets, FLOW_LIFETIME};
use crate::core::oidc::form;
use crate::core::oidc::settings::OidcSettings;
use crate::edge::request::Incoming;
use crate::edge::validate::validate;
use crate::edge::{idp, kv, log, respond};
use crate::platform;
use crate::store::kv::{object_name, KvRequest};
use worker::{Env, Response, Result};

/// The flow cookie: `__Host-`, HttpOnly, Secure, SameSite=Lax (it must come back on the
/// provider's top-level redirect to the callback), Path=/, ten minutes.
pub fn flow_cookie(name: &str, value: &str, max_age: u64) -> String {
    format!("{name}={value}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Lax")
}

pub async fn login(env: &Env, cfg: &Config, s: &OidcSettings, inc: &Incoming) -> Result<Response> {
    let q = form::parse(&inc.query);
    let return_to = flow::safe_return_to(form::single(&q, "return_to"));
    let reauth = form::single(&q, "reauth") == Some("1");
    let d = match idp::discovery(s).await {
        Ok(d) => d,
        Err(e) => return unavailable(&e),
    };
    // Step-up: the session's user must be the one who authenticates again.
    let reauth_user = match reauth {
        true => validate(env, cfg, inc, false).await.into_live().and_then(|l| l.session.user),
        false => None,
    };
    let f = FlowSecrets::from_random(&platform::random::<128>()?);
    let now = platform::now();
    let record = FlowRecord {
        nonce: f.nonce.clone(),
        verifier: f.verifier.clone(),
        binding_hash: flow::sha256_b64(&f.binding),
        return_to,
        reauth_user,
        started_at: now,
    };
    let put = KvRequest::Put {
        key: f.state.clone(),
        value: record.encode(),
        until: now + FLOW_LIFETIME,
    };
    if let Err(e) = kv::call(env, cfg, &object_name("flow", &[&f.state]), &put).await {
        log::failure("store_unavailable", &e.to_string());
        return respond::store_unavailable();
    }
    let location = flow::authorization_url(&d, s, &redirect_uri(inc), &f, reauth);
    let resp = respond::redirect(302, &location)?;
    for old in flow::flows_to_clear(inc.cookie_header.as_deref()) {
        resp.headers().append("set-cookie", &flow_cookie(&old, "", 0))?;
    }
    resp.headers()
        .append("set-cookie", &flow_cookie(&flow::cookie_name(&f.state), &f.binding, FLOW_LIFETIME))?;
    Ok(resp)
}
