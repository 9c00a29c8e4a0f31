//! Session tokens (`token::verify` with a current and a previous key).
//!
//! Two modes, chosen by the first byte:
//! - raw: the rest of the input is the cookie value as a client sends it. It must never
//!   verify (the fuzzer does not know either key), and must be refused the same way
//!   whatever the keys are (the format checks run before any key is used);
//! - tamper: mint a real token from the input under one of the keys, apply the input's
//!   edits (bit flips in the decoded bytes, character substitutions, truncation,
//!   appended characters), then verify. It verifies if and only if the edited string is
//!   byte-for-byte the minted token (no malleability: one token per session, the
//!   trailing base64 bits are checked), and then with the right key index and ids.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use sessiongate::core::token::{self, TokenError};

const K_CURRENT: &[u8] = b"current-key-current-key-current-key-0123";
const K_PREVIOUS: &[u8] = b"previous-key-previous-key-previous-0123";
const K_OTHER: &[u8] = b"an-unrelated-key-an-unrelated-key-01234";

fn raw(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let r = token::verify(s, &[K_CURRENT, K_PREVIOUS]);
    assert!(r.is_err(), "an arbitrary string verified: {s:?}");
    // Errors other than the signature (length, encoding, version) come before any key
    // is used, so they do not depend on the key material.
    let format_error = |r: Result<token::VerifiedToken, TokenError>| r.err().filter(|e| *e != TokenError::Signature);
    let e1 = format_error(r);
    assert_eq!(e1, format_error(token::verify(s, &[K_OTHER])));
    assert_eq!(e1, format_error(token::verify(s, &[])));
    if e1.is_none() {
        assert!(s.len() == token::TOKEN_LEN);
    }
}

fn tamper(data: &[u8]) {
    if data.len() < 65 {
        return;
    }
    let key_index = (data[0] & 1) as usize;
    let key = [K_CURRENT, K_PREVIOUS][key_index];
    let mut store_id = [0u8; 32];
    let mut secret = [0u8; 32];
    store_id.copy_from_slice(&data[1..33]);
    secret.copy_from_slice(&data[33..65]);
    let minted = token::mint(&store_id, &secret, key);
    assert_eq!(minted.len(), token::TOKEN_LEN);

    let good = token::verify(&minted, &[K_CURRENT, K_PREVIOUS]).expect("a minted token must verify");
    assert_eq!(good.key_index, key_index);
    assert_eq!(good.store_id, store_id);
    assert_eq!(good.secret, secret);
    assert!(token::verify(&minted, &[K_OTHER]).is_err());
    assert_eq!(good.storage_hash(), token::storage_hash(&secret));

    // Edits: 3-byte records (op, position, value).
    let mut bytes = URL_SAFE_NO_PAD.decode(&minted).expect("minted token is base64url");
    let mut text: Vec<u8> = minted.clone().into_bytes();
    let mut edit_text = false;
    for e in data[65..].chunks_exact(3) {
        let (op, pos, val) = (e[0] % 5, e[1] as usize, e[2]);
        match op {
            0 => {
                let i = pos % bytes.len();
                bytes[i] ^= if val == 0 { 1 } else { val };
            }
            1 => {
                edit_text = true;
                let i = pos % text.len().max(1);
                if let Some(c) = text.get_mut(i) {
                    *c = val;
                }
            }
            2 => {
                edit_text = true;
                text.truncate(pos % (text.len() + 1));
            }
            3 => {
                edit_text = true;
                text.push(val);
            }
            _ => {
                edit_text = true;
                let i = pos % (text.len() + 1);
                text.insert(i, val);
            }
        }
    }
    let candidate = if edit_text {
        match String::from_utf8(text) {
            Ok(s) => s,
            Err(_) => return,
        }
    } else {
        URL_SAFE_NO_PAD.encode(&bytes)
    };
    match token::verify(&candidate, &[K_CURRENT, K_PREVIOUS]) {
        Ok(v) => {
            assert_eq!(candidate, minted, "an altered token verified");
            assert_eq!(v, good);
        }
        Err(_) => assert_ne!(candidate, minted),
    }
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((m, rest)) if m & 1 == 0 => raw(rest),
        Some((_, rest)) => tamper(rest),
        None => {}
    }
});
