//! The Worker's log: audit events, flood control for the ones anyone can trigger, and
//! internal failures. One JSON object per line, so log tooling can parse every line.

use crate::core::audit::AuditEvent;
use crate::platform;

pub fn event(e: &AuditEvent) {
    worker::console_log!("{}", e.log_line());
}

thread_local! {
    // (second, lines written in it, lines suppressed) for events anyone can trigger.
    static FLOOD: std::cell::Cell<(u64, u32, u32)> = const { std::cell::Cell::new((0, 0, 0)) };
}

/// Events that anyone can trigger for free (a forged cookie, a cross-site POST) are
/// logged at most `PER_SECOND` times a second per isolate, so an attacker cannot flood
/// the log stream; the next line written says how many were suppressed.
pub fn untrusted_event(mut e: AuditEvent) {
    const PER_SECOND: u32 = 20;
    let now = platform::now();
    let written = FLOOD.with(|f| {
        let (sec, n, dropped) = f.get();
        if sec != now {
            f.set((now, 1, 0));
            Some(dropped)
        } else if n < PER_SECOND {
            f.set((sec, n + 1, 0));
            Some(dropped)
        } else {
            f.set((sec, n, dropped + 1));
            None
        }
    });
    if let Some(dropped) = written {
        if dropped > 0 {
            e.reason = Some(format!("{} (+{dropped} similar events suppressed)", e.reason.unwrap_or_default()));
        }
        event(&e);
    }
}

/// A failure of the gate's own machinery (`kind`: `store_unavailable`,
/// `origin_unreachable`, ...), with what the runtime said. Never a token or secret:
/// callers pass errors of the store, the origin fetch or the body read.
pub fn failure(kind: &str, detail: &str) {
    worker::console_error!(
        "{}",
        crate::core::json::text(&serde_json::json!({"sessiongate": kind, "detail": detail}))
    );
}
