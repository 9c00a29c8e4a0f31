//! Device Bound Session Credentials on the request path: the registration offer on a
//! response that sets a new session cookie, the device cookie checked on every request to
//! a bound session (an HMAC, no storage access), the device cookie set and cleared, and
//! the proof's signature checked in WebCrypto (`dbsc.js`).

use super::io::Edits;
use super::log;
use super::validate::Live;
use crate::core::config::Config;
use crate::core::cookie;
use crate::core::dbsc::challenge::{self, Purpose};
use crate::core::dbsc::device_cookie;
use crate::core::dbsc::jwk::DeviceAlg;
use crate::core::dbsc::wire;
use crate::core::session::Session;
use crate::platform;
use worker::js_sys;
use worker::wasm_bindgen::{self, prelude::*};
use worker::wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/edge/dbsc.js")]
extern "C" {
    #[wasm_bindgen(js_name = verifyProof)]
    fn verify_proof_js(alg: &str, jwk: &str, input: &str, signature: &str) -> js_sys::Promise;
}

/// Whether `signature` is `alg`'s signature by `jwk` over `input`.
pub async fn signature_ok(alg: DeviceAlg, jwk: &str, input: &str, signature: &str) -> bool {
    JsFuture::from(verify_proof_js(alg.as_str(), jwk, input, signature))
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// A new challenge issued to the session ID whose storage hash is `hash`.
pub fn new_challenge(cfg: &Config, purpose: Purpose, hash: &str) -> worker::Result<String> {
    let nonce = platform::random::<16>()?;
    Ok(challenge::issue(cfg.session_secret.bytes(), purpose, hash, &nonce, platform::now()))
}

/// `Secure-Session-Registration` on a response that sets `live`'s new cookie: a signed-in
/// session, over HTTPS (the session's last request was not plain HTTP), not bound yet.
pub fn offer(out: &mut Edits, cfg: &Config, live: &Live) {
    let s = &live.session;
    if !cfg.device.enabled || s.user.is_none() || s.via_http || s.is_device_bound() {
        return;
    }
    match new_challenge(cfg, Purpose::Register, &live.hash) {
        Ok(c) => out.set(wire::REGISTRATION_HEADER, &wire::registration(cfg.cookie_scope.api_base(), &c)),
        // No offer: the session stays as secure as without DBSC.
        Err(e) => log::failure("csprng_unavailable", &e.to_string()),
    }
}

/// Whether the request may act as `session`: unbound, or its device cookie is good.
pub fn proven(cfg: &Config, cookie_header: Option<&str>, session: &Session, now: u64) -> bool {
    if !cfg.device.enabled || !session.is_device_bound() {
        return true;
    }
    let values = cookie::values(cookie_header.unwrap_or(""), &cfg.device.cookie_name);
    device_cookie::verify_any(values, cfg.device_macs(), &session.handle, now).is_ok()
}

/// `Set-Cookie` of a device cookie for the session `handle`, good for the interval.
pub fn set_cookie(cfg: &Config, handle: &str, now: u64) -> String {
    let value = device_cookie::mint(cfg.session_secret.bytes(), handle, now, cfg.device.proof_interval);
    cookie::set(
        &cfg.device.cookie_name,
        &cfg.cookie_scope,
        &value,
        cfg.cookie_samesite,
        Some(cfg.device.proof_interval),
    )
}

/// `Set-Cookie` that removes the device cookie.
pub fn clear_cookie(cfg: &Config) -> String {
    cookie::clear(&cfg.device.cookie_name, &cfg.cookie_scope, cfg.cookie_samesite)
}
