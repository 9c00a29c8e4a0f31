//! The server-side session and the rules that age it: idle and absolute expiry,
//! elevation, binding to the client, expiry warnings. Pure: the clock is an argument.

#![warn(missing_docs)]

use super::client::same_network;
use super::config::{BindMode, Config};
use super::dbsc::binding::DeviceKey;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What storage keeps for one session (keyed by the hash of its secret, never the token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Public handle: `X-Session-Id`, session lists, audit events.
    pub handle: String,
    /// `None` for an anonymous session (guest data only; opens no protected path).
    pub user: Option<String>,
    /// Roles the origin gave at login or regeneration.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Data the origin keeps in the session (`set_data`), bounded by `SESSION_DATA_MAX`.
    #[serde(default)]
    pub data: Map<String, Value>,
    /// Unix seconds.
    pub created_at: u64,
    /// When the user last authenticated (login or elevation).
    pub auth_time: u64,
    /// Last activity written to storage (the engine keeps newer activity in memory).
    pub last_seen: u64,
    /// The hard end, whatever the activity.
    pub absolute_expiry: u64,
    /// End of the current elevation.
    #[serde(default)]
    pub elevated_until: Option<u64>,
    // The four client fields: empty ones are left out of the JSON (a `Valid` reply
    // carries none, see store::engine), and read back as empty.
    /// Address at login (or last elevation): the binding's reference.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub login_ip: String,
    /// User agent at login (or last elevation).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub login_ua: String,
    /// Last address / user agent an audit event was written for (one event per change).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_ip: String,
    /// See `last_ip`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_ua: String,
    /// Used from another network or user agent than at login.
    #[serde(default)]
    pub flagged: bool,
    /// The last request came over plain HTTP: the next HTTPS request gets a new ID.
    #[serde(default)]
    pub via_http: bool,
    /// The cookie outlives the browser session (`Max-Age`).
    #[serde(default)]
    pub persistent: bool,
    /// Signed in at the edge with an OpenID provider: whom the provider knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<IdpLink>,
    /// The browser's device key (Device Bound Session Credentials), once registered.
    /// A validation reply carries only its `summary` (no key, no spent challenges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceKey>,
}

/// A session started by edge sign-in, as the provider knows it: what back-channel
/// logout matches on (`iss` with `sub` and/or `sid`) and the ID token that RP-initiated
/// logout sends back as `id_token_hint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpLink {
    /// The issuer.
    pub iss: String,
    /// The provider's subject.
    pub sub: String,
    /// The provider's session id, when its ID token carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The raw ID token; left out of validation replies (empty there).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id_token: String,
}

impl IdpLink {
    /// Is this session one that a logout token for `iss` with `sub` / `sid` ends?
    /// (`sid` and `sub` both given: both must match; one alone: that one.)
    pub fn matches(&self, iss: &str, sub: Option<&str>, sid: Option<&str>) -> bool {
        self.iss == iss
            && (sub.is_some() || sid.is_some())
            && sub.is_none_or(|s| s == self.sub)
            && sid.is_none_or(|s| self.sid.as_deref() == Some(s))
    }
}

/// Why a session is not (or no longer) valid. Strings are the public contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No session cookie.
    Missing,
    /// A cookie that is not a valid token, or names no session.
    Invalid,
    /// Idle longer than `IDLE_TIMEOUT`.
    IdleTimeout,
    /// Older than `ABSOLUTE_TIMEOUT`.
    AbsoluteTimeout,
    /// Ended: logout, revocation, or an ID that was replaced.
    Revoked,
    /// The client no longer matches and `BIND_*` is `reject`.
    BindingMismatch,
    /// Several values of the cookie name different sessions: none is trusted, none
    /// cleared (one may have been planted, see `validate`).
    AmbiguousSession,
    /// A device-bound session without a valid device cookie: the session lives on (the
    /// browser that holds the key renews the cookie), the request does not pass.
    DeviceProofRequired,
}

impl Reason {
    /// The public string.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Invalid => "invalid",
            Reason::IdleTimeout => "idle_timeout",
            Reason::AbsoluteTimeout => "absolute_timeout",
            Reason::Revoked => "revoked",
            Reason::BindingMismatch => "binding_mismatch",
            Reason::AmbiguousSession => "ambiguous_session",
            Reason::DeviceProofRequired => "device_proof_required",
        }
    }

    /// The reason with this public string (none for any other string).
    pub fn parse(s: &str) -> Option<Reason> {
        [
            Reason::Missing,
            Reason::Invalid,
            Reason::IdleTimeout,
            Reason::AbsoluteTimeout,
            Reason::Revoked,
            Reason::BindingMismatch,
            Reason::AmbiguousSession,
            Reason::DeviceProofRequired,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The timing rules, taken from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    /// Seconds without activity before a session ends.
    pub idle: u64,
    /// Seconds after login when a session ends, whatever its activity.
    pub absolute: u64,
    /// Seconds an elevation lasts.
    pub elevated: u64,
    /// Activity is written at most once per this many seconds.
    pub slide_interval: u64,
    /// Seconds before the end when the client is warned (0: never).
    pub warning_window: u64,
}

impl Timeouts {
    /// The timing settings of a configuration.
    pub fn from_config(c: &Config) -> Self {
        Timeouts {
            idle: c.idle_timeout,
            absolute: c.absolute_timeout,
            elevated: c.elevated_timeout,
            slide_interval: c.slide_interval(),
            warning_window: c.warning_window,
        }
    }
}

/// When a session ends, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    /// End by inactivity.
    pub idle_at: u64,
    /// End by age.
    pub absolute_at: u64,
}

