//! The request to the origin: a validated request, stripped of anything the client
//! could use to impersonate the gate, and stamped with identity and a signed assertion.

use crate::core::assertion::{self, ClaimsRef};
use crate::core::config::{self, Config};
use crate::core::cookie;
use crate::core::headers::{ascii_json, dropped_from_client, push_identity};
use crate::edge::io::Edits;
use crate::edge::keys::{self, Assertion, KeyFailure};
use crate::edge::request::Incoming;
use crate::edge::validate::Live;
use worker::wasm_bindgen::JsValue;

const ASSERTION_HEADER: &str = "x-session-assertion";
/// What a forward's edits come to with an HS256 assertion and some session data.
const FORWARD_EDITS_ROOM: usize = 1024;

thread_local! {
    /// The header's name as the JS string `io::forward` sets, made once per isolate.
    static ASSERTION_NAME: JsValue = JsValue::from_str(ASSERTION_HEADER);
}

/// The origin URL for this request and the audience of the assertion: the origin's
/// host, or with COOKIE_DOMAIN (one gate for several hosts) the host that was asked, so
/// an assertion for `app.` cannot be replayed to `admin.`.
pub fn target(cfg: &Config, inc: &Incoming) -> (String, String) {
    let requested = || config::host_of(&inc.host).to_string();
    match &cfg.origin_url {
        Some(o) if cfg.cookie_scope.domain().is_some() => (o.url_for(&inc.path, &inc.query), requested()),
        Some(o) => (o.url_for(&inc.path, &inc.query), o.host().to_string()),
        None => (
            format!("{}{}{}", inc.own_origin, inc.path, inc.query),
            config::host_of(&inc.host).to_string(),
        ),
    }
}

/// The header edits that turn the client's request into the origin's: the client's
/// own copies of anything the gate vouches for are dropped, the gate's are set.
/// Fails only if the assertion cannot be made: then nothing is forwarded. With ES256
/// and EdDSA it is signed by `io::forward`, which fails the same way.
pub async fn origin_edits(inc: &Incoming, cfg: &Config, live: Option<&Live>, url: &str, aud: &str, now: u64) -> Result<Edits, KeyFailure> {
    let mut out = Edits::with_room(FORWARD_EDITS_ROOM);
    for name in inc.header_names.iter().filter(|n| dropped_from_client(n)) {
        out.drop(name);
    }
    if let Some(c) = inc.cookie_header.as_deref().and_then(|h| cookie::strip(h, &cfg.cookie_name)) {
        out.set("cookie", &c);
    }
    if !inc.client.ip.is_empty() {
        out.set("x-forwarded-for", &inc.client.ip);
    }
    // Host and port as the client addressed the gate (what a redirect back must use).
    let authority = inc.own_origin.split_once("://").map_or("", |(_, a)| a);
    out.set("x-forwarded-host", authority.rsplit('@').next().unwrap_or(authority));
    out.set("x-forwarded-proto", if inc.https { "https" } else { "http" });

    let mut claims = ClaimsRef::new(aud, now, inc.method(), url);
    // The session data's header value and digest: declared here to outlive `claims`,
    // which borrows the digest.
    let (data, digest);
    if let Some(live) = live {
        let s = &live.session;
        out.set("x-session-id", &s.handle);
        claims.sid = Some(&s.handle);
        if let Some(user) = &s.user {
            out.set_with("x-session-user", |v| push_identity(v, user));
            out.set_with("x-session-roles", |v| push_roles(v, &s.roles));
            out.set_with("x-session-auth-time", |v| push_number(v, s.auth_time));
            out.set("x-session-binding", live.binding.as_str());
            claims.sub = Some(user);
            claims.roles = Some(&s.roles);
            claims.auth_time = Some(s.auth_time);
            claims.bind = live.binding.claim();
            // Validation let the request through, so a bound session proved its device.
            claims.device_bound = s.is_device_bound().then_some(true);
            if let Some(until) = s.elevated_until.filter(|u| *u > now) {
                out.set_with("x-session-elevated-until", |v| push_number(v, until));
                claims.elev = Some(until);
            }
        }
        if !s.data.is_empty() {
            data = ascii_json(&s.data);
            digest = assertion::data_digest(&data);
            claims.data_sha256 = Some(&digest);
            out.set("x-session-data", &data);
        }
    }
    match keys::assertion(cfg, claims).await? {
        Assertion::Signed(token) => out.set(ASSERTION_HEADER, &token),
        Assertion::Unsigned { signer, input } => ASSERTION_NAME.with(|name| out.set_signed(name, signer, input)),
    }
    Ok(out)
}

/// The roles as one header value: each an `identity_value`, comma-separated.
fn push_roles(out: &mut String, roles: &[String]) {
    for (i, role) in roles.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_identity(out, role);
    }
}

fn push_number(out: &mut String, n: u64) {
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(out, "{n}");
}
