//! Header hygiene: which client headers never reach the origin, and JSON that is safe
//! to put in a header value.

/// Every `X-Session-*` header is the gate's to set: a client's copy is dropped.
pub fn is_reserved(name: &str) -> bool {
    name.len() >= 10 && name[..10].eq_ignore_ascii_case("x-session-")
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
    fn reserved_names_any_case() {
        assert!(is_reserved("X-Session-User"));
        assert!(is_reserved("x-session-assertion"));
        assert!(is_reserved("X-SESSION-ANYTHING"));
        assert!(!is_reserved("X-Sessions"));
        assert!(!is_reserved("X-Forwarded-For"));
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
