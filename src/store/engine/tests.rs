use super::super::memory::MemoryStore;
use super::*;
use crate::core::config::BindMode;
use crate::core::session::fixtures::{client, session, TIMEOUTS as T};
use serde_json::json;

/// The device-binding calls (DBSC). Test-only like this module; the attribute says so
/// where the module is declared, as the engine's `mod tests` does.
#[cfg(test)]
mod device;

fn engine(bind: BindMode) -> Engine<MemoryStore> {
    limited(bind, 0)
}

fn limited(bind: BindMode, max_sessions: u32) -> Engine<MemoryStore> {
    Engine::new(
        MemoryStore::default(),
        Policy {
            timeouts: T,
            bind_ip: bind,
            bind_ua: bind,
            max_sessions,
        },
    )
}

fn create(e: &Engine<MemoryStore>, hash: &str, handle: &str, now: u64) {
    let r = e
        .handle(
            Request::Create {
                hash: hash.into(),
                session: session(handle, now),
                replaces: None,
                client: client(),
            },
            now,
        )
        .unwrap();
    assert!(matches!(r.response, Response::Done { .. }));
}

/// A sliding validation, with its audit events.
fn validated(e: &Engine<MemoryStore>, hash: &str, c: Client, now: u64) -> Outcome {
    e.handle(
        Request::Validate {
            hash: hash.into(),
            client: c,
            slide: true,
        },
        now,
    )
    .unwrap()
}

fn validate(e: &Engine<MemoryStore>, hash: &str, c: Client, now: u64) -> Response {
    validated(e, hash, c, now).response
}

fn reason(r: Response) -> Option<Reason> {
    match r {
        Response::Rejected { reason, .. } => Some(reason),
        _ => None,
    }
}

#[test]
fn a_valid_reply_leaves_the_client_fields_in_the_object() {
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 1000);
    let moved = Client {
        ip: "198.51.100.7".into(),
        ..client()
    };
    let moved_again = moved.clone();
    let Response::Valid { session, .. } = validate(&e, "h1", moved, 1010) else {
        panic!("expected Valid");
    };
    assert_eq!((session.handle.as_str(), session.user.as_deref()), ("a", Some("alice")));
    for f in [&session.login_ip, &session.login_ua, &session.last_ip, &session.last_ua] {
        assert!(f.is_empty(), "client field sent to the gate: {f}");
    }
    let json = serde_json::to_string(&session).unwrap();
    assert!(!json.contains("_ip") && !json.contains("_ua"), "{json}");
    // Storage still has them: the binding is checked against them next time, and a
    // second request from the new address writes no second binding_changed event.
    let stored = e.store.get("h1").unwrap().unwrap();
    assert_eq!((stored.login_ip.as_str(), stored.last_ip.as_str()), ("203.0.113.5", "198.51.100.7"));
    assert_eq!(stored.login_ua, "UA/1");
    let again = validated(&e, "h1", moved_again, 1011);
    assert!(again.events.is_empty(), "{:?}", again.events);
}

#[test]
fn a_login_past_the_session_limit_ends_the_least_recently_used() {
    let e = limited(BindMode::Flag, 2);
    create(&e, "h1", "a", 1000);
    create(&e, "h2", "b", 1010);
    // h1 is used after h2 was created: h2 is now the least recently used.
    assert!(matches!(validate(&e, "h1", client(), 1020), Response::Valid { .. }));
    let out = e
        .handle(
            Request::Create {
                hash: "h3".into(),
                session: session("c", 1030),
                replaces: None,
                client: client(),
            },
            1030,
        )
        .unwrap();
    assert_eq!(reason(validate(&e, "h2", client(), 1031)), Some(Reason::Revoked));
    assert!(matches!(validate(&e, "h1", client(), 1031), Response::Valid { .. }));
    assert!(matches!(validate(&e, "h3", client(), 1031), Response::Valid { .. }));
    let ended: Vec<_> = out.events.iter().filter(|ev| ev.event == "revoked").collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].session.as_deref(), Some("b"));
    assert_eq!(ended[0].reason.as_deref(), Some(EndedBy::SessionLimit.as_str()));
}

