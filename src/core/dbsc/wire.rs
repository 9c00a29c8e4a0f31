//! What the browser reads: the registration offer and the challenge headers, the session
//! instructions, the end of a device-bound session, and the device cookie's attributes
//! (the session cookie's, so the instructions and `Set-Cookie` cannot disagree).

use super::jwk::DeviceAlg;
use super::{REFRESH_PATH, REGISTER_PATH};
use crate::core::cookie::{self, SameSite};
use crate::core::cookie_scope::CookieScope;
use serde_json::Value;

/// `Secure-Session-Registration` on a response that sets a new session cookie.
pub const REGISTRATION_HEADER: &str = "secure-session-registration";
/// The proof a browser sends (registration and refresh).
pub const RESPONSE_HEADER: &str = "secure-session-response";
/// The refresh's challenge.
pub const CHALLENGE_HEADER: &str = "secure-session-challenge";
/// The session a refresh is for.
pub const SESSION_ID_HEADER: &str = "sec-secure-session-id";

/// `(ES256 RS256);path="<api_base>/dbsc/register";challenge="<c>"`.
pub fn registration(api_base: &str, challenge: &str) -> String {
    let algs = [DeviceAlg::Es256, DeviceAlg::Rs256].map(DeviceAlg::as_str).join(" ");
    format!("({algs});path=\"{api_base}/{REGISTER_PATH}\";challenge=\"{challenge}\"")
}

/// `"<c>";id="<session identifier>"` (without `id` when the refresh named none).
pub fn challenge(challenge: &str, session_identifier: Option<&str>) -> String {
    match session_identifier {
        Some(id) => format!("\"{challenge}\";id=\"{id}\""),
        None => format!("\"{challenge}\""),
    }
}

/// The attributes of the session cookie, hence of the device cookie, without `Max-Age`:
/// `Path=/; HttpOnly; Secure; SameSite=Lax` (with `Domain=` under `COOKIE_DOMAIN`).
pub fn cookie_attributes(scope: &CookieScope, same_site: SameSite) -> String {
    let set = cookie::set("x", scope, "", same_site, None);
    set.split_once("; ").map(|(_, attrs)| attrs.to_string()).unwrap_or_default()
}

/// A JSON string, escaped by serde_json (for what a client sent).
fn string(s: &str) -> String {
    crate::core::json::text(&Value::String(s.to_string()))
}

/// The session instructions (JSON) after a registration or a refresh. The scope is the
/// origin that asked (`include_site: false`): a registration from a subdomain that claims
/// the whole site is refused by browsers. Written with `format!` rather than `json!`,
/// which costs the gate's Wasm kilobytes of inlined map building; every value is the
/// gate's own and holds nothing JSON escapes (a handle is base64url; the configuration
/// refuses quotes, backslashes and controls in paths, domains and cookie names).
pub fn instructions(session_identifier: &str, api_base: &str, device_cookie: &str, attributes: &str) -> String {
    format!(
        r#"{{"session_identifier":"{session_identifier}","refresh_url":"{api_base}/{REFRESH_PATH}","scope":{{"include_site":false}},"credentials":[{{"type":"cookie","name":"{device_cookie}","attributes":"{attributes}"}}]}}"#
    )
}

/// The answer (JSON) to a refresh for a session that has ended: the browser stops
/// refreshing.
pub fn ended(session_identifier: &str) -> String {
    format!(r#"{{"session_identifier":{},"continue":false}}"#, string(session_identifier))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_offer_and_the_challenge_as_the_contract_writes_them() {
        assert_eq!(
            registration("/.sessiongate", "abc"),
            r#"(ES256 RS256);path="/.sessiongate/dbsc/register";challenge="abc""#
        );
        assert_eq!(challenge("abc", Some("h1")), r#""abc";id="h1""#);
        assert_eq!(challenge("abc", None), r#""abc""#);
    }

    #[test]
    fn the_device_cookie_has_the_session_cookie_s_attributes() {
        let host = CookieScope::host_only();
        assert_eq!(cookie_attributes(&host, SameSite::Lax), "Path=/; HttpOnly; Secure; SameSite=Lax");
        let scoped = CookieScope::parse(Some("example.test"), Some("/app")).unwrap();
        let attrs = cookie_attributes(&scoped, SameSite::Strict);
        assert_eq!(attrs, "Domain=example.test; Path=/app; HttpOnly; Secure; SameSite=Strict");
        let set = cookie::set("__Secure-session-device", &scoped, "v", SameSite::Strict, Some(600));
        assert_eq!(set, format!("__Secure-session-device=v; {attrs}; Max-Age=600"));
    }

    #[test]
    fn instructions_name_the_refresh_url_and_the_cookie() {
        let v: Value = serde_json::from_str(&instructions("h1", "/app/.sessiongate", "__Secure-session-device", "Path=/app")).unwrap();
        assert_eq!(v["session_identifier"], "h1");
        assert_eq!(v["refresh_url"], "/app/.sessiongate/dbsc/refresh");
        assert_eq!(v["scope"], json!({"include_site": false}));
        assert_eq!(
            v["credentials"][0],
            json!({"type": "cookie", "name": "__Secure-session-device", "attributes": "Path=/app"})
        );
        let e: Value = serde_json::from_str(&ended("h1")).unwrap();
        assert_eq!(e, json!({"session_identifier": "h1", "continue": false}));
        let odd: Value = serde_json::from_str(&ended("a\"b\\c\u{1}")).unwrap();
        assert_eq!(
            odd["session_identifier"], "a\"b\\c\u{1}",
            "whatever a client sent comes back as it was"
        );
    }
}
