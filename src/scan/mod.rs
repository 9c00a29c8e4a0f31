//! Session-security scanner: probes a site over HTTP and analyses what it observed.
//!
//! - `http`: request/response values, the `Client` trait and a small URL type;
//! - `cookie`: `Set-Cookie` parsing and attribute checks;
//! - `entropy`: session ID quality from a set of fresh IDs;
//! - `recipe`: `--login` / `--logout` recipes (credentials from the environment);
//! - `finding`: checks, severities, ASVS references and fixes;
//! - `probe`: the probe sequence over a `Client`, one method per phase;
//! - `error`: why a scan could not run (`ScanError`);
//! - `report`: grade, text and JSON.

#![warn(missing_docs)]

pub mod cookie;
pub mod entropy;
mod error;
pub mod finding;
pub mod http;
pub mod probe;
pub mod recipe;
pub mod report;

pub use error::ScanError;
