//! What a session record keeps once the browser registered a device key: the public key
//! (for later proofs) and the challenges already answered (single use). Validation replies
//! carry only the fact of the binding: the key and the spent challenges stay in storage.
//!
//! Stored and sent as one string, `<alg> <bound_at> <spent> <jwk>` (`spent`:
//! `jti~until,...` or `-`): a struct of its own in the session's JSON cost the gate's Wasm
//! kilobytes of deserializer for a field it only ever reads whole. The spent list stays
//! text until the store reads it (`spent()`), so the gate carries no parser for it.

use super::jwk::DeviceAlg;
use serde::{Deserialize, Serialize};

/// Spent challenges remembered per session; each is dropped once its own expiry passes
/// (after that a replay is refused as stale anyway).
pub const MAX_SPENT: usize = 32;

/// A session's device key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct DeviceKey {
    /// What the key signs with.
    pub alg: DeviceAlg,
    /// The public JWK (`jwk::DeviceJwk::json`); empty in validation replies.
    pub jwk: String,
    /// When the browser registered it (unix seconds).
    pub bound_at: u64,
    /// Challenges answered with this key, until their expiry: `jti~until,...`, or `-`.
    spent: String,
}

/// A stored device key that cannot be read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed device key record")]
pub struct MalformedDeviceKey;

impl From<DeviceKey> for String {
    fn from(k: DeviceKey) -> String {
        format!("{} {} {} {}", k.alg.as_str(), k.bound_at, k.spent, k.jwk)
    }
}

impl TryFrom<String> for DeviceKey {
    type Error = MalformedDeviceKey;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let mut parts = s.splitn(4, ' ');
        let (Some(alg), Some(bound_at), Some(spent), jwk) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(MalformedDeviceKey);
        };
        if spent.is_empty() {
            return Err(MalformedDeviceKey);
        }
        Ok(DeviceKey {
            alg: DeviceAlg::parse(alg).ok_or(MalformedDeviceKey)?,
            bound_at: bound_at.parse().map_err(|_| MalformedDeviceKey)?,
            spent: spent.to_string(),
            jwk: jwk.unwrap_or_default().to_string(),
        })
    }
}

/// A challenge as issued (base64url): nothing else is ever recorded, so the record's
/// separators cannot appear in one.
fn is_challenge_text(jti: &str) -> bool {
    !jti.is_empty() && jti.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One answered challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spent {
    /// The challenge as issued.
    pub jti: String,
    /// Its expiry: it need not be remembered after.
    pub until: u64,
}

/// Why a challenge cannot be spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SpendError {
    /// Answered before.
    #[error("jti_used")]
    Used,
    /// `MAX_SPENT` unexpired challenges answered within five minutes: more than any
    /// browser refreshes, so someone is replaying or flooding; refused (fail closed).
    #[error("jti_used")]
    Full,
}

impl DeviceKey {
    /// A key just registered by answering `jti` (valid until `until`).
    pub fn new(alg: DeviceAlg, jwk: String, now: u64, jti: &str, until: u64) -> Self {
        let mut k = DeviceKey {
            alg,
            jwk,
            bound_at: now,
            spent: "-".into(),
        };
        if is_challenge_text(jti) {
            k.set_spent(&[Spent {
                jti: jti.to_string(),
                until,
            }]);
        }
        k
    }

    /// The challenges answered, as recorded (only `spend` writes them).
    pub fn spent(&self) -> Vec<Spent> {
        self.spent
            .split(',')
            .filter_map(|e| {
                let (jti, until) = e.split_once('~')?;
                Some(Spent {
                    jti: jti.to_string(),
                    until: until.parse().ok()?,
                })
            })
            .collect()
    }

    fn set_spent(&mut self, list: &[Spent]) {
        self.spent = if list.is_empty() {
            "-".into()
        } else {
            list.iter().map(|s| format!("{}~{}", s.jti, s.until)).collect::<Vec<_>>().join(",")
        };
    }

    /// Records `jti` as answered, or refuses it if it was. Expired entries are dropped.
    pub fn spend(&mut self, jti: &str, until: u64, now: u64) -> Result<(), SpendError> {
        if !is_challenge_text(jti) {
            return Err(SpendError::Used);
        }
        let mut list = self.spent();
        list.retain(|s| s.until > now);
        if list.iter().any(|s| s.jti == jti) {
            return Err(SpendError::Used);
        }
        if list.len() >= MAX_SPENT {
            return Err(SpendError::Full);
        }
        list.push(Spent {
            jti: jti.to_string(),
            until,
        });
        self.set_spent(&list);
        Ok(())
    }

    /// Whether `jti` was answered and is still remembered.
    pub fn is_spent(&self, jti: &str, now: u64) -> bool {
        self.spent().iter().any(|s| s.jti == jti && s.until > now)
    }

