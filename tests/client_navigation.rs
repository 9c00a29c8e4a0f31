//! A browser navigation by `Accept` alone: `text/html` refused with `q=0` is not one,
//! whatever JSON's weight (found by cargo-mutants: no test had `q=0`).

use sessiongate::core::client::is_navigation;

#[test]
fn client_html_with_q_zero_is_not_a_navigation() {
    for (accept, nav) in [
        ("text/html", true),
        ("text/html;q=0", false),
        ("text/html;q=0, application/json;q=0", false),
        ("text/html;q=0.1, application/json;q=0", true),
        ("text/html;q=0.5, application/json;q=0.5", true),
        ("text/html;q=0.4, application/json;q=0.5", false),
        ("application/json", false),
    ] {
        assert_eq!(is_navigation(None, Some(accept)), nav, "{accept}");
    }
    assert!(
        is_navigation(Some("navigate"), Some("application/json")),
        "Sec-Fetch-Mode decides when present"
    );
    assert!(!is_navigation(Some("cors"), Some("text/html")));
}

/// `return_to` never starts with two slashes, whichever mix of slashes, backslashes,
/// spaces and control characters precedes the path (found by cargo-mutants: no test had
/// a space or a control character that is not also whitespace).
#[test]
fn client_return_to_drops_every_leading_slash_space_and_control() {
    use sessiongate::core::client::login_redirect;
    for lead in [
        "/",
        "//",
        "/\\",
        "\\\\",
        "/ /",
        "/\u{2028}/",
        "/\u{1}/",
        "/\u{0}/",
        "/\t/",
        "/ \\\u{7f}/",
    ] {
        let got = login_redirect("/login", &format!("{lead}evil.example/x?a=1"), "", false);
        assert_eq!(got, "/login?return_to=/evil.example/x%3Fa%3D1", "{lead:?}");
    }
    assert_eq!(
        login_redirect("/login?lang=en", "/app", "idle_timeout", true),
        "/login?lang=en&reauth=1&return_to=/app&reason=idle_timeout"
    );
}
