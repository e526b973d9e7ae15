//! The response loop (Lacework Edge and Cybereason models): alerts raised from anomalies, their
//! investigation, the policies that decide what happens, workflows that wait for an analyst's
//! answer, and the audit trail of every change.

pub mod alerts;
pub mod audit;
pub mod catalog;
pub mod enums;
pub mod filter;
mod following;
pub mod investigation;
pub mod lists;
pub mod policies;
pub mod sensors;
mod stored;
pub mod tokens;
pub mod workflows;

use crate::StoreError;

/// The Lacework account name this workbench answers with (`account_name` fields).
pub const ACCOUNT_NAME: &str = "workbench";

/// Namespace of the v5 uuids this module derives (alert uuids from connection ids, account
/// uuids from login names).
pub const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f1d_2c0e_8a4b_4f5e_9c3d_7b2a_1e0f_5d4c);

/// What can go wrong in the response loop; each door maps it once to its vendor's shape.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    /// No such object.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What kind of object.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// A field has a value that is not allowed.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field (dotted path).
        field: String,
        /// Why.
        reason: String,
    },
    /// The object changed since the caller read it, or is in a state that refuses the change.
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ResponseError {
    fn from(e: rusqlite::Error) -> Self {
        ResponseError::Store(StoreError::from(e))
    }
}

/// Now, in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
