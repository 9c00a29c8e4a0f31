//! The `Cookie` request header and the gate's `Set-Cookie`.

use super::cookie_scope::CookieScope;
use super::oidc::flow::FLOW_COOKIE_PREFIX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    Lax,
}

impl SameSite {
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
        }
    }
}

/// What the request's `Cookie` header says about the gate's cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCookie {
    Absent,
    One(String),
    /// More than one cookie with the gate's name: ambiguous, so none is trusted for
    /// validation (cookie tossing from a sibling path or subdomain looks like this);
    /// logout still ends each value that is ours.
    Several(Vec<String>),
}

impl SessionCookie {
    pub fn is_present(&self) -> bool {
        !matches!(self, SessionCookie::Absent)
    }
}

/// Iterates `name=value` pairs of a Cookie header (RFC 6265 5.4 shape, lenient about
/// spaces; pairs without `=` are skipped, as browsers do). A comma separates pairs too:
/// the runtime joins repeated `Cookie` headers with `, `, so `a=1, __Host-session=x`
/// holds two cookies (no cookie value of RFC 6265 holds a comma).
pub fn pairs(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header.split([';', ',']).filter_map(|p| {
        let (n, v) = p.split_once('=')?;
        let v = v.trim();
        let v = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(v);
        Some((n.trim(), v))
    })
}

/// Finds the gate's cookie in the (possibly several, joined) Cookie headers.
pub fn find(header: &str, name: &str) -> SessionCookie {
    let mut found = values(header, name);
    let Some(first) = found.next() else {
        return SessionCookie::Absent;
    };
    match found.next() {
        None => SessionCookie::One(first.to_string()),
        Some(second) => SessionCookie::Several([first, second].into_iter().chain(found).map(str::to_string).collect()),
    }
}

/// Every value the gate's cookie has in the header, in order.
pub fn values<'a>(header: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    pairs(header).filter(move |(n, _)| *n == name).map(|(_, v)| v)
}

/// The Cookie header for the origin: every cookie but the gate's own (its session
/// cookie `name`, the device cookie `<name>-device` of a device-bound session, and edge
/// sign-in's flow cookies, `FLOW_COOKIE_PREFIX`), in order, from
/// every form the runtime hands over (`;`-separated, or repeated headers joined with
/// `, `). `None` when nothing is left.
pub fn strip(header: &str, name: &str) -> Option<String> {
    let is_gate = |p: &str| {
        p.split_once('=').is_some_and(|(n, _)| {
            let n = n.trim();
            n.strip_prefix(name).is_some_and(|rest| rest.is_empty() || rest == "-device") || n.starts_with(FLOW_COOKIE_PREFIX)
        })
    };
    let mut kept: Vec<String> = Vec::new();
    for part in header.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        if !part.contains(',') {
            if !is_gate(part) {
                kept.push(part.to_string());
            }
            continue;
        }
        // Only rewrite a comma-joined part when it holds the gate's cookie, so another
        // cookie's comma (not RFC 6265, but seen) reaches the origin untouched.
        let subs: Vec<&str> = part.split(',').map(str::trim).collect();
        if subs.iter().any(|p| is_gate(p)) {
            kept.extend(subs.into_iter().filter(|p| !p.is_empty() && !is_gate(p)).map(str::to_string));
        } else {
            kept.push(part.to_string());
        }
    }
    if kept.is_empty() {
        None
    } else {
        Some(kept.join("; "))
    }
}

/// `Set-Cookie` for a session: `Path=/` and no `Domain` (host-only, as `__Host-`
/// requires) unless `COOKIE_DOMAIN` / `COOKIE_PATH` scope it; `max_age` only for
/// persistent sessions, otherwise a browser-session cookie.
pub fn set(name: &str, scope: &CookieScope, value: &str, same_site: SameSite, max_age: Option<u64>) -> String {
    let mut s = format!(
        "{name}={value}; {}; HttpOnly; Secure; SameSite={}",
        scope.attributes(),
        same_site.as_str()
    );
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    s
}

/// `Set-Cookie` that removes the gate's cookie: the same name, scope and attributes
/// (a browser removes only the cookie they name), `Max-Age=0`.
pub fn clear(name: &str, scope: &CookieScope, same_site: SameSite) -> String {
    set(name, scope, "", same_site, Some(0))
}

