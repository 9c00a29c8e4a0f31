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
/// (Tomcat, Spring: `/a;x/..;/b`), with trailing characters trimmed from segments (see
/// `trim_segment`), each also without a trailing slash and lower-cased (Express serves
/// `/x/` as `/x`; IIS ignores case). The gate applies the strictest.
///
/// Trimming works on the decoded path, so `/admin%2e` is read as `/admin.` and then as
/// `/admin`, exactly as an origin that decodes before it trims would. The first reading
/// is always `normalize(raw)`, the path as forwarded.
pub fn readings(raw: &str) -> Result<Vec<String>, PathError> {
    if is_plain(raw) {
        return Ok(plain_readings(raw));
    }
    every_reading(raw)
}

/// A path every reading leaves as it is: ASCII letters, digits, `-`, `_`, `~` and
/// single slashes, so nothing to decode, no dot segment, no `;params`, nothing to trim.
/// Most requests; `readings` then skips the five normalisations it would otherwise run.
fn is_plain(raw: &str) -> bool {
    raw.len() <= MAX_PATH
        && raw.starts_with('/')
        && !raw.contains("//")
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'~'))
}

/// `every_reading` of a plain path (`is_plain`), in the same order: the path, without its
/// trailing slash, then each lower-cased where that differs.
fn plain_readings(raw: &str) -> Vec<String> {
    let mut out = vec![raw.to_string()];
    if raw.len() > 1 && raw.ends_with('/') {
        let t = raw.trim_end_matches('/');
        out.push(if t.is_empty() { "/".to_string() } else { t.to_string() });
    }
    for i in 0..out.len() {
        if out[i].bytes().any(|b| b.is_ascii_uppercase()) {
            out.push(out[i].to_ascii_lowercase());
        }
    }
    out
}

/// `readings` the long way, for any path.
fn every_reading(raw: &str) -> Result<Vec<String>, PathError> {
    let no_params = map_segments(raw, |seg| seg.split(';').next().unwrap_or("").to_string());
    let decoded = normalize_decoding_separators(raw)?;
    let decoded_no_params = normalize_decoding_separators(&no_params)?;
    let trimmed = normalize_decoding_separators(&map_segments(&decoded, trim_segment))?;
    let trimmed_no_params = normalize_decoding_separators(&map_segments(&decoded_no_params, trim_segment))?;
    let mut out = vec![normalize(raw)?, decoded, decoded_no_params, trimmed, trimmed_no_params];
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
    Ok(dedup(out))
}

/// The readings with a format suffix dropped from the last segment: Rails routes
/// `/admin(.:format)` serve `/admin.json` as `/admin`, and `/reports/:id` takes no dot.
/// These may only make a path *sensitive*: as a reason to refuse a public file they
/// would be wrong (`/favicon.ico` listed as public is not the protected `/favicon`).
pub fn format_stripped(readings: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for r in readings {
        let (dir, last) = r.rsplit_once('/').unwrap_or(("", r));
        for cut in [last.find('.'), last.rfind('.')].into_iter().flatten() {
            if cut > 0 {
                out.push(format!("{dir}/{}", &last[..cut]));
            }
        }
    }
    out.retain(|p| !readings.contains(p));
    dedup(out)
}

