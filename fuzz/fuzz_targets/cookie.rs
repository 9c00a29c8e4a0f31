//! The `Cookie` request header (`cookie::find`, `cookie::strip`) and the origin's
//! `Set-Cookie` (`cookie::set_cookie_name`).
//!
//! Input: an optional cookie name (first line, used when it is a valid name, as
//! `COOKIE_NAME` would be) followed by the header.
//! Invariants:
//! - `strip` never leaves the gate's cookie in what the origin receives;
//! - `strip` keeps every other cookie (a header without the gate's cookie keeps all
//!   its non-empty pairs) and its output is stable under a second `strip`;
//! - `find` agrees with a count of matching pairs; a value it returns is a substring
//!   of the header;
//! - `set_cookie_name` returns a substring of its input;
//! - the gate's own `Set-Cookie`/clear for any token-shaped value names the cookie.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sessiongate::core::cookie::{self, SameSite, SessionCookie};
use sessiongate::core::cookie_scope::CookieScope;

const DEFAULT: &str = "__Host-session";

fn contains_sub(hay: &str, needle: &str) -> bool {
    // Pointer check: the returned slice borrows from `hay`.
    let h = hay.as_ptr() as usize;
    let n = needle.as_ptr() as usize;
    needle.is_empty() || (n >= h && n + needle.len() <= h + hay.len())
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let (name, header) = match s.split_once('\n') {
        Some((n, h)) if cookie::valid_name(n) => (n, h),
        _ => (DEFAULT, s),
    };

    // find
    let found = cookie::find(header, name);
    let count = cookie::pairs(header).filter(|(n, _)| *n == name).count();
    match &found {
        SessionCookie::Absent => assert_eq!(count, 0),
        SessionCookie::One(v) => {
            assert_eq!(count, 1);
            assert!(contains_sub(header, v), "value is not part of the header");
        }
        SessionCookie::Several(_) => assert!(count >= 2),
    }

    // strip
    let stripped = cookie::strip(header, name);
    if let Some(st) = &stripped {
        assert_eq!(
            cookie::find(st, name),
            SessionCookie::Absent,
            "gate cookie survived strip: {header:?} -> {st:?}"
        );
        assert!(!st.is_empty());
        assert_eq!(cookie::strip(st, name).as_deref(), Some(st.as_str()), "strip is not stable");
        // Every cookie the origin gets was in the request.
        for p in st.split("; ") {
            assert!(header.contains(p), "strip invented {p:?}");
        }
    }
    let others = header
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .filter(|p| p.split_once('=').map(|(n, _)| n.trim() != name).unwrap_or(true))
        .count();
    assert_eq!(
        stripped.as_ref().map(|s| s.split(';').count()).unwrap_or(0),
        others,
        "strip dropped another cookie"
    );

    // set_cookie_name on the header read as an origin's Set-Cookie
    let n = cookie::set_cookie_name(header);
    assert!(contains_sub(header, n));
    assert_eq!(n, n.trim());

    // The gate's own Set-Cookie names its cookie, whatever token-shaped value it holds.
    let value: String = header
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        .take(200)
        .map(char::from)
        .collect();
    let host_only = CookieScope::host_only();
    for ss in [SameSite::Lax, SameSite::Strict] {
        let set = cookie::set(name, &host_only, &value, ss, None);
        assert_eq!(cookie::set_cookie_name(&set), name);
        assert_eq!(
            cookie::find(set.split(';').next().unwrap_or(""), name),
            SessionCookie::One(value.clone())
        );
        let clear = cookie::clear(name, &host_only, ss);
        assert_eq!(cookie::set_cookie_name(&clear), name);
        assert!(clear.ends_with("Max-Age=0") && !clear.contains("Domain"));
    }
});
