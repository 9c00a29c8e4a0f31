//! `Set-Cookie` headers as the server sent them, and the attribute checks.

use super::finding::{redact, Check, Finding, Severity};

/// One `Set-Cookie` header as a browser would read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// The cookie's name.
    pub name: String,
    /// The cookie's value.
    pub value: String,
    /// Attributes in order, names lower-cased, values trimmed.
    pub attrs: Vec<(String, Option<String>)>,
}

/// Parses one `Set-Cookie` header (RFC 6265 section 5.2, leniently). `None` when there
/// is no `name=value` pair or the name is empty.
pub fn parse(raw: &str) -> Option<SetCookie> {
    let mut parts = raw.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let value = value.trim();
    let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
    let attrs = parts
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().to_string())),
            None => (a.to_ascii_lowercase(), None),
        })
        .collect();
    Some(SetCookie {
        name: name.to_string(),
        value: value.to_string(),
        attrs,
    })
}

impl SetCookie {
    fn attr(&self, name: &str) -> Option<&Option<String>> {
        // The last occurrence wins (RFC 6265 5.3).
        self.attrs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }
    fn attr_value(&self, name: &str) -> Option<&str> {
        self.attr(name).and_then(|v| v.as_deref())
    }
    /// The `HttpOnly` attribute is present.
    pub fn http_only(&self) -> bool {
        self.attr("httponly").is_some()
    }
    /// The `Secure` attribute is present.
    pub fn secure(&self) -> bool {
        self.attr("secure").is_some()
    }
    /// The `SameSite` value, as written.
    pub fn same_site(&self) -> Option<&str> {
        self.attr_value("samesite")
    }
    /// The `Path` value.
    pub fn path(&self) -> Option<&str> {
        self.attr_value("path")
    }
    /// The `Domain` value.
    pub fn domain(&self) -> Option<&str> {
        self.attr_value("domain").filter(|d| !d.is_empty())
    }
    /// The `Max-Age` value, when it parses.
    pub fn max_age(&self) -> Option<i64> {
        self.attr_value("max-age").and_then(|v| v.parse().ok())
    }
    /// The `Expires` value, as written.
    pub fn expires(&self) -> Option<&str> {
        self.attr_value("expires")
    }
    /// Max-Age / Expires make it outlive the browser session.
    pub fn persistent(&self) -> bool {
        self.max_age().map(|a| a > 0).unwrap_or(false) || (self.max_age().is_none() && self.expires().is_some())
    }
    /// A header that deletes the cookie rather than setting it.
    pub fn is_clearing(&self) -> bool {
        self.max_age().map(|a| a <= 0).unwrap_or(false) || (self.value.is_empty() && self.expires().is_some())
    }
    /// The header again, with the value redacted: safe to print in CI logs.
    pub fn redacted(&self) -> String {
        let mut s = format!("{}={}", self.name, redact(&self.value));
        for (k, v) in &self.attrs {
            s.push_str("; ");
            s.push_str(&canonical_attr(k));
            if let Some(v) = v {
                s.push('=');
                s.push_str(v);
            }
        }
        s
    }
}

fn canonical_attr(k: &str) -> String {
    match k {
        "httponly" => "HttpOnly".into(),
        "secure" => "Secure".into(),
        "samesite" => "SameSite".into(),
        "path" => "Path".into(),
        "domain" => "Domain".into(),
        "max-age" => "Max-Age".into(),
        "expires" => "Expires".into(),
        "partitioned" => "Partitioned".into(),
        other => other.into(),
    }
}

/// Does the name look like a session cookie?
pub fn looks_like_session(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["sess", "sid", "auth", "token", "login", "jwt"].iter().any(|k| n.contains(k))
}

