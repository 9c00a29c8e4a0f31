//! `ORIGIN_URL` / `ALLOWED_ORIGINS` entries: what is refused and why, and what an
//! accepted one is read as (found by cargo-mutants: no test had a control character
//! without one of the refused punctuation marks, or read the refusal's reason).

use sessiongate::core::config::OriginUrl;

#[test]
fn config_origin_url_refusals_say_why() {
    let why = |raw: &str| OriginUrl::parse(raw).unwrap_err();
    assert_eq!(why("origin.example"), "\"origin.example\" has no scheme");
    assert_eq!(
        why("ftp://origin.example"),
        "\"ftp://origin.example\": scheme must be http or https"
    );
    for bad in [
        "https://o.example/?q",
        "https://o.example/#f",
        "https://u@o.example",
        "https://o.example/a b",
        "https://o.example/\u{7f}",
        "https://o.example\t/",
        "https://o.example/\n",
    ] {
        assert_eq!(
            why(bad),
            format!("{bad:?} must not contain a query, fragment, credentials or spaces"),
            "{bad:?}"
        );
    }
    assert_eq!(why("https:///app"), "\"https:///app\" has no host");
}

#[test]
fn config_origin_url_parts() {
    let u = OriginUrl::parse("HTTPS://Origin.Example:8443/Base/").unwrap();
    assert_eq!(
        (u.scheme.as_str(), u.authority.as_str(), u.base_path.as_str()),
        ("https", "origin.example:8443", "/Base")
    );
    assert_eq!(u.host(), "origin.example");
    assert_eq!(u.url_for("/app", "?x=1"), "https://origin.example:8443/Base/app?x=1");
    let bare = OriginUrl::parse("http://127.0.0.1:9000").unwrap();
    assert_eq!(bare.url_for("/", ""), "http://127.0.0.1:9000/");
}
