//! Where the session cookie applies (`Domain`, `Path`) and the name prefix that scope
//! requires. Browsers drop a `__Host-` cookie that carries `Domain` or a `Path` other
//! than `/`, and a cookie whose `Domain` is a public suffix: the gate refuses such a
//! configuration instead of setting a cookie that silently never comes back.

use std::fmt;

/// The scope of the session cookie: host-only on `/` unless configured otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieScope {
    /// `COOKIE_DOMAIN`, lower-case, without a leading dot.
    domain: Option<String>,
    /// `COOKIE_PATH` without a trailing slash (`/` for the root).
    path: String,
    /// Where the gate's endpoints live for this path (see `api_base`), built once.
    api_base: String,
}

/// Why a `COOKIE_DOMAIN`, `COOKIE_PATH` or a name for that scope is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    NotAHostName,
    IpAddress,
    PublicSuffix,
    PathNotAbsolute,
    PathCharacters,
    HostPrefixWithScope,
    NoSecurePrefix,
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScopeError::NotAHostName => "is not a host name",
            ScopeError::IpAddress => "is an IP address, which a cookie cannot share with subdomains",
            ScopeError::PublicSuffix => "is a public suffix: browsers refuse cookies for it",
            ScopeError::PathNotAbsolute => "must start with /",
            ScopeError::PathCharacters => "may hold only path characters (no *, ;, ?, #, spaces or controls)",
            ScopeError::HostPrefixWithScope => "a __Host- cookie cannot carry Domain or a Path other than /: browsers drop it",
            ScopeError::NoSecurePrefix => "a cookie with Domain or a Path other than / must use the __Secure- prefix",
        })
    }
}

/// Two-label suffixes under which anyone can register a name: second-level registries
/// of country codes (`co.uk`) and shared hosting platforms. A compact stand-in for the
/// Public Suffix List, which compiled in would double the Wasm; browsers refuse the rest
/// of the list themselves, and the gate refuses hosts outside the domain (see `covers_host`).
const REGISTRY_LABELS: [&str; 12] = ["co", "com", "net", "org", "gov", "edu", "ac", "ne", "or", "go", "gob", "mil"];
const PLATFORM_SUFFIXES: [&str; 12] = [
    "github.io",
    "workers.dev",
    "pages.dev",
    "herokuapp.com",
    "vercel.app",
    "netlify.app",
    "appspot.com",
    "web.app",
    "firebaseapp.com",
    "cloudfront.net",
    "azurewebsites.net",
    "onrender.com",
];

impl CookieScope {
    /// Host-only, `Path=/`: the `__Host-` scope.
    pub fn host_only() -> Self {
        Self::new(None, "/".into())
    }

    fn new(domain: Option<String>, path: String) -> Self {
        let api_base = if path == "/" {
            "/.sessiongate".into()
        } else {
            format!("{path}/.sessiongate")
        };
        CookieScope { domain, path, api_base }
    }

    /// From `COOKIE_DOMAIN` and `COOKIE_PATH` (`None` when unset).
    pub fn parse(domain: Option<&str>, path: Option<&str>) -> Result<Self, (&'static str, ScopeError)> {
        let domain = domain.map(parse_domain).transpose().map_err(|e| ("COOKIE_DOMAIN", e))?;
        let path = path.map(parse_path).transpose().map_err(|e| ("COOKIE_PATH", e))?;
        Ok(Self::new(domain, path.unwrap_or_else(|| "/".into())))
    }

    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn is_host_only_root(&self) -> bool {
        self.domain.is_none() && self.path == "/"
    }

    /// The cookie name when `COOKIE_NAME` is unset.
    pub fn default_name(&self) -> &'static str {
        if self.is_host_only_root() {
            "__Host-session"
        } else {
            "__Secure-session"
        }
    }

    /// A name this scope can carry: with a domain or a path, `__Secure-` and never `__Host-`.
    pub fn check_name(&self, name: &str) -> Result<(), ScopeError> {
        if self.is_host_only_root() {
            return Ok(());
        }
        if name.starts_with("__Host-") {
            return Err(ScopeError::HostPrefixWithScope);
        }
        if !name.starts_with("__Secure-") {
            return Err(ScopeError::NoSecurePrefix);
        }
        Ok(())
    }

    /// `Domain` (when set) and `Path` attributes for `Set-Cookie`.
    pub fn attributes(&self) -> String {
        match &self.domain {
            Some(d) => format!("Domain={d}; Path={}", self.path),
            None => format!("Path={}", self.path),
        }
    }

    /// Whether a request's host (no port) may receive the cookie: the domain itself or a
    /// subdomain. A host-only cookie belongs to whatever host was asked.
    pub fn covers_host(&self, host: &str) -> bool {
        let Some(d) = &self.domain else { return true };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        host == *d || host.strip_suffix(d.as_str()).is_some_and(|h| h.ends_with('.'))
    }

    /// Where the gate's own endpoints live so that the cookie reaches them: under the
    /// cookie's path (`/app/.sessiongate`), or `/.sessiongate` for the root.
    pub fn api_base(&self) -> &str {
        &self.api_base
    }
}