#[test]
fn expired_sessions_do_not_count_toward_the_limit_and_no_limit_means_none() {
    let e = limited(BindMode::Flag, 2);
    create(&e, "h1", "a", 1000);
    create(&e, "h2", "b", 1000 + T.idle + 10);
    // h1 idled out before the third login: only h2 is live, so nothing is ended.
    create(&e, "h3", "c", 1000 + T.idle + 20);
    assert!(matches!(validate(&e, "h2", client(), 1000 + T.idle + 21), Response::Valid { .. }));
    assert!(matches!(validate(&e, "h3", client(), 1000 + T.idle + 21), Response::Valid { .. }));

    let free = engine(BindMode::Flag);
    for i in 0..20u64 {
        create(&free, &format!("h{i}"), &format!("s{i}"), 1000 + i);
    }
    assert!(matches!(validate(&free, "h0", client(), 1030), Response::Valid { .. }));
}

#[test]
fn slides_with_at_most_one_write_per_interval() {
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 1000);
    let writes = e.store.writes();
    for t in 1001..1060 {
        assert!(matches!(validate(&e, "h1", client(), t), Response::Valid { .. }));
    }
    assert_eq!(e.store.writes(), writes, "no writes inside the slide interval");
    validate(&e, "h1", client(), 1060);
    assert_eq!(e.store.writes(), writes + 1);
    // Idle timeout counts from the last activity, even the unwritten one (1100).
    validate(&e, "h1", client(), 1100);
    assert_eq!(e.store.writes(), writes + 1);
    assert!(matches!(validate(&e, "h1", client(), 1100 + 1799), Response::Valid { .. }));
    assert_eq!(reason(validate(&e, "h1", client(), 2899 + 1800)), Some(Reason::IdleTimeout));
    assert_eq!(
        reason(validate(&e, "h1", client(), 5000)),
        Some(Reason::IdleTimeout),
        "tombstone keeps the reason"
    );
}

#[test]
fn absolute_timeout_wins_over_activity() {
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 0);
    let mut t = 0;
    while t < 86_400 - 100 {
        t += 1000;
        validate(&e, "h1", client(), t);
    }
    assert_eq!(reason(validate(&e, "h1", client(), 86_400)), Some(Reason::AbsoluteTimeout));
}

#[test]
fn sweep_writes_timeout_events_and_schedules_the_next_run() {
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 0);
    create(&e, "h2", "b", 500);
    let (events, next) = e.sweep(1800).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "idle_timeout");
    assert_eq!(events[0].session.as_deref(), Some("a"));
    assert_eq!(next, Some(2300));
    assert_eq!(reason(validate(&e, "h1", client(), 1801)), Some(Reason::IdleTimeout));
    // A session active only in memory is not killed by the alarm.
    validate(&e, "h2", client(), 520);
    let (events, next) = e.sweep(2300).unwrap();
    assert!(events.is_empty());
    assert_eq!(next, Some(2320));
}

#[test]
fn regenerate_kills_the_old_id_and_keeps_the_data() {
    let e = engine(BindMode::Flag);
    create(&e, "old", "a", 0);
    e.handle(
        Request::SetData {
            hash: "old".into(),
            data: json!({"cart": [1]}).as_object().cloned().unwrap(),
            max_bytes: 100,
        },
        10,
    )
    .unwrap();
    let r = e
        .handle(
            Request::Regenerate {
                old_hash: "old".into(),
                new_hash: "new".into(),
                reason: Regeneration::PermissionChange,
                roles: Some(vec!["admin".into()]),
                elevate: false,
                client: client(),
            },
            20,
        )
        .unwrap();
    assert_eq!(r.events[0].event, "session_regenerated");
    assert_eq!(reason(validate(&e, "old", client(), 21)), Some(Reason::Revoked));
    match validate(&e, "new", client(), 21) {
        Response::Valid { session, .. } => {
            assert_eq!(session.roles, vec!["admin".to_string()]);
            assert_eq!(session.data["cart"], json!([1]));
            assert_eq!(session.handle, "a");
        }
        other => panic!("{other:?}"),
    }
    // A second regeneration from the dead ID cannot bring it back.
    let again = e
        .handle(
            Request::Regenerate {
                old_hash: "old".into(),
                new_hash: "x".into(),
                reason: Regeneration::PasswordChange,
                roles: None,
                elevate: false,
                client: client(),
            },
            22,
        )
        .unwrap();
    assert_eq!(reason(again.response), Some(Reason::Revoked));
}