/// Which limit is about to end a session (`X-Session-Warning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// The idle timeout.
    Idle,
    /// The absolute timeout.
    Absolute,
}

impl Warning {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Warning::Idle => "idle",
            Warning::Absolute => "absolute",
        }
    }
}

impl Expiry {
    /// A session's deadlines given its latest activity.
    pub fn of(session: &Session, last_seen: u64, t: &Timeouts) -> Self {
        Expiry {
            idle_at: last_seen.saturating_add(t.idle),
            absolute_at: session.absolute_expiry,
        }
    }

    /// The earlier of the two deadlines.
    pub fn at(&self) -> u64 {
        self.idle_at.min(self.absolute_at)
    }

    /// Seconds left at `now` (0 once over).
    pub fn expires_in(&self, now: u64) -> u64 {
        self.at().saturating_sub(now)
    }

    /// Absolute is checked first: once the hard limit passes, that is the reason.
    pub fn check(&self, now: u64) -> Result<(), Reason> {
        if now >= self.absolute_at {
            Err(Reason::AbsoluteTimeout)
        } else if now >= self.idle_at {
            Err(Reason::IdleTimeout)
        } else {
            Ok(())
        }
    }

    /// Inside the warning window: which limit is about to end the session.
    pub fn warning(&self, now: u64, window: u64) -> Option<Warning> {
        if window == 0 || self.expires_in(now) > window {
            return None;
        }
        Some(if self.absolute_at <= self.idle_at {
            Warning::Absolute
        } else {
            Warning::Idle
        })
    }
}

impl Session {
    /// Elevated at `now`.
    pub fn is_elevated(&self, now: u64) -> bool {
        self.elevated_until.is_some_and(|u| u > now)
    }

    /// Elevation lasts `ELEVATED_TIMEOUT`, does not slide and never outlives the session.
    pub fn elevate(&mut self, now: u64, t: &Timeouts) {
        self.elevated_until = Some(now.saturating_add(t.elevated).min(self.absolute_expiry));
        self.auth_time = now;
    }

    /// Bound to a device key: requests need the device cookie.
    pub fn is_device_bound(&self) -> bool {
        self.device.is_some()
    }

    /// Should this request write `last_seen`? At most once per slide interval.
    pub fn needs_slide_write(&self, now: u64, t: &Timeouts) -> bool {
        now >= self.last_seen.saturating_add(t.slide_interval)
    }
}

/// Who or what connects now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// The client's address.
    pub ip: String,
    /// The client's user agent.
    pub ua: String,
    /// The request came over HTTPS.
    #[serde(default)]
    pub https: bool,
}

/// Result of comparing the client with what the session was bound to at login.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Binding {
    /// Another network than at login.
    pub ip_changed: bool,
    /// Another user agent than at login.
    pub ua_changed: bool,
    /// Changed since the last audit event: write one more.
    pub ip_new: bool,
    /// See `ip_new`.
    pub ua_new: bool,
    /// A change that `BIND_*=reject` ends the session for.
    pub reject: bool,
}

/// Which of the client's network and user agent differ from a reference (the login's,
/// or the last audited one). The strings are the `X-Session-Binding` header, the
/// assertion's `bind` claim and the reason of `binding_changed` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BindingChange {
    /// Neither changed.
    #[serde(rename = "ok")]
    Unchanged,
    /// Another network (IPv4 /24, IPv6 /64).
    #[serde(rename = "ip-changed")]
    Ip,
    /// Another user agent.
    #[serde(rename = "ua-changed")]
    UserAgent,
    /// Both.
    #[serde(rename = "ip-changed,ua-changed")]
    Both,
}

