//! `SessionCookie::is_present` decides whether a state-changing request counts as
//! carrying the session for the cross-site check (`core::client::is_cross_site`) and
//! whether a 401 clears the cookie: a cookie sent twice (cookie tossing) is present
//! though ambiguous, and a look-alike name is not the gate's cookie.

use sessiongate::core::cookie::{find, SessionCookie};

const GATE: &str = "__Host-session";

#[test]
fn cookie_is_present_once_or_several_times_and_absent_otherwise() {
    let cases = [
        ("", false),
        ("theme=dark", false),
        ("__host-session=x; __Host-session2=y", false),
        ("__Host-session=abc", true),
        ("a=1; __Host-session=abc; b=2", true),
        ("__Host-session=abc; __Host-session=def", true),
        ("__Host-session=", true),
    ];
    for (header, present) in cases {
        let found = find(header, GATE);
        assert_eq!(found.is_present(), present, "{header:?}: {found:?}");
        assert_eq!(found.is_present(), found != SessionCookie::Absent, "{header:?}");
    }
}
