//! Pure logic: no `worker` types, no clock, no randomness. Everything here takes the
//! time and random bytes as arguments and is tested natively with `cargo test`.

pub mod assertion;
pub mod audit;
pub mod client;
pub mod command;
pub mod config;
pub mod cookie;
pub mod cookie_scope;
pub mod dbsc;
pub mod duration;
pub mod headers;
pub mod json;
pub mod jwk;
pub mod keyed_mac;
pub mod method;
pub mod oidc;
pub mod path;
pub mod policy;
pub mod session;
pub mod signing;
pub mod token;
pub mod url;
