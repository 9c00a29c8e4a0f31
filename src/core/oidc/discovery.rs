//! The provider's discovery document (OIDC Discovery 1.0 §3), checked once when fetched:
//! the `issuer` equal to `OIDC_ISSUER`, every endpoint https (http on loopback), PKCE
//! S256 supported when the provider says which methods it supports, and the client
//! authentication the gate will use.

use super::provider_url_problem;
use serde_json::{Map, Value};
use thiserror::Error;

/// How the gate authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No secret: a public client, PKCE only.
    None,
    /// HTTP Basic with the client id and secret (the default, RFC 6749 §2.3.1).
    Basic,
    /// The secret in the form body, when the provider supports only that.
    Post,
}

/// What the gate uses of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub userinfo_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    /// RFC 9207: the provider adds `iss` to its authorization responses.
    pub iss_parameter: bool,
    pub client_auth: ClientAuth,
}

/// Why a document is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DiscoveryError {
    #[error("not a JSON discovery document with the required endpoints")]
    Malformed,
    #[error("issuer {0:?} is not OIDC_ISSUER")]
    IssuerMismatch(String),
    #[error("{0}: {1}")]
    BadEndpoint(&'static str, String),
    #[error("the provider does not support PKCE with S256")]
    NoS256,
    #[error("the provider supports neither client_secret_basic nor client_secret_post")]
    NoClientAuth,
}

/// Read through `serde_json::Value` rather than a derived struct: the Wasm already holds
/// `Value`'s parser, and each derived one adds kilobytes (the size budget).
fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(str::to_string)
}

fn list(m: &Map<String, Value>, k: &str) -> Option<Vec<String>> {
    m.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

fn endpoint(name: &'static str, url: String) -> Result<String, DiscoveryError> {
    match provider_url_problem(&url) {
        Some(p) => Err(DiscoveryError::BadEndpoint(name, p)),
        None => Ok(url),
    }
}

/// Parses and checks a discovery document for `issuer` (compared exactly, §4.3).
/// `has_secret`: whether `OIDC_CLIENT_SECRET` is set.
pub fn parse(text: &str, issuer: &str, has_secret: bool) -> Result<Discovery, DiscoveryError> {
    let m: Map<String, Value> = serde_json::from_str(text).map_err(|_| DiscoveryError::Malformed)?;
    let field = |k: &str| self::text(&m, k).ok_or(DiscoveryError::Malformed);
    let found_issuer = field("issuer")?;
    if found_issuer != issuer {
        return Err(DiscoveryError::IssuerMismatch(found_issuer.chars().take(200).collect()));
    }
    if let Some(methods) = list(&m, "code_challenge_methods_supported") {
        if !methods.iter().any(|m| m == "S256") {
            return Err(DiscoveryError::NoS256);
        }
    }
    let client_auth = match (has_secret, &list(&m, "token_endpoint_auth_methods_supported")) {
        (false, _) => ClientAuth::None,
        // Absent: client_secret_basic is the default (Discovery §3).
        (true, None) => ClientAuth::Basic,
        (true, Some(m)) if m.iter().any(|x| x == "client_secret_basic") => ClientAuth::Basic,
        (true, Some(m)) if m.iter().any(|x| x == "client_secret_post") => ClientAuth::Post,
        (true, Some(_)) => return Err(DiscoveryError::NoClientAuth),
    };
    let optional = |k: &'static str| self::text(&m, k).map(|u| endpoint(k, u)).transpose();
    Ok(Discovery {
        issuer: found_issuer,
        authorization_endpoint: endpoint("authorization_endpoint", field("authorization_endpoint")?)?,
        token_endpoint: endpoint("token_endpoint", field("token_endpoint")?)?,
        jwks_uri: endpoint("jwks_uri", field("jwks_uri")?)?,
        userinfo_endpoint: optional("userinfo_endpoint")?,
        end_session_endpoint: optional("end_session_endpoint")?,
        iss_parameter: m.get("authorization_response_iss_parameter_supported") == Some(&Value::Bool(true)),
        client_auth,
    })
}

/// Longest a discovery document or JWKS is kept, in seconds.
pub const MAX_CACHE: u64 = 3600;

/// Seconds a provider response may be cached: its `Cache-Control` `max-age`, at most
/// `MAX_CACHE`; `no-store` / `no-cache` mean 0; no header means `MAX_CACHE`.
pub fn cache_seconds(cache_control: Option<&str>) -> u64 {
    let Some(cc) = cache_control else {
        return MAX_CACHE;
    };
    let mut max_age = None;
    for d in cc.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if d == "no-store" || d == "no-cache" {
            return 0;
        }
        if let Some(v) = d.strip_prefix("max-age=") {
            max_age = Some(v.trim_matches('"').parse::<u64>().unwrap_or(0));
        }
    }
    max_age.unwrap_or(MAX_CACHE).min(MAX_CACHE)
}

