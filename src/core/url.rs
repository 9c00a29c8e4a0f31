//! Splits the runtime's serialised request URL into the parts the gate uses. The Workers
//! runtime hands over a WHATWG-serialised absolute URL, so a split is enough; using the
//! `url` crate here would pull its IDNA tables into the Wasm bundle for nothing.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts<'a> {
    pub scheme: &'a str,
    /// `host[:port]`, without any userinfo.
    pub authority: &'a str,
    /// Raw path, starting with `/`.
    pub path: &'a str,
    /// `?query` or empty.
    pub query: &'a str,
}

impl UrlParts<'_> {
    pub fn host(&self) -> &str {
        super::config::host_of(self.authority)
    }
}

pub fn split(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or("");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = authority.rsplit_once('@').map(|(_, a)| a).unwrap_or(authority);
    if authority.is_empty() {
        return None;
    }
    let rest = &rest[end..];
    let (path, query) = match rest.find('?') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    Some(UrlParts {
        scheme,
        authority,
        path: if path.is_empty() { "/" } else { path },
        query: if query == "?" { "" } else { query },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_serialised_urls() {
        let u = split("https://app.example:8443/a/b?x=1&y=2#frag").unwrap();
        assert_eq!(
            (u.scheme, u.authority, u.path, u.query),
            ("https", "app.example:8443", "/a/b", "?x=1&y=2")
        );
        assert_eq!(u.host(), "app.example");
        let u = split("http://127.0.0.1:8787").unwrap();
        assert_eq!((u.path, u.query), ("/", ""));
        let u = split("http://user:pw@[::1]:80/p?").unwrap();
        assert_eq!((u.authority, u.host(), u.path, u.query), ("[::1]:80", "::1", "/p", ""));
        assert_eq!(split("no-scheme"), None);
        assert_eq!(split("http:///path"), None);
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn never_panics_and_path_is_absolute(s in "\\PC{0,80}") {
            if let Some(u) = split(&s) {
                prop_assert!(u.path.starts_with('/'));
                prop_assert!(u.query.is_empty() || u.query.starts_with('?'));
            }
        }
    }
}
