//! The reference workers of `make bench` (see bench/run.sh).
//!
//! (a) bare: passes the request (method, path, headers but `Host`, body) to `ORIGIN_URL`
//!     and returns the origin's response. No session logic at all.
//! (b) floor (`--features floor`): the same, after one Durable Object round trip whose
//!     object runs one SQLite `SELECT` by key. That is the least that server-side
//!     session validation can cost: the gate's valid-session path does exactly one
//!     Durable Object request before forwarding.
//! (f) contract floor (`--features contract`): the floor plus the I/O that the gate's
//!     contract with the origin requires, with constant values and no logic (see its
//!     `fetch`). (b) is what any server-side check costs; (f) is what any gate keeping
//!     this contract costs in this runtime, before it decides anything.
//!
//! Their I/O goes through the same kind of one-call JS helpers as the gate's
//! (`src/io.js`, like the gate's `src/edge/io.js`), and the fetch handler takes and returns
//! the runtime's own Request/Response as the gate's does: the floor must not pay for
//! per-header boundary crossings or stream-reader body reads that the gate avoids, or c/b
//! would flatter the gate.

use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{event, web_sys, Context, Env, Result};

#[wasm_bindgen(module = "/src/io.js")]
extern "C" {
    fn pass(req: &web_sys::Request, url: &str) -> worker::js_sys::Promise;
    #[cfg(feature = "floor")]
    #[wasm_bindgen(js_name = objectText)]
    fn object_text(env: &Env, name: &str, url: &str, body: Option<String>) -> worker::js_sys::Promise;
    #[cfg(feature = "contract")]
    #[wasm_bindgen(js_name = contractObjectText)]
    fn contract_object_text(env: &Env, name: &str, url: &str, body: Option<String>) -> worker::js_sys::Promise;
    #[cfg(feature = "contract")]
    #[wasm_bindgen(js_name = contractRead)]
    fn contract_read(req: &web_sys::Request) -> Vec<u8>;
    #[cfg(feature = "contract")]
    #[wasm_bindgen(js_name = contractForward)]
    fn contract_forward(req: &web_sys::Request, url: &str, set: &str, signer: &JsValue, input: &str) -> worker::js_sys::Promise;
    #[cfg(feature = "contract")]
    #[wasm_bindgen(js_name = floorSigner)]
    fn floor_signer(alg: &str, pkcs8_b64: &str) -> worker::js_sys::Promise;
    #[cfg(feature = "contract")]
    #[wasm_bindgen(js_name = contractFinish)]
    fn contract_finish(resp: &web_sys::Response, set: &str) -> web_sys::Response;
}

thread_local! {
    // Read once per isolate, like the gate's configuration.
    static ORIGIN: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn origin(env: &Env) -> Result<String> {
    ORIGIN.with(|o| {
        if let Some(v) = o.borrow().as_ref() {
            return Ok(v.clone());
        }
        let v = env.var("ORIGIN_URL")?.to_string().trim_end_matches('/').to_string();
        *o.borrow_mut() = Some(v.clone());
        Ok(v)
    })
}

/// `ORIGIN_URL` + the request's path and query (split by hand, as the gate does).
fn target(req: &web_sys::Request, env: &Env) -> Result<String> {
    let raw = req.url();
    let after_scheme = raw.find("://").map_or(0, |i| i + 3);
    let path_start = raw[after_scheme..].find('/').map_or(raw.len(), |i| after_scheme + i);
    Ok(format!("{}{}", origin(env)?, &raw[path_start..]))
}

#[cfg(not(feature = "contract"))]
async fn pass_through(req: &web_sys::Request, env: &Env) -> Result<web_sys::Response> {
    let url = target(req, env)?;
    let resp = JsFuture::from(pass(req, &url)).await?;
    Ok(resp.unchecked_into())
}

#[cfg(not(feature = "floor"))]
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    pass_through(&req, &env).await
}