/// Attribute findings for one cookie. `is_session` selects the stricter severities;
/// `seen_on` names the response (e.g. `POST /login`).
pub fn check(c: &SetCookie, is_session: bool, seen_on: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if c.is_clearing() {
        return out;
    }
    let observed = format!("{seen_on} -> Set-Cookie: {}", c.redacted());
    let sev = |session: Severity, other: Severity| if is_session { session } else { other };
    let mut add = |check: Check, severity: Severity| out.push(Finding::new(check, severity, c.name.clone(), observed.clone()));

    if !c.http_only() {
        add(Check::CookieHttpOnlyMissing, sev(Severity::High, Severity::Info));
    }
    if !c.secure() {
        add(Check::CookieSecureMissing, sev(Severity::High, Severity::Low));
    }
    match c.same_site().map(|s| s.to_ascii_lowercase()) {
        None => add(Check::CookieSameSiteMissing, sev(Severity::Medium, Severity::Info)),
        Some(s) if s == "none" && (is_session || !c.secure()) => add(Check::CookieSameSiteNone, sev(Severity::Medium, Severity::Low)),
        Some(s) if s != "lax" && s != "strict" && s != "none" => add(Check::CookieSameSiteMissing, sev(Severity::Medium, Severity::Info)),
        _ => {}
    }
    let host_prefix = c.name.starts_with("__Host-");
    let secure_prefix = c.name.starts_with("__Secure-");
    let host_prefix_broken = host_prefix && (!c.secure() || c.domain().is_some() || c.path() != Some("/"));
    if host_prefix_broken || (secure_prefix && !c.secure()) {
        add(Check::CookiePrefixInvalid, Severity::Medium);
    } else if is_session && !host_prefix && !secure_prefix {
        add(Check::CookiePrefixMissing, Severity::Low);
    }
    if is_session && c.domain().is_some() {
        add(Check::CookieDomainSet, Severity::Medium);
    }
    if is_session && c.persistent() {
        add(Check::CookiePersistent, Severity::Low);
    }
    if c.name.len() + c.value.len() > 4096 {
        add(Check::CookieTooLarge, Severity::Medium);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(v: &[Finding]) -> Vec<&'static str> {
        v.iter().map(|f| f.id).collect()
    }

    #[test]
    fn the_gates_cookie_is_clean() {
        let tok = "A".repeat(130);
        let c = parse(&format!("__Host-session={tok}; Path=/; HttpOnly; Secure; SameSite=Lax")).unwrap();
        assert!(check(&c, true, "POST /login").is_empty());
        // Clearing the cookie is not judged.
        let c = parse("__Host-session=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0").unwrap();
        assert!(c.is_clearing());
        assert!(check(&c, true, "POST /logout").is_empty());
    }

    #[test]
    fn a_bare_session_cookie_fails_everything() {
        let c = parse("SESSIONID=4711; Path=/").unwrap();
        assert_eq!(
            ids(&check(&c, true, "GET /")),
            [
                "cookie-httponly-missing",
                "cookie-secure-missing",
                "cookie-samesite-missing",
                "cookie-prefix-missing"
            ]
        );
        let f = check(&c, true, "GET /");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].observed, "GET / -> Set-Cookie: SESSIONID=4711; Path=/");
    }

    #[test]
    fn attributes_are_case_insensitive_and_last_wins() {
        let c = parse("sid=abc; secure; HTTPONLY; samesite=strict; Domain=example.com; max-age=60; Max-Age=3600").unwrap();
        assert!(c.secure() && c.http_only());
        assert_eq!(c.same_site(), Some("strict"));
        assert_eq!(c.max_age(), Some(3600));
        assert_eq!(
            ids(&check(&c, true, "GET /")),
            ["cookie-prefix-missing", "cookie-domain-set", "cookie-persistent"]
        );
    }

    #[test]
    fn prefixes_are_checked() {
        let c = parse("__Host-s=x; Secure; HttpOnly; SameSite=Lax; Path=/app").unwrap();
        assert_eq!(ids(&check(&c, true, "GET /")), ["cookie-prefix-invalid"]);
        let c = parse("__Secure-s=x; HttpOnly; SameSite=Lax; Path=/").unwrap();
        assert_eq!(ids(&check(&c, true, "GET /")), ["cookie-secure-missing", "cookie-prefix-invalid"]);
        let c = parse("sid=x; Secure; HttpOnly; SameSite=None; Path=/").unwrap();
        assert_eq!(ids(&check(&c, true, "GET /")), ["cookie-samesite-none", "cookie-prefix-missing"]);
    }

    #[test]
    fn other_cookies_get_milder_severities() {
        let c = parse("theme=dark; Path=/").unwrap();
        let f = check(&c, false, "GET /");
        assert_eq!(
            ids(&f),
            ["cookie-httponly-missing", "cookie-secure-missing", "cookie-samesite-missing"]
        );
        assert!(f.iter().all(|f| f.severity <= Severity::Low));
    }

    #[test]
    fn oversized_and_garbage() {
        let c = parse(&format!("__Host-s={}; Secure; HttpOnly; SameSite=Lax; Path=/", "x".repeat(5000))).unwrap();
        assert_eq!(ids(&check(&c, true, "GET /")), ["cookie-too-large"]);
        assert!(parse("no-equals-sign").is_none());
        assert!(parse("=value").is_none());
        assert!(parse("").is_none());
    }

    proptest! {
        // Parsers of untrusted input (Set-Cookie headers, URLs, recipes from the command
        // line): as many cases as the core parsers, not proptest's default 256.
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn never_panics_and_redaction_hides_long_values(raw in ".{0,300}") {
            if let Some(c) = parse(&raw) {
                let _ = check(&c, true, "GET /");
                if c.value.chars().count() > 8 {
                    prop_assert!(!c.redacted().contains(&c.value));
                }
            }
        }

        #[test]
        fn round_trips_name_and_value(name in "[A-Za-z0-9_-]{1,20}", value in "[A-Za-z0-9_-]{0,40}") {
            let c = parse(&format!("{name}={value}; Path=/; HttpOnly")).unwrap();
            prop_assert!(c.http_only() && !c.secure());
            prop_assert_eq!(c.name, name);
            prop_assert_eq!(c.value, value);
        }
    }
}
