//! Errors of the Cybereason surface, mapped once from the core's errors: JSON
//! `{"status": "FAILURE", "message": ...}`, the shape the vendor's clients read from its
//! `{status, data}` answers; a missing session is a redirect to the login page.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use ueba_core::response::ResponseError;

use crate::error::ApiError;
use crate::privx::TaskFailed;

/// Where requests without a valid session are sent.
pub const LOGIN_PAGE: &str = "/login.html";

/// The error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Failure {
    /// Always `FAILURE`.
    pub status: String,
    /// What went wrong.
    pub message: String,
}

/// An error answer of the Cybereason surface.
#[derive(Debug, Clone)]
pub enum CybereasonError {
    /// No valid session: 302 to the login page.
    NoSession,
    /// Any other refusal, as JSON.
    Failure {
        /// HTTP status.
        status: StatusCode,
        /// What went wrong.
        message: String,
    },
}

impl CybereasonError {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Failure {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for CybereasonError {
    fn into_response(self) -> Response {
        match self {
            Self::NoSession => (
                StatusCode::FOUND,
                [(header::LOCATION, LOGIN_PAGE)],
                "log in first: POST /login.html with username and password",
            )
                .into_response(),
            Self::Failure { status, message } => (
                status,
                axum::Json(Failure {
                    status: "FAILURE".into(),
                    message,
                }),
            )
                .into_response(),
        }
    }
}

impl From<ResponseError> for CybereasonError {
    fn from(e: ResponseError) -> Self {
        match e {
            ResponseError::NotFound { .. } => Self::new(StatusCode::NOT_FOUND, e.to_string()),
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

/// The shared extractors answer in the PrivX shape; the status and the message carry over.
impl From<ApiError> for CybereasonError {
    fn from(e: ApiError) -> Self {
        Self::new(e.status, e.body.error_message)
    }
}

impl From<TaskFailed> for CybereasonError {
    fn from(e: TaskFailed) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {}", e.0),
        )
    }
}

/// A JSON request body (see [`crate::extract::Json`]) whose refusals answer in this surface's
/// shape.
#[derive(Debug)]
pub struct CrJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for CrJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = CybereasonError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        crate::extract::Json::<T>::from_request(req, state)
            .await
            .map(|crate::extract::Json(value)| CrJson(value))
            .map_err(CybereasonError::from)
    }
}