    /// What a validation reply carries: that there is a key, not the key.
    pub fn summary(&self) -> DeviceKey {
        DeviceKey {
            alg: self.alg,
            jwk: String::new(),
            bound_at: self.bound_at,
            spent: "-".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_challenge_is_spent_once() {
        let mut k = DeviceKey::new(DeviceAlg::Es256, "{}".into(), 0, "reg", 300);
        assert!(k.is_spent("reg", 10));
        assert_eq!(k.spend("reg", 300, 10), Err(SpendError::Used), "the registration's own challenge");
        assert_eq!(k.spend("a", 400, 100), Ok(()));
        assert_eq!(k.spend("a", 400, 101), Err(SpendError::Used));
        assert_eq!(k.spend("b", 500, 350), Ok(()));
        assert_eq!(k.spent().len(), 2, "reg expired and was dropped: {:?}", k.spent());
    }

    #[test]
    fn a_flood_of_challenges_is_refused_not_forgotten() {
        let mut k = DeviceKey::new(DeviceAlg::Es256, "{}".into(), 0, "reg", 300);
        for i in 1..MAX_SPENT {
            k.spend(&format!("c{i}"), 300, 1).unwrap();
        }
        assert_eq!(k.spend("one-more", 300, 1), Err(SpendError::Full));
        assert_eq!(k.spend("c1", 300, 1), Err(SpendError::Used), "nothing was forgotten to make room");
        assert_eq!(k.spend("later", 600, 300), Ok(()), "room again once they expire");
    }

    #[test]
    fn the_summary_keeps_no_key_and_the_record_reads_back() {
        let mut k = DeviceKey::new(DeviceAlg::Rs256, r#"{"kty":"RSA","n":"a b"}"#.into(), 7, "j", 9);
        k.spend("x", 20, 8).unwrap();
        assert_eq!(serde_json::to_string(&k.summary()).unwrap(), r#""RS256 7 - ""#);
        assert_eq!(
            serde_json::to_string(&k).unwrap(),
            r#""RS256 7 j~9,x~20 {\"kty\":\"RSA\",\"n\":\"a b\"}""#
        );
        let back: DeviceKey = serde_json::from_str(&serde_json::to_string(&k).unwrap()).unwrap();
        assert_eq!(back, k);
        let summary: DeviceKey = serde_json::from_str(r#""ES256 5 - ""#).unwrap();
        assert_eq!((summary.alg, summary.bound_at, summary.jwk.as_str()), (DeviceAlg::Es256, 5, ""));
        for bad in [
            r#""""#,
            r#""ES256""#,
            r#""HS256 5 - x""#,
            r#""ES256 x - x""#,
            r#""ES256 5  x""#,
            "5",
        ] {
            assert!(serde_json::from_str::<DeviceKey>(bad).is_err(), "{bad}");
        }
        assert_eq!(
            k.spend("a,b~1", 30, 9),
            Err(SpendError::Used),
            "nothing but a challenge is recorded"
        );
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(2_000))]
        #[test]
        fn a_record_reads_back_as_written(
            rsa in any::<bool>(),
            bound_at in any::<u64>(),
            jtis in prop::collection::vec(("[A-Za-z0-9_-]{1,54}", any::<u64>()), 0..5),
            jwk in "\\PC{0,80}",
        ) {
            let alg = if rsa { DeviceAlg::Rs256 } else { DeviceAlg::Es256 };
            let mut k = DeviceKey::new(alg, jwk, bound_at, "", 0);
            let list: Vec<Spent> = jtis.into_iter().map(|(jti, until)| Spent { jti, until }).collect();
            k.set_spent(&list);
            prop_assert_eq!(k.spent(), list);
            let back: DeviceKey = serde_json::from_str(&serde_json::to_string(&k).unwrap()).unwrap();
            prop_assert_eq!(back, k);
        }

        #[test]
        fn no_unexpired_challenge_is_spent_twice(ops in prop::collection::vec((0u8..40, 0u64..600), 0..200)) {
            let mut k = DeviceKey::new(DeviceAlg::Es256, String::new(), 0, "reg", 300);
            let mut now = 0;
            let mut accepted: Vec<(String, u64)> = vec![("reg".into(), 300)];
            for (id, dt) in ops {
                now += dt / 20;
                let jti = format!("c{id}");
                let until = now + 300;
                if k.spend(&jti, until, now).is_ok() {
                    prop_assert!(!accepted.iter().any(|(j, u)| *j == jti && *u > now), "{} spent twice", jti);
                    accepted.push((jti, until));
                }
                prop_assert!(k.spent().len() <= MAX_SPENT);
            }
        }
    }
}