#[cfg(all(feature = "floor", not(feature = "json"), not(feature = "contract")))]
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    // The object's answer, read whole (as the gate reads its session row).
    let row = JsFuture::from(object_text(&env, "user:bench", "https://floor/bench", None)).await?;
    if row.as_string().is_none() {
        return Err(worker::Error::RustError("floor object failed".into()));
    }
    pass_through(&req, &env).await
}

#[cfg(feature = "json")]
async fn json_round_trip(env: &Env) -> Result<object::Answer> {
    let msg = object::Msg::Validate {
        hash: "6f1e0c5b3a2d4e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f".into(),
        client: object::Client {
            ip: String::new(),
            ua: String::new(),
            https: false,
        },
        slide: true,
    };
    let body = serde_json::to_string(&msg)?;
    let text = JsFuture::from(object_text(env, "user:bench", "https://floor/", Some(body)))
        .await?
        .as_string()
        .ok_or_else(|| worker::Error::RustError("floor object failed".into()))?;
    Ok(serde_json::from_str(&text)?)
}

#[cfg(feature = "json")]
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    json_round_trip(&env).await?;
    pass_through(&req, &env).await
}

/// (f) contract floor: the floor's object read (with the gate's store deadline), plus
/// the I/O the gate's contract with the origin requires, with constant values and no
/// logic: the request's headers read (session cookie, binding, CSRF signals, spoofed
/// `X-Session-*` names), the identity headers and an assertion on the forwarded request
/// and the session cookie removed from it, the origin deadline, the origin's response
/// headers read (command, cookies), and a new response carrying `X-Session-Expires-In`.
/// No JSON: the gate's store protocol is the gate's own choice, so its cost counts
/// against the gate.
///
/// The assertion: the contract requires a signed one on every forwarded request, so with
/// `FLOOR_ALG` set the floor signs an assertion-sized input with that algorithm by the
/// gate's own means (see `Signing`), and c/f compares the gate with the least a gate
/// keeping this contract with that algorithm can cost. `FLOOR_ALG=none` keeps a
/// constant, unsigned value: the signature-free floor, a row of its own in the bench.
#[cfg(feature = "contract")]
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    // The cookie must be there; what the gate does with it is logic, not I/O.
    // Read as text, as the gate reads it (io.js hands both over as UTF-8 bytes).
    let read = String::from_utf8(contract_read(&req)).unwrap_or_default();
    if !read.contains("__Host-session=") {
        return Err(worker::Error::RustError("no session cookie".into()));
    }
    // The stub is made in JS, in the same call, as the gate's `storeCall` makes its own.
    let row = JsFuture::from(contract_object_text(&env, "user:bench", "https://floor/bench", None)).await?;
    let row = worker::js_sys::Uint8Array::new(&row).to_vec();
    if String::from_utf8(row).is_err() {
        return Err(worker::Error::RustError("floor object failed".into()));
    }
    let url = target(&req, &env)?;
    let mut set = [
        "x-forwarded-for\n127.0.0.1",
        "x-forwarded-host\n127.0.0.1",
        "x-forwarded-proto\nhttp",
        "x-session-id\n3f2a9c0d1b7e4a6f8c5d2e1b0a9f8e7d",
        "x-session-user\nbench",
        "x-session-roles\nuser",
        "x-session-auth-time\n1764000000",
        "x-session-binding\nok",
    ]
    .join("\n");
    let signer = match signing(&env).await? {
        Signing::None => {
            set.push('\n');
            set.push_str(ASSERTION);
            JsValue::UNDEFINED
        }
        Signing::Hs256(secret) => {
            set.push_str("\nx-session-assertion\n");
            set.push_str(&hs256(&secret, SIGNING_INPUT));
            JsValue::UNDEFINED
        }
        Signing::WebCrypto(signer) => signer,
    };
    let resp: web_sys::Response = JsFuture::from(contract_forward(&req, &url, &set, &signer, SIGNING_INPUT))
        .await?
        .unchecked_into();
    Ok(contract_finish(&resp, "x-session-expires-in\n1800"))
}