fn parse_domain(raw: &str) -> Result<String, ScopeError> {
    let d = raw.trim().trim_start_matches('.').trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if d.is_empty() || d.len() > 253 || !d.split('.').all(label_ok) {
        return Err(ScopeError::NotAHostName);
    }
    if d.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(ScopeError::IpAddress);
    }
    let labels: Vec<&str> = d.split('.').collect();
    let registry = labels.len() == 2 && labels[1].len() == 2 && REGISTRY_LABELS.contains(&labels[0]);
    if labels.len() < 2 || registry || PLATFORM_SUFFIXES.contains(&d.as_str()) {
        return Err(ScopeError::PublicSuffix);
    }
    Ok(d)
}

fn parse_path(raw: &str) -> Result<String, ScopeError> {
    let p = raw.trim();
    if !p.starts_with('/') {
        return Err(ScopeError::PathNotAbsolute);
    }
    if p.chars().any(|c| c.is_control() || c.is_whitespace() || "*;?#\\,\"".contains(c)) || p.contains("//") {
        return Err(ScopeError::PathCharacters);
    }
    let trimmed = p.trim_end_matches('/');
    Ok(if trimmed.is_empty() { "/".into() } else { trimmed.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_default_scope_is_host_only_on_the_root() {
        let s = CookieScope::parse(None, None).unwrap();
        assert_eq!(s, CookieScope::host_only());
        assert_eq!(s.default_name(), "__Host-session");
        assert_eq!(s.attributes(), "Path=/");
        assert_eq!(s.api_base(), "/.sessiongate");
        assert!(s.covers_host("anything.example"));
        assert_eq!(s.check_name("session"), Ok(()), "a custom name without prefix stays accepted");
    }

    #[test]
    fn a_domain_needs_the_secure_prefix() {
        let s = CookieScope::parse(Some(".Example.COM"), None).unwrap();
        assert_eq!(s.domain(), Some("example.com"));
        assert_eq!(s.default_name(), "__Secure-session");
        assert_eq!(s.attributes(), "Domain=example.com; Path=/");
        assert_eq!(s.check_name("__Host-session"), Err(ScopeError::HostPrefixWithScope));
        assert_eq!(s.check_name("session"), Err(ScopeError::NoSecurePrefix));
        assert_eq!(s.check_name("__Secure-app"), Ok(()));
        assert!(s.covers_host("example.com") && s.covers_host("app.example.com") && s.covers_host("a.b.example.com"));
        assert!(!s.covers_host("evilexample.com") && !s.covers_host("example.com.evil") && !s.covers_host("other.org"));
    }

    #[test]
    fn public_suffixes_and_non_hosts_are_refused() {
        for (raw, want) in [
            ("com", ScopeError::PublicSuffix),
            ("co.uk", ScopeError::PublicSuffix),
            ("com.au", ScopeError::PublicSuffix),
            ("github.io", ScopeError::PublicSuffix),
            ("workers.dev", ScopeError::PublicSuffix),
            ("127.0.0.1", ScopeError::IpAddress),
            ("exa mple.com", ScopeError::NotAHostName),
            ("-x.example.com", ScopeError::NotAHostName),
            ("", ScopeError::NotAHostName),
            ("a..b", ScopeError::NotAHostName),
        ] {
            assert_eq!(CookieScope::parse(Some(raw), None), Err(("COOKIE_DOMAIN", want)), "{raw:?}");
        }
        assert!(CookieScope::parse(Some("example.co.uk"), None).is_ok());
        assert!(CookieScope::parse(Some("shop.github.io"), None).is_ok());
    }

    #[test]
    fn a_path_scope() {
        let s = CookieScope::parse(None, Some("/app/")).unwrap();
        assert_eq!(s.path(), "/app");
        assert_eq!(s.attributes(), "Path=/app");
        assert_eq!(s.api_base(), "/app/.sessiongate");
        assert_eq!(s.default_name(), "__Secure-session");
        assert_eq!(s.check_name("__Host-session"), Err(ScopeError::HostPrefixWithScope));
        assert_eq!(CookieScope::parse(None, Some("/")).unwrap(), CookieScope::host_only());
        for bad in ["app", "/a*", "/a;b", "/a b", "/a?x", "//a", "/a\u{0}"] {
            assert!(CookieScope::parse(None, Some(bad)).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        /// A domain that parses covers itself and its subdomains and nothing that merely
        /// ends with the same letters. Two thirds of the cases are well-formed host names.
        #[test]
        fn covered_hosts_are_the_domain_and_below(
            d in "([a-z0-9]{1,8}\\.){1,3}[a-z]{2,6}|(?s).{0,20}",
            sub in "[a-z0-9]{1,8}",
            other in "[a-z0-9.-]{0,20}",
        ) {
            if let Ok(s) = CookieScope::parse(Some(&d), None) {
                let dom = s.domain().unwrap().to_string();
                prop_assert!(s.covers_host(&dom));
                let sub_host = format!("{sub}.{dom}");
                let glued_host = format!("{sub}{dom}");
                prop_assert!(s.covers_host(&sub_host));
                prop_assert!(!s.covers_host(&glued_host));
                if s.covers_host(&other) {
                    let o = other.trim_end_matches('.');
                    let dotted = format!(".{dom}");
                    prop_assert!(o == dom || o.ends_with(&dotted), "{} covers {}", dom, o);
                }
            }
        }
    }
}
