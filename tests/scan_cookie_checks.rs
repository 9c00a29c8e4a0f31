//! The scanner's Set-Cookie checks, each branch with the exact findings and severities
//! it gives a session cookie and any other cookie, at the bounds (found by
//! cargo-mutants: the unit tests listed finding ids for a few cookies, not severities,
//! clearing cookies, the size bound or the redacted text).

use sessiongate::scan::cookie::{check, looks_like_session, parse};
use sessiongate::scan::finding::Severity::{self, High, Info, Low, Medium};

fn findings(header: &str, session: bool) -> Vec<(&'static str, Severity)> {
    check(&parse(header).unwrap(), session, "GET /")
        .into_iter()
        .map(|f| (f.id, f.severity))
        .collect()
}

#[test]
fn scan_cookie_findings_for_sessions_and_other_cookies() {
    let bare = "sid=abcdefghijkl; Path=/";
    assert_eq!(
        findings(bare, true),
        [
            ("cookie-httponly-missing", High),
            ("cookie-secure-missing", High),
            ("cookie-samesite-missing", Medium),
            ("cookie-prefix-missing", Low)
        ]
    );
    assert_eq!(
        findings(bare, false),
        [
            ("cookie-httponly-missing", Info),
            ("cookie-secure-missing", Low),
            ("cookie-samesite-missing", Info)
        ]
    );
    let good = "__Host-s=x; Secure; HttpOnly; SameSite=Strict; Path=/";
    assert_eq!(findings(good, true), []);
    assert_eq!(
        findings("__Host-s=x; Secure; HttpOnly; SameSite=STRICT; Path=/", true),
        [],
        "SameSite is case-insensitive"
    );
    assert_eq!(findings("__Secure-s=x; Secure; HttpOnly; SameSite=Lax; Path=/app", true), []);
}

#[test]
fn scan_cookie_same_site_values() {
    let with = |ss: &str, secure: &str| format!("__Host-s=x; HttpOnly; Path=/; SameSite={ss}{secure}");
    assert_eq!(findings(&with("None", "; Secure"), true), [("cookie-samesite-none", Medium)]);
    assert_eq!(
        findings(&with("None", "; Secure"), false),
        [],
        "a third-party cookie may be None when Secure"
    );
    assert_eq!(
        findings(&with("None", ""), false),
        [
            ("cookie-secure-missing", Low),
            ("cookie-samesite-none", Low),
            ("cookie-prefix-invalid", Medium)
        ]
    );
    assert_eq!(findings(&with("Bogus", "; Secure"), true), [("cookie-samesite-missing", Medium)]);
    assert_eq!(findings(&with("Bogus", "; Secure"), false), [("cookie-samesite-missing", Info)]);
    assert_eq!(findings(&with("lax", "; Secure"), true), []);
}

#[test]
fn scan_cookie_prefixes_domain_and_persistence() {
    let rest = "HttpOnly; SameSite=Lax";
    assert_eq!(
        findings(&format!("__Host-s=x; Secure; Path=/; Domain=example.com; {rest}"), true),
        [("cookie-prefix-invalid", Medium), ("cookie-domain-set", Medium)]
    );
    assert_eq!(
        findings(&format!("__Host-s=x; Secure; {rest}"), true),
        [("cookie-prefix-invalid", Medium)],
        "no Path"
    );
    assert_eq!(
        findings(&format!("__Host-s=x; Path=/; {rest}"), true),
        [("cookie-secure-missing", High), ("cookie-prefix-invalid", Medium)]
    );
    assert_eq!(
        findings(&format!("__Secure-s=x; Path=/; {rest}"), false),
        [("cookie-secure-missing", Low), ("cookie-prefix-invalid", Medium)]
    );
    assert_eq!(
        findings(&format!("sid=x; Secure; Domain=example.com; {rest}"), false),
        [],
        "Domain matters for the session cookie only"
    );
    assert_eq!(
        findings(&format!("__Secure-s=x; Secure; Domain=; {rest}"), true),
        [],
        "an empty Domain is no Domain"
    );
    for persistent in [
        "Max-Age=1",
        "Expires=Wed, 21 Oct 2037 07:28:00 GMT",
        "Max-Age=60; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
    ] {
        assert_eq!(
            findings(&format!("__Secure-s=x; Secure; {persistent}; {rest}"), true),
            [("cookie-persistent", Low)],
            "{persistent}"
        );
        assert_eq!(findings(&format!("__Secure-s=x; Secure; {persistent}; {rest}"), false), []);
    }
    // Cookies that clear: nothing to report, whatever their attributes.
    for clearing in [
        "sid=x; Max-Age=0",
        "sid=x; Max-Age=-1",
        "sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "sid=x; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Max-Age=0",
    ] {
        assert_eq!(findings(clearing, true), [], "{clearing}");
    }
    // Max-Age wins over Expires: a negative one clears even with a future Expires.
    assert_eq!(findings("sid=x; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Max-Age=-5", true), []);
    for (header, persistent) in [
        ("sid=x; Max-Age=0", false),
        ("sid=x; Max-Age=1", true),
        ("sid=x; Max-Age=-1", false),
        ("sid=x", false),
    ] {
        assert_eq!(parse(header).unwrap().persistent(), persistent, "{header}");
    }
    let p = parse("sid=x; Expires=soon; Max-Age=nope").unwrap();
    assert_eq!(
        (p.max_age(), p.persistent(), p.is_clearing()),
        (None, true, false),
        "an unreadable Max-Age is ignored"
    );
}

#[test]
fn scan_cookie_size_bound_is_4096_bytes_of_name_and_value() {
    let ok = format!("__Host-s={}; Secure; HttpOnly; SameSite=Lax; Path=/", "x".repeat(4096 - 8));
    assert_eq!(findings(&ok, true), []);
    let over = format!("__Host-s={}; Secure; HttpOnly; SameSite=Lax; Path=/", "x".repeat(4097 - 8));
    assert_eq!(findings(&over, true), [("cookie-too-large", Medium)]);
}

#[test]
fn scan_cookie_parse_redact_and_names() {
    let c = parse(
        " sid = \"abcdefghijkl\" ; path=/ ; HTTPONLY;; Foo=Bar ; secure; samesite=lax; max-age=5; domain=a.example; expires=x; partitioned",
    )
    .unwrap();
    assert_eq!((c.name.as_str(), c.value.as_str()), ("sid", "abcdefghijkl"));
    assert_eq!(
        (c.path(), c.domain(), c.same_site(), c.max_age(), c.expires()),
        (Some("/"), Some("a.example"), Some("lax"), Some(5), Some("x"))
    );
    assert_eq!(
        c.redacted(),
        "sid=abcdef…[12 chars]; Path=/; HttpOnly; foo=Bar; Secure; SameSite=lax; Max-Age=5; Domain=a.example; Expires=x; Partitioned"
    );
    assert_eq!(
        parse("n=short; Path=/").unwrap().redacted(),
        "n=short; Path=/",
        "short values are shown"
    );
    let f = check(&parse("sid=abcdefghijkl").unwrap(), true, "POST /login");
    assert_eq!(f[0].observed, "POST /login -> Set-Cookie: sid=abcdef…[12 chars]");
    assert_eq!(f[0].subject, "sid");
    for name in ["PHPSESSID", "connect.sid", "auth_token", "JWT", "remember_login", "my-token"] {
        assert!(looks_like_session(name), "{name}");
    }
    for name in ["theme", "lang", "_ga", "csrftoken_"] {
        assert_eq!(looks_like_session(name), name.contains("token"), "{name}");
    }
}