/// Is `name` a valid cookie name (an RFC 7230 token)?
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Does a `Set-Cookie` header from the origin try to set the gate's own cookie?
pub fn set_cookie_name(header: &str) -> &str {
    header
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(n, _)| n.trim())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const N: &str = "__Host-session";

    #[test]
    fn finds_one_none_or_several() {
        assert_eq!(find("a=1; __Host-session=tok; b=2", N), SessionCookie::One("tok".into()));
        assert_eq!(find("a=1;b=2", N), SessionCookie::Absent);
        assert_eq!(find("", N), SessionCookie::Absent);
        assert_eq!(
            find("__Host-session=x; __Host-session=y", N),
            SessionCookie::Several(vec!["x".into(), "y".into()])
        );
        assert_eq!(find("__host-session=x", N), SessionCookie::Absent);
        assert_eq!(find("x__Host-session=y", N), SessionCookie::Absent);
        assert_eq!(find("__Host-session=\"q\"", N), SessionCookie::One("q".into()));
    }

    #[test]
    fn strip_keeps_the_other_cookies() {
        assert_eq!(strip("a=1; __Host-session=tok; b=2", N).as_deref(), Some("a=1; b=2"));
        assert_eq!(strip("__Host-session=tok", N), None);
        assert_eq!(strip("__Host-session=a;__Host-session=b; c=3", N).as_deref(), Some("c=3"));
        assert_eq!(strip("flag; a=1", N).as_deref(), Some("flag; a=1"));
        assert_eq!(
            strip(
                "a=1; __Host-sessiongate-oidc-abc=bind; __Host-session=t, __Host-sessiongate-oidc-x=y",
                N
            )
            .as_deref(),
            Some("a=1"),
            "edge sign-in's flow cookies are the gate's too"
        );
        assert_eq!(
            strip("__Host-session-device=d; a=1; __Host-session-devices=x", N).as_deref(),
            Some("a=1; __Host-session-devices=x"),
            "the device cookie is the gate's, a longer name is not"
        );
    }

    #[test]
    fn repeated_cookie_headers_joined_with_commas() {
        // Two `Cookie` headers, as the runtime joins them.
        assert_eq!(find("a=1, __Host-session=tok", N), SessionCookie::One("tok".into()));
        assert_eq!(strip("a=1, __Host-session=tok", N).as_deref(), Some("a=1"));
        assert_eq!(strip("a=1; b=2, __Host-session=tok; c=3", N).as_deref(), Some("a=1; b=2; c=3"));
        assert_eq!(
            find("__Host-session=x, __Host-session=y", N),
            SessionCookie::Several(vec!["x".into(), "y".into()])
        );
        // A comma inside another cookie's value stays where it was.
        assert_eq!(strip("prefs=a,b; __Host-session=t", N).as_deref(), Some("prefs=a,b"));
        assert_eq!(values("__Host-session=x; a=1, __Host-session=y", N).collect::<Vec<_>>(), ["x", "y"]);
    }

    #[test]
    fn set_and_clear_have_the_hardened_attributes() {
        let host = CookieScope::host_only();
        assert_eq!(
            set(N, &host, "v", SameSite::Lax, None),
            "__Host-session=v; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
        assert_eq!(
            set(N, &host, "v", SameSite::Strict, Some(86400)),
            "__Host-session=v; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=86400"
        );
        let c = clear(N, &host, SameSite::Lax);
        assert!(c.starts_with("__Host-session=; ") && c.ends_with("Max-Age=0") && !c.contains("Domain"));
        assert_eq!(set_cookie_name("__Host-session=abc; Path=/"), N);
    }

    #[test]
    fn a_scoped_cookie_carries_its_domain_and_path_when_set_and_cleared() {
        let scope = CookieScope::parse(Some("example.com"), Some("/app/")).unwrap();
        assert_eq!(
            set("__Secure-session", &scope, "v", SameSite::Lax, None),
            "__Secure-session=v; Domain=example.com; Path=/app; HttpOnly; Secure; SameSite=Lax"
        );
        assert_eq!(
            clear("__Secure-session", &scope, SameSite::Lax),
            "__Secure-session=; Domain=example.com; Path=/app; HttpOnly; Secure; SameSite=Lax; Max-Age=0"
        );
    }

    #[test]
    fn names() {
        assert!(valid_name("__Host-session"));
        assert!(!valid_name("a b"));
        assert!(!valid_name("a;b"));
        assert!(!valid_name(""));
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn parsing_never_panics(h in "\\PC{0,300}") {
            let _ = find(&h, N);
            let _ = strip(&h, N);
            let _ = set_cookie_name(&h);
        }

        #[test]
        fn stripped_header_never_contains_the_gate_cookie(
            h in "([a-z_A-Z-]{1,16}=[a-z0-9,\"]{0,8}(; ?|, ?)){0,6}",
            sep in prop::sample::select(vec!["; ", ", ", ";", ","]),
        ) {
            let h2 = format!("{h}{N}=secret{sep}{h}");
            let s = strip(&h2, N).unwrap_or_default();
            prop_assert_eq!(find(&s, N), SessionCookie::Absent);
            prop_assert!(!s.contains("secret"), "{:?} -> {:?}", h2, s);
        }
    }
}
