//! Configuration errors about secrets name the variable and the problem, never the
//! value: they are printed by `wrangler dev`, in Workers logs and in the 500 body's
//! log line, where a secret must not appear (ASVS 13.3.1).

use sessiongate::core::config::Config;
use std::collections::HashMap;

const SECRETS: [&str; 4] = ["SESSION_SECRET", "SESSION_SECRET_PREVIOUS", "ORIGIN_SECRET", "ADMIN_TOKEN"];

/// HS256: the assertion algorithm that reads `ORIGIN_SECRET`, so every secret here is read.
fn base() -> HashMap<&'static str, String> {
    HashMap::from([
        ("ASSERTION_ALG", "HS256".to_string()),
        ("SESSION_SECRET", "session-secret-of-at-least-32-bytes-0".to_string()),
        ("ORIGIN_SECRET", "origin-secret-of-at-least-32-bytes-00".to_string()),
    ])
}

fn parse(m: &HashMap<&'static str, String>) -> Result<Config, sessiongate::core::config::ConfigError> {
    Config::from_lookup(|k| m.get(k).cloned())
}

/// A value nothing else in the configuration or the messages contains, at every length
/// a short secret can have, for every secret variable.
#[test]
fn config_refuses_a_short_secret_without_printing_it() {
    for var in SECRETS {
        for len in 1..32 {
            let value: String = "Qx7#kV9!mZ2@wR5$tY8%nB4^hJ6&pL3*".chars().take(len).collect();
            let mut m = base();
            m.insert(var, value.clone());
            let e = parse(&m).expect_err(&format!("{var} of {len} bytes"));
            assert_eq!(e.variable, var);
            assert!(e.problem.contains(&format!("is {len} bytes long")), "{e}");
            for shown in [e.to_string(), format!("{e:?}")] {
                // A secret of one or two characters is in any text by chance; from
                // three on, its appearance means the message printed it.
                if len >= 3 {
                    assert!(!shown.contains(&value), "{var}: {shown:?} shows the secret {value:?}");
                }
            }
        }
    }
}

#[test]
fn config_secret_length_bound_is_32_bytes() {
    for var in SECRETS {
        let mut m = base();
        m.insert(var, format!("{var}-").repeat(8)[..31].to_string());
        assert_eq!(parse(&m).unwrap_err().variable, var);
        m.insert(var, format!("{var}-").repeat(8)[..32].to_string());
        assert!(parse(&m).is_ok(), "{var} of 32 bytes");
    }
}

#[test]
fn config_refuses_an_origin_secret_equal_to_the_session_secret_without_printing_it() {
    let mut m = base();
    let shared = "shared-secret-value-of-40-bytes-0123456".to_string();
    m.insert("SESSION_SECRET", shared.clone());
    m.insert("ORIGIN_SECRET", shared.clone());
    let e = parse(&m).unwrap_err();
    assert_eq!(e.variable, "ORIGIN_SECRET");
    assert!(!e.to_string().contains(&shared) && !format!("{e:?}").contains(&shared), "{e}");
}

#[test]
fn config_debug_does_not_print_secrets() {
    let mut m = base();
    m.insert("SESSION_SECRET_PREVIOUS", "previous-secret-of-at-least-32-bytes".into());
    m.insert("ADMIN_TOKEN", "admin-token-of-at-least-32-bytes-000".into());
    let shown = format!("{:?}", parse(&m).unwrap());
    for v in m.values() {
        assert!(!shown.contains(v.as_str()), "Debug shows {v:?}");
    }
}

/// The configuration keeps each secret's exact bytes (the keys the gate signs and checks
/// with), and their Debug form shows only the length (found by cargo-mutants: no test
/// read the bytes back or the Debug form of a secret).
#[test]
fn config_secrets_keep_their_bytes_and_debug_shows_only_the_length() {
    let mut m = base();
    m.insert("SESSION_SECRET_PREVIOUS", "previous-secret-of-at-least-32-bytes".to_string());
    m.insert("ADMIN_TOKEN", "admin-token-of-at-least-32-bytes-0000".to_string());
    let c = parse(&m).unwrap();
    assert_eq!(c.session_secret.bytes(), m["SESSION_SECRET"].as_bytes());
    assert_eq!(
        c.session_secret_previous.as_ref().unwrap().bytes(),
        m["SESSION_SECRET_PREVIOUS"].as_bytes()
    );
    assert_eq!(c.origin_secret.as_ref().unwrap().bytes(), m["ORIGIN_SECRET"].as_bytes());
    assert_eq!(c.admin_token.as_ref().unwrap().bytes(), m["ADMIN_TOKEN"].as_bytes());
    assert_eq!(
        format!("{:?}", c.session_secret),
        format!("Secret(<{} bytes>)", m["SESSION_SECRET"].len())
    );
    // The keys session tokens are checked with: the current one first, then the previous.
    assert_eq!(
        c.token_keys(),
        [m["SESSION_SECRET"].as_bytes(), m["SESSION_SECRET_PREVIOUS"].as_bytes()]
    );
    let only = parse(&base()).unwrap();
    assert_eq!(only.token_keys(), [base()["SESSION_SECRET"].as_bytes()]);
}
