//! The hot path's I/O with the runtime, through `io.js`: one boundary crossing per step
//! (read the request, forward it, read the origin's answer, finish it, call the store)
//! instead of one per header. What to read, drop and set is decided here, in Rust.

use crate::core::headers::{COMMAND_HEADER, FROM_CLIENT_DROPPED, RESERVED_PREFIX};
use crate::core::method::OVERRIDE_HEADERS;
use crate::platform::{text_from_js, STORE_BINDING};
use crate::store::call_url;
use worker::wasm_bindgen::{self, prelude::*, JsCast};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{web_sys, Env};

#[wasm_bindgen(module = "/src/edge/io.js")]
extern "C" {
    #[wasm_bindgen(js_name = requestReader)]
    fn request_reader_js(prefix: &str, listed: &str, names: &str) -> JsValue;
    #[wasm_bindgen(js_name = context)]
    fn context_js(response: Vec<String>, tags: Vec<String>, store: Vec<String>) -> JsValue;
    #[wasm_bindgen(js_name = readRequest)]
    fn read_request_js(req: &web_sys::Request, reader: &JsValue) -> Vec<u8>;
    #[wasm_bindgen(js_name = readResponse)]
    fn read_response_js(resp: &web_sys::Response, ctx: &JsValue) -> Vec<u8>;
    #[wasm_bindgen(js_name = forward)]
    fn forward_js(
        req: &web_sys::Request,
        url: &str,
        drop: &str,
        set: &str,
        timeout_ms: f64,
        ctx: &JsValue,
        signed_name: &JsValue,
        signer: &JsValue,
        input: &str,
    ) -> js_sys::Promise;
    #[wasm_bindgen(js_name = finish)]
    fn finish_js(resp: &web_sys::Response, drop: &str, set: &str, append: &str, replace_cookies: Option<String>) -> web_sys::Response;
    #[wasm_bindgen(js_name = readBody)]
    fn read_body_js(req: &web_sys::Request, max: f64, too_large: &str, encoded: &str, keep: bool) -> js_sys::Promise;
    #[wasm_bindgen(js_name = storeCall)]
    fn store_call_js(
        env: &Env,
        id: &[u8],
        prefix: &JsValue,
        tail: &str,
        body: Option<&str>,
        ctx: &JsValue,
        timeout_ms: f64,
    ) -> js_sys::Promise;
}

const SEP: char = '\n';
const ABSENT: &str = "\0";
// Every constant the JS side needs is passed in from here, so that no value is written
// on both sides of the boundary.
/// The rejection value `forward` is told to use when the origin's headers are late.
const ORIGIN_TIMEOUT: &str = "sessiongate:origin_timeout";
/// The rejection value `readBody` is told to use past its bound.
const BODY_TOO_LARGE: &str = "sessiongate:body_too_large";
/// The rejection value `readBody` is told to use for a body under a `Content-Encoding`.
const BODY_ENCODED: &str = "sessiongate:body_encoded";
/// The rejection value `forward` is told to use when WebCrypto cannot sign.
const SIGN_FAILED: &str = "sessiongate:sign_failed";
/// The rejection value `storeCall` is told to use for an object id of another namespace.
const FOREIGN_ID: &str = "sessiongate:foreign_id";

thread_local! {
    /// What every helper but `readRequest` needs that is the same on every request, handed
    /// to io.js once per isolate (`context`): a call passes this object instead of
    /// re-sending its strings.
    static CONTEXT: JsValue = context_js(
        vec![RESERVED_PREFIX.into(), "strict-transport-security".into(), COMMAND_HEADER.into()],
        vec![ORIGIN_TIMEOUT.into(), SIGN_FAILED.into()],
        vec![STORE_BINDING.into(), FOREIGN_ID.into()],
    );
}

