//! Session tokens: what the browser holds in the cookie.
//!
//! Layout (97 bytes, base64url without padding = 130 characters):
//! `version (1) | store id (32) | secret (32) | HMAC-SHA256 tag (32)`.
//! The store id names the Durable Object that holds the session, so validation needs
//! no lookup table; the tag lets the gate turn away forged or altered tokens before
//! any storage access; storage only ever sees `storage_hash(secret)`.

use super::keyed_mac::{keyed, Domain, HmacSha256, KeyedMacs};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;
use sha2::{Digest, Sha256};

pub const VERSION: u8 = 1;
pub const STORE_ID_LEN: usize = 32;
pub const SECRET_LEN: usize = 32;
const TAG_LEN: usize = 32;
const RAW_LEN: usize = 1 + STORE_ID_LEN + SECRET_LEN + TAG_LEN;
/// Length of the encoded token: anything else is rejected before decoding.
pub const TOKEN_LEN: usize = (RAW_LEN * 4).div_ceil(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Length,
    Encoding,
    Version,
    Signature,
}

impl TokenError {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenError::Length => "wrong length",
            TokenError::Encoding => "not base64url",
            TokenError::Version => "unknown version",
            TokenError::Signature => "bad signature",
        }
    }
}

/// A token whose tag verified under one of the configured keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub store_id: [u8; STORE_ID_LEN],
    pub secret: [u8; SECRET_LEN],
    /// 0 = `SESSION_SECRET`, 1 = `SESSION_SECRET_PREVIOUS`.
    pub key_index: usize,
}

impl VerifiedToken {
    pub fn storage_hash(&self) -> String {
        storage_hash(&self.secret)
    }

    pub fn store_id_hex(&self) -> String {
        hex(&self.store_id)
    }
}

/// What session tokens are tagged under (`keyed_mac`).
pub struct TokenDomain;

impl Domain for TokenDomain {
    const PREFIX: &'static [u8] = b"sessiongate-token-v1\0";
    const NAME: &'static str = "TokenKeys";
}

/// The session secrets, current first, each ready to tag a token body: keyed when the
/// configuration is read, instead of on every request. Of the five compressions a token
/// check took, three are left.
pub type TokenKeys = KeyedMacs<TokenDomain>;

fn tag(key: &[u8], body: &[u8]) -> HmacSha256 {
    let mut mac = keyed(key, TokenDomain::PREFIX);
    mac.update(body);
    mac
}

/// Builds a token. `secret` must come from a CSPRNG; the caller owns randomness.
pub fn mint(store_id: &[u8; STORE_ID_LEN], secret: &[u8; SECRET_LEN], key: &[u8]) -> String {
    let mut raw = [0u8; RAW_LEN];
    raw[0] = VERSION;
    raw[1..1 + STORE_ID_LEN].copy_from_slice(store_id);
    raw[1 + STORE_ID_LEN..1 + STORE_ID_LEN + SECRET_LEN].copy_from_slice(secret);
    let t = tag(key, &raw[..RAW_LEN - TAG_LEN]).finalize().into_bytes();
    raw[RAW_LEN - TAG_LEN..].copy_from_slice(&t);
    URL_SAFE_NO_PAD.encode(raw)
}

/// Verifies a token against the current key, then the previous one (rotation).
/// The tag comparison is constant-time (`Mac::verify_slice`).
pub fn verify(token: &str, keys: &[&[u8]]) -> Result<VerifiedToken, TokenError> {
    verify_keyed(token, &TokenKeys::new(keys))
}

/// `verify` with keys prepared once (`Config::token_macs`): the request path's form.
pub fn verify_keyed(token: &str, keys: &TokenKeys) -> Result<VerifiedToken, TokenError> {
    if token.len() != TOKEN_LEN {
        return Err(TokenError::Length);
    }
    let mut raw = [0u8; RAW_LEN + 2];
    let n = URL_SAFE_NO_PAD
        .decode_slice(token.as_bytes(), &mut raw)
        .map_err(|_| TokenError::Encoding)?;
    if n != RAW_LEN {
        return Err(TokenError::Length);
    }
    let raw = &raw[..RAW_LEN];
    if raw[0] != VERSION {
        return Err(TokenError::Version);
    }
    let (body, given) = raw.split_at(RAW_LEN - TAG_LEN);
    for (key_index, key) in keys.iter().enumerate() {
        let mut mac = key.clone();
        mac.update(body);
        if mac.verify_slice(given).is_ok() {
            let mut store_id = [0u8; STORE_ID_LEN];
            store_id.copy_from_slice(&body[1..1 + STORE_ID_LEN]);
            let mut secret = [0u8; SECRET_LEN];
            secret.copy_from_slice(&body[1 + STORE_ID_LEN..]);
            return Ok(VerifiedToken {
                store_id,
                secret,
                key_index,
            });
        }
    }
    Err(TokenError::Signature)
}

/// What storage keeps instead of the secret: SHA-256 over a domain-separated secret.
pub fn storage_hash(secret: &[u8; SECRET_LEN]) -> String {
    let mut h = Sha256::new();
    h.update(b"sessiongate-storage-v1\0");
    h.update(secret);
    hex(&h.finalize())
}