/// First occurrences kept, in order. The lists are short (at most 20 readings), so a
/// scan is cheaper than hashing every string.
fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for p in v {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

fn map_segments(path: &str, f: impl Fn(&str) -> String) -> String {
    path.split('/').map(f).collect::<Vec<_>>().join("/")
}

/// Encoded characters some servers drop from the end of a segment: space (IIS),
/// ASCII whitespace (`strip()` in Python and Ruby), NUL (C strings). Upper-case hex,
/// as `normalize` writes it.
const TRIMMED_ENCODINGS: [&str; 7] = ["%20", "%09", "%0A", "%0B", "%0C", "%0D", "%00"];

/// One segment without its trailing dots and trimmed characters (`admin.%20` is
/// `admin`). A segment of only those stays a dot segment (`..%20` is `..`), which the
/// normalisation after it resolves.
fn trim_segment(seg: &str) -> String {
    let mut t = seg;
    while let Some(x) = t
        .strip_suffix('.')
        .or_else(|| TRIMMED_ENCODINGS.iter().find_map(|e| t.strip_suffix(e)))
    {
        t = x;
    }
    if !t.is_empty() {
        return t.to_string();
    }
    let mut s = seg.to_string();
    for e in TRIMMED_ENCODINGS {
        s = s.replace(e, "");
    }
    s
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
        if !self.methods.is_empty() && !self.methods.iter().any(|m| method_covers(m, method)) {
            return false;
        }
        self.matches_path(path)
    }

    /// Whether the pattern names methods (`POST /x`), so that a method override in the
    /// request could change its verdict.
    pub fn is_method_scoped(&self) -> bool {
        !self.methods.is_empty()
    }

    /// Whether every path this pattern matches is matched by `other` too (methods aside).
    pub fn covered_by(&self, other: &PathPattern) -> bool {
        if !self.prefix {
            return other.matches_path(&self.base);
        }
        other.prefix
            && (other.base == "/" || self.base == other.base || self.base.strip_prefix(&other.base).is_some_and(|r| r.starts_with('/')))
    }

    /// Whether some path is matched by both patterns (methods aside).
    pub fn overlaps(&self, other: &PathPattern) -> bool {
        self.matches_path(&other.base) || other.matches_path(&self.base)
    }

    fn matches_path(&self, path: &str) -> bool {
        if path == self.base {
            return true;
        }
        self.prefix
            && (self.base == "/"
                || (path.len() > self.base.len() && path.starts_with(&self.base) && path.as_bytes()[self.base.len()] == b'/'))
    }
}

impl std::fmt::Display for PathPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.methods.is_empty() {
            write!(f, "{} ", self.methods.join("|"))?;
        }
        match (self.prefix, self.base.as_str()) {
            (true, "/") => f.write_str("/*"),
            (true, b) => write!(f, "{b}/*"),
            (false, b) => f.write_str(b),
        }
    }
}

