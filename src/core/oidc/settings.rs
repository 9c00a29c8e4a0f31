//! The `OIDC_*` variables, parsed with the rest of the typed configuration: edge
//! sign-in is on when `OIDC_ISSUER` is set, and every bad value is refused with the
//! variable's name.

use super::provider_url_problem;
use crate::core::config::ConfigError;
use std::fmt;

/// `OIDC_CLIENT_SECRET`. Its Debug never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(pub String);

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientSecret(<{} bytes>)", self.0.len())
    }
}

/// Edge sign-in settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// `OIDC_ISSUER`, exactly as configured (the discovery document must say the same).
    pub issuer: String,
    /// `OIDC_CLIENT_ID`.
    pub client_id: String,
    /// `OIDC_CLIENT_SECRET`; `None`: a public client (PKCE only).
    pub client_secret: Option<ClientSecret>,
    /// `OIDC_SCOPES`, space-separated, `openid` among them.
    pub scopes: String,
    /// `OIDC_USER_CLAIM`: the claim that becomes the user id.
    pub user_claim: String,
    /// `OIDC_USER_PREFIX`: put before the claim's value, so that a provider's `alice`
    /// is not the origin's own `alice` (empty: the same namespace).
    pub user_prefix: String,
    /// `OIDC_ROLES_CLAIM`: the claim holding the roles.
    pub roles_claim: String,
    /// `OIDC_DATA_CLAIMS`: claims copied into the session data under `idp`.
    pub data_claims: Vec<String>,
    /// `OIDC_POST_LOGOUT_PATH`: where the provider sends the browser after logout.
    pub post_logout_path: String,
}

/// The variables with their defaults (`None`: required when on, or unset).
pub const VARIABLES: &[(&str, Option<&str>)] = &[
    ("OIDC_ISSUER", None),
    ("OIDC_CLIENT_ID", None),
    ("OIDC_CLIENT_SECRET", None),
    ("OIDC_SCOPES", Some("openid profile email")),
    ("OIDC_USER_CLAIM", Some("sub")),
    ("OIDC_USER_PREFIX", Some("")),
    ("OIDC_ROLES_CLAIM", Some("roles")),
    ("OIDC_DATA_CLAIMS", Some("email,name")),
    ("OIDC_POST_LOGOUT_PATH", Some("/")),
];

fn err(variable: &'static str, problem: impl Into<String>, accepted: &str) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
        accepted: accepted.into(),
    }
}

const CLAIM_FORM: &str = "a claim name such as sub, email or groups (letters, digits, and :._-/ only)";

/// A claim name: printable, no separators a header or list could split on.
fn claim_name(variable: &'static str, raw: &str) -> Result<String, ConfigError> {
    let name = raw.trim();
    let ok = !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b":._-/".contains(&b));
    if !ok {
        return Err(err(variable, format!("{name:?} is not a claim name"), CLAIM_FORM));
    }
    Ok(name.to_string())
}

