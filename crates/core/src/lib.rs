//! UEBA Workbench engine: the one place where business logic lives.
//!
//! The desktop app, the headless CLI and the REST listener are thin doors that call the
//! service functions of this crate. Nothing here depends on a UI toolkit, an HTTP stack or an
//! async runtime.

pub mod auth;
pub mod cancel;
pub mod connections;
pub mod demo;
pub mod export;
pub mod foreground;
pub mod ingest;
pub mod journal;
pub mod model;
pub mod response;
pub mod stats;
pub mod store;
pub mod tls;
pub mod ueba;

pub use cancel::CancelToken;
pub use model::Connection;
pub use store::{Store, StoreError};
