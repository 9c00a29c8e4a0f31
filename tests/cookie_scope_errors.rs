//! The cookie-scope errors' messages, which the gate's configuration error prints after
//! the variable's name (found by cargo-mutants: no test read them).

use sessiongate::core::cookie_scope::ScopeError;

#[test]
fn cookie_scope_errors_say_what_is_wrong() {
    let all = [
        (ScopeError::NotAHostName, "is not a host name"),
        (
            ScopeError::IpAddress,
            "is an IP address, which a cookie cannot share with subdomains",
        ),
        (ScopeError::PublicSuffix, "is a public suffix: browsers refuse cookies for it"),
        (ScopeError::PathNotAbsolute, "must start with /"),
        (
            ScopeError::PathCharacters,
            "may hold only path characters (no *, ;, ?, #, spaces or controls)",
        ),
        (
            ScopeError::HostPrefixWithScope,
            "a __Host- cookie cannot carry Domain or a Path other than /: browsers drop it",
        ),
        (
            ScopeError::NoSecurePrefix,
            "a cookie with Domain or a Path other than / must use the __Secure- prefix",
        ),
    ];
    for (e, text) in all {
        assert_eq!(e.to_string(), text, "{e:?}");
    }
}

#[test]
fn cookie_scope_domain_bounds_and_registries() {
    use sessiongate::core::cookie_scope::CookieScope;
    let domain = |d: &str| {
        CookieScope::parse(Some(d), None)
            .map(|s| s.domain().map(str::to_string))
            .map_err(|(var, e)| {
                assert_eq!(var, "COOKIE_DOMAIN");
                e
            })
    };
    let label = |n: usize| "a".repeat(n);
    // 253 bytes in all is a host name, 254 is not; a label of 63 bytes is, 64 is not.
    let at = format!("{}.{}.{}.{}", label(63), label(63), label(63), label(61));
    assert_eq!(at.len(), 253);
    assert_eq!(domain(&at), Ok(Some(at.clone())));
    assert_eq!(domain(&format!("{at}a")), Err(ScopeError::NotAHostName));
    assert_eq!(
        domain(&format!("{}.example", label(63))),
        Ok(Some(format!("{}.example", label(63))))
    );
    assert_eq!(domain(&format!("{}.example", label(64))), Err(ScopeError::NotAHostName));
    // Two labels, a registry word under a two-letter country code: a public suffix.
    assert_eq!(domain("co.uk"), Err(ScopeError::PublicSuffix));
    assert_eq!(domain("com.au"), Err(ScopeError::PublicSuffix));
    // Either condition alone is an ordinary registrable name.
    assert_eq!(domain("example.uk"), Ok(Some("example.uk".into())));
    assert_eq!(domain("co.com"), Ok(Some("co.com".into())));
    assert_eq!(domain("shop.co.uk"), Ok(Some("shop.co.uk".into())));
    assert_eq!(domain("co.uk.example"), Ok(Some("co.uk.example".into())), "three labels");
    assert_eq!(domain("uk"), Err(ScopeError::PublicSuffix));
}
