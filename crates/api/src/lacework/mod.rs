//! The Lacework Edge surface (`/api/v1/...`): alerts, investigation, policies, customer datasets
//! (lists), workflows and their runs, API tokens and login, audit events, and the long tail of
//! resource kinds (`catalog`).
//! Errors are `{"message": ...}`; callers authenticate with a Bearer token from the OAuth token
//! endpoint, and the account's role decides what they may do.

pub mod alerts;
pub mod auth;
pub mod catalog;
pub mod error;
pub mod extract;
pub mod lists;
pub mod policies;
pub mod tokens;
pub mod workflows;
