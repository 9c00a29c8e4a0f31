//! Session tokens against values computed outside this crate (Python's hmac, hashlib and
//! base64): the token layout, the storage hash, the hex and handle helpers. The unit
//! tests only round-trip the crate's own functions, so a change to both sides at once
//! (a domain-separation string, an offset, a digit table) would pass them.

use sessiongate::core::token::{handle, hex, is_handle, mint, storage_hash, unhex32, verify, TokenError, TOKEN_LEN};

const KEY: &[u8] = &[b'k'; 32];
const SECRET: [u8; 32] = {
    let mut s = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        s[i] = i as u8;
        i += 1;
    }
    s
};

/// `base64url(0x01 | 0xab * 32 | 0..32 | HMAC-SHA256(KEY, "sessiongate-token-v1\0" | those 65 bytes))`.
const TOKEN: &str =
    "Aaurq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8mUoV3G51W8DO6IB5-fjzvm8srTPI4WM5M9DgV0nLHnw";

#[test]
fn token_layout_matches_an_independent_computation() {
    assert_eq!(TOKEN_LEN, 130);
    assert_eq!(mint(&[0xab; 32], &SECRET, KEY), TOKEN);
    let v = verify(TOKEN, &[b"another key of thirty-two bytes!", KEY]).unwrap();
    assert_eq!((v.store_id, v.secret, v.key_index), ([0xab; 32], SECRET, 1));
    assert_eq!(v.store_id_hex(), "ab".repeat(32));
    // SHA-256("sessiongate-storage-v1\0" | secret), hex.
    let want = "20e49498e7f7418576f905096ba2594985d7f56f82059acb9c73ee0549228ab6";
    assert_eq!(storage_hash(&SECRET), want);
    assert_eq!(v.storage_hash(), want);
}

#[test]
fn token_errors_name_what_is_wrong() {
    let names = [TokenError::Length, TokenError::Encoding, TokenError::Version, TokenError::Signature].map(TokenError::as_str);
    assert_eq!(names, ["wrong length", "not base64url", "unknown version", "bad signature"]);
    // Version 2 with a valid tag over it is still refused, for the version.
    let mut raw = [0u8; 97];
    raw[0] = 2;
    let t = base64_url(&raw);
    assert_eq!(verify(&t, &[KEY]), Err(TokenError::Version));
}

#[test]
fn token_hex_and_handles() {
    assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    let all: Vec<u8> = (0..=255).collect();
    let h = hex(&all);
    assert_eq!(&h[..8], "00010203");
    assert_eq!(&h[h.len() - 8..], "fcfdfeff");
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&all[100..132]);
    assert_eq!(unhex32(&hex(&bytes)), Some(bytes));
    assert_eq!(unhex32(&"AB".repeat(32)), Some([0xab; 32]), "upper-case hex reads too");
    assert_eq!(unhex32(&"a".repeat(63)), None);
    assert_eq!(unhex32(&"a".repeat(65)), None);
    assert_eq!(unhex32(&format!("{}g", "a".repeat(63))), None);
    assert_eq!(handle(&[0xfb; 16]), "-_v7-_v7-_v7-_v7-_v7-w");
    assert!(is_handle("-_v7-_v7-_v7-_v7-_v7-w"));
    assert!(is_handle(&"A".repeat(22)));
    assert!(!is_handle(&"A".repeat(21)));
    assert!(!is_handle(&"A".repeat(23)));
    assert!(!is_handle(&format!("{}+", "A".repeat(21))));
    assert!(!is_handle(&format!("{}/", "A".repeat(21))));
    assert!(!is_handle(&format!("{}=", "A".repeat(21))));
}

fn base64_url(raw: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}