#[test]
fn binding_flags_once_per_change_or_rejects() {
    let e = engine(BindMode::Flag);
    create(&e, "h", "a", 0);
    let moved = Client {
        ip: "198.51.100.9".into(),
        ..client()
    };
    let r = validated(&e, "h", moved.clone(), 1);
    assert_eq!(r.events.len(), 1);
    assert!(matches!(r.response, Response::Valid { binding, .. } if binding == crate::core::session::BindingChange::Ip));
    let r = validated(&e, "h", moved.clone(), 2);
    assert!(r.events.is_empty(), "no second event for the same change");
    assert!(matches!(r.response, Response::Valid { ref session, .. } if session.flagged));

    let e = engine(BindMode::Reject);
    create(&e, "h", "a", 0);
    assert_eq!(reason(validate(&e, "h", moved, 1)), Some(Reason::BindingMismatch));
    assert_eq!(reason(validate(&e, "h", client(), 2)), Some(Reason::Revoked));
}

#[test]
fn logout_others_and_all() {
    let e = engine(BindMode::Flag);
    for (h, n) in [("h1", "a"), ("h2", "b"), ("h3", "c")] {
        create(&e, h, n, 0);
    }
    let r = e
        .handle(
            Request::DestroyAll {
                caller: Some("h1".into()),
                except: Some("h1".into()),
                by: EndedBy::LogoutOthers,
                client: client(),
            },
            5,
        )
        .unwrap();
    assert!(matches!(r.response, Response::Done { count: 2, .. }));
    assert!(matches!(validate(&e, "h1", client(), 6), Response::Valid { .. }));
    assert_eq!(reason(validate(&e, "h2", client(), 6)), Some(Reason::Revoked));
    e.handle(
        Request::DestroyAll {
            caller: None,
            except: None,
            by: EndedBy::Admin,
            client: client(),
        },
        7,
    )
    .unwrap();
    assert_eq!(reason(validate(&e, "h1", client(), 8)), Some(Reason::Revoked));
}

#[test]
fn list_and_destroy_by_handle() {
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 0);
    create(&e, "h2", "b", 0);
    match e.handle(Request::List { caller: Some("h1".into()) }, 1).unwrap().response {
        Response::Sessions { sessions } => {
            assert_eq!(sessions.len(), 2);
            assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
        }
        other => panic!("{other:?}"),
    }
    let r = e
        .handle(
            Request::DestroyHandle {
                caller: Some("h1".into()),
                handle: "zz".into(),
                by: EndedBy::User,
                client: client(),
            },
            2,
        )
        .unwrap();
    assert_eq!(r.response, Response::NotFound);
    let r = e
        .handle(
            Request::DestroyHandle {
                caller: Some("h1".into()),
                handle: "b".into(),
                by: EndedBy::User,
                client: client(),
            },
            2,
        )
        .unwrap();
    assert!(matches!(r.response, Response::Done { count: 1, .. }));
    assert_eq!(reason(validate(&e, "h2", client(), 3)), Some(Reason::Revoked));
}

#[test]
fn set_data_is_bounded_and_changes_nothing_when_too_big() {
    let e = engine(BindMode::Flag);
    create(&e, "h", "a", 0);
    let big = json!({"x": "y".repeat(200)}).as_object().cloned().unwrap();
    let r = e
        .handle(
            Request::SetData {
                hash: "h".into(),
                data: big,
                max_bytes: 100,
            },
            1,
        )
        .unwrap();
    assert!(matches!(r.response, Response::Invalid { .. }));
    match validate(&e, "h", client(), 2) {
        Response::Valid { session, .. } => assert!(session.data.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn audit_pages_newest_first() {
    let e = engine(BindMode::Flag);
    for i in 0..5 {
        create(&e, &format!("h{i}"), &format!("s{i}"), i);
    }
    let Response::Events { events, next_before } = e.handle(Request::Audit { limit: 2, before: None }, 10).unwrap().response else {
        panic!()
    };
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event.session.as_deref(), Some("s4"));
    let Response::Events { events, .. } = e
        .handle(
            Request::Audit {
                limit: 10,
                before: next_before,
            },
            10,
        )
        .unwrap()
        .response
    else {
        panic!()
    };
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].event.session.as_deref(), Some("s2"));
}

#[test]
fn http_then_https_requires_a_new_id() {
    let e = engine(BindMode::Flag);
    create(&e, "h", "a", 0);
    let http = Client { https: false, ..client() };
    assert!(matches!(
        validate(&e, "h", http, 1),
        Response::Valid {
            new_id_required: false,
            ..
        }
    ));
    assert!(matches!(
        validate(&e, "h", client(), 2),
        Response::Valid { new_id_required: true, .. }
    ));
}

