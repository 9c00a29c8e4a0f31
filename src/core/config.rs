//! One typed configuration, parsed once from `[vars]` and secrets.
//!
//! Every bad value is refused with the variable's name, what is wrong and the
//! accepted form; nothing falls back silently to a weaker default.

#![warn(missing_docs)]

use super::cookie::{self, SameSite};
use super::cookie_scope::CookieScope;
use super::dbsc::device_cookie::DeviceKeys;
use super::dbsc::settings::{self as device_settings, DeviceSettings};
use super::duration::{self, parse_duration};
use super::oidc::settings::{self as oidc_settings, OidcSettings};
use super::path::{self, PathSet};
use super::signing::{self, AssertionKeys};
use super::token::TokenKeys;
use std::fmt;

/// A configuration variable that cannot be used, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong with its value.
    pub problem: String,
    /// The form it accepts.
    pub accepted: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; accepted: {}", self.variable, self.problem, self.accepted)
    }
}

fn err(variable: &'static str, problem: impl Into<String>, accepted: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
        accepted: accepted.into(),
    }
}

const SCOPE_FORM: &str = "COOKIE_DOMAIN: a parent domain of the hosts served, such as example.com (not a public suffix); \
COOKIE_PATH: a path such as /app; with either, a COOKIE_NAME starting with __Secure- (the default becomes __Secure-session)";

/// `STATIC_PATHS`: only paths that are public anyway, and never a sensitive one, so
/// that skipping the session lookup can never open a protected path.
fn static_paths(raw: &str, public: &PathSet, sensitive: &PathSet) -> Result<PathSet, ConfigError> {
    const FORM: &str = "patterns that PUBLIC_PATHS covers and SENSITIVE_PATHS does not touch, such as /static/*,/favicon.ico";
    let set = PathSet::parse(raw, false).map_err(|p| err("STATIC_PATHS", p, FORM))?;
    if let Some(p) = set.first_not_covered_by(public) {
        return Err(err(
            "STATIC_PATHS",
            format!("{p} is not covered by PUBLIC_PATHS, so a protected path would skip its session check"),
            FORM,
        ));
    }
    if let Some((p, q)) = set.first_overlap(sensitive) {
        return Err(err("STATIC_PATHS", format!("{p} overlaps the sensitive {q}"), FORM));
    }
    Ok(set)
}

/// Key material. Its Debug never prints the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// The key's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes>)", self.0.len())
    }
}

/// What a change of network (`BIND_IP`) or user agent (`BIND_UA`) does to a session.
/// Serialised by name (`off`, `flag`, `reject`) in the policy the gate sends the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindMode {
    /// Nothing.
    Off,
    /// The session is flagged, an audit event written, the origin told (`X-Session-Binding`).
    Flag,
    /// The session is ended.
    Reject,
}

/// Base URL of the origin: `scheme://authority` plus an optional path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginUrl {
    /// `http` or `https`.
    pub scheme: String,
    /// Host and port, lower-cased.
    pub authority: String,
    /// Path prefix without a trailing slash ("" for none).
    pub base_path: String,
}

impl OriginUrl {
    /// Parses `ORIGIN_URL` (or an entry of `ALLOWED_ORIGINS`); the error describes the problem.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (scheme, rest) = raw.split_once("://").ok_or_else(|| format!("{raw:?} has no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("{raw:?}: scheme must be http or https"));
        }
        if rest.contains(['?', '#', '@', ' ']) || rest.chars().any(char::is_control) {
            return Err(format!("{raw:?} must not contain a query, fragment, credentials or spaces"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(format!("{raw:?} has no host"));
        }
        Ok(OriginUrl {
            scheme,
            authority: authority.to_ascii_lowercase(),
            base_path: path.trim_end_matches('/').to_string(),
        })
    }

    /// The host (without port) that the assertion's `aud` names.
    pub fn host(&self) -> &str {
        host_of(&self.authority)
    }

    /// The origin URL for a request's path and query.
    pub fn url_for(&self, path: &str, query: &str) -> String {
        format!("{}://{}{}{}{}", self.scheme, self.authority, self.base_path, path, query)
    }
}

/// Host part of an authority (`host:port`, `[v6]:port`).
pub fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority
        .rsplit_once(':')
        .map(|(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { authority })
        .unwrap_or(authority)
}

