//! Device Bound Session Credentials in the session record: binding a key, spending a
//! refresh's challenge, auditing a refused proof. The gate verified (or will verify) the
//! signature in WebCrypto; here only what must be atomic with the record: the session is
//! live, the key is its own, each challenge is answered once. A refused proof leaves the
//! session as it was (but for its audit event).

use super::{Call, Step};
use crate::core::audit::EventKind;
use crate::core::dbsc::binding::DeviceKey;
use crate::core::dbsc::jwk::DeviceAlg;
use crate::core::dbsc::proof::ProofError;
use crate::core::session::Client;
use crate::store::protocol::Response;
use crate::store::Store;

/// Longest detail written into an audit event.
const MAX_DETAIL: usize = 64;

impl<S: Store> Call<'_, S> {
    /// Stores the device key of a live session that has none yet.
    pub(super) fn device_bind(
        &mut self,
        hash: &str,
        alg: DeviceAlg,
        jwk: String,
        jti: &str,
        until: u64,
        client: &Client,
    ) -> Step<Response> {
        let mut s = self.live(hash)?;
        self.unless_rebound(hash, &s, client)?;
        if let Some(d) = &s.device {
            let e = if d.is_spent(jti, self.now) {
                ProofError::JtiUsed
            } else {
                ProofError::AlreadyBound
            };
            self.events
                .push(self.event(EventKind::DeviceProofFailed, &s, Some(client)).reason(e.as_str()));
            return Ok(Response::Invalid { detail: e.as_str().into() });
        }
        s.device = Some(DeviceKey::new(alg, jwk, self.now, jti, until));
        // Not activity: the stored `last_seen` only catches up with what memory holds.
        s.last_seen = self.engine.last_seen(hash, &s);
        self.engine.put(hash, &s)?;
        self.events
            .push(self.event(EventKind::DeviceBound, &s, Some(client)).reason(alg.as_str()));
        Ok(Self::done(s))
    }

    /// Spends a refresh's challenge on the live, bound session and hands its key back.
    pub(super) fn device_proof(&mut self, hash: &str, handle: Option<&str>, jti: &str, until: u64, client: &Client) -> Step<Response> {
        let mut s = self.live(hash)?;
        self.unless_rebound(hash, &s, client)?;
        let refused = if handle.is_some_and(|h| h != s.handle) {
            Some(ProofError::SessionIdentifier)
        } else {
            match s.device.as_mut() {
                None => Some(ProofError::NotBound),
                Some(d) => d.spend(jti, until, self.now).err().map(|_| ProofError::JtiUsed),
            }
        };
        if let Some(e) = refused {
            self.events
                .push(self.event(EventKind::DeviceProofFailed, &s, Some(client)).reason(e.as_str()));
            return Ok(Response::Invalid { detail: e.as_str().into() });
        }
        s.last_seen = self.engine.last_seen(hash, &s);
        self.engine.put(hash, &s)?;
        Ok(Self::done(s))
    }

    /// A proof the gate refused: one `device_proof_failed` event on a live session.
    pub(super) fn device_proof_failed(&mut self, hash: &str, detail: &str, client: &Client) -> Step<Response> {
        let s = self.live(hash)?;
        let detail: String = detail.chars().take(MAX_DETAIL).collect();
        self.events
            .push(self.event(EventKind::DeviceProofFailed, &s, Some(client)).reason(detail));
        Ok(Response::Done { count: 1, session: None })
    }
}
