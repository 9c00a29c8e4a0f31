//! What a session record keeps once the browser registered a device key: the public key
//! (for later proofs) and the challenges already answered (single use). Validation replies
//! carry only the fact of the binding: the key and the spent challenges stay in storage.

use super::jwk::DeviceAlg;
use serde::{Deserialize, Serialize};

/// Spent challenges remembered per session; each is dropped once its own expiry passes
/// (after that a replay is refused as stale anyway).
pub const MAX_SPENT: usize = 32;

/// A session's device key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceKey {
    /// What the key signs with.
    pub alg: DeviceAlg,
    /// The public JWK (`jwk::DeviceJwk::json`); empty in validation replies.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jwk: String,
    /// When the browser registered it (unix seconds).
    pub bound_at: u64,
    /// Challenges answered with this key, until their expiry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spent: Vec<Spent>,
}

/// One answered challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        DeviceKey {
            alg,
            jwk,
            bound_at: now,
            spent: vec![Spent {
                jti: jti.to_string(),
                until,
            }],
        }
    }

    /// Records `jti` as answered, or refuses it if it was. Expired entries are dropped.
    pub fn spend(&mut self, jti: &str, until: u64, now: u64) -> Result<(), SpendError> {
        self.spent.retain(|s| s.until > now);
        if self.spent.iter().any(|s| s.jti == jti) {
            return Err(SpendError::Used);
        }
        if self.spent.len() >= MAX_SPENT {
            return Err(SpendError::Full);
        }
        self.spent.push(Spent {
            jti: jti.to_string(),
            until,
        });
        Ok(())
    }

    /// Whether `jti` was answered and is still remembered.
    pub fn is_spent(&self, jti: &str, now: u64) -> bool {
        self.spent.iter().any(|s| s.jti == jti && s.until > now)
    }

    /// What a validation reply carries: that there is a key, not the key.
    pub fn summary(&self) -> DeviceKey {
        DeviceKey {
            alg: self.alg,
            jwk: String::new(),
            bound_at: self.bound_at,
            spent: Vec::new(),
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
        assert_eq!(k.spent.len(), 2, "reg expired and was dropped: {:?}", k.spent);
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
    fn the_summary_keeps_no_key_and_serialises_small() {
        let mut k = DeviceKey::new(DeviceAlg::Rs256, "{\"kty\":\"RSA\"}".into(), 7, "j", 9);
        k.spend("x", 20, 8).unwrap();
        assert_eq!(serde_json::to_string(&k.summary()).unwrap(), r#"{"alg":"RS256","bound_at":7}"#);
        let back: DeviceKey = serde_json::from_str(&serde_json::to_string(&k).unwrap()).unwrap();
        assert_eq!(back, k);
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(2_000))]
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
                prop_assert!(k.spent.len() <= MAX_SPENT);
            }
        }
    }
}
