//! Path normalisation and the path patterns of `PUBLIC_PATHS` / `SENSITIVE_PATHS`.
//!
//! The gate matches and forwards the *normalised* path, so the origin never sees a
//! path that the gate classified differently (`/login/../app` is `/app` for both).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    NotAbsolute,
    BadPercentEncoding,
    TooLong,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::NotAbsolute => "path must start with /",
            PathError::BadPercentEncoding => "path has a malformed percent-encoding",
            PathError::TooLong => "path is longer than 4096 bytes",
        })
    }
}

const MAX_PATH: usize = 4096;

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Normalises a request path:
/// - percent-encodings of unreserved characters are decoded (`%2e` -> `.`, `%41` -> `A`),
///   every other encoding is kept with upper-case hex (`%2f` -> `%2F`: an encoded slash is
///   data, never a separator);
/// - repeated slashes collapse, `.` and `..` segments are resolved (never above the root);
/// - a trailing slash is kept.
pub fn normalize(raw: &str) -> Result<String, PathError> {
    normalize_with(raw, false)
}

/// The same, but encoded `/` and `\` (`%2F`, `%5C`) count as separators. An origin that
/// decodes them would see this path; the gate classifies a request by the stricter of
/// the two readings, so `/public/..%2Fadmin` cannot pass as public.
pub fn normalize_decoding_separators(raw: &str) -> Result<String, PathError> {
    normalize_with(raw, true)
}

