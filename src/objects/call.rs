//! What the session object reads of each call (`call.js`): one boundary crossing, the
//! text copied into the Wasm as bytes, for the URL and the two headers every session call
//! may carry.

use crate::store::policy::POLICY_HEADER;
use crate::store::protocol::MESSAGE_HEADER;
use worker::wasm_bindgen::{self, prelude::*};
use worker::web_sys;

#[wasm_bindgen(module = "/src/objects/call.js")]
extern "C" {
    #[wasm_bindgen(js_name = head)]
    fn head_js(req: &web_sys::Request, policy_header: &str, message_header: &str) -> Vec<u8>;
}

/// A call's URL and the headers the object acts on.
pub struct Head {
    pub url: String,
    /// `POLICY_HEADER`: the gate's policy, on every session call.
    pub policy: Option<String>,
    /// `MESSAGE_HEADER`: a small message (a larger one comes as the body).
    pub message: Option<String>,
    /// Asks for an upgrade: a watch (`watch`).
    pub upgrade: bool,
}

pub fn head(req: &web_sys::Request) -> Head {
    let text = crate::platform::text_from_js(head_js(req, POLICY_HEADER, MESSAGE_HEADER));
    let mut parts = text.split('\n');
    let mut next = || parts.next().unwrap_or_default();
    let url = next().to_string();
    let present = |v: &str| (v != "\0").then(|| v.to_string());
    let policy = present(next());
    let message = present(next());
    let upgrade = next() == "1";
    Head {
        url,
        policy,
        message,
        upgrade,
    }
}
