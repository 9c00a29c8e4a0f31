//! The gate's own answers: JSON bodies (successes of `/.sessiongate/` and every error),
//! redirects, and the refusal for each policy decision. Error bodies are built here
//! only, so their shape is written once.

use super::log;
use super::request::Incoming;
use crate::core::audit::{AuditEvent, EventKind};
use crate::core::config::ConfigError;
use crate::core::policy::Decision;
use crate::core::session::Reason;
use crate::platform;
use serde_json::{json, Value};
use worker::{web_sys, Headers, Response, Result};

/// The runtime's response for one the gate built with the worker crate.
pub fn raw(resp: Result<Response>) -> Result<web_sys::Response> {
    resp.map(web_sys::Response::from)
}

/// 403 `cross_site_request`, audited (flood-limited: anyone can send these).
pub fn cross_site(inc: &Incoming, reason: &str) -> Result<Response> {
    let origin = inc.origin_header.as_deref().unwrap_or_default();
    log::untrusted_event(
        AuditEvent::new(platform::now(), EventKind::CrossSiteRequest)
            .reason(format!("{reason} {origin}").trim_end().to_string())
            .client(&inc.client.ip, &inc.client.ua),
    );
    error(403, "cross_site_request")
}

pub fn json(status: u16, body: &Value) -> Result<Response> {
    json_text(status, crate::core::json::text(body))
}

/// A JSON body already written (the DBSC answers, `core::dbsc::wire`), not to be cached.
pub fn json_text(status: u16, body: String) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(body.into_bytes()))
}

pub fn error(status: u16, error: &str) -> Result<Response> {
    json(status, &json!({ "error": error }))
}

pub fn error_detail(status: u16, error: &str, detail: &str) -> Result<Response> {
    json(status, &json!({ "error": error, "detail": detail }))
}

/// 401 `{"error":"unauthenticated","reason":...}`.
pub fn unauthenticated(reason: Reason) -> Result<Response> {
    json(401, &json!({"error": "unauthenticated", "reason": reason.as_str()}))
}

/// 503 `{"error":"store_unavailable"}`: fail closed when the session store fails.
pub fn store_unavailable() -> Result<Response> {
    error(503, "store_unavailable")
}

pub fn redirect(status: u16, location: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("location", location)?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::builder().with_status(status).with_headers(headers).empty())
}

/// 500 `{"error":"config","detail":...}`: names the variable and the accepted form.
pub fn config_error(e: &ConfigError) -> Result<Response> {
    error_detail(500, "config", &e.to_string())
}

pub fn decision(d: &Decision) -> Result<Response> {
    match d {
        Decision::Forward => error(500, "internal"),
        Decision::Login { location } => redirect(302, location),
        Decision::Unauthenticated { reason } => unauthenticated(*reason),
        Decision::Reauthenticate => error(403, "reauthentication_required"),
        Decision::StoreUnavailable => store_unavailable(),
    }
}
