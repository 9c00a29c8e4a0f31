//! Properties of the parsers of untrusted input whose generators reach the code: inputs
//! are built from valid-looking parts (paths that start with `/`, tokens that decode,
//! cookie headers with the gate's cookie, JSON commands) mixed with control characters,
//! CR/LF/NUL, percent-encodings and near-misses, so that most cases get past the first
//! check and exercise the rules behind it. A `\PC*` string has no control character
//! and almost never looks like a path or a token, so it only tests the first `if`.
//!
//! Each property counts how many cases got past the parser's first check and asserts a
//! floor under that fraction: the fraction each comment quotes is what a run measured
//! (printed with `--nocapture`), and a generator that stops reaching the code fails.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;

const CASES: u32 = 4_000;

/// Runs `check` over `CASES` inputs of `strategy`; `check` returns whether the input got
/// past the first check. Fails if fewer than `floor` of them did.
fn reach<S: Strategy>(what: &str, strategy: S, floor: f64, check: impl Fn(S::Value) -> Result<bool, TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let past = Cell::new(0u32);
    let total = Cell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |v| {
            total.set(total.get() + 1);
            if check(v)? {
                past.set(past.get() + 1);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let fraction = f64::from(past.get()) / f64::from(total.get());
    eprintln!("{what}: {:.1} % of {} cases past the first check", fraction * 100.0, total.get());
    assert!(
        fraction >= floor,
        "{what}: only {:.1} % of cases got past the first check",
        fraction * 100.0
    );
}

/// Text pieces an attacker would try in any header or path.
const HOSTILE: &[&str] = &[
    "\r", "\n", "\r\n", "\0", "\t", " ", "\u{7f}", "\u{85}", "\u{2028}", "é", "%00", "%0d%0a", "%zz", "%", "\"", ",", ";", "=",
];

fn hostile() -> impl Strategy<Value = String> {
    prop::sample::select(HOSTILE).prop_map(str::to_string)
}

// -- paths ---------------------------------------------------------------------------

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        4 => prop::sample::select(vec![
            "app", "public", "login", "admin", ".", "..", "%2e", "%2E%2e", ".%2e", "%2F", "%2f", "%5C", "\\", "a;x", "..;", "admin.",
            "admin%20", "%41dmin", "%7e", "ADMIN", "", ".sessiongate"
        ])
        .prop_map(str::to_string),
        1 => hostile(),
    ];
    (prop::collection::vec(segment, 0..8), any::<bool>()).prop_map(|(segs, trailing)| {
        let mut p = format!("/{}", segs.join("/"));
        if trailing {
            p.push('/');
        }
        p
    })
}

/// `path::normalize` and `path::readings`. First check: the path is accepted. Measured:
/// about 92 % of cases are (the rest hold a malformed escape: `%zz` or a lone `%`). A
/// raw control character is accepted and kept (`"/\r"` stays `"/\r"`): the runtime's
/// URL parser percent-encodes them before the gate sees a path.
#[test]
fn paths_normalise_to_clean_stable_paths() {
    use sessiongate::core::path::{normalize, readings};
    reach("path", path(), 0.8, |raw| {
        let Ok(n) = normalize(&raw) else {
            prop_assert!(readings(&raw).is_err(), "readings accepted what normalize refused: {:?}", raw);
            return Ok(false);
        };
        prop_assert!(n.starts_with('/') && !n.contains("//"), "{:?} -> {:?}", raw, n);
        prop_assert!(!n.split('/').any(|s| s == "." || s == ".."), "{:?} -> {:?}", raw, n);
        let again = normalize(&n);
        prop_assert_eq!(again.as_deref(), Ok(n.as_str()), "not stable: {:?}", raw);
        let r = readings(&raw).expect("readings accepts what normalize accepts");
        prop_assert_eq!(&r[0], &n);
        prop_assert!(r.iter().all(|x| x.starts_with('/')), "{:?} -> {:?}", raw, r);
        Ok(true)
    });
}

// -- session tokens ------------------------------------------------------------------

/// A minted token, then one edit: a character replaced (5 in 8; by a base64url one, a
/// non-alphabet one or a control character), one added, one removed, or none (1 in 8 each).
fn edited_token() -> impl Strategy<Value = (String, String)> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        0usize..8,
        any::<prop::sample::Index>(),
        prop::sample::select(vec!['A', 'b', '-', '_', '0', 'z', 'Q', '9', '+', '/', '\r', '\0']),
    )
        .prop_map(|(store, secret, edit, at, c)| {
            let t = sessiongate::core::token::mint(&store, &secret, b"key-of-at-least-32-bytes-for-tests");
            let i = at.index(t.len());
            let mut e: Vec<char> = t.chars().collect();
            match edit {
                0..=4 => e[i] = c,
                5 => e.insert(i, c),
                6 => {
                    e.remove(i);
                }
                _ => {}
            }
            (t, e.into_iter().collect())
        })
}