/// A public handle for a session (`X-Session-Id`, session lists): random, never derived
/// from the token, so it cannot be turned back into a credential.
pub fn handle(random: &[u8; 16]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

pub fn is_handle(s: &str) -> bool {
    s.len() == 22 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Bytes, not chars: `String::push` encodes each char as UTF-8, four times the work on
    // every validation (the object id is hex).
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 15) as usize]);
    }
    // Only ASCII digits were pushed: never the empty fallback.
    String::from_utf8(out).unwrap_or_default()
}

pub fn unhex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn prepared_keys_verify_as_raw_keys_do_and_print_no_key() {
        let (current, previous, other) = (
            b"k-current-0123456789abcdef-0123456".as_slice(),
            b"k-previous".as_slice(),
            b"k-other".as_slice(),
        );
        let keys = TokenKeys::new(&[current, previous]);
        for (key, index) in [(current, 0), (previous, 1)] {
            let t = mint(&[7; STORE_ID_LEN], &[9; SECRET_LEN], key);
            assert_eq!(verify_keyed(&t, &keys), verify(&t, &[current, previous]));
            assert_eq!(verify_keyed(&t, &keys).map(|v| v.key_index), Ok(index));
        }
        let foreign = mint(&[7; STORE_ID_LEN], &[9; SECRET_LEN], other);
        assert_eq!(verify_keyed(&foreign, &keys), Err(TokenError::Signature));
        assert_eq!(verify_keyed(&foreign, &TokenKeys::new(&[])), Err(TokenError::Signature));
        // A prepared key is used again: a first check must not change what a second sees.
        let t = mint(&[1; STORE_ID_LEN], &[2; SECRET_LEN], current);
        assert!(verify_keyed(&t, &keys).is_ok() && verify_keyed(&t, &keys).is_ok());
        assert_eq!(format!("{keys:?}"), "TokenKeys(2 keys, redacted)");
    }

    const K1: &[u8] = b"0123456789abcdef0123456789abcdef";
    const K2: &[u8] = b"fedcba9876543210fedcba9876543210";

    #[test]
    fn round_trip_and_length() {
        let t = mint(&[7; 32], &[9; 32], K1);
        assert_eq!(t.len(), TOKEN_LEN);
        assert!(TOKEN_LEN < 200 - "__Host-session=".len());
        let v = verify(&t, &[K1]).unwrap();
        assert_eq!(v.store_id, [7; 32]);
        assert_eq!(v.secret, [9; 32]);
        assert_eq!(v.key_index, 0);
    }

    #[test]
    fn previous_key_still_verifies_and_unknown_key_does_not() {
        let t = mint(&[1; 32], &[2; 32], K2);
        assert_eq!(verify(&t, &[K1, K2]).unwrap().key_index, 1);
        assert_eq!(verify(&t, &[K1]), Err(TokenError::Signature));
    }

    #[test]
    fn every_bit_flip_is_rejected() {
        let t = mint(&[3; 32], &[4; 32], K1);
        let raw = URL_SAFE_NO_PAD.decode(&t).unwrap();
        for i in 0..raw.len() * 8 {
            let mut r = raw.clone();
            r[i / 8] ^= 1 << (i % 8);
            let forged = URL_SAFE_NO_PAD.encode(&r);
            assert!(verify(&forged, &[K1]).is_err(), "bit {i}");
        }
    }

    #[test]
    fn truncated_and_padded_tokens_are_rejected() {
        let t = mint(&[3; 32], &[4; 32], K1);
        assert_eq!(verify(&t[..t.len() - 1], &[K1]), Err(TokenError::Length));
        assert_eq!(verify(&format!("{t}="), &[K1]), Err(TokenError::Length));
        let bad = format!("{}!", &t[..t.len() - 1]);
        assert_eq!(verify(&bad, &[K1]), Err(TokenError::Encoding));
    }

    #[test]
    fn hashes_and_handles() {
        assert_eq!(storage_hash(&[0; 32]).len(), 64);
        assert_ne!(storage_hash(&[0; 32]), storage_hash(&[1; 32]));
        let h = handle(&[5; 16]);
        assert!(is_handle(&h));
        assert!(!is_handle("../etc/passwd"));
        assert_eq!(unhex32(&hex(&[0xab; 32])), Some([0xab; 32]));
        assert_eq!(unhex32("zz"), None);
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn verify_never_panics(s in "\\PC{0,200}") { let _ = verify(&s, &[K1, K2]); }

        #[test]
        fn random_tokens_of_the_right_length_never_verify(s in "[A-Za-z0-9_-]{130}") {
            prop_assert!(verify(&s, &[K1]).is_err());
        }

        #[test]
        fn any_ids_round_trip(id in any::<[u8; 32]>(), secret in any::<[u8; 32]>()) {
            let t = mint(&id, &secret, K1);
            let v = verify(&t, &[K1]).unwrap();
            prop_assert_eq!(v.store_id, id);
            prop_assert_eq!(v.secret, secret);
        }
    }
}
