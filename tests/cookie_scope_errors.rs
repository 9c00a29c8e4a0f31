//! The cookie-scope errors' messages, which the gate's configuration error prints after
//! the variable's name (found by cargo-mutants: no test read them).

use sessiongate::core::cookie_scope::ScopeError;

#[test]
fn cookie_scope_errors_say_what_is_wrong() {
    let all = [
        (ScopeError::NotAHostName, "is not a host name"),
        (ScopeError::IpAddress, "is an IP address, which a cookie cannot share with subdomains"),
        (ScopeError::PublicSuffix, "is a public suffix: browsers refuse cookies for it"),
        (ScopeError::PathNotAbsolute, "must start with /"),
        (ScopeError::PathCharacters, "may hold only path characters (no *, ;, ?, #, spaces or controls)"),
        (ScopeError::HostPrefixWithScope, "a __Host- cookie cannot carry Domain or a Path other than /: browsers drop it"),
        (ScopeError::NoSecurePrefix, "a cookie with Domain or a Path other than / must use the __Secure- prefix"),
    ];
    for (e, text) in all {
        assert_eq!(e.to_string(), text, "{e:?}");
    }
}