/// Every setting, parsed and checked (`from_lookup`). Durations are in seconds.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ORIGIN_URL`: where validated requests go (none: the gate answers only its own paths).
    pub origin_url: Option<OriginUrl>,
    /// `IDLE_TIMEOUT`.
    pub idle_timeout: u64,
    /// `ABSOLUTE_TIMEOUT`.
    pub absolute_timeout: u64,
    /// `PUBLIC_PATHS`: open without a session.
    pub public_paths: PathSet,
    /// `LOGIN_URL`: where browsers without a session are sent.
    pub login_url: String,
    /// `COOKIE_NAME`.
    pub cookie_name: String,
    /// `COOKIE_DOMAIN` / `COOKIE_PATH`: where the cookie applies and where `/.sessiongate/` is.
    pub cookie_scope: CookieScope,
    /// `STATIC_PATHS`: public paths forwarded with no session lookup at all.
    pub static_paths: PathSet,
    /// `COOKIE_SAMESITE` (Strict or Lax).
    pub cookie_samesite: SameSite,
    /// `REQUIRE_HTTPS`: plain HTTP is redirected.
    pub require_https: bool,
    /// `SESSION_SECRET`: signs session tokens.
    pub session_secret: Secret,
    /// `SESSION_SECRET_PREVIOUS`: still verifies tokens during a key rotation.
    pub session_secret_previous: Option<Secret>,
    /// `SESSION_SECRET` then `SESSION_SECRET_PREVIOUS`, keyed for token checks.
    token_macs: TokenKeys,
    /// The same secrets keyed for device-cookie checks (`DEVICE_BINDING`).
    device_macs: DeviceKeys,
    /// `ORIGIN_SECRET`: signs the assertion for the origin; set exactly when
    /// `assertion.alg` is HS256, the only algorithm that uses it.
    pub origin_secret: Option<Secret>,
    /// `ASSERTION_ALG`, `ASSERTION_SIGNING_KEY`, `ASSERTION_SIGNING_KEY_PREVIOUS`.
    pub assertion: AssertionKeys,
    /// `ELEVATED_TIMEOUT`: how long an elevation lasts.
    pub elevated_timeout: u64,
    /// `SENSITIVE_PATHS`: need an elevated session.
    pub sensitive_paths: PathSet,
    /// `IDLE_EXEMPT_PATHS`: validated like any other, but not counted as activity
    /// (background polling must not keep an abandoned session alive).
    pub idle_exempt_paths: PathSet,
    /// `BIND_IP`.
    pub bind_ip: BindMode,
    /// `BIND_UA`.
    pub bind_ua: BindMode,
    /// `ALLOWED_ORIGINS`: other origins allowed to send state-changing requests.
    pub allowed_origins: Vec<String>,
    /// `ADMIN_TOKEN`: enables the admin API.
    pub admin_token: Option<Secret>,
    /// `WARNING_WINDOW`: how long before expiry the client is warned (0: never).
    pub warning_window: u64,
    /// `SESSION_DATA_MAX`: bytes of session data.
    pub session_data_max: usize,
    /// Live sessions one user may hold; a login past it ends the least recently used.
    /// 0: no limit.
    pub max_sessions_per_user: u32,
    /// `MAX_CONNECTIONS_PER_SESSION`: WebSockets and event streams one session may hold
    /// open through the gate (each holds a watch on the session's object).
    pub max_connections_per_session: u32,
    /// `STORE_TIMEOUT`, in milliseconds.
    pub store_timeout_ms: u64,
    /// `ORIGIN_TIMEOUT`, in milliseconds.
    pub origin_timeout_ms: u64,
    /// `OIDC_*`: edge sign-in with an OpenID provider, on when `OIDC_ISSUER` is set.
    pub oidc: Option<OidcSettings>,
    /// `DEVICE_BINDING`, `DEVICE_PROOF_INTERVAL`: device-bound sessions (DBSC).
    pub device: DeviceSettings,
}

/// The gate's own sign-in endpoint: `LOGIN_URL` when edge sign-in is on and it is unset.
pub const EDGE_LOGIN_PATH: &str = "/.sessiongate/login";

