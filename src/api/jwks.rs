//! `GET /.sessiongate/jwks.json`: the public keys origins verify `X-Session-Assertion`
//! with. Public (no session, any site may fetch it), never forwarded; the body was
//! built once with the configuration. Five minutes of caching is what a rotation waits
//! out before the old key may be removed (SECURITY.md: Rotating the assertion key).

use crate::core::config::Config;
use crate::edge::{keys, respond};
use worker::{Headers, Response, Result};

pub async fn answer(cfg: &Config) -> Result<Response> {
    let body = match keys::jwks_json(cfg).await {
        Ok(b) => b,
        Err(e) => return respond::config_error(&e),
    };
    let h = Headers::new();
    h.set("content-type", "application/jwk-set+json")?;
    h.set("cache-control", "public, max-age=300")?;
    h.set("x-content-type-options", "nosniff")?;
    Ok(Response::builder().with_headers(h).fixed(body.into_bytes()))
}
