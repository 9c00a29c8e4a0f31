//! The request flow, one module per step:
//! `parse` -> `validate` -> decide (`core::policy`) -> `forward` | `reject` -> `apply`.
//! `router` strings them together; `store` is the client of the session objects.

pub mod apply;
pub mod forward;
pub mod io;
pub mod keys;
pub mod parse;
pub mod reject;
pub mod router;
pub mod store;
pub mod validate;
