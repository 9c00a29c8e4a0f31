//! The device-binding calls: bind once, spend each challenge once, keep the binding
//! through regeneration, never slide, never touch a refused session.

// Test code only, in a `#[cfg(test)] mod tests` as every test module of the crate: the
// file itself shows that its `unwrap()`s never reach a request path.
#[cfg(test)]
mod tests {

    use crate::core::config::BindMode;
    use crate::core::dbsc::jwk::DeviceAlg;
    use crate::core::session::fixtures::{client, session, TIMEOUTS as T};
    use crate::core::session::Client;
    use crate::store::engine::*;
    use crate::store::memory::MemoryStore;
    use proptest::prelude::*;

    fn engine() -> Engine<MemoryStore> {
        Engine::new(
            MemoryStore::default(),
            Policy {
                timeouts: T,
                bind_ip: BindMode::Flag,
                bind_ua: BindMode::Flag,
                max_sessions: 0,
            },
        )
    }

    fn create(e: &Engine<MemoryStore>, hash: &str, handle: &str, now: u64) {
        let msg = Request::Create {
            hash: hash.into(),
            session: session(handle, now),
            replaces: None,
            client: client(),
        };
        e.handle(msg, now).unwrap();
    }

    fn bind(e: &Engine<MemoryStore>, hash: &str, jti: &str, now: u64) -> Outcome {
        let msg = Request::DeviceBind {
            hash: hash.into(),
            alg: DeviceAlg::Es256,
            jwk: r#"{"kty":"EC"}"#.into(),
            jti: jti.into(),
            jti_until: now + 300,
            client: client(),
        };
        e.handle(msg, now).unwrap()
    }

    fn proof(e: &Engine<MemoryStore>, hash: &str, handle: Option<&str>, jti: &str, now: u64) -> Outcome {
        let msg = Request::DeviceProof {
            hash: hash.into(),
            handle: handle.map(str::to_string),
            jti: jti.into(),
            jti_until: now + 300,
            client: client(),
        };
        e.handle(msg, now).unwrap()
    }

    fn invalid(o: &Outcome) -> Option<&str> {
        match &o.response {
            Response::Invalid { detail } => Some(detail),
            _ => None,
        }
    }

    fn stored(e: &Engine<MemoryStore>, hash: &str) -> Session {
        e.store.get(hash).unwrap().unwrap()
    }

