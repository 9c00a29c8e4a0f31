//! The OpenID provider as the gate sees it: discovery and JWKS fetched on first use and
//! cached per isolate (`Cache-Control`, at most an hour; an unknown `kid` refetches the
//! JWKS at most once per 30 s), tokens verified (claims in `core::oidc`, signatures in
//! WebCrypto through `idp.js`), the token and userinfo calls. Only the sign-in routes
//! call this: validating a session never reaches the provider.

use crate::core::oidc::discovery::{self, ClientAuth, Discovery};
use crate::core::oidc::form;
use crate::core::oidc::jwt::{self, Jws, JwtError};
use crate::core::oidc::settings::OidcSettings;
use crate::platform;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use worker::js_sys;
use worker::wasm_bindgen::{self, prelude::*};
use worker::wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/edge/idp.js")]
extern "C" {
    #[wasm_bindgen(js_name = verify)]
    fn verify_js(alg: &str, jwk_json: &str, data: &[u8], signature: &[u8]) -> js_sys::Promise;
    #[wasm_bindgen(js_name = call)]
    fn call_js(url: &str, method: &str, authorization: &str, content_type: &str, body: &str, timeout_ms: u32) -> js_sys::Promise;
}

/// Deadline of one provider call, in milliseconds.
const CALL_TIMEOUT_MS: u32 = 10_000;

/// The provider could not be used: unreachable, a server error, or a document that does
/// not pass its checks. Sign-in routes answer 503 `idp_unavailable`.
#[derive(Debug, Clone)]
pub struct Unavailable(pub String);

/// A provider answer.
pub struct Answer {
    pub status: u16,
    pub text: String,
    pub cache_control: String,
    pub content_type: String,
}

