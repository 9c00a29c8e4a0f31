//! Findings: what a check observed, how bad it is, which ASVS requirement it breaks
//! and how to fix it. Every check has a stable id (`Check::id`) for CI filters and tests.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How serious a finding is; sets the grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; does not lower the grade.
    Info,
    /// Any one lowers the grade to B.
    Low,
    /// One gives C, two or more D.
    Medium,
    /// One gives D, two or more F.
    High,
    /// Any one gives F.
    Critical,
}

impl Severity {
    /// Most severe first.
    pub const ALL: [Severity; 5] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!("unknown severity {s:?} (info, low, medium, high, critical)")),
        }
    }
}

/// Every check the scanner can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// `cookie-httponly-missing`.
    CookieHttpOnlyMissing,
    /// `cookie-secure-missing`.
    CookieSecureMissing,
    /// `cookie-samesite-missing`.
    CookieSameSiteMissing,
    /// `cookie-samesite-none`.
    CookieSameSiteNone,
    /// `cookie-prefix-missing`.
    CookiePrefixMissing,
    /// `cookie-prefix-invalid`.
    CookiePrefixInvalid,
    /// `cookie-domain-set`.
    CookieDomainSet,
    /// `cookie-persistent`.
    CookiePersistent,
    /// `cookie-too-large`.
    CookieTooLarge,
    /// `session-cookie-not-found`.
    SessionCookieNotFound,
    /// `session-id-low-entropy`.
    SessionIdLowEntropy,
    /// `session-id-sequential`.
    SessionIdSequential,
    /// `session-id-time-based`.
    SessionIdTimeBased,
    /// `session-id-duplicate`.
    SessionIdDuplicate,
    /// `login-id-not-regenerated`.
    LoginIdNotRegenerated,
    /// `login-old-id-alive`.
    LoginOldIdAlive,
    /// `logout-session-alive`.
    LogoutSessionAlive,
    /// `idle-timeout-not-enforced`.
    IdleTimeoutNotEnforced,
    /// `transport-no-https-redirect`.
    TransportNoHttpsRedirect,
    /// `transport-no-hsts`.
    TransportNoHsts,
    /// `transport-hsts-weak`.
    TransportHstsWeak,
    /// `session-id-in-url`.
    SessionIdInUrl,
    /// `session-id-in-body`.
    SessionIdInBody,
    /// `identity-header-accepted`.
    IdentityHeaderAccepted,
    /// `origin-command-exposed`.
    OriginCommandExposed,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 25] = [
        Check::CookieHttpOnlyMissing,
        Check::CookieSecureMissing,
        Check::CookieSameSiteMissing,
        Check::CookieSameSiteNone,
        Check::CookiePrefixMissing,
        Check::CookiePrefixInvalid,
        Check::CookieDomainSet,
        Check::CookiePersistent,
        Check::CookieTooLarge,
        Check::SessionCookieNotFound,
        Check::SessionIdLowEntropy,
        Check::SessionIdSequential,
        Check::SessionIdTimeBased,
        Check::SessionIdDuplicate,
        Check::LoginIdNotRegenerated,
        Check::LoginOldIdAlive,
        Check::LogoutSessionAlive,
        Check::IdleTimeoutNotEnforced,
        Check::TransportNoHttpsRedirect,
        Check::TransportNoHsts,
        Check::TransportHstsWeak,
        Check::SessionIdInUrl,
        Check::SessionIdInBody,
        Check::IdentityHeaderAccepted,
        Check::OriginCommandExposed,
    ];

    /// (id, title, ASVS 5.0 requirement, why it matters, how to fix it)
    // Long on purpose: a table with one arm per check, read one check at a time; split
    // up, a check's text would no longer sit next to its id.
    fn spec(self) -> (&'static str, &'static str, &'static str, &'static str, &'static str) {
        match self {
            Check::CookieHttpOnlyMissing => (
                "cookie-httponly-missing",
                "Cookie without HttpOnly",
                "V3.3.4",
                "Any script on the page (an XSS payload, a compromised third-party script) can read the cookie with document.cookie and send the session elsewhere.",
                "Add the HttpOnly attribute to the session cookie.",
            ),
            Check::CookieSecureMissing => (
                "cookie-secure-missing",
                "Cookie without Secure",
                "V3.3.1",
                "Without Secure the browser also sends the cookie over plain HTTP, where anyone on the network path can read it.",
                "Add the Secure attribute and serve the site over HTTPS only.",
            ),
            Check::CookieSameSiteMissing => (
                "cookie-samesite-missing",
                "Cookie without SameSite",
                "V3.3.2",
                "Without an explicit SameSite the cookie's cross-site behaviour depends on the browser, and older browsers send it on cross-site requests (CSRF).",
                "Set SameSite=Lax (or Strict) on the session cookie.",
            ),
            Check::CookieSameSiteNone => (
                "cookie-samesite-none",
                "Session cookie with SameSite=None",
                "V3.3.2",
                "SameSite=None sends the session cookie on every cross-site request, so any other site can make authenticated requests (CSRF).",
                "Use SameSite=Lax or Strict unless the cookie must be sent cross-site.",
            ),
            Check::CookiePrefixMissing => (
                "cookie-prefix-missing",
                "Session cookie without __Host- prefix",
                "V3.3.3",
                "Without the __Host- prefix a sibling subdomain or a plain-HTTP page can set (toss) a cookie with the same name and fix or shadow the session.",
                "Name the cookie __Host-<name> (requires Secure, Path=/ and no Domain).",
            ),
            Check::CookiePrefixInvalid => (
                "cookie-prefix-invalid",
                "Cookie prefix requirements not met",
                "V3.3.1",
                "Browsers refuse a __Host- cookie that is not Secure, has a Domain or a Path other than /, and a __Secure- cookie that is not Secure: the cookie is silently dropped.",
                "Set Secure, Path=/ and no Domain on __Host- cookies; Secure on __Secure- cookies.",
            ),
            Check::CookieDomainSet => (
                "cookie-domain-set",
                "Session cookie shared with subdomains",
                "V3.3.3",
                "A Domain attribute sends the session cookie to every subdomain, so any of them (or a takeover of one) can read or overwrite it.",
                "Drop the Domain attribute so that the cookie is host-only.",
            ),
            Check::CookiePersistent => (
                "cookie-persistent",
                "Persistent session cookie",
                "V7.3.2",
                "A session cookie with Max-Age/Expires survives browser restarts on shared or stolen devices.",
                "Use a browser-session cookie (no Max-Age/Expires) unless the user asked to stay signed in.",
            ),
            Check::CookieTooLarge => (
                "cookie-too-large",
                "Cookie over 4096 bytes",
                "V3.3.5",
                "Browsers drop cookies whose name and value exceed 4096 bytes, breaking the session.",
                "Keep session state on the server and only a short reference token in the cookie.",
            ),
            Check::SessionCookieNotFound => (
                "session-cookie-not-found",
                "No session cookie observed",
                "V7.2.2",
                "The probed pages (and the login, if given) set no session cookie, so the session checks could not run.",
                "Pass --login with a working recipe, or --cookie <name> if the session cookie has an unusual name.",
            ),
            Check::SessionIdLowEntropy => (
                "session-id-low-entropy",
                "Session ID has less than 128 bits of entropy",
                "V7.2.3",
                "An attacker who can guess a live session ID takes over that session without ever knowing the password.",
                "Generate session IDs from a CSPRNG with at least 128 bits (256 recommended).",
            ),
            Check::SessionIdSequential => (
                "session-id-sequential",
                "Session IDs are sequential",
                "V7.2.3",
                "Anyone who gets one ID can compute the IDs issued before and after it and take over those sessions.",
                "Generate session IDs from a CSPRNG; never from counters.",
            ),
            Check::SessionIdTimeBased => (
                "session-id-time-based",
                "Session IDs embed the current time",
                "V7.2.3",
                "A timestamp in the ID is predictable and reduces the search space an attacker must guess.",
                "Generate session IDs from a CSPRNG only; keep timestamps on the server.",
            ),
            Check::SessionIdDuplicate => (
                "session-id-duplicate",
                "The same session ID was issued twice",
                "V7.2.3",
                "Two clients holding the same ID share one session.",
                "Generate session IDs from a CSPRNG with at least 128 bits.",
            ),
            Check::LoginIdNotRegenerated => (
                "login-id-not-regenerated",
                "Session ID not regenerated at login (session fixation)",
                "V7.2.4",
                "An attacker who plants a session ID in the victim's browser before login owns the authenticated session after it.",
                "Issue a new session ID at every login (and re-authentication) and destroy the old one.",
            ),
            Check::LoginOldIdAlive => (
                "login-old-id-alive",
                "Pre-login session ID still authenticated after login",
                "V7.2.4",
                "A new ID was issued, but the old one was promoted too: a planted ID still gives the attacker the authenticated session.",
                "Terminate the pre-login session when issuing the new ID.",
            ),
            Check::LogoutSessionAlive => (
                "logout-session-alive",
                "Session still valid after logout",
                "V7.4.1",
                "Logging out only cleared the browser's cookie; anyone holding a copy of the ID (stolen, logged, cached) keeps the session.",
                "Invalidate the session on the server at logout.",
            ),
            Check::IdleTimeoutNotEnforced => (
                "idle-timeout-not-enforced",
                "Idle session still valid after the probe's wait",
                "V7.3.1",
                "A session left open on an unattended or shared device stays usable indefinitely.",
                "Enforce an inactivity timeout on the server (sessiongate: IDLE_TIMEOUT).",
            ),
            Check::TransportNoHttpsRedirect => (
                "transport-no-https-redirect",
                "Plain HTTP is served instead of redirected to HTTPS",
                "V12.2.1",
                "Pages and cookies travel unencrypted; an attacker on the network reads or changes them.",
                "Answer every plain-HTTP request with a 301/308 redirect to https:// (sessiongate: REQUIRE_HTTPS=true).",
            ),
            Check::TransportNoHsts => (
                "transport-no-hsts",
                "No Strict-Transport-Security header",
                "V3.4.1",
                "Without HSTS a network attacker can downgrade the first request of a visit to plain HTTP (SSL stripping).",
                "Send Strict-Transport-Security: max-age=31536000; includeSubDomains on HTTPS responses.",
            ),
            Check::TransportHstsWeak => (
                "transport-hsts-weak",
                "HSTS max-age shorter than one year",
                "V3.4.1",
                "A short HSTS policy expires between visits and leaves the first request of the next visit downgradable.",
                "Use max-age=31536000 (one year) or more.",
            ),
            Check::SessionIdInUrl => (
                "session-id-in-url",
                "Session ID in a URL",
                "V14.2.1",
                "URLs end up in browser history, server and proxy logs and Referer headers: the session leaks to everyone who sees them.",
                "Carry the session only in the cookie; never in Location headers, links or query strings.",
            ),
            Check::SessionIdInBody => (
                "session-id-in-body",
                "Session ID in a response body",
                "V3.3.4",
                "A session ID in the page is readable by scripts and caches even when the cookie is HttpOnly.",
                "Never echo the session token in responses; show a separate public handle if users need one.",
            ),
            Check::IdentityHeaderAccepted => (
                "identity-header-accepted",
                "Identity header from the client accepted",
                "V4.1.3",
                "Headers meant to be set by a trusted proxy (user name, roles) were accepted from the client: anyone can claim to be anyone.",
                "Strip these headers from client requests at the edge (sessiongate strips X-Session-*) and have the origin trust identity only with a verified assertion.",
            ),
            Check::OriginCommandExposed => (
                "origin-command-exposed",
                "Gate-only header reached the client",
                "V4.1.3",
                "X-Session-Command / X-Session-Assertion are meant for the gate and origin only: seeing them at the client means the origin is reachable directly, bypassing the gate.",
                "Only let the gate reach the origin (firewall, Cloudflare Tunnel, mTLS) and require a valid X-Session-Assertion on every request.",
            ),
        }
    }

    /// Stable id (`cookie-httponly-missing`).
    pub fn id(self) -> &'static str {
        self.spec().0
    }
    /// One-line title.
    pub fn title(self) -> &'static str {
        self.spec().1
    }
    /// OWASP ASVS 5.0 requirement.
    pub fn asvs(self) -> &'static str {
        self.spec().2
    }
    /// Why it matters.
    pub fn why(self) -> &'static str {
        self.spec().3
    }
    /// How to fix it.
    pub fn fix(self) -> &'static str {
        self.spec().4
    }
}