/// `token::verify`. First check: the length and the base64url decoding pass (the error,
/// if any, is about the version or the signature). Measured: about 54 % of cases:
/// insertions and removals all fail on the length, and a replacement decodes when it is
/// a base64url character that keeps the last character's padding bits canonical.
#[test]
fn an_edited_token_verifies_only_when_unchanged() {
    use sessiongate::core::token::{verify, TokenError};
    let key: &[u8] = b"key-of-at-least-32-bytes-for-tests";
    reach("token", edited_token(), 0.45, |(minted, edited)| {
        let r = verify(&edited, &[key]);
        prop_assert_eq!(
            r.is_ok(),
            edited == minted,
            "{:?} vs {:?}: {:?}",
            edited,
            minted,
            r.as_ref().map(|_| ())
        );
        Ok(!matches!(r, Err(TokenError::Length) | Err(TokenError::Encoding)))
    });
}

// -- cookies -------------------------------------------------------------------------

const GATE: &str = "__Host-session";

fn cookie_header() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        GATE,
        GATE,
        "__host-session",
        "__Host-session2",
        " __Host-session",
        "theme",
        "a",
        "",
    ]);
    let value = prop_oneof![
        3 => "[A-Za-z0-9_-]{0,12}",
        1 => hostile(),
        1 => Just("\"quoted\"".to_string()),
    ];
    let sep = prop::sample::select(vec!["; ", ";", " ; ", ", "]);
    prop::collection::vec((name, value, sep), 1..6).prop_map(|pairs| {
        let mut h = String::new();
        for (i, (n, v, s)) in pairs.iter().enumerate() {
            if i > 0 {
                h.push_str(s);
            }
            h.push_str(&format!("{n}={v}"));
        }
        h
    })
}

/// `cookie::find` and `cookie::strip`. First check: the header holds the gate's cookie.
/// Measured: about 64 % of cases do.
#[test]
fn the_stripped_cookie_header_never_holds_the_gate_cookie() {
    use sessiongate::core::cookie::{find, strip, SessionCookie};
    reach("cookie", cookie_header(), 0.5, |h| {
        let found = find(&h, GATE);
        if let Some(s) = strip(&h, GATE) {
            prop_assert!(
                !s.split(';').any(|p| p.split('=').next().map(str::trim) == Some(GATE)),
                "{:?} -> {:?}",
                h,
                s
            );
            prop_assert_eq!(strip(&s, GATE), Some(s.clone()), "strip is not stable on {:?}", h);
        }
        Ok(!matches!(found, SessionCookie::Absent))
    });
}

// -- origin commands -----------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-z]{1,10}", 2 => ("[a-z]{0,4}", hostile(), "[a-z]{0,4}").prop_map(|(a, h, b)| format!("{a}{h}{b}"))]
}

fn command() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    prop_oneof![
        (text(), prop::collection::vec(text(), 0..4), text())
            .prop_map(|(u, r, d)| json!({"action": "login", "user": u, "roles": r, "data": {"k": d}})),
        text().prop_map(|d| json!({"action": "set_data", "data": {"k": d}})),
        Just(json!({"action": "logout"})),
        prop::collection::vec(text(), 0..3).prop_map(|r| json!({"action": "regenerate", "reason": "permission_change", "roles": r})),
        Just(json!({"action": "elevate"})),
        text().prop_map(|a| json!({"action": a})),
    ]
}

/// `command::parse` and `command::check_sequence`. First check: the header is JSON of
/// the right shape and every command's fields were validated (accepted, or refused by a
/// field rule rather than by the JSON decoding). Measured: about 68 % of cases.
#[test]
fn accepted_commands_hold_no_control_characters_or_commas() {
    use sessiongate::core::command::{check_sequence, parse, Command};
    reach("command", prop::collection::vec(command(), 1..5), 0.55, |cmds| {
        let header = serde_json::Value::Array(cmds).to_string();
        match parse(&header, 16384) {
            Ok(cmds) => {
                for c in &cmds {
                    let (user, roles) = match c {
                        Command::Login { user, roles, .. } => (Some(user), Some(roles)),
                        Command::Regenerate { roles, .. } => (None, roles.as_ref()),
                        _ => (None, None),
                    };
                    prop_assert!(user.is_none_or(|u| !u.is_empty() && !u.chars().any(char::is_control)), "{:?}", c);
                    prop_assert!(
                        roles.is_none_or(|r| r
                            .iter()
                            .all(|r| !r.is_empty() && !r.contains(',') && !r.chars().any(char::is_control))),
                        "{:?}",
                        c
                    );
                }
                if check_sequence(&cmds, false).is_ok() {
                    prop_assert!(check_sequence(&cmds, true).is_ok());
                }
                Ok(true)
            }
            Err(e) => Ok(!e.starts_with("not JSON") && !e.contains("unknown variant")),
        }
    });
}