/// Header edits, built in Rust and applied in one call (or onto a `worker::Headers`
/// for the gate's own responses). Kept in the form io.js takes them, so that building a
/// forward's dozen edits costs one growing string each instead of two allocations an edit.
#[derive(Default)]
pub struct Edits {
    /// Names to remove, comma-separated (a header name holds no comma).
    drop: String,
    /// `name\nvalue\n...` (`push_pair`).
    set: String,
    append: String,
    /// A header whose value WebCrypto signs on the way out (`forward`): see
    /// `keys::Assertion::Unsigned`.
    signed: Option<SignedHeader>,
}

/// A header io.js's `forward` completes: `signer(input)` resolves to its value.
struct SignedHeader {
    /// The header's name, a JS string made once (there is one such header).
    name: JsValue,
    signer: JsValue,
    input: String,
}

/// Adds `name\nvalue` to a `name\nvalue\n...` list.
fn push_pair(out: &mut String, name: &str, value: &str) {
    let start = begin_pair(out, name);
    out.push_str(value);
    end_pair(out, start);
}

/// Adds `name\n` to a `name\nvalue\n...` list: the value follows from the returned
/// offset, and `end_pair` closes it.
fn begin_pair(out: &mut String, name: &str) -> usize {
    if !out.is_empty() {
        out.push(SEP);
    }
    out.push_str(name);
    out.push(SEP);
    out.len()
}

/// A CR, LF or NUL in the value written from `start` (which the runtime would reject
/// anyway) becomes a space, so that it can never shift the list.
fn end_pair(out: &mut String, start: usize) {
    if out[start..].bytes().any(|b| matches!(b, b'\n' | b'\r' | 0)) {
        let value = out.split_off(start);
        out.extend(value.chars().map(|c| if matches!(c, '\n' | '\r' | '\0') { ' ' } else { c }));
    }
}

/// The pairs of a `push_pair` list.
fn pairs_in(list: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut parts = list.split(SEP);
    std::iter::from_fn(move || Some((parts.next()?, parts.next()?)))
}

impl Edits {
    /// Edits whose set list has room for `bytes` at once: a forward's dozen edits with an
    /// HS256 assertion come to about 1 KiB, and growing from empty would reallocate and
    /// copy about seven times.
    pub fn with_room(bytes: usize) -> Self {
        Edits {
            set: String::with_capacity(bytes),
            ..Edits::default()
        }
    }
    pub fn is_empty(&self) -> bool {
        self.drop.is_empty() && self.set.is_empty() && self.append.is_empty()
    }
    pub fn drop(&mut self, name: &str) {
        if !self.drop.is_empty() {
            self.drop.push(',');
        }
        self.drop.push_str(name);
    }
    pub fn set(&mut self, name: &str, value: &str) {
        push_pair(&mut self.set, name, value);
    }
    /// Sets `name` to what `write` appends, written straight into the list (no value
    /// string of its own); a CR, LF or NUL it writes becomes a space, as in `set`.
    pub fn set_with(&mut self, name: &str, write: impl FnOnce(&mut String)) {
        let start = begin_pair(&mut self.set, name);
        write(&mut self.set);
        end_pair(&mut self.set, start);
    }
    pub fn append(&mut self, name: &str, value: &str) {
        push_pair(&mut self.append, name, value);
    }
    /// Sets `name` to what `signer(input)` resolves to, when the request is forwarded.
    pub fn set_signed(&mut self, name: &JsValue, signer: JsValue, input: String) {
        self.signed = Some(SignedHeader {
            name: name.clone(),
            signer,
            input,
        });
    }
    /// The edits to set and to append, each as `name\nvalue\n...` (for JS glue that
    /// builds a response itself: a relayed WebSocket's 101).
    pub fn encoded(&self) -> (&str, &str) {
        (&self.set, &self.append)
    }
    pub fn apply_to(&self, h: &worker::Headers) -> worker::Result<()> {
        for name in self.drop.split(',').filter(|n| !n.is_empty()) {
            h.delete(name)?;
        }
        for (name, value) in pairs_in(&self.set) {
            h.set(name, value)?;
        }
        for (name, value) in pairs_in(&self.append) {
            h.append(name, value)?;
        }
        Ok(())
    }
}