/// Every reading of a path an origin might act on, for classification only: as
/// forwarded, with `%2F`/`%5C` as separators, with `;params` dropped from segments
/// (Tomcat, Spring: `/a;x/..;/b`), each also without a trailing slash and lower-cased
/// (Express serves `/x/` as `/x`; IIS ignores case). The gate applies the strictest.
pub fn readings(raw: &str) -> Result<Vec<String>, PathError> {
    let segments = |f: &dyn Fn(&str) -> String| raw.split('/').map(f).collect::<Vec<_>>().join("/");
    let no_params = segments(&|seg| seg.split(';').next().unwrap_or("").to_string());
    // IIS / ASP.NET ignore trailing dots and spaces of a segment (`/admin.` is `/admin`),
    // but a segment of dots stays a dot segment (`..%20` is `..`).
    let trimmed = segments(&|seg| {
        let seg = seg.split(';').next().unwrap_or("");
        let mut t = seg;
        while let Some(x) = t.strip_suffix("%20").or_else(|| t.strip_suffix('.')) {
            t = x;
        }
        if t.is_empty() {
            seg.replace("%20", "")
        } else {
            t.to_string()
        }
    });
    let mut out = vec![
        normalize(raw)?,
        normalize_decoding_separators(raw)?,
        normalize_decoding_separators(&no_params)?,
        normalize_decoding_separators(&trimmed)?,
    ];
    for i in 0..out.len() {
        if out[i].len() > 1 && out[i].ends_with('/') {
            let t = out[i].trim_end_matches('/');
            out.push(if t.is_empty() { "/".to_string() } else { t.to_string() });
        }
    }
    for i in 0..out.len() {
        let lower = out[i].to_lowercase();
        if lower != out[i] {
            out.push(lower);
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

fn normalize_with(raw: &str, separators: bool) -> Result<String, PathError> {
    if raw.len() > MAX_PATH {
        return Err(PathError::TooLong);
    }
    if !raw.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    let bytes = raw.as_bytes();
    let mut decoded = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_val);
            let lo = bytes.get(i + 2).copied().and_then(hex_val);
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(PathError::BadPercentEncoding);
            };
            let v = hi * 16 + lo;
            if is_unreserved(v) || (separators && (v == b'/' || v == b'\\')) {
                decoded.push(if v == b'\\' { '/' } else { v as char });
            } else {
                decoded.push('%');
                decoded.push(char::from(b"0123456789ABCDEF"[(v >> 4) as usize]));
                decoded.push(char::from(b"0123456789ABCDEF"[(v & 15) as usize]));
            }
            i += 3;
        } else {
            // Copy the whole UTF-8 sequence; `raw` is a &str so boundaries are valid.
            let ch_len = utf8_len(b);
            decoded.push_str(&raw[i..i + ch_len]);
            i += ch_len;
        }
    }
    let trailing = decoded.len() > 1 && (decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/.."));
    let mut out: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut path = String::with_capacity(decoded.len());
    for seg in &out {
        path.push('/');
        path.push_str(seg);
    }
    if path.is_empty() || trailing {
        path.push('/');
    }
    Ok(path)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Fully percent-decodes one path segment (a user name in the admin API). `None` for
/// malformed encodings or bytes that are not UTF-8.
pub fn decode_segment(seg: &str) -> Option<String> {
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = b.get(i + 1).copied().and_then(hex_val)?;
            let lo = b.get(i + 2).copied().and_then(hex_val)?;
            out.push(hi * 16 + lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// One pattern: `/x` matches exactly `/x`; `/x/*` matches `/x` and everything below it.
/// An optional method list (`POST /account/password`, `POST|PUT /x/*`) narrows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    methods: Vec<String>,
    base: String,
    prefix: bool,
}

pub const PATTERN_FORM: &str = "comma-separated paths such as /login, /static/* or, with methods, POST /account/password";

impl PathPattern {
    pub fn parse(raw: &str, allow_methods: bool) -> Result<Self, String> {
        let raw = raw.trim();
        let (methods, path) = match raw.split_once(char::is_whitespace) {
            Some((m, p)) if !m.starts_with('/') => {
                if !allow_methods {
                    return Err(format!("{raw:?}: methods are not allowed here"));
                }
                let methods: Vec<String> = m.split('|').map(|s| s.to_ascii_uppercase()).collect();
                if methods.iter().any(|m| m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic())) {
                    return Err(format!("{raw:?}: {m:?} is not a method list like POST or POST|PUT"));
                }
                (methods, p.trim())
            }
            _ => (Vec::new(), raw),
        };
        if !path.starts_with('/') {
            return Err(format!("{raw:?} does not start with /"));
        }
        let (base, prefix) = match path.strip_suffix("/*") {
            Some(b) => (if b.is_empty() { "/" } else { b }, true),
            None => (path, false),
        };
        if base.contains('*') {
            return Err(format!("{raw:?}: * is only allowed as a final /*"));
        }
        let base = normalize(base).map_err(|e| format!("{raw:?}: {e}"))?;
        let base = if base.len() > 1 {
            base.trim_end_matches('/').to_string()
        } else {
            base
        };
        Ok(PathPattern { methods, base, prefix })
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        if !self.methods.is_empty() && !self.methods.iter().any(|m| m.eq_ignore_ascii_case(method)) {
            return false;
        }
        if path == self.base {
            return true;
        }
        self.prefix
            && (self.base == "/"
                || (path.len() > self.base.len() && path.starts_with(&self.base) && path.as_bytes()[self.base.len()] == b'/'))
    }
}

/// A comma-separated list of patterns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathSet(Vec<PathPattern>);

impl PathSet {
    pub fn parse(raw: &str, allow_methods: bool) -> Result<Self, String> {
        let mut v = Vec::new();
        for part in raw.split(',') {
            if part.trim().is_empty() {
                continue;
            }
            v.push(PathPattern::parse(part, allow_methods)?);
        }
        Ok(PathSet(v))
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.0.iter().any(|p| p.matches(method, path))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn resolves_dots_slashes_and_encodings() {
        let cases = [
            ("/", "/"),
            ("/app", "/app"),
            ("/login/../app", "/app"),
            ("//app", "/app"),
            ("/a//b///c", "/a/b/c"),
            ("/login/%2e%2e/app", "/app"),
            ("/login/%2E%2E/app", "/app"),
            ("/%2e/app", "/app"),
            ("/login%2F..%2Fapp", "/login%2F..%2Fapp"),
            ("/login%2f..%2fapp", "/login%2F..%2Fapp"),
            ("/%61pp", "/app"),
            ("/../../etc", "/etc"),
            ("/app/", "/app/"),
            ("/app/.", "/app/"),
            ("/app/x/..", "/app/"),
            ("/a%00b", "/a%00b"),
            ("/caf\u{e9}", "/caf\u{e9}"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize(raw).as_deref(), Ok(want), "{raw}");
        }
        assert_eq!(normalize("/a%zz"), Err(PathError::BadPercentEncoding));
        assert_eq!(normalize("/a%2"), Err(PathError::BadPercentEncoding));
        assert_eq!(normalize("app"), Err(PathError::NotAbsolute));
        assert_eq!(normalize_decoding_separators("/public/..%2Fadmin").as_deref(), Ok("/admin"));
        assert_eq!(normalize_decoding_separators("/public/..%5cadmin").as_deref(), Ok("/admin"));
        assert_eq!(normalize_decoding_separators("/a%2fb").as_deref(), Ok("/a/b"));
    }

    #[test]
    fn readings_cover_what_origins_do() {
        let r = readings("/Account/Password/").unwrap();
        assert!(r.contains(&"/account/password".to_string()), "{r:?}");
        let r = readings("/public/..;/app").unwrap();
        assert!(r.contains(&"/app".to_string()), "{r:?}");
        let r = readings("/account/password.").unwrap();
        assert!(r.contains(&"/account/password".to_string()), "{r:?}");
        let r = readings("/account/password%20").unwrap();
        assert!(r.contains(&"/account/password".to_string()), "{r:?}");
        let r = readings("/public/..%20/admin").unwrap();
        assert!(r.contains(&"/admin".to_string()), "{r:?}");
        let r = readings("/%20/").unwrap();
        assert!(r.iter().all(|p| p.starts_with('/') && !p.contains("//")), "{r:?}");
        let r = readings("/account/password;x=1").unwrap();
        assert!(r.contains(&"/account/password".to_string()), "{r:?}");
        assert_eq!(readings("/a").unwrap(), vec!["/a".to_string()]);
    }

    #[test]
    fn segments_decode_fully() {
        assert_eq!(decode_segment("alice%40example.com").as_deref(), Some("alice@example.com"));
        assert_eq!(decode_segment("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(decode_segment("%zz"), None);
        assert_eq!(decode_segment("%ff"), None);
    }

    #[test]
    fn patterns_match_exactly_or_below() {
        let set = PathSet::parse("/login, /static/*, /", false).unwrap();
        assert!(set.matches("GET", "/login"));
        assert!(!set.matches("GET", "/login/"));
        assert!(!set.matches("GET", "/loginx"));
        assert!(!set.matches("GET", "/LOGIN"));
        assert!(set.matches("GET", "/static"));
        assert!(set.matches("GET", "/static/app.css"));
        assert!(!set.matches("GET", "/staticky"));
        assert!(set.matches("GET", "/"));
        assert!(!set.matches("GET", "/app"));
    }

    #[test]
    fn method_prefixed_patterns() {
        let set = PathSet::parse("POST /account/password, POST|PUT /payments/*, /admin/*", true).unwrap();
        assert!(set.matches("POST", "/account/password"));
        assert!(!set.matches("GET", "/account/password"));
        assert!(set.matches("put", "/payments/1"));
        assert!(!set.matches("GET", "/payments/1"));
        assert!(set.matches("GET", "/admin"));
        assert!(PathSet::parse("POST /x", false).is_err());
        assert!(PathSet::parse("x", true).is_err());
        assert!(PathSet::parse("/a*b", true).is_err());
        assert!(PathSet::parse("P0ST /x", true).is_err());
    }

    #[test]
    fn root_wildcard_matches_everything() {
        let set = PathSet::parse("/*", false).unwrap();
        assert!(set.matches("GET", "/"));
        assert!(set.matches("GET", "/anything/at/all"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]
        #[test]
        fn normalize_never_panics(s in "\\PC*") { let _ = normalize(&s); }

        #[test]
        fn normalized_paths_are_stable_and_clean(s in "/[a-z%./2eEfF]{0,40}") {
            if let Ok(n) = normalize(&s) {
                prop_assert!(n.starts_with('/'));
                prop_assert!(!n.contains("//"));
                prop_assert!(!n.split('/').any(|seg| seg == ".." || seg == "."));
                prop_assert_eq!(normalize(&n), Ok(n.clone()));
            }
        }

        #[test]
        fn readings_never_panic_and_start_with_the_forwarded_path(s in "/\\PC{0,40}") {
            if let Ok(r) = readings(&s) {
                let forwarded = normalize(&s).ok();
                prop_assert_eq!(Some(&r[0]), forwarded.as_ref());
                for p in &r {
                    prop_assert!(p.starts_with('/') && !p.contains("//"), "{:?}", r);
                }
            }
        }

        #[test]
        fn pattern_parse_and_match_never_panic(p in "\\PC{0,30}", m in "[A-Z]{0,6}", path in "\\PC{0,30}") {
            if let Ok(set) = PathSet::parse(&p, true) { let _ = set.matches(&m, &path); }
        }

        #[test]
        fn separator_decoding_and_segments_never_panic(s in "\\PC{0,80}") {
            let a = normalize(&s);
            let b = normalize_decoding_separators(&s);
            prop_assert_eq!(a.is_ok(), b.is_ok());
            if let Ok(n) = b {
                prop_assert!(n.starts_with('/') && !n.contains("//"));
                prop_assert!(!n.split('/').any(|seg| seg == ".." || seg == "."));
                prop_assert_eq!(normalize_decoding_separators(&n), Ok(n.clone()));
            }
            let _ = decode_segment(&s);
        }

        #[test]
        fn separator_decoding_is_stable_on_path_like_input(s in "/[a-z%./\\\\25cCeEfF]{0,40}") {
            if let Ok(n) = normalize_decoding_separators(&s) {
                prop_assert!(!n.to_ascii_uppercase().contains("%2F") && !n.to_ascii_uppercase().contains("%5C"));
                prop_assert!(!n.split('/').any(|seg| seg == ".." || seg == "."));
                prop_assert_eq!(normalize_decoding_separators(&n), Ok(n.clone()));
            }
        }
    }
}