fn create_idp(e: &Engine<MemoryStore>, hash: &str, handle: &str, sub: &str, sid: Option<&str>, now: u64) {
    let mut s = session(handle, now);
    s.idp = Some(crate::core::session::IdpLink {
        iss: "https://id".into(),
        sub: sub.into(),
        sid: sid.map(str::to_string),
        id_token: "header.payload.sig".into(),
    });
    let r = e
        .handle(
            Request::Create {
                hash: hash.into(),
                session: s,
                replaces: None,
                client: client(),
            },
            now,
        )
        .unwrap();
    assert!(matches!(r.response, Response::Done { .. }));
}

fn destroy_idp(e: &Engine<MemoryStore>, sub: Option<&str>, sid: Option<&str>, now: u64) -> Outcome {
    e.handle(
        Request::DestroyIdp {
            iss: "https://id".into(),
            sub: sub.map(str::to_string),
            sid: sid.map(str::to_string),
            by: EndedBy::BackchannelLogout,
            client: client(),
        },
        now,
    )
    .unwrap()
}

#[test]
fn back_channel_logout_ends_the_sessions_it_names_and_no_other() {
    let e = engine(BindMode::Off);
    create_idp(&e, "h1", "a", "u1", Some("s1"), 1000);
    create_idp(&e, "h2", "b", "u1", Some("s2"), 1000);
    create(&e, "h3", "c", 1000);
    let out = destroy_idp(&e, None, Some("s1"), 1001);
    assert!(matches!(out.response, Response::Done { count: 1, .. }));
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].event, EventKind::Revoked);
    assert_eq!(out.events[0].reason.as_deref(), Some("backchannel_logout"));
    assert_eq!(reason(validate(&e, "h1", client(), 1002)), Some(Reason::Revoked));
    assert!(matches!(validate(&e, "h2", client(), 1002), Response::Valid { .. }));
    // sid of one session with another subject: nothing.
    assert!(matches!(
        destroy_idp(&e, Some("u9"), Some("s2"), 1003).response,
        Response::Done { count: 0, .. }
    ));
    // sub alone: every session of that subject, never the origin-login one.
    assert!(matches!(
        destroy_idp(&e, Some("u1"), None, 1004).response,
        Response::Done { count: 1, .. }
    ));
    assert_eq!(reason(validate(&e, "h2", client(), 1005)), Some(Reason::Revoked));
    assert!(matches!(validate(&e, "h3", client(), 1005), Response::Valid { .. }));
}

#[test]
fn the_id_token_stays_out_of_validation_replies_and_comes_back_at_logout() {
    let e = engine(BindMode::Off);
    create_idp(&e, "h1", "a", "u1", Some("s1"), 1000);
    let Response::Valid { session, .. } = validate(&e, "h1", client(), 1001) else {
        panic!("expected Valid");
    };
    let link = session.idp.unwrap();
    assert_eq!((link.sub.as_str(), link.id_token.as_str()), ("u1", ""));
    let out = e
        .handle(
            Request::Destroy {
                hash: "h1".into(),
                by: EndedBy::User,
                client: client(),
            },
            1002,
        )
        .unwrap();
    let Response::Done { session: Some(s), .. } = out.response else {
        panic!("expected the ended session back");
    };
    assert_eq!(s.idp.unwrap().id_token, "header.payload.sig");
    assert!(s.login_ip.is_empty() && s.last_ua.is_empty());
}

fn touch(e: &Engine<MemoryStore>, handle: &str, slide: bool, now: u64) -> Response {
    e.handle(
        Request::Touch {
            handle: handle.into(),
            slide,
            watches_max: None,
        },
        now,
    )
    .unwrap()
    .response
}

fn ended(handle: &str, reason: Reason) -> ConnectionChange {
    ConnectionChange::Ended {
        handle: handle.into(),
        user: Some("alice".into()),
        reason,
    }
}