/// What the gate reads from a request: its URL, method, the names of the headers present
/// that it may drop (see `headers::dropped_from_client`) and the values of the headers
/// asked for (`None` when absent), in the order asked.
pub struct RawRequest {
    pub url: String,
    pub method: String,
    pub droppable: Vec<String>,
    pub values: Vec<Option<String>>,
}

/// What `read_request` asks for, made once per isolate (`RequestReader::new`).
pub struct RequestReader(JsValue);

impl RequestReader {
    /// `names`: the headers whose values `read_request` returns, lowercase, in this order.
    pub fn new(names: &[&str]) -> Self {
        let dropped = FROM_CLIENT_DROPPED
            .iter()
            .chain(&OVERRIDE_HEADERS)
            .copied()
            .collect::<Vec<_>>()
            .join(",");
        RequestReader(request_reader_js(RESERVED_PREFIX, &dropped, &names.join(",")))
    }
}

pub fn read_request(req: &web_sys::Request, reader: &RequestReader) -> RawRequest {
    let joined = text_from_js(read_request_js(req, &reader.0));
    let mut parts = joined.split(SEP);
    let url = parts.next().unwrap_or_default().to_string();
    let method = parts.next().unwrap_or_default().to_string();
    let droppable = split_names(parts.next().unwrap_or_default());
    let values = parts.map(|v| (v != ABSENT).then(|| v.to_string())).collect();
    RawRequest {
        url,
        method,
        droppable,
        values,
    }
}

fn split_names(s: &str) -> Vec<String> {
    s.split(',').filter(|n| !n.is_empty()).map(str::to_string).collect()
}

/// The origin's response headers the gate acts on.
pub struct RawResponse {
    /// Names present among `X-Session-*` and `Strict-Transport-Security`.
    pub names: Vec<String>,
    pub command: Option<String>,
    /// `Content-Type` (an event stream of a session is watched, `proxy::connection`).
    pub content_type: Option<String>,
    pub set_cookies: Vec<String>,
}

pub fn read_response(resp: &web_sys::Response) -> RawResponse {
    let joined = text_from_js(CONTEXT.with(|ctx| read_response_js(resp, ctx)));
    let mut parts = joined.split(SEP);
    let names = split_names(parts.next().unwrap_or_default());
    let command = parts.next().filter(|v| *v != ABSENT).map(str::to_string);
    let content_type = parts.next().filter(|v| *v != ABSENT).map(str::to_string);
    RawResponse {
        names,
        command,
        content_type,
        set_cookies: parts.map(str::to_string).collect(),
    }
}

pub enum BodyError {
    TooLarge,
    /// Sent under a `Content-Encoding` (other than `identity`): its text is not the
    /// bytes read, and a framework that inflates it (body-parser does) would see another.
    Encoded,
    Unreadable(String),
}

/// The request body as text, at most `max` bytes (declared or read: the read stops at
/// the bound), without consuming it for `forward`.
pub async fn read_body(req: &web_sys::Request, max: usize) -> Result<String, BodyError> {
    body_text(req, max, true).await
}

/// The body of a request the gate answers itself, consumed, at most `max` bytes.
pub async fn take_body(req: &web_sys::Request, max: usize) -> Result<String, BodyError> {
    body_text(req, max, false).await
}

async fn body_text(req: &web_sys::Request, max: usize, keep: bool) -> Result<String, BodyError> {
    match JsFuture::from(read_body_js(req, max as f64, BODY_TOO_LARGE, BODY_ENCODED, keep)).await {
        Ok(v) => v.as_string().ok_or_else(|| BodyError::Unreadable("body is not text".into())),
        Err(e) => match e.as_string() {
            Some(s) if s == BODY_TOO_LARGE => Err(BodyError::TooLarge),
            Some(s) if s == BODY_ENCODED => Err(BodyError::Encoded),
            Some(s) => Err(BodyError::Unreadable(s)),
            None => Err(BodyError::Unreadable(format!("{e:?}"))),
        },
    }
}