impl BindingChange {
    /// The assertion's `bind` claim: absent while nothing changed.
    pub fn claim(self) -> Option<&'static str> {
        match self {
            BindingChange::Unchanged => None,
            changed => Some(changed.as_str()),
        }
    }

    /// From what changed.
    pub fn of(ip: bool, ua: bool) -> Self {
        match (ip, ua) {
            (false, false) => BindingChange::Unchanged,
            (true, false) => BindingChange::Ip,
            (false, true) => BindingChange::UserAgent,
            (true, true) => BindingChange::Both,
        }
    }

    /// The header value, claim and event reason.
    pub fn as_str(self) -> &'static str {
        match self {
            BindingChange::Unchanged => "ok",
            BindingChange::Ip => "ip-changed",
            BindingChange::UserAgent => "ua-changed",
            BindingChange::Both => "ip-changed,ua-changed",
        }
    }
}

impl Binding {
    /// Change since login.
    pub fn since_login(&self) -> BindingChange {
        BindingChange::of(self.ip_changed, self.ua_changed)
    }

    /// Change since the last `binding_changed` event: what a new event reports.
    pub fn since_last_event(&self) -> BindingChange {
        BindingChange::of(self.ip_new, self.ua_new)
    }

    /// The `X-Session-Binding` value.
    pub fn header(&self) -> &'static str {
        self.since_login().as_str()
    }

    /// The assertion's `bind` claim: absent while nothing changed.
    pub fn claim(&self) -> Option<&'static str> {
        self.since_login().claim()
    }
}

/// Whether a guest session's data may pass into a login from `c`: only when the guest
/// session was started from the same network and user agent. Under `COOKIE_DOMAIN` a
/// sibling host can plant its own guest session (with data of its choosing) in a
/// victim's browser; planted from elsewhere, its data stays behind.
pub fn guest_data_carries(guest: &Session, c: &Client) -> bool {
    same_network(&guest.login_ip, &c.ip) && guest.login_ua == c.ua
}

/// Compares the client with the session's binding under the two modes.
pub fn check_binding(s: &Session, c: &Client, ip_mode: BindMode, ua_mode: BindMode) -> Binding {
    let ip_changed = ip_mode != BindMode::Off && !same_network(&s.login_ip, &c.ip);
    let ua_changed = ua_mode != BindMode::Off && s.login_ua != c.ua;
    Binding {
        ip_changed,
        ua_changed,
        ip_new: ip_mode != BindMode::Off && !same_network(&s.last_ip, &c.ip),
        ua_new: ua_mode != BindMode::Off && s.last_ua != c.ua,
        reject: (ip_changed && ip_mode == BindMode::Reject) || (ua_changed && ua_mode == BindMode::Reject),
    }
}