#[test]
fn every_end_of_a_session_is_reported_for_its_connections_and_regenerations_are_not() {
    let e = limited(BindMode::Reject, 2);
    create(&e, "h1", "a", 1000);
    create(&e, "h2", "b", 1000);
    assert_eq!(e.take_connection_changes(), vec![], "creating is no end");
    // Regeneration keeps the handle: nothing for the connections.
    let regen = |old: &str, new: &str| Request::Regenerate {
        old_hash: old.into(),
        new_hash: new.into(),
        reason: Regeneration::PasswordChange,
        roles: None,
        elevate: true,
        client: client(),
    };
    e.handle(regen("h1", "h1b"), 1001).unwrap();
    assert_eq!(e.take_connection_changes(), vec![]);
    // A login over a session in the same object: its connections follow the new handle.
    e.handle(
        Request::Create {
            hash: "h1c".into(),
            session: session("c", 1002),
            replaces: Some("h1b".into()),
            client: client(),
        },
        1002,
    )
    .unwrap();
    assert_eq!(
        e.take_connection_changes(),
        vec![ConnectionChange::Moved {
            from: "a".into(),
            to: "c".into()
        }]
    );
    // Logout.
    e.handle(
        Request::Destroy {
            hash: "h1c".into(),
            by: EndedBy::User,
            client: client(),
        },
        1003,
    )
    .unwrap();
    assert_eq!(e.take_connection_changes(), vec![ended("c", Reason::Revoked)]);
    // Binding rejection: the connections are told binding_mismatch.
    let elsewhere = Client {
        ip: "198.51.100.7".into(),
        ..client()
    };
    assert_eq!(reason(validate(&e, "h2", elsewhere, 1004)), Some(Reason::BindingMismatch));
    assert_eq!(e.take_connection_changes(), vec![ended("b", Reason::BindingMismatch)]);
    // Session limit: the third login ends the least recently used.
    create(&e, "h3", "d", 1005);
    create(&e, "h4", "f", 1006);
    create(&e, "h5", "g", 1007);
    assert_eq!(e.take_connection_changes(), vec![ended("d", Reason::Revoked)]);
    // Revocation by handle, and logout_all.
    e.handle(
        Request::DestroyHandle {
            caller: None,
            handle: "f".into(),
            by: EndedBy::Admin,
            client: client(),
        },
        1008,
    )
    .unwrap();
    assert_eq!(e.take_connection_changes(), vec![ended("f", Reason::Revoked)]);
    e.handle(
        Request::DestroyAll {
            caller: None,
            except: None,
            by: EndedBy::LogoutAll,
            client: client(),
        },
        1009,
    )
    .unwrap();
    assert_eq!(e.take_connection_changes(), vec![ended("g", Reason::Revoked)]);
    assert_eq!(e.take_connection_changes(), vec![], "taken once");
}

#[test]
fn timeouts_and_a_takeover_end_connections_too() {
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 1000);
    create(&e, "h2", "b", 1000);
    // The alarm's sweep (idle: 1800 s).
    e.sweep(1000 + 1800).unwrap();
    let mut changes = e.take_connection_changes();
    changes.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(changes, vec![ended("a", Reason::IdleTimeout), ended("b", Reason::IdleTimeout)]);
    // Found expired on a request, before any sweep.
    create(&e, "h3", "c", 2000);
    assert_eq!(reason(validate(&e, "h3", client(), 2000 + 1800)), Some(Reason::IdleTimeout));
    assert_eq!(e.take_connection_changes(), vec![ended("c", Reason::IdleTimeout)]);
    // A login in another object takes the session over: it ends here.
    create(&e, "h4", "d", 4000);
    e.handle(
        Request::Take {
            hash: "h4".into(),
            client: client(),
        },
        4001,
    )
    .unwrap();
    assert_eq!(e.take_connection_changes(), vec![ended("d", Reason::Revoked)]);
}

#[test]
fn touch_checks_by_handle_and_slides_with_the_write_bound() {
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 1000);
    let writes = e.store.writes();
    assert!(matches!(touch(&e, "a", false, 1010), Response::Done { .. }));
    for t in 1011..1060 {
        assert!(matches!(touch(&e, "a", true, t), Response::Done { .. }));
    }
    assert_eq!(e.store.writes(), writes, "no write inside the slide interval");
    touch(&e, "a", true, 1060);
    assert_eq!(e.store.writes(), writes + 1, "one write per slide interval");
    // Without slide, a touch is no activity: the session ends 1800 s after the last one.
    assert!(matches!(touch(&e, "a", false, 1060 + 1799), Response::Done { .. }));
    assert_eq!(reason(touch(&e, "a", false, 1060 + 1800)), Some(Reason::IdleTimeout));
    assert_eq!(e.take_connection_changes(), vec![ended("a", Reason::IdleTimeout)]);
    assert_eq!(reason(touch(&e, "nobody", false, 3000)), Some(Reason::Revoked));
}