pub enum ForwardError {
    Timeout,
    Failed(String),
    /// WebCrypto could not sign a header of `Edits::set_signed`: nothing was sent.
    Unsigned,
}

pub async fn forward(req: &web_sys::Request, url: &str, edits: &Edits, timeout_ms: u64) -> Result<web_sys::Response, ForwardError> {
    let (name, signer, input) = match &edits.signed {
        Some(s) => (&s.name, &s.signer, s.input.as_str()),
        None => (&JsValue::UNDEFINED, &JsValue::UNDEFINED, ""),
    };
    let call = CONTEXT.with(|ctx| forward_js(req, url, &edits.drop, &edits.set, timeout_ms as f64, ctx, name, signer, input));
    match JsFuture::from(call).await {
        Ok(v) => v
            .dyn_into::<web_sys::Response>()
            .map_err(|_| ForwardError::Failed("fetch returned no Response".into())),
        Err(e) => match e.as_string() {
            Some(s) if s == ORIGIN_TIMEOUT => Err(ForwardError::Timeout),
            Some(s) if s == SIGN_FAILED => Err(ForwardError::Unsigned),
            Some(s) => Err(ForwardError::Failed(s)),
            None => Err(ForwardError::Failed(format!("{e:?}"))),
        },
    }
}

/// `replace_cookies`: when set, the origin's Set-Cookie headers are replaced by these.
pub fn finish(resp: web_sys::Response, edits: &Edits, replace_cookies: Option<Vec<String>>) -> web_sys::Response {
    if edits.is_empty() && replace_cookies.is_none() {
        // Nothing to change (a public page, no session): the origin's response as it came,
        // with no header copy and no new Response object.
        return resp;
    }
    let replace = replace_cookies.map(|c| c.join("\n"));
    finish_js(&resp, &edits.drop, &edits.set, &edits.append, replace)
}

/// Why a session call has no reply.
pub enum StoreCallError {
    /// The id is not one of this namespace's (signed with our key, minted elsewhere).
    Foreign,
    /// The object errored, answered non-200 or did not answer in time.
    Failed(String),
}

/// Sends `body` to the session object `store_id` of the store binding; the reply's
/// bytes, or why there are none. The stub is made in io.js, in the same crossing. The
/// call's URL is `prefix` (`call_url::prefix`: the gate's policy, a JS string made once)
/// completed with the message, when it is small enough (a URL alone is the cheapest
/// call the runtime makes: no headers object, no body stream on either side); a larger
/// message goes as a POST body.
pub async fn store_call(env: &Env, store_id: &[u8; 32], prefix: &JsValue, body: &str, timeout_ms: u64) -> Result<Vec<u8>, StoreCallError> {
    let (tail, post) = match call_url::message_segment(body) {
        Some(segment) => (segment, None),
        None => (String::new(), Some(body)),
    };
    let call = CONTEXT.with(|ctx| store_call_js(env, store_id, prefix, &tail, post, ctx, timeout_ms as f64));
    match JsFuture::from(call).await {
        Ok(v) if v.is_instance_of::<js_sys::ArrayBuffer>() => Ok(js_sys::Uint8Array::new(&v).to_vec()),
        Ok(_) => Err(StoreCallError::Failed("store reply is not bytes".to_string())),
        Err(e) => match e.as_string() {
            Some(s) if s == FOREIGN_ID => Err(StoreCallError::Foreign),
            Some(s) => Err(StoreCallError::Failed(s)),
            None => Err(StoreCallError::Failed(format!("{e:?}"))),
        },
    }
}