/// How the contract floor signs, from `FLOOR_ALG` and `FLOOR_KEY`, set up once per isolate
/// as the gate imports its key once per isolate.
#[cfg(feature = "contract")]
#[derive(Clone)]
enum Signing {
    /// `none`: the constant, unsigned `ASSERTION`.
    None,
    /// `HS256`: in the Wasm, with the gate's `hmac` crate (the gate signs HS256 there).
    Hs256(std::rc::Rc<Vec<u8>>),
    /// `ES256` / `EdDSA`: the runtime's WebCrypto, through a JS signer (the gate's way).
    WebCrypto(JsValue),
}

#[cfg(feature = "contract")]
thread_local! {
    static SIGNING: RefCell<Option<Signing>> = const { RefCell::new(None) };
}

#[cfg(feature = "contract")]
async fn signing(env: &Env) -> Result<Signing> {
    if let Some(s) = SIGNING.with(|s| s.borrow().clone()) {
        return Ok(s);
    }
    let alg = env.var("FLOOR_ALG").map(|v| v.to_string()).unwrap_or_else(|_| "none".into());
    let key = || env.var("FLOOR_KEY").map(|v| v.to_string());
    let s = match alg.as_str() {
        "none" => Signing::None,
        "HS256" => Signing::Hs256(std::rc::Rc::new(key()?.into_bytes())),
        other => Signing::WebCrypto(JsFuture::from(floor_signer(other, &key()?)).await?),
    };
    SIGNING.with(|c| *c.borrow_mut() = Some(s.clone()));
    Ok(s)
}

/// `input.signature` with HMAC-SHA-256, as the gate's `core::assertion::sign` does it.
#[cfg(feature = "contract")]
fn hs256(secret: &[u8], input: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new(&Default::default()));
    m.update(input.as_bytes());
    let mut out = String::with_capacity(input.len() + 44);
    out.push_str(input);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(m.finalize().into_bytes(), &mut out);
    out
}

/// The size of the gate's assertion for the bench user (a JWT of about 420 characters).
#[cfg(feature = "contract")]
const ASSERTION: &str = concat!(
    "x-session-assertion\neyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
    "eyJpc3MiOiJzZXNzaW9uZ2F0ZSIsImF1ZCI6IjEyNy4wLjAuMSIsImlhdCI6MTc2NDAwMDAwMCwiZXhwIjoxNzY0MDAwMDYwLCJqdGkiOiIzZjJhOWMwZDFi",
    "N2U0YTZmOGM1ZDJlMWIwYTlmOGU3ZCIsIm10aCI6IkdFVCIsInVybCI6Imh0dHA6Ly8xMjcuMC4wLjE6ODA4MC9hcHAiLCJzdWIiOiJiZW5jaCIsInNp",
    "ZCI6IjNmMmE5YzBkMWI3ZTRhNmY4YzVkMmUxYjBhOWY4ZTdkIiwicm9sZXMiOlsidXNlciJdLCJhdXRoX3RpbWUiOjE3NjQwMDAwMDAsImJpbmQiOiJvayJ9",
    ".x7Q9mZ0kP3vW2nR8sT1uY4bC6dE5fG7hJ9kL0mN2oP4"
);

/// An assertion-sized JWS signing input (`header.payload`) for the signing floors: the
/// gate signs its own of about this length on every forwarded request.
#[cfg(feature = "contract")]
const SIGNING_INPUT: &str = concat!(
    "eyJhbGciOiJFUzI1NiIsImtpZCI6IjBmM2E5YzBkMWI3ZTRhNmY4YzVkMmUxYjBhOWY4ZTdkMGYzYTljMGQxYjdlNGE2ZiIsInR5cCI6IkpXVCJ9.",
    "eyJpc3MiOiJzZXNzaW9uZ2F0ZSIsImF1ZCI6IjEyNy4wLjAuMSIsImlhdCI6MTc2NDAwMDAwMCwiZXhwIjoxNzY0MDAwMDYwLCJqdGkiOiIzZjJhOWMwZDFi",
    "N2U0YTZmOGM1ZDJlMWIwYTlmOGU3ZCIsIm10aCI6IkdFVCIsInVybCI6Imh0dHA6Ly8xMjcuMC4wLjE6ODA4MC9hcHAiLCJzdWIiOiJiZW5jaCIsInNp",
    "ZCI6IjNmMmE5YzBkMWI3ZTRhNmY4YzVkMmUxYjBhOWY4ZTdkIiwicm9sZXMiOlsidXNlciJdLCJhdXRoX3RpbWUiOjE3NjQwMDAwMDAsImJpbmQiOiJvayJ9"
);

