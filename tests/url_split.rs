//! `url::split` refuses a URL without a valid scheme: an empty scheme and a scheme with
//! characters RFC 3986 does not allow (letters, digits, `+`, `-`, `.`) are each refused
//! on their own.

use sessiongate::core::url::split;

#[test]
fn url_without_a_valid_scheme_is_refused() {
    for bad in [
        "://example.com/",
        "ht tp://example.com/",
        "http:x://example.com/",
        "é://example.com/",
        "h\tt://example.com/",
    ] {
        assert_eq!(split(bad), None, "{bad:?}");
    }
    for good in ["https://example.com/", "h+t-t.p://example.com/a?b", "A1://h"] {
        assert!(split(good).is_some(), "{good:?}");
    }
}
