//! `LOGIN_URL`: a site path that `PUBLIC_PATHS` opens, or an absolute http(s) URL; a
//! scheme-relative `//host` or `/\host` (which browsers read as another site) is neither
//! (found by cargo-mutants: no test configured an absolute LOGIN_URL, and the refusals
//! were checked without their reason).

use sessiongate::core::config::{Config, ConfigError};
use std::collections::HashMap;

fn with_login(url: &str) -> Result<Config, ConfigError> {
    let m = HashMap::from([
        ("SESSION_SECRET", "session-secret-of-at-least-32-bytes-0"),
        ("ASSERTION_ALG", "HS256"),
        ("ORIGIN_SECRET", "origin-secret-of-at-least-32-bytes-00"),
        ("LOGIN_URL", url),
    ]);
    Config::from_lookup(|k| m.get(k).map(|v| v.to_string()))
}

#[test]
fn config_login_url_is_a_public_site_path_or_an_http_url() {
    for ok in [
        "/login",
        "/login?next=1",
        "https://id.example.com/login",
        "http://127.0.0.1:9000/login",
    ] {
        assert_eq!(with_login(ok).map(|c| c.login_url), Ok(ok.to_string()), "{ok}");
    }
    for bad in [
        "//evil.example/login",
        "/\\evil.example/login",
        "login",
        "ftp://id.example.com/",
        "javascript:alert(1)",
        "/log in",
        "/log\u{7}in",
    ] {
        let e = with_login(bad).expect_err(bad);
        assert_eq!(e.variable, "LOGIN_URL");
        assert_eq!(
            e.problem,
            format!("{:?} is not a site path or an http(s) URL", bad.trim()),
            "{bad:?}"
        );
    }
    let e = with_login("/account/login").unwrap_err();
    assert_eq!(
        e.problem,
        "/account/login is not matched by PUBLIC_PATHS, so browsers sent there would loop"
    );
}