/// Found by cargo-mutants: nothing noticed when a request that writes events stopped
/// trimming the audit log (only the alarm's sweep trimmed it in the tests).
#[test]
fn a_request_that_writes_events_trims_the_audit_log_to_its_age() {
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 0);
    assert_eq!(e.store.audit_page(10, None).unwrap().len(), 1);
    // 30 days and a second later, another login: its event is written, the first aged out.
    create(&e, "h2", "b", crate::core::audit::MAX_AGE + 1);
    let left = e.store.audit_page(10, None).unwrap();
    assert_eq!(left.iter().map(|(_, ev)| ev.session.as_deref()).collect::<Vec<_>>(), [Some("b")]);
}

/// Found by cargo-mutants: the sweep's events were only ever idle timeouts, so reporting
/// an absolute timeout as an idle one went unseen.
#[test]
fn the_sweep_reports_an_absolute_timeout_as_such() {
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 0);
    let mut t = 0;
    while t < 86_400 - 1000 {
        t += 1000;
        assert!(matches!(validate(&e, "h1", client(), t), Response::Valid { .. }));
    }
    let (events, _) = e.sweep(86_400).unwrap();
    assert_eq!(events.iter().map(|ev| ev.event).collect::<Vec<_>>(), ["absolute_timeout"]);
    assert_eq!(reason(validate(&e, "h1", client(), 86_401)), Some(Reason::AbsoluteTimeout));
}

/// Found by cargo-mutants: no test logged in over an existing session, so a login that
/// left the session it replaces alive went unseen.
#[test]
fn a_login_replaces_the_session_it_supersedes_and_says_so() {
    let e = engine(BindMode::Flag);
    create(&e, "guest", "g", 0);
    let login = |hash: &str, replaces: &str, now| {
        e.handle(
            Request::Create {
                hash: hash.into(),
                session: session("n", now),
                replaces: Some(replaces.into()),
                client: client(),
            },
            now,
        )
        .unwrap()
    };
    let out = login("new", "guest", 10);
    assert_eq!(out.events.iter().map(|ev| ev.event).collect::<Vec<_>>(), ["session_regenerated"]);
    assert!(matches!(
        validate(&e, "guest", client(), 11),
        Response::Rejected {
            reason: Reason::Revoked,
            replaced: true
        }
    ));
    assert!(matches!(validate(&e, "new", client(), 11), Response::Valid { .. }));
    // Naming itself as the session it replaces is an ordinary login.
    let out = login("self", "self", 12);
    assert_eq!(out.events.iter().map(|ev| ev.event).collect::<Vec<_>>(), ["session_created"]);
    assert!(matches!(validate(&e, "self", client(), 13), Response::Valid { .. }));
}

/// Found by cargo-mutants: every session in the limit tests belonged to one user, so
/// counting (and ending) another user's sessions toward the limit went unseen.
#[test]
fn the_session_limit_counts_only_the_users_own_live_sessions() {
    let e = limited(BindMode::Flag, 2);
    let create_for = |hash: &str, handle: &str, user: &str, now| {
        let mut s = session(handle, now);
        s.user = Some(user.into());
        e.handle(
            Request::Create {
                hash: hash.into(),
                session: s,
                replaces: None,
                client: client(),
            },
            now,
        )
        .unwrap()
    };
    create_for("b1", "b1", "bob", 1000);
    create_for("b2", "b2", "bob", 1001);
    create_for("a1", "a1", "alice", 1002);
    let out = create_for("a2", "a2", "alice", 1003);
    assert!(
        out.events.iter().all(|ev| ev.event != "revoked"),
        "alice has two sessions: nothing ends"
    );
    for h in ["b1", "b2", "a1", "a2"] {
        assert!(matches!(validate(&e, h, client(), 1004), Response::Valid { .. }), "{h}");
    }
}

fn regenerate_to(e: &Engine<MemoryStore>, old: &str, new: &str, elevate: bool, c: Client, now: u64) {
    let r = e
        .handle(
            Request::Regenerate {
                old_hash: old.into(),
                new_hash: new.into(),
                reason: Regeneration::PasswordChange,
                roles: None,
                elevate,
                client: c,
            },
            now,
        )
        .unwrap();
    assert!(matches!(r.response, Response::Done { .. }));
}

