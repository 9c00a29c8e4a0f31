//! What a session gets from the provider's claims: the user (`OIDC_USER_CLAIM`), the
//! roles (`OIDC_ROLES_CLAIM`) and the data under `idp` (`OIDC_DATA_CLAIMS`, with `iss`
//! and `sub`). Checked with the rules of the `login` command, so a provider cannot put
//! into headers what an origin could not.

use super::settings::OidcSettings;
use crate::core::command::{check_roles, check_user};
use serde_json::{Map, Value};

/// A claim that cannot become part of a session. Its `Display` is the `detail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// The user claim is missing, not a string, or not a valid user id.
    #[error("user_claim")]
    User,
    /// The roles claim is not a list of valid roles.
    #[error("roles_claim")]
    Roles,
    /// `OIDC_USER_CLAIM` is `email` and the provider does not say it verified it.
    #[error("email_not_verified")]
    EmailNotVerified,
}

/// The claim that says the provider verified the email address.
const EMAIL_VERIFIED: &str = "email_verified";

/// The session's identity from the claims.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub user: String,
    pub roles: Vec<String>,
    /// `{"idp": {"iss":..., "sub":..., <data claims>}}`.
    pub data: Map<String, Value>,
}

/// Claims the settings need that the ID token does not carry (read from userinfo).
pub fn missing<'a>(claims: &Map<String, Value>, s: &'a OidcSettings) -> Vec<&'a str> {
    let verified = s.user_is_email().then_some(EMAIL_VERIFIED);
    let wanted = [s.user_claim.as_str(), s.roles_claim.as_str()]
        .into_iter()
        .chain(verified)
        .chain(s.data_claims.iter().map(String::as_str));
    let mut out: Vec<&str> = wanted.filter(|c| !claims.contains_key(*c)).collect();
    out.dedup();
    out
}

/// Adds the userinfo claims the ID token lacks (the ID token wins where both have one).
pub fn fill_from_userinfo(claims: &mut Map<String, Value>, userinfo: Map<String, Value>) {
    for (k, v) in userinfo {
        claims.entry(k).or_insert(v);
    }
}

fn roles_of(v: Option<&Value>) -> Result<Vec<String>, ClaimError> {
    let roles: Vec<String> = match v {
        None | Some(Value::Null) => vec![],
        Some(Value::String(s)) => s.split([' ', ',']).filter(|r| !r.is_empty()).map(str::to_string).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|r| r.as_str().map(str::to_string).ok_or(ClaimError::Roles))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(ClaimError::Roles),
    };
    check_roles(&roles).map_err(|_| ClaimError::Roles)?;
    Ok(roles)
}

