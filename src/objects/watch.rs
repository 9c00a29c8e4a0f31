//! The session object's side of live connections: one hibernatable WebSocket ("watch")
//! per WebSocket or stream the gate relays, following a session's public handle
//! (`watch.js`). The object pushes a session's end on its watches; the gate's relay
//! (`edge::live`) closes the connection.

use worker::wasm_bindgen::{self, prelude::*};
use worker::web_sys;

#[wasm_bindgen(module = "/src/objects/watch.js")]
extern "C" {
    #[wasm_bindgen(js_name = accept)]
    fn accept_js(state: &JsValue, handle: &str) -> web_sys::Response;
    #[wasm_bindgen(js_name = push)]
    fn push_js(state: &JsValue, handle: &str, message: &str) -> u32;
    #[wasm_bindgen(js_name = count)]
    fn count_js(state: &JsValue, handle: &str) -> u32;
    #[wasm_bindgen(js_name = move)]
    fn move_js(state: &JsValue, from: &str, to: &str);
}

/// The message a watch gets when its session ends; the relay closes with its reason.
const ENDED_PREFIX: &str = "ended:";

fn raw(state: &worker::State) -> &JsValue {
    state.as_raw().as_ref()
}

/// Accepts a watch on the session `handle` (already checked live): the gate's 101.
pub fn accept(state: &worker::State, handle: &str) -> worker::Response {
    worker::Response::from(accept_js(raw(state), handle))
}

/// Tells every watch of `handle` that the session ended; how many there were.
pub fn push_ended(state: &worker::State, handle: &str, reason: &str) -> u32 {
    push_js(raw(state), handle, &format!("{ENDED_PREFIX}{reason}"))
}

/// The watches of `from` follow `to` from now on.
pub fn move_watches(state: &worker::State, from: &str, to: &str) {
    move_js(raw(state), from, to)
}

/// How many watches the session `handle` holds.
pub fn count(state: &worker::State, handle: &str) -> u32 {
    count_js(raw(state), handle)
}
