//! Live connections through the gate (`live.js`): a WebSocket the origin accepted,
//! relayed to the client, and an event stream; with a session, each holds a watch on the
//! session's object, which closes it the moment the session ends
//! (`objects::SessionStore::end_connections`).

use super::io::Edits;
use super::session_object;
use super::validate::Live;
use crate::core::config::Config;
use crate::core::session::Reason;
use crate::store::protocol::{Request as StoreRequest, MESSAGE_HEADER};
use crate::store::StoreError;
use worker::wasm_bindgen::{self, prelude::*, JsCast};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{web_sys, Env};

#[wasm_bindgen(module = "/src/edge/live.js")]
extern "C" {
    #[wasm_bindgen(js_name = relayWebSocket)]
    fn relay_web_socket_js(
        origin: &web_sys::Response,
        stub: &JsValue,
        url: &str,
        header: &str,
        message: &str,
        touch: &str,
        policy: &JsValue,
        timeout_ms: f64,
        slide_ms: f64,
        set: &str,
        append: &str,
    ) -> js_sys::Promise;
    #[wasm_bindgen(js_name = watchStream)]
    fn watch_stream_js(
        resp: &web_sys::Response,
        stub: &JsValue,
        url: &str,
        header: &str,
        message: &str,
        policy: &JsValue,
        timeout_ms: f64,
    ) -> js_sys::Promise;
}

/// Where a relay opens its watch and sends its touches (the object tells a watch from
/// other calls by the upgrade).
const WATCH_URL: &str = "https://session-store/watch";
/// What the relay rejects with when the session ended before its watch opened.
const ENDED_PREFIX: &str = "ended:";
/// What the relay rejects with when the object refused a watch past the limit (live.js).
const LIMIT: &str = "limit";

/// A session's watch, to be opened: its object, the message that opens it and the one
/// that reports activity, both naming the session by its public handle (which a
/// regeneration keeps).
pub struct Watch {
    stub: JsValue,
    message: String,
    touch: String,
}

fn touch(handle: &str, slide: bool, watches_max: Option<u32>) -> Result<String, StoreError> {
    let msg = StoreRequest::Touch {
        handle: handle.to_string(),
        slide,
        watches_max,
    };
    serde_json::to_string(&msg).map_err(|e| StoreError::encode("store request", e))
}

impl Watch {
    /// The watch for a connection of `live`'s session, refused by the object when the
    /// session already holds `max` (`MAX_CONNECTIONS_PER_SESSION`).
    pub fn of(env: &Env, live: &Live, max: u32) -> Result<Watch, StoreError> {
        let stub = session_object::stub(env, &live.store_id)?.ok_or_else(|| StoreError::backend("not an object id of this namespace"))?;
        let handle = &live.session.handle;
        Ok(Watch {
            stub: stub.into_rpc::<JsValue>(),
            message: touch(handle, false, Some(max))?,
            touch: touch(handle, true, None)?,
        })
    }
}

pub enum LiveError {
    /// The session ended between validation and the watch: 401 with this reason.
    Ended(Reason),
    /// The session holds as many live connections as it may.
    Limit,
    Failed(String),
}

/// `live.js` rejects with text only (`why`).
fn failure(e: JsValue) -> LiveError {
    let s = e.as_string().unwrap_or_default();
    if s == LIMIT {
        return LiveError::Limit;
    }
    match s.strip_prefix(ENDED_PREFIX) {
        Some(r) => LiveError::Ended(Reason::parse(r).unwrap_or(Reason::Revoked)),
        None => LiveError::Failed(s),
    }
}

async fn response(p: js_sys::Promise) -> Result<web_sys::Response, LiveError> {
    JsFuture::from(p)
        .await
        .map_err(failure)?
        .dyn_into::<web_sys::Response>()
        .map_err(|_| LiveError::Failed("no Response".into()))
}

/// The client's 101 for the origin's (`origin`), with the gate's own header edits
/// (`stamp`: the cookie change, the expiry header), frames relayed both ways; with a
/// watch, closed when the session ends. With `slides` (not on IDLE_EXEMPT_PATHS),
/// client messages count as activity, reported at most once per slide interval.
pub async fn relay_web_socket(
    origin: &web_sys::Response,
    watch: Option<&Watch>,
    stamp: &Edits,
    slides: bool,
    cfg: &Config,
) -> Result<web_sys::Response, LiveError> {
    let (set, append) = stamp.encoded();
    let (stub, message, touch) = watch.map_or((JsValue::NULL, "", ""), |w| (w.stub.clone(), w.message.as_str(), w.touch.as_str()));
    let slide_ms = if slides {
        (cfg.slide_interval() * 1000) as f64
    } else {
        f64::INFINITY
    };
    response(relay_web_socket_js(
        origin,
        &stub,
        WATCH_URL,
        MESSAGE_HEADER,
        message,
        touch,
        &session_object::policy_headers(cfg),
        cfg.store_timeout_ms as f64,
        slide_ms,
        set,
        append,
    ))
    .await
}

/// The origin's event stream (already finished by the gate), cut when the session ends.
pub async fn watch_stream(resp: &web_sys::Response, watch: &Watch, cfg: &Config) -> Result<web_sys::Response, LiveError> {
    response(watch_stream_js(
        resp,
        &watch.stub,
        WATCH_URL,
        MESSAGE_HEADER,
        &watch.message,
        &session_object::policy_headers(cfg),
        cfg.store_timeout_ms as f64,
    ))
    .await
}