fn new_id_required(r: Response) -> bool {
    match r {
        Response::Valid { new_id_required, .. } => new_id_required,
        other => panic!("not valid: {other:?}"),
    }
}

/// Found by cargo-mutants: HTTPS-only sessions, and regenerations over HTTPS, were not
/// tested, so marking them as used over plain HTTP (and so asking for a new ID on every
/// HTTPS request) went unseen.
#[test]
fn https_sessions_and_https_regenerations_never_ask_for_a_new_id() {
    let e = engine(BindMode::Flag);
    create(&e, "h", "a", 0);
    assert!(!new_id_required(validate(&e, "h", client(), 1)));
    assert!(!new_id_required(validate(&e, "h", client(), 100)), "still HTTPS only");
    regenerate_to(&e, "h", "r", false, client(), 200);
    assert!(!new_id_required(validate(&e, "r", client(), 201)));
    // A regeneration over plain HTTP marks the new ID as seen over HTTP.
    let http = Client { https: false, ..client() };
    regenerate_to(&e, "r", "p", false, http, 300);
    assert!(new_id_required(validate(&e, "p", client(), 301)));
}

/// Found by cargo-mutants: nothing checked which listed session is the caller's, nor the
/// elevation shown at and after its end.
#[test]
fn the_session_list_marks_the_caller_and_shows_only_a_running_elevation() {
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 0);
    create(&e, "h2", "b", 1);
    regenerate_to(&e, "h2", "h3", true, client(), 10);
    let until = 10 + T.elevated;
    let list = |caller: Option<&str>, now| match e
        .handle(
            Request::List {
                caller: caller.map(str::to_string),
            },
            now,
        )
        .unwrap()
        .response
    {
        Response::Sessions { sessions } => sessions
            .into_iter()
            .map(|s| (s.id, s.current, s.elevated_until))
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        list(Some("h1"), 20),
        [("b".to_string(), false, Some(until)), ("a".to_string(), true, None)]
    );
    assert_eq!(
        list(Some("h3"), until - 1),
        [("b".to_string(), true, Some(until)), ("a".to_string(), false, None)]
    );
    assert_eq!(list(None, until), [("b".to_string(), false, None), ("a".to_string(), false, None)]);
}

#[test]
fn the_idle_clock_starts_when_the_object_stores_the_session() {
    // The gate stamped the session a second before the object handled the call (they
    // straddled a second): idle time counts from the object's clock, as its audit events do.
    let e = engine(BindMode::Flag);
    let r = e
        .handle(
            Request::Create {
                hash: "h1".into(),
                session: session("a", 999),
                replaces: None,
                client: client(),
            },
            1000,
        )
        .unwrap();
    let Response::Done { session: Some(s), .. } = r.response else {
        panic!("expected Done with the session");
    };
    assert_eq!(
        (s.last_seen, s.created_at),
        (1000, 999),
        "last_seen moves to the object's clock; created_at stays the gate's"
    );
    // By the gate's stamp the session would end at 999 + idle: it is live then.
    assert_eq!(
        reason(validate(&e, "h1", client(), 999 + T.idle)),
        None,
        "live for a full idle period after the store"
    );
    // A gate clock ahead of the object's is kept: the session never ends before its idle period.
    let later = e
        .handle(
            Request::Create {
                hash: "h2".into(),
                session: session("b", 1005),
                replaces: None,
                client: client(),
            },
            1000,
        )
        .unwrap();
    assert!(matches!(later.response, Response::Done { session: Some(ref s), .. } if s.last_seen == 1005));
}

#[test]
fn a_new_policy_applies_from_the_next_call() {
    // The object adopts the rules a call brings (a redeployed gate): the same session,
    // moved to another network, is flagged under `flag` and ended under `reject`.
    let e = engine(BindMode::Flag);
    create(&e, "h1", "a", 1000);
    let moved = Client {
        ip: "198.51.100.7".into(),
        ..client()
    };
    assert_eq!(reason(validate(&e, "h1", moved.clone(), 1001)), None);
    let mut p = e.policy();
    assert_eq!(p.bind_ip, BindMode::Flag);
    p.bind_ip = BindMode::Reject;
    e.set_policy(p);
    assert_eq!(e.policy(), p);
    let elsewhere = Client {
        ip: "192.0.2.99".into(),
        ..client()
    };
    assert_eq!(reason(validate(&e, "h1", elsewhere, 1002)), Some(Reason::BindingMismatch));
}