/// One problem the scan found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check's id.
    pub id: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// The check's title.
    pub title: &'static str,
    /// What the finding is about: a cookie name, a header name, a page.
    pub subject: String,
    /// What was observed, quoting the exact header (session tokens redacted).
    pub observed: String,
    /// OWASP ASVS 5.0 requirement.
    pub asvs: String,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it.
    pub fix: &'static str,
    /// The check that found it.
    #[serde(skip)]
    pub check: Check,
}

impl Finding {
    /// A finding of `check` about `subject`.
    pub fn new(check: Check, severity: Severity, subject: impl Into<String>, observed: impl Into<String>) -> Self {
        Finding {
            id: check.id(),
            severity,
            title: check.title(),
            subject: subject.into(),
            observed: observed.into(),
            asvs: format!("ASVS 5.0 {}", check.asvs()),
            why: check.why(),
            fix: check.fix(),
            check,
        }
    }
}

/// A token shortened for reports: enough to recognise it, not enough to use it.
pub fn redact(value: &str) -> String {
    let n = value.chars().count();
    if n <= 8 {
        // Short values are weak anyway and are the finding itself (e.g. a counter).
        value.to_string()
    } else {
        let head: String = value.chars().take(6).collect();
        format!("{head}…[{n} chars]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Check::ALL {
            assert!(seen.insert(c.id()), "duplicate id {}", c.id());
            assert!(c.id().bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
            assert!(c.asvs().starts_with('V'));
            assert!(!c.why().is_empty() && !c.fix().is_empty());
        }
    }

    #[test]
    fn severity_parses_and_orders() {
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
    }

    #[test]
    fn redaction_keeps_short_values_and_hides_long_ones() {
        assert_eq!(redact("4711"), "4711");
        assert_eq!(redact("abcdefghijklmnop"), "abcdef…[16 chars]");
    }
}