// -- client addresses and the login redirect -----------------------------------------

fn address() -> impl Strategy<Value = String> {
    let v4 = any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]));
    let v6 = any::<[u16; 8]>().prop_map(|s| s.iter().map(|x| format!("{x:x}")).collect::<Vec<_>>().join(":"));
    let mapped = any::<[u8; 4]>().prop_map(|o| format!("::ffff:{}.{}.{}.{}", o[0], o[1], o[2], o[3]));
    let good = prop_oneof![v4, v6, mapped];
    (good, prop::option::weighted(0.3, hostile()), any::<bool>()).prop_map(|(a, h, front)| match h {
        Some(h) if front => format!("{h}{a}"),
        Some(h) => format!("{a}{h}"),
        None => a,
    })
}

/// `client::network` and `client::same_network`. First check: the address parses.
/// Measured: about 82 % of cases (a hostile character that is not whitespace makes it
/// unparseable).
#[test]
fn addresses_are_in_their_own_network_and_mapped_v4_is_v4() {
    use sessiongate::core::client::{network, same_network, Network};
    reach("ip", address(), 0.7, |a| {
        let Some(n) = network(&a) else {
            prop_assert!(same_network(&a, &a) || a.trim().is_empty());
            return Ok(false);
        };
        prop_assert!(same_network(&a, &a));
        if let Some(v4) = a.trim().strip_prefix("::ffff:") {
            prop_assert_eq!(Some(n), network(v4));
            prop_assert!(matches!(n, Network::V4(_)));
        }
        Ok(true)
    });
}

/// `client::login_redirect`. Every case gets past the first check (there is none: any
/// path is turned into a `return_to`); what the generator has to reach is the stripping
/// of leading `/`, `\`, whitespace and control characters: about 78 % of cases start
/// with two or more of them.
#[test]
fn return_to_stays_on_this_site() {
    use sessiongate::core::client::login_redirect;
    let lead =
        prop::collection::vec(prop::sample::select(vec!["/", "\\", "\t", "\r\n", " ", "%2f", "%5c", "\0"]), 1..4).prop_map(|v| v.concat());
    let rest = prop::sample::select(vec!["evil.example/x", "app?x=1#f", "@evil.example", "", "a b", "é"]);
    reach("return_to", (lead, rest), 0.65, |(lead, rest)| {
        let url = login_redirect("/login", &format!("{lead}{rest}"), "missing", false);
        let rt = url.split("return_to=").nth(1).and_then(|s| s.split('&').next()).unwrap_or("");
        prop_assert!(rt.starts_with('/') && !rt.starts_with("//"), "{:?}", url);
        prop_assert!(!url.chars().any(|c| c.is_control() || c == ' ' || c == '\\'), "{:?}", url);
        // Decoded once, as the login page reads it, it still is a single-slash path
        // (a browser drops tabs and newlines, so those are removed first).
        let decoded: String = percent_decode(rt).chars().filter(|c| !matches!(c, '\t' | '\r' | '\n')).collect();
        prop_assert!(
            decoded.starts_with('/') && !decoded.starts_with("//") && !decoded.starts_with("/\\"),
            "{:?}",
            decoded
        );
        Ok(lead.len() >= 2)
    });
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() && s.is_char_boundary(i + 3) && u8::from_str_radix(&s[i + 1..i + 3], 16).is_ok() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// -- header values -------------------------------------------------------------------

/// `headers::ascii_json`. No first check; what matters is that the strings hold what
/// would break a header: about 62 % of cases contain CR, LF or NUL (a `\PC*` string
/// never does).
#[test]
fn json_for_headers_escapes_cr_lf_and_nul() {
    use sessiongate::core::headers::ascii_json;
    let breaker = prop::sample::select(vec!["\r", "\n", "\r\n", "\0"]).prop_map(str::to_string);
    let s = prop::collection::vec(prop_oneof![2 => "[a-z]{0,3}", 1 => breaker, 1 => hostile()], 0..8).prop_map(|v| v.concat());
    reach("ascii_json", s, 0.5, |s| {
        let v = serde_json::json!({ "k": s });
        let out = ascii_json(&v);
        prop_assert!(out.bytes().all(|b| (0x20..0x7f).contains(&b)), "{:?}", out);
        prop_assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), v);
        Ok(s.contains(['\r', '\n', '\0']))
    });
}
