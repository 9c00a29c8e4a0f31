//! The challenges the gate issues (`jti` in a proof): 128 random bits, an expiry and an
//! HMAC tag under `SESSION_SECRET` over what the challenge is for and which session ID it
//! was issued to. Issuing one costs no storage: the tag proves the gate issued it, to this
//! session, for this purpose, and when. Single use is the session record's job
//! (`binding::DeviceKey::spend`).
//!
//! Layout: base64url(nonce (16) | expiry, big-endian u64 (8) | tag (32)), 75 characters.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A challenge is good for five minutes.
pub const LIFETIME: u64 = 300;
const NONCE_LEN: usize = 16;
const BODY_LEN: usize = NONCE_LEN + 8;
const TAG_LEN: usize = 32;
const RAW_LEN: usize = BODY_LEN + TAG_LEN;
/// Length of an encoded challenge.
pub const ENCODED_LEN: usize = (RAW_LEN * 4).div_ceil(3);

/// What a challenge may be answered for: a registration's cannot renew, nor the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// In `Secure-Session-Registration`.
    Register,
    /// In `Secure-Session-Challenge`.
    Refresh,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Register => b"register",
            Purpose::Refresh => b"refresh",
        }
    }
}

/// Why a `jti` is not a challenge the gate can accept now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// Not issued by this gate, to this session, for this purpose (or not a challenge).
    #[error("jti_unknown")]
    Unknown,
    /// Issued, but more than `LIFETIME` ago.
    #[error("jti_stale")]
    Stale,
}

fn tag(key: &[u8], purpose: Purpose, session: &str, body: &[u8]) -> Hmac<Sha256> {
    super::mac(
        key,
        &[
            b"sessiongate-dbsc-challenge-v1\0",
            purpose.label(),
            b"\0",
            session.as_bytes(),
            b"\0",
            body,
        ],
    )
}

/// A new challenge for `session` (the storage hash of the session ID it is issued to).
/// `nonce` must come from a CSPRNG; the caller owns randomness and the clock.
pub fn issue(key: &[u8], purpose: Purpose, session: &str, nonce: &[u8; NONCE_LEN], now: u64) -> String {
    let mut raw = [0u8; RAW_LEN];
    raw[..NONCE_LEN].copy_from_slice(nonce);
    raw[NONCE_LEN..BODY_LEN].copy_from_slice(&now.saturating_add(LIFETIME).to_be_bytes());
    let t = tag(key, purpose, session, &raw[..BODY_LEN]).finalize().into_bytes();
    raw[BODY_LEN..].copy_from_slice(&t);
    URL_SAFE_NO_PAD.encode(raw)
}

/// Checks a `jti` against every key that may have issued it (current first); on success,
/// the time until which it must be remembered as spent.
pub fn verify(jti: &str, keys: &[&[u8]], purpose: Purpose, session: &str, now: u64) -> Result<u64, ChallengeError> {
    if jti.len() != ENCODED_LEN {
        return Err(ChallengeError::Unknown);
    }
    let raw = URL_SAFE_NO_PAD.decode(jti).map_err(|_| ChallengeError::Unknown)?;
    if raw.len() != RAW_LEN {
        return Err(ChallengeError::Unknown);
    }
    let (body, given) = raw.split_at(BODY_LEN);
    // `verify_slice` compares in constant time (the session token's own check).
    if !keys.iter().any(|k| tag(k, purpose, session, body).verify_slice(given).is_ok()) {
        return Err(ChallengeError::Unknown);
    }
    let mut exp = [0u8; 8];
    exp.copy_from_slice(&body[NONCE_LEN..]);
    let until = u64::from_be_bytes(exp);
    if now >= until {
        return Err(ChallengeError::Stale);
    }
    Ok(until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const K: &[u8] = b"test-session-secret-0123456789abcdef-0123";
    const OLD: &[u8] = b"the-previous-session-secret-0123456789abc";

    #[test]
    fn an_issued_challenge_verifies_for_its_session_and_purpose_only() {
        let c = issue(K, Purpose::Refresh, "hashA", &[7; 16], 1000);
        assert_eq!(c.len(), ENCODED_LEN);
        assert_eq!(verify(&c, &[K], Purpose::Refresh, "hashA", 1000), Ok(1300));
        assert_eq!(verify(&c, &[K], Purpose::Refresh, "hashA", 1299), Ok(1300));
        assert_eq!(verify(&c, &[K], Purpose::Refresh, "hashA", 1300), Err(ChallengeError::Stale));
        assert_eq!(verify(&c, &[K], Purpose::Refresh, "hashB", 1000), Err(ChallengeError::Unknown));
        assert_eq!(verify(&c, &[K], Purpose::Register, "hashA", 1000), Err(ChallengeError::Unknown));
        assert_eq!(verify(&c, &[OLD], Purpose::Refresh, "hashA", 1000), Err(ChallengeError::Unknown));
        assert_eq!(
            verify(&c, &[OLD, K], Purpose::Refresh, "hashA", 1000),
            Ok(1300),
            "a retired key still verifies"
        );
    }

    #[test]
    fn an_altered_or_odd_challenge_is_unknown() {
        let c = issue(K, Purpose::Register, "h", &[1; 16], 5);
        let mut bytes = c.clone().into_bytes();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        for bad in [
            altered.as_str(),
            "",
            "x",
            &c[..c.len() - 1],
            &format!("{c}A"),
            &"=".repeat(ENCODED_LEN),
        ] {
            assert_eq!(
                verify(bad, &[K], Purpose::Register, "h", 5),
                Err(ChallengeError::Unknown),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn details_are_the_public_strings() {
        assert_eq!(ChallengeError::Unknown.to_string(), "jti_unknown");
        assert_eq!(ChallengeError::Stale.to_string(), "jti_stale");
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(5_000))]
        #[test]
        fn only_the_issued_string_verifies(nonce in any::<[u8; 16]>(), now in 0u64..1u64 << 40, s in "[a-z]{1,8}", junk in "\\PC{0,80}") {
            let c = issue(K, Purpose::Refresh, &s, &nonce, now);
            prop_assert_eq!(verify(&c, &[K], Purpose::Refresh, &s, now), Ok(now + LIFETIME));
            if junk != c {
                prop_assert!(verify(&junk, &[K], Purpose::Refresh, &s, now).is_err());
            }
        }
    }
}
