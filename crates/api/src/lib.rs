//! UEBA Workbench's localhost REST listener: the PrivX UEBA API with its OAuth2 token endpoint,
//! the Lacework Edge API, the workbench's own endpoints, an OpenAPI document of all of them and a request journal.
//!
//! Handlers are thin: each checks the caller's scope, reads its input and calls the core service
//! that the CLI and the desktop app call too. Errors are mapped once, in [`error`].

pub mod auth;
pub mod cybereason;
pub mod error;
pub mod extract;
pub mod journal;
pub mod lacework;
pub mod openapi;
pub mod privx;
mod server;
pub mod setup_script;
pub mod state;
pub mod workbench;

pub use server::{
    router, start, ListenError, ListenerConfig, ListenerInfo, RunningListener, DEFAULT_PORT,
};