/// Sessions and timings shared by the unit tests of `core` and `store`.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// 30 min idle, 24 h absolute, 15 min elevated, 60 s slide, 2 min warning.
    pub(crate) const TIMEOUTS: Timeouts = Timeouts {
        idle: 1800,
        absolute: 86_400,
        elevated: 900,
        slide_interval: 60,
        warning_window: 120,
    };

    /// The login's client: 203.0.113.5 with `UA/1`, over HTTPS.
    pub(crate) fn client() -> Client {
        Client {
            ip: "203.0.113.5".into(),
            ua: "UA/1".into(),
            https: true,
        }
    }

    /// `alice`'s session (role `user`) created and last seen at `now`, bound at login
    /// to `client()`, with no later client recorded yet.
    pub(crate) fn session(handle: &str, now: u64) -> Session {
        let login = client();
        Session {
            handle: handle.into(),
            user: Some("alice".into()),
            roles: vec!["user".into()],
            data: Map::new(),
            created_at: now,
            auth_time: now,
            last_seen: now,
            absolute_expiry: now + TIMEOUTS.absolute,
            elevated_until: None,
            login_ip: login.ip,
            login_ua: login.ua,
            last_ip: String::new(),
            last_ua: String::new(),
            flagged: false,
            via_http: false,
            persistent: false,
            idp: None,
            device: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{self, TIMEOUTS as T};
    use super::*;
    use proptest::prelude::*;

    /// A session whose last audited client is its login client.
    pub fn session(now: u64) -> Session {
        let s = fixtures::session("h", now);
        Session {
            roles: vec![],
            last_ip: s.login_ip.clone(),
            last_ua: s.login_ua.clone(),
            ..s
        }
    }

    #[test]
    fn a_logout_token_matches_by_sid_and_or_sub_of_its_issuer() {
        let l = IdpLink {
            iss: "https://id".into(),
            sub: "u1".into(),
            sid: Some("s1".into()),
            id_token: String::new(),
        };
        assert!(l.matches("https://id", Some("u1"), None));
        assert!(l.matches("https://id", None, Some("s1")));
        assert!(l.matches("https://id", Some("u1"), Some("s1")));
        assert!(!l.matches("https://id", Some("u2"), Some("s1")), "sid with another user's sub");
        assert!(!l.matches("https://id", Some("u1"), Some("s2")));
        assert!(!l.matches("https://other", Some("u1"), None));
        assert!(!l.matches("https://id", None, None));
        let no_sid = IdpLink { sid: None, ..l };
        assert!(!no_sid.matches("https://id", None, Some("s1")));
    }

    #[test]
    fn guest_data_carries_only_to_a_login_from_where_it_started() {
        let guest = Session {
            user: None,
            ..session(1000)
        };
        let here = fixtures::client();
        assert!(guest_data_carries(&guest, &here));
        let same_net = Client {
            ip: "203.0.113.77".into(),
            ..here.clone()
        };
        assert!(guest_data_carries(&guest, &same_net), "same /24");
        let other_net = Client {
            ip: "198.51.100.5".into(),
            ..here.clone()
        };
        assert!(!guest_data_carries(&guest, &other_net));
        let other_ua = Client { ua: "UA/2".into(), ..here };
        assert!(!guest_data_carries(&guest, &other_ua));
    }

    #[test]
    fn reasons_parse_back_from_their_public_strings() {
        for r in [
            Reason::Missing,
            Reason::Invalid,
            Reason::IdleTimeout,
            Reason::AbsoluteTimeout,
            Reason::Revoked,
            Reason::BindingMismatch,
            Reason::AmbiguousSession,
            Reason::DeviceProofRequired,
        ] {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str(), "the wire form is the public string");
        }
        assert_eq!(Reason::parse("Revoked"), None);
        assert_eq!(Reason::parse(""), None);
    }

    #[test]
    fn idle_and_absolute_are_enforced_together() {
        let s = session(1000);
        let e = Expiry::of(&s, 1000, &T);
        assert_eq!(e.check(1000 + 1799), Ok(()));
        assert_eq!(e.check(1000 + 1800), Err(Reason::IdleTimeout));
        // Active all day: sliding never passes the absolute limit.
        let e = Expiry::of(&s, 1000 + 86_000, &T);
        assert_eq!(e.check(1000 + 86_399), Ok(()));
        assert_eq!(e.check(1000 + 86_400), Err(Reason::AbsoluteTimeout));
    }

    #[test]
    fn warnings_name_the_nearer_limit() {
        let s = session(0);
        let e = Expiry::of(&s, 0, &T);
        assert_eq!(e.warning(1000, 120), None);
        assert_eq!(e.warning(1700, 120), Some(Warning::Idle));
        let e = Expiry::of(&s, 86_000, &T);
        assert_eq!(e.warning(86_300, 120), Some(Warning::Absolute));
        assert_eq!(e.warning(86_300, 0), None);
    }

    #[test]
    fn elevation_never_outlives_the_session() {
        let mut s = session(0);
        s.elevate(86_000, &T);
        assert_eq!(s.elevated_until, Some(86_400));
        assert!(s.is_elevated(86_399));
        assert!(!s.is_elevated(86_400));
    }

    #[test]
    fn slide_writes_once_per_interval() {
        let s = session(1000);
        assert!(!s.needs_slide_write(1059, &T));
        assert!(s.needs_slide_write(1060, &T));
    }

    #[test]
    fn binding_flag_and_reject() {
        let s = session(0);
        let same = Client {
            ip: "203.0.113.77".into(),
            ua: "UA/1".into(),
            https: true,
        };
        let b = check_binding(&s, &same, BindMode::Flag, BindMode::Flag);
        assert_eq!(b.header(), "ok");
        assert_eq!(b.claim(), None);
        let moved = Client {
            ip: "198.51.100.1".into(),
            ua: "UA/1".into(),
            https: true,
        };
        let b = check_binding(&s, &moved, BindMode::Flag, BindMode::Flag);
        assert_eq!((b.header(), b.reject, b.ip_new), ("ip-changed", false, true));
        let b = check_binding(&s, &moved, BindMode::Reject, BindMode::Flag);
        assert!(b.reject);
        let b = check_binding(&s, &moved, BindMode::Off, BindMode::Reject);
        assert_eq!((b.header(), b.reject), ("ok", false));
        let other_ua = Client {
            ip: "203.0.113.5".into(),
            ua: "UA/2".into(),
            https: true,
        };
        assert_eq!(check_binding(&s, &other_ua, BindMode::Flag, BindMode::Flag).header(), "ua-changed");
    }

    #[test]
    fn binding_change_names_are_the_serde_names() {
        for ip in [false, true] {
            for ua in [false, true] {
                let c = BindingChange::of(ip, ua);
                assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            }
        }
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn never_valid_past_either_limit(created in 0u64..1_000_000, seen in 0u64..200_000, now in 0u64..2_000_000) {
            let s = session(created);
            let last = created + seen;
            let e = Expiry::of(&s, last, &T);
            if e.check(now).is_ok() {
                prop_assert!(now < created + T.absolute);
                prop_assert!(now < last + T.idle);
                prop_assert!(e.expires_in(now) > 0);
            }
        }
    }
}
