//! Header hygiene: which client headers never reach the origin, and JSON that is safe
//! to put in a header value.

/// Every `X-Session-*` header is the gate's to set: a client's copy is dropped.
pub const RESERVED_PREFIX: &str = "x-session-";

pub fn is_reserved(name: &str) -> bool {
    // Bytes, not a str slice: a non-ASCII name must not split a character (a panic).
    let (name, prefix) = (name.as_bytes(), RESERVED_PREFIX.as_bytes());
    name.len() >= prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Client headers that never reach the origin besides `X-Session-*`: the gate sets its
/// own versions (cookie without the gate's cookie, forwarding headers from what it saw).
pub const FROM_CLIENT_DROPPED: [&str; 11] = [
    "cookie",
    "host",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "forwarded",
    "cf-connecting-ip",
    "true-client-ip",
    "remote-user",
    "x-forwarded-user",
];

/// Whether a client's header is dropped before forwarding.
pub fn dropped_from_client(name: &str) -> bool {
    is_reserved(name) || FROM_CLIENT_DROPPED.iter().any(|d| d.eq_ignore_ascii_case(name))
}

/// Serialises JSON with every non-ASCII or control character escaped, so the value is
/// a valid header value whatever the data holds.
pub fn ascii_json(v: &serde_json::Value) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn client_forwarding_headers_are_dropped_in_any_case() {
        for name in [
            "Cookie",
            "HOST",
            "x-forwarded-for",
            "X-Real-IP",
            "Forwarded",
            "CF-Connecting-IP",
            "X-Session-User",
        ] {
            assert!(dropped_from_client(name), "{name}");
        }
        for name in ["accept", "user-agent", "x-forwarded", "cookie2", "x-sessionid", "authorization"] {
            assert!(!dropped_from_client(name), "{name}");
        }
        // io.js pre-filters header names by exactly this list and prefix, lowercase.
        assert!(FROM_CLIENT_DROPPED.iter().all(|n| *n == n.to_ascii_lowercase() && !n.contains(',')));
        assert_eq!(RESERVED_PREFIX, RESERVED_PREFIX.to_ascii_lowercase());
    }

    #[test]
    fn reserved_names_any_case() {
        assert!(is_reserved("X-Session-User"));
        assert!(is_reserved("x-session-assertion"));
        assert!(is_reserved("X-SESSION-ANYTHING"));
        assert!(!is_reserved("X-Sessions"));
        assert!(!is_reserved("X-Forwarded-For"));
        assert!(!is_reserved("x-sessioné-x"), "a multi-byte character across the prefix's end");
    }

    #[test]
    fn ascii_json_round_trips() {
        let v = serde_json::json!({"name": "Zoë \u{1F600}", "n": "a\u{7f}b"});
        let s = ascii_json(&v);
        assert!(s.is_ascii() && !s.bytes().any(|b| b.is_ascii_control()));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]
        #[test]
        fn ascii_json_is_always_a_header_value(s in "\\PC{0,40}") {
            let v = serde_json::json!({ "k": s });
            let out = ascii_json(&v);
            prop_assert!(out.bytes().all(|b| (0x20..0x7f).contains(&b)));
            prop_assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), v);
        }
    }
}
