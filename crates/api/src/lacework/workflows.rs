//! Workflows and workflow runs (Lacework Edge `/api/v1/workflows...`,
//! `/api/v1/workflow_runs...`): thin doors onto `ueba_core::response::workflows`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use ueba_core::response::workflows::{
    self, AnswerRequest, CreateRunRequest, RunFilter, Workflow, WorkflowRun,
};

use super::auth::{Caller, ManagePolicies, ReadAlerts, Triage};
use super::error::{ErrorMessage, LaceworkError};
use super::extract::{LwJson, LwQuery, NoQuery};
use crate::privx::run_blocking;
use crate::state::ApiState;

/// Query of "Query WorkflowRuns".
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// Statuses, comma separated: CREATED, PENDING, SUCCESS, FAILURE, UNSURE.
    pub status: Option<String>,
    /// Runs of this workflow.
    pub workflow_uuid: Option<String>,
    /// Runs about this user.
    pub user_uuid: Option<String>,
    /// Runs about this protocol.
    pub app_protocol: Option<String>,
    /// Runs about this host.
    pub app_host: Option<String>,
    /// Runs with this port.
    pub app_port: Option<String>,
    /// Runs with this app uuid.
    pub app_uuid: Option<String>,
}

/// `{workflow_runs}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunList {
    /// The runs, newest first.
    pub workflow_runs: Vec<WorkflowRun>,
}

/// `{workflows}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkflowList {
    /// The workflows, oldest first.
    pub workflows: Vec<Workflow>,
}

