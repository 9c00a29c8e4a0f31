//! Facts about the client: is this a browser navigation, is it cross-site, is it the
//! same network as before.

use std::net::IpAddr;

/// A browser navigation gets a redirect to the login page; anything else a JSON 401.
pub fn is_navigation(sec_fetch_mode: Option<&str>, accept: Option<&str>) -> bool {
    if let Some(mode) = sec_fetch_mode {
        return mode.trim().eq_ignore_ascii_case("navigate");
    }
    let Some(accept) = accept else { return false };
    // "Accept prefers text/html": html is listed with a q at least as high as JSON's.
    let q_of = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let media = it.next()?.trim();
                if !media.eq_ignore_ascii_case(wanted) {
                    return None;
                }
                let q = it
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .filter_map(|q| q.trim().parse::<f32>().ok())
                    .next()
                    .unwrap_or(1.0);
                Some(q)
            })
            .fold(None, |acc: Option<f32>, q| Some(acc.map_or(q, |a| a.max(q))))
    };
    match (q_of("text/html"), q_of("application/json")) {
        (Some(h), Some(j)) => h > 0.0 && h >= j,
        (Some(h), None) => h > 0.0,
        _ => false,
    }
}

/// The network an address belongs to for binding: IPv4 /24, IPv6 /64.
/// IPv4-mapped IPv6 addresses count as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    V4([u8; 3]),
    V6([u8; 8]),
}

pub fn network(ip: &str) -> Option<Network> {
    let addr: IpAddr = ip.trim().parse().ok()?;
    Some(match addr {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            Network::V4([o[0], o[1], o[2]])
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                let o = v4.octets();
                Network::V4([o[0], o[1], o[2]])
            }
            None => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&v6.octets()[..8]);
                Network::V6(n)
            }
        },
    })
}

