//! The session module's public strings and boundaries (found by cargo-mutants: the
//! reason and warning strings, the assertion's `bind` claim and the warning window's
//! edge were used only by the gate, which has no native tests).

use sessiongate::core::config::BindMode;
use sessiongate::core::session::{check_binding, Binding, BindingChange, Client, Expiry, Reason, Session, Warning};

#[test]
fn session_reasons_and_warnings_keep_their_wire_names() {
    let reasons = [
        Reason::Missing,
        Reason::Invalid,
        Reason::IdleTimeout,
        Reason::AbsoluteTimeout,
        Reason::Revoked,
        Reason::BindingMismatch,
    ];
    let names = reasons.map(Reason::as_str);
    assert_eq!(
        names,
        [
            "missing",
            "invalid",
            "idle_timeout",
            "absolute_timeout",
            "revoked",
            "binding_mismatch"
        ]
    );
    // The string the gate writes is the one the store's JSON carries.
    for r in reasons {
        assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
    }
    assert_eq!([Warning::Idle, Warning::Absolute].map(Warning::as_str), ["idle", "absolute"]);
    for w in [Warning::Idle, Warning::Absolute] {
        assert_eq!(serde_json::to_string(&w).unwrap(), format!("\"{}\"", w.as_str()));
    }
}

#[test]
fn session_warning_starts_exactly_when_the_window_is_reached() {
    let e = Expiry {
        idle_at: 1_000,
        absolute_at: 5_000,
    };
    // 1000 - now seconds left; the window is 60 s.
    assert_eq!(e.warning(939, 60), None, "61 s left");
    assert_eq!(e.warning(940, 60), Some(Warning::Idle), "60 s left: inside");
    assert_eq!(e.warning(999, 60), Some(Warning::Idle));
    assert_eq!(e.warning(940, 0), None, "a window of 0 never warns");
    let a = Expiry {
        idle_at: 5_000,
        absolute_at: 1_000,
    };
    assert_eq!(a.warning(940, 60), Some(Warning::Absolute));
    let tie = Expiry {
        idle_at: 1_000,
        absolute_at: 1_000,
    };
    assert_eq!(tie.warning(940, 60), Some(Warning::Absolute), "a tie is the absolute limit");
}

#[test]
fn session_bind_claim_is_absent_only_while_nothing_changed() {
    let claims = [
        BindingChange::Unchanged,
        BindingChange::Ip,
        BindingChange::UserAgent,
        BindingChange::Both,
    ]
    .map(BindingChange::claim);
    assert_eq!(
        claims,
        [None, Some("ip-changed"), Some("ua-changed"), Some("ip-changed,ua-changed")]
    );
    let b = |ip_changed, ua_changed| Binding {
        ip_changed,
        ua_changed,
        ..Binding::default()
    };
    assert_eq!(b(false, false).claim(), None);
    assert_eq!(b(true, false).claim(), Some("ip-changed"));
    assert_eq!(b(false, true).claim(), Some("ua-changed"));
    assert_eq!(b(true, true).claim(), Some("ip-changed,ua-changed"));
    assert_eq!(b(true, true).header(), "ip-changed,ua-changed");
    assert_eq!(b(false, false).header(), "ok");
}

fn bound_session(login_ip: &str, login_ua: &str, last_ip: &str, last_ua: &str) -> Session {
    Session {
        handle: "h".into(),
        user: Some("alice".into()),
        roles: vec![],
        data: serde_json::Map::new(),
        created_at: 0,
        auth_time: 0,
        last_seen: 0,
        absolute_expiry: 86_400,
        elevated_until: None,
        login_ip: login_ip.into(),
        login_ua: login_ua.into(),
        last_ip: last_ip.into(),
        last_ua: last_ua.into(),
        flagged: false,
        via_http: false,
        persistent: false,
        idp: None,
        device: None,
    }
}

/// Every mode of `BIND_IP` x `BIND_UA`, with the network and the user agent each the
/// login's or not, and each the last audited one's or not: the four flags and `reject`
/// as the README's binding table says.
#[test]
fn session_binding_flags_every_mode_and_change() {
    const MODES: [BindMode; 3] = [BindMode::Off, BindMode::Flag, BindMode::Reject];
    let (home, away) = ("203.0.113.5", "198.51.100.7");
    let client = Client {
        ip: home.into(),
        ua: "UA/1".into(),
        https: true,
    };
    for ip_mode in MODES {
        for ua_mode in MODES {
            for (ip_login, ip_last, ua_login, ua_last) in (0..16).map(|i| (i & 1 != 0, i & 2 != 0, i & 4 != 0, i & 8 != 0)) {
                // `true`: the client differs from that reference.
                let pick = |differs: bool, same: &'static str, other: &'static str| if differs { other } else { same };
                let s = bound_session(
                    pick(ip_login, home, away),
                    pick(ua_login, "UA/1", "UA/2"),
                    pick(ip_last, home, away),
                    pick(ua_last, "UA/1", "UA/2"),
                );
                let b = check_binding(&s, &client, ip_mode, ua_mode);
                let ip_on = ip_mode != BindMode::Off;
                let ua_on = ua_mode != BindMode::Off;
                let want = Binding {
                    ip_changed: ip_on && ip_login,
                    ua_changed: ua_on && ua_login,
                    ip_new: ip_on && ip_last,
                    ua_new: ua_on && ua_last,
                    reject: (ip_login && ip_mode == BindMode::Reject) || (ua_login && ua_mode == BindMode::Reject),
                };
                assert_eq!(b, want, "BIND_IP {ip_mode:?}, BIND_UA {ua_mode:?}, differs from login ip {ip_login} ua {ua_login}, from last ip {ip_last} ua {ua_last}");
            }
        }
    }
    // Same /24 is the same network: no change.
    let s = bound_session("203.0.113.99", "UA/1", "203.0.113.99", "UA/1");
    assert_eq!(check_binding(&s, &client, BindMode::Reject, BindMode::Reject), Binding::default());
}
