//! What the session object reads of each call (`call.js`): one boundary crossing, the
//! text copied into the Wasm as bytes, for the URL and the two headers a session call
//! may carry instead (`store::call_url` says which form the gate uses and why).

use crate::store::call_url::{self, CallUrlError, CALL_URL_BASE};
use crate::store::policy::POLICY_HEADER;
use crate::store::protocol::MESSAGE_HEADER;
use worker::wasm_bindgen::{self, prelude::*};
use worker::web_sys;

#[wasm_bindgen(module = "/src/objects/call.js")]
extern "C" {
    #[wasm_bindgen(js_name = head)]
    fn head_js(req: &web_sys::Request, call_base: &str, policy_header: &str, message_header: &str) -> Vec<u8>;
}

/// A call's URL and what the object acts on, from the URL or from the headers.
pub struct Head {
    pub url: String,
    /// The gate's policy, on every session call.
    pub policy: Option<String>,
    /// A small message (a larger one comes as the body).
    pub message: Option<String>,
    /// Asks for an upgrade: a watch (`watch`).
    pub upgrade: bool,
}

/// The call's head; an error for a URL under `CALL_URL_BASE` that is not a call.
pub fn head(req: &web_sys::Request) -> Result<Head, CallUrlError> {
    let text = crate::platform::text_from_js(head_js(req, CALL_URL_BASE, POLICY_HEADER, MESSAGE_HEADER));
    let mut parts = text.split('\n');
    let mut next = || parts.next().unwrap_or_default();
    let url = next().to_string();
    let upgrade = next() == "1";
    let present = |v: &str| (v != "\0").then(|| v.to_string());
    let (policy, message) = match call_url::parse(&url).transpose()? {
        Some(call) => (Some(call.policy), call.message),
        None => (present(next()), present(next())),
    };
    Ok(Head {
        url,
        policy,
        message,
        upgrade,
    })
}