/// Shortest accepted secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// Every variable the gate reads, with its default (`None` = required or unset); the
/// `OIDC_*` ones are `oidc::settings::VARIABLES`, the `DEVICE_*` ones
/// `dbsc::settings::VARIABLES`.
pub const VARIABLES: &[(&str, Option<&str>)] = &[
    ("ORIGIN_URL", None),
    ("IDLE_TIMEOUT", Some("30m")),
    ("ABSOLUTE_TIMEOUT", Some("24h")),
    ("PUBLIC_PATHS", Some("/login")),
    // With OIDC_ISSUER set and LOGIN_URL unset: EDGE_LOGIN_PATH.
    ("LOGIN_URL", Some("/login")),
    // Unset: `__Host-session`, or `__Secure-session` when COOKIE_DOMAIN / COOKIE_PATH scope it.
    ("COOKIE_NAME", None),
    ("COOKIE_DOMAIN", None),
    ("COOKIE_PATH", Some("/")),
    ("STATIC_PATHS", Some("")),
    ("COOKIE_SAMESITE", Some("Lax")),
    ("REQUIRE_HTTPS", Some("true")),
    ("SESSION_SECRET", None),
    ("SESSION_SECRET_PREVIOUS", None),
    ("ORIGIN_SECRET", None),
    ("ASSERTION_ALG", Some("ES256")),
    ("ASSERTION_SIGNING_KEY", None),
    ("ASSERTION_SIGNING_KEY_PREVIOUS", None),
    ("ELEVATED_TIMEOUT", Some("15m")),
    ("SENSITIVE_PATHS", Some("")),
    ("IDLE_EXEMPT_PATHS", Some("")),
    ("BIND_IP", Some("flag")),
    ("BIND_UA", Some("flag")),
    ("ALLOWED_ORIGINS", Some("")),
    ("ADMIN_TOKEN", None),
    ("WARNING_WINDOW", Some("2m")),
    ("SESSION_DATA_MAX", Some("8000")),
    ("MAX_SESSIONS_PER_USER", Some("0")),
    ("MAX_CONNECTIONS_PER_SESSION", Some("32")),
    ("STORE_TIMEOUT", Some("5s")),
    ("ORIGIN_TIMEOUT", Some("30s")),
];

/// A variable's default in `list` ("" when it has none or is not listed).
pub(crate) fn default_in(list: &[(&str, Option<&str>)], name: &str) -> String {
    list.iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, d)| *d)
        .unwrap_or("")
        .to_string()
}

/// The keys, read together because they are checked against each other.
struct Keys {
    session: Secret,
    session_previous: Option<Secret>,
    origin: Option<Secret>,
    assertion: AssertionKeys,
    admin: Option<Secret>,
}

