//! The gate's own endpoints under `/.sessiongate/`: answered here, never forwarded.

mod admin;
mod dbsc;
mod jwks;
mod oidc;
mod user;

use crate::core::config::Config;
use crate::edge::cookie::{stamp, CookieChange};
use crate::edge::request::Incoming;
use crate::edge::respond;
use crate::edge::validate::validate;
use worker::{Env, Headers, Request, Response, Result};

const CLIENT_JS: &str = include_str!("client.js");

/// An endpoint's answer, and whether it looked at the session (and so stamped its
/// expiry headers itself).
enum Answer {
    Stamped(Response),
    /// 404, 405, client.js, a cross-site refusal: the session was not read.
    Unstamped(Response),
}

/// `rest`: the path after the gate's namespace (`status`, `sessions/<id>`, ...);
/// `refusal`: the entry's cross-site refusal, answered here so that it is stamped too.
pub async fn route(
    req: Request,
    env: &Env,
    cfg: &Config,
    inc: &Incoming,
    rest: &str,
    refusal: Option<Result<Response>>,
) -> Result<Response> {
    // The provider's servers post logout tokens: no cookie, no browser, no Origin to check.
    let refusal = refusal.filter(|_| rest != "oidc/backchannel-logout");
    let answer = match refusal {
        Some(r) => Answer::Unstamped(r?),
        None => dispatch(req, env, cfg, inc, rest).await?,
    };
    match answer {
        Answer::Stamped(resp) => Ok(resp),
        // Every response to a request with a valid session says how long it has left.
        Answer::Unstamped(resp) if inc.session_cookie.is_present() => {
            let v = validate(env, cfg, inc, false).await;
            if let Some(l) = v.live().filter(|l| l.session.user.is_some()) {
                stamp(resp.headers(), cfg, Some(l), &CookieChange::Keep)?;
            }
            Ok(resp)
        }
        Answer::Unstamped(resp) => Ok(resp),
    }
}

/// Runs an edge sign-in endpoint with its settings (the caller checked they are there).
async fn with_oidc<'a, F, Fut>(cfg: &'a Config, f: F) -> Result<Answer>
where
    F: FnOnce(&'a crate::core::oidc::settings::OidcSettings) -> Fut,
    Fut: std::future::Future<Output = Result<Response>> + 'a,
{
    match cfg.oidc.as_ref() {
        // Boxed as `dyn`: the sign-in endpoints stay out of the hot path's state machine
        // (each `await` of a concrete future is inlined into its caller's).
        Some(s) => {
            let fut: std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response>> + 'a>> = Box::pin(f(s));
            fut.await.map(Answer::Stamped)
        }
        None => respond::error(404, "not_found").map(Answer::Unstamped),
    }
}

/// An endpoint off the hot path, boxed as `dyn`: its state machine stays out of the
/// request's (each `await` of a concrete future is inlined into its caller's).
fn boxed<'a>(
    f: impl std::future::Future<Output = Result<Response>> + 'a,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response>> + 'a>> {
    Box::pin(f)
}

async fn dispatch(req: Request, env: &Env, cfg: &Config, inc: &Incoming, rest: &str) -> Result<Answer> {
    let segments: Vec<&str> = if rest.is_empty() { vec![] } else { rest.split('/').collect() };
    match (inc.method(), segments.as_slice()) {
        ("GET", ["client.js"]) => {
            let h = Headers::new();
            h.set("content-type", "application/javascript; charset=utf-8")?;
            h.set("cache-control", "public, max-age=300")?;
            h.set("x-content-type-options", "nosniff")?;
            // LOGIN_URL as a JSON string body (quotes stripped), so it cannot break out of the literal.
            let login = crate::core::json::text(&serde_json::Value::String(cfg.login_url.clone()));
            let inner = login.strip_prefix('"').and_then(|l| l.strip_suffix('"')).unwrap_or("/login");
            // The endpoints' base, where the cookie's Path lets it reach them.
            let js = CLIENT_JS
                .replace("/*LOGIN_URL*/", inner)
                .replace("/*API_BASE*/", cfg.cookie_scope.api_base());
            Ok(Answer::Unstamped(Response::builder().with_headers(h).fixed(js.into_bytes())))
        }
        ("GET", ["status"]) => user::status(env, cfg, inc).await.map(Answer::Stamped),
        ("POST", ["refresh"]) => user::refresh(env, cfg, inc).await.map(Answer::Stamped),
        ("POST", ["logout"]) => user::logout(env, cfg, inc).await.map(Answer::Stamped),
        ("GET", ["sessions"]) => user::list(env, cfg, inc).await.map(Answer::Stamped),
        ("DELETE", ["sessions"]) => user::logout_everywhere(env, cfg, inc).await.map(Answer::Stamped),
        ("DELETE", ["sessions", id]) => user::revoke(env, cfg, inc, id).await.map(Answer::Stamped),
        // Edge sign-in: stamped by the endpoints themselves (their own cookie changes).
        ("GET", ["login"]) if cfg.oidc.is_some() => with_oidc(cfg, |s| oidc::login(env, cfg, s, inc)).await,
        ("GET", ["oidc", "callback"]) if cfg.oidc.is_some() => with_oidc(cfg, |s| oidc::callback(env, cfg, s, inc)).await,
        ("POST", ["oidc", "backchannel-logout"]) if cfg.oidc.is_some() => {
            with_oidc(cfg, |s| oidc::backchannel(req, env, cfg, s, inc)).await
        }
        (_, ["login"] | ["oidc", "callback" | "backchannel-logout"]) if cfg.oidc.is_some() => {
            respond::error(405, "method_not_allowed").map(Answer::Unstamped)
        }
        // Device-bound sessions: the browser's own requests, stamped by the endpoints.
        ("POST", ["dbsc", "register"]) if cfg.device.enabled => boxed(dbsc::register(&req, env, cfg, inc)).await.map(Answer::Stamped),
        ("POST", ["dbsc", "refresh"]) if cfg.device.enabled => boxed(dbsc::refresh(&req, env, cfg, inc)).await.map(Answer::Stamped),
        (_, ["dbsc", "register" | "refresh"]) if cfg.device.enabled => respond::error(405, "method_not_allowed").map(Answer::Unstamped),
        // Public keys and bearer-token calls: no session involved, none looked up.
        ("GET", ["jwks.json"]) => jwks::answer(cfg).await.map(Answer::Stamped),
        (_, ["admin", ..]) => admin::route(&req, env, cfg, inc, &segments[1..]).await.map(Answer::Stamped),
        (_, ["status" | "refresh" | "logout" | "sessions" | "client.js" | "jwks.json", ..]) => {
            respond::error(405, "method_not_allowed").map(Answer::Unstamped)
        }
        _ => respond::error(404, "not_found").map(Answer::Unstamped),
    }
}
