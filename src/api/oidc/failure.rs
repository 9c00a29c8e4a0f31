//! A failed sign-in: no session, no session cookie; `401
//! {"error":"login_failed","reason":R,"detail":...}`, or for a browser navigation a small
//! page saying what went wrong with a "try again" link; an audit event `login_failed`.

use crate::core::audit::{AuditEvent, EventKind};
use crate::core::client::percent_encode_component;
use crate::edge::log;
use crate::edge::request::Incoming;
use crate::edge::respond;
use crate::platform;
use serde_json::json;
use worker::{Headers, Response, Result};

/// Why a sign-in failed: the `reason` of the answer and of the audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// The state is missing, unknown, used, expired, or not this browser's.
    State,
    /// The provider answered `error=...`.
    IdpError,
    /// The code could not be exchanged.
    TokenExchange,
    /// The ID token failed a check (the detail names it).
    IdToken,
    /// Step-up signed in another user than the session's.
    ReauthUserMismatch,
}

impl LoginFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginFailure::State => "state",
            LoginFailure::IdpError => "idp_error",
            LoginFailure::TokenExchange => "token_exchange",
            LoginFailure::IdToken => "id_token",
            LoginFailure::ReauthUserMismatch => "reauth_user_mismatch",
        }
    }

    fn sentence(self) -> &'static str {
        match self {
            LoginFailure::State => "This sign-in link has expired or was already used.",
            LoginFailure::IdpError => "The identity provider did not sign you in.",
            LoginFailure::TokenExchange => "The identity provider did not confirm the sign-in.",
            LoginFailure::IdToken => "The identity provider's answer did not pass the checks.",
            LoginFailure::ReauthUserMismatch => "You signed in as another user than the one of this session.",
        }
    }
}

/// Escapes text for HTML (the detail is already restricted, but never trusted here).
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The failure answer; `clear_flow`: the flow cookie's clearing `Set-Cookie`, if any.
pub fn failed(inc: &Incoming, why: LoginFailure, detail: &str, return_to: &str, clear_flow: Option<&str>) -> Result<Response> {
    log::untrusted_event(
        AuditEvent::new(platform::now(), EventKind::LoginFailed)
            .reason(why.as_str())
            .client(&inc.client.ip, &inc.client.ua),
    );
    log::failure("login_failed", &format!("{}: {detail}", why.as_str()));
    let resp = if inc.navigation {
        let again = format!("/.sessiongate/login?return_to={}", percent_encode_component(return_to));
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head>\
             <body><h1>Sign-in failed</h1><p>{}</p><p><small>{}: {}</small></p>\
             <p><a href=\"{}\">Try again</a></p></body></html>",
            why.sentence(),
            why.as_str(),
            html_escape(detail),
            html_escape(&again)
        );
        let h = Headers::new();
        h.set("content-type", "text/html; charset=utf-8")?;
        h.set("cache-control", "no-store")?;
        h.set("content-security-policy", "default-src 'none'")?;
        Response::builder().with_status(401).with_headers(h).fixed(page.into_bytes())
    } else {
        respond::json(401, &json!({"error": "login_failed", "reason": why.as_str(), "detail": detail}))?
    };
    if let Some(c) = clear_flow {
        resp.headers().append("set-cookie", c)?;
    }
    Ok(resp)
}
