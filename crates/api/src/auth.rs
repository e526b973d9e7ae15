//! Authentication at the door: the PrivX OAuth token endpoint, and the Bearer check with scopes
//! that every protected handler declares through its [`Authorized`] argument.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ueba_core::auth::{self, AuthError, IssuedToken, Principal};

use crate::error::{ApiError, ErrorCode};
use crate::state::ApiState;

/// How long a verified token is trusted without asking the database again (so a removed
/// account or client loses access within this time).
const CACHE_TTL: Duration = Duration::from_secs(30);
/// Most cached tokens; the cache is emptied when it grows past this.
const CACHE_CAPACITY: usize = 10_000;

/// Verified tokens, keyed by the SHA-256 of the whole token (never the token itself).
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<[u8; 32], (Principal, Instant)>>,
}

impl TokenCache {
    /// Forgets a token at once (logout), so the next use asks the database.
    pub(crate) fn forget(&self, token: &str) {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&key);
        }
    }

    /// The principal of a valid token, from the cache while it is fresh.
    pub(crate) fn verify(
        &self,
        store: &ueba_core::Store,
        token: &str,
    ) -> Result<Principal, AuthError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = Instant::now();
        let now_ms = chrono::Utc::now().timestamp_millis();
        if let Ok(entries) = self.entries.read() {
            if let Some((principal, checked)) = entries.get(&key) {
                if now.duration_since(*checked) < CACHE_TTL && principal.expires > now_ms {
                    return Ok(principal.clone());
                }
            }
        }
        let principal = auth::verify_token(store, token)?;
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(key, (principal.clone(), now));
        }
        Ok(principal)
    }
}

/// Who is calling, filled in by the Bearer check for the request journal.
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(pub Arc<Mutex<Option<String>>>);

/// A set of scopes a route accepts (any one of them suffices).
pub trait Scopes: Send + Sync + 'static {
    /// The PrivX scopes.
    const SCOPES: &'static [&'static str];
}

/// Routes for administrators only (every UEBA route but stop-analyzing).
#[derive(Debug)]
pub struct AdminScope;
impl Scopes for AdminScope {
    const SCOPES: &'static [&'static str] = &["admin"];
}

/// Stop-analyzing: the seed lists admin, connectionsView, service and user; any one suffices.
#[derive(Debug)]
pub struct StopAnalyzingScope;
impl Scopes for StopAnalyzingScope {
    const SCOPES: &'static [&'static str] = &["admin", "connectionsView", "service", "user"];
}

/// Reading connections, anomalies and the journal through the workbench API.
#[derive(Debug)]
pub struct ViewScope;
impl Scopes for ViewScope {
    const SCOPES: &'static [&'static str] = &["admin", "connectionsView"];
}

/// A request proven to come from a token carrying one of `S::SCOPES`: 401 without a valid
/// Bearer token, 403 when the token lacks the scope.
#[derive(Debug)]
pub struct Authorized<S: Scopes> {
    /// The caller.
    pub principal: Principal,
    _scopes: PhantomData<S>,
}

impl<S: Scopes> FromRequestParts<ApiState> for Authorized<S> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let principal = authenticate(parts, state)?;
        if !principal.has_any_scope(S::SCOPES) {
            return Err(ApiError::forbidden(format!(
                "Unauthorized request, OAuth2 authorization OK but scope insufficient: needs {}, the token has {}",
                S::SCOPES.join(" or "),
                principal.role.scope()
            )));
        }
        Ok(Authorized {
            principal,
            _scopes: PhantomData,
        })
    }
}

/// The caller of a request, from its Bearer token (recorded for the journal); 401 (in the
/// PrivX shape, which the other surfaces convert) without a valid one.
pub(crate) fn authenticate(parts: &Parts, state: &ApiState) -> Result<Principal, ApiError> {
    let token = bearer(&parts.headers).ok_or_else(|| {
        ApiError::unauthorized(
            "Unauthorized request, OAuth2 authorization missing: send Authorization: Bearer <token>",
        )
    })?;
    let principal = state
        .tokens
        .verify(&state.store, token)
        .map_err(|e| match e {
            AuthError::InvalidToken => ApiError::unauthorized(
                "Unauthorized request, OAuth2 authorization invalid or expired",
            ),
            other => ApiError::from(other),
        })?;
    if let Some(slot) = parts.extensions.get::<CallerSlot>() {
        if let Ok(mut caller) = slot.0.lock() {
            *caller = Some(principal.subject.clone());
        }
    }
    Ok(principal)
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Form body of the token endpoint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// `password` or `client_credentials`.
    pub grant_type: Option<String>,
    /// Account name (password grant).
    pub username: Option<String>,
    /// Account password (password grant).
    pub password: Option<String>,
    /// Client id, when not sent in HTTP Basic auth.
    pub client_id: Option<String>,
    /// Client secret, when not sent in HTTP Basic auth.
    pub client_secret: Option<String>,
    /// Requested scope (informational: the account's role decides).
    pub scope: Option<String>,
}

