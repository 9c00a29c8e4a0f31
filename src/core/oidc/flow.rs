//! One sign-in attempt: its secrets (state, nonce, PKCE verifier, the browser binding),
//! the authorization URL, the record kept server-side until the callback consumes it,
//! and the flow cookie's name. Random bytes come in as arguments.

use super::discovery::Discovery;
use super::form::encode;
use super::settings::OidcSettings;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long a sign-in may take (the flow cookie's and the record's life), in seconds.
pub const FLOW_LIFETIME: u64 = 600;

/// The flow cookie's name prefix; the state's first characters follow, so that two tabs
/// signing in at once each keep their own cookie.
pub const FLOW_COOKIE_PREFIX: &str = "__Host-sessiongate-oidc-";

/// The secrets of one attempt, each 256 bits from the CSPRNG, base64url.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSecrets {
    /// `state`: names the attempt; single use.
    pub state: String,
    /// `nonce`: binds the ID token to the attempt.
    pub nonce: String,
    /// The PKCE `code_verifier` (RFC 7636: 43 characters of base64url).
    pub verifier: String,
    /// The flow cookie's value; only its hash is stored.
    pub binding: String,
}

impl FlowSecrets {
    /// From 128 random bytes (four 32-byte values).
    pub fn from_random(r: &[u8; 128]) -> Self {
        let b = |i: usize| URL_SAFE_NO_PAD.encode(&r[i * 32..(i + 1) * 32]);
        FlowSecrets {
            state: b(0),
            nonce: b(1),
            verifier: b(2),
            binding: b(3),
        }
    }
}

/// Sign-in attempts one browser may have pending (one flow cookie each): a new attempt
/// past it clears the oldest, so a browser cannot collect them without end.
pub const PENDING_FLOWS_MAX: usize = 4;

/// The flow cookies a new attempt clears: the oldest of those the request carries, so
/// that with the new one at most `PENDING_FLOWS_MAX` remain. Browsers send cookies of
/// one path oldest first (RFC 6265 5.4).
pub fn flows_to_clear(cookie_header: Option<&str>) -> Vec<String> {
    let names: Vec<&str> = cookie_header
        .map(|h| {
            crate::core::cookie::pairs(h)
                .map(|(n, _)| n)
                .filter(|n| n.starts_with(FLOW_COOKIE_PREFIX))
                .collect()
        })
        .unwrap_or_default();
    let excess = (names.len() + 1).saturating_sub(PENDING_FLOWS_MAX);
    names.into_iter().take(excess).map(str::to_string).collect()
}

/// The flow cookie of the attempt with this state.
pub fn cookie_name(state: &str) -> String {
    let short: String = state.chars().filter(|c| c.is_ascii_alphanumeric()).take(16).collect();
    format!("{FLOW_COOKIE_PREFIX}{short}")
}

/// SHA-256, base64url: the PKCE challenge of a verifier, and the stored form of the binding.
pub fn sha256_b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(s.as_bytes()))
}

/// What the callback needs, kept server-side under the state until it is consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecord {
    pub nonce: String,
    pub verifier: String,
    /// `sha256_b64` of the flow cookie's value.
    pub binding_hash: String,
    pub return_to: String,
    /// Step-up: the user the session had when it began (`None`: a plain sign-in).
    pub reauth_user: Option<String>,
    /// Unix seconds; the step-up's `auth_time` must not be older.
    pub started_at: u64,
}

impl FlowRecord {
    /// One line per field, `reauth_user` (may be empty) and `return_to` last: none of
    /// the values can hold a newline (base64url, a number, a user id and a path without
    /// control characters). A plain format: a derived serde parser would add to the Wasm.
    pub fn encode(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.nonce,
            self.verifier,
            self.binding_hash,
            self.started_at,
            self.reauth_user.as_deref().map_or(String::new(), |u| format!("u{u}")),
            self.return_to
        )
    }

    /// Reads `encode`'s output; `None` for anything else.
    pub fn decode(s: &str) -> Option<Self> {
        let mut l = s.split('\n');
        let (nonce, verifier, binding_hash) = (l.next()?, l.next()?, l.next()?);
        let started_at = l.next()?.parse().ok()?;
        let reauth_user = match l.next()? {
            "" => None,
            u => Some(u.strip_prefix('u')?.to_string()),
        };
        let return_to = l.next()?.to_string();
        if l.next().is_some() {
            return None;
        }
        Some(FlowRecord {
            nonce: nonce.into(),
            verifier: verifier.into(),
            binding_hash: binding_hash.into(),
            return_to,
            reauth_user,
            started_at,
        })
    }

    /// Does the flow cookie's value belong to this record (compared in constant time)?
    pub fn bound_to(&self, cookie_value: &str) -> bool {
        sha256_b64(cookie_value).as_bytes().ct_eq(self.binding_hash.as_bytes()).into()
    }
}

