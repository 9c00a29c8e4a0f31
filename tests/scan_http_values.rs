//! The scanner's HTTP values: header lookup, redirect and success classes, URL parts
//! (found by cargo-mutants: the probes using them are tested end to end only, by the
//! scan tier, which `make mutants` does not run).

use sessiongate::scan::http::{Request, Response, Url};

fn response(status: u16, headers: &[(&str, &str)]) -> Response {
    Response {
        status,
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: String::new(),
    }
}

#[test]
fn scan_http_headers_are_found_by_name_in_order() {
    let r = response(200, &[("set-cookie", "a=1"), ("location", "/x"), ("set-cookie", "b=2")]);
    assert_eq!(r.header("Location"), Some("/x"));
    assert_eq!(r.header("SET-COOKIE"), Some("a=1"), "the first one");
    assert_eq!(r.header("x-missing"), None);
    assert_eq!(r.all("Set-Cookie"), ["a=1", "b=2"]);
    assert!(r.all("x-missing").is_empty());
    let q = Request::get("https://h.example/").header("Cookie", "a=1").header("Accept", "*/*");
    assert_eq!((q.method.as_str(), q.url.as_str(), q.body), ("GET", "https://h.example/", None));
    assert_eq!(
        q.headers,
        [("Cookie".to_string(), "a=1".to_string()), ("Accept".to_string(), "*/*".to_string())]
    );
}

#[test]
fn scan_http_status_classes() {
    for s in [301, 302, 303, 307, 308] {
        assert!(response(s, &[]).is_redirect(), "{s}");
    }
    for s in [200, 300, 304, 305, 306, 309, 400] {
        assert!(!response(s, &[]).is_redirect(), "{s}");
    }
    for (s, ok) in [(199, false), (200, true), (204, true), (299, true), (300, false), (500, false)] {
        assert_eq!(response(s, &[]).is_success(), ok, "{s}");
    }
}

#[test]
fn scan_http_url_parts_origins_and_joins() {
    let u = Url::parse("HTTPS://Gate.Example:443/app/page?x=1#frag").unwrap();
    assert_eq!(
        (u.scheme.as_str(), u.host.as_str(), u.port, u.path.as_str()),
        ("https", "gate.example", Some(443), "/app/page?x=1")
    );
    assert_eq!(u.default_port(), 443);
    assert_eq!(u.origin(), "https://gate.example", "the default port is not written");
    assert_eq!(u.to_url_string(), "https://gate.example/app/page?x=1");
    let plain = Url::parse("http://127.0.0.1:8787").unwrap();
    assert_eq!(
        (plain.default_port(), plain.origin(), plain.path.as_str()),
        (80, "http://127.0.0.1:8787".to_string(), "/")
    );
    assert!(!u.same_origin(&plain));
    assert!(u.same_origin(&Url::parse("https://gate.example/other").unwrap()));
    assert!(!u.same_origin(&Url::parse("https://gate.example:8443/").unwrap()));
    assert!(!u.same_origin(&Url::parse("http://gate.example/").unwrap()));
    for (reference, want) in [
        ("/login", "https://gate.example/login"),
        ("?y=2", "https://gate.example/app/page?y=2"),
        ("next", "https://gate.example/app/next"),
        ("next#f", "https://gate.example/app/next"),
        ("//other.example/a", "https://other.example/a"),
        ("http://other.example:81/b", "http://other.example:81/b"),
    ] {
        assert_eq!(u.join(reference).unwrap().to_url_string(), want, "{reference}");
    }
    for (url, lo) in [
        ("http://localhost/", true),
        ("http://app.localhost/", true),
        ("http://[::1]:80/", true),
        ("http://127.9.9.9/", true),
        ("http://10.0.0.1/", false),
        ("http://localhost.example/", false),
        ("http://[::2]/", false),
    ] {
        assert_eq!(Url::parse(url).unwrap().is_loopback(), lo, "{url}");
    }
}