/// The session's user, roles and data for these (verified) claims.
pub fn map(claims: &Map<String, Value>, s: &OidcSettings, iss: &str, sub: &str) -> Result<Mapped, ClaimError> {
    let user = match claims.get(&s.user_claim) {
        Some(Value::String(u)) => u.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(ClaimError::User),
    };
    // `true`, or the string some providers (Cognito) send.
    let verified =
        matches!(claims.get(EMAIL_VERIFIED), Some(Value::Bool(true))) || claims.get(EMAIL_VERIFIED).and_then(Value::as_str) == Some("true");
    if s.user_is_email() && !verified {
        return Err(ClaimError::EmailNotVerified);
    }
    let user = format!("{}{user}", s.user_prefix);
    check_user(&user).map_err(|_| ClaimError::User)?;
    let roles = roles_of(claims.get(&s.roles_claim))?;
    let mut idp = Map::new();
    for c in &s.data_claims {
        if let Some(v) = claims.get(c) {
            idp.insert(c.clone(), v.clone());
        }
    }
    idp.insert("iss".into(), Value::String(iss.into()));
    idp.insert("sub".into(), Value::String(sub.into()));
    let mut data = Map::new();
    data.insert("idp".into(), Value::Object(idp));
    Ok(Mapped { user, roles, data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn settings(extra: &[(&str, &str)]) -> OidcSettings {
        let extra: Vec<(String, String)> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        super::super::settings::parse(|k| match k {
            "OIDC_ISSUER" => Some("https://id.example".into()),
            "OIDC_CLIENT_ID" => Some("gate".into()),
            _ => extra.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
        })
        .unwrap()
        .unwrap()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn an_email_user_id_must_be_verified() {
        let s = settings(&[("OIDC_USER_CLAIM", "email")]);
        let unverified = obj(json!({"sub":"u1","email":"a@example.com"}));
        assert_eq!(map(&unverified, &s, "https://id.example", "u1"), Err(ClaimError::EmailNotVerified));
        let refused = obj(json!({"sub":"u1","email":"a@example.com","email_verified":false}));
        assert_eq!(map(&refused, &s, "https://id.example", "u1"), Err(ClaimError::EmailNotVerified));
        for ok in [json!(true), json!("true")] {
            let c = obj(json!({"sub":"u1","email":"a@example.com","email_verified":ok}));
            assert_eq!(map(&c, &s, "https://id.example", "u1").unwrap().user, "a@example.com");
        }
        assert!(missing(&unverified, &s).contains(&"email_verified"), "asked of userinfo");
        let by_sub = obj(json!({"sub":"u1"}));
        assert!(
            map(&by_sub, &settings(&[]), "https://id.example", "u1").is_ok(),
            "sub needs no verification"
        );
    }

    #[test]
    fn a_user_prefix_keeps_provider_ids_apart() {
        let c = obj(json!({"sub":"alice"}));
        let s = settings(&[("OIDC_USER_PREFIX", "oidc:")]);
        assert_eq!(map(&c, &s, "https://id.example", "alice").unwrap().user, "oidc:alice");
        assert_eq!(map(&c, &settings(&[]), "https://id.example", "alice").unwrap().user, "alice");
        let dots = obj(json!({"sub":".."}));
        assert_eq!(
            map(&dots, &settings(&[]), "https://id.example", "..").unwrap_err(),
            ClaimError::User
        );
    }

    #[test]
    fn maps_user_roles_and_data() {
        let c = obj(json!({"sub":"u1","email":"a@example.com","name":"Ann","roles":["admin","ops"],"other":1}));
        let m = map(&c, &settings(&[]), "https://id.example", "u1").unwrap();
        assert_eq!(m.user, "u1");
        assert_eq!(m.roles, vec!["admin", "ops"]);
        assert_eq!(
            Value::Object(m.data),
            json!({"idp":{"email":"a@example.com","name":"Ann","iss":"https://id.example","sub":"u1"}})
        );
        let s = settings(&[("OIDC_USER_CLAIM", "email"), ("OIDC_ROLES_CLAIM", "groups")]);
        let c = obj(json!({"sub":"u1","email":"a@example.com","email_verified":true,"groups":"staff, ops"}));
        let m = map(&c, &s, "https://id.example", "u1").unwrap();
        assert_eq!(
            (m.user.as_str(), m.roles.clone()),
            ("a@example.com", vec!["staff".to_string(), "ops".into()])
        );
    }

    #[test]
    fn refuses_what_a_login_command_would_refuse() {
        let s = settings(&[]);
        assert_eq!(map(&obj(json!({})), &s, "i", "x"), Err(ClaimError::User));
        assert_eq!(map(&obj(json!({"sub":" x"})), &s, "i", "x"), Err(ClaimError::User));
        assert_eq!(map(&obj(json!({"sub":"x","roles":[1]})), &s, "i", "x"), Err(ClaimError::Roles));
        assert_eq!(map(&obj(json!({"sub":"x","roles":{"a":1}})), &s, "i", "x"), Err(ClaimError::Roles));
        assert_eq!(map(&obj(json!({"sub":"x","roles":["a\nb"]})), &s, "i", "x"), Err(ClaimError::Roles));
        assert!(map(&obj(json!({"sub":"x","roles":null})), &s, "i", "x").unwrap().roles.is_empty());
    }

    #[test]
    fn a_numeric_user_claim_becomes_its_decimal_text() {
        // Some providers send numeric user ids; a login command would carry them as text.
        let s = settings(&[("OIDC_USER_CLAIM", "uid")]);
        let m = map(&obj(json!({"sub":"u1","uid":1234})), &s, "i", "u1").unwrap();
        assert_eq!(m.user, "1234");
        assert_eq!(map(&obj(json!({"sub":"u1","uid":true})), &s, "i", "u1"), Err(ClaimError::User));
    }

    #[test]
    fn userinfo_fills_only_what_is_missing() {
        let s = settings(&[]);
        let mut c = obj(json!({"sub":"u1","roles":[]}));
        assert_eq!(missing(&c, &s), vec!["email", "name"]);
        fill_from_userinfo(&mut c, obj(json!({"sub":"evil","email":"a@example.com","name":"Ann"})));
        assert_eq!(c["sub"], "u1");
        assert!(missing(&c, &s).is_empty());
    }

    proptest! {
        #[test]
        fn any_claim_value_maps_or_fails_cleanly(u in "\\PC{0,40}", r in "\\PC{0,40}") {
            let c = obj(json!({"sub": u, "roles": r}));
            if let Ok(m) = map(&c, &settings(&[]), "i", "s") {
                prop_assert!(m.roles.iter().all(|x| !x.contains(',') && !x.is_empty()));
            }
        }
    }
}
