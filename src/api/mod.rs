//! The gate's own endpoints under `/.sessiongate/`: answered here, never forwarded.

mod admin;
mod jwks;
mod user;

use crate::core::audit::AuditEvent;
use crate::core::config::Config;
use crate::gate::apply::{stamp, CookieChange};
use crate::gate::parse::Incoming;
use crate::gate::reject;
use crate::gate::validate::log_untrusted_event;
use crate::gate::validate::validate;
use crate::platform;
use worker::{Env, Headers, Request, Response, Result};

const CLIENT_JS: &str = include_str!("client.js");

/// `rest`: the path after the gate's namespace (`status`, `sessions/<id>`, ...).
pub async fn route(req: Request, env: &Env, cfg: &Config, inc: &Incoming, rest: &str) -> Result<Response> {
    let resp = dispatch(req, env, cfg, inc, rest).await?;
    // Answers that did not look at the session still tell a signed-in client how long
    // it has left (every response to a request with a valid session carries it).
    let unvalidated = matches!(resp.status_code(), 403..=405) || rest == "client.js";
    if unvalidated && inc.session_cookie.is_present() && !resp.headers().has("x-session-expires-in")? {
        let v = validate(env, cfg, inc, false).await;
        if let Some(l) = v.live.as_ref().filter(|l| l.session.user.is_some()) {
            stamp(resp.headers(), cfg, Some(l), &CookieChange::Keep)?;
        }
    }
    Ok(resp)
}

async fn dispatch(req: Request, env: &Env, cfg: &Config, inc: &Incoming, rest: &str) -> Result<Response> {
    // Public keys: readable from anywhere, before the cross-site check.
    if (inc.method(), rest) == ("GET", "jwks.json") {
        return jwks::answer(cfg).await;
    }
    if inc.is_cross_site(cfg) {
        log_untrusted_event(
            AuditEvent::new(platform::now(), "cross_site_request")
                .reason(inc.origin_header.clone().unwrap_or_default())
                .client(&inc.client.ip, &inc.client.ua),
        );
        return reject::error(403, "cross_site_request");
    }
    let segments: Vec<&str> = if rest.is_empty() { vec![] } else { rest.split('/').collect() };
    match (inc.method(), segments.as_slice()) {
        ("GET", ["client.js"]) => {
            let h = Headers::new();
            h.set("content-type", "application/javascript; charset=utf-8")?;
            h.set("cache-control", "public, max-age=300")?;
            h.set("x-content-type-options", "nosniff")?;
            // LOGIN_URL as a JSON string body (quotes stripped), so it cannot break out of the literal.
            let login = serde_json::Value::String(cfg.login_url.clone()).to_string();
            let inner = login.strip_prefix('"').and_then(|l| l.strip_suffix('"')).unwrap_or("/login");
            // The endpoints' base, where the cookie's Path lets it reach them.
            let js = CLIENT_JS
                .replace("/*LOGIN_URL*/", inner)
                .replace("/*API_BASE*/", &cfg.cookie_scope.api_base());
            Ok(Response::builder().with_headers(h).fixed(js.into_bytes()))
        }
        ("GET", ["status"]) => user::status(env, cfg, inc).await,
        ("POST", ["refresh"]) => user::refresh(env, cfg, inc).await,
        ("POST", ["logout"]) => user::logout(env, cfg, inc).await,
        ("GET", ["sessions"]) => user::list(env, cfg, inc).await,
        ("DELETE", ["sessions"]) => user::logout_everywhere(env, cfg, inc).await,
        ("DELETE", ["sessions", id]) => user::revoke(env, cfg, inc, id).await,
        (_, ["admin", ..]) => admin::route(&req, env, cfg, inc, &segments[1..]).await,
        (_, ["status" | "refresh" | "logout" | "sessions" | "client.js" | "jwks.json", ..]) => reject::error(405, "method_not_allowed"),
        _ => reject::error(404, "not_found"),
    }
}
