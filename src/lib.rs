//! sessiongate: a Cloudflare Worker that validates server-side sessions at the edge
//! and forwards only validated requests to the origin.
//!
//! - `core`: pure logic (tokens, cookies, paths, config, policy, assertion, commands).
//! - `store`: the session store's protocol, rules engine and `Store` trait.
//! - `entry` (Wasm only): the one entry; the checks every request gets, then `api` or `proxy`.
//! - `proxy` (Wasm only): classify, validate, decide, forward, apply the origin's command.
//! - `api` (Wasm only): the gate's own endpoints under `/.sessiongate/`.
//! - `edge` (Wasm only): what `proxy` and `api` share (request, validation, new IDs, the
//!   cookie, answers, the session-object client, the log).
//! - `objects` (Wasm only): the session Durable Object.
//!
//! The Wasm is built twice: feature `gate` (the default) is the Worker on the request
//! path (`entry`, `proxy`, `api`, `edge`); feature `store` is the Worker that holds the
//! `SessionStore` class (`objects`), bound by the gate with `script_name`. The pure
//! modules (`core`, `store`) are in both and in native builds.

#![forbid(unsafe_code)]
#![warn(clippy::all)]

pub mod core;
pub mod store;

#[cfg(test)]
mod proptest_cases;

/// The `sessiongate-scan` command-line scanner (host only).
#[cfg(not(target_arch = "wasm32"))]
pub mod scan;

#[cfg(all(target_arch = "wasm32", feature = "gate"))]
mod api;
#[cfg(all(target_arch = "wasm32", feature = "gate"))]
mod edge;
#[cfg(all(target_arch = "wasm32", feature = "gate"))]
mod entry;
#[cfg(all(target_arch = "wasm32", feature = "store"))]
mod objects;
#[cfg(target_arch = "wasm32")]
mod platform;
#[cfg(all(target_arch = "wasm32", feature = "gate"))]
mod proxy;

/// For Rust origins: verify the `X-Session-Assertion` header.
/// `verify` takes the gate's JWK Set (`Jwks::parse` of `/.sessiongate/jwks.json`), one
/// public `Jwk`, or the HS256 secret's bytes.
pub use crate::core::assertion::{verify, verify_data, AssertionError, Claims, VerifyKey};
pub use crate::core::jwk::{Jwk, Jwks};

#[cfg(all(target_arch = "wasm32", feature = "gate"))]
#[worker::event(fetch)]
async fn fetch(req: worker::web_sys::Request, env: worker::Env, _ctx: worker::Context) -> worker::Result<worker::web_sys::Response> {
    match entry::handle(req, env).await {
        Ok(resp) => Ok(resp),
        Err(e) => {
            // Fail closed: nothing was forwarded on this path.
            edge::log::failure("internal_error", &e.to_string());
            edge::respond::raw(edge::respond::error(500, "internal"))
        }
    }
}