/// Minimum seconds between two JWKS fetches forced by an unknown `kid`.
pub const KID_REFETCH_INTERVAL: u64 = 30;

/// May an unknown `kid` refetch the JWKS now (`last`: the previous forced refetch)?
pub fn may_refetch_for_kid(last: Option<u64>, now: u64) -> bool {
    last.is_none_or(|l| now.saturating_sub(l) >= KID_REFETCH_INTERVAL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ISS: &str = "http://127.0.0.1:8789";

    fn doc(extra: &str) -> String {
        format!(
            r#"{{"issuer":"{ISS}","authorization_endpoint":"{ISS}/auth","token_endpoint":"{ISS}/token","jwks_uri":"{ISS}/jwks"{extra}}}"#
        )
    }

    #[test]
    fn parses_a_document() {
        let d = parse(
            &doc(r#","end_session_endpoint":"http://127.0.0.1:8789/session/end","authorization_response_iss_parameter_supported":true"#),
            ISS,
            true,
        )
        .unwrap();
        assert_eq!(d.token_endpoint, "http://127.0.0.1:8789/token");
        assert_eq!(d.end_session_endpoint.as_deref(), Some("http://127.0.0.1:8789/session/end"));
        assert!(d.iss_parameter);
        assert_eq!(d.client_auth, ClientAuth::Basic);
        assert_eq!(parse(&doc(""), ISS, false).unwrap().client_auth, ClientAuth::None);
    }

    #[test]
    fn refuses_what_cannot_be_trusted() {
        assert!(matches!(
            parse(&doc(""), "http://127.0.0.1:8789/", false),
            Err(DiscoveryError::IssuerMismatch(_))
        ));
        assert_eq!(parse("{}", ISS, false), Err(DiscoveryError::Malformed));
        let bad = doc("").replace("http://127.0.0.1:8789/token", "http://evil.example/token");
        assert!(matches!(
            parse(&bad, ISS, false),
            Err(DiscoveryError::BadEndpoint("token_endpoint", _))
        ));
        assert_eq!(
            parse(&doc(r#","code_challenge_methods_supported":["plain"]"#), ISS, false),
            Err(DiscoveryError::NoS256)
        );
        assert_eq!(
            parse(&doc(r#","token_endpoint_auth_methods_supported":["private_key_jwt"]"#), ISS, true),
            Err(DiscoveryError::NoClientAuth)
        );
    }

    #[test]
    fn client_secret_post_only_when_basic_is_missing() {
        let post = doc(r#","token_endpoint_auth_methods_supported":["client_secret_post"]"#);
        assert_eq!(parse(&post, ISS, true).unwrap().client_auth, ClientAuth::Post);
        let both = doc(r#","token_endpoint_auth_methods_supported":["client_secret_post","client_secret_basic"]"#);
        assert_eq!(parse(&both, ISS, true).unwrap().client_auth, ClientAuth::Basic);
    }

    #[test]
    fn cache_lifetimes() {
        assert_eq!(cache_seconds(None), 3600);
        assert_eq!(cache_seconds(Some("public, max-age=600")), 600);
        assert_eq!(cache_seconds(Some("max-age=86400")), 3600);
        assert_eq!(cache_seconds(Some("no-store")), 0);
        assert_eq!(cache_seconds(Some("max-age=60, no-cache")), 0);
        assert_eq!(cache_seconds(Some("max-age=junk")), 0);
        assert!(may_refetch_for_kid(None, 100));
        assert!(!may_refetch_for_kid(Some(100), 129));
        assert!(may_refetch_for_kid(Some(100), 130));
    }

    proptest! {
        #[test]
        fn any_cache_control_is_bounded(s in "\\PC{0,40}") {
            prop_assert!(cache_seconds(Some(&s)) <= MAX_CACHE);
        }

        #[test]
        fn any_document_parses_or_fails_cleanly(s in "\\PC{0,80}") {
            let _ = parse(&s, ISS, true);
        }
    }
}
