//! Step 4b: every answer the gate gives instead of forwarding.

use crate::core::config::ConfigError;
use crate::core::policy::Decision;
use serde_json::{json, Value};
use worker::{Headers, Response, Result};

pub fn json(status: u16, body: &Value) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(body.to_string().into_bytes()))
}

pub fn error(status: u16, error: &str) -> Result<Response> {
    json(status, &json!({ "error": error }))
}

pub fn error_detail(status: u16, error: &str, detail: &str) -> Result<Response> {
    json(status, &json!({ "error": error, "detail": detail }))
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
        Decision::Unauthenticated { reason } => json(401, &json!({"error": "unauthenticated", "reason": reason.as_str()})),
        Decision::Reauthenticate => error(403, "reauthentication_required"),
        Decision::StoreUnavailable => error(503, "store_unavailable"),
    }
}