#[cfg(feature = "floor")]
mod object {
    use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

    #[derive(serde::Deserialize)]
    struct Row {
        v: String,
    }

    #[cfg(feature = "json")]
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct Client {
        pub ip: String,
        pub ua: String,
        pub https: bool,
    }

    /// Shaped like the gate's store protocol (externally tagged, as the gate's is).
    #[cfg(feature = "json")]
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Msg {
        Validate { hash: String, client: Client, slide: bool },
    }

    #[cfg(feature = "json")]
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct Session {
        handle: String,
        user: Option<String>,
        roles: Vec<String>,
        data: serde_json::Map<String, serde_json::Value>,
        created: u64,
        auth_time: u64,
        last_seen: u64,
        absolute_expiry: u64,
        login_ip: String,
        login_ua: String,
        last_ip: String,
        last_ua: String,
        flagged: bool,
        persistent: bool,
        via_http: bool,
    }

    #[cfg(feature = "json")]
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Answer {
        Valid {
            session: Session,
            expires_at: u64,
            binding: String,
        },
    }

    #[durable_object]
    pub struct FloorStore {
        state: State,
    }

    impl DurableObject for FloorStore {
        fn new(state: State, _env: Env) -> Self {
            let sql = state.storage().sql();
            // Schema and one row, like a session row keyed by its hash.
            let _ = sql.exec("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)", None);
            let _ = sql.exec(
                "INSERT OR IGNORE INTO kv (k, v) VALUES (?, ?)",
                vec!["bench".into(), "{\"user\":\"bench\",\"roles\":[\"user\"]}".into()],
            );
            #[cfg(feature = "json")]
            let _ = sql.exec(
                "INSERT OR IGNORE INTO kv (k, v) VALUES (?, ?)",
                vec![
                    "6f1e0c5b3a2d4e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f".into(),
                    r#"{"handle":"3f2a9c0d1b7e4a6f8c5d2e1b0a9f8e7d","user":"bench","roles":["user"],"data":{},"created":1764000000,"auth_time":1764000000,"last_seen":1764000000,"absolute_expiry":1764086400,"login_ip":"","login_ua":"","last_ip":"","last_ua":"","flagged":false,"persistent":false,"via_http":true}"#.into(),
                ],
            );
            FloorStore { state }
        }

        #[cfg(feature = "json")]
        async fn fetch(&self, req: Request) -> Result<Response> {
            let text = req.headers().get("x-store-message")?.unwrap_or_default();
            let Msg::Validate { hash, .. } = serde_json::from_str::<Msg>(&text)?;
            let rows: Vec<Row> = self
                .state
                .storage()
                .sql()
                .exec("SELECT v FROM kv WHERE k = ?", vec![hash.into()])?
                .to_array()?;
            let Some(row) = rows.into_iter().next() else {
                return Response::error("no row", 404);
            };
            let session: Session = serde_json::from_str(&row.v)?;
            Response::from_json(&Answer::Valid {
                session,
                expires_at: 1764001800,
                binding: "ok".into(),
            })
        }

        #[cfg(not(feature = "json"))]
        async fn fetch(&self, req: Request) -> Result<Response> {
            // The last path segment, without parsing the URL (as the gate's object does).
            let url = req.inner().url();
            let key = url.rsplit('/').next().unwrap_or_default();
            let rows: Vec<Row> = self
                .state
                .storage()
                .sql()
                .exec("SELECT v FROM kv WHERE k = ?", vec![key.into()])?
                .to_array()?;
            match rows.into_iter().next() {
                Some(r) => Response::ok(r.v),
                None => Response::error("no row", 404),
            }
        }
    }
}