fn field(obj: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// One call; `Err` only when the provider could not be reached.
pub async fn call(url: &str, method: &str, authorization: &str, content_type: &str, body: &str) -> Result<Answer, Unavailable> {
    let obj = JsFuture::from(call_js(url, method, authorization, content_type, body, CALL_TIMEOUT_MS))
        .await
        .map_err(|e| Unavailable(e.as_string().unwrap_or_else(|| "fetch failed".into())))?;
    let text = |n| field(&obj, n).as_string().unwrap_or_default();
    Ok(Answer {
        status: field(&obj, "status").as_f64().unwrap_or(0.0) as u16,
        text: text("text"),
        cache_control: text("cacheControl"),
        content_type: text("contentType"),
    })
}

/// A value fetched from the provider and how long it may be used.
struct Fetched<T> {
    value: Rc<T>,
    until: u64,
}

thread_local! {
    static DISCOVERY: RefCell<Option<Fetched<Discovery>>> = const { RefCell::new(None) };
    static JWKS: RefCell<Option<Fetched<Value>>> = const { RefCell::new(None) };
    static KID_REFETCH: Cell<Option<u64>> = const { Cell::new(None) };
}

fn fresh<T>(cell: &'static std::thread::LocalKey<RefCell<Option<Fetched<T>>>>, now: u64) -> Option<Rc<T>> {
    cell.with(|c| c.borrow().as_ref().filter(|f| f.until > now).map(|f| f.value.clone()))
}

/// GET a JSON document: 200 or unavailable.
async fn get_json(url: &str) -> Result<Answer, Unavailable> {
    let a = call(url, "GET", "", "", "").await?;
    if a.status != 200 {
        return Err(Unavailable(format!("{url} answered {}", a.status)));
    }
    Ok(a)
}

/// The provider's discovery document, checked against `OIDC_ISSUER`.
pub async fn discovery(s: &OidcSettings) -> Result<Rc<Discovery>, Unavailable> {
    let now = platform::now();
    if let Some(d) = fresh(&DISCOVERY, now) {
        return Ok(d);
    }
    let a = get_json(&s.discovery_url()).await?;
    let d = discovery::parse(&a.text, &s.issuer, s.client_secret.is_some())
        .map_err(|e| Unavailable(format!("discovery document refused: {e}")))?;
    let d = Rc::new(d);
    let until = now + discovery::cache_seconds(Some(&a.cache_control).filter(|c| !c.is_empty()).map(|c| c.as_str()));
    DISCOVERY.with(|c| *c.borrow_mut() = Some(Fetched { value: d.clone(), until }));
    Ok(d)
}

async fn jwks(d: &Discovery, force: bool) -> Result<Rc<Value>, Unavailable> {
    let now = platform::now();
    if !force {
        if let Some(k) = fresh(&JWKS, now) {
            return Ok(k);
        }
    }
    let a = get_json(&d.jwks_uri).await?;
    let v: Value = serde_json::from_str(&a.text).map_err(|_| Unavailable("the JWKS is not JSON".into()))?;
    let v = Rc::new(v);
    let until = now + discovery::cache_seconds(Some(&a.cache_control).filter(|c| !c.is_empty()).map(|c| c.as_str()));
    JWKS.with(|c| *c.borrow_mut() = Some(Fetched { value: v.clone(), until }));
    Ok(v)
}

/// Why a token was not accepted.
pub enum TokenFailure {
    /// The token itself: its `Display` is the detail.
    Refused(JwtError),
    /// The JWKS could not be fetched.
    Unavailable(Unavailable),
}

/// Parses `token` and verifies its signature against the provider's JWKS; an unknown
/// `kid` refetches the JWKS once (at most once per 30 s per isolate). Claims are not
/// checked here.
pub async fn verify(d: &Discovery, token: &str) -> Result<Jws, TokenFailure> {
    let jws = jwt::parse(token).map_err(TokenFailure::Refused)?;
    let mut keys = jwks(d, false).await.map_err(TokenFailure::Unavailable)?;
    let key_json = match jwt::select_key(&keys, &jws) {
        Ok(k) => jwt::public_jwk_json(k),
        Err(JwtError::UnknownKid) => {
            let now = platform::now();
            if !discovery::may_refetch_for_kid(KID_REFETCH.with(Cell::get), now) {
                return Err(TokenFailure::Refused(JwtError::UnknownKid));
            }
            KID_REFETCH.with(|c| c.set(Some(now)));
            keys = jwks(d, true).await.map_err(TokenFailure::Unavailable)?;
            jwt::public_jwk_json(jwt::select_key(&keys, &jws).map_err(TokenFailure::Refused)?)
        }
        Err(e) => return Err(TokenFailure::Refused(e)),
    };
    let ok = JsFuture::from(verify_js(jws.alg.name(), &key_json, jws.signing_input.as_bytes(), &jws.signature))
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if !ok {
        return Err(TokenFailure::Refused(JwtError::Signature));
    }
    Ok(jws)
}

/// The token endpoint's answer to an authorization code.
pub enum Exchange {
    /// 200 with an ID token.
    Tokens { id_token: String, access_token: Option<String> },
    /// Refused (the provider's `error`, or what was wrong with the answer).
    Refused(String),
}

/// Exchanges the code (with the PKCE verifier and the client authentication).
pub async fn exchange(s: &OidcSettings, d: &Discovery, code: &str, verifier: &str, redirect_uri: &str) -> Result<Exchange, Unavailable> {
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    let secret = s.client_secret.as_ref().map(|c| c.0.as_str()).unwrap_or("");
    let mut authorization = String::new();
    match d.client_auth {
        ClientAuth::None => params.push(("client_id", &s.client_id)),
        ClientAuth::Post => {
            params.push(("client_id", &s.client_id));
            params.push(("client_secret", secret));
        }
        // RFC 6749 §2.3.1: both form-encoded before Basic.
        ClientAuth::Basic => {
            let pair = format!("{}:{}", form::encode(&s.client_id), form::encode(secret));
            authorization = format!("Basic {}", STANDARD.encode(pair));
        }
    }
    let body = form::serialize(&params);
    let a = call(
        &d.token_endpoint,
        "POST",
        &authorization,
        "application/x-www-form-urlencoded",
        &body,
    )
    .await?;
    if a.status >= 500 {
        return Err(Unavailable(format!("token endpoint answered {}", a.status)));
    }
    let json: Map<String, Value> = serde_json::from_str(&a.text).unwrap_or_default();
    let text = |k: &str| json.get(k).and_then(Value::as_str).map(str::to_string);
    if a.status != 200 {
        let why = text("error").unwrap_or_else(|| format!("status {}", a.status));
        return Ok(Exchange::Refused(form::short(&why)));
    }
    match text("id_token") {
        Some(id_token) => Ok(Exchange::Tokens {
            id_token,
            access_token: text("access_token"),
        }),
        None => Ok(Exchange::Refused("no id_token".into())),
    }
}

/// The userinfo claims (JSON answers only); `None` when the provider refused.
pub async fn userinfo(d: &Discovery, access_token: &str) -> Result<Option<Map<String, Value>>, Unavailable> {
    let Some(url) = &d.userinfo_endpoint else {
        return Ok(None);
    };
    let a = call(url, "GET", &format!("Bearer {access_token}"), "", "").await?;
    if a.status >= 500 {
        return Err(Unavailable(format!("userinfo answered {}", a.status)));
    }
    if a.status != 200 || !a.content_type.to_ascii_lowercase().starts_with("application/json") {
        return Ok(None);
    }
    Ok(serde_json::from_str(&a.text).ok())
}
