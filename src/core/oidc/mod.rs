//! Edge sign-in with OpenID Connect (issue 13), the pure part: settings, the provider's
//! discovery document, the authorization request, the checks of ID tokens (OIDC Core
//! 3.1.3.7) and logout tokens (Back-Channel Logout 1.0 §2.6), and the mapping of claims
//! to the session. No `worker` types: the clock and random bytes are arguments. The
//! signature itself is verified in the runtime's WebCrypto (`edge::idp`).
//!
//! - `settings`: the `OIDC_*` variables.
//! - `discovery`: `/.well-known/openid-configuration`, and how long to cache it.
//! - `form`: `application/x-www-form-urlencoded` (queries, token requests, logout POSTs).
//! - `flow`: state, nonce, PKCE, the authorization URL, `return_to`, the flow record.
//! - `jwt`: compact JWS parsing, the algorithm allow-list, key selection in a JWKS.
//! - `id_token` / `logout_token`: the claim checks, each failure a named variant.
//! - `claims`: the user, roles and data a session gets from the claims.

pub mod claims;
pub mod discovery;
pub mod flow;
pub mod form;
pub mod id_token;
pub mod jwt;
pub mod logout_token;
pub mod settings;

/// Clock skew tolerated on `exp`, `iat` and `auth_time`, in seconds.
pub const MAX_SKEW: u64 = 60;

/// `https`, or `http` on a loopback host (local development and tests). Returns the
/// problem, or `None` when the URL is acceptable as a provider URL.
pub fn provider_url_problem(raw: &str) -> Option<String> {
    let Some(u) = super::url::split(raw) else {
        return Some(format!("{raw:?} is not an absolute URL"));
    };
    if raw.contains(['#', ' ']) || raw.chars().any(char::is_control) || raw.contains('@') {
        return Some(format!(
            "{raw:?} must not contain a fragment, credentials, spaces or control characters"
        ));
    }
    let scheme = u.scheme.to_ascii_lowercase();
    let host = u.host().to_ascii_lowercase();
    let loopback = host == "localhost" || host == "::1" || host.starts_with("127.");
    match scheme.as_str() {
        "https" => None,
        "http" if loopback => None,
        "http" => Some(format!("{raw:?} is not https (plain http is allowed on loopback hosts only)")),
        _ => Some(format!("{raw:?}: scheme must be https")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_urls_need_https_except_on_loopback() {
        assert_eq!(provider_url_problem("https://id.example.com"), None);
        assert_eq!(provider_url_problem("http://127.0.0.1:8789"), None);
        assert_eq!(provider_url_problem("http://localhost:8789/oidc"), None);
        assert_eq!(provider_url_problem("http://[::1]:8789"), None);
        assert!(provider_url_problem("http://id.example.com").is_some());
        assert!(provider_url_problem("ftp://id.example.com").is_some());
        assert!(provider_url_problem("https://u@id.example.com").is_some());
        assert!(provider_url_problem("https://id.example.com/#x").is_some());
        assert!(provider_url_problem("id.example.com").is_some());
    }

    #[test]
    fn a_refused_provider_url_says_why() {
        // The operator reads this in the configuration error: plain http on a public
        // host and a wrong scheme are different mistakes.
        let http = provider_url_problem("http://id.example.com").unwrap();
        assert!(http.contains("is not https") && http.contains("loopback"), "{http}");
        let ftp = provider_url_problem("ftp://id.example.com").unwrap();
        assert!(ftp.contains("scheme must be https"), "{ftp}");
        let at = provider_url_problem("https://u@id.example.com").unwrap();
        assert!(at.contains("credentials"), "{at}");
        assert!(provider_url_problem("id.example.com").unwrap().contains("not an absolute URL"));
    }
}