/// Error answer of the token endpoint: the OAuth 2 fields (`error`, `error_description`) that
/// OAuth libraries read, and the PrivX fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenError {
    /// OAuth 2 error: invalid_request, invalid_client, invalid_grant, unauthorized_client,
    /// unsupported_grant_type.
    pub error: &'static str,
    /// What is wrong.
    pub error_description: String,
    /// PrivX error code.
    pub error_code: ErrorCode,
    /// PrivX error message (same as `error_description`).
    pub error_message: String,
    /// The form field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
}

impl TokenError {
    fn reply(
        status: StatusCode,
        error: &'static str,
        code: ErrorCode,
        message: String,
        property: Option<&str>,
    ) -> Response {
        let body = TokenError {
            error,
            error_description: message.clone(),
            error_code: code,
            error_message: message,
            property: property.map(str::to_owned),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"ueba-workbench\""),
            );
        }
        response
    }

    fn respond(
        status: StatusCode,
        error: &'static str,
        code: ErrorCode,
        message: String,
    ) -> Response {
        Self::reply(status, error, code, message, None)
    }

    fn missing(field: &str) -> Response {
        Self::reply(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            ErrorCode::RequiredValueMissing,
            format!("{field} is required"),
            Some(field),
        )
    }
}

pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// PrivX OAuth2 token endpoint: `password` grant (account name and password, with the client
/// in HTTP Basic auth) or `client_credentials` (a client with a role of its own).
#[utoipa::path(
    post,
    path = "/auth/api/v1/oauth/token",
    tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Access token", body = IssuedToken),
        (status = 400, description = "Invalid request or unsupported grant type", body = TokenError),
        (status = 401, description = "Client authentication failed or invalid user name or password", body = TokenError),
        (status = 403, description = "The client may not use this grant", body = TokenError),
        (status = 500, description = "Internal server error", body = TokenError),
    ),
    security(("basicAuth" = []))
)]
pub async fn token(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: TokenRequest = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(e) => {
            return TokenError::respond(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                ErrorCode::BadRequest,
                format!("the body must be an application/x-www-form-urlencoded form: {e}"),
            )
        }
    };
    let Some(grant) = form.grant_type.clone() else {
        return TokenError::missing("grant_type");
    };
    if grant != "password" && grant != "client_credentials" {
        return TokenError::respond(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            ErrorCode::ValueOutOfBounds,
            format!("grant_type {grant:?} is not supported; use password or client_credentials"),
        );
    }
    let credentials = basic_credentials(&headers)
        .or_else(|| Some((form.client_id.clone()?, form.client_secret.clone()?)));
    let Some((client_id, client_secret)) = credentials else {
        return TokenError::respond(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            ErrorCode::PermissionDenied,
            "client authentication missing: send the OAuth client id and secret in HTTP Basic auth"
                .into(),
        );
    };
    if grant == "password" {
        if form.username.is_none() {
            return TokenError::missing("username");
        }
        if form.password.is_none() {
            return TokenError::missing("password");
        }
    }
    let store = state.store.clone();
    // Password hashing takes tens of milliseconds; keep it off the request threads.
    let outcome = tokio::task::spawn_blocking(move || -> Result<IssuedToken, AuthError> {
        let client = auth::authenticate_client(&store, &client_id, &client_secret)?;
        match grant.as_str() {
            "password" => auth::password_grant(
                &store,
                &client,
                form.username.as_deref().unwrap_or_default(),
                form.password.as_deref().unwrap_or_default(),
            ),
            _ => auth::client_credentials_grant(&store, &client),
        }
    })
    .await;
    match outcome {
        Ok(Ok(token)) => {
            let mut response = axum::Json(token).into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            response
        }
        Ok(Err(e)) => {
            let (status, error, code) = match &e {
                AuthError::InvalidClient => (
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    ErrorCode::PermissionDenied,
                ),
                AuthError::InvalidGrant => (
                    StatusCode::UNAUTHORIZED,
                    "invalid_grant",
                    ErrorCode::PermissionDenied,
                ),
                AuthError::UnauthorizedClient => (
                    StatusCode::FORBIDDEN,
                    "unauthorized_client",
                    ErrorCode::PermissionDenied,
                ),
                AuthError::Store(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    ErrorCode::DatabaseError,
                ),
                _ => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    ErrorCode::GeneralError,
                ),
            };
            TokenError::respond(status, error, code, e.to_string())
        }
        Err(e) => TokenError::respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            ErrorCode::GeneralError,
            format!("token issuing failed: {e}"),
        ),
    }
}