/// The variable lookup, with one reader per kind of setting. Each reader refuses a bad
/// value with the variable's name, the problem and the accepted form.
struct Vars<F>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    /// A variable's value; empty or blank counts as unset.
    fn var(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    /// A variable's value, or its default from `VARIABLES` ("" when it has none).
    fn or_default(&self, name: &'static str) -> String {
        self.var(name).unwrap_or_else(|| default_in(VARIABLES, name))
    }

    fn duration(&self, name: &'static str) -> Result<u64, ConfigError> {
        parse_duration(&self.or_default(name)).map_err(|p| err(name, p, duration::ACCEPTED))
    }

    fn positive_duration(&self, name: &'static str) -> Result<u64, ConfigError> {
        let v = self.duration(name)?;
        if v == 0 {
            return Err(err(name, "must be greater than zero", duration::ACCEPTED));
        }
        Ok(v)
    }

    fn paths(&self, name: &'static str, allow_methods: bool) -> Result<PathSet, ConfigError> {
        PathSet::parse(&self.or_default(name), allow_methods).map_err(|p| err(name, p, path::PATTERN_FORM))
    }

    /// A lower-cased, trimmed keyword (booleans, modes, SameSite).
    fn keyword(&self, name: &'static str) -> String {
        self.or_default(name).trim().to_ascii_lowercase()
    }

    fn secret(&self, name: &'static str, required: bool) -> Result<Option<Secret>, ConfigError> {
        match self.var(name) {
            None if required => Err(err(
                name,
                "is not set",
                format!(
                    "a random string of at least {MIN_SECRET_LEN} bytes, set with `wrangler secret put {name}` (or in .dev.vars locally)"
                ),
            )),
            None => Ok(None),
            Some(v) if v.len() < MIN_SECRET_LEN => Err(err(
                name,
                format!("is {} bytes long, too short", v.len()),
                format!("at least {MIN_SECRET_LEN} bytes, e.g. `openssl rand -base64 48`"),
            )),
            Some(v) => Ok(Some(Secret(v.into_bytes()))),
        }
    }

    fn bind(&self, name: &'static str) -> Result<BindMode, ConfigError> {
        match self.keyword(name).as_str() {
            "off" => Ok(BindMode::Off),
            "flag" => Ok(BindMode::Flag),
            "reject" => Ok(BindMode::Reject),
            other => Err(err(name, format!("{other:?} is not a binding mode"), "off, flag or reject")),
        }
    }

    fn origin_url(&self) -> Result<Option<OriginUrl>, ConfigError> {
        let Some(raw) = self.var("ORIGIN_URL") else {
            return Ok(None);
        };
        let url = OriginUrl::parse(raw.trim()).map_err(|p| {
            err(
                "ORIGIN_URL",
                p,
                "an absolute http(s) URL such as https://origin.example.com or http://127.0.0.1:8788",
            )
        })?;
        Ok(Some(url))
    }

    /// A site path that `PUBLIC_PATHS` opens (else browsers sent there would loop), or
    /// an absolute http(s) URL.
    /// With edge sign-in on, an unset `LOGIN_URL` is the gate's own sign-in endpoint,
    /// which the gate answers itself (so it needs no entry in `PUBLIC_PATHS`).
    fn login_url(&self, public_paths: &PathSet, edge_sign_in: bool) -> Result<String, ConfigError> {
        let login_url = match self.var("LOGIN_URL") {
            None if edge_sign_in => EDGE_LOGIN_PATH.to_string(),
            _ => self.or_default("LOGIN_URL").trim().to_string(),
        };
        let login_is_local = login_url.starts_with('/') && !login_url.starts_with("//") && !login_url.starts_with("/\\");
        let login_is_absolute = login_url.starts_with("https://") || login_url.starts_with("http://");
        if !(login_is_local || login_is_absolute) || login_url.chars().any(|c| c.is_control() || c == ' ') {
            return Err(err(
                "LOGIN_URL",
                format!("{login_url:?} is not a site path or an http(s) URL"),
                "a path such as /login, or an absolute URL such as https://id.example.com/login",
            ));
        }
        if login_is_local && !login_url.starts_with("/.sessiongate/") {
            let login_path = login_url.split(['?', '#']).next().unwrap_or("/");
            let normalized = path::normalize(login_path).unwrap_or_default();
            if !public_paths.matches("GET", &normalized) {
                return Err(err(
                    "LOGIN_URL",
                    format!("{login_path} is not matched by PUBLIC_PATHS, so browsers sent there would loop"),
                    "a path that PUBLIC_PATHS lists, e.g. PUBLIC_PATHS=/login,/static/*",
                ));
            }
        }
        Ok(login_url)
    }

    /// `COOKIE_DOMAIN`, `COOKIE_PATH` and the `COOKIE_NAME` that scope allows.
    fn cookie(&self) -> Result<(String, CookieScope), ConfigError> {
        let scope = CookieScope::parse(self.var("COOKIE_DOMAIN").as_deref(), self.var("COOKIE_PATH").as_deref())
            .map_err(|(name, e)| err(name, e.to_string(), SCOPE_FORM))?;
        let cookie_name = self
            .var("COOKIE_NAME")
            .map_or_else(|| scope.default_name().to_string(), |n| n.trim().to_string());
        scope
            .check_name(&cookie_name)
            .map_err(|e| err("COOKIE_NAME", format!("{cookie_name:?}: {e}"), SCOPE_FORM))?;
        if !cookie::valid_name(&cookie_name) {
            return Err(err(
                "COOKIE_NAME",
                format!("{cookie_name:?} is not a valid cookie name"),
                "letters, digits and !#$%&'*+-.^_`|~, at most 64 characters (default __Host-session)",
            ));
        }
        Ok((cookie_name, scope))
    }

    /// Strict or Lax; None would send the session cookie on cross-site requests.
    fn same_site(&self) -> Result<SameSite, ConfigError> {
        match self.keyword("COOKIE_SAMESITE").as_str() {
            "strict" => Ok(SameSite::Strict),
            "lax" => Ok(SameSite::Lax),
            "none" => Err(err(
                "COOKIE_SAMESITE",
                "None is refused: it sends the session cookie on cross-site requests",
                "Strict or Lax",
            )),
            other => Err(err(
                "COOKIE_SAMESITE",
                format!("{other:?} is not a SameSite value"),
                "Strict or Lax",
            )),
        }
    }

    fn require_https(&self) -> Result<bool, ConfigError> {
        match self.keyword("REQUIRE_HTTPS").as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(err("REQUIRE_HTTPS", format!("{other:?} is not a boolean"), "true or false")),
        }
    }

    /// Origins (no path) allowed to send state-changing requests, lower-cased.
    fn allowed_origins(&self) -> Result<Vec<String>, ConfigError> {
        let mut allowed_origins = Vec::new();
        for o in self
            .or_default("ALLOWED_ORIGINS")
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            let parsed = OriginUrl::parse(o).ok().filter(|u| u.base_path.is_empty());
            if parsed.is_none() {
                return Err(err(
                    "ALLOWED_ORIGINS",
                    format!("{o:?} is not an origin"),
                    "comma-separated origins such as https://app.example.com,https://admin.example.com",
                ));
            }
            allowed_origins.push(o.trim_end_matches('/').to_ascii_lowercase());
        }
        Ok(allowed_origins)
    }

    fn max_sessions_per_user(&self) -> Result<u32, ConfigError> {
        self.or_default("MAX_SESSIONS_PER_USER")
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 10_000)
            .ok_or_else(|| {
                err(
                    "MAX_SESSIONS_PER_USER",
                    "is not a whole number between 0 and 10000",
                    "a count such as 5, or 0 for no limit",
                )
            })
    }

    fn max_connections_per_session(&self) -> Result<u32, ConfigError> {
        self.or_default("MAX_CONNECTIONS_PER_SESSION")
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                err(
                    "MAX_CONNECTIONS_PER_SESSION",
                    "is not a whole number between 1 and 10000",
                    "a count such as 32",
                )
            })
    }

    fn session_data_max(&self) -> Result<usize, ConfigError> {
        self.or_default("SESSION_DATA_MAX")
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1_048_576).contains(n))
            .ok_or_else(|| {
                err(
                    "SESSION_DATA_MAX",
                    "is not a size in bytes between 1 and 1048576",
                    "a whole number of bytes, e.g. 16384",
                )
            })
    }

    /// The session key is required; the origin secret only for HS256 assertions, and then
    /// it must differ from the session key (the origin holding the session key could
    /// forge sessions).
    fn keys(&self) -> Result<Keys, ConfigError> {
        let session = self
            .secret("SESSION_SECRET", true)?
            .ok_or_else(|| err("SESSION_SECRET", "is not set", "a random string of at least 32 bytes"))?;
        let session_previous = self.secret("SESSION_SECRET_PREVIOUS", false)?;
        let assertion = signing::from_lookup(&self.0)?;
        // Read only for HS256, the one algorithm that uses it; otherwise it is ignored.
        let origin = match assertion.alg {
            signing::Algorithm::Hs256 => self.secret("ORIGIN_SECRET", true)?,
            _ => None,
        };
        if origin.as_ref() == Some(&session) {
            return Err(err(
                "ORIGIN_SECRET",
                "equals SESSION_SECRET; the origin would hold the key that forges sessions",
                "a separate random string of at least 32 bytes",
            ));
        }
        let admin = self.secret("ADMIN_TOKEN", false)?;
        Ok(Keys {
            session,
            session_previous,
            origin,
            assertion,
            admin,
        })
    }
}