/// The authorization request (OIDC Core 3.1.2.1 with PKCE). `reauth` asks for a fresh
/// authentication (`prompt=login`, `max_age=0`).
pub fn authorization_url(d: &Discovery, s: &OidcSettings, redirect_uri: &str, f: &FlowSecrets, reauth: bool) -> String {
    let challenge = sha256_b64(&f.verifier);
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", s.client_id.as_str()),
        ("redirect_uri", redirect_uri),
        ("scope", s.scopes.as_str()),
        ("state", f.state.as_str()),
        ("nonce", f.nonce.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if reauth {
        params.push(("prompt", "login"));
        params.push(("max_age", "0"));
    }
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    let sep = if d.authorization_endpoint.contains('?') { '&' } else { '?' };
    format!("{}{sep}{}", d.authorization_endpoint, query.join("&"))
}

/// RP-initiated logout (OIDC RP-Initiated Logout 1.0 §2): the provider's
/// `end_session_endpoint` with `id_token_hint` (when the session has its ID token),
/// `client_id` and `post_logout_redirect_uri`.
pub fn end_session_url(endpoint: &str, id_token_hint: Option<&str>, client_id: &str, post_logout_redirect_uri: &str) -> String {
    let mut params = Vec::new();
    if let Some(t) = id_token_hint.filter(|t| !t.is_empty()) {
        params.push(format!("id_token_hint={}", encode(t)));
    }
    params.push(format!("client_id={}", encode(client_id)));
    params.push(format!("post_logout_redirect_uri={}", encode(post_logout_redirect_uri)));
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    format!("{endpoint}{sep}{}", params.join("&"))
}

/// The longest `return_to` kept.
pub const MAX_RETURN_TO: usize = 2048;

/// `return_to` when it is a path on this site, else `/`. The rules of the login
/// redirect (`core::client::login_redirect`): one leading `/`, never `//host` or
/// `/\host` (protocol-relative once a browser reads it), no control characters or
/// whitespace (browsers drop tabs and newlines, turning `/\t/evil` into `//evil`).
pub fn safe_return_to(raw: Option<&str>) -> String {
    let Some(r) = raw else {
        return "/".into();
    };
    let ok = r.starts_with('/')
        && !r.starts_with("//")
        && !r.starts_with("/\\")
        && r.len() <= MAX_RETURN_TO
        && !r.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if ok {
        r.to_string()
    } else {
        "/".into()
    }
}

#[cfg(test)]
mod tests {
    use super::super::discovery::ClientAuth;
    use super::*;
    use proptest::prelude::*;

    fn disc() -> Discovery {
        Discovery {
            issuer: "https://id.example".into(),
            authorization_endpoint: "https://id.example/auth".into(),
            token_endpoint: "https://id.example/token".into(),
            jwks_uri: "https://id.example/jwks".into(),
            userinfo_endpoint: None,
            end_session_endpoint: None,
            iss_parameter: false,
            client_auth: ClientAuth::None,
        }
    }

    fn settings() -> OidcSettings {
        super::super::settings::parse(|k| match k {
            "OIDC_ISSUER" => Some("https://id.example".into()),
            "OIDC_CLIENT_ID" => Some("gate".into()),
            _ => None,
        })
        .unwrap()
        .unwrap()
    }

    #[test]
    fn pending_flows_are_capped_oldest_first() {
        assert!(flows_to_clear(None).is_empty());
        let header = (0..6)
            .map(|i| format!("{FLOW_COOKIE_PREFIX}{i}=b; x{i}=1"))
            .collect::<Vec<_>>()
            .join("; ");
        let cleared = flows_to_clear(Some(&header));
        assert_eq!(cleared, (0..3).map(|i| format!("{FLOW_COOKIE_PREFIX}{i}")).collect::<Vec<_>>());
        let three = (0..3).map(|i| format!("{FLOW_COOKIE_PREFIX}{i}=b")).collect::<Vec<_>>().join("; ");
        assert!(flows_to_clear(Some(&three)).is_empty(), "three and the new one: four");
    }

    #[test]
    fn secrets_are_distinct_256_bit_values() {
        let mut r = [0u8; 128];
        for (i, b) in r.iter_mut().enumerate() {
            *b = i as u8;
        }
        let f = FlowSecrets::from_random(&r);
        assert_eq!(f.state.len(), 43);
        assert_ne!(f.state, f.nonce);
        assert_ne!(f.verifier, f.binding);
        // Each secret is its own quarter of the random bytes, 256 bits and no more.
        let quarters = [&r[0..32], &r[32..64], &r[64..96], &r[96..128]];
        let got = [&f.state, &f.nonce, &f.verifier, &f.binding];
        for (secret, quarter) in got.into_iter().zip(quarters) {
            assert_eq!(secret.len(), 43);
            assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap(), quarter);
        }
        assert!(cookie_name(&f.state).starts_with("__Host-sessiongate-oidc-"));
        assert_eq!(cookie_name(&f.state).len(), FLOW_COOKIE_PREFIX.len() + 16);
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            sha256_b64("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn authorization_url_carries_every_parameter() {
        let f = FlowSecrets::from_random(&[7u8; 128]);
        let u = authorization_url(&disc(), &settings(), "http://127.0.0.1:1/.sessiongate/oidc/callback", &f, false);
        assert!(u.starts_with("https://id.example/auth?response_type=code&client_id=gate&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2F.sessiongate%2Foidc%2Fcallback&scope=openid%20profile%20email&state="));
        assert!(u.contains("&code_challenge_method=S256"));
        assert!(u.contains(&format!("&code_challenge={}", sha256_b64(&f.verifier))));
        assert!(!u.contains("prompt="));
        let r = authorization_url(&disc(), &settings(), "x", &f, true);
        assert!(r.ends_with("&prompt=login&max_age=0"));
    }

    #[test]
    fn binding_is_checked_against_the_hash() {
        let mut r = [0u8; 128];
        r[0] = 1;
        let f = FlowSecrets::from_random(&r);
        let rec = FlowRecord {
            nonce: f.nonce.clone(),
            verifier: f.verifier.clone(),
            binding_hash: sha256_b64(&f.binding),
            return_to: "/".into(),
            reauth_user: None,
            started_at: 0,
        };
        assert!(rec.bound_to(&f.binding));
        assert!(!rec.bound_to(&f.state));
        assert_eq!(FlowRecord::decode(&rec.encode()), Some(rec.clone()));
        let step_up = FlowRecord {
            reauth_user: Some("ann@example.com".into()),
            return_to: "/pay?x=1".into(),
            ..rec
        };
        assert_eq!(FlowRecord::decode(&step_up.encode()), Some(step_up));
        assert_eq!(FlowRecord::decode("a\nb"), None);
        assert_eq!(FlowRecord::decode("a\nb\nc\nx\n\n/"), None);
    }

    #[test]
    fn end_session_url_carries_the_hint_client_and_redirect() {
        assert_eq!(
            end_session_url("https://id.example/end", Some("a.b.c"), "gate", "https://app.example/"),
            "https://id.example/end?id_token_hint=a.b.c&client_id=gate&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2F"
        );
        assert_eq!(
            end_session_url("https://id.example/end?x=1", None, "gate", "https://app.example/"),
            "https://id.example/end?x=1&client_id=gate&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2F"
        );
    }

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(safe_return_to(Some("/app?x=1")), "/app?x=1");
        assert_eq!(safe_return_to(None), "/");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "/\t/evil",
            "evil",
            "/a b",
            "",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad:?}");
        }
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn a_flow_record_reads_back_as_written(rt in "\\PC{0,60}", user in proptest::option::of("[a-z@.]{1,20}"), t in 0u64..1 << 40) {
            let rec = FlowRecord {
                nonce: "n".into(),
                verifier: "v".into(),
                binding_hash: "b".into(),
                return_to: safe_return_to(Some(&rt)),
                reauth_user: user,
                started_at: t,
            };
            prop_assert_eq!(FlowRecord::decode(&rec.encode()), Some(rec));
        }

        #[test]
        fn return_to_is_always_a_local_path(s in "\\PC{0,60}") {
            let r = safe_return_to(Some(&s));
            prop_assert!(r.starts_with('/') && !r.starts_with("//") && !r.starts_with("/\\"));
            prop_assert!(!r.chars().any(|c| c.is_control() || c.is_whitespace()));
        }
    }
}
