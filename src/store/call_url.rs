//! A session call's URL: the gate's policy and a small message ride in its path,
//! base64url-encoded, as `CALL_URL_BASE<policy>/<message>`.
//!
//! Why the path and not headers: the stub's `fetch` with a URL alone costs the gate about
//! half what the same text in two request headers does (a headers object made, copied
//! into the request, read back by the object with a `get` each; `bench/io-costs.mjs`,
//! docs/performance.md), on every validated request. base64url because the runtime's URL
//! parser would percent-encode JSON's quotes and braces and a user agent's spaces, and the
//! object would then have to undo it.
//!
//! The object still accepts the header form (`POLICY_HEADER`, `MESSAGE_HEADER`): the
//! live connections' calls use it, and a store deployed before its gate serves both.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Where every session call in this form starts; the path's first segment after it is
/// the policy, the second (empty when the message is the body) the message.
pub const CALL_URL_BASE: &str = "https://session-store/s/";

/// Messages up to this many bytes ride in the URL (about 5.5 KB once encoded; the
/// runtime accepts URLs of 16 KB); larger ones go as the call's body.
pub const URL_MESSAGE_MAX: usize = 4096;

/// Which part of a call URL is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The first segment.
    Policy,
    /// The second segment.
    Message,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Policy => "policy",
            Part::Message => "message",
        })
    }
}

/// Why a URL under `CALL_URL_BASE` is not a call (the object answers 400 and changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallUrlError {
    /// The policy segment is empty.
    #[error("no policy in the call URL")]
    NoPolicy,
    /// Not two segments (the second may be empty), or a query or fragment.
    #[error("the call URL is not <policy>/<message>")]
    Shape,
    /// A segment is not unpadded base64url.
    #[error("the call URL's {0} is not base64url")]
    NotBase64(Part),
    /// A segment decodes to bytes that are not UTF-8.
    #[error("the call URL's {0} is not UTF-8")]
    NotUtf8(Part),
}

/// What a call URL carries: the policy's wire text and, unless it comes as the body, the
/// message's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallUrl {
    /// `Policy::to_wire`'s text.
    pub policy: String,
    /// The message's JSON; `None` when it is the call's body.
    pub message: Option<String>,
}

/// `CALL_URL_BASE<policy>/`: made once per isolate, each call appends its message.
pub fn prefix(policy_wire: &str) -> String {
    let mut out = String::with_capacity(CALL_URL_BASE.len() + policy_wire.len() * 4 / 3 + 4);
    out.push_str(CALL_URL_BASE);
    URL_SAFE_NO_PAD.encode_string(policy_wire, &mut out);
    out.push('/');
    out
}

/// The message's segment (what follows `prefix`), or `None` when it is too large for the
/// URL and must go as the body.
pub fn message_segment(message: &str) -> Option<String> {
    (message.len() <= URL_MESSAGE_MAX).then(|| URL_SAFE_NO_PAD.encode(message))
}

/// Reads a call URL; `None` when `url` is not under `CALL_URL_BASE` (the header form).
pub fn parse(url: &str) -> Option<Result<CallUrl, CallUrlError>> {
    url.strip_prefix(CALL_URL_BASE).map(parse_path)
}

fn parse_path(path: &str) -> Result<CallUrl, CallUrlError> {
    let (policy, message) = path.split_once('/').ok_or(CallUrlError::Shape)?;
    if message.contains(['/', '?', '#']) || policy.contains(['?', '#']) {
        return Err(CallUrlError::Shape);
    }
    if policy.is_empty() {
        return Err(CallUrlError::NoPolicy);
    }
    Ok(CallUrl {
        policy: decode(policy, Part::Policy)?,
        message: if message.is_empty() {
            None
        } else {
            Some(decode(message, Part::Message)?)
        },
    })
}

