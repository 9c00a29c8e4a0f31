//! What the proxy flow (`proxy`) and the gate's own endpoints (`api`) share, below both:
//! reading the request, answering, the session-object client, validation, new IDs, the
//! cookie, the log. Nothing here imports from `entry`, `proxy` or `api`.
//!
//! - `request`: what the gate reads from a request, once (`Incoming`).
//! - `validate`: the session cookie checked (HMAC, then one Durable Object call).
//! - `session_id`: where a session gets a new ID (tokens, regeneration).
//! - `cookie`: where the gate's cookie is set or cleared, with the expiry headers.
//! - `respond`: the gate's own answers and error bodies.
//! - `session_object`: the client of the `SessionStore` Durable Objects.
//! - `keys`: the assertion signer (WebCrypto keys imported once per isolate, `keys.js`).
//! - `io`: the hot path's I/O with the runtime (`io.js`).
//! - `live`: WebSockets and event streams held open, closed when their session ends (`live.js`).
//! - `log`: audit lines, flood control, failures.
//! - `dbsc`: device-bound sessions: the offer, the device cookie, WebCrypto's check of a proof.

pub mod cookie;
pub mod dbsc;
pub mod ending;
pub mod idp;
pub mod io;
pub mod keys;
pub mod kv;
pub mod live;
pub mod log;
pub mod request;
pub mod respond;
pub mod session_id;
pub mod session_object;
pub mod validate;
