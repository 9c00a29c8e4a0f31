//! Durable Objects. One module per object class.

mod call;
mod kv;
pub mod session_store;
mod sql;
mod watch;
