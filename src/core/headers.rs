//! Header hygiene: which client headers never reach the origin, and JSON that is safe
//! to put in a header value.

use super::method::OVERRIDE_HEADERS;

/// Every `X-Session-*` header is the gate's to set: a client's copy is dropped.
pub const RESERVED_PREFIX: &str = "x-session-";

/// The origin's response header that carries its commands (`core::command`).
pub const COMMAND_HEADER: &str = "x-session-command";

pub fn is_reserved(name: &str) -> bool {
    // Bytes, not a str slice: a non-ASCII name must not split a character (a panic).
    let (name, prefix) = (name.as_bytes(), RESERVED_PREFIX.as_bytes());
    name.len() >= prefix.len() && name[..prefix.len()].iter().zip(prefix).all(|(a, b)| same_header_byte(*a, *b))
}

/// Client headers that never reach the origin besides `X-Session-*`: the gate sets its
/// own versions (cookie without the gate's cookie, forwarding headers from what it saw),
/// and drops what an origin could take for a routing, scheme or identity decision the
/// gate did not make (`X-Original-URL` routes Symfony and IIS to another path than the
/// one classified; `X-Forwarded-Ssl: on` tells Rack the request was HTTPS; other proxies'
/// identity headers are trusted by origins that moved from them; a client address
/// header is read by some framework or library, `request-ip` and `ipware` first among
/// them, and PHP reads `Client-IP` as `HTTP_CLIENT_IP`).
pub const FROM_CLIENT_DROPPED: [&str; 48] = [
    "cookie",
    "host",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    // The client's address, as proxies and CDNs name it.
    "x-real-ip",
    "forwarded",
    "forwarded-for",
    "x-forwarded",
    "cf-connecting-ip",
    "cf-connecting-ipv6",
    "cf-pseudo-ipv4",
    "true-client-ip",
    "client-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "fastly-client-ip",
    "do-connecting-ip",
    "x-appengine-user-ip",
    "x-original-forwarded-for",
    "x-envoy-external-address",
    "x-azure-clientip",
    "x-proxyuser-ip",
    // Routing and scheme.
    "x-original-url",
    "x-rewrite-url",
    "x-original-uri",
    "x-original-host",
    "x-host",
    "x-forwarded-uri",
    "x-forwarded-path",
    "x-forwarded-prefix",
    "x-forwarded-ssl",
    "x-forwarded-scheme",
    "x-forwarded-port",
    "x-forwarded-server",
    "front-end-https",
    "x-url-scheme",
    // Identity, as other gates and proxies send it.
    "remote-user",
    "remote-groups",
    "remote-email",
    "remote-name",
    "x-remote-user",
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-groups",
    "x-forwarded-preferred-username",
    "x-auth-request-user",
    "x-auth-request-email",
];

/// Whether a client's header is dropped before forwarding. `_` counts as `-`: CGI,
/// WSGI, Rack, PHP-FPM and nginx with `underscores_in_headers` map `X_Session_User`
/// and `X-Session-User` to the same variable.
/// A method override header spelled with `_` (`X_HTTP_Method_Override`) is dropped too:
/// the gate reads the `-` spelling, and a CGI-style server would read either.
pub fn dropped_from_client(name: &str) -> bool {
    is_reserved(name)
        || FROM_CLIENT_DROPPED.iter().any(|d| same_header_name(d, name))
        || (name.contains('_') && OVERRIDE_HEADERS.iter().any(|o| same_header_name(o, name)))
}

/// Header names equal as an origin's CGI-style server reads them: any case, `_` = `-`.
fn same_header_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| same_header_byte(x, y))
}

fn same_header_byte(a: u8, b: u8) -> bool {
    let fold = |c: u8| if c == b'_' { b'-' } else { c.to_ascii_lowercase() };
    fold(a) == fold(b)
}

/// A user id or a role as a header value that names exactly one id: `%`, `+`, control
/// and non-ASCII characters (as their UTF-8 bytes) and leading or trailing spaces are
/// percent-encoded; everything else stays as it is, so `alice` is `alice`. Decoding
/// with `decodeURIComponent`, `urllib.parse.unquote` or `CGI.unescape` gives the id back.
pub fn identity_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_identity(&mut out, s);
    out
}

/// `identity_value(s)` appended to `out` (a forward writes its identity headers straight
/// into its edit list, `io::Edits::set_with`).
pub fn push_identity(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let keep_spaces = s.trim_matches(' ').len();
    let lead = s.len() - s.trim_start_matches(' ').len();
    if lead == 0 && keep_spaces == s.len() && s.bytes().all(|b| b != b'%' && b != b'+' && (0x20..0x7f).contains(&b)) {
        // Nearly every id: nothing to encode.
        out.push_str(s);
        return;
    }
    for (i, b) in s.bytes().enumerate() {
        let edge_space = b == b' ' && (i < lead || i >= lead + keep_spaces);
        if edge_space || b == b'%' || b == b'+' || !(0x20..0x7f).contains(&b) {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        } else {
            out.push(char::from(b));
        }
    }
}

