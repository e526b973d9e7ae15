//! API tokens, Login and TokenLogin (Lacework Edge `/api/v1/tokens...`, `/api/v1/login`,
//! `/api/v1/token_login`): thin doors onto `ueba_core::response::tokens`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use ueba_core::response::tokens::{
    self, CreateTokenRequest, LoginSession, TemporaryTokenRequest, Token, UpdateTokenRequest,
};
use ueba_core::response::ACCOUNT_NAME;

use super::auth::{AnyAccount, Caller};
use super::error::{ErrorMessage, LaceworkError};
use super::extract::{LwJson, LwQuery};
use crate::auth::{basic_credentials, bearer};
use crate::privx::run_blocking;
use crate::state::ApiState;

/// Query of "Query Tokens".
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TokenQuery {
    /// Every token (active and suspended), or only the active ones.
    pub get_all: Option<bool>,
}

/// `{tokens}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenList {
    /// The tokens, oldest first, without secrets.
    pub tokens: Vec<Token>,
}

/// Query of Login and TokenLogin.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LoginQuery {
    /// The account name: this workbench's (`workbench`), or empty.
    pub account: Option<String>,
    /// Accepted; the session is answered as JSON, not redirected.
    pub redirect: Option<String>,
}

fn check_account(query: &LoginQuery) -> Result<(), LaceworkError> {
    match query.account.as_deref() {
        None | Some("") | Some(ACCOUNT_NAME) => Ok(()),
        Some(other) => Err(LaceworkError::new(
            StatusCode::FORBIDDEN,
            format!("unknown account {other:?}: this workbench's account is {ACCOUNT_NAME:?}"),
        )),
    }
}

/// The parts of a login request: its query, headers and the caller's address.
async fn login_parts(
    request: axum::extract::Request,
    state: &ApiState,
) -> Result<(LoginQuery, HeaderMap, String), LaceworkError> {
    let (mut parts, _) = request.into_parts();
    let LwQuery(query) = LwQuery::<LoginQuery>::from_request_parts(&mut parts, state).await?;
    check_account(&query)?;
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
        .unwrap_or_default();
    Ok((query, parts.headers, ip))
}

