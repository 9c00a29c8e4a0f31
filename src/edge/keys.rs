//! This isolate's assertion signer: the configured keys imported into the runtime's
//! WebCrypto once (on first use, then cached like the configuration), the header and the
//! JWKS body built once, and one `crypto.subtle.sign` per forwarded request, made by
//! `io::forward` on its way to the origin (so the request awaits one promise, not two).
//! HS256 stays synchronous in Rust under `ORIGIN_SECRET`.

use crate::core::assertion::{self, ClaimsRef};
use crate::core::config::{Config, ConfigError};
use crate::core::signing::{self, Algorithm, KeyMaterial};
use std::cell::RefCell;
use std::rc::Rc;
use worker::js_sys;
use worker::wasm_bindgen::{self, prelude::*};
use worker::wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/edge/keys.js")]
extern "C" {
    #[wasm_bindgen(js_name = importKeys)]
    fn import_keys_js(
        alg: &str,
        format: &str,
        data: &[u8],
        prev_alg: &str,
        prev_format: &str,
        prev_data: &[u8],
        prev_private: bool,
    ) -> js_sys::Promise;
}

/// Why no assertion could be made.
pub enum KeyFailure {
    /// The key could not be imported: reported like any configuration error.
    Config(ConfigError),
    /// HS256 had no secret: an internal error.
    Sign(String),
}

/// An `X-Session-Assertion`: signed (HS256, in Rust), or its signing input and the
/// WebCrypto signer that completes it (`io::Edits::set_signed`).
pub enum Assertion {
    Signed(String),
    Unsigned { signer: JsValue, input: String },
}

struct Imported {
    /// keys.js's `signer(input)` over the non-extractable signing `CryptoKey`.
    signer: JsValue,
    header_b64: String,
    jwks_json: String,
}

thread_local! {
    // Imported once per isolate: vars and secrets do not change while it lives.
    static IMPORTED: RefCell<Option<Result<Rc<Imported>, ConfigError>>> = const { RefCell::new(None) };
}

fn field(obj: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Imports the keys in WebCrypto (keys.js builds the JWKS and the kids there, so that
/// neither JSON nor hashing of keys adds to the Wasm).
async fn import_all(alg: Algorithm, current: &KeyMaterial, previous: Option<&KeyMaterial>) -> Result<Imported, ConfigError> {
    let (p_alg, p_format, p_data, p_private) = match previous {
        Some(p) => (p.algorithm.name(), p.encoded.format(), p.encoded.bytes(), p.private),
        None => ("", "", &[][..], false),
    };
    let call = import_keys_js(
        alg.name(),
        current.encoded.format(),
        current.encoded.bytes(),
        p_alg,
        p_format,
        p_data,
        p_private,
    );
    let obj = JsFuture::from(call).await.map_err(|e| {
        let is_previous = field(&e, "previous").as_bool().unwrap_or(false);
        let why = field(&e, "message").as_string().unwrap_or_default();
        signing::unusable_key(is_previous, alg, &why)
    })?;
    let text = |name| field(&obj, name).as_string().unwrap_or_default();
    let kid = text("kid");
    if text("previousKid") == kid {
        return Err(signing::same_key_error());
    }
    Ok(Imported {
        signer: field(&obj, "signer"),
        header_b64: signing::header_b64(alg, &kid),
        jwks_json: text("jwks"),
    })
}

/// The imported keys, importing them on this isolate's first call. `None` with HS256.
async fn imported(cfg: &Config) -> Option<Result<Rc<Imported>, ConfigError>> {
    let current = cfg.assertion.current.as_ref()?;
    if let Some(done) = IMPORTED.with(|c| c.borrow().clone()) {
        return Some(done);
    }
    // Two first requests may both import; the results are the same key.
    let result = import_all(cfg.assertion.alg, current, cfg.assertion.previous.as_ref())
        .await
        .map(Rc::new);
    if let Err(e) = &result {
        super::log::failure("config_error", &e.to_string());
    }
    IMPORTED.with(|c| *c.borrow_mut() = Some(result.clone()));
    Some(result)
}

/// The `X-Session-Assertion` for `claims`: signed now with HS256, left to WebCrypto
/// on the way out with ES256 and EdDSA.
pub async fn assertion(cfg: &Config, claims: ClaimsRef<'_>) -> Result<Assertion, KeyFailure> {
    let Some(keys) = imported(cfg).await else {
        let secret = cfg
            .origin_secret
            .as_ref()
            .ok_or_else(|| KeyFailure::Sign("HS256 without ORIGIN_SECRET".into()))?;
        return Ok(Assertion::Signed(assertion::sign(claims, secret.bytes())));
    };
    let keys = keys.map_err(KeyFailure::Config)?;
    Ok(Assertion::Unsigned {
        signer: keys.signer.clone(),
        input: assertion::signing_input(&keys.header_b64, claims),
    })
}

/// The body of `/.sessiongate/jwks.json`: `{"keys":[]}` with HS256.
pub async fn jwks_json(cfg: &Config) -> Result<String, ConfigError> {
    match imported(cfg).await {
        None => Ok(r#"{"keys":[]}"#.into()),
        Some(keys) => keys.map(|k| k.jwks_json.clone()),
    }
}
