//! The bounds of `X-Session-Command` (README, "Origin commands") at exactly the bound
//! and one past it, and the promise that a command list is validated completely before
//! anything is applied. The numbers are written out rather than read from the
//! constants: a test that used `MAX_USER_LEN` would follow the constant wherever it
//! moved, and the documented limit is what the origin relies on.

use sessiongate::core::command::{check_sequence, parse, Command};

const DATA_MAX: usize = 16384;

fn login(user: &str, roles: &[String]) -> String {
    serde_json::json!({"action": "login", "user": user, "roles": roles}).to_string()
}

fn roles(n: usize, len: usize) -> Vec<String> {
    (0..n).map(|i| format!("{i:0len$}")).collect()
}

#[test]
fn a_command_header_of_64_kib_is_accepted_and_one_byte_more_is_not() {
    let cmd = r#"{"action":"logout"}"#;
    let at = format!("{cmd}{}", " ".repeat(65536 - cmd.len()));
    assert_eq!(at.len(), 65536);
    assert_eq!(parse(&at, DATA_MAX).unwrap(), vec![Command::Logout]);
    let past = format!("{at} ");
    let e = parse(&past, DATA_MAX).unwrap_err();
    assert!(e.contains("65536"), "{e}");
}

#[test]
fn eight_commands_are_accepted_and_nine_are_not() {
    let list = |n: usize| format!("[{}]", vec![r#"{"action":"logout"}"#; n].join(","));
    assert_eq!(parse(&list(8), DATA_MAX).unwrap().len(), 8);
    let e = parse(&list(9), DATA_MAX).unwrap_err();
    assert!(e.contains("more than 8 commands"), "{e}");
}

#[test]
fn a_command_user_of_256_bytes_is_accepted_and_257_is_not() {
    assert!(parse(&login(&"u".repeat(256), &[]), DATA_MAX).is_ok());
    let e = parse(&login(&"u".repeat(257), &[]), DATA_MAX).unwrap_err();
    assert!(e.contains("user is longer than 256 bytes"), "{e}");
    // Bytes, not characters: the header value is bytes. 128 two-byte characters are the
    // bound; one more byte is past it.
    assert!(parse(&login(&"é".repeat(128), &[]), DATA_MAX).is_ok());
    assert!(parse(&login(&format!("{}u", "é".repeat(128)), &[]), DATA_MAX).is_err());
}

#[test]
fn a_command_with_64_roles_is_accepted_and_65_is_not() {
    assert!(parse(&login("alice", &roles(64, 3)), DATA_MAX).is_ok());
    let e = parse(&login("alice", &roles(65, 3)), DATA_MAX).unwrap_err();
    assert!(e.contains("more than 64 roles"), "{e}");
    // The same bound on a permission change's new roles.
    let regen = |r: Vec<String>| serde_json::json!({"action": "regenerate", "reason": "permission_change", "roles": r}).to_string();
    assert!(parse(&regen(roles(64, 3)), DATA_MAX).is_ok());
    assert!(parse(&regen(roles(65, 3)), DATA_MAX).is_err());
}

#[test]
fn a_command_role_of_64_bytes_is_accepted_and_65_is_not() {
    assert!(parse(&login("alice", &roles(1, 64)), DATA_MAX).is_ok());
    let e = parse(&login("alice", &roles(1, 65)), DATA_MAX).unwrap_err();
    assert!(e.contains("a role is longer than 64 bytes"), "{e}");
    let regen = |r: Vec<String>| serde_json::json!({"action": "regenerate", "reason": "permission_change", "roles": r}).to_string();
    assert!(parse(&regen(roles(1, 64)), DATA_MAX).is_ok());
    assert!(parse(&regen(roles(1, 65)), DATA_MAX).is_err());
}

#[test]
fn command_data_at_the_bound_is_accepted_and_one_byte_more_is_not() {
    // {"x":"aaa…"} serialises to 8 bytes plus the string.
    let data = |n: usize| format!(r#"{{"action":"set_data","data":{{"x":"{}"}}}}"#, "a".repeat(n));
    assert!(parse(&data(DATA_MAX - 8), DATA_MAX).is_ok());
    let e = parse(&data(DATA_MAX - 7), DATA_MAX).unwrap_err();
    assert!(e.contains("16385 bytes"), "{e}");
}

/// One valid command and one invalid one, in every position of a list of up to eight:
/// the whole list is refused (so the gate, which applies only a parsed list, applies
/// none of it), and the error names the invalid command.
#[test]
fn one_invalid_command_refuses_the_whole_list_wherever_it_is() {
    let valid = [
        r#"{"action":"logout"}"#,
        r#"{"action":"login","user":"alice","roles":["admin"]}"#,
        r#"{"action":"set_data","data":{"cart":[1]}}"#,
        r#"{"action":"elevate"}"#,
    ];
    let invalid = [
        (r#"{"action":"fly"}"#, "unknown action"),
        (r#"{"action":"login","user":""}"#, "user is empty"),
        (r#"{"action":"login","user":"a\r\nb"}"#, "control characters"),
        (r#"{"action":"login","user":"a","roles":["x,y"]}"#, "comma"),
        (r#"{"action":"regenerate","reason":"whim"}"#, "unknown regenerate reason"),
        (r#"{"action":"set_data","data":{"x":"<big>"}}"#, "SESSION_DATA_MAX"),
    ];
    let big = "a".repeat(DATA_MAX);
    for len in 2..=8 {
        for at in 0..len {
            for (bad, reason) in invalid {
                let bad = bad.replace("<big>", &big);
                let list: Vec<String> = (0..len)
                    .map(|i| if i == at { bad.clone() } else { valid[i % valid.len()].to_string() })
                    .collect();
                let header = format!("[{}]", list.join(","));
                match parse(&header, DATA_MAX) {
                    Ok(cmds) => panic!("list of {len} with {bad:.60} at {at} was accepted as {} commands", cmds.len()),
                    Err(e) => assert!(e.contains(reason), "{bad:.60} at {at} of {len}: {e}"),
                }
            }
        }
    }
}

/// The same for the sequence rules: a list whose every command parses but one of which
/// needs a session the list has just ended is refused as a whole.
#[test]
fn one_command_out_of_sequence_refuses_the_whole_list() {
    let cmds = parse(
        r#"[{"action":"set_data","data":{"a":1}},{"action":"logout"},{"action":"elevate"}]"#,
        DATA_MAX,
    )
    .unwrap();
    let e = check_sequence(&cmds, true).unwrap_err();
    assert!(e.starts_with("command 2 (elevate)"), "{e}");
    // Without the last command the list is fine: the refusal is about that command.
    assert!(check_sequence(&cmds[..2], true).is_ok());
    let cmds = parse(
        r#"[{"action":"login","user":"a"},{"action":"logout_all"},{"action":"logout_others"}]"#,
        DATA_MAX,
    )
    .unwrap();
    assert!(check_sequence(&cmds, false).is_err(), "logout_all ends the session the login made");
    assert!(check_sequence(&cmds[..2], false).is_ok());
}

/// Session data may nest 32 levels, counting the data object itself: `{"x":1}` is one
/// level, each array or object inside it one more. Both kinds of container count.
#[test]
fn command_data_nesting_of_32_levels_is_accepted_and_33_is_not() {
    let arrays = |levels: usize| format!("{}1{}", "[".repeat(levels - 1), "]".repeat(levels - 1));
    let objects = |levels: usize| format!("{}1{}", r#"{"y":"#.repeat(levels - 1), "}".repeat(levels - 1));
    let mixed = |levels: usize| {
        let (open, close): (String, String) = (1..levels).map(|i| if i % 2 == 0 { ("[", "]") } else { (r#"{"y":"#, "}") }).unzip();
        format!("{open}1{}", close.chars().rev().collect::<String>())
    };
    for (kind, inner) in [
        ("arrays", &arrays as &dyn Fn(usize) -> String),
        ("objects", &objects),
        ("mixed", &mixed),
    ] {
        let data = |levels: usize| format!(r#"{{"action":"set_data","data":{{"x":{}}}}}"#, inner(levels));
        assert!(parse(&data(32), DATA_MAX).is_ok(), "{kind}: 32 levels");
        let e = parse(&data(33), DATA_MAX).unwrap_err();
        assert!(e.contains("nested 33 levels deep, more than 32"), "{kind}: {e}");
    }
}

/// The reason a regeneration is recorded under (audit events, the store) is the name
/// the origin sent.
#[test]
fn command_regenerate_reasons_keep_their_wire_names() {
    for (json, name) in [
        (r#"{"action":"regenerate","reason":"password_change"}"#, "password_change"),
        (
            r#"{"action":"regenerate","reason":"permission_change","roles":["a"]}"#,
            "permission_change",
        ),
    ] {
        match &parse(json, DATA_MAX).unwrap()[0] {
            Command::Regenerate { reason, .. } => assert_eq!(reason.as_str(), name),
            other => panic!("{other:?}"),
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
    /// Around every bound: a login is accepted exactly when its user, role count and role
    /// length are all within the documented bounds. Each is drawn from 0 to twice its
    /// bound independently, so a quarter of the cases are within all three and each
    /// bound alone decides some of the others.
    #[test]
    fn command_login_is_accepted_exactly_within_the_bounds(
        user_len in 1usize..=512,
        multibyte in proptest::prelude::any::<bool>(),
        role_count in 0usize..=128,
        role_len in 1usize..=128,
    ) {
        let user = if multibyte { "é".repeat(user_len / 2) + &"u".repeat(user_len % 2) } else { "u".repeat(user_len) };
        let roles = roles(role_count, role_len);
        let within = user.len() <= 256 && role_count <= 64 && (role_count == 0 || role_len <= 64);
        let accepted = parse(&login(&user, &roles), DATA_MAX).is_ok();
        proptest::prop_assert_eq!(accepted, within, "user {} bytes, {} roles of {} bytes", user.len(), role_count, role_len);
    }
}