/// A scope token (RFC 6749 §3.3: printable ASCII but `"` and `\`).
fn scope_ok(s: &str) -> bool {
    s.bytes()
        .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// Reads the settings; `Ok(None)` when `OIDC_ISSUER` is unset (edge sign-in off).
/// `var` gives a variable's value, blank counting as unset.
pub fn parse(var: impl Fn(&str) -> Option<String>) -> Result<Option<OidcSettings>, ConfigError> {
    let or_default = |name: &'static str| var(name).unwrap_or_else(|| crate::core::config::default_in(VARIABLES, name));
    let Some(issuer) = var("OIDC_ISSUER").map(|i| i.trim().to_string()) else {
        return Ok(None);
    };
    if let Some(p) = provider_url_problem(&issuer).or_else(|| issuer.contains('?').then(|| "has a query".to_string())) {
        return Err(err(
            "OIDC_ISSUER",
            p,
            "the provider's issuer URL, https (http only on loopback hosts), such as https://id.example.com",
        ));
    }
    let client_id = var("OIDC_CLIENT_ID").map(|c| c.trim().to_string()).ok_or_else(|| {
        err(
            "OIDC_CLIENT_ID",
            "is not set (OIDC_ISSUER is)",
            "the client id registered at the provider",
        )
    })?;
    if client_id.len() > 256 || client_id.chars().any(|c| c.is_control() || c == ' ') {
        return Err(err(
            "OIDC_CLIENT_ID",
            "contains spaces or control characters, or is longer than 256 bytes",
            "the client id registered at the provider",
        ));
    }
    let client_secret = var("OIDC_CLIENT_SECRET").map(ClientSecret);
    let scopes = or_default("OIDC_SCOPES");
    let list: Vec<&str> = scopes.split_whitespace().collect();
    if !list.contains(&"openid") || !list.iter().all(|s| scope_ok(s)) {
        return Err(err(
            "OIDC_SCOPES",
            format!("{scopes:?} does not include openid, or has a character a scope cannot hold"),
            "space-separated scopes including openid, such as \"openid profile email\"",
        ));
    }
    let user_claim = claim_name("OIDC_USER_CLAIM", &or_default("OIDC_USER_CLAIM"))?;
    let user_prefix = or_default("OIDC_USER_PREFIX");
    if user_prefix.len() > 64 || user_prefix.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(err(
            "OIDC_USER_PREFIX",
            "contains spaces or control characters, or is longer than 64 bytes",
            "a short prefix such as oidc: or google:",
        ));
    }
    let roles_claim = claim_name("OIDC_ROLES_CLAIM", &or_default("OIDC_ROLES_CLAIM"))?;
    let data_claims = or_default("OIDC_DATA_CLAIMS")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| claim_name("OIDC_DATA_CLAIMS", c))
        .collect::<Result<Vec<_>, _>>()?;
    let post_logout_path = or_default("OIDC_POST_LOGOUT_PATH").trim().to_string();
    let path_ok = post_logout_path.starts_with('/')
        && !post_logout_path.starts_with("//")
        && !post_logout_path.starts_with("/\\")
        && !post_logout_path.contains('#')
        && !post_logout_path.chars().any(|c| c.is_control() || c == ' ');
    if !path_ok {
        return Err(err(
            "OIDC_POST_LOGOUT_PATH",
            format!("{post_logout_path:?} is not a path on this site"),
            "a path such as / or /signed-out",
        ));
    }
    Ok(Some(OidcSettings {
        issuer,
        client_id,
        client_secret,
        scopes: list.join(" "),
        user_claim,
        user_prefix,
        roles_claim,
        data_claims,
        post_logout_path,
    }))
}

impl OidcSettings {
    /// Whether the user id is an email address, which a provider may let anyone claim
    /// unverified: then `email_verified` must be true.
    pub fn user_is_email(&self) -> bool {
        self.user_claim == "email"
    }

    /// `<issuer>/.well-known/openid-configuration` (a trailing `/` of the issuer dropped
    /// first, as OIDC Discovery §4 says).
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse_map(m: &[(&str, &str)]) -> Result<Option<OidcSettings>, ConfigError> {
        let m: HashMap<String, String> = m.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        parse(|k| m.get(k).cloned().filter(|v| !v.trim().is_empty()))
    }

