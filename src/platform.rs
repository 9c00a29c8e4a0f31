//! What the Workers runtime supplies to the pure core: configuration from `Env` (the
//! gate's; the store Worker has none), the clock, randomness, and the session store
//! binding.

#[cfg(feature = "gate")]
pub use gate::*;

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub fn now() -> u64 {
    now_ms() / 1000
}

/// Text a JS helper handed to the Wasm as `TextEncoder` bytes (copied natively, where a
/// returned string is copied a character at a time): always UTF-8 (a lone surrogate
/// became U+FFFD, as wasm-bindgen's own copy does), so the lossy branch never runs.
pub fn text_from_js(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(feature = "gate")]
mod gate {
    use crate::core::config::{Config, ConfigError};
    use std::cell::RefCell;
    use std::rc::Rc;
    use worker::Env;

    pub const STORE_BINDING: &str = "SESSIONS";

    thread_local! {
        // Parsed once per isolate: vars and secrets do not change while it lives.
        static CONFIG: RefCell<Option<Result<Rc<Config>, ConfigError>>> = const { RefCell::new(None) };
    }

    fn lookup(env: &Env, name: &str) -> Option<String> {
        env.var(name)
            .ok()
            .map(|v| v.to_string())
            .or_else(|| env.secret(name).ok().map(|v| v.to_string()))
    }

    pub fn config(env: &Env) -> Result<Rc<Config>, ConfigError> {
        CONFIG.with(|cell| {
            if let Some(c) = cell.borrow().as_ref() {
                return c.clone();
            }
            let parsed = Config::from_lookup(|name| lookup(env, name)).map(Rc::new);
            if let Err(e) = &parsed {
                worker::console_error!("{}", serde_json::json!({"sessiongate": "config_error", "detail": e.to_string()}));
            }
            *cell.borrow_mut() = Some(parsed.clone());
            parsed
        })
    }

    pub fn random<const N: usize>() -> Result<[u8; N], worker::Error> {
        let mut buf = [0u8; N];
        getrandom::getrandom(&mut buf).map_err(|e| worker::Error::RustError(format!("CSPRNG unavailable: {e}")))?;
        Ok(buf)
    }
}
