//! Durable Objects. One module per object class.

pub mod session_store;
mod sql;
mod watch;