/// Same network? Unparseable addresses only match themselves exactly.
pub fn same_network(a: &str, b: &str) -> bool {
    match (network(a), network(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

pub fn is_unsafe_method(method: &str) -> bool {
    !matches!(method.to_ascii_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// Cross-site request check for unsafe methods carrying the session cookie.
pub fn is_cross_site(
    method: &str,
    carries_session_cookie: bool,
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    own_origin: &str,
    allowed_origins: &[String],
) -> bool {
    carries_session_cookie && is_cross_site_request(method, sec_fetch_site, origin, own_origin, allowed_origins)
}

/// Is an unsafe request cross-site, cookie or not?
/// - An `Origin` header decides when present: it must be ours or in `ALLOWED_ORIGINS`,
///   whatever `Sec-Fetch-Site` claims (a page can make the browser send any origin's
///   request, never another `Origin`). Ours with `Sec-Fetch-Site` saying otherwise is a
///   contradiction, refused.
/// - Without `Origin`, only `Sec-Fetch-Site: same-origin` or `none` (typed by the user)
///   pass: `same-site` is a sibling subdomain, another origin.
/// - Neither header: not cross-site (SameSite covers those browsers).
pub fn is_cross_site_request(
    method: &str,
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    own_origin: &str,
    allowed_origins: &[String],
) -> bool {
    is_unsafe_method(method) && crosses_site(sec_fetch_site, origin, own_origin, allowed_origins)
}

/// Is a WebSocket handshake cross-site? A GET, but it opens a channel that acts with
/// the session (cross-site WebSocket hijacking: browsers send the cookie, and SameSite
/// does not stop a sibling subdomain), so it is judged like an unsafe request.
pub fn is_cross_site_handshake(sec_fetch_site: Option<&str>, origin: Option<&str>, own_origin: &str, allowed_origins: &[String]) -> bool {
    crosses_site(sec_fetch_site, origin, own_origin, allowed_origins)
}

fn crosses_site(sec_fetch_site: Option<&str>, origin: Option<&str>, own_origin: &str, allowed_origins: &[String]) -> bool {
    let site = sec_fetch_site.map(|s| s.trim().to_ascii_lowercase());
    match origin.map(str::trim) {
        Some(o) if o.eq_ignore_ascii_case(own_origin) => matches!(site.as_deref(), Some("cross-site" | "same-site")),
        Some(o) => !allowed_origins.iter().any(|a| a.eq_ignore_ascii_case(o)),
        None => !matches!(site.as_deref(), None | Some("same-origin" | "none")),
    }
}

/// Escapes a relative path+query for use as a query parameter value.
pub fn percent_encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `LOGIN_URL?return_to=...&reason=...`. `return_to` is always a path on this site:
/// it starts with a single `/` (a `//host` would be protocol-relative).
pub fn login_redirect(login_url: &str, path_and_query: &str, reason: &str, reauth: bool) -> String {
    // Browsers drop tabs and newlines in URLs, so `/\t/evil.example` would become
    // `//evil.example` once a login page decodes and follows it: strip those too.
    let mut rt = path_and_query
        .trim_start_matches(|c: char| c == '/' || c == '\\' || c.is_control() || c.is_whitespace())
        .to_string();
    rt.insert(0, '/');
    let sep = if login_url.contains('?') { '&' } else { '?' };
    let mut url = format!("{login_url}{sep}");
    if reauth {
        url.push_str("reauth=1&");
    }
    url.push_str("return_to=");
    url.push_str(&percent_encode_component(&rt));
    if !reason.is_empty() {
        url.push_str("&reason=");
        url.push_str(&percent_encode_component(reason));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn navigation_detection() {
        assert!(is_navigation(Some("navigate"), None));
        assert!(!is_navigation(Some("cors"), Some("text/html")));
        assert!(is_navigation(None, Some("text/html,application/xhtml+xml,*/*;q=0.8")));
        assert!(!is_navigation(None, Some("application/json")));
        assert!(!is_navigation(None, Some("application/json, text/html;q=0.5")));
        assert!(is_navigation(None, Some("text/html;q=0.9, application/json;q=0.9")));
        assert!(!is_navigation(None, Some("*/*")));
        assert!(!is_navigation(None, None));
    }

    #[test]
    fn networks() {
        assert!(same_network("203.0.113.5", "203.0.113.200"));
        assert!(!same_network("203.0.113.5", "203.0.114.5"));
        assert!(same_network("2001:db8:1:2::1", "2001:db8:1:2:ffff::9"));
        assert!(!same_network("2001:db8:1:2::1", "2001:db8:1:3::1"));
        assert!(same_network("::ffff:203.0.113.5", "203.0.113.9"));
        assert!(same_network("garbage", "garbage"));
        assert!(!same_network("garbage", "203.0.113.5"));
    }

    #[test]
    fn cross_site_rules() {
        let own = "https://app.example";
        let allowed = vec!["https://partner.example".to_string()];
        assert!(is_cross_site("POST", true, Some("cross-site"), None, own, &allowed));
        // A foreign Origin is cross-site whatever Sec-Fetch-Site claims.
        for site in [Some("same-origin"), Some("same-site"), Some("none"), Some("garbage"), None] {
            assert!(
                is_cross_site("POST", true, site, Some("https://evil.example"), own, &allowed),
                "{site:?}"
            );
            assert!(is_cross_site("POST", true, site, Some("null"), own, &allowed), "{site:?}");
            assert!(
                !is_cross_site("POST", true, site, Some("https://partner.example"), own, &allowed),
                "{site:?}"
            );
        }
        // Without Origin, only same-origin and none pass: a sibling subdomain is another origin.
        for (site, cross) in [
            ("same-origin", false),
            ("none", false),
            ("same-site", true),
            ("cross-site", true),
            ("garbage", true),
        ] {
            assert_eq!(is_cross_site("POST", true, Some(site), None, own, &allowed), cross, "{site}");
        }
        // Our own Origin with Sec-Fetch-Site saying it is not: contradictory, refused.
        assert!(is_cross_site("POST", true, Some("cross-site"), Some(own), own, &allowed));
        assert!(is_cross_site("POST", true, Some("same-site"), Some(own), own, &allowed));
        assert!(!is_cross_site("POST", true, Some("same-origin"), Some(own), own, &allowed));
        // The check itself does not depend on the cookie (login CSRF has none).
        assert!(is_cross_site_request(
            "POST",
            Some("cross-site"),
            Some("https://evil.example"),
            own,
            &allowed
        ));
        assert!(!is_cross_site_request(
            "GET",
            Some("cross-site"),
            Some("https://evil.example"),
            own,
            &allowed
        ));
        assert!(is_cross_site("DELETE", true, None, Some("https://evil.example"), own, &allowed));
        assert!(!is_cross_site("POST", true, None, Some("https://partner.example"), own, &allowed));
        assert!(!is_cross_site("POST", true, None, Some("https://app.example"), own, &allowed));
        assert!(!is_cross_site("POST", true, None, None, own, &allowed));
        assert!(!is_cross_site("GET", true, Some("cross-site"), None, own, &allowed));
        assert!(!is_cross_site("POST", false, Some("cross-site"), None, own, &allowed));
    }

    #[test]
    fn websocket_handshakes_are_judged_like_unsafe_requests() {
        let own = "https://app.example";
        let allowed = vec!["https://partner.example".to_string()];
        // A GET, yet another site's Origin is refused (cross-site WebSocket hijacking).
        assert!(is_cross_site_handshake(None, Some("https://evil.example"), own, &allowed));
        assert!(is_cross_site_handshake(None, Some("https://sub.app.example"), own, &allowed));
        assert!(is_cross_site_handshake(None, Some("null"), own, &allowed));
        assert!(!is_cross_site_handshake(None, Some(own), own, &allowed));
        assert!(!is_cross_site_handshake(None, Some("https://partner.example"), own, &allowed));
        // A non-browser client sends neither header.
        assert!(!is_cross_site_handshake(None, None, own, &allowed));
        assert!(is_cross_site_handshake(Some("same-site"), None, own, &allowed));
    }

    #[test]
    fn login_redirects_stay_on_site() {
        assert_eq!(
            login_redirect("/login", "/app?x=1", "missing", false),
            "/login?return_to=/app%3Fx%3D1&reason=missing"
        );
        assert_eq!(
            login_redirect("/login", "//evil.example/x", "invalid", false),
            "/login?return_to=/evil.example/x&reason=invalid"
        );
        assert_eq!(
            login_redirect("/login?lang=en", "/a", "", true),
            "/login?lang=en&reauth=1&return_to=/a"
        );
        // Browsers drop tabs in URLs: `/\t/evil.example` must not become `//evil.example`.
        assert_eq!(
            login_redirect("/login", "/\t/evil.example", "", false),
            "/login?return_to=/evil.example"
        );
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn ip_parsing_never_panics(s in "\\PC{0,60}") { let _ = network(&s); }

        #[test]
        fn networks_compare_symmetrically(
            a in "(\\PC{0,20}|[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}|[0-9a-f:.]{2,40})",
            b in "(\\PC{0,20}|[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}|::ffff:[0-9.]{7,15})",
        ) {
            prop_assert!(same_network(&a, &a));
            prop_assert_eq!(same_network(&a, &b), same_network(&b, &a));
        }

        #[test]
        fn cross_site_check_never_panics(
            method in "(GET|HEAD|POST|PUT|DELETE|get|\\PC{0,5})",
            cookie in any::<bool>(),
            site in prop::option::of("(cross-site|same-origin|same-site|none|\\PC{0,8})"),
            origin in prop::option::of("(https://app.example|https://partner.example|null|\\PC{0,16})"),
            own in "\\PC{0,16}",
            allowed in prop::collection::vec("\\PC{0,16}", 0..2),
        ) {
            let r = is_cross_site(&method, cookie, site.as_deref(), origin.as_deref(), &own, &allowed);
            if !cookie || !is_unsafe_method(&method) {
                prop_assert!(!r);
            }
            // A foreign Origin on an unsafe request with the cookie is always refused.
            let foreign = origin.as_deref().is_some_and(|o| {
                let o = o.trim();
                !o.eq_ignore_ascii_case(&own) && !allowed.iter().any(|a| a.eq_ignore_ascii_case(o))
            });
            if cookie && is_unsafe_method(&method) && foreign {
                prop_assert!(r);
            }
        }

        #[test]
        fn accept_parsing_never_panics(s in "\\PC{0,80}") { let _ = is_navigation(None, Some(&s)); }

        #[test]
        fn return_to_is_always_relative(p in "\\PC{0,60}") {
            let url = login_redirect("/login", &p, "missing", false);
            let rt = url.split("return_to=").nth(1).unwrap_or("");
            prop_assert!(rt.starts_with('/'));
            prop_assert!(!rt.starts_with("//"));
            prop_assert!(!rt.contains(':') && !rt.contains('\\'));
        }
    }
}
