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
    assert!(is_navigation(Some("navigate"), Some("application/json")), "Sec-Fetch-Mode decides when present");
    assert!(!is_navigation(Some("cors"), Some("text/html")));
}
