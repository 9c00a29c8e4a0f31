//! Paths: `path::normalize`, `path::normalize_decoding_separators`, `path::readings`
//! (every reading the gate classifies), `PathSet::parse` + `matches` (with and without
//! methods) and `path::decode_segment`.
//!
//! Input: `pattern list \n method \n raw path` (missing parts are empty).
//! Invariants:
//! - both normalisations accept or refuse the same inputs;
//! - a normalised path starts with `/`, has no `//`, no `.` or `..` segment, no
//!   lower-case or unreserved percent-encoding, and normalising it again changes nothing
//!   (so the origin, which gets the normalised path, classifies it as the gate did);
//! - with separators decoded, no `%2F` / `%5C` is left;
//! - `readings` accepts the same inputs, starts with the forwarded (normalised) path,
//!   includes the separator-decoded reading, holds no duplicates, and every reading
//!   starts with `/`;
//! - a path with trailing junk a server trims (`.`, `%2e`, `%20`, `%09`, `%0a`, `%0d`,
//!   `%00`) or a format suffix (`.json`) appended has the bare path among its readings or
//!   its format-stripped readings (the step-up bypass family of the outside review);
//! - `HEAD` matches wherever `GET` does;
//! - pattern lists without methods match regardless of the method;
//! - a pattern list matches a path iff one of its comma-separated parts does;
//! - `decode_segment` inverts full percent-encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sessiongate::core::client::percent_encode_component;
use sessiongate::core::path::{self, PathSet};

fn clean(n: &str) {
    assert!(n.starts_with('/'), "{n:?}");
    assert!(!n.contains("//"), "{n:?}");
    assert!(!n.split('/').any(|s| s == ".." || s == "."), "{n:?}");
    let b = n.as_bytes();
    for (i, _) in n.match_indices('%') {
        let h = &b[i + 1..i + 3];
        assert!(h.iter().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)), "{n:?}");
        let v = u8::from_str_radix(std::str::from_utf8(h).unwrap_or("zz"), 16).unwrap_or(0);
        assert!(
            !(v.is_ascii_alphanumeric() || b"-._~".contains(&v)),
            "unreserved left encoded in {n:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let mut parts = s.splitn(3, '\n');
    let patterns = parts.next().unwrap_or("");
    let method = parts.next().unwrap_or("");
    let raw = parts.next().unwrap_or(patterns);

    let a = path::normalize(raw);
    let b = path::normalize_decoding_separators(raw);
    assert_eq!(a.is_ok(), b.is_ok(), "{raw:?}: {a:?} vs {b:?}");
    if let Ok(n) = &a {
        clean(n);
        assert_eq!(path::normalize(n).as_ref(), Ok(n), "normalize is not idempotent on {raw:?}");
        assert!(n.len() <= raw.len() + 1 || raw.len() < 2);
    }
    match path::readings(raw) {
        Ok(r) => {
            let n = a.as_ref().expect("readings accepted what normalize refused");
            assert_eq!(&r[0], n, "the first reading is not the forwarded path");
            assert!(r.contains(b.as_ref().expect("both normalisations agree")));
            assert!(r.iter().all(|x| x.starts_with('/')), "{r:?}");
            let mut seen = std::collections::HashSet::new();
            assert!(r.iter().all(|x| seen.insert(x)), "duplicate readings {r:?}");
        }
        Err(e) => assert_eq!(a.as_ref().err(), Some(&e), "readings refused what normalize accepted"),
    }
    if let Ok(n) = &b {
        let bare = n.trim_end_matches('/');
        let plain = bare.bytes().all(|c| c.is_ascii_alphanumeric() || b"/-_~".contains(&c));
        if bare.len() > 1 && plain {
            for junk in [".", "%2e", "%20", "%09", "%0a", "%0D", "%00", ".json", "%2ejson%20"] {
                let r = path::readings(&format!("{bare}{junk}")).expect("a clean path plus junk is a path");
                let f = path::format_stripped(&r);
                assert!(r.iter().chain(&f).any(|x| x == bare), "{bare:?}+{junk:?}: {r:?} {f:?}");
            }
        }
    }
    if let Ok(n) = &b {
        clean(n);
        let up = n.to_ascii_uppercase();
        assert!(!up.contains("%2F") && !up.contains("%5C"), "{n:?}");
        assert_eq!(path::normalize_decoding_separators(n).as_ref(), Ok(n), "not idempotent on {raw:?}");
    }

    for allow_methods in [false, true] {
        let Ok(set) = PathSet::parse(patterns, allow_methods) else {
            continue;
        };
        let paths: Vec<&str> = [a.as_deref().ok(), b.as_deref().ok(), Some(raw)].into_iter().flatten().collect();
        for p in paths {
            let m = set.matches(method, p);
            if !allow_methods {
                assert_eq!(m, set.matches("GET", p), "a method-less set depends on the method");
            }
            if set.matches("GET", p) {
                assert!(set.matches("HEAD", p), "HEAD is not GET for {patterns:?} on {p:?}");
            }
            let any_part = patterns
                .split(',')
                .filter(|x| !x.trim().is_empty())
                .any(|x| PathSet::parse(x, allow_methods).map(|one| one.matches(method, p)).unwrap_or(false));
            assert_eq!(m, any_part, "set and parts disagree for {patterns:?} on {p:?}");
            if set.is_empty() {
                assert!(!m);
            }
        }
    }

    if let Some(d) = path::decode_segment(raw) {
        assert_eq!(path::decode_segment(&percent_encode_component(&d)).as_deref(), Some(d.as_str()));
    }
    assert_eq!(path::decode_segment(&percent_encode_component(raw)).as_deref(), Some(raw));
});