/// A pattern's method covers the request's: the same name, or `GET` for `HEAD` (every
/// common framework runs the GET handler for HEAD).
fn method_covers(pattern: &str, method: &str) -> bool {
    pattern.eq_ignore_ascii_case(method) || (pattern == "GET" && method.eq_ignore_ascii_case("HEAD"))
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

    /// The first pattern of this set that no pattern of `other` covers.
    pub fn first_not_covered_by(&self, other: &PathSet) -> Option<&PathPattern> {
        self.0.iter().find(|p| !other.0.iter().any(|o| p.covered_by(o)))
    }

    /// The first pair (ours, theirs) of patterns that match a common path.
    pub fn first_overlap<'a>(&'a self, other: &'a PathSet) -> Option<(&'a PathPattern, &'a PathPattern)> {
        self.0.iter().find_map(|p| other.0.iter().find(|o| p.overlaps(o)).map(|o| (p, o)))
    }

    /// Whether every one of `paths` is matched (for any method).
    pub fn matches_all(&self, paths: &[String]) -> bool {
        !self.0.is_empty() && paths.iter().all(|p| self.0.iter().any(|pat| pat.matches_path(p)))
    }

    /// Whether some method-scoped pattern matches `path` for some method: only then can
    /// the method a request claims (an override) change how it is classified.
    pub fn method_scoped_matches(&self, path: &str) -> bool {
        self.0.iter().any(|p| p.is_method_scoped() && p.matches_path(path))
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
    fn trailing_characters_are_trimmed_after_decoding() {
        for raw in [
            "/admin%2e",
            "/admin%2E",
            "/admin.%20",
            "/admin%09",
            "/admin%0a",
            "/admin%0D",
            "/admin%00",
            "/admin%2e%2e%2e",
        ] {
            let r = readings(raw).unwrap();
            assert!(r.contains(&"/admin".to_string()), "{raw}: {r:?}");
        }
        // A segment of dots and spaces stays a dot segment.
        assert!(readings("/public/%2e%2e%20/admin").unwrap().contains(&"/admin".to_string()));
        // Encoded characters that no server trims are kept.
        assert!(!readings("/admin%21").unwrap().contains(&"/admin".to_string()));
    }

    #[test]
    fn format_suffixes_are_stripped_from_the_last_segment() {
        let f = |raw: &str| format_stripped(&readings(raw).unwrap());
        assert!(f("/admin.json").contains(&"/admin".to_string()));
        assert!(f("/admin%2ejson").contains(&"/admin".to_string()));
        assert!(f("/reports/q3.tar.gz").contains(&"/reports/q3".to_string()));
        assert!(f("/reports/q3.tar.gz").contains(&"/reports/q3.tar".to_string()));
        assert!(f("/a.b/c").is_empty(), "only the last segment");
        assert!(f("/.well-known").is_empty(), "a leading dot is a name, not a suffix");
        assert!(f("/admin").is_empty());
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
    fn coverage_and_overlap_of_patterns() {
        let p = |s: &str| PathPattern::parse(s, true).unwrap();
        assert!(p("/static/*").covered_by(&p("/static/*")));
        assert!(p("/static/img/*").covered_by(&p("/static/*")));
        assert!(p("/favicon.ico").covered_by(&p("/*")));
        assert!(p("/static/x.css").covered_by(&p("/static/*")));
        assert!(!p("/static/*").covered_by(&p("/static")), "a prefix is not covered by one path");
        assert!(!p("/staticky/*").covered_by(&p("/static/*")));
        assert!(!p("/*").covered_by(&p("/static/*")));
        assert!(p("/static/*").overlaps(&p("/static/admin")));
        assert!(p("/static/*").overlaps(&p("POST /*")));
        assert!(p("/a/b/*").overlaps(&p("/a/*")));
        assert!(!p("/static/*").overlaps(&p("/admin/*")));
        assert!(!p("/static").overlaps(&p("/static/x")));
        let set = PathSet::parse("/static/*,/favicon.ico", false).unwrap();
        assert!(set.matches_all(&["/static/a.js".into(), "/favicon.ico".into()]));
        assert!(!set.matches_all(&["/static/a.js".into(), "/app".into()]));
        assert!(!PathSet::default().matches_all(&["/x".into()]), "an empty set matches nothing");
        assert_eq!(p("POST|PUT /x/*").to_string(), "POST|PUT /x/*");
        assert_eq!(p("/*").to_string(), "/*");
    }

    #[test]
    fn root_wildcard_matches_everything() {
        let set = PathSet::parse("/*", false).unwrap();
        assert!(set.matches("GET", "/"));
        assert!(set.matches("GET", "/anything/at/all"));
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
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

        /// The shortcut for plain paths reads exactly what the long way reads.
        #[test]
        fn plain_paths_read_as_the_long_way_reads(s in "/[A-Za-z0-9_~/-]{0,40}") {
            prop_assert_eq!(readings(&s), every_reading(&s));
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

        /// Every case has a path with trailing junk a server may drop; all of them must
        /// be read (or format-stripped) as the bare path, so step-up sees it.
        #[test]
        fn trailing_junk_is_read_as_the_bare_path(
            base in "/[a-z]{1,8}(/[a-z]{1,8}){0,2}",
            fmt in prop::option::of("\\.[a-z]{1,4}|%2[eE][a-z]{1,4}"),
            junk in prop::collection::vec(prop::sample::select(vec![".", "%2e", "%2E", "%20", "%09", "%0a", "%0D", "%00", "%0B", "%0c"]), 0..4),
            upper in any::<bool>(),
        ) {
            let raw = format!("{base}{}{}", fmt.unwrap_or_default(), junk.concat());
            let raw = if upper { raw.to_uppercase() } else { raw };
            let r = readings(&raw).unwrap();
            let f = format_stripped(&r);
            prop_assert!(r.contains(&base) || f.contains(&base), "{} -> {:?} {:?}", raw, r, f);
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