impl Config {
    /// Parses the configuration from a lookup (the Worker's env in production, a map in
    /// tests). Empty strings count as unset. The first bad variable is reported, in the
    /// order below (tests and operators rely on which error comes first).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let v = Vars(get);
        let origin_url = v.origin_url()?;
        let idle_timeout = v.positive_duration("IDLE_TIMEOUT")?;
        let absolute_timeout = v.positive_duration("ABSOLUTE_TIMEOUT")?;
        let elevated_timeout = v.positive_duration("ELEVATED_TIMEOUT")?;
        let warning_window = v.duration("WARNING_WINDOW")?;
        let store_timeout_ms = v.positive_duration("STORE_TIMEOUT")? * 1000;
        let origin_timeout_ms = v.positive_duration("ORIGIN_TIMEOUT")? * 1000;
        let public_paths = v.paths("PUBLIC_PATHS", false)?;
        let sensitive_paths = v.paths("SENSITIVE_PATHS", true)?;
        let idle_exempt_paths = v.paths("IDLE_EXEMPT_PATHS", true)?;
        let oidc = oidc_settings::parse(|n| v.var(n))?;
        let login_url = v.login_url(&public_paths, oidc.is_some())?;
        let (cookie_name, cookie_scope) = v.cookie()?;
        let static_paths = static_paths(&v.or_default("STATIC_PATHS"), &public_paths, &sensitive_paths)?;
        let cookie_samesite = v.same_site()?;
        let require_https = v.require_https()?;
        let allowed_origins = v.allowed_origins()?;
        let max_sessions_per_user = v.max_sessions_per_user()?;
        let max_connections_per_session = v.max_connections_per_session()?;
        let session_data_max = v.session_data_max()?;
        let keys = v.keys()?;
        let device = device_settings::parse(|n| v.var(n), &cookie_name)?;
        let secrets = current_first(&keys.session, keys.session_previous.as_ref());
        let token_macs = TokenKeys::new(&secrets);
        let device_macs = DeviceKeys::new(&secrets);
        Ok(Config {
            token_macs,
            device_macs,
            origin_url,
            idle_timeout,
            absolute_timeout,
            public_paths,
            login_url,
            cookie_name,
            cookie_scope,
            static_paths,
            cookie_samesite,
            require_https,
            session_secret: keys.session,
            session_secret_previous: keys.session_previous,
            origin_secret: keys.origin,
            assertion: keys.assertion,
            elevated_timeout,
            sensitive_paths,
            idle_exempt_paths,
            bind_ip: v.bind("BIND_IP")?,
            bind_ua: v.bind("BIND_UA")?,
            allowed_origins,
            admin_token: keys.admin,
            warning_window,
            session_data_max,
            max_sessions_per_user,
            max_connections_per_session,
            store_timeout_ms,
            origin_timeout_ms,
            oidc,
            device,
        })
    }

    /// Sliding writes at most once per interval: min(IDLE_TIMEOUT / 30, 60 s), at least 1 s.
    pub fn slide_interval(&self) -> u64 {
        (self.idle_timeout / 30).clamp(1, 60)
    }

    /// The same keys prepared for `token::verify_keyed`, once per configuration.
    pub fn token_macs(&self) -> &TokenKeys {
        &self.token_macs
    }

    /// The same keys prepared for `device_cookie::verify_any`, once per configuration.
    pub fn device_macs(&self) -> &DeviceKeys {
        &self.device_macs
    }

    /// Keys that verify session tokens, current first.
    pub fn token_keys(&self) -> Vec<&[u8]> {
        current_first(&self.session_secret, self.session_secret_previous.as_ref())
    }
}

