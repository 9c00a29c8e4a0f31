//! `X-Session-Assertion` as an origin verifies it: `assertion::verify`.
//!
//! Two modes, chosen by the first byte:
//! - raw: the rest is the header value. Without the key it must never verify;
//! - tamper: sign claims built from the input (strings from the input, times bounded),
//!   check the round trip (verify gives back exactly the claims while fresh, refuses
//!   a wrong key, a wrong audience and an expired one), then apply the input's edits to
//!   the compact JWT: it verifies only if the edited string is the original.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sessiongate::core::assertion::{self, AssertionError, Claims};

const KEY: &[u8] = b"origin-secret-origin-secret-origin-0123";
const OTHER: &[u8] = b"another-secret-another-secret-another-01";

fn take<'a>(d: &mut &'a [u8], n: usize) -> &'a [u8] {
    let n = n.min(d.len());
    let (a, b) = d.split_at(n);
    *d = b;
    a
}

fn text(d: &mut &[u8]) -> String {
    let n = take(d, 1).first().copied().unwrap_or(0) as usize % 40;
    String::from_utf8_lossy(take(d, n)).into_owned()
}

fn raw(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    for now in [0, 1_700_000_000, u64::MAX] {
        let r = assertion::verify(s, KEY, "origin.example", now);
        assert!(r.is_err(), "an arbitrary assertion verified: {s:?}");
    }
}

fn tamper(mut d: &[u8]) {
    let now = 1_600_000_000 + u32::from_le_bytes(take(&mut d, 4).try_into().unwrap_or([0; 4])) as u64;
    let aud = text(&mut d);
    let mut c = Claims::new(&aud, now, &text(&mut d), &text(&mut d));
    let flags = take(&mut d, 1).first().copied().unwrap_or(0);
    if flags & 1 != 0 {
        c.sub = Some(text(&mut d));
        c.sid = Some(text(&mut d));
        c.auth_time = Some(now - 10);
    }
    if flags & 2 != 0 {
        c.roles = Some((0..flags >> 5).map(|_| text(&mut d)).collect());
    }
    if flags & 4 != 0 {
        c.elev = Some(now + 900);
    }
    if flags & 8 != 0 {
        c.bind = Some(text(&mut d));
    }
    let t = assertion::sign(&c, KEY);
    assert_eq!(t.split('.').count(), 3);
    assert!(
        t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "not a header value"
    );
    assert_eq!(assertion::verify(&t, KEY, &aud, now + 30).as_ref(), Ok(&c));
    assert_eq!(assertion::verify(&t, OTHER, &aud, now + 30), Err(AssertionError::Signature));
    assert_eq!(
        assertion::verify(&t, KEY, &aud, now + assertion::LIFETIME + assertion::LEEWAY),
        Err(AssertionError::Expired)
    );
    let wrong_aud = format!("{aud}x");
    assert_eq!(assertion::verify(&t, KEY, &wrong_aud, now + 30), Err(AssertionError::Audience));

    // Edits: (op, position, value) triples on the compact form.
    let mut s = t.clone().into_bytes();
    for e in d.chunks_exact(3) {
        let pos = e[1] as usize * 7 + e[0] as usize;
        match e[0] % 4 {
            0 => {
                let i = pos % s.len().max(1);
                if let Some(x) = s.get_mut(i) {
                    *x = e[2];
                }
            }
            1 => {
                let i = pos % (s.len() + 1);
                s.insert(i, e[2]);
            }
            2 => {
                let i = pos % s.len().max(1);
                if i < s.len() {
                    s.remove(i);
                }
            }
            _ => s.truncate(pos % (s.len() + 1)),
        }
    }
    let Ok(edited) = String::from_utf8(s) else { return };
    if let Ok(got) = assertion::verify(&edited, KEY, &aud, now + 30) {
        assert_eq!(edited, t, "an edited assertion verified");
        assert_eq!(got, c);
    }
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((m, rest)) if m & 1 == 0 => raw(rest),
        Some((_, rest)) => tamper(rest),
        None => {}
    }
});
