//! The sensor routes: query, actions, isolation, the actions list and abort. Each is a thin
//! door onto `ueba_core::response::sensors`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ueba_core::response::sensors::actions::{self, ActionRequest, IsolationRequest, SensorAction};
use ueba_core::response::sensors::{self, SensorQuery, SensorQueryResult};

use super::error::{CrJson, CybereasonError, Failure};
use super::session::{ActOnSensors, ReadSensors, Session};

use crate::privx::run_blocking;
use crate::state::ApiState;

/// Query sensors: filters (all must hold), sorting and a page (`offset` is the page number).
#[utoipa::path(post, path = "/rest/sensors/query", tag = "cybereason",
    request_body = SensorQuery,
    responses(
        (status = 200, description = "One page of the matching sensors", body = SensorQueryResult),
        (status = 302, description = "No valid session: redirected to /login.html"),
        (status = 400, description = "A bad filter, sort or page (named)", body = Failure),
        (status = 403, description = "The account's role may not read sensors", body = Failure),
    ),
    security(("session" = [])))]
pub async fn query_sensors(
    _session: Session<ReadSensors>,
    State(state): State<ApiState>,
    CrJson(query): CrJson<SensorQuery>,
) -> Result<axum::Json<SensorQueryResult>, CybereasonError> {
    run_blocking(&state.store, move |s| {
        sensors::query(s, &query).map_err(CybereasonError::from)
    })
    .await
    .map(axum::Json)
}

/// Start a sensor action on the sensors named by `sensorsIds` (or `sensorIds`) or selected by
/// `filters`; 204 when none is.
#[utoipa::path(post, path = "/rest/sensors/action/{action}", tag = "cybereason",
    params(("action" = String, Path, description = "upgrade, restart, archive, unarchive, delete, stopCollection, startCollection, setPreventionMode, schedulerScan, fetchLogs, addToGroup, removeFromGroup")),
    request_body = ActionRequest,
    responses(
        (status = 200, description = "The action, with its batchId", body = SensorAction),
        (status = 204, description = "No known sensor named, or the filters select none"),
        (status = 302, description = "No valid session: redirected to /login.html"),
        (status = 400, description = "An unknown action, a bad argument, or sensors not named (named)", body = Failure),
        (status = 403, description = "The account's role may not act on sensors", body = Failure),
    ),
    security(("session" = [])))]
pub async fn start_action(
    session: Session<ActOnSensors>,
    State(state): State<ApiState>,
    Path(action): Path<String>,
    CrJson(request): CrJson<ActionRequest>,
) -> Result<Response, CybereasonError> {
    if !actions::sensor_action_words().contains(&action.as_str()) {
        return Err(CybereasonError::bad_request(format!(
            "action: {action:?} is not a sensor action; use one of {} (isolation: POST /rest/monitor/global/commands/isolate)",
            actions::sensor_action_words().join(", ")
        )));
    }
    let started = run_blocking(&state.store, move |s| {
        actions::start(s, &session.actor, &action, &request).map_err(CybereasonError::from)
    })
    .await?;
    Ok(match started {
        Some(detail) => axum::Json(detail.action).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

async fn isolation(
    session: Session<ActOnSensors>,
    state: ApiState,
    isolate: bool,
    request: IsolationRequest,
) -> Result<Response, CybereasonError> {
    let started = run_blocking(&state.store, move |s| {
        actions::isolate(s, &session.actor, isolate, &request).map_err(CybereasonError::from)
    })
    .await?;
    Ok(match started {
        Some((answer, _)) => axum::Json(answer).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Isolate machines: each pylumId maps to `Succeeded` (the command was accepted; follow the
/// action in allActions) or `UnknownProbe`; 204 when no id is known.
#[utoipa::path(post, path = "/rest/monitor/global/commands/isolate", tag = "cybereason",
    request_body = IsolationRequest,
    responses(
        (status = 200, description = "Each pylumId and what became of its command", body = std::collections::BTreeMap<String, String>),
        (status = 204, description = "No known sensor named"),
        (status = 302, description = "No valid session: redirected to /login.html"),
        (status = 400, description = "No pylumIds", body = Failure),
        (status = 403, description = "The account's role may not act on sensors", body = Failure),
    ),
    security(("session" = [])))]
pub async fn isolate(
    session: Session<ActOnSensors>,
    State(state): State<ApiState>,
    CrJson(request): CrJson<IsolationRequest>,
) -> Result<Response, CybereasonError> {
    isolation(session, state, true, request).await
}

/// Un-isolate machines (as isolate).
#[utoipa::path(post, path = "/rest/monitor/global/commands/un-isolate", tag = "cybereason",
    request_body = IsolationRequest,
    responses(
        (status = 200, description = "Each pylumId and what became of its command", body = std::collections::BTreeMap<String, String>),
        (status = 204, description = "No known sensor named"),
        (status = 302, description = "No valid session: redirected to /login.html"),
        (status = 400, description = "No pylumIds", body = Failure),
        (status = 403, description = "The account's role may not act on sensors", body = Failure),
    ),
    security(("session" = [])))]
pub async fn unisolate(
    session: Session<ActOnSensors>,
    State(state): State<ApiState>,
    CrJson(request): CrJson<IsolationRequest>,
) -> Result<Response, CybereasonError> {
    isolation(session, state, false, request).await
}

/// Retrieve Sensor Actions: every current and past action, newest first.
#[utoipa::path(get, path = "/rest/sensors/allActions", tag = "cybereason",
    responses(
        (status = 200, description = "The actions", body = Vec<SensorAction>),
        (status = 302, description = "No valid session: redirected to /login.html"),
        (status = 403, description = "The account's role may not read sensors", body = Failure),
    ),
    security(("session" = [])))]
pub async fn all_actions(
    _session: Session<ReadSensors>,
    State(state): State<ApiState>,
) -> Result<axum::Json<Vec<SensorAction>>, CybereasonError> {
    run_blocking(&state.store, |s| {
        actions::all_actions(s).map_err(CybereasonError::from)
    })
    .await
    .map(axum::Json)
}

/// Abort an unfinished action (a finished one is answered as it is); 400 "UNKNOWN BATCH" for
/// an unknown batch id.
#[utoipa::path(get, path = "/rest/sensors/abort/{batchId}", tag = "cybereason",
    params(("batchId" = i64, Path, description = "The action's batchId")),
    responses(
        (status = 200, description = "The action after the abort", body = SensorAction),
        (status = 302, description = "No valid session: redirected to /login.html"),
        (status = 400, description = "UNKNOWN BATCH", body = Failure),
        (status = 403, description = "The account's role may not act on sensors", body = Failure),
    ),
    security(("session" = [])))]
pub async fn abort(
    session: Session<ActOnSensors>,
    State(state): State<ApiState>,
    Path(batch_id): Path<String>,
) -> Result<axum::Json<SensorAction>, CybereasonError> {
    let unknown = || CybereasonError::bad_request("UNKNOWN BATCH");
    let batch_id: i64 = batch_id.trim().parse().map_err(|_| unknown())?;
    run_blocking(&state.store, move |s| {
        actions::abort(s, &session.actor, batch_id).map_err(|e| match e {
            ueba_core::response::ResponseError::NotFound { .. } => unknown(),
            other => CybereasonError::from(other),
        })
    })
    .await
    .map(axum::Json)
}