/// The session secrets in the order every check tries them: current, then previous.
fn current_first<'a>(current: &'a Secret, previous: Option<&'a Secret>) -> Vec<&'a [u8]> {
    let mut keys = vec![current.bytes()];
    if let Some(p) = previous {
        keys.push(p.bytes());
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn base() -> HashMap<&'static str, String> {
        // HS256: these tests exercise ORIGIN_SECRET; the key forms are tested in `signing`.
        HashMap::from([
            ("SESSION_SECRET", "s".repeat(32)),
            ("ORIGIN_SECRET", "o".repeat(32)),
            ("ASSERTION_ALG", "HS256".into()),
        ])
    }

    fn parse(m: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = parse(&base()).unwrap();
        assert_eq!(c.idle_timeout, 1800);
        assert_eq!(c.absolute_timeout, 86_400);
        assert_eq!(c.elevated_timeout, 900);
        assert_eq!(c.warning_window, 120);
        assert_eq!(c.cookie_name, "__Host-session");
        assert_eq!(c.cookie_samesite, SameSite::Lax);
        assert!(c.require_https);
        assert_eq!(c.bind_ip, BindMode::Flag);
        assert_eq!(c.slide_interval(), 60);
        assert!(c.public_paths.matches("GET", "/login"));
        assert!(c.origin_url.is_none());
        assert!(c.admin_token.is_none());
        assert_eq!(c.session_data_max, 8000);
        assert_eq!(c.max_sessions_per_user, 0, "no limit unless set");
    }

    #[test]
    fn cookie_domain_and_path_scope_the_cookie_and_its_name() {
        let mut m = base();
        m.insert("COOKIE_DOMAIN", "example.com".into());
        let c = parse(&m).unwrap();
        assert_eq!(c.cookie_name, "__Secure-session", "the default follows the scope");
        assert_eq!(c.cookie_scope.attributes(), "Domain=example.com; Path=/");
        m.insert("COOKIE_NAME", "__Host-session".into());
        let e = parse(&m).unwrap_err();
        assert_eq!(e.variable, "COOKIE_NAME");
        assert!(e.problem.contains("__Host-") && e.accepted.contains("__Secure-"), "{e}");
        m.insert("COOKIE_NAME", "sid".into());
        assert_eq!(parse(&m).unwrap_err().variable, "COOKIE_NAME");
        m.insert("COOKIE_NAME", "__Secure-sid".into());
        assert_eq!(parse(&m).unwrap().cookie_name, "__Secure-sid");
        let mut m = base();
        m.insert("COOKIE_PATH", "/app/".into());
        let c = parse(&m).unwrap();
        assert_eq!(
            (c.cookie_name.as_str(), c.cookie_scope.api_base()),
            ("__Secure-session", "/app/.sessiongate")
        );
        m.insert("COOKIE_NAME", "__Host-session".into());
        assert!(parse(&m).unwrap_err().to_string().contains("Path other than /"));
    }

    #[test]
    fn static_paths_must_be_public_and_never_sensitive() {
        let mut m = base();
        m.insert("PUBLIC_PATHS", "/login,/static/*,/favicon.ico".into());
        m.insert("SENSITIVE_PATHS", "/static/admin/*".into());
        m.insert("STATIC_PATHS", "/static/js/*,/favicon.ico".into());
        let c = parse(&m).unwrap();
        assert!(c.static_paths.matches_all(&["/static/js/a.js".into(), "/favicon.ico".into()]));
        m.insert("STATIC_PATHS", "/app/*".into());
        let e = parse(&m).unwrap_err();
        assert_eq!(e.variable, "STATIC_PATHS");
        assert!(e.problem.contains("/app/* is not covered by PUBLIC_PATHS"), "{e}");
        m.insert("STATIC_PATHS", "/static/*".into());
        assert!(parse(&m).unwrap_err().problem.contains("overlaps the sensitive /static/admin/*"));
    }

    #[test]
    fn slide_interval_is_a_thirtieth_of_idle_capped_at_a_minute() {
        let mut m = base();
        m.insert("IDLE_TIMEOUT", "5m".into());
        assert_eq!(parse(&m).unwrap().slide_interval(), 10);
        m.insert("IDLE_TIMEOUT", "10s".into());
        assert_eq!(parse(&m).unwrap().slide_interval(), 1);
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases: &[(&str, &str)] = &[
            ("IDLE_TIMEOUT", "soon"),
            ("IDLE_TIMEOUT", "0"),
            ("ABSOLUTE_TIMEOUT", "1y"),
            ("COOKIE_SAMESITE", "None"),
            ("COOKIE_SAMESITE", "whatever"),
            ("REQUIRE_HTTPS", "yes"),
            ("SESSION_SECRET", "short"),
            ("ORIGIN_SECRET", "short"),
            ("ADMIN_TOKEN", "short"),
            ("SESSION_SECRET_PREVIOUS", "short"),
            ("BIND_IP", "maybe"),
            ("BIND_UA", "strict"),
            ("PUBLIC_PATHS", "login"),
            ("SENSITIVE_PATHS", "/a*b"),
            ("IDLE_EXEMPT_PATHS", "api/poll"),
            ("IDLE_EXEMPT_PATHS", "GET /a*b"),
            ("ORIGIN_URL", "ftp://x"),
            ("ORIGIN_URL", "https://"),
            ("LOGIN_URL", "//evil.example/login"),
            ("LOGIN_URL", "/signin"),
            ("COOKIE_NAME", "a b"),
            ("COOKIE_DOMAIN", "co.uk"),
            ("COOKIE_DOMAIN", "com"),
            ("COOKIE_DOMAIN", "not a host"),
            ("COOKIE_PATH", "app"),
            ("STATIC_PATHS", "/app/*"),
            ("ALLOWED_ORIGINS", "not an origin"),
            ("SESSION_DATA_MAX", "lots"),
            ("MAX_SESSIONS_PER_USER", "-1"),
            ("MAX_SESSIONS_PER_USER", "five"),
            ("MAX_SESSIONS_PER_USER", "10001"),
            ("MAX_CONNECTIONS_PER_SESSION", "0"),
            ("MAX_CONNECTIONS_PER_SESSION", "many"),
            ("WARNING_WINDOW", "-1"),
            ("STORE_TIMEOUT", "0s"),
        ];
        for (var, value) in cases {
            let mut m = base();
            m.insert(var, value.to_string());
            let e = parse(&m).expect_err(&format!("{var}={value} should be refused"));
            assert_eq!(e.variable, *var, "{var}={value}: {e}");
            assert!(!e.accepted.is_empty());
            assert!(!e.to_string().contains(&"s".repeat(32)), "error must not echo a secret");
        }
    }

    #[test]
    fn edge_sign_in_sends_logins_to_the_gate_unless_login_url_is_set() {
        let mut m = base();
        assert_eq!(parse(&m).unwrap().login_url, "/login");
        assert!(parse(&m).unwrap().oidc.is_none());
        m.insert("OIDC_ISSUER", "https://id.example.com".into());
        m.insert("OIDC_CLIENT_ID", "gate".into());
        let c = parse(&m).unwrap();
        assert_eq!(c.login_url, "/.sessiongate/login");
        assert_eq!(c.oidc.unwrap().client_id, "gate");
        m.insert("LOGIN_URL", "/.sessiongate/login".into());
        assert_eq!(parse(&m).unwrap().login_url, "/.sessiongate/login", "no PUBLIC_PATHS entry needed");
        m.insert("LOGIN_URL", "/login".into());
        assert_eq!(parse(&m).unwrap().login_url, "/login", "an explicit LOGIN_URL wins");
        m.insert("OIDC_SCOPES", "profile".into());
        assert_eq!(parse(&m).unwrap_err().variable, "OIDC_SCOPES");
        m.remove("OIDC_SCOPES");
        m.remove("OIDC_CLIENT_ID");
        assert_eq!(parse(&m).unwrap_err().variable, "OIDC_CLIENT_ID");
    }

    #[test]
    fn missing_secrets_are_refused() {
        let mut m = base();
        m.remove("SESSION_SECRET");
        assert_eq!(parse(&m).unwrap_err().variable, "SESSION_SECRET");
        let mut m = base();
        m.remove("ORIGIN_SECRET");
        assert_eq!(parse(&m).unwrap_err().variable, "ORIGIN_SECRET");
        let mut m = base();
        m.insert("ORIGIN_SECRET", "s".repeat(32));
        assert_eq!(parse(&m).unwrap_err().variable, "ORIGIN_SECRET");
    }

    #[test]
    fn origin_url_parts() {
        let u = OriginUrl::parse("http://127.0.0.1:8788/base/").unwrap();
        assert_eq!(u.host(), "127.0.0.1");
        assert_eq!(u.url_for("/app", "?x=1"), "http://127.0.0.1:8788/base/app?x=1");
        assert_eq!(host_of("[::1]:8080"), "::1");
        assert_eq!(host_of("example.com"), "example.com");
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let c = parse(&base()).unwrap();
        assert!(!format!("{c:?}").contains(&"s".repeat(32)));
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn any_value_parses_or_fails_cleanly(var in prop::sample::select(VARIABLES.iter().chain(oidc_settings::VARIABLES).chain(device_settings::VARIABLES).map(|(n, _)| *n).collect::<Vec<_>>()), value in "\\PC{0,40}") {
            let mut m = base();
            m.insert(var, value);
            if let Err(e) = parse(&m) {
                prop_assert!(!e.variable.is_empty());
            }
        }

        #[test]
        fn origin_urls_parse_or_fail_cleanly(raw in "(https?://)?\\PC{0,40}") {
            if let Ok(u) = OriginUrl::parse(&raw) {
                prop_assert!(u.scheme == "http" || u.scheme == "https");
                prop_assert!(!u.authority.is_empty() && !u.authority.contains('/'));
                let _ = u.host();
                let _ = u.url_for("/x", "?q");
            }
            let _ = host_of(&raw);
        }
    }
}
