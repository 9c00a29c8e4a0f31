//! `application/x-www-form-urlencoded`, both ways: the callback's query, the token
//! request, the back-channel logout POST. Decoding never fails: a malformed escape is
//! kept as written (the checks that follow then refuse the value).

/// Percent-encodes everything but the unreserved characters (RFC 3986 §2.3).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `k=v&k=v` with every key and value encoded.
pub fn serialize(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Decodes one component (`+` is a space); invalid UTF-8 is replaced.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded pairs of a query (with or without its `?`) or form body.
pub fn parse(s: &str) -> Vec<(String, String)> {
    s.strip_prefix('?')
        .unwrap_or(s)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The value of `name` when it appears exactly once (a repeated parameter is refused,
/// as OAuth 2.0 §3.1 asks).
pub fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut found = pairs.iter().filter(|(k, _)| k == name);
    let first = found.next()?;
    found.next().is_none().then_some(first.1.as_str())
}

/// A provider-sent word (`error=...`) fit for a JSON detail and a log line: at most 64
/// characters of `[A-Za-z0-9_.-]`, anything else replaced by `?`.
pub fn short(s: &str) -> String {
    s.chars()
        .take(64)
        .map(|c| if c.is_ascii_alphanumeric() || "_.- ".contains(c) { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_queries() {
        let p = parse("?code=a%2Bb&state=x+y&iss=http%3A%2F%2F127.0.0.1%3A1&bad=%zz&e");
        assert_eq!(single(&p, "code"), Some("a+b"));
        assert_eq!(single(&p, "state"), Some("x y"));
        assert_eq!(single(&p, "iss"), Some("http://127.0.0.1:1"));
        assert_eq!(single(&p, "bad"), Some("%zz"));
        assert_eq!(single(&p, "e"), Some(""));
        assert_eq!(single(&parse("a=1&a=2"), "a"), None, "a repeated parameter is ambiguous");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("%"), "%");
    }

    #[test]
    fn provider_words_are_cut_and_cleaned() {
        assert_eq!(short("access_denied"), "access_denied");
        assert_eq!(short("a\n<b>"), "a??b?");
        assert_eq!(short(&"x".repeat(100)).len(), 64);
    }

    #[test]
    fn encodes_for_forms() {
        assert_eq!(serialize(&[("a b", "c&d=é")]), "a%20b=c%26d%3D%C3%A9");
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(5_000))]
        #[test]
        fn encode_then_decode_is_identity(s in "\\PC{0,60}") {
            prop_assert_eq!(decode(&encode(&s)), s.clone());
            let p = parse(&serialize(&[("k", &s)]));
            prop_assert_eq!(single(&p, "k"), Some(s.as_str()));
        }

        #[test]
        fn decode_never_panics(s in "[%+a-f0-9&=]{0,40}") {
            let _ = parse(&s);
        }
    }
}