/// Serialises JSON (a `Value`, or a session's data map as it is, without wrapping a copy
/// of it in a `Value`) with every non-ASCII or control character escaped, so the value is
/// a valid header value whatever the data holds.
pub fn ascii_json(v: &(impl serde::Serialize + ?Sized)) -> String {
    // JSON values and maps with string keys always serialise: the default is unreachable.
    let s = serde_json::to_string(v).unwrap_or_default();
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

/// A `Content-Type` of `text/event-stream` (any parameters, any case): the streams a
/// session holds open, watched and cut when it ends (a chunked page or a download ends
/// by itself, and is not worth a watch each).
pub fn is_event_stream(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("text/event-stream")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_streams_by_content_type() {
        for ct in [
            "text/event-stream",
            "Text/Event-Stream",
            " text/event-stream ; charset=utf-8",
            "text/event-stream;x=1",
        ] {
            assert!(is_event_stream(ct), "{ct:?}");
        }
        for ct in [
            "",
            "text/event-streams",
            "text/html",
            "application/json",
            "text/event-stream-x",
            "x text/event-stream",
        ] {
            assert!(!is_event_stream(ct), "{ct:?}");
        }
    }
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
        for name in ["accept", "user-agent", "x-forwarded-a", "cookie2", "x-sessionid", "authorization"] {
            assert!(!dropped_from_client(name), "{name}");
        }
        for name in [
            "X-Forwarded-Host",
            "x-forwarded-proto",
            "X-Original-URL",
            "X-Forwarded-Ssl",
            "Front-End-Https",
        ] {
            assert!(dropped_from_client(name), "{name}");
        }
        // io.js pre-filters header names by exactly this list and prefix, lowercase.
        assert!(FROM_CLIENT_DROPPED.iter().all(|n| *n == n.to_ascii_lowercase() && !n.contains(',')));
        assert_eq!(RESERVED_PREFIX, RESERVED_PREFIX.to_ascii_lowercase());
    }

    #[test]
    fn client_address_headers_are_dropped() {
        for name in [
            "Client-IP",
            "X-Client-IP",
            "X-Cluster-Client-IP",
            "Fastly-Client-IP",
            "True-Client-IP",
            "X-Real-IP",
            "Forwarded",
            "X-Forwarded",
            "Forwarded-For",
            "CF-Connecting-IP",
            "DO-Connecting-IP",
            "X-AppEngine-User-IP",
            "Cf-Pseudo-IPv4",
            "client_ip",
        ] {
            assert!(dropped_from_client(name), "{name}");
        }
    }

    #[test]
    fn override_headers_with_underscores_are_dropped() {
        for name in ["X_HTTP_Method_Override", "x_http_method", "X-Method_Override"] {
            assert!(dropped_from_client(name), "{name}");
        }
        for name in OVERRIDE_HEADERS {
            assert!(!dropped_from_client(name), "{name}: read by the gate, forwarded");
        }
    }

    #[test]
    fn underscores_read_as_dashes() {
        for name in [
            "X_Session_User",
            "X-Session_Roles",
            "x_session_assertion",
            "Remote_User",
            "X_Forwarded_For",
            "x_forwarded_host",
            "X_Original_URL",
        ] {
            assert!(dropped_from_client(name), "{name}");
        }
        for name in ["x_sessionid", "remote_users", "accept_language", "x-session"] {
            assert!(!dropped_from_client(name), "{name}");
        }
    }

    #[test]
    fn identity_values_are_unambiguous() {
        assert_eq!(identity_value("alice"), "alice");
        assert_eq!(identity_value("Jane Doe"), "Jane Doe");
        assert_eq!(identity_value(" judy"), "%20judy");
        assert_eq!(identity_value("judy "), "judy%20");
        assert_eq!(identity_value("j\u{f6}s\u{e9}"), "j%C3%B6s%C3%A9");
        // The same text typed in ASCII is another id, and reads as another header.
        assert_eq!(identity_value("j%C3%B6s%C3%A9"), "j%25C3%25B6s%25C3%25A9");
        assert_eq!(identity_value("a+b"), "a%2Bb");
        assert_eq!(
            identity_value("\u{c3}\u{b6}"),
            "%C3%83%C2%B6",
            "UTF-8 read as Latin-1 stays distinct"
        );
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

    fn percent_decode(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        /// Every string, control characters and all, maps to a printable-ASCII value that
        /// decodes back to it: two ids never share a header value.
        #[test]
        fn identity_values_round_trip(s in "(?s)[ a-z%+\\x00-\\x1f\\x7f\u{e9}\u{c3}\u{1F600}]{0,24}") {
            let v = identity_value(&s);
            prop_assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)));
            prop_assert!(!v.starts_with(' ') && !v.ends_with(' '));
            prop_assert_eq!(percent_decode(&v), s.as_bytes());
        }

        /// Any mix of case and `_`/`-` of a dropped name is dropped.
        #[test]
        fn dropped_names_in_any_spelling(i in 0..FROM_CLIENT_DROPPED.len(), flips in prop::collection::vec(any::<(bool, bool)>(), 40)) {
            let name: String = FROM_CLIENT_DROPPED[i].chars().zip(flips.iter().cycle()).map(|(c, (upper, underscore))| {
                if c == '-' && *underscore { '_' } else if *upper { c.to_ascii_uppercase() } else { c }
            }).collect();
            prop_assert!(dropped_from_client(&name), "{}", name);
        }

        #[test]
        fn ascii_json_is_always_a_header_value(s in "\\PC{0,40}") {
            let v = serde_json::json!({ "k": s });
            let out = ascii_json(&v);
            prop_assert!(out.bytes().all(|b| (0x20..0x7f).contains(&b)));
            prop_assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), v);
        }
    }
}