/// Query WorkflowRuns (runs past their approval TTL are ended first).
#[utoipa::path(get, path = "/api/v1/workflow_runs", tag = "lacework-workflows",
    params(RunQuery),
    responses(
        (status = 200, description = "The runs, newest first", body = RunList),
        (status = 400, description = "An unknown status", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read workflow runs", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn query_runs(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(q): LwQuery<RunQuery>,
) -> Result<axum::Json<RunList>, LaceworkError> {
    let filter = RunFilter {
        status: q.status,
        workflow_uuid: q.workflow_uuid,
        user_uuid: q.user_uuid,
        app_protocol: q.app_protocol,
        app_host: q.app_host,
        app_port: q.app_port,
        app_uuid: q.app_uuid,
    };
    let workflow_runs = run_blocking(&state.store, move |s| {
        workflows::query_runs(s, &filter).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(RunList { workflow_runs }))
}

/// Create workflow run: it waits for an answer within its workflow's approval TTL.
#[utoipa::path(post, path = "/api/v1/workflow_runs", tag = "lacework-workflows",
    request_body = CreateRunRequest,
    responses(
        (status = 200, description = "The run, PENDING", body = WorkflowRun),
        (status = 400, description = "No or unknown workflow, or an unknown alert in details.alert_uuid", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not start workflow runs", body = ErrorMessage),
        (status = 409, description = "The workflow is not ACTIVE", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn create_run(
    caller: Caller<Triage>,
    State(state): State<ApiState>,
    LwJson(request): LwJson<CreateRunRequest>,
) -> Result<axum::Json<WorkflowRun>, LaceworkError> {
    let run = run_blocking(&state.store, move |s| {
        workflows::create_run(s, &caller.actor, &request).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(run))
}

/// Get the workflow run details.
#[utoipa::path(get, path = "/api/v1/workflow_runs/{uuid}", tag = "lacework-workflows",
    params(("uuid" = String, Path, description = "The run's uuid")),
    responses(
        (status = 200, description = "The run", body = WorkflowRun),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read workflow runs", body = ErrorMessage),
        (status = 404, description = "No such run", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn get_run(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(NoQuery {}): LwQuery<NoQuery>,
    Path(uuid): Path<String>,
) -> Result<axum::Json<WorkflowRun>, LaceworkError> {
    let run = run_blocking(&state.store, move |s| {
        workflows::get_run(s, &uuid).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(run))
}

/// Answer the Workflow Run: its outcome follows the answer; an approval carries out the
/// actions on the alert.
#[utoipa::path(post, path = "/api/v1/workflow_runs/{uuid}/answer", tag = "lacework-workflows",
    params(("uuid" = String, Path, description = "The run's uuid")),
    request_body = AnswerRequest,
    responses(
        (status = 200, description = "The run after the answer", body = WorkflowRun),
        (status = 400, description = "No such answer index, or a missing justification", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not answer", body = ErrorMessage),
        (status = 404, description = "No such run", body = ErrorMessage),
        (status = 409, description = "Already answered or expired, or the caller is not a recipient", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn answer_run(
    caller: Caller<Triage>,
    State(state): State<ApiState>,
    Path(uuid): Path<String>,
    LwJson(request): LwJson<AnswerRequest>,
) -> Result<axum::Json<WorkflowRun>, LaceworkError> {
    let run = run_blocking(&state.store, move |s| {
        workflows::answer(s, &caller.actor, caller.role.scope(), &uuid, &request)
            .map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(run))
}

/// Query workflows.
#[utoipa::path(get, path = "/api/v1/workflows", tag = "lacework-workflows",
    responses(
        (status = 200, description = "Every workflow", body = WorkflowList),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read workflows", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn query_workflows(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(NoQuery {}): LwQuery<NoQuery>,
) -> Result<axum::Json<WorkflowList>, LaceworkError> {
    let workflows = run_blocking(&state.store, |s| {
        workflows::list(s).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(WorkflowList { workflows }))
}

/// Create a Workflow (answers default to Approve, Deny, Unsure; TTLs to a day and ten minutes).
#[utoipa::path(post, path = "/api/v1/workflows", tag = "lacework-workflows",
    request_body = Workflow,
    responses(
        (status = 201, description = "The workflow, with its uuid", body = Workflow),
        (status = 400, description = "A bad value (the field is named)", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not manage workflows", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn create_workflow(
    caller: Caller<ManagePolicies>,
    State(state): State<ApiState>,
    LwJson(input): LwJson<Workflow>,
) -> Result<(StatusCode, axum::Json<Workflow>), LaceworkError> {
    let workflow = run_blocking(&state.store, move |s| {
        workflows::create(s, &caller.actor, &input).map_err(LaceworkError::from)
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(workflow)))
}

/// Get the workflow details.
#[utoipa::path(get, path = "/api/v1/workflows/{uuid}", tag = "lacework-workflows",
    params(("uuid" = String, Path, description = "The workflow's uuid")),
    responses(
        (status = 200, description = "The workflow", body = Workflow),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read workflows", body = ErrorMessage),
        (status = 404, description = "No such workflow", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn get_workflow(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(NoQuery {}): LwQuery<NoQuery>,
    Path(uuid): Path<String>,
) -> Result<axum::Json<Workflow>, LaceworkError> {
    let workflow = run_blocking(&state.store, move |s| {
        workflows::get(s, &uuid).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(workflow))
}

/// Update a workflow: only the fields given change.
#[utoipa::path(put, path = "/api/v1/workflows/{uuid}", tag = "lacework-workflows",
    params(("uuid" = String, Path, description = "The workflow's uuid (it wins over the body's uuid)")),
    request_body(content = Object, description = "The Workflow fields to change"),
    responses(
        (status = 200, description = "The workflow after the change", body = Workflow),
        (status = 400, description = "A bad value (the field is named)", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not manage workflows", body = ErrorMessage),
        (status = 404, description = "No such workflow", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn update_workflow(
    caller: Caller<ManagePolicies>,
    State(state): State<ApiState>,
    Path(uuid): Path<String>,
    LwJson(fields): LwJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<axum::Json<Workflow>, LaceworkError> {
    let workflow = run_blocking(&state.store, move |s| {
        workflows::update(s, &caller.actor, &uuid, &fields).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(workflow))
}