fn decode(segment: &str, part: Part) -> Result<String, CallUrlError> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| CallUrlError::NotBase64(part))?;
    String::from_utf8(bytes).map_err(|_| CallUrlError::NotUtf8(part))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn url(policy: &str, message: &str) -> String {
        let mut u = prefix(policy);
        u.push_str(&message_segment(message).unwrap_or_default());
        u
    }

    #[test]
    fn a_call_reads_back_its_policy_and_message() {
        let u = url(
            r#"{"timeouts":{"idle":1800}}"#,
            r#"{"validate":{"hash":"ab","client":{"ua":"Mozilla/5.0 (X11)"}}}"#,
        );
        assert!(u.starts_with(CALL_URL_BASE));
        assert!(!u[CALL_URL_BASE.len()..].contains(['"', '{', ' ', '%', '+', '=']));
        let call = parse(&u).unwrap().unwrap();
        assert_eq!(call.policy, r#"{"timeouts":{"idle":1800}}"#);
        assert_eq!(
            call.message.as_deref(),
            Some(r#"{"validate":{"hash":"ab","client":{"ua":"Mozilla/5.0 (X11)"}}}"#)
        );
    }

    #[test]
    fn a_large_message_goes_as_the_body() {
        let big = "x".repeat(URL_MESSAGE_MAX + 1);
        assert_eq!(message_segment(&big), None);
        assert!(message_segment(&big[1..]).is_some());
        let call = parse(&prefix("{}")).unwrap().unwrap();
        assert_eq!(call.message, None);
    }

    #[test]
    fn other_urls_are_not_call_urls() {
        for u in [
            "https://session-store/",
            "https://session-store/kv",
            "https://session-store/stats",
            "https://session-store/s",
        ] {
            assert_eq!(parse(u), None, "{u}");
        }
    }

    #[test]
    fn every_malformed_call_url_gets_its_own_error() {
        let p = URL_SAFE_NO_PAD.encode("{}");
        let m = URL_SAFE_NO_PAD.encode("[]");
        let cases = [
            (String::new(), CallUrlError::Shape),
            (p.clone(), CallUrlError::Shape),
            (format!("/{m}"), CallUrlError::NoPolicy),
            (format!("{p}/{m}/"), CallUrlError::Shape),
            (format!("{p}/{m}?x=1"), CallUrlError::Shape),
            (format!("{p}?x/{m}"), CallUrlError::Shape),
            (format!("{p}/{m}#f"), CallUrlError::Shape),
            (format!("{p}=/{m}"), CallUrlError::NotBase64(Part::Policy)),
            (format!("{p}/{m}%20"), CallUrlError::NotBase64(Part::Message)),
            (format!("{p}/a+b"), CallUrlError::NotBase64(Part::Message)),
            (
                format!("{}/{m}", URL_SAFE_NO_PAD.encode([0xff, 0xfe])),
                CallUrlError::NotUtf8(Part::Policy),
            ),
            (
                format!("{p}/{}", URL_SAFE_NO_PAD.encode([0xc3])),
                CallUrlError::NotUtf8(Part::Message),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(parse(&format!("{CALL_URL_BASE}{path}")), Some(Err(want)), "{path}");
        }
    }

    #[test]
    fn errors_name_the_part() {
        assert_eq!(
            CallUrlError::NotBase64(Part::Message).to_string(),
            "the call URL's message is not base64url"
        );
        assert_eq!(
            CallUrlError::NotUtf8(Part::Policy).to_string(),
            "the call URL's policy is not UTF-8"
        );
    }

    proptest! {
        #[test]
        fn any_policy_and_message_survive_the_url(policy in "\\PC{1,300}", message in "\\PC{0,600}") {
            let call = parse(&url(&policy, &message)).unwrap().unwrap();
            prop_assert_eq!(call.policy, policy);
            prop_assert_eq!(call.message, (!message.is_empty()).then_some(message));
        }

        #[test]
        fn a_call_url_uses_only_url_safe_characters(policy in "\\PC{1,100}", message in "\\PC{1,100}") {
            let u = url(&policy, &message);
            prop_assert!(u[CALL_URL_BASE.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'/'));
        }
    }
}
