//! Calls to the session Durable Objects, with a deadline: a store that errors or hangs
//! is reported as down, and the caller fails closed.

use super::io::StoreCallError;
use crate::core::config::Config;
use crate::core::token;
use crate::platform::STORE_BINDING;
use crate::store::call_url;
use crate::store::policy::{Policy, POLICY_HEADER};
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use crate::store::StoreError;
use std::cell::OnceCell;
use worker::wasm_bindgen::JsValue;
use worker::{js_sys, Env, Stub};

thread_local! {
    // Made once per isolate, like the configuration they come from.
    static CALL_PREFIX: OnceCell<JsValue> = const { OnceCell::new() };
    static POLICY_HEADERS: OnceCell<JsValue> = const { OnceCell::new() };
}

/// Every session call carries the gate's `Policy`, which the object (a Worker of its own,
/// with no configuration) applies and keeps for its alarms. In the call's URL
/// (`call_url::prefix`, which each call completes with its message): a JS string made
/// once, so a call copies no policy text across the Wasm boundary.
fn call_prefix(cfg: &Config) -> JsValue {
    CALL_PREFIX.with(|cell| {
        cell.get_or_init(|| call_url::prefix(&Policy::from_config(cfg).to_wire()).into())
            .clone()
    })
}

/// `{POLICY_HEADER: <policy>}`, for the live connections' calls (`edge::live`), which
/// keep the header form: they go with a WebSocket upgrade or a relayed stream, once per
/// connection, not per request.
pub fn policy_headers(cfg: &Config) -> JsValue {
    POLICY_HEADERS.with(|cell| {
        cell.get_or_init(|| {
            let headers = js_sys::Object::new();
            let wire = JsValue::from(Policy::from_config(cfg).to_wire());
            // Setting a string property on a fresh plain object cannot fail.
            let _ = js_sys::Reflect::set(&headers, &POLICY_HEADER.into(), &wire);
            headers.into()
        })
        .clone()
    })
}

fn down(e: impl std::fmt::Display) -> StoreError {
    StoreError::backend(e)
}

/// Store id (hex) of a user's object: all of a user's sessions live together.
pub fn user_store(env: &Env, user: &str) -> Result<[u8; 32], StoreError> {
    let ns = env.durable_object(STORE_BINDING).map_err(down)?;
    let id = ns.id_from_name(&format!("user:{user}")).map_err(down)?;
    token::unhex32(&id.to_string()).ok_or_else(|| down("unexpected object id format"))
}

/// A fresh object for an anonymous (guest) session.
pub fn guest_store(env: &Env) -> Result<[u8; 32], StoreError> {
    let ns = env.durable_object(STORE_BINDING).map_err(down)?;
    let id = ns.unique_id().map_err(down)?;
    token::unhex32(&id.to_string()).ok_or_else(|| down("unexpected object id format"))
}

/// The stub of a session object; `Ok(None)` when the id is not one of this namespace's
/// (a token signed with our key but minted by another deployment): invalid, not down.
pub fn stub(env: &Env, store_id: &[u8; 32]) -> Result<Option<Stub>, StoreError> {
    let ns = env.durable_object(STORE_BINDING).map_err(down)?;
    match ns.id_from_string(&token::hex(store_id)) {
        Ok(id) => id.get_stub().map(Some).map_err(down),
        Err(_) => Ok(None),
    }
}

/// One session call within STORE_TIMEOUT, with the gate's policy; an id that is not one
/// of this namespace's is reported as the store being down (see `ask` for callers that
/// treat it as invalid).
pub async fn call(env: &Env, cfg: &Config, store_id: &[u8; 32], msg: &StoreRequest) -> Result<StoreResponse, StoreError> {
    ask(env, cfg, store_id, msg)
        .await?
        .ok_or_else(|| down("not an object id of this namespace"))
}

/// One session call within STORE_TIMEOUT, with the gate's policy; `Ok(None)` when the id
/// is not one of this namespace's (a token signed with our key but minted by another
/// deployment): invalid, not down.
pub async fn ask(env: &Env, cfg: &Config, store_id: &[u8; 32], msg: &StoreRequest) -> Result<Option<StoreResponse>, StoreError> {
    let body = serde_json::to_string(msg).map_err(|e| StoreError::encode("store request", e))?;
    // The stub, the call and its deadline are made in JS (io.js): a timer and a body read
    // driven from Wasm cost several times as much, on every validated request.
    let reply = match super::io::store_call(env, store_id, &call_prefix(cfg), &body, cfg.store_timeout_ms).await {
        Ok(reply) => reply,
        Err(StoreCallError::Foreign) => return Ok(None),
        Err(StoreCallError::Failed(e)) => return Err(StoreError::Unavailable(e)),
    };
    serde_json::from_slice::<StoreResponse>(&reply)
        .map(Some)
        .map_err(|e| StoreError::decode("store reply", e))
}

/// Rows written by one object (benchmark only; admin API).
pub async fn stats(env: &Env, store_id: &[u8; 32]) -> Result<serde_json::Value, StoreError> {
    let ns = env.durable_object(STORE_BINDING).map_err(down)?;
    let stub = ns.id_from_string(&token::hex(store_id)).map_err(down)?.get_stub().map_err(down)?;
    let mut resp = stub.fetch_with_str(crate::store::protocol::STATS_URL).await.map_err(down)?;
    resp.json().await.map_err(down)
}
