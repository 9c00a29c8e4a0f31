//! HMAC-SHA-256 keyed once. The session secrets (current first) each get HMAC's key
//! schedule (two SHA-256 compressions) and a domain prefix done when the configuration is
//! read, so a check on the request path clones a prepared state instead of keying again.
//! One type per domain (`Domain`): a session token's keys cannot check a device cookie.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::marker::PhantomData;

pub type HmacSha256 = Hmac<Sha256>;

/// What a set of keys tags: the prefix every tag starts with, and the name `Debug` prints.
pub trait Domain {
    const PREFIX: &'static [u8];
    const NAME: &'static str;
}

/// The secrets, current first, keyed for the domain `D`.
pub struct KeyedMacs<D: Domain>(Vec<HmacSha256>, PhantomData<D>);

impl<D: Domain> KeyedMacs<D> {
    pub fn new(keys: &[&[u8]]) -> Self {
        KeyedMacs(keys.iter().map(|k| keyed(k, D::PREFIX)).collect(), PhantomData)
    }

    /// Each key's prepared state, current first: clone one, then add the message.
    pub fn iter(&self) -> impl Iterator<Item = &HmacSha256> {
        self.0.iter()
    }
}

// By hand: a derive would ask `D: Clone`, and `D` is only a marker.
impl<D: Domain> Clone for KeyedMacs<D> {
    fn clone(&self) -> Self {
        KeyedMacs(self.0.clone(), PhantomData)
    }
}

impl<D: Domain> std::fmt::Debug for KeyedMacs<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({} keys, redacted)", D::NAME, self.0.len())
    }
}

/// HMAC-SHA-256 under `key`, with `prefix` absorbed.
pub fn keyed(key: &[u8], prefix: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so `new_from_slice` never fails; the fallback
    // only exists so that no panic path is compiled in.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
    mac.update(prefix);
    mac
}
