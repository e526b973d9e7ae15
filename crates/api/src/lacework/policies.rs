//! Response policies (Lacework Edge `/api/v1/policies...`): thin doors onto
//! `ueba_core::response::policies`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use ueba_core::response::policies::{self, Policy, PolicyUpdate};

use super::auth::{Caller, ManagePolicies, ReadAlerts};
use super::error::{ErrorMessage, LaceworkError};
use super::extract::{LwJson, LwQuery, NoQuery};
use crate::privx::run_blocking;
use crate::state::ApiState;

/// Query of "Query policies". The workbench has no apps and evaluates policies against alerts,
/// so `appid` and `userid` are accepted and do not narrow the list; `resolveDisplayNames` is
/// accepted (display names are always filled in).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct PolicyQuery {
    /// Accepted; not used.
    pub appid: Option<String>,
    /// Accepted; not used.
    pub userid: Option<String>,
    /// Accepted; display names are always filled in.
    pub resolveDisplayNames: Option<String>,
}

/// `{policies}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyList {
    /// Every policy, by priority then age.
    pub policies: Vec<Policy>,
}

/// Query policies.
#[utoipa::path(get, path = "/api/v1/policies", tag = "lacework-policies",
    params(PolicyQuery),
    responses(
        (status = 200, description = "Every policy, by priority then age", body = PolicyList),
        (status = 400, description = "A bad parameter", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read policies", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn query_policies(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(_query): LwQuery<PolicyQuery>,
) -> Result<axum::Json<PolicyList>, LaceworkError> {
    let policies = run_blocking(&state.store, |s| {
        policies::list(s).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(PolicyList { policies }))
}

/// Create a Policy.
#[utoipa::path(post, path = "/api/v1/policies", tag = "lacework-policies",
    request_body = Policy,
    responses(
        (status = 201, description = "The policy, with its uuid; it applies to alerts raised from now on", body = Policy),
        (status = 400, description = "A bad value (the field is named), e.g. a filter term", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not manage policies", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn create_policy(
    caller: Caller<ManagePolicies>,
    State(state): State<ApiState>,
    LwJson(input): LwJson<Policy>,
) -> Result<(StatusCode, axum::Json<Policy>), LaceworkError> {
    let policy = run_blocking(&state.store, move |s| {
        policies::create(s, &caller.actor, &input).map_err(LaceworkError::from)
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(policy)))
}

/// Get the policy details.
#[utoipa::path(get, path = "/api/v1/policies/{uuid}", tag = "lacework-policies",
    params(("uuid" = String, Path, description = "The policy's uuid")),
    responses(
        (status = 200, description = "The policy", body = Policy),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read policies", body = ErrorMessage),
        (status = 404, description = "No such policy", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn get_policy(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(NoQuery {}): LwQuery<NoQuery>,
    Path(uuid): Path<String>,
) -> Result<axum::Json<Policy>, LaceworkError> {
    let policy = run_blocking(&state.store, move |s| {
        policies::get(s, &uuid).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(policy))
}

/// Update a policy: only the fields set in `policy` change; `attributes_to_delete` resets
/// fields; a stale `expected_update_time` is refused with 409.
#[utoipa::path(put, path = "/api/v1/policies/{uuid}", tag = "lacework-policies",
    params(("uuid" = String, Path, description = "The policy's uuid (it wins over the body's uuid)")),
    request_body = PolicyUpdate,
    responses(
        (status = 200, description = "The policy after the change", body = Policy),
        (status = 400, description = "A bad value (the field is named)", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not manage policies", body = ErrorMessage),
        (status = 404, description = "No such policy", body = ErrorMessage),
        (status = 409, description = "The policy changed since expected_update_time", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn update_policy(
    caller: Caller<ManagePolicies>,
    State(state): State<ApiState>,
    Path(uuid): Path<String>,
    LwJson(update): LwJson<PolicyUpdate>,
) -> Result<axum::Json<Policy>, LaceworkError> {
    let policy = run_blocking(&state.store, move |s| {
        policies::update(s, &caller.actor, &uuid, &update).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(policy))
}
