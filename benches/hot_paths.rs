//! Native micro-benchmarks of the gate's hot pure functions (the budget: each under 10 µs).
//! Run by `make bench` (bench/run.sh) as
//! `cargo bench --bench hot_paths -- --warm-up-time 1 --measurement-time 2`.
//! The bench profile inherits the release profile (opt-level 3, LTO), the one the
//! Wasm ships with; natively compiled, so the figures are a lower bound for Wasm.

use criterion::{criterion_group, criterion_main, Criterion};
use sessiongate::core::assertion::{self, Claims};
use sessiongate::core::config::Config;
use sessiongate::core::policy::{self, SessionState};
use sessiongate::core::session::Reason;
use sessiongate::core::signing::{PrivateKey, Signer};
use sessiongate::core::{cookie, path, token};
use std::collections::HashMap;
use std::hint::black_box;

const SESSION_SECRET: &str = "bench-session-secret-0123456789abcdef-0123";
const ORIGIN_SECRET: &str = "bench-origin-secret-0123456789abcdef-01234";

fn config() -> Config {
    let vars = HashMap::from([
        ("SESSION_SECRET", SESSION_SECRET.to_string()),
        ("ORIGIN_SECRET", ORIGIN_SECRET.to_string()),
        ("ASSERTION_ALG", "HS256".to_string()),
        ("ORIGIN_URL", "https://origin.example.com".to_string()),
        // A realistic mix of exact and prefix patterns; the benchmarked path matches none
        // of them (protected), so every pattern is tried.
        (
            "PUBLIC_PATHS",
            "/login,/logout,/,/public/*,/static/*,/assets/*,/favicon.ico,/robots.txt".to_string(),
        ),
        ("SENSITIVE_PATHS", "POST /account/password,/payments/*,/admin/*".to_string()),
    ]);
    match Config::from_lookup(|k| vars.get(k).cloned()) {
        Ok(c) => c,
        Err(e) => panic!("bench config: {e}"),
    }
}

fn hot_paths(c: &mut Criterion) {
    let cfg = config();
    // Prepared once, as the gate prepares them when it reads its configuration.
    let keys = cfg.token_macs();

    // A genuine token and a forged one (valid base64url, right length, wrong tag).
    let store_id = [7u8; token::STORE_ID_LEN];
    let secret = [42u8; token::SECRET_LEN];
    let genuine = token::mint(&store_id, &secret, SESSION_SECRET.as_bytes());
    let mut forged_bytes = genuine.clone().into_bytes();
    forged_bytes[100] = if forged_bytes[100] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged_bytes).unwrap_or_default();
    assert!(token::verify_keyed(&genuine, keys).is_ok());
    assert!(token::verify_keyed(&forged, keys).is_err());

    c.bench_function("token::verify (valid)", |b| {
        b.iter(|| token::verify_keyed(black_box(&genuine), black_box(keys)))
    });
    c.bench_function("token::verify (forged)", |b| {
        b.iter(|| token::verify_keyed(black_box(&forged), black_box(keys)))
    });

    let authenticated = SessionState::Authenticated { elevated: false };
    c.bench_function("policy::classify + decide (protected, valid)", |b| {
        b.iter(|| {
            let access = policy::classify(&cfg, black_box("GET"), black_box("/app/orders/42"));
            policy::decide(&cfg, access, black_box(authenticated), false, "/app/orders/42?page=2")
        })
    });
    c.bench_function("policy::classify + decide (navigation, no session)", |b| {
        b.iter(|| {
            let access = policy::classify(&cfg, black_box("GET"), black_box("/app/orders/42"));
            policy::decide(
                &cfg,
                access,
                black_box(SessionState::Absent(Reason::Missing)),
                true,
                "/app/orders/42?page=2",
            )
        })
    });

    let mut claims = Claims::new(
        "origin.example.com",
        1_764_000_000,
        "GET",
        "https://origin.example.com/app/orders/42?page=2",
    );
    claims.sub = Some("alice@example.com".into());
    claims.sid = Some("3f2a9c0d1b7e4a6f8c5d2e1b0a9f8e7d".into());
    claims.roles = Some(vec!["user".into(), "admin".into()]);
    claims.auth_time = Some(1_763_990_000);
    c.bench_function("assertion::sign", |b| {
        b.iter(|| assertion::sign(black_box(&claims), black_box(ORIGIN_SECRET.as_bytes())))
    });
    // For docs/performance.md: what ES256 / EdDSA signing costs in RustCrypto, natively.
    // The gate signs in WebCrypto instead (RustCrypto in the Wasm cost 100 KiB gzipped).
    let es256 = Signer::new(PrivateKey::Es256(p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("scalar")));
    c.bench_function("assertion ES256 (RustCrypto, native; not the gate's path)", |b| {
        b.iter(|| es256.sign(black_box(&claims)))
    });
    let eddsa = Signer::new(PrivateKey::EdDsa(ed25519_dalek::SigningKey::from_bytes(&[7; 32])));
    c.bench_function("assertion EdDSA (RustCrypto, native; not the gate's path)", |b| {
        b.iter(|| eddsa.sign(black_box(&claims)))
    });

    // A browser's Cookie header on a real site: analytics, consent, preferences, the gate's.
    let header = format!(
        "_ga=GA1.1.1234567890.1764000000; _ga_ABC123DEF=GS1.1.1764000000.3.1.1764000123.0.0.0; \
         cookieconsent_status=dismiss; theme=dark; lang=en-GB; \
         __Host-session={genuine}; _gid=GA1.2.987654321.1764000000; \
         cart=%7B%22items%22%3A3%7D; csrftoken=Zm9vYmFyYmF6cXV4cXV1eA"
    );
    c.bench_function("cookie::find (9 cookies)", |b| {
        b.iter(|| cookie::find(black_box(&header), black_box("__Host-session")))
    });
    c.bench_function("cookie::strip (9 cookies)", |b| {
        b.iter(|| cookie::strip(black_box(&header), black_box("__Host-session")))
    });

    c.bench_function("path::normalize (plain)", |b| {
        b.iter(|| path::normalize(black_box("/app/orders/42/items")))
    });
    c.bench_function("path::normalize (dots, %-encoding)", |b| {
        b.iter(|| path::normalize(black_box("/public/../app//orders/%2e/42/%7Eitems/%2Fx")))
    });
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
