//! Errors at the door, in the PrivX shape `{error_code, error_message, property, details}`.
//!
//! Every core error is mapped here once; handlers return [`ApiError`] and never build error
//! bodies themselves.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use ueba_core::auth::AuthError;
use ueba_core::ingest::IngestError;
use ueba_core::ueba::analysis::AnalysisError;
use ueba_core::ueba::settings::SettingsError;
use ueba_core::ueba::training::TrainingError;
use ueba_core::ueba::DatasetError;
use ueba_core::StoreError;

/// The PrivX `error_code` enumeration (the seed's values, in its order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum ErrorCode {
    GeneralError,
    BadRequest,
    PermissionDenied,
    InvalidRequestData,
    RequiredValueMissing,
    ValueOutOfBounds,
    ValueIncorrectType,
    ValueIncorrectFormat,
    ValueDuplicate,
    ConfigurationError,
    OutOfResources,
    MaxLoad,
    TooManyConnections,
    DatabaseError,
    CacheError,
    IntraServiceCommunicationError,
}

/// The PrivX error body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrivxError {
    /// Standard error code denoting the error type.
    pub error_code: ErrorCode,
    /// Textual, human readable error message.
    pub error_message: String,
    /// The property name causing the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// Errors describing the error in more detail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub details: Vec<PrivxError>,
}

/// An error answer: a status and a PrivX error body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: PrivxError,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: PrivxError {
                error_code: code,
                error_message: message.into(),
                property: None,
                details: Vec::new(),
            },
        }
    }

    /// Names the property at fault.
    pub fn property(mut self, property: impl Into<String>) -> Self {
        self.body.property = Some(property.into());
        self
    }

    /// 400 with a code and the property at fault.
    pub fn invalid(
        code: ErrorCode,
        property: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message).property(property)
    }

    /// 401: no credentials, or credentials that are not valid.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::PermissionDenied,
            message,
        )
    }

    /// 403: valid credentials without the required scope.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::PermissionDenied, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::GeneralError, message)
    }

    /// 500 for a database failure; the message says nothing was changed.
    pub fn database(e: impl std::fmt::Display) -> Self {
        tracing::error!("database error: {e}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::DatabaseError,
            format!("database error: {e}; nothing was changed"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"ueba-workbench\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::database(e)
    }
}

impl From<DatasetError> for ApiError {
    fn from(e: DatasetError) -> Self {
        match e {
            DatasetError::NotFound(_) => ApiError::not_found(e.to_string()),
            DatasetError::Active(_) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::BadRequest, e.to_string())
            }
            DatasetError::Invalid { ref property, .. } => {
                let property = property.clone();
                ApiError::invalid(ErrorCode::InvalidRequestData, property, e.to_string())
            }
            DatasetError::Store(e) => ApiError::database(e),
        }
    }
}

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Invalid { property, .. } => {
                ApiError::invalid(ErrorCode::ValueOutOfBounds, property, e.to_string())
            }
            SettingsError::Store(e) => ApiError::database(e),
        }
    }
}

impl From<AnalysisError> for ApiError {
    fn from(e: AnalysisError) -> Self {
        match e {
            AnalysisError::NotFound(_) => ApiError::not_found(e.to_string()),
            AnalysisError::TrainingRunning(_) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::BadRequest, e.to_string())
            }
            AnalysisError::NotTrained(_) | AnalysisError::TrainingFailed { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                e.to_string(),
            ),
            AnalysisError::Store(e) => ApiError::database(e),
        }
    }
}

impl From<TrainingError> for ApiError {
    fn from(e: TrainingError) -> Self {
        match e {
            TrainingError::NotFound(_) => ApiError::not_found(e.to_string()),
            TrainingError::AlreadyRunning(_) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::BadRequest, e.to_string())
            }
            TrainingError::Spawn(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::OutOfResources,
                e.to_string(),
            ),
            TrainingError::Store(e) => ApiError::database(e),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Invalid { property, .. } => {
                ApiError::invalid(ErrorCode::InvalidRequestData, property, e.to_string())
            }
            AuthError::Duplicate { .. } => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::ValueDuplicate,
                e.to_string(),
            ),
            AuthError::NotFound { .. } => ApiError::not_found(e.to_string()),
            AuthError::InvalidClient | AuthError::InvalidGrant | AuthError::InvalidToken => {
                ApiError::unauthorized(e.to_string())
            }
            AuthError::UnauthorizedClient => ApiError::forbidden(e.to_string()),
            AuthError::Hash(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::GeneralError,
                e.to_string(),
            ),
            AuthError::Store(e) => ApiError::database(e),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Invalid(ref report) => {
                let details = report
                    .errors
                    .iter()
                    .map(|row| PrivxError {
                        error_code: ErrorCode::InvalidRequestData,
                        error_message: row.to_string(),
                        property: row.field.clone(),
                        details: Vec::new(),
                    })
                    .collect();
                let mut error = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidRequestData,
                    e.to_string()
                        .replace("use --skip-invalid", "use skip_invalid=true"),
                );
                error.body.details = details;
                error
            }
            IngestError::Malformed { .. } | IngestError::Unreadable { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                e.to_string(),
            ),
            IngestError::Settings(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidRequestData,
                e.to_string(),
            ),
            IngestError::Io { .. } | IngestError::Cancelled => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                e.to_string(),
            ),
            IngestError::Store(e) => ApiError::database(e),
        }
    }
}
