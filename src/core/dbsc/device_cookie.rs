//! The device cookie (`<COOKIE_NAME>-device`): proof, renewed every
//! `DEVICE_PROOF_INTERVAL` by a signature of the session's device key, that the request
//! comes from the browser holding that key. Its value is an expiry and an HMAC tag under
//! `SESSION_SECRET` over the session's public handle and that expiry, so checking it on
//! every request costs no storage access. The handle, not the ID: it stays the same
//! through regenerations, which keep the binding.
//!
//! Layout: base64url(expiry, big-endian u64 (8) | tag (32)), 54 characters.

use crate::core::keyed_mac::{keyed, Domain, HmacSha256, KeyedMacs};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;

const TAG_LEN: usize = 32;
const RAW_LEN: usize = 8 + TAG_LEN;
/// Length of an encoded device cookie value.
pub const ENCODED_LEN: usize = (RAW_LEN * 4).div_ceil(3);

/// Why a device cookie does not prove the device now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeviceCookieError {
    /// None was sent.
    #[error("missing")]
    Missing,
    /// Not one the gate made for this session.
    #[error("forged")]
    Forged,
    /// Made for this session, and past its expiry.
    #[error("expired")]
    Expired,
}

/// What device cookies are tagged under (`keyed_mac`).
pub struct DeviceDomain;

impl Domain for DeviceDomain {
    const PREFIX: &'static [u8] = b"sessiongate-device-v1\0";
    const NAME: &'static str = "DeviceKeys";
}

/// The session secrets, current first, keyed for device-cookie tags once per
/// configuration: the check on every request of a bound session clones a state instead
/// of running HMAC's key schedule again.
pub type DeviceKeys = KeyedMacs<DeviceDomain>;

fn tag(prepared: &HmacSha256, handle: &str, expiry: &[u8; 8]) -> HmacSha256 {
    let mut m = prepared.clone();
    m.update(handle.as_bytes());
    m.update(b"\0");
    m.update(expiry);
    m
}

/// A device cookie value for the session `handle`, good until `now + interval`.
pub fn mint(key: &[u8], handle: &str, now: u64, interval: u64) -> String {
    let expiry = now.saturating_add(interval).to_be_bytes();
    let mut raw = [0u8; RAW_LEN];
    raw[..8].copy_from_slice(&expiry);
    raw[8..].copy_from_slice(&tag(&keyed(key, DeviceDomain::PREFIX), handle, &expiry).finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(raw)
}

/// One value checked: made by one of `keys` for `handle`, not expired.
pub fn verify(value: &str, keys: &DeviceKeys, handle: &str, now: u64) -> Result<(), DeviceCookieError> {
    if value.len() != ENCODED_LEN {
        return Err(DeviceCookieError::Forged);
    }
    let raw = URL_SAFE_NO_PAD.decode(value).map_err(|_| DeviceCookieError::Forged)?;
    if raw.len() != RAW_LEN {
        return Err(DeviceCookieError::Forged);
    }
    let mut expiry = [0u8; 8];
    expiry.copy_from_slice(&raw[..8]);
    // `verify_slice` compares in constant time (the session token's own check).
    if !keys.iter().any(|k| tag(k, handle, &expiry).verify_slice(&raw[8..]).is_ok()) {
        return Err(DeviceCookieError::Forged);
    }
    if now >= u64::from_be_bytes(expiry) {
        return Err(DeviceCookieError::Expired);
    }
    Ok(())
}

/// Every value the request sent under the device cookie's name: good when any one is
/// (a stale copy from another scope may come along); otherwise the most telling error.
pub fn verify_any<'a>(values: impl Iterator<Item = &'a str>, keys: &DeviceKeys, handle: &str, now: u64) -> Result<(), DeviceCookieError> {
    let mut worst = DeviceCookieError::Missing;
    for v in values {
        match verify(v, keys, handle, now) {
            Ok(()) => return Ok(()),
            Err(DeviceCookieError::Expired) => worst = DeviceCookieError::Expired,
            Err(e) if worst == DeviceCookieError::Missing => worst = e,
            Err(_) => {}
        }
    }
    Err(worst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const K: &[u8] = b"test-session-secret-0123456789abcdef-0123";

    fn keys(k: &[&[u8]]) -> DeviceKeys {
        DeviceKeys::new(k)
    }

    #[test]
    fn either_secret_of_a_rotation_verifies_and_the_keys_print_redacted() {
        let old: &[u8] = b"old-session-secret-0123456789abcdef-01234";
        let v = mint(old, "h", 1000, 60);
        assert_eq!(verify(&v, &keys(&[K, old]), "h", 1000), Ok(()));
        assert_eq!(verify(&v, &keys(&[K]), "h", 1000), Err(DeviceCookieError::Forged));
        assert_eq!(format!("{:?}", keys(&[K, old])), "DeviceKeys(2 keys, redacted)");
    }

    #[test]
    fn good_for_its_session_until_its_expiry() {
        let v = mint(K, "handleA", 1000, 600);
        assert_eq!(v.len(), ENCODED_LEN);
        assert_eq!(verify(&v, &keys(&[K]), "handleA", 1599), Ok(()));
        assert_eq!(verify(&v, &keys(&[K]), "handleA", 1600), Err(DeviceCookieError::Expired));
        assert_eq!(
            verify(&v, &keys(&[K]), "handleB", 1000),
            Err(DeviceCookieError::Forged),
            "another session's"
        );
        assert_eq!(
            verify(&v, &keys(&[b"another-key-0123456789abcdef-0123456789"]), "handleA", 1000),
            Err(DeviceCookieError::Forged)
        );
    }

    #[test]
    fn a_longer_expiry_cannot_be_written_in() {
        let v = mint(K, "h", 1000, 10);
        let mut raw = URL_SAFE_NO_PAD.decode(&v).unwrap();
        raw[0] = 0x7f;
        assert_eq!(
            verify(&URL_SAFE_NO_PAD.encode(raw), &keys(&[K]), "h", 1000),
            Err(DeviceCookieError::Forged)
        );
    }

    #[test]
    fn any_good_value_among_several_is_enough() {
        let good = mint(K, "h", 1000, 10);
        let old = mint(K, "h", 0, 10);
        assert_eq!(verify_any(["junk", good.as_str()].into_iter(), &keys(&[K]), "h", 1005), Ok(()));
        assert_eq!(
            verify_any([old.as_str(), "junk"].into_iter(), &keys(&[K]), "h", 1005),
            Err(DeviceCookieError::Expired)
        );
        assert_eq!(
            verify_any(["junk"].into_iter(), &keys(&[K]), "h", 1005),
            Err(DeviceCookieError::Forged)
        );
        assert_eq!(verify_any([].into_iter(), &keys(&[K]), "h", 1005), Err(DeviceCookieError::Missing));
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(5_000))]
        #[test]
        fn nothing_but_a_minted_value_verifies(v in "\\PC{0,40}", h in "[A-Za-z0-9_-]{22}", now in 0u64..1u64 << 40) {
            let minted = mint(K, &h, now, 60);
            prop_assert_eq!(verify(&minted, &keys(&[K]), &h, now), Ok(()));
            if v != minted {
                prop_assert!(verify(&v, &keys(&[K]), &h, now).is_err());
            }
        }
    }
}
