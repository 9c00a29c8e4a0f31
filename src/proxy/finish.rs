//! The origin's response on its way back: the command and any `X-Session-*` header or
//! gate cookie the origin set are removed, the gate's cookie change and expiry headers
//! added, all in one `io` call (an unchanged response passes as it came).

use crate::core::config::Config;
use crate::core::cookie;
use crate::core::headers::is_reserved;
use crate::edge::cookie::{stamp_edits, CookieChange};
use crate::edge::io::{self, Edits, RawResponse};
use crate::edge::validate::Live;
use worker::web_sys;

pub fn finish(
    resp: web_sys::Response,
    raw: &RawResponse,
    cfg: &Config,
    https: bool,
    live: Option<&Live>,
    cookie: &CookieChange,
) -> web_sys::Response {
    let mut out = Edits::default();
    for name in raw.names.iter().filter(|n| is_reserved(n)) {
        out.drop(name);
    }
    // The origin may set its own cookies, never the gate's.
    let theirs = |sc: &&String| cookie::set_cookie_name(sc) != cfg.cookie_name;
    let replace = (!raw.set_cookies.iter().all(|sc| theirs(&sc))).then(|| raw.set_cookies.iter().filter(theirs).cloned().collect());
    stamp_edits(&mut out, cfg, live, cookie);
    // With HTTPS required, tell browsers never to try plain HTTP (unless the origin set it).
    if https && cfg.require_https && !raw.names.iter().any(|n| n == "strict-transport-security") {
        out.set("strict-transport-security", "max-age=31536000");
    }
    io::finish(resp, &out, replace)
}
