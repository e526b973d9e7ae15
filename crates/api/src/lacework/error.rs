//! Errors of the Lacework Edge surface, in the vendor's shape `{"message": "..."}`.
//!
//! Core errors are mapped here once: not found → 404, a refused value → 400 naming the field, a
//! conflict (stale `alert_update_time`, a state that refuses the change) → 409, a database
//! failure → 500.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use ueba_core::response::ResponseError;

use crate::error::ApiError;
use crate::privx::TaskFailed;

/// The vendor's error body (`ErrorMessage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorMessage {
    /// What went wrong.
    pub message: String,
}

/// An error answer of the Lacework surface.
#[derive(Debug, Clone)]
pub struct LaceworkError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong.
    pub message: String,
}

impl LaceworkError {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for LaceworkError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            axum::Json(ErrorMessage {
                message: self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ueba-workbench\""),
            );
        }
        response
    }
}

impl From<ResponseError> for LaceworkError {
    fn from(e: ResponseError) -> Self {
        match e {
            ResponseError::NotFound { .. } => Self::not_found(e.to_string()),
            ResponseError::Invalid { .. } => Self::bad_request(e.to_string()),
            ResponseError::Conflict(message) => Self::new(StatusCode::CONFLICT, message),
            ResponseError::Store(store) => {
                tracing::error!("database error: {store}");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("database error: {store}; nothing was changed"),
                )
            }
        }
    }
}

/// The shared extractors and the authentication answer in the PrivX shape; the status and the
/// message carry over.
impl From<ApiError> for LaceworkError {
    fn from(e: ApiError) -> Self {
        Self::new(e.status, e.body.error_message)
    }
}

impl From<TaskFailed> for LaceworkError {
    fn from(e: TaskFailed) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {}", e.0),
        )
    }
}
