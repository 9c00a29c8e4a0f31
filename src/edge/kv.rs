//! The client of `store::kv`: edge sign-in's records in objects named after what they
//! index (`store::kv::object_name`). The call runs in JS (`idp.js`), like the session
//! calls (`io.js`): the worker crate's request types would add to the Wasm.

use crate::core::config::Config;
use crate::platform::STORE_BINDING;
use crate::store::kv::{KvRequest, KvResponse, KV_URL};
use crate::store::StoreError;
use worker::wasm_bindgen::{self, prelude::*};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{js_sys, Env};

#[wasm_bindgen(module = "/src/edge/idp.js")]
extern "C" {
    #[wasm_bindgen(js_name = kvCall)]
    fn kv_call_js(stub: &JsValue, url: &str, body: &str, timeout_ms: u32) -> js_sys::Promise;
}

fn down(e: impl std::fmt::Display) -> StoreError {
    StoreError::backend(e)
}

/// One call to the object named `name`, within STORE_TIMEOUT.
pub async fn call(env: &Env, cfg: &Config, name: &str, msg: &KvRequest) -> Result<KvResponse, StoreError> {
    let ns = env.durable_object(STORE_BINDING).map_err(down)?;
    let stub = ns.id_from_name(name).map_err(down)?.get_stub().map_err(down)?;
    let body = msg.to_wire();
    let timeout = cfg.store_timeout_ms.min(u32::MAX as u64) as u32;
    let text = JsFuture::from(kv_call_js(&stub.into_rpc::<JsValue>(), KV_URL, &body, timeout))
        .await
        .map_err(|e| StoreError::Unavailable(e.as_string().unwrap_or_else(|| "kv call failed".into())))?;
    let text = text.as_string().unwrap_or_default();
    KvResponse::from_wire(&text).ok_or_else(|| StoreError::Unexpected("garbled kv reply".into()))
}