    #[test]
    fn off_without_issuer_and_defaults_when_on() {
        assert_eq!(parse_map(&[("OIDC_CLIENT_ID", "x")]).unwrap(), None);
        let s = parse_map(&[("OIDC_ISSUER", "https://id.example.com/"), ("OIDC_CLIENT_ID", "gate")])
            .unwrap()
            .unwrap();
        assert_eq!(s.scopes, "openid profile email");
        assert_eq!((s.user_claim.as_str(), s.roles_claim.as_str()), ("sub", "roles"));
        assert_eq!(s.user_prefix, "", "one namespace unless OIDC_USER_PREFIX says otherwise");
        assert_eq!(s.data_claims, vec!["email", "name"]);
        assert_eq!(s.post_logout_path, "/");
        assert_eq!(s.client_secret, None);
        assert_eq!(s.discovery_url(), "https://id.example.com/.well-known/openid-configuration");
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let base = [("OIDC_ISSUER", "https://id.example.com"), ("OIDC_CLIENT_ID", "gate")];
        let cases: &[(&str, &str)] = &[
            ("OIDC_ISSUER", "http://id.example.com"),
            ("OIDC_ISSUER", "id.example.com"),
            ("OIDC_ISSUER", "https://id.example.com/?x=1"),
            ("OIDC_CLIENT_ID", "a b"),
            ("OIDC_SCOPES", "profile email"),
            ("OIDC_SCOPES", "openid \"x\""),
            ("OIDC_USER_CLAIM", "a b"),
            ("OIDC_USER_PREFIX", "a b"),
            ("OIDC_ROLES_CLAIM", "x,y"),
            ("OIDC_DATA_CLAIMS", "email,na me"),
            ("OIDC_POST_LOGOUT_PATH", "//evil.example"),
            ("OIDC_POST_LOGOUT_PATH", "https://evil.example/"),
        ];
        for (var, value) in cases {
            let mut m: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| k != var).collect();
            m.push((var, value));
            let e = parse_map(&m).expect_err(&format!("{var}={value}"));
            assert_eq!(e.variable, *var, "{var}={value}: {e}");
            assert!(!e.accepted.is_empty());
        }
        assert_eq!(
            parse_map(&[("OIDC_ISSUER", "https://id.example.com")]).unwrap_err().variable,
            "OIDC_CLIENT_ID"
        );
    }

    /// The settings for the issuer and client id plus `extra`, or the variable refused.
    fn with(extra: &[(&str, &str)]) -> Result<OidcSettings, &'static str> {
        let mut m = vec![("OIDC_ISSUER", "https://id.example.com"), ("OIDC_CLIENT_ID", "gate")];
        m.retain(|(k, _)| extra.iter().all(|(e, _)| e != k));
        m.extend_from_slice(extra);
        parse_map(&m).map(Option::unwrap).map_err(|e| e.variable)
    }

    #[test]
    fn a_client_id_of_256_bytes_is_accepted_and_257_is_not() {
        let id = "c".repeat(256);
        assert_eq!(with(&[("OIDC_CLIENT_ID", &id)]).unwrap().client_id, id);
        assert_eq!(with(&[("OIDC_CLIENT_ID", &"c".repeat(257))]), Err("OIDC_CLIENT_ID"));
    }

    #[test]
    fn scopes_hold_printable_ascii_but_the_quote_and_the_backslash() {
        // RFC 6749 §3.3: %x21 / %x23-5B / %x5D-7E, each range at its ends.
        let s = with(&[("OIDC_SCOPES", "openid ! # [ ] ~ Aa0:/")]).unwrap();
        assert_eq!(s.scopes, "openid ! # [ ] ~ Aa0:/");
        for bad in ["\"", "\\", "\u{7f}", "é"] {
            let scopes = format!("openid x{bad}");
            assert_eq!(with(&[("OIDC_SCOPES", &scopes)]), Err("OIDC_SCOPES"), "{scopes:?}");
        }
    }

    #[test]
    fn the_post_logout_path_has_no_space_or_control_character() {
        assert_eq!(
            with(&[("OIDC_POST_LOGOUT_PATH", "/signed-out")]).unwrap().post_logout_path,
            "/signed-out"
        );
        for bad in ["/a b", "/a\tb", "/a\u{1}b", "/a#b", "/\\evil.example"] {
            assert_eq!(with(&[("OIDC_POST_LOGOUT_PATH", bad)]), Err("OIDC_POST_LOGOUT_PATH"), "{bad:?}");
        }
    }

    #[test]
    fn the_client_secret_shows_only_its_length_in_debug() {
        let secret = ClientSecret("very-secret-value".into());
        assert_eq!(format!("{secret:?}"), "ClientSecret(<17 bytes>)");
    }

    #[test]
    fn the_client_secret_stays_out_of_debug() {
        let s = parse_map(&[
            ("OIDC_ISSUER", "http://127.0.0.1:8789"),
            ("OIDC_CLIENT_ID", "gate"),
            ("OIDC_CLIENT_SECRET", "very-secret-value"),
        ])
        .unwrap()
        .unwrap();
        assert!(!format!("{s:?}").contains("very-secret-value"));
    }
}