    #[test]
    fn a_session_binds_once_and_audits_it() {
        let e = engine();
        create(&e, "h1", "a", 1000);
        let o = bind(&e, "h1", "reg", 1001);
        assert!(matches!(&o.response, Response::Done { session: Some(s), .. } if s.is_device_bound()));
        assert_eq!(o.events.len(), 1);
        assert_eq!(o.events[0].event, "device_bound");
        assert_eq!(o.events[0].reason.as_deref(), Some("ES256"));
        assert_eq!(stored(&e, "h1").device.unwrap().jwk, r#"{"kty":"EC"}"#);
        let replay = bind(&e, "h1", "reg", 1002);
        assert_eq!(invalid(&replay), Some("jti_used"));
        let again = bind(&e, "h1", "other", 1002);
        assert_eq!(invalid(&again), Some("already_bound"));
        for (o, why) in [(&replay, "jti_used"), (&again, "already_bound")] {
            assert_eq!(o.events.len(), 1);
            assert_eq!(o.events[0].event, "device_proof_failed");
            assert_eq!(o.events[0].reason.as_deref(), Some(why));
        }
        assert_eq!(stored(&e, "h1").device.unwrap().jwk, r#"{"kty":"EC"}"#, "the first key stays");
    }

    #[test]
    fn a_validation_says_bound_without_the_key() {
        let e = engine();
        create(&e, "h1", "a", 1000);
        bind(&e, "h1", "reg", 1000);
        let r = e
            .handle(
                Request::Validate {
                    hash: "h1".into(),
                    client: client(),
                    slide: false,
                },
                1001,
            )
            .unwrap();
        let Response::Valid { session, .. } = r.response else {
            panic!("expected Valid");
        };
        let d = session.device.expect("bound");
        assert!(d.jwk.is_empty() && d.spent().is_empty());
    }

    #[test]
    fn each_refresh_challenge_is_spent_once_and_hands_back_the_key() {
        let e = engine();
        create(&e, "h1", "a", 1000);
        bind(&e, "h1", "reg", 1000);
        let o = proof(&e, "h1", Some("a"), "c1", 1010);
        match &o.response {
            Response::Done { session: Some(s), .. } => assert_eq!(s.device.as_ref().unwrap().jwk, r#"{"kty":"EC"}"#),
            other => panic!("{other:?}"),
        }
        assert!(o.events.is_empty());
        let replay = proof(&e, "h1", Some("a"), "c1", 1011);
        assert_eq!(invalid(&replay), Some("jti_used"));
        assert_eq!(replay.events[0].event, "device_proof_failed");
        assert_eq!(replay.events[0].reason.as_deref(), Some("jti_used"));
        assert_eq!(invalid(&proof(&e, "h1", Some("b"), "c2", 1012)), Some("session_identifier"));
        assert!(matches!(proof(&e, "h1", None, "c3", 1013).response, Response::Done { .. }));
    }

    #[test]
    fn refresh_does_not_slide_and_an_unbound_or_ended_session_says_so() {
        let e = engine();
        create(&e, "h1", "a", 1000);
        assert_eq!(invalid(&proof(&e, "h1", Some("a"), "c", 1001)), Some("not_bound"));
        bind(&e, "h1", "reg", 1000);
        let before = stored(&e, "h1").last_seen;
        proof(&e, "h1", Some("a"), "c", 1000 + T.idle - 1);
        assert_eq!(stored(&e, "h1").last_seen, before, "the idle timer did not move");
        let late = proof(&e, "h1", Some("a"), "c2", 1000 + T.idle);
        assert!(matches!(
            late.response,
            Response::Rejected {
                reason: Reason::IdleTimeout,
                ..
            }
        ));
        assert!(matches!(proof(&e, "nope", None, "c", 1000).response, Response::Rejected { .. }));
    }

    #[test]
    fn the_binding_survives_regeneration_and_lists_show_it() {
        let e = engine();
        create(&e, "h1", "a", 1000);
        create(&e, "h2", "b", 1000);
        bind(&e, "h1", "reg", 1000);
        let msg = Request::Regenerate {
            old_hash: "h1".into(),
            new_hash: "h1b".into(),
            reason: Regeneration::Elevation,
            roles: None,
            elevate: true,
            client: client(),
        };
        e.handle(msg, 1005).unwrap();
        assert!(stored(&e, "h1b").is_device_bound());
        assert!(matches!(proof(&e, "h1b", Some("a"), "c", 1006).response, Response::Done { .. }));
        let Response::Sessions { sessions } = e.handle(Request::List { caller: None }, 1007).unwrap().response else {
            panic!("expected Sessions");
        };
        let bound: Vec<(&str, bool)> = sessions.iter().map(|s| (s.id.as_str(), s.device_bound)).collect();
        assert!(bound.contains(&("a", true)) && bound.contains(&("b", false)), "{bound:?}");
    }

    #[test]
    fn a_refused_proof_is_audited_on_a_live_session_only() {
        let e = engine();
        create(&e, "h1", "a", 1000);
        let o = e
            .handle(
                Request::DeviceProofFailed {
                    hash: "h1".into(),
                    detail: "signature".into(),
                    client: client(),
                },
                1001,
            )
            .unwrap();
        assert_eq!(o.events[0].event, "device_proof_failed");
        assert_eq!(o.events[0].session.as_deref(), Some("a"));
        let gone = e
            .handle(
                Request::DeviceProofFailed {
                    hash: "zz".into(),
                    detail: "signature".into(),
                    client: client(),
                },
                1001,
            )
            .unwrap();
        assert!(gone.events.is_empty());
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(500))]
        /// Whatever the order of proofs within a challenge's life, each is accepted at most once.
        #[test]
        fn no_challenge_is_accepted_twice(ops in prop::collection::vec((0u8..12, 0u64..4), 1..60)) {
            let e = engine();
            create(&e, "h1", "a", 1000);
            bind(&e, "h1", "reg", 1000);
            let mut now = 1000;
            let mut accepted: Vec<String> = vec![];
            for (id, dt) in ops {
                now += dt;
                let jti = format!("c{id}");
                let o = proof(&e, "h1", Some("a"), &jti, now);
                if matches!(o.response, Response::Done { .. }) {
                    prop_assert!(!accepted.contains(&jti), "{} accepted twice", jti);
                    accepted.push(jti);
                }
            }
        }
    }

    #[test]
    fn under_strict_binding_a_registration_or_refresh_from_another_network_ends_the_session() {
        let e = engine();
        let mut p = e.policy();
        p.bind_ip = BindMode::Reject;
        e.set_policy(p);
        let elsewhere = Client {
            ip: "192.0.2.99".into(),
            ..client()
        };
        let rejected = |o: &Outcome| {
            matches!(
                o.response,
                Response::Rejected {
                    reason: Reason::BindingMismatch,
                    ..
                }
            )
        };
        // A registration from elsewhere binds no key: the session ends, audited as revoked.
        create(&e, "h1", "a", 1000);
        let msg = |hash: &str, jti: &str| Request::DeviceBind {
            hash: hash.into(),
            alg: DeviceAlg::Es256,
            jwk: r#"{"kty":"EC"}"#.into(),
            jti: jti.into(),
            jti_until: 1300,
            client: elsewhere.clone(),
        };
        let o = e.handle(msg("h1", "reg"), 1001).unwrap();
        assert!(rejected(&o), "{:?}", o.response);
        assert_eq!(o.events[0].event, "revoked");
        assert_eq!(o.events[0].reason.as_deref(), Some("binding"));
        assert!(e.store.get("h1").unwrap().is_none(), "the session is gone");
        // A refresh from elsewhere spends nothing and ends the bound session the same way.
        create(&e, "h2", "b", 1000);
        bind(&e, "h2", "reg", 1000);
        let refresh = Request::DeviceProof {
            hash: "h2".into(),
            handle: Some("b".into()),
            jti: "c1".into(),
            jti_until: 1300,
            client: elsewhere,
        };
        assert!(rejected(&e.handle(refresh, 1002).unwrap()));
        assert!(e.store.get("h2").unwrap().is_none());
        // From the login's own network both work, as before.
        create(&e, "h3", "c", 1000);
        assert!(matches!(bind(&e, "h3", "reg", 1003).response, Response::Done { .. }));
        assert!(matches!(proof(&e, "h3", Some("c"), "c1", 1004).response, Response::Done { .. }));
    }
}
