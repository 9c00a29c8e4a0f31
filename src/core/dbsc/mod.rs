//! Device Bound Session Credentials (W3C webappsec-dbsc) at the edge: the pure parts.
//! The browser keeps a private key it cannot export; the gate stores the public half with
//! the session and issues a short-lived device cookie that only a proof signed by that
//! key renews. Signatures are checked in the runtime's WebCrypto (`edge::dbsc`), never
//! here: everything in this module is parsing, HMAC and bookkeeping.
//!
//! - `settings`: `DEVICE_BINDING`, `DEVICE_PROOF_INTERVAL`.
//! - `challenge`: the challenges (`jti`) the gate issues, stateless and HMAC-tagged.
//! - `proof`: the `Secure-Session-Response` JWT's header and payload checks.
//! - `jwk`: the public key a registration brings (EC P-256 or RSA >= 2048).
//! - `binding`: what the session record keeps (the key, the challenges spent).
//! - `device_cookie`: the short-lived cookie checked on every request (HMAC, no lookup).
//! - `wire`: the headers and JSON bodies a browser reads.

pub mod binding;
pub mod challenge;
pub mod device_cookie;
pub mod jwk;
pub mod proof;
pub mod settings;
pub mod wire;

/// HMAC-SHA-256 under `key` over `parts`, each after the one before (one function for
/// the challenges and the device cookie: a copy less in the Wasm).
fn mac(key: &[u8], parts: &[&[u8]]) -> crate::core::keyed_mac::HmacSha256 {
    use hmac::Mac;
    let mut m = crate::core::keyed_mac::keyed(key, b"");
    for p in parts {
        m.update(p);
    }
    m
}

/// The paths under the gate's namespace (`/.sessiongate`, or `COOKIE_PATH`'s).
pub const REGISTER_PATH: &str = "dbsc/register";
/// See `REGISTER_PATH`.
pub const REFRESH_PATH: &str = "dbsc/refresh";