/// Query Tokens: the caller's (every account's for an admin), without secrets.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "lacework-tokens",
    params(TokenQuery),
    responses(
        (status = 200, description = "The tokens", body = TokenList),
        (status = 400, description = "A bad parameter", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn query_tokens(
    caller: Caller<AnyAccount>,
    State(state): State<ApiState>,
    LwQuery(query): LwQuery<TokenQuery>,
) -> Result<axum::Json<TokenList>, LaceworkError> {
    let tokens = run_blocking(&state.store, move |s| {
        tokens::list(
            s,
            &caller.actor,
            caller.role,
            query.get_all.unwrap_or(false),
        )
        .map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(TokenList { tokens }))
}

/// Create Token: its `secret` is the Bearer token, shown in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "lacework-tokens",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "The token, with its secret (shown once)", body = Token),
        (status = 400, description = "A bad value (the field is named)", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 409, description = "The role exceeds the caller's", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn create_token(
    caller: Caller<AnyAccount>,
    State(state): State<ApiState>,
    LwJson(request): LwJson<CreateTokenRequest>,
) -> Result<(StatusCode, axum::Json<Token>), LaceworkError> {
    let token = run_blocking(&state.store, move |s| {
        tokens::create(s, &caller.actor, caller.role, &request).map_err(LaceworkError::from)
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(token)))
}

/// Create Temporary Access Token for the caller (an hour by default, a day at most).
#[utoipa::path(post, path = "/api/v1/tokens/temporary", tag = "lacework-tokens",
    request_body = TemporaryTokenRequest,
    responses(
        (status = 201, description = "The token, with its secret (shown once)", body = Token),
        (status = 400, description = "A bad value (the field is named)", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn create_temporary_token(
    caller: Caller<AnyAccount>,
    State(state): State<ApiState>,
    LwJson(request): LwJson<TemporaryTokenRequest>,
) -> Result<(StatusCode, axum::Json<Token>), LaceworkError> {
    let token = run_blocking(&state.store, move |s| {
        tokens::temporary(s, &caller.actor, caller.role, &request).map_err(LaceworkError::from)
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(token)))
}

/// Update a token: name, description, role (not above the caller's) or status (SUSPENDED
/// revokes it until it is ACTIVE again; DELETED for good).
#[utoipa::path(put, path = "/api/v1/tokens/{uuid}", tag = "lacework-tokens",
    params(("uuid" = String, Path, description = "The token's uuid")),
    request_body = UpdateTokenRequest,
    responses(
        (status = 200, description = "The token after the change (no secret)", body = Token),
        (status = 400, description = "A bad value (the field is named)", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "Not allowed", body = ErrorMessage),
        (status = 404, description = "No such token of the caller's", body = ErrorMessage),
        (status = 409, description = "The role exceeds the caller's", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn update_token(
    caller: Caller<AnyAccount>,
    State(state): State<ApiState>,
    Path(uuid): Path<String>,
    LwJson(request): LwJson<UpdateTokenRequest>,
) -> Result<axum::Json<Token>, LaceworkError> {
    let token = run_blocking(&state.store, move |s| {
        tokens::update(s, &caller.actor, caller.role, &uuid, &request).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(token))
}

/// Login: the account name and password in HTTP Basic auth → a session whose `token` is a
/// one-hour Bearer token.
#[utoipa::path(get, path = "/api/v1/login", tag = "lacework-tokens",
    params(LoginQuery),
    responses(
        (status = 200, description = "The session", body = LoginSession),
        (status = 400, description = "A query parameter the operation does not take (named)", body = ErrorMessage),
        (status = 403, description = "No, or wrong, credentials; or another account", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security((), ("basicAuth" = [])))]
pub async fn login(
    State(state): State<ApiState>,
    request: axum::extract::Request,
) -> Result<axum::Json<LoginSession>, LaceworkError> {
    let (_, headers, client_ip) = login_parts(request, &state).await?;
    let (username, password) = basic_credentials(&headers).ok_or_else(|| {
        LaceworkError::new(
            StatusCode::FORBIDDEN,
            "send the account name and password in HTTP Basic auth",
        )
    })?;
    let session = run_blocking(&state.store, move |s| {
        tokens::login(s, &username, &password, &client_ip).map_err(LaceworkError::from)
    })
    .await?
    .map_err(|refused| LaceworkError::new(StatusCode::FORBIDDEN, refused.0))?;
    Ok(axum::Json(session))
}

/// TokenLogin: an API token in `Authorization: Bearer` → a session of its account.
#[utoipa::path(get, path = "/api/v1/token_login", tag = "lacework-tokens",
    params(LoginQuery),
    responses(
        (status = 200, description = "The session", body = LoginSession),
        (status = 400, description = "A query parameter the operation does not take (named)", body = ErrorMessage),
        (status = 403, description = "No token, or one that is not valid, suspended or expired", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security((), ("bearer" = [])))]
pub async fn token_login(
    State(state): State<ApiState>,
    request: axum::extract::Request,
) -> Result<axum::Json<LoginSession>, LaceworkError> {
    let (_, headers, client_ip) = login_parts(request, &state).await?;
    let token = bearer(&headers).map(str::to_owned).ok_or_else(|| {
        LaceworkError::new(
            StatusCode::FORBIDDEN,
            "send the API token as Authorization: Bearer <token>",
        )
    })?;
    let session = run_blocking(&state.store, move |s| {
        tokens::token_login(s, &token, &client_ip).map_err(LaceworkError::from)
    })
    .await?
    .map_err(|refused| LaceworkError::new(StatusCode::FORBIDDEN, refused.0))?;
    Ok(axum::Json(session))
}
