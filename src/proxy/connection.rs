//! Live connections on the way back: a WebSocket the origin accepted (101) is relayed,
//! an event stream of a session is watched; either is closed when its session ends
//! (`edge::live`). Everything else passes as it came (a body of unknown length
//! streams through untouched).

use crate::core::config::Config;
use crate::core::headers::is_event_stream;
use crate::edge::cookie::{stamp_edits, CookieChange};
use crate::edge::io::Edits;
use crate::edge::live::{self, LiveError, Watch};
use crate::edge::log;
use crate::edge::respond::{self, raw};
use crate::edge::validate::Live;
use worker::{web_sys, Env, Result};

/// The client's 101 for the origin's, relayed, with the cookie change validation made
/// (a token re-signed under the current key, a new ID after plain HTTP); with a
/// session, watched. `slides`: the handshake counted as activity (not on
/// IDLE_EXEMPT_PATHS), and so do the client's messages.
pub async fn websocket(
    env: &Env,
    cfg: &Config,
    origin: &web_sys::Response,
    live: Option<&Live>,
    cookie: &CookieChange,
    slides: bool,
) -> Result<web_sys::Response> {
    let watch = match live.map(|l| Watch::of(env, l, cfg.max_connections_per_session)).transpose() {
        Ok(w) => w,
        Err(e) => {
            log::failure("store_unavailable", &e.to_string());
            return raw(respond::store_unavailable());
        }
    };
    let mut stamp = Edits::default();
    stamp_edits(&mut stamp, cfg, live, cookie);
    settle(live::relay_web_socket(origin, watch.as_ref(), &stamp, slides, cfg).await)
}

/// An event stream of a session, cut when the session ends; any other response as is.
pub async fn stream(
    env: &Env,
    cfg: &Config,
    resp: web_sys::Response,
    live: Option<&Live>,
    content_type: Option<&str>,
) -> Result<web_sys::Response> {
    let Some(l) = live.filter(|_| content_type.is_some_and(is_event_stream)) else {
        return Ok(resp);
    };
    match Watch::of(env, l, cfg.max_connections_per_session) {
        Ok(w) => settle(live::watch_stream(&resp, &w, cfg).await),
        Err(e) => {
            log::failure("store_unavailable", &e.to_string());
            raw(respond::store_unavailable())
        }
    }
}

/// The session ended before the watch opened: 401 with its reason; the watch could not
/// be opened: 503 (fail closed: nothing is held open unwatched).
fn settle(r: std::result::Result<web_sys::Response, LiveError>) -> Result<web_sys::Response> {
    match r {
        Ok(resp) => Ok(resp),
        Err(LiveError::Ended(reason)) => raw(respond::unauthenticated(reason)),
        Err(LiveError::Limit) => raw(respond::error_detail(
            429,
            "too_many_connections",
            "this session holds as many WebSockets and event streams as MAX_CONNECTIONS_PER_SESSION allows",
        )),
        Err(LiveError::Failed(detail)) => {
            log::failure("live_connection", &detail);
            raw(respond::store_unavailable())
        }
    }
}
